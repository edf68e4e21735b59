// A minimal RAII layer over the SQLite C API: a connection with a prepared-statement cache and a statement
// wrapper with typed binds and column reads. Errors throw StorageFailure (see store.h).
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace paygate::storage::sqlite {

// Resets itself when it goes out of scope: a cached statement left mid-result would keep its read snapshot
// open past COMMIT, and the connection would never see newer data.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s, sqlite3* db) : s_(s), db_(db) {}
  ~Stmt() {
    if (s_) sqlite3_reset(s_);
  }
  Stmt(Stmt&& o) noexcept : s_(o.s_), db_(o.db_), last_rc_(o.last_rc_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<int64_t>(v ? 1 : 0)); }
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind_blob(int i, std::string_view v);
  // bind() and bind_blob() copy the bytes (SQLITE_TRANSIENT): a malloc and a copy per value, which the hot inserts
  // avoid with these. SQLite reads the string's bytes in place (SQLITE_STATIC), so the string must stay alive and
  // unchanged until this Stmt is gone; the statement's next prepare() clears the binding. Lvalues only: a
  // temporary would be destroyed before the statement runs.
  Stmt& bind_ref(int i, const std::string& v);
  Stmt& bind_ref(int i, std::string&& v) = delete;
  Stmt& bind_blob_ref(int i, const std::string& v);
  Stmt& bind_blob_ref(int i, std::string&& v) = delete;
  Stmt& bind_null(int i);
  // Returns true when a row is available.
  bool step();
  // Runs to completion (for statements without rows).
  void exec();
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  std::string text(int col) const;
  std::string blob(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  void reset();
  int last_error() const { return last_rc_; }

 private:
  sqlite3_stmt* s_;
  sqlite3* db_;
  int last_rc_ = SQLITE_OK;
};

class Connection {
 public:
  // `vfs`: a registered VFS name (sqlite/wal_vfs.h), or null for SQLite's default.
  Connection(const std::string& path, bool read_only, int busy_timeout_ms, const char* vfs = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const char* sql);
  // Prepared once per connection, reset and cleared of bindings on each call.
  Stmt prepare(const char* sql);
  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* raw() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);

}  // namespace paygate::storage::sqlite
