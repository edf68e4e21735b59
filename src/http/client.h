// Outbound HTTP(S) client for notifications: coroutine-based, with connect and total timeouts, a cap on the
// response size, and SSRF protection (the resolved address is checked before connecting).
#pragma once
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>; include it first.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <string>

#include "base/limits.h"
#include "base/result.h"

namespace paygate::http {

struct Url {
  bool https = false;
  std::string host;     // without brackets for IPv6
  uint16_t port = 0;    // defaulted from the scheme
  std::string target;   // path + query, at least "/"
};
// Accepts only http:// and https:// absolute URLs with a host; rejects userinfo and fragments-only garbage.
Result<Url> parse_url(std::string_view url);

// Loopback, private (RFC 1918, fc00::/7), link-local, multicast, unspecified, CGNAT 100.64/10, and
// IPv4-mapped forms of these.
bool is_forbidden_target(const boost::asio::ip::address& addr);

struct ClientRequest {
  std::string url;
  std::string method = "POST";
  std::string content_type = "application/x-www-form-urlencoded";
  std::string body;
  int64_t connect_timeout_ms = 5'000;
  int64_t total_timeout_ms = 10'000;
  size_t response_bytes_max = limits::kNotifyResponseBytesMax;
  bool allow_private_targets = false;
};

struct ClientResponse {
  unsigned status = 0;
  std::string body;
  int64_t latency_ms = 0;
};

// Errors: kInvalidArgument (bad URL), kFailedPrecondition (forbidden target), kUnavailable (DNS, connect,
// TLS, timeout, reset, oversized response); the message says which.
boost::asio::awaitable<Result<ClientResponse>> fetch(boost::asio::any_io_executor executor,
                                                     boost::asio::ssl::context& tls, ClientRequest request);

// A TLS client context that verifies peers against the system trust store.
boost::asio::ssl::context make_client_tls_context();

}  // namespace paygate::http
