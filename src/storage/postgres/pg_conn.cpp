#include "storage/postgres/pg_conn.h"

#include <endian.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <cstring>
#include <regex>

#include "storage/portable_sql.h"

namespace paygate::storage::pg {
namespace {

// Type OIDs from the server's catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kByteaOid = 17;
constexpr Oid kNameOid = 19;
constexpr Oid kTextOid = 25;
constexpr Oid kUnknownOid = 705;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;

// A dead server or network is noticed after about idle + interval * count seconds instead of the OS default
// (two hours), and a send that cannot complete fails after kTcpUserTimeoutMs.
constexpr const char* kKeepalivesIdleS = "10";
constexpr const char* kKeepalivesIntervalS = "5";
constexpr const char* kKeepalivesCount = "3";
constexpr const char* kTcpUserTimeoutMs = "30000";

// Statements sent and not yet answered, at most; then send() waits for their answers.
constexpr size_t kPendingStatementsMax = 1'024;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

void on_notice(void*, const char* message) {
  // NOTICEs (e.g. "relation already exists, skipping") are informational; libpq would print them to stderr.
  spdlog::debug("event=postgres_notice message=\"{}\"", trimmed(message));
}

}  // namespace

std::string redact_url(std::string_view url) {
  std::string out(url);
  // postgresql://user:password@host/...
  static const std::regex userinfo(R"(^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?#]*):[^@/?#]*@)");
  out = std::regex_replace(out, userinfo, "$1:***@", std::regex_constants::format_first_only);
  // ...?password=secret&... and key/value conninfo: password=secret or password='se cret'
  static const std::regex param(R"((^|[?&\s])password\s*=\s*('([^'\\]|\\.)*'|[^&\s]*))");
  out = std::regex_replace(out, param, "$1password=***");
  return out;
}

bool is_transient_sqlstate(std::string_view s) {
  return s == "40001" || s == "40P01" || s == "55P03";
}

bool is_connection_sqlstate(std::string_view s) {
  return s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

PgFailure::PgFailure(Failure f)
    : StorageFailure(f.connection_lost
                         ? "PostgreSQL connection lost: " + f.message
                         : "PostgreSQL: " + f.message + (f.sqlstate.empty() ? "" : " (SQLSTATE " + f.sqlstate + ")")),
      f_(std::move(f)) {}

// ---- Params ----

Params& Params::i64(int64_t v) {
  values_.emplace_back(std::to_string(v));
  formats_.push_back(0);
  return *this;
}
Params& Params::boolean(bool v) {
  values_.emplace_back(v ? "t" : "f");
  formats_.push_back(0);
  return *this;
}
Params& Params::text(std::string_view v) {
  values_.emplace_back(std::string(v));
  formats_.push_back(1);  // binary TEXT is the bytes themselves; the length is exact
  return *this;
}
Params& Params::bytes(std::string_view v) {
  values_.emplace_back(std::string(v));
  formats_.push_back(1);
  return *this;
}
Params& Params::null() {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
  return *this;
}
Params& Params::i64_array(const std::vector<int64_t>& v) {
  std::string lit = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) lit += ',';
    lit += std::to_string(v[i]);
  }
  lit += '}';
  values_.emplace_back(std::move(lit));
  formats_.push_back(0);  // the text form of the literal, as text_array
  return *this;
}
Params& Params::text_array(const std::vector<std::string>& v) {
  std::string lit = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) lit += ',';
    lit += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') lit += '\\';
      lit += c;
    }
    lit += '"';
  }
  lit += '}';
  values_.emplace_back(std::move(lit));
  formats_.push_back(0);
  return *this;
}

void Params::fill(std::vector<const char*>& values, std::vector<int>& lengths, std::vector<int>& formats) const {
  values.clear();
  lengths.clear();
  formats.clear();
  for (size_t i = 0; i < values_.size(); ++i) {
    values.push_back(values_[i] ? values_[i]->c_str() : nullptr);
    lengths.push_back(values_[i] ? static_cast<int>(values_[i]->size()) : 0);
    formats.push_back(formats_[i]);
  }
}

// ---- Rows ----

int64_t Rows::i64(int row, int col) const {
  PG_ASSERT(!is_null(row, col), "reading NULL as an integer");
  const char* p = PQgetvalue(r_.get(), row, col);
  switch (PQftype(r_.get(), col)) {
    case kInt8Oid: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<int64_t>(be64toh(v));
    }
    case kInt4Oid: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return static_cast<int32_t>(be32toh(v));
    }
    case kInt2Oid: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return static_cast<int16_t>(be16toh(v));
    }
    default:
      throw StorageFailure("column " + std::string(PQfname(r_.get(), col)) + " is not an integer (type oid " +
                           std::to_string(PQftype(r_.get(), col)) + ")");
  }
}

