// The consign wire format: signing strings built by hand from the document's fixed orders (000, sections 4.1.3 and
// the request/query/notify tables; DECISIONS.md, consign), MD5 values computed independently (Python hashlib).
#include "protocols/consign/codec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/crypto.h"

namespace paygate::consign {
namespace {

Fields full_submit() {
  return Fields{
      {"customerId", "10001"},
      {"timestamp", "1700000000"},
      {"orderId", "ORD-1"},
      {"productType", "0"},
      {"batchno", "BATCH-1"},
      {"productCode", "JD100"},
      {"customizeRate", "96.5"},
      {"cardNumber", "6222000011112222"},
      {"cardPassword", "4d5a6b"},
      {"seCode", "123"},
      {"faceMoney", "100"},
      {"notifyUrl", "https://m.example.com/notify?a=1&b=2"},
      {"custom", "x y"},
      {"sign", "0123456789ABCDEF0123456789ABCDEF"},
  };
}

OrderView sample_view() {
  OrderView v;
  v.customer_id = "10001";
  v.sys_order_id = "C1700000000000123456";
  v.order_id = "ORD-1";
  v.status = "2";
  v.message = "success";
  v.face_money = "100";
  v.real_money = "100";
  v.amount = "96.50";
  v.success_time = "1700000123";
  v.custom = "my custom";
  return v;
}

// ---- signing strings ----

TEST(ConsignCodec, SubmitSigningStringFollowsTheDocumentsFixedOrder) {
  // productType, customizeRate, seCode, custom and sign are not signed.
  EXPECT_EQ(submit_signing_string(full_submit(), "SECRET"),
            "customerId=10001&timestamp=1700000000&orderId=ORD-1&batchno=BATCH-1&productCode=JD100"
            "&cardNumber=6222000011112222&cardPassword=4d5a6b&faceMoney=100"
            "&notifyUrl=https://m.example.com/notify?a=1&b=2&key=SECRET");
}

TEST(ConsignCodec, SubmitSigningStringWithAbsentOptionalFieldsHasEmptyValues) {
  auto f = full_submit();
  f.erase("cardNumber");
  f.erase("notifyUrl");
  EXPECT_EQ(submit_signing_string(f, "SECRET"),
            "customerId=10001&timestamp=1700000000&orderId=ORD-1&batchno=BATCH-1&productCode=JD100"
            "&cardNumber=&cardPassword=4d5a6b&faceMoney=100&notifyUrl=&key=SECRET");
  // Present but empty signs the same as absent.
  auto g = full_submit();
  g["cardNumber"] = "";
  g["notifyUrl"] = "";
  EXPECT_EQ(submit_signing_string(g, "SECRET"), submit_signing_string(f, "SECRET"));
  // Nothing at all: every name still appears, in order.
  EXPECT_EQ(submit_signing_string(Fields{}, "K"),
            "customerId=&timestamp=&orderId=&batchno=&productCode=&cardNumber=&cardPassword=&faceMoney="
            "&notifyUrl=&key=K");
}

TEST(ConsignCodec, SubmitSigningStringUsesValuesExactlyAsReceived) {
  auto f = full_submit();
  f["faceMoney"] = "100.00";
  f["cardPassword"] = "4D5A6B";
  f["orderId"] = "a b&c=d";
  EXPECT_EQ(submit_signing_string(f, "SECRET"),
            "customerId=10001&timestamp=1700000000&orderId=a b&c=d&batchno=BATCH-1&productCode=JD100"
            "&cardNumber=6222000011112222&cardPassword=4D5A6B&faceMoney=100.00"
            "&notifyUrl=https://m.example.com/notify?a=1&b=2&key=SECRET");
}

TEST(ConsignCodec, QuerySigningString) {
  EXPECT_EQ(query_signing_string(full_submit(), "SECRET"),
            "customerId=10001&timestamp=1700000000&orderId=ORD-1&key=SECRET");
  EXPECT_EQ(query_signing_string(Fields{{"orderId", "C1"}}, "K"), "customerId=&timestamp=&orderId=C1&key=K");
}

TEST(ConsignCodec, SignIsUpperCaseMd5) {
  EXPECT_EQ(sign("abc"), "900150983CD24FB0D6963F7D28E17F72");
  EXPECT_EQ(sign(""), "D41D8CD98F00B204E9800998ECF8427E");
  EXPECT_EQ(sign(submit_signing_string(full_submit(), "SECRET")), "96F3DF0016026342D50C180DA8113012");
  EXPECT_EQ(sign(query_signing_string(full_submit(), "SECRET")), "70FFEFCF3AE77CCD42EA3A26899381B5");
}

TEST(ConsignCodec, SignatureMatchesIgnoringCase) {
  const std::string s = "customerId=10001&timestamp=1700000000&orderId=ORD-1&key=SECRET";
  EXPECT_TRUE(signature_matches("70FFEFCF3AE77CCD42EA3A26899381B5", s));
  EXPECT_TRUE(signature_matches("70ffefcf3ae77ccd42ea3a26899381b5", s));
  EXPECT_TRUE(signature_matches("70FfEfCf3aE77cCd42eA3a26899381b5", s));
}

TEST(ConsignCodec, SignatureMismatchesAndWrongLengthsAreRejected) {
  const std::string s = "customerId=10001&timestamp=1700000000&orderId=ORD-1&key=SECRET";
  EXPECT_FALSE(signature_matches("70FFEFCF3AE77CCD42EA3A26899381B6", s));   // last digit
  EXPECT_FALSE(signature_matches("80FFEFCF3AE77CCD42EA3A26899381B5", s));   // first digit
  EXPECT_FALSE(signature_matches("70FFEFCF3AE77CCD42EA3A26899381B", s));    // 31 characters
  EXPECT_FALSE(signature_matches("70FFEFCF3AE77CCD42EA3A26899381B50", s));  // 33 characters
  EXPECT_FALSE(signature_matches(" 70FFEFCF3AE77CCD42EA3A26899381B5", s));
  EXPECT_FALSE(signature_matches("", s));
  EXPECT_FALSE(signature_matches("70FFEFCF3AE77CCD42EA3A26899381B5", s + "x"));
  // The same key signs differently under another key.
  EXPECT_FALSE(signature_matches("70FFEFCF3AE77CCD42EA3A26899381B5",
                                 "customerId=10001&timestamp=1700000000&orderId=ORD-1&key=SECRET2"));
}

// ---- body parsing ----

TEST(ConsignCodec, ParseFormBody) {
  auto f = parse_body("application/x-www-form-urlencoded",
                      "customerId=10001&orderId=A%2BB&custom=x+y%26z&empty=&notifyUrl=http%3A%2F%2Fm.example.com%2Fn");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "customerId"), "10001");
  EXPECT_EQ(field(*f, "orderId"), "A+B");
  EXPECT_EQ(field(*f, "custom"), "x y&z");
  EXPECT_EQ(field(*f, "notifyUrl"), "http://m.example.com/n");
  EXPECT_TRUE(f->contains("empty"));
  EXPECT_EQ(field(*f, "empty"), "");
  EXPECT_FALSE(f->contains("absent"));
  EXPECT_EQ(field(*f, "absent"), "");

