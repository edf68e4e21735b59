// The consign protocol's wire format, pure: signing strings, body parsing, response and notify encoding.
// See docs/protocols/consign.md.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "orders/consign_order.h"
#include "protocols/common/wire.h"

namespace paygate::consign {

using Fields = protocols::Fields;

// The value of a field, or "" when absent (protocols::field).
using protocols::field;

// customerId, timestamp, orderId, batchno, productCode, cardNumber, cardPassword, faceMoney, notifyUrl, &key=
std::string submit_signing_string(const Fields& f, std::string_view key);
// customerId, timestamp, orderId, &key=
std::string query_signing_string(const Fields& f, std::string_view key);
// MD5, upper-case hex.
std::string sign(std::string_view signing_string);
// Case-insensitive, constant-time comparison against the expected signature.
bool signature_matches(std::string_view received, std::string_view signing_string);

// Parses an x-www-form-urlencoded body, or a JSON object when the content type says JSON (or the body starts
// with '{'). JSON strings are taken as they are; JSON numbers as their JSON text; other types are an error.
Result<Fields> parse_body(std::string_view content_type, std::string_view body);

// Responses. Submit: {"code":1,"msg":..,"sysOrderId":..,"data":{"sysOrderId":..}}; failure
// {"code":-1,"msg":..,"data":null}.
std::string submit_ok_json(std::string_view sys_order_id, std::string_view msg);
std::string submit_error_json(std::string_view msg);

// The query / notify view of an order.
struct OrderView {
  std::string customer_id;
  std::string sys_order_id;
  std::string order_id;
  std::string status;        // "1" | "2" | "3"
  std::string message;
  std::string face_money;    // whole yuan
  std::string real_money;    // whole yuan
  std::string amount;        // yuan, two decimals
  std::string success_time;  // Unix seconds, "0" before the final state
  std::string custom;
};
OrderView view_of(const orders::ConsignOrder& order);

// {"code":"1","msg":..,"data":[{...}]}, numbers unquoted, amount with exactly two decimals.
std::string query_ok_json(const OrderView& v, std::string_view msg);
// {"code":"<code>","msg":..,"data":[]}
std::string query_error_json(std::string_view code, std::string_view msg);

// customerId, sysOrderId, orderId, status, faceMoney, realMoney, amount, successTime, &key=
std::string notify_signing_string(const OrderView& v, std::string_view key);
// The notify form fields in order, `sign` last.
std::vector<std::pair<std::string, std::string>> notify_fields(const OrderView& v, std::string_view key);
// Delivered when the trimmed body is "success" in any case.
bool notify_acknowledged(std::string_view response_body);

}  // namespace paygate::consign
