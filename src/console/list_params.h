// The query fields the console's list endpoints share (ids, the time range, the page size), read with the same
// rules and messages by each list.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/result.h"
#include "http/http.h"

namespace paygate::console {

// An optional non-negative integer field (absent or empty: nullopt); kInvalidArgument naming the field otherwise.
Result<std::optional<int64_t>> non_negative_field(const http::FormFields& f, std::string_view name);

struct TimeRange {
  std::optional<int64_t> from_ms;  // at or after
  std::optional<int64_t> to_ms;    // before
};
// from_ms and to_ms; when both are given, from_ms must be before to_ms.
Result<TimeRange> time_range_fields(const http::FormFields& f);

// `limit`: 1 to limit_max; `fallback` when absent or empty.
Result<size_t> limit_field(const http::FormFields& f, size_t fallback, size_t limit_max);

}  // namespace paygate::console
