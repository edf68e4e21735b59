// The cashier wire format, tested from the document (003_1650434d2965ef09.txt) and DECISIONS.md (cashier, common).
// Every base64 text, URL encoding and MD5 below was computed outside the code (Python's base64 and urllib.parse.quote
// for the texts, `printf '%s' '<base64 text><key>' | md5sum` for the signatures) and is committed here as text.
#include "protocols/cashier/codec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "http/http.h"

namespace paygate::cashier {
namespace {

constexpr std::string_view kKey = "CASHIER_KEY_123";

// A bound-card payment. Its base64 holds all three characters that need URL encoding: '/' (from "?x"), '+' (from
// 徐) and one '=' of padding.
constexpr std::string_view kBoundJson =
    R"({"action":"Bank","txnamt":1050,"merid":"10001","orderid":"M20240101000001",)"
    R"("backurl":"https://merchant.example.com/notify","fronturl":"https://merchant.example.com/return?x=1",)"
    R"("accname":"张徐","accno":"11010519491231002X"})";
constexpr std::string_view kBoundB64 =
    "eyJhY3Rpb24iOiJCYW5rIiwidHhuYW10IjoxMDUwLCJtZXJpZCI6IjEwMDAxIiwib3JkZXJpZCI6Ik0yMDI0MDEwMTAwMDAwMSIsImJhY2t1cmwi"
    "OiJodHRwczovL21lcmNoYW50LmV4YW1wbGUuY29tL25vdGlmeSIsImZyb250dXJsIjoiaHR0cHM6Ly9tZXJjaGFudC5leGFtcGxlLmNvbS9yZXR1"
    "cm4/eD0xIiwiYWNjbmFtZSI6IuW8oOW+kCIsImFjY25vIjoiMTEwMTA1MTk0OTEyMzEwMDJYIn0=";
// The same text URL-encoded (RFC 3986): %2F, %2B, %3D.
constexpr std::string_view kBoundB64Encoded =
    "eyJhY3Rpb24iOiJCYW5rIiwidHhuYW10IjoxMDUwLCJtZXJpZCI6IjEwMDAxIiwib3JkZXJpZCI6Ik0yMDI0MDEwMTAwMDAwMSIsImJhY2t1cmwi"
    "OiJodHRwczovL21lcmNoYW50LmV4YW1wbGUuY29tL25vdGlmeSIsImZyb250dXJsIjoiaHR0cHM6Ly9tZXJjaGFudC5leGFtcGxlLmNvbS9yZXR1"
    "cm4%2FeD0xIiwiYWNjbmFtZSI6IuW8oOW%2BkCIsImFjY25vIjoiMTEwMTA1MTk0OTEyMzEwMDJYIn0%3D";
constexpr std::string_view kBoundSign = "c95929139ed5aedfebeb235c7aa92eae";  // md5(kBoundB64 + kKey)
// Without its '=': what a merchant who strips the padding signs.
constexpr std::string_view kBoundUnpaddedSign = "93c707e979a6410bdf1288dd4b5964bb";
// Wrapped at 76 characters with CRLF, as sun.misc.BASE64Encoder and MIME encoders write it; signed so.
constexpr std::string_view kBoundWrapped =
    "eyJhY3Rpb24iOiJCYW5rIiwidHhuYW10IjoxMDUwLCJtZXJpZCI6IjEwMDAxIiwib3JkZXJpZCI6\r\n"
    "Ik0yMDI0MDEwMTAwMDAwMSIsImJhY2t1cmwiOiJodHRwczovL21lcmNoYW50LmV4YW1wbGUuY29t\r\n"
    "L25vdGlmeSIsImZyb250dXJsIjoiaHR0cHM6Ly9tZXJjaGFudC5leGFtcGxlLmNvbS9yZXR1cm4/\r\n"
    "eD0xIiwiYWNjbmFtZSI6IuW8oOW+kCIsImFjY25vIjoiMTEwMTA1MTk0OTEyMzEwMDJYIn0=";
constexpr std::string_view kBoundWrappedSign = "5cb77185e3b6139e1090ef10532e618b";

// An ordinary payment: WeiXin, txnamt as a JSON string, no fronturl.
constexpr std::string_view kPlainJson =
    R"({"action":"WeiXin","txnamt":"1050","merid":"10001","orderid":"20240101A0000001",)"
    R"("backurl":"https://merchant.example.com/notify"})";
constexpr std::string_view kPlainB64 =
    "eyJhY3Rpb24iOiJXZWlYaW4iLCJ0eG5hbXQiOiIxMDUwIiwibWVyaWQiOiIxMDAwMSIsIm9yZGVyaWQiOiIyMDI0MDEwMUEwMDAwMDAxIiwiYmFj"
    "a3VybCI6Imh0dHBzOi8vbWVyY2hhbnQuZXhhbXBsZS5jb20vbm90aWZ5In0=";
constexpr std::string_view kPlainSign = "74706c96b6795d6e5409591c714394f3";

// The error message of a failed Result, or a marker when it did not fail.
template <typename T>
std::string error_of(const Result<T>& r, ErrorCode code = ErrorCode::kInvalidArgument) {
  if (r.ok()) return "<ok>";
  EXPECT_EQ(r.error().code, code) << r.error().message;
  return r.error().message;
}

Fields form_of(std::string_view req, std::string_view sign) {
  return Fields{{"req", std::string(req)}, {"sign", std::string(sign)}};
}

// The decoded fields of the bound-card request, as validate_pay sees them.
Fields bound() {
  return Fields{
      {"action", "Bank"},
      {"txnamt", "1050"},
      {"merid", "10001"},
      {"orderid", "M20240101000001"},
      {"backurl", "https://merchant.example.com/notify"},
      {"fronturl", "https://merchant.example.com/return?x=1"},
      {"accname", "张徐"},
      {"accno", "11010519491231002X"},
  };
}

Fields plain() {
  return Fields{
      {"action", "WeiXin"},
      {"txnamt", "1050"},
      {"merid", "10001"},
      {"orderid", "20240101A0000001"},
      {"backurl", "https://merchant.example.com/notify"},
  };
}

// ---- signing ----

TEST(CashierCodec, SignIsTheLowercaseMd5OfTheBase64TextFollowedByTheKey) {
  EXPECT_EQ(sign(kBoundB64, kKey), kBoundSign);
  EXPECT_EQ(sign(kPlainB64, kKey), kPlainSign);
  EXPECT_EQ(sign("abc", ""), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(sign("ab", "c"), "900150983cd24fb0d6963f7d28e17f72") << "nothing between the text and the key";
  EXPECT_EQ(sign("", ""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(CashierCodec, SignatureComparisonIgnoresCase) {
  EXPECT_TRUE(signature_matches("c95929139ed5aedfebeb235c7aa92eae", kBoundB64, kKey));
  EXPECT_TRUE(signature_matches("C95929139ED5AEDFEBEB235C7AA92EAE", kBoundB64, kKey));
  EXPECT_TRUE(signature_matches("C95929139ed5AEDFebeb235c7AA92eae", kBoundB64, kKey));
}

TEST(CashierCodec, WrongSignaturesAreRejected) {
  EXPECT_FALSE(signature_matches("c95929139ed5aedfebeb235c7aa92eaf", kBoundB64, kKey));   // last digit
  EXPECT_FALSE(signature_matches("d95929139ed5aedfebeb235c7aa92eae", kBoundB64, kKey));   // first digit
  EXPECT_FALSE(signature_matches("c95929139ed5aedfebeb235c7aa92ea", kBoundB64, kKey));    // 31 characters
  EXPECT_FALSE(signature_matches("c95929139ed5aedfebeb235c7aa92eae0", kBoundB64, kKey));  // 33 characters
  EXPECT_FALSE(signature_matches(" c95929139ed5aedfebeb235c7aa92eae", kBoundB64, kKey));
  EXPECT_FALSE(signature_matches("", kBoundB64, kKey));
  EXPECT_FALSE(signature_matches(kBoundSign, kBoundB64, "OTHER_KEY"));
  EXPECT_FALSE(signature_matches(kBoundSign, kPlainB64, kKey));
  // The signature is over the base64 text, not over the JSON.
  EXPECT_FALSE(signature_matches(sign(kBoundJson, kKey), kBoundB64, kKey));
  // Nor over the URL-encoded text.
  EXPECT_FALSE(signature_matches(sign(kBoundB64Encoded, kKey), kBoundB64, kKey));
}

// ---- the envelope ----

TEST(CashierCodec, TheFixturesBase64HoldsEveryCharacterThatNeedsUrlEncoding) {
  EXPECT_NE(kBoundB64.find('+'), std::string_view::npos);
  EXPECT_NE(kBoundB64.find('/'), std::string_view::npos);
  EXPECT_TRUE(kBoundB64.ends_with("=") && !kBoundB64.ends_with("=="));
  EXPECT_EQ(http::url_encode(kBoundB64), kBoundB64Encoded);
}

TEST(CashierCodec, AUrlEncodedFormOpensValidatesAndVerifies) {
  for (std::string_view sign_text : {kBoundSign, std::string_view("C95929139ED5AEDFEBEB235C7AA92EAE")}) {
    auto form = parse_form("req=" + std::string(kBoundB64Encoded) + "&sign=" + std::string(sign_text));
    ASSERT_TRUE(form.ok()) << form.error().message;
    auto env = open_envelope(*form);
    ASSERT_TRUE(env.ok()) << env.error().message;
    EXPECT_EQ(env->text, kBoundB64);
    EXPECT_EQ(env->sign, sign_text);
    EXPECT_EQ(env->json, kBoundJson);
    EXPECT_EQ(env->fields, bound());
    EXPECT_EQ(error_of(check_signature(*env, kKey)), "<ok>");
    auto r = validate_pay(env->fields);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->acc_name, "张徐");
  }
}

TEST(CashierCodec, AGetQueryStringOpensTheSameWay) {
  // GET /apis/icashier?req=...&sign=...: the query string is read like a form, sign first is fine.
  auto form = parse_form("sign=" + std::string(kPlainSign) + "&req=" + http::url_encode(kPlainB64));
  ASSERT_TRUE(form.ok()) << form.error().message;
  auto env = open_envelope(*form);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->json, kPlainJson);
  EXPECT_EQ(error_of(check_signature(*env, kKey)), "<ok>");
  auto r = validate_pay(env->fields);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->action, Action::kWeiXin);
  EXPECT_EQ(r->amount, Money::from_fen(1050));
}

TEST(CashierCodec, RawBase64WhosePlusBecameASpaceIsRestoredAndVerified) {
  // The merchant forgot to URL-encode: '/' and '=' survive form decoding, '+' arrives as a space.
  auto form = parse_form("req=" + std::string(kBoundB64) + "&sign=" + std::string(kBoundSign));
  ASSERT_TRUE(form.ok()) << form.error().message;
  const std::string_view received = field(*form, "req");
  EXPECT_NE(received.find(' '), std::string_view::npos);
  EXPECT_EQ(received.find('+'), std::string_view::npos);
  EXPECT_EQ(restore_plus_signs(received), kBoundB64);
  auto env = open_envelope(*form);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->text, kBoundB64) << "the text the merchant signed";
  EXPECT_EQ(env->json, kBoundJson);
  EXPECT_EQ(error_of(check_signature(*env, kKey)), "<ok>");
  // A '+' that was encoded as %2B and one that arrived as a space are the same.
  std::string mixed(kBoundB64Encoded);
  mixed.replace(mixed.find("%2B"), 3, "+");
  auto mixed_form = parse_form("req=" + mixed + "&sign=" + std::string(kBoundSign));
  ASSERT_TRUE(mixed_form.ok());
  EXPECT_EQ(open_envelope(*mixed_form)->text, kBoundB64);
}

TEST(CashierCodec, MissingPaddingIsAcceptedAndTheSignIsOverTheTextAsSent) {
  std::string unpadded(kBoundB64.substr(0, kBoundB64.size() - 1));
  auto env = open_envelope(form_of(unpadded, kBoundUnpaddedSign));
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->text, unpadded);
  EXPECT_EQ(env->json, kBoundJson);
  EXPECT_EQ(error_of(check_signature(*env, kKey)), "<ok>");
  // The padded text's sign does not cover the unpadded text.
  EXPECT_EQ(
      error_of(check_signature(Envelope{unpadded, std::string(kBoundSign), "", {}}, kKey), ErrorCode::kUnauthenticated)
          .substr(0, 9),
      "bad sign:");
  // Two characters of padding left out.
  auto two = decode_base64_text("req", "eyJhIjoxfQ");  // {"a":1}, padded "eyJhIjoxfQ=="
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ(*two, R"({"a":1})");
}

TEST(CashierCodec, LineWrappedBase64IsAcceptedAndTheSignIsOverTheWrappedText) {
  auto form = parse_form("req=" + http::url_encode(kBoundWrapped) + "&sign=" + std::string(kBoundWrappedSign));
  ASSERT_TRUE(form.ok()) << form.error().message;
  auto env = open_envelope(*form);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->text, kBoundWrapped);
  EXPECT_EQ(env->json, kBoundJson);
  EXPECT_EQ(error_of(check_signature(*env, kKey)), "<ok>");
  EXPECT_FALSE(signature_matches(kBoundSign, env->text, kKey));
  // LF alone, and a trailing line break.
  auto lf = decode_base64_text("req", "eyJh\nIjox\nfQ==\n");
  ASSERT_TRUE(lf.ok()) << lf.error().message;
  EXPECT_EQ(*lf, R"({"a":1})");
}

