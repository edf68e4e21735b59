// The money CLI subcommands: a merchant account's statement and the daily reconciliation (console/money.h).
#include <iostream>

#include "base/limits.h"
#include "console/money.h"
#include "tools/cli_support.h"
#include "tools/commands.h"

namespace paygate::tools {

using nlohmann::json;

namespace {

// The local day offset reports use.
int report_utc_offset_minutes(const app::Config& c) {
  return c.console.utc_offset_minutes;
}

// "" -> fallback; YYYY-MM-DD -> the local day's start (end_of_day: the next day's start); digits -> Unix ms.
Result<int64_t> parse_time(const app::Config& c, const std::string& text, int64_t fallback, bool end_of_day,
                           const char* flag) {
  if (text.empty()) return fallback;
  if (text.size() == 10 && text[4] == '-') {
    auto day = console::local_day(text, report_utc_offset_minutes(c));
    if (!day.ok()) return make_error(ErrorCode::kInvalidArgument, std::string(flag) + ": " + day.error().message);
    return end_of_day ? day->second : day->first;
  }
  auto ms = parse_int64_strict(text);
  if (!ms || *ms < 0) {
    return make_error(ErrorCode::kInvalidArgument, std::string(flag) + " must be YYYY-MM-DD or Unix milliseconds");
  }
  return *ms;
}

}  // namespace

int ledger_statement(const app::Config& c, const StatementSpec& spec, Output out) {
  console::StatementQuery q;
  q.merchant = MerchantId{spec.merchant};
  auto account = console::parse_merchant_account(spec.account);
  if (!account) return fail("--account must be available, pending, frozen or payout_reserved");
  q.account = *account;
  auto from = parse_time(c, spec.from, 0, false, "--from");
  if (!from.ok()) return fail(from.error().message);
  auto to = parse_time(c, spec.to, std::numeric_limits<int64_t>::max(), true, "--to");
  if (!to.ok()) return fail(to.error().message);
  q.from_ms = *from;
  q.to_ms = *to;
  auto ctx = open(c);
  auto tx = ctx->store->read();
  const auto who = console::cli_principal();
  if (spec.csv) {
    auto csv = console::statement_csv(*tx, who, q);
    if (!csv.ok()) return fail(csv.error().message);
    std::cout << *csv;
    return 0;
  }
  // Every line of the range, page by page, at most the CSV cap.
  q.limit = limits::kConsolePageSizeMax;
  json items = json::array();
  std::string text;
  Money opening;
  Money closing;
  bool truncated = false;
  for (bool first = true;; first = false) {
    auto page = console::statement(*tx, who, q);
    if (!page.ok()) return fail(page.error().message);
    if (first) {
      opening = page->opening;
      closing = page->closing;
      text += "account " + console::account_code(q.merchant, q.account) + "\nopening " + format_yuan(opening) + "\n";
    }
    const json page_items = console::statement_json(*page)["items"];
    for (size_t i = 0; i < page->items.size(); ++i) {
      if (items.size() == limits::kConsoleCsvRowsMax) {
        truncated = true;
        break;
      }
      items.push_back(page_items[i]);
      const auto& l = page->items[i];
      text += std::to_string(l.entry_id) + "  " + std::to_string(l.at_ms) + "  " + l.kind + "  " + l.reference + "  " +
              (l.amount.is_negative() ? "" : "+") + format_yuan(l.amount) + "  balance " + format_yuan(l.balance) +
              "\n";
    }
    if (truncated || !page->next_cursor) break;
    q.cursor = *page->next_cursor;
  }
  text += truncated ? "# truncated at " + std::to_string(limits::kConsoleCsvRowsMax) + " lines\n"
                    : "closing " + format_yuan(closing) + "\n";
  print(json{{"merchant_id", spec.merchant},
             {"account", console::account_code(q.merchant, q.account)},
             {"from_ms", q.from_ms},
             {"to_ms", q.to_ms},
             {"opening_fen", opening.fen()},
             {"closing_fen", closing.fen()},
             {"items", items},
             {"truncated", truncated}},
        out, text);
  return 0;
}

int report_reconcile(const app::Config& c, const std::string& date, std::optional<int64_t> merchant, bool csv,
                     Output out) {
  auto ctx = open(c);
  auto r = console::reconcile(*ctx->store->read(), console::cli_principal(), date,
                              merchant ? std::optional<MerchantId>(MerchantId{*merchant}) : std::nullopt,
                              report_utc_offset_minutes(c));
  if (!r.ok()) return fail(r.error().message);
  if (csv) {
    std::cout << console::reconciliation_csv(*r);
    return r->matches ? 0 : 1;
  }
  std::string text = "reconciliation of " + r->date + " (UTC" + (report_utc_offset_minutes(c) >= 0 ? "+" : "") +
                     std::to_string(report_utc_offset_minutes(c) / 60) +
                     "): " + (r->matches ? "orders and ledger match" : "ORDERS AND LEDGER DIFFER") + "\n";
  for (const auto& row : r->rows) {
    text += std::to_string(row.merchant_id.value()) + "  " + row.merchant_name + "  " + row.protocol +
            (row.channel.empty() ? "" : " " + row.channel) + "  ";
    if (row.protocol == "payout") {
      text += std::to_string(row.payouts) + " payouts " + format_yuan(row.payouts_amount) + " fees " +
              format_yuan(row.payout_fees) + "\n";
    } else {
      text += std::to_string(row.orders) + " orders gross " + format_yuan(row.gross) + " fee " + format_yuan(row.fee) +
              " net " + format_yuan(row.net) + "\n";
    }
  }
  text += "ledger: credited " + format_yuan(r->ledger_credited) + ", paid out " + format_yuan(r->ledger_payouts) + "\n";
  for (const auto& d : r->differences) text += "  " + d + "\n";
  print(console::reconciliation_json(*r), out, text);
  return r->matches ? 0 : 1;
}

}  // namespace paygate::tools
