// The double-entry ledger, pure (no I/O). A journal entry is a set of postings that sum to zero; each
// posting moves integer fen into (positive) or out of (negative) one account. Merchant balances are what the
// platform owes the merchant and may never go negative; clearing accounts mirror money held outside the
// platform (the card issuers' side) and are negative by construction.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "base/ids.h"
#include "base/money.h"
#include "base/result.h"

namespace paygate::ledger {

struct Account {
  std::string code;          // "merchant:10001:available", "platform:revenue", "platform:consign_clearing"
  int64_t merchant_id = 0;   // 0 for platform accounts
  bool may_go_negative = false;
};

Account merchant_available(MerchantId merchant);
Account platform_revenue();
// Value received from redeemed cards: debited by what each card was worth.
Account consign_clearing();

struct Posting {
  Account account;
  Money amount;  // positive: into the account
};

struct Entry {
  std::string kind;       // "consign.settle", ...
  std::string reference;  // the order id
  std::vector<Posting> postings;
};

// Checks the structural invariants: at least two postings, no zero posting, each account at most once,
// the sum is exactly zero without overflow. Entries built below always satisfy it; storage asserts it again
// before applying one.
Status validate(const Entry& entry);

// A redeemed card worth `real` settles at `amount` (real x rate): the merchant is credited `amount`, the
// platform keeps the margin `real - amount`. Requires 0 <= amount <= real.
Entry consign_settlement(MerchantId merchant, const SysOrderId& order, Money real, Money amount);

}  // namespace paygate::ledger