struct BadBase64Case {
  std::string text;
  std::string message;
};

TEST(CashierCodec, BadBase64IsRejectedSayingWhatAndWhere) {
  const std::string kAlphabet = " is not in the standard alphabet (A-Z, a-z, 0-9, '+', '/', '=' at the end)";
  for (const BadBase64Case& c : {
           BadBase64Case{"eyJh%2BIjoxfQ==",
                         "req is not base64: it still contains '%' after URL decoding at offset 4, so it was "
                         "URL-encoded twice; URL-encode the base64 text once"},
           {"eyJh-Ijo_fQ==",
            "req is not base64: '-' at offset 4 is of the URL-safe alphabet; use the standard alphabet (A-Z, a-z, "
            "0-9, '+', '/') and URL-encode the text"},
           {"eyJhIjo_fQ==",
            "req is not base64: '_' at offset 7 is of the URL-safe alphabet; use the standard alphabet (A-Z, a-z, "
            "0-9, '+', '/') and URL-encode the text"},
           {"eyJh\tIjoxfQ==", "req is not base64: byte 0x09 at offset 4" + kAlphabet},
           {"eyJh.IjoxfQ==", "req is not base64: character '.' at offset 4" + kAlphabet},
           {"eyJh\xe4\xb8\xad", "req is not base64: byte 0xE4 at offset 4" + kAlphabet},
           {std::string("eyJh\0IjoxfQ==", 13), "req is not base64: byte 0x00 at offset 4" + kAlphabet},
           {"eyJhIjoxfQ==eyJh", "req is not base64: '=' padding may only end the text, but there is '=' at offset 10"},
           {"ey=JIjoxfQ==", "req is not base64: '=' padding may only end the text, but there is '=' at offset 2"},
           {"eyJhIjoxf===", "req is not base64: a third '=' at offset 11; padding is one or two '=' at the end"},
           {"eyJhIjoxfQ=",
            "req is not base64: with '=' padding its length must be a multiple of 4, but it has 11 characters (line "
            "breaks aside)"},
           {"eyJhIjoxfQ===", "req is not base64: a third '=' at offset 12; padding is one or two '=' at the end"},
           {"eyJhIjoxf",
            "req is not base64: 9 characters (line breaks aside) cannot be base64; the text is truncated or has a "
            "stray character"},
           {"eyJhIjoxfR==",
            "req is not base64: its last character has bits set that base64 leaves zero; the text was altered or "
            "truncated"},
           {"eyJhIjoxfR",
            "req is not base64: its last character has bits set that base64 leaves zero; the text was altered or "
            "truncated"},
           {"\r\n", "missing required field req"},
           {"====", "req is not base64: a third '=' at offset 2; padding is one or two '=' at the end"},
       }) {
    EXPECT_EQ(error_of(decode_base64_text("req", restore_plus_signs(c.text))), c.message) << c.text;
  }
  // The name is the envelope's.
  EXPECT_EQ(error_of(decode_base64_text("resp", "a.bc")), "resp is not base64: character '.' at offset 1" + kAlphabet);
  // A space is a '+' once restored; decoded on its own it is not base64.
  EXPECT_EQ(error_of(decode_base64_text("req", "ab c")), "req is not base64: byte 0x20 at offset 2" + kAlphabet);
  // Through open_envelope: the same messages.
  EXPECT_EQ(error_of(open_envelope(form_of("eyJh-IjoxfQ==", kBoundSign))).substr(0, 38),
            "req is not base64: '-' at offset 4 is ");
}

