#include "storage/sqlite/sqlite_store.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "storage/migrations.h"
#include "storage/sqlite/page_cache.h"
#include "storage/sqlite/plain_switch.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_tx.h"
#include "storage/sqlite/wal_vfs.h"
#include "storage/write_queue.h"

namespace paygate::storage {
namespace {

using sqlite::Connection;

// Foreign keys are off while migrations run (SQLite's procedure for rebuilding a table that others reference) and
// checked before each migration commits.
void apply_migrations(Connection& c) {
  c.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at_ms INTEGER NOT NULL)");
  c.exec("PRAGMA foreign_keys=OFF");
  for (const auto& m : embedded_migrations(Engine::kSqlite)) {
    auto st = c.prepare("SELECT 1 FROM schema_migrations WHERE number=?1");
    st.bind(1, m.number);
    if (st.step()) continue;
    c.exec("BEGIN IMMEDIATE");
    try {
      c.exec(m.sql);
      auto fk = c.prepare("PRAGMA foreign_key_check");
      if (fk.step()) throw StorageFailure(std::string("migration ") + m.name + " leaves a foreign key violated");
      auto ins = c.prepare("INSERT INTO schema_migrations (number, name, applied_at_ms) VALUES (?1, ?2, ?3)");
      auto now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      ins.bind(1, m.number).bind(2, m.name).bind(3, static_cast<int64_t>(now_ms));
      ins.exec();
      c.exec("COMMIT");
      spdlog::info("event=migration_applied number={} name={}", m.number, m.name);
    } catch (...) {
      c.exec("ROLLBACK");
      c.exec("PRAGMA foreign_keys=ON");
      throw;
    }
  }
  c.exec("PRAGMA foreign_keys=ON");
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, std::shared_ptr<const crypto::SecretBox> box)
      : options_(options), box_(std::move(box)), queue_(options.queue_depth_max) {
    std::filesystem::path p(options_.path);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    // The writer's WAL writes go out in one system call per commit (sqlite/wal_vfs.h).
    wal_vfs_ = sqlite::register_wal_vfs();
    plain_checkpoints_ = sqlite::plain_switch_on("PAYGATE_SQLITE_PLAIN_CHECKPOINTS");
    writer_conn_ = std::make_unique<Connection>(options_.path, false, options_.busy_timeout_ms,
                                                wal_vfs_ ? sqlite::kWalVfsName : nullptr);
    writer_conn_->exec("PRAGMA journal_mode=WAL");
    writer_conn_->exec("PRAGMA synchronous=FULL");
    // The writer touches index pages all over (card fingerprints are random): keep them in memory.
    writer_conn_->exec("PRAGMA cache_size=-65536");
    writer_conn_->exec("PRAGMA mmap_size=268435456");
    apply_migrations(*writer_conn_);
    // Checkpoints run on their own thread and connection so that commits do not wait for them; the writer
    // checkpoints itself only when the WAL passes kWalPagesHardMax (the checkpointer fell behind).
    writer_conn_->exec("PRAGMA wal_autocheckpoint=0");
    sqlite3_wal_hook(writer_conn_->raw(), &SqliteStore::on_wal_commit, this);
    checkpointer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "pg-checkpoint");
      checkpoint_loop();
    });
    writer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "pg-writer");  // visible in top -H and perf
      writer_loop();
    });
  }

  ~SqliteStore() override { close(); }

  std::string_view engine() const override { return "sqlite"; }

  void submit(WriteFn fn, DoneFn done) override { queue_.push(std::move(fn), std::move(done)); }

  std::unique_ptr<Tx> read() override;

  StoreStats stats() const override {
    StoreStats s = queue_.stats();
    s.page_cache_scans_avoided = sqlite::page_cache_stats().scans_avoided;
    auto wal = sqlite::wal_vfs_stats();
    s.wal_writes_in = wal.writes_in;
    s.wal_writes_out = wal.writes_out;
    s.wal_syncs_skipped = wal.syncs_skipped;
    return s;
  }

  void set_commit_observer(CommitObserver observer) override { queue_.set_observer(std::move(observer)); }
  // The WAL VFS is the process's: the observer sees the syncs of every SQLite store open in it (one in a server),
  // until this store closes. A sync slower than kSlowWalSyncUs is also logged, with what the checkpointer was
  // doing: such syncs set the p99 of a whole benchmark step, and the disk's side of them is not understood yet
  // (docs/performance.md).
  void set_sync_observer(SyncObserver observer) override {
    sets_sync_observer_ = static_cast<bool>(observer);
    if (!observer) {
      sqlite::set_wal_sync_observer({});
      return;
    }
    sqlite::set_wal_sync_observer([this, observer = std::move(observer)](int64_t sync_us) {
      if (sync_us >= kSlowWalSyncUs) log_slow_sync(sync_us);
      observer(sync_us);
    });
  }

  Status probe_writable() override {
    // A no-op write through the real path proves the writer is alive and the disk accepts commits.
    return write_sync([](Tx&) { return ok_status(); });
  }

  void close() override {
    if (!queue_.close()) return;
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    // A final checkpoint leaves a compact database file behind.
    try {
      writer_conn_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& e) {
      spdlog::warn("event=final_checkpoint_failed error=\"{}\"", e.what());
    }
    if (sets_sync_observer_) sqlite::set_wal_sync_observer({});  // what it refers to may not outlive the store
    std::lock_guard lock(readers_mu_);
    readers_.clear();
  }

  // Reader pool.
  std::unique_ptr<Connection> acquire_reader() {
    {
      std::lock_guard lock(readers_mu_);
      if (!readers_.empty()) {
        auto c = std::move(readers_.back());
        readers_.pop_back();
        return c;
      }
    }
    auto c = std::make_unique<Connection>(options_.path, false, options_.busy_timeout_ms);
    c->exec("PRAGMA query_only=ON");
    c->exec("PRAGMA mmap_size=268435456");
    return c;
  }
  void release_reader(std::unique_ptr<Connection> c) {
    std::lock_guard lock(readers_mu_);
    if (readers_.size() < options_.readers_max) readers_.push_back(std::move(c));
  }
  const crypto::SecretBox& box() const override { return *box_; }

 private:
  using Item = WriteQueue::Item;

  static constexpr int kWalPagesSoftMax = 1'000;  // the checkpointer leaves a WAL shorter than this alone
  // ... and starts a pass once this many frames (1 MiB) were appended since its last one. A pass has a fixed cost
  // (locks, the WAL index, a sync of the database file): one after every commit cost the checkpointer a quarter
  // of a core at the consign benchmark's half rate, one every ~3 commits costs an eighth. Much larger passes
  // (1 000 frames) saved little more CPU, and their bursts of database writes slowed the writer's own syncs.
  static constexpr int kCheckpointStepPages = 256;
  // SQLite starts the WAL over only when a write transaction begins with every frame copied. Under writes without
  // pause the background checkpointer never sees that moment (the writer appends while it copies), so once a pass
  // finds the WAL this long it leaves the last frames to the writer, which copies them before its next
  // transaction (maybe_start_wal_over): a short pause of the writer instead of a WAL that grows to the hard limit.
  static constexpr int kWalPagesStartOver = 4'000;
  static constexpr int kWalTailPagesMax = 512;  // the writer copies a tail only after a pass this short
  // A checkpointer short of CPU (a loaded machine) may leave more frames after each pass than before it and never
  // get to a short tail: at this length the writer takes the rest over whatever the checkpointer does. Its pause
  // is then longer than for a short tail, but the WAL stays below this plus one commit.
  static constexpr int kWalPagesWriterTakesOver = 6'000;
  static constexpr int kWalPagesHardMax = 20'000;  // ~80 MiB: the writer checkpoints itself in the commit

  static constexpr int64_t kSlowWalSyncUs = 100'000;

  static int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void log_slow_sync(int64_t sync_us) const {
    const int64_t pass_started_us = pass_started_us_.load(std::memory_order_relaxed);
    const int64_t pass_ended_us = pass_ended_us_.load(std::memory_order_relaxed);
    const int64_t now_us = steady_us();
    spdlog::warn(
        "event=slow_wal_sync sync_ms={} checkpoint_pass_running={} checkpoint_pass_ms={} "
        "last_checkpoint_pass_ended_ms_ago={} wal_pages_at_last_pass={}",
        sync_us / 1000, pass_started_us != 0, pass_started_us != 0 ? (now_us - pass_started_us) / 1000 : 0,
        pass_ended_us != 0 ? (now_us - pass_ended_us) / 1000 : -1, pass_wal_pages_.load(std::memory_order_relaxed));
  }

  static int on_wal_commit(void* self_ptr, sqlite3* db, const char*, int wal_pages) {
    auto* self = static_cast<SqliteStore*>(self_ptr);
    if (wal_pages >= kWalPagesHardMax) {
      self->queue_.update_stats([](StoreStats& s) { ++s.inline_checkpoints; });
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (wal_pages >= kWalPagesWriterTakesOver && !self->plain_checkpoints_) {
      self->tail_for_writer_.store(true, std::memory_order_release);  // copied before the next transaction
    } else if (wal_pages >= kWalPagesSoftMax) {
      const int last = self->pass_wal_pages_.load(std::memory_order_relaxed);
      const int appended = wal_pages >= last ? wal_pages - last : wal_pages;  // smaller: the WAL started over
      if (!self->plain_checkpoints_ && appended < kCheckpointStepPages) return SQLITE_OK;
      {
        std::lock_guard lock(self->checkpoint_mu_);
        self->checkpoint_wanted_ = true;
      }
      self->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void checkpoint_loop() {
    std::unique_ptr<Connection> conn;
    try {
      // Through the VFS that leaves out SQLite's sync of the WAL before each pass: every frame a pass can copy
      // was synced by the writer's commit (synchronous=FULL) before SQLite published it (sqlite/wal_vfs.h).
      conn = std::make_unique<Connection>(options_.path, false, options_.busy_timeout_ms,
                                          wal_vfs_ && !plain_checkpoints_ ? sqlite::kWalCheckpointVfsName : nullptr);
      // A connection learns that the database is in WAL mode only when it first reads it; until then
      // sqlite3_wal_checkpoint_v2 returns SQLITE_OK having done nothing (log and checkpoint counts -1).
      conn->exec("SELECT count(*) FROM sqlite_schema");
    } catch (const std::exception& e) {
      spdlog::error("event=checkpointer_failed error=\"{}\"", e.what());
      return;  // the writer's hard limit still bounds the WAL
    }
    int last_copied_pages = 0;
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mu_);
        checkpoint_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return checkpoint_stop_ || checkpoint_wanted_; });
        if (checkpoint_stop_) return;
        checkpoint_wanted_ = false;
      }
      int wal_pages = 0;
      int copied_pages = 0;
      if (tail_for_writer_.load(std::memory_order_acquire)) continue;  // the writer copies the rest first
      if (options_.before_checkpoint_pass) options_.before_checkpoint_pass();
      int rc = SQLITE_OK;
      {
        std::lock_guard run(checkpoint_run_mu_);
        pass_started_us_.store(steady_us(), std::memory_order_relaxed);
        rc = sqlite3_wal_checkpoint_v2(conn->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied_pages);
        pass_started_us_.store(0, std::memory_order_relaxed);
        pass_ended_us_.store(steady_us(), std::memory_order_relaxed);
      }
      if (rc == SQLITE_OK && wal_pages >= 0) pass_wal_pages_.store(wal_pages, std::memory_order_relaxed);
      int added = 0;  // frames this pass copied
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        spdlog::warn("event=checkpoint_failed rc={}", rc);
      } else if (rc == SQLITE_OK && wal_pages < 0) {
        spdlog::error("event=checkpoint_not_in_wal_mode");  // the bug the SELECT above prevents
      } else if (copied_pages > 0) {
        // copied_pages counts the frames of the current WAL backfilled so far (it starts again when the WAL
        // restarts from its beginning): this round added the growth, or all of it after a restart.
        added = copied_pages >= last_copied_pages ? copied_pages - last_copied_pages : copied_pages;
        last_copied_pages = copied_pages;
        if (added > 0) {  // a reader's snapshot can hold a pass back to the frames copied already
          queue_.update_stats([added](StoreStats& s) {
            ++s.checkpoints;
            s.checkpointed_pages += static_cast<uint64_t>(added);
          });
        }
      }
      if (rc == SQLITE_OK && wal_pages >= kWalPagesStartOver) {
        // The frames appended while this pass ran are left. A short pass leaves a short tail: the writer's to
        // copy. After a long one, copy again at once, without stopping the writer.
        if (added <= kWalTailPagesMax) {
          tail_for_writer_.store(true, std::memory_order_release);
        } else {
          std::lock_guard lock(checkpoint_mu_);
          checkpoint_wanted_ = true;
        }
      }
    }
  }

  void writer_loop() {
    std::vector<Item> batch;
    std::vector<Status> results;
    while (queue_.take(batch, options_.group_commit ? options_.commit_batch_max : 1)) run_batch(batch, results);
  }

  void run_batch(std::vector<Item>& batch, std::vector<Status>& results) {
    results.clear();
    auto& c = *writer_conn_;
    maybe_start_wal_over();
    sqlite::SqliteTx tx(c, *box_);
    auto started = std::chrono::steady_clock::now();
    bool committed = false;
    std::string failure;
    try {
      c.exec("BEGIN IMMEDIATE");
      for (size_t i = 0; i < batch.size(); ++i) {
        auto& item = batch[i];
        // A savepoint per request: one request's failure leaves the others in the batch untouched.
        tx.start_request(static_cast<int>(i));
        c.prepare("SAVEPOINT req").exec();
        Status st = ok_status();
        try {
          st = item.fn(tx);
        } catch (const StorageFailure& e) {
          spdlog::error("event=storage_failure error=\"{}\"", e.what());
          st = make_error(ErrorCode::kUnavailable, "storage failure, retry later");
        } catch (const std::exception& e) {
          // A bug in one closure must not fail the other requests of the batch.
          spdlog::error("event=write_closure_failed error=\"{}\"", e.what());
          st = make_error(ErrorCode::kInternal, "internal error");
        }
        if (!st.ok()) {
          c.prepare("ROLLBACK TO req").exec();
          tx.request_rolled_back();
        }
        c.prepare("RELEASE req").exec();
        results.push_back(std::move(st));
      }
      tx.write_counters();
      c.exec("COMMIT");
      committed = true;
    } catch (const std::exception& e) {
      failure = e.what();
      spdlog::error("event=commit_failed error=\"{}\" batch={}", failure, batch.size());
      try {
        c.exec("ROLLBACK");
      } catch (...) {
      }
    }
    auto commit_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    if (committed) queue_.record_commit(batch.size(), commit_us);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (committed) {
        batch[i].done(std::move(results[i]));
      } else {
        batch[i].done(make_error(ErrorCode::kUnavailable, "storage commit failed, retry later"));
      }
    }
  }

  // When the background checkpointer left the tail to the writer (kWalPagesStartOver), or the writer took it
  // (kWalPagesWriterTakesOver): copies the frames the checkpointer has not, so that the transaction about to begin
  // finds every frame copied and SQLite starts the WAL over (unless a reader still uses it; the checkpointer then asks
  // again after its next pass, or the writer takes it again after its next commit).
  void maybe_start_wal_over() {
    if (!tail_for_writer_.load(std::memory_order_acquire)) return;
    {
      // Free when the checkpointer left the tail (it starts no pass while the tail is ours); when the writer took it
      // over, waits for the end of a pass in flight.
      std::lock_guard run(checkpoint_run_mu_);
      sqlite3_wal_checkpoint_v2(writer_conn_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    tail_for_writer_.store(false, std::memory_order_release);
    queue_.update_stats([](StoreStats& s) { ++s.wal_tail_checkpoints; });
  }

  SqliteOptions options_;
  std::shared_ptr<const crypto::SecretBox> box_;
  std::mutex checkpoint_run_mu_;              // one checkpoint at a time: the background one, or the writer's
  std::atomic<bool> tail_for_writer_{false};  // the WAL's last frames are the writer's to copy
  std::atomic<int> pass_wal_pages_{0};        // the WAL's length in frames at the checkpointer's last pass
  std::atomic<int64_t> pass_started_us_{0};   // steady clock; 0 while no background pass runs
  std::atomic<int64_t> pass_ended_us_{0};     // steady clock; 0 before the first pass
  bool wal_vfs_ = false;                      // paygate's WAL VFSs are registered (sqlite/wal_vfs.h)
  bool plain_checkpoints_ = false;            // PAYGATE_SQLITE_PLAIN_CHECKPOINTS: a pass after every commit
  bool sets_sync_observer_ = false;
  std::unique_ptr<Connection> writer_conn_;
  std::thread writer_;

  WriteQueue queue_;

  std::thread checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stop_ = false;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;
};

// Holds the pooled connection; a base of ReadTx so that it exists before SqliteTx binds to it.
struct PooledConnection {
  std::unique_ptr<Connection> conn;
};

// A read snapshot: BEGIN on a pooled reader connection, COMMIT (end of snapshot) when dropped.
class ReadTx final : private PooledConnection, public sqlite::SqliteTx {
 public:
  ReadTx(SqliteStore& store, std::unique_ptr<Connection> c)
      : PooledConnection{std::move(c)}, sqlite::SqliteTx(*conn, store.box(), true), store_(store) {
    conn->exec("BEGIN");
  }
  ~ReadTx() override {
    try {
      conn->exec("COMMIT");
      store_.release_reader(std::move(conn));
    } catch (...) {
      // Drop the connection rather than return a broken one to the pool.
    }
  }

 private:
  SqliteStore& store_;
};

std::unique_ptr<Tx> SqliteStore::read() {
  return std::make_unique<ReadTx>(*this, acquire_reader());
}

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options, std::shared_ptr<const crypto::SecretBox> box) {
  return std::make_unique<SqliteStore>(options, std::move(box));
}

}  // namespace paygate::storage
