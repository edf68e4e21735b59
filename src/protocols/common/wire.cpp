#include "protocols/common/wire.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <utility>

#include "base/text.h"
#include "http/client.h"

namespace paygate::protocols {
namespace {

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 7: <explanation>; last read:
// '<input bytes>'; expected <tokens>"; this keeps "line 1, column 7: <explanation>; expected <tokens>". The input
// excerpt is dropped: it may be any bytes (the very bytes that are not UTF-8) and the line and column already say where
// to look.
std::string parse_error_detail(std::string_view what) {
  // Not every error is a parse_error: a number too large for a double is "[json.exception.out_of_range.406] ...".
  if (what.starts_with("[json.exception.")) {
    if (auto close = what.find("] "); close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  static constexpr std::string_view kAt = "parse error at ";
  if (what.starts_with(kAt)) what.remove_prefix(kAt.size());
  static constexpr std::string_view kLastRead = "; last read: '";
  static constexpr std::string_view kExpected = "; expected ";
  auto last_read = what.find(kLastRead);
  if (last_read == std::string_view::npos) return std::string(what);
  std::string out(what.substr(0, last_read));
  auto expected = what.rfind(kExpected);
  if (expected != std::string_view::npos && expected > last_read) out += what.substr(expected);
  return out;
}

// Collects a flat JSON object's members as text. nlohmann's SAX interface hands a float over with its text; an
// integer's text is its value written in decimal (JSON allows no '+' and no leading zeros), except `-0`.
class FlatObjectReader {
 public:
  using json = nlohmann::json;

  explicit FlatObjectReader(const FlatJsonOptions& options) : options_(options) {}

  bool null() { return depth_ == 1 ? true : fail(FlatJsonProblem::kNotAnObject); }  // null: absent
  bool boolean(bool) {
    return depth_ == 1 ? fail_member(FlatJsonProblem::kNotStringOrNumber) : fail(FlatJsonProblem::kNotAnObject);
  }
  // The lexer reports a token with a leading '-' as number_integer and one without as number_unsigned, so 0 here
  // can only have been written `-0`.
  bool number_integer(json::number_integer_t v) { return value(v == 0 ? std::string("-0") : std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(std::to_string(v)); }
  bool number_float(json::number_float_t, const json::string_t& text) { return value(text); }
  bool string(json::string_t& v) { return value(std::move(v)); }
  bool binary(json::binary_t&) { return fail(FlatJsonProblem::kNotAnObject); }
  bool start_object(std::size_t) {
    if (depth_ >= 1) return fail_member(FlatJsonProblem::kNotStringOrNumber);
    ++depth_;
    saw_object_ = true;
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    return depth_ == 0 ? fail(FlatJsonProblem::kNotAnObject) : fail_member(FlatJsonProblem::kNotStringOrNumber);
  }
  bool end_array() { return true; }
  bool key(json::string_t& k) {
    current_key_ = k;
    if (!seen_.insert(k).second) return fail_member(FlatJsonProblem::kDuplicateKey);
    if (seen_.size() > options_.fields_max) {
      return fail(FlatJsonProblem::kTooManyFields);
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    std::string_view what = ex.what();
    out_.detail = parse_error_detail(what);
    return fail(what.find("ill-formed UTF-8") != std::string_view::npos ? FlatJsonProblem::kNotUtf8
                                                                        : FlatJsonProblem::kNotJson);
  }

  FlatJson finish(bool parsed) && {
    if (out_.ok() && (!parsed || !saw_object_)) out_.problem = FlatJsonProblem::kNotAnObject;
    if (!out_.ok()) out_.fields.clear();
    return std::move(out_);
  }

 private:
  bool value(std::string text) {
    if (depth_ != 1) return fail(FlatJsonProblem::kNotAnObject);
    out_.fields.insert_or_assign(current_key_, std::move(text));
    return true;
  }
  bool fail(FlatJsonProblem problem) {
    if (out_.ok()) out_.problem = problem;
    return false;
  }
  bool fail_member(FlatJsonProblem problem) {
    if (out_.ok()) out_.key = current_key_;
    return fail(problem);
  }

  const FlatJsonOptions& options_;
  FlatJson out_;
  std::set<std::string, std::less<>> seen_;  // member names, null members included
  std::string current_key_;
  int depth_ = 0;
  bool saw_object_ = false;
};

// The fast reader: a plain flat object, or nothing (std::nullopt: let the general parser decide, errors included).
class PlainObjectReader {
 public:
  PlainObjectReader(std::string_view body, const FlatJsonOptions& options) : s_(body), options_(options) {}

  std::optional<Fields> read() && {
    skip_space();
    if (!eat('{')) return std::nullopt;
    skip_space();
    if (eat('}')) return finish();
    for (;;) {
      skip_space();
      std::string_view key;  // no escapes: the member's name is its bytes in the body
      if (!string_token(key)) return std::nullopt;
      skip_space();
      if (!eat(':')) return std::nullopt;
      skip_space();
      // A repeated member is the general parser's to refuse (with its key); so is one past fields_max.
      for (const auto& seen : keys_) {
        if (seen == key) return std::nullopt;
      }
      if (keys_.size() + 1 > options_.fields_max) return std::nullopt;
      keys_.push_back(key);
      if (at('"')) {
        std::string_view value;
        if (!string_token(value)) return std::nullopt;
        fields_.emplace(key, value);
      } else if (at('n')) {
        if (s_.substr(i_, 4) != "null") return std::nullopt;
        i_ += 4;  // null: an absent member
      } else {
        std::string_view number;
        if (!number_token(number)) return std::nullopt;
        fields_.emplace(key, number);
      }
      skip_space();
      if (eat(',')) continue;
      if (eat('}')) return finish();
      return std::nullopt;
    }
  }

 private:
  std::optional<Fields> finish() {
    skip_space();
    if (i_ != s_.size()) return std::nullopt;
    return std::move(fields_);
  }
  bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool eat(char c) {
    if (!at(c)) return false;
    ++i_;
    return true;
  }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  // A string without escapes or control characters, its bytes UTF-8 (base/text.h). A '"' byte ends it: no byte of a
  // multi-byte UTF-8 sequence is below 0x80, and a string that is not UTF-8 is the general parser's anyway.
  bool string_token(std::string_view& out) {
    if (!eat('"')) return false;
    const size_t start = i_;
    bool ascii = true;
    for (; i_ < s_.size() && s_[i_] != '"'; ++i_) {
      const auto b = static_cast<unsigned char>(s_[i_]);
      if (b < 0x20 || b == '\\') return false;
      ascii = ascii && b < 0x80;
    }
    if (i_ == s_.size()) return false;
    out = s_.substr(start, i_ - start);
    ++i_;
    return ascii || is_utf8(out);
  }
  // JSON's number grammar. The text is kept only where it is what the general parser reports: an integer of at
  // most 18 digits (it fits), or a number with a fraction or exponent that reads as a finite double.
  bool number_token(std::string_view& out) {
    const size_t start = i_;
    eat('-');
    if (eat('0')) {
      if (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') return false;
    } else {
      if (!(i_ < s_.size() && s_[i_] >= '1' && s_[i_] <= '9')) return false;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    }
    bool integer = true;
    if (eat('.')) {
      integer = false;
      if (!digits()) return false;
    }
    if (at('e') || at('E')) {
      integer = false;
      ++i_;
      if (!eat('+')) eat('-');
      if (!digits()) return false;
    }
    out = s_.substr(start, i_ - start);
    if (integer) return out.size() - (out[0] == '-' ? 1 : 0) <= 18;
    const std::string text(out);
    return std::isfinite(std::strtod(text.c_str(), nullptr));
  }
  bool digits() {
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }

  std::string_view s_;
  const FlatJsonOptions& options_;
  size_t i_ = 0;
  Fields fields_;
  std::vector<std::string_view> keys_;  // null members included (they count towards fields_max)
};

}  // namespace

FlatJson parse_flat_json_object(std::string_view body, const FlatJsonOptions& options) {
  if (options.fast_path) {
    if (auto fields = PlainObjectReader(body, options).read()) {
      FlatJson out;
      out.fields = std::move(*fields);
      return out;
    }
  }
  FlatObjectReader reader(options);
  bool parsed = nlohmann::json::sax_parse(body, &reader, nlohmann::json::input_format_t::json, /*strict=*/true);
  return std::move(reader).finish(parsed);
}

std::string json_string(std::string_view s) {
  // Ids, codes and most messages are printable ASCII without '"' or '\\': nothing to escape or replace, so quoted
  // as they are (building a json value to dump it cost ~0.4 us an answer). Anything else (controls, escapes,
  // UTF-8, invalid bytes) goes to nlohmann, whose output the fast path equals where both apply.
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c != '"' && c != '\\'; });
  if (plain) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    out += s;
    out += '"';
    return out;
  }
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool trimmed_equals_ignoring_case(std::string_view body, std::string_view word) {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
  static constexpr std::string_view kSpace = " \t\r\n";
  auto first = body.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return word.empty();
  auto last = body.find_last_not_of(kSpace);
  return equals_ignoring_ascii_case(body.substr(first, last - first + 1), word);
}

std::string_view field(const Fields& f, std::string_view name) {
  auto it = f.find(name);
  return it == f.end() ? std::string_view{} : std::string_view(it->second);
}

Status require_fields(const Fields& f, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (field(f, name).empty()) {
      return make_error(ErrorCode::kInvalidArgument, std::string("missing required field ") + name);
    }
  }
  return ok_status();
}

namespace {
// A field name a message may carry as it is: short printable ASCII.
bool is_nameable(std::string_view name) {
  return !name.empty() && name.size() <= 64 && is_printable_ascii_no_space(name);
}
}  // namespace

std::string describe_field(std::string_view name) {
  return is_nameable(name) ? "field " + std::string(name) : std::string("a field");
}

Status check_form_fields(const Fields& values, const std::vector<std::string>& repeated) {
  if (!repeated.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      describe_field(repeated.front()) + " appears more than once; send each field once");
  }
  for (const auto& [name, value] : values) {
    if (!is_utf8(name) || !is_utf8(value)) {
      // Worded as check_text words a value (`payer is not UTF-8: ...`), whichever check finds it first.
      const std::string who = is_nameable(name) ? std::string(name) : std::string("a field");
      return make_error(ErrorCode::kInvalidArgument,
                        who + " is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded");
    }
  }
  return ok_status();
}

Status check_http_url(std::string_view name, std::string_view value, size_t bytes_max) {
  if (value.size() > bytes_max) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(name) + " is longer than " + std::to_string(bytes_max) + " bytes");
  }
  auto parsed = http::parse_url(value);
  if (!parsed.ok()) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(name) + " must be an absolute http:// or https:// URL: " + parsed.error().message);
  }
  return ok_status();
}

Status check_text(std::string_view name, std::string_view value, size_t bytes_max) {
  auto invalid = [&](std::string_view what) {
    return make_error(ErrorCode::kInvalidArgument, std::string(name) + std::string(what));
  };
  if (!is_utf8(value)) return invalid(" is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded");
  if (value.size() > bytes_max) return invalid(" is longer than " + std::to_string(bytes_max) + " bytes (UTF-8)");
  if (has_control_chars(value)) return invalid(" must not contain control characters or line breaks");
  return ok_status();
}

}  // namespace paygate::protocols
