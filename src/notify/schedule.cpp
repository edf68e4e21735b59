#include "notify/schedule.h"

#include "base/assert.h"
#include "base/limits.h"

namespace paygate::notify {

int attempts_max(std::string_view schedule, const ScheduleConfig& config) {
  if (schedule == kGatewaySchedule) {
    PG_ASSERT(config.gateway_retry_delays_ms.size() < static_cast<size_t>(limits::kNotifyAttemptsMax),
              "more gateway retries than the attempts limit");
    return static_cast<int>(config.gateway_retry_delays_ms.size()) + 1;
  }
  if (schedule == kCashierSchedule) return kCashierAttemptsMax;
  return kConsignAttemptsMax;
}

int64_t retry_delay_ms(std::string_view schedule, int attempts_made, const ScheduleConfig& config) {
  PG_ASSERT(attempts_made >= 1, "retry delay before any attempt");
  if (schedule == kGatewaySchedule) {
    const auto& delays = config.gateway_retry_delays_ms;
    if (delays.empty()) return config.consign_retry_step_ms;
    // A row written under a longer schedule (the config changed since) keeps waiting the last delay.
    size_t i = std::min(static_cast<size_t>(attempts_made - 1), delays.size() - 1);
    return delays[i];
  }
  if (schedule == kCashierSchedule) {
    if (attempts_made <= 3) return config.cashier_retry_unit_ms;
    if (attempts_made <= 6) return config.cashier_retry_unit_ms * 6;
    return config.cashier_retry_unit_ms * 18;
  }
  if (schedule == kConsignSchedule) return config.consign_retry_step_ms * attempts_made;
  // Unknown schedules (rows written by a newer version) back off one step per attempt too.
  return config.consign_retry_step_ms * attempts_made;
}

}  // namespace paygate::notify
