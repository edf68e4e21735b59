// HTTP types shared by the server, the router and the outbound client.
#pragma once
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>; include it first.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/field_map.h"
#include "base/result.h"

namespace paygate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using RawRequest = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

struct Request {
  RawRequest raw;
  std::string remote_ip;
  std::string request_id;  // generated per request, echoed as X-Request-Id, logged
  std::string path;        // target without the query string, percent-decoding NOT applied
  std::string query;       // raw query string without '?'
  // Values of a pattern route's {name} segments, in order (e.g. {"id", "P17..."}); empty for exact routes.
  std::vector<std::pair<std::string, std::string>> path_params;
  std::string_view path_param(std::string_view name) const {
    for (const auto& [k, v] : path_params) {
      if (k == name) return v;
    }
    return {};
  }
};

using Handler = std::function<asio::awaitable<Response>(Request&)>;

// Ordered key -> values, as decoded from application/x-www-form-urlencoded or a query string.
// Repeated keys keep the first value (later ones are recorded in `repeated`).
struct FormFields {
  FieldMap values;  // base/field_map.h
  std::vector<std::string> repeated;
  const std::string* find(std::string_view key) const {
    auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
  }
};

// Decodes '+' as space and %XX; fails on a malformed escape or more than `fields_max` fields.
Result<FormFields> parse_form_urlencoded(std::string_view body, size_t fields_max = 64);
// Whether a Content-Type value names `media_type` ("type/subtype"), whatever its case, blanks and parameters.
bool has_media_type(std::string_view content_type, std::string_view media_type);
// multipart/form-data (RFC 7578): text fields only (a part with a filename is refused), values as sent, no
// decoding; the same `fields_max` and repeated-key rule as above. `content_type` carries the boundary.
bool is_multipart_form_data(std::string_view content_type);
Result<FormFields> parse_multipart_form_data(std::string_view content_type, std::string_view body,
                                             size_t fields_max = 64);
// A form body in either encoding, by its Content-Type (anything but multipart/form-data is read as urlencoded).
Result<FormFields> parse_form_body(std::string_view content_type, std::string_view body, size_t fields_max = 64);
// Percent-encodes everything but unreserved characters (RFC 3986), space as %20... except that
// `form_encode` below uses '+' for space as browsers do.
std::string url_encode(std::string_view s);
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// Builds a response with the given status, content type and body; sets Content-Length and keep-alive
// according to the request.
Response make_response(const Request& req, bhttp::status status, std::string_view content_type, std::string body);

}  // namespace paygate::http
