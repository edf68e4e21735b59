// The console's order search, detail, actions and dashboard against each storage engine (SQLite, PostgreSQL):
// orders of every kind are written through the typed Tx methods, the actions run the protocols' own service code,
// and what the console shows (rows, masks, timeline, audit entries, day buckets) is compared with values written
// here.
#include <gtest/gtest.h>

#include <algorithm>

#include "console/actions.h"
#include "console/dashboard.h"
#include "console/orders.h"
#include "ledger/ledger.h"
#include "storage/testing/store_fixture.h"

namespace paygate::console {
namespace {

using nlohmann::json;
using storage::Tx;

const MerchantId kA{10001};
const MerchantId kB{10002};
constexpr int64_t kDayMs = 86'400'000;
// 2023-11-15 00:30:00 at +480 (2023-11-14 16:30 UTC): day boundaries at +480 and UTC differ.
constexpr int64_t kT0 = 1'700'000'000'000 - (1'700'000'000'000 + 480 * 60'000) % kDayMs + 30 * 60'000;
const std::string kCardPassword = "SECRET-PASSWORD-4321";
const std::string kAccountNumber = "6222020000001234";
const std::string kIdNumber = "11010519491231002X";

Principal admin() {
  Principal p;
  p.user_id = 1;
  p.name = "alice";
  p.role = Role::kAdmin;
  p.remote_ip = "127.0.0.1";
  p.request_id = "req-1";
  return p;
}
Principal support() {
  Principal p = admin();
  p.user_id = 2;
  p.name = "sam";
  p.role = Role::kSupport;
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

orders::ConsignOrder card(MerchantId m, const std::string& id, const std::string& moid, orders::ConsignState state,
                          int64_t created) {
  orders::ConsignOrder o;
  o.merchant_id = m;
  o.sys_order_id = SysOrderId{id};
  o.merchant_order_id = moid;
  o.batchno = "BATCH-7";
  o.product_code = "JDE";
  o.card_number = "CARDNO-" + id;
  o.card_password = kCardPassword;
  o.card_fingerprint = "fp-" + id;
  o.face_money_yuan = 100;
  o.rate = RatePermille{965};
  o.notify_url = "https://merchant.example.com/consign";
  o.state = state;
  o.process_after_ms = created;
  o.created_at_ms = o.updated_at_ms = created;
  if (state == orders::ConsignState::kSuccess) {
    o.real_money_yuan = 100;
    o.amount = Money::from_fen(9650);
    o.success_time_s = created / 1000 + 5;
  }
  return o;
}

class ConsoleOrdersTest : public ::testing::TestWithParam<storage::testing::StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    auto st = store_->write_sync([](Tx& tx) -> Status {
      storage::Merchant m;
      m.name = "Alpha 商户";
      m.app_key = "AK-alpha";
      m.sign_key = "KEY-alpha";
      m.aes_key = "abcdefghijklmnop";
      m.created_at_ms = m.updated_at_ms = kT0;
      EXPECT_EQ(tx.insert_merchant(m), kA);
      m.name = "Beta";
      m.app_key = "AK-beta";
      m.sign_key = "KEY-beta";
      EXPECT_EQ(tx.insert_merchant(m), kB);
      // Money for A's payouts to come from.
      PG_TRY(tx.post(ledger::consign_settlement(kA, SysOrderId{"C-seed"}, Money::from_fen(100'000),
                                                Money::from_fen(90'000)),
                     kT0));

      PG_TRY(tx.insert_consign_order(card(kA, "C0001", "mo-1", orders::ConsignState::kReview, kT0)));
      PG_TRY(tx.insert_consign_order(card(kB, "C0002", "mo-2", orders::ConsignState::kSuccess, kT0 + 1'000)));

      orders::PayIn p;
      p.merchant_id = kA;
      p.id = PaymentId{"P0003"};
      p.mrn = "mrn-3";
      p.channel_id = 1;
      p.amount = Money::from_fen(1'000);
      p.amount_text = "10.00";
      p.callback_url = "https://merchant.example.com/cb";
      p.request_fingerprint = "rf-3";
      p.processor = "sandbox";
      p.fee_rate = RatePermille{25};
      p.state = orders::PayInState::kPaid;
      p.paid = Money::from_fen(1'000);
      p.fee = Money::from_fen(25);
      p.expires_at_ms = kT0 + 900'000;
      p.finished_at_ms = kT0 + 2'500;
      p.created_at_ms = kT0 + 2'000;
      p.updated_at_ms = kT0 + 2'500;
      PG_TRY(tx.insert_payin(p));
      PG_TRY(tx.post(ledger::gateway_payin(kA, p.id, p.paid, p.fee), kT0 + 2'500));

      orders::Payout w = payout("W0004", "mrn-4", kT0 + 3'000);
      PG_TRY(tx.insert_payout(w));
      PG_TRY(tx.post(ledger::payout_reserve(kA, w.id, w.amount, w.fee), w.created_at_ms));

      orders::CashierOrder q;
      q.merchant_id = kA;
      q.id = CashierId{"Q0005"};
      q.orderid = "ORDER0005";
      q.action = "WeiXin";
      q.method = "WeiXin";
      q.amount = Money::from_fen(10'000);
      q.backurl = "https://merchant.example.com/back";
      q.accname = "张三";
      q.accno = kIdNumber;
      q.request_fingerprint = "rf-5";
      q.state = orders::CashierState::kPaid;
      q.fee = Money::from_fen(250);
      q.fee_rate = RatePermille{25};
      q.message = "success";
      q.paid_at_ms = kT0 + 4'500;
      q.expires_at_ms = kT0 + 900'000;
      q.created_at_ms = kT0 + 4'000;
      q.updated_at_ms = kT0 + 4'500;
      PG_TRY(tx.insert_cashier_order(q));
      PG_TRY(tx.post(ledger::cashier_pay(q.id, ledger::merchant_available(kA), q.amount, q.fee), q.paid_at_ms));
      return ok_status();
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  void TearDown() override {
    if (store_) store_->close();
  }

  static orders::Payout payout(const std::string& id, const std::string& mrn, int64_t created) {
    orders::Payout w;
    w.merchant_id = kA;
    w.id = PayoutId{id};
    w.mrn = mrn;
    w.amount = Money::from_fen(5'000);
    w.amount_text = "50";
    w.fee = Money::from_fen(200);
    w.bank_name = "ICBC";
    w.account_name = "Li Si";
    w.account_number = kAccountNumber;
    w.callback_url = "https://merchant.example.com/payout";
    w.request_fingerprint = "rf-" + id;
    w.state = orders::PayoutState::kApproval;
    w.created_at_ms = w.updated_at_ms = created;
    return w;
  }

  template <typename T>
  Result<T> in_write(const std::function<Result<T>(Tx&)>& fn) {
    std::optional<Result<T>> out;
    auto st = store_->write_sync([&](Tx& tx) -> Status {
      out.emplace(fn(tx));
      if (!out->ok()) return out->error();
      return ok_status();
    });
    if (!out) return st.error();
    if (out->ok() && !st.ok()) return st.error();
    return std::move(*out);
  }

  std::vector<std::string> ids(const Principal& who, OrderQuery q) {
    std::vector<std::string> out;
    for (const auto& r : search_orders(*store_->read(), who, q).items) out.push_back(r.id);
    return out;
  }

  OrderQuery parse(const std::vector<std::pair<std::string, std::string>>& fields) {
    http::FormFields f;
    for (const auto& [k, v] : fields) f.values[k] = v;
    auto q = parse_order_query(f, 50, 200);
    EXPECT_TRUE(q.ok()) << q.error().message;
    return q.ok() ? *q : OrderQuery{};
  }

  std::string parse_error(const std::vector<std::pair<std::string, std::string>>& fields) {
    http::FormFields f;
    for (const auto& [k, v] : fields) f.values[k] = v;
    auto q = parse_order_query(f, 50, 200);
    EXPECT_FALSE(q.ok());
    if (q.ok()) return "";
    EXPECT_EQ(q.error().code, ErrorCode::kInvalidArgument);
    return q.error().message;
  }

  struct AuditRow {
    std::string actor_name, actor_role, action, target_type, target_id;
    json before, after;
  };
  std::vector<AuditRow> audit_rows() {
    std::vector<AuditRow> out;
    for (const auto& r : store_->read()->query_sql(
             "SELECT actor_name, actor_role, action, target_type, target_id, before_json, after_json FROM audit_log "
             "ORDER BY audit_id",
             {})) {
      out.push_back({storage::sql_text(r[0]), storage::sql_text(r[1]), storage::sql_text(r[2]),
                     storage::sql_text(r[3]), storage::sql_text(r[4]), json::parse(storage::sql_text(r[5])),
                     json::parse(storage::sql_text(r[6]))});
    }
    return out;
  }

  int64_t balance(const ledger::Account& a) { return store_->read()->balance(a.code).fen(); }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
};

using Ids = std::vector<std::string>;

// ---- search ----

TEST_P(ConsoleOrdersTest, SearchListsEveryKindNewestFirstWithTheContractsRow) {
  auto page = search_orders(*store_->read(), admin(), OrderQuery{});
  ASSERT_EQ(page.items.size(), 5u);
  EXPECT_FALSE(page.next_cursor.has_value());
  Ids got;
  for (const auto& r : page.items) got.push_back(r.id);
  EXPECT_EQ(got, (Ids{"Q0005", "W0004", "P0003", "C0002", "C0001"}));

  json q = order_row_json(page.items[0]);
  EXPECT_EQ(q, (json{{"id", "Q0005"}, {"protocol", "cashier"}, {"kind", "cashier"}, {"merchant_id", 10001},
                     {"merchant_name", "Alpha 商户"}, {"merchant_order_id", "ORDER0005"}, {"channel", "WeiXin"},
                     {"amount_fen", 10'000}, {"settled_fen", 9'750}, {"fee_fen", 250}, {"status", "paid"},
                     {"created_at_ms", kT0 + 4'000}, {"updated_at_ms", kT0 + 4'500}}));
  const auto& w = page.items[1];
  EXPECT_EQ(protocol_name(w.kind), "gateway");
  EXPECT_EQ(kind_name(w.kind), "payout");
  EXPECT_EQ(w.channel, "");
  EXPECT_EQ(w.amount_fen, 5'000);
  EXPECT_EQ(w.settled_fen, 0);
  EXPECT_EQ(w.fee_fen, 200);
  EXPECT_EQ(w.status, "approval");
  const auto& p = page.items[2];
  EXPECT_EQ(p.channel, "1");
  EXPECT_EQ(p.merchant_order_id, "mrn-3");
  EXPECT_EQ(p.settled_fen, 975);
  EXPECT_EQ(p.fee_fen, 25);
  const auto& c2 = page.items[3];
  EXPECT_EQ(c2.merchant_name, "Beta");
  EXPECT_EQ(c2.channel, "JDE");
  EXPECT_EQ(c2.amount_fen, 10'000);  // the face value
  EXPECT_EQ(c2.settled_fen, 9'650);
  EXPECT_EQ(c2.fee_fen, 350);
  EXPECT_EQ(c2.status, "success");
  const auto& c1 = page.items[4];
  EXPECT_EQ(c1.settled_fen, 0);
  EXPECT_EQ(c1.fee_fen, 0);
  EXPECT_EQ(c1.status, "review");
}

TEST_P(ConsoleOrdersTest, SearchFilters) {
  EXPECT_EQ(ids(admin(), parse({{"kind", "card"}})), (Ids{"C0002", "C0001"}));
  EXPECT_EQ(ids(admin(), parse({{"kind", "payout"}})), (Ids{"W0004"}));
  EXPECT_EQ(ids(admin(), parse({{"status", "review"}})), (Ids{"C0001"}));
  EXPECT_EQ(ids(admin(), parse({{"status", "paid"}})), (Ids{"Q0005", "P0003"}));
  EXPECT_EQ(ids(admin(), parse({{"status", "paid"}, {"kind", "payin"}})), (Ids{"P0003"}));
  EXPECT_EQ(ids(admin(), parse({{"channel", "1"}})), (Ids{"P0003"}));
  EXPECT_EQ(ids(admin(), parse({{"channel", "WeiXin"}})), (Ids{"Q0005"}));
  EXPECT_EQ(ids(admin(), parse({{"channel", "JDE"}})), (Ids{"C0002", "C0001"}));
  EXPECT_EQ(ids(admin(), parse({{"merchant_id", "10002"}})), (Ids{"C0002"}));
  EXPECT_EQ(ids(admin(), parse({{"from_ms", std::to_string(kT0 + 1'000)}, {"to_ms", std::to_string(kT0 + 3'000)}})),
            (Ids{"P0003", "C0002"}));
  // q: any id, exactly.
  EXPECT_EQ(ids(admin(), parse({{"q", "W0004"}})), (Ids{"W0004"}));
  EXPECT_EQ(ids(admin(), parse({{"q", "mrn-3"}})), (Ids{"P0003"}));
  EXPECT_EQ(ids(admin(), parse({{"q", "ORDER0005"}})), (Ids{"Q0005"}));
  EXPECT_EQ(ids(admin(), parse({{"q", "mo-2"}})), (Ids{"C0002"}));
  EXPECT_EQ(ids(admin(), parse({{"q", "BATCH-7"}})), (Ids{"C0002", "C0001"}));
  EXPECT_EQ(ids(admin(), parse({{"q", "CARDNO-C0001"}})), (Ids{"C0001"}));
  EXPECT_EQ(ids(admin(), parse({{"q", "CARDNO"}})), Ids{});
  EXPECT_EQ(ids(admin(), parse({{"q", "' OR 1=1 --"}})), Ids{});
}

TEST_P(ConsoleOrdersTest, AMerchantSeesOnlyItsOwnOrdersWhateverItAsks) {
  EXPECT_EQ(ids(merchant(kB), OrderQuery{}), (Ids{"C0002"}));
  EXPECT_EQ(ids(merchant(kB), parse({{"merchant_id", "10001"}})), (Ids{"C0002"}));
  EXPECT_EQ(ids(merchant(kB), parse({{"q", "mo-1"}})), Ids{});
  EXPECT_EQ(ids(merchant(kA), parse({{"kind", "card"}})), (Ids{"C0001"}));
  EXPECT_EQ(ids(support(), OrderQuery{}).size(), 5u);
}

TEST_P(ConsoleOrdersTest, KeysetPagesWalkEveryRowOnceIncludingTiesOnTheCreationTime) {
  // Two more orders created in the same millisecond as P0003: the id breaks the tie.
  auto st = store_->write_sync([](Tx& tx) -> Status {
    PG_TRY(tx.insert_consign_order(card(kA, "C0006", "mo-6", orders::ConsignState::kProcessing, kT0 + 2'000)));
    return tx.insert_payout(payout("W0007", "mrn-7", kT0 + 2'000));
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  Ids all;
  OrderQuery q;
  q.limit = 2;
  int pages = 0;
  for (;; ++pages) {
    ASSERT_LT(pages, 10);
    auto page = search_orders(*store_->read(), admin(), q);
    for (const auto& r : page.items) all.push_back(r.id);
    if (!page.next_cursor) break;
    EXPECT_EQ(page.items.size(), 2u);
    auto cursor = decode_cursor(*page.next_cursor);
    ASSERT_TRUE(cursor.has_value());
    q.after = cursor;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all, (Ids{"Q0005", "W0004", "W0007", "P0003", "C0006", "C0002", "C0001"}));
}

TEST_P(ConsoleOrdersTest, BadQueryFieldsAreRefusedWithWhatIsWrong) {
  EXPECT_EQ(parse_error({{"kind", "refund"}}), "unknown kind 'refund': card, payin, payout or cashier");
  EXPECT_EQ(parse_error({{"kind", "payin"}, {"status", "review"}}),
            "status 'review' is not a state of kind payin (waiting, paid, failed)");
  EXPECT_EQ(parse_error({{"status", "lost"}}), "unknown status 'lost'");
  EXPECT_EQ(parse_error({{"cursor", "zz"}}), "bad cursor");
  EXPECT_EQ(parse_error({{"cursor", encode_cursor({1, ""}).substr(2)}}), "bad cursor");
  EXPECT_EQ(parse_error({{"from_ms", "-5"}}), "from_ms must be a non-negative integer, got '-5'");
  EXPECT_EQ(parse_error({{"from_ms", "20"}, {"to_ms", "10"}}), "from_ms must be before to_ms");
  EXPECT_EQ(parse_error({{"limit", "0"}}), "limit must be 1 to 200, got '0'");
  EXPECT_EQ(parse_error({{"limit", "201"}}), "limit must be 1 to 200, got '201'");
  EXPECT_EQ(parse_error({{"merchant_id", "x"}}), "merchant_id must be a non-negative integer, got 'x'");
  auto c = decode_cursor(encode_cursor({kT0, "Q0005"}));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->created_at_ms, kT0);
  EXPECT_EQ(c->id, "Q0005");
}

// ---- detail ----

TEST_P(ConsoleOrdersTest, DetailMasksSecretsAndNeverShowsThemInClear) {
  auto card_detail = order_detail(*store_->read(), admin(), "C0001");
  ASSERT_TRUE(card_detail.ok()) << card_detail.error().message;
  EXPECT_EQ((*card_detail)["order"]["card_password"], orders::mask_secret(kCardPassword));
  EXPECT_EQ((*card_detail)["order"]["card_number"], "CARDNO-C0001");
  EXPECT_EQ(card_detail->dump().find(kCardPassword), std::string::npos);

  auto w = order_detail(*store_->read(), admin(), "W0004");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)["order"]["account_number"], std::string(12, '*') + "1234");
  EXPECT_EQ(w->dump().find(kAccountNumber), std::string::npos);

  auto q = order_detail(*store_->read(), admin(), "Q0005");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["order"]["accno"], std::string(14, '*') + "002X");
  EXPECT_EQ(q->dump().find(kIdNumber), std::string::npos);
  EXPECT_EQ(q->dump().find("张三"), std::string::npos);
  EXPECT_EQ((*q)["order"]["accname"], "张**");
}

TEST_P(ConsoleOrdersTest, DetailHasTheRowTimelinePostingsAndActions) {
  auto d = order_detail(*store_->read(), admin(), "Q0005");
  ASSERT_TRUE(d.ok()) << d.error().message;
  const json& order = (*d)["order"];
  EXPECT_EQ(order["id"], "Q0005");
  EXPECT_EQ(order["status"], "paid");
  EXPECT_EQ(order["settled_fen"], 9'750);
  EXPECT_EQ(order["result_code"], "0000");
  ASSERT_EQ((*d)["postings"].size(), 3u);  // clearing, available, revenue
  for (const auto& p : (*d)["postings"]) {
    EXPECT_EQ(p["kind"], "cashier.pay");
    EXPECT_EQ(p["at_ms"], kT0 + 4'500);
  }
  std::vector<std::string> events;
  for (const auto& e : (*d)["timeline"]) events.push_back(e["event"]);
  EXPECT_EQ(events, (std::vector<std::string>{"created", "paid", "ledger cashier.pay"}));
  EXPECT_EQ((*d)["actions"], json::array({"hold"}));
  EXPECT_EQ((*d)["notifications"], json::array());

  auto w = order_detail(*store_->read(), admin(), "W0004");
  EXPECT_EQ((*w)["actions"], json::array({"approve", "reject"}));
  EXPECT_EQ((*order_detail(*store_->read(), support(), "W0004"))["actions"], json::array());
  EXPECT_EQ((*order_detail(*store_->read(), support(), "C0001"))["actions"], json::array({"resolve"}));
  EXPECT_EQ((*order_detail(*store_->read(), merchant(kA), "C0001"))["actions"], json::array());
}

TEST_P(ConsoleOrdersTest, AnotherMerchantsOrderIsNotFound) {
  auto d = order_detail(*store_->read(), merchant(kB), "C0001");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(d.error().message, "no order C0001");
  EXPECT_TRUE(order_detail(*store_->read(), merchant(kA), "C0001").ok());
  EXPECT_EQ(order_detail(*store_->read(), admin(), "X999").error().code, ErrorCode::kNotFound);
}

// ---- actions ----

TEST_P(ConsoleOrdersTest, ResolveRunsTheConsignServiceAndIsAudited) {
  const int64_t now = kT0 + 60'000;
  auto refused = in_write<orders::ConsignOrder>([&](Tx& tx) {
    return resolve_review(tx, merchant(kA), "C0001", {orders::ConsignOutcome::Kind::kSuccess, 100, ""}, now);
  });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);

  auto wrong_kind = in_write<orders::ConsignOrder>([&](Tx& tx) {
    return resolve_review(tx, support(), "P0003", {orders::ConsignOutcome::Kind::kSuccess, 100, ""}, now);
  });
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_EQ(wrong_kind.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(audit_rows().empty());

  auto done = in_write<orders::ConsignOrder>([&](Tx& tx) {
    return resolve_review(tx, support(), "C0001", {orders::ConsignOutcome::Kind::kSuccess, 100, ""}, now);
  });
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->state, orders::ConsignState::kSuccess);
  EXPECT_EQ(done->amount.fen(), 9'650);
  EXPECT_EQ(store_->read()->notifications_for_order("C0001").size(), 1u);

  auto again = in_write<orders::ConsignOrder>([&](Tx& tx) {
    return resolve_review(tx, support(), "C0001", {orders::ConsignOutcome::Kind::kFail, 0, "no"}, now);
  });
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "order C0001 is success, not waiting for manual review");

  auto audit = audit_rows();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "order.resolve");
  EXPECT_EQ(audit[0].actor_name, "sam");
  EXPECT_EQ(audit[0].actor_role, "support");
  EXPECT_EQ(audit[0].target_type, "order");
  EXPECT_EQ(audit[0].target_id, "C0001");
  EXPECT_EQ(audit[0].before["status"], "review");
  EXPECT_EQ(audit[0].before["settled_fen"], 0);
  EXPECT_EQ(audit[0].after["status"], "success");
  EXPECT_EQ(audit[0].after["settled_fen"], 9'650);
  EXPECT_EQ(audit[0].after["real_money_yuan"], 100);

  // The detail's timeline shows the operator's action; resend is offered now that a notification exists.
  auto d = order_detail(*store_->read(), admin(), "C0001");
  ASSERT_TRUE(d.ok());
  bool seen = false;
  for (const auto& e : (*d)["timeline"]) seen = seen || e["event"] == "order.resolve";
  EXPECT_TRUE(seen) << (*d)["timeline"].dump();
  EXPECT_EQ((*d)["actions"], json::array({"resend"}));
}

TEST_P(ConsoleOrdersTest, HoldAndReleaseMoveTheFundsAndAreAudited) {
  const int64_t now = kT0 + 60'000;
  const int64_t available = balance(ledger::merchant_available(kA));
  auto refused = in_write<orders::CashierOrder>(
      [&](Tx& tx) { return hold_cashier_order(tx, merchant(kA), "Q0005", "", now, ActionConfig{}); });
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);

  auto held = in_write<orders::CashierOrder>(
      [&](Tx& tx) { return hold_cashier_order(tx, support(), "Q0005", "checking", now, ActionConfig{}); });
  ASSERT_TRUE(held.ok()) << held.error().message;
  EXPECT_EQ(held->state, orders::CashierState::kHeld);
  EXPECT_EQ(balance(ledger::merchant_frozen(kA)), 9'750);
  EXPECT_EQ(balance(ledger::merchant_available(kA)), available - 9'750);
  EXPECT_EQ((*order_detail(*store_->read(), support(), "Q0005"))["actions"], json::array({"resend", "release"}));

  auto released = in_write<orders::CashierOrder>([&](Tx& tx) {
    return release_cashier_order(tx, admin(), "Q0005", true, "", now + 1, ActionConfig{});
  });
  ASSERT_TRUE(released.ok()) << released.error().message;
  EXPECT_EQ(released->state, orders::CashierState::kPaid);
  EXPECT_EQ(balance(ledger::merchant_available(kA)), available);

  auto audit = audit_rows();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "order.hold");
  EXPECT_EQ(audit[0].before["status"], "paid");
  EXPECT_EQ(audit[0].after["status"], "held");
  EXPECT_EQ(audit[0].after["message"], "checking");
  EXPECT_EQ(audit[1].action, "order.release");
  EXPECT_EQ(audit[1].actor_role, "admin");
  EXPECT_EQ(audit[1].after["status"], "paid");
  EXPECT_EQ(audit[1].after["to"], "merchant");
  EXPECT_EQ(balance(ledger::merchant_frozen(kA)), 0);
}

TEST_P(ConsoleOrdersTest, OnlyAnAdminApprovesOrRejectsAPayout) {
  const int64_t now = kT0 + 60'000;
  ActionConfig config;
  config.payout_delay_ms = 7'000;
  auto by_support =
      in_write<orders::Payout>([&](Tx& tx) { return approve_payout(tx, support(), "W0004", now, config); });
  ASSERT_FALSE(by_support.ok());
  EXPECT_EQ(by_support.error().code, ErrorCode::kUnauthenticated);
  auto by_merchant =
      in_write<orders::Payout>([&](Tx& tx) { return reject_payout(tx, merchant(kA), "W0004", "", now); });
  EXPECT_EQ(by_merchant.error().code, ErrorCode::kUnauthenticated);

  auto approved = in_write<orders::Payout>([&](Tx& tx) { return approve_payout(tx, admin(), "W0004", now, config); });
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_EQ(approved->state, orders::PayoutState::kProcessing);
  EXPECT_EQ(approved->process_after_ms, now + 7'000);

  ASSERT_TRUE(store_->write_sync([](Tx& tx) -> Status {
                      auto w = payout("W0008", "mrn-8", kT0 + 5'000);
                      PG_TRY(tx.insert_payout(w));
                      return tx.post(ledger::payout_reserve(kA, w.id, w.amount, w.fee), w.created_at_ms);
                    }).ok());
  const int64_t available = balance(ledger::merchant_available(kA));
  auto rejected =
      in_write<orders::Payout>([&](Tx& tx) { return reject_payout(tx, admin(), "W0008", "wrong account", now); });
  ASSERT_TRUE(rejected.ok()) << rejected.error().message;
  EXPECT_EQ(rejected->state, orders::PayoutState::kRejected);
  EXPECT_EQ(balance(ledger::merchant_available(kA)), available + 5'200);

  auto none = in_write<orders::Payout>([&](Tx& tx) { return approve_payout(tx, admin(), "W9999", now, config); });
  EXPECT_EQ(none.error().message, "no payout W9999");

  auto audit = audit_rows();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "payout.approve");
  EXPECT_EQ(audit[0].before["status"], "approval");
  EXPECT_EQ(audit[0].after["status"], "processing");
  EXPECT_EQ(audit[1].action, "payout.reject");
  EXPECT_EQ(audit[1].target_id, "W0008");
  EXPECT_EQ(audit[1].after["status"], "rejected");
  EXPECT_EQ(audit[1].after["message"], "wrong account");
}

TEST_P(ConsoleOrdersTest, ResendReArmsTheLatestNotificationForOneMoreAttempt) {
  const int64_t now = kT0 + 60'000;
  // A hold queues a back notify; the dispatcher gave up on it after its attempts.
  ASSERT_TRUE(in_write<orders::CashierOrder>([&](Tx& tx) {
                return hold_cashier_order(tx, admin(), "Q0005", "", now, ActionConfig{});
              }).ok());
  auto notes = store_->read()->notifications_for_order("Q0005");
  ASSERT_EQ(notes.size(), 1u);
  ASSERT_TRUE(store_->write_sync([&](Tx& tx) -> Status {
                      auto n = notes[0];
                      storage::NotificationAttempt a;
                      a.notification_id = n.id;
                      a.attempt_no = 1;
                      a.started_at_ms = now + 10;
                      a.latency_ms = 5;
                      a.http_status = 500;
                      a.error = "not acknowledged";
                      a.body_excerpt = "oops";
                      tx.record_attempt(a);
                      n.attempts_made = 1;
                      n.state = storage::NotificationState::kFailed;
                      n.updated_at_ms = now + 20;
                      tx.update_notification(n);
                      return ok_status();
                    }).ok());

  auto other = in_write<NotificationId>([&](Tx& tx) { return resend_notification(tx, merchant(kB), "Q0005", now); });
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
  auto nothing = in_write<NotificationId>([&](Tx& tx) { return resend_notification(tx, admin(), "W0004", now); });
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().code, ErrorCode::kFailedPrecondition);

  auto sent = in_write<NotificationId>(
      [&](Tx& tx) { return resend_notification(tx, merchant(kA), "Q0005", now + 1'000); });
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(*sent, notes[0].id);
  auto n = store_->read()->notification(notes[0].id);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->state, storage::NotificationState::kPending);
  EXPECT_EQ(n->attempts_made, 1);
  EXPECT_EQ(n->attempts_max, 2);
  EXPECT_EQ(n->next_attempt_at_ms, now + 1'000);

  auto audit = audit_rows();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].action, "order.resend");
  EXPECT_EQ(audit[1].actor_role, "merchant");
  EXPECT_EQ(audit[1].before["notification"]["state"], "failed");
  EXPECT_EQ(audit[1].after["notification"]["state"], "pending");
  EXPECT_EQ(audit[1].after["notification"]["attempts_max"], 2);

  // The detail shows the attempt with the response received.
  auto d = order_detail(*store_->read(), merchant(kA), "Q0005");
  ASSERT_TRUE(d.ok());
  const json& attempts = (*d)["notifications"][0]["attempts"];
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0]["http_status"], 500);
  EXPECT_EQ(attempts[0]["body_excerpt"], "oops");
  EXPECT_EQ((*d)["actions"], json::array({"resend"}));
}

TEST_P(ConsoleOrdersTest, ResendWhileADeliveryIsInFlightQueuesACopyForOneMoreAttempt) {
  const int64_t now = kT0 + 60'000;
  ASSERT_TRUE(in_write<orders::CashierOrder>([&](Tx& tx) {
                return hold_cashier_order(tx, admin(), "Q0005", "", now, ActionConfig{});
              }).ok());
  // The dispatcher claims it: a delivery is in flight until now + 40 s.
  auto claimed = in_write<size_t>(
      [&](Tx& tx) -> Result<size_t> { return tx.claim_due_notifications(now, 40'000, 10, {}).size(); });
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(*claimed, 1u);
  auto original = store_->read()->notifications_for_order("Q0005").at(0);

  auto sent = in_write<NotificationId>([&](Tx& tx) { return resend_notification(tx, support(), "Q0005", now + 5); });
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_NE(*sent, original.id);
  auto notes = store_->read()->notifications_for_order("Q0005");
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[1].id, *sent);
  EXPECT_EQ(notes[1].body, original.body);
  EXPECT_EQ(notes[1].url, original.url);
  EXPECT_EQ(notes[1].state, storage::NotificationState::kPending);
  EXPECT_EQ(notes[1].attempts_max, 1);
  EXPECT_EQ(notes[1].next_attempt_at_ms, now + 5);
  EXPECT_EQ(notes[1].claimed_until_ms, 0);
  EXPECT_EQ(notes[0].attempts_max, original.attempts_max);  // the one in flight goes on as it was
  auto audit = audit_rows();
  ASSERT_EQ(audit.back().action, "order.resend");
  EXPECT_EQ(audit.back().after["notification"]["copy_of"], original.id.value());
}

// ---- dashboard ----

TEST_P(ConsoleOrdersTest, DashboardBucketsByLocalDay) {
  // One more paid pay-in the previous local day (23:59 at +480, 15:59 UTC).
  ASSERT_TRUE(store_->write_sync([](Tx& tx) -> Status {
                      orders::PayIn p;
                      p.merchant_id = kB;
                      p.id = PaymentId{"P0009"};
                      p.mrn = "mrn-9";
                      p.channel_id = 2;
                      p.amount = Money::from_fen(3'000);
                      p.amount_text = "30.00";
                      p.callback_url = "https://merchant.example.com/cb";
                      p.request_fingerprint = "rf-9";
                      p.processor = "sandbox";
                      p.state = orders::PayInState::kPaid;
                      p.paid = Money::from_fen(3'000);
                      p.expires_at_ms = kT0;
                      p.created_at_ms = p.updated_at_ms = kT0 - 31 * 60'000;
                      return tx.insert_payin(p);
                    }).ok());
  DashboardQuery q;
  q.days = 3;
  q.now_ms = kT0 + 3'600'000;
  json d = dashboard(*store_->read(), admin(), q);
  const int64_t today_start = kT0 - 30 * 60'000;
  EXPECT_EQ(d["days"], json::array({today_start - 2 * kDayMs, today_start - kDayMs, today_start}));
  EXPECT_EQ(d["protocols"]["gateway"]["orders"], json::array({0, 1, 1}));
  EXPECT_EQ(d["protocols"]["gateway"]["succeeded"], json::array({0, 1, 1}));
  EXPECT_EQ(d["protocols"]["gateway"]["volume_fen"], json::array({0, 3'000, 1'000}));
  EXPECT_EQ(d["protocols"]["consign"]["orders"], json::array({0, 0, 2}));
  EXPECT_EQ(d["protocols"]["consign"]["succeeded"], json::array({0, 0, 1}));
  EXPECT_EQ(d["protocols"]["consign"]["volume_fen"], json::array({0, 0, 10'000}));
  EXPECT_EQ(d["protocols"]["payout"]["orders"], json::array({0, 0, 1}));
  EXPECT_EQ(d["protocols"]["cashier"]["volume_fen"], json::array({0, 0, 10'000}));
  EXPECT_EQ(d["notifications"]["pending_now"], 0);
  // Channels over the range.
  json gateway_channels = json::array();
  for (const auto& c : d["channels"]) {
    if (c["protocol"] == "gateway") gateway_channels.push_back(c);
  }
  EXPECT_EQ(gateway_channels,
            (json::array({{{"protocol", "gateway"}, {"channel", "1"}, {"orders", 1}, {"succeeded", 1}, {"volume_fen", 1'000}},
                          {{"protocol", "gateway"}, {"channel", "2"}, {"orders", 1}, {"succeeded", 1}, {"volume_fen", 3'000}}})));
  // Balances: A has 90000 + 975 + 9750 - 5200 available, 5200 reserved.
  EXPECT_EQ(d["balances"]["available_fen"], 90'000 + 975 + 9'750 - 5'200);
  EXPECT_EQ(d["balances"]["payout_reserved_fen"], 5'200);

  // A merchant's own dashboard, whatever it asks for.
  q.merchant_id = kA;
  json b = dashboard(*store_->read(), merchant(kB), q);
  EXPECT_EQ(b["protocols"]["gateway"]["orders"], json::array({0, 1, 0}));
  EXPECT_EQ(b["protocols"]["consign"]["orders"], json::array({0, 0, 1}));
  EXPECT_EQ(b["balances"]["available_fen"], 0);
  json a = dashboard(*store_->read(), admin(), q);
  EXPECT_EQ(a["protocols"]["gateway"]["orders"], json::array({0, 0, 1}));
  EXPECT_EQ(a["balances"]["payout_reserved_fen"], 5'200);
}

TEST_P(ConsoleOrdersTest, DashboardCountsNotificationsAndFailedAttemptsPerDay) {
  const int64_t now = kT0 + 60'000;
  ASSERT_TRUE(in_write<orders::CashierOrder>([&](Tx& tx) {
                return hold_cashier_order(tx, admin(), "Q0005", "", now, ActionConfig{});
              }).ok());
  auto notes = store_->read()->notifications_for_order("Q0005");
  ASSERT_EQ(notes.size(), 1u);
  ASSERT_TRUE(store_->write_sync([&](Tx& tx) -> Status {
                      storage::NotificationAttempt a;
                      a.notification_id = notes[0].id;
                      a.attempt_no = 1;
                      a.started_at_ms = now + 10;
                      a.error = "connection refused";
                      tx.record_attempt(a);
                      return ok_status();
                    }).ok());
  DashboardQuery q;
  q.days = 2;
  q.now_ms = now;
  json d = dashboard(*store_->read(), admin(), q);
  EXPECT_EQ(d["notifications"]["attempts_failed"], json::array({0, 1}));
  EXPECT_EQ(d["notifications"]["delivered"], json::array({0, 0}));
  EXPECT_EQ(d["notifications"]["pending_now"], 1);
  EXPECT_EQ(dashboard(*store_->read(), merchant(kB), q)["notifications"]["pending_now"], 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, ConsoleOrdersTest, ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::console
