#include "console/list_params.h"

#include <string>

#include "base/money.h"

namespace paygate::console {

namespace {
Error bad(std::string message) { return make_error(ErrorCode::kInvalidArgument, std::move(message)); }
}  // namespace

Result<std::optional<int64_t>> non_negative_field(const http::FormFields& f, std::string_view name) {
  const std::string* v = f.find(name);
  if (v == nullptr || v->empty()) return std::optional<int64_t>();
  auto n = parse_int64_strict(*v);
  if (!n) return bad(std::string(name) + " must be a non-negative integer, got '" + *v + "'");
  return std::optional<int64_t>(*n);
}

Result<TimeRange> time_range_fields(const http::FormFields& f) {
  auto from = non_negative_field(f, "from_ms");
  if (!from.ok()) return from.error();
  auto to = non_negative_field(f, "to_ms");
  if (!to.ok()) return to.error();
  if (*from && *to && **from >= **to) return bad("from_ms must be before to_ms");
  return TimeRange{*from, *to};
}

Result<size_t> limit_field(const http::FormFields& f, size_t fallback, size_t limit_max) {
  const std::string* v = f.find("limit");
  if (v == nullptr || v->empty()) return fallback;
  auto n = parse_int64_strict(*v);
  if (!n || *n < 1 || static_cast<size_t>(*n) > limit_max) {
    return bad("limit must be 1 to " + std::to_string(limit_max) + ", got '" + *v + "'");
  }
  return static_cast<size_t>(*n);
}

}  // namespace paygate::console
