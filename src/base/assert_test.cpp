#include "base/assert.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace paygate {
namespace {

void hook_writes_a_line() { std::fputs("hook ran\n", stderr); }

// The server's hook writes out its buffered log lines: they must come before the failure's own message.
TEST(AssertionDeathTest, TheHookRunsBeforeTheMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  set_assertion_hook(&hook_writes_a_line);
  EXPECT_DEATH(PG_ASSERT(1 + 1 == 3, "arithmetic"), "hook ran\n.*assertion failed: 1 \\+ 1 == 3 \\(arithmetic\\)");
  set_assertion_hook(nullptr);
  EXPECT_DEATH(PG_ASSERT(false, "no hook"), "^paygate: assertion failed: false \\(no hook\\)");
}

}  // namespace
}  // namespace paygate
