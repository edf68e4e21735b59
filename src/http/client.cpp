#include "http/client.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <optional>

#include "base/text.h"
#include "http/dns.h"
#include "http/http.h"

namespace paygate::http {
namespace {

namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::string_view kUserAgent = "paygate-notify/1";
constexpr uint32_t kResponseHeaderBytesMax = 16 * 1024;

Error unavailable(std::string message) { return make_error(ErrorCode::kUnavailable, std::move(message)); }
Error invalid_url(std::string message) { return make_error(ErrorCode::kInvalidArgument, std::move(message)); }

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

// "host:port" for messages and the Host header; IPv6 literals get their brackets back.
std::string authority_of(const Url& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return host + ":" + std::to_string(url.port);
}

std::string host_header(const Url& url) {
  bool default_port = (url.https && url.port == 443) || (!url.https && url.port == 80);
  if (!default_port) return authority_of(url);
  return url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
}

int64_t elapsed_ms(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

// WHATWG URL's "ends in a number": the last label (after one trailing dot) is decimal digits or 0x and hex digits.
// Such a host is an IPv4 address to browsers and to getaddrinfo, in forms (127.1, 2130706433, 0x7f000001,
// 0177.0.0.1) that a strict address parser does not read, so a check on the literal would miss them.
bool ends_in_a_number(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  const size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  if (!last.starts_with("0x")) return false;
  return std::all_of(last.begin() + 2, last.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// Four decimal octets 0-255 without leading zeros: the one spelling every reader agrees on.
bool is_dotted_quad(std::string_view host) {
  error_code ec;
  const auto addr = asio::ip::make_address_v4(std::string(host), ec);
  return !ec && addr.to_string() == host;
}

bool forbidden_v4(const asio::ip::address_v4& addr) {
  const uint32_t v = addr.to_uint();
  auto in = [v](uint32_t network, int prefix_bits) {
    uint32_t mask = prefix_bits == 0 ? 0 : ~uint32_t{0} << (32 - prefix_bits);
    return (v & mask) == network;
  };
  return in(0x00000000, 8)      // 0.0.0.0/8 "this network", includes the unspecified address
         || in(0x0A000000, 8)   // 10.0.0.0/8
         || in(0x64400000, 10)  // 100.64.0.0/10 carrier-grade NAT
         || in(0x7F000000, 8)   // 127.0.0.0/8 loopback
         || in(0xA9FE0000, 16)  // 169.254.0.0/16 link-local (cloud metadata endpoints live here)
         || in(0xAC100000, 12)  // 172.16.0.0/12
         || in(0xC0000000, 24)  // 192.0.0.0/24 IETF protocol assignments
         || in(0xC0000200, 24)  // 192.0.2.0/24 TEST-NET-1 (documentation, RFC 5737)
         || in(0xC0A80000, 16)  // 192.168.0.0/16
         || in(0xC6120000, 15)  // 198.18.0.0/15 benchmarking
         || in(0xC6336400, 24)  // 198.51.100.0/24 TEST-NET-2
         || in(0xCB007100, 24)  // 203.0.113.0/24 TEST-NET-3
         || in(0xE0000000, 4)   // 224.0.0.0/4 multicast
         || in(0xF0000000, 4);  // 240.0.0.0/4 reserved, includes the broadcast address
}

asio::ip::address_v4 v4_at(const asio::ip::address_v6::bytes_type& b, size_t offset) {
  return asio::ip::address_v4({b[offset], b[offset + 1], b[offset + 2], b[offset + 3]});
}

bool forbidden_v6(const asio::ip::address_v6& addr) {
  const auto b = addr.to_bytes();
  const bool first_96_zero = std::all_of(b.begin(), b.begin() + 12, [](unsigned char x) { return x == 0; });
  if (first_96_zero) return true;  // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  if (addr.is_v4_mapped()) return forbidden_v4(v4_at(b, 12));
  // ::ffff:0:a.b.c.d, IPv4-translated (RFC 2765), embeds one as well.
  const bool v4_translated = std::all_of(b.begin(), b.begin() + 8, [](unsigned char x) { return x == 0; }) &&
                             b[8] == 0xFF && b[9] == 0xFF && b[10] == 0 && b[11] == 0;
  if (v4_translated) return forbidden_v4(v4_at(b, 12));
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return true;  // 2001:db8::/32 documentation
  if (b[0] == 0x01 && std::all_of(b.begin() + 1, b.begin() + 8, [](unsigned char x) { return x == 0; })) {
    return true;  // 100::/64 discard-only (RFC 6666)
  }
  if (b[0] == 0xFF) return true;                             // ff00::/8 multicast
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return true;    // fe80::/10 link-local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return true;    // fec0::/10 site-local (deprecated)
  if ((b[0] & 0xFE) == 0xFC) return true;                    // fc00::/7 unique local
  // Translation prefixes embed an IPv4 address that a gateway would reach on our behalf.
  const bool nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B &&
                     std::all_of(b.begin() + 4, b.begin() + 12, [](unsigned char x) { return x == 0; });
  if (nat64) return forbidden_v4(v4_at(b, 12));           // 64:ff9b::/96
  if (b[0] == 0x20 && b[1] == 0x02) return forbidden_v4(v4_at(b, 2));  // 2002::/16 6to4
  return false;
}

// Messages name the stage; timeouts always say "timeout" so operators can grep for them.
Error stage_error(std::string_view stage, const Url& url, const error_code& ec, int64_t timeout_ms) {
  if (ec == beast::error::timeout) {
    return unavailable("timeout: " + std::string(stage) + " (" + authority_of(url) + ") did not complete within " +
                       std::to_string(timeout_ms) + " ms");
  }
  return unavailable(std::string(stage) + ": " + authority_of(url) + ": " + ec.message());
}

// Sends the request and reads the response over an established (plain or TLS) stream.
template <typename Stream>
asio::awaitable<Result<ClientResponse>> exchange(Stream& stream, const Url& url, const ClientRequest& request,
                                                 bhttp::verb verb, SteadyClock::time_point start,
                                                 SteadyClock::time_point deadline) {
  bhttp::request<bhttp::string_body> req{verb, url.target, 11};
  req.set(bhttp::field::host, host_header(url));
  req.set(bhttp::field::user_agent, kUserAgent);
  if (!request.body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put) {
    req.set(bhttp::field::content_type, request.content_type);
  }
  req.body() = request.body;
  req.keep_alive(false);  // one request per connection: no pooling state to get wrong
  req.prepare_payload();

  error_code ec;
  beast::get_lowest_layer(stream).expires_at(deadline);
  co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return stage_error("write", url, ec, request.total_timeout_ms);

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(kResponseHeaderBytesMax);
  parser.body_limit(request.response_bytes_max);
  beast::get_lowest_layer(stream).expires_at(deadline);
  // Header first: Beast 1.74 drops the Content-Length body_limit error when the parser runs eagerly and body
  // bytes arrive in the same read as the header (async_read is eager; async_read_header is not).
  co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && !parser.is_done()) {
    co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  }
  // Many TLS servers close without close_notify. That only matters when the body is delimited by the close
  // itself; then the body we have is complete as far as HTTP can tell.
  if (ec == ssl::error::stream_truncated && parser.is_header_done() && !parser.is_done()) {
    error_code eof_ec;
    parser.put_eof(eof_ec);
    if (!eof_ec && parser.is_done()) ec = {};
  }
  if (ec == bhttp::error::body_limit) {
    co_return unavailable("read: response from " + authority_of(url) + " exceeds " +
                          std::to_string(request.response_bytes_max) + " bytes");
  }
  if (ec == bhttp::error::header_limit) {
    co_return unavailable("read: response header from " + authority_of(url) + " exceeds " +
                          std::to_string(kResponseHeaderBytesMax) + " bytes");
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
    co_return unavailable("read: " + authority_of(url) + " closed the connection before a complete response");
  }
  if (ec) co_return stage_error("read", url, ec, request.total_timeout_ms);

  auto& res = parser.get();
  // No TLS shutdown: the request said Connection: close, and waiting for close_notify can only add latency.
  co_return ClientResponse{res.result_int(), std::move(res.body()), elapsed_ms(start)};
}

// The whole fetch after validation. Runs on its own strand so the DNS deadline timer and the coroutine are
// never concurrent on a multi-threaded io_context.
asio::awaitable<Result<ClientResponse>> fetch_on_strand(ssl::context& tls, const ClientRequest& request,
                                                        const Url& url, bhttp::verb verb) {
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(request.total_timeout_ms);
  auto ex = co_await asio::this_coro::executor;
  error_code ec;

  // DNS, on the resolver's own threads and cache, within the request's deadline.
  const auto dns_budget = std::max(std::chrono::milliseconds(1),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()));
  auto resolved = co_await DnsResolver::shared().resolve(ex, url.host, url.port, dns_budget);
  if (!resolved.ok()) {
    if (resolved.error().message.starts_with("timeout:")) {
      co_return unavailable("timeout: dns lookup of " + url.host + " did not complete within " +
                            std::to_string(request.total_timeout_ms) + " ms");
    }
    co_return resolved.error();
  }
  const Endpoints& endpoints = *resolved;

  // SSRF: every address must be public, since connect may try any of them. We connect to exactly these
  // addresses (no second lookup), so DNS rebinding cannot slip a private one in afterwards.
  if (!request.allow_private_targets) {
    for (const auto& endpoint : endpoints) {
      const auto address = endpoint.address();
      if (is_forbidden_target(address)) {
        co_return make_error(ErrorCode::kFailedPrecondition,
                             "target address " + address.to_string() + " of " + url.host +
                                 " is private/loopback/link-local/reserved; refusing to connect");
      }
    }
  }

  beast::tcp_stream stream(ex);
  const auto until_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  const auto connect_timeout =
      std::max(std::chrono::milliseconds(1),
               std::min(std::chrono::milliseconds(request.connect_timeout_ms), until_deadline));
  stream.expires_after(connect_timeout);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return stage_error("connect", url, ec, connect_timeout.count());
  stream.socket().set_option(tcp::no_delay(true), ec);

  if (!url.https) co_return co_await exchange(stream, url, request, verb, start, deadline);

  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), tls);
  // SNI carries names only (RFC 6066); an IP literal is verified against the certificate's IP entries.
  error_code literal_ec;
  asio::ip::make_address(url.host, literal_ec);
  if (literal_ec && !SSL_set_tlsext_host_name(tls_stream.native_handle(), url.host.c_str())) {
    co_return unavailable("tls: cannot set SNI for " + url.host);
  }
  tls_stream.set_verify_mode(ssl::verify_peer);
  // Asio's host name check fails the handshake without saying why; the error it leaves names the mismatch, so the
  // attempt's record can tell it from an expired or untrusted certificate.
  tls_stream.set_verify_callback(
      [check = ssl::host_name_verification(url.host)](bool preverified, ssl::verify_context& ctx) mutable {
        if (check(preverified, ctx)) return true;
        if (preverified) X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
        return false;
      });
  beast::get_lowest_layer(tls_stream).expires_at(deadline);
  co_await tls_stream.async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    Error e = stage_error("tls handshake", url, ec, request.total_timeout_ms);
    // "certificate verify failed" alone cannot tell an expired certificate from a self-signed one or another host's.
    const long verify_result = SSL_get_verify_result(tls_stream.native_handle());
    if (verify_result != X509_V_OK) e.message += std::string(" (") + X509_verify_cert_error_string(verify_result) + ")";
    co_return e;
  }
  co_return co_await exchange(tls_stream, url, request, verb, start, deadline);
}

