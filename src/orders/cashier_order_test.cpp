#include "orders/cashier_order.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace paygate::orders {
namespace {

constexpr CashierState kAll[] = {CashierState::kUnpaid, CashierState::kPaid, CashierState::kPending,
                                 CashierState::kFailed, CashierState::kHeld};

TEST(CashierOrder, StateNamesAreTheStoredOnes) {
  EXPECT_EQ(cashier_state_name(CashierState::kUnpaid), "unpaid");
  EXPECT_EQ(cashier_state_name(CashierState::kPaid), "paid");
  EXPECT_EQ(cashier_state_name(CashierState::kPending), "pending");
  EXPECT_EQ(cashier_state_name(CashierState::kFailed), "failed");
  EXPECT_EQ(cashier_state_name(CashierState::kHeld), "held");
}

TEST(CashierOrder, EveryStateNameParsesBackAndNothingElseParses) {
  std::set<std::string_view> names;
  for (auto s : kAll) {
    names.insert(cashier_state_name(s));
    EXPECT_EQ(parse_cashier_state(cashier_state_name(s)), s) << cashier_state_name(s);
  }
  EXPECT_EQ(names.size(), std::size(kAll)) << "each state has its own name";
  for (const char* bad : {"", "Paid", "PAID", "paid ", "waiting", "0000", "1001", "hold"}) {
    EXPECT_FALSE(parse_cashier_state(bad).has_value()) << bad;
  }
}

TEST(CashierOrder, ResultCodesAreTheProtocols) {
  EXPECT_EQ(cashier_result_code(CashierState::kUnpaid), "1001");
  EXPECT_EQ(cashier_result_code(CashierState::kPaid), "0000");
  EXPECT_EQ(cashier_result_code(CashierState::kPending), "1002");
  EXPECT_EQ(cashier_result_code(CashierState::kFailed), "1003");
  EXPECT_EQ(cashier_result_code(CashierState::kHeld), "1004");
}

TEST(CashierOrder, ANewOrderIsUnpaidWithNothingHeld) {
  CashierOrder o;
  EXPECT_EQ(o.state, CashierState::kUnpaid);
  EXPECT_EQ(o.held_from, CashierState::kUnpaid);
  EXPECT_EQ(o.paid_at_ms, 0);
  EXPECT_EQ(o.fee, Money{});
}

}  // namespace
}  // namespace paygate::orders
