#include "base/money.h"

#include <gtest/gtest.h>

namespace paygate {
namespace {

TEST(Money, ParsesYuanWithUpToTwoDecimals) {
  EXPECT_EQ(parse_yuan("96.50")->fen(), 9650);
  EXPECT_EQ(parse_yuan("96.5")->fen(), 9650);
  EXPECT_EQ(parse_yuan("96")->fen(), 9600);
  EXPECT_EQ(parse_yuan("0.01")->fen(), 1);
  EXPECT_EQ(parse_yuan("0")->fen(), 0);
  EXPECT_EQ(parse_yuan("100000000")->fen(), kMoneyFenMax);
}

TEST(Money, RejectsMalformedAmounts) {
  for (const char* bad : {"", ".5", "5.", "1.234", "-1", "+1", "1e3", "1,00", " 1", "1 ", "abc", "1.a",
                          "100000000.01", "99999999999999999999", "0x10", "1..2"}) {
    EXPECT_FALSE(parse_yuan(bad).ok()) << bad;
  }
}

TEST(Money, WholeYuanRejectsDecimals) {
  EXPECT_FALSE(parse_yuan("10.5", 0).ok());
  EXPECT_EQ(parse_yuan("10", 0)->fen(), 1000);
}

TEST(Money, FormatsTwoDecimals) {
  EXPECT_EQ(format_yuan(Money::from_fen(9650)), "96.50");
  EXPECT_EQ(format_yuan(Money::from_fen(1)), "0.01");
  EXPECT_EQ(format_yuan(Money::from_fen(0)), "0.00");
  EXPECT_EQ(format_yuan(Money::from_fen(-105)), "-1.05");
  EXPECT_EQ(format_whole_yuan(Money::from_fen(10000)), "100");
}

TEST(Money, CheckedArithmeticDetectsOverflow) {
  Money big = Money::from_fen(INT64_MAX);
  EXPECT_FALSE(big.checked_add(Money::from_fen(1)).has_value());
  EXPECT_FALSE(Money::from_fen(INT64_MIN).checked_sub(Money::from_fen(1)).has_value());
  EXPECT_EQ(Money::from_fen(5).checked_sub(Money::from_fen(7))->fen(), -2);
  EXPECT_FALSE(Money::from_yuan(INT64_MAX / 10).has_value());
}

TEST(Money, RatesParseWithOneDecimal) {
  EXPECT_EQ(parse_rate_percent("96.5")->value, 965);
  EXPECT_EQ(parse_rate_percent("96")->value, 960);
  EXPECT_EQ(parse_rate_percent("100")->value, 1000);
  EXPECT_FALSE(parse_rate_percent("96.55").ok());
  EXPECT_FALSE(parse_rate_percent("100.1").ok());
  EXPECT_FALSE(parse_rate_percent("-1").ok());
  EXPECT_EQ(format_rate_percent(RatePermille{965}), "96.5");
  EXPECT_EQ(format_rate_percent(RatePermille{960}), "96");
}

TEST(Money, RateRoundsHalfUpToTheFen) {
  // 100 yuan at 96.5% = 96.50
  EXPECT_EQ(apply_rate_half_up(Money::from_fen(10000), RatePermille{965}).fen(), 9650);
  // 0.01 yuan at 50% = 0.005 -> 0.01 (half up)
  EXPECT_EQ(apply_rate_half_up(Money::from_fen(1), RatePermille{500}).fen(), 1);
  // 0.01 yuan at 40% = 0.004 -> 0.00
  EXPECT_EQ(apply_rate_half_up(Money::from_fen(1), RatePermille{400}).fen(), 0);
  // 33 yuan at 97.3% = 32.109 -> 32.11
  EXPECT_EQ(apply_rate_half_up(Money::from_fen(3300), RatePermille{973}).fen(), 3211);
}

TEST(Money, StrictIntegers) {
  EXPECT_EQ(parse_int64_strict("0"), 0);
  EXPECT_EQ(parse_int64_strict("123"), 123);
  EXPECT_FALSE(parse_int64_strict("012"));
  EXPECT_FALSE(parse_int64_strict("-1"));
  EXPECT_FALSE(parse_int64_strict(""));
  EXPECT_FALSE(parse_int64_strict("99999999999999999999"));
}

}  // namespace
}  // namespace paygate