TEST(CashierCodec, TheReqMustBePresentAndBounded) {
  EXPECT_EQ(error_of(open_envelope(Fields{{"sign", std::string(kBoundSign)}})), "missing required field req");
  EXPECT_EQ(error_of(open_envelope(form_of("", kBoundSign))), "missing required field req");
  EXPECT_EQ(error_of(open_envelope(Fields{{"resp", std::string(kBoundB64)}})), "missing required field req");
  // 8192 characters is the limit (the base64 of a JSON object with a long ignored member).
  const std::string head = R"({"action":"Bank","x":")";
  std::string json = head + std::string(6144 - head.size() - 2, 'x') + "\"}";
  ASSERT_EQ(json.size(), 6144u);
  const std::string b64 = seal(json, kKey).text;
  ASSERT_EQ(b64.size(), 8192u);
  EXPECT_EQ(error_of(open_envelope(form_of(b64, "x"))), "<ok>");
  json.insert(head.size(), "xxx");
  EXPECT_EQ(error_of(open_envelope(form_of(seal(json, kKey).text, "x"))), "req is longer than 8192 characters");
}

TEST(CashierCodec, TheSignIsCheckedByCheckSignature) {
  // open_envelope does not need sign: the key is the merchant's, named inside the JSON.
  auto env = open_envelope(Fields{{"req", std::string(kBoundB64)}});
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->sign, "");
  EXPECT_EQ(error_of(check_signature(*env, kKey), ErrorCode::kUnauthenticated),
            "missing required field sign: send sign = md5(req + your signing key), 32 hex digits");
  env->sign = "c95929139ed5aedfebeb235c7aa92eaf";
  EXPECT_EQ(error_of(check_signature(*env, kKey), ErrorCode::kUnauthenticated),
            "bad sign: expected the MD5 (32 hex digits) of the req text exactly as you base64-encoded it (before URL "
            "encoding) followed by your signing key");
  env->sign = kBoundSign;
  EXPECT_EQ(error_of(check_signature(*env, "OTHER_KEY"), ErrorCode::kUnauthenticated).substr(0, 9), "bad sign:");
  EXPECT_EQ(error_of(check_signature(*env, kKey)), "<ok>");
}

TEST(CashierCodec, ParseFormRejectsRepeatedFieldsAndBadEscapes) {
  EXPECT_EQ(error_of(parse_form("req=a&sign=b&req=c")), "field req appears more than once; send each field once");
  EXPECT_EQ(error_of(parse_form("req=a&sign=b&sign=b")), "field sign appears more than once; send each field once");
  EXPECT_EQ(error_of(parse_form("req=%ZZ")),
            "request is not a valid form: malformed percent-escape at offset 4 (expected %XX with two hex digits)");
  std::string many;
  for (int i = 0; i < 65; ++i) many += "f" + std::to_string(i) + "=1&";
  EXPECT_EQ(error_of(parse_form(many)), "request is not a valid form: too many form fields (at most 64)");
  // Unknown fields are kept and ignored.
  auto f = parse_form("req=" + std::string(kBoundB64Encoded) + "&sign=" + std::string(kBoundSign) + "&charset=UTF-8");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(error_of(open_envelope(*f)), "<ok>");
}

TEST(CashierCodec, TheJsonMustBeOneFlatObject) {
  auto req = [](std::string_view json) { return open_envelope(form_of(seal(json, kKey).text, "x")); };
  EXPECT_EQ(error_of(req(R"({"a":)")),
            "req is base64 but not of valid JSON: line 1, column 6: syntax error while parsing value - unexpected end "
            "of input; expected '[', '{', or a literal");
  EXPECT_EQ(error_of(req("action=Bank&txnamt=1")).substr(0, 47), "req is base64 but not of valid JSON: line 1, co");
  EXPECT_EQ(error_of(req(R"({"a":1} trailing)")).substr(0, 36), "req is base64 but not of valid JSON:");
  for (const char* json : {"[1,2]", "\"text\"", "42", "null", "true"}) {
    EXPECT_EQ(error_of(req(json)), "req must be the base64 of a JSON object whose members are the fields") << json;
  }
  EXPECT_EQ(error_of(req(R"({"merid":"10001","extra":{"a":1}})")),
            "field extra must be a string or a number, not an object, array or boolean");
  EXPECT_EQ(error_of(req(R"({"txnamt":[1050]})")),
            "field txnamt must be a string or a number, not an object, array or boolean");
  EXPECT_EQ(error_of(req(R"({"txnamt":true})")),
            "field txnamt must be a string or a number, not an object, array or boolean");
  EXPECT_EQ(error_of(req(R"({"orderid":"A","orderid":"B"})")),
            "field orderid appears more than once in the JSON object; send each field once");
  std::string many = "{";
  for (int i = 0; i < 64; ++i) many += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  EXPECT_EQ(error_of(req(many + "}")), "<ok>");
  EXPECT_EQ(error_of(req(many + ",\"g\":1}")), "the JSON in req has more than 64 fields");
}

TEST(CashierCodec, TheJsonMustBeUtf8) {
  // 张徐 in GBK: a merchant whose JSON library writes the platform's default encoding.
  const std::string gbk = "{\"accname\":\"\xd5\xc5\xd0\xec\"}";
  std::string message = error_of(open_envelope(form_of(seal(gbk, kKey).text, "x")));
  EXPECT_TRUE(message.starts_with("the JSON in req is not UTF-8 (line 1, column ")) << message;
  EXPECT_TRUE(message.ends_with("): encode the JSON in UTF-8 before base64 (not GBK)")) << message;
  EXPECT_EQ(message.find('\xd5'), std::string::npos) << "the offending bytes are not echoed";
}

TEST(CashierCodec, JsonAsPhpAndJavaWriteItDecodes) {
  // PHP's json_encode escapes '/' and non-ASCII by default; numbers and strings are both text.
  const std::string json =
      R"({"action":"Bank","txnamt":1050,"merid":10001,"orderid":"M20240101000001",)"
      R"("backurl":"https:\/\/merchant.example.com\/notify","accname":"\u5f20\u5f90","accno":"11010519491231002x",)"
      R"("fronturl":null,"remark":"ignored"})";
  auto env = open_envelope(form_of(seal(json, kKey).text, "x"));
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(field(env->fields, "backurl"), "https://merchant.example.com/notify");
  EXPECT_EQ(field(env->fields, "accname"), "张徐");
  EXPECT_EQ(field(env->fields, "merid"), "10001");
  EXPECT_FALSE(env->fields.contains("fronturl")) << "null is absent";
  auto r = validate_pay(env->fields);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->merchant_id, MerchantId(10001));
  EXPECT_EQ(r->front_url, "");
  EXPECT_EQ(r->acc_no, "11010519491231002X") << "a lower-case x is upper-cased";
}

// ---- the pay request ----

TEST(CashierCodec, ValidBoundCardPayRequest) {
  auto r = validate_pay(bound());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->action, Action::kBank);
  EXPECT_EQ(r->amount, Money::from_fen(1050));
  EXPECT_EQ(r->merchant_id, MerchantId(10001));
  EXPECT_EQ(r->order_id, "M20240101000001");
  EXPECT_EQ(r->back_url, "https://merchant.example.com/notify");
  EXPECT_EQ(r->front_url, "https://merchant.example.com/return?x=1");
  EXPECT_EQ(r->acc_name, "张徐");
  EXPECT_EQ(r->acc_no, "11010519491231002X");
  EXPECT_TRUE(r->bound_card());
}

