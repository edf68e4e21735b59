#include "console/csv.h"

#include <gtest/gtest.h>

namespace paygate::console {
namespace {

TEST(ConsoleCsv, TextCellsAreGuardedAgainstFormulasAndQuoted) {
  EXPECT_EQ(csv_text("plain"), "plain");
  EXPECT_EQ(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(csv_text("+1"), "'+1");
  EXPECT_EQ(csv_text("-1"), "'-1");
  EXPECT_EQ(csv_text("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(csv_text("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_text("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(csv_text(""), "");
  EXPECT_EQ(csv_text("星河商城"), "星河商城");
}

TEST(ConsoleCsv, QuoteAloneLeavesAmountsAsTheyAre) {
  EXPECT_EQ(csv_quote("-12.50"), "-12.50");
  EXPECT_EQ(csv_guard("-12.50"), "'-12.50");
}

}  // namespace
}  // namespace paygate::console
