#include "storage/sqlite/memory.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/page_cache.h"
#include "storage/sqlite/sqlite_db.h"

namespace paygate::storage::sqlite {
namespace {

class SqliteMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    install_page_cache();  // what every connection does first
    ASSERT_TRUE(install_memory()) << "SQLite initialized before the allocator could be installed";
    sqlite3_initialize();
  }
};

TEST_F(SqliteMemoryTest, ReallocKeepsTheBytesAcrossTheCachedSize) {
  auto* p = static_cast<unsigned char*>(sqlite3_malloc(1000));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 1000; ++i) p[i] = static_cast<unsigned char>(i * 7);
  p = static_cast<unsigned char*>(sqlite3_realloc(p, static_cast<int>(kCachedBlockBytes)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sqlite3_msize(p), kCachedBlockBytes);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i * 7)) << i;
  p = static_cast<unsigned char*>(sqlite3_realloc(p, 5000));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sqlite3_msize(p), 5000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i * 7)) << i;
  p = static_cast<unsigned char*>(sqlite3_realloc(p, 10));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i * 7)) << i;
  sqlite3_free(p);
}

TEST_F(SqliteMemoryTest, AFreedBlockServesTheNextAllocationOnTheSameThread) {
  void* a = sqlite3_malloc(static_cast<int>(kCachedBlockBytes));
  ASSERT_NE(a, nullptr);
  sqlite3_free(a);
  auto before = memory_stats();
  void* b = sqlite3_malloc(static_cast<int>(kCachedBlockBytes));
  EXPECT_EQ(b, a);
  EXPECT_EQ(memory_stats().cached_allocations, before.cached_allocations + 1);
  sqlite3_free(b);
}

// Blocks allocated on one thread and freed on others, whose caches go when they exit.
TEST_F(SqliteMemoryTest, BlocksMayBeFreedOnOtherThreadsThatThenExit) {
  std::vector<void*> blocks;
  for (int i = 0; i < 600; ++i) blocks.push_back(sqlite3_malloc(static_cast<int>(kCachedBlockBytes)));
  for (int t = 0; t < 3; ++t) {
    std::thread([&blocks, t] {
      for (int i = t * 200; i < (t + 1) * 200; ++i) sqlite3_free(blocks[static_cast<size_t>(i)]);
      void* again = sqlite3_malloc(static_cast<int>(kCachedBlockBytes));
      sqlite3_free(again);
    }).join();
  }
}

// The case it is for: savepoints over a real database keep their journal in cached blocks.
TEST_F(SqliteMemoryTest, SavepointJournalsUseTheCache) {
  auto dir = std::filesystem::temp_directory_path() / ("paygate_sqlite_memory_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    Connection c((dir / "t.db").string(), false, 1000);  // temp_store=MEMORY, as every connection
    c.exec("PRAGMA journal_mode=WAL");
    c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE)");
    c.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 2000; ++i) {
      auto st = c.prepare("INSERT INTO t (k) VALUES (?1)");
      st.bind(1, std::to_string(i * 7919 % 100003) + std::string(60, 'k'));
      st.exec();
    }
    c.exec("COMMIT");
    auto before = memory_stats();
    c.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 100; ++i) {
      c.exec("SAVEPOINT req");
      auto st = c.prepare("INSERT INTO t (k) VALUES (?1)");
      st.bind(1, "new-" + std::to_string(i * 104729 % 1000003) + std::string(60, 'n'));
      st.exec();
      if (i % 10 == 0) c.exec("ROLLBACK TO req");
      c.exec("RELEASE req");
    }
    c.exec("COMMIT");
    EXPECT_GT(memory_stats().cached_allocations, before.cached_allocations + 100);
    auto count = c.prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(count.step());
    EXPECT_EQ(count.int64(0), 2000 + 90);
    auto check = c.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.step());
    EXPECT_EQ(check.text(0), "ok");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace paygate::storage::sqlite