TEST(CashierCodec, ValidOrdinaryPayRequest) {
  auto r = validate_pay(plain());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->action, Action::kWeiXin);
  EXPECT_EQ(r->front_url, "");
  EXPECT_EQ(r->acc_name, "");
  EXPECT_EQ(r->acc_no, "");
  EXPECT_FALSE(r->bound_card());
  // Empty optional members are absent ones.
  auto f = plain();
  f["fronturl"] = "";
  f["accname"] = "";
  f["accno"] = "";
  EXPECT_EQ(error_of(validate_pay(f)), "<ok>");
}

TEST(CashierCodec, MissingRequiredFieldsAreNamedInTheDocumentsOrder) {
  for (const char* name : {"action", "txnamt", "merid", "orderid", "backurl"}) {
    auto absent = bound();
    absent.erase(name);
    EXPECT_EQ(error_of(validate_pay(absent)), std::string("missing required field ") + name);
    auto empty = bound();
    empty[name] = "";
    EXPECT_EQ(error_of(validate_pay(empty)), std::string("missing required field ") + name);
  }
  EXPECT_EQ(error_of(validate_pay(Fields{})), "missing required field action");
  // Presence comes before the values: a bad action does not hide a missing backurl.
  auto f = bound();
  f["action"] = "Cash";
  f["txnamt"] = "0";
  f.erase("backurl");
  EXPECT_EQ(error_of(validate_pay(f)), "missing required field backurl");
  // Then the values in the table's order.
  f["backurl"] = "ftp://x/";
  EXPECT_EQ(error_of(validate_pay(f)).substr(0, 14), "action must be");
  f["action"] = "Bank";
  EXPECT_EQ(error_of(validate_pay(f)), "txnamt must be greater than 0");
}

TEST(CashierCodec, ActionIsOneOfTheDocumentsFourInAnyCase) {
  const std::pair<const char*, Action> kOk[] = {
      {"Bank", Action::kBank},     {"WeiXin", Action::kWeiXin}, {"AliPay", Action::kAliPay},
      {"Arbi", Action::kArbi},     {"bank", Action::kBank},     {"WEIXIN", Action::kWeiXin},
      {"weixin", Action::kWeiXin}, {"Alipay", Action::kAliPay}, {"alipay", Action::kAliPay},
      {"ARBI", Action::kArbi},
  };
  for (const auto& [text, action] : kOk) {
    auto a = parse_action(text);
    ASSERT_TRUE(a.ok()) << text;
    EXPECT_EQ(*a, action) << text;
  }
  EXPECT_EQ(action_name(Action::kBank), "Bank");
  EXPECT_EQ(action_name(Action::kWeiXin), "WeiXin");
  EXPECT_EQ(action_name(Action::kAliPay), "AliPay");
  EXPECT_EQ(action_name(Action::kArbi), "Arbi");
  const char* kMessage =
      "action must be Bank (UnionPay), WeiXin (WeChat Pay), AliPay (Alipay) or Arbi (the customer chooses on the "
      "cashier page)";
  for (const char* bad : {"WeChat", "Wei Xin", " Bank", "Bank ", "UnionPay", "1", "微信", "Banks", "Arb"}) {
    EXPECT_EQ(error_of(parse_action(bad)), kMessage) << bad;
    auto f = bound();
    f["action"] = bad;
    EXPECT_EQ(error_of(validate_pay(f)), kMessage) << bad;
  }
}

struct AmountCase {
  const char* text;
  int64_t fen;
};
struct BadCase {
  std::string text;
  std::string message;
};

