#include "orders/cashier_order.h"

namespace paygate::orders {

std::string_view cashier_state_name(CashierState s) {
  switch (s) {
    case CashierState::kUnpaid: return "unpaid";
    case CashierState::kPaid: return "paid";
    case CashierState::kPending: return "pending";
    case CashierState::kFailed: return "failed";
    case CashierState::kHeld: return "held";
  }
  return "unpaid";
}

std::optional<CashierState> parse_cashier_state(std::string_view name) {
  if (name == "unpaid") return CashierState::kUnpaid;
  if (name == "paid") return CashierState::kPaid;
  if (name == "pending") return CashierState::kPending;
  if (name == "failed") return CashierState::kFailed;
  if (name == "held") return CashierState::kHeld;
  return std::nullopt;
}

std::string_view cashier_result_code(CashierState s) {
  switch (s) {
    case CashierState::kUnpaid: return "1001";
    case CashierState::kPaid: return "0000";
    case CashierState::kPending: return "1002";
    case CashierState::kFailed: return "1003";
    case CashierState::kHeld: return "1004";
  }
  return "1001";
}

}  // namespace paygate::orders
