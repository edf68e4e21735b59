#include "http/server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "http/testing.h"

namespace paygate::http {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using testing::IoThreads;
using testing::run_on;

// A test client connection; its coroutines run on the stream's strand.
struct Conn {
  explicit Conn(asio::io_context& io) : stream(asio::make_strand(io)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

asio::awaitable<void> connect(Conn& c, tcp::endpoint endpoint) {
  c.stream.expires_after(10s);
  co_await c.stream.async_connect(endpoint, asio::use_awaitable);
}

asio::awaitable<void> send(Conn& c, std::string raw) {
  c.stream.expires_after(10s);
  co_await asio::async_write(c.stream, asio::buffer(raw), asio::use_awaitable);
}

asio::awaitable<Response> receive(Conn& c) {
  c.stream.expires_after(10s);
  Response res;
  co_await bhttp::async_read(c.stream, c.buffer, res, asio::use_awaitable);
  co_return res;
}

// Lets the server see what was sent so far before more comes.
asio::awaitable<void> pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// True when the server closes (EOF or reset) within `limit`; false on a timeout or on data.
asio::awaitable<bool> closed_by_peer(Conn& c, std::chrono::milliseconds limit) {
  c.stream.expires_after(limit);
  boost::system::error_code ec;
  char byte = 0;
  co_await c.stream.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(asio::use_awaitable, ec));
  co_return ec&& ec != beast::error::timeout;
}

// Sends raw bytes and returns everything the server writes back until it closes or `quiet` passes without data.
asio::awaitable<std::string> raw_exchange(Conn& c, tcp::endpoint endpoint, std::string raw,
                                          std::chrono::milliseconds quiet) {
  co_await connect(c, endpoint);
  co_await send(c, std::move(raw));
  std::string out;
  for (;;) {
    c.stream.expires_after(quiet);
    boost::system::error_code ec;
    std::array<char, 4096> chunk{};
    size_t n = co_await c.stream.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    out.append(chunk.data(), n);
    if (ec == beast::error::timeout) {
      out += "<open>";  // still open after `quiet`
      break;
    }
    if (ec) break;  // closed by the server
  }
  co_return out;
}

size_t count_of(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string get_request(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

std::string post_request(std::string_view target, std::string_view body) {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

bool is_hex16(std::string_view s) {
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

struct Recorded {
  std::string route_name;
  std::string method;
  std::string path;
  std::string request_id;
  unsigned status = 0;
  int64_t latency_us = 0;
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    router_.add(bhttp::verb::get, "/hello", "test.hello", [](Request& req) -> asio::awaitable<Response> {
      co_return make_response(req, bhttp::status::ok, "text/plain", "hello");
    });
    router_.add(bhttp::verb::post, "/echo", "test.echo", [](Request& req) -> asio::awaitable<Response> {
      co_return make_response(req, bhttp::status::ok, "text/plain", req.path + "|" + req.query + "|" + req.raw.body());
    });
    router_.add(bhttp::verb::get, "/boom", "test.boom", [](Request&) -> asio::awaitable<Response> {
      throw std::runtime_error("secret detail 1234");
      co_return Response{};
    });
    router_.add(bhttp::verb::get, "/slow", "test.slow", [](Request& req) -> asio::awaitable<Response> {
      asio::steady_timer timer(co_await asio::this_coro::executor, 300ms);
      co_await timer.async_wait(asio::use_awaitable);
      co_return make_response(req, bhttp::status::ok, "text/plain", "slow done");
    });
  }

  void start(ServerConfig config = {}) {
    server_ = std::make_unique<Server>(threads_.io, config, router_, [this](const RequestRecord& r) {
      std::lock_guard lock(mu_);
      records_.push_back(Recorded{std::string(r.route_name), std::string(r.method), std::string(r.path),
                                  std::string(r.request_id), r.status, r.latency_us});
    });
    auto bound = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    endpoint_ = bound.value();
    ASSERT_NE(endpoint_.port(), 0);
  }

  void TearDown() override {
    if (server_) server_->stop_accepting();
    threads_.stop();
  }

  // One request on a fresh connection.
  Response roundtrip(std::string raw) {
    Conn c(threads_.io);
    return run_on(c.stream.get_executor(), [&]() -> asio::awaitable<Response> {
      co_await connect(c, endpoint_);
      co_await send(c, raw);
      co_return co_await receive(c);
    });
  }

  // Two requests, one after the other, on one fresh keep-alive connection.
  std::pair<Response, Response> two_on_one_connection(std::string first, std::string second) {
    Conn c(threads_.io);
    return run_on(c.stream.get_executor(), [&]() -> asio::awaitable<std::pair<Response, Response>> {
      co_await connect(c, endpoint_);
      co_await send(c, first);
      Response a = co_await receive(c);
      co_await send(c, second);
      Response b = co_await receive(c);
      co_return std::pair{std::move(a), std::move(b)};
    });
  }

  // The observer runs after the response is written, so the client may see the answer first.
  std::vector<Recorded> wait_for_records(size_t count) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (records_.size() >= count || std::chrono::steady_clock::now() > deadline) return records_;
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  template <typename Pred>
  static bool eventually(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }

  Router router_;
  IoThreads threads_{2};
  std::unique_ptr<Server> server_;
  tcp::endpoint endpoint_;
  std::mutex mu_;
  std::vector<Recorded> records_;
};

TEST_F(ServerTest, RouteAnswers) {
  start();
  Response res = roundtrip(get_request("/hello"));
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), "hello");
  EXPECT_EQ(res[bhttp::field::server], "paygate");
  EXPECT_TRUE(is_hex16(res["X-Request-Id"])) << res["X-Request-Id"];

  auto records = wait_for_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].route_name, "test.hello");
  EXPECT_EQ(records[0].method, "GET");
  EXPECT_EQ(records[0].path, "/hello");
  EXPECT_EQ(records[0].status, 200u);
  EXPECT_EQ(records[0].request_id, res["X-Request-Id"]);
  EXPECT_GE(records[0].latency_us, 0);
}

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  start();
  Conn c(threads_.io);
  auto [first, second] = run_on(c.stream.get_executor(), [&]() -> asio::awaitable<std::pair<Response, Response>> {
    co_await connect(c, endpoint_);
    co_await send(c, get_request("/hello"));
    Response a = co_await receive(c);
    co_await send(c, post_request("/echo?x=1&y=%20", "body text"));
    Response b = co_await receive(c);
    co_return std::pair{std::move(a), std::move(b)};
  });
  EXPECT_EQ(first.result(), bhttp::status::ok);
  EXPECT_TRUE(first.keep_alive());
  EXPECT_EQ(second.result(), bhttp::status::ok);
  EXPECT_EQ(second.body(), "/echo|x=1&y=%20|body text");
  EXPECT_EQ(server_->active_connections(), 1u);
}