TEST(CashierCodec, TxnamtIsAWholeNumberOfFen) {
  for (const AmountCase& c : {AmountCase{"1", 1},
                              {"10", 10},
                              {"1050", 1050},
                              {"100000", 100000},
                              {"9999999999", 9'999'999'999},
                              {"10000000000", 10'000'000'000}}) {
    auto m = parse_txnamt(c.text);
    ASSERT_TRUE(m.ok()) << c.text << ": " << m.error().message;
    EXPECT_EQ(m->fen(), c.fen) << c.text;
  }
  const std::string kDecimal =
      "txnamt must be a whole number of fen (the document: int, 单位为分) without a decimal point: write 1050 for "
      "10.50 yuan, not 10.50 or 1050.0";
  const std::string kDigits = "txnamt must be a whole number of fen written with digits only, e.g. 1050";
  const std::string kNoSign =
      "txnamt must be a positive whole number of fen (分) written without a sign, e.g. 1050 for 10.50 yuan";
  const std::string kTooLarge = "txnamt must not exceed 10000000000 fen (100000000.00 yuan)";
  for (const BadCase& c : {
           BadCase{"0", "txnamt must be greater than 0"},
           {"00", "txnamt must not have leading zeros: write 100, not 0100"},
           {"0100", "txnamt must not have leading zeros: write 100, not 0100"},
           {"01", "txnamt must not have leading zeros: write 100, not 0100"},
           {"10.50", kDecimal},
           {"1050.0", kDecimal},
           {"0.01", kDecimal},
           {"10.", kDecimal},
           {"1e3", kDigits},
           {"1E3", kDigits},
           {" 1050", kDigits},
           {"1050 ", kDigits},
           {"1,050", kDigits},
           {"abc", kDigits},
           {"１０", kDigits},  // full-width digits
           {"-1", kNoSign},
           {"-0", kNoSign},
           {"+1", kNoSign},
           {"", "txnamt is empty"},
           {"10000000001", kTooLarge},
           {"99999999999", kTooLarge},
           {"9223372036854775807", kTooLarge},
           {"99999999999999999999999999", kTooLarge},
       }) {
    EXPECT_EQ(error_of(parse_txnamt(c.text)), c.message) << "txnamt \"" << c.text << "\"";
  }
}

TEST(CashierCodec, TxnamtMayBeAJsonNumberOrADigitString) {
  for (const char* member : {R"("txnamt":1050)", R"("txnamt":"1050")"}) {
    auto f = parse_payload("req", std::string("{") + member + "}");
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(parse_txnamt(field(*f, "txnamt"))->fen(), 1050) << member;
  }
  // A JSON number keeps its text: 1050.0 and 1.05e3 are not integers as written.
  for (const char* member : {R"("txnamt":1050.0)", R"("txnamt":1.05e3)", R"("txnamt":-0)"}) {
    auto f = parse_payload("req", std::string("{") + member + "}");
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(parse_txnamt(field(*f, "txnamt")).ok()) << member;
  }
  auto f = bound();
  f["txnamt"] = "10.50";
  EXPECT_EQ(error_of(validate_pay(f)).substr(0, 34), "txnamt must be a whole number of f");
}

TEST(CashierCodec, MeridIsTheNumericMerchantId) {
  for (const auto& [text, id] : std::vector<std::pair<std::string, int64_t>>{
           {"1", 1}, {"10001", 10001}, {"999999999999999999", 999'999'999'999'999'999}}) {
    auto m = parse_merid(text);
    ASSERT_TRUE(m.ok()) << text;
    EXPECT_EQ(m->value(), id);
  }
  const char* kMessage =
      "merid must be the merchant number the platform gave you: digits only, no leading zeros (e.g. 10001)";
  for (const char* bad :
       {"0", "010001", "-1", "M10001", "10001 ", "1.0", "1e4", "", "9999999999999999999", "10001abc"}) {
    EXPECT_EQ(error_of(parse_merid(bad)), kMessage) << bad;
  }
  auto f = bound();
  f["merid"] = "M10001";
  EXPECT_EQ(error_of(validate_pay(f)), kMessage);
}

TEST(CashierCodec, OrderidIs8To32LettersAndDigits) {
  auto with = [](std::string order_id) {
    auto f = bound();
    f["orderid"] = std::move(order_id);
    return validate_pay(f);
  };
  for (std::string ok : {std::string(8, '1'), std::string(32, 'z'), std::string("AbCdEfGh"),
                         std::string("20240101123456789012345678901234")}) {
    auto r = with(ok);
    ASSERT_TRUE(r.ok()) << ok << ": " << r.error().message;
    EXPECT_EQ(r->order_id, ok);
  }
  EXPECT_EQ(error_of(with(std::string(7, '1'))), "orderid is shorter than 8 characters");
  EXPECT_EQ(error_of(with("A")), "orderid is shorter than 8 characters");
  EXPECT_EQ(error_of(with(std::string(33, 'z'))), "orderid is longer than 32 characters");
  const char* kChars =
      "orderid must be letters and digits only (A-Z, a-z, 0-9): no '-', '_', spaces or other characters";
  for (std::string bad :
       {std::string("M2024-0101-0001"), std::string("M2024_01010001"), std::string("M20240101 0001"),
        std::string("订单2024010100001"), std::string("M20240101000１"), std::string("M2024\n0101")}) {
    EXPECT_EQ(error_of(with(bad)), kChars) << bad;
  }
  // A short order id with a bad character gets the character message.
  EXPECT_EQ(error_of(with("a-b")), kChars);
  EXPECT_EQ(error_of(check_order_id("M20240101000001")), "<ok>");
}

TEST(CashierCodec, UrlsAreAbsoluteHttpOrHttpsUpTo1024Bytes) {
  for (const char* name : {"backurl", "fronturl"}) {
    auto with = [&](std::string url) {
      auto f = bound();
      f[name] = std::move(url);
      return validate_pay(f);
    };
    for (std::string ok : {std::string("http://m.example.com/n"), std::string("https://m.example.com:8443/n?a=1&b=2"),
                           std::string("https://10.0.0.5/n"), std::string("HTTPS://M.EXAMPLE.COM/"),
                           std::string("https://m.example.com/#/pay/result")}) {
      EXPECT_EQ(error_of(with(ok)), "<ok>") << name << " " << ok;
    }
    const std::string prefix = "https://m.example.com/";
    EXPECT_EQ(error_of(with(prefix + std::string(1024 - prefix.size(), 'a'))), "<ok>");
    EXPECT_EQ(error_of(with(prefix + std::string(1025 - prefix.size(), 'a'))),
              std::string(name) + " is longer than 1024 bytes");
    const std::string must = std::string(name) + " must be an absolute http:// or https:// URL: ";
    EXPECT_EQ(error_of(with("ftp://m.example.com/n")), must + "unsupported URL scheme 'ftp' (only http and https)");
    EXPECT_EQ(error_of(with("/notify")), must + "URL must start with http:// or https://");
    EXPECT_EQ(error_of(with("m.example.com/notify")), must + "URL must start with http:// or https://");
    EXPECT_EQ(error_of(with("javascript:alert(1)")), must + "URL must start with http:// or https://");
    EXPECT_EQ(error_of(with("https://")), must + "URL has no host");
    EXPECT_EQ(error_of(with("https://m.example.com/a b")),
              must + "URL contains whitespace, control or non-ASCII characters");
    EXPECT_EQ(error_of(with("https://user:pw@m.example.com/")), must + "URL must not contain user information");
  }
  // backurl comes before fronturl.
  auto f = bound();
  f["backurl"] = "ftp://x/";
  f["fronturl"] = "ftp://y/";
  EXPECT_EQ(error_of(validate_pay(f)).substr(0, 12), "backurl must");
}

TEST(CashierCodec, AccnameAndAccnoComeTogether) {
  const char* kNoAccno =
      "accno is missing: a bound-card payment (绑卡付) needs both accname and accno, an ordinary payment neither";
  const char* kNoAccname =
      "accname is missing: a bound-card payment (绑卡付) needs both accname and accno, an ordinary payment neither";
  auto f = bound();
  f.erase("accno");
  EXPECT_EQ(error_of(validate_pay(f)), kNoAccno);
  f["accno"] = "";
  EXPECT_EQ(error_of(validate_pay(f)), kNoAccno);
  f = bound();
  f.erase("accname");
  EXPECT_EQ(error_of(validate_pay(f)), kNoAccname);
  // A presence rule: checked before any value.
  f["txnamt"] = "abc";
  EXPECT_EQ(error_of(validate_pay(f)), kNoAccname);
  f.erase("backurl");
  EXPECT_EQ(error_of(validate_pay(f)), "missing required field backurl") << "required fields first";
}

TEST(CashierCodec, AccnameIsUtf8UpTo64BytesOnOneLine) {
  auto with = [](std::string name) {
    auto f = bound();
    f["accname"] = std::move(name);
    return validate_pay(f);
  };
  for (std::string ok : {std::string("张三"), std::string("欧阳娜娜"), std::string("Zhang San"),
                         std::string("阿卜杜·热合曼"), std::string(64, 'a')}) {
    EXPECT_EQ(error_of(with(ok)), "<ok>") << ok;
  }
  std::string chinese;
  for (int i = 0; i < 21; ++i) chinese += "张";  // 63 bytes
  EXPECT_EQ(error_of(with(chinese)), "<ok>");
  EXPECT_EQ(error_of(with(chinese + "张")), "accname is longer than 64 bytes (UTF-8)");
  EXPECT_EQ(error_of(with(std::string(65, 'a'))), "accname is longer than 64 bytes (UTF-8)");
  EXPECT_EQ(error_of(with("\xd5\xc5\xc8\xfd")),
            "accname is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded");
  EXPECT_EQ(error_of(with("张\n三")), "accname must not contain control characters or line breaks");
  EXPECT_EQ(error_of(with("张\t三")), "accname must not contain control characters or line breaks");
}

TEST(CashierCodec, AccnoIsAnEighteenCharacterIdNumberWithItsCheckDigit) {
  for (const auto& [text, normalized] : std::vector<std::pair<std::string, std::string>>{
           {"11010519491231002X", "11010519491231002X"},  // GB 11643-1999's example
           {"11010519491231002x", "11010519491231002X"},
           {"110101199003071233", "110101199003071233"},
           {"310115198512010018", "310115198512010018"},
           {"44030419900307123X", "44030419900307123X"},
       }) {
    auto r = parse_id_number(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().message;
    EXPECT_EQ(*r, normalized);
  }
  const char* kShape =
      "accno must be the 18-character resident ID number (身份证号): 17 digits and a check digit, 0-9 or X, without "
      "spaces";
  const char* kCheck =
      "accno's check digit (the 18th character) does not match its first 17 digits: the ID number has a typo";
  for (const BadCase& c : {
           BadCase{"110105194912310021", kCheck},
           {"110105194912310020", kCheck},
           {"110101199003071232", kCheck},
           {"11010119900307123X", kCheck},
           {"11010519491231002", kShape},    // 17
           {"11010519491231002XX", kShape},  // 19
           {"1101051949123100X2", kShape},   // X not last
           {"11010519491231002Y", kShape},
           {"110105 19491231002X", kShape},
           {"6222021234567890123", kShape},  // a bank card number
           {"１１０１０５１９４９１２３１００２Ｘ", kShape},
           {"110105491231002",
            "accno has 15 digits, a first-generation ID number (no longer valid since 2013): send the 18-character "
            "resident ID number (身份证号)"},
       }) {
    EXPECT_EQ(error_of(parse_id_number(c.text)), c.message) << c.text;
    auto f = bound();
    f["accno"] = c.text;
    EXPECT_EQ(error_of(validate_pay(f)), c.message) << c.text;
  }
}

// ---- the query request ----

TEST(CashierCodec, QueryByQueryidOrOrderid) {
  auto by_query_id = validate_query(Fields{{"merid", "10001"}, {"queryid", "Q20240101120000123456"}});
  ASSERT_TRUE(by_query_id.ok()) << by_query_id.error().message;
  EXPECT_EQ(by_query_id->merchant_id, MerchantId(10001));
  EXPECT_EQ(by_query_id->query_id, "Q20240101120000123456");
  EXPECT_EQ(by_query_id->order_id, "");

  auto by_order_id = validate_query(Fields{{"merid", "10001"}, {"orderid", "M20240101000001"}});
  ASSERT_TRUE(by_order_id.ok()) << by_order_id.error().message;
  EXPECT_EQ(by_order_id->query_id, "");
  EXPECT_EQ(by_order_id->order_id, "M20240101000001");

  // Both: queryid wins and orderid is ignored, even a malformed one (若有上送流水号,将忽略商户订单号).
  for (const char* order_id : {"M20240101000001", "bad-order-id", "x"}) {
    auto both = validate_query(Fields{{"merid", "10001"}, {"queryid", "Q1"}, {"orderid", order_id}});
    ASSERT_TRUE(both.ok()) << order_id << ": " << both.error().message;
    EXPECT_EQ(both->query_id, "Q1");
    EXPECT_EQ(both->order_id, "");
  }
  // An empty queryid is an absent one.
  auto empty = validate_query(Fields{{"merid", "10001"}, {"queryid", ""}, {"orderid", "M20240101000001"}});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->order_id, "M20240101000001");
}

TEST(CashierCodec, QueryRules) {
  EXPECT_EQ(error_of(validate_query(Fields{{"queryid", "Q1"}})), "missing required field merid");
  EXPECT_EQ(error_of(validate_query(Fields{})), "missing required field merid");
  const char* kNeither = "missing queryid and orderid: send at least one (queryid wins when both are sent)";
  EXPECT_EQ(error_of(validate_query(Fields{{"merid", "10001"}})), kNeither);
  EXPECT_EQ(error_of(validate_query(Fields{{"merid", "10001"}, {"queryid", ""}, {"orderid", ""}})), kNeither);
  // Presence before values.
  EXPECT_EQ(error_of(validate_query(Fields{{"merid", "x"}})), kNeither);
  EXPECT_EQ(error_of(validate_query(Fields{{"merid", "x"}, {"orderid", "M20240101000001"}})),
            "merid must be the merchant number the platform gave you: digits only, no leading zeros (e.g. 10001)");
  const char* kQueryId = "queryid must be 1 to 64 letters and digits: the queryid of a pay response or a notification";
  for (std::string bad : {std::string("Q-1"), std::string(65, 'q'), std::string("Q 1"), std::string("流水1")}) {
    EXPECT_EQ(error_of(validate_query(Fields{{"merid", "10001"}, {"queryid", bad}})), kQueryId) << bad;
  }
  EXPECT_EQ(error_of(validate_query(Fields{{"merid", "10001"}, {"queryid", std::string(64, 'q')}})), "<ok>");
  EXPECT_EQ(error_of(validate_query(Fields{{"merid", "10001"}, {"orderid", "M1"}})),
            "orderid is shorter than 8 characters");
  // Through the envelope, as POST /api/query sends it.
  const std::string json = R"({"merid":"10001","orderid":"M20240101000001"})";
  auto form = parse_form("req=" + http::url_encode(seal(json, kKey).text) + "&sign=" + seal(json, kKey).sign);
  ASSERT_TRUE(form.ok());
  auto env = open_envelope(*form);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(error_of(check_signature(*env, kKey)), "<ok>");
  EXPECT_EQ(validate_query(env->fields)->order_id, "M20240101000001");
}

// ---- results and payloads, byte for byte ----

TxnView paid_view() {
  TxnView v;
  v.result = ResultCode::kPaid;
  v.query_id = "Q20240101120000123456";
  v.amount = Money::from_fen(1050);
  v.merid = "10001";
  v.order_id = "M20240101000001";
  v.paid_at_ms = 1'704'081'600'123;  // 2024-01-01 04:00:00.123 UTC
  return v;
}

constexpr std::string_view kPaidPayJson =
    R"({"resultcode":"0000","resultmsg":"交易成功","queryid":"Q20240101120000123456","txnamt":1050,)"
    R"("merid":"10001","orderid":"M20240101000001"})";
constexpr std::string_view kPaidPayB64 =
    "eyJyZXN1bHRjb2RlIjoiMDAwMCIsInJlc3VsdG1zZyI6IuS6pOaYk+aIkOWKnyIsInF1ZXJ5aWQiOiJRMjAyNDAxMDExMjAwMDAxMjM0NTYiLCJ0"
    "eG5hbXQiOjEwNTAsIm1lcmlkIjoiMTAwMDEiLCJvcmRlcmlkIjoiTTIwMjQwMTAxMDAwMDAxIn0=";
constexpr std::string_view kPaidPayB64Encoded =
    "eyJyZXN1bHRjb2RlIjoiMDAwMCIsInJlc3VsdG1zZyI6IuS6pOaYk%2BaIkOWKnyIsInF1ZXJ5aWQiOiJRMjAyNDAxMDExMjAwMDAxMjM0NTYiLCJ0"
    "eG5hbXQiOjEwNTAsIm1lcmlkIjoiMTAwMDEiLCJvcmRlcmlkIjoiTTIwMjQwMTAxMDAwMDAxIn0%3D";
constexpr std::string_view kPaidPaySign = "66e17a0feb3f92b6fee6a65dada99553";

constexpr std::string_view kPaidBackJson =
    R"({"resultcode":"0000","resultmsg":"交易成功","queryid":"Q20240101120000123456","txnamt":1050,)"
    R"("merid":"10001","orderid":"M20240101000001","paytime":"2024-01-01 12:00:00"})";
constexpr std::string_view kPaidBackB64Encoded =
    "eyJyZXN1bHRjb2RlIjoiMDAwMCIsInJlc3VsdG1zZyI6IuS6pOaYk%2BaIkOWKnyIsInF1ZXJ5aWQiOiJRMjAyNDAxMDExMjAwMDAxMjM0NTYiLCJ0"
    "eG5hbXQiOjEwNTAsIm1lcmlkIjoiMTAwMDEiLCJvcmRlcmlkIjoiTTIwMjQwMTAxMDAwMDAxIiwicGF5dGltZSI6IjIwMjQtMDEtMDEgMTI6MDA6"
    "MDAifQ%3D%3D";
constexpr std::string_view kPaidBackSign = "52b6a6d1ef447fb76344af9820d3b8fc";

constexpr std::string_view kPaidQueryJson =
    R"({"respcode":"00","respmsg":"成功","resultcode":"0000","resultmsg":"交易成功","queryid":"Q20240101120000123456",)"
    R"("txnamt":1050,"merid":"10001","orderid":"M20240101000001","paytime":"2024-01-01 12:00:00"})";
constexpr std::string_view kPaidQueryB64 =
    "eyJyZXNwY29kZSI6IjAwIiwicmVzcG1zZyI6IuaIkOWKnyIsInJlc3VsdGNvZGUiOiIwMDAwIiwicmVzdWx0bXNnIjoi5Lqk5piT5oiQ5YqfIiwi"
    "cXVlcnlpZCI6IlEyMDI0MDEwMTEyMDAwMDEyMzQ1NiIsInR4bmFtdCI6MTA1MCwibWVyaWQiOiIxMDAwMSIsIm9yZGVyaWQiOiJNMjAyNDAxMDEw"
    "MDAwMDEiLCJwYXl0aW1lIjoiMjAyNC0wMS0wMSAxMjowMDowMCJ9";
constexpr std::string_view kPaidQuerySign = "4475ee954f91c5417de120837026ccf0";

TEST(CashierCodec, ResultCodesAndTheirDefaultMessagesAreTheDocuments) {
  const std::tuple<ResultCode, const char*, const char*> kTable[] = {
      {ResultCode::kPaid, "0000", "交易成功"},          {ResultCode::kUnpaid, "1001", "未支付"},
      {ResultCode::kPaidPending, "1002", "交易处理中"}, {ResultCode::kFailed, "1003", "交易失败"},
      {ResultCode::kHeld, "1004", "协查调单"},
  };
  for (const auto& [code, text, message] : kTable) {
    EXPECT_EQ(result_code_text(code), text);
    EXPECT_EQ(default_result_message(code), message);
  }
}

TEST(CashierCodec, PayResultJsonExactBytes) {
  EXPECT_EQ(pay_result_json(paid_view()), kPaidPayJson);
  // resultmsg: the default text of the code unless one is given; no paytime in the pay response / front notify.
  auto v = paid_view();
  v.result = ResultCode::kFailed;
  v.result_msg = "expired";
  v.paid_at_ms = 0;
  EXPECT_EQ(pay_result_json(v),
            R"({"resultcode":"1003","resultmsg":"expired","queryid":"Q20240101120000123456","txnamt":1050,)"
            R"("merid":"10001","orderid":"M20240101000001"})");
  for (ResultCode code :
       {ResultCode::kPaid, ResultCode::kUnpaid, ResultCode::kPaidPending, ResultCode::kFailed, ResultCode::kHeld}) {
    TxnView w = paid_view();
    w.result = code;
    auto parsed = nlohmann::json::parse(pay_result_json(w));
    EXPECT_EQ(parsed["resultcode"], std::string(result_code_text(code)));
    EXPECT_EQ(parsed["resultmsg"], std::string(default_result_message(code)));
    EXPECT_TRUE(parsed["resultcode"].is_string());
    EXPECT_TRUE(parsed["txnamt"].is_number_integer()) << "txnamt is an int";
    EXPECT_TRUE(parsed["merid"].is_string()) << "merid is a string";
    EXPECT_EQ(parsed.size(), 6u);
  }
}

TEST(CashierCodec, BackNotifyJsonAddsPaytimeExactBytes) {
  EXPECT_EQ(back_notify_json(paid_view()), kPaidBackJson);
  EXPECT_EQ(back_notify_json(paid_view(), kDefaultUtcOffsetMinutes), kPaidBackJson);
  auto v = paid_view();
  v.result = ResultCode::kFailed;
  v.paid_at_ms = 0;
  EXPECT_EQ(back_notify_json(v),
            R"({"resultcode":"1003","resultmsg":"交易失败","queryid":"Q20240101120000123456","txnamt":1050,)"
            R"("merid":"10001","orderid":"M20240101000001","paytime":""})");
  v = paid_view();
  v.result = ResultCode::kPaidPending;
  EXPECT_EQ(back_notify_json(v, 0),
            R"({"resultcode":"1002","resultmsg":"交易处理中","queryid":"Q20240101120000123456","txnamt":1050,)"
            R"("merid":"10001","orderid":"M20240101000001","paytime":"2024-01-01 04:00:00"})");
}

TEST(CashierCodec, PaytimeIsLocalTimeAtTheConfiguredOffset) {
  EXPECT_EQ(kDefaultUtcOffsetMinutes, 480);
  EXPECT_EQ(format_paytime(0), "") << "not paid";
  EXPECT_EQ(format_paytime(1'704'081'600'000), "2024-01-01 12:00:00");
  EXPECT_EQ(format_paytime(1'704'081'600'999), "2024-01-01 12:00:00") << "milliseconds are dropped";
  EXPECT_EQ(format_paytime(1'704'081'599'999), "2024-01-01 11:59:59");
  // Across the date (and year) boundary: 2023-12-31 16:30:00 UTC.
  EXPECT_EQ(format_paytime(1'704'040'200'000), "2024-01-01 00:30:00");
  EXPECT_EQ(format_paytime(1'704'040'200'000, 480), "2024-01-01 00:30:00");
  EXPECT_EQ(format_paytime(1'704'040'200'000, 0), "2023-12-31 16:30:00");
  EXPECT_EQ(format_paytime(1'704'040'200'000, -300), "2023-12-31 11:30:00");
  EXPECT_EQ(format_paytime(1'704'038'399'000), "2023-12-31 23:59:59");
  EXPECT_EQ(format_paytime(1'704'038'400'000), "2024-01-01 00:00:00");
  // Leap day, and a half-hour offset.
  EXPECT_EQ(format_paytime(1'709'222'400'000), "2024-03-01 00:00:00");  // 2024-02-29 16:00 UTC
  EXPECT_EQ(format_paytime(1'709'222'399'000), "2024-02-29 23:59:59");
  EXPECT_EQ(format_paytime(1'704'040'200'000, 330), "2023-12-31 22:00:00");
  auto v = paid_view();
  v.paid_at_ms = 1'704'040'200'000;
  EXPECT_EQ(nlohmann::json::parse(back_notify_json(v))["paytime"], "2024-01-01 00:30:00");
  EXPECT_EQ(nlohmann::json::parse(back_notify_json(v, 0))["paytime"], "2023-12-31 16:30:00");
  EXPECT_EQ(nlohmann::json::parse(query_ok_json(v, -300))["paytime"], "2023-12-31 11:30:00");
}

TEST(CashierCodec, QueryResponsesExactBytes) {
  EXPECT_EQ(query_ok_json(paid_view()), kPaidQueryJson);
  auto unpaid = paid_view();
  unpaid.result = ResultCode::kUnpaid;
  unpaid.paid_at_ms = 0;
  EXPECT_EQ(query_ok_json(unpaid),
            R"({"respcode":"00","respmsg":"成功","resultcode":"1001","resultmsg":"未支付",)"
            R"("queryid":"Q20240101120000123456","txnamt":1050,"merid":"10001","orderid":"M20240101000001",)"
            R"("paytime":""})");
  const std::pair<RespCode, const char*> kCodes[] = {
      {RespCode::kOk, "00"},       {RespCode::kBadRequest, "01"},
      {RespCode::kBadSign, "02"},  {RespCode::kUnknownMerchant, "03"},
      {RespCode::kNotFound, "04"}, {RespCode::kBusy, "99"},
  };
  for (const auto& [code, text] : kCodes) EXPECT_EQ(resp_code_text(code), text);
  EXPECT_EQ(query_error_json(RespCode::kBadRequest, "missing required field merid"),
            R"({"respcode":"01","respmsg":"missing required field merid"})");
  EXPECT_EQ(query_error_json(RespCode::kBadSign, "bad sign"), R"({"respcode":"02","respmsg":"bad sign"})");
  EXPECT_EQ(query_error_json(RespCode::kUnknownMerchant, "unknown merid 99999"),
            R"({"respcode":"03","respmsg":"unknown merid 99999"})");
  EXPECT_EQ(query_error_json(RespCode::kNotFound, "no order M20240101000001"),
            R"({"respcode":"04","respmsg":"no order M20240101000001"})");
  EXPECT_EQ(query_error_json(RespCode::kBusy, "the platform is busy: query again"),
            R"({"respcode":"99","respmsg":"the platform is busy: query again"})");
}

TEST(CashierCodec, JsonStringsAreEscaped) {
  auto v = paid_view();
  v.result_msg = "say \"hi\" \\ a/b\n\t\x01";
  v.order_id = "订单\"1";
  EXPECT_EQ(pay_result_json(v),
            R"({"resultcode":"0000","resultmsg":"say \"hi\" \\ a/b\n\t\u0001","queryid":"Q20240101120000123456",)"
            R"("txnamt":1050,"merid":"10001","orderid":"订单\"1"})");
  EXPECT_EQ(query_error_json(RespCode::kBadRequest, "bad \xff byte"),
            "{\"respcode\":\"01\",\"respmsg\":\"bad \xef\xbf\xbd byte\"}");
  EXPECT_TRUE(nlohmann::json::accept(back_notify_json(v)));
  EXPECT_TRUE(nlohmann::json::accept(query_ok_json(v)));
}

TEST(CashierCodec, ARefusedPaymentEchoesOnlyValidRequestFields) {
  auto v = refused_pay_view("duplicate orderid: M20240101000001 was already used with other fields", bound());
  EXPECT_EQ(pay_result_json(v),
            R"({"resultcode":"1003","resultmsg":"duplicate orderid: M20240101000001 was already used with other )"
            R"(fields","queryid":"","txnamt":1050,"merid":"10001","orderid":"M20240101000001"})");
  auto f = bound();
  f["txnamt"] = "10.50";
  f["merid"] = "M1";
  f["orderid"] = "x\"y";
  EXPECT_EQ(
      pay_result_json(refused_pay_view("txnamt must be ...", f)),
      R"({"resultcode":"1003","resultmsg":"txnamt must be ...","queryid":"","txnamt":0,"merid":"","orderid":""})");
  EXPECT_EQ(pay_result_json(refused_pay_view("missing required field req", Fields{})),
            R"({"resultcode":"1003","resultmsg":"missing required field req","queryid":"","txnamt":0,"merid":"",)"
            R"("orderid":""})");
}

// ---- sealed envelopes: responses and notifications ----

TEST(CashierCodec, SealIsBase64AndTheMd5OfItWithTheKey) {
  const SealedEnvelope e = seal(kPaidPayJson, kKey);
  EXPECT_EQ(e.text, kPaidPayB64);
  EXPECT_EQ(e.sign, kPaidPaySign);
  EXPECT_EQ(envelope_json(e),
            "{\"resp\":\"" + std::string(kPaidPayB64) + "\",\"sign\":\"" + std::string(kPaidPaySign) + "\"}");
  const SealedEnvelope q = seal(query_ok_json(paid_view()), kKey);
  EXPECT_EQ(q.text, kPaidQueryB64);
  EXPECT_EQ(q.sign, kPaidQuerySign);
}

TEST(CashierCodec, AnEnvelopeToAMerchantThatCouldNotBeIdentifiedHasAnEmptySign) {
  const SealedEnvelope e = seal_unsigned(query_error_json(RespCode::kUnknownMerchant, "unknown merid 99999"));
  EXPECT_EQ(e.text, "eyJyZXNwY29kZSI6IjAzIiwicmVzcG1zZyI6InVua25vd24gbWVyaWQgOTk5OTkifQ==");
  EXPECT_EQ(e.sign, "");
  EXPECT_EQ(envelope_json(e),
            R"({"resp":"eyJyZXNwY29kZSI6IjAzIiwicmVzcG1zZyI6InVua25vd24gbWVyaWQgOTk5OTkifQ==","sign":""})");
  EXPECT_EQ(envelope_form(e), "resp=eyJyZXNwY29kZSI6IjAzIiwicmVzcG1zZyI6InVua25vd24gbWVyaWQgOTk5OTkifQ%3D%3D&sign=");
  // For comparison, the signed one.
  EXPECT_EQ(seal(query_error_json(RespCode::kUnknownMerchant, "unknown merid 99999"), kKey).sign,
            "b8ebd985b8ebe132c46814d055a5f57e");
}

TEST(CashierCodec, BackNotifyFormBodyExactBytesAndRoundTrip) {
  const SealedEnvelope e = seal(back_notify_json(paid_view()), kKey);
  EXPECT_EQ(e.sign, kPaidBackSign);
  const std::string body = envelope_form(e);
  EXPECT_EQ(body, "resp=" + std::string(kPaidBackB64Encoded) + "&sign=" + std::string(kPaidBackSign));
  // What the merchant does with it: form-decode, base64-decode, verify md5(resp + key).
  auto form = parse_form(body);
  ASSERT_TRUE(form.ok()) << form.error().message;
  auto env = open_envelope(*form, kResponseField);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->json, kPaidBackJson);
  EXPECT_TRUE(signature_matches(env->sign, env->text, kKey));
  EXPECT_EQ(field(env->fields, "paytime"), "2024-01-01 12:00:00");
  EXPECT_EQ(field(env->fields, "txnamt"), "1050");
}

