#include "protocols/cashier/codec.h"

#include <initializer_list>

#include "base/assert.h"
#include "base/clock.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "http/client.h"
#include "http/http.h"

namespace paygate::cashier {
namespace {

using protocols::describe_field;
using protocols::json_string;

Error invalid(std::string msg) {
  return make_error(ErrorCode::kInvalidArgument, std::move(msg));
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alnum(char c) {
  return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_base64_char(char c) {
  return is_alnum(c) || c == '+' || c == '/';
}

// A character of a text being decoded, for a message: printable ASCII quoted, anything else as a byte.
std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7f) return std::string("character '") + c + "'";
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0x0f];
}

Status check_query_id(std::string_view v) {
  bool ok = v.size() <= limits::kCashierQueryIdLengthMax;
  for (char c : v) ok = ok && is_alnum(c);
  if (!ok) {
    return invalid("queryid must be 1 to " + std::to_string(limits::kCashierQueryIdLengthMax) +
                   " letters and digits: the queryid of a pay response or a notification");
  }
  return ok_status();
}

void append_result_members(std::string& out, const TxnView& v) {
  PG_ASSERT(!v.amount.is_negative(), "cashier payload with a negative txnamt");
  const std::string_view msg = v.result_msg.empty() ? default_result_message(v.result) : v.result_msg;
  out += "\"resultcode\":";
  out += json_string(result_code_text(v.result));
  out += ",\"resultmsg\":";
  out += json_string(msg);
  out += ",\"queryid\":";
  out += json_string(v.query_id);
  out += ",\"txnamt\":";
  out += std::to_string(v.amount.fen());
  out += ",\"merid\":";
  out += json_string(v.merid);
  out += ",\"orderid\":";
  out += json_string(v.order_id);
}

}  // namespace

// ---- the envelope ----

Result<Fields> parse_form(std::string_view body, std::string_view content_type) {
  auto form = http::parse_form_body(content_type, body, limits::kCashierFieldsMax);
  if (!form.ok()) return invalid("request is not a valid form: " + form.error().message);
  if (auto checked = protocols::check_form_fields(form->values, form->repeated); !checked.ok()) return checked.error();
  return std::move(form->values);
}

std::string restore_plus_signs(std::string_view received) {
  std::string out(received);
  for (char& c : out) {
    if (c == ' ') c = '+';
  }
  return out;
}

Result<std::string> decode_base64_text(std::string_view name, std::string_view text) {
  const std::string n(name);
  std::string compact;  // without line breaks
  compact.reserve(text.size());
  size_t padding = 0;
  size_t first_padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') continue;
    auto at = [i] { return " at offset " + std::to_string(i); };
    if (c == '=') {
      if (padding == 0) first_padding = i;
      if (++padding > 2) {
        return invalid(n + " is not base64: a third '='" + at() + "; padding is one or two '=' at the end");
      }
    } else if (padding > 0) {
      return invalid(n + " is not base64: '=' padding may only end the text, but there is '=' at offset " +
                     std::to_string(first_padding));
    } else if (c == '%') {
      return invalid(n + " is not base64: it still contains '%' after URL decoding" + at() +
                     ", so it was URL-encoded twice; URL-encode the base64 text once");
    } else if (c == '-' || c == '_') {
      return invalid(n + " is not base64: '" + std::string(1, c) + "'" + at() +
                     " is of the URL-safe alphabet; use the standard alphabet (A-Z, a-z, 0-9, '+', '/') and "
                     "URL-encode the text");
    } else if (!is_base64_char(c)) {
      return invalid(n + " is not base64: " + describe_char(c) + at() +
                     " is not in the standard alphabet (A-Z, a-z, 0-9, '+', '/', '=' at the end)");
    }
    compact.push_back(c);
  }
  if (compact.empty()) return invalid("missing required field " + n);
  if (padding > 0 && compact.size() % 4 != 0) {
    return invalid(n + " is not base64: with '=' padding its length must be a multiple of 4, but it has " +
                   std::to_string(compact.size()) + " characters (line breaks aside)");
  }
  if (compact.size() % 4 == 1) {
    return invalid(n + " is not base64: " + std::to_string(compact.size()) +
                   " characters (line breaks aside) cannot be base64; the text is truncated or has a stray "
                   "character");
  }
  // Unpadded: pad it, so the strict decoder sees the canonical form.
  while (compact.size() % 4 != 0) compact.push_back('=');
  auto bytes = crypto::base64_decode(compact);
  if (!bytes) {
    return invalid(n +
                   " is not base64: its last character has bits set that base64 leaves zero; the text was "
                   "altered or truncated");
  }
  return std::move(*bytes);
}

