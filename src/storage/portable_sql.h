// Engine-side helpers for Tx::query_sql / Tx::exec_sql (store.h): what every engine checks before running
// portable SQL. Not for callers; they write SQL by the rules in store.h.
#pragma once
#include <string>
#include <string_view>

namespace paygate::storage {

// Throws StorageFailure unless `sql` starts (after white space) with SELECT, WITH, VALUES, INSERT, UPDATE or
// DELETE: transaction control (BEGIN, COMMIT, SAVEPOINT, ...), SET, PRAGMA and DDL would break the store's own
// transaction and savepoint handling, so they are refused before reaching the engine. Each engine refuses more
// than one statement in one text itself.
void check_portable_sql(std::string_view sql);

// The start of `sql` on one line, for error messages.
std::string sql_excerpt(std::string_view sql);

}  // namespace paygate::storage
