#include "base/assert.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace paygate {
namespace {
std::atomic<AssertionHook> g_hook{nullptr};
std::atomic<bool> g_failing{false};
}  // namespace

void set_assertion_hook(AssertionHook hook) { g_hook.store(hook); }

void assertion_failed(std::string_view expr, std::string_view message, std::source_location where) {
  // Only the first failure runs the hook: a failure inside the hook itself goes straight to the message.
  if (AssertionHook hook = g_hook.load(); hook != nullptr && !g_failing.exchange(true)) hook();
  std::fprintf(stderr, "paygate: assertion failed: %.*s (%.*s) at %s:%u\n", static_cast<int>(expr.size()),
               expr.data(), static_cast<int>(message.size()), message.data(), where.file_name(),
               static_cast<unsigned>(where.line()));
  std::fflush(stderr);
  std::abort();
}
}  // namespace paygate
