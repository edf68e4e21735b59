// The console's notification log against each storage engine (SQLite, PostgreSQL): filters, keyset pages, a
// merchant's scope and the latest attempt of each notification.
#include <gtest/gtest.h>

#include "base/limits.h"
#include "console/notifications.h"
#include "storage/testing/store_fixture.h"

namespace paygate::console {
namespace {

using storage::Tx;

const MerchantId kA{10001};
const MerchantId kB{10002};
constexpr int64_t kT0 = 1'700'000'000'000;

Principal admin() {
  Principal p;
  p.user_id = 1;
  p.name = "alice";
  p.role = Role::kAdmin;
  return p;
}
Principal merchant(MerchantId id) {
  Principal p = admin();
  p.user_id = 3 + id.value();
  p.name = "m" + std::to_string(id.value());
  p.role = Role::kMerchant;
  p.merchant_id = id;
  return p;
}

class ConsoleNotificationsTest : public ::testing::TestWithParam<storage::testing::StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    auto st = store_->write_sync([&](Tx& tx) -> Status {
      storage::Merchant m;
      m.name = "Alpha";
      m.app_key = "AK-alpha";
      m.sign_key = "KEY-alpha";
      m.aes_key = "abcdefghijklmnop";
      m.created_at_ms = m.updated_at_ms = kT0;
      EXPECT_EQ(tx.insert_merchant(m), kA);
      m.name = "Beta";
      m.app_key = "AK-beta";
      EXPECT_EQ(tx.insert_merchant(m), kB);
      // ids_[0..4]: A consign C1 delivered after 2 attempts; B gateway P2 pending; A cashier Q3 failed after one
      // attempt (a body that is not UTF-8); A consign C1 again, pending, no attempt; A gateway W4 delivered.
      ids_.push_back(add(tx, kA, "consign", "C1", storage::NotificationState::kDelivered, kT0));
      ids_.push_back(add(tx, kB, "gateway", "P2", storage::NotificationState::kPending, kT0 + 1'000));
      ids_.push_back(add(tx, kA, "cashier", "Q3", storage::NotificationState::kFailed, kT0 + 2'000));
      ids_.push_back(add(tx, kA, "consign", "C1", storage::NotificationState::kPending, kT0 + 3'000));
      ids_.push_back(add(tx, kA, "gateway", "W4", storage::NotificationState::kDelivered, kT0 + 4'000));
      attempt(tx, ids_[0], 1, kT0 + 10, 500, "http 500", "oops", false);
      attempt(tx, ids_[0], 2, kT0 + 20, 200, "", "success", true);
      attempt(tx, ids_[2], 1, kT0 + 2'010, 0, "connection refused", std::string("\xff\x00x", 3), false);
      attempt(tx, ids_[4], 1, kT0 + 4'010, 200, "", "ok", true);
      return ok_status();
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  void TearDown() override {
    if (store_) store_->close();
  }

  static int64_t add(Tx& tx, MerchantId m, const std::string& protocol, const std::string& order,
                     storage::NotificationState state, int64_t at) {
    storage::Notification n;
    n.merchant_id = m;
    n.protocol = protocol;
    n.order_ref = order;
    n.url = "https://merchant.example.com/" + order;
    n.content_type = "application/x-www-form-urlencoded";
    n.body = "a=1";
    n.schedule = "consign";
    n.attempts_max = 5;
    n.next_attempt_at_ms = at;
    n.created_at_ms = n.updated_at_ms = at;
    n.id = tx.enqueue_notification(n);
    n.state = state;
    n.attempts_made = state == storage::NotificationState::kPending ? 0 : 1;
    tx.update_notification(n);
    return n.id.value();
  }

  static void attempt(Tx& tx, int64_t id, int no, int64_t at, unsigned status, const std::string& error,
                      const std::string& body, bool delivered) {
    storage::NotificationAttempt a;
    a.notification_id = NotificationId{id};
    a.attempt_no = no;
    a.started_at_ms = at;
    a.latency_ms = 7;
    a.http_status = status;
    a.error = error;
    a.body_excerpt = body;
    a.delivered = delivered;
    tx.record_attempt(a);
  }

  std::vector<int64_t> ids(const Principal& who, const NotificationQuery& q) {
    std::vector<int64_t> out;
    for (const auto& r : search_notifications(*store_->read(), who, q).items) out.push_back(r.id);
    return out;
  }

  Result<NotificationQuery> parse(std::initializer_list<std::pair<std::string, std::string>> fields) {
    http::FormFields f;
    for (const auto& [k, v] : fields) f.values[k] = v;
    return parse_notification_query(f, 50, limits::kConsolePageSizeMax);
  }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
  std::vector<int64_t> ids_;
};

TEST_P(ConsoleNotificationsTest, NewestFirstWithFilters) {
  NotificationQuery q;
  EXPECT_EQ(ids(admin(), q), (std::vector<int64_t>{ids_[4], ids_[3], ids_[2], ids_[1], ids_[0]}));
  q.state = "delivered";
  EXPECT_EQ(ids(admin(), q), (std::vector<int64_t>{ids_[4], ids_[0]}));
  q = {};
  q.protocol = "consign";
  EXPECT_EQ(ids(admin(), q), (std::vector<int64_t>{ids_[3], ids_[0]}));
  q = {};
  q.order_id = "C1";
  q.state = "pending";
  EXPECT_EQ(ids(admin(), q), (std::vector<int64_t>{ids_[3]}));
  q = {};
  q.from_ms = kT0 + 1'000;
  q.to_ms = kT0 + 3'000;
  EXPECT_EQ(ids(admin(), q), (std::vector<int64_t>{ids_[2], ids_[1]}));
  q = {};
  q.merchant_id = kB;
  EXPECT_EQ(ids(admin(), q), (std::vector<int64_t>{ids_[1]}));
}

TEST_P(ConsoleNotificationsTest, PagesThroughCursors) {
  NotificationQuery q;
  q.limit = 2;
  std::vector<int64_t> seen;
  int pages = 0;
  for (;;) {
    auto page = search_notifications(*store_->read(), admin(), q);
    ++pages;
    for (const auto& r : page.items) seen.push_back(r.id);
    if (!page.next_cursor) break;
    auto after = decode_notification_cursor(*page.next_cursor);
    ASSERT_TRUE(after.has_value());
    q.after_id = after;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<int64_t>{ids_[4], ids_[3], ids_[2], ids_[1], ids_[0]}));
  // Exactly a full page: no cursor.
  q = {};
  q.limit = 5;
  EXPECT_FALSE(search_notifications(*store_->read(), admin(), q).next_cursor.has_value());
}

TEST_P(ConsoleNotificationsTest, MerchantSeesOnlyItsOwn) {
  NotificationQuery q;
  EXPECT_EQ(ids(merchant(kB), q), (std::vector<int64_t>{ids_[1]}));
  EXPECT_EQ(ids(merchant(kA), q), (std::vector<int64_t>{ids_[4], ids_[3], ids_[2], ids_[0]}));
  q.merchant_id = kB;
  EXPECT_TRUE(ids(merchant(kA), q).empty());
  q.merchant_id = kA;
  EXPECT_EQ(ids(merchant(kA), q).size(), 4u);
  q = {};
  q.order_id = "P2";
  EXPECT_TRUE(ids(merchant(kA), q).empty());
}

TEST_P(ConsoleNotificationsTest, LastAttempt) {
  auto page = search_notifications(*store_->read(), admin(), NotificationQuery{});
  ASSERT_EQ(page.items.size(), 5u);
  const auto& first = page.items[4];  // ids_[0]
  ASSERT_TRUE(first.last_attempt.has_value());
  EXPECT_EQ(first.last_attempt->attempt_no, 2);
  EXPECT_EQ(first.last_attempt->http_status, 200);
  EXPECT_EQ(first.last_attempt->body_excerpt, "success");
  EXPECT_TRUE(first.last_attempt->delivered);
  EXPECT_EQ(first.state, "delivered");
  EXPECT_EQ(first.protocol, "consign");
  EXPECT_EQ(first.order_id, "C1");
  EXPECT_EQ(first.url, "https://merchant.example.com/C1");
  EXPECT_EQ(first.attempts_max, 5);
  EXPECT_EQ(first.merchant_id, kA);
  const auto& failed = page.items[2];  // ids_[2]
  ASSERT_TRUE(failed.last_attempt.has_value());
  EXPECT_EQ(failed.last_attempt->http_status, 0);
  EXPECT_EQ(failed.last_attempt->error, "connection refused");
  EXPECT_EQ(failed.last_attempt->body_excerpt, std::string("\xff\x00x", 3));
  EXPECT_FALSE(failed.last_attempt->delivered);
  EXPECT_FALSE(page.items[1].last_attempt.has_value());  // ids_[3]: not tried yet
  auto j = notification_row_json(page.items[1]);
  EXPECT_TRUE(j["last_attempt"].is_null());
  EXPECT_EQ(j["order_id"], "C1");
  EXPECT_EQ(notification_row_json(first)["last_attempt"]["attempt_no"], 2);
}

TEST_P(ConsoleNotificationsTest, ParsesTheQuery) {
  auto q = parse({{"merchant_id", "10001"}, {"state", "failed"}, {"protocol", "cashier"}, {"order", "Q3"},
                  {"from_ms", "1"}, {"to_ms", "2"}, {"limit", "7"}});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->merchant_id, kA);
  EXPECT_EQ(q->state, "failed");
  EXPECT_EQ(q->protocol, "cashier");
  EXPECT_EQ(q->order_id, "Q3");
  EXPECT_EQ(q->limit, 7u);
  EXPECT_EQ(parse({})->limit, 50u);
  for (auto bad : std::vector<std::pair<std::string, std::string>>{{"state", "sent"},
                                                                     {"protocol", "payout"},
                                                                     {"limit", "0"},
                                                                     {"limit", "201"},
                                                                     {"merchant_id", "x"},
                                                                     {"cursor", "zz"},
                                                                     {"cursor", "6e3a"}}) {
    auto r = parse({bad});
    ASSERT_FALSE(r.ok()) << bad.first << "=" << bad.second;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(decode_notification_cursor(encode_notification_cursor(42)), 42);
}

INSTANTIATE_TEST_SUITE_P(Engines, ConsoleNotificationsTest,
                         ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::console
