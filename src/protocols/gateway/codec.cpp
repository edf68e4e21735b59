#include "protocols/gateway/codec.h"

#include <initializer_list>

#include "base/limits.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "http/client.h"
#include "http/http.h"

namespace paygate::gateway {
namespace {

using protocols::json_string;

Error invalid(std::string msg) {
  return make_error(ErrorCode::kInvalidArgument, std::move(msg));
}

// How a field the merchant sent is named in a message. Names are echoed only when they are short printable ASCII
// or a known spelling, so a message never carries arbitrary bytes.
std::string describe_field(std::string_view name) {
  if (name == kAppKeyTableSpelling) return "field " + std::string(name);
  return protocols::describe_field(name);
}

// The table spellings become the Latin names the signing strings use. Both spellings with one value is the same
// field sent twice, which is harmless; with two values nobody can tell which one was signed.
Result<Fields> normalize_aliases(Fields f) {
  static constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
      {"appKey", kAppKeyTableSpelling},
      {"channelId", kChannelIdTableSpelling},
  };
  for (const auto& [latin, table] : kAliases) {
    auto alias = f.find(table);
    if (alias == f.end()) continue;
    auto it = f.find(latin);
    const bool latin_sent = it != f.end();
    if (latin_sent && it->second != alias->second) {
      return invalid(std::string(latin) + " is sent twice with different values, as " + std::string(latin) +
                     " and as " + std::string(table) + " (the document table's spelling); send it once, as " +
                     std::string(latin));
    }
    // Erased before the Latin name is added: an insertion moves the fields after it (Fields is a sorted vector).
    std::string value = std::move(alias->second);
    f.erase(alias);
    if (!latin_sent) f.emplace(std::string(latin), std::move(value));
  }
  return f;
}

std::string signing_string(const Fields& f, std::initializer_list<std::string_view> names, std::string_view key) {
  std::string s;
  s.reserve(256);
  for (std::string_view name : names) {
    if (!s.empty()) s += '&';
    s += name;
    s += '=';
    s += field(f, name);
  }
  s += "&key=";
  s += key;
  return s;
}

Status check_app_key(std::string_view v) {
  if (!is_printable_ascii_no_space(v) || v.size() > limits::kGatewayAppKeyLengthMax) {
    return invalid(
        "appKey must be at most 64 printable ASCII characters without spaces: use the appKey your account "
        "was given");
  }
  return ok_status();
}

Status check_mrn(std::string_view v) {
  // Printable ASCII first: a Chinese mrn is "not ASCII" even when it is also "too long" in bytes.
  if (!is_printable_ascii_no_space(v)) {
    return invalid("mrn must be printable ASCII without spaces (letters, digits and punctuation)");
  }
  if (v.size() > limits::kGatewayMrnLengthMax) return invalid("mrn is longer than 64 characters");
  return ok_status();
}

std::string too_large_message(bool whole_yuan) {
  Money max = Money::from_fen(kMoneyFenMax);
  return "amount must not exceed " + (whole_yuan ? format_whole_yuan(max) : format_yuan(max)) + " yuan";
}

}  // namespace

