// The ASCII case helpers every protocol and the console share: only 'A'..'Z' change; UTF-8 and other bytes do not.
#include "base/text.h"

#include <gtest/gtest.h>

namespace paygate {
namespace {

TEST(Text, AsciiLowerChangesOnlyTheAsciiCapitals) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const char want = b >= 'A' && b <= 'Z' ? static_cast<char>(b + ('a' - 'A')) : c;
    EXPECT_EQ(ascii_lower(c), want) << b;
  }
  EXPECT_EQ(ascii_lower(std::string_view("HTTPS://Example.COM/É")), "https://example.com/É");
  EXPECT_EQ(ascii_lower(std::string_view("")), "");
}

TEST(Text, EqualsIgnoringAsciiCaseComparesOtherBytesExactly) {
  EXPECT_TRUE(equals_ignoring_ascii_case("SUCCESS", "success"));
  EXPECT_FALSE(equals_ignoring_ascii_case("success ", "success"));
  EXPECT_FALSE(equals_ignoring_ascii_case("\xC3\x89", "\xC3\xA9"));  // É and é: not ASCII, compared exactly
  EXPECT_TRUE(equals_ignoring_ascii_case("", ""));
}

}  // namespace
}  // namespace paygate
