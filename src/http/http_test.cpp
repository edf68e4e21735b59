#include "http/http.h"

#include <gtest/gtest.h>

#include "http/router.h"

namespace paygate::http {
namespace {

TEST(FormParsing, DecodesPlusAndPercent) {
  auto fields = parse_form_urlencoded("name=a+b%20c&sign=%2F%2b%3D&utf8=%E4%B8%AD");
  ASSERT_TRUE(fields.ok()) << fields.error().message;
  EXPECT_EQ(*fields->find("name"), "a b c");
  EXPECT_EQ(*fields->find("sign"), "/+=");
  EXPECT_EQ(*fields->find("utf8"), "\xE4\xB8\xAD");
  EXPECT_EQ(fields->find("missing"), nullptr);
}

// A value is copied whole up to its first '+' or '%', and decoded from there; offsets in errors are the body's.
TEST(FormParsing, PlainPrefixThenEscapes) {
  auto fields = parse_form_urlencoded("k=plain+then%2Fescaped&plain=nothing.to-decode_~");
  ASSERT_TRUE(fields.ok()) << fields.error().message;
  EXPECT_EQ(*fields->find("k"), "plain then/escaped");
  EXPECT_EQ(*fields->find("plain"), "nothing.to-decode_~");
  auto bad = parse_form_urlencoded("a=1&k=abc%zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("at offset 9 "), std::string::npos) << bad.error().message;
}

TEST(FormParsing, KeysAreDecodedToo) {
  auto fields = parse_form_urlencoded("a%20b=1&c+d=2");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(*fields->find("a b"), "1");
  EXPECT_EQ(*fields->find("c d"), "2");
}

TEST(FormParsing, RejectsMalformedEscapes) {
  for (const char* bad : {"a=%G1", "a=%4", "a=%", "a=1&b=%zz", "%4=1", "a=%1G"}) {
    auto fields = parse_form_urlencoded(bad);
    ASSERT_FALSE(fields.ok()) << bad;
    EXPECT_EQ(fields.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(fields.error().message.find("percent-escape"), std::string::npos) << fields.error().message;
  }
}

TEST(FormParsing, EmptyValuesAndKeysWithoutEquals) {
  auto fields = parse_form_urlencoded("a=&b&c=3&=4");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(*fields->find("a"), "");
  EXPECT_EQ(*fields->find("b"), "");
  EXPECT_EQ(*fields->find("c"), "3");
  EXPECT_EQ(*fields->find(""), "4");
}

TEST(FormParsing, EmptyBodyAndEmptySegments) {
  auto empty = parse_form_urlencoded("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->values.empty());
  auto sparse = parse_form_urlencoded("&a=1&&b=2&");
  ASSERT_TRUE(sparse.ok());
  EXPECT_EQ(sparse->values.size(), 2u);
}

TEST(FormParsing, RepeatedKeysKeepTheFirstValue) {
  auto fields = parse_form_urlencoded("a=1&b=2&a=3&a=4");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(*fields->find("a"), "1");
  ASSERT_EQ(fields->repeated.size(), 2u);
  EXPECT_EQ(fields->repeated[0], "a");
  EXPECT_EQ(fields->repeated[1], "a");
}

TEST(FormParsing, EnforcesTheFieldLimit) {
  EXPECT_TRUE(parse_form_urlencoded("a=1&b=2&c=3", 3).ok());
  auto too_many = parse_form_urlencoded("a=1&b=2&c=3&d=4", 3);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::kInvalidArgument);
  // Repeated keys count too: they cost parsing work all the same.
  EXPECT_FALSE(parse_form_urlencoded("a=1&a=2&a=3&a=4", 3).ok());
  std::string big;
  for (int i = 0; i < 65; ++i) big += "k" + std::to_string(i) + "=v&";
  EXPECT_FALSE(parse_form_urlencoded(big).ok());
}

TEST(Encoding, UrlEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode("a b+c/d?e=f&g"), "a%20b%2Bc%2Fd%3Fe%3Df%26g");
  EXPECT_EQ(url_encode("\xE4\xB8\xAD"), "%E4%B8%AD");
  EXPECT_EQ(url_encode(std::string("\0", 1)), "%00");
}

TEST(Encoding, FormEncodeUsesPlusForSpace) {
  EXPECT_EQ(form_encode({{"a", "1 2"}, {"b c", "x&y=z"}}), "a=1+2&b+c=x%26y%3Dz");
  EXPECT_EQ(form_encode({}), "");
}

TEST(Encoding, FormRoundTrip) {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  std::vector<std::pair<std::string, std::string>> in = {
      {"order_no", "A-1 2+3"}, {"sign", "ab/cd+ef=="}, {"empty", ""}, {"bytes", all_bytes}, {"k=&", "v=&"}};
  auto out = parse_form_urlencoded(form_encode(in));
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->values.size(), in.size());
  for (const auto& [key, value] : in) {
    ASSERT_NE(out->find(key), nullptr) << key;
    EXPECT_EQ(*out->find(key), value) << key;
  }
  // url_encode output decodes back too ('+' never appears in it).
  auto single = parse_form_urlencoded("x=" + url_encode(all_bytes));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(*single->find("x"), all_bytes);
}

TEST(MakeResponse, FollowsTheRequest) {
  Request req;
  req.raw = RawRequest{bhttp::verb::get, "/x", 11};
  Response res = make_response(req, bhttp::status::ok, "text/plain", "hello");
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.version(), 11u);
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain");
  EXPECT_EQ(res[bhttp::field::content_length], "5");
  EXPECT_EQ(res[bhttp::field::server], "paygate");
  EXPECT_EQ(res.body(), "hello");

