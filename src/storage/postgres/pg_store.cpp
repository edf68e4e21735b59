#include "storage/postgres/pg_store.h"
#include "storage/write_queue.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "storage/migrations.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_statements.h"
#include "storage/postgres/pg_tx.h"

// Round trips (waits for the server) per consign submit, counted with StoreStats::round_trips by
// pg_store_test.cpp (RoundTripsPerConsignSubmit, RoundTripsPerBatchOfConsignSubmits):
//   one request per transaction: 8 without pipelining (BEGIN, SAVEPOINT, insert, counter create, counter lock,
//   RELEASE, counter update, COMMIT each wait), 3 pipelined (the insert carries BEGIN and SAVEPOINT, the lock
//   carries the create, COMMIT carries RELEASE and the update);
//   n submits into one batchno in one transaction: n + 2 pipelined (the counter is locked once per transaction).
// The first version of this backend (per-submit counter upsert and live-card look-up) waited 8 and 5 times; the
// next one, which looked the order id up before each insert, 9 and 4 (2n + 2 per batch).

namespace paygate::storage {

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

namespace {

using pg::Conn;
using pg::Failure;
using pg::PgFailure;
using pg::PgTx;

constexpr int kTagBatch = -2;   // BEGIN, and the rollback of a whole batch
constexpr int kTagCommit = -3;  // the pre-commit wait and COMMIT

// Back-off between runs of a batch after a transient failure: a few milliseconds, random, growing with the
// attempt, so that two writers that deadlocked do not meet again in step.
constexpr int64_t kRetryBackoffStepMs = 5;
// Back-off after a failed reconnect, doubling up to the max; requests meanwhile are answered "unavailable".
constexpr int64_t kReconnectBackoffMinMs = 50;
constexpr int64_t kReconnectBackoffMaxMs = 2'000;

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void apply_migrations(PGconn* c, const std::string& redacted_url) {
  // Nodes starting at once queue here; the second finds the work done. A session lock, released below or when
  // the connection closes (also when this process dies).
  const std::string key = std::to_string(pg::advisory_key("migrations"));
  Conn::exec_plain(c, "SELECT pg_advisory_lock(" + key + ")", "taking the migration lock");
  try {
    Conn::exec_plain(c,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_at_ms BIGINT NOT NULL)",
                     "creating schema_migrations");
    auto applied =
        Conn::exec_plain(c, "SELECT number, name FROM schema_migrations ORDER BY number", "reading schema_migrations");
    std::map<int, std::string> done;
    for (int i = 0; i < PQntuples(applied.get()); ++i) {
      done[std::stoi(PQgetvalue(applied.get(), i, 0))] = PQgetvalue(applied.get(), i, 1);
    }
    const auto& migrations = embedded_migrations(Engine::kPostgres);
    for (const auto& m : migrations) {
      if (auto it = done.find(m.number); it != done.end()) {
        if (it->second != m.name) {
          throw StorageFailure("migration " + std::to_string(m.number) + " is " + it->second + " in the database but " +
                               m.name + " in this binary");
        }
        continue;
      }
      Conn::exec_plain(c, "BEGIN", "migration BEGIN");
      try {
        Conn::exec_plain(c, m.sql, std::string("migration ") + m.name);
        const std::string number = std::to_string(m.number);
        const std::string at = std::to_string(now_unix_ms());
        const char* values[] = {number.c_str(), m.name, at.c_str()};
        std::shared_ptr<PGresult> ins(
            PQexecParams(c, "INSERT INTO schema_migrations (number, name, applied_at_ms) VALUES ($1, $2, $3)", 3,
                         nullptr, values, nullptr, nullptr, 0),
            &PQclear);
        if (PQresultStatus(ins.get()) != PGRES_COMMAND_OK) {
          throw StorageFailure(std::string("recording migration ") + m.name + ": " + PQresultErrorMessage(ins.get()));
        }
        Conn::exec_plain(c, "COMMIT", "migration COMMIT");
      } catch (...) {
        PQclear(PQexec(c, "ROLLBACK"));
        throw;
      }
      spdlog::info("event=migration_applied engine=postgresql number={} name={} database={}", m.number, m.name,
                   redacted_url);
    }
    if (!done.empty() && !migrations.empty() && done.rbegin()->first > migrations.back().number) {
      // A newer binary migrated this database. Migrations only add, so this one can go on; say so.
      spdlog::warn("event=schema_newer_than_binary database_version={} binary_version={}", done.rbegin()->first,
                   migrations.back().number);
    }
  } catch (...) {
    PQclear(PQexec(c, ("SELECT pg_advisory_unlock(" + key + ")").c_str()));
    throw;
  }
  Conn::exec_plain(c, "SELECT pg_advisory_unlock(" + key + ")", "releasing the migration lock");
}

using Item = WriteQueue::Item;

// How one run of a batch ended.
struct Attempt {
  enum Kind {
    kCommitted,
    kContinue,       // one request rolled back to its savepoint; the batch goes on
    kRetry,          // transient failure or lost connection before COMMIT: run the batch again
    kExclude,        // request `index` failed in a way only found later: run again without it
    kCommitUnknown,  // the connection died after COMMIT was sent: it may or may not have committed
    kFailed,         // the whole batch failed, not worth running again
  } kind;
  size_t index = 0;
  std::string why;
};

Status unavailable(std::string message) {
  return make_error(ErrorCode::kUnavailable, std::move(message));
}

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresOptions& options, std::shared_ptr<const crypto::SecretBox> box)
      : options_(options), box_(std::move(box)), redacted_url_(pg::redact_url(options.url)),
        queue_(options.queue_depth_max) {
    if (!is_postgres_url(options_.url)) throw StorageFailure("not a postgresql:// URL: " + redacted_url_);
    if (options_.writer_connections < 1 || options_.writer_connections > limits::kPgWriterConnectionsMax) {
      throw StorageFailure("writer_connections must be between 1 and " +
                           std::to_string(limits::kPgWriterConnectionsMax));
    }
    if (options_.reader_connections < 1 || options_.reader_connections > limits::kPgReaderConnectionsMax) {
      throw StorageFailure("reader_connections must be between 1 and " +
                           std::to_string(limits::kPgReaderConnectionsMax));
    }
    PG_ASSERT(options_.commit_batch_max >= 1 && options_.commit_batch_max <= limits::kCommitBatchSizeMax,
              "commit_batch_max out of range");
    options_.commit_batch_max = std::min(options_.commit_batch_max, limits::kPgCommitBatchSizeMax);
    {
      auto c = Conn::connect_plain(conn_options("paygate-migrate"));
      apply_migrations(c.get(), redacted_url_);
      // Statements stay prepared (parsed once) but are planned for their actual values. A generic plan built
      // while a table is still empty and unanalyzed looked merchant orders up through the (merchant_id,
      // created_at_ms) index with a filter, kept it for the connection's life, and made each submit scan all of
      // its merchant's orders (the submit rate fell to a third in one run in two); and a generic plan cannot use
      // an index for the listing's "($1 IS NULL OR merchant_id = $1)". These plans take microseconds.
      session_sql_.push_back("SET plan_cache_mode = force_custom_plan");
      writer_session_sql_ = session_sql_;
      writer_session_sql_.push_back("SET lock_timeout = " + std::to_string(options_.lock_timeout_ms));
      // `done` promises durability: never let a server default of synchronous_commit=off weaken it. Stronger
      // settings (remote_apply, ...) are left as configured.
      auto sc = Conn::exec_plain(c.get(), "SHOW synchronous_commit", "reading synchronous_commit");
      if (std::string(PQgetvalue(sc.get(), 0, 0)) == "off") {
        spdlog::warn("event=synchronous_commit_off_on_server note=\"paygate sets it on for its writers\"");
        writer_session_sql_.push_back("SET synchronous_commit = on");
      }
    }
    for (size_t i = 0; i < options_.writer_connections; ++i) {
      writers_.push_back(std::make_unique<Writer>());
      writers_.back()->index = i;
      writers_.back()->conn = connect_writer(i);  // fail at start-up, not on the first request
    }
    spdlog::info(
        "event=postgres_opened database={} writers={} readers_max={} group_commit={} commit_batch_max={} pipeline={}",
        redacted_url_, options_.writer_connections, options_.reader_connections, options_.group_commit,
        options_.commit_batch_max, options_.pipeline);
    for (auto& w : writers_) {
      Writer* writer = w.get();
      writer->thread = std::thread([this, writer] {
        std::string name = "pg-pgw-" + std::to_string(writer->index);  // visible in top -H and perf
        pthread_setname_np(pthread_self(), name.c_str());
        writer_loop(*writer);
      });
    }
  }

  ~PostgresStore() override { close(); }

  std::string_view engine() const override { return "postgresql"; }

  void submit(WriteFn fn, DoneFn done) override { queue_.push(std::move(fn), std::move(done)); }

  std::unique_ptr<Tx> read() override;

  StoreStats stats() const override { return queue_.stats(); }

  void set_commit_observer(CommitObserver observer) override { queue_.set_observer(std::move(observer)); }

  Status probe_writable() override {
    // A no-op write through the real path proves a writer is alive and the server accepts commits.
    return write_sync([](Tx&) { return ok_status(); });
  }

  void close() override {
    if (!queue_.close()) return;
    for (auto& w : writers_) {
      if (w->thread.joinable()) w->thread.join();
    }
    writers_.clear();  // closes their connections
    std::vector<std::unique_ptr<Conn>> idle;
    {
      std::lock_guard lock(readers_mu_);
      readers_closed_ = true;
      idle.swap(idle_readers_);
      readers_open_ -= idle.size();
    }
    readers_cv_.notify_all();
  }

  // ---- reader pool ----

  std::unique_ptr<Conn> acquire_reader() {
    std::unique_lock lock(readers_mu_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.reader_wait_ms);
    for (;;) {
      if (readers_closed_) throw StorageFailure("storage is closed");
      if (!idle_readers_.empty()) {
        auto c = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        lock.unlock();
        // The previous snapshot's COMMIT was sent without waiting: read its answer now (normally already here).
        if (c->settle()) return c;
        c.reset();  // broken: drop it and look again
        lock.lock();
        --readers_open_;
        continue;
      }
      if (readers_open_ < options_.reader_connections) {
        ++readers_open_;
        lock.unlock();
        try {
          return std::make_unique<Conn>(conn_options("paygate-reader"), pg::statements(), session_sql_);
        } catch (...) {
          lock.lock();
          --readers_open_;
          readers_cv_.notify_one();
          throw;
        }
      }
      if (readers_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_readers_.empty() &&
          readers_open_ >= options_.reader_connections) {
        throw StorageFailure("no PostgreSQL reader connection free within " + std::to_string(options_.reader_wait_ms) +
                             " ms (storage.reader_connections = " + std::to_string(options_.reader_connections) + ")");
      }
    }
  }

  void release_reader(std::unique_ptr<Conn> c, bool healthy) {
    // A lost connection most likely means the server restarted or failed over: the idle ones died with it, and
    // each would fail one read before anyone noticed. Drop them all.
    bool lost = !c->alive() || (c->failure() && c->failure()->connection_lost);
    std::vector<std::unique_ptr<Conn>> dropped;
    {
      std::lock_guard lock(readers_mu_);
      if (healthy && !readers_closed_) {
        idle_readers_.push_back(std::move(c));
      } else {
        --readers_open_;
      }
      if (lost) {
        readers_open_ -= idle_readers_.size();
        dropped.swap(idle_readers_);
      }
    }
    readers_cv_.notify_all();
    // Dropped connections close outside the lock.
  }

  const crypto::SecretBox& box() const override { return *box_; }

 private:
  struct Writer {
    size_t index = 0;
    std::unique_ptr<Conn> conn;
    int64_t reconnect_backoff_ms = kReconnectBackoffMinMs;
    std::minstd_rand random{std::random_device{}()};
    std::thread thread;
  };

  Conn::Options conn_options(const std::string& application_name) const {
    Conn::Options o;
    o.url = options_.url;
    o.application_name = application_name;
    o.connect_timeout_s = options_.connect_timeout_s;
    o.pipeline = options_.pipeline;
    return o;
  }

  std::unique_ptr<Conn> connect_writer(size_t index) {
    return std::make_unique<Conn>(conn_options("paygate-writer-" + std::to_string(index)), pg::statements(),
                                  writer_session_sql_);
  }

  void writer_loop(Writer& w) {
    std::vector<Item> batch;
    for (;;) {
      if (!queue_.take(batch, options_.group_commit ? options_.commit_batch_max : 1)) return;
      run_batch(w, batch);
    }
  }

  // Connects when the writer has no usable connection. On failure the caller answers the batch "unavailable" and
  // this writer waits a growing back-off (cut short by close()) before its next batch.
  bool ensure_connected(Writer& w) {
    if (w.conn && w.conn->alive() && !w.conn->failure()) return true;
    w.conn.reset();
    try {
      w.conn = connect_writer(w.index);
      w.reconnect_backoff_ms = kReconnectBackoffMinMs;
      spdlog::info("event=postgres_writer_reconnected writer={}", w.index);
      return true;
    } catch (const std::exception& e) {
      spdlog::error("event=postgres_writer_connect_failed writer={} error=\"{}\" retry_in_ms={}", w.index, e.what(),
                    w.reconnect_backoff_ms);
      return false;
    }
  }

  void reconnect_backoff(Writer& w) {
    queue_.sleep_unless_closed(std::chrono::milliseconds(w.reconnect_backoff_ms));
    w.reconnect_backoff_ms = std::min(w.reconnect_backoff_ms * 2, kReconnectBackoffMaxMs);
  }

  static Status run_closure(WriteFn& fn, Tx& tx) {
    try {
      return fn(tx);
    } catch (const PgFailure&) {
      // The writer looks at the connection's failure and decides (retry, roll this request back, ...).
      return unavailable("storage failure, retry later");
    } catch (const StorageFailure& e) {
      spdlog::error("event=storage_failure error=\"{}\"", e.what());
      return unavailable("storage failure, retry later");
    } catch (const std::exception& e) {
      // A bug in one closure must not fail the other requests of the batch.
      spdlog::error("event=write_closure_failed error=\"{}\"", e.what());
      return make_error(ErrorCode::kInternal, "internal error");
    }
  }

  // Rolls the whole transaction back after a failure. False when the connection is not usable afterwards.
  static bool rollback_all(Conn& c) {
    if (!c.recover()) return false;
    try {
      c.set_tag(kTagBatch);
      c.send(pg::kRollback);
      c.sync();
      return true;
    } catch (const PgFailure&) {
      return false;
    }
  }

  // What to do after the connection reported `f` while request `current` (or the commit) was running.
  Attempt after_failure(Writer& w, size_t current, bool commit_sent, std::vector<std::optional<Status>>& results) {
    Conn& c = *w.conn;
    const Failure f = *c.failure();
    if (f.connection_lost) {
      w.conn.reset();  // the server ends the transaction with the session
      if (commit_sent) return Attempt{Attempt::kCommitUnknown, 0, f.message};
      return Attempt{Attempt::kRetry, 0, f.message};
    }
    if (pg::is_transient_sqlstate(f.sqlstate)) {
      if (!rollback_all(c)) w.conn.reset();
      return Attempt{Attempt::kRetry, 0, f.message};
    }
    if (!commit_sent && f.tag >= 0 && static_cast<size_t>(f.tag) == current) {
      // This request's own statement, and everything after it is this request's too: undo it alone.
      spdlog::error("event=storage_failure request={} error=\"{}\"", current, f.message);
      if (!c.recover()) {
        w.conn.reset();
        return Attempt{Attempt::kRetry, 0, f.message};
      }
      c.set_tag(static_cast<int>(current));
      c.send(pg::kRollbackToSavepoint);
      c.send(pg::kRelease);
      results[current] = unavailable("storage failure, retry later");
      return Attempt{Attempt::kContinue, 0, ""};
    }
    // An earlier request's statement (its answer arrived late) or the batch's own: the requests since then ran
    // on a transaction the server had already aborted. Roll everything back; run again without the culprit.
    if (!rollback_all(c)) w.conn.reset();
    if (f.tag >= 0) {
      spdlog::error("event=storage_failure request={} found_late=true error=\"{}\"", f.tag, f.message);
      return Attempt{Attempt::kExclude, static_cast<size_t>(f.tag), f.message};
    }
    return Attempt{Attempt::kFailed, 0, f.message};
  }

  // One run of the batch: BEGIN, a savepoint per request, COMMIT.
  Attempt attempt(Writer& w, std::vector<Item>& batch, const std::vector<char>& excluded,
                  std::vector<std::optional<Status>>& results) {
    Conn& c = *w.conn;
    size_t current = 0;
    bool commit_sent = false;
    try {
      c.set_tag(kTagBatch);
      c.send(pg::kBegin);
      PgTx tx(c, *box_, PgTx::Mode::kWrite);
      for (current = 0; current < batch.size(); ++current) {
        if (excluded[current]) continue;
        const int tag = static_cast<int>(current);
        c.set_tag(tag);
        tx.start_request(tag);
        c.send(pg::kSavepoint);
        Status st = run_closure(batch[current].fn, tx);
        if (c.failure()) {
          auto next = after_failure(w, current, false, results);
          if (next.kind != Attempt::kContinue) return next;
          tx.request_rolled_back();
          continue;  // rolled back to its savepoint; results[current] says so
        }
        c.set_tag(tag);
        if (!st.ok()) {
          c.send(pg::kRollbackToSavepoint);
          tx.request_rolled_back();
        }
        c.send(pg::kRelease);
        results[current] = std::move(st);
      }
      current = batch.size();
      c.set_tag(kTagCommit);
      tx.write_counters();
      // A row count is checked when its answer arrives; it must arrive before COMMIT is sent, or a request whose
      // update found no row would commit.
      if (c.row_checks_pending()) c.wait();
      commit_sent = true;
      auto committed = c.query_sync(pg::kCommit);
      if (committed.command() != "COMMIT") {
        // COMMIT of a transaction the server had aborted answers ROLLBACK. Every failure is caught above, so this
        // is a bug; do not report success.
        return Attempt{Attempt::kFailed, 0, "COMMIT answered " + committed.command()};
      }
      return Attempt{Attempt::kCommitted, 0, ""};
    } catch (const PgFailure&) {
      if (!w.conn || !w.conn->failure()) return Attempt{Attempt::kRetry, 0, "connection failure"};
      return after_failure(w, current, commit_sent, results);
    }
  }

  void run_batch(Writer& w, std::vector<Item>& batch) {
    const size_t n = batch.size();
    std::vector<std::optional<Status>> results(n);
    std::vector<char> excluded(n, 0);
    auto started = std::chrono::steady_clock::now();
    bool committed = false;
    std::string failure;
    int attempts = 0;
    uint64_t retries = 0;
    size_t restarts = 0;
    bool unreachable = false;
    for (;;) {
      if (!ensure_connected(w)) {
        failure = "database unreachable";
        unreachable = true;
        break;
      }
      for (auto& r : results) r.reset();
      for (size_t i = 0; i < n; ++i) {
        if (excluded[i]) results[i] = unavailable("storage failure, retry later");
      }
      uint64_t before = w.conn->round_trips();
      Attempt a = attempt(w, batch, excluded, results);
      if (w.conn) {
        add_round_trips(w.conn->round_trips() - before);
      }
      if (a.kind == Attempt::kCommitted) {
        committed = true;
        break;
      }
      if (a.kind == Attempt::kExclude) {
        PG_ASSERT(a.index < n && !excluded[a.index], "excluding a request twice");
        excluded[a.index] = 1;
        ++restarts;
        PG_ASSERT(restarts <= n, "more restarts than requests");
        continue;
      }
      if (a.kind == Attempt::kRetry && ++attempts < limits::kPgBatchAttemptsMax) {
        ++retries;
        spdlog::warn("event=postgres_batch_retry writer={} attempt={} batch={} error=\"{}\"", w.index, attempts, n,
                     a.why);
        std::uniform_int_distribution<int64_t> jitter(0, kRetryBackoffStepMs * attempts);
        std::this_thread::sleep_for(std::chrono::milliseconds(jitter(w.random)));
        continue;
      }
      failure = a.kind == Attempt::kCommitUnknown ? "commit outcome unknown: " + a.why : a.why;
      spdlog::error("event=commit_failed writer={} batch={} attempts={} error=\"{}\"", w.index, n, attempts + 1,
                    failure);
      break;
    }
    auto commit_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    if (retries > 0) queue_.update_stats([retries](StoreStats& s) { s.batch_retries += retries; });
    if (committed) queue_.record_commit(n, commit_us);
    for (size_t i = 0; i < n; ++i) {
      if (committed) {
        PG_ASSERT(results[i].has_value(), "a committed request without an answer");
        batch[i].done(std::move(*results[i]));
      } else {
        // Never claim success for a commit that may not have happened; the client retries (an identical retry
        // of a committed submit gets its first answer).
        batch[i].done(unavailable("storage commit failed, retry later"));
      }
    }
    if (unreachable) reconnect_backoff(w);  // after answering: the requests need not wait for it
  }

  void add_round_trips(uint64_t n) {
    queue_.update_stats([n](StoreStats& s) { s.round_trips += n; });
  }

  PostgresOptions options_;
  std::shared_ptr<const crypto::SecretBox> box_;
  std::string redacted_url_;
  std::vector<std::string> session_sql_;         // every connection
  std::vector<std::string> writer_session_sql_;  // writers: session_sql_ and more
  std::vector<std::unique_ptr<Writer>> writers_;

  WriteQueue queue_;

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Conn>> idle_readers_;
  size_t readers_open_ = 0;  // idle and in use
  bool readers_closed_ = false;
};

