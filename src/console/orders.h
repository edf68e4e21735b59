// Orders across the three protocols, as the console and its CLI see them: one search over consign cards, gateway
// pay-ins and payouts and cashier orders (portable SQL: a UNION ALL of one filtered branch per table, keyset
// pagination newest first), and one order's detail (every field of its kind with secrets masked, its timeline,
// ledger postings, notifications and the actions the asking user may take now). docs/console.md, "Orders".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "base/result.h"
#include "console/console.h"
#include "http/http.h"
#include "storage/store.h"

namespace paygate::console {

enum class OrderKind { kCard, kPayIn, kPayout, kCashier };
inline constexpr OrderKind kOrderKinds[] = {OrderKind::kCard, OrderKind::kPayIn, OrderKind::kPayout,
                                            OrderKind::kCashier};
std::string_view kind_name(OrderKind kind);       // "card", "payin", "payout", "cashier"
std::string_view protocol_name(OrderKind kind);   // "consign", "gateway", "gateway", "cashier"
std::optional<OrderKind> parse_kind(std::string_view name);
// The state names an order of this kind can have.
const std::vector<std::string_view>& kind_states(OrderKind kind);
// The kind an order id belongs to by its prefix (C, P, W, Q), if any.
std::optional<OrderKind> kind_of_id(std::string_view id);

// One row of the list (`Order` in docs/console.md).
struct OrderRow {
  std::string id;
  OrderKind kind = OrderKind::kCard;
  MerchantId merchant_id;
  std::string merchant_name;
  std::string merchant_order_id;
  std::string channel;     // consign product code, gateway channel id, cashier method; "" for payouts
  int64_t amount_fen = 0;  // consign: the face value
  int64_t settled_fen = 0; // what reached the merchant (or, for a paid payout, its bank account); 0 until then
  int64_t fee_fen = 0;
  std::string status;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};
nlohmann::json order_row_json(const OrderRow& row);

// The keyset position of a row: lists continue strictly after (older than) it.
struct OrderCursor {
  int64_t created_at_ms = 0;
  std::string id;
};
// Opaque (hex) text of a cursor, and back; nullopt when the text is not one.
std::string encode_cursor(const OrderCursor& cursor);
std::optional<OrderCursor> decode_cursor(std::string_view text);

struct OrderQuery {
  std::string q;                          // exact match on any id (platform, merchant's, batch number, card number)
  std::optional<OrderKind> kind;
  std::optional<MerchantId> merchant_id;  // forced to the principal's own for merchants
  std::string status;                     // a state name; branches of kinds without it are left out
  std::string channel;                    // see OrderRow::channel
  std::optional<int64_t> from_ms;         // created at or after
  std::optional<int64_t> to_ms;           // created before
  size_t limit = 50;
  std::optional<OrderCursor> after;       // the previous page's last row
};

// Reads the list's query fields (q, kind, merchant_id, status, channel, from_ms, to_ms, limit, cursor). kInvalidArgument
// with a message naming the bad field. `limit_max` caps `limit` (the list: kConsolePageSizeMax).
Result<OrderQuery> parse_order_query(const http::FormFields& fields, size_t limit_default, size_t limit_max);

struct OrderPage {
  std::vector<OrderRow> items;
  std::optional<std::string> next_cursor;  // set when more rows follow
};
// Newest first. The principal's scope applies: a merchant sees only its own orders whatever the query says.
// query.limit must be at most kConsoleCsvRowsMax.
OrderPage search_orders(storage::Tx& tx, const Principal& who, OrderQuery query);

// Where an order is and whose it is, or nullopt when no order has this id.
struct OrderRef {
  OrderKind kind;
  MerchantId merchant_id;
};
std::optional<OrderRef> find_order(storage::Tx& tx, const std::string& id);

// The detail of docs/console.md (`order`, `timeline`, `postings`, `notifications`, `actions`). kNotFound when there
// is no such order or the principal may not see it.
Result<nlohmann::json> order_detail(storage::Tx& tx, const Principal& who, const std::string& id);

// The order's kind, status, amounts and message, as audit entries record it before and after an action; nullopt
// when there is no such order.
std::optional<nlohmann::json> order_state_json(storage::Tx& tx, const std::string& id);

// Masks for display: everything but the last 4 characters, or all of a short value.
std::string mask_last4(std::string_view secret);

}  // namespace paygate::console
