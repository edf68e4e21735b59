#include "http/server.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "http/request_rules.h"
#include "http/response_head.h"

namespace paygate::http {
namespace {

using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Bytes requested when waiting for the first byte of a request.
constexpr size_t kFirstReadBytes = 4 * 1024;
// A session's read buffer holds at most a header and a body at their limits plus this. Beast's parser bounds
// neither a chunk's size line and extensions nor the trailer; the buffer's bound does, so that a client cannot make
// the server hold more than this per connection (the read then fails with buffer_overflow: a 400).
constexpr size_t kBufferSlackBytes = 16 * 1024;
// Empty lines (CR and LF bytes) skipped before one request line; a client that sends more closes its connection.
constexpr size_t kEmptyLineBytesMax = 16;
// After an error answer the peer may still be sending a body; reading (and discarding) a little of it before
// closing keeps the kernel from resetting the connection before the peer has read our answer.
constexpr auto kLingerTimeout = std::chrono::milliseconds(500);
constexpr size_t kLingerDrainBytesMax = 256 * 1024;
// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);
constexpr std::string_view kPlainText = "text/plain; charset=utf-8";
constexpr std::string_view kUnmatchedRoute = "unmatched";
constexpr size_t kRequestIdLengthMax = 64;

// An incoming X-Request-Id is trusted only if it cannot inject anything into logs or headers.
bool is_acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > kRequestIdLengthMax) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// 16 hex characters. Ids need to be unique, not secret: a per-thread generator seeded once from OpenSSL's, since a
// RAND_bytes call per request cost about a microsecond (perf, consign benchmark). Two threads or processes repeat
// each other only if their 64-bit seeds are equal.
std::string new_request_id() {
  thread_local std::mt19937_64 generator{[] {
    uint64_t seed = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
      seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    }
    return seed;
  }()};
  uint64_t v = generator();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i) {
    id[static_cast<size_t>(i)] = kHex[v & 0x0F];
    v >>= 4;
  }
  return id;
}

// A small plain-text answer the server itself produces (errors, 404, 405).
Response plain_response(bhttp::status status, unsigned version, bool keep_alive, std::string_view text) {
  Response res{status, version};
  res.set(bhttp::field::server, "paygate");
  res.set(bhttp::field::content_type, kPlainText);
  res.keep_alive(keep_alive);
  res.body() = std::string(text) + "\n";
  res.prepare_payload();
  return res;
}

std::string remote_ip_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  auto address = endpoint.address();
  // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; log them as plain IPv4.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool expects_continue(const bhttp::request<bhttp::string_body>& req) {
  return req.version() == 11 && beast::iequals(req[bhttp::field::expect], "100-continue");
}

bool is_http_parse_error(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

void log_spawn_failure(std::string_view what, std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("http: {} ended with an exception: {}", what, e.what());
  } catch (...) {
    spdlog::error("http: {} ended with an unknown exception", what);
  }
}

class Session;

// State shared by the acceptor and every session. Sessions hold it by shared_ptr, so it outlives the Server
// object if connections are still finishing.
struct ServerCore : std::enable_shared_from_this<ServerCore> {
  ServerCore(asio::io_context& io_context, ServerConfig server_config, const Router& server_router,
             RequestObserver request_observer)
      : io(io_context),
        config(server_config),
        router(server_router),
        observer(std::move(request_observer)),
        acceptor(asio::make_strand(io_context)) {}

  // Static with `self` by value: the coroutine frame keeps the core alive, whatever happens to the Server.
  static asio::awaitable<void> accept_loop(std::shared_ptr<ServerCore> self);
  void stop();

  uint64_t register_session(const std::shared_ptr<Session>& session) {
    std::lock_guard lock(sessions_mu);
    uint64_t id = next_session_id++;
    sessions.emplace(id, session);
    return id;
  }
  void unregister_session(uint64_t id) {
    std::lock_guard lock(sessions_mu);
    sessions.erase(id);
  }

