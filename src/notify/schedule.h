// Retry schedules per protocol. A schedule says how many attempts a notification gets and how long to wait
// after each failed one.
#pragma once
#include <cstdint>
#include <string_view>

namespace paygate::notify {

struct ScheduleConfig {
  // consign (DECISIONS.md): 3 attempts; the wait grows by one step after each failure (10 s, then 20 s).
  int64_t consign_retry_step_ms = 10'000;
};

inline constexpr std::string_view kConsignSchedule = "consign";
inline constexpr int kConsignAttemptsMax = 3;

// The delay before the attempt that follows `attempts_made` failed attempts (attempts_made >= 1).
int64_t retry_delay_ms(std::string_view schedule, int attempts_made, const ScheduleConfig& config);

}  // namespace paygate::notify
