// Ids are distinct types so a merchant id can never be passed where an order id is expected.
#pragma once
#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace paygate {

template <typename Tag, typename Rep>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(Rep v) : v_(std::move(v)) {}
  const Rep& value() const { return v_; }
  auto operator<=>(const StrongId&) const = default;

 private:
  Rep v_{};
};

struct MerchantIdTag {};
struct SysOrderIdTag {};
struct NotificationIdTag {};
struct PaymentIdTag {};
struct PayoutIdTag {};
struct CashierIdTag {};

// The numeric merchant id (customerId in consign, merid in cashier).
using MerchantId = StrongId<MerchantIdTag, int64_t>;
// The platform's order id, e.g. "C2026112203061500000001".
using SysOrderId = StrongId<SysOrderIdTag, std::string>;
using NotificationId = StrongId<NotificationIdTag, int64_t>;
// A gateway pay-in's platform id, the `id` of its payUrl: "P" + 13-digit Unix ms + 12 random letters and digits, so
// that a payment page cannot be found by guessing.
using PaymentId = StrongId<PaymentIdTag, std::string>;
// A gateway payout's platform id: "W" + 13-digit Unix ms + 12 random letters and digits.
using PayoutId = StrongId<PayoutIdTag, std::string>;
// A cashier order's platform id, the protocol's `queryid`: "Q" + 13-digit Unix ms + 12 random letters and digits.
using CashierId = StrongId<CashierIdTag, std::string>;

}  // namespace paygate

template <typename Tag, typename Rep>
struct std::hash<paygate::StrongId<Tag, Rep>> {
  size_t operator()(const paygate::StrongId<Tag, Rep>& id) const noexcept { return std::hash<Rep>{}(id.value()); }
};
