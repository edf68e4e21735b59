#include "storage/sqlite/wal_vfs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include <sqlite3.h>

#include "storage/sqlite/sqlite_db.h"

namespace paygate::storage::sqlite {
namespace {

class WalVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(register_wal_vfs());
    dir_ = std::filesystem::temp_directory_path() /
           ("paygate_wal_vfs_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Connection> open_writer(const char* synchronous) {
    auto c = std::make_unique<Connection>(path_, false, 1000, kWalVfsName);
    c->exec("PRAGMA journal_mode=WAL");
    c->exec(synchronous);
    c->exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, v BLOB)");
    return c;
  }
  static int64_t count(Connection& c) {
    auto st = c.prepare("SELECT count(*) FROM t");
    EXPECT_TRUE(st.step());
    return st.int64(0);
  }
  static void expect_intact(Connection& c) {
    auto check = c.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.step());
    EXPECT_EQ(check.text(0), "ok");
  }
  static void insert_batch(Connection& c, int from, int n) {
    c.exec("BEGIN IMMEDIATE");
    for (int i = from; i < from + n; ++i) {
      auto st = c.prepare("INSERT INTO t (k, v) VALUES (?1, zeroblob(300))");
      st.bind(1, "key-" + std::to_string(i * 7919 % 100003));
      st.exec();
    }
    c.exec("COMMIT");
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(WalVfsTest, ACommitReachesTheFileInFarFewerWrites) {
  auto w = open_writer("PRAGMA synchronous=FULL");
  auto before = wal_vfs_stats();
  insert_batch(*w, 0, 200);
  auto after = wal_vfs_stats();
  uint64_t in = after.writes_in - before.writes_in;
  uint64_t out = after.writes_out - before.writes_out;
  EXPECT_GT(in, 20u) << "two writes per WAL frame";
  // The frames (~250 KB) go out in chunks of at most 120 KiB, plus the WAL header the first time.
  EXPECT_LE(out, 5u);
  Connection reader(path_, true, 1000);
  EXPECT_EQ(count(reader), 200);
}

// Without a sync at commit (synchronous=NORMAL), the commit frame alone must put the transaction in the file
// before SQLite publishes it: another connection reads it at once.
TEST_F(WalVfsTest, ACommitIsInTheFileBeforeOthersCanSeeItEvenWithoutASync) {
  auto w = open_writer("PRAGMA synchronous=NORMAL");
  Connection reader(path_, true, 1000);
  for (int round = 0; round < 20; ++round) {
    insert_batch(*w, round * 50, 50);
    EXPECT_EQ(count(reader), (round + 1) * 50) << round;
  }
  expect_intact(reader);
}

// Reads, checkpoints (which read the WAL back) and a rolled-back transaction all see a consistent file; the
// database reopens intact with SQLite's default VFS.
TEST_F(WalVfsTest, CheckpointsRollbacksAndReopenKeepTheDatabaseIntact) {
  {
    auto w = open_writer("PRAGMA synchronous=FULL");
    for (int round = 0; round < 10; ++round) {
      insert_batch(*w, round * 100, 100);
      if (round % 3 == 0) w->exec("PRAGMA wal_checkpoint(PASSIVE)");
    }
    w->exec("BEGIN IMMEDIATE");
    w->exec("INSERT INTO t (k, v) VALUES ('rolled back', zeroblob(5000))");
    w->exec("ROLLBACK");
    // Within one transaction, rewrite the same pages again and again (SQLite may then write frames in place).
    w->exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 50; ++i) w->exec("UPDATE t SET v = zeroblob(310) WHERE id % 10 = 1");
    w->exec("COMMIT");
    EXPECT_EQ(count(*w), 1000);
  }
  Connection plain(path_, false, 1000);
  EXPECT_EQ(count(plain), 1000);
  expect_intact(plain);
  auto rolled = plain.prepare("SELECT count(*) FROM t WHERE k = 'rolled back'");
  ASSERT_TRUE(rolled.step());
  EXPECT_EQ(rolled.int64(0), 0);
}

// A transaction larger than the buffer (kWalWriteBufferBytesMax) and than one write of the unix VFS (128 KiB):
// its frames go out in several writes, and all of them arrive.
TEST_F(WalVfsTest, ATransactionLargerThanTheBufferIsWrittenWhole) {
  auto w = open_writer("PRAGMA synchronous=FULL");
  w->exec("PRAGMA cache_size=-131072");  // keep the pages in the transaction, so the commit writes them all
  auto before = wal_vfs_stats();
  w->exec("BEGIN IMMEDIATE");
  for (int i = 0; i < 3000; ++i) {
    auto st = w->prepare("INSERT INTO t (k, v) VALUES (?1, zeroblob(4000))");
    st.bind(1, "big-" + std::to_string(i));
    st.exec();
  }
  w->exec("COMMIT");
  auto after = wal_vfs_stats();
  EXPECT_GT(after.writes_out - before.writes_out, kWalWriteBufferBytesMax / (128 * 1024));
  Connection reader(path_, true, 1000);
  EXPECT_EQ(count(reader), 3000);
  expect_intact(reader);
}

// The checkpointer's VFS leaves out the WAL sync SQLite makes before each checkpoint: the writer's commits
// (synchronous=FULL) synced every frame a checkpoint can copy. The checkpoint still copies everything, and the
// database reads back whole through SQLite's own VFS.
TEST_F(WalVfsTest, TheCheckpointVfsCopiesEverythingWithoutSyncingTheWal) {
  std::atomic<int> observed{0};
  set_wal_sync_observer([&](int64_t sync_us) {
    EXPECT_GE(sync_us, 0);
    observed.fetch_add(1);
  });
  {
    auto w = open_writer("PRAGMA synchronous=FULL");
    w->exec("PRAGMA wal_autocheckpoint=0");
    const auto before = wal_vfs_stats();
    for (int round = 0; round < 5; ++round) insert_batch(*w, round * 100, 100);
    const auto committed = wal_vfs_stats();
    EXPECT_GE(committed.syncs - before.syncs, 5u) << "one sync per commit";
    EXPECT_GE(observed.load(), 5) << "the observer sees the commits' syncs";

    Connection checkpointer(path_, false, 1000, kWalCheckpointVfsName);
    (void)count(checkpointer);  // a connection learns that the database is in WAL mode when it first reads it
    int wal_pages = -1;
    int copied_pages = -1;
    ASSERT_EQ(sqlite3_wal_checkpoint_v2(checkpointer.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages,
                                        &copied_pages),
              SQLITE_OK);
    EXPECT_GT(wal_pages, 0);
    EXPECT_EQ(copied_pages, wal_pages) << "every frame was copied";
    const auto checkpointed = wal_vfs_stats();
    EXPECT_EQ(checkpointed.syncs, committed.syncs) << "the checkpoint did not sync the WAL";
    EXPECT_GE(checkpointed.syncs_skipped - committed.syncs_skipped, 1u);
  }
  set_wal_sync_observer({});
  Connection plain(path_, false, 1000);
  EXPECT_EQ(count(plain), 500);
  expect_intact(plain);
}

}  // namespace
}  // namespace paygate::storage::sqlite
