#include "storage/sqlite/sqlite_db.h"

#include "storage/sqlite/page_cache.h"
#include "storage/store.h"

namespace paygate::storage::sqlite {

void throw_sqlite(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  msg += " (code " + std::to_string(rc) + ")";
  throw StorageFailure(msg);
}

Stmt& Stmt::bind(int i, int64_t v) {
  int rc = sqlite3_bind_int64(s_, i, v);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::string_view v) {
  int rc = sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::bind_ref(int i, const std::string& v) {
  int rc = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::bind_blob_ref(int i, const std::string& v) {
  int rc = sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  int rc = sqlite3_bind_null(s_, i);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
  return *this;
}

bool Stmt::step() {
  last_rc_ = sqlite3_step(s_);
  if (last_rc_ == SQLITE_ROW) return true;
  if (last_rc_ == SQLITE_DONE) return false;
  if (last_rc_ == SQLITE_CONSTRAINT) return false;  // the caller checks last_error() for constraints
  throw_sqlite(db_, last_rc_, sqlite3_sql(s_));
}

void Stmt::exec() {
  while (step()) {
  }
}

std::string Stmt::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
}
std::string Stmt::blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
}
void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

Connection::Connection(const std::string& path, bool read_only, int busy_timeout_ms, const char* vfs) {
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread at a time
  install_page_cache();          // before SQLite initializes, which the first open does
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, vfs);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StorageFailure("cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  sqlite3_extended_result_codes(db_, 0);
  exec("PRAGMA foreign_keys=ON");
  // Temporary files in memory: every request runs in its own savepoint, and a request that changes more than the
  // in-memory statement journal holds (a payout: order, two balances, an entry, postings; about 67 KB of page
  // images) would otherwise spill it to a temporary file, 30-odd write() calls per request on the writer. The journal
  // holds one request's pages at a time (RELEASE of the outermost savepoint discards it), so memory stays small.
  exec("PRAGMA temp_store=MEMORY");
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

void Connection::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw StorageFailure(std::string(sql).substr(0, 60) + ": " + msg);
  }
}

Stmt Connection::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, sql);
    it = cache_.emplace(sql, s).first;
  }
  Stmt st(it->second, db_);
  st.reset();
  return st;
}

}  // namespace paygate::storage::sqlite
