// console/money.h against each storage engine: the statement's opening and running balances and its pages, and the
// daily reconciliation on a day with consign, gateway pay-in, payout and cashier activity made by the services'
// own write-side steps, then broken by a ledger entry that belongs to no order.
#include "console/money.h"

#include <gtest/gtest.h>

#include "ledger/ledger.h"
#include "processors/sandbox/gateway_processors.h"
#include "protocols/cashier/service.h"
#include "protocols/consign/service.h"
#include "protocols/gateway/service.h"
#include "storage/testing/store_fixture.h"

namespace paygate::console {
namespace {

using storage::Tx;

const MerchantId kA{10001};
const MerchantId kB{10002};
constexpr int kOffset = 480;  // UTC+8

Principal admin() {
  Principal p;
  p.user_id = 1;
  p.name = "alice";
  p.role = Role::kAdmin;
  return p;
}

Principal merchant_user(MerchantId id) {
  Principal p;
  p.user_id = 3;
  p.name = "shop";
  p.role = Role::kMerchant;
  p.merchant_id = id;
  return p;
}

template <typename T>
::testing::AssertionResult succeeds(const Result<T>& r) {
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << error_code_name(r.error().code) << ": " << r.error().message;
}

class MoneyTest : public ::testing::TestWithParam<storage::testing::StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    auto day = local_day("2026-03-10", kOffset);
    ASSERT_TRUE(day.ok());
    day_start_ms_ = day->first;
    write([&](Tx& tx) {
      for (const char* name : {"Shop A", "Shop B"}) {
        storage::Merchant m;
        m.name = name;
        m.app_key = std::string("app-") + name;
        m.sign_key = "sign-key-0123456789";
        m.aes_key = "abcdefghijklmnop";
        m.payout_fee = Money::from_fen(200);
        m.created_at_ms = m.updated_at_ms = day_start_ms_ - 86'400'000;
        tx.insert_merchant(m);
      }
      storage::Product p;
      p.code = "JDE";
      p.name = "JD E-card";
      p.face_values_yuan = {100, 200};
      p.default_rate = RatePermille{965};
      tx.upsert_product(p);
      tx.set_merchant_product(kA, "JDE", true);
      for (int channel : {1, 2}) {
        storage::MerchantChannel ch;
        ch.merchant_id = channel == 1 ? kA : kB;
        ch.channel_id = channel;
        ch.fee_rate = RatePermille{25};
        tx.set_merchant_channel(ch);
      }
      return ok_status();
    });
  }

  void TearDown() override {
    if (store_) store_->close();
  }

