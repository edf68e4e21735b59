#include "orders/consign_order.h"

namespace paygate::orders {

std::string_view state_name(ConsignState s) {
  switch (s) {
    case ConsignState::kProcessing: return "processing";
    case ConsignState::kReview: return "review";
    case ConsignState::kSuccess: return "success";
    case ConsignState::kFailed: return "failed";
  }
  return "processing";
}

std::optional<ConsignState> parse_state(std::string_view name) {
  if (name == "processing") return ConsignState::kProcessing;
  if (name == "review") return ConsignState::kReview;
  if (name == "success") return ConsignState::kSuccess;
  if (name == "failed") return ConsignState::kFailed;
  return std::nullopt;
}

std::string_view protocol_status(ConsignState s) {
  switch (s) {
    case ConsignState::kProcessing:
    case ConsignState::kReview: return "1";
    case ConsignState::kSuccess: return "2";
    case ConsignState::kFailed: return "3";
  }
  return "1";
}

Result<ConsignOrder> apply_outcome(const ConsignOrder& order, const ConsignOutcome& outcome, int64_t now_ms) {
  if (is_final(order.state)) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "order " + order.sys_order_id.value() + " is already " + std::string(state_name(order.state)));
  }
  ConsignOrder next = order;
  next.updated_at_ms = now_ms;
  switch (outcome.kind) {
    case ConsignOutcome::Kind::kReview:
      if (order.state != ConsignState::kProcessing) {
        return make_error(ErrorCode::kFailedPrecondition, "order is not processing");
      }
      next.state = ConsignState::kReview;
      next.message = outcome.message.empty() ? "waiting for manual review" : outcome.message;
      return next;
    case ConsignOutcome::Kind::kFail:
      next.state = ConsignState::kFailed;
      next.message = outcome.message.empty() ? "card redemption failed" : outcome.message;
      next.real_money_yuan = 0;
      next.amount = Money{};
      next.success_time_s = now_ms / 1000;
      return next;
    case ConsignOutcome::Kind::kSuccess: {
      if (outcome.real_money_yuan <= 0) {
        return make_error(ErrorCode::kInvalidArgument, "real money must be a positive whole number of yuan");
      }
      auto real = Money::from_yuan(outcome.real_money_yuan);
      if (!real || real->fen() > kMoneyFenMax) {
        return make_error(ErrorCode::kInvalidArgument, "real money is too large");
      }
      next.state = ConsignState::kSuccess;
      next.real_money_yuan = outcome.real_money_yuan;
      next.amount = apply_rate_half_up(*real, order.rate);
      next.message = outcome.message.empty() ? "success" : outcome.message;
      next.success_time_s = now_ms / 1000;
      return next;
    }
  }
  return make_error(ErrorCode::kInternal, "unknown outcome");
}

std::string mask_secret(std::string_view secret) {
  if (secret.size() <= 6) return std::string(secret.size(), '*');
  std::string out(secret.size(), '*');
  out[0] = secret[0];
  out[1] = secret[1];
  out[out.size() - 2] = secret[secret.size() - 2];
  out[out.size() - 1] = secret[secret.size() - 1];
  return out;
}

}  // namespace paygate::orders