  auto with_charset = parse_body("application/x-www-form-urlencoded; charset=UTF-8", "a=1");
  ASSERT_TRUE(with_charset.ok());
  EXPECT_EQ(field(*with_charset, "a"), "1");
  auto no_type = parse_body("", "a=1&b=2");
  ASSERT_TRUE(no_type.ok());
  EXPECT_EQ(no_type->size(), 2u);
}

TEST(ConsignCodec, ParseJsonBodyStringsNumbersAndNull) {
  auto f = parse_body("application/json",
                      R"({"customerId":10001,"timestamp":"1700000000","orderId":"O-1","faceMoney":100,)"
                      R"("customizeRate":96.5,"neg":-5,"notifyUrl":null,"custom":"","cardNumber":"\u4e2d"})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "customerId"), "10001");
  EXPECT_EQ(field(*f, "timestamp"), "1700000000");
  EXPECT_EQ(field(*f, "orderId"), "O-1");
  EXPECT_EQ(field(*f, "faceMoney"), "100");
  EXPECT_EQ(field(*f, "customizeRate"), "96.5");
  EXPECT_EQ(field(*f, "neg"), "-5");
  EXPECT_FALSE(f->contains("notifyUrl")) << "null is absent";
  EXPECT_TRUE(f->contains("custom"));
  EXPECT_EQ(field(*f, "custom"), "");
  EXPECT_EQ(field(*f, "cardNumber"), "\xe4\xb8\xad");
  EXPECT_EQ(f->size(), 8u);
}

TEST(ConsignCodec, ParseJsonBodyDetectedFromTheBody) {
  auto f = parse_body("text/plain", " \r\n\t{\"orderId\":\"O-1\"}");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "orderId"), "O-1");
  auto g = parse_body("application/json; charset=utf-8", "{\"a\":\"b\"}");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(field(*g, "a"), "b");
}

