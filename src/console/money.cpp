#include "console/money.h"


#include <algorithm>
#include <map>
#include <tuple>

#include "base/limits.h"
#include "base/text.h"
#include "console/csv.h"
#include "console/merchants.h"
#include "ledger/ledger.h"

namespace paygate::console {

using nlohmann::json;
using storage::sql_int;
using storage::sql_text;
using storage::SqlValue;

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr const char* kReconRowsLimit = " LIMIT 50000";

Error invalid(std::string msg) { return make_error(ErrorCode::kInvalidArgument, std::move(msg)); }

Status require_view(const Principal& who) {
  if (who.allowed(Permission::kView)) return ok_status();
  return make_error(ErrorCode::kUnauthenticated, "forbidden: this user may not look at money");
}

// The merchant `who` may ask about, or kNotFound.
Status check_visible(storage::Tx& tx, const Principal& who, MerchantId id) {
  if (!who.can_see_merchant(id) || !tx.merchant(id)) {
    return make_error(ErrorCode::kNotFound, "no merchant " + std::to_string(id.value()));
  }
  return ok_status();
}

std::string merchant_name(storage::Tx& tx, MerchantId id, std::map<int64_t, std::string>& cache) {
  auto it = cache.find(id.value());
  if (it != cache.end()) return it->second;
  auto rows = tx.query_sql("SELECT name FROM merchants WHERE merchant_id = $1", {id.value()});
  std::string name = rows.empty() ? "" : sql_text(rows[0][0]);
  cache.emplace(id.value(), name);
  return name;
}

int64_t sum_of(storage::Tx& tx, std::string_view sql, const std::vector<SqlValue>& params) {
  auto rows = tx.query_sql(sql, params);
  return rows.empty() ? 0 : sql_int(rows[0][0]);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

// ---- balances ----

Result<json> balances(storage::Tx& tx, const Principal& who, std::optional<MerchantId> merchant) {
  PG_TRY(require_view(who));
  if (who.merchant_id) {
    if (merchant && *merchant != *who.merchant_id) {
      return make_error(ErrorCode::kNotFound, "no merchant " + std::to_string(merchant->value()));
    }
    merchant = who.merchant_id;
  }
  if (merchant) PG_TRY(check_visible(tx, who, *merchant));
  std::vector<SqlValue> params;
  std::string sql = "SELECT merchant_id, name FROM merchants";
  if (merchant) {
    sql += " WHERE merchant_id = $1";
    params.emplace_back(merchant->value());
  }
  sql += " ORDER BY merchant_id LIMIT 50000";
  json items = json::array();
  for (const auto& r : tx.query_sql(sql, params)) {
    MerchantId id{sql_int(r[0])};
    json item = balances_json(merchant_balances(tx, id));
    item["merchant_id"] = id.value();
    item["merchant_name"] = sql_text(r[1]);
    items.push_back(std::move(item));
  }
  json out = {{"items", items}};
  if (who.is_operator()) {
    out["platform"] = {{"revenue_fen", tx.balance(ledger::platform_revenue().code).fen()},
                       {"consign_clearing_fen", tx.balance(ledger::consign_clearing().code).fen()},
                       {"gateway_clearing_fen", tx.balance(ledger::gateway_clearing().code).fen()},
                       {"payout_clearing_fen", tx.balance(ledger::payout_clearing().code).fen()},
                       {"cashier_clearing_fen", tx.balance(ledger::cashier_clearing().code).fen()}};
  }
  return out;
}

// ---- statement ----

std::optional<MerchantAccount> parse_merchant_account(std::string_view name) {
  if (name == "available") return MerchantAccount::kAvailable;
  if (name == "pending") return MerchantAccount::kPending;
  if (name == "frozen") return MerchantAccount::kFrozen;
  if (name == "payout_reserved") return MerchantAccount::kPayoutReserved;
  return std::nullopt;
}

std::string account_code(MerchantId merchant, MerchantAccount account) {
  switch (account) {
    case MerchantAccount::kAvailable: return ledger::merchant_available(merchant).code;
    case MerchantAccount::kPending: return ledger::merchant_pending(merchant).code;
    case MerchantAccount::kFrozen: return ledger::merchant_frozen(merchant).code;
    case MerchantAccount::kPayoutReserved: return ledger::merchant_payout_reserved(merchant).code;
  }
  PG_ASSERT(false, "unknown merchant account");
  return {};
}

Result<Statement> statement(storage::Tx& tx, const Principal& who, const StatementQuery& q) {
  PG_TRY(require_view(who));
  PG_TRY(check_visible(tx, who, q.merchant));
  if (q.from_ms < 0 || q.to_ms <= q.from_ms) return invalid("from_ms must be before to_ms");
  const size_t limit = std::clamp<size_t>(q.limit, 1, limits::kConsolePageSizeMax);
  int64_t after_entry = 0;
  if (!q.cursor.empty()) {
    auto c = parse_int64_strict(q.cursor);
    if (!c || *c <= 0) return invalid("cursor is not one this statement gave");
    after_entry = *c;
  }
  const std::string account = account_code(q.merchant, q.account);
  constexpr const char* kSumBefore =
      "SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM ledger_postings p "
      "JOIN ledger_entries e ON e.entry_id = p.entry_id WHERE p.account = $1 AND e.created_at_ms < $2";
  Statement s;
  s.opening = Money::from_fen(sum_of(tx, kSumBefore, {account, q.from_ms}));
  s.closing = Money::from_fen(sum_of(tx, kSumBefore, {account, q.to_ms}));
  // The balance before this page: the opening plus the range's postings up to the cursor.
  int64_t balance = s.opening.fen();
  if (after_entry > 0) {
    balance += sum_of(tx,
                      "SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM ledger_postings p "
                      "JOIN ledger_entries e ON e.entry_id = p.entry_id WHERE p.account = $1 AND "
                      "e.created_at_ms >= $2 AND e.created_at_ms < $3 AND p.entry_id <= $4",
                      {account, q.from_ms, q.to_ms, after_entry});
  }
  auto rows = tx.query_sql(
      "SELECT p.entry_id, e.created_at_ms, e.kind, e.reference, p.amount_fen FROM ledger_postings p "
      "JOIN ledger_entries e ON e.entry_id = p.entry_id WHERE p.account = $1 AND e.created_at_ms >= $2 AND "
      "e.created_at_ms < $3 AND p.entry_id > $4 ORDER BY p.entry_id LIMIT $5",
      {account, q.from_ms, q.to_ms, after_entry, static_cast<int64_t>(limit + 1)});
  for (const auto& r : rows) {
    if (s.items.size() == limit) {
      s.next_cursor = std::to_string(s.items.back().entry_id);
      break;
    }
    StatementLine line;
    line.entry_id = sql_int(r[0]);
    line.at_ms = sql_int(r[1]);
    line.kind = sql_text(r[2]);
    line.reference = sql_text(r[3]);
    line.amount = Money::from_fen(sql_int(r[4]));
    balance += line.amount.fen();
    line.balance = Money::from_fen(balance);
    s.items.push_back(std::move(line));
  }
  return s;
}

json statement_json(const Statement& s) {
  json items = json::array();
  for (const auto& l : s.items) {
    items.push_back({{"entry_id", l.entry_id},
                     {"at_ms", l.at_ms},
                     {"kind", l.kind},
                     {"reference", l.reference},
                     {"amount_fen", l.amount.fen()},
                     {"balance_fen", l.balance.fen()}});
  }
  return {{"opening_fen", s.opening.fen()},
          {"closing_fen", s.closing.fen()},
          {"items", items},
          {"next_cursor", s.next_cursor ? json(*s.next_cursor) : json(nullptr)}};
}

Result<std::string> statement_csv(storage::Tx& tx, const Principal& who, StatementQuery q) {
  std::vector<std::vector<std::string>> rows;
  bool truncated = false;
  Money opening;
  Money closing;
  q.limit = limits::kConsolePageSizeMax;
  for (bool first = true;; first = false) {
    auto page = statement(tx, who, q);
    if (!page.ok()) return page.error();
    if (first) {
      opening = page->opening;
      closing = page->closing;
    }
    for (const auto& l : page->items) {
      if (rows.size() == limits::kConsoleCsvRowsMax) {
        truncated = true;
        break;
      }
      rows.push_back({std::to_string(l.entry_id), std::to_string(l.at_ms), csv_guard(l.kind), csv_guard(l.reference),
                      csv_yuan(l.amount), csv_yuan(l.balance)});
    }
    if (truncated || !page->next_cursor) break;
    q.cursor = *page->next_cursor;
  }
  rows.insert(rows.begin(), {"", "", "opening", "", "", csv_yuan(opening)});
  if (!truncated) rows.push_back({"", "", "closing", "", "", csv_yuan(closing)});
  return csv_document({"entry_id", "at_ms", "kind", "reference", "amount_yuan", "balance_yuan"}, rows, truncated);
}

// ---- reconciliation ----

Result<std::pair<int64_t, int64_t>> local_day(std::string_view date, int utc_offset_minutes) {
  auto bad = [&] { return invalid("date must be YYYY-MM-DD"); };
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return bad();
  auto digits = [&](size_t pos, size_t n) -> std::optional<int64_t> {
    auto part = date.substr(pos, n);
    if (!all_ascii_digits(part)) return std::nullopt;
    int64_t v = 0;
    for (char c : part) v = v * 10 + (c - '0');
    return v;
  };
  auto y = digits(0, 4);
  auto m = digits(5, 2);
  auto d = digits(8, 2);
  if (!y || !m || !d) return bad();
  if (*y < 1970 || *y > 9999 || *m < 1 || *m > 12 || *d < 1) return bad();
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
  const int64_t month_days = kDays[*m - 1] + (*m == 2 && leap ? 1 : 0);
  if (*d > month_days) return invalid("date " + std::string(date) + " does not exist");
  const int64_t from = days_from_civil(*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d)) * kDayMs -
                       int64_t{utc_offset_minutes} * 60'000;
  return std::pair{from, from + kDayMs};
}

Result<Reconciliation> reconcile(storage::Tx& tx, const Principal& who, std::string_view date,
                                 std::optional<MerchantId> merchant, int utc_offset_minutes) {
  PG_TRY(require_view(who));
  if (who.merchant_id) {
    if (merchant && *merchant != *who.merchant_id) {
      return make_error(ErrorCode::kNotFound, "no merchant " + std::to_string(merchant->value()));
    }
    merchant = who.merchant_id;
  }
  if (merchant) PG_TRY(check_visible(tx, who, *merchant));
  auto day = local_day(date, utc_offset_minutes);
  if (!day.ok()) return day.error();
  Reconciliation r;
  r.date = std::string(date);
  r.from_ms = day->first;
  r.to_ms = day->second;

  std::vector<SqlValue> params{r.from_ms, r.to_ms};
  std::string only_merchant;
  if (merchant) {
    params.emplace_back(merchant->value());
    only_merchant = " AND o.merchant_id = $3";
  }
  auto day_entries = [&](const char* kind) {
    return std::string(" FROM ledger_entries e JOIN ") + kind + " WHERE e.created_at_ms >= $1 AND e.created_at_ms < $2";
  };

  // The order side: (merchant, protocol, channel) -> row.
  std::map<std::tuple<int64_t, std::string, std::string>, ReconRow> rows;
  auto row_for = [&](int64_t m, const std::string& protocol, const std::string& channel) -> ReconRow& {
    auto& row = rows[{m, protocol, channel}];
    row.merchant_id = MerchantId{m};
    row.protocol = protocol;
    row.channel = channel;
    return row;
  };
  for (const auto& q : tx.query_sql(
           "SELECT o.merchant_id, o.product_code, COUNT(*), CAST(SUM(o.real_money_yuan) AS BIGINT), "
           "CAST(SUM(o.amount_fen) AS BIGINT)" +
               day_entries("consign_orders o ON o.sys_order_id = e.reference") + " AND e.kind = 'consign.settle'" +
               only_merchant + " GROUP BY o.merchant_id, o.product_code" + kReconRowsLimit,
           params)) {
    auto& row = row_for(sql_int(q[0]), "consign", sql_text(q[1]));
    row.orders = sql_int(q[2]);
    row.gross = Money::from_fen(sql_int(q[3]) * 100);
    row.net = Money::from_fen(sql_int(q[4]));
    row.fee = Money::from_fen(row.gross.fen() - row.net.fen());
  }
  for (const auto& q : tx.query_sql(
           "SELECT o.merchant_id, o.channel_id, COUNT(*), CAST(SUM(o.paid_fen) AS BIGINT), "
           "CAST(SUM(o.fee_fen) AS BIGINT)" +
               day_entries("gateway_payins o ON o.payment_id = e.reference") + " AND e.kind = 'gateway.payin'" +
               only_merchant + " GROUP BY o.merchant_id, o.channel_id" + kReconRowsLimit,
           params)) {
    auto& row = row_for(sql_int(q[0]), "gateway", std::to_string(sql_int(q[1])));
    row.orders = sql_int(q[2]);
    row.gross = Money::from_fen(sql_int(q[3]));
    row.fee = Money::from_fen(sql_int(q[4]));
    row.net = Money::from_fen(row.gross.fen() - row.fee.fen());
  }
  for (const auto& q : tx.query_sql(
           "SELECT o.merchant_id, o.method, COUNT(*), CAST(SUM(o.amount_fen) AS BIGINT), "
           "CAST(SUM(o.fee_fen) AS BIGINT)" +
               day_entries("cashier_orders o ON o.cashier_id = e.reference") + " AND e.kind = 'cashier.pay'" +
               only_merchant + " GROUP BY o.merchant_id, o.method" + kReconRowsLimit,
           params)) {
    auto& row = row_for(sql_int(q[0]), "cashier", sql_text(q[1]));
    row.orders = sql_int(q[2]);
    row.gross = Money::from_fen(sql_int(q[3]));
    row.fee = Money::from_fen(sql_int(q[4]));
    row.net = Money::from_fen(row.gross.fen() - row.fee.fen());
  }
  for (const auto& q : tx.query_sql(
           "SELECT o.merchant_id, COUNT(*), CAST(SUM(o.amount_fen) AS BIGINT), CAST(SUM(o.fee_fen) AS BIGINT)" +
               day_entries("gateway_payouts o ON o.payout_id = e.reference") + " AND e.kind = 'gateway.payout.paid'" +
               only_merchant + " GROUP BY o.merchant_id" + kReconRowsLimit,
           params)) {
    auto& row = row_for(sql_int(q[0]), "payout", "");
    row.payouts = sql_int(q[1]);
    row.payouts_amount = Money::from_fen(sql_int(q[2]));
    row.payout_fees = Money::from_fen(sql_int(q[3]));
  }

  // The ledger side: (merchant, kind) -> the sum of that day's postings to the merchant's accounts.
  std::string ledger_sql =
      "SELECT a.merchant_id, e.kind, CAST(SUM(p.amount_fen) AS BIGINT) FROM ledger_entries e "
      "JOIN ledger_postings p ON p.entry_id = e.entry_id JOIN ledger_accounts a ON a.account = p.account "
      "WHERE e.created_at_ms >= $1 AND e.created_at_ms < $2 AND a.merchant_id IS NOT NULL AND "
      "(e.kind = 'consign.settle' OR e.kind = 'gateway.payin' OR e.kind = 'cashier.pay' OR "
      "e.kind = 'gateway.payout.paid')";
  if (merchant) ledger_sql += " AND a.merchant_id = $3";
  ledger_sql += " GROUP BY a.merchant_id, e.kind";
  ledger_sql += kReconRowsLimit;
  // (merchant, protocol) -> ledger amount: credits for consign/gateway/cashier, debits (positive) for payouts.
  std::map<std::pair<int64_t, std::string>, int64_t> ledger_side;
  auto protocol_of_kind = [](const std::string& kind) -> std::string {
    if (kind == "consign.settle") return "consign";
    if (kind == ledger::kGatewayPayIn) return "gateway";
    if (kind == ledger::kCashierPay) return "cashier";
    return "payout";
  };
  for (const auto& q : tx.query_sql(ledger_sql, params)) {
    const std::string protocol = protocol_of_kind(sql_text(q[1]));
    int64_t amount = sql_int(q[2]);
    if (protocol == "payout") {
      amount = -amount;
      r.ledger_payouts = Money::from_fen(r.ledger_payouts.fen() + amount);
    } else {
      r.ledger_credited = Money::from_fen(r.ledger_credited.fen() + amount);
    }
    ledger_side[{sql_int(q[0]), protocol}] += amount;
  }

  // The check, per merchant and protocol.
  std::map<std::pair<int64_t, std::string>, int64_t> order_side;
  for (const auto& [key, row] : rows) {
    const auto& [m, protocol, channel] = key;
    order_side[{m, protocol}] +=
        protocol == "payout" ? row.payouts_amount.fen() + row.payout_fees.fen() : row.net.fen();
  }
  auto kind_of = [](const std::string& protocol) -> std::string {
    if (protocol == "consign") return "consign.settle";
    if (protocol == "gateway") return std::string(ledger::kGatewayPayIn);
    if (protocol == "cashier") return std::string(ledger::kCashierPay);
    return std::string(ledger::kPayoutPaid);
  };
  std::map<std::pair<int64_t, std::string>, std::pair<int64_t, int64_t>> both;
  for (const auto& [k, v] : order_side) both[k].first = v;
  for (const auto& [k, v] : ledger_side) both[k].second = v;
  for (const auto& [k, v] : both) {
    if (v.first == v.second) continue;
    const auto& [m, protocol] = k;
    const bool payout = protocol == "payout";
    r.differences.push_back("merchant " + std::to_string(m) + " " + protocol + ": the orders " +
                            (payout ? "paid out " : "credit ") + format_yuan(Money::from_fen(v.first)) +
                            " yuan, the ledger's " + kind_of(protocol) + " entries " +
                            (payout ? "debit " : "credit ") + format_yuan(Money::from_fen(v.second)) +
                            " yuan (difference " + format_yuan(Money::from_fen(v.second - v.first)) + ")");
  }
  r.matches = r.differences.empty();

  std::map<int64_t, std::string> names;
  for (auto& [key, row] : rows) {
    row.merchant_name = merchant_name(tx, row.merchant_id, names);
    r.totals.orders += row.orders;
    r.totals.gross = Money::from_fen(r.totals.gross.fen() + row.gross.fen());
    r.totals.fee = Money::from_fen(r.totals.fee.fen() + row.fee.fen());
    r.totals.net = Money::from_fen(r.totals.net.fen() + row.net.fen());
    r.totals.payouts += row.payouts;
    r.totals.payouts_amount = Money::from_fen(r.totals.payouts_amount.fen() + row.payouts_amount.fen());
    r.totals.payout_fees = Money::from_fen(r.totals.payout_fees.fen() + row.payout_fees.fen());
    r.rows.push_back(std::move(row));
  }
  return r;
}

namespace {
json row_json(const ReconRow& row, bool with_merchant) {
  json j = {{"orders", row.orders},
            {"gross_fen", row.gross.fen()},
            {"fee_fen", row.fee.fen()},
            {"net_fen", row.net.fen()},
            {"payouts", row.payouts},
            {"payouts_fen", row.payouts_amount.fen()},
            {"payout_fees_fen", row.payout_fees.fen()}};
  if (with_merchant) {
    j["merchant_id"] = row.merchant_id.value();
    j["merchant_name"] = row.merchant_name;
    j["protocol"] = row.protocol;
    j["channel"] = row.channel;
  }
  return j;
}
}  // namespace

json reconciliation_json(const Reconciliation& r) {
  json rows = json::array();
  for (const auto& row : r.rows) rows.push_back(row_json(row, true));
  return {{"date", r.date},
          {"from_ms", r.from_ms},
          {"to_ms", r.to_ms},
          {"rows", rows},
          {"totals", row_json(r.totals, false)},
          {"ledger", {{"credited_fen", r.ledger_credited.fen()}, {"payouts_fen", r.ledger_payouts.fen()}}},
          {"matches", r.matches},
          {"differences", r.differences}};
}

std::string reconciliation_csv(const Reconciliation& r) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : r.rows) {
    rows.push_back({r.date, std::to_string(row.merchant_id.value()), csv_guard(row.merchant_name), row.protocol,
                    csv_guard(row.channel), std::to_string(row.orders), csv_yuan(row.gross), csv_yuan(row.fee),
                    csv_yuan(row.net), std::to_string(row.payouts), csv_yuan(row.payouts_amount),
                    csv_yuan(row.payout_fees)});
  }
  const auto& t = r.totals;
  rows.push_back({r.date, "", "total", "", "", std::to_string(t.orders), csv_yuan(t.gross), csv_yuan(t.fee),
                  csv_yuan(t.net), std::to_string(t.payouts), csv_yuan(t.payouts_amount), csv_yuan(t.payout_fees)});
  rows.push_back({r.date, "", "ledger", "", "", "", "", "", csv_yuan(r.ledger_credited), "",
                  csv_yuan(r.ledger_payouts), ""});
  rows.push_back({r.date, "", r.matches ? "matches" : "DIFFERS", "", "", "", "", "", "", "", "", ""});
  for (const auto& d : r.differences) rows.push_back({r.date, "", csv_guard(d), "", "", "", "", "", "", "", "", ""});
  return csv_document({"date", "merchant_id", "merchant_name", "protocol", "channel", "orders", "gross_yuan",
                       "fee_yuan", "net_yuan", "payouts", "payouts_yuan", "payout_fees_yuan"},
                      rows, false);
}

// ---- CSV ----

std::string csv_document(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                         bool truncated) {
  std::string out = "\xEF\xBB\xBF";
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += csv_quote(cells[i]);
    }
    out += "\r\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  if (truncated) out += "# truncated at " + std::to_string(limits::kConsoleCsvRowsMax) + " rows\r\n";
  return out;
}

std::string csv_yuan(Money m) { return format_yuan(m); }

}  // namespace paygate::console