// co_spawn needs a default-constructible result, which Result<> is not: the outcome goes through `out`.
asio::awaitable<void> fetch_into(ssl::context& tls, const ClientRequest& request, const Url& url, bhttp::verb verb,
                                 std::optional<Result<ClientResponse>>& out) {
  out.emplace(co_await fetch_on_strand(tls, request, url, verb));
}

}  // namespace

Result<Url> parse_url(std::string_view url) {
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    // Also what keeps CR/LF out of the request line and the Host header.
    if (u <= 0x20 || u >= 0x7F) return invalid_url("URL contains whitespace, control or non-ASCII characters");
  }
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return invalid_url("URL must start with http:// or https://");
  std::string scheme;
  for (char c : url.substr(0, scheme_end)) scheme.push_back(ascii_lower(c));
  Url out;
  if (scheme == "http") {
    out.https = false;
    out.port = 80;
  } else if (scheme == "https") {
    out.https = true;
    out.port = 443;
  } else {
    return invalid_url("unsupported URL scheme '" + scheme + "' (only http and https)");
  }

  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));  // fragments never go on the wire
  size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return invalid_url("URL must not contain user information");
  if (authority.empty()) return invalid_url("URL has no host");

  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid_url("URL has an unterminated IPv6 literal");
    std::string_view literal = authority.substr(1, close - 1);
    error_code ec;
    asio::ip::make_address_v6(literal, ec);
    if (ec) return invalid_url("URL has an invalid IPv6 literal");
    out.host = std::string(literal);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid_url("URL has garbage after the IPv6 literal");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) return invalid_url("URL has no host");
    if (!std::all_of(host.begin(), host.end(), is_host_char)) return invalid_url("URL has an invalid host name");
    for (char c : host) out.host.push_back(ascii_lower(c));
    if (ends_in_a_number(out.host) && !is_dotted_quad(out.host)) {
      return invalid_url("URL host is a number but not a dotted-quad IPv4 address: write 192.0.2.1, not 3221225985, "
                         "0xc0000201 or 192.513");
    }
  }

  if (has_port) {
    if (port_text.empty() || port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return invalid_url("URL has an invalid port");
    }
    unsigned port = 0;
    for (char c : port_text) port = port * 10 + static_cast<unsigned>(c - '0');
    if (port == 0 || port > 65535) return invalid_url("URL port out of range");
    out.port = static_cast<uint16_t>(port);
  }

  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

