#include "http/request_rules.h"

#include <boost/beast/core/string.hpp>
#include <chrono>

#include "base/text.h"

namespace paygate::http {
namespace {

constexpr std::string_view kChunked = "chunked";

// Calls `f` with each non-empty comma-separated element of every line of field `name`.
template <typename F>
void for_each_element(const bhttp::request_header<>& req, bhttp::field name, F f) {
  auto [begin, end] = req.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    std::string_view line = it->value();
    size_t pos = 0;
    while (pos <= line.size()) {
      size_t comma = line.find(',', pos);
      if (comma == std::string_view::npos) comma = line.size();
      std::string_view element = trim_blanks(line.substr(pos, comma - pos));
      // A coding may carry parameters ("gzip;q=1"); its name is what matters here.
      element = trim_blanks(element.substr(0, element.find(';')));
      if (!element.empty()) f(element);
      pos = comma + 1;
    }
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_reg_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
         c == ',' || c == ';' || c == '=' || c == '%';
}

// uri-host [ ":" port ] (RFC 9110, 7.2): a reg-name, an IPv4 address (a reg-name's characters), or an IP literal
// in brackets; the port digits only. Empty is allowed (a target without an authority).
bool is_valid_host(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    for (char c : host.substr(1, close - 1)) {
      bool ok = (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f') || is_digit(c) || c == ':' || c == '.' || c == 'v' ||
                c == 'V';
      if (!ok) return false;
    }
    if (close == 1) return false;
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? rest : rest.substr(1);
    name = {};
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
  }
  for (char c : name) {
    if (!is_reg_name_char(c)) return false;
  }
  for (char c : port) {
    if (!is_digit(c)) return false;
  }
  return true;
}

}  // namespace

std::optional<RequestProblem> request_problem(const bhttp::request_header<>& req) {
  size_t codings = 0;
  size_t chunked_count = 0;
  bool last_is_chunked = false;
  bool other_coding = false;
  for_each_element(req, bhttp::field::transfer_encoding, [&](std::string_view coding) {
    ++codings;
    last_is_chunked = beast::iequals(coding, kChunked);
    if (last_is_chunked)
      ++chunked_count;
    else
      other_coding = true;
  });
  if (codings > 0 || req.count(bhttp::field::transfer_encoding) > 0) {
    if (!last_is_chunked || chunked_count > 1) {
      return RequestProblem{bhttp::status::bad_request, "bad request: Transfer-Encoding must end in chunked, once"};
    }
    if (other_coding) {
      return RequestProblem{bhttp::status::not_implemented, "transfer coding not implemented; send chunked alone"};
    }
  }

  const size_t hosts = req.count(bhttp::field::host);
  if (hosts > 1 || (hosts == 0 && req.version() >= 11)) {
    return RequestProblem{bhttp::status::bad_request, "bad request: exactly one Host header is required"};
  }
  if (hosts == 1 && !is_valid_host(trim_blanks(req[bhttp::field::host]))) {
    return RequestProblem{bhttp::status::bad_request, "bad request: the Host header is not host[:port]"};
  }
  return std::nullopt;
}

bool asks_to_close(const bhttp::request_header<>& req) {
  bool close = false;
  for_each_element(req, bhttp::field::connection, [&](std::string_view option) {
    if (beast::iequals(option, "close")) close = true;
  });
  return close;
}

bool has_transfer_encoding(const bhttp::request_header<>& req) {
  return req.count(bhttp::field::transfer_encoding) > 0;
}

std::string_view origin_form(std::string_view target) {
  size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || target.starts_with('/')) return target;
  std::string_view scheme = target.substr(0, scheme_end);
  if (!beast::iequals(scheme, "http") && !beast::iequals(scheme, "https")) return target;
  std::string_view rest = target.substr(scheme_end + 3);
  size_t path = rest.find_first_of("/?");
  if (path == std::string_view::npos) return "/";
  if (rest[path] == '?') return target;  // "http://h?q": no path at all; left as it is (no route matches it)
  return rest.substr(path);
}

size_t leading_empty_line_bytes(std::string_view data) {
  size_t n = 0;
  while (n < data.size() && (data[n] == '\r' || data[n] == '\n')) ++n;
  return n;
}

std::string http_date(std::time_t unix_s) {
  std::tm tm{};
  gmtime_r(&unix_s, &tm);
  char out[32];
  size_t n = std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S GMT", &tm);  // the C locale's names
  return std::string(out, n);
}

const std::string& http_date_now() {
  // The Date of an answer is wall-clock time by definition; formatted once per second per thread.
  thread_local std::time_t cached_s = -1;
  thread_local std::string cached;
  const std::time_t now_s = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now_s != cached_s) {
    cached = http_date(now_s);
    cached_s = now_s;
  }
  return cached;
}

}  // namespace paygate::http
