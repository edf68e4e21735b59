// Portable SQL on SQLite (Tx::query_sql, Tx::exec_sql; the rules are in store.h). Each call prepares its text
// afresh and finalizes it: console and report queries are few, and nothing is cached without a bound.
#include <charconv>
#include <climits>
#include <memory>

#include "storage/portable_sql.h"
#include "storage/sqlite/sqlite_tx.h"

namespace paygate::storage::sqlite {
namespace {

struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using OwnedStmt = std::unique_ptr<sqlite3_stmt, Finalize>;

[[noreturn]] void fail(std::string_view sql, const std::string& why) {
  throw StorageFailure("portable SQL (" + sql_excerpt(sql) + "): " + why);
}

// The n of a placeholder named "$n" (1 <= n <= count), or 0.
size_t placeholder_number(const char* name, size_t count) {
  if (name == nullptr || name[0] != '$') return 0;
  std::string_view digits(name + 1);
  if (digits.empty() || digits[0] == '0') return 0;
  size_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n > count) return 0;
  return n;
}

// Prepares one statement and binds `params` by name: $n takes params[n - 1], wherever (and however often) it
// stands. Every parameter must be used, as PostgreSQL requires (it cannot type an unused one).
OwnedStmt prepare(sqlite3* db, std::string_view sql, const std::vector<SqlValue>& params) {
  check_portable_sql(sql);
  if (sql.size() > static_cast<size_t>(INT_MAX)) fail(sql, "too long");
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), 0, &raw, &tail);
  OwnedStmt st(raw);
  if (rc != SQLITE_OK) fail(sql, std::string(sqlite3_errmsg(db)) + " (code " + std::to_string(rc) + ")");
  if (!st) fail(sql, "no statement");
  for (const char* p = tail; p != nullptr && p < sql.data() + sql.size(); ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') fail(sql, "more than one statement");
  }
  std::vector<char> used(params.size(), 0);
  const int count = sqlite3_bind_parameter_count(st.get());
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(st.get(), i);
    size_t n = placeholder_number(name, params.size());
    if (n == 0) {
      fail(sql, "placeholder " + std::string(name ? name : "?") + " is not one of $1..$" +
                    std::to_string(params.size()));
    }
    used[n - 1] = 1;
    const SqlValue& v = params[n - 1];
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(st.get(), i);
    } else if (const auto* x = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(st.get(), i, *x);
    } else {
      const auto& s = std::get<std::string>(v);
      if (s.size() > static_cast<size_t>(INT_MAX)) fail(sql, "parameter too long");
      // TEXT, so it compares equal to TEXT columns; `params` outlives the statement.
      rc = sqlite3_bind_text(st.get(), i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) fail(sql, "bind $" + std::to_string(n) + ": " + sqlite3_errmsg(db));
  }
  for (size_t k = 0; k < used.size(); ++k) {
    if (!used[k]) fail(sql, "parameter $" + std::to_string(k + 1) + " is not used");
  }
  return st;
}

SqlValue column(sqlite3_stmt* st, int col, std::string_view sql) {
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
      return std::monostate{};
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(st, col));
    case SQLITE_TEXT: {
      auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
      return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, col))) : std::string();
    }
    case SQLITE_BLOB: {
      auto* p = static_cast<const char*>(sqlite3_column_blob(st, col));
      return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, col))) : std::string();
    }
    default:
      fail(sql, std::string("column ") + sqlite3_column_name(st, col) +
                    " is a floating-point value; portable SQL reads integers and text only (integer arithmetic, "
                    "CAST(... AS BIGINT))");
  }
}

// Steps once: true for a row, false when done; throws on any error (a constraint too).
bool step(sqlite3* db, sqlite3_stmt* st, std::string_view sql) {
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(sql, std::string(sqlite3_errmsg(db)) + " (code " + std::to_string(rc) + ")");
}

}  // namespace

std::vector<SqlRow> SqliteTx::query_sql(std::string_view sql, const std::vector<SqlValue>& params) {
  if (sql.find("ledger_accounts") != std::string_view::npos) require_balances_written("SQL over ledger_accounts");
  sqlite3* db = c_.raw();
  OwnedStmt st = prepare(db, sql, params);
  const int columns = sqlite3_column_count(st.get());
  std::vector<SqlRow> rows;
  while (step(db, st.get(), sql)) {
    if (rows.size() >= limits::kSqlRowsMax) {
      fail(sql, "more than " + std::to_string(limits::kSqlRowsMax) + " rows; the query needs a LIMIT");
    }
    SqlRow row;
    row.reserve(static_cast<size_t>(columns));
    for (int col = 0; col < columns; ++col) row.push_back(column(st.get(), col, sql));
    rows.push_back(std::move(row));
  }
  return rows;
}

int64_t SqliteTx::exec_sql(std::string_view sql, const std::vector<SqlValue>& params) {
  if (read_only_) fail(sql, "exec_sql in a read-only snapshot");
  if (sql.find("ledger_accounts") != std::string_view::npos) require_balances_written("SQL over ledger_accounts");
  sqlite3* db = c_.raw();
  OwnedStmt st = prepare(db, sql, params);
  if (sqlite3_column_count(st.get()) != 0) fail(sql, "exec_sql of a statement that returns rows; use query_sql");
  while (step(db, st.get(), sql)) {
  }
  return sqlite3_changes64(db);
}

}  // namespace paygate::storage::sqlite
