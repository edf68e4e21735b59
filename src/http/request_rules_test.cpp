#include "http/request_rules.h"

#include <gtest/gtest.h>

namespace paygate::http {
namespace {

bhttp::request_header<> header(std::initializer_list<std::pair<bhttp::field, std::string_view>> fields,
                               unsigned version = 11) {
  bhttp::request_header<> h;
  h.version(version);
  h.method(bhttp::verb::post);
  h.target("/");
  for (const auto& [name, value] : fields) h.insert(name, value);
  return h;
}

TEST(RequestRules, TransferEncodingMustEndInChunkedOnce) {
  using F = bhttp::field;
  EXPECT_FALSE(request_problem(header({{F::host, "h"}, {F::transfer_encoding, "chunked"}})));
  EXPECT_FALSE(request_problem(header({{F::host, "h"}, {F::transfer_encoding, " CHUNKED "}})));
  for (std::string_view te : {"identity", "chunked, identity", "xchunked", "chunked, chunked", ""}) {
    auto p = request_problem(header({{F::host, "h"}, {F::transfer_encoding, te}}));
    ASSERT_TRUE(p) << te;
    EXPECT_EQ(p->status, bhttp::status::bad_request) << te;
  }
  auto split =
      request_problem(header({{F::host, "h"}, {F::transfer_encoding, "chunked"}, {F::transfer_encoding, "gzip"}}));
  ASSERT_TRUE(split);
  EXPECT_EQ(split->status, bhttp::status::bad_request);
  auto gzip = request_problem(header({{F::host, "h"}, {F::transfer_encoding, "gzip;q=1, chunked"}}));
  ASSERT_TRUE(gzip);
  EXPECT_EQ(gzip->status, bhttp::status::not_implemented);
}

TEST(RequestRules, HostIsRequiredOnceAndWellFormed) {
  using F = bhttp::field;
  for (std::string_view host :
       {"example.com", "EXAMPLE.com:80", "127.0.0.1:8080", "[::1]", "[2001:db8::1]:443", "", "xn--fsq.example", "h:"}) {
    EXPECT_FALSE(request_problem(header({{F::host, host}}))) << host;
  }
  for (std::string_view host : {"a b", "a/b", "t:8o", "[::1", "[]", "a@b", "[::1]x", "h\"x"}) {
    EXPECT_TRUE(request_problem(header({{F::host, host}}))) << host;
  }
  EXPECT_TRUE(request_problem(header({})));
  EXPECT_TRUE(request_problem(header({{F::host, "a"}, {F::host, "a"}})));
  EXPECT_FALSE(request_problem(header({}, 10)));  // HTTP/1.0 may leave it out
}

TEST(RequestRules, CloseInAnyConnectionLine) {
  using F = bhttp::field;
  EXPECT_FALSE(asks_to_close(header({{F::connection, "keep-alive"}})));
  EXPECT_TRUE(asks_to_close(header({{F::connection, "keep-alive, Close"}})));
  EXPECT_TRUE(asks_to_close(header({{F::connection, "foo"}, {F::connection, "close"}})));
  EXPECT_FALSE(asks_to_close(header({{F::connection, "closed"}})));
}

TEST(RequestRules, OriginFormOfAnAbsoluteTarget) {
  EXPECT_EQ(origin_form("/a?b"), "/a?b");
  EXPECT_EQ(origin_form("http://h/a?b"), "/a?b");
  EXPECT_EQ(origin_form("HTTPS://h:8443/api/x"), "/api/x");
  EXPECT_EQ(origin_form("http://h"), "/");
  EXPECT_EQ(origin_form("/redirect?to=http://x/y"), "/redirect?to=http://x/y");
  EXPECT_EQ(origin_form("ftp://h/a"), "ftp://h/a");
  EXPECT_EQ(origin_form("*"), "*");
}

TEST(RequestRules, EmptyLinesAndTheDate) {
  EXPECT_EQ(leading_empty_line_bytes("\r\n\r\nGET"), 4u);
  EXPECT_EQ(leading_empty_line_bytes("GET"), 0u);
  EXPECT_EQ(leading_empty_line_bytes(""), 0u);
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's own example
  EXPECT_EQ(http_date_now().size(), 29u);
}

}  // namespace
}  // namespace paygate::http
