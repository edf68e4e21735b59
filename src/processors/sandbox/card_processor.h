// The deterministic sandbox card processor (docs/sandbox.md). It decides from the decrypted card password:
//   FAIL...        -> failed
//   REAL<n>-...    -> success, the card is worth n yuan
//   HOLD...        -> manual review
//   anything else  -> success at the declared face value
// Image and link submissions (productType 1, 2) always go to manual review.
#pragma once
#include "orders/consign_order.h"

namespace paygate::processors {

class CardProcessor {
 public:
  virtual ~CardProcessor() = default;
  virtual orders::ConsignOutcome decide(const orders::ConsignOrder& order) const = 0;
};

class SandboxCardProcessor final : public CardProcessor {
 public:
  orders::ConsignOutcome decide(const orders::ConsignOrder& order) const override;
};

}  // namespace paygate::processors
