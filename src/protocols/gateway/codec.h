// The gateway protocol's wire format, pure: field names and their aliases, signing strings, body parsing,
// validation, responses and callback bodies. No I/O, no storage. See docs/protocols/gateway.md.
//
// Every rejection this codec makes is an Error with ErrorCode::kInvalidArgument and a message a developer can act
// on. On the wire it is `invalid_data` (payout create, both queries) or {"success":false,...} (pay-in WebAPI).
// Signature checks, merchant look-ups, duplicates and balances are the service's, which answers with the other
// codes of WireError.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/money.h"
#include "base/result.h"
#include "protocols/common/wire.h"

namespace paygate::gateway {

using Fields = protocols::Fields;

// The value of a field, or "" when absent (protocols::field).
using protocols::field;

// ---- channels ----

// The document's channel table (充值通道表). `channelId` in a pay-in and `channel` in its callback are these ids.
struct Channel {
  int id;
  std::string_view name_zh;  // as the document writes it
  std::string_view name_en;
};
inline constexpr std::array<Channel, 15> kChannels{{
    {1, "微信", "WeChat Pay"},
    {2, "支付宝", "Alipay"},
    {3, "银行卡", "Bank card"},
    {4, "支付宝红包", "Alipay red packet"},
    {5, "云闪付", "UnionPay QuickPass"},
    {6, "支付宝转银行卡", "Alipay transfer to bank card"},
    {7, "支付宝wap", "Alipay WAP"},
    {8, "微信wap", "WeChat WAP"},
    {9, "支付宝跳转", "Alipay redirect"},
    {10, "微信跳转", "WeChat redirect"},
    {11, "微信手机转账", "WeChat mobile transfer"},
    {12, "支付宝转卡飞行模式", "Alipay transfer to card (flight mode)"},
    {13, "微信赞赏码", "WeChat appreciation code"},
    {14, "支付宝固码", "Alipay fixed QR code"},
    {15, "支付宝群红包", "Alipay group red packet"},
}};
// nullptr when `id` is not in the table.
const Channel* find_channel(int id);

// ---- field names ----

// The document's parameter tables spell appKey with Cyrillic letters (U+0430 U+0440 U+0440 U+041A U+0435 U+0443)
// and channelId as "channelld" (two lowercase L); its signing strings use the Latin names. A merchant who copied a
// table may send either, so parsing accepts both and keeps only the Latin name.
inline constexpr std::string_view kAppKeyTableSpelling = "\xd0\xb0\xd1\x80\xd1\x80\xd0\x9a\xd0\xb5\xd1\x83";
inline constexpr std::string_view kChannelIdTableSpelling = "channelld";

// ---- parsing ----

// application/x-www-form-urlencoded (page mode, the query string of the queries), or multipart/form-data when
// `content_type` says so (a body). A field given twice is rejected: which of the two values was signed would be a
// guess.
Result<Fields> parse_form(std::string_view body, std::string_view content_type = {});
// A flat JSON object (WebAPI pay-in, payouts). Strings and numbers are taken as text (a number exactly as
// written: 10.50 stays "10.50"), null is an absent field; objects, arrays, booleans, repeated members and
// non-UTF-8 strings are rejected.
Result<Fields> parse_json(std::string_view body);
// JSON when the content type mentions json or the body starts with '{' (after whitespace); a form otherwise.
Result<Fields> parse_body(std::string_view content_type, std::string_view body);

// ---- signing ----
// Each signing string is name=value pairs in the document's fixed order joined by '&', then &key=SECRET. Values
// are exactly as received; an absent field contributes an empty value.

// amount, appKey, callbackUrl, channelId, mrn, returnUrl (payer is not signed)
std::string pay_in_signing_string(const Fields& f, std::string_view key);
// amount, appKey, channel, mrn, originAmount
std::string pay_in_callback_signing_string(const Fields& f, std::string_view key);
// accountName, accountNumber, amount, appKey, bankName, callbackUrl, mrn
std::string payout_signing_string(const Fields& f, std::string_view key);
// amount, appKey, mrn
std::string payout_callback_signing_string(const Fields& f, std::string_view key);
// appKey, mrn: the same string for GET /api/Payments/Query and GET /api/Payouts/Query
std::string query_signing_string(const Fields& f, std::string_view key);

// MD5, lowercase hex (the document: HEX小写).
std::string sign(std::string_view signing_string);
// Case-insensitive, constant-time comparison against the expected signature.
bool signature_matches(std::string_view received, std::string_view signing_string);

// ---- values ----

// Pay-in amount: yuan, digits with an optional point and one or two decimals, > 0, at most kMoneyFenMax.
// No sign, exponent, spaces or leading zeros ("010"); "0.5" is fine. -> fen.
Result<Money> parse_pay_in_amount(std::string_view text);
// Payout amount: a whole number of yuan, digits only, > 0, no leading zeros, at most kMoneyFenMax. "10.0" is
// rejected: the document says integer yuan, and the callback sends the integer form.
Result<Money> parse_payout_amount(std::string_view text);
// channelId: an integer of the channel table, 1..15, no sign or leading zeros.
Result<int> parse_channel_id(std::string_view text);

struct PayInRequest {
  Money amount;
  std::string amount_text;  // exactly as submitted: what was signed, sent back as originAmount
  std::string app_key;
  std::string callback_url;
  int channel_id = 0;  // in kChannels
  std::string mrn;
  std::string return_url;
  std::string payer;  // optional, unsigned; "" when absent
  std::string sign;   // as received: check with signature_matches(sign, pay_in_signing_string(...))
};
// Required: amount, appKey, callbackUrl, channelId, mrn, returnUrl, sign. Presence is checked first, in that order,
// then each value in the same order (payer last); the first problem is reported.
Result<PayInRequest> validate_pay_in(const Fields& f);

struct PayoutRequest {
  Money amount;             // whole yuan
  std::string amount_text;  // exactly as submitted
  std::string app_key;
  std::string bank_name;
  std::string account_name;
  std::string account_number;
  std::string mrn;
  std::string callback_url;
  std::string sign;
};
// Required: amount, appKey, bankName, accountName, accountNumber, mrn, callbackUrl, sign (the table's order).
// Presence first, then each value in that order.
Result<PayoutRequest> validate_payout(const Fields& f);

struct QueryRequest {
  std::string app_key;
  std::string mrn;
  bool callback = false;  // `callback=true`: send the callback again if the order is paid
  std::string sign;
};
// Required: appKey, mrn, sign. `callback` is optional: true or false in any case; absent or empty is false.
Result<QueryRequest> validate_query(const Fields& f);

// ---- responses ----

// The protocol's error codes (the document's 错误表), used by payout create and both queries.
enum class WireError {
  kInvalidData,          // invalid_data: the request data is wrong
  kSignError,            // sign_error
  kMrnDuplication,       // mrn_duplication: the mrn is taken by another request
  kInsufficientBalance,  // insufficient_balance
  kObjectNotFound,       // object_not_found: unknown appKey (and, for queries, unknown mrn)
};
std::string_view wire_error_name(WireError e);

// "/api/Pay?id=<id>&channel=<channelId>": path and query only, as the document says; both values URL-encoded.
std::string pay_url(std::string_view payment_id, int channel_id);
// {"success":true,"errorMsg":"","payUrl":"<pay_url>"}
std::string pay_in_ok_json(std::string_view pay_url);
// {"success":false,"errorMsg":"<msg>","payUrl":""}
std::string pay_in_error_json(std::string_view msg);

// {"error":"success","errorMessage":""}
std::string payout_ok_json();
// {"error":"<code>","errorMessage":"<msg>"}
std::string payout_error_json(WireError code, std::string_view msg);

enum class QueryStatus {
  kWaiting = 0,    // pay-in: waiting for the customer; payout: waiting to be paid out
  kSucceeded = 1,  // paid / paid out
  kFailed = 2,
};
// {"error":"success","result":{"Mrn":"<mrn>","status":0}}: status a JSON integer, `Mrn` with a capital M.
std::string query_ok_json(std::string_view mrn, QueryStatus status);
// {"error":"<code>","errorMessage":"<msg>","result":null}
std::string query_error_json(WireError code, std::string_view msg);

// ---- callbacks ----

struct PayInCallback {
  Money paid;  // what the customer paid: `amount`, two decimals
  std::string app_key;
  int channel_id = 0;
  std::string mrn;
  std::string origin_amount;  // the pay-in's `amount` exactly as the merchant submitted it
};
// amount, appKey, channel, mrn, originAmount, sign: the form fields in this order.
std::vector<std::pair<std::string, std::string>> pay_in_callback_fields(const PayInCallback& cb, std::string_view key);

struct PayoutCallback {
  Money amount;  // whole yuan
  std::string app_key;
  std::string mrn;
};
// amount (integer yuan), appKey, mrn, sign.
std::vector<std::pair<std::string, std::string>> payout_callback_fields(const PayoutCallback& cb, std::string_view key);

// Delivered when the merchant answers HTTP 200 with a body that, trimmed, is "success" in any case.
bool callback_acknowledged(unsigned http_status, std::string_view body);

}  // namespace paygate::gateway
