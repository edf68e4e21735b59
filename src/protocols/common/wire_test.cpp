// The flat JSON reader: the fast reader for plain bodies must give exactly what the general parser gives, and
// give way to it for everything else (errors included). Checked on chosen bodies and on seeded random mutations.
// Likewise json_string's quick quoting against nlohmann's serializer.
#include "protocols/common/wire.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace paygate::protocols {
namespace {

FlatJson general(std::string_view body, FlatJsonOptions options = {}) {
  options.fast_path = false;
  return parse_flat_json_object(body, options);
}

void expect_same(std::string_view body, FlatJsonOptions options = {}) {
  const FlatJson fast = parse_flat_json_object(body, options);
  const FlatJson slow = general(body, options);
  EXPECT_EQ(fast.problem, slow.problem) << body;
  EXPECT_EQ(fast.fields, slow.fields) << body;
  EXPECT_EQ(fast.key, slow.key) << body;
  EXPECT_EQ(fast.detail, slow.detail) << body;
}

TEST(FlatJson, APlainBodyReadsAsItsMembers) {
  auto r = parse_flat_json_object(
      R"( {"appKey":"k1","amount":10.50,"channelId":3,"neg":-0,"zero":0,"exp":1e2,"none":null,"name":"中国工商银行"} )");
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.fields, (Fields{{"appKey", "k1"},
                              {"amount", "10.50"},
                              {"channelId", "3"},
                              {"neg", "-0"},
                              {"zero", "0"},
                              {"exp", "1e2"},
                              {"name", "中国工商银行"}}));
  EXPECT_TRUE(parse_flat_json_object("{}").ok());
}

// Each of these either is plain and must read the same, or is not and must reach the general parser.
TEST(FlatJson, TheFastReaderAgreesWithTheGeneralParser) {
  const std::vector<std::string> bodies = {
      "{}", " { } ", "{\"a\":\"b\"}", "{\"a\":\"b\",}", "{\"a\" : \"b\" , \"c\" : 1 }\r\n", "{\"a\":\"b\"} x",
      "{\"a\":\"b\"", "{\"a\"\"b\"}", "{\"a\":}", "{a:1}", "[1]", "\"s\"", "1", "null", "", "{\"a\":true}",
      "{\"a\":false}", "{\"a\":{}}", "{\"a\":[1]}", "{\"a\":nul}", "{\"a\":null}", "{\"a\":null,\"a\":1}",
      "{\"a\":1,\"a\":2}", "{\"a\":\"x\\\"y\"}", "{\"a\":\"\\u00e9\"}", "{\"a\":\"\\ud83d\\ude00\"}",
      "{\"a\":\"tab\there\"}", "{\"a\":\"\x7f\"}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":.5}",
      "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":1E-3}", "{\"a\":-0.0}", "{\"a\":1e400}", "{\"a\":-1e400}",
      "{\"a\":1e-400}", "{\"a\":123456789012345678}", "{\"a\":1234567890123456789}",
      "{\"a\":18446744073709551615}", "{\"a\":18446744073709551616}", "{\"a\":-9223372036854775808}",
      "{\"a\":-9223372036854775809}", "{\"a\":+1}", "{\"a\":0x10}", "{\"é\":\"ü\"}", "{\"a\":\"\xc3\"}",
      "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xe0\x80\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
      "{\"a\":\"\xf0\x9f\x98\x80\"}", "{\"a\":\"\xef\xbf\xbf\"}", "{\"a\":\"\xff\"}", "\xef\xbb\xbf{}",
      std::string("{\"a\":\"\0\"}", 8), "{\"a\":\"b\"}{", "{\"\":\"\"}"};
  for (const auto& body : bodies) {
    expect_same(body);
    expect_same(body, FlatJsonOptions{.fields_max = 1});
  }
}

