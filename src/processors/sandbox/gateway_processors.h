// What moves gateway pay-ins and payouts forward. A channel is bound to a pay-in processor by name; payouts go to
// one bank processor. The sandbox ones are deterministic (docs/sandbox.md):
//   pay-in: the customer "pays" on the hosted page (sandbox panel) or the merchant's test calls
//           POST /sandbox/payments/{id}/complete; the payment link is the hosted page itself;
//   bank:   an account number ending 0000 fails, anything else is paid (after the configured delay).
#pragma once
#include <string>
#include <string_view>

#include "orders/gateway_order.h"

namespace paygate::processors {

class PayInProcessor {
 public:
  virtual ~PayInProcessor() = default;
  virtual std::string_view name() const = 0;
  // Whether completions may come from the sandbox panel and /sandbox/payments/{id}/complete.
  virtual bool is_sandbox() const = 0;
  // What the payment page's QR code encodes. `base_url` is the platform's public address ("http://host:port").
  virtual std::string payment_link(const orders::PayIn& payin, std::string_view base_url) const = 0;
};

class SandboxPayInProcessor final : public PayInProcessor {
 public:
  static constexpr std::string_view kName = "sandbox";
  std::string_view name() const override { return kName; }
  bool is_sandbox() const override { return true; }
  // The hosted page itself, absolute: scanned with a phone, it opens the same page there.
  std::string payment_link(const orders::PayIn& payin, std::string_view base_url) const override;
};

struct PayoutDecision {
  bool paid = false;
  std::string message;
};

class BankProcessor {
 public:
  virtual ~BankProcessor() = default;
  virtual PayoutDecision decide(const orders::Payout& payout) const = 0;
};

class SandboxBank final : public BankProcessor {
 public:
  PayoutDecision decide(const orders::Payout& payout) const override;
};

}  // namespace paygate::processors
