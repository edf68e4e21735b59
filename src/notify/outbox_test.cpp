// The outbox's ordering rule on both engines: a newer notification of an order supersedes the older ones still
// pending, and waits for one whose attempt is in flight.
#include "notify/outbox.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "storage/testing/store_fixture.h"

namespace paygate::notify {
namespace {

using storage::Notification;
using storage::NotificationState;
using storage::Tx;

constexpr int64_t kNowMs = 1'795'000'000'000;

class OutboxTest : public ::testing::TestWithParam<storage::testing::StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    ASSERT_TRUE(store_
                    ->write_sync([&](Tx& tx) {
                      storage::Merchant m;
                      m.name = "Outbox merchant";
                      m.app_key = "app-outbox";
                      m.sign_key = "sign";
                      m.aes_key = "abcdefghijklmnop";
                      m.created_at_ms = m.updated_at_ms = kNowMs;
                      merchant_ = tx.insert_merchant(m);
                      return ok_status();
                    })
                    .ok());
  }
  void TearDown() override {
    if (store_) store_->close();
  }

  Notification make(const std::string& order_ref, const std::string& body, int64_t now_ms,
                    const std::string& protocol = "cashier") const {
    Notification n;
    n.merchant_id = merchant_;
    n.protocol = protocol;
    n.order_ref = order_ref;
    n.url = "https://merchant.example.com/notify";
    n.content_type = "application/x-www-form-urlencoded";
    n.body = body;
    n.schedule = "cashier";
    n.attempts_max = 10;
    n.next_attempt_at_ms = now_ms;
    n.created_at_ms = n.updated_at_ms = now_ms;
    return n;
  }

  NotificationId enqueue(Notification n, bool newest = true) {
    NotificationId id;
    EXPECT_TRUE(store_
                    ->write_sync([&](Tx& tx) {
                      id = newest ? enqueue_newest(tx, n) : tx.enqueue_notification(n);
                      return ok_status();
                    })
                    .ok());
    return id;
  }

  Notification get(NotificationId id) { return *store_->read()->notification(id); }

  // The dispatcher's claim, with its 40 s lease.
  std::vector<Notification> claim(int64_t now_ms) {
    std::vector<Notification> claimed;
    EXPECT_TRUE(store_
                    ->write_sync([&](Tx& tx) {
                      claimed = tx.claim_due_notifications(now_ms, 40'000, 10, {});
                      return ok_status();
                    })
                    .ok());
    return claimed;
  }

  // What the dispatcher does once it has recorded an attempt of a superseded notification.
  void attempt_recorded(NotificationId superseded, int64_t now_ms) {
    EXPECT_TRUE(store_
                    ->write_sync([&](Tx& tx) {
                      release_newer_after(tx, *tx.notification(superseded), now_ms);
                      return ok_status();
                    })
                    .ok());
  }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
  MerchantId merchant_;
};

TEST_P(OutboxTest, ANewerNotificationSupersedesTheOrdersPendingOnesOnly) {
  NotificationId delivered = enqueue(make("Q1", "paid, acknowledged", kNowMs));
  ASSERT_TRUE(store_
                  ->write_sync([&](Tx& tx) {
                    auto n = *tx.notification(delivered);
                    n.state = NotificationState::kDelivered;
                    tx.update_notification(n);
                    return ok_status();
                  })
                  .ok());
  NotificationId paid = enqueue(make("Q1", "paid", kNowMs + 10));
  NotificationId other_order = enqueue(make("Q2", "paid", kNowMs + 10));
  NotificationId other_protocol = enqueue(make("Q1", "consign's", kNowMs + 10, "consign"), false);

  NotificationId held = enqueue(make("Q1", "held", kNowMs + 20));
  EXPECT_EQ(get(paid).state, NotificationState::kSuperseded);
  EXPECT_EQ(get(paid).updated_at_ms, kNowMs + 20);
  EXPECT_EQ(get(delivered).state, NotificationState::kDelivered) << "a finished one stays as it ended";
  EXPECT_EQ(get(other_order).state, NotificationState::kPending);
  EXPECT_EQ(get(other_protocol).state, NotificationState::kPending);
  EXPECT_EQ(get(held).state, NotificationState::kPending);
  EXPECT_EQ(get(held).next_attempt_at_ms, kNowMs + 20) << "nothing in flight: due at once";

  // Only the newest is claimed; the superseded one is never attempted again.
  std::vector<Notification> claimed = claim(kNowMs + 30);
  std::vector<std::string> bodies;
  for (const auto& n : claimed) bodies.push_back(n.protocol + ":" + n.order_ref + ":" + n.body);
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"cashier:Q1:held", "cashier:Q2:paid", "consign:Q1:consign's"}));
  EXPECT_EQ(store_->read()->pending_notifications(), 3);
}

TEST_P(OutboxTest, ANewerNotificationWaitsForAnAttemptInFlightUntilItIsRecorded) {
  NotificationId paid = enqueue(make("Q1", "paid", kNowMs));
  ASSERT_EQ(claim(kNowMs).size(), 1u);
  NotificationId held = enqueue(make("Q1", "held", kNowMs + 5));
  EXPECT_EQ(get(paid).state, NotificationState::kSuperseded);
  EXPECT_EQ(get(held).next_attempt_at_ms, kNowMs + 40'000) << "not before the attempt in flight has ended";
  EXPECT_TRUE(claim(kNowMs + 10).empty());
  // The attempt is recorded: the newer one is due at once, and one released already is left alone.
  attempt_recorded(paid, kNowMs + 900);
  EXPECT_EQ(get(held).next_attempt_at_ms, kNowMs + 900);
  EXPECT_EQ(get(held).updated_at_ms, kNowMs + 900);
  attempt_recorded(paid, kNowMs + 1'000);
  EXPECT_EQ(get(held).next_attempt_at_ms, kNowMs + 900);
  EXPECT_EQ(get(held).state, NotificationState::kPending);
}

TEST_P(OutboxTest, AThirdStateWaitsForTheFirstsAttemptInFlightThoughTheSecondSupersededItAlready) {
  NotificationId paid = enqueue(make("Q1", "paid", kNowMs));
  ASSERT_EQ(claim(kNowMs).size(), 1u);
  NotificationId held = enqueue(make("Q1", "held", kNowMs + 5));
  NotificationId released = enqueue(make("Q1", "released", kNowMs + 6));
  EXPECT_EQ(get(paid).state, NotificationState::kSuperseded);
  EXPECT_EQ(get(held).state, NotificationState::kSuperseded);
  EXPECT_EQ(get(released).next_attempt_at_ms, kNowMs + 40'000) << "the first one's attempt is still in flight";
  attempt_recorded(paid, kNowMs + 700);
  EXPECT_EQ(get(released).next_attempt_at_ms, kNowMs + 700);
  EXPECT_EQ(get(held).state, NotificationState::kSuperseded) << "never sent";
}

INSTANTIATE_TEST_SUITE_P(Engines, OutboxTest, ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::notify