TEST(CashierCodec, FrontNotifyUrlWithAndWithoutAQueryString) {
  const SealedEnvelope e = seal(pay_result_json(paid_view()), kKey);
  const std::string params = "resp=" + std::string(kPaidPayB64Encoded) + "&sign=" + std::string(kPaidPaySign);
  EXPECT_EQ(front_notify_url("https://merchant.example.com/return", e),
            "https://merchant.example.com/return?" + params);
  EXPECT_EQ(front_notify_url("https://merchant.example.com/return?x=1", e),
            "https://merchant.example.com/return?x=1&" + params);
  EXPECT_EQ(front_notify_url("https://merchant.example.com/return?", e),
            "https://merchant.example.com/return?" + params);
  EXPECT_EQ(front_notify_url("https://merchant.example.com/return?x=1&", e),
            "https://merchant.example.com/return?x=1&" + params);
  // A fragment is kept in front of the parameters, as the document's concatenation does.
  EXPECT_EQ(front_notify_url("https://merchant.example.com/#/pay/result", e),
            "https://merchant.example.com/#/pay/result?" + params);
  EXPECT_EQ(front_notify_url("https://merchant.example.com/#/pay/result?from=cashier", e),
            "https://merchant.example.com/#/pay/result?from=cashier&" + params);
  // The merchant's return page reads them back.
  const std::string url = front_notify_url("https://merchant.example.com/return?x=1", e);
  auto form = parse_form(url.substr(url.find('?') + 1));
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(field(*form, "x"), "1");
  auto env = open_envelope(*form, kResponseField);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->json, kPaidPayJson);
  EXPECT_TRUE(signature_matches(env->sign, env->text, kKey));
}

