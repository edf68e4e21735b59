#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace paygate {
void assertion_failed(std::string_view expr, std::string_view message, std::source_location where) {
  std::fprintf(stderr, "paygate: assertion failed: %.*s (%.*s) at %s:%u\n", static_cast<int>(expr.size()),
               expr.data(), static_cast<int>(message.size()), message.data(), where.file_name(),
               static_cast<unsigned>(where.line()));
  std::fflush(stderr);
  std::abort();
}
}  // namespace paygate
