#include "base/money.h"

#include <charconv>

namespace paygate {

std::optional<Money> Money::from_yuan(int64_t yuan) {
  int64_t fen = 0;
  if (__builtin_mul_overflow(yuan, int64_t{100}, &fen)) return std::nullopt;
  return Money(fen);
}

std::optional<Money> Money::checked_add(Money other) const {
  int64_t r = 0;
  if (__builtin_add_overflow(fen_, other.fen_, &r)) return std::nullopt;
  return Money(r);
}

std::optional<Money> Money::checked_sub(Money other) const {
  int64_t r = 0;
  if (__builtin_sub_overflow(fen_, other.fen_, &r)) return std::nullopt;
  return Money(r);
}

Money Money::negated() const {
  PG_ASSERT(fen_ != INT64_MIN, "negating INT64_MIN");
  return Money(-fen_);
}

std::optional<int64_t> parse_int64_strict(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, int64_t{10}, &v) || __builtin_add_overflow(v, int64_t{c - '0'}, &v)) {
      return std::nullopt;
    }
  }
  return v;
}

Result<Money> parse_yuan(std::string_view text, int max_decimals) {
  PG_ASSERT(max_decimals >= 0 && max_decimals <= 2, "max_decimals out of range");
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "amount is empty");
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty()) return make_error(ErrorCode::kInvalidArgument, "amount must start with a digit");
  if (dot != std::string_view::npos && frac.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "amount must not end with a decimal point");
  }
  if (static_cast<int>(frac.size()) > max_decimals) {
    return make_error(ErrorCode::kInvalidArgument,
                      max_decimals == 0 ? "amount must be a whole number"
                                        : "amount has more than " + std::to_string(max_decimals) + " decimals");
  }
  for (char c : frac) {
    if (c < '0' || c > '9') return make_error(ErrorCode::kInvalidArgument, "amount is not a decimal number");
  }
  // Leading zeros are tolerated in the whole part ("01.50" is unusual but unambiguous); the signature is
  // checked over the raw text anyway.
  size_t first_nonzero = whole.find_first_not_of('0');
  std::string_view digits = first_nonzero == std::string_view::npos ? std::string_view("0") : whole.substr(first_nonzero);
  auto yuan = parse_int64_strict(digits);
  if (!yuan) return make_error(ErrorCode::kInvalidArgument, "amount is not a decimal number");
  int64_t fen_part = 0;
  for (size_t i = 0; i < 2; ++i) fen_part = fen_part * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  if (*yuan > kMoneyFenMax / 100) return make_error(ErrorCode::kInvalidArgument, "amount is too large");
  int64_t fen = *yuan * 100 + fen_part;
  if (fen > kMoneyFenMax) return make_error(ErrorCode::kInvalidArgument, "amount is too large");
  return Money::from_fen(fen);
}

std::string format_yuan(Money m) {
  int64_t fen = m.fen();
  bool negative = fen < 0;
  uint64_t abs_fen = negative ? static_cast<uint64_t>(-(fen + 1)) + 1 : static_cast<uint64_t>(fen);
  std::string out = negative ? "-" : "";
  out += std::to_string(abs_fen / 100);
  out += '.';
  out += static_cast<char>('0' + (abs_fen % 100) / 10);
  out += static_cast<char>('0' + abs_fen % 10);
  return out;
}

std::string format_whole_yuan(Money m) {
  PG_ASSERT(m.fen() % 100 == 0, "format_whole_yuan on an amount with fen");
  return std::to_string(m.fen() / 100);
}

Result<RatePermille> parse_rate_percent(std::string_view text) {
  auto m = parse_yuan(text, 1);  // same grammar: digits, optional one decimal
  if (!m) return make_error(ErrorCode::kInvalidArgument, "rate must be a percentage with at most one decimal");
  int64_t permille = m->fen() / 10;
  if (permille > 1000) return make_error(ErrorCode::kInvalidArgument, "rate must not exceed 100");
  return RatePermille{static_cast<int32_t>(permille)};
}

std::string format_rate_percent(RatePermille r) {
  std::string out = std::to_string(r.value / 10);
  if (r.value % 10 != 0) {
    out += '.';
    out += static_cast<char>('0' + r.value % 10);
  }
  return out;
}

Money apply_rate_half_up(Money amount, RatePermille rate) {
  PG_ASSERT(!amount.is_negative(), "apply_rate on a negative amount");
  PG_ASSERT(rate.value >= 0 && rate.value <= 1000, "rate out of range");
  PG_ASSERT(amount.fen() <= kMoneyFenMax, "amount above kMoneyFenMax");
  // kMoneyFenMax * 1000 = 1e13, far inside int64.
  return Money::from_fen((amount.fen() * rate.value + 500) / 1000);
}

}  // namespace paygate