// The server parses what its buffer holds before it reads more: requests sent together (pipelined) are each
// answered in turn, and one whose header or body arrives in pieces waits for the rest.
TEST_F(ServerTest, PipelinedRequestsAndRequestsInPiecesAreEachAnsweredWhole) {
  start();
  Conn c(threads_.io);
  auto answers = run_on(c.stream.get_executor(), [&]() -> asio::awaitable<std::vector<Response>> {
    std::vector<Response> out;
    co_await connect(c, endpoint_);
    // Three requests in one write: a body, no body, a body.
    co_await send(
        c, post_request("/echo?n=1", "first body") + get_request("/hello") + post_request("/echo?n=3", "third body"));
    for (int i = 0; i < 3; ++i) out.push_back(co_await receive(c));
    // The header in two pieces, then the body in two more.
    const std::string raw = post_request("/echo?n=4", "fourth body");
    const size_t header_end = raw.find("\r\n\r\n") + 4;
    for (auto [from, to] : {std::pair<size_t, size_t>{0, 10},
                            {10, header_end},
                            {header_end, header_end + 3},
                            {header_end + 3, raw.size()}}) {
      co_await send(c, raw.substr(from, to - from));
      co_await pause(20ms);
    }
    out.push_back(co_await receive(c));
    // The whole header and half the body in one write, the rest with the next request.
    const std::string fifth = post_request("/echo?n=5", "fifth body");
    co_await send(c, fifth.substr(0, fifth.size() - 4));
    co_await pause(20ms);
    co_await send(c, fifth.substr(fifth.size() - 4) + get_request("/hello"));
    out.push_back(co_await receive(c));
    out.push_back(co_await receive(c));
    co_return out;
  });
  ASSERT_EQ(answers.size(), 6u);
  EXPECT_EQ(answers[0].body(), "/echo|n=1|first body");
  EXPECT_EQ(answers[1].body(), "hello");
  EXPECT_EQ(answers[2].body(), "/echo|n=3|third body");
  EXPECT_EQ(answers[3].body(), "/echo|n=4|fourth body");
  EXPECT_EQ(answers[4].body(), "/echo|n=5|fifth body");
  EXPECT_EQ(answers[5].body(), "hello");
  for (const auto& a : answers) EXPECT_EQ(a.result(), bhttp::status::ok);
}

