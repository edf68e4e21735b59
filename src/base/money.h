// Money is integer fen (0.01 CNY) with checked arithmetic. Yuan appear only at the protocol edge, through
// parse_yuan / format_yuan. Never a double.
#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace paygate {

class Money {
 public:
  constexpr Money() = default;
  static constexpr Money from_fen(int64_t fen) { return Money(fen); }
  // Whole yuan; returns nullopt on overflow.
  static std::optional<Money> from_yuan(int64_t yuan);

  constexpr int64_t fen() const { return fen_; }
  constexpr bool is_zero() const { return fen_ == 0; }
  constexpr bool is_negative() const { return fen_ < 0; }
  constexpr bool is_positive() const { return fen_ > 0; }

  // Checked arithmetic: nullopt on int64 overflow.
  std::optional<Money> checked_add(Money other) const;
  std::optional<Money> checked_sub(Money other) const;
  Money negated() const;

  constexpr auto operator<=>(const Money&) const = default;

 private:
  constexpr explicit Money(int64_t fen) : fen_(fen) {}
  int64_t fen_ = 0;
};

// The largest amount any single order or posting may carry: 100 million yuan. Keeps every product of an
// amount and a rate far inside int64.
inline constexpr int64_t kMoneyFenMax = 10'000'000'000;

// "96.50" / "96.5" / "96" -> 9650 fen. Up to max_decimals digits after the point; no sign, no exponent,
// no leading '+', no whitespace. Rejects values above kMoneyFenMax.
Result<Money> parse_yuan(std::string_view text, int max_decimals = 2);
// 9650 -> "96.50" (always two decimals; a leading '-' for negatives).
std::string format_yuan(Money m);
// Whole yuan only: 10000 -> "100". Asserts the amount is whole yuan.
std::string format_whole_yuan(Money m);

// A rate in tenths of a percent ("96.5" percent -> 965). Used for settlement rates and fees.
struct RatePermille {
  int32_t value = 0;
  auto operator<=>(const RatePermille&) const = default;
};
// "96.5" / "96" -> 965 / 960. At most one decimal, 0..100.0.
Result<RatePermille> parse_rate_percent(std::string_view text);
// 965 -> "96.5"
std::string format_rate_percent(RatePermille r);

// amount x rate, rounded half-up to the fen. amount must be non-negative.
Money apply_rate_half_up(Money amount, RatePermille rate);

// Parses a non-negative decimal integer that fits int64 (no sign, no leading zeros except "0").
std::optional<int64_t> parse_int64_strict(std::string_view text);

}  // namespace paygate
