#include "protocols/consign/codec.h"

#include "crypto/crypto.h"
#include "http/http.h"
#include "protocols/common/wire.h"

namespace paygate::consign {
namespace {

using protocols::describe_field;
using protocols::json_string;

void append_pair(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out += '&';
  out += name;
  out += '=';
  out += value;
}

}  // namespace

std::string submit_signing_string(const Fields& f, std::string_view key) {
  std::string s;
  s.reserve(256);
  append_pair(s, "customerId", field(f, "customerId"), true);
  for (const char* name : {"timestamp", "orderId", "batchno", "productCode", "cardNumber", "cardPassword",
                           "faceMoney", "notifyUrl"}) {
    append_pair(s, name, field(f, name));
  }
  append_pair(s, "key", key);
  return s;
}

std::string query_signing_string(const Fields& f, std::string_view key) {
  std::string s;
  append_pair(s, "customerId", field(f, "customerId"), true);
  append_pair(s, "timestamp", field(f, "timestamp"));
  append_pair(s, "orderId", field(f, "orderId"));
  append_pair(s, "key", key);
  return s;
}

std::string sign(std::string_view signing_string) { return crypto::md5_hex_upper(signing_string); }

bool signature_matches(std::string_view received, std::string_view signing_string) {
  return crypto::hex_equal_ci_constant_time(received, sign(signing_string));
}

Result<Fields> parse_body(std::string_view content_type, std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  bool json = content_type.find("json") != std::string_view::npos ||
              (first != std::string_view::npos && body[first] == '{');
  if (!json) {
    auto form = http::parse_form_body(content_type, body);
    if (!form.ok()) return form.error();
    if (auto checked = protocols::check_form_fields(form->values, form->repeated); !checked.ok()) {
      return checked.error();
    }
    return std::move(form->values);
  }
  auto parsed = protocols::parse_flat_json_object(body);
  using protocols::FlatJsonProblem;
  switch (parsed.problem) {
    case FlatJsonProblem::kNone:
      break;
    case FlatJsonProblem::kNotStringOrNumber:
      return make_error(ErrorCode::kInvalidArgument, describe_field(parsed.key) + " must be a string or a number");
    case FlatJsonProblem::kDuplicateKey:
      return make_error(ErrorCode::kInvalidArgument, describe_field(parsed.key) +
                                                         " appears more than once in the JSON object; send each field once");
    case FlatJsonProblem::kNotUtf8:
      return make_error(ErrorCode::kInvalidArgument,
                        "request body is not UTF-8 (" + parsed.detail + "): send JSON encoded in UTF-8");
    case FlatJsonProblem::kNotJson:
    case FlatJsonProblem::kNotAnObject:
    case FlatJsonProblem::kTooManyFields:
      return make_error(ErrorCode::kInvalidArgument, "request body is not a JSON object");
  }
  return std::move(parsed.fields);
}

std::string submit_ok_json(std::string_view sys_order_id, std::string_view msg) {
  const std::string id = json_string(sys_order_id);
  const std::string quoted_msg = json_string(msg);
  static constexpr std::string_view kHead = "{\"code\":1,\"msg\":";
  static constexpr std::string_view kId = ",\"sysOrderId\":";
  static constexpr std::string_view kDataId = ",\"data\":{\"sysOrderId\":";
  std::string out;  // one allocation for every submit's answer
  out.reserve(kHead.size() + quoted_msg.size() + kId.size() + kDataId.size() + 2 * id.size() + 2);
  out += kHead;
  out += quoted_msg;
  out += kId;
  out += id;
  out += kDataId;
  out += id;
  out += "}}";
  return out;
}

std::string submit_error_json(std::string_view msg) {
  return "{\"code\":-1,\"msg\":" + json_string(msg) + ",\"data\":null}";
}

OrderView view_of(const orders::ConsignOrder& o) {
  OrderView v;
  v.customer_id = std::to_string(o.merchant_id.value());
  v.sys_order_id = o.sys_order_id.value();
  v.order_id = o.merchant_order_id;
  v.status = std::string(orders::protocol_status(o.state));
  v.message = o.message;
  v.face_money = std::to_string(o.face_money_yuan);
  v.real_money = std::to_string(o.real_money_yuan);
  v.amount = format_yuan(o.amount);
  v.success_time = std::to_string(o.success_time_s);
  v.custom = o.custom;
  return v;
}

std::string query_ok_json(const OrderView& v, std::string_view msg) {
  // Written by hand so that `amount` keeps exactly two decimals (96.50, not 96.5).
  std::string out = "{\"code\":\"1\",\"msg\":" + json_string(msg) + ",\"data\":[{";
  out += "\"customerId\":" + json_string(v.customer_id);
  out += ",\"sysOrderId\":" + json_string(v.sys_order_id);
  out += ",\"orderId\":" + json_string(v.order_id);
  out += ",\"status\":" + json_string(v.status);
  out += ",\"message\":" + json_string(v.message);
  out += ",\"faceMoney\":" + v.face_money;
  out += ",\"realMoney\":" + v.real_money;
  out += ",\"amount\":" + v.amount;
  out += ",\"successTime\":" + v.success_time;
  out += ",\"custom\":" + json_string(v.custom);
  out += "}]}";
  return out;
}

std::string query_error_json(std::string_view code, std::string_view msg) {
  return "{\"code\":" + json_string(code) + ",\"msg\":" + json_string(msg) + ",\"data\":[]}";
}

std::string notify_signing_string(const OrderView& v, std::string_view key) {
  std::string s;
  append_pair(s, "customerId", v.customer_id, true);
  append_pair(s, "sysOrderId", v.sys_order_id);
  append_pair(s, "orderId", v.order_id);
  append_pair(s, "status", v.status);
  append_pair(s, "faceMoney", v.face_money);
  append_pair(s, "realMoney", v.real_money);
  append_pair(s, "amount", v.amount);
  append_pair(s, "successTime", v.success_time);
  append_pair(s, "key", key);
  return s;
}

std::vector<std::pair<std::string, std::string>> notify_fields(const OrderView& v, std::string_view key) {
  return {
      {"customerId", v.customer_id}, {"sysOrderId", v.sys_order_id}, {"orderId", v.order_id},
      {"status", v.status},          {"message", v.message},         {"faceMoney", v.face_money},
      {"realMoney", v.real_money},   {"amount", v.amount},           {"successTime", v.success_time},
      {"custom", v.custom},          {"sign", sign(notify_signing_string(v, key))},
  };
}

bool notify_acknowledged(std::string_view body) { return protocols::trimmed_equals_ignoring_case(body, "success"); }

}  // namespace paygate::consign