bool Rows::boolean(int row, int col) const {
  PG_ASSERT(!is_null(row, col), "reading NULL as a boolean");
  if (PQftype(r_.get(), col) != kBoolOid) {
    throw StorageFailure("column " + std::string(PQfname(r_.get(), col)) + " is not a boolean");
  }
  return PQgetvalue(r_.get(), row, col)[0] != 0;
}

std::string Rows::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

int64_t Rows::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return (n && *n) ? std::stoll(n) : 0;
}

// ---- Conn ----

std::shared_ptr<PGresult> Conn::exec_plain(PGconn* conn, const std::string& sql, const std::string& what) {
  std::shared_ptr<PGresult> r(PQexec(conn, sql.c_str()), &PQclear);
  ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = trimmed(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn));
    std::string sqlstate = state ? state : "";
    throw StorageFailure(what + ": " + msg + (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
  }
  return r;
}

std::shared_ptr<PGconn> Conn::connect_plain(const Options& options) {
  std::string timeout = std::to_string(options.connect_timeout_s);
  // Keywords before dbname are defaults the URL may override; client_encoding after it is forced: every string
  // paygate sends and reads is UTF-8.
  const char* keys[] = {"connect_timeout",  "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "fallback_application_name",
                        "dbname",           "client_encoding",  nullptr};
  const char* values[] = {timeout.c_str(),
                          kKeepalivesIdleS,
                          kKeepalivesIntervalS,
                          kKeepalivesCount,
                          kTcpUserTimeoutMs,
                          options.application_name.c_str(),
                          options.url.c_str(),
                          "UTF8",
                          nullptr};
  std::shared_ptr<PGconn> conn(PQconnectdbParams(keys, values, 1), &PQfinish);
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string err = conn ? trimmed(PQerrorMessage(conn.get())) : "out of memory";
    throw StorageFailure("cannot connect to PostgreSQL at " + redact_url(options.url) + ": " + err);
  }
  PQsetNoticeProcessor(conn.get(), &on_notice, nullptr);
  return conn;
}

Conn::Conn(Options options, std::span<const StatementDef> statements, const std::vector<std::string>& session_sql)
    : options_(std::move(options)), statements_(statements), redacted_url_(redact_url(options_.url)) {
  owned_ = connect_plain(options_);
  conn_ = owned_.get();
  try {
    for (const auto& sql : session_sql) exec_plain(conn_, sql, sql);
    if (PQenterPipelineMode(conn_) != 1)
      throw StorageFailure("cannot enter pipeline mode: " + trimmed(PQerrorMessage(conn_)));
    for (size_t i = 0; i < statements_.size(); ++i) {
      if (PQsendPrepare(conn_, statements_[i].name, statements_[i].sql, 0, nullptr) != 1) {
        mark_lost("preparing " + std::string(statements_[i].name));
        throw_if_failed();
      }
      pending_.push_back(Pending{false, kTagNone, -1, static_cast<int>(i), false});
    }
    sync();
  } catch (...) {
    conn_ = nullptr;
    owned_.reset();
    throw;
  }
}

Conn::~Conn() = default;

void Conn::throw_if_failed() const {
  if (failure_) throw PgFailure(*failure_);
}

void Conn::fail(Failure f) {
  if (!failure_) failure_ = std::move(f);
}

void Conn::mark_lost(const std::string& what) {
  lost_ = true;
  std::string detail = conn_ ? trimmed(PQerrorMessage(conn_)) : "";
  if (failure_) {
    failure_->connection_lost = true;  // the first error stays the message; the connection must be replaced
    return;
  }
  failure_ = Failure{"", what + (detail.empty() ? "" : ": " + detail), tag_, true, false};
}

void Conn::send_prepared(int stmt, const Params& params) {
  PG_ASSERT(stmt >= 0 && static_cast<size_t>(stmt) < statements_.size(), "unknown statement");
  params.fill(values_, lengths_, formats_);
  int ok = PQsendQueryPrepared(conn_, statements_[static_cast<size_t>(stmt)].name, params.size(), values_.data(),
                               lengths_.data(), formats_.data(), 1);
  if (ok != 1) {
    mark_lost(std::string("sending ") + statements_[static_cast<size_t>(stmt)].name);
    throw_if_failed();
  }
}