// DECISIONS.md (common): signatures are over field values exactly as received, never a re-formatted number;
// codec.h: "JSON numbers as their JSON text". `100.00` must stay `100.00`.
// Regression: re-serialising numbers with json::dump() turned 100.00 into "100.0" and 96.50 into "96.5", so a
// merchant who signed the text it sent got "bad sign".
TEST(ConsignCodec, ParseJsonBodyKeepsNumberTextExactly) {
  auto f = parse_body("application/json", R"({"faceMoney":100.00,"customizeRate":96.50,"timestamp":1.7e9})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(field(*f, "faceMoney"), "100.00");
  EXPECT_EQ(field(*f, "customizeRate"), "96.50");
  EXPECT_EQ(field(*f, "timestamp"), "1.7e9");
}

TEST(ConsignCodec, ParseJsonBodyRejectsOtherTypes) {
  struct Case {
    const char* body;
    const char* message;
  };
  for (const Case& c : {Case{R"({"customerId":"1","nested":{"a":1}})", "field nested must be a string or a number"},
                        Case{R"({"list":[1,2]})", "field list must be a string or a number"},
                        Case{R"({"flag":true})", "field flag must be a string or a number"}}) {
    auto f = parse_body("application/json", c.body);
    ASSERT_FALSE(f.ok()) << c.body;
    EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(f.error().message, c.message);
  }
}

TEST(ConsignCodec, ParseJsonBodyRejectsMalformedJsonAndNonObjects) {
  for (const char* body : {"{\"a\":", "{\"a\":1,}", "{a:1}", "[1,2]", "\"text\"", "42", "", "{\"a\":\"1\"} trailing"}) {
    auto f = parse_body("application/json", body);
    ASSERT_FALSE(f.ok()) << body;
    EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument) << body;
    EXPECT_EQ(f.error().message, "request body is not a JSON object") << body;
  }
}

// A field sent twice: nobody can tell which value the merchant signed, so the request is refused (as gateway and
// cashier do). Found by a black-box audit: the form kept the first value, JSON the last.
TEST(ConsignCodec, ParseBodyRejectsARepeatedField) {
  auto form = parse_body("application/x-www-form-urlencoded", "faceMoney=100&orderId=O-1&faceMoney=50");
  ASSERT_FALSE(form.ok());
  EXPECT_EQ(form.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(form.error().message, "field faceMoney appears more than once; send each field once");
  auto same = parse_body("", "sign=AB&sign=AB");
  ASSERT_FALSE(same.ok()) << "even with the same value";
  EXPECT_EQ(same.error().message, "field sign appears more than once; send each field once");
  auto json = parse_body("application/json", R"({"faceMoney":"50","faceMoney":"100"})");
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.error().message, "field faceMoney appears more than once in the JSON object; send each field once");
}

// The document signs UTF-8 strings. A GBK form was accepted and its bytes came back as U+FFFD in the query but raw
// in the notify (and `paygate order show` could not print the order).
TEST(ConsignCodec, ParseBodyRejectsFieldsThatAreNotUtf8) {
  auto gbk = parse_body("application/x-www-form-urlencoded", "orderId=O-1&custom=%D6%D0%CE%C4");
  ASSERT_FALSE(gbk.ok());
  EXPECT_EQ(gbk.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(gbk.error().message, "custom is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded");
  auto name = parse_body("", "%D6%D0=1");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.error().message, "a field is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded");
  auto utf8 = parse_body("", "custom=%E4%B8%AD%E6%96%87");
  ASSERT_TRUE(utf8.ok()) << utf8.error().message;
  EXPECT_EQ(field(*utf8, "custom"), "\xe4\xb8\xad\xe6\x96\x87");
  auto json = parse_body("application/json", "{\"custom\":\"\xd6\xd0\"}");
  ASSERT_FALSE(json.ok());
  EXPECT_TRUE(json.error().message.starts_with("request body is not UTF-8 (")) << json.error().message;
}

