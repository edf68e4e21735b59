// PostgreSQL-specific behaviour: several nodes (two Store instances on one database), retries, lost
// connections, round trips. What every engine must do is in storage/store_conformance_test.cpp.
#include "storage/postgres/pg_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/clock.h"
#include "ledger/ledger.h"
#include "storage/migrations.h"
#include "protocols/consign/service.h"
#include "storage/postgres/pg_conn.h"
#include "storage/testing/store_fixture.h"

namespace paygate::storage {
namespace {

using orders::ConsignOrder;
using orders::ConsignState;
using testing::Latch;
using testing::PostgresHarness;
using testing::StoreOptions;

const MerchantId kA{10001};
const MerchantId kB{10002};
constexpr int64_t kNowMs = 1'800'000'000'000;

Merchant merchant_named(const std::string& tag) {
  Merchant m;
  m.name = "Merchant " + tag;
  m.app_key = "app-" + tag;
  m.sign_key = "sign-key-" + tag;
  m.aes_key = ("aes" + tag + "0123456789abcdef").substr(0, 16);
  m.created_at_ms = m.updated_at_ms = kNowMs;
  return m;
}

// `card` names the card: its number, password and fingerprint (which covers the product, the number and the
// password) all derive from it, so two orders with the same `card` are the same card.
ConsignOrder order(MerchantId merchant, const std::string& moid, const std::string& sys, const std::string& card) {
  ConsignOrder o;
  o.merchant_id = merchant;
  o.sys_order_id = SysOrderId{sys};
  o.merchant_order_id = moid;
  o.batchno = "B1";
  o.product_code = "JD100";
  o.card_number = "6222-" + card;
  o.card_password = "password-" + card;
  o.card_fingerprint = card;
  o.face_money_yuan = 100;
  o.rate = RatePermille{965};
  o.request_fingerprint = "rq-" + moid;
  o.state = ConsignState::kProcessing;
  o.message = "processing";
  o.process_after_ms = kNowMs;
  o.created_at_ms = o.updated_at_ms = kNowMs;
  return o;
}

Notification notification(const std::string& ref, int64_t due_ms) {
  Notification n;
  n.merchant_id = kA;
  n.protocol = "consign";
  n.order_ref = ref;
  n.url = "https://merchant.example.com/notify";
  n.content_type = "application/x-www-form-urlencoded";
  n.body = "sysOrderId=" + ref;
  n.schedule = "consign";
  n.attempts_max = 3;
  n.next_attempt_at_ms = due_ms;
  n.created_at_ms = n.updated_at_ms = due_ms;
  return n;
}

// Two nodes sharing one fresh database.
class PostgresNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::postgres_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = std::make_unique<PostgresHarness>();
  }
  void TearDown() override {
    for (auto* s : {&a_, &b_}) {
      if (*s) (*s)->close();
      s->reset();
    }
  }

  void open_nodes(const StoreOptions& options = {}) {
    a_ = harness_->open(options);
    b_ = harness_->open(options);
  }

  std::unique_ptr<Store> open_with(const std::function<void(PostgresOptions&)>& tweak) {
    auto o = harness_->options();
    tweak(o);
    return open_postgres_store(o, harness_->box());
  }

