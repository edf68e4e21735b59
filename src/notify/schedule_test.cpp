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

}  // namespace
}  // namespace paygate::notify