// ---- responses ----

TEST(ConsignCodec, SubmitOkJsonExactBytes) {
  EXPECT_EQ(submit_ok_json("C1700000000000123456", "order accepted"),
            R"({"code":1,"msg":"order accepted","sysOrderId":"C1700000000000123456",)"
            R"("data":{"sysOrderId":"C1700000000000123456"}})");
}

TEST(ConsignCodec, SubmitErrorJsonExactBytes) {
  EXPECT_EQ(submit_error_json("missing required field timestamp"),
            R"({"code":-1,"msg":"missing required field timestamp","data":null})");
}

TEST(ConsignCodec, ResponseStringsAreJsonEscapedAndKeepUtf8) {
  EXPECT_EQ(submit_error_json("say \"hi\"\\ \xe4\xb8\xad\xe6\x96\x87\n"),
            "{\"code\":-1,\"msg\":\"say \\\"hi\\\"\\\\ \xe4\xb8\xad\xe6\x96\x87\\n\",\"data\":null}");
  auto parsed = nlohmann::json::parse(submit_ok_json("C\"1", "ok"));
  EXPECT_EQ(parsed["sysOrderId"], "C\"1");
  EXPECT_EQ(parsed["data"]["sysOrderId"], "C\"1");
  EXPECT_EQ(parsed["code"], 1);
}

TEST(ConsignCodec, QueryOkJsonExactBytesWithUnquotedNumbers) {
  EXPECT_EQ(query_ok_json(sample_view(), "ok"),
            R"({"code":"1","msg":"ok","data":[{"customerId":"10001","sysOrderId":"C1700000000000123456",)"
            R"("orderId":"ORD-1","status":"2","message":"success","faceMoney":100,"realMoney":100,)"
            R"("amount":96.50,"successTime":1700000123,"custom":"my custom"}]})");
  auto parsed = nlohmann::json::parse(query_ok_json(sample_view(), "ok"));
  const auto& d = parsed["data"][0];
  EXPECT_TRUE(parsed["code"].is_string());
  EXPECT_TRUE(d["status"].is_string());
  EXPECT_TRUE(d["customerId"].is_string());
  EXPECT_TRUE(d["faceMoney"].is_number_integer());
  EXPECT_TRUE(d["realMoney"].is_number_integer());
  EXPECT_TRUE(d["amount"].is_number_float());
  EXPECT_TRUE(d["successTime"].is_number_integer());
}

TEST(ConsignCodec, QueryOkJsonBeforeTheFinalState) {
  auto v = sample_view();
  v.status = "1";
  v.message = "processing";
  v.real_money = "0";
  v.amount = "0.00";
  v.success_time = "0";
  v.custom = "";
  EXPECT_EQ(query_ok_json(v, "ok"),
            R"({"code":"1","msg":"ok","data":[{"customerId":"10001","sysOrderId":"C1700000000000123456",)"
            R"("orderId":"ORD-1","status":"1","message":"processing","faceMoney":100,"realMoney":0,)"
            R"("amount":0.00,"successTime":0,"custom":""}]})");
}

TEST(ConsignCodec, QueryErrorJson) {
  EXPECT_EQ(query_error_json("2", "order not found"), R"({"code":"2","msg":"order not found","data":[]})");
  EXPECT_EQ(query_error_json("-1", "bad sign"), R"({"code":"-1","msg":"bad sign","data":[]})");
}

TEST(ConsignCodec, ViewOfAnOrder) {
  orders::ConsignOrder o;
  o.merchant_id = MerchantId{10001};
  o.sys_order_id = SysOrderId{"C1"};
  o.merchant_order_id = "O-1";
  o.face_money_yuan = 100;
  o.custom = "c";
  o.state = orders::ConsignState::kProcessing;
  o.message = "processing";
  auto v = view_of(o);
  EXPECT_EQ(v.customer_id, "10001");
  EXPECT_EQ(v.sys_order_id, "C1");
  EXPECT_EQ(v.order_id, "O-1");
  EXPECT_EQ(v.status, "1");
  EXPECT_EQ(v.message, "processing");
  EXPECT_EQ(v.face_money, "100");
  EXPECT_EQ(v.real_money, "0");
  EXPECT_EQ(v.amount, "0.00");
  EXPECT_EQ(v.success_time, "0");
  EXPECT_EQ(v.custom, "c");

  o.state = orders::ConsignState::kReview;
  EXPECT_EQ(view_of(o).status, "1");
  o.state = orders::ConsignState::kSuccess;
  o.real_money_yuan = 100;
  o.amount = Money::from_fen(9650);
  o.success_time_s = 1'700'000'123;
  v = view_of(o);
  EXPECT_EQ(v.status, "2");
  EXPECT_EQ(v.real_money, "100");
  EXPECT_EQ(v.amount, "96.50");
  EXPECT_EQ(v.success_time, "1700000123");
  o.amount = Money::from_fen(9600);
  EXPECT_EQ(view_of(o).amount, "96.00");
  o.state = orders::ConsignState::kFailed;
  EXPECT_EQ(view_of(o).status, "3");
}