void Conn::flush() {
  if (PQflush(conn_) != 0) mark_lost("flushing");
}

void Conn::send(int stmt, const Params& params, int64_t expect_rows) {
  throw_if_failed();
  send_prepared(stmt, params);
  pending_.push_back(Pending{false, tag_, expect_rows, stmt, false});
  // Without pipelining every statement is a round trip. With it, a closure that only ever sends (thousands of
  // updates, nothing read) still has its answers read every kPendingStatementsMax statements.
  if (!options_.pipeline || pending_.size() >= kPendingStatementsMax) wait();
}

Rows Conn::query(int stmt, const Params& params) {
  throw_if_failed();
  send_prepared(stmt, params);
  pending_.push_back(Pending{false, tag_, -1, stmt, true});
  // A Flush message makes the server send what it has without ending the pipeline (no Sync): the transaction
  // goes on.
  if (PQsendFlushRequest(conn_) != 1) mark_lost("flush request");
  flush();
  ++round_trips_;
  Rows out = drain();
  throw_if_failed();
  return out;
}

Rows Conn::query_sync(int stmt, const Params& params) {
  throw_if_failed();
  send_prepared(stmt, params);
  pending_.push_back(Pending{false, tag_, -1, stmt, true});
  if (PQpipelineSync(conn_) != 1) {  // also flushes
    mark_lost("sync");
    throw_if_failed();
  }
  pending_.push_back(Pending{true, tag_, -1, -1, false});
  ++round_trips_;
  Rows out = drain();
  throw_if_failed();
  return out;
}

Rows Conn::query_sql(std::string_view sql, const std::vector<SqlValue>& params, bool rows_expected) {
  throw_if_failed();
  unnamed_sql_.assign(sql);  // NUL-terminated for libpq; kept for error messages until the results are read
  // Round trip 1: parse and describe.
  if (PQsendPrepare(conn_, "", unnamed_sql_.c_str(), 0, nullptr) != 1) {
    mark_lost("sending portable SQL");
    throw_if_failed();
  }
  pending_.push_back(Pending{false, tag_, -1, kUnnamedStmt, false});
  if (PQsendDescribePrepared(conn_, "") != 1) {
    mark_lost("describing portable SQL");
    throw_if_failed();
  }
  pending_.push_back(Pending{false, tag_, -1, kUnnamedStmt, true});
  if (PQsendFlushRequest(conn_) != 1) mark_lost("flush request");
  flush();
  ++round_trips_;
  Rows described = drain();
  throw_if_failed();
  const std::string what = statement_label(kUnnamedStmt);
  if (described.param_count() != static_cast<int>(params.size())) {
    throw StorageFailure(what + ": the SQL has " + std::to_string(described.param_count()) + " placeholders, " +
                         std::to_string(params.size()) + " values given");
  }
  if (!rows_expected && described.columns() > 0) {
    throw StorageFailure(what + ": returns rows; use query_sql");
  }

  // Round trip 2: bind and run.
  std::vector<std::string> text;  // integers as text, owned here until sent
  text.reserve(params.size());
  values_.clear();
  lengths_.clear();
  formats_.clear();
  for (size_t i = 0; i < params.size(); ++i) {
    const SqlValue& v = params[i];
    if (std::holds_alternative<std::monostate>(v)) {
      values_.push_back(nullptr);
      lengths_.push_back(0);
      formats_.push_back(0);
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      text.push_back(std::to_string(*n));
      values_.push_back(text.back().c_str());
      lengths_.push_back(static_cast<int>(text.back().size()));
      formats_.push_back(0);
    } else {
      const auto& s = std::get<std::string>(v);
      if (s.size() > static_cast<size_t>(INT_MAX)) throw StorageFailure(what + ": a parameter is too long");
      Oid type = described.param_type(static_cast<int>(i));
      bool binary = type == kTextOid || type == kByteaOid || type == kVarcharOid || type == kBpcharOid ||
                    type == kNameOid || type == kUnknownOid;
      if (!binary && s.find('\0') != std::string::npos) {
        throw StorageFailure(what + ": parameter $" + std::to_string(i + 1) + " holds a NUL byte but is not text");
      }
      values_.push_back(s.data());
      lengths_.push_back(static_cast<int>(s.size()));
      formats_.push_back(binary ? 1 : 0);
    }
  }
  if (PQsendQueryPrepared(conn_, "", static_cast<int>(params.size()), values_.data(), lengths_.data(),
                          formats_.data(), 1) != 1) {
    mark_lost("sending portable SQL");
    throw_if_failed();
  }
  pending_.push_back(Pending{false, tag_, -1, kUnnamedStmt, true});
  if (PQsendFlushRequest(conn_) != 1) mark_lost("flush request");
  flush();
  ++round_trips_;
  Rows out = drain();
  throw_if_failed();
  return out;
}

