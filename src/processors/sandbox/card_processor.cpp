#include "processors/sandbox/card_processor.h"

#include "base/money.h"

namespace paygate::processors {

using orders::ConsignOutcome;

ConsignOutcome SandboxCardProcessor::decide(const orders::ConsignOrder& order) const {
  if (order.product_type == 1 || order.product_type == 2) {
    return {ConsignOutcome::Kind::kReview, 0, order.product_type == 1 ? "image submitted, waiting for manual review"
                                                                      : "redemption link submitted, waiting for manual review"};
  }
  const std::string& pw = order.card_password;
  if (pw.starts_with("FAIL")) return {ConsignOutcome::Kind::kFail, 0, "card rejected: invalid or already used (sandbox)"};
  if (pw.starts_with("HOLD")) return {ConsignOutcome::Kind::kReview, 0, "waiting for manual review (sandbox)"};
  if (pw.starts_with("REAL")) {
    auto dash = pw.find('-', 4);
    if (dash != std::string::npos) {
      auto real = parse_int64_strict(std::string_view(pw).substr(4, dash - 4));
      if (real && *real > 0 && *real <= kMoneyFenMax / 100) {
        return {ConsignOutcome::Kind::kSuccess, *real, "success: card worth " + std::to_string(*real) + " yuan"};
      }
    }
  }
  return {ConsignOutcome::Kind::kSuccess, order.face_money_yuan, "success"};
}

}  // namespace paygate::processors
