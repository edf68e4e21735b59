// Assertions guard invariants the program itself maintains (the ledger balances, a balance is never negative).
// They are never used on input from the outside world: that gets a Result error instead.
#pragma once
#include <source_location>
#include <string_view>

namespace paygate {
[[noreturn]] void assertion_failed(std::string_view expr, std::string_view message,
                                   std::source_location where = std::source_location::current());

// Runs once when an assertion fails, before the message is printed and the process aborts: the server writes out
// the log lines its buffered sink still holds (app/log_sink.h), so the lines before a failure are not lost.
using AssertionHook = void (*)();
void set_assertion_hook(AssertionHook hook);
}  // namespace paygate

#define PG_ASSERT(cond, msg)                                  \
  do {                                                        \
    if (!(cond)) [[unlikely]] {                               \
      ::paygate::assertion_failed(#cond, (msg));              \
    }                                                         \
  } while (0)
