// The cashier protocol's wire format, pure: the req/resp envelope (base64 of a JSON object, signed with
// md5(base64 text + key)), request validation, the response and notification payloads, the front notify URL, the
// back notify body, its acknowledgement and its retry schedule. No I/O, no storage. See docs/protocols/cashier.md.
//
// Every rejection of a request is an Error with ErrorCode::kInvalidArgument and a message a developer can act on
// (on the wire: resultcode 1003 for a payment, respcode "01" for a query); check_signature's are
// ErrorCode::kUnauthenticated (respcode "02"). Merchant look-ups, permissions and duplicates are the service's.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "base/ids.h"
#include "base/limits.h"
#include "base/money.h"
#include "base/result.h"
#include "protocols/common/wire.h"

namespace paygate::cashier {

using Fields = protocols::Fields;

// The value of a field, or "" when absent (protocols::field).
using protocols::field;

// ---- the envelope ----
// A request is a form (POST /api/icashier, POST /api/query) or a query string (GET /apis/icashier) with two
// fields: `req`, the standard base64 (with '=' padding) of the UTF-8 JSON request, and `sign` = md5(req + key), 32
// hex digits. Responses and notifications are the same with `resp` instead of `req`.

inline constexpr std::string_view kRequestField = "req";
inline constexpr std::string_view kResponseField = "resp";
inline constexpr std::string_view kSignField = "sign";

// application/x-www-form-urlencoded body or query string ('+' and %XX decoded), or a multipart/form-data body
// when `content_type` says so. A field given twice is rejected; more than limits::kCashierFieldsMax fields too.
Result<Fields> parse_form(std::string_view body, std::string_view content_type = {});

// The base64 text as the merchant produced (and signed) it, from the value received after form decoding: every
// space becomes '+' again. A '+' that was not URL-encoded (raw base64 pasted into a query string or a form body)
// reaches us as a space; base64 has no spaces, so a space can only have been a '+'.
std::string restore_plus_signs(std::string_view received);

// Decodes a base64 text (already through restore_plus_signs). The standard alphabet; '=' padding may be complete
// or left out entirely (not partial); CR and LF are skipped wherever they are (MIME-style line wrapping, as
// sun.misc.BASE64Encoder, PHP chunk_split and `openssl base64` produce); anything else (tabs, '-' and '_' of the
// URL-safe alphabet, '%' of a second URL encoding, a misplaced '=', a last character with stray low bits) is
// rejected with a message that says which character where. `name` ("req", "resp") is for the messages.
Result<std::string> decode_base64_text(std::string_view name, std::string_view text);

// The decoded JSON: one flat object whose members are strings or numbers, taken as text (a number exactly as
// written: 100 is "100", 1.0 is "1.0"), null as an absent member; objects, arrays, booleans, repeated members,
// more than limits::kCashierFieldsMax members and non-UTF-8 text are rejected.
Result<Fields> parse_payload(std::string_view name, std::string_view json);

struct Envelope {
  std::string text;  // the base64 text as signed: the received value through restore_plus_signs
  std::string sign;  // as received; "" when absent (check_signature says so)
  std::string json;  // the decoded bytes
  Fields fields;     // the JSON object's members
};
// `name` is kRequestField for what merchants send; kResponseField reads what we send (tests, tools). Checks, in
// order: the field is present and not empty, at most limits::kCashierEnvelopeBytesMax bytes, base64, a flat JSON
// object. `sign` is not checked here: the key belongs to the merchant named inside the JSON, so the service opens
// the envelope, validates the fields, looks the merchant up, then calls check_signature.
Result<Envelope> open_envelope(const Fields& form, std::string_view name = kRequestField);

// md5(base64_text + key), lowercase hex (the document: md5(base64 后的报文 + 密钥), 32 位).
std::string sign(std::string_view base64_text, std::string_view key);
// Case-insensitive, constant-time comparison of a received signature with sign(base64_text, key).
bool signature_matches(std::string_view received, std::string_view base64_text, std::string_view key);
// The envelope's sign against the merchant's key: ok, or ErrorCode::kUnauthenticated with "missing required
// field sign: ..." or "bad sign: ...".
Status check_signature(const Envelope& envelope, std::string_view key);

// What we send: `text` = base64(json), `sign` = sign(text, key), or "" when the merchant could not be
// identified (unknown or malformed merid, a req that does not decode: DECISIONS.md).
struct SealedEnvelope {
  std::string text;
  std::string sign;
};
SealedEnvelope seal(std::string_view json, std::string_view key);
SealedEnvelope seal_unsigned(std::string_view json);
// {"resp":"<text>","sign":"<sign>"}: the body of a JSON pay response and of a query response.
std::string envelope_json(const SealedEnvelope& e);
// resp=<text, URL-encoded>&sign=<sign>: the back notify's form body.
std::string envelope_form(const SealedEnvelope& e);
// The front notify redirect: fronturl, then '?' ('&' when fronturl already has a '?'; nothing when it ends with
// '?' or '&'), then resp=<text, URL-encoded>&sign=<sign>. Appended at the very end, as the document concatenates
// it: a fronturl with a '#fragment' gets the parameters inside the fragment (what a hash-routed page reads).
std::string front_notify_url(std::string_view fronturl, const SealedEnvelope& e);

// ---- requests ----

// `action`: how the customer pays. The document's spellings; parsing ignores ASCII case.
enum class Action {
  kBank,    // Bank: 银联 (UnionPay)
  kWeiXin,  // WeiXin: 微信 (WeChat Pay)
  kAliPay,  // AliPay: 支付宝 (Alipay)
  kArbi,    // Arbi: the customer picks among the merchant's enabled methods on the cashier page
};
std::string_view action_name(Action a);  // "Bank", "WeiXin", "AliPay", "Arbi"
Result<Action> parse_action(std::string_view text);

// txnamt: integer fen (分), digits only, > 0, no sign, decimal point, exponent or leading zeros, at most
// kMoneyFenMax. The same text whether the JSON member was a number (100) or a string ("100").
Result<Money> parse_txnamt(std::string_view text);
// merid: the numeric merchant id, digits only, > 0, no leading zeros; a JSON string or number.
Result<MerchantId> parse_merid(std::string_view text);
// orderid: limits::kCashierOrderIdLengthMin..Max ASCII letters and digits.
Status check_order_id(std::string_view text);
// accno: the 18-character resident ID number (身份证号): 17 digits and a check digit (0-9 or X, any case) that
// matches them (GB 11643-1999, ISO 7064 MOD 11-2). -> the number with an upper-case X.
Result<std::string> parse_id_number(std::string_view text);

struct PayRequest {
  Action action = Action::kArbi;
  Money amount;            // txnamt
  MerchantId merchant_id;  // merid
  std::string order_id;    // orderid
  std::string back_url;    // backurl
  std::string front_url;   // fronturl; "" when absent
  std::string acc_name;    // accname; bound-card payment (绑卡付) only, else ""
  std::string acc_no;      // accno, upper-case X; set exactly when acc_name is
  bool bound_card() const { return !acc_no.empty(); }
};
// Presence first, in the document table's order (action, txnamt, merid, orderid, backurl; then accname and accno
// come together or not at all), then each value in that order; the first problem is reported. An absent member,
// null and "" are the same. Unknown members are ignored.
Result<PayRequest> validate_pay(const Fields& f);

struct QueryRequest {
  MerchantId merchant_id;  // merid
  std::string query_id;    // queryid; wins when given
  std::string order_id;    // orderid; "" when queryid is given (then ignored unchecked, as the document says)
};
// merid, then at least one of queryid and orderid.
Result<QueryRequest> validate_query(const Fields& f);

// ---- results, responses, notifications ----

// resultcode: the document's table.
enum class ResultCode {
  kPaid,         // 0000 交易成功: paid, settled to the merchant's available balance
  kUnpaid,       // 1001 未支付: not paid (yet)
  kPaidPending,  // 1002 交易处理中: paid, settled to the unavailable (pending) balance
  kFailed,       // 1003 交易失败: failed; also a refused request
  kHeld,         // 1004 协查调单: held for investigation, funds frozen
};
std::string_view result_code_text(ResultCode c);  // "0000", "1001", ...
std::string_view default_result_message(ResultCode c);  // 交易成功, 未支付, 交易处理中, 交易失败, 协查调单

// paytime's time zone: the platform's, a fixed UTC offset in minutes; Asia/Shanghai by default.
inline constexpr int kDefaultUtcOffsetMinutes = 480;

// One transaction as the payloads show it.
struct TxnView {
  ResultCode result = ResultCode::kUnpaid;
  std::string result_msg;  // resultmsg; "" means default_result_message(result)
  std::string query_id;    // queryid: the platform's transaction number; "" for a refused request
  Money amount;            // txnamt, fen, a JSON integer
  std::string merid;       // the merchant id in decimal, a JSON string
  std::string order_id;    // orderid
  int64_t paid_at_ms = 0;  // Unix ms of the payment; 0 when not paid: paytime ""
};

// "yyyy-MM-dd HH:mm:ss" of paid_at_ms at the offset, or "" when paid_at_ms is 0.
std::string format_paytime(int64_t paid_at_ms, int utc_offset_minutes = kDefaultUtcOffsetMinutes);

// The pay response and the front notify (3.2.3):
// {"resultcode":"0000","resultmsg":"交易成功","queryid":"...","txnamt":100,"merid":"10001","orderid":"..."}
std::string pay_result_json(const TxnView& v);
// The back notify (3.3.3): the same members, then "paytime".
std::string back_notify_json(const TxnView& v, int utc_offset_minutes = kDefaultUtcOffsetMinutes);

// The answer to a payment request the platform refused (bad envelope, bad field, bad sign, unknown merchant, a
// duplicate orderid, no permission): resultcode 1003, resultmsg the reason, queryid "", and txnamt, merid and
// orderid echoed from the request when each is valid (txnamt 0 and "" otherwise).
TxnView refused_pay_view(std::string_view message, const Fields& request);

// respcode of a query response: "00" success, any other a failure explained by respmsg.
enum class RespCode {
  kOk,               // 00
  kBadRequest,       // 01: the envelope or a field is malformed
  kBadSign,          // 02: sign missing or wrong
  kUnknownMerchant,  // 03: merid unknown or the merchant account disabled
  kNotFound,         // 04: no such queryid / orderid for this merchant
  kBusy,             // 99: the platform cannot answer now; query again later
};
std::string_view resp_code_text(RespCode c);  // "00", "01", ...
inline constexpr std::string_view kQueryOkMessage = "成功";

// The query response (3.4.4): {"respcode":"00","respmsg":"成功", the back notify's members}.
std::string query_ok_json(const TxnView& v, int utc_offset_minutes = kDefaultUtcOffsetMinutes);
// {"respcode":"<code>","respmsg":"<msg>"}; code is not kOk.
std::string query_error_json(RespCode code, std::string_view msg);

// The back notify is delivered when the merchant's answer body, with spaces, tabs, CR and LF (and a UTF-8 byte
// order mark) trimmed, is exactly 0000, whatever the HTTP status.
bool back_notify_acknowledged(std::string_view body);

// The back notify's schedule (3.3.1): attempt 1 at once, attempts 2-4 10 s apart, 5-7 1 min apart, 8-10 3 min
// apart; 10 attempts at most (12.5 minutes from the first to the last).
inline constexpr int kBackNotifyAttemptsMax = 10;
static_assert(kBackNotifyAttemptsMax <= limits::kNotifyAttemptsMax);
// The wait before the next attempt after `attempts_made` failed ones: 0 for 0 (the first attempt), 10 s after
// 1-3, 60 s after 4-6, 180 s after 7 and more. Whether another attempt is due at all (attempts_made <
// kBackNotifyAttemptsMax) is the caller's check.
int64_t back_notify_delay_ms(int attempts_made);

}  // namespace paygate::cashier