  req.raw.keep_alive(false);
  EXPECT_FALSE(make_response(req, bhttp::status::ok, "text/plain", "").keep_alive());

  Request old;
  old.raw = RawRequest{bhttp::verb::get, "/x", 10};
  Response res10 = make_response(old, bhttp::status::not_found, "application/json", "{}");
  EXPECT_EQ(res10.version(), 10u);
  EXPECT_FALSE(res10.keep_alive());
}

asio::awaitable<Response> dummy_handler(Request& req) {
  co_return make_response(req, bhttp::status::ok, "text/plain", "ok");
}

TEST(Router, MatchesExactPathAndMethod) {
  Router router;
  router.add(bhttp::verb::post, "/submit", "consign.submit", dummy_handler);
  router.add(bhttp::verb::get, "/submit", "consign.submit_form", dummy_handler);

  auto post = router.find(bhttp::verb::post, "/submit");
  EXPECT_NE(post.handler, nullptr);
  EXPECT_EQ(post.route_name, "consign.submit");
  EXPECT_FALSE(post.method_not_allowed);
  EXPECT_EQ(router.find(bhttp::verb::get, "/submit").route_name, "consign.submit_form");

  auto wrong_method = router.find(bhttp::verb::delete_, "/submit");
  EXPECT_EQ(wrong_method.handler, nullptr);
  EXPECT_TRUE(wrong_method.method_not_allowed);
  EXPECT_EQ(wrong_method.allow, "GET, POST");  // what a 405 must name (RFC 9110, 15.5.6), in a stable order
  EXPECT_EQ(post.allow, "");

  for (std::string_view path : {"/submit/", "/Submit", "/", "/submit2"}) {
    auto none = router.find(bhttp::verb::post, path);
    EXPECT_EQ(none.handler, nullptr) << path;
    EXPECT_FALSE(none.method_not_allowed) << path;
    EXPECT_EQ(none.route_name, "unmatched") << path;
  }
}

TEST(Router, GetAndHeadShareOneHandler) {
  Router router;
  router.add_get_and_head("/healthz", "healthz", dummy_handler);
  router.add(bhttp::verb::get, "/api/Pay", "gateway.pay_page", dummy_handler);
  auto get = router.find(bhttp::verb::get, "/healthz");
  auto head = router.find(bhttp::verb::head, "/healthz");
  ASSERT_NE(get.handler, nullptr);
  ASSERT_NE(head.handler, nullptr);
  EXPECT_EQ(head.route_name, "healthz");
  EXPECT_EQ(router.find(bhttp::verb::post, "/healthz").allow, "GET, HEAD");
  auto head_of_get = router.find(bhttp::verb::head, "/api/Pay");
  EXPECT_EQ(head_of_get.handler, nullptr);
  EXPECT_TRUE(head_of_get.method_not_allowed);
  EXPECT_EQ(head_of_get.allow, "GET");
}

TEST(Router, PatternSegmentsMatchOneNonEmptySegment) {
  Router router;
  router.add(bhttp::verb::post, "/sandbox/payments/{id}/complete", "sandbox.complete", dummy_handler);
  router.add(bhttp::verb::get, "/sandbox/payments/status", "exact", dummy_handler);
  auto m = router.find(bhttp::verb::post, "/sandbox/payments/P123/complete");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.route_name, "sandbox.complete");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "P123");
  EXPECT_EQ(router.find(bhttp::verb::post, "/sandbox/payments//complete").handler, nullptr);
  EXPECT_EQ(router.find(bhttp::verb::post, "/sandbox/payments/a/b/complete").handler, nullptr);
  EXPECT_EQ(router.find(bhttp::verb::post, "/sandbox/payments/P1/completed").handler, nullptr);
  auto wrong_method = router.find(bhttp::verb::get, "/sandbox/payments/P1/complete");
  EXPECT_EQ(wrong_method.handler, nullptr);
  EXPECT_TRUE(wrong_method.method_not_allowed);
  EXPECT_EQ(wrong_method.allow, "POST");
  // An exact path wins over a pattern of the same shape.
  auto exact = router.find(bhttp::verb::get, "/sandbox/payments/status");
  ASSERT_NE(exact.handler, nullptr);
  EXPECT_EQ(exact.route_name, "exact");
  EXPECT_TRUE(exact.params.empty());
}

TEST(Router, FallbackTakesWhatNoRouteTakesUnderItsPrefix) {
  Router router;
  router.add(bhttp::verb::get, "/admin/api/me", "console.me", dummy_handler);
  router.add_fallback("/admin/api/", "console.unmatched", dummy_handler);
  auto unknown = router.find(bhttp::verb::get, "/admin/api/nothing");
  ASSERT_NE(unknown.handler, nullptr);
  EXPECT_EQ(unknown.route_name, "console.unmatched");
  EXPECT_FALSE(unknown.method_not_allowed);
  auto wrong_method = router.find(bhttp::verb::post, "/admin/api/me");
  ASSERT_NE(wrong_method.handler, nullptr);
  EXPECT_EQ(wrong_method.route_name, "console.unmatched");
  EXPECT_TRUE(wrong_method.method_not_allowed);
  EXPECT_EQ(wrong_method.allow, "GET");
  EXPECT_EQ(unknown.allow, "");
  EXPECT_EQ(router.find(bhttp::verb::get, "/admin/api/me").route_name, "console.me");
  // Outside the prefix nothing changes.
  EXPECT_EQ(router.find(bhttp::verb::get, "/admin/apix").handler, nullptr);
  EXPECT_EQ(router.find(bhttp::verb::get, "/other").handler, nullptr);
}

}  // namespace
}  // namespace paygate::http
