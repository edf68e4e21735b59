#include "notify/schedule.h"

#include "base/assert.h"

namespace paygate::notify {

int64_t retry_delay_ms(std::string_view schedule, int attempts_made, const ScheduleConfig& config) {
  PG_ASSERT(attempts_made >= 1, "retry delay before any attempt");
  if (schedule == kConsignSchedule) return config.consign_retry_step_ms * attempts_made;
  // Unknown schedules (rows written by a newer version) back off one step per attempt too.
  return config.consign_retry_step_ms * attempts_made;
}

}  // namespace paygate::notify
