#include "storage/sqlite/page_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>

#include "storage/sqlite/sqlite_db.h"

namespace paygate::storage::sqlite {
namespace {

// Drives a cache through the layer's methods, against SQLite's real pcache1 underneath.
class PageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(install_page_cache()) << "SQLite initialized before the layer could be installed";
    m_ = &page_cache_methods();
    cache_ = m_->xCreate(4096, 64, 1);
    ASSERT_NE(cache_, nullptr);
    m_->xCachesize(cache_, 1000);
  }
  void TearDown() override {
    if (cache_) m_->xDestroy(cache_);
  }
  sqlite3_pcache_page* create(unsigned key) {
    auto* p = m_->xFetch(cache_, key, 2);
    EXPECT_NE(p, nullptr) << key;
    return p;
  }
  bool present(unsigned key) {
    auto* p = m_->xFetch(cache_, key, 0);
    if (p != nullptr) unpin(p);
    return p != nullptr;
  }
  void unpin(sqlite3_pcache_page* p) { m_->xUnpin(cache_, p, 0); }

  const sqlite3_pcache_methods2* m_ = nullptr;
  sqlite3_pcache* cache_ = nullptr;
};

constexpr unsigned kLockingPage = 262145;  // balance_nonroot's temporary page number with 4 KiB pages

TEST_F(PageCacheTest, SkipsATruncationWhenEveryPageIsBelowTheLimit) {
  for (unsigned k = 1; k <= 100; ++k) unpin(create(k));
  auto before = page_cache_stats();
  m_->xTruncate(cache_, 101);
  auto after = page_cache_stats();
  EXPECT_EQ(after.truncates_skipped, before.truncates_skipped + 1);
  EXPECT_EQ(after.truncates_forwarded, before.truncates_forwarded);
  EXPECT_EQ(m_->xPagecount(cache_), 100);
}

TEST_F(PageCacheTest, ASwapThroughTheLockingPageLeavesNothingToTruncate) {
  // What balance_nonroot does to order two sibling pages: A -> temporary, B -> A, temporary -> B.
  for (unsigned k = 1; k <= 100; ++k) unpin(create(k));
  auto* a = create(40);
  auto* b = create(30);
  m_->xRekey(cache_, a, 40, kLockingPage);
  m_->xRekey(cache_, b, 30, 40);
  m_->xRekey(cache_, a, kLockingPage, 30);
  unpin(a);
  unpin(b);
  auto before = page_cache_stats();
  m_->xTruncate(cache_, 101);
  EXPECT_EQ(page_cache_stats().truncates_skipped, before.truncates_skipped + 1);
  EXPECT_EQ(page_cache_stats().scans_avoided, before.scans_avoided + 1);
  for (unsigned k = 1; k <= 100; ++k) EXPECT_TRUE(present(k)) << k;
  EXPECT_FALSE(present(kLockingPage));
}

TEST_F(PageCacheTest, APageLeftAboveTheLimitIsDropped) {
  for (unsigned k = 1; k <= 100; ++k) unpin(create(k));
  auto* a = create(50);
  m_->xRekey(cache_, a, 50, kLockingPage);
  unpin(a);
  auto before = page_cache_stats();
  m_->xTruncate(cache_, 101);
  EXPECT_EQ(page_cache_stats().truncates_forwarded, before.truncates_forwarded + 1);
  EXPECT_FALSE(present(kLockingPage));
  EXPECT_FALSE(present(50));
  EXPECT_TRUE(present(49));
  // The bound came down with the truncation: the next one has nothing to drop.
  before = page_cache_stats();
  m_->xTruncate(cache_, 101);
  EXPECT_EQ(page_cache_stats().truncates_skipped, before.truncates_skipped + 1);
}

TEST_F(PageCacheTest, TruncatingBelowFetchedPagesDropsThem) {
  for (unsigned k = 1; k <= 100; ++k) unpin(create(k));
  m_->xTruncate(cache_, 61);
  EXPECT_TRUE(present(60));
  EXPECT_FALSE(present(61));
  EXPECT_FALSE(present(100));
  EXPECT_EQ(m_->xPagecount(cache_), 60);
  unpin(create(80));  // the bound rises again with a new page
  m_->xTruncate(cache_, 61);
  EXPECT_FALSE(present(80));
  m_->xTruncate(cache_, 0);
  EXPECT_EQ(m_->xPagecount(cache_), 0);
}

TEST_F(PageCacheTest, ManyPagesMovedUpAreAllStillTruncated) {
  // More moved pages than the layer tracks one by one: it must fall back to forwarding, never lose a page.
  for (unsigned k = 1; k <= 100; ++k) unpin(create(k));
  for (unsigned k = 1; k <= 20; ++k) {
    auto* p = create(k);
    m_->xRekey(cache_, p, k, 1000 + k);
    unpin(p);
  }
  m_->xTruncate(cache_, 101);
  for (unsigned k = 1; k <= 20; ++k) EXPECT_FALSE(present(1000 + k)) << k;
  for (unsigned k = 21; k <= 100; ++k) EXPECT_TRUE(present(k)) << k;
}

// The layer under a real database: random index inserts make SQLite balance pages (the swap above) in most
// transactions; commits skip the useless truncation and the database stays intact.
TEST(PageCacheDatabaseTest, RandomIndexInsertsCommitIntactAndSkipTruncations) {
  auto dir = std::filesystem::temp_directory_path() / ("paygate_page_cache_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    Connection c((dir / "t.db").string(), false, 1000);
    c.exec("PRAGMA journal_mode=WAL");
    c.exec("PRAGMA cache_size=-65536");
    c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE)");
    std::mt19937_64 rng(7);
    auto before = page_cache_stats();
    for (int txn = 0; txn < 200; ++txn) {
      c.exec("BEGIN IMMEDIATE");
      for (int i = 0; i < 50; ++i) {
        auto st = c.prepare("INSERT INTO t (k) VALUES (?1)");
        st.bind(1, std::to_string(rng()) + std::string(40, 'x'));
        st.exec();
      }
      c.exec("COMMIT");
    }
    auto after = page_cache_stats();
    EXPECT_GT(after.truncates_skipped, before.truncates_skipped + 100);
    // The case this layer exists for happened: balancing moved a page through the locking page number.
    EXPECT_GT(after.scans_avoided, before.scans_avoided);
    auto check = c.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.step());
    EXPECT_EQ(check.text(0), "ok");
    auto count = c.prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(count.step());
    EXPECT_EQ(count.int64(0), 200 * 50);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace paygate::storage::sqlite