// Holds the pooled connection; a base of SnapshotTx so that it exists before PgTx binds to it.
struct PooledConnection {
  std::unique_ptr<Conn> conn;
};

// A read snapshot: REPEATABLE READ READ ONLY, so every read in it sees the same committed state (and the BEGIN
// travels with the first query). The COMMIT that ends it is sent when it is dropped, without waiting.
class SnapshotTx final : private PooledConnection, public PgTx {
 public:
  SnapshotTx(PostgresStore& store, std::unique_ptr<Conn> c)
      : PooledConnection{std::move(c)}, PgTx(*conn, store.box(), PgTx::Mode::kSnapshot), store_(store) {
    conn->set_tag(pg::kTagNone);
    conn->send(pg::kBeginSnapshot);
  }
  ~SnapshotTx() override {
    bool healthy = false;
    try {
      if (!conn->failure() && conn->alive()) {
        conn->send(pg::kCommit);
        conn->sync_later();
        healthy = !conn->failure();
      }
    } catch (...) {
      // Dropped rather than returned to the pool broken.
    }
    store_.release_reader(std::move(conn), healthy);
  }

 private:
  PostgresStore& store_;
};

std::unique_ptr<Tx> PostgresStore::read() {
  return std::make_unique<SnapshotTx>(*this, acquire_reader());
}

}  // namespace

std::unique_ptr<Store> open_postgres_store(const PostgresOptions& options,
                                           std::shared_ptr<const crypto::SecretBox> box) {
  return std::make_unique<PostgresStore>(options, std::move(box));
}

void migrate_postgres(const std::string& url, int connect_timeout_s) {
  if (!is_postgres_url(url)) throw StorageFailure("not a postgresql:// URL: " + pg::redact_url(url));
  Conn::Options o;
  o.url = url;
  o.application_name = "paygate-migrate";
  o.connect_timeout_s = connect_timeout_s;
  auto c = Conn::connect_plain(o);
  apply_migrations(c.get(), pg::redact_url(url));
}

}  // namespace paygate::storage
