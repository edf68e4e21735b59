// The notification log as the console shows it (docs/console.md, "Notifications"): every notification to a
// merchant's server across the protocols, newest first, filtered by merchant, state, protocol, order and time, with
// its latest attempt. Portable SQL; keyset pagination on notification_id. Resending stays an order action
// (actions.h, resend_notification).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "base/result.h"
#include "console/console.h"
#include "http/http.h"
#include "storage/store.h"

namespace paygate::console {

struct NotificationLastAttempt {
  int attempt_no = 0;
  int64_t started_at_ms = 0;
  int64_t latency_ms = 0;
  int64_t http_status = 0;     // 0 when no HTTP response was received
  std::string error;
  std::string body_excerpt;    // as the merchant's server answered (bytes; shown with invalid UTF-8 replaced)
  bool delivered = false;
};

// One row of the list (`Notification` in docs/console.md).
struct NotificationRow {
  int64_t id = 0;
  MerchantId merchant_id;
  std::string protocol;  // consign, gateway, cashier
  std::string order_id;  // the platform's order id (the notification's order_ref)
  std::string url;
  std::string state;     // pending, delivered, failed, superseded
  int64_t attempts_made = 0;
  int64_t attempts_max = 0;
  int64_t next_attempt_at_ms = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<NotificationLastAttempt> last_attempt;  // nullopt before the first attempt
};
nlohmann::json notification_row_json(const NotificationRow& row);

struct NotificationQuery {
  std::optional<MerchantId> merchant_id;  // a merchant principal sees only its own, whatever this says
  std::string state;                      // "" or pending, delivered, failed, superseded
  std::string protocol;                   // "" or consign, gateway, cashier
  std::string order_id;                   // "" or exactly the order's platform id
  std::optional<int64_t> from_ms;         // created at or after
  std::optional<int64_t> to_ms;           // created before
  size_t limit = 50;
  std::optional<int64_t> after_id;        // the previous page's last notification id
};

// Opaque (hex) text of a cursor (the last row's id), and back; nullopt when the text is not one.
std::string encode_notification_cursor(int64_t id);
std::optional<int64_t> decode_notification_cursor(std::string_view text);

// Reads the list's query fields (merchant_id, state, protocol, order, from_ms, to_ms, limit, cursor).
// kInvalidArgument with a message naming the bad field.
Result<NotificationQuery> parse_notification_query(const http::FormFields& fields, size_t limit_default,
                                                   size_t limit_max);

struct NotificationPage {
  std::vector<NotificationRow> items;
  std::optional<std::string> next_cursor;  // set when more rows follow
};
// Newest first (by id). A merchant principal sees only its own merchant's notifications: asking for another
// merchant's gives an empty page. query.limit must be 1 to kConsolePageSizeMax.
NotificationPage search_notifications(storage::Tx& tx, const Principal& who, const NotificationQuery& query);

}  // namespace paygate::console