  // Holds the single writer of a_ so that three requests land in one batch: `tag`0 and `tag`2 enqueue a notification
  // each, `tag`1 enqueues one and then does `fail`. Returns the three answers once all are in.
  std::vector<std::optional<Status>> batch_with_failing_middle(const std::string& tag,
                                                               const std::function<void(Tx&)>& fail) {
    Latch held(1), hold(1);
    a_->submit(
        [&](Tx&) {
          held.count_down();
          hold.wait();
          return ok_status();
        },
        [](Status) {});
    held.wait();
    std::vector<std::optional<Status>> answers(3);
    Latch answered(3);
    for (size_t i = 0; i < 3; ++i) {
      a_->submit(
          [&, i](Tx& tx) {
            tx.enqueue_notification(notification(tag + std::to_string(i), 1'000));
            if (i == 1) fail(tx);
            return ok_status();
          },
          [&, i](Status st) {
            answers[i].emplace(std::move(st));
            answered.count_down();
          });
    }
    hold.count_down();
    answered.wait();
    return answers;
  }

  void seed(Store& store) {
    auto st = store.write_sync([](Tx& tx) {
      EXPECT_EQ(tx.insert_merchant(merchant_named("a")), kA);
      EXPECT_EQ(tx.insert_merchant(merchant_named("b")), kB);
      Product p;
      p.code = "JD100";
      p.name = "JD";
      p.face_values_yuan = {100};
      p.default_rate = RatePermille{965};
      tx.upsert_product(p);
      return ok_status();
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  std::string admin_value(const std::string& sql) { return testing::postgres_admin_value(harness_->admin_url(), sql); }

  // Waits until some session of this database waits for a lock (the other node's insert behind ours).
  void wait_for_a_lock_waiter() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::stoi(admin_value("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '" + harness_->database() +
                                "' AND wait_event_type = 'Lock'")) > 0) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "nobody waited for a lock within 10 s";
  }

  // Terminates the backends of this database whose application_name is `app`; returns how many.
  int terminate(const std::string& app) {
    return std::stoi(admin_value("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
                                 harness_->database() + "' AND application_name = '" + app + "'"));
  }

  std::unique_ptr<PostgresHarness> harness_;
  std::unique_ptr<Store> a_;
  std::unique_ptr<Store> b_;
};

// ---------------------------------------------------------------------------------------------------------------
// Two nodes

TEST_F(PostgresNodes, AClaimedNotificationIsNeverHandedToBothNodes) {
  open_nodes();
  constexpr int kNotifications = 300;
  ASSERT_TRUE(a_->write_sync([](Tx& tx) {
                  for (int i = 0; i < kNotifications; ++i)
                    tx.enqueue_notification(notification("N" + std::to_string(i), 1'000));
                  return ok_status();
                }).ok());
  std::mutex mu;
  std::map<int64_t, int> claimed;
  std::vector<std::thread> threads;
  for (Store* node : {a_.get(), b_.get()}) {
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, node] {
        for (int round = 0; round < 200; ++round) {
          std::vector<Notification> got;
          auto st = node->write_sync([&](Tx& tx) {
            got = tx.claim_due_notifications(2'000, 60'000, 7, {});
            return ok_status();
          });
          ASSERT_TRUE(st.ok()) << st.error().message;
          if (got.empty()) return;
          std::lock_guard lock(mu);
          for (const auto& n : got) ++claimed[n.id.value()];
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kNotifications));
  for (const auto& [id, times] : claimed)
    EXPECT_EQ(times, 1) << "notification " << id << " claimed " << times << " times";
}

TEST_F(PostgresNodes, DueOrdersLockedByOneNodeAreSkippedByTheOther) {
  open_nodes();
  seed(*a_);
  ASSERT_TRUE(a_->write_sync([](Tx& tx) {
                  for (int i = 0; i < 10; ++i) {
                    auto o = order(kA, "D" + std::to_string(i), "CD" + std::to_string(i), "fp-D" + std::to_string(i));
                    o.process_after_ms = kNowMs + i;
                    EXPECT_TRUE(tx.insert_consign_order(o).ok());
                  }
                  return ok_status();
                }).ok());
  Latch a_locked(1), release(1);
  std::set<std::string> held_by_a, seen_by_b;
  std::thread holder([&] {
    auto st = a_->write_sync([&](Tx& tx) {
      held_by_a.clear();
      for (const auto& o : tx.consign_orders_due(kNowMs + 100, 4)) held_by_a.insert(o.sys_order_id.value());
      a_locked.count_down();
      release.wait();
      return ok_status();
    });
    EXPECT_TRUE(st.ok());
  });
  a_locked.wait();
  ASSERT_TRUE(b_->write_sync([&](Tx& tx) {
                  for (const auto& o : tx.consign_orders_due(kNowMs + 100, 100))
                    seen_by_b.insert(o.sys_order_id.value());
                  return ok_status();
                }).ok());
  release.count_down();
  holder.join();
  EXPECT_EQ(held_by_a, (std::set<std::string>{"CD0", "CD1", "CD2", "CD3"}));  // the oldest four
  EXPECT_EQ(seen_by_b.size(), 6u);
  for (const auto& id : held_by_a) EXPECT_FALSE(seen_by_b.contains(id)) << id << " returned to both nodes";
  // Released with A's transaction: B sees all ten again.
  size_t after = 0;
  ASSERT_TRUE(b_->write_sync([&](Tx& tx) {
                  after = tx.consign_orders_due(kNowMs + 100, 100).size();
                  return ok_status();
                }).ok());
  EXPECT_EQ(after, 10u);
}

// Both nodes process due orders at full speed; each order is settled exactly once (a second settlement would make
// check_ledger complain and the entry count exceed the orders).
TEST_F(PostgresNodes, TwoNodesProcessingDueOrdersSettleEachOrderOnce) {
  open_nodes();
  seed(*a_);
  constexpr int kOrders = 120;
  ASSERT_TRUE(a_->write_sync([](Tx& tx) {
                  for (int i = 0; i < kOrders; ++i) {
                    auto o = order(i % 2 ? kA : kB, "P" + std::to_string(i), "CP" + std::to_string(i),
                                   "fp-P" + std::to_string(i));
                    EXPECT_TRUE(tx.insert_consign_order(o).ok());
                  }
                  return ok_status();
                }).ok());
  std::vector<std::thread> threads;
  for (Store* node : {a_.get(), b_.get()}) {
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([node] {
        for (int round = 0; round < 500; ++round) {
          size_t handled = 0;
          auto st = node->write_sync([&](Tx& tx) -> Status {
            auto due = tx.consign_orders_due(kNowMs + 10, 5);
            handled = due.size();
            for (const auto& o : due) {
              auto done = o;
              done.state = ConsignState::kSuccess;
              done.real_money_yuan = 100;
              done.amount = Money::from_fen(9'650);
              tx.update_consign_order(done);
              PG_TRY(tx.post(ledger::consign_settlement(o.merchant_id, o.sys_order_id, Money::from_fen(10'000),
                                                        Money::from_fen(9'650)),
                             kNowMs));
            }
            return ok_status();
          });
          ASSERT_TRUE(st.ok()) << st.error().message;
          if (handled == 0) return;
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  auto tx = a_->read();
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  EXPECT_EQ(check.entries, kOrders);
  EXPECT_EQ(tx->balance("merchant:10001:available"), Money::from_fen(9'650 * kOrders / 2));
  EXPECT_FALSE(tx->next_consign_due_ms().has_value());
}

TEST_F(PostgresNodes, TheJobLockIsExclusiveAcrossNodes) {
  open_nodes();
  Latch a_has_it(1), release(1);
  std::thread holder([&] {
    auto st = a_->write_sync([&](Tx& tx) {
      EXPECT_TRUE(tx.try_job_lock("sweep"));
      EXPECT_TRUE(tx.try_job_lock("sweep")) << "the holder may take it again";
      a_has_it.count_down();
      release.wait();
      return ok_status();
    });
    EXPECT_TRUE(st.ok());
  });
  a_has_it.wait();
  bool b_sweep = true, b_other = false;
  ASSERT_TRUE(b_->write_sync([&](Tx& tx) {
                  b_sweep = tx.try_job_lock("sweep");
                  b_other = tx.try_job_lock("other");
                  return ok_status();
                }).ok());
  EXPECT_FALSE(b_sweep) << "both nodes hold the job lock";
  EXPECT_TRUE(b_other) << "an unrelated job is blocked";
  release.count_down();
  holder.join();
  // Released when A's transaction ended.
  ASSERT_TRUE(b_->write_sync([&](Tx& tx) {
                  b_sweep = tx.try_job_lock("sweep");
                  return ok_status();
                }).ok());
  EXPECT_TRUE(b_sweep);
}

// B inserts behind A's uncommitted insert; once A commits, B's insert reports the rule A's row took.
TEST_F(PostgresNodes, TheSameCardFromBothNodesIsLiveOnce) {
  open_nodes();
  seed(*a_);
  Latch inserted(1), release(1);
  Status from_a = ok_status(), from_b = ok_status();
  std::thread ta([&] {
    from_a = a_->write_sync([&](Tx& tx) {
      auto st = tx.insert_consign_order(order(kA, "O-a", "C-a", "fp-same"));
      inserted.count_down();
      release.wait();
      return st;
    });
  });
  inserted.wait();
  std::thread tb([&] {
    from_b = b_->write_sync([&](Tx& tx) { return tx.insert_consign_order(order(kB, "O-b", "C-b", "fp-same")); });
  });
  wait_for_a_lock_waiter();
  release.count_down();
  ta.join();
  tb.join();
  EXPECT_TRUE(from_a.ok());
  ASSERT_FALSE(from_b.ok());
  EXPECT_EQ(from_b.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(from_b.error().message, "card already submitted");
  EXPECT_FALSE(b_->read()->consign_order_by_sys(SysOrderId{"C-b"}).has_value());
}

TEST_F(PostgresNodes, TheSameMerchantOrderIdFromBothNodesIsADuplicateOnceTheFirstCommits) {
  open_nodes();
  seed(*a_);
  Latch inserted(1), release(1);
  Status from_a = ok_status(), from_b = ok_status();
  std::thread ta([&] {
    from_a = a_->write_sync([&](Tx& tx) {
      auto st = tx.insert_consign_order(order(kA, "O-race", "C-1", "fp-1"));
      inserted.count_down();
      release.wait();
      return st;
    });
  });
  inserted.wait();
  // Same merchant order id, same card too: the order id is what B must hear about (see insert_consign_order).
  std::thread tb([&] {
    from_b = b_->write_sync([&](Tx& tx) { return tx.insert_consign_order(order(kA, "O-race", "C-2", "fp-1")); });
  });
  wait_for_a_lock_waiter();
  release.count_down();
  ta.join();
  tb.join();
  EXPECT_TRUE(from_a.ok());
  ASSERT_FALSE(from_b.ok());
  EXPECT_EQ(from_b.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(from_b.error().message, "duplicate orderId");
  EXPECT_EQ(a_->read()->consign_order(kA, "O-race")->sys_order_id, SysOrderId{"C-1"});
}

// Many racing pairs without choreography: every pair has exactly one winner, and the loser hears the right rule.
TEST_F(PostgresNodes, RacingSubmissionsHaveExactlyOneWinner) {
  open_nodes();
  seed(*a_);
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    const bool same_order_id = round % 2 == 0;
    std::string r = std::to_string(round);
    auto first = order(kA, "R" + r, "CR" + r + "a", "fp-R" + r);
    auto second = order(same_order_id ? kA : kB, same_order_id ? "R" + r : "R" + r + "b", "CR" + r + "b", "fp-R" + r);
    if (same_order_id) second.card_fingerprint = "fp-R" + r + "-other";
    Latch start(1);
    Status sa = ok_status(), sb = ok_status();
    std::thread ta([&] {
      start.wait();
      sa = a_->write_sync([&](Tx& tx) { return tx.insert_consign_order(first); });
    });
    std::thread tb([&] {
      start.wait();
      sb = b_->write_sync([&](Tx& tx) { return tx.insert_consign_order(second); });
    });
    start.count_down();
    ta.join();
    tb.join();
    ASSERT_NE(sa.ok(), sb.ok()) << "round " << round << ": exactly one must win";
    const Status& lost = sa.ok() ? sb : sa;
    EXPECT_EQ(lost.error().message, same_order_id ? "duplicate orderId" : "card already submitted") << round;
  }
}

// The consign service on two nodes: an identical request (a merchant's retry) racing the first gets the first's
// answer, whichever node commits first.
TEST_F(PostgresNodes, AnIdenticalSubmitRacingOnTheOtherNodeGetsTheFirstAnswer) {
  open_nodes();
  seed(*a_);
  SeededRandom random_a(1), random_b(2);
  for (int round = 0; round < 20; ++round) {
    consign::PreparedSubmit p;
    p.order = order(kA, "S" + std::to_string(round), "", "fp-S" + std::to_string(round));
    Latch start(1);
    Result<consign::SubmitAnswer> ra = make_error(ErrorCode::kInternal, "not run");
    Result<consign::SubmitAnswer> rb = ra;
    auto submit = [&](Store& node, Random& random, Result<consign::SubmitAnswer>& out) {
      start.wait();
      auto st = node.write_sync([&](Tx& tx) -> Status {
        out = consign::Service::commit_submit(tx, p, random);
        return out.ok() ? ok_status() : Status(out.error());
      });
      if (!st.ok() && out.ok()) out = st.error();
    };
    std::thread ta([&] { submit(*a_, random_a, ra); });
    std::thread tb([&] { submit(*b_, random_b, rb); });
    start.count_down();
    ta.join();
    tb.join();
    ASSERT_TRUE(ra.ok()) << round << ": " << ra.error().message;
    ASSERT_TRUE(rb.ok()) << round << ": " << rb.error().message;
    EXPECT_EQ(ra->sys_order_id, rb->sys_order_id) << round;
    EXPECT_NE(ra->identical_retry, rb->identical_retry) << round << ": exactly one is the first";
  }
}

// The batch counter is locked once per transaction and counted in memory (PgTx::consign_batch_add): requests rolled
// back to their savepoint take their adds back, also the one whose savepoint took the lock; another node waits for
// the lock and continues from the committed sum.
TEST_F(PostgresNodes, BatchCountsInOneTransactionFollowEachRequestsFate) {
  a_ = harness_->open(StoreOptions{.writers = 1});
  b_ = harness_->open(StoreOptions{.writers = 1});
  Latch held(1), hold(1);
  a_->submit(
      [&](Tx&) {
        held.count_down();
        hold.wait();
        return ok_status();
      },
      [](Status) {});
  held.wait();
  struct Step {
    const char* batch;
    bool fails;
    int64_t expect;
  };
  const std::vector<Step> steps = {{"X", false, 1}, {"X", true, 2},  {"X", false, 2}, {"Y", true, 1},
                                   {"Y", false, 1}, {"X", false, 3}, {"Y", false, 2}};
  std::vector<int64_t> counted(steps.size(), 0);
  Latch answered(static_cast<int>(steps.size()));
  for (size_t i = 0; i < steps.size(); ++i) {
    a_->submit(
        [&, i](Tx& tx) -> Status {
          counted[i] = tx.consign_batch_add(kA, steps[i].batch);
          if (steps[i].fails) return make_error(ErrorCode::kFailedPrecondition, "refused");
          return ok_status();
        },
        [&](Status) { answered.count_down(); });
  }
  hold.count_down();
  answered.wait();
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(counted[i], steps[i].expect) << "step " << i;
  // What committed: X three times, Y twice. A transaction of node A holds X's counter; node B's add waits for it.
  Latch a_counted(1), release(1);
  std::thread holder([&] {
    EXPECT_TRUE(a_->write_sync([&](Tx& tx) {
                    EXPECT_EQ(tx.consign_batch_add(kA, "X"), 4);
                    EXPECT_EQ(tx.consign_batch_add(kA, "X"), 5);
                    a_counted.count_down();
                    release.wait();
                    return ok_status();
                  }).ok());
  });
  a_counted.wait();
  int64_t from_b = 0;
  std::thread other([&] {
    EXPECT_TRUE(b_->write_sync([&](Tx& tx) {
                    from_b = tx.consign_batch_add(kA, "X");
                    return ok_status();
                  }).ok());
  });
  wait_for_a_lock_waiter();
  release.count_down();
  holder.join();
  other.join();
  EXPECT_EQ(from_b, 6);
  ASSERT_TRUE(a_->write_sync([](Tx& tx) {
                  EXPECT_EQ(tx.consign_batch_add(kA, "Y"), 3);
                  return ok_status();
                }).ok());
}

// ---------------------------------------------------------------------------------------------------------------
// Gateway on two nodes

orders::PayIn make_payin(MerchantId merchant, const std::string& id, int64_t expires_ms) {
  orders::PayIn p;
  p.merchant_id = merchant;
  p.id = PaymentId{id};
  p.mrn = "mrn-" + id;
  p.channel_id = 1;
  p.amount = Money::from_fen(10'000);
  p.amount_text = "100";
  p.callback_url = "https://merchant.example.com/cb";
  p.request_fingerprint = "rq-" + id;
  p.processor = "sandbox";
  p.fee_rate = RatePermille{25};
  p.message = "waiting";
  p.expires_at_ms = expires_ms;
  p.created_at_ms = p.updated_at_ms = kNowMs;
  return p;
}

orders::Payout make_payout(MerchantId merchant, const std::string& id, int64_t due_ms,
                           Money amount = Money::from_fen(300), Money fee = Money::from_fen(50)) {
  orders::Payout p;
  p.merchant_id = merchant;
  p.id = PayoutId{id};
  p.mrn = "mrn-" + id;
  p.amount = amount;
  p.amount_text = "3";
  p.fee = fee;
  p.bank_name = "bank";
  p.account_name = "name";
  p.account_number = "62170000" + std::to_string(due_ms % 100'000'000);
  p.callback_url = "https://merchant.example.com/cb";
  p.request_fingerprint = "rq-" + id;
  p.state = orders::PayoutState::kProcessing;
  p.message = "processing";
  p.process_after_ms = due_ms;
  p.created_at_ms = p.updated_at_ms = kNowMs;
  return p;
}

// A pay-in one node has looked up in a write transaction is locked until that ends: the other node's look-up waits
// (it does not skip, and it does not read the old state) and then sees what the first committed. Read snapshots are
// not held up meanwhile.
TEST_F(PostgresNodes, APayInLookedUpForWritingMakesTheOtherNodeWaitAndSeeTheUpdate) {
  open_nodes();
  seed(*a_);
  ASSERT_TRUE(a_->write_sync([](Tx& tx) { return tx.insert_payin(make_payin(kA, "P1", kNowMs + 60'000)); }).ok());
  Latch locked(1), release(1);
  std::thread paying([&] {
    auto st = a_->write_sync([&](Tx& tx) -> Status {
      auto p = tx.payin_by_id(PaymentId{"P1"});
      if (!p) return make_error(ErrorCode::kNotFound, "P1");
      locked.count_down();
      release.wait();
      auto paid =
          orders::apply_payin_outcome(*p, {orders::PayInOutcome::Kind::kPaid, Money::from_fen(9'000), ""}, kNowMs + 1);
      if (!paid.ok()) return paid.error();
      tx.update_payin(*paid);
      return tx.post(ledger::gateway_payin(kA, paid->id, paid->paid, paid->fee), kNowMs + 1);
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  });
  locked.wait();
  std::optional<orders::PayIn> seen_by_b;
  std::thread expiring([&] {
    auto st = b_->write_sync([&](Tx& tx) -> Status {
      seen_by_b = tx.payin_by_id(PaymentId{"P1"});
      if (!seen_by_b || seen_by_b->state != orders::PayInState::kWaiting) return ok_status();
      // Still waiting: this node would expire it (and so pay-in and expiry would both have won).
      auto expired =
          orders::apply_payin_outcome(*seen_by_b, {orders::PayInOutcome::Kind::kExpired, Money{}, ""}, kNowMs + 2);
      tx.update_payin(*expired);
      return ok_status();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  });
  wait_for_a_lock_waiter();
  EXPECT_EQ(b_->read()->payin_by_id(PaymentId{"P1"})->state, orders::PayInState::kWaiting)
      << "a snapshot reads the committed state without waiting";
  release.count_down();
  paying.join();
  expiring.join();
  ASSERT_TRUE(seen_by_b.has_value());
  EXPECT_EQ(seen_by_b->state, orders::PayInState::kPaid) << "the second look-up read the row as it was locked";
  EXPECT_EQ(seen_by_b->paid, Money::from_fen(9'000));
  EXPECT_EQ(b_->stats().batch_retries, 0u) << "node B waited for the lock rather than timing out";
  auto tx = a_->read();
  EXPECT_EQ(tx->payin_by_id(PaymentId{"P1"})->state, orders::PayInState::kPaid);
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
}

// The same for a payout looked up by its mrn: an operator's approval and rejection on two nodes take turns.
TEST_F(PostgresNodes, APayoutLookedUpForWritingIsDecidedOnce) {
  open_nodes();
  seed(*a_);
  auto waiting = make_payout(kA, "W1", kNowMs);
  waiting.state = orders::PayoutState::kApproval;
  ASSERT_TRUE(a_->write_sync([&](Tx& tx) { return tx.insert_payout(waiting); }).ok());
  Latch locked(1), release(1);
  std::thread approving([&] {
    EXPECT_TRUE(a_->write_sync([&](Tx& tx) {
                    auto p = *tx.payout(kA, "mrn-W1");
                    locked.count_down();
                    release.wait();
                    p.state = orders::PayoutState::kProcessing;
                    tx.update_payout(p);
                    return ok_status();
                  }).ok());
  });
  locked.wait();
  std::optional<orders::PayoutState> seen_by_b;
  std::thread rejecting([&] {
    EXPECT_TRUE(b_->write_sync([&](Tx& tx) {
                    auto p = *tx.payout(kA, "mrn-W1");
                    seen_by_b = p.state;
                    if (p.state == orders::PayoutState::kApproval) {
                      p.state = orders::PayoutState::kRejected;
                      tx.update_payout(p);
                    }
                    return ok_status();
                  }).ok());
  });
  wait_for_a_lock_waiter();
  release.count_down();
  approving.join();
  rejecting.join();
  EXPECT_EQ(seen_by_b, orders::PayoutState::kProcessing);
  EXPECT_EQ(a_->read()->payout_by_id(PayoutId{"W1"})->state, orders::PayoutState::kProcessing);
}

// While node A holds the oldest due payouts and expired pay-ins, node B's sweeps skip them (not wait) and take the
// rest; once A's transaction ends they are back.
TEST_F(PostgresNodes, DuePayoutsAndExpiredPayInsLockedByOneNodeAreSkippedByTheOther) {
  open_nodes();
  seed(*a_);
  ASSERT_TRUE(a_->write_sync([](Tx& tx) {
                  for (int i = 0; i < 10; ++i) {
                    EXPECT_TRUE(tx.insert_payin(make_payin(kA, "P" + std::to_string(i), kNowMs + i)).ok());
                    EXPECT_TRUE(tx.insert_payout(make_payout(kB, "W" + std::to_string(i), kNowMs + i)).ok());
                  }
                  return ok_status();
                }).ok());
  Latch a_locked(1), release(1);
  std::set<std::string> held_by_a, seen_by_b;
  std::thread holder([&] {
    EXPECT_TRUE(a_->write_sync([&](Tx& tx) {
                    held_by_a.clear();
                    for (const auto& p : tx.payins_expired(kNowMs + 100, 3)) held_by_a.insert(p.id.value());
                    for (const auto& p : tx.payouts_due(kNowMs + 100, 4)) held_by_a.insert(p.id.value());
                    a_locked.count_down();
                    release.wait();
                    return ok_status();
                  }).ok());
  });
  a_locked.wait();
  ASSERT_TRUE(b_->write_sync([&](Tx& tx) {
                  for (const auto& p : tx.payins_expired(kNowMs + 100, 100)) seen_by_b.insert(p.id.value());
                  for (const auto& p : tx.payouts_due(kNowMs + 100, 100)) seen_by_b.insert(p.id.value());
                  return ok_status();
                }).ok());
  release.count_down();
  holder.join();
  EXPECT_EQ(held_by_a, (std::set<std::string>{"P0", "P1", "P2", "W0", "W1", "W2", "W3"}));  // the oldest
  EXPECT_EQ(seen_by_b.size(), 13u);
  for (const auto& id : held_by_a) EXPECT_FALSE(seen_by_b.contains(id)) << id << " returned to both nodes";
  size_t after = 0;
  ASSERT_TRUE(b_->write_sync([&](Tx& tx) {
                  after = tx.payins_expired(kNowMs + 100, 100).size() + tx.payouts_due(kNowMs + 100, 100).size();
                  return ok_status();
                }).ok());
  EXPECT_EQ(after, 20u);
}

// Both nodes sweep at full speed, each finishing what it took in the same transaction: every payout is paid and
// every pay-in expired exactly once.
TEST_F(PostgresNodes, SweepsOnTwoNodesNeverTakeTheSameRowTwice) {
  open_nodes();
  seed(*a_);
  constexpr int kRows = 150;
  ASSERT_TRUE(a_->write_sync([](Tx& tx) {
                  for (int i = 0; i < kRows; ++i) {
                    MerchantId m = i % 2 ? kA : kB;
                    EXPECT_TRUE(tx.insert_payin(make_payin(m, "P" + std::to_string(i), kNowMs + i % 7)).ok());
                    EXPECT_TRUE(tx.insert_payout(make_payout(m, "W" + std::to_string(i), kNowMs + i % 5)).ok());
                  }
                  return ok_status();
                }).ok());
  std::mutex mu;
  std::map<std::string, int> taken;
  std::vector<std::thread> threads;
  for (Store* node : {a_.get(), b_.get()}) {
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, node] {
        for (int round = 0; round < 500; ++round) {
          std::vector<std::string> mine;
          auto st = node->write_sync([&](Tx& tx) {
            mine.clear();  // a batch run again starts over
            for (auto p : tx.payins_expired(kNowMs + 10, 4)) {
              mine.push_back(p.id.value());
              p = *orders::apply_payin_outcome(p, {orders::PayInOutcome::Kind::kExpired, Money{}, ""}, kNowMs + 10);
              tx.update_payin(p);
            }
            for (auto p : tx.payouts_due(kNowMs + 10, 4)) {
              mine.push_back(p.id.value());
              p.state = orders::PayoutState::kPaid;
              p.finished_at_ms = kNowMs + 10;
              tx.update_payout(p);
            }
            return ok_status();
          });
          ASSERT_TRUE(st.ok()) << st.error().message;
          if (mine.empty()) return;
          std::lock_guard lock(mu);
          for (const auto& id : mine) ++taken[id];
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.size(), static_cast<size_t>(2 * kRows));
  for (const auto& [id, times] : taken) EXPECT_EQ(times, 1) << id << " taken " << times << " times";
  auto tx = a_->read();
  EXPECT_FALSE(tx->next_payin_expiry_ms().has_value());
  EXPECT_FALSE(tx->next_payout_due_ms().has_value());
  PayoutFilter paid;
  paid.state = orders::PayoutState::kPaid;
  paid.limit = 1'000;
  EXPECT_EQ(tx->payouts(paid).size(), static_cast<size_t>(kRows));
}

// Payouts accepted on both nodes at once, each reserving amount + fee from the same available balance: exactly as
// many succeed as the balance covers, the others are refused by post() (not by the database's CHECK), and the
// balance never goes below zero.
TEST_F(PostgresNodes, ConcurrentPayoutReservesOnTwoNodesNeverOverdraw) {
  open_nodes();
  seed(*a_);
  constexpr int64_t kFunds = 10'000;
  constexpr int64_t kEach = 350;  // 300 + a fee of 50
  ASSERT_TRUE(a_->write_sync([&](Tx& tx) -> Status {
                  auto p = make_payin(kA, "PFUND", kNowMs);
                  p.state = orders::PayInState::kPaid;
                  p.paid = Money::from_fen(kFunds);
                  p.fee = Money{};
                  PG_TRY(tx.insert_payin(p));
                  return tx.post(ledger::gateway_payin(kA, p.id, p.paid, p.fee), kNowMs);
                }).ok());
  constexpr int kThreadsPerNode = 3;
  constexpr int kAttemptsPerThread = 10;
  std::atomic<int> accepted{0}, refused{0};
  std::mutex mu;
  std::vector<std::string> other_errors;
  std::atomic<bool> stop_watch{false};
  std::atomic<int64_t> lowest{kFunds};
  std::thread watcher([&] {
    while (!stop_watch) {
      int64_t now = b_->read()->balance("merchant:10001:available").fen();
      int64_t seen = lowest.load();
      while (now < seen && !lowest.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  Latch start(1);
  std::vector<std::thread> threads;
  for (Store* node : {a_.get(), b_.get()}) {
    for (int t = 0; t < kThreadsPerNode; ++t) {
      threads.emplace_back([&, node, t] {
        start.wait();
        for (int k = 0; k < kAttemptsPerThread; ++k) {
          std::string id = std::string(node == a_.get() ? "WA" : "WB") + std::to_string(t) + "-" + std::to_string(k);
          auto st = node->write_sync([&](Tx& tx) -> Status {
            auto p = make_payout(kA, id, kNowMs);
            PG_TRY(tx.insert_payout(p));
            return tx.post(ledger::payout_reserve(kA, p.id, p.amount, p.fee), kNowMs);
          });
          if (st.ok()) {
            ++accepted;
          } else if (st.error().code == ErrorCode::kFailedPrecondition) {
            ++refused;
          } else {
            std::lock_guard lock(mu);
            other_errors.push_back(st.error().message);
          }
        }
      });
    }
  }
  start.count_down();
  for (auto& t : threads) t.join();
  stop_watch = true;
  watcher.join();
  EXPECT_TRUE(other_errors.empty()) << ::testing::PrintToString(other_errors);
  EXPECT_EQ(accepted.load(), kFunds / kEach);
  EXPECT_EQ(refused.load(), 2 * kThreadsPerNode * kAttemptsPerThread - kFunds / kEach);
  EXPECT_GE(lowest.load(), 0);
  auto tx = a_->read();
  EXPECT_EQ(tx->balance("merchant:10001:available"), Money::from_fen(kFunds % kEach));
  EXPECT_EQ(tx->balance("merchant:10001:payout_reserved"), Money::from_fen(kFunds / kEach * kEach));
  PayoutFilter all;
  all.limit = 1'000;
  EXPECT_EQ(tx->payouts(all).size(), static_cast<size_t>(kFunds / kEach)) << "a refused payout leaves no row";
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
}

// ---------------------------------------------------------------------------------------------------------------
// Cashier on two nodes

// An order of 100.00 at 2% (fee 2.00). Pending ones were paid and wait for settle_ms.
orders::CashierOrder make_cashier(MerchantId merchant, const std::string& id, int64_t expires_ms,
                                  orders::CashierState state = orders::CashierState::kUnpaid, int64_t settle_ms = 0) {
  orders::CashierOrder o;
  o.merchant_id = merchant;
  o.id = CashierId{id};
  o.orderid = "ORDER" + id;
  o.action = "Bank";
  o.method = "Bank";
  o.amount = Money::from_fen(10'000);
  o.backurl = "https://merchant.example.com/back";
  o.request_fingerprint = "rq-" + id;
  o.state = state;
  o.fee_rate = RatePermille{20};
  o.message = std::string(orders::cashier_state_name(state));
  if (state == orders::CashierState::kPending) {
    o.fee = Money::from_fen(200);
    o.paid_at_ms = kNowMs;
    o.settle_after_ms = settle_ms;
  }
  o.expires_at_ms = expires_ms;
  o.created_at_ms = o.updated_at_ms = kNowMs;
  return o;
}

// Inserts a pending order with its pay into the merchant's pending account.
Status insert_pending(Tx& tx, const orders::CashierOrder& o) {
  PG_TRY(tx.insert_cashier_order(o));
  return tx.post(ledger::cashier_pay(o.id, ledger::merchant_pending(o.merchant_id), o.amount, o.fee), kNowMs);
}

// An order one node has looked up by id in a write transaction is locked until that ends: the other node's look-up
// waits (it neither skips nor reads the old state) and then sees what the first committed, so a payment and an expiry
// on two nodes cannot both win. Read snapshots are not held up meanwhile.
TEST_F(PostgresNodes, ACashierOrderLookedUpForWritingMakesTheOtherNodeWaitAndSeeTheUpdate) {
  open_nodes();
  seed(*a_);
  ASSERT_TRUE(a_->write_sync([](Tx& tx) { return tx.insert_cashier_order(make_cashier(kA, "Q1", kNowMs)); }).ok());
  Latch locked(1), release(1);
  std::thread paying([&] {
    auto st = a_->write_sync([&](Tx& tx) -> Status {
      auto o = tx.cashier_order_by_id(CashierId{"Q1"});
      if (!o) return make_error(ErrorCode::kNotFound, "Q1");
      locked.count_down();
      release.wait();
      o->state = orders::CashierState::kPending;
      o->fee = Money::from_fen(200);
      o->paid_at_ms = kNowMs + 1;
      o->settle_after_ms = kNowMs + 86'400'000;
      tx.update_cashier_order(*o);
      return tx.post(ledger::cashier_pay(o->id, ledger::merchant_pending(kA), o->amount, o->fee), kNowMs + 1);
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  });
  locked.wait();
  std::optional<orders::CashierOrder> seen_by_b;
  std::thread expiring([&] {
    auto st = b_->write_sync([&](Tx& tx) -> Status {
      seen_by_b = tx.cashier_order_by_id(CashierId{"Q1"});
      if (!seen_by_b || seen_by_b->state != orders::CashierState::kUnpaid) return ok_status();
      // Still unpaid: this node would fail it (and so payment and expiry would both have won).
      auto failed = *seen_by_b;
      failed.state = orders::CashierState::kFailed;
      failed.message = "expired";
      tx.update_cashier_order(failed);
      return ok_status();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  });
  wait_for_a_lock_waiter();
  EXPECT_EQ(b_->read()->cashier_order_by_id(CashierId{"Q1"})->state, orders::CashierState::kUnpaid)
      << "a snapshot reads the committed state without waiting";
  EXPECT_EQ(b_->read()->cashier_orders_expired(kNowMs + 10, 10).size(), 1u) << "snapshots do not lock";
  release.count_down();
  paying.join();
  expiring.join();
  ASSERT_TRUE(seen_by_b.has_value());
  EXPECT_EQ(seen_by_b->state, orders::CashierState::kPending) << "the second look-up read the row as it was locked";
  EXPECT_EQ(seen_by_b->fee, Money::from_fen(200));
  EXPECT_EQ(b_->stats().batch_retries, 0u) << "node B waited for the lock rather than timing out";
  auto tx = a_->read();
  EXPECT_EQ(tx->cashier_order_by_id(CashierId{"Q1"})->state, orders::CashierState::kPending);
  EXPECT_EQ(tx->balance(ledger::merchant_pending(kA).code), Money::from_fen(9'800));
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
}

// The same for an order looked up by the merchant's orderid: an operator's hold on one node and the settlement of the
// same pending order on the other take turns, and the settlement sees the hold.
TEST_F(PostgresNodes, ACashierOrderHeldOnOneNodeIsNotSettledByTheOther) {
  open_nodes();
  seed(*a_);
  ASSERT_TRUE(a_->write_sync([](Tx& tx) {
                  return insert_pending(tx, make_cashier(kA, "Q1", kNowMs, orders::CashierState::kPending, kNowMs));
                }).ok());
  Latch locked(1), release(1);
  std::thread holding([&] {
    auto st = a_->write_sync([&](Tx& tx) -> Status {
      auto o = *tx.cashier_order(kA, "ORDERQ1");
      locked.count_down();
      release.wait();
      o.held_from = o.state;
      o.state = orders::CashierState::kHeld;
      tx.update_cashier_order(o);
      return tx.post(ledger::cashier_move(ledger::kCashierHold, o.id, ledger::merchant_pending(kA),
                                          ledger::merchant_frozen(kA), Money::from_fen(9'800)),
                     kNowMs + 1);
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  });
  locked.wait();
  std::optional<orders::CashierState> seen_by_b;
  std::thread settling([&] {
    auto st = b_->write_sync([&](Tx& tx) -> Status {
      auto o = *tx.cashier_order(kA, "ORDERQ1");
      seen_by_b = o.state;
      if (o.state != orders::CashierState::kPending) return ok_status();
      o.state = orders::CashierState::kPaid;
      tx.update_cashier_order(o);
      return tx.post(ledger::cashier_move(ledger::kCashierSettle, o.id, ledger::merchant_pending(kA),
                                          ledger::merchant_available(kA), Money::from_fen(9'800)),
                     kNowMs + 2);
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  });
  wait_for_a_lock_waiter();
  release.count_down();
  holding.join();
  settling.join();
  EXPECT_EQ(seen_by_b, orders::CashierState::kHeld);
  auto tx = a_->read();
  auto o = tx->cashier_order(kA, "ORDERQ1");
  EXPECT_EQ(o->state, orders::CashierState::kHeld);
  EXPECT_EQ(o->held_from, orders::CashierState::kPending);
  EXPECT_EQ(tx->balance(ledger::merchant_frozen(kA).code), Money::from_fen(9'800));
  EXPECT_EQ(tx->balance(ledger::merchant_available(kA).code), Money{});
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
}

// While node A holds the oldest expired and settleable orders, node B's sweeps skip them (not wait) and take the
// rest; once A's transaction ends they are back.
TEST_F(PostgresNodes, ExpiredAndSettleableCashierOrdersLockedByOneNodeAreSkippedByTheOther) {
  open_nodes();
  seed(*a_);
  ASSERT_TRUE(a_->write_sync([](Tx& tx) -> Status {
                  for (int i = 0; i < 10; ++i) {
                    PG_TRY(tx.insert_cashier_order(make_cashier(kA, "QU" + std::to_string(i), kNowMs + i)));
                    PG_TRY(insert_pending(tx, make_cashier(kB, "QP" + std::to_string(i), kNowMs + i,
                                                           orders::CashierState::kPending, kNowMs + i)));
                  }
                  return ok_status();
                }).ok());
  Latch a_locked(1), release(1);
  std::set<std::string> held_by_a, seen_by_b;
  std::thread holder([&] {
    EXPECT_TRUE(a_->write_sync([&](Tx& tx) {
                    held_by_a.clear();
                    for (const auto& o : tx.cashier_orders_expired(kNowMs + 100, 3)) held_by_a.insert(o.id.value());
                    for (const auto& o : tx.cashier_orders_to_settle(kNowMs + 100, 4)) held_by_a.insert(o.id.value());
                    a_locked.count_down();
                    release.wait();
                    return ok_status();
                  }).ok());
  });
  a_locked.wait();
  ASSERT_TRUE(b_->write_sync([&](Tx& tx) {
                  for (const auto& o : tx.cashier_orders_expired(kNowMs + 100, 100)) seen_by_b.insert(o.id.value());
                  for (const auto& o : tx.cashier_orders_to_settle(kNowMs + 100, 100)) seen_by_b.insert(o.id.value());
                  return ok_status();
                }).ok());
  release.count_down();
  holder.join();
  EXPECT_EQ(held_by_a, (std::set<std::string>{"QU0", "QU1", "QU2", "QP0", "QP1", "QP2", "QP3"}));  // the oldest
  EXPECT_EQ(seen_by_b.size(), 13u);
  for (const auto& id : held_by_a) EXPECT_FALSE(seen_by_b.contains(id)) << id << " returned to both nodes";
  size_t after = 0;
  ASSERT_TRUE(b_->write_sync([&](Tx& tx) {
                  after = tx.cashier_orders_expired(kNowMs + 100, 100).size() +
                          tx.cashier_orders_to_settle(kNowMs + 100, 100).size();
                  return ok_status();
                }).ok());
  EXPECT_EQ(after, 20u);
}

// Both nodes sweep at full speed, each finishing what it took in the same transaction (an expired order fails, a
// pending one settles: its net moves from pending to available): every order is taken exactly once, and the ledger
// agrees (a settlement run twice would overdraw the pending account or be reported).
TEST_F(PostgresNodes, CashierSweepsOnTwoNodesNeverTakeTheSameRowTwice) {
  open_nodes();
  seed(*a_);
  constexpr int kRows = 120;
  ASSERT_TRUE(a_->write_sync([](Tx& tx) -> Status {
                  for (int i = 0; i < kRows; ++i) {
                    MerchantId m = i % 2 ? kA : kB;
                    PG_TRY(tx.insert_cashier_order(make_cashier(m, "QU" + std::to_string(i), kNowMs + i % 7)));
                    PG_TRY(insert_pending(tx, make_cashier(m, "QP" + std::to_string(i), kNowMs,
                                                           orders::CashierState::kPending, kNowMs + i % 5)));
                  }
                  return ok_status();
                }).ok());
  std::mutex mu;
  std::map<std::string, int> taken;
  std::vector<std::thread> threads;
  for (Store* node : {a_.get(), b_.get()}) {
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, node] {
        for (int round = 0; round < 500; ++round) {
          std::vector<std::string> mine;
          auto st = node->write_sync([&](Tx& tx) -> Status {
            mine.clear();  // a batch run again starts over
            for (auto o : tx.cashier_orders_expired(kNowMs + 10, 4)) {
              mine.push_back(o.id.value());
              o.state = orders::CashierState::kFailed;
              o.message = "expired";
              tx.update_cashier_order(o);
            }
            // Settlements move money between a merchant's own accounts only (no platform account is locked
            // first, as post() does for payments), so they post merchant by merchant, as a settlement job must:
            // two transactions then lock merchants' accounts in the same order.
            auto due = tx.cashier_orders_to_settle(kNowMs + 10, 4);
            std::stable_sort(due.begin(), due.end(), [](const auto& x, const auto& y) {
              return x.merchant_id.value() < y.merchant_id.value();
            });
            for (auto o : due) {
              mine.push_back(o.id.value());
              o.state = orders::CashierState::kPaid;
              tx.update_cashier_order(o);
              PG_TRY(
                  tx.post(ledger::cashier_move(ledger::kCashierSettle, o.id, ledger::merchant_pending(o.merchant_id),
                                               ledger::merchant_available(o.merchant_id), *o.amount.checked_sub(o.fee)),
                          kNowMs + 10));
            }
            return ok_status();
          });
          ASSERT_TRUE(st.ok()) << st.error().message;
          if (mine.empty()) return;
          std::lock_guard lock(mu);
          for (const auto& id : mine) ++taken[id];
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.size(), static_cast<size_t>(2 * kRows));
  for (const auto& [id, times] : taken) EXPECT_EQ(times, 1) << id << " taken " << times << " times";
  auto tx = a_->read();
  EXPECT_FALSE(tx->next_cashier_expiry_ms().has_value());
  EXPECT_FALSE(tx->next_cashier_settlement_ms().has_value());
  CashierFilter paid;
  paid.state = orders::CashierState::kPaid;
  paid.limit = 1'000;
  EXPECT_EQ(tx->cashier_orders(paid).size(), static_cast<size_t>(kRows));
  EXPECT_EQ(tx->balance(ledger::merchant_pending(kA).code), Money{});
  EXPECT_EQ(tx->balance(ledger::merchant_available(kA).code), Money::from_fen(kRows / 2 * 9'800));
  auto check = tx->check_ledger();
  EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
}

// ---------------------------------------------------------------------------------------------------------------
// Retries and failures

// Two batches, each holding a row the other wants next: PostgreSQL aborts one (deadlock), whose batch is run again
// after the other commits. Every request of both batches is answered, and nothing is applied twice.
TEST_F(PostgresNodes, ABatchHittingADeadlockIsRunAgainAndEveryRequestAnswered) {
  a_ = harness_->open(StoreOptions{.writers = 1});
  b_ = harness_->open(StoreOptions{.writers = 1});
  seed(*a_);
  Latch a_has_x(1), b_has_y(1);
  Latch hold_a(1), hold_b(1), a_held(1), b_held(1);
  // Hold each node's only writer, so that the deadlocking request and its fillers form one batch.
  a_->submit(
      [&](Tx&) {
        a_held.count_down();
        hold_a.wait();
        return ok_status();
      },
      [](Status) {});
  b_->submit(
      [&](Tx&) {
        b_held.count_down();
        hold_b.wait();
        return ok_status();
      },
      [](Status) {});
  a_held.wait();
  b_held.wait();
  constexpr int kFillers = 5;
  std::mutex mu;
  std::vector<Status> answers;
  Latch answered(2 * (1 + kFillers));
  auto on_done = [&](Status st) {
    {
      std::lock_guard lock(mu);
      answers.push_back(std::move(st));
    }
    answered.count_down();
  };
  a_->submit(
      [&](Tx& tx) {
        tx.consign_batch_add(kA, "X");
        a_has_x.count_down();
        b_has_y.wait();
        tx.consign_batch_add(kA, "Y");
        return ok_status();
      },
      on_done);
  b_->submit(
      [&](Tx& tx) {
        tx.consign_batch_add(kA, "Y");
        b_has_y.count_down();
        a_has_x.wait();
        tx.consign_batch_add(kA, "X");
        return ok_status();
      },
      on_done);
  for (int i = 0; i < kFillers; ++i) {
    for (auto* node : {a_.get(), b_.get()}) {
      std::string ref = (node == a_.get() ? "FA" : "FB") + std::to_string(i);
      node->submit(
          [ref](Tx& tx) {
            tx.enqueue_notification(notification(ref, 1'000));
            return ok_status();
          },
          on_done);
    }
  }
  hold_a.count_down();
  hold_b.count_down();
  answered.wait();
  for (const auto& st : answers) EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_GE(a_->stats().batch_retries + b_->stats().batch_retries, 1u) << "no deadlock happened";
  auto tx = a_->read();
  EXPECT_EQ(tx->pending_notifications(), 2 * kFillers);
  tx.reset();
  // Each add happened exactly once per node: the aborted run left nothing behind.
  ASSERT_TRUE(a_->write_sync([](Tx& tx) {
                  EXPECT_EQ(tx.consign_batch_add(kA, "X"), 3);
                  EXPECT_EQ(tx.consign_batch_add(kA, "Y"), 3);
                  return ok_status();
                }).ok());
}

TEST_F(PostgresNodes, ALostConnectionBeforeCommitRunsTheBatchAgain) {
  a_ = harness_->open(StoreOptions{.writers = 1});
  Latch in_closure(1), go(1);
  std::atomic<int> runs{0};
  Status result = ok_status();
  std::thread t([&] {
    result = a_->write_sync([&](Tx& tx) {
      ++runs;
      tx.enqueue_notification(notification("LOST-1", 1'000));
      in_closure.count_down();
      go.wait();
      tx.enqueue_notification(notification("LOST-2", 1'000));
      return ok_status();
    });
  });
  in_closure.wait();
  EXPECT_EQ(terminate("paygate-writer-0"), 1);
  go.count_down();
  t.join();
  EXPECT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(a_->stats().batch_retries, 1u);
  auto tx = a_->read();
  EXPECT_EQ(tx->notifications_for_order("LOST-1").size(), 1u);
  EXPECT_EQ(tx->notifications_for_order("LOST-2").size(), 1u);
}

// The connection dies after the closure and before COMMIT's answer: the outcome is unknown, so the requests are
// answered "unavailable" and the batch is not run again (it might have committed).
TEST_F(PostgresNodes, ACommitWhoseOutcomeIsUnknownIsUnavailableAndNotRunAgain) {
  a_ = harness_->open(StoreOptions{.writers = 1});
  std::atomic<int> runs{0};
  auto st = a_->write_sync([&](Tx& tx) {
    ++runs;
    tx.enqueue_notification(notification("UNKNOWN", 1'000));
    // Kill this writer's own session, and wait until it is gone, before the writer sends COMMIT.
    EXPECT_EQ(terminate("paygate-writer-0"), 1);
    for (int i = 0; i < 500 && std::stoi(admin_value("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = "
                                                     "'paygate-writer-0' AND datname = '" +
                                                     harness_->database() + "'")) > 0;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return ok_status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(a_->stats().batch_retries, 0u);
  EXPECT_EQ(a_->stats().commits, 0u);
  // The writer reconnects for the next batch.
  EXPECT_TRUE(a_->write_sync([](Tx& tx) {
                  tx.enqueue_notification(notification("AFTER", 1'000));
                  return ok_status();
                }).ok());
  EXPECT_EQ(a_->read()->notifications_for_order("AFTER").size(), 1u);
}

// A statement whose answer arrives only while a later request runs (an update that found no row) fails its own
// request; the batch runs again without it and the others commit.
TEST_F(PostgresNodes, AFailureFoundLateFailsOnlyItsOwnRequest) {
  a_ = harness_->open(StoreOptions{.writers = 1});
  auto answers = batch_with_failing_middle("L", [](Tx& tx) {
    tx.update_consign_order(order(kA, "missing", "C-missing", "fp-missing"));  // no such order
  });
  EXPECT_TRUE(answers[0]->ok());
  ASSERT_FALSE(answers[1]->ok());
  EXPECT_EQ(answers[1]->error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(answers[2]->ok());
  auto tx = a_->read();
  EXPECT_EQ(tx->notifications_for_order("L0").size(), 1u);
  EXPECT_EQ(tx->notifications_for_order("L1").size(), 0u);
  EXPECT_EQ(tx->notifications_for_order("L2").size(), 1u);
}

// A statement the server refuses (text that is not UTF-8) rolls back only its own request, at once.
TEST_F(PostgresNodes, AServerErrorRollsBackOnlyItsOwnRequest) {
  a_ = harness_->open(StoreOptions{.writers = 1});
  auto answers = batch_with_failing_middle("E", [](Tx& tx) {
    tx.enqueue_notification(notification("E1-\xff\xfe", 1'000));  // not UTF-8: the server refuses it
  });
  EXPECT_TRUE(answers[0]->ok());
  ASSERT_FALSE(answers[1]->ok());
  EXPECT_EQ(answers[1]->error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(answers[2]->ok());
  auto tx = a_->read();
  EXPECT_EQ(tx->notifications_for_order("E0").size(), 1u);
  EXPECT_EQ(tx->notifications_for_order("E1").size(), 0u);
  EXPECT_EQ(tx->notifications_for_order("E2").size(), 1u);
  EXPECT_EQ(a_->stats().batch_retries, 0u) << "rolled back to its savepoint, not a rerun";
}

// The server drops every session (a restart, a fail-over): writes retry on new connections without the caller
// noticing; of the pooled readers, at most the first read after the drop fails, and the dead pool is dropped with it.
TEST_F(PostgresNodes, AfterTheServerDropsEveryConnectionTheStoreRecovers) {
  a_ = harness_->open(StoreOptions{.writers = 2});
  {
    auto r1 = a_->read();
    auto r2 = a_->read();
    auto r3 = a_->read();
    EXPECT_EQ(r1->pending_notifications() + r2->pending_notifications() + r3->pending_notifications(), 0);
  }  // three idle reader connections now
  int killed = std::stoi(admin_value("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
                                     harness_->database() + "' AND application_name LIKE 'paygate-%'"));
  EXPECT_EQ(killed, 5);
  for (int i = 0; i < 4; ++i) {
    auto st = a_->write_sync([i](Tx& tx) {
      tx.enqueue_notification(notification("AFTER-DROP-" + std::to_string(i), 1'000));
      return ok_status();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  int failed_reads = 0;
  int64_t pending = -1;
  for (int attempt = 0; attempt < 3 && pending < 0; ++attempt) {
    try {
      pending = a_->read()->pending_notifications();
    } catch (const StorageFailure&) {
      ++failed_reads;
    }
  }
  EXPECT_LE(failed_reads, 1);
  EXPECT_EQ(pending, 4);
}

// Bytes that are not UTF-8 where merchants send free text (custom, card number) round-trip exactly.
TEST_F(PostgresNodes, MerchantBytesThatAreNotUtf8RoundTrip) {
  a_ = harness_->open();
  seed(*a_);
  auto o = order(kA, "GBK", "C-GBK", "fp-GBK");
  o.custom = "\xc4\xe3\xba\xc3";  // GBK for 你好
  o.card_number = "\xff\x00\x01 card";
  ASSERT_TRUE(a_->write_sync([&](Tx& tx) { return tx.insert_consign_order(o); }).ok());
  auto got = a_->read()->consign_order(kA, "GBK");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->custom, o.custom);
  EXPECT_EQ(got->card_number, o.card_number);
}

TEST_F(PostgresNodes, TwoNodesMigratingAtOnceBothStart) {
  std::unique_ptr<Store> stores[2];
  std::string errors[2];
  Latch start(1);
  std::thread threads[2];
  for (int i = 0; i < 2; ++i) {
    threads[i] = std::thread([&, i] {
      start.wait();
      try {
        stores[i] = harness_->open();
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  start.count_down();
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  // Each migration applied once, whichever node got there first.
  EXPECT_EQ(testing::postgres_admin_value(harness_->url(), "SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(embedded_migrations(Engine::kPostgres).size()));
  for (auto& s : stores) {
    if (s) s->close();
  }
}

TEST_F(PostgresNodes, ReadSnapshotsAreBoundedByReaderConnections) {
  a_ = open_with([](PostgresOptions& o) {
    o.reader_connections = 2;
    o.reader_wait_ms = 200;
  });
  auto r1 = a_->read();
  auto r2 = a_->read();
  EXPECT_EQ(r1->pending_notifications(), 0);
  auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(a_->read(), StorageFailure);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
  r1.reset();
  auto r3 = a_->read();  // the freed connection is reused
  EXPECT_EQ(r3->pending_notifications(), 0);
}

TEST(PostgresUrl, PasswordsAreRedacted) {
  EXPECT_EQ(pg::redact_url("postgresql://app:s3cret@db.example.com:5432/paygate?sslmode=require"),
            "postgresql://app:***@db.example.com:5432/paygate?sslmode=require");
  EXPECT_EQ(pg::redact_url("postgres://app@db/paygate?password=s3cret&sslmode=require"),
            "postgres://app@db/paygate?password=***&sslmode=require");
  EXPECT_EQ(pg::redact_url("host=db user=app password='s3 cret' dbname=paygate"),
            "host=db user=app password=*** dbname=paygate");
  EXPECT_EQ(pg::redact_url("postgresql://db.example.com/paygate"), "postgresql://db.example.com/paygate");
  EXPECT_TRUE(is_postgres_url("postgresql://x/y"));
  EXPECT_TRUE(is_postgres_url("postgres://x/y"));
  EXPECT_FALSE(is_postgres_url("sqlite:/tmp/x.db"));
  EXPECT_FALSE(is_postgres_url(""));
}

// ---------------------------------------------------------------------------------------------------------------
// Round trips

// One consign submit (the service's own write closure), one request per transaction, counted in waits for the
// server. The numbers are quoted in pg_store.cpp and docs/ARCHITECTURE.md.
TEST_F(PostgresNodes, RoundTripsPerConsignSubmit) {
  std::map<bool, uint64_t> per_submit;
  for (bool pipeline : {false, true}) {
    auto store = open_with([&](PostgresOptions& o) {
      o.pipeline = pipeline;
      o.group_commit = false;
      o.writer_connections = 1;
    });
    if (pipeline) {
      // Second round: the database was seeded by the first.
    } else {
      seed(*store);
    }
    SeededRandom random(pipeline ? 7 : 8);
    constexpr int kSubmits = 10;
    uint64_t before = store->stats().round_trips;
    for (int i = 0; i < kSubmits; ++i) {
      consign::PreparedSubmit p;
      std::string id = std::string(pipeline ? "P" : "N") + std::to_string(i);
      p.order = order(kA, id, "", "fp-" + id);
      auto st = store->write_sync([&](Tx& tx) -> Status {
        auto r = consign::Service::commit_submit(tx, p, random);
        return r.ok() ? ok_status() : Status(r.error());
      });
      ASSERT_TRUE(st.ok()) << st.error().message;
    }
    uint64_t total = store->stats().round_trips - before;
    EXPECT_EQ(total % kSubmits, 0u) << total;
    per_submit[pipeline] = total / kSubmits;
    store->close();
  }
  std::cout << "round trips per consign submit: without pipelining " << per_submit[false] << ", pipelined "
            << per_submit[true] << "\n";
  EXPECT_EQ(per_submit[false], 8u);
  EXPECT_EQ(per_submit[true], 3u);
}

// With group commit, n submits into one batchno in one transaction cost n + 2 waits: each submit's insert (BEGIN,
// every SAVEPOINT and RELEASE ride along with them), the batch counter's lock once, COMMIT (with the counter's
// update).
TEST_F(PostgresNodes, RoundTripsPerBatchOfConsignSubmits) {
  a_ = harness_->open(StoreOptions{.writers = 1});
  seed(*a_);
  Latch held(1), hold(1);
  a_->submit(
      [&](Tx&) {
        held.count_down();
        hold.wait();
        return ok_status();
      },
      [](Status) {});
  held.wait();
  uint64_t before = a_->stats().round_trips;
  constexpr int kSubmits = 20;
  SeededRandom random(3);
  Latch answered(kSubmits);
  std::atomic<int> ok_count{0};
  std::vector<consign::PreparedSubmit> prepared(kSubmits);
  for (int i = 0; i < kSubmits; ++i) {
    prepared[i].order = order(kA, "G" + std::to_string(i), "", "fp-G" + std::to_string(i));
    a_->submit(
        [&, i](Tx& tx) -> Status {
          auto r = consign::Service::commit_submit(tx, prepared[i], random);
          return r.ok() ? ok_status() : Status(r.error());
        },
        [&](Status st) {
          if (st.ok()) ++ok_count;
          answered.count_down();
        });
  }
  hold.count_down();
  answered.wait();
  EXPECT_EQ(ok_count.load(), kSubmits);
  // The blocker's batch (1: its COMMIT) plus one batch of all the submits.
  EXPECT_EQ(a_->stats().round_trips - before, 1u + kSubmits + 2u);
}

}  // namespace
}  // namespace paygate::storage
