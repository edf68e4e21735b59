// CatalogCache hands out one shared merchant per cache entry: no copy per request, the same object until the entry
// expires or is invalidated, and a holder's merchant stays whole after that. Against a real SQLite store.
#include "storage/catalog_cache.h"

#include <gtest/gtest.h>

#include "base/clock.h"
#include "storage/testing/store_fixture.h"

namespace paygate::storage {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kTtlMs = 5'000;

class CatalogCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = harness_.open();
    Merchant m;
    m.name = "Cached";
    m.app_key = "app-cached";
    m.sign_key = "sign-key-cached-0123456789";
    m.aes_key = "aes0123456789abc";
    m.created_at_ms = m.updated_at_ms = kStartMs;
    ASSERT_TRUE(store_->write_sync([&](Tx& tx) -> Status {
                        id_ = tx.insert_merchant(m);
                        return ok_status();
                      })
                    .ok());
  }

  testing::SqliteHarness harness_;
  std::unique_ptr<Store> store_;
  ManualClock clock_{kStartMs};
  MerchantId id_{0};
};

TEST_F(CatalogCacheTest, AHitHandsOutTheSameMerchantUntilItsEntryExpires) {
  CatalogCache cache(*store_, clock_, kTtlMs);
  MerchantRef first = cache.merchant(id_);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->sign_key, "sign-key-cached-0123456789");
  EXPECT_EQ(cache.merchant(id_), first);
  EXPECT_EQ(cache.merchant_by_app_key("app-cached")->id, id_);
  EXPECT_EQ(cache.merchant_by_app_key("app-cached"), cache.merchant_by_app_key("app-cached"));

  clock_.advance_ms(kTtlMs);
  MerchantRef reread = cache.merchant(id_);
  ASSERT_NE(reread, nullptr);
  EXPECT_NE(reread, first);  // read again, a new object
  EXPECT_EQ(reread->sign_key, first->sign_key);
}

TEST_F(CatalogCacheTest, UnknownMerchantsAreNullAndNotCached) {
  CatalogCache cache(*store_, clock_, kTtlMs);
  EXPECT_EQ(cache.merchant(MerchantId{id_.value() + 1}), nullptr);
  EXPECT_EQ(cache.merchant_by_app_key("app-unknown"), nullptr);
  Merchant later;
  later.name = "Later";
  later.app_key = "app-unknown";
  later.sign_key = "sign-key-later-0123456789";
  later.aes_key = "aes0123456789xyz";
  ASSERT_TRUE(store_->write_sync([&](Tx& tx) -> Status {
                      tx.insert_merchant(later);
                      return ok_status();
                    })
                  .ok());
  EXPECT_NE(cache.merchant(MerchantId{id_.value() + 1}), nullptr);  // the miss was not remembered
  EXPECT_NE(cache.merchant_by_app_key("app-unknown"), nullptr);
}

TEST_F(CatalogCacheTest, AMerchantHeldAcrossAnInvalidationStaysWhole) {
  CatalogCache cache(*store_, clock_, kTtlMs);
  MerchantRef held = cache.merchant(id_);
  ASSERT_NE(held, nullptr);
  cache.invalidate();
  MerchantRef fresh = cache.merchant(id_);
  EXPECT_NE(fresh, held);
  EXPECT_EQ(held->name, "Cached");
  EXPECT_EQ(held->aes_key, "aes0123456789abc");
}

}  // namespace
}  // namespace paygate::storage
