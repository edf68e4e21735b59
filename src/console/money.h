// Money as the console and the CLI show it: balances, a merchant account's statement (every posting with its running
// balance) and the daily reconciliation of the order tables against the ledger.
//
// Reconciliation: which day an order belongs to is decided by the ledger entry that moved its money (its
// created_at_ms, in local days at `utc_offset_minutes`), and orders are joined to their entries by reference (the
// platform's order id), so the order side and the ledger side of a day count the same events:
//   consign   consign.settle entries; a row per merchant and product code: gross = the card's real value, net = what
//             the merchant was credited (amount_fen), fee = the difference (the platform's margin)
//   gateway   gateway.payin entries; a row per merchant and channel id: gross = paid_fen, fee = fee_fen
//   cashier   cashier.pay entries; a row per merchant and payment method: gross = amount_fen, fee = fee_fen
//   payout    gateway.payout.paid entries; a row per merchant: payouts, payouts_fen (amounts), payout_fees_fen
// The ledger side sums the postings to each merchant's accounts in that day's entries of those kinds, whatever
// their reference: per merchant and protocol, the credits must equal the orders' net, and the payout debits must
// equal the payouts' amounts plus fees. An entry without its order (or with other amounts) is a difference.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/money.h"
#include "base/result.h"
#include "console/console.h"
#include "storage/store.h"

namespace paygate::console {

// ---- balances ----

// {"items": [{"merchant_id", "merchant_name", "available_fen", "pending_fen", "frozen_fen", "payout_reserved_fen"}],
//  "platform": {"revenue_fen", "consign_clearing_fen", "gateway_clearing_fen", "payout_clearing_fen",
//  "cashier_clearing_fen"} (operators only)}. A merchant user gets only its own (another merchant_id: kNotFound).
Result<nlohmann::json> balances(storage::Tx& tx, const Principal& who, std::optional<MerchantId> merchant);

// ---- statement ----

enum class MerchantAccount { kAvailable, kPending, kFrozen, kPayoutReserved };
std::optional<MerchantAccount> parse_merchant_account(std::string_view name);  // available, pending, frozen, payout_reserved
std::string account_code(MerchantId merchant, MerchantAccount account);      // merchant:N:available, ...

struct StatementQuery {
  MerchantId merchant;
  MerchantAccount account = MerchantAccount::kAvailable;
  int64_t from_ms = 0;                                     // entries created at or after
  int64_t to_ms = std::numeric_limits<int64_t>::max();    // and before
  size_t limit = 50;
  std::string cursor;  // from the previous page
};
struct StatementLine {
  int64_t entry_id = 0;
  int64_t at_ms = 0;
  std::string kind;
  std::string reference;
  Money amount;   // + credit, - debit
  Money balance;  // after the entry
};
struct Statement {
  Money opening;  // the balance at from_ms: every posting before it
  Money closing;  // the balance at to_ms
  std::vector<StatementLine> items;  // oldest (lowest entry id) first
  std::optional<std::string> next_cursor;
};
// kNotFound for an unknown merchant (and another merchant's, for a merchant user); kInvalidArgument for a bad
// range or cursor.
Result<Statement> statement(storage::Tx& tx, const Principal& who, const StatementQuery& q);
nlohmann::json statement_json(const Statement& s);
// Every line of the range (at most limits::kConsoleCsvRowsMax), as CSV (see csv_document).
Result<std::string> statement_csv(storage::Tx& tx, const Principal& who, StatementQuery q);

// ---- reconciliation ----

// The local day `date` (YYYY-MM-DD) at `utc_offset_minutes` east of UTC: [from_ms, to_ms).
Result<std::pair<int64_t, int64_t>> local_day(std::string_view date, int utc_offset_minutes);

struct ReconRow {
  MerchantId merchant_id;
  std::string merchant_name;
  std::string protocol;  // consign, gateway, cashier, payout
  std::string channel;   // product code, channel id, method; "" for payouts
  int64_t orders = 0;
  Money gross;
  Money fee;
  Money net;
  int64_t payouts = 0;
  Money payouts_amount;
  Money payout_fees;
};
struct Reconciliation {
  std::string date;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::vector<ReconRow> rows;  // by merchant, protocol, channel
  ReconRow totals;
  Money ledger_credited;  // credits to merchant accounts by consign.settle, gateway.payin and cashier.pay
  Money ledger_payouts;   // debits of merchant accounts by gateway.payout.paid (amounts and fees)
  bool matches = true;
  std::vector<std::string> differences;
};
Result<Reconciliation> reconcile(storage::Tx& tx, const Principal& who, std::string_view date,
                                 std::optional<MerchantId> merchant, int utc_offset_minutes);
nlohmann::json reconciliation_json(const Reconciliation& r);
std::string reconciliation_csv(const Reconciliation& r);

// ---- CSV ----

// A CSV document as the console exports it: a UTF-8 byte order mark, the header, the rows (CRLF line ends), and
// "# truncated at N rows" when `truncated`.
std::string csv_document(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                         bool truncated);
// Money in a CSV: yuan with two decimals.
std::string csv_yuan(Money m);

}  // namespace paygate::console
