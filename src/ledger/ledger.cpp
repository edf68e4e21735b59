#include "ledger/ledger.h"

#include <set>

namespace paygate::ledger {

Account merchant_available(MerchantId merchant) {
  return Account{"merchant:" + std::to_string(merchant.value()) + ":available", merchant.value(), false};
}
Account platform_revenue() { return Account{"platform:revenue", 0, false}; }
Account consign_clearing() { return Account{"platform:consign_clearing", 0, true}; }

Status validate(const Entry& entry) {
  if (entry.postings.size() < 2) return make_error(ErrorCode::kInternal, "ledger entry needs two postings");
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

}  // namespace paygate::ledger