const Channel* find_channel(int id) {
  for (const Channel& c : kChannels) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

// ---- parsing ----

Result<Fields> parse_form(std::string_view body, std::string_view content_type) {
  auto form = http::parse_form_body(content_type, body, limits::kGatewayFieldsMax);
  if (!form.ok()) return invalid("request body is not a valid form: " + form.error().message);
  if (auto checked = protocols::check_form_fields(form->values, form->repeated); !checked.ok()) return checked.error();
  return normalize_aliases(std::move(form->values));
}

Result<Fields> parse_json(std::string_view body) {
  auto parsed =
      protocols::parse_flat_json_object(body, {.fields_max = limits::kGatewayFieldsMax});
  using protocols::FlatJsonProblem;
  switch (parsed.problem) {
    case FlatJsonProblem::kNone:
      return normalize_aliases(std::move(parsed.fields));
    case FlatJsonProblem::kNotJson:
      return invalid("request body is not valid JSON: " + parsed.detail);
    case FlatJsonProblem::kNotUtf8:
      return invalid("request body is not UTF-8 (" + parsed.detail + "): send JSON encoded in UTF-8");
    case FlatJsonProblem::kNotAnObject:
      return invalid("request body must be a JSON object whose members are the request fields");
    case FlatJsonProblem::kNotStringOrNumber:
      return invalid(describe_field(parsed.key) + " must be a string or a number, not an object, array or boolean");
    case FlatJsonProblem::kDuplicateKey:
      return invalid(describe_field(parsed.key) + " appears more than once in the JSON object; send each field once");
    case FlatJsonProblem::kTooManyFields:
      return invalid("request body has more than " + std::to_string(limits::kGatewayFieldsMax) + " fields");
  }
  return invalid("request body must be a JSON object whose members are the request fields");
}

Result<Fields> parse_body(std::string_view content_type, std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  bool json =
      content_type.find("json") != std::string_view::npos || (first != std::string_view::npos && body[first] == '{');
  return json ? parse_json(body) : parse_form(body, content_type);
}

// ---- signing ----

std::string pay_in_signing_string(const Fields& f, std::string_view key) {
  return signing_string(f, {"amount", "appKey", "callbackUrl", "channelId", "mrn", "returnUrl"}, key);
}

std::string pay_in_callback_signing_string(const Fields& f, std::string_view key) {
  return signing_string(f, {"amount", "appKey", "channel", "mrn", "originAmount"}, key);
}

std::string payout_signing_string(const Fields& f, std::string_view key) {
  return signing_string(f, {"accountName", "accountNumber", "amount", "appKey", "bankName", "callbackUrl", "mrn"}, key);
}

std::string payout_callback_signing_string(const Fields& f, std::string_view key) {
  return signing_string(f, {"amount", "appKey", "mrn"}, key);
}

std::string query_signing_string(const Fields& f, std::string_view key) {
  return signing_string(f, {"appKey", "mrn"}, key);
}

std::string sign(std::string_view signing_string) {
  return crypto::md5_hex_lower(signing_string);
}

bool signature_matches(std::string_view received, std::string_view signing_string) {
  return crypto::hex_equal_ci_constant_time(received, sign(signing_string));
}

// ---- values ----

namespace {

// The advice for an amount written with leading zeros (only digits and a point, checked before): "010" is 10,
// "00.50" is 0.50. A long one is not echoed.
std::string leading_zeros_message(std::string_view t) {
  static constexpr size_t kEchoBytesMax = 24;
  if (t.size() > kEchoBytesMax) return "amount must not have leading zeros";
  size_t i = 0;
  while (i + 1 < t.size() && t[i] == '0' && t[i + 1] != '.') ++i;
  return "amount must not have leading zeros: write " + std::string(t.substr(i)) + ", not " + std::string(t);
}

}  // namespace

Result<Money> parse_pay_in_amount(std::string_view t) {
  if (t.empty()) return invalid("amount is empty");
  if (t[0] == '-' || t[0] == '+') {
    return invalid("amount must be a positive number of yuan written without a sign, e.g. 10.50");
  }
  if (t[0] == '.') return invalid("amount must start with a digit: write 0.5, not .5");
  const size_t dot = t.find('.');
  std::string_view whole = t.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : t.substr(dot + 1);
  if (!all_ascii_digits(whole) || !all_ascii_digits(frac)) {
    return invalid(
        "amount must be yuan written with digits and an optional decimal point, e.g. 10 or 10.50 "
        "(no spaces, exponent or thousands separators)");
  }
  if (dot != std::string_view::npos && frac.empty()) {
    return invalid("amount must not end with a decimal point: write 5 or 5.00");
  }
  if (frac.size() > 2) return invalid("amount has more than two decimals: yuan are counted to the fen (0.01)");
  if (whole.size() > 1 && whole[0] == '0') return invalid(leading_zeros_message(t));
  // 9 digits of yuan hold kMoneyFenMax (100000000.00); more cannot fit, and parse_yuan must not see them.
  if (whole.size() > 9) return invalid(too_large_message(false));
  auto m = parse_yuan(t, 2);
  if (!m.ok()) return invalid(too_large_message(false));  // the grammar is checked above: only the bound is left
  if (m->is_zero()) return invalid("amount must be greater than 0");
  return *m;
}

Result<Money> parse_payout_amount(std::string_view t) {
  if (t.empty()) return invalid("amount is empty");
  if (t[0] == '-' || t[0] == '+') {
    return invalid("amount must be a positive whole number of yuan written without a sign, e.g. 100");
  }
  if (t.find('.') != std::string_view::npos) {
    return invalid(
        "amount must be a whole number of yuan without a decimal point (the document: 必须是整数, "
        "单位:元): write 10, not 10.0 or 10.00");
  }
  if (!all_ascii_digits(t)) return invalid("amount must be a whole number of yuan written with digits only, e.g. 100");
  if (t.size() > 1 && t[0] == '0') return invalid(leading_zeros_message(t));
  if (t.size() > 9) return invalid(too_large_message(true));
  auto yuan = parse_int64_strict(t);
  auto m = yuan ? Money::from_yuan(*yuan) : std::nullopt;
  if (!m || m->fen() > kMoneyFenMax) return invalid(too_large_message(true));
  if (m->is_zero()) return invalid("amount must be greater than 0");
  return *m;
}

Result<int> parse_channel_id(std::string_view t) {
  if (t.empty()) return invalid("channelId is empty");
  if (!all_ascii_digits(t) || (t.size() > 1 && t[0] == '0')) {
    return invalid("channelId must be an integer written with digits only: an id from the channel table, 1 to 15");
  }
  auto id = t.size() <= 2 ? parse_int64_strict(t) : std::nullopt;
  if (!id || !find_channel(static_cast<int>(*id))) {
    return invalid("channelId must be an id from the channel table, 1 to 15");
  }
  return static_cast<int>(*id);
}

Result<PayInRequest> validate_pay_in(const Fields& f) {
  PG_TRY(protocols::require_fields(f, {"amount", "appKey", "callbackUrl", "channelId", "mrn", "returnUrl", "sign"}));
  PayInRequest r;
  r.amount_text = field(f, "amount");
  auto amount = parse_pay_in_amount(r.amount_text);
  if (!amount.ok()) return amount.error();
  r.amount = *amount;
  r.app_key = field(f, "appKey");
  PG_TRY(check_app_key(r.app_key));
  r.callback_url = field(f, "callbackUrl");
  PG_TRY(protocols::check_http_url("callbackUrl", r.callback_url, limits::kGatewayUrlBytesMax));
  auto channel = parse_channel_id(field(f, "channelId"));
  if (!channel.ok()) return channel.error();
  r.channel_id = *channel;
  r.mrn = field(f, "mrn");
  PG_TRY(check_mrn(r.mrn));
  r.return_url = field(f, "returnUrl");
  PG_TRY(protocols::check_http_url("returnUrl", r.return_url, limits::kGatewayUrlBytesMax));
  r.payer = field(f, "payer");
  PG_TRY(protocols::check_text("payer", r.payer, limits::kGatewayPayerBytesMax));
  r.sign = field(f, "sign");
  return r;
}

Result<PayoutRequest> validate_payout(const Fields& f) {
  PG_TRY(protocols::require_fields(
      f, {"amount", "appKey", "bankName", "accountName", "accountNumber", "mrn", "callbackUrl", "sign"}));
  PayoutRequest r;
  r.amount_text = field(f, "amount");
  auto amount = parse_payout_amount(r.amount_text);
  if (!amount.ok()) return amount.error();
  r.amount = *amount;
  r.app_key = field(f, "appKey");
  PG_TRY(check_app_key(r.app_key));
  r.bank_name = field(f, "bankName");
  PG_TRY(protocols::check_text("bankName", r.bank_name, limits::kGatewayBankTextBytesMax));
  r.account_name = field(f, "accountName");
  PG_TRY(protocols::check_text("accountName", r.account_name, limits::kGatewayBankTextBytesMax));
  r.account_number = field(f, "accountNumber");
  if (!all_ascii_digits(r.account_number) || r.account_number.size() < limits::kGatewayAccountNumberDigitsMin ||
      r.account_number.size() > limits::kGatewayAccountNumberDigitsMax) {
    return invalid("accountNumber must be 8 to 32 digits, without spaces or dashes");
  }
  r.mrn = field(f, "mrn");
  PG_TRY(check_mrn(r.mrn));
  r.callback_url = field(f, "callbackUrl");
  PG_TRY(protocols::check_http_url("callbackUrl", r.callback_url, limits::kGatewayUrlBytesMax));
  r.sign = field(f, "sign");
  return r;
}

Result<QueryRequest> validate_query(const Fields& f) {
  PG_TRY(protocols::require_fields(f, {"appKey", "mrn", "sign"}));
  QueryRequest r;
  r.app_key = field(f, "appKey");
  PG_TRY(check_app_key(r.app_key));
  r.mrn = field(f, "mrn");
  PG_TRY(check_mrn(r.mrn));
  // The document writes true/false; the original platform's framework reads booleans in any case.
  std::string_view callback = field(f, "callback");
  if (equals_ignoring_ascii_case(callback, "true")) {
    r.callback = true;
  } else if (!callback.empty() && !equals_ignoring_ascii_case(callback, "false")) {
    return invalid("callback must be true or false");
  }
  r.sign = field(f, "sign");
  return r;
}

// ---- responses ----

std::string_view wire_error_name(WireError e) {
  switch (e) {
    case WireError::kInvalidData:
      return "invalid_data";
    case WireError::kSignError:
      return "sign_error";
    case WireError::kMrnDuplication:
      return "mrn_duplication";
    case WireError::kInsufficientBalance:
      return "insufficient_balance";
    case WireError::kObjectNotFound:
      return "object_not_found";
  }
  PG_ASSERT(false, "unknown WireError");
  return "invalid_data";
}

std::string pay_url(std::string_view payment_id, int channel_id) {
  return "/api/Pay?id=" + http::url_encode(payment_id) + "&channel=" + std::to_string(channel_id);
}

std::string pay_in_ok_json(std::string_view pay_url) {
  return "{\"success\":true,\"errorMsg\":\"\",\"payUrl\":" + json_string(pay_url) + "}";
}

std::string pay_in_error_json(std::string_view msg) {
  return "{\"success\":false,\"errorMsg\":" + json_string(msg) + ",\"payUrl\":\"\"}";
}

std::string payout_ok_json() {
  return R"({"error":"success","errorMessage":""})";
}

std::string payout_error_json(WireError code, std::string_view msg) {
  return "{\"error\":" + json_string(wire_error_name(code)) + ",\"errorMessage\":" + json_string(msg) + "}";
}

std::string query_ok_json(std::string_view mrn, QueryStatus status) {
  return "{\"error\":\"success\",\"result\":{\"Mrn\":" + json_string(mrn) +
         ",\"status\":" + std::to_string(static_cast<int>(status)) + "}}";
}

std::string query_error_json(WireError code, std::string_view msg) {
  return "{\"error\":" + json_string(wire_error_name(code)) + ",\"errorMessage\":" + json_string(msg) +
         ",\"result\":null}";
}

// ---- callbacks ----

std::vector<std::pair<std::string, std::string>> pay_in_callback_fields(const PayInCallback& cb, std::string_view key) {
  PG_ASSERT(!cb.paid.is_negative(), "pay-in callback with a negative paid amount");
  Fields f{
      {"amount", format_yuan(cb.paid)},           {"appKey", cb.app_key},
      {"channel", std::to_string(cb.channel_id)}, {"mrn", cb.mrn},
      {"originAmount", cb.origin_amount},
  };
  std::string signature = sign(pay_in_callback_signing_string(f, key));
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* name : {"amount", "appKey", "channel", "mrn", "originAmount"}) {
    out.emplace_back(name, std::move(f[name]));
  }
  out.emplace_back("sign", std::move(signature));
  return out;
}

std::vector<std::pair<std::string, std::string>> payout_callback_fields(const PayoutCallback& cb,
                                                                        std::string_view key) {
  PG_ASSERT(!cb.amount.is_negative(), "payout callback with a negative amount");
  Fields f{
      {"amount", format_whole_yuan(cb.amount)},
      {"appKey", cb.app_key},
      {"mrn", cb.mrn},
  };
  std::string signature = sign(payout_callback_signing_string(f, key));
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* name : {"amount", "appKey", "mrn"}) out.emplace_back(name, std::move(f[name]));
  out.emplace_back("sign", std::move(signature));
  return out;
}

bool callback_acknowledged(unsigned http_status, std::string_view body) {
  return http_status == 200 && protocols::trimmed_equals_ignoring_case(body, "success");
}

}  // namespace paygate::gateway