  asio::io_context& io;
  size_t next_session_context = 0;  // used by the accept loop only
  const ServerConfig config;
  const Router& router;
  const RequestObserver observer;
  tcp::acceptor acceptor;  // used only on its strand once accepting has started
  std::atomic<bool> listening{false};
  std::atomic<bool> stopping{false};
  std::atomic<size_t> active_connections{0};
  std::atomic<size_t> in_flight{0};

  std::mutex sessions_mu;
  uint64_t next_session_id = 1;  // 0 means "not registered"
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;
};

// One connection. Everything runs on the socket's strand: the session coroutine, the stream's timeout
// handler and on_stop().
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerCore> core, tcp::socket socket)
      : core_(std::move(core)),
        remote_ip_(remote_ip_of(socket)),
        stream_(std::move(socket)),
        buffer_(core_->config.header_bytes_max + core_->config.body_bytes_max + kBufferSlackBytes) {}

  // The accept loop counted this connection; the count drops when the session is gone.
  ~Session() {
    if (id_ != 0) core_->unregister_session(id_);
    core_->active_connections.fetch_sub(1);
  }

  void start() {
    id_ = core_->register_session(shared_from_this());
    asio::co_spawn(stream_.get_executor(), run(shared_from_this()),
                   [](std::exception_ptr e) { log_spawn_failure("session", e); });
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }

  // Runs on the session strand after the server started stopping. An idle keep-alive connection is closed
  // now; a busy one finishes its current response (sent with Connection: close) and then closes.
  void on_stop() {
    if (state_ == State::kIdle) stream_.cancel();
  }

 private:
  enum class State { kBusy, kIdle };

  // `self` keeps the session alive for as long as the coroutine runs.
  static asio::awaitable<void> run(std::shared_ptr<Session> self) { co_await self->serve(); }

  asio::awaitable<void> serve();
  // Parses what buffer_ holds into parser: ec is need_more if the header is not all there.
  void parse_buffered(bhttp::request_parser<bhttp::string_body>& parser, boost::system::error_code& ec);
  asio::awaitable<void> linger_close();
  void record(std::string_view route_name, std::string_view method, std::string_view path, std::string_view request_id,
              unsigned status, SteadyClock::time_point started);

  std::shared_ptr<ServerCore> core_;
  std::string remote_ip_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  State state_ = State::kBusy;
  uint64_t id_ = 0;
};

namespace {
struct InFlightGuard {
  explicit InFlightGuard(std::atomic<size_t>& counter) : counter_(counter) { counter_.fetch_add(1); }
  ~InFlightGuard() { counter_.fetch_sub(1); }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;
  std::atomic<size_t>& counter_;
};
}  // namespace

