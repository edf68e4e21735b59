// A thin layer over one libpq connection in pipeline mode.
//
// Statements are sent without waiting (`send`) unless their result is needed now (`query`); results come back in
// order, and `query` and `sync` read everything sent before them. So BEGIN, SAVEPOINT, RELEASE and updates that
// return nothing travel with the next statement whose answer is awaited: one round trip instead of one each.
//
// The price is that an error may surface late, while reading the results of a later statement. Every statement
// carries a tag (the index of the request in its batch, see pg_store.cpp) and the first failure is kept with its
// tag and SQLSTATE, so the caller knows whose statement failed. After a failure every send and query throws
// until `recover()` has resynchronized the pipeline (the server skips everything up to the next Sync).
//
// Every connection prepares the whole statement table (pg_statements.h) once, at connect, in one round trip.
// Parameters are sent as text (numbers, booleans, arrays) or binary (strings, byte strings: exact length, so an
// embedded NUL is refused by the server instead of cutting the value); results come back binary.
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace paygate::storage::pg {

// A statement prepared on every connection under `name`.
struct StatementDef {
  const char* name;
  const char* sql;
};

// The password in a connection URL or conninfo string replaced by "***": for logs and error messages.
std::string redact_url(std::string_view url);

// SQLSTATEs after which re-running the whole transaction may succeed: serialization failure, deadlock, lock
// timeout.
bool is_transient_sqlstate(std::string_view sqlstate);
// SQLSTATEs that mean the session is gone (class 08, administrator shutdown or termination, crash recovery).
bool is_connection_sqlstate(std::string_view sqlstate);

inline constexpr int kTagNone = -1;

struct Failure {
  std::string sqlstate;  // the server's SQLSTATE; empty when the connection was lost or a row check failed
  std::string message;
  int tag = kTagNone;            // whose statement failed
  bool connection_lost = false;  // the connection is unusable: reconnect
  bool server_error = false;     // the server reported it, and skips further statements until the next Sync
};

// What Conn throws once a failure is known. A StorageFailure, so a closure that does not catch it fails with
// kUnavailable; the writer looks at Conn::failure() in any case.
class PgFailure : public StorageFailure {
 public:
  explicit PgFailure(Failure f);
  const Failure& failure() const { return f_; }

 private:
  Failure f_;
};

class Params {
 public:
  Params& i64(int64_t v);
  Params& boolean(bool v);
  Params& text(std::string_view v);   // TEXT: must be UTF-8 without NUL (the server checks)
  Params& bytes(std::string_view v);  // BYTEA: any bytes
  Params& null();
  Params& text_array(const std::vector<std::string>& v);  // TEXT[] literal
  Params& i64_array(const std::vector<int64_t>& v);       // BIGINT[] literal

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into this object, valid until it changes.
  void fill(std::vector<const char*>& values, std::vector<int>& lengths, std::vector<int>& formats) const;

 private:
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;  // 0 text, 1 binary
};

// One statement's result, binary format.
class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool empty() const { return size() == 0; }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  int64_t i64(int row, int col) const;  // SMALLINT, INTEGER or BIGINT
  bool boolean(int row, int col) const;
  std::string text(int row, int col) const;  // TEXT or BYTEA: the bytes
  int64_t affected() const;                  // rows inserted/updated/deleted by the statement
  int columns() const { return r_ ? PQnfields(r_.get()) : 0; }
  Oid type(int col) const { return PQftype(r_.get(), col); }
  std::string column_name(int col) const { return PQfname(r_.get(), col); }
  // Whether the statement returns rows (a SELECT, or ... RETURNING), even none.
  bool has_rows() const { return r_ && PQresultStatus(r_.get()) == PGRES_TUPLES_OK; }
  // A described statement's parameters.
  int param_count() const { return r_ ? PQnparams(r_.get()) : 0; }
  Oid param_type(int i) const { return PQparamtype(r_.get(), i); }
  std::string command() const { return r_ ? PQcmdStatus(r_.get()) : ""; }  // e.g. "COMMIT"

 private:
  std::shared_ptr<PGresult> r_;
};

class Conn {
 public:
  struct Options {
    std::string url;
    std::string application_name;  // a fallback: an application_name in the URL wins
    int connect_timeout_s = 10;
    bool pipeline = true;  // false: every statement waits for its result (to count what pipelining saves)
  };

