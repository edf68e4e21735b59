#include "orders/gateway_order.h"

namespace paygate::orders {

std::string_view payin_state_name(PayInState s) {
  switch (s) {
    case PayInState::kWaiting: return "waiting";
    case PayInState::kPaid: return "paid";
    case PayInState::kFailed: return "failed";
  }
  return "waiting";
}

std::optional<PayInState> parse_payin_state(std::string_view name) {
  if (name == "waiting") return PayInState::kWaiting;
  if (name == "paid") return PayInState::kPaid;
  if (name == "failed") return PayInState::kFailed;
  return std::nullopt;
}

int payin_protocol_status(PayInState s) {
  switch (s) {
    case PayInState::kWaiting: return 0;
    case PayInState::kPaid: return 1;
    case PayInState::kFailed: return 2;
  }
  return 0;
}

Result<PayIn> apply_payin_outcome(const PayIn& p, const PayInOutcome& outcome, int64_t now_ms) {
  if (p.state != PayInState::kWaiting) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "payment " + p.id.value() + " is already " + std::string(payin_state_name(p.state)));
  }
  PayIn next = p;
  next.updated_at_ms = now_ms;
  next.finished_at_ms = now_ms;
  switch (outcome.kind) {
    case PayInOutcome::Kind::kPaid:
      if (!outcome.paid.is_positive() || outcome.paid.fen() > kMoneyFenMax) {
        return make_error(ErrorCode::kInvalidArgument, "the paid amount must be between 0.01 and 100000000.00");
      }
      next.state = PayInState::kPaid;
      next.paid = outcome.paid;
      next.fee = apply_rate_half_up(outcome.paid, p.fee_rate);
      next.message = outcome.message.empty() ? "paid" : outcome.message;
      return next;
    case PayInOutcome::Kind::kFailed:
      next.state = PayInState::kFailed;
      next.message = outcome.message.empty() ? "payment failed" : outcome.message;
      return next;
    case PayInOutcome::Kind::kExpired:
      next.state = PayInState::kFailed;
      next.message = outcome.message.empty() ? "expired" : outcome.message;
      return next;
  }
  return make_error(ErrorCode::kInternal, "unknown outcome");
}

std::string_view payout_state_name(PayoutState s) {
  switch (s) {
    case PayoutState::kApproval: return "approval";
    case PayoutState::kProcessing: return "processing";
    case PayoutState::kPaid: return "paid";
    case PayoutState::kFailed: return "failed";
    case PayoutState::kRejected: return "rejected";
  }
  return "processing";
}

std::optional<PayoutState> parse_payout_state(std::string_view name) {
  if (name == "approval") return PayoutState::kApproval;
  if (name == "processing") return PayoutState::kProcessing;
  if (name == "paid") return PayoutState::kPaid;
  if (name == "failed") return PayoutState::kFailed;
  if (name == "rejected") return PayoutState::kRejected;
  return std::nullopt;
}

int payout_protocol_status(PayoutState s) {
  switch (s) {
    case PayoutState::kApproval:
    case PayoutState::kProcessing: return 0;
    case PayoutState::kPaid: return 1;
    case PayoutState::kFailed:
    case PayoutState::kRejected: return 2;
  }
  return 0;
}

std::string mask_account_number(std::string_view number) {
  if (number.size() <= 4) return std::string(number.size(), '*');
  return std::string(number.size() - 4, '*') + std::string(number.substr(number.size() - 4));
}

}  // namespace paygate::orders
