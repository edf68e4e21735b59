// The Store conformance suite: what every storage engine must do, run against each one in
// testing::conformance_backends() (SQLite and PostgreSQL).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <type_traits>

#include "ledger/ledger.h"
#include "storage/store.h"
#include "storage/testing/store_fixture.h"

namespace paygate::storage {
namespace {

using orders::ConsignOrder;
using orders::ConsignState;
using testing::StoreBackend;
using testing::StoreHarness;
using testing::StoreOptions;

Merchant sample_merchant(const std::string& tag) {
  Merchant m;
  m.name = "Merchant " + tag;
  m.enabled = true;
  m.app_key = "app-" + tag;
  m.sign_key = "sign-key-" + tag + "-0123456789";
  m.aes_key = ("aes" + tag + "0123456789abcdef").substr(0, 16);
  m.keys_version = 1;
  m.created_at_ms = 1'700'000'000'000;
  m.updated_at_ms = 1'700'000'000'000;
  return m;
}

Product sample_product(const std::string& code) {
  Product p;
  p.code = code;
  p.name = "Product " + code;
  p.face_values_yuan = {50, 100, 200};
  p.default_rate = RatePermille{965};
  p.custom_rate_allowed = true;
  p.custom_rate_min = RatePermille{900};
  p.custom_rate_max = RatePermille{980};
  p.enabled = true;
  p.created_at_ms = 1'700'000'000'000;
  return p;
}

ConsignOrder sample_order(MerchantId merchant, const std::string& moid, const std::string& sys, int64_t created_ms,
                          ConsignState state = ConsignState::kProcessing, const std::string& batchno = "B1") {
  ConsignOrder o;
  o.merchant_id = merchant;
  o.sys_order_id = SysOrderId{sys};
  o.merchant_order_id = moid;
  o.batchno = batchno;
  o.product_code = "JD100";
  o.product_type = 0;
  o.card_number = "6222-" + moid;
  o.card_password = "password-" + moid;
  o.card_fingerprint = "fp-" + std::to_string(merchant.value()) + "-" + moid;
  o.se_code = "se-" + moid;
  o.face_money_yuan = 100;
  o.rate = RatePermille{965};
  o.notify_url = "https://merchant.example.com/notify";
  o.custom = "custom-" + moid;
  o.request_fingerprint = "rq-" + moid;
  o.state = state;
  o.message = std::string(orders::state_name(state));
  if (state == ConsignState::kSuccess) {
    o.real_money_yuan = 100;
    o.amount = Money::from_fen(9650);
    o.success_time_s = created_ms / 1000;
  } else if (state == ConsignState::kFailed) {
    o.success_time_s = created_ms / 1000;
  }
  o.process_after_ms = created_ms + 2'000;
  o.created_at_ms = created_ms;
  o.updated_at_ms = created_ms;
  return o;
}

void expect_same_merchant(const Merchant& a, const Merchant& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.app_key, b.app_key);
  EXPECT_EQ(a.sign_key, b.sign_key);
  EXPECT_EQ(a.aes_key, b.aes_key);
  EXPECT_EQ(a.keys_version, b.keys_version);
  EXPECT_EQ(a.payout_fee, b.payout_fee);
  EXPECT_EQ(a.payout_manual_approval, b.payout_manual_approval);
  EXPECT_EQ(a.settlement_delay_days, b.settlement_delay_days);
  EXPECT_EQ(a.bound_card_allowed, b.bound_card_allowed);
  EXPECT_EQ(a.api_ip_allowlist, b.api_ip_allowlist);
  EXPECT_EQ(a.created_at_ms, b.created_at_ms);
  EXPECT_EQ(a.updated_at_ms, b.updated_at_ms);
}

void expect_same_order(const ConsignOrder& a, const ConsignOrder& b) {
  EXPECT_EQ(a.merchant_id, b.merchant_id);
  EXPECT_EQ(a.sys_order_id, b.sys_order_id);
  EXPECT_EQ(a.merchant_order_id, b.merchant_order_id);
  EXPECT_EQ(a.batchno, b.batchno);
  EXPECT_EQ(a.product_code, b.product_code);
  EXPECT_EQ(a.product_type, b.product_type);
  EXPECT_EQ(a.card_number, b.card_number);
  EXPECT_EQ(a.card_password, b.card_password);
  EXPECT_EQ(a.card_fingerprint, b.card_fingerprint);
  EXPECT_EQ(a.se_code, b.se_code);
  EXPECT_EQ(a.face_money_yuan, b.face_money_yuan);
  EXPECT_EQ(a.rate, b.rate);
  EXPECT_EQ(a.notify_url, b.notify_url);
  EXPECT_EQ(a.custom, b.custom);
  EXPECT_EQ(a.request_fingerprint, b.request_fingerprint);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.real_money_yuan, b.real_money_yuan);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.success_time_s, b.success_time_s);
  EXPECT_EQ(a.process_after_ms, b.process_after_ms);
  EXPECT_EQ(a.created_at_ms, b.created_at_ms);
  EXPECT_EQ(a.updated_at_ms, b.updated_at_ms);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> sys_ids(const std::vector<ConsignOrder>& orders) {
  std::vector<std::string> out;
  for (const auto& o : orders) out.push_back(o.sys_order_id.value());
  return out;
}

Notification sample_notification(const std::string& order_ref, int64_t due_ms) {
  Notification n;
  n.merchant_id = MerchantId{10001};
  n.protocol = "consign";
  n.order_ref = order_ref;
  n.url = "https://merchant.example.com/notify";
  n.content_type = "application/x-www-form-urlencoded";
  n.body = "customerId=10001&sysOrderId=" + order_ref + "&sign=ABC";
  n.schedule = "consign";
  n.attempts_max = 3;
  n.next_attempt_at_ms = due_ms;
  n.created_at_ms = due_ms - 10;
  n.updated_at_ms = due_ms - 10;
  return n;
}