Result<Fields> parse_payload(std::string_view name, std::string_view json) {
  const std::string n(name);
  auto parsed =
      protocols::parse_flat_json_object(json, {.fields_max = limits::kCashierFieldsMax});
  using protocols::FlatJsonProblem;
  switch (parsed.problem) {
    case FlatJsonProblem::kNone:
      return std::move(parsed.fields);
    case FlatJsonProblem::kNotJson:
      return invalid(n + " is base64 but not of valid JSON: " + parsed.detail);
    case FlatJsonProblem::kNotUtf8:
      return invalid("the JSON in " + n + " is not UTF-8 (" + parsed.detail +
                     "): encode the JSON in UTF-8 before base64 (not GBK)");
    case FlatJsonProblem::kNotAnObject:
      return invalid(n + " must be the base64 of a JSON object whose members are the fields");
    case FlatJsonProblem::kNotStringOrNumber:
      return invalid(describe_field(parsed.key) + " must be a string or a number, not an object, array or boolean");
    case FlatJsonProblem::kDuplicateKey:
      return invalid(describe_field(parsed.key) + " appears more than once in the JSON object; send each field once");
    case FlatJsonProblem::kTooManyFields:
      return invalid("the JSON in " + n + " has more than " + std::to_string(limits::kCashierFieldsMax) + " fields");
  }
  return invalid(n + " must be the base64 of a JSON object whose members are the fields");
}

Result<Envelope> open_envelope(const Fields& form, std::string_view name) {
  const std::string_view received = field(form, name);
  if (received.empty()) return invalid("missing required field " + std::string(name));
  if (received.size() > limits::kCashierEnvelopeBytesMax) {
    return invalid(std::string(name) + " is longer than " + std::to_string(limits::kCashierEnvelopeBytesMax) +
                   " characters");
  }
  Envelope env;
  env.text = restore_plus_signs(received);
  env.sign = field(form, kSignField);
  auto json = decode_base64_text(name, env.text);
  if (!json.ok()) return json.error();
  env.json = std::move(*json);
  auto fields = parse_payload(name, env.json);
  if (!fields.ok()) return fields.error();
  env.fields = std::move(*fields);
  return env;
}

std::string sign(std::string_view base64_text, std::string_view key) {
  std::string s;
  s.reserve(base64_text.size() + key.size());
  s += base64_text;
  s += key;
  return crypto::md5_hex_lower(s);
}

bool signature_matches(std::string_view received, std::string_view base64_text, std::string_view key) {
  return crypto::hex_equal_ci_constant_time(received, sign(base64_text, key));
}

Status check_signature(const Envelope& envelope, std::string_view key) {
  if (envelope.sign.empty()) {
    return make_error(ErrorCode::kUnauthenticated,
                      "missing required field sign: send sign = md5(req + your signing key), 32 hex digits");
  }
  if (!signature_matches(envelope.sign, envelope.text, key)) {
    return make_error(ErrorCode::kUnauthenticated,
                      "bad sign: expected the MD5 (32 hex digits) of the req text exactly as you base64-encoded it "
                      "(before URL encoding) followed by your signing key");
  }
  return ok_status();
}

