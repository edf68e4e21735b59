#include <gtest/gtest.h>

#include <string>

#include "http/http.h"

namespace paygate::http {
namespace {

constexpr std::string_view kType = "multipart/form-data; boundary=------------------------d74496d66958873e";

// As curl -F and PHP's curl with an array of fields send it (CRLF line ends, a part per field).
std::string curl_body() {
  return "--------------------------d74496d66958873e\r\n"
         "Content-Disposition: form-data; name=\"customerId\"\r\n"
         "\r\n"
         "10001\r\n"
         "--------------------------d74496d66958873e\r\n"
         "Content-Disposition: form-data; name=\"notifyUrl\"\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "\r\n"
         "https://m.example.com/n?a=1&b=%20+\r\n"
         "--------------------------d74496d66958873e\r\n"
         "content-disposition: form-data; name=\"custom\"\r\n"
         "\r\n"
         "\xe5\x85\xac\xe5\x8f\xb8\r\nline two\r\n"
         "--------------------------d74496d66958873e\r\n"
         "Content-Disposition: form-data; name=\"empty\"\r\n"
         "\r\n"
         "\r\n"
         "--------------------------d74496d66958873e--\r\n";
}

TEST(MultipartForm, ReadsTextFieldsAsSentWithoutDecoding) {
  auto f = parse_form_body(kType, curl_body());
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->values.size(), 4u);
  EXPECT_EQ(*f->find("customerId"), "10001");
  EXPECT_EQ(*f->find("notifyUrl"), "https://m.example.com/n?a=1&b=%20+");  // not percent-decoded
  EXPECT_EQ(*f->find("custom"), "\xe5\x85\xac\xe5\x8f\xb8\r\nline two");
  EXPECT_EQ(*f->find("empty"), "");
  EXPECT_TRUE(f->repeated.empty());
}

TEST(MultipartForm, TheContentTypeDecidesTheEncoding) {
  EXPECT_TRUE(is_multipart_form_data("multipart/form-data; boundary=x"));
  EXPECT_TRUE(is_multipart_form_data("Multipart/Form-Data ; boundary=\"x\""));
  EXPECT_FALSE(is_multipart_form_data("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_multipart_form_data("multipart/mixed; boundary=x"));
  EXPECT_FALSE(is_multipart_form_data(""));
  auto url = parse_form_body("application/x-www-form-urlencoded", "a=1&b=%41");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url->find("b"), "A");
  auto none = parse_form_body("", "a=1");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none->find("a"), "1");
}

TEST(MultipartForm, QuotedBoundaryPreambleEpilogueAndPadding) {
  std::string body =
      "a preamble to ignore\r\n"
      "--b:1 2\t \r\n"
      "Content-Disposition: form-data; name=\"k;1\"; x=\"y\\\"z\"\r\n"
      "\r\n"
      "v\r\n"
      "--b:1 2--\r\nan epilogue to ignore";
  auto f = parse_multipart_form_data("multipart/form-data; charset=utf-8; boundary=\"b:1 2\"", body);
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->values.size(), 1u);
  EXPECT_EQ(*f->find("k;1"), "v");
}

TEST(MultipartForm, RepeatedNamesKeepTheFirstAndAreRecorded) {
  std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--B--";
  auto f = parse_multipart_form_data("multipart/form-data; boundary=B", body);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f->find("a"), "1");
  ASSERT_EQ(f->repeated.size(), 1u);
  EXPECT_EQ(f->repeated[0], "a");
}

TEST(MultipartForm, WrongBodiesAreRefusedWithAReason) {
  const std::string type = "multipart/form-data; boundary=B";
  const std::string part = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
  struct Case {
    std::string content_type;
    std::string body;
    std::string says;
  };
  const Case cases[] = {
      {"multipart/form-data", part + "--B--", "boundary"},
      {"multipart/form-data; boundary=", part + "--B--", "boundary"},
      {"multipart/form-data; boundary=" + std::string(71, 'x'), part, "boundary"},
      {type, "a=1&b=2", "no part starts"},
      {type, part, "close delimiter"},
      {type, part + "--B", "CRLF"},
      {type, "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n1\r\n--B--", "not ended by an empty line"},
      {type, "--B\r\n\r\n1\r\n--B--", "without a Content-Disposition name"},
      {type, "--B\r\nContent-Type: text/plain\r\n\r\n1\r\n--B--", "without a Content-Disposition name"},
      {type, "--B\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n1\r\n--B--", "empty name"},
      {type, "--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--B--", "not form-data"},
      {type, "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\n1\r\n--B--", "file"},
      {type, "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\n1\r\n--B--", "unterminated"},
      {type, "--B\r\nContent-Disposition form-data\r\n\r\n1\r\n--B--", "without ':'"},
      {type,
       "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: base64\r\n\r\nMQ==\r\n--B--",
       "Content-Transfer-Encoding"},
      {type,
       "--B\r\nX-Long: " + std::string(2000, 'x') + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--",
       "over 1024 bytes"},
  };
  for (const Case& c : cases) {
    auto f = parse_multipart_form_data(c.content_type, c.body);
    ASSERT_FALSE(f.ok()) << c.body;
    EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(f.error().message.find(c.says), std::string::npos) << f.error().message << " for: " << c.body;
  }
}

TEST(MultipartForm, AtMostFieldsMaxParts) {
  std::string body;
  for (int i = 0; i < 5; ++i) {
    body += "--B\r\nContent-Disposition: form-data; name=\"f" + std::to_string(i) + "\"\r\n\r\nv\r\n";
  }
  body += "--B--\r\n";
  EXPECT_TRUE(parse_multipart_form_data("multipart/form-data; boundary=B", body, 5).ok());
  auto over = parse_multipart_form_data("multipart/form-data; boundary=B", body, 4);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("too many form fields (at most 4)"), std::string::npos);
}

}  // namespace
}  // namespace paygate::http