bool is_forbidden_target(const asio::ip::address& addr) {
  return addr.is_v4() ? forbidden_v4(addr.to_v4()) : forbidden_v6(addr.to_v6());
}

asio::awaitable<Result<ClientResponse>> fetch(asio::any_io_executor executor, ssl::context& tls,
                                              ClientRequest request) {
  auto url = parse_url(request.url);
  if (!url.ok()) co_return url.error();
  const bhttp::verb verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown) co_return make_error(ErrorCode::kInvalidArgument, "unknown HTTP method");
  if (request.connect_timeout_ms <= 0 || request.total_timeout_ms <= 0) {
    co_return make_error(ErrorCode::kInvalidArgument, "timeouts must be positive");
  }

  std::optional<Result<ClientResponse>> out;
  std::exception_ptr failure;
  try {
    co_await asio::co_spawn(asio::make_strand(executor), fetch_into(tls, request, url.value(), verb, out),
                            asio::use_awaitable);
  } catch (...) {
    // Cannot co_await or co_return with a message inside a handler cleanly; remember and answer below.
    failure = std::current_exception();
  }
  if (failure) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::warn("http client: fetch of {} failed with an exception: {}", authority_of(url.value()), what);
    co_return unavailable("internal: " + what);
  }
  if (!out) co_return unavailable("internal: fetch produced no result");
  co_return std::move(*out);
}

ssl::context make_client_tls_context() {
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  error_code ec;
  ctx.set_default_verify_paths(ec);
  if (ec) spdlog::warn("http client: cannot load the system trust store: {}", ec.message());
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace paygate::http