SealedEnvelope seal(std::string_view json, std::string_view key) {
  SealedEnvelope e;
  e.text = crypto::base64_encode(json);
  e.sign = sign(e.text, key);
  return e;
}

SealedEnvelope seal_unsigned(std::string_view json) {
  return SealedEnvelope{crypto::base64_encode(json), ""};
}

std::string envelope_json(const SealedEnvelope& e) {
  return "{\"resp\":" + json_string(e.text) + ",\"sign\":" + json_string(e.sign) + "}";
}

std::string envelope_form(const SealedEnvelope& e) {
  return http::form_encode({{std::string(kResponseField), e.text}, {std::string(kSignField), e.sign}});
}

std::string front_notify_url(std::string_view fronturl, const SealedEnvelope& e) {
  std::string out(fronturl);
  if (out.find('?') == std::string::npos) {
    out += '?';
  } else if (out.back() != '?' && out.back() != '&') {
    out += '&';
  }
  out += envelope_form(e);
  return out;
}

// ---- requests ----

std::string_view action_name(Action a) {
  switch (a) {
    case Action::kBank:
      return "Bank";
    case Action::kWeiXin:
      return "WeiXin";
    case Action::kAliPay:
      return "AliPay";
    case Action::kArbi:
      return "Arbi";
  }
  PG_ASSERT(false, "unknown cashier Action");
  return "Arbi";
}

Result<Action> parse_action(std::string_view text) {
  for (Action a : {Action::kBank, Action::kWeiXin, Action::kAliPay, Action::kArbi}) {
    if (equals_ignoring_ascii_case(text, action_name(a))) return a;
  }
  return invalid(
      "action must be Bank (UnionPay), WeiXin (WeChat Pay), AliPay (Alipay) or Arbi (the customer chooses on the "
      "cashier page)");
}

Result<Money> parse_txnamt(std::string_view t) {
  if (t.empty()) return invalid("txnamt is empty");
  if (t[0] == '-' || t[0] == '+') {
    return invalid(
        "txnamt must be a positive whole number of fen (分) written without a sign, e.g. 1050 for 10.50 yuan");
  }
  if (t.find('.') != std::string_view::npos) {
    return invalid(
        "txnamt must be a whole number of fen (the document: int, 单位为分) without a decimal point: write 1050 for "
        "10.50 yuan, not 10.50 or 1050.0");
  }
  if (!all_ascii_digits(t)) return invalid("txnamt must be a whole number of fen written with digits only, e.g. 1050");
  if (t.size() > 1 && t[0] == '0') return invalid("txnamt must not have leading zeros: write 100, not 0100");
  auto fen = t.size() <= 18 ? parse_int64_strict(t) : std::nullopt;
  if (!fen || *fen > kMoneyFenMax) {
    return invalid("txnamt must not exceed " + std::to_string(kMoneyFenMax) + " fen (" +
                   format_yuan(Money::from_fen(kMoneyFenMax)) + " yuan)");
  }
  if (*fen == 0) return invalid("txnamt must be greater than 0");
  return Money::from_fen(*fen);
}

Result<MerchantId> parse_merid(std::string_view t) {
  auto id = !t.empty() && t.size() <= 18 && all_ascii_digits(t) && t[0] != '0' ? parse_int64_strict(t) : std::nullopt;
  if (!id) {
    return invalid(
        "merid must be the merchant number the platform gave you: digits only, no leading zeros (e.g. 10001)");
  }
  return MerchantId(*id);
}

Status check_order_id(std::string_view t) {
  for (char c : t) {
    if (!is_alnum(c)) {
      return invalid(
          "orderid must be letters and digits only (A-Z, a-z, 0-9): no '-', '_', spaces or other characters");
    }
  }
  if (t.size() < limits::kCashierOrderIdLengthMin) {
    return invalid("orderid is shorter than " + std::to_string(limits::kCashierOrderIdLengthMin) + " characters");
  }
  if (t.size() > limits::kCashierOrderIdLengthMax) {
    return invalid("orderid is longer than " + std::to_string(limits::kCashierOrderIdLengthMax) + " characters");
  }
  return ok_status();
}

