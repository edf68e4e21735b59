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
  std::string code;         // "merchant:10001:available", "platform:revenue", "platform:consign_clearing"
  int64_t merchant_id = 0;  // 0 for platform accounts
  bool may_go_negative = false;
};

Account merchant_available(MerchantId merchant);
Account platform_revenue();
// Value received from redeemed cards: debited by what each card was worth.
Account consign_clearing();
// Money received from payers through the gateway's channels: debited by each paid pay-in.
Account gateway_clearing();
// Money sent to bank accounts by payouts: credited by each paid payout.
Account payout_clearing();
// A merchant's payouts accepted and not yet paid or refunded (amount plus fee).
Account merchant_payout_reserved(MerchantId merchant);
// A merchant's paid cashier orders waiting for settlement (result 1002): owed, not yet available.
Account merchant_pending(MerchantId merchant);
// A merchant's paid cashier orders held for investigation (result 1004).
Account merchant_frozen(MerchantId merchant);
// Money received from payers through the cashier: debited by each paid order, credited by each returned one.
Account cashier_clearing();

struct Posting {
  Account account;
  Money amount;  // positive: into the account
};

struct Entry {
  std::string kind;       // "consign.settle", ...
  std::string reference;  // the order id
  std::vector<Posting> postings;
};

// The most postings an entry may have (the kinds below have at most three); storage keeps an entry's balances
// in a fixed array.
inline constexpr size_t kEntryPostingsMax = 8;

// Checks the structural invariants: at least two postings and at most kEntryPostingsMax, no zero posting, each account
// at most once, the sum is exactly zero without overflow. Entries built below always satisfy it; storage asserts it
// again before applying one.
Status validate(const Entry& entry);

// A redeemed card worth `real` settles at `amount` (real x rate): the merchant is credited `amount`, the
// platform keeps the margin `real - amount`. Requires 0 <= amount <= real.
Entry consign_settlement(MerchantId merchant, const SysOrderId& order, Money real, Money amount);

// Entry kinds of the gateway, one per step; the ledger check counts them per order.
inline constexpr std::string_view kGatewayPayIn = "gateway.payin";
inline constexpr std::string_view kPayoutReserve = "gateway.payout.reserve";
inline constexpr std::string_view kPayoutPaid = "gateway.payout.paid";
inline constexpr std::string_view kPayoutRefund = "gateway.payout.refund";

// A paid pay-in: the payer paid `paid`; the merchant is credited `paid - fee`, the platform keeps `fee`.
// Requires 0 <= fee <= paid, paid > 0.
Entry gateway_payin(MerchantId merchant, const PaymentId& payment, Money paid, Money fee);
// A payout accepted: amount + fee leave the merchant's available balance for its payout reserve. post() refuses
// it (kFailedPrecondition) when the available balance does not cover it.
Entry payout_reserve(MerchantId merchant, const PayoutId& payout, Money amount, Money fee);
// A payout paid: the reserve goes out to the bank (amount) and to the platform (fee).
Entry payout_paid(MerchantId merchant, const PayoutId& payout, Money amount, Money fee);
// A payout failed or rejected: amount + fee return from the reserve to the available balance.
Entry payout_refund(MerchantId merchant, const PayoutId& payout, Money amount, Money fee);

// Cashier entry kinds, one per step; the ledger check counts them per order.
inline constexpr std::string_view kCashierPay = "cashier.pay";          // paid: clearing -> to, revenue
inline constexpr std::string_view kCashierSettle = "cashier.settle";    // pending -> available
inline constexpr std::string_view kCashierHold = "cashier.hold";        // available|pending -> frozen
inline constexpr std::string_view kCashierRelease = "cashier.release";  // frozen -> available
inline constexpr std::string_view kCashierReturn = "cashier.return";    // frozen -> payer (clearing), fee back

// A paid cashier order: the payer paid `amount`; `amount - fee` goes to `to` (the merchant's available, pending
// or frozen account), `fee` to the platform. Requires 0 <= fee <= amount, amount > 0.
Entry cashier_pay(const CashierId& order, const Account& to, Money amount, Money fee);
// Moves `net` (amount - fee) of one order between two of the merchant's accounts (settle, hold, release).
Entry cashier_move(std::string_view kind, const CashierId& order, const Account& from, const Account& to, Money net);
// A held order returned to the payer: its net leaves frozen and its fee leaves revenue, the whole amount back
// to the payer (clearing).
Entry cashier_return(MerchantId merchant, const CashierId& order, Money amount, Money fee);

}  // namespace paygate::ledger