asio::awaitable<void> Session::serve() {
  const auto read_timeout = std::chrono::milliseconds(core_->config.read_timeout_ms);
  const auto idle_timeout = std::chrono::milliseconds(core_->config.idle_timeout_ms);
  bool first_request = true;
  bool linger = false;
  size_t empty_line_bytes = 0;  // empty lines skipped before the current request

  for (;;) {
    boost::system::error_code ec;
    // Wait for the first byte under the idle timeout (the read timeout for a fresh connection), so a
    // keep-alive connection is "idle" exactly while no request has started; a stop closes only those.
    if (buffer_.size() == 0) {
      if (core_->stopping.load()) break;
      state_ = State::kIdle;
      stream_.expires_after(first_request ? read_timeout : idle_timeout);
      size_t n = co_await stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                                                  asio::redirect_error(asio::use_awaitable, ec));
      state_ = State::kBusy;
      if (ec) break;  // peer closed, idle timeout, or stop
      buffer_.commit(n);
    }
    // Empty lines before a request line are ignored (RFC 9112, 2.2), a few of them: a client sending nothing else
    // does not hold the connection open past its idle timeout for long.
    const auto buffered = buffer_.data();
    if (size_t n = leading_empty_line_bytes({static_cast<const char*>(buffered.data()), buffered.size()}); n > 0) {
      empty_line_bytes += n;
      if (empty_line_bytes > kEmptyLineBytesMax) break;
      buffer_.consume(n);
      if (buffer_.size() == 0) continue;
    }
    empty_line_bytes = 0;
    first_request = false;
    // From its first byte until its response is written, a request is in flight: a drain waits for it.
    InFlightGuard in_flight(core_->in_flight);

    // Beast parsers are single-use; the limits must be set before reading.
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(core_->config.header_bytes_max));
    parser.body_limit(core_->config.body_bytes_max);
    stream_.expires_after(read_timeout);
    // Header first, then the body: in Beast 1.74 an eager parse (async_read) can lose the body_limit error raised
    // at the end of the header when body bytes arrive in the same read (it does for responses; see client.cpp).
    // Most requests arrive whole in the first read: parse what the buffer holds first, and go through Beast's
    // reads (each a composed operation whose completion takes a trip through the event loop) only for the rest.
    parse_buffered(parser, ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
      co_await bhttp::async_read_header(stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec && !parser.is_done()) {
      // A client that waits for the go-ahead before its body (curl and PHP do for larger bodies; curl gives up
      // waiting after 1 s) gets it now that the header passed its limits; one refused there got its final answer.
      if (expects_continue(parser.get()) && buffer_.size() == 0) {
        co_await asio::async_write(stream_, asio::buffer(kContinue), asio::redirect_error(asio::use_awaitable, ec));
      }
      if (!ec) co_await bhttp::async_read(stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    const auto started = SteadyClock::now();

    std::optional<RequestProblem> problem;
    if (ec) {
      // Timeouts, resets and a peer that closed mid-request get no answer: nobody is listening.
      if (!is_http_parse_error(ec) || ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream) {
        break;
      }
      problem = RequestProblem{bhttp::status::bad_request, "bad request"};
      if (ec == bhttp::error::body_limit) {
        problem = RequestProblem{bhttp::status::payload_too_large, "request body too large"};
      } else if (ec == bhttp::error::header_limit) {
        problem = RequestProblem{bhttp::status::request_header_fields_too_large, "request header too large"};
      }
    } else {
      problem = request_problem(parser.get());  // parsed, but framed or addressed against the rules
    }
    if (problem) {
      Response res = plain_response(problem->status, 11, /*keep_alive=*/false, problem->text);
      std::string request_id = new_request_id();
      res.set("X-Request-Id", request_id);
      res.set(bhttp::field::date, http_date_now());
      spdlog::debug("http: {} from {} (request_id={}): {}", static_cast<unsigned>(problem->status), remote_ip_,
                    request_id, ec ? ec.message() : std::string(problem->text));
      stream_.expires_after(read_timeout);
      co_await bhttp::async_write(stream_, res, asio::redirect_error(asio::use_awaitable, ec));
      record(kUnmatchedRoute, "", "", request_id, static_cast<unsigned>(problem->status), started);
      linger = !ec;
      break;
    }

    Request req;
    req.raw = parser.release();
    req.remote_ip = remote_ip_;
    auto incoming_id = req.raw["X-Request-Id"];
    req.request_id = is_acceptable_request_id(incoming_id) ? std::string(incoming_id) : new_request_id();
    std::string_view target = origin_form(req.raw.target());
    size_t question = target.find('?');
    req.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) req.query = std::string(target.substr(question + 1));

    Router::Match match = core_->router.find(req.raw.method(), req.path);
    req.path_params = std::move(match.params);
    Response res;
    if (match.handler == nullptr) {
      if (match.method_not_allowed) {
        res = plain_response(bhttp::status::method_not_allowed, req.raw.version(), true, "method not allowed");
        res.set(bhttp::field::allow, match.allow);
      } else {
        res = plain_response(bhttp::status::not_found, req.raw.version(), true, "not found");
      }
    } else {
      try {
        res = co_await (*match.handler)(req);
      } catch (const std::exception& e) {
        spdlog::error("http: handler {} failed (request_id={}): {}", match.route_name, req.request_id, e.what());
        res = plain_response(bhttp::status::internal_server_error, req.raw.version(), true, "internal error");
      } catch (...) {
        spdlog::error("http: handler {} failed (request_id={}): unknown exception", match.route_name, req.request_id);
        res = plain_response(bhttp::status::internal_server_error, req.raw.version(), true, "internal error");
      }
    }

    // Once stopping, every answer closes its connection.
    // `close` in any Connection line counts (Beast reads the first); an HTTP/1.0 request framed by a
    // Transfer-Encoding it cannot have sent correctly ends its connection.
    const bool keep_alive = req.raw.keep_alive() && res.keep_alive() && !core_->stopping.load() &&
                            !asks_to_close(req.raw) && !(req.raw.version() < 11 && has_transfer_encoding(req.raw));
    res.version(req.raw.version());
    res.keep_alive(keep_alive);
    if (res.find(bhttp::field::server) == res.end()) res.set(bhttp::field::server, "paygate");
    res.set("X-Request-Id", req.request_id);
    res.prepare_payload();
    // 204 and 304 have no content, and no Content-Length to announce one (RFC 9110, 8.6).
    if (res.result() == bhttp::status::no_content || res.result() == bhttp::status::not_modified) {
      res.body().clear();
      res.erase(bhttp::field::content_length);
    }
    res.set(bhttp::field::date, http_date_now());

    // The write is bounded too, so a peer that stops reading cannot pin the session.
    stream_.expires_after(read_timeout);
    if (res.chunked()) {  // no route answers so; Beast's serializer encodes the chunks
      co_await bhttp::async_write(stream_, res, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      // The head and the body in one gathered write, without Beast's serializer (response_head.h).
      // An answer to HEAD is the GET's head, Content-Length included, without its body.
      const std::string head = response_head(res);
      const bool head_only = req.raw.method() == bhttp::verb::head;
      const std::array<asio::const_buffer, 2> buffers{asio::buffer(head),
                                                      head_only ? asio::const_buffer() : asio::buffer(res.body())};
      co_await asio::async_write(stream_, buffers, asio::redirect_error(asio::use_awaitable, ec));
    }
    record(match.route_name, req.raw.method_string(), req.path, req.request_id, res.result_int(), started);
    if (ec || !keep_alive || res.need_eof()) break;
  }

  if (linger) {
    co_await linger_close();
  } else {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  stream_.close();
}

void Session::parse_buffered(bhttp::request_parser<bhttp::string_body>& parser, boost::system::error_code& ec) {
  // Not eager: the header alone, so that a body_limit or header_limit error raised at its end is not lost.
  buffer_.consume(parser.put(buffer_.data(), ec));
  if (ec || parser.is_done()) return;  // need_more: the header is not all here
  parser.eager(true);
  buffer_.consume(parser.put(buffer_.data(), ec));
  if (ec == bhttp::error::need_more) ec = {};  // the header is done; async_read reads the rest of the body
}

asio::awaitable<void> Session::linger_close() {
  boost::system::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(kLingerTimeout);
  std::array<char, 4096> scratch{};
  size_t drained_bytes = 0;
  while (!ec && drained_bytes < kLingerDrainBytesMax) {
    drained_bytes +=
        co_await stream_.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
  }
}

void Session::record(std::string_view route_name, std::string_view method, std::string_view path,
                     std::string_view request_id, unsigned status, SteadyClock::time_point started) {
  if (!core_->observer) return;
  RequestRecord rec;
  rec.route_name = route_name;
  rec.method = method;
  rec.path = path;
  rec.request_id = request_id;
  rec.remote_ip = remote_ip_;
  rec.status = status;
  rec.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started).count();
  // Metrics must never take a connection down.
  try {
    core_->observer(rec);
  } catch (const std::exception& e) {
    spdlog::error("http: request observer threw (request_id={}): {}", request_id, e.what());
  } catch (...) {
    spdlog::error("http: request observer threw (request_id={})", request_id);
  }
}

asio::awaitable<void> ServerCore::accept_loop(std::shared_ptr<ServerCore> self) {
  tcp::acceptor& acceptor = self->acceptor;
  for (;;) {
    boost::system::error_code ec;
    // A session context is run by one thread, which already runs a connection's handlers one at a time; the
    // acceptor's own io_context may be run by several (tests), so there a connection gets a strand of its own.
    // any_io_executor keeps the socket type plain tcp::socket either way.
    const auto& contexts = self->config.session_contexts;
    asio::any_io_executor session_ex =
        contexts.empty()
            ? asio::any_io_executor(asio::make_strand(self->io))
            : asio::any_io_executor(contexts[self->next_session_context++ % contexts.size()]->get_executor());
    tcp::socket socket = co_await acceptor.async_accept(session_ex, asio::redirect_error(asio::use_awaitable, ec));
    if (self->stopping.load() || !acceptor.is_open()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor.get_executor(), kAcceptRetryDelay);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (self->active_connections.fetch_add(1) >= self->config.connections_max) {
      self->active_connections.fetch_sub(1);
      spdlog::warn("http: refusing a connection: {} connections open", self->config.connections_max);
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);  // responses are small and written whole
    std::make_shared<Session>(self, std::move(socket))->start();
  }
}

void ServerCore::stop() {
  stopping.store(true);
  asio::dispatch(acceptor.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor.close(ignored);
  });
  std::vector<std::weak_ptr<Session>> snapshot;
  {
    std::lock_guard lock(sessions_mu);
    snapshot.reserve(sessions.size());
    for (const auto& [id, session] : sessions) snapshot.push_back(session);
  }
  // Locked outside the mutex: dropping the last reference runs ~Session, which takes the mutex.
  for (const auto& weak : snapshot) {
    if (auto session = weak.lock()) {
      auto ex = session->executor();
      asio::dispatch(ex, [session = std::move(session)] { session->on_stop(); });
    }
  }
}

}  // namespace

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;
};

