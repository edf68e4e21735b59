// Assertions guard invariants the program itself maintains (the ledger balances, a balance is never negative).
// They are never used on input from the outside world: that gets a Result error instead.
#pragma once
#include <source_location>
#include <string_view>

namespace paygate {
[[noreturn]] void assertion_failed(std::string_view expr, std::string_view message,
                                   std::source_location where = std::source_location::current());
}  // namespace paygate

#define PG_ASSERT(cond, msg)                                  \
  do {                                                        \
    if (!(cond)) [[unlikely]] {                               \
      ::paygate::assertion_failed(#cond, (msg));              \
    }                                                         \
  } while (0)
