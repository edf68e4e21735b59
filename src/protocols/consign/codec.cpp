#include "protocols/consign/codec.h"

#include <nlohmann/json.hpp>

#include "crypto/crypto.h"
#include "http/http.h"

namespace paygate::consign {
namespace {

void append_pair(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out += '&';
  out += name;
  out += '=';
  out += value;
}

std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Collects a flat JSON object's members as text. Signatures are over values exactly as received, so numbers
// keep their original text (96.50 stays "96.50"): nlohmann's SAX interface hands floats over with it.
struct TopLevelFields {
  using json = nlohmann::json;
  Fields fields;
  std::string current_key;
  int depth = 0;
  bool saw_object = false;
  std::string error;

  bool value(std::string text) {
    if (depth != 1) return fail("request body is not a JSON object");
    fields.insert_or_assign(current_key, std::move(text));
    return true;
  }
  bool fail(std::string msg) {
    if (error.empty()) error = std::move(msg);
    return false;
  }
  bool null() { return depth == 1 ? true : fail("request body is not a JSON object"); }  // null: absent
  bool boolean(bool) { return fail("field " + current_key + " must be a string or a number"); }
  bool number_integer(json::number_integer_t v) { return value(std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(std::to_string(v)); }
  bool number_float(json::number_float_t, const json::string_t& text) { return value(text); }
  bool string(json::string_t& v) { return value(std::move(v)); }
  bool binary(json::binary_t&) { return fail("request body is not a JSON object"); }
  bool start_object(std::size_t) {
    if (depth >= 1) return fail("field " + current_key + " must be a string or a number");
    ++depth;
    saw_object = true;
    return true;
  }
  bool end_object() {
    --depth;
    return true;
  }
  bool start_array(std::size_t) {
    return fail(depth == 0 ? "request body is not a JSON object" : "field " + current_key + " must be a string or a number");
  }
  bool end_array() { return true; }
  bool key(json::string_t& k) {
    current_key = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return fail("request body is not a JSON object");
  }
};

}  // namespace

std::string_view field(const Fields& f, std::string_view name) {
  auto it = f.find(name);
  return it == f.end() ? std::string_view{} : std::string_view(it->second);
}

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
    auto form = http::parse_form_urlencoded(body);
    if (!form.ok()) return form.error();
    return std::move(form->values);
  }
  TopLevelFields sax;
  bool parsed = nlohmann::json::sax_parse(body, &sax, nlohmann::json::input_format_t::json, /*strict=*/true);
  if (!sax.error.empty()) return make_error(ErrorCode::kInvalidArgument, sax.error);
  if (!parsed || !sax.saw_object) return make_error(ErrorCode::kInvalidArgument, "request body is not a JSON object");
  return std::move(sax.fields);
}

std::string submit_ok_json(std::string_view sys_order_id, std::string_view msg) {
  std::string id = json_string(sys_order_id);
  return "{\"code\":1,\"msg\":" + json_string(msg) + ",\"sysOrderId\":" + id + ",\"data\":{\"sysOrderId\":" + id + "}}";
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

bool notify_acknowledged(std::string_view body) {
  auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return false;
  auto last = body.find_last_not_of(" \t\r\n");
  std::string_view t = body.substr(first, last - first + 1);
  if (t.size() != 7) return false;
  static constexpr std::string_view kWord = "success";
  for (size_t i = 0; i < 7; ++i) {
    char c = t[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kWord[i]) return false;
  }
  return true;
}

}  // namespace paygate::consign