std::string Conn::statement_label(int stmt) const {
  if (stmt >= 0) return statements_[static_cast<size_t>(stmt)].name;
  if (stmt == kUnnamedStmt) return "portable SQL (" + sql_excerpt(unnamed_sql_) + ")";
  return "statement";
}

void Conn::wait() {
  throw_if_failed();
  if (pending_.empty()) return;
  if (PQsendFlushRequest(conn_) != 1) mark_lost("flush request");
  flush();
  ++round_trips_;
  drain();
  throw_if_failed();
}

bool Conn::row_checks_pending() const {
  for (const auto& p : pending_) {
    if (p.expect_rows >= 0) return true;
  }
  return false;
}

void Conn::sync() {
  throw_if_failed();
  if (PQpipelineSync(conn_) != 1) {  // also flushes
    mark_lost("sync");
    throw_if_failed();
  }
  pending_.push_back(Pending{true, tag_, -1, -1, false});
  ++round_trips_;
  drain();
  throw_if_failed();
}

void Conn::sync_later() {
  if (failure_ || lost_) return;
  if (PQpipelineSync(conn_) != 1) {
    mark_lost("sync");
    return;
  }
  pending_.push_back(Pending{true, tag_, -1, -1, false});
}

bool Conn::settle() {
  if (failure_ || lost_) return false;
  if (pending_.empty()) return true;
  // Only a Sync already sent ends what is pending; otherwise the server may not have been asked to answer yet.
  if (!pending_.back().sync && PQsendFlushRequest(conn_) == 1) flush();
  drain();
  return !failure_ && !lost_;
}

bool Conn::recover() {
  if (lost_ || !alive()) return false;
  if (!failure_ && pending_.empty()) return true;
  if (PQpipelineSync(conn_) != 1) {
    mark_lost("sync");
    return false;
  }
  pending_.push_back(Pending{true, tag_, -1, -1, false});
  ++round_trips_;
  // What arrives now is the echo of the first failure (statements the server skipped) or, after a failed row
  // check, the results of statements that did run: the caller rolls them back either way.
  drain();
  if (lost_) return false;
  failure_.reset();
  return true;
}

Rows Conn::drain() {
  Rows kept;
  while (!pending_.empty()) {
    Pending p = pending_.front();
    pending_.pop_front();
    if (lost_) continue;  // nothing more will arrive
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      mark_lost("result missing");
      continue;
    }
    ExecStatusType status = PQresultStatus(r);
    if (p.sync) {
      PQclear(r);
      if (status != PGRES_PIPELINE_SYNC) {
        mark_lost("protocol: expected the end of a pipeline, got " + std::string(PQresStatus(status)));
      }
      continue;
    }
    Rows rows(r);
    // Each statement's results end with a NULL.
    if (PGresult* extra = PQgetResult(conn_); extra != nullptr) {
      PQclear(extra);
      mark_lost("protocol: more than one result for one statement");
      continue;
    }
    switch (status) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
        if (p.expect_rows >= 0 && rows.affected() != p.expect_rows) {
          fail(Failure{"",
                       statement_label(p.stmt) + " changed " + std::to_string(rows.affected()) + " rows, expected " +
                           std::to_string(p.expect_rows),
                       p.tag, false, false});
        }
        break;
      case PGRES_PIPELINE_ABORTED:
        // Skipped by the server because an earlier statement failed; that failure is already recorded.
        if (!failure_) fail(Failure{"", statement_label(p.stmt) + " skipped in an aborted pipeline", p.tag, false, true});
        break;
      default: {
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        std::string sqlstate = state ? state : "";
        std::string msg = statement_label(p.stmt) + ": " + trimmed(PQresultErrorMessage(r));
        if (PQstatus(conn_) == CONNECTION_BAD || is_connection_sqlstate(sqlstate)) {
          if (!failure_) failure_ = Failure{sqlstate, msg, p.tag, true, true};
          mark_lost(msg);
        } else {
          fail(Failure{sqlstate, msg, p.tag, false, true});
        }
        break;
      }
    }
    if (p.keep) kept = rows;
  }
  return kept;
}

}  // namespace paygate::storage::pg
