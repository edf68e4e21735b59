// multipart/form-data bodies (RFC 7578) for the protocols' form endpoints. A merchant's PHP that hands
// CURLOPT_POSTFIELDS an array, or a script using `curl -F`, sends its form this way instead of urlencoded; the
// fields are the same, so the protocols take both. Text fields only: a part that carries a file is refused.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/text.h"
#include "http/http.h"

namespace paygate::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr size_t kBoundaryBytesMax = 70;      // RFC 2046, 5.1.1
constexpr size_t kPartHeaderBytesMax = 1024;  // a part's header block; form fields need a line or two
constexpr std::string_view kMultipartFormData = "multipart/form-data";

Error bad(std::string what) {
  return make_error(ErrorCode::kInvalidArgument, "multipart body: " + std::move(what));
}

// One `name=value` parameter of a header (`; name="x"`), value unquoted. `rest` starts after the media type or
// disposition type; parameters are separated by ';'. Quoted values may hold ';' and escaped quotes.
struct Param {
  std::string name;
  std::string value;
};

Result<std::vector<Param>> parse_params(std::string_view rest, std::string_view header) {
  std::vector<Param> out;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == ';')) ++i;
    if (i >= rest.size()) break;
    size_t eq = rest.find('=', i);
    if (eq == std::string_view::npos) return bad("a parameter of " + std::string(header) + " has no '='");
    Param p;
    p.name = std::string(trim_blanks(rest.substr(i, eq - i)));
    i = eq + 1;
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      bool closed = false;
      while (i < rest.size()) {
        char c = rest[i++];
        if (c == '\\' && i < rest.size()) {
          p.value.push_back(rest[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          p.value.push_back(c);
        }
      }
      if (!closed) return bad("an unterminated quoted parameter in " + std::string(header));
    } else {
      size_t end = rest.find(';', i);
      if (end == std::string_view::npos) end = rest.size();
      p.value = std::string(trim_blanks(rest.substr(i, end - i)));
      i = end;
    }
    out.push_back(std::move(p));
  }
  return out;
}

// The field name of a part, from its header block (the lines between the boundary and the blank line).
Result<std::string> part_field_name(std::string_view headers) {
  std::optional<std::string> name;
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t end = headers.find(kCrlf, pos);
    if (end == std::string_view::npos) end = headers.size();
    std::string_view line = headers.substr(pos, end - pos);
    pos = end + kCrlf.size();
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bad("a part header without ':'");
    std::string_view header = trim_blanks(line.substr(0, colon));
    std::string_view value = trim_blanks(line.substr(colon + 1));
    if (equals_ignoring_ascii_case(header, "content-transfer-encoding")) {
      // RFC 7578 4.7: deprecated; only the identity encodings mean the bytes are the value.
      if (!equals_ignoring_ascii_case(value, "binary") && !equals_ignoring_ascii_case(value, "8bit") &&
          !equals_ignoring_ascii_case(value, "7bit")) {
        return bad("Content-Transfer-Encoding " + std::string(value) + " is not supported; send the value as is");
      }
      continue;
    }
    if (!equals_ignoring_ascii_case(header, "content-disposition"))
      continue;  // Content-Type of a text part, and others: ignored
    size_t semi = value.find(';');
    if (!equals_ignoring_ascii_case(trim_blanks(value.substr(0, semi)), "form-data")) {
      return bad("a part's Content-Disposition is not form-data");
    }
    if (semi == std::string_view::npos) return bad("a part's Content-Disposition has no name");
    auto params = parse_params(value.substr(semi + 1), "Content-Disposition");
    if (!params.ok()) return params.error();
    for (const Param& p : *params) {
      if (equals_ignoring_ascii_case(p.name, "filename") || equals_ignoring_ascii_case(p.name, "filename*")) {
        return bad("a part carries a file; send the fields as text fields");
      }
      if (equals_ignoring_ascii_case(p.name, "name")) name = p.value;
    }
  }
  if (!name) return bad("a part without a Content-Disposition name");
  if (name->empty()) return bad("a part with an empty name");
  return std::move(*name);
}

}  // namespace

bool has_media_type(std::string_view content_type, std::string_view media_type) {
  return equals_ignoring_ascii_case(trim_blanks(content_type.substr(0, content_type.find(';'))), media_type);
}

bool is_multipart_form_data(std::string_view content_type) {
  return has_media_type(content_type, kMultipartFormData);
}

Result<FormFields> parse_multipart_form_data(std::string_view content_type, std::string_view body, size_t fields_max) {
  const size_t semi = content_type.find(';');
  if (!is_multipart_form_data(content_type) || semi == std::string_view::npos) {
    return bad("the Content-Type multipart/form-data needs a boundary parameter");
  }
  auto params = parse_params(content_type.substr(semi + 1), "Content-Type");
  if (!params.ok()) return params.error();
  std::string boundary;
  for (const Param& p : *params) {
    if (equals_ignoring_ascii_case(p.name, "boundary")) boundary = p.value;
  }
  if (boundary.empty() || boundary.size() > kBoundaryBytesMax) {
    return bad("the Content-Type's boundary must be 1 to 70 characters");
  }
  const std::string delimiter = "--" + boundary;
  const std::string next_delimiter = "\r\n--" + boundary;

  // The first delimiter starts the body or follows a preamble that ends in CRLF.
  size_t pos = 0;
  if (!body.starts_with(delimiter)) {
    size_t first = body.find(next_delimiter);
    if (first == std::string_view::npos) return bad("no part starts with the Content-Type's boundary");
    pos = first + 2;
  }
  FormFields fields;
  size_t count = 0;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos).starts_with("--")) break;  // the close delimiter; an epilogue after it is ignored
    // Transport padding (spaces and tabs) may follow a delimiter before its CRLF.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (!body.substr(pos).starts_with(kCrlf)) return bad("a boundary line does not end in CRLF");
    pos += kCrlf.size();
    // A part with no header lines has its blank line right here, and so no name.
    if (body.substr(pos).starts_with(kCrlf)) return bad("a part without a Content-Disposition name");
    size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos || headers_end - pos > kPartHeaderBytesMax) {
      return bad("a part's header is missing, not ended by an empty line, or over " +
                 std::to_string(kPartHeaderBytesMax) + " bytes");
    }
    auto name = part_field_name(body.substr(pos, headers_end - pos));
    if (!name.ok()) return name.error();
    const size_t value_start = headers_end + 4;
    const size_t value_end = body.find(next_delimiter, value_start);
    if (value_end == std::string_view::npos) return bad("the body ends inside a part; the close delimiter is missing");
    if (++count > fields_max) {
      return make_error(ErrorCode::kInvalidArgument,
                        "too many form fields (at most " + std::to_string(fields_max) + ")");
    }
    auto [it, inserted] =
        fields.values.emplace(std::move(name).value(), std::string(body.substr(value_start, value_end - value_start)));
    if (!inserted) fields.repeated.push_back(it->first);
    pos = value_end + 2;  // at the delimiter, after its CRLF
  }
  return fields;
}

Result<FormFields> parse_form_body(std::string_view content_type, std::string_view body, size_t fields_max) {
  if (is_multipart_form_data(content_type)) return parse_multipart_form_data(content_type, body, fields_max);
  return parse_form_urlencoded(body, fields_max);
}

}  // namespace paygate::http
