// Retry schedules per protocol. A schedule says how many attempts a notification gets and how long to wait
// after each failed one.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace paygate::notify {

// The platform's default schedule, for protocols whose document gives none (gateway): the waits after the 1st,
// 2nd, ... failed attempt; one attempt more than waits. 10 s, 30 s, 1 min, 5 min, 15 min, 30 min, 1 h: 8 attempts
// over about two hours.
inline const std::vector<int64_t> kDefaultRetryDelaysMs = {10'000,  30'000,    60'000,   300'000,
                                                           900'000, 1'800'000, 3'600'000};

struct ScheduleConfig {
  // consign (DECISIONS.md): 3 attempts; the wait grows by one step after each failure (10 s, then 20 s).
  int64_t consign_retry_step_ms = 10'000;
  // gateway: the platform default unless configured (notify.gateway_retry_delays_ms).
  std::vector<int64_t> gateway_retry_delays_ms = kDefaultRetryDelaysMs;
  // cashier (the document, 3.3.1): 10 s between attempts 1-4, 1 min between 4-7, 3 min between 7-10. The unit is
  // the first wait; the others are 6 and 18 units (tests shorten the unit).
  int64_t cashier_retry_unit_ms = 10'000;
};

inline constexpr std::string_view kConsignSchedule = "consign";
inline constexpr int kConsignAttemptsMax = 3;
inline constexpr std::string_view kGatewaySchedule = "gateway";
inline constexpr std::string_view kCashierSchedule = "cashier";
inline constexpr int kCashierAttemptsMax = 10;

// How many attempts a new notification on `schedule` gets.
int attempts_max(std::string_view schedule, const ScheduleConfig& config);

// The delay before the attempt that follows `attempts_made` failed attempts (attempts_made >= 1).
int64_t retry_delay_ms(std::string_view schedule, int attempts_made, const ScheduleConfig& config);

}  // namespace paygate::notify