// Each I/O thread runs an event loop of its own; connections are dealt to them in turn, and a connection's
// requests run on its loop.
TEST_F(ServerTest, ConnectionsAreDealtToTheSessionContextsInTurn) {
  IoThreads first(1);
  IoThreads second(1);
  router_.add(bhttp::verb::get, "/where", "test.where", [&](Request& req) -> asio::awaitable<Response> {
    auto ex = co_await asio::this_coro::executor;
    auto& ctx = asio::query(ex, asio::execution::context);
    std::string where = &ctx == &first.io ? "first" : &ctx == &second.io ? "second" : "other";
    co_return make_response(req, bhttp::status::ok, "text/plain", where);
  });
  ServerConfig config;
  config.session_contexts = {&first.io, &second.io};
  start(config);
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    auto [a, b] = two_on_one_connection(get_request("/where"), get_request("/where"));
    EXPECT_EQ(a.body(), b.body()) << "one connection, one loop";
    seen.push_back(a.body());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "second", "first", "second"}));
  server_->stop_accepting();
  server_.reset();
}

TEST_F(ServerTest, HeadOnAReadOnlyRouteAnswersItsGetHeadWithoutTheBody) {
  router_.add_get_and_head("/page", "test.page", [](Request& req) -> asio::awaitable<Response> {
    co_return make_response(req, bhttp::status::ok, "text/html; charset=utf-8", "<p>the page</p>");
  });
  start();
  // HEAD first, then a GET on the same connection: had the HEAD's answer carried its body, the GET's answer would
  // be read from the middle of it.
  Conn c(threads_.io);
  auto [head, get] = run_on(c.stream.get_executor(), [&]() -> asio::awaitable<std::pair<Response, Response>> {
    co_await connect(c, endpoint_);
    co_await send(c, "HEAD /page HTTP/1.1\r\nHost: test\r\n\r\n" + get_request("/hello"));
    c.stream.expires_after(10s);
    bhttp::response_parser<bhttp::string_body> head_parser;
    head_parser.skip(true);  // a response to HEAD has no body, whatever its Content-Length says
    co_await bhttp::async_read(c.stream, c.buffer, head_parser, asio::use_awaitable);
    Response second = co_await receive(c);
    co_return std::pair{head_parser.release(), std::move(second)};
  });
  EXPECT_EQ(head.result(), bhttp::status::ok);
  EXPECT_EQ(head[bhttp::field::content_length], "15");  // the GET's length
  EXPECT_EQ(head[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(get.result(), bhttp::status::ok);
  EXPECT_EQ(get.body(), "hello");
  EXPECT_EQ(roundtrip(get_request("/page")).body(), "<p>the page</p>");
  auto records = wait_for_records(3);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(std::any_of(records.begin(), records.end(),
                          [](const Recorded& r) { return r.method == "HEAD" && r.route_name == "test.page"; }));

  // A GET route not declared read-only does not run for HEAD (a protocol's GET may create an order); its 405 comes
  // without a body too, as every answer to HEAD.
  Conn c2(threads_.io);
  Response head_of_get = run_on(c2.stream.get_executor(), [&]() -> asio::awaitable<Response> {
    co_await connect(c2, endpoint_);
    co_await send(c2, "HEAD /hello HTTP/1.1\r\nHost: test\r\n\r\n");
    c2.stream.expires_after(10s);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(true);
    co_await bhttp::async_read(c2.stream, c2.buffer, parser, asio::use_awaitable);
    co_return parser.release();
  });
  EXPECT_EQ(head_of_get.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(head_of_get[bhttp::field::allow], "GET");
}

TEST_F(ServerTest, UnknownPathIs404AndWrongMethodIs405) {
  start();
  Response missing = roundtrip(get_request("/nope"));
  EXPECT_EQ(missing.result(), bhttp::status::not_found);
  EXPECT_EQ(missing.body(), "not found\n");
  Response wrong = roundtrip(get_request("/echo"));
  EXPECT_EQ(wrong.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(wrong[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(wrong[bhttp::field::allow], "POST");  // a 405 names the methods the path takes
  EXPECT_EQ(missing.count(bhttp::field::allow), 0u);
  auto records = wait_for_records(2);
  ASSERT_EQ(records.size(), 2u);
  // Records land after each response is written, so their order is not the requests' order.
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.status < b.status; });
  EXPECT_EQ(records[0].status, 404u);
  EXPECT_EQ(records[0].route_name, "unmatched");
  EXPECT_EQ(records[1].status, 405u);
  EXPECT_EQ(records[1].route_name, "test.echo");  // the path's label, for metrics
}

TEST_F(ServerTest, OversizedBodyIs413AndCloses) {
  ServerConfig config;
  config.body_bytes_max = 1024;
  start(config);
  Conn c(threads_.io);
  auto [res, closed] = run_on(c.stream.get_executor(), [&]() -> asio::awaitable<std::pair<Response, bool>> {
    co_await connect(c, endpoint_);
    co_await send(c, post_request("/echo", std::string(5000, 'x')));
    Response r = co_await receive(c);
    bool eof = co_await closed_by_peer(c, 10s);
    co_return std::pair{std::move(r), eof};
  });
  EXPECT_EQ(res.result(), bhttp::status::payload_too_large);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(closed);
  // A body at the limit is fine.
  EXPECT_EQ(roundtrip(post_request("/echo", std::string(1024, 'y'))).result(), bhttp::status::ok);
}

TEST_F(ServerTest, OversizedBodiesAre413WhateverTheirShape) {
  ServerConfig config;
  config.body_bytes_max = 1024;
  start(config);
  // Chunked: the limit applies to the decoded body as it arrives.
  std::string chunk(2000, 'c');
  char size_hex[16];
  std::snprintf(size_hex, sizeof size_hex, "%zx", chunk.size());
  Response chunked = roundtrip("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" +
                               std::string(size_hex) + "\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.result(), bhttp::status::payload_too_large);
  // A body that looks like header lines must not be parsed as more header.
  std::string header_like;
  while (header_like.size() < 2000) header_like += "X-Smuggled: yes\r\n";
  header_like += "\r\n";
  Response smuggled = roundtrip(post_request("/echo", header_like));
  EXPECT_EQ(smuggled.result(), bhttp::status::payload_too_large);
}

// curl and PHP send `Expect: 100-continue` before a larger body and wait (curl 1 s) for the go-ahead.
TEST_F(ServerTest, ABodyAwaitingExpect100ContinueGetsTheGoAhead) {
  ServerConfig config;
  config.body_bytes_max = 1024;
  start(config);
  Conn c(threads_.io);
  auto [interim, res, refused] =
      run_on(c.stream.get_executor(), [&]() -> asio::awaitable<std::tuple<std::string, Response, Response>> {
        co_await connect(c, endpoint_);
        co_await send(c,
                      "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
                      "Expect: 100-Continue\r\n\r\n");
        std::string got;
        c.stream.expires_after(5s);
        while (got.find("\r\n\r\n") == std::string::npos) {
          char bytes[64];
          size_t n = co_await c.stream.async_read_some(asio::buffer(bytes), asio::use_awaitable);
          got.append(bytes, n);
        }
        co_await send(c, "hello");
        Response r = co_await receive(c);
        // Over the limit: the final answer at once, no go-ahead.
        co_await send(c, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
        Response too_large = co_await receive(c);
        co_return std::tuple{got, std::move(r), std::move(too_large)};
      });
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), "/echo||hello");  // the echo route's path, query and body
  EXPECT_EQ(refused.result(), bhttp::status::payload_too_large);
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  ServerConfig config;
  config.header_bytes_max = 1024;
  start(config);
  Response res = roundtrip(get_request("/hello", "X-Big: " + std::string(2000, 'h') + "\r\n"));
  EXPECT_EQ(res.result(), bhttp::status::request_header_fields_too_large);
}

// Beast's parser keeps no limit on a chunk's size line and extensions, nor on the trailer: without a bound on the
// session's buffer, a client could make the server hold gigabytes until the read timeout.
TEST_F(ServerTest, ChunkedFramingBeyondTheLimitsIsAnsweredNotBuffered) {
  ServerConfig config;
  config.header_bytes_max = 1024;
  config.body_bytes_max = 4096;
  config.read_timeout_ms = 5000;
  start(config);
  const std::string head = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  struct Case {
    std::string name;
    std::string prefix;
    std::string filler;
  };
  const Case cases[] = {
      {"an endless chunk extension", head + "1;a=", "b"},
      {"an endless chunk size", head, "0"},
      {"an endless trailer field", head + "1\r\nx\r\n0\r\nX-T: ", "b"},
      {"endless trailer fields", head + "1\r\nx\r\n0\r\n", "X-T: b\r\n"},
  };
  for (const Case& k : cases) {
    std::string raw = k.prefix;
    while (raw.size() < 200 * 1024) raw += k.filler;  // well under the linger drain, far over every limit
    Conn c(threads_.io);
    const auto started = std::chrono::steady_clock::now();
    Response res = run_on(c.stream.get_executor(), [&]() -> asio::awaitable<Response> {
      co_await connect(c, endpoint_);
      co_await send(c, raw);
      co_return co_await receive(c);
    });
    EXPECT_GE(res.result_int(), 400u) << k.name;
    EXPECT_LT(res.result_int(), 500u) << k.name;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 4s) << k.name << ": answered, not timed out";
  }
}

TEST_F(ServerTest, MessageFramingAndConnectionRulesOfRfc9112) {
  router_.add(bhttp::verb::post, "/nothing", "test.nothing", [](Request& req) -> asio::awaitable<Response> {
    Response res = make_response(req, bhttp::status::no_content, "text/plain", "");
    co_return res;
  });
  router_.add(bhttp::verb::get, "/unchanged", "test.unchanged", [](Request& req) -> asio::awaitable<Response> {
    co_return make_response(req, bhttp::status::not_modified, "text/plain", "");
  });
  start();
  auto exchange = [&](std::string raw) {
    Conn c(threads_.io);
    return run_on(c.stream.get_executor(),
                  [&]() -> asio::awaitable<std::string> { co_return co_await raw_exchange(c, endpoint_, raw, 1s); });
  };
  const std::string smuggled = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";

  // A transfer coding that is not chunked, last or alone, cannot frame a request: 400 (or 501 for a coding we
  // do not know, before chunked), and the connection closes, so the bytes after it are never read as a request.
  for (std::string te : {"identity", "xchunked", "chunked, identity", "chunked\r\nTransfer-Encoding: gzip"}) {
    std::string out = exchange("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + te + "\r\n\r\n" + smuggled);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << te << ": " << out;
    EXPECT_EQ(out.find("hello"), std::string::npos) << te;
    EXPECT_FALSE(out.ends_with("<open>")) << te;
  }
  std::string with_length = exchange(
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\nabc" + smuggled);
  EXPECT_TRUE(with_length.starts_with("HTTP/1.1 400 ")) << with_length;
  EXPECT_EQ(with_length.find("hello"), std::string::npos);
  std::string gzip =
      exchange("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + smuggled);
  EXPECT_TRUE(gzip.starts_with("HTTP/1.1 501 ")) << gzip;
  EXPECT_EQ(gzip.find("hello"), std::string::npos);
  // Chunked alone is fine, in any case.
  std::string chunked =
      exchange("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n");
  EXPECT_TRUE(chunked.starts_with("HTTP/1.1 200 ")) << chunked;
  EXPECT_NE(chunked.find("/echo||ab"), std::string::npos) << chunked;
  // HTTP/1.0 has no chunked coding: the request is answered, then the connection closes (its framing is suspect).
  std::string old_chunked = exchange(
      "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
  EXPECT_EQ(count_of(old_chunked, "HTTP/1."), 1u) << old_chunked;
  EXPECT_FALSE(old_chunked.ends_with("<open>"));

  // `close` in any Connection line, or in a list, closes after this answer; nothing after it is served.
  for (std::string conn : {"foo\r\nConnection: close", "keep-alive, close", "te\r\nConnection: Close"}) {
    std::string out = exchange("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: " + conn + "\r\n\r\n" + smuggled);
    EXPECT_EQ(count_of(out, "HTTP/1.1 200"), 1u) << conn << ": " << out;
    EXPECT_NE(out.find("Connection: close"), std::string::npos) << conn;
    EXPECT_FALSE(out.ends_with("<open>")) << conn;
  }
  std::string old_close = exchange("GET /hello HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n" + smuggled);
  EXPECT_EQ(count_of(old_close, "HTTP/1."), 1u) << old_close;
  EXPECT_EQ(old_close.find("keep-alive"), std::string::npos) << old_close;

  // Host: HTTP/1.1 needs exactly one, well formed (empty is allowed); HTTP/1.0 may leave it out.
  for (std::string host : {"", "Host: t\r\nHost: t\r\n", "Host: a b\r\n", "Host: a/b\r\n", "Host: t:8o\r\n",
                           "Host: [::1\r\n", "Host: a@b\r\n"}) {
    std::string out = exchange("GET /hello HTTP/1.1\r\n" + host + "\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << host << ": " << out;
  }
  for (std::string host : {"Host: example.com\r\n", "Host: 127.0.0.1:8080\r\n", "Host: [::1]:80\r\n", "Host:\r\n",
                           "Host: xn--fsq.example\r\n"}) {
    std::string out = exchange("GET /hello HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 200 ")) << host << ": " << out;
  }
  EXPECT_TRUE(exchange("GET /hello HTTP/1.0\r\n\r\n").starts_with("HTTP/1.0 200 "));

  // The absolute form of a target names the same resource.
  std::string absolute = exchange("GET http://t/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(absolute.starts_with("HTTP/1.1 200 ")) << absolute;
  EXPECT_TRUE(absolute.ends_with("hello")) << absolute;
  std::string absolute_query =
      exchange("POST https://t:8443/echo?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nConnection: close\r\n\r\nb");
  EXPECT_TRUE(absolute_query.ends_with("/echo|x=1|b")) << absolute_query;

  // Empty lines before a request line are skipped, not answered (RFC 9112, 2.2).
  std::string crlf = exchange("\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n\r\n\r\n" + smuggled);
  EXPECT_EQ(count_of(crlf, "HTTP/1.1 200"), 2u) << crlf;
  EXPECT_EQ(crlf.find("400"), std::string::npos) << crlf;

  // 204 and 304 carry no Content-Length; every answer carries a Date.
  std::string no_content =
      exchange("POST /nothing HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(no_content.starts_with("HTTP/1.1 204 ")) << no_content;
  EXPECT_EQ(no_content.find("Content-Length"), std::string::npos) << no_content;
  std::string not_modified = exchange("GET /unchanged HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(not_modified.starts_with("HTTP/1.1 304 ")) << not_modified;
  EXPECT_EQ(not_modified.find("Content-Length"), std::string::npos) << not_modified;
  for (const std::string& out :
       {no_content, not_modified, exchange("GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        exchange("BAD\r\n\r\n")}) {
    size_t at = out.find("\r\nDate: ");
    ASSERT_NE(at, std::string::npos) << out;
    std::string date = out.substr(at + 8, 29);  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    EXPECT_EQ(date.size(), 29u);
    EXPECT_EQ(date.substr(3, 2), ", ") << date;
    EXPECT_TRUE(date.ends_with(" GMT")) << date;
  }
}

TEST_F(ServerTest, GarbageIs400AndCloses) {
  start();
  Conn c(threads_.io);
  auto [res, closed] = run_on(c.stream.get_executor(), [&]() -> asio::awaitable<std::pair<Response, bool>> {
    co_await connect(c, endpoint_);
    co_await send(c, "GARBAGE \x01\x02 nonsense\r\n\r\n");
    Response r = co_await receive(c);
    bool eof = co_await closed_by_peer(c, 10s);
    co_return std::pair{std::move(r), eof};
  });
  EXPECT_EQ(res.result(), bhttp::status::bad_request);
  EXPECT_EQ(res.body(), "bad request\n");
  EXPECT_TRUE(is_hex16(res["X-Request-Id"]));
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, HandlerExceptionIs500WithoutDetails) {
  start();
  // The connection survives a failed handler.
  auto [res, after] = two_on_one_connection(get_request("/boom"), get_request("/hello"));
  EXPECT_EQ(res.result(), bhttp::status::internal_server_error);
  EXPECT_EQ(res.body(), "internal error\n");
  EXPECT_EQ(res.body().find("secret"), std::string::npos);
  EXPECT_TRUE(is_hex16(res["X-Request-Id"]));
  EXPECT_EQ(after.result(), bhttp::status::ok);
  // The session counts a request finished after its response is written, which may be just after the client
  // has read it: wait (bounded) rather than race it.
  EXPECT_TRUE(eventually([&] { return server_->in_flight_requests() == 0; }));
}

TEST_F(ServerTest, RequestIdIsEchoedWhenSafeAndGeneratedOtherwise) {
  start();
  Response echoed = roundtrip(get_request("/hello", "X-Request-Id: abc-DEF_123\r\n"));
  EXPECT_EQ(echoed["X-Request-Id"], "abc-DEF_123");
  Response bad_chars = roundtrip(get_request("/hello", "X-Request-Id: abc def;<x>\r\n"));
  EXPECT_TRUE(is_hex16(bad_chars["X-Request-Id"])) << bad_chars["X-Request-Id"];
  Response too_long = roundtrip(get_request("/hello", "X-Request-Id: " + std::string(65, 'a') + "\r\n"));
  EXPECT_TRUE(is_hex16(too_long["X-Request-Id"]));
  Response missing = roundtrip(get_request("/nope"));
  EXPECT_TRUE(is_hex16(missing["X-Request-Id"]));
  EXPECT_NE(missing["X-Request-Id"], too_long["X-Request-Id"]) << "each generated id is new";
}

TEST_F(ServerTest, IdleKeepAliveConnectionTimesOut) {
  ServerConfig config;
  config.idle_timeout_ms = 200;
  start(config);
  Conn c(threads_.io);
  bool closed = run_on(c.stream.get_executor(), [&]() -> asio::awaitable<bool> {
    co_await connect(c, endpoint_);
    co_await send(c, get_request("/hello"));
    co_await receive(c);
    co_return co_await closed_by_peer(c, 10s);
  });
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, SlowRequestReadTimesOut) {
  ServerConfig config;
  config.read_timeout_ms = 200;
  start(config);
  Conn c(threads_.io);
  bool closed = run_on(c.stream.get_executor(), [&]() -> asio::awaitable<bool> {
    co_await connect(c, endpoint_);
    co_await send(c, "GET /hello HTTP/1.1\r\nHost: te");  // never finished
    co_return co_await closed_by_peer(c, 10s);
  });
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, RefusesConnectionsAboveTheLimit) {
  ServerConfig config;
  config.connections_max = 1;
  start(config);
  Conn first(threads_.io);
  Response res = run_on(first.stream.get_executor(), [&]() -> asio::awaitable<Response> {
    co_await connect(first, endpoint_);
    co_await send(first, get_request("/hello"));
    co_return co_await receive(first);
  });
  EXPECT_EQ(res.result(), bhttp::status::ok);

  Conn second(threads_.io);
  bool closed = run_on(second.stream.get_executor(), [&]() -> asio::awaitable<bool> {
    co_await connect(second, endpoint_);  // the kernel accepts; the server closes it at once
    boost::system::error_code ignored;
    second.stream.expires_after(10s);
    std::string raw = get_request("/hello");
    co_await asio::async_write(second.stream, asio::buffer(raw), asio::redirect_error(asio::use_awaitable, ignored));
    co_return co_await closed_by_peer(second, 10s);
  });
  EXPECT_TRUE(closed);
  EXPECT_EQ(server_->active_connections(), 1u);
}

TEST_F(ServerTest, StopAcceptingFinishesInFlightRequestsAndClosesIdleOnes) {
  start();
  // An idle keep-alive connection.
  Conn idle(threads_.io);
  Response first = run_on(idle.stream.get_executor(), [&]() -> asio::awaitable<Response> {
    co_await connect(idle, endpoint_);
    co_await send(idle, get_request("/hello"));
    co_return co_await receive(idle);
  });
  ASSERT_EQ(first.result(), bhttp::status::ok);

  // A request whose handler is running when the server stops.
  Conn busy(threads_.io);
  run_on(busy.stream.get_executor(), [&]() -> asio::awaitable<void> {
    co_await connect(busy, endpoint_);
    co_await send(busy, get_request("/slow"));
  });
  ASSERT_TRUE(eventually([&] { return server_->in_flight_requests() == 1; }));
  EXPECT_EQ(server_->active_connections(), 2u);

  server_->stop_accepting();

  auto [slow, busy_closed] = run_on(busy.stream.get_executor(), [&]() -> asio::awaitable<std::pair<Response, bool>> {
    Response r = co_await receive(busy);
    bool eof = co_await closed_by_peer(busy, 10s);
    co_return std::pair{std::move(r), eof};
  });
  EXPECT_EQ(slow.result(), bhttp::status::ok);
  EXPECT_EQ(slow.body(), "slow done");
  EXPECT_FALSE(slow.keep_alive());
  EXPECT_TRUE(busy_closed);

  // The idle connection is closed well before its 60 s idle timeout.
  bool idle_closed = run_on(idle.stream.get_executor(),
                            [&]() -> asio::awaitable<bool> { co_return co_await closed_by_peer(idle, 10s); });
  EXPECT_TRUE(idle_closed);

  // New connections are refused once the acceptor is closed.
  EXPECT_TRUE(eventually([&] {
    asio::io_context client_io;
    tcp::socket socket(client_io);
    boost::system::error_code ec;
    socket.connect(endpoint_, ec);
    return ec == asio::error::connection_refused;
  }));
  EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
  EXPECT_EQ(server_->in_flight_requests(), 0u);
}

}  // namespace
}  // namespace paygate::http
