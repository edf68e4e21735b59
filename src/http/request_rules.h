#pragma once
// What RFC 9110/9112 require of a server beyond Beast's parser: framing and Host checks made after a request is
// parsed, the Connection option `close` in any of its lines, the absolute form of a request target, the Date of
// an answer, and empty lines before a request line. Pure functions (the date aside), so they are tested alone.
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "http/http.h"

namespace paygate::http {

struct RequestProblem {
  bhttp::status status;
  std::string_view text;  // the plain-text answer
};

// A request Beast parsed that must still be refused, closing the connection:
// - a Transfer-Encoding whose last coding is not `chunked`, or that names `chunked` twice: 400 (the body's end
//   would be a guess, and the bytes after the header would be read as the next request: request smuggling);
// - another coding before `chunked` (gzip, ...): 501, none is implemented;
// - HTTP/1.1 without exactly one Host field, or a Host that is not `host[:port]`: 400 (RFC 9112, 3.2). HTTP/1.0
//   may leave it out.
std::optional<RequestProblem> request_problem(const bhttp::request_header<>& req);

// True when any Connection field line carries the `close` option (RFC 9110, 7.6.1: the lines form one list).
bool asks_to_close(const bhttp::request_header<>& req);

// True when the request has a Transfer-Encoding at all; an HTTP/1.0 request with one is answered, then the
// connection closes (RFC 9112, 6.1: its framing is suspect).
bool has_transfer_encoding(const bhttp::request_header<>& req);

// The origin form (path and query) of a target in absolute form ("http://host/p?q" -> "/p?q"; "http://host" ->
// "/"); any other target as it is.
std::string_view origin_form(std::string_view target);

// The number of leading CR and LF bytes of `data`: empty lines a client may send before a request line, which a
// server should ignore (RFC 9112, 2.2).
size_t leading_empty_line_bytes(std::string_view data);

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a Unix time, and of now, formatted once per second per thread.
std::string http_date(std::time_t unix_s);
const std::string& http_date_now();

}  // namespace paygate::http