Result<std::string> parse_id_number(std::string_view t) {
  if (t.size() == 15 && all_ascii_digits(t)) {
    return invalid(
        "accno has 15 digits, a first-generation ID number (no longer valid since 2013): send the 18-character "
        "resident ID number (身份证号)");
  }
  const bool shape =
      t.size() == 18 && all_ascii_digits(t.substr(0, 17)) && (is_digit(t[17]) || t[17] == 'X' || t[17] == 'x');
  if (!shape) {
    return invalid(
        "accno must be the 18-character resident ID number (身份证号): 17 digits and a check digit, 0-9 or X, "
        "without spaces");
  }
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (t[i] - '0') * kWeights[i];
  std::string out(t);
  if (out[17] == 'x') out[17] = 'X';
  if (out[17] != kCheck[sum % 11]) {
    return invalid(
        "accno's check digit (the 18th character) does not match its first 17 digits: the ID number "
        "has a typo");
  }
  return out;
}

Result<PayRequest> validate_pay(const Fields& f) {
  PG_TRY(protocols::require_fields(f, {"action", "txnamt", "merid", "orderid", "backurl"}));
  const bool has_name = !field(f, "accname").empty();
  const bool has_no = !field(f, "accno").empty();
  if (has_name != has_no) {
    return invalid(std::string(has_name ? "accno" : "accname") +
                   " is missing: a bound-card payment (绑卡付) needs both accname and accno, an ordinary payment "
                   "neither");
  }
  PayRequest r;
  auto action = parse_action(field(f, "action"));
  if (!action.ok()) return action.error();
  r.action = *action;
  auto amount = parse_txnamt(field(f, "txnamt"));
  if (!amount.ok()) return amount.error();
  r.amount = *amount;
  auto merid = parse_merid(field(f, "merid"));
  if (!merid.ok()) return merid.error();
  r.merchant_id = *merid;
  r.order_id = field(f, "orderid");
  PG_TRY(check_order_id(r.order_id));
  r.back_url = field(f, "backurl");
  PG_TRY(protocols::check_http_url("backurl", r.back_url, limits::kCashierUrlBytesMax));
  r.front_url = field(f, "fronturl");
  if (!r.front_url.empty()) PG_TRY(protocols::check_http_url("fronturl", r.front_url, limits::kCashierUrlBytesMax));
  if (has_name) {
    r.acc_name = field(f, "accname");
    PG_TRY(protocols::check_text("accname", r.acc_name, limits::kCashierAccNameBytesMax));
    auto acc_no = parse_id_number(field(f, "accno"));
    if (!acc_no.ok()) return acc_no.error();
    r.acc_no = std::move(*acc_no);
  }
  return r;
}

Result<QueryRequest> validate_query(const Fields& f) {
  PG_TRY(protocols::require_fields(f, {"merid"}));
  const std::string_view query_id = field(f, "queryid");
  const std::string_view order_id = field(f, "orderid");
  if (query_id.empty() && order_id.empty()) {
    return invalid("missing queryid and orderid: send at least one (queryid wins when both are sent)");
  }
  QueryRequest r;
  auto merid = parse_merid(field(f, "merid"));
  if (!merid.ok()) return merid.error();
  r.merchant_id = *merid;
  if (!query_id.empty()) {
    PG_TRY(check_query_id(query_id));
    r.query_id = query_id;
  } else {
    PG_TRY(check_order_id(order_id));
    r.order_id = order_id;
  }
  return r;
}

// ---- results, responses, notifications ----

