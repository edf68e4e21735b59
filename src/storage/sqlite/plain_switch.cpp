#include "storage/sqlite/plain_switch.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string_view>

namespace paygate::storage::sqlite {

bool plain_switch_on(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || std::string_view(value) != "1") return false;
  spdlog::info("event=sqlite_plain_switch variable={}", name);
  return true;
}

}  // namespace paygate::storage::sqlite
