// The gateway wire format, tested from the document (002_c92eb9c497673d0f.txt) and DECISIONS.md (gateway, common).
// Signing strings are written out by hand from the document's 签名格式 lines; every MD5 was computed outside the
// code with `printf '%s' '<signing string>' | md5sum` and is committed here as text.
#include "protocols/gateway/codec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "http/http.h"

namespace paygate::gateway {
namespace {

constexpr std::string_view kKey = "SECRET_KEY_123";

// The document's table spellings, typed as the document has them (copied from the .txt).
constexpr std::string_view kDocAppKey = "аррКеу";
constexpr std::string_view kDocChannelId = "channelld";

Fields pay_in() {
  return Fields{
      {"amount", "10.50"},
      {"appKey", "ak_test_0001"},
      {"callbackUrl", "https://merchant.example.com/notify?x=1&y=2"},
      {"channelId", "1"},
      {"mrn", "M20240101-0001"},
      {"returnUrl", "https://merchant.example.com/return"},
      {"payer", "张三"},
      {"sign", "a5baebd6c299a16daa4868112b91ba88"},
  };
}

Fields payout() {
  return Fields{
      {"amount", "100"},
      {"appKey", "ak_test_0001"},
      {"bankName", "中国工商银行"},
      {"accountName", "张三"},
      {"accountNumber", "6222021234567890123"},
      {"mrn", "P20240101-0001"},
      {"callbackUrl", "https://merchant.example.com/payout-notify"},
      {"sign", "c11d4c513d1dfa2aa4b5a513a7b8807d"},
  };
}

Fields query() {
  return Fields{{"appKey", "ak_test_0001"}, {"mrn", "M20240101-0001"}, {"sign", "5a7e8de74ba8ae38755cf4fbe8dfa968"}};
}

// The error message of a failed Result, or a marker when it did not fail.
template <typename T>
std::string error_of(const Result<T>& r) {
  if (r.ok()) return "<ok>";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
  return r.error().message;
}

// ---- signing strings and MD5 vectors ----

TEST(GatewayCodec, PayInSigningStringFollowsTheDocumentsOrder) {
  // amount=金额&appKey=Key&callbackUrl=回调地址&channelId=通道ID&mrn=平台单号&returnUrl=返回地址&key=商户密钥;
  // payer and sign are not signed.
  const std::string expected =
      "amount=10.50&appKey=ak_test_0001&callbackUrl=https://merchant.example.com/notify?x=1&y=2&channelId=1"
      "&mrn=M20240101-0001&returnUrl=https://merchant.example.com/return&key=SECRET_KEY_123";
  EXPECT_EQ(pay_in_signing_string(pay_in(), kKey), expected);
  EXPECT_EQ(sign(expected), "a5baebd6c299a16daa4868112b91ba88");
  auto without_payer = pay_in();
  without_payer.erase("payer");
  without_payer["sign"] = "anything";
  EXPECT_EQ(pay_in_signing_string(without_payer, kKey), expected);
}

TEST(GatewayCodec, PayInSigningStringUsesTheAmountTextAsReceived) {
  // DECISIONS.md: `100`, `100.0` and `100.00` sign differently.
  auto f = pay_in();
  f["amount"] = "10.5";
  EXPECT_EQ(pay_in_signing_string(f, kKey),
            "amount=10.5&appKey=ak_test_0001&callbackUrl=https://merchant.example.com/notify?x=1&y=2&channelId=1"
            "&mrn=M20240101-0001&returnUrl=https://merchant.example.com/return&key=SECRET_KEY_123");
  EXPECT_EQ(sign(pay_in_signing_string(f, kKey)), "95a9752fa3a8cf97a0e6083e0f6faeb1");
  EXPECT_FALSE(signature_matches("a5baebd6c299a16daa4868112b91ba88", pay_in_signing_string(f, kKey)));
}

TEST(GatewayCodec, AbsentFieldsSignAsEmptyValues) {
  auto f = pay_in();
  f.erase("returnUrl");
  const std::string expected =
      "amount=10.50&appKey=ak_test_0001&callbackUrl=https://merchant.example.com/notify?x=1&y=2&channelId=1"
      "&mrn=M20240101-0001&returnUrl=&key=SECRET_KEY_123";
  EXPECT_EQ(pay_in_signing_string(f, kKey), expected);
  EXPECT_EQ(sign(expected), "f95f841d37835c5a28202013f9245453");
  auto g = pay_in();
  g["returnUrl"] = "";
  EXPECT_EQ(pay_in_signing_string(g, kKey), expected);
  EXPECT_EQ(pay_in_signing_string(Fields{}, "K"), "amount=&appKey=&callbackUrl=&channelId=&mrn=&returnUrl=&key=K");
  EXPECT_EQ(pay_in_callback_signing_string(Fields{}, "K"), "amount=&appKey=&channel=&mrn=&originAmount=&key=K");
  EXPECT_EQ(payout_signing_string(Fields{}, "K"),
            "accountName=&accountNumber=&amount=&appKey=&bankName=&callbackUrl=&mrn=&key=K");
  EXPECT_EQ(payout_callback_signing_string(Fields{}, "K"), "amount=&appKey=&mrn=&key=K");
  EXPECT_EQ(query_signing_string(Fields{}, "K"), "appKey=&mrn=&key=K");
}

TEST(GatewayCodec, PayInCallbackSigningString) {
  // amount=实际金额&appKey=商户Key&channel=通道ID&mrn=平台单号&originAmount=请求金额&key=商户密钥
  Fields f{{"amount", "10.50"},       {"appKey", "ak_test_0001"}, {"channel", "1"},
           {"mrn", "M20240101-0001"}, {"originAmount", "10.5"},   {"sign", "x"}};
  const std::string expected =
      "amount=10.50&appKey=ak_test_0001&channel=1&mrn=M20240101-0001&originAmount=10.5&key=SECRET_KEY_123";
  EXPECT_EQ(pay_in_callback_signing_string(f, kKey), expected);
  EXPECT_EQ(sign(expected), "a4f03581ee7426bf240a391952e41a10");
}

TEST(GatewayCodec, QuerySigningStringForPayInsAndPayouts) {
  // appKey=商户Key&mrn=平台单号&key=商户密钥, for /api/Payments/Query and /api/Payouts/Query alike; callback is
  // unsigned.
  auto f = query();
  f["callback"] = "true";
  EXPECT_EQ(query_signing_string(f, kKey), "appKey=ak_test_0001&mrn=M20240101-0001&key=SECRET_KEY_123");
  EXPECT_EQ(sign(query_signing_string(f, kKey)), "5a7e8de74ba8ae38755cf4fbe8dfa968");
  Fields p{{"appKey", "ak_test_0001"}, {"mrn", "P20240101-0001"}};
  EXPECT_EQ(query_signing_string(p, kKey), "appKey=ak_test_0001&mrn=P20240101-0001&key=SECRET_KEY_123");
  EXPECT_EQ(sign(query_signing_string(p, kKey)), "3b6a1799dc3901662ce38bdb47b7cc80");
}

TEST(GatewayCodec, PayoutSigningStringIsAlphabeticalAsTheDocumentWritesIt) {
  // accountName=账户名&accountNumber=卡号&amount=金额&appKey=Key&bankName=银行名称&callbackUrl=回调地址&mrn=平台单号
  // &key=商户密钥; the UTF-8 bytes of the names are hashed.
  const std::string expected =
      "accountName=张三&accountNumber=6222021234567890123&amount=100&appKey=ak_test_0001&bankName=中国工商银行"
      "&callbackUrl=https://merchant.example.com/payout-notify&mrn=P20240101-0001&key=SECRET_KEY_123";
  EXPECT_EQ(payout_signing_string(payout(), kKey), expected);
  EXPECT_EQ(sign(expected), "c11d4c513d1dfa2aa4b5a513a7b8807d");
}

TEST(GatewayCodec, PayoutCallbackSigningString) {
  // amount=实际金额&appKey=商户Key&mrn=平台单号&key=商户密钥
  Fields f{{"amount", "100"}, {"appKey", "ak_test_0001"}, {"mrn", "P20240101-0001"}};
  EXPECT_EQ(payout_callback_signing_string(f, kKey),
            "amount=100&appKey=ak_test_0001&mrn=P20240101-0001&key=SECRET_KEY_123");
  EXPECT_EQ(sign(payout_callback_signing_string(f, kKey)), "d27e75f40070b6c7166fa336fdc8c0a8");
}

TEST(GatewayCodec, SignIsLowercaseMd5Hex) {
  EXPECT_EQ(sign("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(sign(""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(GatewayCodec, SignatureComparisonIgnoresCase) {
  const std::string s = pay_in_signing_string(pay_in(), kKey);
  EXPECT_TRUE(signature_matches("a5baebd6c299a16daa4868112b91ba88", s));
  EXPECT_TRUE(signature_matches("A5BAEBD6C299A16DAA4868112B91BA88", s));
  EXPECT_TRUE(signature_matches("A5bAeBd6C299a16DAA4868112b91bA88", s));
}

TEST(GatewayCodec, WrongSignaturesAreRejected) {
  const std::string s = pay_in_signing_string(pay_in(), kKey);
  EXPECT_FALSE(signature_matches("a5baebd6c299a16daa4868112b91ba89", s));   // last digit
  EXPECT_FALSE(signature_matches("b5baebd6c299a16daa4868112b91ba88", s));   // first digit
  EXPECT_FALSE(signature_matches("a5baebd6c299a16daa4868112b91ba8", s));    // 31 characters
  EXPECT_FALSE(signature_matches("a5baebd6c299a16daa4868112b91ba880", s));  // 33 characters
  EXPECT_FALSE(signature_matches(" a5baebd6c299a16daa4868112b91ba88", s));
  EXPECT_FALSE(signature_matches("", s));
  EXPECT_FALSE(signature_matches("a5baebd6c299a16daa4868112b91ba88", pay_in_signing_string(pay_in(), "OTHER_KEY")));
  // The payout signature over the pay-in's fields, and the pay-in's over a payout's, do not match.
  EXPECT_FALSE(signature_matches("c11d4c513d1dfa2aa4b5a513a7b8807d", s));
  EXPECT_FALSE(signature_matches("a5baebd6c299a16daa4868112b91ba88", payout_signing_string(payout(), kKey)));
}

// ---- field names: the document's table spellings ----

TEST(GatewayCodec, TheTableSpellingsAreTheDocumentsLookAlikes) {
  EXPECT_EQ(kAppKeyTableSpelling, kDocAppKey);
  EXPECT_NE(kAppKeyTableSpelling, "appKey");
  EXPECT_EQ(kAppKeyTableSpelling.size(), 12u) << "six two-byte Cyrillic letters";
  EXPECT_EQ(kChannelIdTableSpelling, kDocChannelId);
  EXPECT_NE(kChannelIdTableSpelling, "channelId");
}

TEST(GatewayCodec, CyrillicAppKeyIsAcceptedAsAppKeyInAForm) {
  auto f = parse_form("amount=10.50&%D0%B0%D1%80%D1%80%D0%9A%D0%B5%D1%83=ak_test_0001&mrn=M1");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "appKey"), "ak_test_0001");
  EXPECT_FALSE(f->contains(kAppKeyTableSpelling)) << "normalized to the Latin name";
  EXPECT_EQ(query_signing_string(*f, "K"), "appKey=ak_test_0001&mrn=M1&key=K");
}

TEST(GatewayCodec, CyrillicAppKeyIsAcceptedAsAppKeyInJson) {
  auto f = parse_json(R"({"amount":"100","аррКеу":"ak_test_0001","mrn":"P1"})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "appKey"), "ak_test_0001");
  EXPECT_FALSE(f->contains(kAppKeyTableSpelling));
  EXPECT_EQ(f->size(), 3u);
}

TEST(GatewayCodec, ChannelldIsAcceptedAsChannelIdInAFormAndInJson) {
  auto form = parse_form("channelld=3&mrn=M1");
  ASSERT_TRUE(form.ok()) << form.error().message;
  EXPECT_EQ(field(*form, "channelId"), "3");
  EXPECT_FALSE(form->contains("channelld"));
  auto json = parse_json(R"({"channelld":3,"mrn":"M1"})");
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(field(*json, "channelId"), "3");
  EXPECT_FALSE(json->contains("channelld"));
}

TEST(GatewayCodec, APayInSentWithTheTableSpellingsValidatesAndSignsLikeTheLatinOne) {
  auto f = parse_json(
      R"({"amount":"10.50","аррКеу":"ak_test_0001","callbackUrl":"https://merchant.example.com/notify?x=1&y=2",)"
      R"("channelld":1,"mrn":"M20240101-0001","returnUrl":"https://merchant.example.com/return",)"
      R"("sign":"a5baebd6c299a16daa4868112b91ba88"})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto r = validate_pay_in(*f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->app_key, "ak_test_0001");
  EXPECT_EQ(r->channel_id, 1);
  EXPECT_TRUE(signature_matches(r->sign, pay_in_signing_string(*f, kKey)));
}

TEST(GatewayCodec, BothSpellingsWithTheSameValueAreOneField) {
  auto form = parse_form("appKey=ak1&%D0%B0%D1%80%D1%80%D0%9A%D0%B5%D1%83=ak1&channelId=2&channelld=2");
  ASSERT_TRUE(form.ok()) << form.error().message;
  EXPECT_EQ(field(*form, "appKey"), "ak1");
  EXPECT_EQ(field(*form, "channelId"), "2");
  EXPECT_EQ(form->size(), 2u);
  auto json = parse_json(R"({"appKey":"ak1","аррКеу":"ak1","channelId":2,"channelld":"2"})");
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(field(*json, "appKey"), "ak1");
  EXPECT_EQ(field(*json, "channelId"), "2");
  EXPECT_EQ(json->size(), 2u);
}

TEST(GatewayCodec, BothSpellingsWithDifferentValuesAreInvalidData) {
  EXPECT_EQ(error_of(parse_form("appKey=ak1&%D0%B0%D1%80%D1%80%D0%9A%D0%B5%D1%83=ak2")),
            "appKey is sent twice with different values, as appKey and as аррКеу (the document table's spelling); "
            "send it once, as appKey");
  EXPECT_EQ(error_of(parse_json(R"({"аррКеу":"ak2","appKey":"ak1"})")),
            "appKey is sent twice with different values, as appKey and as аррКеу (the document table's spelling); "
            "send it once, as appKey");
  EXPECT_EQ(error_of(parse_form("channelId=1&channelld=2")),
            "channelId is sent twice with different values, as channelId and as channelld (the document table's "
            "spelling); send it once, as channelId");
  EXPECT_EQ(error_of(parse_json(R"({"channelId":1,"channelld":1.0})")),
            "channelId is sent twice with different values, as channelId and as channelld (the document table's "
            "spelling); send it once, as channelId");
}

TEST(GatewayCodec, OnlyTheDocumentsExactLookAlikesAreAliases) {
  // Half-Cyrillic "aррКеу" (Latin a) and other spellings are just unknown fields.
  auto f = parse_form("a%D1%80%D1%80%D0%9A%D0%B5%D1%83=ak&appkey=ak&channelid=1&ChannelId=1");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_FALSE(f->contains("appKey"));
  EXPECT_FALSE(f->contains("channelId"));
  EXPECT_EQ(error_of(validate_query(*f)), "missing required field appKey");
}

// ---- parsing ----

TEST(GatewayCodec, ParseFormDecodesUtf8AndEscapes) {
  auto f = parse_form(
      "amount=10.50&callbackUrl=https%3A%2F%2Fm.example.com%2Fn%3Fa%3D1%26b%3D2&payer=%E5%BC%A0%E4%B8%89&mrn=A%2BB+C"
      "&empty=");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "amount"), "10.50");
  EXPECT_EQ(field(*f, "callbackUrl"), "https://m.example.com/n?a=1&b=2");
  EXPECT_EQ(field(*f, "payer"), "张三");
  EXPECT_EQ(field(*f, "mrn"), "A+B C");
  EXPECT_TRUE(f->contains("empty"));
  EXPECT_EQ(field(*f, "absent"), "");
}

TEST(GatewayCodec, ParseFormRejectsRepeatedFieldsAndBadEscapes) {
  EXPECT_EQ(error_of(parse_form("mrn=a&amount=1&mrn=b")), "field mrn appears more than once; send each field once");
  EXPECT_EQ(error_of(parse_form("mrn=a&mrn=a")), "field mrn appears more than once; send each field once");
  EXPECT_EQ(error_of(parse_form("%FF%FE=1&%FF%FE=2")), "a field appears more than once; send each field once");
  EXPECT_EQ(
      error_of(parse_form("mrn=%ZZ")),
      "request body is not a valid form: malformed percent-escape at offset 4 (expected %XX with two hex digits)");
  std::string many;
  for (int i = 0; i < 65; ++i) many += "f" + std::to_string(i) + "=1&";
  EXPECT_EQ(error_of(parse_form(many)), "request body is not a valid form: too many form fields (at most 64)");
}

TEST(GatewayCodec, ParseJsonTakesStringsAndNumbersAsTextAndNullAsAbsent) {
  auto f = parse_json(
      R"({"amount":100,"appKey":"ak","mrn":"M\u0031","payer":null,"bankName":"\u4e2d\u56fd","accountName":"",)"
      R"("channelId":3})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "amount"), "100");
  EXPECT_EQ(field(*f, "appKey"), "ak");
  EXPECT_EQ(field(*f, "mrn"), "M1");
  EXPECT_FALSE(f->contains("payer"));
  EXPECT_EQ(field(*f, "bankName"), "中国");
  EXPECT_TRUE(f->contains("accountName"));
  EXPECT_EQ(field(*f, "channelId"), "3");
  EXPECT_EQ(f->size(), 6u);
}

// DECISIONS.md: signatures are over the values exactly as received, never over a re-formatted number.
TEST(GatewayCodec, ParseJsonKeepsEveryNumbersTextExactly) {
  auto f =
      parse_json(R"({"a":10.50,"b":10.0,"c":1e2,"d":1.0E+2,"e":-0,"f":0,"g":-12,"h":12345678901234567890123,"i":0.010,)"
                 R"("j":18446744073709551615,"k":-9223372036854775808,"l":100.00})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "a"), "10.50");
  EXPECT_EQ(field(*f, "b"), "10.0");
  EXPECT_EQ(field(*f, "c"), "1e2");
  EXPECT_EQ(field(*f, "d"), "1.0E+2");
  EXPECT_EQ(field(*f, "e"), "-0");
  EXPECT_EQ(field(*f, "f"), "0");
  EXPECT_EQ(field(*f, "g"), "-12");
  EXPECT_EQ(field(*f, "h"), "12345678901234567890123");
  EXPECT_EQ(field(*f, "i"), "0.010");
  EXPECT_EQ(field(*f, "j"), "18446744073709551615");
  EXPECT_EQ(field(*f, "k"), "-9223372036854775808");
  EXPECT_EQ(field(*f, "l"), "100.00");
  // And a JSON number amount signs as its text.
  auto p = parse_json(
      R"({"amount":10.50,"appKey":"ak_test_0001","callbackUrl":"https://merchant.example.com/notify?x=1&y=2",)"
      R"("channelId":1,"mrn":"M20240101-0001","returnUrl":"https://merchant.example.com/return"})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(sign(pay_in_signing_string(*p, kKey)), "a5baebd6c299a16daa4868112b91ba88");
}

TEST(GatewayCodec, ParseJsonRejectsNestedValuesAndBooleans) {
  EXPECT_EQ(error_of(parse_json(R"({"mrn":"M1","extra":{"a":1}})")),
            "field extra must be a string or a number, not an object, array or boolean");
  EXPECT_EQ(error_of(parse_json(R"({"amount":[10]})")),
            "field amount must be a string or a number, not an object, array or boolean");
  EXPECT_EQ(error_of(parse_json(R"({"callback":true})")),
            "field callback must be a string or a number, not an object, array or boolean");
  EXPECT_EQ(error_of(parse_json(R"({"x y":{}})")),
            "a field must be a string or a number, not an object, array or boolean");
}

TEST(GatewayCodec, ParseJsonRejectsDuplicateMembers) {
  EXPECT_EQ(error_of(parse_json(R"({"mrn":"a","amount":"1","mrn":"b"})")),
            "field mrn appears more than once in the JSON object; send each field once");
  EXPECT_EQ(error_of(parse_json(R"({"mrn":"a","mrn":"a"})")),
            "field mrn appears more than once in the JSON object; send each field once");
  EXPECT_EQ(error_of(parse_json(R"({"payer":null,"payer":"x"})")),
            "field payer appears more than once in the JSON object; send each field once");
}

TEST(GatewayCodec, ParseJsonRejectsBytesThatAreNotUtf8) {
  for (std::string_view body : {std::string_view("{\"payer\":\"\xff\"}"),
                                std::string_view("{\"payer\":\"\xc0\xaf\"}"),      // overlong '/'
                                std::string_view("{\"payer\":\"\xed\xa0\x80\"}"),  // a surrogate
                                std::string_view("{\"payer\":\"\xe5\xbc\"}"),      // truncated
                                std::string_view("{\"\xd0\":\"1\"}")}) {           // in a name
    std::string message = error_of(parse_json(body));
    EXPECT_TRUE(message.starts_with("request body is not UTF-8 (line 1, column ")) << message;
    EXPECT_TRUE(message.ends_with("): send JSON encoded in UTF-8")) << message;
    EXPECT_EQ(message.find('\xff'), std::string::npos) << "the offending bytes are not echoed";
  }
  // Escapes must make whole characters too.
  EXPECT_TRUE(error_of(parse_json(R"({"payer":"\ud800"})")).starts_with("request body is not valid JSON: line 1"));
  EXPECT_EQ(error_of(parse_json(R"({"payer":"\ud83d\ude00"})")), "<ok>");
}

TEST(GatewayCodec, ParseJsonRejectsMalformedJsonAndNonObjects) {
  EXPECT_EQ(error_of(parse_json(R"({"a":)")),
            "request body is not valid JSON: line 1, column 6: syntax error while parsing value - unexpected end of "
            "input; expected '[', '{', or a literal");
  EXPECT_EQ(error_of(parse_json("{a:1}")),
            "request body is not valid JSON: line 1, column 2: syntax error while parsing object key - invalid "
            "literal; expected string literal");
  EXPECT_EQ(error_of(parse_json(R"({"a":1e999})")), "request body is not valid JSON: number overflow parsing '1e999'");
  for (const char* body : {"{\"a\":1,}", "", "{\"a\":\"1\"} trailing", "{'a':1}"}) {
    EXPECT_TRUE(error_of(parse_json(body)).starts_with("request body is not valid JSON: line 1, column ")) << body;
  }
  for (const char* body : {"[1,2]", "\"text\"", "42", "null", "true"}) {
    EXPECT_EQ(error_of(parse_json(body)), "request body must be a JSON object whose members are the request fields")
        << body;
  }
  EXPECT_EQ(error_of(parse_json(" \r\n{}\n")), "<ok>");
}

TEST(GatewayCodec, ParseJsonBoundsTheNumberOfMembers) {
  std::string body = "{";
  for (int i = 0; i < 64; ++i) body += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  EXPECT_EQ(error_of(parse_json(body + "}")), "<ok>");
  EXPECT_EQ(error_of(parse_json(body + ",\"g\":1}")), "request body has more than 64 fields");
}

TEST(GatewayCodec, ParseBodyPicksJsonOrFormFromTheContentTypeOrTheBody) {
  auto json = parse_body("application/json; charset=utf-8", R"({"mrn":"M1"})");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(field(*json, "mrn"), "M1");
  auto sniffed = parse_body("text/plain", " \n{\"mrn\":\"M2\"}");
  ASSERT_TRUE(sniffed.ok());
  EXPECT_EQ(field(*sniffed, "mrn"), "M2");
  auto form = parse_body("application/x-www-form-urlencoded; charset=UTF-8", "mrn=M3");
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(field(*form, "mrn"), "M3");
  EXPECT_EQ(error_of(parse_body("application/json", "mrn=M3")).substr(0, 31), "request body is not valid JSON:");
}

// ---- pay-in validation ----

TEST(GatewayCodec, ValidPayIn) {
  auto r = validate_pay_in(pay_in());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->amount, Money::from_fen(1050));
  EXPECT_EQ(r->amount_text, "10.50");
  EXPECT_EQ(r->app_key, "ak_test_0001");
  EXPECT_EQ(r->callback_url, "https://merchant.example.com/notify?x=1&y=2");
  EXPECT_EQ(r->channel_id, 1);
  EXPECT_EQ(r->mrn, "M20240101-0001");
  EXPECT_EQ(r->return_url, "https://merchant.example.com/return");
  EXPECT_EQ(r->payer, "张三");
  EXPECT_EQ(r->sign, "a5baebd6c299a16daa4868112b91ba88");
  EXPECT_TRUE(signature_matches(r->sign, pay_in_signing_string(pay_in(), kKey)));
}

TEST(GatewayCodec, PayInMissingRequiredFieldsAreNamed) {
  for (const char* name : {"amount", "appKey", "callbackUrl", "channelId", "mrn", "returnUrl", "sign"}) {
    auto absent = pay_in();
    absent.erase(name);
    EXPECT_EQ(error_of(validate_pay_in(absent)), std::string("missing required field ") + name);
    auto empty = pay_in();
    empty[name] = "";
    EXPECT_EQ(error_of(validate_pay_in(empty)), std::string("missing required field ") + name);
  }
  // The first in the document's order is reported; presence comes before the values.
  EXPECT_EQ(error_of(validate_pay_in(Fields{})), "missing required field amount");
  auto f = pay_in();
  f["amount"] = "abc";
  f.erase("mrn");
  EXPECT_EQ(error_of(validate_pay_in(f)), "missing required field mrn");
}

struct AmountCase {
  const char* text;
  int64_t fen;
};
struct BadAmountCase {
  const char* text;
  const char* message;
};

TEST(GatewayCodec, PayInAmountTable) {
  for (const AmountCase& c : {AmountCase{"10", 1000},
                              {"10.5", 1050},
                              {"10.50", 1050},
                              {"0.01", 1},
                              {"0.5", 50},
                              {"0.10", 10},
                              {"1.0", 100},
                              {"1.00", 100},
                              {"99999999.99", 9'999'999'999},
                              {"100000000", 10'000'000'000},
                              {"100000000.00", 10'000'000'000}}) {
    auto m = parse_pay_in_amount(c.text);
    ASSERT_TRUE(m.ok()) << c.text << ": " << m.error().message;
    EXPECT_EQ(m->fen(), c.fen) << c.text;
  }
  const char* kGrammar =
      "amount must be yuan written with digits and an optional decimal point, e.g. 10 or 10.50 (no spaces, exponent "
      "or thousands separators)";
  const char* kNoSign = "amount must be a positive number of yuan written without a sign, e.g. 10.50";
  const char* kZero = "amount must be greater than 0";
  const char* kTooLarge = "amount must not exceed 100000000.00 yuan";
  for (const BadAmountCase& c : {
           BadAmountCase{"0", kZero},
           {"0.0", kZero},
           {"0.00", kZero},
           {"-1", kNoSign},
           {"-0.01", kNoSign},
           {"+1", kNoSign},
           {"1.234", "amount has more than two decimals: yuan are counted to the fen (0.01)"},
           {"10.500", "amount has more than two decimals: yuan are counted to the fen (0.01)"},
           {"1e2", kGrammar},
           {"1E2", kGrammar},
           {".5", "amount must start with a digit: write 0.5, not .5"},
           {"5.", "amount must not end with a decimal point: write 5 or 5.00"},
           {" 1", kGrammar},
           {"1 ", kGrammar},
           {"abc", kGrammar},
           {"1,000", kGrammar},
           {"1.2.3", kGrammar},
           {"0x10", kGrammar},
           {"１０", kGrammar},  // full-width digits
           {"", "amount is empty"},
           {"010", "amount must not have leading zeros: write 10, not 010"},
           {"00.50", "amount must not have leading zeros: write 0.50, not 00.50"},
           {"000", "amount must not have leading zeros: write 0, not 000"},
           {"0010.00", "amount must not have leading zeros: write 10.00, not 0010.00"},
           {"100000000.01", kTooLarge},
           {"1000000000", kTooLarge},
           {"99999999999999999999", kTooLarge},
           {"99999999999999999999999999999999.99", kTooLarge},
       }) {
    EXPECT_EQ(error_of(parse_pay_in_amount(c.text)), c.message) << "amount \"" << c.text << "\"";
  }
  // In a request the same rules apply.
  auto f = pay_in();
  f["amount"] = "1e2";
  EXPECT_EQ(error_of(validate_pay_in(f)), kGrammar);
}

TEST(GatewayCodec, ChannelIdIsAnIdOfTheChannelTable) {
  for (int id = 1; id <= 15; ++id) {
    auto r = parse_channel_id(std::to_string(id));
    ASSERT_TRUE(r.ok()) << id;
    EXPECT_EQ(*r, id);
  }
  const char* kDigits = "channelId must be an integer written with digits only: an id from the channel table, 1 to 15";
  const char* kRange = "channelId must be an id from the channel table, 1 to 15";
  for (const BadAmountCase& c : {BadAmountCase{"0", kRange},
                                 {"16", kRange},
                                 {"99", kRange},
                                 {"100", kRange},
                                 {"99999999999999999999", kRange},
                                 {"01", kDigits},
                                 {"-1", kDigits},
                                 {"1.0", kDigits},
                                 {"1e0", kDigits},
                                 {" 1", kDigits},
                                 {"abc", kDigits},
                                 {"", "channelId is empty"}}) {
    EXPECT_EQ(error_of(parse_channel_id(c.text)), c.message) << "channelId \"" << c.text << "\"";
  }
  auto f = pay_in();
  f["channelId"] = "16";
  EXPECT_EQ(error_of(validate_pay_in(f)), kRange);
}

TEST(GatewayCodec, ChannelTableIsTheDocuments) {
  // 充值通道表, copied from the document.
  const std::pair<int, std::string_view> kDocument[] = {
      {1, "微信"},        {2, "支付宝"},         {3, "银行卡"},        {4, "支付宝红包"},
      {5, "云闪付"},      {6, "支付宝转银行卡"}, {7, "支付宝wap"},     {8, "微信wap"},
      {9, "支付宝跳转"},  {10, "微信跳转"},      {11, "微信手机转账"}, {12, "支付宝转卡飞行模式"},
      {13, "微信赞赏码"}, {14, "支付宝固码"},    {15, "支付宝群红包"},
  };
  ASSERT_EQ(kChannels.size(), 15u);
  std::set<std::string_view> english;
  for (size_t i = 0; i < kChannels.size(); ++i) {
    EXPECT_EQ(kChannels[i].id, kDocument[i].first);
    EXPECT_EQ(kChannels[i].name_zh, kDocument[i].second);
    EXPECT_FALSE(kChannels[i].name_en.empty());
    english.insert(kChannels[i].name_en);
    ASSERT_NE(find_channel(kChannels[i].id), nullptr);
    EXPECT_EQ(find_channel(kChannels[i].id)->name_zh, kDocument[i].second);
  }
  EXPECT_EQ(english.size(), 15u) << "English names are distinct";
  EXPECT_EQ(find_channel(1)->name_en, "WeChat Pay");
  EXPECT_EQ(find_channel(2)->name_en, "Alipay");
  EXPECT_EQ(find_channel(0), nullptr);
  EXPECT_EQ(find_channel(16), nullptr);
  EXPECT_EQ(find_channel(-1), nullptr);
}

TEST(GatewayCodec, MrnIsOneTo64PrintableAsciiCharacters) {
  auto with_mrn = [](std::string mrn) {
    auto f = pay_in();
    f["mrn"] = std::move(mrn);
    return validate_pay_in(f);
  };
  for (std::string ok : {std::string("1"), std::string(64, 'm'), std::string("A-b_c.d:e/f#1"),
                         std::string("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")}) {
    auto r = with_mrn(ok);
    ASSERT_TRUE(r.ok()) << ok << ": " << r.error().message;
    EXPECT_EQ(r->mrn, ok);
  }
  EXPECT_EQ(error_of(with_mrn(std::string(65, 'm'))), "mrn is longer than 64 characters");
  const char* kChars = "mrn must be printable ASCII without spaces (letters, digits and punctuation)";
  for (std::string bad :
       {std::string("M 1"), std::string("M\t1"), std::string("订单1"), std::string("M\x7f"), std::string("M\n")}) {
    EXPECT_EQ(error_of(with_mrn(bad)), kChars) << bad;
  }
  // 22 Chinese characters are 66 bytes: the message is about the characters, not the length.
  std::string chinese;
  for (int i = 0; i < 22; ++i) chinese += "单";
  EXPECT_EQ(error_of(with_mrn(chinese)), kChars);
}

TEST(GatewayCodec, AppKeyIsPrintableAsciiUpTo64) {
  auto f = pay_in();
  f["appKey"] = std::string(64, 'k');
  EXPECT_TRUE(validate_pay_in(f).ok());
  const char* kMessage =
      "appKey must be at most 64 printable ASCII characters without spaces: use the appKey your account was given";
  for (std::string bad : {std::string(65, 'k'), std::string("ak 1"), std::string("密钥")}) {
    f["appKey"] = bad;
    EXPECT_EQ(error_of(validate_pay_in(f)), kMessage) << bad;
    auto q = query();
    q["appKey"] = bad;
    EXPECT_EQ(error_of(validate_query(q)), kMessage) << bad;
  }
}

TEST(GatewayCodec, UrlsAreAbsoluteHttpOrHttpsUpTo1024Bytes) {
  for (const char* name : {"callbackUrl", "returnUrl"}) {
    auto with = [&](std::string url) {
      auto f = pay_in();
      f[name] = std::move(url);
      return validate_pay_in(f);
    };
    for (std::string ok : {std::string("http://m.example.com/n"), std::string("https://m.example.com:8443/n?a=1&b=2"),
                           std::string("https://10.0.0.5/n"), std::string("HTTPS://M.EXAMPLE.COM/")}) {
      EXPECT_EQ(error_of(with(ok)), "<ok>") << name << " " << ok;
    }
    const std::string prefix = "https://m.example.com/";
    EXPECT_EQ(error_of(with(prefix + std::string(1024 - prefix.size(), 'a'))), "<ok>");
    EXPECT_EQ(error_of(with(prefix + std::string(1025 - prefix.size(), 'a'))),
              std::string(name) + " is longer than 1024 bytes");
    const std::string must = std::string(name) + " must be an absolute http:// or https:// URL: ";
    EXPECT_EQ(error_of(with("ftp://m.example.com/n")), must + "unsupported URL scheme 'ftp' (only http and https)");
    EXPECT_EQ(error_of(with("/api/notify")), must + "URL must start with http:// or https://");
    EXPECT_EQ(error_of(with("m.example.com/notify")), must + "URL must start with http:// or https://");
    EXPECT_EQ(error_of(with("javascript:alert(1)")), must + "URL must start with http:// or https://");
    EXPECT_EQ(error_of(with("https://")), must + "URL has no host");
    EXPECT_EQ(error_of(with("https://m.example.com/a b")),
              must + "URL contains whitespace, control or non-ASCII characters");
    EXPECT_EQ(error_of(with("https://user:pw@m.example.com/")), must + "URL must not contain user information");
  }
}

TEST(GatewayCodec, PayerIsOptionalUnsignedAndBounded) {
  auto f = pay_in();
  f.erase("payer");
  auto r = validate_pay_in(f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->payer, "");
  const std::string signed_without = pay_in_signing_string(f, kKey);
  f["payer"] = "李四 Li Si";
  EXPECT_EQ(pay_in_signing_string(f, kKey), signed_without) << "payer is not signed";
  EXPECT_EQ(validate_pay_in(f)->payer, "李四 Li Si");
  f["payer"] = std::string(128, 'p');
  EXPECT_TRUE(validate_pay_in(f).ok());
  f["payer"] = std::string(129, 'p');
  EXPECT_EQ(error_of(validate_pay_in(f)), "payer is longer than 128 bytes (UTF-8)");
  std::string chinese;
  for (int i = 0; i < 43; ++i) chinese += "张";  // 129 bytes in 43 characters
  f["payer"] = chinese;
  EXPECT_EQ(error_of(validate_pay_in(f)), "payer is longer than 128 bytes (UTF-8)");
  f["payer"] = "\xd5\xc5\xc8\xfd";  // 张三 in GBK
  EXPECT_EQ(error_of(validate_pay_in(f)), "payer is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded");
  f["payer"] = "Li\nSi";
  EXPECT_EQ(error_of(validate_pay_in(f)), "payer must not contain control characters or line breaks");
}

TEST(GatewayCodec, PayInFormAsAPageWouldPostIt) {
  auto f = parse_form(
      "amount=10.50&appKey=ak_test_0001&callbackUrl=https%3A%2F%2Fmerchant.example.com%2Fnotify%3Fx%3D1%26y%3D2"
      "&channelId=1&mrn=M20240101-0001&returnUrl=https%3A%2F%2Fmerchant.example.com%2Freturn"
      "&payer=%E5%BC%A0%E4%B8%89&sign=A5BAEBD6C299A16DAA4868112B91BA88");
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto r = validate_pay_in(*f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->payer, "张三");
  EXPECT_TRUE(signature_matches(r->sign, pay_in_signing_string(*f, kKey)));
}

// ---- payout validation ----

TEST(GatewayCodec, ValidPayout) {
  auto r = validate_payout(payout());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->amount, Money::from_fen(10000));
  EXPECT_EQ(r->amount_text, "100");
  EXPECT_EQ(r->app_key, "ak_test_0001");
  EXPECT_EQ(r->bank_name, "中国工商银行");
  EXPECT_EQ(r->account_name, "张三");
  EXPECT_EQ(r->account_number, "6222021234567890123");
  EXPECT_EQ(r->mrn, "P20240101-0001");
  EXPECT_EQ(r->callback_url, "https://merchant.example.com/payout-notify");
  EXPECT_TRUE(signature_matches(r->sign, payout_signing_string(payout(), kKey)));
}

TEST(GatewayCodec, PayoutFromJsonWithANumberAmount) {
  auto f = parse_json(
      R"({"amount":100,"appKey":"ak_test_0001","bankName":"中国工商银行","accountName":"\u5f20\u4e09",)"
      R"("accountNumber":"6222021234567890123","mrn":"P20240101-0001",)"
      R"("callbackUrl":"https://merchant.example.com/payout-notify","sign":"C11D4C513D1DFA2AA4B5A513A7B8807D"})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto r = validate_payout(*f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->amount, Money::from_fen(10000));
  EXPECT_EQ(r->account_name, "张三");
  EXPECT_TRUE(signature_matches(r->sign, payout_signing_string(*f, kKey)));
}

TEST(GatewayCodec, PayoutMissingRequiredFieldsAreNamed) {
  for (const char* name :
       {"amount", "appKey", "bankName", "accountName", "accountNumber", "mrn", "callbackUrl", "sign"}) {
    auto absent = payout();
    absent.erase(name);
    EXPECT_EQ(error_of(validate_payout(absent)), std::string("missing required field ") + name);
    auto empty = payout();
    empty[name] = "";
    EXPECT_EQ(error_of(validate_payout(empty)), std::string("missing required field ") + name);
  }
}

TEST(GatewayCodec, PayoutAmountIsAWholeNumberOfYuan) {
  for (const AmountCase& c : {AmountCase{"1", 100}, {"10", 1000}, {"100", 10000}, {"100000000", 10'000'000'000}}) {
    auto m = parse_payout_amount(c.text);
    ASSERT_TRUE(m.ok()) << c.text << ": " << m.error().message;
    EXPECT_EQ(m->fen(), c.fen) << c.text;
  }
  const char* kDecimals =
      "amount must be a whole number of yuan without a decimal point (the document: 必须是整数, 单位:元): write 10, "
      "not 10.0 or 10.00";
  const char* kDigits = "amount must be a whole number of yuan written with digits only, e.g. 100";
  const char* kNoSign = "amount must be a positive whole number of yuan written without a sign, e.g. 100";
  const char* kTooLarge = "amount must not exceed 100000000 yuan";
  for (const BadAmountCase& c : {
           BadAmountCase{"10.0", kDecimals},
           {"10.00", kDecimals},
           {"10.5", kDecimals},
           {"0.5", kDecimals},
           {"10.", kDecimals},
           {"0", "amount must be greater than 0"},
           {"-5", kNoSign},
           {"+5", kNoSign},
           {"-0", kNoSign},
           {"1e2", kDigits},
           {" 10", kDigits},
           {"10 ", kDigits},
           {"abc", kDigits},
           {"", "amount is empty"},
           {"010", "amount must not have leading zeros: write 10, not 010"},
           {"100000001", kTooLarge},
           {"1000000000", kTooLarge},
           {"99999999999999999999999", kTooLarge},
       }) {
    EXPECT_EQ(error_of(parse_payout_amount(c.text)), c.message) << "amount \"" << c.text << "\"";
  }
  // A JSON number 10.0 is the text "10.0" and is rejected the same way.
  auto f = parse_json(R"({"amount":10.0})");
  ASSERT_TRUE(f.ok());
  auto p = payout();
  p["amount"] = field(*f, "amount");
  EXPECT_EQ(error_of(validate_payout(p)), kDecimals);
}

TEST(GatewayCodec, PayoutBankTextFields) {
  for (const char* name : {"bankName", "accountName"}) {
    auto f = payout();
    f[name] = std::string(128, 'b');
    EXPECT_EQ(error_of(validate_payout(f)), "<ok>") << name;
    f[name] = "Industrial and Commercial Bank of China (Asia) Ltd.";
    EXPECT_EQ(error_of(validate_payout(f)), "<ok>") << name;
    f[name] = std::string(129, 'b');
    EXPECT_EQ(error_of(validate_payout(f)), std::string(name) + " is longer than 128 bytes (UTF-8)");
    f[name] = "\xd6\xd0\xb9\xfa";  // 中国 in GBK
    EXPECT_EQ(error_of(validate_payout(f)),
              std::string(name) + " is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded");
    f[name] = "a\tb";
    EXPECT_EQ(error_of(validate_payout(f)), std::string(name) + " must not contain control characters or line breaks");
  }
}

TEST(GatewayCodec, PayoutAccountNumberIs8To32Digits) {
  for (std::string ok :
       {std::string("12345678"), std::string(32, '9'), std::string("0123456789"), std::string("6222021234567890123")}) {
    auto f = payout();
    f["accountNumber"] = ok;
    EXPECT_EQ(error_of(validate_payout(f)), "<ok>") << ok;
  }
  for (std::string bad :
       {std::string("1234567"), std::string(33, '9'), std::string("6222 0212 3456 7890"),
        std::string("6222-0212-3456-7890"), std::string("62220212345678X"), std::string("６２２２０２１２")}) {
    auto f = payout();
    f["accountNumber"] = bad;
    EXPECT_EQ(error_of(validate_payout(f)), "accountNumber must be 8 to 32 digits, without spaces or dashes") << bad;
  }
}

TEST(GatewayCodec, PayoutMrnAndCallbackUrlRules) {
  auto f = payout();
  f["mrn"] = std::string(65, 'p');
  EXPECT_EQ(error_of(validate_payout(f)), "mrn is longer than 64 characters");
  f = payout();
  f["callbackUrl"] = "merchant.example.com";
  EXPECT_EQ(error_of(validate_payout(f)),
            "callbackUrl must be an absolute http:// or https:// URL: URL must start with http:// or https://");
}

// ---- query validation ----

TEST(GatewayCodec, ValidQueryAndTheCallbackFlag) {
  auto r = validate_query(query());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->app_key, "ak_test_0001");
  EXPECT_EQ(r->mrn, "M20240101-0001");
  EXPECT_FALSE(r->callback);
  EXPECT_EQ(r->sign, "5a7e8de74ba8ae38755cf4fbe8dfa968");
  for (const char* yes : {"true", "True", "TRUE"}) {
    auto f = query();
    f["callback"] = yes;
    ASSERT_TRUE(validate_query(f).ok()) << yes;
    EXPECT_TRUE(validate_query(f)->callback) << yes;
  }
  for (const char* no : {"false", "False", ""}) {
    auto f = query();
    f["callback"] = no;
    ASSERT_TRUE(validate_query(f).ok()) << no;
    EXPECT_FALSE(validate_query(f)->callback) << no;
  }
  for (const char* bad : {"1", "yes", " true", "truee"}) {
    auto f = query();
    f["callback"] = bad;
    EXPECT_EQ(error_of(validate_query(f)), "callback must be true or false") << bad;
  }
  // As the query string arrives.
  auto qs = parse_form("appKey=ak_test_0001&mrn=M20240101-0001&sign=5a7e8de74ba8ae38755cf4fbe8dfa968&callback=true");
  ASSERT_TRUE(qs.ok());
  auto q = validate_query(*qs);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_TRUE(q->callback);
  EXPECT_TRUE(signature_matches(q->sign, query_signing_string(*qs, kKey)));
}

TEST(GatewayCodec, QueryMissingFieldsAreNamed) {
  for (const char* name : {"appKey", "mrn", "sign"}) {
    auto f = query();
    f.erase(name);
    EXPECT_EQ(error_of(validate_query(f)), std::string("missing required field ") + name);
  }
  auto f = query();
  f["mrn"] = std::string(65, 'm');
  EXPECT_EQ(error_of(validate_query(f)), "mrn is longer than 64 characters");
}

// ---- responses, byte for byte ----

TEST(GatewayCodec, PayUrlIsPathAndQueryOnly) {
  EXPECT_EQ(pay_url("P1700000000000123456", 1), "/api/Pay?id=P1700000000000123456&channel=1");
  EXPECT_EQ(pay_url("P17", 15), "/api/Pay?id=P17&channel=15");
  EXPECT_EQ(pay_url("a b&c=d/é", 3), "/api/Pay?id=a%20b%26c%3Dd%2F%C3%A9&channel=3");
}

TEST(GatewayCodec, PayInResponsesExactBytes) {
  EXPECT_EQ(pay_in_ok_json(pay_url("P1700000000000123456", 2)),
            R"({"success":true,"errorMsg":"","payUrl":"/api/Pay?id=P1700000000000123456&channel=2"})");
  EXPECT_EQ(pay_in_error_json("missing required field mrn"),
            R"({"success":false,"errorMsg":"missing required field mrn","payUrl":""})");
  EXPECT_EQ(pay_in_error_json(""), R"({"success":false,"errorMsg":"","payUrl":""})");
  auto parsed = nlohmann::json::parse(pay_in_ok_json("/api/Pay?id=1&channel=1"));
  EXPECT_TRUE(parsed["success"].is_boolean());
  EXPECT_EQ(parsed["payUrl"], "/api/Pay?id=1&channel=1");
}

TEST(GatewayCodec, PayoutResponsesForEveryCodeExactBytes) {
  EXPECT_EQ(payout_ok_json(), R"({"error":"success","errorMessage":""})");
  EXPECT_EQ(payout_error_json(WireError::kInvalidData, "missing required field bankName"),
            R"({"error":"invalid_data","errorMessage":"missing required field bankName"})");
  EXPECT_EQ(payout_error_json(WireError::kSignError, "bad sign"),
            R"({"error":"sign_error","errorMessage":"bad sign"})");
  EXPECT_EQ(payout_error_json(WireError::kMrnDuplication, "mrn P1 was already used"),
            R"({"error":"mrn_duplication","errorMessage":"mrn P1 was already used"})");
  EXPECT_EQ(payout_error_json(WireError::kInsufficientBalance, "available balance 50.00 is less than 100.00"),
            R"({"error":"insufficient_balance","errorMessage":"available balance 50.00 is less than 100.00"})");
  EXPECT_EQ(payout_error_json(WireError::kObjectNotFound, "unknown appKey"),
            R"({"error":"object_not_found","errorMessage":"unknown appKey"})");
}

TEST(GatewayCodec, WireErrorNamesAreTheDocumentsCodes) {
  EXPECT_EQ(wire_error_name(WireError::kInvalidData), "invalid_data");
  EXPECT_EQ(wire_error_name(WireError::kSignError), "sign_error");
  EXPECT_EQ(wire_error_name(WireError::kMrnDuplication), "mrn_duplication");
  EXPECT_EQ(wire_error_name(WireError::kInsufficientBalance), "insufficient_balance");
  EXPECT_EQ(wire_error_name(WireError::kObjectNotFound), "object_not_found");
}

TEST(GatewayCodec, QueryResponsesExactBytes) {
  EXPECT_EQ(query_ok_json("M20240101-0001", QueryStatus::kWaiting),
            R"({"error":"success","result":{"Mrn":"M20240101-0001","status":0}})");
  EXPECT_EQ(query_ok_json("M20240101-0001", QueryStatus::kSucceeded),
            R"({"error":"success","result":{"Mrn":"M20240101-0001","status":1}})");
  EXPECT_EQ(query_ok_json("P1", QueryStatus::kFailed), R"({"error":"success","result":{"Mrn":"P1","status":2}})");
  auto parsed = nlohmann::json::parse(query_ok_json("M1", QueryStatus::kSucceeded));
  EXPECT_TRUE(parsed["result"]["status"].is_number_integer());
  EXPECT_EQ(parsed["result"]["Mrn"], "M1");

  EXPECT_EQ(query_error_json(WireError::kSignError, "bad sign"),
            R"({"error":"sign_error","errorMessage":"bad sign","result":null})");
  EXPECT_EQ(query_error_json(WireError::kObjectNotFound, "no order with mrn M1"),
            R"({"error":"object_not_found","errorMessage":"no order with mrn M1","result":null})");
  EXPECT_EQ(query_error_json(WireError::kInvalidData, "missing required field mrn"),
            R"({"error":"invalid_data","errorMessage":"missing required field mrn","result":null})");
}

TEST(GatewayCodec, JsonStringsAreEscaped) {
  EXPECT_EQ(pay_in_error_json("say \"hi\" \\ back\\slash"),
            R"({"success":false,"errorMsg":"say \"hi\" \\ back\\slash","payUrl":""})");
  EXPECT_EQ(pay_in_error_json("a\nb\rc\td\be\ff"), R"({"success":false,"errorMsg":"a\nb\rc\td\be\ff","payUrl":""})");
  EXPECT_EQ(payout_error_json(WireError::kInvalidData, std::string_view("\x01\x1f\0", 3)),
            R"({"error":"invalid_data","errorMessage":"\u0001\u001f\u0000"})");
  // Non-ASCII is passed through as UTF-8; '/' is not escaped.
  EXPECT_EQ(payout_error_json(WireError::kInvalidData, "余额不足 / 张三"),
            "{\"error\":\"invalid_data\",\"errorMessage\":\"余额不足 / 张三\"}");
  EXPECT_EQ(query_ok_json("订单\"1", QueryStatus::kWaiting),
            R"({"error":"success","result":{"Mrn":"订单\"1","status":0}})");
  // Bytes that are not UTF-8 never break the document.
  EXPECT_EQ(pay_in_error_json("bad \xff byte"),
            "{\"success\":false,\"errorMsg\":\"bad \xef\xbf\xbd byte\",\"payUrl\":\"\"}");
  for (const std::string& body :
       {pay_in_error_json("x\"\\\n\x01\xe4\xb8\xad"), query_ok_json("\"\\", QueryStatus::kFailed),
        payout_error_json(WireError::kSignError, "\t\"")}) {
    EXPECT_TRUE(nlohmann::json::accept(body)) << body;
  }
}

// ---- callbacks ----

TEST(GatewayCodec, PayInCallbackFieldsOrderValuesAndSign) {
  PayInCallback cb{Money::from_fen(1050), "ak_test_0001", 1, "M20240101-0001", "10.5"};
  auto fields = pay_in_callback_fields(cb, kKey);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(fields, (Pairs{{"amount", "10.50"},
                           {"appKey", "ak_test_0001"},
                           {"channel", "1"},
                           {"mrn", "M20240101-0001"},
                           {"originAmount", "10.5"},
                           {"sign", "a4f03581ee7426bf240a391952e41a10"}}));
  EXPECT_EQ(http::form_encode(fields),
            "amount=10.50&appKey=ak_test_0001&channel=1&mrn=M20240101-0001&originAmount=10.5"
            "&sign=a4f03581ee7426bf240a391952e41a10");
  // A merchant verifying the callback with the document's string gets the same sign.
  Fields received(fields.begin(), fields.end());
  EXPECT_TRUE(signature_matches(field(received, "sign"), pay_in_callback_signing_string(received, kKey)));

  PayInCallback small{Money::from_fen(1), "ak_test_0001", 14, "M-2", "0.01"};
  auto small_fields = pay_in_callback_fields(small, kKey);
  EXPECT_EQ(small_fields[0].second, "0.01");
  EXPECT_EQ(small_fields[2].second, "14");
  EXPECT_EQ(small_fields.back().second, "859587faf5b1b41e1c7b94146773059b");
}

TEST(GatewayCodec, PayInCallbackAmountHasExactlyTwoDecimalsAndOriginAmountIsVerbatim) {
  for (const auto& [fen, text] : std::vector<std::pair<int64_t, std::string>>{
           {1000, "10.00"}, {1050, "10.50"}, {1055, "10.55"}, {1, "0.01"}, {10, "0.10"}, {100, "1.00"}}) {
    PayInCallback cb{Money::from_fen(fen), "ak", 3, "M1", "10"};
    auto fields = pay_in_callback_fields(cb, kKey);
    EXPECT_EQ(fields[0].second, text);
    EXPECT_EQ(fields[4].second, "10") << "originAmount is the submitted text, not reformatted";
  }
}

TEST(GatewayCodec, PayoutCallbackFieldsOrderValuesAndSign) {
  PayoutCallback cb{Money::from_fen(10000), "ak_test_0001", "P20240101-0001"};
  auto fields = payout_callback_fields(cb, kKey);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(fields, (Pairs{{"amount", "100"},
                           {"appKey", "ak_test_0001"},
                           {"mrn", "P20240101-0001"},
                           {"sign", "d27e75f40070b6c7166fa336fdc8c0a8"}}));
  EXPECT_EQ(http::form_encode(fields),
            "amount=100&appKey=ak_test_0001&mrn=P20240101-0001&sign=d27e75f40070b6c7166fa336fdc8c0a8");
}

TEST(GatewayCodec, CallbackAcknowledgedIsHttp200AndTrimmedSuccessInAnyCase) {
  EXPECT_TRUE(callback_acknowledged(200, "success"));
  EXPECT_TRUE(callback_acknowledged(200, "SUCCESS"));
  EXPECT_TRUE(callback_acknowledged(200, "Success"));
  EXPECT_TRUE(callback_acknowledged(200, " \r\n\tsUcCeSs\r\n "));
  // PHP scripts saved as "UTF-8 with BOM" print one before anything else; the merchant did answer success.
  EXPECT_TRUE(callback_acknowledged(200, "\xEF\xBB\xBF"
                                         "success\n"));
  EXPECT_FALSE(callback_acknowledged(500, "\xEF\xBB\xBF"
                                          "success"));
  EXPECT_FALSE(callback_acknowledged(200, "\xEF\xBB\xBF"));
  EXPECT_FALSE(callback_acknowledged(201, "success"));
  EXPECT_FALSE(callback_acknowledged(204, "success"));
  EXPECT_FALSE(callback_acknowledged(302, "success"));
  EXPECT_FALSE(callback_acknowledged(500, "success"));
  EXPECT_FALSE(callback_acknowledged(200, ""));
  EXPECT_FALSE(callback_acknowledged(200, "  \n"));
  EXPECT_FALSE(callback_acknowledged(200, "ok"));
  EXPECT_FALSE(callback_acknowledged(200, "success!"));
  EXPECT_FALSE(callback_acknowledged(200, "succes"));
  EXPECT_FALSE(callback_acknowledged(200, "\"success\""));
  EXPECT_FALSE(callback_acknowledged(200, "successsuccess"));
  EXPECT_FALSE(callback_acknowledged(200, "{\"success\":true}"));
}

}  // namespace
}  // namespace paygate::gateway
