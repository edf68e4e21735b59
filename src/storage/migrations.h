#pragma once
#include <string>
#include <vector>

namespace paygate::storage {
struct Migration {
  int number;
  const char* name;
  const char* sql;
};
// The SQL dialects with a migration directory: src/storage/migrations/sqlite/ and .../postgres/. Both hold the
// same numbered files (the build checks), each written for its engine.
enum class Engine { kSqlite, kPostgres };
// Every migration file of the engine, compiled in, ordered by number.
const std::vector<Migration>& embedded_migrations(Engine engine);
}  // namespace paygate::storage