TEST(FlatJson, RepeatedMembersAndTooManyMembersAreTheGeneralParsersToDecide) {
  expect_same("{\"a\":1,\"a\":2}");
  const FlatJson repeated = parse_flat_json_object("{\"a\":1,\"a\":2}");
  EXPECT_EQ(repeated.problem, FlatJsonProblem::kDuplicateKey) << "all three protocols refuse it";
  EXPECT_EQ(repeated.key, "a");
  expect_same("{\"a\":1,\"b\":2,\"c\":null}", FlatJsonOptions{.fields_max = 2});
  EXPECT_EQ(parse_flat_json_object("{\"a\":1,\"b\":2,\"c\":null}", FlatJsonOptions{.fields_max = 2}).problem,
            FlatJsonProblem::kTooManyFields)
      << "a null member counts";
  EXPECT_TRUE(parse_flat_json_object("{\"a\":1,\"b\":2}", FlatJsonOptions{.fields_max = 2}).ok());
}

// json_string quotes plain ASCII itself and leaves everything else to nlohmann: the two must agree on every
// single byte and on seeded random strings mixing plain, escaped, UTF-8 and invalid bytes.
TEST(JsonString, TheQuickQuotingAgreesWithNlohmann) {
  const auto reference = [](std::string_view s) {
    return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    EXPECT_EQ(json_string(one), reference(one)) << b;
    EXPECT_EQ(json_string("ab" + one + "cd"), reference("ab" + one + "cd")) << b;
  }
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("C1763861234567000042"), "\"C1763861234567000042\"");
  constexpr std::string_view alphabet = "aZ09 ~\x7f\"\\/\n\t\x01\xc3\xa9\xe4\xb8\xad\xff\x80";
  std::mt19937_64 rng(20261123);
  for (int i = 0; i < 5'000; ++i) {
    std::string s(rng() % 12, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(json_string(s), reference(s)) << i;
  }
}

// Seeded random bodies: a plain pay-in body with bytes replaced, inserted or removed.
// The form check all three protocols run after decoding: a field sent twice, then a name or value not UTF-8.
TEST(FormFields, RepeatedAndNonUtf8FieldsAreRefusedByName) {
  Fields f;
  f.emplace("amount", "1.00");
  f.emplace("payer", "\xe5\xbc\xa0");  // 张 in UTF-8
  EXPECT_TRUE(check_form_fields(f, {}).ok());
  auto repeated = check_form_fields(f, {"amount"});
  ASSERT_FALSE(repeated.ok());
  EXPECT_EQ(repeated.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(repeated.error().message, "field amount appears more than once; send each field once");

  f.insert_or_assign("payer", "\xd5\xc5");  // 张 in GBK
  auto gbk = check_form_fields(f, {});
  ASSERT_FALSE(gbk.ok());
  EXPECT_EQ(gbk.error().message, "payer is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded");
  EXPECT_EQ(check_form_fields(f, {"amount"}).error().message,
            "field amount appears more than once; send each field once")
      << "the repeat is named first";

  Fields odd;
  odd.emplace("\xd5\xc5", "1");
  EXPECT_EQ(check_form_fields(odd, {}).error().message,
            "a field is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded")
      << "a name that is not UTF-8 is never echoed";
  Fields cut;
  cut.emplace("custom", "\xe5\xbc");  // a character cut short
  EXPECT_FALSE(check_form_fields(cut, {}).ok());
}

TEST(FlatJson, MutatedBodiesReadTheSameEitherWay) {
  const std::string base =
      R"({"appKey":"ak_123","amount":"10.00","channelId":1,"mrn":"M-1","payer":"张三","rate":96.5,"x":null,"n":-12})";
  constexpr std::string_view alphabet = "{}[]\":,.-+eE0123456789 \t\r\nntrufals\\/u\xc3\xa9\xe4\xb8\xad\xff\x80";
  std::mt19937_64 rng(20261123);
  for (int i = 0; i < 20'000; ++i) {
    std::string body = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % (body.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          if (at < body.size()) body[at] = c;
          break;
        case 1:
          body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          if (at < body.size()) body.erase(at, 1);
      }
    }
    expect_same(body);
    expect_same(body, FlatJsonOptions{.fields_max = 8});
    if (::testing::Test::HasFailure()) return;  // one body is enough to look at
  }
}

}  // namespace
}  // namespace paygate::protocols