Server::Server(asio::io_context& io, ServerConfig config, const Router& router, RequestObserver observer)
    : impl_(std::make_shared<Impl>(io, config, router, std::move(observer))) {}

Server::~Server() {
  impl_->stop();
}

Result<asio::ip::tcp::endpoint> Server::listen(const std::string& host, uint16_t port) {
  if (impl_->listening.exchange(true)) return make_error(ErrorCode::kFailedPrecondition, "already listening");
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    // A host name such as "localhost": resolve once at start-up and take the first address.
    tcp::resolver resolver(impl_->io);
    auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      impl_->listening.store(false);
      return make_error(ErrorCode::kInvalidArgument, "cannot resolve listen address '" + host + "'");
    }
    endpoint = results.begin()->endpoint();
  }

  auto fail = [&](std::string_view stage) -> Error {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->listening.store(false);
    return make_error(ErrorCode::kUnavailable, std::string(stage) + " " + endpoint.address().to_string() + ":" +
                                                   std::to_string(endpoint.port()) + ": " + ec.message());
  };
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on");
  impl_->acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  auto bound = impl_->acceptor.local_endpoint(ec);
  if (ec) return fail("local address of");

  asio::co_spawn(impl_->acceptor.get_executor(), ServerCore::accept_loop(impl_),
                 [](std::exception_ptr e) { log_spawn_failure("accept loop", e); });
  spdlog::info("http: listening on {}:{}", bound.address().to_string(), bound.port());
  return bound;
}

void Server::stop_accepting() {
  impl_->stop();
}

size_t Server::active_connections() const {
  return impl_->active_connections.load();
}

size_t Server::in_flight_requests() const {
  return impl_->in_flight.load();
}

}  // namespace paygate::http