  void write(const std::function<Status(Tx&)>& fn) {
    auto st = store_->write_sync(fn);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  // Hours into the day under test (negative: the day before).
  int64_t at(double hours) const { return day_start_ms_ + static_cast<int64_t>(hours * 3'600'000); }

  // A consign card submitted at `created_ms` and settled at `done_ms` for `real_yuan`.
  void consign_card(const std::string& oid, int64_t real_yuan, int64_t created_ms, int64_t done_ms) {
    write([&](Tx& tx) -> Status {
      orders::ConsignOrder o;
      o.merchant_id = kA;
      o.merchant_order_id = oid;
      o.batchno = "B1";
      o.product_code = "JDE";
      o.card_number = "CARD-" + oid;
      o.card_password = "PW-" + oid;
      o.card_fingerprint = "fp-" + oid;
      o.face_money_yuan = 100;
      o.rate = RatePermille{965};
      o.request_fingerprint = "rf-" + oid;
      o.process_after_ms = created_ms;
      o.created_at_ms = o.updated_at_ms = created_ms;
      auto answer = consign::Service::commit_submit(tx, consign::PreparedSubmit{o}, random_);
      if (!answer.ok()) return answer.error();
      auto stored = tx.consign_order_by_sys(answer->sys_order_id);
      return consign::finish_order(tx, *stored,
                                   orders::ConsignOutcome{orders::ConsignOutcome::Kind::kSuccess, real_yuan, "ok"},
                                   done_ms);
    });
  }

  // A gateway pay-in of `fen` on channel 1 (2.5%), created and paid at the given times.
  void pay_in(const std::string& mrn, int64_t fen, int64_t created_ms, int64_t paid_ms) {
    write([&](Tx& tx) -> Status {
      orders::PayIn p;
      p.merchant_id = kA;
      p.mrn = mrn;
      p.channel_id = 1;
      p.amount = Money::from_fen(fen);
      p.amount_text = format_yuan(p.amount);
      p.callback_url = "https://merchant.example.com/cb";
      p.request_fingerprint = "rf-" + mrn;
      p.processor = "sandbox";
      p.fee_rate = RatePermille{25};
      p.expires_at_ms = created_ms + 2 * 86'400'000;  // paid whenever the test says
      p.created_at_ms = p.updated_at_ms = created_ms;
      auto answer = gateway::Service::commit_pay_in(tx, gateway::PreparedPayIn{p}, random_);
      if (!answer.ok()) return answer.error();
      auto done = gateway::complete_pay_in(
          tx, answer->payin.id, orders::PayInOutcome{orders::PayInOutcome::Kind::kPaid, Money::from_fen(fen), {}},
          paid_ms, schedule_);
      if (!done.ok()) return done.error();
      return ok_status();
    });
  }

  // A payout of whole yuan with the merchant's 2.00 fee, accepted at `created_ms`, paid by the bank at `paid_ms`.
  void payout(const std::string& mrn, int64_t yuan, int64_t created_ms, int64_t paid_ms) {
    write([&](Tx& tx) -> Status {
      orders::Payout p;
      p.merchant_id = kA;
      p.mrn = mrn;
      p.amount = *Money::from_yuan(yuan);
      p.amount_text = std::to_string(yuan);
      p.fee = Money::from_fen(200);
      p.bank_name = "ICBC";
      p.account_name = "Zhang San";
      p.account_number = "6222020000001234";
      p.callback_url = "https://merchant.example.com/payout-cb";
      p.request_fingerprint = "rf-" + mrn;
      p.process_after_ms = created_ms;
      p.created_at_ms = p.updated_at_ms = created_ms;
      auto answer = gateway::Service::commit_payout(tx, gateway::PreparedPayout{p}, random_);
      if (!answer.ok()) return answer.error();
      EXPECT_EQ(gateway::process_due_payouts(tx, bank_, paid_ms, 10, schedule_), 1u);
      return ok_status();
    });
  }

  // A cashier order of merchant B paid with WeiXin (channel 1 for B is not set: B pays with AliPay, channel 2).
  void cashier_order(const std::string& orderid, int64_t fen, int64_t created_ms, int64_t paid_ms) {
    write([&](Tx& tx) -> Status {
      orders::CashierOrder o;
      o.merchant_id = kB;
      o.orderid = orderid;
      o.action = "AliPay";
      o.method = "AliPay";
      o.amount = Money::from_fen(fen);
      o.backurl = "https://merchant.example.com/back";
      o.request_fingerprint = "rf-" + orderid;
      o.fee_rate = RatePermille{25};
      o.expires_at_ms = created_ms + 900'000;
      o.created_at_ms = o.updated_at_ms = created_ms;
      auto answer = cashier::Service::commit_pay(tx, cashier::PreparedPay{o, "sign-key-0123456789"}, random_);
      if (!answer.ok()) return answer.error();
      auto done = cashier::complete_order(tx, answer->order.id, cashier::Outcome::kSettle, std::nullopt, paid_ms,
                                          cashier_config_);
      if (!done.ok()) return done.error();
      return ok_status();
    });
  }

  Reconciliation reconcile_day(const std::string& date = "2026-03-10") {
    auto r = reconcile(*store_->read(), admin(), date, std::nullopt, kOffset);
    EXPECT_TRUE(succeeds(r));
    return r.ok() ? *r : Reconciliation{};
  }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
  int64_t day_start_ms_ = 0;
  SeededRandom random_{7};
  notify::ScheduleConfig schedule_;
  processors::SandboxBank bank_;
  cashier::Config cashier_config_;
};

TEST(LocalDay, IsTheDayAtTheOffset) {
  auto d = local_day("2026-03-10", 480);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->first, 1'773'100'800'000 - 8 * 3'600'000);  // 2026-03-10T00:00+08:00
  EXPECT_EQ(d->second - d->first, 86'400'000);
  EXPECT_EQ(local_day("2024-02-29", 0)->first, 1'709'164'800'000);
  EXPECT_FALSE(local_day("2026-02-29", 0).ok());
  EXPECT_FALSE(local_day("2026-3-10", 0).ok());
  EXPECT_FALSE(local_day("2026-13-01", 0).ok());
  EXPECT_FALSE(local_day("20260310", 0).ok());
  EXPECT_EQ(local_day("2026-02-30", 0).error().message, "date 2026-02-30 does not exist");
}

