#include "protocols/common/wire.h"

#include <nlohmann/json.hpp>
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
    if (!seen_.insert(k).second) {
      if (options_.reject_duplicate_keys) return fail_member(FlatJsonProblem::kDuplicateKey);
    } else if (seen_.size() > options_.fields_max) {
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

}  // namespace

FlatJson parse_flat_json_object(std::string_view body, const FlatJsonOptions& options) {
  FlatObjectReader reader(options);
  bool parsed = nlohmann::json::sax_parse(body, &reader, nlohmann::json::input_format_t::json, /*strict=*/true);
  return std::move(reader).finish(parsed);
}

std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool trimmed_equals_ignoring_case(std::string_view body, std::string_view word) {
  static constexpr std::string_view kSpace = " \t\r\n";
  auto first = body.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return word.empty();
  auto last = body.find_last_not_of(kSpace);
  std::string_view t = body.substr(first, last - first + 1);
  if (t.size() != word.size()) return false;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (size_t i = 0; i < t.size(); ++i) {
    if (lower(t[i]) != lower(word[i])) return false;
  }
  return true;
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

std::string describe_field(std::string_view name) {
  if (!name.empty() && name.size() <= 64 && is_printable_ascii_no_space(name)) return "field " + std::string(name);
  return "a field";
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
