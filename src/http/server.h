// The HTTP listener: one coroutine session per connection (as in the Beast examples), keep-alive, a limit
// on every read (header and body size, read timeout, idle timeout) and on the number of connections.
#pragma once
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/limits.h"
#include "http/router.h"

namespace paygate::http {

struct ServerConfig {
  size_t body_bytes_max = limits::kRequestBodyBytesMax;
  size_t header_bytes_max = limits::kRequestHeaderBytesMax;
  size_t connections_max = limits::kConnectionsMax;
  int64_t read_timeout_ms = limits::kRequestReadTimeoutMs;
  int64_t idle_timeout_ms = limits::kKeepAliveIdleTimeoutMs;
  // Connections are spread over these, round-robin; each is run by one thread of its own, so that every thread
  // has its own event loop. Empty: connections run on the acceptor's io_context.
  std::vector<asio::io_context*> session_contexts;
};

// Called once per answered request (for metrics and the access log).
struct RequestRecord {
  std::string_view route_name;
  std::string_view method;
  std::string_view path;
  std::string_view request_id;
  std::string_view remote_ip;
  unsigned status = 0;
  int64_t latency_us = 0;
};
using RequestObserver = std::function<void(const RequestRecord&)>;

// The router must outlive every connection: sessions still finishing after stop_accepting() (or ~Server) use
// it until the io_context stops running them. The observer may be called from several threads at once.
class Server {
 public:
  Server(asio::io_context& io, ServerConfig config, const Router& router, RequestObserver observer);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Port 0 picks a free port; the bound endpoint is returned.
  Result<asio::ip::tcp::endpoint> listen(const std::string& host, uint16_t port);
  // Stops accepting new connections; idle keep-alive connections are closed, requests in flight finish
  // and their responses are written, then their connections close.
  void stop_accepting();
  size_t active_connections() const;
  // Requests from their first byte until their response is written (a drain waits for these).
  size_t in_flight_requests() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace paygate::http
