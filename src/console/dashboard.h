// The console's dashboard (docs/console.md, "Dashboard"): per local day, per protocol, orders, succeeded orders and
// their volume; per channel over the whole range; notification delivery per day and pending now; balances. Portable
// SQL, days bucketed in integer arithmetic: (created_at_ms + utc_offset_ms) / 86400000.
#pragma once
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "console/console.h"
#include "storage/store.h"

namespace paygate::console {

struct DashboardQuery {
  int days = 14;                          // 1..kConsoleDashboardDaysMax, the last one today
  std::optional<MerchantId> merchant_id;  // none: every merchant (operators); forced to its own for a merchant
  int utc_offset_minutes = 480;
  int64_t now_ms = 0;
};

// The local day (days since the epoch at the offset) a time falls on, and the time that day starts.
int64_t local_day(int64_t at_ms, int utc_offset_minutes);
int64_t local_day_start_ms(int64_t day, int utc_offset_minutes);

nlohmann::json dashboard(storage::Tx& tx, const Principal& who, DashboardQuery query);

}  // namespace paygate::console