TEST(CashierCodec, EnvelopesRoundTripAnyPayload) {
  for (std::string json : {std::string(R"({"a":"1"})"), std::string(R"({"a":"12"})"), std::string(R"({"a":"123"})"),
                           std::string(kBoundJson), std::string(kPaidBackJson)}) {
    const SealedEnvelope e = seal(json, kKey);
    auto form = parse_form(envelope_form(e));
    ASSERT_TRUE(form.ok());
    auto env = open_envelope(*form, kResponseField);
    ASSERT_TRUE(env.ok()) << json << ": " << env.error().message;
    EXPECT_EQ(env->text, e.text);
    EXPECT_EQ(env->json, json);
    EXPECT_TRUE(signature_matches(env->sign, env->text, kKey));
    // And as JSON: {"resp":..., "sign":...}.
    auto parsed = nlohmann::json::parse(envelope_json(e));
    EXPECT_EQ(parsed["resp"], e.text);
    EXPECT_EQ(parsed["sign"], e.sign);
  }
}

// ---- the back notify's acknowledgement and schedule ----

TEST(CashierCodec, BackNotifyIsAcknowledgedByABodyOf0000) {
  for (std::string_view ok : {std::string_view("0000"), std::string_view(" 0000 "), std::string_view("0000\r\n"),
                              std::string_view("\t\r\n0000\n"),
                              std::string_view("\xEF\xBB\xBF"
                                               "0000"),
                              std::string_view("\xEF\xBB\xBF"
                                               "0000\r\n")}) {
    EXPECT_TRUE(back_notify_acknowledged(ok)) << ok;
  }
  for (std::string_view bad :
       {std::string_view(""), std::string_view(" \n"), std::string_view("0"), std::string_view("000"),
        std::string_view("00000"), std::string_view("0000 0000"), std::string_view("\"0000\""),
        std::string_view("success"), std::string_view("ok"), std::string_view("0000\n0000"),
        std::string_view("{\"code\":\"0000\"}"), std::string_view("resultcode=0000"), std::string_view("０００００")}) {
    EXPECT_FALSE(back_notify_acknowledged(bad)) << bad;
  }
}

TEST(CashierCodec, BackNotifySchedule) {
  EXPECT_EQ(kBackNotifyAttemptsMax, 10);
  // attempts_made -> the wait before the next attempt.
  const int64_t kExpected[] = {0,                           // attempt 1 at once
                               10'000,  10'000,  10'000,    // attempts 2-4
                               60'000,  60'000,  60'000,    // attempts 5-7
                               180'000, 180'000, 180'000};  // attempts 8-10
  int64_t total = 0;
  for (int made = 0; made < kBackNotifyAttemptsMax; ++made) {
    EXPECT_EQ(back_notify_delay_ms(made), kExpected[made]) << made;
    total += back_notify_delay_ms(made);
  }
  EXPECT_EQ(total, 750'000) << "12.5 minutes from the first attempt to the tenth";
  // Past the limit (a caller that does not stop) the last step repeats.
  EXPECT_EQ(back_notify_delay_ms(10), 180'000);
  EXPECT_EQ(back_notify_delay_ms(100), 180'000);
}

}  // namespace
}  // namespace paygate::cashier