// ---- notify ----

TEST(ConsignCodec, NotifySigningStringOrder) {
  // message and custom are not signed.
  EXPECT_EQ(notify_signing_string(sample_view(), "SECRET"),
            "customerId=10001&sysOrderId=C1700000000000123456&orderId=ORD-1&status=2&faceMoney=100&realMoney=100"
            "&amount=96.50&successTime=1700000123&key=SECRET");
}

TEST(ConsignCodec, NotifyFieldsInOrderWithSignLast) {
  auto fields = notify_fields(sample_view(), "SECRET");
  std::vector<std::string> names;
  for (const auto& [name, value] : fields) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"customerId", "sysOrderId", "orderId", "status", "message", "faceMoney",
                                             "realMoney", "amount", "successTime", "custom", "sign"}));
  ASSERT_EQ(fields.size(), 11u);
  EXPECT_EQ(fields[0].second, "10001");
  EXPECT_EQ(fields[1].second, "C1700000000000123456");
  EXPECT_EQ(fields[2].second, "ORD-1");
  EXPECT_EQ(fields[3].second, "2");
  EXPECT_EQ(fields[4].second, "success");
  EXPECT_EQ(fields[5].second, "100");
  EXPECT_EQ(fields[6].second, "100");
  EXPECT_EQ(fields[7].second, "96.50");
  EXPECT_EQ(fields[8].second, "1700000123");
  EXPECT_EQ(fields[9].second, "my custom");
  EXPECT_EQ(fields[10].second, "A975480F0F354751E45335671D87905D");
  // The unsigned fields do not change the sign.
  auto v = sample_view();
  v.message = "other";
  v.custom = "other";
  EXPECT_EQ(notify_fields(v, "SECRET").back().second, "A975480F0F354751E45335671D87905D");
  EXPECT_NE(notify_fields(sample_view(), "OTHER").back().second, "A975480F0F354751E45335671D87905D");
}

TEST(ConsignCodec, NotifyAcknowledgedIsTrimmedSuccessInAnyCase) {
  EXPECT_TRUE(notify_acknowledged("success"));
  EXPECT_TRUE(notify_acknowledged(" SUCCESS \n"));
  EXPECT_TRUE(notify_acknowledged("Success"));
  EXPECT_TRUE(notify_acknowledged("\r\n\tsUcCeSs\r\n"));
  // PHP scripts saved as "UTF-8 with BOM" print one before anything else; the merchant did answer success.
  EXPECT_TRUE(notify_acknowledged("\xEF\xBB\xBF"
                                  "success"));
  EXPECT_TRUE(notify_acknowledged("\xEF\xBB\xBF"
                                  "SUCCESS\r\n"));
  EXPECT_FALSE(notify_acknowledged("\xEF\xBB\xBF"));
  EXPECT_FALSE(notify_acknowledged("\xEF\xBB\xBF\xEF\xBB\xBF"
                                   "success"));
  EXPECT_FALSE(notify_acknowledged(" \xEF\xBB\xBF"
                                   "success"));
  EXPECT_FALSE(notify_acknowledged("success!"));
  EXPECT_FALSE(notify_acknowledged(""));
  EXPECT_FALSE(notify_acknowledged("   \n"));
  EXPECT_FALSE(notify_acknowledged("ok"));
  EXPECT_FALSE(notify_acknowledged("succes"));
  EXPECT_FALSE(notify_acknowledged("successsuccess"));
  EXPECT_FALSE(notify_acknowledged("\"success\""));
  EXPECT_FALSE(notify_acknowledged("fail"));
}

}  // namespace
}  // namespace paygate::consign
