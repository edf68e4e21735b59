#include "http/response_head.h"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>
#include <sstream>

namespace paygate::http {
namespace {

// What Beast's own serializer writes for the same message: the reference.
std::string beast_bytes(const Response& res) {
  std::ostringstream out;
  out << res;
  return out.str();
}

Response prepared(bhttp::status status, unsigned version, std::string body) {
  Response res{status, version};
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

TEST(ResponseHead, HeadAndBodyAreWhatBeastWrites) {
  Response res = prepared(bhttp::status::ok, 11, R"({"code":1,"message":"ok"})");
  res.set(bhttp::field::content_type, "application/json;charset=utf-8");
  res.set(bhttp::field::server, "paygate");
  res.set("X-Request-Id", "0123456789abcdef");
  res.keep_alive(true);
  EXPECT_EQ(response_head(res) + res.body(), beast_bytes(res));
}

TEST(ResponseHead, EveryStatusAndVersionTheServerWrites) {
  for (auto status : {bhttp::status::ok, bhttp::status::found, bhttp::status::bad_request, bhttp::status::not_found,
                      bhttp::status::method_not_allowed, bhttp::status::payload_too_large,
                      bhttp::status::request_header_fields_too_large, bhttp::status::too_many_requests,
                      bhttp::status::internal_server_error, bhttp::status::service_unavailable}) {
    for (unsigned version : {10u, 11u}) {
      for (bool keep_alive : {false, true}) {
        Response res = prepared(status, version, "text\n");
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.keep_alive(keep_alive);
        EXPECT_EQ(response_head(res) + res.body(), beast_bytes(res))
            << static_cast<unsigned>(status) << " HTTP/" << version << " keep-alive " << keep_alive;
      }
    }
  }
}

TEST(ResponseHead, EmptyBodyOwnReasonUnknownStatusAndFieldsAsStored) {
  Response empty = prepared(bhttp::status::no_content, 11, "");
  EXPECT_EQ(response_head(empty), beast_bytes(empty));

  Response own_reason = prepared(bhttp::status::ok, 11, "x");
  own_reason.reason("Fine");
  EXPECT_EQ(response_head(own_reason) + "x", beast_bytes(own_reason));
  EXPECT_EQ(response_head(own_reason).rfind("HTTP/1.1 200 Fine\r\n", 0), 0u);

  Response unknown{static_cast<bhttp::status>(299), 11};
  unknown.body() = "y";
  unknown.prepare_payload();
  EXPECT_EQ(response_head(unknown) + "y", beast_bytes(unknown));

  // Field names keep the case they were set with; repeated fields stay, in order; an empty value is written.
  Response fields = prepared(bhttp::status::ok, 11, "z");
  fields.set("x-lower-case", "1");
  fields.insert(bhttp::field::set_cookie, "a=1");
  fields.insert(bhttp::field::set_cookie, "b=2");
  fields.set("X-Empty", "");
  const std::string head = response_head(fields);
  EXPECT_EQ(head + "z", beast_bytes(fields));
  EXPECT_NE(head.find("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"), std::string::npos);
  EXPECT_NE(head.find("x-lower-case: 1\r\n"), std::string::npos);
}

}  // namespace
}  // namespace paygate::http
