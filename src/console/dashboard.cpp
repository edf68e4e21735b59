#include "console/dashboard.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/limits.h"
#include "ledger/ledger.h"

namespace paygate::console {

using nlohmann::json;
using storage::SqlValue;

namespace {
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kChannelRowsMax = 1'000;  // channels per protocol: a handful of products, 15 gateway channels

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }
}  // namespace

int64_t local_day(int64_t at_ms, int utc_offset_minutes) {
  return floor_div(at_ms + int64_t{utc_offset_minutes} * 60'000, kDayMs);
}

int64_t local_day_start_ms(int64_t day, int utc_offset_minutes) {
  return day * kDayMs - int64_t{utc_offset_minutes} * 60'000;
}

namespace {

// One protocol's table as the dashboard reads it.
struct Source {
  const char* key;      // "consign", "gateway", "payout", "cashier"
  const char* table;
  const char* channel;  // its channel expression, nullptr: no channels
  const char* ok;       // when an order counts as succeeded
  const char* volume;   // the succeeded amount in fen
};

const Source kSources[] = {
    {"consign", "consign_orders", "product_code", "state = 'success'", "face_money_yuan * 100"},
    {"gateway", "gateway_payins", "CAST(channel_id AS TEXT)", "state = 'paid'", "paid_fen"},
    {"payout", "gateway_payouts", nullptr, "state = 'paid'", "amount_fen"},
    {"cashier", "cashier_orders", "method", "(state = 'paid' OR state = 'pending' OR state = 'held')", "amount_fen"},
};

struct Range {
  int64_t first_day = 0;
  int days = 0;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t offset_ms = 0;
};

// The common WHERE for a time column in the range, and the merchant if any; parameters appended to `params`.
std::string range_where(const char* time_column, const Range& r, const std::optional<MerchantId>& merchant,
                        const char* merchant_column, std::vector<SqlValue>& params) {
  params.emplace_back(std::in_place_index<1>, r.from_ms);
  std::string where = std::string(time_column) + " >= $" + std::to_string(params.size());
  params.emplace_back(std::in_place_index<1>, r.to_ms);
  where += std::string(" AND ") + time_column + " < $" + std::to_string(params.size());
  if (merchant) {
    params.emplace_back(std::in_place_index<1>, merchant->value());
    where += std::string(" AND ") + merchant_column + " = $" + std::to_string(params.size());
  }
  return where;
}

// A per-day series from rows (day, value...): column `col` of each row at its day's index.
void fill(json& series, const std::vector<storage::SqlRow>& rows, size_t col, const Range& r) {
  for (const auto& row : rows) {
    int64_t i = storage::sql_int(row[0]) - r.first_day;
    if (i < 0 || i >= r.days) continue;
    series[static_cast<size_t>(i)] = storage::sql_int(row[col]);
  }
}

json zeros(int days) { return json(std::vector<int64_t>(static_cast<size_t>(days), 0)); }

}  // namespace

json dashboard(storage::Tx& tx, const Principal& who, DashboardQuery q) {
  PG_ASSERT(q.days >= 1 && q.days <= limits::kConsoleDashboardDaysMax, "dashboard days out of range");
  if (who.role == Role::kMerchant) {
    PG_ASSERT(who.merchant_id.has_value(), "a merchant principal without its merchant");
    q.merchant_id = who.merchant_id;
  }
  Range r;
  r.days = q.days;
  r.offset_ms = int64_t{q.utc_offset_minutes} * 60'000;
  const int64_t today = local_day(q.now_ms, q.utc_offset_minutes);
  r.first_day = today - q.days + 1;
  r.from_ms = local_day_start_ms(r.first_day, q.utc_offset_minutes);
  r.to_ms = local_day_start_ms(today + 1, q.utc_offset_minutes);

  json days = json::array();
  for (int i = 0; i < q.days; ++i) days.push_back(local_day_start_ms(r.first_day + i, q.utc_offset_minutes));

  json protocols = json::object();
  json channels = json::array();
  for (const auto& s : kSources) {
    std::vector<SqlValue> params{r.offset_ms};
    std::string where = range_where("created_at_ms", r, q.merchant_id, "merchant_id", params);
    std::string sql = std::string("SELECT d, COUNT(*), CAST(SUM(ok) AS BIGINT), CAST(SUM(vol) AS BIGINT) FROM (") +
                      "SELECT (created_at_ms + $1) / 86400000 AS d, CASE WHEN " + s.ok +
                      " THEN 1 ELSE 0 END AS ok, CASE WHEN " + s.ok + " THEN " + s.volume +
                      " ELSE 0 END AS vol FROM " + s.table + " WHERE " + where + ") AS x GROUP BY d";
    auto rows = tx.query_sql(sql, params);
    json p = {{"orders", zeros(q.days)}, {"succeeded", zeros(q.days)}, {"volume_fen", zeros(q.days)}};
    fill(p["orders"], rows, 1, r);
    fill(p["succeeded"], rows, 2, r);
    fill(p["volume_fen"], rows, 3, r);
    protocols[s.key] = p;

    if (s.channel == nullptr) continue;
    std::vector<SqlValue> cparams;
    std::string cwhere = range_where("created_at_ms", r, q.merchant_id, "merchant_id", cparams);
    std::string csql = std::string("SELECT channel, COUNT(*), CAST(SUM(ok) AS BIGINT), CAST(SUM(vol) AS BIGINT) ") +
                       "FROM (SELECT " + s.channel + " AS channel, CASE WHEN " + s.ok +
                       " THEN 1 ELSE 0 END AS ok, CASE WHEN " + s.ok + " THEN " + s.volume +
                       " ELSE 0 END AS vol FROM " + s.table + " WHERE " + cwhere +
                       ") AS x GROUP BY channel ORDER BY channel LIMIT " + std::to_string(kChannelRowsMax);
    for (const auto& row : tx.query_sql(csql, cparams)) {
      channels.push_back({{"protocol", s.key},
                          {"channel", storage::sql_text(row[0])},
                          {"orders", storage::sql_int(row[1])},
                          {"succeeded", storage::sql_int(row[2])},
                          {"volume_fen", storage::sql_int(row[3])}});
    }
  }

  // Notifications by the day they were queued, as they stand now; failed attempts by the day they were made.
  json notifications = {{"delivered", zeros(q.days)}, {"failed", zeros(q.days)}, {"attempts_failed", zeros(q.days)}};
  {
    std::vector<SqlValue> params{r.offset_ms};
    std::string where = range_where("created_at_ms", r, q.merchant_id, "merchant_id", params);
    auto rows = tx.query_sql(
        "SELECT d, CAST(SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END) AS BIGINT), "
        "CAST(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS BIGINT) FROM (SELECT (created_at_ms + $1) / "
        "86400000 AS d, state FROM notifications WHERE " +
            where + ") AS x GROUP BY d",
        params);
    fill(notifications["delivered"], rows, 1, r);
    fill(notifications["failed"], rows, 2, r);
  }
  {
    std::vector<SqlValue> params{r.offset_ms};
    std::string where = range_where("a.started_at_ms", r, q.merchant_id, "n.merchant_id", params);
    auto rows = tx.query_sql(
        "SELECT d, COUNT(*) FROM (SELECT (a.started_at_ms + $1) / 86400000 AS d FROM notification_attempts a "
        "JOIN notifications n ON n.notification_id = a.notification_id WHERE NOT a.delivered AND " +
            where + ") AS x GROUP BY d",
        params);
    fill(notifications["attempts_failed"], rows, 1, r);
  }
  {
    std::vector<SqlValue> params;
    std::string sql = "SELECT COUNT(*) FROM notifications WHERE state = 'pending'";
    if (q.merchant_id) {
      params.push_back(q.merchant_id->value());
      sql += " AND merchant_id = $1";
    }
    auto rows = tx.query_sql(sql, params);
    notifications["pending_now"] = rows.empty() ? 0 : storage::sql_int(rows[0][0]);
  }

  // Balances: the merchant's accounts, or every merchant's summed.
  json balances;
  {
    std::vector<SqlValue> params;
    std::string where;
    if (q.merchant_id) {
      for (const auto& a : {ledger::merchant_available(*q.merchant_id), ledger::merchant_pending(*q.merchant_id),
                            ledger::merchant_frozen(*q.merchant_id), ledger::merchant_payout_reserved(*q.merchant_id)}) {
        params.push_back(a.code);
        where += (where.empty() ? "account = $" : " OR account = $") + std::to_string(params.size());
      }
    } else {
      where = "account LIKE 'merchant:%'";
    }
    auto sum_of = [](const char* suffix) {
      return std::string("CAST(COALESCE(SUM(CASE WHEN account LIKE '%:") + suffix +
             "' THEN balance_fen ELSE 0 END), 0) AS BIGINT)";
    };
    auto rows = tx.query_sql("SELECT " + sum_of("available") + ", " + sum_of("pending") + ", " + sum_of("frozen") +
                                 ", " + sum_of("payout_reserved") + " FROM ledger_accounts WHERE " + where,
                             params);
    const auto& row = rows.at(0);
    balances = {{"available_fen", storage::sql_int(row[0])},
                {"pending_fen", storage::sql_int(row[1])},
                {"frozen_fen", storage::sql_int(row[2])},
                {"payout_reserved_fen", storage::sql_int(row[3])}};
  }

  return json{{"days", days},
              {"protocols", protocols},
              {"channels", channels},
              {"notifications", notifications},
              {"balances", balances}};
}

}  // namespace paygate::console
