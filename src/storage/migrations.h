#pragma once
#include <string>
#include <vector>

namespace paygate::storage {
struct Migration {
  int number;
  const char* name;
  const char* sql;
};
// Every file in src/storage/migrations/, compiled in, ordered by number.
const std::vector<Migration>& embedded_migrations();
}  // namespace paygate::storage
