#include "ledger/ledger.h"

#include <set>

namespace paygate::ledger {

Account merchant_available(MerchantId merchant) {
  return Account{"merchant:" + std::to_string(merchant.value()) + ":available", merchant.value(), false};
}
Account platform_revenue() { return Account{"platform:revenue", 0, false}; }
Account consign_clearing() { return Account{"platform:consign_clearing", 0, true}; }
Account gateway_clearing() { return Account{"platform:gateway_clearing", 0, true}; }
Account payout_clearing() { return Account{"platform:payout_clearing", 0, true}; }
Account merchant_pending(MerchantId merchant) {
  return Account{"merchant:" + std::to_string(merchant.value()) + ":pending", merchant.value(), false};
}
Account merchant_frozen(MerchantId merchant) {
  return Account{"merchant:" + std::to_string(merchant.value()) + ":frozen", merchant.value(), false};
}
Account cashier_clearing() { return Account{"platform:cashier_clearing", 0, true}; }
Account merchant_payout_reserved(MerchantId merchant) {
  return Account{"merchant:" + std::to_string(merchant.value()) + ":payout_reserved", merchant.value(), false};
}

Status validate(const Entry& entry) {
  if (entry.postings.size() < 2) return make_error(ErrorCode::kInternal, "ledger entry needs two postings");
  if (entry.postings.size() > kEntryPostingsMax) {
    return make_error(ErrorCode::kInternal, "ledger entry has too many postings");
  }
  std::set<std::string_view> seen;
  Money sum;
  for (const auto& p : entry.postings) {
    if (p.amount.is_zero()) return make_error(ErrorCode::kInternal, "ledger entry has a zero posting");
    if (!seen.insert(p.account.code).second) {
      return make_error(ErrorCode::kInternal, "ledger entry posts twice to " + p.account.code);
    }
    auto next = sum.checked_add(p.amount);
    if (!next) return make_error(ErrorCode::kInternal, "ledger entry overflows");
    sum = *next;
  }
  if (!sum.is_zero()) return make_error(ErrorCode::kInternal, "ledger entry does not sum to zero");
  return ok_status();
}

Entry consign_settlement(MerchantId merchant, const SysOrderId& order, Money real, Money amount) {
  PG_ASSERT(!amount.is_negative() && amount <= real, "settlement amount outside [0, real]");
  Entry e{"consign.settle", order.value(), {}};
  e.postings.push_back({consign_clearing(), real.negated()});
  if (amount.is_positive()) e.postings.push_back({merchant_available(merchant), amount});
  Money margin = *real.checked_sub(amount);
  if (margin.is_positive()) e.postings.push_back({platform_revenue(), margin});
  return e;
}

namespace {
// amount + fee, both checked by the callers' limits (each at most kMoneyFenMax), so the sum cannot overflow.
Money total_of(Money amount, Money fee) {
  PG_ASSERT(amount.is_positive() && !fee.is_negative(), "payout amount must be positive and its fee not negative");
  auto total = amount.checked_add(fee);
  PG_ASSERT(total.has_value(), "payout amount plus fee overflows");
  return *total;
}
}  // namespace

Entry gateway_payin(MerchantId merchant, const PaymentId& payment, Money paid, Money fee) {
  PG_ASSERT(paid.is_positive() && !fee.is_negative() && fee <= paid, "pay-in fee outside [0, paid]");
  Entry e{std::string(kGatewayPayIn), payment.value(), {}};
  e.postings.push_back({gateway_clearing(), paid.negated()});
  Money net = *paid.checked_sub(fee);
  if (net.is_positive()) e.postings.push_back({merchant_available(merchant), net});
  if (fee.is_positive()) e.postings.push_back({platform_revenue(), fee});
  return e;
}

Entry payout_reserve(MerchantId merchant, const PayoutId& payout, Money amount, Money fee) {
  Money total = total_of(amount, fee);
  return Entry{std::string(kPayoutReserve), payout.value(),
               {{merchant_available(merchant), total.negated()}, {merchant_payout_reserved(merchant), total}}};
}

Entry payout_paid(MerchantId merchant, const PayoutId& payout, Money amount, Money fee) {
  Money total = total_of(amount, fee);
  Entry e{std::string(kPayoutPaid), payout.value(), {}};
  e.postings.push_back({merchant_payout_reserved(merchant), total.negated()});
  e.postings.push_back({payout_clearing(), amount});
  if (fee.is_positive()) e.postings.push_back({platform_revenue(), fee});
  return e;
}

Entry payout_refund(MerchantId merchant, const PayoutId& payout, Money amount, Money fee) {
  Money total = total_of(amount, fee);
  return Entry{std::string(kPayoutRefund), payout.value(),
               {{merchant_payout_reserved(merchant), total.negated()}, {merchant_available(merchant), total}}};
}

Entry cashier_pay(const CashierId& order, const Account& to, Money amount, Money fee) {
  PG_ASSERT(amount.is_positive() && !fee.is_negative() && fee <= amount, "cashier fee outside [0, amount]");
  Entry e{std::string(kCashierPay), order.value(), {}};
  e.postings.push_back({cashier_clearing(), amount.negated()});
  Money net = *amount.checked_sub(fee);
  if (net.is_positive()) e.postings.push_back({to, net});
  if (fee.is_positive()) e.postings.push_back({platform_revenue(), fee});
  return e;
}

Entry cashier_move(std::string_view kind, const CashierId& order, const Account& from, const Account& to, Money net) {
  PG_ASSERT(net.is_positive(), "cashier move of a non-positive amount");
  PG_ASSERT(from.code != to.code, "cashier move within one account");
  return Entry{std::string(kind), order.value(), {{from, net.negated()}, {to, net}}};
}

Entry cashier_return(MerchantId merchant, const CashierId& order, Money amount, Money fee) {
  PG_ASSERT(amount.is_positive() && !fee.is_negative() && fee <= amount, "cashier fee outside [0, amount]");
  Entry e{std::string(kCashierReturn), order.value(), {}};
  Money net = *amount.checked_sub(fee);
  if (net.is_positive()) e.postings.push_back({merchant_frozen(merchant), net.negated()});
  if (fee.is_positive()) e.postings.push_back({platform_revenue(), fee.negated()});
  e.postings.push_back({cashier_clearing(), amount});
  return e;
}

}  // namespace paygate::ledger