std::vector<int64_t> ids_of(const std::vector<Notification>& ns) {
  std::vector<int64_t> out;
  for (const auto& n : ns) out.push_back(n.id.value());
  return out;
}

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
  }

  void TearDown() override { shut(); }

  void shut() {
    if (store_) store_->close();
    store_.reset();
  }

  void reopen(const StoreOptions& options = {}) {
    shut();
    store_ = harness_->open(options);
  }

  // Runs fn in a write transaction and expects it to commit.
  void write(const std::function<void(Tx&)>& fn) {
    auto st = store_->write_sync([&](Tx& tx) {
      fn(tx);
      return ok_status();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  }

  // Runs fn in a write transaction that commits and returns what fn returned.
  template <typename F>
  auto written(F fn) -> std::invoke_result_t<F, Tx&> {
    std::optional<std::invoke_result_t<F, Tx&>> out;
    auto st = store_->write_sync([&](Tx& tx) {
      out.emplace(fn(tx));
      return ok_status();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return std::move(*out);
  }

  // Runs fn in a write transaction that is then rolled back (the closure fails), returning what fn returned.
  template <typename F>
  auto rolled_back(F fn) -> std::invoke_result_t<F, Tx&> {
    std::optional<std::invoke_result_t<F, Tx&>> out;
    auto st = store_->write_sync([&](Tx& tx) -> Status {
      out.emplace(fn(tx));
      return make_error(ErrorCode::kInternal, "roll back");
    });
    EXPECT_FALSE(st.ok());
    return std::move(*out);
  }

  // Two merchants (10001, 10002) and product JD100, enabled for both.
  void seed() {
    write([](Tx& tx) {
      EXPECT_EQ(tx.insert_merchant(sample_merchant("a")), MerchantId{10001});
      EXPECT_EQ(tx.insert_merchant(sample_merchant("b")), MerchantId{10002});
      tx.upsert_product(sample_product("JD100"));
      tx.set_merchant_product(MerchantId{10001}, "JD100", true);
      tx.set_merchant_product(MerchantId{10002}, "JD100", true);
    });
  }

  Status insert(const ConsignOrder& o) {
    return store_->write_sync([&](Tx& tx) { return tx.insert_consign_order(o); });
  }

  // For the group-commit tests: records each commit's batch size, and holds the store's (single) writer with a
  // request that waits for `release`, so that what is submitted next queues up into one batch. Returns once held.
  void hold_writer(testing::Latch& release) {
    store_->set_commit_observer([this](size_t batch_size, int64_t) {
      std::lock_guard lock(batch_mu_);
      batch_sizes_.push_back(batch_size);
    });
    testing::Latch writer_busy(1);
    store_->submit(
        [&writer_busy, &release](Tx&) {
          writer_busy.count_down();
          release.wait();
          return ok_status();
        },
        [](Status) {});
    writer_busy.wait();
  }
  std::vector<size_t> batch_sizes() {
    std::lock_guard lock(batch_mu_);
    return batch_sizes_;
  }
  // Runs fn(0, tx) .. fn(n - 1, tx) as n requests of one group commit (the store must have one writer), in order, and
  // returns each request's outcome.
  std::vector<Status> run_in_one_batch(int n, const std::function<Status(int, Tx&)>& fn) {
    testing::Latch release(1);
    hold_writer(release);
    std::vector<std::optional<Status>> results(static_cast<size_t>(n));
    testing::Latch all_done(n);
    for (int i = 0; i < n; ++i) {
      store_->submit([i, &fn](Tx& tx) { return fn(i, tx); },
                     [i, &results, &all_done](Status st) {
                       results[static_cast<size_t>(i)].emplace(std::move(st));
                       all_done.count_down();
                     });
    }
    release.count_down();
    all_done.wait();
    const auto sizes = batch_sizes();
    EXPECT_FALSE(sizes.empty());
    if (!sizes.empty()) {
      EXPECT_EQ(sizes.back(), static_cast<size_t>(n)) << "the requests should share one transaction";
    }
    std::vector<Status> out;
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
  }

  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<Store> store_;
  std::mutex batch_mu_;
  std::vector<size_t> batch_sizes_;
};

const MerchantId kA{10001};
const MerchantId kB{10002};

// ---------------------------------------------------------------------------------------------------------------
// Merchants

TEST_P(StoreConformance, InsertMerchantAssignsIdsFrom10001) {
  auto [a, b] = written([](Tx& tx) {
    return std::pair{tx.insert_merchant(sample_merchant("a")), tx.insert_merchant(sample_merchant("b"))};
  });
  EXPECT_EQ(a, MerchantId{10001});
  EXPECT_EQ(b, MerchantId{10002});
  auto c = written([](Tx& tx) { return tx.insert_merchant(sample_merchant("c")); });
  EXPECT_EQ(c, MerchantId{10003});
}

TEST_P(StoreConformance, InsertMerchantKeepsAnExplicitId) {
  auto m = sample_merchant("x");
  m.id = MerchantId{42'000};
  EXPECT_EQ(written([&](Tx& tx) { return tx.insert_merchant(m); }), MerchantId{42'000});
  auto got = store_->read()->merchant(MerchantId{42'000});
  ASSERT_TRUE(got.has_value());
  expect_same_merchant(*got, m);
}

TEST_P(StoreConformance, MerchantByIdAndAppKeyRoundTripsEveryFieldIncludingSecrets) {
  seed();
  auto expected = sample_merchant("a");
  expected.id = kA;
  auto tx = store_->read();
  auto by_id = tx->merchant(kA);
  ASSERT_TRUE(by_id.has_value());
  expect_same_merchant(*by_id, expected);
  EXPECT_EQ(by_id->sign_key, "sign-key-a-0123456789");
  EXPECT_EQ(by_id->aes_key.size(), 16u);

  auto by_key = tx->merchant_by_app_key("app-b");
  ASSERT_TRUE(by_key.has_value());
  EXPECT_EQ(by_key->id, kB);
  EXPECT_EQ(by_key->sign_key, "sign-key-b-0123456789");

  EXPECT_FALSE(tx->merchant(MerchantId{99'999}).has_value());
  EXPECT_FALSE(tx->merchant_by_app_key("no-such-key").has_value());
}

TEST_P(StoreConformance, UpdateMerchantChangesEveryMutableField) {
  seed();
  auto m = *store_->read()->merchant(kA);
  m.name = "Renamed";
  m.enabled = false;
  m.app_key = "app-renamed";
  m.sign_key = "rotated-sign-key";
  m.aes_key = "rotatedAESkey016";
  m.keys_version = 2;
  m.updated_at_ms = m.updated_at_ms + 5'000;
  write([&](Tx& tx) { tx.update_merchant(m); });

  auto tx = store_->read();
  auto got = tx->merchant(kA);
  ASSERT_TRUE(got.has_value());
  expect_same_merchant(*got, m);
  EXPECT_FALSE(tx->merchant_by_app_key("app-a").has_value());
  ASSERT_TRUE(tx->merchant_by_app_key("app-renamed").has_value());
  // The other merchant is untouched.
  EXPECT_EQ(tx->merchant(kB)->name, "Merchant b");
  EXPECT_TRUE(tx->merchant(kB)->enabled);
}

TEST_P(StoreConformance, MerchantIpAllowlistRoundTripsAndDefaultsToEmpty) {
  seed();
  EXPECT_TRUE(store_->read()->merchant(kA)->api_ip_allowlist.empty());
  auto m = *store_->read()->merchant(kA);
  m.api_ip_allowlist = {"203.0.113.7", "10.0.0.0/8", "2001:db8::/32"};
  write([&](Tx& tx) { tx.update_merchant(m); });
  {
    auto tx = store_->read();
    EXPECT_EQ(tx->merchant(kA)->api_ip_allowlist, m.api_ip_allowlist);
    EXPECT_EQ(tx->merchant_by_app_key("app-a")->api_ip_allowlist, m.api_ip_allowlist);
    EXPECT_EQ(tx->merchants().front().api_ip_allowlist, m.api_ip_allowlist);
    EXPECT_TRUE(tx->merchant(kB)->api_ip_allowlist.empty());
  }
  // Written on insert too, and cleared by an update with none.
  auto c = sample_merchant("c");
  c.api_ip_allowlist = {"::1"};
  auto id = written([&](Tx& tx) { return tx.insert_merchant(c); });
  EXPECT_EQ(store_->read()->merchant(id)->api_ip_allowlist, std::vector<std::string>{"::1"});
  m.api_ip_allowlist.clear();
  write([&](Tx& tx) { tx.update_merchant(m); });
  EXPECT_TRUE(store_->read()->merchant(kA)->api_ip_allowlist.empty());
}

TEST_P(StoreConformance, MerchantsListsAllInIdOrder) {
  EXPECT_TRUE(store_->read()->merchants().empty());
  seed();
  auto all = store_->read()->merchants();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, kA);
  EXPECT_EQ(all[1].id, kB);
  EXPECT_EQ(all[1].sign_key, "sign-key-b-0123456789");
}

TEST_P(StoreConformance, SecretsAreNotStoredInPlaintext) {
  const std::string sign_key = "SIGNKEY-PLAINTEXT-7f3a9c";
  const std::string aes_key = "AESPLAINTEXT16ch";
  const std::string card_password = "CARDPASSWORD-PLAINTEXT-5521";
  const std::string se_code = "SECODE-PLAINTEXT-889";
  const std::string visible_name = "VisibleMerchantName-123";
  const std::string visible_card = "CARDNUMBER-VISIBLE-777";
  ASSERT_EQ(aes_key.size(), 16u);
  write([&](Tx& tx) {
    auto m = sample_merchant("s");
    m.name = visible_name;
    m.sign_key = sign_key;
    m.aes_key = aes_key;
    auto id = tx.insert_merchant(m);
    tx.upsert_product(sample_product("JD100"));
    auto o = sample_order(id, "O-secret", "CSECRET", 1'000);
    o.card_number = visible_card;
    o.card_password = card_password;
    o.se_code = se_code;
    EXPECT_TRUE(tx.insert_consign_order(o).ok());
  });
  // Secrets come back in the clear through the interface...
  {
    auto tx = store_->read();
    EXPECT_EQ(tx->merchant(kA)->sign_key, sign_key);
    EXPECT_EQ(tx->merchant(kA)->aes_key, aes_key);
    EXPECT_EQ(tx->consign_order_by_sys(SysOrderId{"CSECRET"})->card_password, card_password);
    EXPECT_EQ(tx->consign_order_by_sys(SysOrderId{"CSECRET"})->se_code, se_code);
  }
  shut();
  // ...but never reach the disk that way.
  std::string bytes = harness_->bytes_at_rest();
  ASSERT_FALSE(bytes.empty());
  // Positive controls: non-secret values are found, so the search does look at the data.
  EXPECT_NE(bytes.find(visible_name), std::string::npos);
  EXPECT_NE(bytes.find(visible_card), std::string::npos);
  EXPECT_EQ(bytes.find(sign_key), std::string::npos) << "sign key stored in plaintext";
  EXPECT_EQ(bytes.find(aes_key), std::string::npos) << "AES key stored in plaintext";
  EXPECT_EQ(bytes.find(card_password), std::string::npos) << "card password stored in plaintext";
  EXPECT_EQ(bytes.find(se_code), std::string::npos) << "seCode stored in plaintext";
}

// ---------------------------------------------------------------------------------------------------------------
// Products and merchant enablement

TEST_P(StoreConformance, ProductsRoundTripAndUpsertReplaces) {
  auto jd = sample_product("JD100");
  auto fixed = sample_product("FIXED");
  fixed.face_values_yuan = {10};
  fixed.custom_rate_allowed = false;
  fixed.custom_rate_min = RatePermille{0};
  fixed.custom_rate_max = RatePermille{0};
  fixed.default_rate = RatePermille{950};
  write([&](Tx& tx) {
    tx.upsert_product(jd);
    tx.upsert_product(fixed);
  });
  {
    auto tx = store_->read();
    auto got = tx->product("JD100");
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->code, "JD100");
    EXPECT_EQ(got->name, "Product JD100");
    EXPECT_EQ(got->face_values_yuan, (std::vector<int64_t>{50, 100, 200}));
    EXPECT_EQ(got->default_rate, RatePermille{965});
    EXPECT_TRUE(got->custom_rate_allowed);
    EXPECT_EQ(got->custom_rate_min, RatePermille{900});
    EXPECT_EQ(got->custom_rate_max, RatePermille{980});
    EXPECT_TRUE(got->enabled);
    EXPECT_EQ(got->created_at_ms, 1'700'000'000'000);
    EXPECT_FALSE(tx->product("NOPE").has_value());
    auto all = tx->products();
    std::set<std::string> codes;
    for (const auto& p : all) codes.insert(p.code);
    EXPECT_EQ(codes, (std::set<std::string>{"FIXED", "JD100"}));
  }
  jd.name = "Renamed";
  jd.face_values_yuan = {100, 500};
  jd.default_rate = RatePermille{970};
  jd.enabled = false;
  write([&](Tx& tx) { tx.upsert_product(jd); });
  auto tx = store_->read();
  auto got = tx->product("JD100");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->name, "Renamed");
  EXPECT_EQ(got->face_values_yuan, (std::vector<int64_t>{100, 500}));
  EXPECT_EQ(got->default_rate, RatePermille{970});
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(tx->products().size(), 2u);
  EXPECT_EQ(tx->product("FIXED")->face_values_yuan, (std::vector<int64_t>{10}));
  EXPECT_FALSE(tx->product("FIXED")->custom_rate_allowed);
}

TEST_P(StoreConformance, MerchantProductEnablement) {
  seed();
  write([](Tx& tx) {
    tx.upsert_product(sample_product("ZZZ"));
    tx.upsert_product(sample_product("AAA"));
    tx.set_merchant_product(kA, "ZZZ", true);
    tx.set_merchant_product(kA, "AAA", false);
  });
  {
    auto tx = store_->read();
    EXPECT_TRUE(tx->merchant_product_enabled(kA, "JD100"));
    EXPECT_TRUE(tx->merchant_product_enabled(kA, "ZZZ"));
    EXPECT_FALSE(tx->merchant_product_enabled(kA, "AAA"));
    EXPECT_FALSE(tx->merchant_product_enabled(kB, "ZZZ"));
    EXPECT_FALSE(tx->merchant_product_enabled(kA, "UNKNOWN"));
    EXPECT_EQ(sorted(tx->merchant_products(kA)), (std::vector<std::string>{"JD100", "ZZZ"}));
    EXPECT_EQ(tx->merchant_products(kB), (std::vector<std::string>{"JD100"}));
  }
  write([](Tx& tx) {
    tx.set_merchant_product(kA, "JD100", false);
    tx.set_merchant_product(kA, "AAA", true);
  });
  auto tx = store_->read();
  EXPECT_FALSE(tx->merchant_product_enabled(kA, "JD100"));
  EXPECT_TRUE(tx->merchant_product_enabled(kA, "AAA"));
  EXPECT_EQ(sorted(tx->merchant_products(kA)), (std::vector<std::string>{"AAA", "ZZZ"}));
  EXPECT_TRUE(tx->merchant_product_enabled(kB, "JD100"));
}

// ---------------------------------------------------------------------------------------------------------------
// Consign orders

TEST_P(StoreConformance, InsertConsignOrderRoundTripsEveryField) {
  seed();
  auto o = sample_order(kA, "O-1", "C1", 1'000);
  o.product_type = 2;
  o.rate = RatePermille{955};
  ASSERT_TRUE(insert(o).ok());
  auto no_se = sample_order(kA, "O-2", "C2", 1'000);
  no_se.se_code = "";
  no_se.notify_url = "";
  no_se.custom = "";
  no_se.card_number = "";
  ASSERT_TRUE(insert(no_se).ok());

  auto tx = store_->read();
  auto got = tx->consign_order(kA, "O-1");
  ASSERT_TRUE(got.has_value());
  expect_same_order(*got, o);
  auto got2 = tx->consign_order_by_sys(SysOrderId{"C2"});
  ASSERT_TRUE(got2.has_value());
  expect_same_order(*got2, no_se);
  EXPECT_FALSE(tx->consign_order(kB, "O-1").has_value());
  EXPECT_FALSE(tx->consign_order(kA, "O-3").has_value());
  EXPECT_FALSE(tx->consign_order_by_sys(SysOrderId{"C404"}).has_value());
}

// A card sealed ahead (on the request's thread) is stored as sealed when it was sealed for the order's sys order
// id, and sealed again by the store when it was not: either way it opens.
TEST_P(StoreConformance, InsertConsignOrderTakesACardSealedAheadOnlyForItsOwnSysOrderId) {
  seed();
  auto o = sample_order(kA, "O-1", "C1", 1'000);
  // Sealed for C1, but with other secrets: the stored order shows which bytes the store kept.
  const auto ahead_for_c1 = seal_card(*harness_->box(), SysOrderId{"C1"}, "sealed-ahead-password", "sealed-ahead-se");
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_consign_order(o, ahead_for_c1); }).ok());
  auto o2 = sample_order(kA, "O-2", "C2", 1'000);
  const auto ahead_for_other = seal_card(*harness_->box(), SysOrderId{"C-other"}, o2.card_password, o2.se_code);
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_consign_order(o2, ahead_for_other); }).ok());

  auto tx = store_->read();
  auto got = tx->consign_order_by_sys(SysOrderId{"C1"});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->card_password, "sealed-ahead-password");
  EXPECT_EQ(got->se_code, "sealed-ahead-se");
  auto got2 = tx->consign_order_by_sys(SysOrderId{"C2"});
  ASSERT_TRUE(got2.has_value());
  expect_same_order(*got2, o2);
}

// An identical retry conflicts on every rule at once (its order id, its live card, maybe its sys order id):
// the order id is reported, on which the consign service answers the retry as it did the first time.
TEST_P(StoreConformance, AnOrderConflictingOnEveryRuleIsReportedAsItsOrderId) {
  seed();
  auto first = sample_order(kA, "O-1", "C1", 1'000);
  ASSERT_TRUE(insert(first).ok());
  auto same_card = first;
  same_card.sys_order_id = SysOrderId{"C2"};
  auto st = insert(same_card);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(st.error().message, "duplicate orderId");
  st = insert(first);  // the sys order id too
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "duplicate orderId");
  // Without the order id, the card; without both, the sys order id.
  auto other_id = first;
  other_id.merchant_order_id = "O-2";
  other_id.sys_order_id = SysOrderId{"C3"};
  st = insert(other_id);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "card already submitted");
  auto other_card = sample_order(kA, "O-3", "C1", 3'000);
  other_card.card_fingerprint = "fp-other-card";
  other_card.card_number = "other-number";
  st = insert(other_card);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "sys order id collision");
}

TEST_P(StoreConformance, DuplicateMerchantOrderIdIsAlreadyExists) {
  seed();
  auto first = sample_order(kA, "O-1", "C1", 1'000);
  ASSERT_TRUE(insert(first).ok());
  auto again = sample_order(kA, "O-1", "C2", 2'000);
  again.card_fingerprint = "fp-other-card";
  again.face_money_yuan = 50;
  auto st = insert(again);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(st.error().message.find("duplicate orderId"), std::string::npos) << st.error().message;
  // The first is unchanged and the second left nothing behind.
  auto tx = store_->read();
  expect_same_order(*tx->consign_order(kA, "O-1"), first);
  EXPECT_FALSE(tx->consign_order_by_sys(SysOrderId{"C2"}).has_value());
  // The same merchant order id is fine for another merchant.
  tx.reset();
  EXPECT_TRUE(insert(sample_order(kB, "O-1", "C3", 3'000)).ok());
}

TEST_P(StoreConformance, DuplicateSysOrderIdIsACollision) {
  seed();
  ASSERT_TRUE(insert(sample_order(kA, "O-1", "C1", 1'000)).ok());
  auto st = insert(sample_order(kA, "O-2", "C1", 1'000));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
  // consign::Service::commit_submit retries on exactly this message.
  EXPECT_EQ(st.error().message, "sys order id collision");
  EXPECT_FALSE(store_->read()->consign_order(kA, "O-2").has_value());
}

// One card: product, number and the fingerprint that covers both and the password.
void make_the_card(ConsignOrder& o) {
  o.product_code = "JD100";
  o.card_number = "6222-card";
  o.card_fingerprint = "fp-card";
}

bool card_live(Store& store, const std::string& fingerprint = "fp-card") {
  return store.read()->consign_card_live("JD100", "6222-card", fingerprint);
}

TEST_P(StoreConformance, TheSameCardMayBeLiveOnlyOnce) {
  seed();
  auto first = sample_order(kA, "O-1", "C1", 1'000);
  make_the_card(first);
  ASSERT_TRUE(insert(first).ok());
  EXPECT_TRUE(card_live(*store_));
  EXPECT_FALSE(card_live(*store_, "fp-other"));
  EXPECT_FALSE(store_->read()->consign_card_live("JD50", "6222-card", "fp-card"));
  EXPECT_FALSE(store_->read()->consign_card_live("JD100", "6222-other", "fp-card"));

  // Another merchant order id, even another merchant: the card is what counts.
  for (auto merchant : {kA, kB}) {
    auto second = sample_order(merchant, "O-2", "C2", 2'000);
    make_the_card(second);
    auto st = insert(second);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
    EXPECT_NE(st.error().message.find("card already submitted"), std::string::npos) << st.error().message;
  }

  // Once the first has failed the card may come again.
  auto failed = first;
  failed.state = ConsignState::kFailed;
  failed.message = "card redemption failed";
  failed.success_time_s = 3;
  failed.updated_at_ms = 3'000;
  write([&](Tx& tx) { tx.update_consign_order(failed); });
  EXPECT_FALSE(card_live(*store_));
  auto second = sample_order(kA, "O-2", "C2", 4'000);
  make_the_card(second);
  ASSERT_TRUE(insert(second).ok());
  EXPECT_TRUE(card_live(*store_));

  // A review or a success keeps it live.
  auto review = second;
  review.state = ConsignState::kReview;
  write([&](Tx& tx) { tx.update_consign_order(review); });
  auto third = sample_order(kA, "O-3", "C3", 5'000);
  make_the_card(third);
  EXPECT_EQ(insert(third).error().code, ErrorCode::kAlreadyExists);
  auto success = review;
  success.state = ConsignState::kSuccess;
  success.real_money_yuan = 100;
  success.amount = Money::from_fen(9650);
  write([&](Tx& tx) { tx.update_consign_order(success); });
  EXPECT_TRUE(card_live(*store_));
  auto st = insert(third);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("card already submitted"), std::string::npos);
}

// The same number with another password (another fingerprint), or the same number under another product, is
// another card: the rule is on the fingerprint, which covers all three.
TEST_P(StoreConformance, AnotherPasswordOrProductIsAnotherCard) {
  seed();
  auto first = sample_order(kA, "O-1", "C1", 1'000);
  make_the_card(first);
  ASSERT_TRUE(insert(first).ok());
  auto other_password = sample_order(kA, "O-2", "C2", 2'000);
  make_the_card(other_password);
  other_password.card_fingerprint = "fp-card-other-password";
  EXPECT_TRUE(insert(other_password).ok());
  auto other_product = sample_order(kA, "O-3", "C3", 3'000);
  make_the_card(other_product);
  other_product.product_code = "JD50";
  other_product.card_fingerprint = "fp-card-other-product";
  EXPECT_TRUE(insert(other_product).ok());
  EXPECT_TRUE(card_live(*store_, "fp-card-other-password"));
  EXPECT_TRUE(store_->read()->consign_card_live("JD50", "6222-card", "fp-card-other-product"));
  EXPECT_FALSE(store_->read()->consign_card_live("JD100", "6222-card", "fp-card-other-product"));
}

TEST_P(StoreConformance, UpdateConsignOrderChangesStateFields) {
  seed();
  auto o = sample_order(kA, "O-1", "C1", 1'000);
  ASSERT_TRUE(insert(o).ok());
  auto next = o;
  next.state = ConsignState::kSuccess;
  next.message = "success: card worth 50 yuan";
  next.real_money_yuan = 50;
  next.amount = Money::from_fen(4825);
  next.success_time_s = 1'234;
  next.process_after_ms = 9'999;
  next.updated_at_ms = 1'234'567;
  write([&](Tx& tx) { tx.update_consign_order(next); });
  auto tx = store_->read();
  expect_same_order(*tx->consign_order(kA, "O-1"), next);
  expect_same_order(*tx->consign_order_by_sys(SysOrderId{"C1"}), next);
}

class ConsignOrderListing : public StoreConformance {
 protected:
  // Newest first: a5, a4, b1, a3, a2, a1 (a2 and a3 share created_at_ms; the sys id breaks the tie).
  void SetUp() override {
    StoreConformance::SetUp();
    if (IsSkipped()) return;
    seed();
    for (const auto& o : {sample_order(kA, "a1", "CA1", 1'000, ConsignState::kProcessing, "B1"),
                          sample_order(kA, "a2", "CA2", 2'000, ConsignState::kSuccess, "B1"),
                          sample_order(kA, "a3", "CA3", 2'000, ConsignState::kFailed, "B2"),
                          sample_order(kA, "a4", "CA4", 3'000, ConsignState::kProcessing, "B2"),
                          sample_order(kA, "a5", "CA5", 4'000, ConsignState::kReview, "B1"),
                          sample_order(kB, "b1", "CB1", 2'500, ConsignState::kProcessing, "B1")}) {
      ASSERT_TRUE(insert(o).ok()) << o.sys_order_id.value();
    }
  }

  std::vector<std::string> list(OrderFilter f) { return sys_ids(store_->read()->consign_orders(f)); }

  // Follows the keyset cursor page by page.
  std::vector<std::string> all_pages(OrderFilter f, size_t page, size_t* pages) {
    std::vector<std::string> out;
    f.limit = page;
    *pages = 0;
    for (int guard = 0; guard < 100; ++guard) {
      auto got = store_->read()->consign_orders(f);
      if (got.empty()) break;
      ++*pages;
      EXPECT_LE(got.size(), page);
      for (const auto& o : got) out.push_back(o.sys_order_id.value());
      f.before = std::pair{got.back().created_at_ms, got.back().sys_order_id.value()};
    }
    return out;
  }
};

TEST_P(ConsignOrderListing, NoFilterListsNewestFirst) {
  using V = std::vector<std::string>;
  EXPECT_EQ(list({}), (V{"CA5", "CA4", "CB1", "CA3", "CA2", "CA1"}));
  OrderFilter limited;
  limited.limit = 2;
  EXPECT_EQ(list(limited), (V{"CA5", "CA4"}));
}

TEST_P(ConsignOrderListing, Filters) {
  using V = std::vector<std::string>;
  OrderFilter by_merchant;
  by_merchant.merchant_id = kA;
  EXPECT_EQ(list(by_merchant), (V{"CA5", "CA4", "CA3", "CA2", "CA1"}));
  by_merchant.merchant_id = kB;
  EXPECT_EQ(list(by_merchant), (V{"CB1"}));
  by_merchant.merchant_id = MerchantId{99'999};
  EXPECT_TRUE(list(by_merchant).empty());

  OrderFilter by_state;
  by_state.state = ConsignState::kProcessing;
  EXPECT_EQ(list(by_state), (V{"CA4", "CB1", "CA1"}));
  by_state.state = ConsignState::kFailed;
  EXPECT_EQ(list(by_state), (V{"CA3"}));

  OrderFilter by_batch;
  by_batch.batchno = "B1";
  EXPECT_EQ(list(by_batch), (V{"CA5", "CB1", "CA2", "CA1"}));

  OrderFilter all_three;
  all_three.merchant_id = kA;
  all_three.batchno = "B1";
  all_three.state = ConsignState::kProcessing;
  EXPECT_EQ(list(all_three), (V{"CA1"}));
}

TEST_P(ConsignOrderListing, KeysetPaginationVisitsEveryOrderOnce) {
  using V = std::vector<std::string>;
  size_t pages = 0;
  EXPECT_EQ(all_pages({}, 2, &pages), (V{"CA5", "CA4", "CB1", "CA3", "CA2", "CA1"}));
  EXPECT_EQ(pages, 3u);
  // The page boundary falls between the two orders that share created_at_ms.
  OrderFilter f;
  f.before = std::pair{int64_t{2'000}, std::string("CA3")};
  EXPECT_EQ(list(f), (V{"CA2", "CA1"}));

  OrderFilter mine;
  mine.merchant_id = kA;
  EXPECT_EQ(all_pages(mine, 3, &pages), (V{"CA5", "CA4", "CA3", "CA2", "CA1"}));
  EXPECT_EQ(pages, 2u);
  EXPECT_EQ(all_pages(mine, 1, &pages), (V{"CA5", "CA4", "CA3", "CA2", "CA1"}));
  EXPECT_EQ(pages, 5u);
}

TEST_P(StoreConformance, ConsignOrdersDueAreProcessingOrdersByProcessAfter) {
  seed();
  auto mk = [](const std::string& id, int64_t process_after, ConsignState state) {
    auto o = sample_order(kA, id, "C" + id, 1'000, state);
    o.process_after_ms = process_after;
    return o;
  };
  for (const auto& o : {mk("d1", 300, ConsignState::kProcessing), mk("d2", 100, ConsignState::kProcessing),
                        mk("d3", 200, ConsignState::kProcessing), mk("d4", 50, ConsignState::kReview),
                        mk("d5", 10, ConsignState::kFailed), mk("d6", 150, ConsignState::kSuccess)}) {
    ASSERT_TRUE(insert(o).ok());
  }
  using V = std::vector<std::string>;
  auto tx = store_->read();
  EXPECT_TRUE(tx->consign_orders_due(99, 10).empty());
  EXPECT_EQ(sys_ids(tx->consign_orders_due(100, 10)), (V{"Cd2"}));  // due at exactly process_after_ms
  EXPECT_EQ(sys_ids(tx->consign_orders_due(250, 10)), (V{"Cd2", "Cd3"}));
  EXPECT_EQ(sys_ids(tx->consign_orders_due(1'000, 10)), (V{"Cd2", "Cd3", "Cd1"}));
  EXPECT_EQ(sys_ids(tx->consign_orders_due(1'000, 2)), (V{"Cd2", "Cd3"}));
  EXPECT_EQ(sys_ids(tx->consign_orders_due(1'000, 1)), (V{"Cd2"}));
}

TEST_P(StoreConformance, BatchCounterCountsPerMerchantAndBatch) {
  seed();
  write([](Tx& tx) {
    EXPECT_EQ(tx.consign_batch_add(kA, "X"), 1);
    EXPECT_EQ(tx.consign_batch_add(kA, "X"), 2);
    EXPECT_EQ(tx.consign_batch_add(kA, "X"), 3);
    EXPECT_EQ(tx.consign_batch_add(kA, "Y"), 1);
    EXPECT_EQ(tx.consign_batch_add(kB, "X"), 1);
  });
  // A rolled-back add does not count.
  EXPECT_EQ(rolled_back([](Tx& tx) { return tx.consign_batch_add(kA, "X"); }), 4);
  EXPECT_EQ(written([](Tx& tx) { return tx.consign_batch_add(kA, "X"); }), 4);
  EXPECT_EQ(written([](Tx& tx) { return tx.consign_batch_add(kB, "X"); }), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Ledger

TEST_P(StoreConformance, PostUpdatesBalancesAndRecordsPostings) {
  seed();
  auto entry = ledger::consign_settlement(kA, SysOrderId{"C1"}, Money::from_fen(10'000), Money::from_fen(9'650));
  auto st = written([&](Tx& tx) { return tx.post(entry, 5'000); });
  ASSERT_TRUE(st.ok()) << st.error().message;

  auto tx = store_->read();
  EXPECT_EQ(tx->balance("merchant:10001:available"), Money::from_fen(9'650));
  EXPECT_EQ(tx->balance("platform:revenue"), Money::from_fen(350));
  EXPECT_EQ(tx->balance("platform:consign_clearing"), Money::from_fen(-10'000));
  EXPECT_EQ(tx->balance("merchant:10002:available"), Money{});
  EXPECT_EQ(tx->balance("no:such:account"), Money{});

  auto rows = tx->postings_for_reference("C1");
  ASSERT_EQ(rows.size(), 3u);
  std::map<std::string, int64_t> by_account;
  Money sum;
  for (const auto& r : rows) {
    EXPECT_EQ(r.kind, "consign.settle");
    EXPECT_EQ(r.reference, "C1");
    EXPECT_EQ(r.created_at_ms, 5'000);
    EXPECT_EQ(r.entry_id, rows[0].entry_id);
    by_account[r.account] = r.amount.fen();
    sum = *sum.checked_add(r.amount);
  }
  EXPECT_TRUE(sum.is_zero());
  EXPECT_EQ(by_account, (std::map<std::string, int64_t>{{"merchant:10001:available", 9'650},
                                                       {"platform:consign_clearing", -10'000},
                                                       {"platform:revenue", 350}}));
  EXPECT_TRUE(tx->postings_for_reference("C2").empty());

  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  EXPECT_TRUE(check.problems.empty());
  EXPECT_EQ(check.entries, 1);
  EXPECT_EQ(check.postings, 3);
  EXPECT_EQ(check.accounts, 3);
}

TEST_P(StoreConformance, PostThatWouldMakeANonNegativeAccountNegativeFailsAndChangesNothing) {
  seed();
  auto credit = ledger::consign_settlement(kA, SysOrderId{"C1"}, Money::from_fen(1'000), Money::from_fen(965));
  ASSERT_TRUE(written([&](Tx& tx) { return tx.post(credit, 1'000); }).ok());

  // Take out one fen more than the merchant has. The closure ignores the failure and commits: post() itself must
  // have changed nothing.
  ledger::Entry overdraw{"test.withdraw",
                         "W1",
                         {{ledger::merchant_available(kA), Money::from_fen(-966)},
                          {ledger::consign_clearing(), Money::from_fen(966)}}};
  auto st = written([&](Tx& tx) { return tx.post(overdraw, 2'000); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
  {
    auto tx = store_->read();
    EXPECT_EQ(tx->balance("merchant:10001:available"), Money::from_fen(965));
    EXPECT_EQ(tx->balance("platform:consign_clearing"), Money::from_fen(-1'000));
    EXPECT_TRUE(tx->postings_for_reference("W1").empty());
    auto check = tx->check_ledger();
    EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
    EXPECT_EQ(check.entries, 1);
    EXPECT_EQ(check.postings, 3);
  }
  // An account never seen before may not start negative either (and is not left behind).
  ledger::Entry from_nothing{"test.withdraw",
                             "W2",
                             {{ledger::merchant_available(kB), Money::from_fen(-1)},
                              {ledger::consign_clearing(), Money::from_fen(1)}}};
  EXPECT_EQ(written([&](Tx& tx) { return tx.post(from_nothing, 3'000); }).error().code,
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->read()->check_ledger().accounts, 3);
  EXPECT_EQ(store_->read()->balance("platform:consign_clearing"), Money::from_fen(-1'000));
}

// A debit that the balance covers succeeds (what a payout or a reversal posts).
// Regression: an upsert (INSERT ... ON CONFLICT DO UPDATE balance = balance + excluded) had SQLite check the
// CHECK constraint on the candidate row, i.e. the posting alone, so every debit of a non-negative account failed.
TEST_P(StoreConformance, DebitWithinTheBalanceSucceeds) {
  seed();
  auto credit = ledger::consign_settlement(kA, SysOrderId{"C1"}, Money::from_fen(1'000), Money::from_fen(965));
  ASSERT_TRUE(written([&](Tx& tx) { return tx.post(credit, 1'000); }).ok());
  ledger::Entry part{"test.withdraw",
                     "W1",
                     {{ledger::merchant_available(kA), Money::from_fen(-500)},
                      {ledger::consign_clearing(), Money::from_fen(500)}}};
  ASSERT_TRUE(written([&](Tx& tx) { return tx.post(part, 2'000); }).ok());
  EXPECT_EQ(store_->read()->balance("merchant:10001:available"), Money::from_fen(465));
  // Exactly the rest is fine too and leaves zero.
  ledger::Entry all_of_it{"test.withdraw",
                          "W2",
                          {{ledger::merchant_available(kA), Money::from_fen(-465)},
                           {ledger::consign_clearing(), Money::from_fen(465)}}};
  ASSERT_TRUE(written([&](Tx& tx) { return tx.post(all_of_it, 3'000); }).ok());
  auto tx = store_->read();
  EXPECT_EQ(tx->balance("merchant:10001:available"), Money{});
  EXPECT_EQ(tx->balance("platform:consign_clearing"), Money::from_fen(-35));
  EXPECT_EQ(tx->postings_for_reference("W2").size(), 2u);
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  EXPECT_EQ(check.entries, 3);
}

TEST_P(StoreConformance, LedgerEntriesAndBalancesSumToZero) {
  seed();
  std::vector<std::string> refs;
  write([&](Tx& tx) {
    for (int i = 1; i <= 20; ++i) {
      std::string ref = "C" + std::to_string(i);
      refs.push_back(ref);
      MerchantId m = i % 2 ? kA : kB;
      Money real = Money::from_fen(100 * i);
      Money amount = apply_rate_half_up(real, RatePermille{900 + 5 * i});
      EXPECT_TRUE(tx.post(ledger::consign_settlement(m, SysOrderId{ref}, real, amount), i).ok());
    }
  });
  auto tx = store_->read();
  int64_t entries_seen = 0;
  for (const auto& ref : refs) {
    Money sum;
    auto rows = tx->postings_for_reference(ref);
    EXPECT_GE(rows.size(), 2u) << ref;
    for (const auto& r : rows) sum = *sum.checked_add(r.amount);
    EXPECT_TRUE(sum.is_zero()) << ref;
    ++entries_seen;
  }
  Money balances;
  for (const char* account : {"merchant:10001:available", "merchant:10002:available", "platform:revenue",
                              "platform:consign_clearing"}) {
    balances = *balances.checked_add(tx->balance(account));
  }
  EXPECT_TRUE(balances.is_zero());
  EXPECT_EQ(tx->balance("platform:consign_clearing"), Money::from_fen(-100 * 210));
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  EXPECT_EQ(check.entries, entries_seen);
  EXPECT_EQ(check.accounts, 4);
}

TEST_P(StoreConformance, CheckLedgerOnAnEmptyStore) {
  auto check = store_->read()->check_ledger();
  EXPECT_TRUE(check.ok);
  EXPECT_EQ(check.entries, 0);
  EXPECT_EQ(check.postings, 0);
  EXPECT_EQ(check.accounts, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Notification outbox

TEST_P(StoreConformance, EnqueueNotificationRoundTrips) {
  auto n = sample_notification("C1", 1'000);
  auto id = written([&](Tx& tx) { return tx.enqueue_notification(n); });
  auto id2 = written([&](Tx& tx) { return tx.enqueue_notification(sample_notification("C1", 2'000)); });
  EXPECT_NE(id, id2);
  auto tx = store_->read();
  auto got = tx->notification(id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, id);
  EXPECT_EQ(got->merchant_id, n.merchant_id);
  EXPECT_EQ(got->protocol, "consign");
  EXPECT_EQ(got->order_ref, "C1");
  EXPECT_EQ(got->url, n.url);
  EXPECT_EQ(got->content_type, n.content_type);
  EXPECT_EQ(got->body, n.body);
  EXPECT_EQ(got->schedule, "consign");
  EXPECT_EQ(got->attempts_made, 0);
  EXPECT_EQ(got->attempts_max, 3);
  EXPECT_EQ(got->state, NotificationState::kPending);
  EXPECT_EQ(got->next_attempt_at_ms, 1'000);
  EXPECT_EQ(got->claimed_until_ms, 0);
  EXPECT_EQ(got->created_at_ms, n.created_at_ms);
  EXPECT_FALSE(tx->notification(NotificationId{id.value() + id2.value() + 100}).has_value());
  EXPECT_EQ(ids_of(tx->notifications_for_order("C1")), (std::vector<int64_t>{id.value(), id2.value()}));
  EXPECT_TRUE(tx->notifications_for_order("C2").empty());
  EXPECT_EQ(tx->pending_notifications(), 2);
}

TEST_P(StoreConformance, ClaimRespectsDueTimeAndLease) {
  auto id = written([&](Tx& tx) { return tx.enqueue_notification(sample_notification("C1", 1'000)); });
  auto claim = [&](int64_t now) {
    return ids_of(written([&](Tx& tx) { return tx.claim_due_notifications(now, 5'000, 10, {}); }));
  };
  using V = std::vector<int64_t>;
  EXPECT_EQ(claim(999), V{}) << "not due yet";
  auto first = written([&](Tx& tx) { return tx.claim_due_notifications(1'000, 5'000, 10, {}); });
  ASSERT_EQ(ids_of(first), V{id.value()});
  EXPECT_EQ(first[0].claimed_until_ms, 6'000);
  EXPECT_EQ(first[0].body, sample_notification("C1", 1'000).body);
  EXPECT_EQ(store_->read()->notification(id)->claimed_until_ms, 6'000);
  // Claimed: nobody gets it again while the lease runs.
  EXPECT_EQ(claim(1'000), V{});
  EXPECT_EQ(claim(5'999), V{});
  // The lease ran out (the claimer died): it is due again.
  EXPECT_EQ(claim(6'000), V{id.value()});
  EXPECT_EQ(store_->read()->notification(id)->claimed_until_ms, 11'000);
  EXPECT_EQ(claim(10'999), V{});
  EXPECT_EQ(store_->read()->pending_notifications(), 1);
}

TEST_P(StoreConformance, ClaimHonorsLimitAndDueOrderAndSkipsFinished) {
  std::vector<NotificationId> ids;
  write([&](Tx& tx) {
    ids.push_back(tx.enqueue_notification(sample_notification("C3", 300)));
    ids.push_back(tx.enqueue_notification(sample_notification("C1", 100)));
    ids.push_back(tx.enqueue_notification(sample_notification("C2", 200)));
    ids.push_back(tx.enqueue_notification(sample_notification("C4", 50)));
    ids.push_back(tx.enqueue_notification(sample_notification("C5", 60)));
  });
  // C4 delivered, C5 failed: neither is claimed again.
  write([&](Tx& tx) {
    auto delivered = *tx.notification(ids[3]);
    delivered.state = NotificationState::kDelivered;
    delivered.attempts_made = 1;
    tx.update_notification(delivered);
    auto failed = *tx.notification(ids[4]);
    failed.state = NotificationState::kFailed;
    failed.attempts_made = 3;
    tx.update_notification(failed);
  });
  using V = std::vector<int64_t>;
  EXPECT_EQ(ids_of(written([](Tx& tx) { return tx.claim_due_notifications(1'000, 5'000, 2, {}); })),
            (V{ids[1].value(), ids[2].value()}));
  EXPECT_EQ(ids_of(written([](Tx& tx) { return tx.claim_due_notifications(1'000, 5'000, 2, {}); })),
            (V{ids[0].value()}));
  EXPECT_EQ(ids_of(written([](Tx& tx) { return tx.claim_due_notifications(1'000, 5'000, 2, {}); })), V{});
  EXPECT_EQ(store_->read()->pending_notifications(), 3);
}

TEST_P(StoreConformance, RecordAttemptAndUpdateNotification) {
  auto id = written([&](Tx& tx) { return tx.enqueue_notification(sample_notification("C1", 1'000)); });
  NotificationAttempt a1{id, 1, 1'000, 35, 500, "HTTP 500", "internal error", false};
  NotificationAttempt a2{id, 2, 11'000, 12, 200, "", "success", true};
  write([&](Tx& tx) {
    tx.claim_due_notifications(1'000, 5'000, 10, {});
    tx.record_attempt(a1);
    auto n = *tx.notification(id);
    n.attempts_made = 1;
    n.claimed_until_ms = 0;
    n.next_attempt_at_ms = 11'000;
    n.updated_at_ms = 1'035;
    tx.update_notification(n);
  });
  {
    auto tx = store_->read();
    auto n = tx->notification(id);
    EXPECT_EQ(n->attempts_made, 1);
    EXPECT_EQ(n->state, NotificationState::kPending);
    EXPECT_EQ(n->next_attempt_at_ms, 11'000);
    EXPECT_EQ(n->claimed_until_ms, 0);
    EXPECT_EQ(n->updated_at_ms, 1'035);
    EXPECT_EQ(tx->pending_notifications(), 1);
    EXPECT_EQ(tx->next_notification_due_ms(), std::optional<int64_t>{11'000});
  }
  EXPECT_TRUE(written([](Tx& tx) { return tx.claim_due_notifications(10'999, 5'000, 10, {}); }).empty());
  write([&](Tx& tx) {
    ASSERT_EQ(tx.claim_due_notifications(11'000, 5'000, 10, {}).size(), 1u);
    tx.record_attempt(a2);
    auto n = *tx.notification(id);
    n.attempts_made = 2;
    n.state = NotificationState::kDelivered;
    n.claimed_until_ms = 0;
    n.updated_at_ms = 11'012;
    tx.update_notification(n);
  });
  auto tx = store_->read();
  auto attempts = tx->attempts(id);
  ASSERT_EQ(attempts.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& want = i == 0 ? a1 : a2;
    EXPECT_EQ(attempts[i].notification_id, id);
    EXPECT_EQ(attempts[i].attempt_no, want.attempt_no);
    EXPECT_EQ(attempts[i].started_at_ms, want.started_at_ms);
    EXPECT_EQ(attempts[i].latency_ms, want.latency_ms);
    EXPECT_EQ(attempts[i].http_status, want.http_status);
    EXPECT_EQ(attempts[i].error, want.error);
    EXPECT_EQ(attempts[i].body_excerpt, want.body_excerpt);
    EXPECT_EQ(attempts[i].delivered, want.delivered);
  }
  EXPECT_EQ(tx->notification(id)->state, NotificationState::kDelivered);
  EXPECT_EQ(tx->notification(id)->attempts_made, 2);
  EXPECT_EQ(tx->pending_notifications(), 0);
  EXPECT_FALSE(tx->next_notification_due_ms().has_value());
  EXPECT_TRUE(tx->attempts(NotificationId{id.value() + 1}).empty());
}

TEST_P(StoreConformance, NextNotificationDueAndPendingCount) {
  EXPECT_FALSE(store_->read()->next_notification_due_ms().has_value());
  EXPECT_EQ(store_->read()->pending_notifications(), 0);
  NotificationId early, late;
  write([&](Tx& tx) {
    late = tx.enqueue_notification(sample_notification("C2", 2'000));
    early = tx.enqueue_notification(sample_notification("C1", 1'000));
  });
  EXPECT_NE(early, late);
  EXPECT_EQ(store_->read()->next_notification_due_ms(), std::optional<int64_t>{1'000});
  EXPECT_EQ(store_->read()->pending_notifications(), 2);
  // While claimed, a notification is next due when its lease runs out (what the dispatcher sleeps until).
  ASSERT_EQ(written([](Tx& tx) { return tx.claim_due_notifications(1'000, 5'000, 1, {}); }).size(), 1u);
  EXPECT_EQ(store_->read()->next_notification_due_ms(), std::optional<int64_t>{2'000});
  ASSERT_EQ(written([](Tx& tx) { return tx.claim_due_notifications(2'000, 500, 1, {}); }).size(), 1u);
  EXPECT_EQ(store_->read()->next_notification_due_ms(), std::optional<int64_t>{2'500});
  EXPECT_EQ(store_->read()->pending_notifications(), 2);
  write([&](Tx& tx) {
    auto n = *tx.notification(late);
    n.state = NotificationState::kFailed;
    tx.update_notification(n);
  });
  EXPECT_EQ(store_->read()->next_notification_due_ms(), std::optional<int64_t>{6'000});
  EXPECT_EQ(store_->read()->pending_notifications(), 1);
}

// The dispatcher passes the merchants at their in-flight share: their due notifications wait, everyone else's
// are claimed in due order.
TEST_P(StoreConformance, ClaimSkipsTheGivenMerchants) {
  std::vector<NotificationId> ids;
  write([&](Tx& tx) {
    for (int64_t m : {10001, 10002, 10003, 10001, 10002}) {
      Notification n = sample_notification("C" + std::to_string(ids.size()), 100 + static_cast<int64_t>(ids.size()));
      n.merchant_id = MerchantId{m};
      ids.push_back(tx.enqueue_notification(n));
    }
  });
  using V = std::vector<int64_t>;
  auto claim = [&](std::vector<MerchantId> skip, size_t limit) {
    return ids_of(written([&](Tx& tx) { return tx.claim_due_notifications(1'000, 5'000, limit, skip); }));
  };
  EXPECT_EQ(claim({MerchantId{10001}, MerchantId{10003}}, 10), (V{ids[1].value(), ids[4].value()}));
  EXPECT_EQ(claim({MerchantId{10001}}, 10), V{ids[2].value()});
  EXPECT_EQ(claim({MerchantId{10001}, MerchantId{10002}, MerchantId{10003}}, 10), V{});
  EXPECT_EQ(claim({MerchantId{99999}}, 1), V{ids[0].value()});
  EXPECT_EQ(claim({}, 10), V{ids[3].value()});
}

TEST_P(StoreConformance, ReleaseNotificationClaimsClearsEveryPendingClaim) {
  NotificationId a, b, done;
  write([&](Tx& tx) {
    a = tx.enqueue_notification(sample_notification("C1", 1'000));
    b = tx.enqueue_notification(sample_notification("C2", 1'000));
    done = tx.enqueue_notification(sample_notification("C3", 1'000));
  });
  ASSERT_EQ(written([](Tx& tx) { return tx.claim_due_notifications(1'000, 60'000, 10, {}); }).size(), 3u);
  write([&](Tx& tx) {
    auto n = *tx.notification(done);
    n.state = NotificationState::kDelivered;
    tx.update_notification(n);  // keeps its claim: only pending rows are released
  });
  EXPECT_EQ(written([](Tx& tx) { return tx.release_notification_claims(); }), 2);
  auto tx = store_->read();
  EXPECT_EQ(tx->notification(a)->claimed_until_ms, 0);
  EXPECT_EQ(tx->notification(b)->claimed_until_ms, 0);
  EXPECT_EQ(tx->notification(done)->claimed_until_ms, 61'000);
  EXPECT_EQ(tx->next_notification_due_ms(), std::optional<int64_t>{1'000});
  tx.reset();
  EXPECT_EQ(written([](Tx& tx) { return tx.release_notification_claims(); }), 0);
  EXPECT_EQ(written([](Tx& tx) { return tx.claim_due_notifications(1'000, 60'000, 10, {}); }).size(), 2u);
}

// ---------------------------------------------------------------------------------------------------------------
// Write semantics

TEST_P(StoreConformance, WriteSyncReturnsTheClosuresStatus) {
  auto ok = store_->write_sync([](Tx&) { return ok_status(); });
  EXPECT_TRUE(ok.ok());
  auto err = store_->write_sync([](Tx&) -> Status { return make_error(ErrorCode::kNotFound, "no such thing"); });
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(err.error().message, "no such thing");
  EXPECT_TRUE(store_->probe_writable().ok());
}

TEST_P(StoreConformance, AFailingClosureRollsBackOnlyItsOwnChanges) {
  seed();
  auto st = store_->write_sync([](Tx& tx) -> Status {
    tx.enqueue_notification(sample_notification("C-fail", 1'000));
    tx.consign_batch_add(kA, "rolled");
    EXPECT_TRUE(tx.insert_consign_order(sample_order(kA, "O-fail", "C-fail", 1'000)).ok());
    EXPECT_TRUE(tx.post(ledger::consign_settlement(kA, SysOrderId{"C-fail"}, Money::from_fen(100), Money::from_fen(90)),
                        1'000)
                    .ok());
    return make_error(ErrorCode::kFailedPrecondition, "changed my mind");
  });
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
  auto tx = store_->read();
  EXPECT_TRUE(tx->notifications_for_order("C-fail").empty());
  EXPECT_FALSE(tx->consign_order(kA, "O-fail").has_value());
  EXPECT_FALSE(tx->consign_card_live("JD100", "6222-O-fail", "fp-10001-O-fail"));
  EXPECT_TRUE(tx->postings_for_reference("C-fail").empty());
  EXPECT_EQ(tx->balance("merchant:10001:available"), Money{});
  EXPECT_EQ(tx->check_ledger().entries, 0);
  tx.reset();
  EXPECT_EQ(written([](Tx& tx) { return tx.consign_batch_add(kA, "rolled"); }), 1);
}

TEST_P(StoreConformance, StorageFailureInAClosureIsUnavailableAndRollsBack) {
  auto st = store_->write_sync([](Tx& tx) -> Status {
    tx.enqueue_notification(sample_notification("C-throw", 1'000));
    throw StorageFailure("disk on fire (injected)");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(store_->read()->notifications_for_order("C-throw").empty());
  // The store keeps working.
  EXPECT_TRUE(store_->write_sync([](Tx& tx) {
                      tx.enqueue_notification(sample_notification("C-after", 1'000));
                      return ok_status();
                    })
                  .ok());
  EXPECT_EQ(store_->read()->notifications_for_order("C-after").size(), 1u);
}

// Many requests from many threads land in the same group-commit transaction: each one's failure (an error Result
// or a StorageFailure) undoes only its own changes, every `done` runs exactly once, and after the commit.
TEST_P(StoreConformance, ConcurrentSubmitsInOneBatchAreIsolated) {
  reopen(StoreOptions{.writers = 1});  // one writer, held below, so that the requests queue up into one batch
  seed();
  testing::Latch release(1);
  hold_writer(release);

  constexpr int kThreads = 8;
  constexpr int kPerThread = 30;
  constexpr int kTotal = kThreads * kPerThread;
  std::vector<std::atomic<int>> done_calls(kTotal);
  std::vector<std::optional<Status>> results(kTotal);
  std::vector<char> visible_in_done(kTotal, 0);
  testing::Latch all_done(kTotal);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        int i = t * kPerThread + k;
        std::string ref = "R" + std::to_string(i);
        store_->submit(
            [i, ref](Tx& tx) -> Status {
              tx.enqueue_notification(sample_notification(ref, 1'000));
              tx.consign_batch_add(kA, ref);
              if (i % 3 == 1) return make_error(ErrorCode::kInvalidArgument, "rejected " + ref);
              if (i % 3 == 2) throw StorageFailure("injected failure " + ref);
              return ok_status();
            },
            [&, i, ref](Status st) {
              if (++done_calls[i] == 1) {
                // `done` comes after the commit: a fresh snapshot already sees the write.
                if (st.ok()) visible_in_done[i] = store_->read()->notifications_for_order(ref).size() == 1;
                results[i].emplace(std::move(st));
                all_done.count_down();
              }
            });
      }
    });
  }
  for (auto& th : threads) th.join();
  release.count_down();
  all_done.wait();
  store_->close();  // every `done` has run; any second call would have happened by now

  for (int i = 0; i < kTotal; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    EXPECT_EQ(done_calls[i].load(), 1);
    ASSERT_TRUE(results[i].has_value());
    const Status& st = *results[i];
    switch (i % 3) {
      case 0:
        EXPECT_TRUE(st.ok());
        EXPECT_TRUE(visible_in_done[i]);
        break;
      case 1:
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(st.error().message, "rejected R" + std::to_string(i));
        break;
      case 2:
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
        break;
    }
  }
  const auto sizes = batch_sizes();
  ASSERT_FALSE(sizes.empty());
  EXPECT_GT(*std::max_element(sizes.begin(), sizes.end()), 1u) << "the queued requests should have shared a transaction";

  reopen();
  auto tx = store_->read();
  EXPECT_EQ(tx->pending_notifications(), kTotal / 3);
  for (int i = 0; i < kTotal; ++i) {
    std::string ref = "R" + std::to_string(i);
    EXPECT_EQ(tx->notifications_for_order(ref).size(), i % 3 == 0 ? 1u : 0u) << ref;
  }
  tx.reset();
  write([&](Tx& tx) {
    for (int i = 0; i < kTotal; ++i) {
      EXPECT_EQ(tx.consign_batch_add(kA, "R" + std::to_string(i)), i % 3 == 0 ? 2 : 1) << i;
    }
  });
}

// A batch's card count is kept in memory for the transaction on both engines: within one group commit, each request
// sees the count with every earlier surviving request's card, a request rolled back (an error or a storage
// failure) takes its card back, and the commit stores the survivors' total.
TEST_P(StoreConformance, BatchCountsInOneTransactionFollowEachRequestsFate) {
  reopen(StoreOptions{.writers = 1});  // one writer, held below, so that the requests queue up into one batch
  seed();
  write([](Tx& tx) { EXPECT_EQ(tx.consign_batch_add(kA, "HOT"), 1); });

  constexpr int kRequests = 6;
  std::vector<int64_t> seen(kRequests, 0);
  const auto results = run_in_one_batch(kRequests, [&seen](int i, Tx& tx) -> Status {
    seen[static_cast<size_t>(i)] = tx.consign_batch_add(kA, "HOT");
    if (i == 1) tx.consign_batch_add(kA, "COLD");  // rolled back with it: COLD never counts
    if (i == 1 || i == 4) return make_error(ErrorCode::kFailedPrecondition, "rejected");
    if (i == 2) throw StorageFailure("injected");
    return ok_status();
  });
  // 1 stored; request 0 adds (2); 1 adds (3) and is rolled back; 2 adds (3) and fails; 3 adds (3); 4 adds (4) and
  // is rolled back; 5 adds (4).
  EXPECT_EQ(seen, (std::vector<int64_t>{2, 3, 3, 3, 4, 4}));
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(results[static_cast<size_t>(i)].ok(), i == 0 || i == 3 || i == 5) << i;
  EXPECT_EQ(written([](Tx& tx) { return tx.consign_batch_add(kA, "HOT"); }), 5);
  EXPECT_EQ(written([](Tx& tx) { return tx.consign_batch_add(kA, "COLD"); }), 1);
}

// Balance moves within one group commit follow each request's fate on both engines (SQLite holds them in memory
// until the commit, sqlite_tx.h): each request sees the balances left by every earlier surviving request, a refusal
// is judged against them, a request rolled back (an error or a storage failure) takes its moves back, including an
// account it created, and the commit stores the survivors' sums.
TEST_P(StoreConformance, BalancesInOneTransactionFollowEachRequestsFate) {
  reopen(StoreOptions{.writers = 1});  // one writer, held by run_in_one_batch, so that the requests share a batch
  seed();
  auto move = [](std::string ref, MerchantId merchant, int64_t fen) {
    return ledger::Entry{"test.move",
                         std::move(ref),
                         {{ledger::merchant_available(merchant), Money::from_fen(fen)},
                          {ledger::consign_clearing(), Money::from_fen(-fen)}}};
  };
  ASSERT_TRUE(written([&](Tx& tx) { return tx.post(move("FUND", kA, 1'000), 1'000); }).ok());

  constexpr int kRequests = 7;
  constexpr std::array<int64_t, kRequests> kDebitFen{300, 300, 300, 500, 201, 200, 1};
  std::vector<int64_t> seen_fen(kRequests, -1);  // merchant A's available balance after the request's own moves
  const auto results = run_in_one_batch(kRequests, [&](int i, Tx& tx) -> Status {
    const std::string ref = "R" + std::to_string(i);
    Status st = tx.post(move(ref, kA, -kDebitFen[static_cast<size_t>(i)]), 2'000);
    seen_fen[static_cast<size_t>(i)] = tx.balance(ledger::merchant_available(kA).code).fen();
    if (!st.ok()) return st;
    if (i == 1) {
      // Creates merchant B's account, reads it back, moves it again, and is rolled back with all of it.
      PG_TRY(tx.post(move(ref + "b", kB, 70), 2'000));
      if (tx.balance(ledger::merchant_available(kB).code) != Money::from_fen(70)) {
        return make_error(ErrorCode::kInternal, "B's new account reads wrong");
      }
      PG_TRY(tx.post(move(ref + "c", kB, 5), 2'000));
      return make_error(ErrorCode::kFailedPrecondition, "rejected");
    }
    if (i == 2) throw StorageFailure("injected");
    if (i == 3) return tx.post(move(ref + "b", kB, 40), 2'000);  // B created again, by a survivor
    return ok_status();
  });
  // 1000 stored; 0 takes 300 (700); 1 takes 300 (400) and is rolled back; 2 takes 300 (400) and fails; 3 takes 500
  // (200); 4 asks for 201 and is refused (200); 5 takes 200 (0); 6 asks for 1 and is refused (0).
  EXPECT_EQ(seen_fen, (std::vector<int64_t>{700, 400, 400, 200, 200, 0, 0}));
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(results[static_cast<size_t>(i)].ok(), i == 0 || i == 3 || i == 5) << i;
  EXPECT_EQ(results[1].error().message, "rejected");
  EXPECT_EQ(results[4].error().code, ErrorCode::kFailedPrecondition);
  auto tx = store_->read();
  EXPECT_EQ(tx->balance(ledger::merchant_available(kA).code), Money{});
  EXPECT_EQ(tx->balance(ledger::merchant_available(kB).code), Money::from_fen(40));
  EXPECT_EQ(tx->balance(ledger::consign_clearing().code), Money::from_fen(-40));
  EXPECT_TRUE(tx->postings_for_reference("R1").empty());
  EXPECT_TRUE(tx->postings_for_reference("R1b").empty());
  EXPECT_TRUE(tx->postings_for_reference("R4").empty());
  EXPECT_EQ(tx->postings_for_reference("R5").size(), 2u);
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  EXPECT_EQ(check.entries, 5);  // FUND, R0, R3, R3b, R5
  EXPECT_EQ(check.accounts, 3);
}

TEST_P(StoreConformance, ReadSnapshotsSeeCommittedDataAndStayStable) {
  seed();
  auto snapshot = store_->read();
  ASSERT_EQ(snapshot->merchants().size(), 2u);  // the snapshot starts here
  write([](Tx& tx) { tx.insert_merchant(sample_merchant("c")); });
  // A read started after the commit sees it at once...
  EXPECT_EQ(store_->read()->merchants().size(), 3u);
  EXPECT_TRUE(store_->read()->merchant_by_app_key("app-c").has_value());
  // ...the older snapshot does not.
  EXPECT_EQ(snapshot->merchants().size(), 2u);
  EXPECT_FALSE(snapshot->merchant_by_app_key("app-c").has_value());
  snapshot.reset();
  EXPECT_EQ(store_->read()->merchants().size(), 3u);
}

TEST_P(StoreConformance, DataSurvivesCloseAndReopen) {
  seed();
  auto order = sample_order(kA, "O-1", "C1", 1'000);
  NotificationId nid;
  write([&](Tx& tx) {
    EXPECT_TRUE(tx.insert_consign_order(order).ok());
    EXPECT_TRUE(tx.post(ledger::consign_settlement(kA, SysOrderId{"C1"}, Money::from_fen(10'000),
                                                   Money::from_fen(9'650)),
                        2'000)
                    .ok());
    nid = tx.enqueue_notification(sample_notification("C1", 2'000));
    tx.consign_batch_add(kA, "B1");
  });
  reopen();
  {
    auto tx = store_->read();
    auto expected = sample_merchant("a");
    expected.id = kA;
    expect_same_merchant(*tx->merchant(kA), expected);
    EXPECT_EQ(tx->product("JD100")->face_values_yuan, (std::vector<int64_t>{50, 100, 200}));
    EXPECT_TRUE(tx->merchant_product_enabled(kA, "JD100"));
    auto got = tx->consign_order(kA, "O-1");
    ASSERT_TRUE(got.has_value());
    expect_same_order(*got, order);
    EXPECT_TRUE(tx->consign_card_live(order.product_code, order.card_number, order.card_fingerprint));
    EXPECT_EQ(tx->balance("merchant:10001:available"), Money::from_fen(9'650));
    EXPECT_TRUE(tx->check_ledger().ok);
    EXPECT_EQ(tx->notification(nid)->order_ref, "C1");
    EXPECT_EQ(tx->pending_notifications(), 1);
  }
  EXPECT_EQ(written([](Tx& tx) { return tx.consign_batch_add(kA, "B1"); }), 2);
  EXPECT_EQ(written([](Tx& tx) { return tx.insert_merchant(sample_merchant("c")); }), MerchantId{10003});
  // A second reopen on top of the first changes nothing either.
  reopen();
  EXPECT_EQ(store_->read()->merchants().size(), 3u);
}

TEST_P(StoreConformance, CloseDrainsQueuedWritesAndLaterSubmitsAreUnavailable) {
  testing::Latch writer_busy(1), release(1);
  store_->submit(
      [&](Tx&) {
        writer_busy.count_down();
        release.wait();
        return ok_status();
      },
      [](Status) {});
  writer_busy.wait();
  constexpr int kQueued = 10;
  std::vector<std::optional<Status>> results(kQueued);
  for (int i = 0; i < kQueued; ++i) {
    store_->submit(
        [i](Tx& tx) {
          tx.enqueue_notification(sample_notification("Q" + std::to_string(i), 1'000));
          return ok_status();
        },
        [&results, i](Status st) { results[i].emplace(std::move(st)); });
  }
  std::thread closer([&] { store_->close(); });
  release.count_down();
  closer.join();
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_TRUE(results[i].has_value()) << i;
    EXPECT_TRUE(results[i]->ok()) << i;
  }
  std::optional<Status> late;
  store_->submit([](Tx&) { return ok_status(); }, [&](Status st) { late.emplace(std::move(st)); });
  ASSERT_TRUE(late.has_value()) << "done must run at once when the store is closed";
  EXPECT_EQ(late->error().code, ErrorCode::kUnavailable);
  reopen();
  EXPECT_EQ(store_->read()->pending_notifications(), kQueued);
}

TEST_P(StoreConformance, WithoutGroupCommitEveryRequestCommitsAlone) {
  reopen(StoreOptions{.group_commit = false});
  seed();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::atomic<int> ok_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        std::string ref = "G" + std::to_string(t) + "-" + std::to_string(k);
        auto st = store_->write_sync([&](Tx& tx) -> Status {
          tx.enqueue_notification(sample_notification(ref, 1'000));
          if (k == 0) return make_error(ErrorCode::kInvalidArgument, "first of each thread fails");
          return ok_status();
        });
        if (st.ok()) ++ok_count;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok_count.load(), kThreads * (kPerThread - 1));
  EXPECT_EQ(store_->read()->pending_notifications(), kThreads * (kPerThread - 1));
  auto stats = store_->stats();
  EXPECT_EQ(stats.commits, stats.committed_requests);
  EXPECT_GE(stats.committed_requests, 1u + kThreads * (kPerThread - 1));  // + seed()
}

TEST_P(StoreConformance, AFullQueueRejectsAtOnceWithResourceExhausted) {
  constexpr size_t kDepth = 4;
  reopen(StoreOptions{.queue_depth_max = kDepth, .writers = 1});
  testing::Latch writer_busy(1), release(1);
  store_->submit(
      [&](Tx&) {
        writer_busy.count_down();
        release.wait();
        return ok_status();
      },
      [](Status) {});
  writer_busy.wait();  // the writer has taken the blocker off the queue: the queue is empty

  std::vector<std::optional<Status>> queued(kDepth);
  testing::Latch queued_done(kDepth);
  for (size_t i = 0; i < kDepth; ++i) {
    store_->submit(
        [i](Tx& tx) {
          tx.enqueue_notification(sample_notification("F" + std::to_string(i), 1'000));
          return ok_status();
        },
        [&, i](Status st) {
          queued[i].emplace(std::move(st));
          queued_done.count_down();
        });
  }
  EXPECT_EQ(store_->stats().queue_depth, kDepth);
  for (int flood = 0; flood < 3; ++flood) {
    std::optional<Status> rejected;
    store_->submit(
        [](Tx& tx) {
          tx.enqueue_notification(sample_notification("OVERFLOW", 1'000));
          return ok_status();
        },
        [&](Status st) { rejected.emplace(std::move(st)); });
    ASSERT_TRUE(rejected.has_value()) << "a rejected submit answers at once";
    ASSERT_FALSE(rejected->ok());
    EXPECT_EQ(rejected->error().code, ErrorCode::kResourceExhausted);
  }
  EXPECT_EQ(store_->stats().rejected_queue_full, 3u);
  release.count_down();
  queued_done.wait();
  for (size_t i = 0; i < kDepth; ++i) EXPECT_TRUE(queued[i]->ok()) << i;
  EXPECT_EQ(store_->read()->pending_notifications(), static_cast<int64_t>(kDepth));
  EXPECT_TRUE(store_->read()->notifications_for_order("OVERFLOW").empty());
  // Room again once drained.
  EXPECT_TRUE(store_->write_sync([](Tx&) { return ok_status(); }).ok());
}

// `done` for a request refused at once (queue full, store closed) may call back into the store, e.g. read
// stats() for a metric or resubmit later: it must not run while the store holds its own lock.
// (A `done` that calls stats(), submit() or write_sync() under the store's mutex would self-deadlock; written so
// that it fails after 0.5 s instead of hanging.)
TEST_P(StoreConformance, ImmediateRejectionRunsDoneWithoutHoldingTheStoreLock) {
  reopen(StoreOptions{.queue_depth_max = 1, .writers = 1});
  testing::Latch writer_busy(1), release(1);
  store_->submit(
      [&](Tx&) {
        writer_busy.count_down();
        release.wait();
        return ok_status();
      },
      [](Status) {});
  writer_busy.wait();
  store_->submit([](Tx&) { return ok_status(); }, [](Status) {});
  bool stats_callable = false;
  std::future<size_t> asked;  // outlives `done`: its destructor would wait for the (possibly blocked) thread
  store_->submit([](Tx&) { return ok_status(); },
                 [&](Status) {
                   // Ask from another thread so that a held lock shows up as a timeout, not a deadlock.
                   asked = std::async(std::launch::async, [&] { return store_->stats().queue_depth; });
                   stats_callable = asked.wait_for(std::chrono::milliseconds(500)) == std::future_status::ready;
                 });
  EXPECT_TRUE(stats_callable) << "submit() calls `done` while holding the store's mutex";
  release.count_down();
  shut();  // joins the writer before the latches it waits on go out of scope
}

TEST_P(StoreConformance, CommitObserverSeesEachCommit) {
  std::atomic<int> commits{0};
  std::atomic<size_t> requests{0};
  store_->set_commit_observer([&](size_t batch_size, int64_t commit_us) {
    ++commits;
    requests += batch_size;
    EXPECT_GE(commit_us, 0);
  });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->write_sync([](Tx&) { return ok_status(); }).ok());
  EXPECT_EQ(commits.load(), 3);
  EXPECT_EQ(requests.load(), 3u);
  auto stats = store_->stats();
  EXPECT_EQ(stats.commits, 3u);
  EXPECT_EQ(stats.committed_requests, 3u);
  EXPECT_EQ(stats.queue_depth, 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// Gateway: merchant payout settings, channels, pay-ins, payouts and their ledger

TEST_P(StoreConformance, MerchantPayoutSettingsRoundTripAndDefaultToNone) {
  auto plain = sample_merchant("p");
  auto manual = sample_merchant("m");
  manual.payout_fee = Money::from_fen(250);
  manual.payout_manual_approval = true;
  auto [p, m] = written([&](Tx& tx) { return std::pair{tx.insert_merchant(plain), tx.insert_merchant(manual)}; });
  {
    auto tx = store_->read();
    EXPECT_EQ(tx->merchant(p)->payout_fee, Money{});
    EXPECT_FALSE(tx->merchant(p)->payout_manual_approval);
    EXPECT_EQ(tx->merchant(m)->payout_fee, Money::from_fen(250));
    EXPECT_TRUE(tx->merchant(m)->payout_manual_approval);
    EXPECT_TRUE(tx->merchant_by_app_key("app-m")->payout_manual_approval);
    EXPECT_EQ(tx->merchants()[1].payout_fee, Money::from_fen(250));
  }
  auto changed = *store_->read()->merchant(m);
  changed.payout_fee = Money::from_fen(0);
  changed.payout_manual_approval = false;
  auto other = *store_->read()->merchant(p);
  other.payout_fee = Money::from_fen(1'000);
  other.payout_manual_approval = true;
  write([&](Tx& tx) {
    tx.update_merchant(changed);
    tx.update_merchant(other);
  });
  auto tx = store_->read();
  expect_same_merchant(*tx->merchant(m), changed);
  expect_same_merchant(*tx->merchant(p), other);
}

TEST_P(StoreConformance, AMerchantPayoutFeeMayNotBeNegative) {
  seed();
  auto m = *store_->read()->merchant(kA);
  m.payout_fee = Money::from_fen(-1);
  auto st = store_->write_sync([&](Tx& tx) {
    tx.update_merchant(m);
    return ok_status();
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(store_->read()->merchant(kA)->payout_fee, Money{});
}

MerchantChannel sample_channel(MerchantId merchant, int channel_id) {
  MerchantChannel ch;
  ch.merchant_id = merchant;
  ch.channel_id = channel_id;
  ch.enabled = true;
  ch.fee_rate = RatePermille{10 + channel_id};
  ch.min_amount = Money::from_fen(100 * channel_id);
  ch.max_amount = Money::from_fen(1'000'000 * channel_id);
  ch.processor = "sandbox";
  ch.updated_at_ms = 1'700'000'000'000 + channel_id;
  return ch;
}

void expect_same_channel(const MerchantChannel& a, const MerchantChannel& b) {
  EXPECT_EQ(a.merchant_id, b.merchant_id);
  EXPECT_EQ(a.channel_id, b.channel_id);
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.fee_rate, b.fee_rate);
  EXPECT_EQ(a.min_amount, b.min_amount);
  EXPECT_EQ(a.max_amount, b.max_amount);
  EXPECT_EQ(a.processor, b.processor);
  EXPECT_EQ(a.updated_at_ms, b.updated_at_ms);
}

TEST_P(StoreConformance, MerchantChannelsUpsertGetAndList) {
  seed();
  auto a3 = sample_channel(kA, 3);
  auto a1 = sample_channel(kA, 1);
  auto b3 = sample_channel(kB, 3);
  b3.enabled = false;
  b3.min_amount = Money{};
  b3.max_amount = Money{};
  write([&](Tx& tx) {
    tx.set_merchant_channel(a3);
    tx.set_merchant_channel(a1);
    tx.set_merchant_channel(b3);
  });
  {
    auto tx = store_->read();
    auto got = tx->merchant_channel(kA, 3);
    ASSERT_TRUE(got.has_value());
    expect_same_channel(*got, a3);
    expect_same_channel(*tx->merchant_channel(kB, 3), b3);
    EXPECT_FALSE(tx->merchant_channel(kA, 2).has_value());
    EXPECT_FALSE(tx->merchant_channel(kB, 1).has_value());
    auto list = tx->merchant_channels(kA);
    ASSERT_EQ(list.size(), 2u);  // by channel id
    expect_same_channel(list[0], a1);
    expect_same_channel(list[1], a3);
    EXPECT_EQ(tx->merchant_channels(kB).size(), 1u);
    EXPECT_TRUE(tx->merchant_channels(MerchantId{99'999}).empty());
  }
  // Setting it again replaces every field; the other merchant's row is untouched.
  a3.enabled = false;
  a3.fee_rate = RatePermille{55};
  a3.min_amount = Money::from_fen(1);
  a3.max_amount = Money::from_fen(2);
  a3.processor = "other";
  a3.updated_at_ms += 1'000;
  write([&](Tx& tx) { tx.set_merchant_channel(a3); });
  auto tx = store_->read();
  expect_same_channel(*tx->merchant_channel(kA, 3), a3);
  expect_same_channel(*tx->merchant_channel(kB, 3), b3);
  EXPECT_EQ(tx->merchant_channels(kA).size(), 2u);
}

TEST_P(StoreConformance, AChannelForAnUnknownMerchantFailsTheRequest) {
  seed();
  auto st = store_->write_sync([](Tx& tx) {
    tx.enqueue_notification(sample_notification("CH", 1'000));
    tx.set_merchant_channel(sample_channel(MerchantId{99'999}, 1));
    return ok_status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  auto tx = store_->read();
  EXPECT_TRUE(tx->merchant_channels(MerchantId{99'999}).empty());
  EXPECT_TRUE(tx->notifications_for_order("CH").empty());
}

using orders::PayIn;
using orders::PayInState;
using orders::Payout;
using orders::PayoutState;

PayIn sample_payin(MerchantId merchant, const std::string& mrn, const std::string& id, int64_t created_ms,
                   PayInState state = PayInState::kWaiting) {
  PayIn p;
  p.merchant_id = merchant;
  p.id = PaymentId{id};
  p.mrn = mrn;
  p.channel_id = 3;
  p.amount = Money::from_fen(10'050);
  p.amount_text = "100.5";
  p.callback_url = "https://merchant.example.com/cb?mrn=" + mrn;
  p.return_url = "https://merchant.example.com/return";
  p.payer = "张三";
  p.request_fingerprint = "rq-" + mrn;
  p.processor = "sandbox";
  p.fee_rate = RatePermille{25};
  p.state = state;
  p.message = std::string(orders::payin_state_name(state));
  if (state == PayInState::kPaid) {
    p.paid = Money::from_fen(10'050);
    p.fee = apply_rate_half_up(p.paid, p.fee_rate);
  }
  if (state != PayInState::kWaiting) p.finished_at_ms = created_ms + 500;
  p.expires_at_ms = created_ms + 900'000;
  p.created_at_ms = created_ms;
  p.updated_at_ms = created_ms;
  return p;
}

void expect_same_payin(const PayIn& a, const PayIn& b) {
  EXPECT_EQ(a.merchant_id, b.merchant_id);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.mrn, b.mrn);
  EXPECT_EQ(a.channel_id, b.channel_id);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.amount_text, b.amount_text);
  EXPECT_EQ(a.callback_url, b.callback_url);
  EXPECT_EQ(a.return_url, b.return_url);
  EXPECT_EQ(a.payer, b.payer);
  EXPECT_EQ(a.request_fingerprint, b.request_fingerprint);
  EXPECT_EQ(a.processor, b.processor);
  EXPECT_EQ(a.fee_rate, b.fee_rate);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.paid, b.paid);
  EXPECT_EQ(a.fee, b.fee);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.expires_at_ms, b.expires_at_ms);
  EXPECT_EQ(a.finished_at_ms, b.finished_at_ms);
  EXPECT_EQ(a.created_at_ms, b.created_at_ms);
  EXPECT_EQ(a.updated_at_ms, b.updated_at_ms);
}

std::vector<std::string> payment_ids(const std::vector<PayIn>& payins) {
  std::vector<std::string> out;
  for (const auto& p : payins) out.push_back(p.id.value());
  return out;
}

Payout sample_payout(MerchantId merchant, const std::string& mrn, const std::string& id, int64_t created_ms,
                     PayoutState state = PayoutState::kProcessing) {
  Payout p;
  p.merchant_id = merchant;
  p.id = PayoutId{id};
  p.mrn = mrn;
  p.amount = Money::from_fen(50'000);
  p.amount_text = "500";
  p.fee = Money::from_fen(200);
  p.bank_name = "中国银行";
  p.account_name = "李四";
  p.account_number = "6217000010002000" + std::to_string(created_ms % 1000);
  p.callback_url = "https://merchant.example.com/payout-cb";
  p.request_fingerprint = "rq-" + mrn;
  p.state = state;
  p.message = std::string(orders::payout_state_name(state));
  p.process_after_ms = created_ms + 1'000;
  if (orders::is_final(state)) p.finished_at_ms = created_ms + 2'000;
  p.created_at_ms = created_ms;
  p.updated_at_ms = created_ms;
  return p;
}

void expect_same_payout(const Payout& a, const Payout& b) {
  EXPECT_EQ(a.merchant_id, b.merchant_id);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.mrn, b.mrn);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.amount_text, b.amount_text);
  EXPECT_EQ(a.fee, b.fee);
  EXPECT_EQ(a.bank_name, b.bank_name);
  EXPECT_EQ(a.account_name, b.account_name);
  EXPECT_EQ(a.account_number, b.account_number);
  EXPECT_EQ(a.callback_url, b.callback_url);
  EXPECT_EQ(a.request_fingerprint, b.request_fingerprint);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.process_after_ms, b.process_after_ms);
  EXPECT_EQ(a.finished_at_ms, b.finished_at_ms);
  EXPECT_EQ(a.created_at_ms, b.created_at_ms);
  EXPECT_EQ(a.updated_at_ms, b.updated_at_ms);
}

std::vector<std::string> payout_ids(const std::vector<Payout>& payouts) {
  std::vector<std::string> out;
  for (const auto& p : payouts) out.push_back(p.id.value());
  return out;
}

TEST_P(StoreConformance, InsertPayInRoundTripsEveryField) {
  seed();
  auto p = sample_payin(kA, "M-1", "P1", 1'000);
  auto bare = sample_payin(kA, "M-2", "P2", 2'000, PayInState::kPaid);
  bare.payer = "";
  bare.return_url = "";
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payin(p); }).ok());
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payin(bare); }).ok());
  auto tx = store_->read();
  auto by_mrn = tx->payin(kA, "M-1");
  ASSERT_TRUE(by_mrn.has_value());
  expect_same_payin(*by_mrn, p);
  auto by_id = tx->payin_by_id(PaymentId{"P2"});
  ASSERT_TRUE(by_id.has_value());
  expect_same_payin(*by_id, bare);
  EXPECT_FALSE(tx->payin(kB, "M-1").has_value());
  EXPECT_FALSE(tx->payin(kA, "M-3").has_value());
  EXPECT_FALSE(tx->payin_by_id(PaymentId{"P404"}).has_value());
}

TEST_P(StoreConformance, ADuplicatePayInMrnIsAlreadyExistsWhateverTheId) {
  seed();
  auto first = sample_payin(kA, "M-1", "P1", 1'000);
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payin(first); }).ok());
  // A new id, and the same id too: the mrn is what the merchant must hear about.
  for (const char* id : {"P2", "P1"}) {
    auto again = sample_payin(kA, "M-1", id, 2'000);
    again.amount = Money::from_fen(1);
    auto st = written([&](Tx& tx) { return tx.insert_payin(again); });
    ASSERT_FALSE(st.ok()) << id;
    EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(st.error().message, "duplicate mrn") << id;
  }
  auto tx = store_->read();
  expect_same_payin(*tx->payin(kA, "M-1"), first);
  EXPECT_FALSE(tx->payin_by_id(PaymentId{"P2"}).has_value());
  tx.reset();
  // The same mrn is fine for another merchant.
  EXPECT_TRUE(written([&](Tx& tx) { return tx.insert_payin(sample_payin(kB, "M-1", "P3", 3'000)); }).ok());
}

TEST_P(StoreConformance, ATakenPaymentIdIsACollision) {
  seed();
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payin(sample_payin(kA, "M-1", "P1", 1'000)); }).ok());
  for (auto merchant : {kA, kB}) {
    auto st = written([&](Tx& tx) { return tx.insert_payin(sample_payin(merchant, "M-2", "P1", 2'000)); });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
    // The gateway service draws a new id on exactly this message.
    EXPECT_EQ(st.error().message, "payment id collision");
  }
  auto tx = store_->read();
  EXPECT_FALSE(tx->payin(kA, "M-2").has_value());
  EXPECT_FALSE(tx->payin(kB, "M-2").has_value());
  EXPECT_EQ(tx->payin_by_id(PaymentId{"P1"})->mrn, "M-1");
}

TEST_P(StoreConformance, UpdatePayInChangesStateFields) {
  seed();
  auto p = sample_payin(kA, "M-1", "P1", 1'000);
  auto other = sample_payin(kA, "M-2", "P2", 1'000);
  write([&](Tx& tx) {
    EXPECT_TRUE(tx.insert_payin(p).ok());
    EXPECT_TRUE(tx.insert_payin(other).ok());
  });
  auto next = *orders::apply_payin_outcome(p, {orders::PayInOutcome::Kind::kPaid, Money::from_fen(9'999), ""}, 5'000);
  next.expires_at_ms = 7'777;
  write([&](Tx& tx) { tx.update_payin(next); });
  auto tx = store_->read();
  expect_same_payin(*tx->payin(kA, "M-1"), next);
  expect_same_payin(*tx->payin_by_id(PaymentId{"P1"}), next);
  EXPECT_EQ(tx->payin(kA, "M-1")->fee, Money::from_fen(250));  // 9999 x 2.5%, half-up
  expect_same_payin(*tx->payin(kA, "M-2"), other);
}

// As for consign cards: an account number sealed ahead is kept only when sealed for the payout's own id.
TEST_P(StoreConformance, InsertPayoutTakesAnAccountSealedAheadOnlyForItsOwnId) {
  seed();
  const auto ahead_for_w1 = seal_account(*harness_->box(), PayoutId{"W1"}, "sealed-ahead-account");
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payout(sample_payout(kA, "W-1", "W1", 1'000), ahead_for_w1); })
                  .ok());
  const auto w2 = sample_payout(kA, "W-2", "W2", 1'000);
  const auto ahead_for_other = seal_account(*harness_->box(), PayoutId{"W-other"}, w2.account_number);
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payout(w2, ahead_for_other); }).ok());

  auto tx = store_->read();
  EXPECT_EQ(tx->payout(kA, "W-1")->account_number, "sealed-ahead-account");
  auto got2 = tx->payout(kA, "W-2");
  ASSERT_TRUE(got2.has_value());
  expect_same_payout(*got2, w2);
}

TEST_P(StoreConformance, UpdatingAMissingPayInOrPayoutFailsTheRequest) {
  seed();
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payin(sample_payin(kA, "M-1", "P1", 1'000)); }).ok());
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payout(sample_payout(kA, "W-1", "W1", 1'000)); }).ok());
  // The key is (merchant, id): the right id under another merchant is missing too.
  for (auto payin : {sample_payin(kA, "M-9", "P9", 1'000), sample_payin(kB, "M-1", "P1", 1'000)}) {
    auto st = store_->write_sync([&](Tx& tx) {
      tx.enqueue_notification(sample_notification("U-" + payin.id.value(), 1'000));
      payin.state = PayInState::kFailed;
      tx.update_payin(payin);
      return ok_status();
    });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  }
  for (auto payout : {sample_payout(kA, "W-9", "W9", 1'000), sample_payout(kB, "W-1", "W1", 1'000)}) {
    auto st = store_->write_sync([&](Tx& tx) {
      tx.enqueue_notification(sample_notification("U-" + payout.id.value(), 1'000));
      payout.state = PayoutState::kFailed;
      tx.update_payout(payout);
      return ok_status();
    });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  }
  auto tx = store_->read();
  EXPECT_EQ(tx->pending_notifications(), 0);
  EXPECT_EQ(tx->payin(kA, "M-1")->state, PayInState::kWaiting);
  EXPECT_EQ(tx->payout(kA, "W-1")->state, PayoutState::kProcessing);
  EXPECT_FALSE(tx->payin(kB, "M-1").has_value());
}

TEST_P(StoreConformance, ExpiredPayInsAreWaitingOnesByExpiry) {
  seed();
  auto mk = [](MerchantId m, const std::string& id, int64_t expires, PayInState state) {
    auto p = sample_payin(m, "M" + id, id, 1'000, state);
    p.expires_at_ms = expires;
    return p;
  };
  write([&](Tx& tx) {
    for (const auto& p : {mk(kA, "P1", 300, PayInState::kWaiting), mk(kB, "P2", 100, PayInState::kWaiting),
                          mk(kA, "P3", 200, PayInState::kWaiting), mk(kA, "P0", 200, PayInState::kWaiting),
                          mk(kA, "P4", 50, PayInState::kPaid), mk(kB, "P5", 10, PayInState::kFailed),
                          mk(kA, "P6", 5'000, PayInState::kWaiting)}) {
      EXPECT_TRUE(tx.insert_payin(p).ok()) << p.id.value();
    }
  });
  using V = std::vector<std::string>;
  {
    auto tx = store_->read();
    EXPECT_TRUE(tx->payins_expired(99, 10).empty());
    EXPECT_EQ(payment_ids(tx->payins_expired(100, 10)), (V{"P2"}));              // expired at exactly expires_at_ms
    EXPECT_EQ(payment_ids(tx->payins_expired(250, 10)), (V{"P2", "P0", "P3"}));  // the id breaks the tie
    EXPECT_EQ(payment_ids(tx->payins_expired(1'000, 10)), (V{"P2", "P0", "P3", "P1"}));
    EXPECT_EQ(payment_ids(tx->payins_expired(1'000, 2)), (V{"P2", "P0"}));
    EXPECT_EQ(payment_ids(tx->payins_expired(1'000, 1)), (V{"P2"}));
    EXPECT_EQ(tx->next_payin_expiry_ms(), 100);
  }
  // The same in a write transaction (which locks on engines with several writers).
  EXPECT_EQ(payment_ids(written([](Tx& tx) { return tx.payins_expired(1'000, 3); })), (V{"P2", "P0", "P3"}));
  // Expiring the oldest moves the next expiry on; none waiting, none next.
  write([&](Tx& tx) {
    for (auto p : tx.payins_expired(150, 10)) {
      p = *orders::apply_payin_outcome(p, {orders::PayInOutcome::Kind::kExpired, Money{}, ""}, 2'000);
      tx.update_payin(p);
    }
  });
  EXPECT_EQ(store_->read()->payin_by_id(PaymentId{"P2"})->message, "expired");
  EXPECT_EQ(store_->read()->next_payin_expiry_ms(), 200);
  write([&](Tx& tx) {
    for (auto p : tx.payins_expired(10'000, 10)) {
      p.state = PayInState::kFailed;
      tx.update_payin(p);
    }
  });
  EXPECT_FALSE(store_->read()->next_payin_expiry_ms().has_value());
  EXPECT_TRUE(store_->read()->payins_expired(10'000, 10).empty());
}

class GatewayListing : public StoreConformance {
 protected:
  // Newest first: 5, 4, b1, 3, 2, 1 for both pay-ins (P...) and payouts (W...); 2 and 3 share created_at_ms.
  void SetUp() override {
    StoreConformance::SetUp();
    if (IsSkipped()) return;
    seed();
    write([](Tx& tx) {
      EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a1", "PA1", 1'000, PayInState::kWaiting)).ok());
      EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a2", "PA2", 2'000, PayInState::kPaid)).ok());
      EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a3", "PA3", 2'000, PayInState::kFailed)).ok());
      EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a4", "PA4", 3'000, PayInState::kWaiting)).ok());
      EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a5", "PA5", 4'000, PayInState::kPaid)).ok());
      EXPECT_TRUE(tx.insert_payin(sample_payin(kB, "b1", "PB1", 2'500, PayInState::kWaiting)).ok());
      EXPECT_TRUE(tx.insert_payout(sample_payout(kA, "a1", "WA1", 1'000, PayoutState::kProcessing)).ok());
      EXPECT_TRUE(tx.insert_payout(sample_payout(kA, "a2", "WA2", 2'000, PayoutState::kPaid)).ok());
      EXPECT_TRUE(tx.insert_payout(sample_payout(kA, "a3", "WA3", 2'000, PayoutState::kRejected)).ok());
      EXPECT_TRUE(tx.insert_payout(sample_payout(kA, "a4", "WA4", 3'000, PayoutState::kApproval)).ok());
      EXPECT_TRUE(tx.insert_payout(sample_payout(kA, "a5", "WA5", 4'000, PayoutState::kProcessing)).ok());
      EXPECT_TRUE(tx.insert_payout(sample_payout(kB, "b1", "WB1", 2'500, PayoutState::kProcessing)).ok());
    });
  }

  std::vector<std::string> payins(PayInFilter f) { return payment_ids(store_->read()->payins(f)); }
  std::vector<std::string> payouts(PayoutFilter f) { return payout_ids(store_->read()->payouts(f)); }

  // Follows the keyset cursor page by page.
  template <typename Filter, typename List>
  std::vector<std::string> all_pages(Filter f, size_t page, size_t* pages, List list) {
    std::vector<std::string> out;
    f.limit = page;
    *pages = 0;
    for (int guard = 0; guard < 100; ++guard) {
      auto got = list(*store_->read(), f);
      if (got.empty()) break;
      ++*pages;
      EXPECT_LE(got.size(), page);
      for (const auto& o : got) out.push_back(o.id.value());
      f.before = std::pair{got.back().created_at_ms, got.back().id.value()};
    }
    return out;
  }
};

TEST_P(GatewayListing, PayInsNewestFirstWithFilters) {
  using V = std::vector<std::string>;
  EXPECT_EQ(payins({}), (V{"PA5", "PA4", "PB1", "PA3", "PA2", "PA1"}));
  PayInFilter f;
  f.limit = 2;
  EXPECT_EQ(payins(f), (V{"PA5", "PA4"}));
  f.limit = std::numeric_limits<size_t>::max();  // capped, not taken as -1
  EXPECT_EQ(payins(f).size(), 6u);
  PayInFilter mine;
  mine.merchant_id = kA;
  EXPECT_EQ(payins(mine), (V{"PA5", "PA4", "PA3", "PA2", "PA1"}));
  mine.merchant_id = MerchantId{99'999};
  EXPECT_TRUE(payins(mine).empty());
  PayInFilter waiting;
  waiting.state = PayInState::kWaiting;
  EXPECT_EQ(payins(waiting), (V{"PA4", "PB1", "PA1"}));
  waiting.merchant_id = kB;
  EXPECT_EQ(payins(waiting), (V{"PB1"}));
  PayInFilter paid;
  paid.state = PayInState::kPaid;
  EXPECT_EQ(payins(paid), (V{"PA5", "PA2"}));
}

TEST_P(GatewayListing, PayInsKeysetPaginationVisitsEachOnce) {
  using V = std::vector<std::string>;
  auto list = [](Tx& tx, const PayInFilter& f) { return tx.payins(f); };
  size_t pages = 0;
  EXPECT_EQ(all_pages(PayInFilter{}, 2, &pages, list), (V{"PA5", "PA4", "PB1", "PA3", "PA2", "PA1"}));
  EXPECT_EQ(pages, 3u);
  PayInFilter f;
  f.before = std::pair{int64_t{2'000}, std::string("PA3")};  // between the two that share created_at_ms
  EXPECT_EQ(payins(f), (V{"PA2", "PA1"}));
  PayInFilter mine;
  mine.merchant_id = kA;
  EXPECT_EQ(all_pages(mine, 1, &pages, list), (V{"PA5", "PA4", "PA3", "PA2", "PA1"}));
  EXPECT_EQ(pages, 5u);
}

TEST_P(GatewayListing, PayoutsNewestFirstWithFilters) {
  using V = std::vector<std::string>;
  EXPECT_EQ(payouts({}), (V{"WA5", "WA4", "WB1", "WA3", "WA2", "WA1"}));
  PayoutFilter f;
  f.limit = 3;
  EXPECT_EQ(payouts(f), (V{"WA5", "WA4", "WB1"}));
  f.limit = std::numeric_limits<size_t>::max();
  EXPECT_EQ(payouts(f).size(), 6u);
  PayoutFilter mine;
  mine.merchant_id = kA;
  EXPECT_EQ(payouts(mine), (V{"WA5", "WA4", "WA3", "WA2", "WA1"}));
  PayoutFilter processing;
  processing.state = PayoutState::kProcessing;
  EXPECT_EQ(payouts(processing), (V{"WA5", "WB1", "WA1"}));
  processing.merchant_id = kA;
  EXPECT_EQ(payouts(processing), (V{"WA5", "WA1"}));
  PayoutFilter rejected;
  rejected.state = PayoutState::kRejected;
  EXPECT_EQ(payouts(rejected), (V{"WA3"}));
  // Listed payouts carry their account number opened.
  EXPECT_EQ(store_->read()->payouts(rejected)[0].account_number, sample_payout(kA, "a3", "WA3", 2'000).account_number);
}

TEST_P(GatewayListing, PayoutsKeysetPaginationVisitsEachOnce) {
  using V = std::vector<std::string>;
  auto list = [](Tx& tx, const PayoutFilter& f) { return tx.payouts(f); };
  size_t pages = 0;
  EXPECT_EQ(all_pages(PayoutFilter{}, 4, &pages, list), (V{"WA5", "WA4", "WB1", "WA3", "WA2", "WA1"}));
  EXPECT_EQ(pages, 2u);
  PayoutFilter f;
  f.before = std::pair{int64_t{2'000}, std::string("WA3")};
  EXPECT_EQ(payouts(f), (V{"WA2", "WA1"}));
  PayoutFilter mine;
  mine.merchant_id = kA;
  EXPECT_EQ(all_pages(mine, 2, &pages, list), (V{"WA5", "WA4", "WA3", "WA2", "WA1"}));
  EXPECT_EQ(pages, 3u);
}

TEST_P(StoreConformance, InsertPayoutRoundTripsEveryFieldIncludingTheAccountNumber) {
  seed();
  auto p = sample_payout(kA, "W-1", "W1", 1'000, PayoutState::kApproval);
  auto free_of_fee = sample_payout(kA, "W-2", "W2", 2'000, PayoutState::kProcessing);
  free_of_fee.fee = Money{};
  free_of_fee.account_number = "62170000100020003000400050006000";  // 32 digits
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payout(p); }).ok());
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payout(free_of_fee); }).ok());
  auto tx = store_->read();
  auto by_mrn = tx->payout(kA, "W-1");
  ASSERT_TRUE(by_mrn.has_value());
  expect_same_payout(*by_mrn, p);
  auto by_id = tx->payout_by_id(PayoutId{"W2"});
  ASSERT_TRUE(by_id.has_value());
  expect_same_payout(*by_id, free_of_fee);
  EXPECT_FALSE(tx->payout(kB, "W-1").has_value());
  EXPECT_FALSE(tx->payout_by_id(PayoutId{"W404"}).has_value());
}

TEST_P(StoreConformance, ADuplicatePayoutMrnIsAlreadyExistsAndATakenIdACollision) {
  seed();
  auto first = sample_payout(kA, "W-1", "W1", 1'000);
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payout(first); }).ok());
  for (const char* id : {"W2", "W1"}) {
    auto st = written([&](Tx& tx) { return tx.insert_payout(sample_payout(kA, "W-1", id, 2'000)); });
    ASSERT_FALSE(st.ok()) << id;
    EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(st.error().message, "duplicate mrn") << id;
  }
  for (auto merchant : {kA, kB}) {
    auto st = written([&](Tx& tx) { return tx.insert_payout(sample_payout(merchant, "W-2", "W1", 2'000)); });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(st.error().message, "payout id collision");
  }
  auto tx = store_->read();
  expect_same_payout(*tx->payout(kA, "W-1"), first);
  EXPECT_FALSE(tx->payout(kA, "W-2").has_value());
  EXPECT_FALSE(tx->payout(kB, "W-2").has_value());
  EXPECT_FALSE(tx->payout_by_id(PayoutId{"W2"}).has_value());
  tx.reset();
  EXPECT_TRUE(written([&](Tx& tx) { return tx.insert_payout(sample_payout(kB, "W-1", "W3", 3'000)); }).ok());
}

TEST_P(StoreConformance, UpdatePayoutChangesStateFields) {
  seed();
  auto p = sample_payout(kA, "W-1", "W1", 1'000, PayoutState::kApproval);
  auto other = sample_payout(kA, "W-2", "W2", 1'000, PayoutState::kApproval);
  write([&](Tx& tx) {
    EXPECT_TRUE(tx.insert_payout(p).ok());
    EXPECT_TRUE(tx.insert_payout(other).ok());
  });
  auto approved = p;
  approved.state = PayoutState::kProcessing;
  approved.message = "approved by ops";
  approved.process_after_ms = 9'000;
  approved.updated_at_ms = 8'000;
  write([&](Tx& tx) { tx.update_payout(approved); });
  expect_same_payout(*store_->read()->payout(kA, "W-1"), approved);
  auto paid = approved;
  paid.state = PayoutState::kPaid;
  paid.message = "paid";
  paid.finished_at_ms = 10'000;
  paid.updated_at_ms = 10'000;
  write([&](Tx& tx) { tx.update_payout(paid); });
  auto tx = store_->read();
  expect_same_payout(*tx->payout_by_id(PayoutId{"W1"}), paid);
  expect_same_payout(*tx->payout(kA, "W-2"), other);
}

TEST_P(StoreConformance, DuePayoutsAreProcessingOnesByProcessAfter) {
  seed();
  auto mk = [](MerchantId m, const std::string& id, int64_t after, PayoutState state) {
    auto p = sample_payout(m, "M" + id, id, 1'000, state);
    p.process_after_ms = after;
    return p;
  };
  write([&](Tx& tx) {
    for (const auto& p : {mk(kA, "W1", 300, PayoutState::kProcessing), mk(kB, "W2", 100, PayoutState::kProcessing),
                          mk(kA, "W3", 200, PayoutState::kProcessing), mk(kB, "W0", 200, PayoutState::kProcessing),
                          mk(kA, "W4", 50, PayoutState::kApproval), mk(kA, "W5", 10, PayoutState::kPaid),
                          mk(kA, "W6", 20, PayoutState::kFailed), mk(kA, "W7", 30, PayoutState::kRejected)}) {
      EXPECT_TRUE(tx.insert_payout(p).ok()) << p.id.value();
    }
  });
  using V = std::vector<std::string>;
  {
    auto tx = store_->read();
    EXPECT_TRUE(tx->payouts_due(99, 10).empty());
    EXPECT_EQ(payout_ids(tx->payouts_due(100, 10)), (V{"W2"}));
    EXPECT_EQ(payout_ids(tx->payouts_due(250, 10)), (V{"W2", "W0", "W3"}));
    EXPECT_EQ(payout_ids(tx->payouts_due(1'000, 10)), (V{"W2", "W0", "W3", "W1"}));
    EXPECT_EQ(payout_ids(tx->payouts_due(1'000, 2)), (V{"W2", "W0"}));
    EXPECT_EQ(tx->next_payout_due_ms(), 100);
    EXPECT_EQ(tx->payouts_due(1'000, 1)[0].account_number, mk(kB, "W2", 100, PayoutState::kProcessing).account_number);
  }
  EXPECT_EQ(payout_ids(written([](Tx& tx) { return tx.payouts_due(1'000, 10); })), (V{"W2", "W0", "W3", "W1"}));
  // An approved payout becomes due; paid ones leave.
  write([&](Tx& tx) {
    auto w4 = *tx.payout_by_id(PayoutId{"W4"});
    w4.state = PayoutState::kProcessing;
    tx.update_payout(w4);
    for (auto p : tx.payouts_due(150, 10)) {
      if (p.id.value() == "W4") continue;
      p.state = PayoutState::kPaid;
      tx.update_payout(p);
    }
  });
  EXPECT_EQ(payout_ids(store_->read()->payouts_due(1'000, 10)), (V{"W4", "W0", "W3", "W1"}));
  EXPECT_EQ(store_->read()->next_payout_due_ms(), 50);
  write([&](Tx& tx) {
    for (auto p : tx.payouts_due(1'000, 10)) {
      p.state = PayoutState::kFailed;
      tx.update_payout(p);
    }
  });
  EXPECT_FALSE(store_->read()->next_payout_due_ms().has_value());
}

TEST_P(StoreConformance, PayoutAccountNumbersAreNotStoredInPlaintext) {
  seed();
  const std::string account_number = "6217990012345678901";
  const std::string visible = "VISIBLE-ACCOUNT-NAME-4242";
  auto p = sample_payout(kA, "W-secret", "WSECRET", 1'000);
  p.account_number = account_number;
  p.account_name = visible;
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_payout(p); }).ok());
  EXPECT_EQ(store_->read()->payout_by_id(PayoutId{"WSECRET"})->account_number, account_number);
  EXPECT_EQ(store_->read()->payouts({})[0].account_number, account_number);
  shut();
  std::string bytes = harness_->bytes_at_rest();
  ASSERT_FALSE(bytes.empty());
  EXPECT_NE(bytes.find(visible), std::string::npos) << "positive control: the search sees the row";
  EXPECT_EQ(bytes.find(account_number), std::string::npos) << "account number stored in plaintext";
}

// The ledger of the gateway: what check_ledger expects of pay-ins and payouts.
class GatewayLedger : public StoreConformance {
 protected:
  Status post(const ledger::Entry& e) {
    return written([&](Tx& tx) { return tx.post(e, 5'000); });
  }
  // Inserts the pay-in and, when paid, posts its credit.
  void paid_in(const PayIn& p) {
    write([&](Tx& tx) {
      EXPECT_TRUE(tx.insert_payin(p).ok());
      if (p.state == PayInState::kPaid) {
        EXPECT_TRUE(tx.post(ledger::gateway_payin(p.merchant_id, p.id, p.paid, p.fee), 5'000).ok());
      }
    });
  }
  // Inserts the payout with its reserve, and what its state means: paid out or refunded.
  void paid_out(const Payout& p) {
    write([&](Tx& tx) {
      EXPECT_TRUE(tx.insert_payout(p).ok());
      EXPECT_TRUE(tx.post(ledger::payout_reserve(p.merchant_id, p.id, p.amount, p.fee), 5'000).ok());
      if (p.state == PayoutState::kPaid) {
        EXPECT_TRUE(tx.post(ledger::payout_paid(p.merchant_id, p.id, p.amount, p.fee), 6'000).ok());
      } else if (p.state == PayoutState::kFailed || p.state == PayoutState::kRejected) {
        EXPECT_TRUE(tx.post(ledger::payout_refund(p.merchant_id, p.id, p.amount, p.fee), 6'000).ok());
      }
    });
  }
  // A consistent set: money in for both merchants, payouts in every state.
  void consistent() {
    seed();
    for (auto m : {kA, kB}) {
      auto big = sample_payin(m, "fund", m == kA ? "PFA" : "PFB", 500, PayInState::kPaid);
      big.amount = big.paid = Money::from_fen(1'000'000);
      big.fee = apply_rate_half_up(big.paid, big.fee_rate);
      paid_in(big);
    }
    paid_in(sample_payin(kA, "w", "PW", 600, PayInState::kWaiting));
    paid_in(sample_payin(kA, "f", "PF", 700, PayInState::kFailed));
    paid_in(sample_payin(kB, "p", "PP", 800, PayInState::kPaid));
    int n = 0;
    for (auto state : {PayoutState::kApproval, PayoutState::kProcessing, PayoutState::kPaid, PayoutState::kFailed,
                       PayoutState::kRejected}) {
      for (auto m : {kA, kB}) {
        std::string id = "WOK" + std::to_string(++n);
        paid_out(sample_payout(m, "mrn-" + id, id, 1'000 + n, state));
      }
    }
  }
  std::vector<std::string> problems() { return store_->read()->check_ledger().problems; }
  static bool mentions(const std::vector<std::string>& problems, const std::string& what) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(what) != std::string::npos; });
  }
};

TEST_P(GatewayLedger, AConsistentGatewayLedgerPasses) {
  consistent();
  auto tx = store_->read();
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  // Open payouts (approval and processing, one of each per merchant) hold amount + fee each.
  EXPECT_EQ(tx->balance(ledger::merchant_payout_reserved(kA).code), Money::from_fen(2 * 50'200));
  EXPECT_EQ(tx->balance(ledger::merchant_payout_reserved(kB).code), Money::from_fen(2 * 50'200));
  EXPECT_EQ(tx->balance("platform:payout_clearing"), Money::from_fen(2 * 50'000));
}

TEST_P(GatewayLedger, PayInsWithTheWrongNumberOfCreditsAreReported) {
  consistent();
  // Paid without a credit; waiting and failed with one; paid with two.
  write([&](Tx& tx) {
    EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "x1", "PX1", 900, PayInState::kPaid)).ok());
    EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "x2", "PX2", 900, PayInState::kWaiting)).ok());
    EXPECT_TRUE(tx.insert_payin(sample_payin(kB, "x3", "PX3", 900, PayInState::kFailed)).ok());
    for (const char* id : {"PX2", "PX3", "PP"}) {
      EXPECT_TRUE(tx.post(ledger::gateway_payin(kB, PaymentId{id}, Money::from_fen(100), Money::from_fen(1)), 1).ok());
    }
  });
  auto got = problems();
  EXPECT_EQ(got.size(), 4u) << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "paid pay-in PX1 has 0 gateway.payin entries")) << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "waiting pay-in PX2 has 1 gateway.payin entries")) << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "failed pay-in PX3 has 1 gateway.payin entries")) << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "paid pay-in PP has 2 gateway.payin entries")) << ::testing::PrintToString(got);
  EXPECT_FALSE(store_->read()->check_ledger().ok);
}

TEST_P(GatewayLedger, PayoutsWithTheWrongEntriesAreReported) {
  consistent();
  const Money amount = Money::from_fen(1'000), fee = Money::from_fen(10);
  auto insert = [&](Tx& tx, const std::string& id, PayoutState state) {
    auto p = sample_payout(kA, "mrn-" + id, id, 3'000, state);
    p.amount = amount;
    p.fee = fee;
    EXPECT_TRUE(tx.insert_payout(p).ok()) << id;
  };
  auto reserve = [&](Tx& tx, const std::string& id) {
    EXPECT_TRUE(tx.post(ledger::payout_reserve(kA, PayoutId{id}, amount, fee), 1).ok()) << id;
  };
  auto pay = [&](Tx& tx, const std::string& id) {
    EXPECT_TRUE(tx.post(ledger::payout_paid(kA, PayoutId{id}, amount, fee), 2).ok()) << id;
  };
  auto refund = [&](Tx& tx, const std::string& id) {
    EXPECT_TRUE(tx.post(ledger::payout_refund(kA, PayoutId{id}, amount, fee), 2).ok()) << id;
  };
  write([&](Tx& tx) {
    // Paid without a reserve (the reserve of another would be taken: give it one to take).
    insert(tx, "WNORES", PayoutState::kPaid);
    reserve(tx, "WSPARE");
    pay(tx, "WNORES");
    // Paid without its payment; paid with a refund as well.
    insert(tx, "WPAIDNOPAY", PayoutState::kPaid);
    reserve(tx, "WPAIDNOPAY");
    refund(tx, "WPAIDNOPAY");
    insert(tx, "WPAIDREF", PayoutState::kPaid);
    reserve(tx, "WPAIDREF");
    pay(tx, "WPAIDREF");
    reserve(tx, "WSPARE2");
    refund(tx, "WPAIDREF");
    // Failed without a refund; rejected with a payment.
    insert(tx, "WFAILNOREF", PayoutState::kFailed);
    reserve(tx, "WFAILNOREF");
    pay(tx, "WFAILNOREF");
    insert(tx, "WREJPAID", PayoutState::kRejected);
    reserve(tx, "WREJPAID");
    refund(tx, "WREJPAID");
    reserve(tx, "WSPARE3");
    pay(tx, "WREJPAID");
    // Open payouts with either; one reserved twice.
    insert(tx, "WOPENPAID", PayoutState::kProcessing);
    reserve(tx, "WOPENPAID");
    reserve(tx, "WSPARE4");
    pay(tx, "WOPENPAID");
    insert(tx, "WOPENREF", PayoutState::kApproval);
    reserve(tx, "WOPENREF");
    reserve(tx, "WSPARE5");
    refund(tx, "WOPENREF");
    insert(tx, "WTWICE", PayoutState::kProcessing);
    reserve(tx, "WTWICE");
    reserve(tx, "WTWICE");
  });
  auto got = problems();
  for (const char* bad : {"processing payout WTWICE has 2 reserve, 0 paid and 0 refund entries",
                          "paid payout WNORES has 0 reserve, 1 paid and 0 refund entries",
                          "paid payout WPAIDNOPAY has 1 reserve, 0 paid and 1 refund entries",
                          "paid payout WPAIDREF has 1 reserve, 1 paid and 1 refund entries",
                          "failed payout WFAILNOREF has 1 reserve, 1 paid and 0 refund entries",
                          "rejected payout WREJPAID has 1 reserve, 1 paid and 1 refund entries",
                          "processing payout WOPENPAID has 1 reserve, 1 paid and 0 refund entries",
                          "approval payout WOPENREF has 1 reserve, 0 paid and 1 refund entries"}) {
    EXPECT_TRUE(mentions(got, bad)) << bad << " in " << ::testing::PrintToString(got);
  }
  EXPECT_FALSE(mentions(got, "WOK")) << "a consistent payout reported: " << ::testing::PrintToString(got);
  EXPECT_FALSE(mentions(got, "WSPARE")) << "entries without a payout are not payouts";
  EXPECT_LE(got.size(), 20u);
}

TEST_P(GatewayLedger, AReserveThatDoesNotMatchTheOpenPayoutsIsReported) {
  consistent();
  // Merchant A: a reserve without a payout. Merchant B: an open payout without its reserve... which the payout
  // check reports as well, and the reserve balance falls short of the open payouts.
  ASSERT_TRUE(post(ledger::payout_reserve(kA, PayoutId{"WGHOST"}, Money::from_fen(700), Money::from_fen(7))).ok());
  write([&](Tx& tx) { EXPECT_TRUE(tx.insert_payout(sample_payout(kB, "unreserved", "WUNRES", 9'000)).ok()); });
  auto got = problems();
  EXPECT_TRUE(mentions(got, "merchant 10001 has 101107 reserved for payouts, its open payouts need 100400"))
      << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "merchant 10002 has 100400 reserved for payouts, its open payouts need 150600"))
      << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "processing payout WUNRES has 0 reserve")) << ::testing::PrintToString(got);
  EXPECT_EQ(got.size(), 3u) << ::testing::PrintToString(got);
}

TEST_P(GatewayLedger, AMerchantWithoutPayoutsNeedsNoReserve) {
  seed();
  paid_in(sample_payin(kA, "p", "PP", 800, PayInState::kPaid));
  EXPECT_TRUE(problems().empty()) << ::testing::PrintToString(problems());
  // A reserve account back at zero is fine too.
  auto p = sample_payout(kA, "w", "W1", 1'000, PayoutState::kRejected);
  p.amount = Money::from_fen(100);
  p.fee = Money::from_fen(0);
  paid_out(p);
  EXPECT_EQ(store_->read()->balance(ledger::merchant_payout_reserved(kA).code), Money{});
  EXPECT_TRUE(problems().empty()) << ::testing::PrintToString(problems());
}

TEST_P(GatewayLedger, AReserveBeyondTheAvailableBalanceFailsAndChangesNothing) {
  seed();
  auto funding = sample_payin(kA, "fund", "PFUND", 500, PayInState::kPaid);
  funding.amount = funding.paid = Money::from_fen(1'000);
  funding.fee = Money{};
  paid_in(funding);
  ASSERT_EQ(store_->read()->balance("merchant:10001:available"), Money::from_fen(1'000));
  // 900 + 101 is one fen more than there is. The closure commits anyway: post() itself must change nothing.
  auto st = post(ledger::payout_reserve(kA, PayoutId{"W1"}, Money::from_fen(900), Money::from_fen(101)));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
  {
    auto tx = store_->read();
    EXPECT_EQ(tx->balance("merchant:10001:available"), Money::from_fen(1'000));
    EXPECT_EQ(tx->balance("merchant:10001:payout_reserved"), Money{});
    EXPECT_TRUE(tx->postings_for_reference("W1").empty());
    auto check = tx->check_ledger();
    EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
    EXPECT_EQ(check.entries, 1);
    EXPECT_EQ(check.accounts, 2);  // the reserve account was not left behind
  }
  // Exactly the balance is fine and leaves zero.
  ASSERT_TRUE(post(ledger::payout_reserve(kA, PayoutId{"W1"}, Money::from_fen(900), Money::from_fen(100))).ok());
  auto tx = store_->read();
  EXPECT_EQ(tx->balance("merchant:10001:available"), Money{});
  EXPECT_EQ(tx->balance("merchant:10001:payout_reserved"), Money::from_fen(1'000));
  EXPECT_EQ(tx->postings_for_reference("W1").size(), 2u);
}

TEST_P(GatewayLedger, GatewayRowsSurviveCloseAndReopen) {
  consistent();
  write([](Tx& tx) { tx.set_merchant_channel(sample_channel(kA, 7)); });
  reopen();
  auto tx = store_->read();
  EXPECT_TRUE(tx->check_ledger().ok);
  EXPECT_EQ(tx->payins({}).size(), 5u);
  EXPECT_EQ(tx->payouts({}).size(), 10u);
  expect_same_channel(*tx->merchant_channel(kA, 7), sample_channel(kA, 7));
  expect_same_payout(*tx->payout_by_id(PayoutId{"WOK1"}),
                     sample_payout(kA, "mrn-WOK1", "WOK1", 1'001, PayoutState::kApproval));
}

// ---------------------------------------------------------------------------------------------------------------
// Cashier: merchant settlement settings, cashier orders and their ledger

TEST_P(StoreConformance, MerchantCashierSettingsRoundTripAndDefaultToNone) {
  auto plain = sample_merchant("p");
  auto delayed = sample_merchant("d");
  delayed.settlement_delay_days = 7;
  delayed.bound_card_allowed = true;
  auto [p, d] = written([&](Tx& tx) { return std::pair{tx.insert_merchant(plain), tx.insert_merchant(delayed)}; });
  {
    auto tx = store_->read();
    EXPECT_EQ(tx->merchant(p)->settlement_delay_days, 0);
    EXPECT_FALSE(tx->merchant(p)->bound_card_allowed);
    EXPECT_EQ(tx->merchant(d)->settlement_delay_days, 7);
    EXPECT_TRUE(tx->merchant(d)->bound_card_allowed);
    EXPECT_EQ(tx->merchant_by_app_key("app-d")->settlement_delay_days, 7);
    EXPECT_TRUE(tx->merchant_by_app_key("app-d")->bound_card_allowed);
    EXPECT_EQ(tx->merchants()[1].settlement_delay_days, 7);
    EXPECT_TRUE(tx->merchants()[1].bound_card_allowed);
  }
  auto changed = *store_->read()->merchant(d);
  changed.settlement_delay_days = 0;
  changed.bound_card_allowed = false;
  auto other = *store_->read()->merchant(p);
  other.settlement_delay_days = 365;  // the most there may be
  other.bound_card_allowed = true;
  write([&](Tx& tx) {
    tx.update_merchant(changed);
    tx.update_merchant(other);
  });
  auto tx = store_->read();
  expect_same_merchant(*tx->merchant(d), changed);
  expect_same_merchant(*tx->merchant(p), other);
}

TEST_P(StoreConformance, AMerchantSettlementDelayIsZeroToAYear) {
  seed();
  for (int days : {-1, 366, 100'000}) {
    auto m = *store_->read()->merchant(kA);
    m.settlement_delay_days = days;
    auto st = store_->write_sync([&](Tx& tx) {
      tx.update_merchant(m);
      return ok_status();
    });
    EXPECT_FALSE(st.ok()) << days;
    auto fresh = sample_merchant("n" + std::to_string(days));
    fresh.settlement_delay_days = days;
    st = store_->write_sync([&](Tx& tx) {
      tx.insert_merchant(fresh);
      return ok_status();
    });
    EXPECT_FALSE(st.ok()) << days;
  }
  auto tx = store_->read();
  EXPECT_EQ(tx->merchant(kA)->settlement_delay_days, 0);
  EXPECT_EQ(tx->merchants().size(), 2u);
}

using orders::CashierOrder;
using orders::CashierState;

constexpr int64_t kDayMs = 86'400'000;

// An order of 100.00 at 2% (fee 2.00, net 98.00), with a bound card unless told otherwise. Paid states carry what
// paying fixed: fee, paid time, and for pending ones the settlement time; held ones were paid before the hold.
CashierOrder sample_cashier(MerchantId merchant, const std::string& orderid, const std::string& id, int64_t created_ms,
                            CashierState state = CashierState::kUnpaid) {
  CashierOrder o;
  o.merchant_id = merchant;
  o.id = CashierId{id};
  o.orderid = orderid;
  o.action = "Bank";
  o.method = "Bank";
  o.amount = Money::from_fen(10'000);
  o.backurl = "https://merchant.example.com/back?o=" + orderid;
  o.fronturl = "https://merchant.example.com/front";
  o.accname = "王五";
  o.accno = "6222020200112233" + std::to_string(created_ms % 1000);
  o.request_fingerprint = "rq-" + orderid;
  o.state = state;
  o.fee_rate = RatePermille{20};
  o.message = std::string(orders::cashier_state_name(state));
  if (state != CashierState::kUnpaid && state != CashierState::kFailed) {
    o.fee = apply_rate_half_up(o.amount, o.fee_rate);
    o.paid_at_ms = created_ms + 500;
  }
  if (state == CashierState::kPending) o.settle_after_ms = created_ms + kDayMs;
  if (state == CashierState::kHeld) o.held_from = CashierState::kPaid;
  o.expires_at_ms = created_ms + 1'800'000;
  o.created_at_ms = created_ms;
  o.updated_at_ms = created_ms;
  return o;
}

void expect_same_cashier(const CashierOrder& a, const CashierOrder& b) {
  EXPECT_EQ(a.merchant_id, b.merchant_id);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.orderid, b.orderid);
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.backurl, b.backurl);
  EXPECT_EQ(a.fronturl, b.fronturl);
  EXPECT_EQ(a.accname, b.accname);
  EXPECT_EQ(a.accno, b.accno);
  EXPECT_EQ(a.request_fingerprint, b.request_fingerprint);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.held_from, b.held_from);
  EXPECT_EQ(a.fee, b.fee);
  EXPECT_EQ(a.fee_rate, b.fee_rate);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.paid_at_ms, b.paid_at_ms);
  EXPECT_EQ(a.settle_after_ms, b.settle_after_ms);
  EXPECT_EQ(a.expires_at_ms, b.expires_at_ms);
  EXPECT_EQ(a.created_at_ms, b.created_at_ms);
  EXPECT_EQ(a.updated_at_ms, b.updated_at_ms);
}

std::vector<std::string> cashier_ids(const std::vector<CashierOrder>& orders) {
  std::vector<std::string> out;
  for (const auto& o : orders) out.push_back(o.id.value());
  return out;
}

TEST_P(StoreConformance, InsertCashierOrderRoundTripsEveryField) {
  seed();
  auto bound = sample_cashier(kA, "ORDER0001", "Q1", 1'000);
  // No bound card, no front URL, Arbi before the customer chose; and one inserted already held from pending.
  auto bare = sample_cashier(kA, "ORDER0002", "Q2", 2'000);
  bare.action = "Arbi";
  bare.method = "";
  bare.fronturl = "";
  bare.accname = "";
  bare.accno = "";
  auto held = sample_cashier(kB, "ORDER0001", "Q3", 3'000, CashierState::kHeld);
  held.held_from = CashierState::kPending;
  held.settle_after_ms = 3'000 + 3 * kDayMs;
  held.fee = Money{};
  held.fee_rate = RatePermille{0};
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_cashier_order(bound); }).ok());
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_cashier_order(bare); }).ok());
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_cashier_order(held); }).ok());
  auto tx = store_->read();
  auto by_orderid = tx->cashier_order(kA, "ORDER0001");
  ASSERT_TRUE(by_orderid.has_value());
  expect_same_cashier(*by_orderid, bound);
  auto by_id = tx->cashier_order_by_id(CashierId{"Q2"});
  ASSERT_TRUE(by_id.has_value());
  expect_same_cashier(*by_id, bare);
  EXPECT_TRUE(by_id->accname.empty());
  EXPECT_TRUE(by_id->accno.empty());
  expect_same_cashier(*tx->cashier_order(kB, "ORDER0001"), held);
  expect_same_cashier(*tx->cashier_order_by_id(CashierId{"Q3"}), held);
  EXPECT_FALSE(tx->cashier_order(kB, "ORDER0002").has_value());
  EXPECT_FALSE(tx->cashier_order(kA, "ORDER0003").has_value());
  EXPECT_FALSE(tx->cashier_order_by_id(CashierId{"Q404"}).has_value());
  tx.reset();
  // A write transaction reads them the same (on PostgreSQL through the locking statements).
  auto locked_by_orderid = written([](Tx& tx) { return tx.cashier_order(kA, "ORDER0001"); });
  ASSERT_TRUE(locked_by_orderid.has_value());
  expect_same_cashier(*locked_by_orderid, bound);
  auto locked_by_id = written([](Tx& tx) { return tx.cashier_order_by_id(CashierId{"Q3"}); });
  ASSERT_TRUE(locked_by_id.has_value());
  expect_same_cashier(*locked_by_id, held);
  EXPECT_FALSE(written([](Tx& tx) { return tx.cashier_order_by_id(CashierId{"Q404"}); }).has_value());
}

TEST_P(StoreConformance, ADuplicateCashierOrderidIsAlreadyExistsWhateverTheId) {
  seed();
  auto first = sample_cashier(kA, "ORDER0001", "Q1", 1'000);
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_cashier_order(first); }).ok());
  // A new id, and the same id too: the orderid is what the merchant must hear about.
  for (const char* id : {"Q2", "Q1"}) {
    auto again = sample_cashier(kA, "ORDER0001", id, 2'000);
    again.amount = Money::from_fen(1);
    again.fee_rate = RatePermille{0};
    auto st = written([&](Tx& tx) { return tx.insert_cashier_order(again); });
    ASSERT_FALSE(st.ok()) << id;
    EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(st.error().message, "duplicate orderid") << id;
  }
  auto tx = store_->read();
  expect_same_cashier(*tx->cashier_order(kA, "ORDER0001"), first);
  EXPECT_FALSE(tx->cashier_order_by_id(CashierId{"Q2"}).has_value());
  tx.reset();
  // The same orderid is fine for another merchant.
  EXPECT_TRUE(
      written([&](Tx& tx) { return tx.insert_cashier_order(sample_cashier(kB, "ORDER0001", "Q3", 3'000)); }).ok());
}

TEST_P(StoreConformance, ATakenCashierIdIsACollision) {
  seed();
  ASSERT_TRUE(
      written([&](Tx& tx) { return tx.insert_cashier_order(sample_cashier(kA, "ORDER0001", "Q1", 1'000)); }).ok());
  for (auto merchant : {kA, kB}) {
    auto st =
        written([&](Tx& tx) { return tx.insert_cashier_order(sample_cashier(merchant, "ORDER0002", "Q1", 2'000)); });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
    // The cashier service draws a new id on exactly this message.
    EXPECT_EQ(st.error().message, "cashier id collision");
  }
  auto tx = store_->read();
  EXPECT_FALSE(tx->cashier_order(kA, "ORDER0002").has_value());
  EXPECT_FALSE(tx->cashier_order(kB, "ORDER0002").has_value());
  EXPECT_EQ(tx->cashier_order_by_id(CashierId{"Q1"})->orderid, "ORDER0001");
}

TEST_P(StoreConformance, UpdateCashierOrderChangesStateFields) {
  seed();
  auto o = sample_cashier(kA, "ORDER0001", "Q1", 1'000);
  o.action = "Arbi";
  o.method = "";
  auto other = sample_cashier(kA, "ORDER0002", "Q2", 1'000);
  write([&](Tx& tx) {
    EXPECT_TRUE(tx.insert_cashier_order(o).ok());
    EXPECT_TRUE(tx.insert_cashier_order(other).ok());
  });
  // Paid with the method the customer chose, its fee fixed, pending for three days.
  auto pending = o;
  pending.method = "WeiXin";
  pending.state = CashierState::kPending;
  pending.fee_rate = RatePermille{15};
  pending.fee = Money::from_fen(150);
  pending.message = "pending settlement";
  pending.paid_at_ms = 5'000;
  pending.settle_after_ms = 5'000 + 3 * kDayMs;
  pending.expires_at_ms = 4'000;
  pending.updated_at_ms = 5'000;
  write([&](Tx& tx) { tx.update_cashier_order(pending); });
  expect_same_cashier(*store_->read()->cashier_order(kA, "ORDER0001"), pending);
  // Held by an operator, then released.
  auto held = pending;
  held.state = CashierState::kHeld;
  held.held_from = CashierState::kPending;
  held.message = "held";
  held.updated_at_ms = 6'000;
  write([&](Tx& tx) { tx.update_cashier_order(held); });
  expect_same_cashier(*store_->read()->cashier_order_by_id(CashierId{"Q1"}), held);
  auto released = held;
  released.state = CashierState::kPaid;
  released.message = "released";
  released.updated_at_ms = 7'000;
  write([&](Tx& tx) { tx.update_cashier_order(released); });
  auto tx = store_->read();
  expect_same_cashier(*tx->cashier_order_by_id(CashierId{"Q1"}), released);
  EXPECT_EQ(tx->cashier_order_by_id(CashierId{"Q1"})->accno, o.accno) << "the sealed card survives updates";
  expect_same_cashier(*tx->cashier_order(kA, "ORDER0002"), other);
}

TEST_P(StoreConformance, UpdatingAMissingCashierOrderFailsTheRequest) {
  seed();
  ASSERT_TRUE(
      written([&](Tx& tx) { return tx.insert_cashier_order(sample_cashier(kA, "ORDER0001", "Q1", 1'000)); }).ok());
  // The key is (merchant, id): the right id under another merchant is missing too.
  for (auto o : {sample_cashier(kA, "ORDER0009", "Q9", 1'000), sample_cashier(kB, "ORDER0001", "Q1", 1'000)}) {
    auto st = store_->write_sync([&](Tx& tx) {
      tx.enqueue_notification(sample_notification("U-" + o.id.value(), 1'000));
      o.state = CashierState::kFailed;
      tx.update_cashier_order(o);
      return ok_status();
    });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  }
  auto tx = store_->read();
  EXPECT_EQ(tx->pending_notifications(), 0);
  EXPECT_EQ(tx->cashier_order(kA, "ORDER0001")->state, CashierState::kUnpaid);
  EXPECT_FALSE(tx->cashier_order(kB, "ORDER0001").has_value());
}

TEST_P(StoreConformance, ExpiredCashierOrdersAreUnpaidOnesByExpiry) {
  seed();
  auto mk = [](MerchantId m, const std::string& id, int64_t expires, CashierState state) {
    auto o = sample_cashier(m, "ORDER" + id, id, 1'000, state);
    o.expires_at_ms = expires;
    return o;
  };
  write([&](Tx& tx) {
    for (const auto& o : {mk(kA, "Q1", 300, CashierState::kUnpaid), mk(kB, "Q2", 100, CashierState::kUnpaid),
                          mk(kA, "Q3", 200, CashierState::kUnpaid), mk(kA, "Q0", 200, CashierState::kUnpaid),
                          mk(kA, "Q4", 50, CashierState::kPaid), mk(kB, "Q5", 10, CashierState::kFailed),
                          mk(kA, "Q6", 20, CashierState::kPending), mk(kB, "Q7", 30, CashierState::kHeld),
                          mk(kA, "Q8", 5'000, CashierState::kUnpaid)}) {
      EXPECT_TRUE(tx.insert_cashier_order(o).ok()) << o.id.value();
    }
  });
  using V = std::vector<std::string>;
  {
    auto tx = store_->read();
    EXPECT_TRUE(tx->cashier_orders_expired(99, 10).empty());
    EXPECT_EQ(cashier_ids(tx->cashier_orders_expired(100, 10)), (V{"Q2"}));              // at exactly expires_at_ms
    EXPECT_EQ(cashier_ids(tx->cashier_orders_expired(250, 10)), (V{"Q2", "Q0", "Q3"}));  // the id breaks the tie
    EXPECT_EQ(cashier_ids(tx->cashier_orders_expired(1'000, 10)), (V{"Q2", "Q0", "Q3", "Q1"}));
    EXPECT_EQ(cashier_ids(tx->cashier_orders_expired(1'000, 2)), (V{"Q2", "Q0"}));
    EXPECT_EQ(cashier_ids(tx->cashier_orders_expired(1'000, 1)), (V{"Q2"}));
    EXPECT_EQ(tx->next_cashier_expiry_ms(), 100);
    EXPECT_EQ(tx->cashier_orders_expired(1'000, 1)[0].accno, mk(kB, "Q2", 100, CashierState::kUnpaid).accno);
  }
  // The same in a write transaction (which locks on engines with several writers).
  EXPECT_EQ(cashier_ids(written([](Tx& tx) { return tx.cashier_orders_expired(1'000, 3); })), (V{"Q2", "Q0", "Q3"}));
  // Failing the oldest moves the next expiry on; none unpaid, none next.
  write([&](Tx& tx) {
    for (auto o : tx.cashier_orders_expired(150, 10)) {
      o.state = CashierState::kFailed;
      o.message = "expired";
      tx.update_cashier_order(o);
    }
  });
  EXPECT_EQ(store_->read()->cashier_order_by_id(CashierId{"Q2"})->message, "expired");
  EXPECT_EQ(store_->read()->next_cashier_expiry_ms(), 200);
  // Paying one takes it out of the sweep as well.
  write([&](Tx& tx) {
    auto q0 = *tx.cashier_order_by_id(CashierId{"Q0"});
    q0.state = CashierState::kPaid;
    tx.update_cashier_order(q0);
  });
  EXPECT_EQ(cashier_ids(store_->read()->cashier_orders_expired(1'000, 10)), (V{"Q3", "Q1"}));
  write([&](Tx& tx) {
    for (auto o : tx.cashier_orders_expired(10'000, 10)) {
      o.state = CashierState::kFailed;
      tx.update_cashier_order(o);
    }
  });
  EXPECT_FALSE(store_->read()->next_cashier_expiry_ms().has_value());
  EXPECT_TRUE(store_->read()->cashier_orders_expired(10'000, 10).empty());
}

TEST_P(StoreConformance, CashierOrdersToSettleArePendingOnesBySettleAfter) {
  seed();
  auto mk = [](MerchantId m, const std::string& id, int64_t settle_after, CashierState state) {
    auto o = sample_cashier(m, "ORDER" + id, id, 1'000, state);
    o.settle_after_ms = settle_after;
    o.expires_at_ms = 0;  // long expired: only unpaid orders expire
    return o;
  };
  write([&](Tx& tx) {
    for (const auto& o : {mk(kA, "Q1", 300, CashierState::kPending), mk(kB, "Q2", 100, CashierState::kPending),
                          mk(kA, "Q3", 200, CashierState::kPending), mk(kA, "Q0", 200, CashierState::kPending),
                          mk(kA, "Q4", 50, CashierState::kPaid), mk(kB, "Q5", 10, CashierState::kHeld),
                          mk(kA, "Q6", 20, CashierState::kUnpaid), mk(kB, "Q7", 30, CashierState::kFailed),
                          mk(kA, "Q8", 5'000, CashierState::kPending)}) {
      EXPECT_TRUE(tx.insert_cashier_order(o).ok()) << o.id.value();
    }
  });
  using V = std::vector<std::string>;
  {
    auto tx = store_->read();
    EXPECT_TRUE(tx->cashier_orders_to_settle(99, 10).empty());
    EXPECT_EQ(cashier_ids(tx->cashier_orders_to_settle(100, 10)), (V{"Q2"}));  // at exactly settle_after_ms
    EXPECT_EQ(cashier_ids(tx->cashier_orders_to_settle(250, 10)), (V{"Q2", "Q0", "Q3"}));
    EXPECT_EQ(cashier_ids(tx->cashier_orders_to_settle(1'000, 10)), (V{"Q2", "Q0", "Q3", "Q1"}));
    EXPECT_EQ(cashier_ids(tx->cashier_orders_to_settle(1'000, 2)), (V{"Q2", "Q0"}));
    EXPECT_EQ(tx->next_cashier_settlement_ms(), 100);
    EXPECT_EQ(tx->next_cashier_expiry_ms(), 0) << "Q6 is the one unpaid order";
  }
  EXPECT_EQ(cashier_ids(written([](Tx& tx) { return tx.cashier_orders_to_settle(1'000, 3); })), (V{"Q2", "Q0", "Q3"}));
  // Settling moves the next settlement on; a hold takes an order out too.
  write([&](Tx& tx) {
    for (auto o : tx.cashier_orders_to_settle(150, 10)) {
      o.state = CashierState::kPaid;
      o.message = "settled";
      tx.update_cashier_order(o);
    }
    auto q0 = *tx.cashier_order(kA, "ORDERQ0");
    q0.held_from = q0.state;
    q0.state = CashierState::kHeld;
    tx.update_cashier_order(q0);
  });
  EXPECT_EQ(store_->read()->cashier_order_by_id(CashierId{"Q2"})->message, "settled");
  EXPECT_EQ(store_->read()->next_cashier_settlement_ms(), 200);
  EXPECT_EQ(cashier_ids(store_->read()->cashier_orders_to_settle(10'000, 10)), (V{"Q3", "Q1", "Q8"}));
  write([&](Tx& tx) {
    for (auto o : tx.cashier_orders_to_settle(10'000, 10)) {
      o.state = CashierState::kPaid;
      tx.update_cashier_order(o);
    }
  });
  EXPECT_FALSE(store_->read()->next_cashier_settlement_ms().has_value());
  EXPECT_TRUE(store_->read()->cashier_orders_to_settle(10'000, 10).empty());
}

class CashierListing : public StoreConformance {
 protected:
  // Newest first: a5, a4, b1, a3, a2, a1; a2 and a3 share created_at_ms.
  void SetUp() override {
    StoreConformance::SetUp();
    if (IsSkipped()) return;
    seed();
    write([](Tx& tx) {
      EXPECT_TRUE(tx.insert_cashier_order(sample_cashier(kA, "ORDERa1", "QA1", 1'000, CashierState::kUnpaid)).ok());
      EXPECT_TRUE(tx.insert_cashier_order(sample_cashier(kA, "ORDERa2", "QA2", 2'000, CashierState::kPaid)).ok());
      EXPECT_TRUE(tx.insert_cashier_order(sample_cashier(kA, "ORDERa3", "QA3", 2'000, CashierState::kPending)).ok());
      EXPECT_TRUE(tx.insert_cashier_order(sample_cashier(kA, "ORDERa4", "QA4", 3'000, CashierState::kUnpaid)).ok());
      EXPECT_TRUE(tx.insert_cashier_order(sample_cashier(kA, "ORDERa5", "QA5", 4'000, CashierState::kHeld)).ok());
      EXPECT_TRUE(tx.insert_cashier_order(sample_cashier(kB, "ORDERb1", "QB1", 2'500, CashierState::kUnpaid)).ok());
    });
  }

  std::vector<std::string> list(CashierFilter f) { return cashier_ids(store_->read()->cashier_orders(f)); }
};

TEST_P(CashierListing, NewestFirstWithFilters) {
  using V = std::vector<std::string>;
  EXPECT_EQ(list({}), (V{"QA5", "QA4", "QB1", "QA3", "QA2", "QA1"}));
  CashierFilter f;
  f.limit = 2;
  EXPECT_EQ(list(f), (V{"QA5", "QA4"}));
  f.limit = std::numeric_limits<size_t>::max();  // capped, not taken as -1
  EXPECT_EQ(list(f).size(), 6u);
  CashierFilter mine;
  mine.merchant_id = kA;
  EXPECT_EQ(list(mine), (V{"QA5", "QA4", "QA3", "QA2", "QA1"}));
  mine.merchant_id = MerchantId{99'999};
  EXPECT_TRUE(list(mine).empty());
  CashierFilter unpaid;
  unpaid.state = CashierState::kUnpaid;
  EXPECT_EQ(list(unpaid), (V{"QA4", "QB1", "QA1"}));
  unpaid.merchant_id = kB;
  EXPECT_EQ(list(unpaid), (V{"QB1"}));
  CashierFilter one;
  for (auto [state, id] : {std::pair{CashierState::kPaid, "QA2"}, std::pair{CashierState::kPending, "QA3"},
                           std::pair{CashierState::kHeld, "QA5"}}) {
    one.state = state;
    EXPECT_EQ(list(one), (V{id})) << orders::cashier_state_name(state);
  }
  one.state = CashierState::kFailed;
  EXPECT_TRUE(list(one).empty());
  // Listed orders carry their bound card opened.
  one.state = CashierState::kHeld;
  EXPECT_EQ(store_->read()->cashier_orders(one)[0].accno, sample_cashier(kA, "ORDERa5", "QA5", 4'000).accno);
}

TEST_P(CashierListing, KeysetPaginationVisitsEachOnce) {
  using V = std::vector<std::string>;
  auto all_pages = [&](CashierFilter f, size_t page, size_t* pages) {
    std::vector<std::string> out;
    f.limit = page;
    *pages = 0;
    for (int guard = 0; guard < 100; ++guard) {
      auto got = store_->read()->cashier_orders(f);
      if (got.empty()) break;
      ++*pages;
      EXPECT_LE(got.size(), page);
      for (const auto& o : got) out.push_back(o.id.value());
      f.before = std::pair{got.back().created_at_ms, got.back().id.value()};
    }
    return out;
  };
  size_t pages = 0;
  EXPECT_EQ(all_pages(CashierFilter{}, 2, &pages), (V{"QA5", "QA4", "QB1", "QA3", "QA2", "QA1"}));
  EXPECT_EQ(pages, 3u);
  CashierFilter f;
  f.before = std::pair{int64_t{2'000}, std::string("QA3")};  // between the two that share created_at_ms
  EXPECT_EQ(list(f), (V{"QA2", "QA1"}));
  CashierFilter mine;
  mine.merchant_id = kA;
  EXPECT_EQ(all_pages(mine, 1, &pages), (V{"QA5", "QA4", "QA3", "QA2", "QA1"}));
  EXPECT_EQ(pages, 5u);
  CashierFilter unpaid;
  unpaid.state = CashierState::kUnpaid;
  EXPECT_EQ(all_pages(unpaid, 2, &pages), (V{"QA4", "QB1", "QA1"}));
  EXPECT_EQ(pages, 2u);
}

TEST_P(StoreConformance, CashierBoundCardsAreNotStoredInPlaintext) {
  seed();
  const std::string accname = "ACCNAME-PLAINTEXT-Zhao-6613";
  const std::string accno = "6222998877665544332";
  const std::string visible = "https://VISIBLE-BACKURL-4242.example.com/back";
  auto o = sample_cashier(kA, "ORDERSECRET", "QSECRET", 1'000);
  o.accname = accname;
  o.accno = accno;
  o.backurl = visible;
  ASSERT_TRUE(written([&](Tx& tx) { return tx.insert_cashier_order(o); }).ok());
  EXPECT_EQ(store_->read()->cashier_order_by_id(CashierId{"QSECRET"})->accname, accname);
  EXPECT_EQ(store_->read()->cashier_order(kA, "ORDERSECRET")->accno, accno);
  EXPECT_EQ(store_->read()->cashier_orders({})[0].accno, accno);
  shut();
  std::string bytes = harness_->bytes_at_rest();
  ASSERT_FALSE(bytes.empty());
  EXPECT_NE(bytes.find(visible), std::string::npos) << "positive control: the search sees the row";
  EXPECT_EQ(bytes.find(accname), std::string::npos) << "account name stored in plaintext";
  EXPECT_EQ(bytes.find(accno), std::string::npos) << "account number stored in plaintext";
}

// The ledger of the cashier: what check_ledger expects of cashier orders and the merchants' pending and frozen
// accounts. Each order is 100.00 with a fee of 2.00 (net 98.00) unless told otherwise.
class CashierLedger : public StoreConformance {
 protected:
  static constexpr int64_t kNet = 9'800;

  Status post(const ledger::Entry& e) {
    return written([&](Tx& tx) { return tx.post(e, 5'000); });
  }
  // Inserts the order and posts what its history means.
  enum class History {
    kNone,             // unpaid, or failed unpaid
    kPaid,             // paid, settled at once
    kPending,          // paid into pending
    kSettled,          // paid into pending, then settled: paid
    kHeldFromPaid,     // paid, then held
    kHeldFromPending,  // paid into pending, then held
    kHeldAtOnce,       // the sandbox's 1004: paid straight into frozen
    kReleased,         // paid, held, released: paid
    kReturned,         // paid, held, returned to the payer: failed
  };
  void order(const CashierOrder& o, History h) {
    write([&](Tx& tx) {
      EXPECT_TRUE(tx.insert_cashier_order(o).ok()) << o.id.value();
      auto m = o.merchant_id;
      Money net = *o.amount.checked_sub(o.fee);
      auto pay = [&](const ledger::Account& to) {
        EXPECT_TRUE(tx.post(ledger::cashier_pay(o.id, to, o.amount, o.fee), 5'000).ok()) << o.id.value();
      };
      auto move = [&](std::string_view kind, const ledger::Account& from, const ledger::Account& to) {
        EXPECT_TRUE(tx.post(ledger::cashier_move(kind, o.id, from, to, net), 6'000).ok()) << o.id.value();
      };
      switch (h) {
        case History::kNone:
          break;
        case History::kPaid:
          pay(ledger::merchant_available(m));
          break;
        case History::kPending:
          pay(ledger::merchant_pending(m));
          break;
        case History::kSettled:
          pay(ledger::merchant_pending(m));
          move(ledger::kCashierSettle, ledger::merchant_pending(m), ledger::merchant_available(m));
          break;
        case History::kHeldFromPaid:
          pay(ledger::merchant_available(m));
          move(ledger::kCashierHold, ledger::merchant_available(m), ledger::merchant_frozen(m));
          break;
        case History::kHeldFromPending:
          pay(ledger::merchant_pending(m));
          move(ledger::kCashierHold, ledger::merchant_pending(m), ledger::merchant_frozen(m));
          break;
        case History::kHeldAtOnce:
          pay(ledger::merchant_frozen(m));
          break;
        case History::kReleased:
          pay(ledger::merchant_available(m));
          move(ledger::kCashierHold, ledger::merchant_available(m), ledger::merchant_frozen(m));
          move(ledger::kCashierRelease, ledger::merchant_frozen(m), ledger::merchant_available(m));
          break;
        case History::kReturned:
          pay(ledger::merchant_available(m));
          move(ledger::kCashierHold, ledger::merchant_available(m), ledger::merchant_frozen(m));
          EXPECT_TRUE(tx.post(ledger::cashier_return(m, o.id, o.amount, o.fee), 7'000).ok()) << o.id.value();
          break;
      }
    });
  }
  CashierOrder in_state(MerchantId m, const std::string& id, CashierState state,
                        CashierState held_from = CashierState::kPaid) {
    auto o = sample_cashier(m, "ORDER" + id, id, 1'000, state);
    if (state == CashierState::kHeld) o.held_from = held_from;
    return o;
  }
  // A consistent set: every history, for both merchants.
  void consistent() {
    seed();
    for (auto m : {kA, kB}) {
      std::string p = m == kA ? "QOKA" : "QOKB";
      order(in_state(m, p + "1", CashierState::kUnpaid), History::kNone);
      order(in_state(m, p + "2", CashierState::kFailed), History::kNone);
      order(in_state(m, p + "3", CashierState::kPaid), History::kPaid);
      order(in_state(m, p + "4", CashierState::kPending), History::kPending);
      order(in_state(m, p + "5", CashierState::kPaid), History::kSettled);
      order(in_state(m, p + "6", CashierState::kHeld), History::kHeldFromPaid);
      order(in_state(m, p + "7", CashierState::kHeld, CashierState::kPending), History::kHeldFromPending);
      order(in_state(m, p + "8", CashierState::kHeld, CashierState::kUnpaid), History::kHeldAtOnce);
      order(in_state(m, p + "9", CashierState::kPaid), History::kReleased);
      auto returned = in_state(m, p + "10", CashierState::kFailed);
      returned.fee = Money::from_fen(200);  // a failed order keeps the fee it was paid with
      order(returned, History::kReturned);
    }
    // A pending order of merchant A paid free of fee.
    auto free_of_fee = in_state(kA, "QOKA11", CashierState::kPending);
    free_of_fee.fee = Money{};
    order(free_of_fee, History::kPending);
  }
  std::vector<std::string> problems() { return store_->read()->check_ledger().problems; }
  static bool mentions(const std::vector<std::string>& problems, const std::string& what) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(what) != std::string::npos; });
  }
};

TEST_P(CashierLedger, AConsistentCashierLedgerPasses) {
  consistent();
  auto tx = store_->read();
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  // Pending: one pending order each (A also the fee-free one); frozen: three held orders each.
  EXPECT_EQ(tx->balance(ledger::merchant_pending(kA).code), Money::from_fen(kNet + 10'000));
  EXPECT_EQ(tx->balance(ledger::merchant_pending(kB).code), Money::from_fen(kNet));
  EXPECT_EQ(tx->balance(ledger::merchant_frozen(kA).code), Money::from_fen(3 * kNet));
  EXPECT_EQ(tx->balance(ledger::merchant_frozen(kB).code), Money::from_fen(3 * kNet));
  // Available: paid at once, settled, released.
  EXPECT_EQ(tx->balance(ledger::merchant_available(kA).code), Money::from_fen(3 * kNet));
  // The payers paid 8 orders each (plus the fee-free one) and one each was returned.
  EXPECT_EQ(tx->balance(ledger::cashier_clearing().code), Money::from_fen(-(2 * 7 * 10'000 + 10'000)));
  EXPECT_EQ(tx->balance(ledger::platform_revenue().code), Money::from_fen(2 * 7 * 200));
}

TEST_P(CashierLedger, OrdersWithTheWrongNumberOfPaysAreReported) {
  consistent();
  write([&](Tx& tx) {
    // Paid without a pay (pending and held ones without: the next test, as their merchants' balances fall short).
    EXPECT_TRUE(tx.insert_cashier_order(in_state(kA, "QX1", CashierState::kPaid)).ok());
    // Unpaid and failed (no return) with one; paid with two.
    EXPECT_TRUE(tx.insert_cashier_order(in_state(kA, "QX2", CashierState::kUnpaid)).ok());
    EXPECT_TRUE(tx.insert_cashier_order(in_state(kB, "QX3", CashierState::kFailed)).ok());
    auto avail = ledger::merchant_available(kA);
    for (const char* id : {"QX2", "QX3", "QOKA3"}) {
      EXPECT_TRUE(tx.post(ledger::cashier_pay(CashierId{id}, avail, Money::from_fen(100), Money::from_fen(1)), 1).ok());
    }
    // Failed with a return but no pay. The return takes frozen money: a pay into frozen under another reference
    // (no order) puts it there first, so the frozen balance still matches the held orders.
    auto returned = in_state(kB, "QX4", CashierState::kFailed);
    EXPECT_TRUE(tx.insert_cashier_order(returned).ok());
    EXPECT_TRUE(
        tx.post(ledger::cashier_pay(CashierId{"QSPARE"}, ledger::merchant_frozen(kB), returned.amount, returned.fee), 1)
            .ok());
    EXPECT_TRUE(tx.post(ledger::cashier_return(kB, returned.id, returned.amount, returned.fee), 2).ok());
  });
  auto got = problems();
  for (const char* bad : {"paid cashier order QX1 has 0 cashier.pay and 0 cashier.return entries",
                          "unpaid cashier order QX2 has 1 cashier.pay and 0 cashier.return entries",
                          "failed cashier order QX3 has 1 cashier.pay and 0 cashier.return entries",
                          "paid cashier order QOKA3 has 2 cashier.pay and 0 cashier.return entries",
                          "failed cashier order QX4 has 0 cashier.pay and 1 cashier.return entries"}) {
    EXPECT_TRUE(mentions(got, bad)) << bad << " in " << ::testing::PrintToString(got);
  }
  EXPECT_EQ(got.size(), 5u) << ::testing::PrintToString(got);
  EXPECT_FALSE(mentions(got, "QSPARE")) << "entries without an order are not orders";
}

TEST_P(CashierLedger, PendingAndHeldOrdersWithoutTheirPayAreReported) {
  consistent();
  write([&](Tx& tx) {
    EXPECT_TRUE(tx.insert_cashier_order(in_state(kA, "QX5", CashierState::kPending)).ok());
    EXPECT_TRUE(tx.insert_cashier_order(in_state(kB, "QX6", CashierState::kHeld)).ok());
  });
  auto got = problems();
  EXPECT_TRUE(mentions(got, "pending cashier order QX5 has 0 cashier.pay and 0 cashier.return entries"))
      << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "held cashier order QX6 has 0 cashier.pay and 0 cashier.return entries"))
      << ::testing::PrintToString(got);
  // Their merchants' accounts hold less than the orders need.
  EXPECT_TRUE(mentions(got, "merchant 10001 has 19800 pending, its pending cashier orders need 29600"))
      << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "merchant 10002 has 29400 frozen, its held cashier orders need 39200"))
      << ::testing::PrintToString(got);
  EXPECT_EQ(got.size(), 4u) << ::testing::PrintToString(got);
}

TEST_P(CashierLedger, APendingOrderThatWasSettledIsReported) {
  consistent();
  // QOKB4 is pending: settle it in the ledger but not in its state. A pay into pending under another reference keeps
  // the pending balance matching, so only the settlement itself is reported.
  write([&](Tx& tx) {
    EXPECT_TRUE(tx.post(ledger::cashier_move(ledger::kCashierSettle, CashierId{"QOKB4"}, ledger::merchant_pending(kB),
                                             ledger::merchant_available(kB), Money::from_fen(kNet)),
                        1)
                    .ok());
    EXPECT_TRUE(tx.post(ledger::cashier_pay(CashierId{"QSPARE"}, ledger::merchant_pending(kB), Money::from_fen(10'000),
                                            Money::from_fen(200)),
                        1)
                    .ok());
  });
  auto got = problems();
  EXPECT_EQ(got, (std::vector<std::string>{"pending cashier order QOKB4 has 1 cashier.settle entries"}));
  // A settled order that is paid is fine.
  write([&](Tx& tx) {
    auto o = *tx.cashier_order_by_id(CashierId{"QOKB4"});
    o.state = CashierState::kPaid;
    tx.update_cashier_order(o);
  });
  // ... but then merchant B's pending account holds QSPARE's net that no pending order needs.
  EXPECT_EQ(problems(),
            (std::vector<std::string>{"merchant 10002 has 9800 pending, its pending cashier orders need 0"}));
}

TEST_P(CashierLedger, PendingAndFrozenBalancesThatDoNotMatchTheOrdersAreReported) {
  consistent();
  // Merchant A: money paid into pending without an order. Merchant B: a held order released in its state but not in
  // the ledger (frozen keeps its net), and money in frozen without an order.
  ASSERT_TRUE(post(ledger::cashier_pay(CashierId{"QGHOST"}, ledger::merchant_pending(kA), Money::from_fen(700),
                                       Money::from_fen(7)))
                  .ok());
  write([&](Tx& tx) {
    auto o = *tx.cashier_order_by_id(CashierId{"QOKB6"});
    o.state = CashierState::kPaid;
    tx.update_cashier_order(o);
  });
  ASSERT_TRUE(post(ledger::cashier_pay(CashierId{"QGHOST2"}, ledger::merchant_frozen(kB), Money::from_fen(50),
                                       Money::from_fen(0)))
                  .ok());
  auto got = problems();
  EXPECT_TRUE(mentions(got, "merchant 10001 has 20493 pending, its pending cashier orders need 19800"))
      << ::testing::PrintToString(got);
  EXPECT_TRUE(mentions(got, "merchant 10002 has 29450 frozen, its held cashier orders need 19600"))
      << ::testing::PrintToString(got);
  EXPECT_EQ(got.size(), 2u) << ::testing::PrintToString(got);
}

TEST_P(CashierLedger, CashierRowsSurviveCloseAndReopen) {
  consistent();
  reopen();
  auto tx = store_->read();
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  CashierFilter all;
  all.limit = 1'000;
  EXPECT_EQ(tx->cashier_orders(all).size(), 21u);
  expect_same_cashier(*tx->cashier_order_by_id(CashierId{"QOKA7"}),
                      in_state(kA, "QOKA7", CashierState::kHeld, CashierState::kPending));
}


// ---------------------------------------------------------------------------------------------------------------
// Portable SQL (Tx::query_sql, Tx::exec_sql): one text, the same answer on every engine.

class PortableSql : public StoreConformance {
 protected:
  void SetUp() override {
    StoreConformance::SetUp();
    if (IsSkipped()) return;
    seed();
  }
  bool on_postgres() const { return store_->engine() == "postgresql"; }
  std::vector<SqlRow> query(std::string_view sql, const std::vector<SqlValue>& params = {}) {
    return store_->read()->query_sql(sql, params);
  }
  // A console user, by SQL as the console creates one; returns its id.
  int64_t add_user(const std::string& name, const std::string& role, std::optional<int64_t> merchant) {
    return written([&](Tx& tx) {
      auto rows = tx.query_sql(
          "INSERT INTO console_users (name, role, merchant_id, password_hash, enabled, created_at_ms, updated_at_ms) "
          "VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING user_id",
          {name, role, merchant ? SqlValue(*merchant) : SqlValue(), std::string("$argon2id$hash-of-") + name,
           int64_t{1}, int64_t{1'700'000'000'000}});
      EXPECT_EQ(rows.size(), 1u);
      return rows.empty() ? int64_t{0} : sql_int(rows[0][0]);
    });
  }
};

TEST_P(PortableSql, ReadsIntegersTextAndNull) {
  auto rows = query("SELECT merchant_id, name, NULL, COUNT(*) OVER (), 42 FROM merchants ORDER BY merchant_id");
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[0].size(), 5u);
  EXPECT_EQ(sql_int(rows[0][0]), 10001);
  EXPECT_EQ(sql_text(rows[0][1]), "Merchant a");
  EXPECT_TRUE(sql_is_null(rows[0][2]));
  EXPECT_EQ(sql_int(rows[0][2]), 0) << "NULL reads as 0";
  EXPECT_EQ(sql_text(rows[0][2]), "") << "and as empty text";
  EXPECT_EQ(sql_int(rows[0][3]), 2);
  EXPECT_EQ(sql_int(rows[0][4]), 42);
  EXPECT_EQ(sql_int(rows[1][0]), 10002);
  EXPECT_FALSE(sql_is_null(rows[1][1]));
  EXPECT_THROW(sql_int(rows[0][1]), StorageFailure) << "text is not an integer";
  EXPECT_THROW(sql_text(rows[0][0]), StorageFailure) << "an integer is not text";

  EXPECT_TRUE(query("SELECT merchant_id FROM merchants WHERE merchant_id = $1", {int64_t{1}}).empty());
  // A parameter whose type the SQL does not fix is text on PostgreSQL: CAST fixes it on both.
  rows = query("SELECT CAST($1 AS BIGINT), CAST($2 AS TEXT)", {int64_t{-9'000'000'000'000}, std::string("t")});
  EXPECT_EQ(sql_int(rows.at(0).at(0)), -9'000'000'000'000);
  EXPECT_EQ(sql_text(rows.at(0).at(1)), "t");
}

TEST_P(PortableSql, RepeatedPlaceholdersTakeOneValue) {
  auto rows = query("SELECT COUNT(*) FROM merchants WHERE merchant_id = $1 OR merchant_id + 1 = $1", {int64_t{10002}});
  EXPECT_EQ(sql_int(rows.at(0).at(0)), 2);
  rows = query("SELECT merchant_id FROM merchants WHERE name = $2 OR app_key = $2 OR merchant_id = $1",
               {int64_t{0}, std::string("app-b")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(sql_int(rows[0][0]), 10002);
}

TEST_P(PortableSql, BooleanColumnsReadAsZeroOrOneAndCompareWithoutIntegerLiterals) {
  write([](Tx& tx) {
    EXPECT_EQ(tx.exec_sql("UPDATE merchants SET enabled = $1, updated_at_ms = $2 WHERE merchant_id = $3",
                          {int64_t{0}, int64_t{1'700'000'000'500}, int64_t{10002}}),
              1);
  });
  EXPECT_FALSE(store_->read()->merchant(kB)->enabled) << "an integer parameter sets a BOOLEAN column";
  auto ids = [&](std::string_view sql, const std::vector<SqlValue>& params = {}) {
    std::vector<int64_t> out;
    for (const auto& row : query(sql, params)) out.push_back(sql_int(row.at(0)));
    return out;
  };
  EXPECT_EQ(ids("SELECT merchant_id FROM merchants WHERE enabled ORDER BY merchant_id"), std::vector<int64_t>{10001});
  EXPECT_EQ(ids("SELECT merchant_id FROM merchants WHERE NOT enabled"), std::vector<int64_t>{10002});
  EXPECT_EQ(ids("SELECT merchant_id FROM merchants WHERE enabled = TRUE"), std::vector<int64_t>{10001});
  EXPECT_EQ(ids("SELECT merchant_id FROM merchants WHERE enabled = $1", {int64_t{0}}), std::vector<int64_t>{10002});
  auto rows = query("SELECT enabled, CASE WHEN enabled THEN 1 ELSE 0 END, payout_manual_approval, "
                    "CAST(SUM(CASE WHEN enabled THEN 1 ELSE 0 END) OVER () AS BIGINT) "
                    "FROM merchants ORDER BY merchant_id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(sql_int(rows[0][0]), 1);
  EXPECT_EQ(sql_int(rows[0][1]), 1);
  EXPECT_EQ(sql_int(rows[0][2]), 0);
  EXPECT_EQ(sql_int(rows[0][3]), 1);
  EXPECT_EQ(sql_int(rows[1][0]), 0);
  EXPECT_EQ(sql_int(rows[1][1]), 0);
  // A comparison is a boolean on PostgreSQL, an integer on SQLite: both read as 0 or 1.
  rows = query("SELECT EXISTS (SELECT 1 FROM merchants WHERE merchant_id = $1), 1 = 2", {int64_t{10001}});
  EXPECT_EQ(sql_int(rows.at(0).at(0)), 1);
  EXPECT_EQ(sql_int(rows.at(0).at(1)), 0);
  if (on_postgres()) {
    // Not portable: PostgreSQL has no BOOLEAN = INTEGER operator.
    EXPECT_THROW(query("SELECT merchant_id FROM merchants WHERE enabled = 1"), StorageFailure);
  }
}

TEST_P(PortableSql, BytesWithNulInsideRoundTrip) {
  std::string card("62\0" "22\xff-1", 7);
  std::string custom("a\0b", 3);
  auto o = sample_order(kA, "m1", "S1", 1'000);
  o.card_number = card;
  o.custom = custom;
  ASSERT_TRUE(insert(o).ok());
  auto rows = query("SELECT card_number, custom FROM consign_orders WHERE card_number = $1", {card});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(sql_text(rows[0][0]), card);
  EXPECT_EQ(sql_text(rows[0][1]), custom);
}

TEST_P(PortableSql, SumsAreCastToBigint) {
  write([](Tx& tx) {
    EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a1", "PA1", 1'000)).ok());
    EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a2", "PA2", 2'000)).ok());
    EXPECT_TRUE(tx.insert_payin(sample_payin(kB, "b1", "PB1", 3'000)).ok());
  });
  auto rows = query(
      "SELECT merchant_id, CAST(SUM(amount_fen) AS BIGINT), COUNT(*), MAX(created_at_ms), "
      "CAST(SUM(amount_fen) AS BIGINT) / COUNT(*), MIN(created_at_ms) / 1000 "
      "FROM gateway_payins GROUP BY merchant_id ORDER BY merchant_id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(sql_int(rows[0][0]), 10001);
  EXPECT_EQ(sql_int(rows[0][1]), 20'100);
  EXPECT_EQ(sql_int(rows[0][2]), 2);
  EXPECT_EQ(sql_int(rows[0][3]), 2'000);
  EXPECT_EQ(sql_int(rows[0][4]), 10'050);
  EXPECT_EQ(sql_int(rows[0][5]), 1);
  EXPECT_EQ(sql_int(rows[1][1]), 10'050);
  // Over no rows SUM is NULL; COALESCE after the CAST (before it, PostgreSQL's sum is still NUMERIC).
  rows = query("SELECT CAST(SUM(amount_fen) AS BIGINT), COALESCE(CAST(SUM(amount_fen) AS BIGINT), 0) "
               "FROM gateway_payins WHERE merchant_id = $1",
               {int64_t{1}});
  EXPECT_TRUE(sql_is_null(rows.at(0).at(0)));
  EXPECT_EQ(sql_int(rows.at(0).at(1)), 0);
  if (on_postgres()) {
    try {
      query("SELECT SUM(amount_fen) FROM gateway_payins");
      ADD_FAILURE() << "PostgreSQL's SUM of BIGINT is NUMERIC, which query_sql refuses";
    } catch (const StorageFailure& e) {
      EXPECT_NE(std::string(e.what()).find("CAST(SUM(x) AS BIGINT)"), std::string::npos) << e.what();
    }
  }
  // Fractions are not read on any engine.
  EXPECT_THROW(query("SELECT 1.5"), StorageFailure);
}

TEST_P(PortableSql, UnionAllOfTwoOrderTablesOrderedAndLimited) {
  write([](Tx& tx) {
    EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a1", "PA1", 1'000)).ok());
    EXPECT_TRUE(tx.insert_payin(sample_payin(kA, "a2", "PA2", 3'000)).ok());
    EXPECT_TRUE(tx.insert_payin(sample_payin(kB, "b1", "PB1", 5'000)).ok());
    EXPECT_TRUE(tx.insert_cashier_order(sample_cashier(kA, "ORDERa1", "QA1", 2'000)).ok());
    EXPECT_TRUE(tx.insert_cashier_order(sample_cashier(kA, "ORDERa2", "QA2", 3'000)).ok());
  });
  const char* sql =
      "SELECT payment_id AS id, 'payin' AS kind, amount_fen, created_at_ms FROM gateway_payins WHERE merchant_id = $1 "
      "UNION ALL "
      "SELECT cashier_id, 'cashier', amount_fen, created_at_ms FROM cashier_orders WHERE merchant_id = $1 "
      "ORDER BY created_at_ms DESC, id DESC LIMIT $2";
  auto rows = query(sql, {int64_t{10001}, int64_t{3}});
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(sql_text(r.at(0)) + "/" + sql_text(r.at(1)));
  EXPECT_EQ(ids, (std::vector<std::string>{"QA2/cashier", "PA2/payin", "QA1/cashier"}));
  EXPECT_EQ(sql_int(rows.at(0).at(3)), 3'000);
  EXPECT_GT(sql_int(rows.at(0).at(2)), 0);
  // A page after (created_at_ms, id) = (3000, PA2), as a keyset: every engine compares text bytewise.
  rows = query(
      "SELECT id, created_at_ms FROM ("
      "SELECT payment_id AS id, created_at_ms FROM gateway_payins WHERE merchant_id = $1 "
      "UNION ALL SELECT cashier_id, created_at_ms FROM cashier_orders WHERE merchant_id = $1) AS u "
      "WHERE created_at_ms < $2 OR (created_at_ms = $2 AND id < $3) "
      "ORDER BY created_at_ms DESC, id DESC LIMIT $4",
      {int64_t{10001}, int64_t{3'000}, std::string("PA2"), int64_t{10}});
  ids.clear();
  for (const auto& r : rows) ids.push_back(sql_text(r.at(0)));
  EXPECT_EQ(ids, (std::vector<std::string>{"QA1", "PA1"}));
}

TEST_P(PortableSql, ConsoleTablesWrittenInAWriteAndReadInASnapshot) {
  const int64_t admin = add_user("root", "admin", std::nullopt);
  const int64_t shop = add_user("shop-a", "merchant", int64_t{10001});
  EXPECT_GT(admin, 0);
  EXPECT_NE(shop, admin);
  write([&](Tx& tx) {
    EXPECT_EQ(tx.exec_sql("INSERT INTO console_sessions (token_hash, user_id, csrf_token, remote_ip, user_agent, "
                          "created_at_ms, last_seen_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
                          {std::string("hash-1"), admin, std::string("csrf-1"), std::string("192.0.2.1"),
                           std::string("curl/8"), int64_t{1'000}, int64_t{9'000}}),
              1);
    EXPECT_EQ(tx.exec_sql("UPDATE console_users SET last_login_at_ms = $1 WHERE user_id = $2", {int64_t{1'000}, admin}),
              1);
    EXPECT_EQ(tx.exec_sql("UPDATE console_users SET enabled = 0 WHERE user_id = $1", {shop}), 1);
    EXPECT_EQ(tx.exec_sql("INSERT INTO audit_log (at_ms, actor_user_id, actor_name, actor_role, action, target_type, "
                          "target_id, before_json, after_json, remote_ip, request_id) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                          {int64_t{1'000}, admin, std::string("root"), std::string("admin"),
                           std::string("user.disable"), std::string("user"), std::to_string(shop),
                           std::string("{\"enabled\":true}"), std::string("{\"enabled\":false}"),
                           std::string("192.0.2.1"), std::string("req-1")}),
              1);
    EXPECT_EQ(tx.exec_sql("INSERT INTO audit_log (at_ms, actor_user_id, actor_name, actor_role, action, target_type, "
                          "target_id, before_json, after_json, remote_ip, request_id) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9)",
                          {int64_t{2'000}, SqlValue(), std::string("cli:ops"), std::string("cli"),
                           std::string("merchant.update"), std::string("merchant"), std::string("10001"),
                           std::string("{}"), std::string("")}),
              1);
    // Visible in the same transaction.
    EXPECT_EQ(sql_int(tx.query_sql("SELECT COUNT(*) FROM audit_log", {}).at(0).at(0)), 2);
    EXPECT_EQ(tx.exec_sql("DELETE FROM console_sessions WHERE expires_at_ms <= $1", {int64_t{5'000}}), 0);
  });
  auto tx = store_->read();
  auto rows = tx->query_sql(
      "SELECT u.user_id, u.name, u.role, u.merchant_id, u.enabled, u.last_login_at_ms, s.csrf_token "
      "FROM console_sessions s JOIN console_users u ON u.user_id = s.user_id "
      "WHERE s.token_hash = $1 AND s.expires_at_ms > $2 AND u.enabled = 1",
      {std::string("hash-1"), int64_t{5'000}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(sql_int(rows[0][0]), admin);
  EXPECT_EQ(sql_text(rows[0][1]), "root");
  EXPECT_EQ(sql_text(rows[0][2]), "admin");
  EXPECT_TRUE(sql_is_null(rows[0][3]));
  EXPECT_EQ(sql_int(rows[0][4]), 1);
  EXPECT_EQ(sql_int(rows[0][5]), 1'000);
  EXPECT_EQ(sql_text(rows[0][6]), "csrf-1");
  rows = tx->query_sql("SELECT user_id, merchant_id, enabled FROM console_users WHERE enabled = $1", {int64_t{0}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(sql_int(rows[0][0]), shop);
  EXPECT_EQ(sql_int(rows[0][1]), 10001);
  rows = tx->query_sql(
      "SELECT audit_id, actor_user_id, actor_name, action, target_id, before_json, after_json, request_id "
      "FROM audit_log ORDER BY at_ms DESC, audit_id DESC LIMIT $1",
      {int64_t{10}});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(sql_is_null(rows[0][1]));
  EXPECT_EQ(sql_text(rows[0][2]), "cli:ops");
  EXPECT_EQ(sql_text(rows[0][7]), "");
  EXPECT_GT(sql_int(rows[0][0]), sql_int(rows[1][0]));
  EXPECT_EQ(sql_int(rows[1][1]), admin);
  EXPECT_EQ(sql_text(rows[1][3]), "user.disable");
  EXPECT_EQ(sql_text(rows[1][4]), std::to_string(shop));
  EXPECT_EQ(sql_text(rows[1][5]), "{\"enabled\":true}");
}

TEST_P(PortableSql, UniqueConflictsAreCountedWithOnConflictDoNothing) {
  add_user("root", "admin", std::nullopt);
  const char* insert_sql =
      "INSERT INTO console_users (name, role, password_hash, created_at_ms, updated_at_ms) "
      "VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO NOTHING";
  EXPECT_EQ(written([&](Tx& tx) {
              return tx.exec_sql(insert_sql, {std::string("root"), std::string("support"), std::string("h"),
                                              int64_t{1}});
            }),
            0);
  EXPECT_EQ(written([&](Tx& tx) {
              return tx.exec_sql(insert_sql, {std::string("ops"), std::string("support"), std::string("h"),
                                              int64_t{1}});
            }),
            1);
  // Without ON CONFLICT the violation fails the request (a StorageFailure: kUnavailable) and undoes all of it.
  auto st = store_->write_sync([](Tx& tx) {
    tx.exec_sql("UPDATE console_users SET last_login_at_ms = 5 WHERE name = $1", {std::string("ops")});
    tx.exec_sql("INSERT INTO console_users (name, role, password_hash, created_at_ms, updated_at_ms) "
                "VALUES ($1, $2, $3, $4, $4)",
                {std::string("root"), std::string("support"), std::string("h"), int64_t{1}});
    return ok_status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  auto rows = query("SELECT name, role, last_login_at_ms FROM console_users ORDER BY name");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(sql_text(rows[0][0]), "ops");
  EXPECT_EQ(sql_int(rows[0][2]), 0) << "the failed request's update was rolled back";
  EXPECT_EQ(sql_text(rows[1][1]), "admin");
  // The store goes on.
  EXPECT_EQ(written([](Tx& tx) { return tx.exec_sql("DELETE FROM console_users WHERE name = $1", {std::string("ops")}); }),
            1);
}

TEST_P(PortableSql, ReadSnapshotsRefuseWrites) {
  {
    auto tx = store_->read();
    EXPECT_THROW(tx->exec_sql("UPDATE merchants SET name = $1", {std::string("x")}), StorageFailure);
  }
  {
    auto tx = store_->read();
    EXPECT_THROW(tx->query_sql("UPDATE merchants SET name = $1 RETURNING merchant_id", {std::string("x")}),
                 StorageFailure);
  }
  {
    auto tx = store_->read();
    EXPECT_THROW(tx->query_sql("INSERT INTO audit_log (at_ms, actor_name, actor_role, action, target_type, target_id, "
                               "before_json, after_json, remote_ip, request_id) "
                               "VALUES (1, 'a', 'a', 'a', 'a', 'a', '{}', '{}', '', '')",
                               {}),
                 StorageFailure);
  }
  auto rows = query("SELECT name FROM merchants ORDER BY merchant_id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(sql_text(rows[0][0]), "Merchant a") << "nothing changed, and snapshots still work";
  EXPECT_EQ(sql_int(query("SELECT COUNT(*) FROM audit_log").at(0).at(0)), 0);
}

TEST_P(PortableSql, MisuseIsAStorageFailure) {
  auto tx = store_->read();
  EXPECT_THROW(tx->query_sql("PRAGMA user_version", {}), StorageFailure);
  EXPECT_THROW(tx->query_sql("COMMIT", {}), StorageFailure);
  EXPECT_THROW(tx->query_sql("  begin", {}), StorageFailure);
  // exec_sql is for statements without rows.
  auto wst = store_->write_sync([](Tx& w) {
    w.exec_sql("SELECT 1", {});
    return ok_status();
  });
  EXPECT_FALSE(wst.ok());
  auto fresh = [&] { return store_->read(); };
  EXPECT_THROW(fresh()->query_sql("SELECT 1; SELECT 2", {}), StorageFailure);
  EXPECT_THROW(fresh()->query_sql("SELECT name FROM merchants WHERE merchant_id = $2", {int64_t{1}}), StorageFailure)
      << "no $2";
  EXPECT_THROW(fresh()->query_sql("SELECT name FROM merchants WHERE merchant_id = $1", {int64_t{1}, int64_t{2}}),
               StorageFailure)
      << "$2 unused";
  EXPECT_THROW(fresh()->query_sql("SELECT nope FROM merchants", {}), StorageFailure);
  EXPECT_EQ(sql_int(fresh()->query_sql("SELECT COUNT(*) FROM merchants", {}).at(0).at(0)), 2);
}

TEST_P(PortableSql, RowsBeyondTheLimitFail) {
  const char* sql =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) SELECT i FROM n";
  auto rows = query(sql, {static_cast<int64_t>(limits::kSqlRowsMax)});
  ASSERT_EQ(rows.size(), limits::kSqlRowsMax);
  EXPECT_EQ(sql_int(rows.back().at(0)), static_cast<int64_t>(limits::kSqlRowsMax));
  EXPECT_THROW(query(sql, {static_cast<int64_t>(limits::kSqlRowsMax) + 1}), StorageFailure);
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreConformance, ::testing::ValuesIn(testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Engines, ConsignOrderListing, ::testing::ValuesIn(testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Engines, GatewayListing, ::testing::ValuesIn(testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Engines, GatewayLedger, ::testing::ValuesIn(testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Engines, CashierListing, ::testing::ValuesIn(testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Engines, CashierLedger, ::testing::ValuesIn(testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Engines, PortableSql, ::testing::ValuesIn(testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::storage
