#include "console/notifications.h"

#include "base/limits.h"
#include "base/money.h"
#include "base/text.h"
#include "console/list_params.h"
#include "crypto/crypto.h"

namespace paygate::console {

using nlohmann::json;
using storage::SqlRow;
using storage::SqlValue;

namespace {

constexpr std::string_view kCursorPrefix = "n:";
constexpr size_t kOrderIdLengthMax = 128;
const char* const kStates[] = {"pending", "delivered", "failed", "superseded"};
const char* const kProtocols[] = {"consign", "gateway", "cashier"};

Error bad(std::string message) { return make_error(ErrorCode::kInvalidArgument, std::move(message)); }

template <size_t N>
bool one_of(const std::string& v, const char* const (&names)[N]) {
  for (const char* n : names) {
    if (v == n) return true;
  }
  return false;
}

}  // namespace

json notification_row_json(const NotificationRow& r) {
  json last;  // null before the first attempt
  if (r.last_attempt) {
    const auto& a = *r.last_attempt;
    last = {{"attempt_no", a.attempt_no},   {"started_at_ms", a.started_at_ms}, {"latency_ms", a.latency_ms},
            {"http_status", a.http_status}, {"error", a.error},                 {"body_excerpt", a.body_excerpt},
            {"delivered", a.delivered}};
  }
  return {{"id", r.id},
          {"merchant_id", r.merchant_id.value()},
          {"protocol", r.protocol},
          {"order_id", r.order_id},
          {"url", r.url},
          {"state", r.state},
          {"attempts_made", r.attempts_made},
          {"attempts_max", r.attempts_max},
          {"next_attempt_at_ms", r.next_attempt_at_ms},
          {"created_at_ms", r.created_at_ms},
          {"updated_at_ms", r.updated_at_ms},
          {"last_attempt", last}};
}

std::string encode_notification_cursor(int64_t id) {
  return crypto::hex_encode_lower(std::string(kCursorPrefix) + std::to_string(id));
}

std::optional<int64_t> decode_notification_cursor(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  auto raw = crypto::hex_decode(text);
  if (!raw || raw->size() <= kCursorPrefix.size() || !raw->starts_with(kCursorPrefix)) return std::nullopt;
  auto id = parse_int64_strict(std::string_view(*raw).substr(kCursorPrefix.size()));
  if (!id || *id < 1) return std::nullopt;
  return *id;
}

Result<NotificationQuery> parse_notification_query(const http::FormFields& f, size_t limit_default,
                                                   size_t limit_max) {
  NotificationQuery q;
  q.limit = limit_default;
  auto merchant = non_negative_field(f, "merchant_id");
  if (!merchant.ok()) return merchant.error();
  if (*merchant) q.merchant_id = MerchantId{**merchant};
  if (const auto* v = f.find("state"); v && !v->empty()) {
    if (!one_of(*v, kStates)) return bad("unknown state '" + *v + "': pending, delivered, failed or superseded");
    q.state = *v;
  }
  if (const auto* v = f.find("protocol"); v && !v->empty()) {
    if (!one_of(*v, kProtocols)) return bad("unknown protocol '" + *v + "': consign, gateway or cashier");
    q.protocol = *v;
  }
  if (const auto* v = f.find("order"); v && !v->empty()) {
    if (v->size() > kOrderIdLengthMax) return bad("order is too long");
    if (!is_utf8(*v) || has_control_chars(*v)) return bad("order must be text without control characters");
    q.order_id = *v;
  }
  auto range = time_range_fields(f);
  if (!range.ok()) return range.error();
  q.from_ms = range->from_ms;
  q.to_ms = range->to_ms;
  auto limit = limit_field(f, q.limit, limit_max);
  if (!limit.ok()) return limit.error();
  q.limit = *limit;
  if (const auto* v = f.find("cursor"); v && !v->empty()) {
    q.after_id = decode_notification_cursor(*v);
    if (!q.after_id) return bad("bad cursor");
  }
  return q;
}

NotificationPage search_notifications(storage::Tx& tx, const Principal& who, const NotificationQuery& query) {
  PG_ASSERT(query.limit >= 1 && query.limit <= limits::kConsolePageSizeMax, "notification list limit out of range");
  NotificationQuery q = query;
  NotificationPage page;
  if (who.role == Role::kMerchant) {
    PG_ASSERT(who.merchant_id.has_value(), "a merchant principal without its merchant");
    if (q.merchant_id && *q.merchant_id != *who.merchant_id) return page;  // another merchant's: nothing
    q.merchant_id = who.merchant_id;
  }
  // Only the filters given enter the text, each with its own placeholder (values never enter the text).
  std::vector<SqlValue> params;
  auto param = [&params](SqlValue v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  };
  std::vector<std::string> where;
  if (q.merchant_id) where.push_back("n.merchant_id = " + param(q.merchant_id->value()));
  if (!q.state.empty()) where.push_back("n.state = " + param(q.state));
  if (!q.protocol.empty()) where.push_back("n.protocol = " + param(q.protocol));
  if (!q.order_id.empty()) where.push_back("n.order_ref = " + param(q.order_id));
  if (q.from_ms) where.push_back("n.created_at_ms >= " + param(*q.from_ms));
  if (q.to_ms) where.push_back("n.created_at_ms < " + param(*q.to_ms));
  if (q.after_id) where.push_back("n.notification_id < " + param(*q.after_id));
  std::string sql =
      "SELECT n.notification_id, n.merchant_id, n.protocol, n.order_ref, n.url, n.state, n.attempts_made, "
      "n.attempts_max, n.next_attempt_at_ms, n.created_at_ms, n.updated_at_ms, "
      "a.attempt_no, a.started_at_ms, a.latency_ms, a.http_status, a.error, a.body_excerpt, a.delivered "
      "FROM notifications AS n LEFT JOIN notification_attempts AS a ON a.notification_id = n.notification_id "
      "AND a.attempt_no = (SELECT MAX(x.attempt_no) FROM notification_attempts AS x "
      "WHERE x.notification_id = n.notification_id)";
  for (size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  sql += " ORDER BY n.notification_id DESC LIMIT " + std::to_string(q.limit + 1);  // one more: another page?

  auto rows = tx.query_sql(sql, params);
  for (const SqlRow& r : rows) {
    if (page.items.size() == q.limit) break;
    NotificationRow n;
    n.id = storage::sql_int(r[0]);
    n.merchant_id = MerchantId{storage::sql_int(r[1])};
    n.protocol = storage::sql_text(r[2]);
    n.order_id = storage::sql_text(r[3]);
    n.url = storage::sql_text(r[4]);
    n.state = storage::sql_text(r[5]);
    n.attempts_made = storage::sql_int(r[6]);
    n.attempts_max = storage::sql_int(r[7]);
    n.next_attempt_at_ms = storage::sql_int(r[8]);
    n.created_at_ms = storage::sql_int(r[9]);
    n.updated_at_ms = storage::sql_int(r[10]);
    if (!storage::sql_is_null(r[11])) {
      NotificationLastAttempt a;
      a.attempt_no = static_cast<int>(storage::sql_int(r[11]));
      a.started_at_ms = storage::sql_int(r[12]);
      a.latency_ms = storage::sql_int(r[13]);
      a.http_status = storage::sql_int(r[14]);
      a.error = storage::sql_text(r[15]);
      a.body_excerpt = storage::sql_text(r[16]);
      a.delivered = storage::sql_int(r[17]) != 0;
      n.last_attempt = std::move(a);
    }
    page.items.push_back(std::move(n));
  }
  if (rows.size() > q.limit && !page.items.empty()) page.next_cursor = encode_notification_cursor(page.items.back().id);
  return page;
}

}  // namespace paygate::console
