#include "notify/schedule.h"

#include <gtest/gtest.h>

namespace paygate::notify {
namespace {

TEST(Schedule, ConsignGrowsByTenSeconds) {
  ScheduleConfig c;
  EXPECT_EQ(retry_delay_ms(kConsignSchedule, 1, c), 10'000);
  EXPECT_EQ(retry_delay_ms(kConsignSchedule, 2, c), 20'000);
  EXPECT_EQ(kConsignAttemptsMax, 3);
  c.consign_retry_step_ms = 100;
  EXPECT_EQ(retry_delay_ms(kConsignSchedule, 2, c), 200);
}

TEST(Schedule, GatewayUsesThePlatformDefaultUnlessConfigured) {
  ScheduleConfig c;
  EXPECT_EQ(attempts_max(kGatewaySchedule, c), 8);
  std::vector<int64_t> waits;
  for (int made = 1; made < 8; ++made) waits.push_back(retry_delay_ms(kGatewaySchedule, made, c));
  EXPECT_EQ(waits, (std::vector<int64_t>{10'000, 30'000, 60'000, 300'000, 900'000, 1'800'000, 3'600'000}));
  c.gateway_retry_delays_ms = {100, 250};
  EXPECT_EQ(attempts_max(kGatewaySchedule, c), 3);
  EXPECT_EQ(retry_delay_ms(kGatewaySchedule, 1, c), 100);
  EXPECT_EQ(retry_delay_ms(kGatewaySchedule, 2, c), 250);
  // A row enqueued under a longer schedule keeps the last wait.
  EXPECT_EQ(retry_delay_ms(kGatewaySchedule, 5, c), 250);
  EXPECT_EQ(attempts_max(kConsignSchedule, c), 3);
}

TEST(Schedule, CashierFollowsTheDocument) {
  ScheduleConfig c;
  EXPECT_EQ(attempts_max(kCashierSchedule, c), 10);
  std::vector<int64_t> waits;
  for (int made = 1; made < 10; ++made) waits.push_back(retry_delay_ms(kCashierSchedule, made, c));
  EXPECT_EQ(waits, (std::vector<int64_t>{10'000, 10'000, 10'000, 60'000, 60'000, 60'000, 180'000, 180'000, 180'000}));
  c.cashier_retry_unit_ms = 100;
  EXPECT_EQ(retry_delay_ms(kCashierSchedule, 4, c), 600);
  EXPECT_EQ(retry_delay_ms(kCashierSchedule, 9, c), 1'800);
}

}  // namespace
}  // namespace paygate::notify