  // Connects, runs `session_sql` (plain statements, e.g. SET ...), enters pipeline mode and prepares
  // `statements`, which must outlive the connection. Throws StorageFailure.
  Conn(Options options, std::span<const StatementDef> statements, const std::vector<std::string>& session_sql = {});
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Statements sent from now on carry this tag.
  void set_tag(int tag) { tag_ = tag; }
  int tag() const { return tag_; }

  // Sends a statement without waiting for its result. `expect_rows` >= 0 checks the affected row count when the
  // result arrives (a mismatch is a failure of this statement).
  void send(int stmt, const Params& params = {}, int64_t expect_rows = -1);
  // Sends a statement and waits for its result (and everything sent before it).
  Rows query(int stmt, const Params& params = {});
  // Portable SQL (Tx::query_sql, store.h) as the unnamed statement, in two round trips: first parsed with every
  // parameter's type left to the server (OID 0) and described, then run. The description says what type the
  // server inferred for each placeholder, and so how to send each value: a string in binary where a TEXT, BYTEA or
  // other string type is expected (its exact bytes; a NUL is refused for TEXT, kept for BYTEA), otherwise as text
  // for the type's own parser (so "12345678" meant for a BIGINT is parsed, never taken as 8 binary bytes);
  // integers always as text. Throws StorageFailure, before running anything, when the number of values is not the
  // number of placeholders, or when `rows_expected` is false and the statement returns rows. Waits for everything
  // sent before it, as `query`.
  Rows query_sql(std::string_view sql, const std::vector<SqlValue>& params, bool rows_expected);
  // Sends a Sync and waits for everything sent so far.
  void sync();
  // Sends a statement and a Sync, waits, and returns the statement's result (one round trip for COMMIT).
  Rows query_sync(int stmt, const Params& params = {});
  // Waits for everything sent so far without a Sync (the transaction goes on).
  void wait();
  // Whether a statement sent without waiting still has its affected-row count to be checked.
  bool row_checks_pending() const;
  // Reads the answers to what was sent with sync_later(); false when something failed.
  bool settle();
  // Sends a Sync and returns at once; the next query or sync reads its result. For a reader giving back its
  // connection: the COMMIT of its snapshot need not be waited for.
  void sync_later();

  const std::optional<Failure>& failure() const { return failure_; }
  // After a failure on a live connection: resynchronizes the pipeline (Sync, reads everything up to it) and
  // clears the failure. The server's transaction state is left as the failure left it: usually a failed
  // transaction block that wants ROLLBACK or ROLLBACK TO SAVEPOINT. Returns false when the connection is lost.
  bool recover();
  bool alive() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK && !lost_; }
  // Statements sent and not yet answered.
  size_t pending() const { return pending_.size(); }

  // Times this connection waited for the server (one per query/sync, and per statement without pipelining).
  uint64_t round_trips() const { return round_trips_; }
  const std::string& redacted_url() const { return redacted_url_; }
  const char* statement_name(int stmt) const { return statements_[static_cast<size_t>(stmt)].name; }

  // Plain (non-pipelined) statement for set-up code; only before pipeline mode or on a separate connection.
  // Returns the result (text format).
  static std::shared_ptr<PGresult> exec_plain(PGconn* conn, const std::string& sql, const std::string& what);
  // A plain connection (no pipeline, nothing prepared), for migrations. Throws StorageFailure.
  static std::shared_ptr<PGconn> connect_plain(const Options& options);

 private:
  struct Pending {
    bool sync = false;
    int tag = kTagNone;
    int64_t expect_rows = -1;
    int stmt = -1;
    bool keep = false;  // the caller wants this result
  };

  void throw_if_failed() const;
  void send_prepared(int stmt, const Params& params);
  void flush();
  // Reads results until `pending_` is empty; returns the result of the entry marked `keep`, if any.
  Rows drain();
  void fail(Failure f);
  void mark_lost(const std::string& what);

  // Pending::stmt of the unnamed statement of query_sql, whose text is `unnamed_sql_`.
  static constexpr int kUnnamedStmt = -2;
  std::string statement_label(int stmt) const;

  Options options_;
  std::span<const StatementDef> statements_;
  std::string unnamed_sql_;
  std::string redacted_url_;
  std::shared_ptr<PGconn> owned_;  // PQfinish on destruction
  PGconn* conn_ = nullptr;
  std::deque<Pending> pending_;
  std::optional<Failure> failure_;
  bool lost_ = false;
  int tag_ = kTagNone;
  uint64_t round_trips_ = 0;
  // Reused across sends to avoid allocations per statement.
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

}  // namespace paygate::storage::pg