std::string_view result_code_text(ResultCode c) {
  switch (c) {
    case ResultCode::kPaid:
      return "0000";
    case ResultCode::kUnpaid:
      return "1001";
    case ResultCode::kPaidPending:
      return "1002";
    case ResultCode::kFailed:
      return "1003";
    case ResultCode::kHeld:
      return "1004";
  }
  PG_ASSERT(false, "unknown cashier ResultCode");
  return "1003";
}

std::string_view default_result_message(ResultCode c) {
  switch (c) {
    case ResultCode::kPaid:
      return "交易成功";
    case ResultCode::kUnpaid:
      return "未支付";
    case ResultCode::kPaidPending:
      return "交易处理中";
    case ResultCode::kFailed:
      return "交易失败";
    case ResultCode::kHeld:
      return "协查调单";
  }
  PG_ASSERT(false, "unknown cashier ResultCode");
  return "交易失败";
}

std::string format_paytime(int64_t paid_at_ms, int utc_offset_minutes) {
  PG_ASSERT(paid_at_ms >= 0, "paytime before 1970");
  PG_ASSERT(utc_offset_minutes >= -14 * 60 && utc_offset_minutes <= 14 * 60, "UTC offset beyond +-14 hours");
  if (paid_at_ms == 0) return "";
  return format_local_datetime(paid_at_ms / 1000, utc_offset_minutes);
}

std::string pay_result_json(const TxnView& v) {
  std::string out = "{";
  append_result_members(out, v);
  out += '}';
  return out;
}

std::string back_notify_json(const TxnView& v, int utc_offset_minutes) {
  std::string out = "{";
  append_result_members(out, v);
  out += ",\"paytime\":";
  out += json_string(format_paytime(v.paid_at_ms, utc_offset_minutes));
  out += '}';
  return out;
}

TxnView refused_pay_view(std::string_view message, const Fields& request) {
  TxnView v;
  v.result = ResultCode::kFailed;
  v.result_msg = message;
  if (auto amount = parse_txnamt(field(request, "txnamt")); amount.ok()) v.amount = *amount;
  if (auto merid = parse_merid(field(request, "merid")); merid.ok()) v.merid = std::to_string(merid->value());
  if (const std::string_view order_id = field(request, "orderid"); check_order_id(order_id).ok()) {
    v.order_id = order_id;
  }
  return v;
}

std::string_view resp_code_text(RespCode c) {
  switch (c) {
    case RespCode::kOk:
      return "00";
    case RespCode::kBadRequest:
      return "01";
    case RespCode::kBadSign:
      return "02";
    case RespCode::kUnknownMerchant:
      return "03";
    case RespCode::kNotFound:
      return "04";
    case RespCode::kBusy:
      return "99";
  }
  PG_ASSERT(false, "unknown cashier RespCode");
  return "01";
}

std::string query_ok_json(const TxnView& v, int utc_offset_minutes) {
  std::string out = "{\"respcode\":\"00\",\"respmsg\":";
  out += json_string(kQueryOkMessage);
  out += ',';
  append_result_members(out, v);
  out += ",\"paytime\":";
  out += json_string(format_paytime(v.paid_at_ms, utc_offset_minutes));
  out += '}';
  return out;
}

std::string query_error_json(RespCode code, std::string_view msg) {
  PG_ASSERT(code != RespCode::kOk, "a query error with respcode 00");
  return "{\"respcode\":" + json_string(resp_code_text(code)) + ",\"respmsg\":" + json_string(msg) + "}";
}

bool back_notify_acknowledged(std::string_view body) {
  return protocols::trimmed_equals_ignoring_case(body, "0000");
}

int64_t back_notify_delay_ms(int attempts_made) {
  PG_ASSERT(attempts_made >= 0, "a negative number of notify attempts");
  if (attempts_made == 0) return 0;
  if (attempts_made <= 3) return 10'000;
  if (attempts_made <= 6) return 60'000;
  return 180'000;
}

}  // namespace paygate::cashier