TEST_P(MoneyTest, StatementHasTheOpeningBalanceAndARunningBalanceAcrossPages) {
  auto post = [&](int64_t ms, ledger::Entry e) {
    write([&](Tx& tx) { return tx.post(e, ms); });
  };
  post(at(-2), ledger::gateway_payin(kA, PaymentId{"P1"}, Money::from_fen(10'000), Money::from_fen(250)));  // +9750
  post(at(1), ledger::gateway_payin(kA, PaymentId{"P2"}, Money::from_fen(2'000), Money::from_fen(0)));      // +2000
  post(at(2), ledger::payout_reserve(kA, PayoutId{"W1"}, Money::from_fen(3'000), Money::from_fen(200)));    // -3200
  post(at(3), ledger::gateway_payin(kB, PaymentId{"P3"}, Money::from_fen(500), Money::from_fen(0)));        // B only
  post(at(4), ledger::payout_refund(kA, PayoutId{"W1"}, Money::from_fen(3'000), Money::from_fen(200)));     // +3200
  post(at(30), ledger::gateway_payin(kA, PaymentId{"P4"}, Money::from_fen(100), Money::from_fen(0)));       // after

  StatementQuery q;
  q.merchant = kA;
  q.from_ms = at(0);
  q.to_ms = at(24);
  q.limit = 2;
  auto page1 = statement(*store_->read(), admin(), q);
  ASSERT_TRUE(succeeds(page1));
  EXPECT_EQ(page1->opening.fen(), 9'750);
  EXPECT_EQ(page1->closing.fen(), 9'750 + 2'000);
  ASSERT_EQ(page1->items.size(), 2u);
  EXPECT_EQ(page1->items[0].reference, "P2");
  EXPECT_EQ(page1->items[0].kind, "gateway.payin");
  EXPECT_EQ(page1->items[0].amount.fen(), 2'000);
  EXPECT_EQ(page1->items[0].balance.fen(), 11'750);
  EXPECT_EQ(page1->items[0].at_ms, at(1));
  EXPECT_EQ(page1->items[1].reference, "W1");
  EXPECT_EQ(page1->items[1].amount.fen(), -3'200);
  EXPECT_EQ(page1->items[1].balance.fen(), 8'550);
  ASSERT_TRUE(page1->next_cursor.has_value());

  q.cursor = *page1->next_cursor;
  auto page2 = statement(*store_->read(), admin(), q);
  ASSERT_TRUE(succeeds(page2));
  ASSERT_EQ(page2->items.size(), 1u);
  EXPECT_EQ(page2->items[0].kind, "gateway.payout.refund");
  EXPECT_EQ(page2->items[0].balance.fen(), 11'750);
  EXPECT_EQ(page2->items[0].balance, page2->closing);
  EXPECT_FALSE(page2->next_cursor.has_value());

  // Without a range: everything, from zero, closing at the account's balance.
  StatementQuery all;
  all.merchant = kA;
  auto whole = statement(*store_->read(), admin(), all);
  ASSERT_TRUE(succeeds(whole));
  EXPECT_EQ(whole->opening.fen(), 0);
  EXPECT_EQ(whole->items.size(), 5u);
  EXPECT_EQ(whole->items.back().balance, store_->read()->balance(ledger::merchant_available(kA).code));
  EXPECT_EQ(whole->closing, whole->items.back().balance);

  // The reserve account of the same merchant, and the CSV.
  all.account = MerchantAccount::kPayoutReserved;
  auto reserved = statement(*store_->read(), admin(), all);
  ASSERT_TRUE(succeeds(reserved));
  ASSERT_EQ(reserved->items.size(), 2u);
  EXPECT_EQ(reserved->items[0].balance.fen(), 3'200);
  EXPECT_EQ(reserved->items[1].balance.fen(), 0);
  q.cursor.clear();
  auto csv = statement_csv(*store_->read(), admin(), q);
  ASSERT_TRUE(succeeds(csv));
  EXPECT_EQ(csv->substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_NE(csv->find("entry_id,at_ms,kind,reference,amount_yuan,balance_yuan\r\n,,opening,,,97.50\r\n"),
            std::string::npos)
      << *csv;
  EXPECT_NE(csv->find(",gateway.payout.reserve,W1,-32.00,85.50\r\n"), std::string::npos) << *csv;
  EXPECT_NE(csv->find(",,closing,,,117.50\r\n"), std::string::npos) << *csv;

  // A merchant user reads its own statement only; a bad cursor or range is refused.
  EXPECT_TRUE(succeeds(statement(*store_->read(), merchant_user(kA), q)));
  EXPECT_EQ(statement(*store_->read(), merchant_user(kB), q).error().code, ErrorCode::kNotFound);
  q.cursor = "x";
  EXPECT_EQ(statement(*store_->read(), admin(), q).error().code, ErrorCode::kInvalidArgument);
  q.cursor.clear();
  q.to_ms = q.from_ms;
  EXPECT_EQ(statement(*store_->read(), admin(), q).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(MoneyTest, ReconciliationMatchesOnADayOfConsignPayInPayoutAndCashierActivity) {
  // The day before: a pay-in paid then (not in the day), one created then but paid in the day (in it).
  pay_in("M-old", 50'000, at(-5), at(-4));
  pay_in("M-late", 10'000, at(-1), at(0.5));
  // The day: a consign card, a pay-in, a payout, a cashier order; and a pay-in paid the next day (not in it).
  consign_card("C-1", 100, at(1), at(1.01));
  pay_in("M-1", 20'000, at(2), at(2.5));
  payout("W-1", 100, at(3), at(3.1));
  cashier_order("Q0000001", 5'000, at(4), at(4.2));
  pay_in("M-next", 7'000, at(23.5), at(24.5));

  auto r = reconcile_day();
  EXPECT_TRUE(r.matches) << ::testing::PrintToString(r.differences);
  EXPECT_TRUE(r.differences.empty());
  EXPECT_EQ(r.from_ms, at(0));
  EXPECT_EQ(r.to_ms, at(24));
  ASSERT_EQ(r.rows.size(), 4u);

  const auto& consign = r.rows[0];
  EXPECT_EQ(consign.merchant_id, kA);
  EXPECT_EQ(consign.merchant_name, "Shop A");
  EXPECT_EQ(consign.protocol, "consign");
  EXPECT_EQ(consign.channel, "JDE");
  EXPECT_EQ(consign.orders, 1);
  EXPECT_EQ(consign.gross.fen(), 10'000);
  auto card = store_->read()->consign_order(kA, "C-1");
  EXPECT_EQ(consign.net, card->amount);
  EXPECT_EQ(consign.fee.fen(), 10'000 - card->amount.fen());

  const auto& gateway = r.rows[1];
  EXPECT_EQ(gateway.protocol, "gateway");
  EXPECT_EQ(gateway.channel, "1");
  EXPECT_EQ(gateway.orders, 2);  // M-late and M-1
  EXPECT_EQ(gateway.gross.fen(), 30'000);
  EXPECT_EQ(gateway.fee.fen(), 750);
  EXPECT_EQ(gateway.net.fen(), 29'250);

  const auto& payouts = r.rows[2];
  EXPECT_EQ(payouts.protocol, "payout");
  EXPECT_EQ(payouts.payouts, 1);
  EXPECT_EQ(payouts.payouts_amount.fen(), 10'000);
  EXPECT_EQ(payouts.payout_fees.fen(), 200);

  const auto& cashier = r.rows[3];
  EXPECT_EQ(cashier.merchant_id, kB);
  EXPECT_EQ(cashier.protocol, "cashier");
  EXPECT_EQ(cashier.channel, "AliPay");
  EXPECT_EQ(cashier.orders, 1);
  EXPECT_EQ(cashier.gross.fen(), 5'000);
  EXPECT_EQ(cashier.fee.fen(), 125);
  EXPECT_EQ(cashier.net.fen(), 4'875);

  EXPECT_EQ(r.ledger_credited.fen(), card->amount.fen() + 29'250 + 4'875);
  EXPECT_EQ(r.ledger_payouts.fen(), 10'200);
  EXPECT_EQ(r.totals.orders, 4);
  EXPECT_EQ(r.totals.net, r.ledger_credited);

  auto j = reconciliation_json(r);
  EXPECT_EQ(j["matches"], true);
  EXPECT_EQ(j["rows"].size(), 4u);
  EXPECT_EQ(j["ledger"]["payouts_fen"], 10'200);
  EXPECT_EQ(j["rows"][1]["gross_fen"], 30'000);
  auto csv = reconciliation_csv(r);
  EXPECT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_NE(csv.find("2026-03-10,10001,Shop A,gateway,1,2,300.00,7.50,292.50,0,0.00,0.00\r\n"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",matches,"), std::string::npos);

  // One merchant only; a merchant user gets its own whatever it asks.
  auto only_b = reconcile(*store_->read(), admin(), "2026-03-10", kB, kOffset);
  ASSERT_TRUE(succeeds(only_b));
  ASSERT_EQ(only_b->rows.size(), 1u);
  EXPECT_TRUE(only_b->matches);
  auto own = reconcile(*store_->read(), merchant_user(kB), "2026-03-10", std::nullopt, kOffset);
  ASSERT_TRUE(succeeds(own));
  EXPECT_EQ(own->rows.size(), 1u);
  EXPECT_EQ(reconcile(*store_->read(), merchant_user(kB), "2026-03-10", kA, kOffset).error().code,
            ErrorCode::kNotFound);

  // The next day holds only M-next, and matches too.
  auto next = reconcile_day("2026-03-11");
  EXPECT_TRUE(next.matches);
  ASSERT_EQ(next.rows.size(), 1u);
  EXPECT_EQ(next.rows[0].gross.fen(), 7'000);
  EXPECT_TRUE(store_->read()->check_ledger().ok);
}

TEST_P(MoneyTest, AnEntryWithoutItsOrderIsADifference) {
  pay_in("M-1", 20'000, at(2), at(2.5));
  payout("W-1", 50, at(3), at(3.1));
  ASSERT_TRUE(reconcile_day().matches);

  // Money credited to merchant A by a pay-in entry no order stands behind, and a payout entry without its payout.
  write([&](Tx& tx) {
    return tx.post(ledger::gateway_payin(kA, PaymentId{"P-nobody"}, Money::from_fen(1'000), Money::from_fen(0)), at(5));
  });
  write([&](Tx& tx) {
    return tx.post(ledger::payout_reserve(kA, PayoutId{"W-nobody"}, Money::from_fen(300), Money::from_fen(0)), at(6));
  });
  write([&](Tx& tx) {
    return tx.post(ledger::payout_paid(kA, PayoutId{"W-nobody"}, Money::from_fen(300), Money::from_fen(0)), at(6));
  });
  auto r = reconcile_day();
  EXPECT_FALSE(r.matches);
  ASSERT_EQ(r.differences.size(), 2u) << ::testing::PrintToString(r.differences);
  EXPECT_EQ(r.differences[0],
            "merchant 10001 gateway: the orders credit 195.00 yuan, the ledger's gateway.payin entries credit 205.00 "
            "yuan (difference 10.00)");
  EXPECT_EQ(r.differences[1],
            "merchant 10001 payout: the orders paid out 52.00 yuan, the ledger's gateway.payout.paid entries debit "
            "55.00 yuan (difference 3.00)");
  EXPECT_EQ(r.ledger_credited.fen(), 20'500);
  EXPECT_EQ(reconciliation_json(r)["matches"], false);
  EXPECT_NE(reconciliation_csv(r).find(",DIFFERS,"), std::string::npos);
}

TEST_P(MoneyTest, BalancesPerMerchantAndThePlatformForOperators) {
  pay_in("M-1", 20'000, at(2), at(2.5));
  auto all = balances(*store_->read(), admin(), std::nullopt);
  ASSERT_TRUE(succeeds(all));
  ASSERT_EQ((*all)["items"].size(), 2u);
  EXPECT_EQ((*all)["items"][0]["merchant_id"], kA.value());
  EXPECT_EQ((*all)["items"][0]["available_fen"], 19'500);
  EXPECT_EQ((*all)["items"][1]["available_fen"], 0);
  EXPECT_EQ((*all)["platform"]["revenue_fen"], 500);
  auto own = balances(*store_->read(), merchant_user(kB), std::nullopt);
  ASSERT_TRUE(succeeds(own));
  ASSERT_EQ((*own)["items"].size(), 1u);
  EXPECT_EQ((*own)["items"][0]["merchant_id"], kB.value());
  EXPECT_FALSE(own->contains("platform"));
  EXPECT_EQ(balances(*store_->read(), merchant_user(kB), kA).error().code, ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Engines, MoneyTest, ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::console
