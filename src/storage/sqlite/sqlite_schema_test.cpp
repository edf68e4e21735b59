// SQLite-specific schema properties: the hot write statements build no temporary b-tree, migration 2 (which
// rebuilds two tables to get there) keeps every row, id and reference of a version-1 database, migration 3 (the
// gateway) keeps the merchants of a version-2 database with the new settings at their defaults, migration 4 (the
// cashier) keeps the merchants and gateway rows of a version-3 database, migration 5 (the console) adds its
// tables, with their rules, to a version-4 database, the live-card index of migration 7 lets cards in number
// order share pages, and migration 8 (the journal's tables rebuilt) keeps every entry, posting and id; also the
// background checkpointer and the WAL's start-over.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "ledger/ledger.h"
#include "storage/migrations.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/sqlite_tx.h"
#include "storage/testing/store_fixture.h"

namespace paygate::storage {
namespace {

using sqlite::Connection;

constexpr const char* kInsertOrder =
    "INSERT INTO consign_orders (merchant_id, sys_order_id, merchant_order_id, batchno, product_code, product_type, "
    "card_number, card_password_sealed, card_fingerprint, se_code_sealed, face_money_yuan, rate_permille, notify_url, "
    "custom, request_fingerprint, state, card_live, message, real_money_yuan, amount_fen, success_time_s, "
    "process_after_ms, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, 'B', 'P', 0, 'N', x'00', ?4, NULL, 100, "
    "965, '', '', 'rf', 'processing', 1, '', 0, 0, 0, 0, 0, 0)";
constexpr const char* kInsertPayIn =
    "INSERT INTO gateway_payins (merchant_id, payment_id, mrn, channel_id, amount_fen, amount_text, callback_url, "
    "return_url, payer, request_fingerprint, processor, fee_rate_permille, state, paid_fen, fee_fen, message, "
    "expires_at_ms, finished_at_ms, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, 1, 100, '1', '', '', '', 'rf', "
    "'sandbox', 25, 'waiting', 0, 0, '', 0, 0, 0, 0)";
constexpr const char* kInsertPayout =
    "INSERT INTO gateway_payouts (merchant_id, payout_id, mrn, amount_fen, amount_text, fee_fen, bank_name, "
    "account_name, account_number_sealed, callback_url, request_fingerprint, state, message, process_after_ms, "
    "finished_at_ms, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, 100, '1', 0, 'b', 'a', x'00', '', 'rf', "
    "'processing', '', 0, 0, 0, 0)";
constexpr const char* kInsertCashier =
    "INSERT INTO cashier_orders (merchant_id, cashier_id, orderid, action, method, amount_fen, backurl, fronturl, "
    "accname_sealed, accno_sealed, request_fingerprint, state, held_from, fee_fen, fee_rate_permille, message, "
    "paid_at_ms, settle_after_ms, expires_at_ms, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, 'Bank', 'Bank', "
    "100, '', '', NULL, NULL, 'rf', 'unpaid', 'unpaid', 0, 20, '', 0, 0, 0, 0, 0)";
// As update_cashier_order writes it.
constexpr const char* kUpdateCashier =
    "UPDATE cashier_orders SET method='WeiXin', state='held', held_from='pending', fee_fen=2, fee_rate_permille=20, "
    "message='held', paid_at_ms=1, settle_after_ms=2, expires_at_ms=3, updated_at_ms=4 WHERE merchant_id=1 AND "
    "cashier_id='Q'";
constexpr const char* kInsertNotification =
    "INSERT INTO notifications (merchant_id, protocol, order_ref, url, content_type, body, schedule, attempts_max, "
    "state, next_attempt_at_ms, created_at_ms, updated_at_ms) VALUES (1, 'consign', ?1, 'http://x/', 'text/plain', "
    "'b', 'consign', 3, 'pending', 0, 0, 0)";

// How many temporary b-trees (OpenEphemeral) the statement's program opens.
int ephemeral_tables(Connection& c, const std::string& sql) {
  auto st = c.prepare(("EXPLAIN " + sql).c_str());
  int n = 0;
  while (st.step()) n += st.text(1) == "OpenEphemeral" ? 1 : 0;
  return n;
}

class SqliteSchemaTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_.path() / "paygate.db").string(); }
  std::unique_ptr<Store> open_store(std::function<void()> before_checkpoint_pass = {}) {
    SqliteOptions o;
    o.path = path();
    o.before_checkpoint_pass = std::move(before_checkpoint_pass);
    return open_sqlite_store(o, storage::testing::test_secret_box());
  }
  // The migration tests' starting point: the database as migrations 1 to `version` left it, each recorded as
  // applied, in WAL mode as the store keeps it.
  static void create_at_version(Connection& c, size_t version) {
    const auto& migrations = embedded_migrations(Engine::kSqlite);
    ASSERT_LE(version, migrations.size());
    c.exec("PRAGMA journal_mode=WAL");
    c.exec(
        "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT "
        "NULL)");
    for (size_t i = 0; i < version; ++i) {
      c.exec(migrations[i].sql);
      auto rec = c.prepare("INSERT INTO schema_migrations VALUES (?1, ?2, 0)");
      rec.bind(1, migrations[i].number).bind(2, migrations[i].name);
      rec.exec();
    }
  }
  // A store whose database has an empty `filler` table, for the tests that fill the WAL.
  std::unique_ptr<Store> open_store_with_filler(std::function<void()> before_checkpoint_pass = {}) {
    auto store = open_store(std::move(before_checkpoint_pass));
    EXPECT_TRUE(store->write_sync([](Tx&) { return ok_status(); }).ok());
    Connection c(path(), false, 1000);
    c.exec("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, data BLOB)");
    return store;
  }
  // `commits` transactions one at a time, each a row with a random blob of `blob_bytes`.
  static void fill(Store& store, int commits, int blob_bytes) {
    const std::string sql = "INSERT INTO filler (data) VALUES (randomblob(" + std::to_string(blob_bytes) + "))";
    for (int i = 0; i < commits; ++i) {
      auto st = store.write_sync([&sql](Tx& tx) {
        dynamic_cast<sqlite::SqliteTx&>(tx).connection().exec(sql.c_str());
        return ok_status();
      });
      ASSERT_TRUE(st.ok());
    }
  }
  // The checkpointer runs on its own thread: waits (10 s at most) until it has copied `pages`.
  static StoreStats wait_until_checkpointed(Store& store, uint64_t pages) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (store.stats().checkpointed_pages < pages && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return store.stats();
  }
  storage::testing::TempDir dir_;
};

TEST_F(SqliteSchemaTest, TemporaryFilesStayInMemory) {
  // A savepoint's statement journal that outgrows its buffer goes to a temporary file unless temp_store is MEMORY:
  // tens of write() calls per payout on the writer thread (measured in make bench).
  Connection c(path(), false, 1000);
  auto st = c.prepare("PRAGMA temp_store");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.int64(0), 2) << "2 = MEMORY";
}

// Within the writer's batch, post() holds balance moves in memory until the commit (sqlite_tx.h). SQL that reads or
// writes ledger_accounts directly would miss them: it fails the request (rolled back) instead of answering wrongly,
// and runs as usual once the moves are written.
TEST_F(SqliteSchemaTest, SqlOverTheAccountsFailsWhileBalanceMovesAreHeld) {
  auto store = open_store();
  const ledger::Entry fund{"test.fund",
                           "F1",
                           {{ledger::merchant_available(MerchantId{7}), Money::from_fen(500)},
                            {ledger::consign_clearing(), Money::from_fen(-500)}}};
  ASSERT_TRUE(store->write_sync([&](Tx& tx) { return tx.post(fund, 1); }).ok());  // creates both accounts
  const ledger::Entry again{"test.fund",
                            "F2",
                            {{ledger::merchant_available(MerchantId{7}), Money::from_fen(20)},
                             {ledger::consign_clearing(), Money::from_fen(-20)}}};
  const std::string sum = "SELECT SUM(balance_fen) FROM ledger_accounts WHERE balance_fen > 0";
  auto st = store->write_sync([&](Tx& tx) -> Status {
    PG_TRY(tx.post(again, 2));  // moves both accounts, in memory
    tx.query_sql(sum, {});
    return ok_status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  st = store->write_sync([&](Tx& tx) -> Status {
    PG_TRY(tx.post(again, 2));
    tx.exec_sql("UPDATE ledger_accounts SET balance_fen = 0 WHERE account = 'nothing'", {});
    return ok_status();
  });
  ASSERT_FALSE(st.ok());
  // Neither left anything behind; before any move, and in a read snapshot, the SQL runs.
  EXPECT_EQ(store->read()->balance(ledger::merchant_available(MerchantId{7}).code), Money::from_fen(500));
  EXPECT_EQ(std::get<int64_t>(store->read()->query_sql(sum, {}).at(0).at(0)), 500);
  int64_t seen = 0;
  st = store->write_sync([&](Tx& tx) {
    seen = std::get<int64_t>(tx.query_sql(sum, {}).at(0).at(0));
    return tx.post(again, 2);
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(seen, 500);
  EXPECT_EQ(store->read()->balance(ledger::merchant_available(MerchantId{7}).code), Money::from_fen(520));
  EXPECT_TRUE(store->read()->check_ledger().ok);
  store->close();
}

TEST_F(SqliteSchemaTest, HotWritesBuildNoTemporaryBtree) {
  open_store()->close();
  Connection c(path(), false, 1000);
  // A CHECK written `state IN (a, b, c)` costs a temporary b-tree per row written; RETURNING does too.
  EXPECT_EQ(ephemeral_tables(c, kInsertOrder), 0);
  EXPECT_EQ(ephemeral_tables(c,
                             "UPDATE consign_orders SET state='success', card_live=1 WHERE merchant_id=1 AND "
                             "sys_order_id='S'"),
            0);
  EXPECT_EQ(ephemeral_tables(c, kInsertNotification), 0);
  EXPECT_EQ(ephemeral_tables(c, "UPDATE notifications SET attempts_made=1, state='delivered' WHERE notification_id=1"),
            0);
  EXPECT_EQ(ephemeral_tables(c,
                             "INSERT INTO consign_batches (merchant_id, batchno, cards) VALUES (1, 'B', 1) "
                             "ON CONFLICT(merchant_id, batchno) DO UPDATE SET cards = cards + 1"),
            0);
  // The gateway's: each pay-in and payout is inserted once and updated once or twice.
  EXPECT_EQ(ephemeral_tables(c, kInsertPayIn), 0);
  EXPECT_EQ(ephemeral_tables(c,
                             "UPDATE gateway_payins SET state='paid', paid_fen=1, fee_fen=0 WHERE merchant_id=1 "
                             "AND payment_id='P'"),
            0);
  EXPECT_EQ(ephemeral_tables(c, kInsertPayout), 0);
  EXPECT_EQ(ephemeral_tables(c, "UPDATE gateway_payouts SET state='rejected' WHERE merchant_id=1 AND payout_id='W'"),
            0);
  // The cashier's: each order is inserted once and updated once to a few times (paid, settled, held, released), with
  // two five-state CHECKs (state, held_from).
  EXPECT_EQ(ephemeral_tables(c, kInsertCashier), 0);
  EXPECT_EQ(ephemeral_tables(c, kUpdateCashier), 0);
  EXPECT_EQ(
      ephemeral_tables(c, "UPDATE merchants SET settlement_delay_days=3, bound_card_allowed=1 WHERE merchant_id=1"), 0);
}

TEST_F(SqliteSchemaTest, StateConstraintsStillHold) {
  open_store()->close();
  Connection c(path(), false, 1000);
  auto ins = c.prepare(kInsertOrder);
  ins.bind(1, int64_t{1}).bind(2, "S1").bind(3, "M1").bind(4, "fp1");
  ins.exec();
  EXPECT_THROW(c.exec("UPDATE consign_orders SET state='paid' WHERE sys_order_id='S1'"), std::exception);
  auto n = c.prepare(kInsertNotification);
  n.bind(1, "S1");
  n.exec();
  EXPECT_THROW(c.exec("UPDATE notifications SET state='sent'"), std::exception);
  for (const char* state : {"delivered", "failed", "superseded", "pending"}) {
    EXPECT_NO_THROW(c.exec((std::string("UPDATE notifications SET state='") + state + "'").c_str())) << state;
  }
  EXPECT_EQ(ephemeral_tables(c, "UPDATE notifications SET state='superseded' WHERE notification_id=1"), 0);
  auto payin = c.prepare(kInsertPayIn);
  payin.bind(1, int64_t{1}).bind(2, "P1").bind(3, "M1");
  payin.exec();
  EXPECT_THROW(c.exec("UPDATE gateway_payins SET state='processing'"), std::exception);
  for (const char* state : {"paid", "failed", "waiting"}) {
    EXPECT_NO_THROW(c.exec((std::string("UPDATE gateway_payins SET state='") + state + "'").c_str())) << state;
  }
  auto payout = c.prepare(kInsertPayout);
  payout.bind(1, int64_t{1}).bind(2, "W1").bind(3, "M1");
  payout.exec();
  EXPECT_THROW(c.exec("UPDATE gateway_payouts SET state='waiting'"), std::exception);
  for (const char* state : {"approval", "paid", "failed", "rejected", "processing"}) {
    EXPECT_NO_THROW(c.exec((std::string("UPDATE gateway_payouts SET state='") + state + "'").c_str())) << state;
  }
  auto cashier = c.prepare(kInsertCashier);
  cashier.bind(1, int64_t{1}).bind(2, "Q1").bind(3, "ORDER0001");
  cashier.exec();
  for (const char* column : {"state", "held_from"}) {
    for (const char* bad : {"waiting", "Paid", "1004", ""}) {
      EXPECT_THROW(c.exec((std::string("UPDATE cashier_orders SET ") + column + "='" + bad + "'").c_str()),
                   std::exception)
          << column << "=" << bad;
    }
    for (const char* state : {"paid", "pending", "failed", "held", "unpaid"}) {
      EXPECT_NO_THROW(c.exec((std::string("UPDATE cashier_orders SET ") + column + "='" + state + "'").c_str()))
          << column << "=" << state;
    }
  }
  EXPECT_THROW(c.exec("UPDATE cashier_orders SET fee_fen = 101"), std::exception) << "a fee above the amount";
  EXPECT_THROW(c.exec("UPDATE cashier_orders SET fee_fen = -1"), std::exception);
  EXPECT_THROW(c.exec("UPDATE cashier_orders SET amount_fen = 0"), std::exception);
}

// Frames appended to the WAL by `commits` transactions of `per_commit` card submissions each, into the consign
// orders of a fresh database; card numbers in number order or scattered, fingerprints always random (a keyed hash).
int wal_frames_for_cards(const std::string& path, bool numbers_in_order, int commits, int per_commit) {
  Connection c(path, false, 1000);
  c.exec("PRAGMA wal_autocheckpoint=0");
  c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  auto insert = c.prepare(
      "INSERT INTO consign_orders (merchant_id, sys_order_id, merchant_order_id, batchno, product_code, product_type, "
      "card_number, card_password_sealed, card_fingerprint, se_code_sealed, face_money_yuan, rate_permille, "
      "notify_url, custom, request_fingerprint, state, card_live, message, real_money_yuan, amount_fen, "
      "success_time_s, process_after_ms, created_at_ms, updated_at_ms) VALUES (1, ?1, ?1, 'B', 'P', 0, ?2, x'00', "
      "lower(hex(randomblob(32))), NULL, 100, 965, '', '', 'rf', 'processing', 1, '', 0, 0, 0, ?3, ?3, ?3)");
  for (int i = 0; i < commits * per_commit; ++i) {
    if (i % per_commit == 0) c.exec("BEGIN");
    char id[32];
    std::snprintf(id, sizeof id, "S%08d", i);
    // In order: 10000000, 10000001, ...; scattered: the same numbers in a multiplicative-hash order.
    const int64_t n = numbers_in_order ? i : (static_cast<int64_t>(i) * 2654435761LL) % 100000007LL;
    insert.bind(1, std::string(id)).bind(2, "62" + std::to_string(10000000 + n)).bind(3, static_cast<int64_t>(i));
    insert.exec();
    insert.reset();
    if (i % per_commit == per_commit - 1) c.exec("COMMIT");
  }
  auto st = c.prepare("PRAGMA wal_checkpoint(PASSIVE)");  // busy, frames in the WAL, frames copied
  EXPECT_TRUE(st.step());
  return static_cast<int>(st.int64(1));
}

// The live-card index leads with the product and the card number (migration 7), so that cards submitted in number
// order, as a merchant's batch of gift cards usually is, share its pages; keyed by the random fingerprint first,
// every card changed a page of its own, which each commit wrote to the WAL and each checkpoint copied.
TEST_F(SqliteSchemaTest, CardsInNumberOrderShareTheLiveCardIndexPages) {
  open_store()->close();
  {
    Connection c(path(), false, 1000);
    auto info = c.prepare("SELECT name FROM pragma_index_info('consign_orders_live_card') ORDER BY seqno");
    std::vector<std::string> columns;
    while (info.step()) columns.push_back(info.text(0));
    EXPECT_EQ(columns, (std::vector<std::string>{"product_code", "card_number", "card_fingerprint"}));
    auto plan = c.prepare(
        "EXPLAIN QUERY PLAN SELECT 1 FROM consign_orders WHERE product_code='P' AND card_number='N' AND "
        "card_fingerprint='F' AND card_live=1");
    ASSERT_TRUE(plan.step());
    EXPECT_NE(plan.text(3).find("consign_orders_live_card"), std::string::npos) << plan.text(3);
  }
  const std::string scattered_path = (dir_.path() / "scattered.db").string();
  std::filesystem::copy_file(path(), scattered_path);
  const int in_order = wal_frames_for_cards(path(), true, 100, 25);
  const int scattered = wal_frames_for_cards(scattered_path, false, 100, 25);
  // Measured: ~16 frames per commit in order (the table, its other indexes, the header page), ~32 scattered, where
  // the live-card index adds a page per card or so. Keyed by the fingerprint first, both were ~32.
  EXPECT_LT(in_order * 3, scattered * 2) << "in order " << in_order << " frames, scattered " << scattered;
}

TEST_F(SqliteSchemaTest, Migration2KeepsAVersion1Database) {
  const auto& migrations = embedded_migrations(Engine::kSqlite);
  ASSERT_GE(migrations.size(), 2u);
  ASSERT_EQ(migrations[0].number, 1);
  {
    // A database as version 1 left it: two orders, two notifications (the newest deleted, so AUTOINCREMENT's
    // high-water mark is above the highest row), an attempt that references the first.
    Connection c(path(), false, 1000);
    create_at_version(c, 1);
    for (const char* id : {"1", "2"}) {
      auto ins = c.prepare(kInsertOrder);
      ins.bind(1, int64_t{1})
          .bind(2, std::string("S") + id)
          .bind(3, std::string("M") + id)
          .bind(4, std::string("fp") + id);
      ins.exec();
      auto n = c.prepare(kInsertNotification);
      n.bind(1, std::string("S") + id);
      n.exec();
    }
    c.exec("INSERT INTO notification_attempts VALUES (1, 1, 0, 5, 500, '', 'fail', 0)");
    c.exec("DELETE FROM notifications WHERE notification_id = 2");
  }
  open_store()->close();

  Connection c(path(), false, 1000);
  auto count = [&](const char* sql) {
    auto st = c.prepare(sql);
    EXPECT_TRUE(st.step());
    return st.int64(0);
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM schema_migrations"), static_cast<int64_t>(migrations.size()));
  EXPECT_EQ(count("SELECT COUNT(*) FROM consign_orders"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM notifications"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM notification_attempts WHERE notification_id = 1"), 1);
  // The unique live-card index came back with the table.
  auto dup = c.prepare(kInsertOrder);
  dup.bind(1, int64_t{1}).bind(2, "S3").bind(3, "M3").bind(4, "fp1");
  dup.exec();
  EXPECT_EQ(dup.last_error(), SQLITE_CONSTRAINT);
  // Ids are never reused: the next notification is 3, not 2.
  auto n = c.prepare(kInsertNotification);
  n.bind(1, "S2");
  n.exec();
  EXPECT_EQ(c.last_insert_rowid(), 3);
  auto fk = c.prepare("PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.step()) << "no foreign key is left dangling";
  EXPECT_EQ(ephemeral_tables(c, kInsertOrder), 0);
}

TEST_F(SqliteSchemaTest, Migration3KeepsTheMerchantsOfAVersion2Database) {
  const auto& migrations = embedded_migrations(Engine::kSqlite);
  ASSERT_GE(migrations.size(), 3u);
  ASSERT_EQ(migrations[2].number, 3);
  auto box = storage::testing::test_secret_box();
  {
    // A database as version 2 left it, with two merchants (keys sealed as the store seals them) and a product
    // enabled for the first.
    Connection c(path(), false, 1000);
    c.exec("PRAGMA foreign_keys=OFF");
    create_at_version(c, 2);
    for (int64_t id : {10001, 10002}) {
      auto ins = c.prepare(
          "INSERT INTO merchants (merchant_id, name, enabled, app_key, sign_key_sealed, aes_key_sealed, keys_version, "
          "created_at_ms, updated_at_ms) VALUES (?1, ?2, 1, ?3, ?4, ?5, 3, 7, 8)");
      ins.bind(1, id)
          .bind(2, "Merchant " + std::to_string(id))
          .bind(3, "app-" + std::to_string(id))
          .bind_blob(4, box->seal("sign-" + std::to_string(id), merchant_aad(MerchantId{id}, "sign_key")))
          .bind_blob(5, box->seal("aes-key-16-bytes", merchant_aad(MerchantId{id}, "aes_key")));
      ins.exec();
    }
    c.exec("INSERT INTO products VALUES ('JD100', 'JD', '100', 965, 0, 0, 0, 1, 0)");
    c.exec("INSERT INTO merchant_products VALUES (10001, 'JD100', 1)");
  }
  auto store = open_store();
  {
    auto tx = store->read();
    auto all = tx->merchants();
    ASSERT_EQ(all.size(), 2u);
    for (const auto& m : all) {
      EXPECT_EQ(m.name, "Merchant " + std::to_string(m.id.value()));
      EXPECT_EQ(m.sign_key, "sign-" + std::to_string(m.id.value()));
      EXPECT_EQ(m.aes_key, "aes-key-16-bytes");
      EXPECT_EQ(m.keys_version, 3);
      EXPECT_EQ(m.created_at_ms, 7);
      EXPECT_EQ(m.updated_at_ms, 8);
      EXPECT_EQ(m.payout_fee, Money{}) << "the new settings start at their defaults";
      EXPECT_FALSE(m.payout_manual_approval);
    }
    EXPECT_TRUE(tx->merchant_product_enabled(MerchantId{10001}, "JD100"));
    EXPECT_TRUE(tx->merchant_channels(MerchantId{10001}).empty());
    EXPECT_TRUE(tx->payins({}).empty());
    EXPECT_TRUE(tx->payouts({}).empty());
    EXPECT_TRUE(tx->check_ledger().ok);
  }
  // The upgraded database takes the new settings and rows.
  auto st = store->write_sync([](Tx& tx) {
    auto m = *tx.merchant(MerchantId{10002});
    m.payout_fee = Money::from_fen(300);
    m.payout_manual_approval = true;
    tx.update_merchant(m);
    MerchantChannel ch;
    ch.merchant_id = m.id;
    ch.channel_id = 1;
    ch.fee_rate = RatePermille{25};
    tx.set_merchant_channel(ch);
    return ok_status();
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(store->read()->merchant(MerchantId{10002})->payout_fee, Money::from_fen(300));
  EXPECT_EQ(store->read()->merchant_channels(MerchantId{10002}).size(), 1u);
  store->close();
  store.reset();

  Connection c(path(), false, 1000);
  auto count = c.prepare("SELECT COUNT(*), MAX(number) FROM schema_migrations");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.int64(0), static_cast<int64_t>(migrations.size()));
  EXPECT_EQ(count.int64(1), migrations.back().number);
  auto fk = c.prepare("PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.step()) << "no foreign key is left dangling";
  // The new columns refuse what the interface never writes.
  EXPECT_THROW(c.exec("UPDATE merchants SET payout_fee_fen = -1 WHERE merchant_id = 10001"), std::exception);
  EXPECT_THROW(c.exec("UPDATE merchants SET payout_manual_approval = 2 WHERE merchant_id = 10001"), std::exception);
}

TEST_F(SqliteSchemaTest, Migration4KeepsTheMerchantsAndGatewayRowsOfAVersion3Database) {
  const auto& migrations = embedded_migrations(Engine::kSqlite);
  ASSERT_GE(migrations.size(), 4u);
  ASSERT_EQ(migrations[3].number, 4);
  ASSERT_STREQ(migrations[3].name, "0004_cashier");
  auto box = storage::testing::test_secret_box();
  {
    // A database as version 3 left it: two merchants (keys sealed as the store seals them; the second with payout
    // settings), a channel, a pay-in and a payout (its account number sealed as the store seals it).
    Connection c(path(), false, 1000);
    c.exec("PRAGMA foreign_keys=OFF");
    create_at_version(c, 3);
    for (int64_t id : {10001, 10002}) {
      auto ins = c.prepare(
          "INSERT INTO merchants (merchant_id, name, enabled, app_key, sign_key_sealed, aes_key_sealed, keys_version, "
          "payout_fee_fen, payout_manual_approval, created_at_ms, updated_at_ms) "
          "VALUES (?1, ?2, 1, ?3, ?4, ?5, 3, ?6, ?7, 7, 8)");
      ins.bind(1, id)
          .bind(2, "Merchant " + std::to_string(id))
          .bind(3, "app-" + std::to_string(id))
          .bind_blob(4, box->seal("sign-" + std::to_string(id), merchant_aad(MerchantId{id}, "sign_key")))
          .bind_blob(5, box->seal("aes-key-16-bytes", merchant_aad(MerchantId{id}, "aes_key")))
          .bind(6, id == 10002 ? int64_t{300} : int64_t{0})
          .bind(7, id == 10002);
      ins.exec();
    }
    c.exec("INSERT INTO merchant_channels VALUES (10001, 3, 1, 25, 100, 5000000, 'sandbox', 9)");
    auto payin = c.prepare(kInsertPayIn);
    payin.bind(1, int64_t{10001}).bind(2, "P1").bind(3, "M1");
    payin.exec();
    auto payout = c.prepare(
        "INSERT INTO gateway_payouts (merchant_id, payout_id, mrn, amount_fen, amount_text, fee_fen, bank_name, "
        "account_name, account_number_sealed, callback_url, request_fingerprint, state, message, process_after_ms, "
        "finished_at_ms, created_at_ms, updated_at_ms) VALUES (10002, 'W1', 'M1', 500, '5', 300, 'bank', 'name', ?1, "
        "'', 'rf', 'approval', '', 0, 0, 0, 0)");
    payout.bind_blob(1, box->seal("6217000010002000", payout_aad(PayoutId{"W1"}, "account_number")));
    payout.exec();
  }
  auto store = open_store();
  {
    auto tx = store->read();
    auto all = tx->merchants();
    ASSERT_EQ(all.size(), 2u);
    for (const auto& m : all) {
      EXPECT_EQ(m.name, "Merchant " + std::to_string(m.id.value()));
      EXPECT_EQ(m.sign_key, "sign-" + std::to_string(m.id.value()));
      EXPECT_EQ(m.aes_key, "aes-key-16-bytes");
      EXPECT_EQ(m.keys_version, 3);
      EXPECT_EQ(m.created_at_ms, 7);
      EXPECT_EQ(m.updated_at_ms, 8);
      EXPECT_EQ(m.settlement_delay_days, 0) << "the new settings start at their defaults";
      EXPECT_FALSE(m.bound_card_allowed);
    }
    EXPECT_EQ(all[0].payout_fee, Money{});
    EXPECT_FALSE(all[0].payout_manual_approval);
    EXPECT_EQ(all[1].payout_fee, Money::from_fen(300)) << "version 3's settings are kept";
    EXPECT_TRUE(all[1].payout_manual_approval);
    auto channel = tx->merchant_channel(MerchantId{10001}, 3);
    ASSERT_TRUE(channel.has_value());
    EXPECT_EQ(channel->fee_rate, RatePermille{25});
    EXPECT_EQ(channel->max_amount, Money::from_fen(5'000'000));
    auto p = tx->payin_by_id(PaymentId{"P1"});
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->mrn, "M1");
    EXPECT_EQ(p->state, orders::PayInState::kWaiting);
    auto w = tx->payout(MerchantId{10002}, "M1");
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->account_number, "6217000010002000");
    EXPECT_EQ(w->state, orders::PayoutState::kApproval);
    EXPECT_TRUE(tx->cashier_orders({}).empty());
    EXPECT_FALSE(tx->next_cashier_expiry_ms().has_value());
    EXPECT_FALSE(tx->next_cashier_settlement_ms().has_value());
    // The payout row was written without its reserve entry: only that is reported, nothing about the cashier.
    EXPECT_EQ(tx->check_ledger().problems,
              (std::vector<std::string>{"approval payout W1 has 0 reserve, 0 paid and 0 refund entries",
                                        "merchant 10002 has 0 reserved for payouts, its open payouts need 800"}));
  }
  // The upgraded database takes the new settings and rows.
  auto st = store->write_sync([](Tx& tx) -> Status {
    auto m = *tx.merchant(MerchantId{10001});
    m.settlement_delay_days = 2;
    m.bound_card_allowed = true;
    tx.update_merchant(m);
    orders::CashierOrder o;
    o.merchant_id = m.id;
    o.id = CashierId{"Q1"};
    o.orderid = "ORDER0001";
    o.action = o.method = "Bank";
    o.amount = Money::from_fen(100);
    o.accname = "name";
    o.accno = "6222000011112222";
    o.fee_rate = RatePermille{20};
    o.expires_at_ms = 1'000;
    return tx.insert_cashier_order(o);
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  {
    auto tx = store->read();
    EXPECT_EQ(tx->merchant(MerchantId{10001})->settlement_delay_days, 2);
    EXPECT_TRUE(tx->merchant(MerchantId{10001})->bound_card_allowed);
    EXPECT_EQ(tx->merchant(MerchantId{10002})->payout_fee, Money::from_fen(300)) << "the other merchant unchanged";
    EXPECT_EQ(tx->cashier_order(MerchantId{10001}, "ORDER0001")->accno, "6222000011112222");
    EXPECT_EQ(tx->next_cashier_expiry_ms(), 1'000);
  }
  store->close();
  store.reset();

  Connection c(path(), false, 1000);
  auto count = c.prepare("SELECT COUNT(*), MAX(number) FROM schema_migrations");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.int64(0), static_cast<int64_t>(migrations.size()));
  EXPECT_EQ(count.int64(1), migrations.back().number);
  auto fk = c.prepare("PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.step()) << "no foreign key is left dangling";
  // The new columns refuse what the interface never writes.
  EXPECT_THROW(c.exec("UPDATE merchants SET settlement_delay_days = -1 WHERE merchant_id = 10001"), std::exception);
  EXPECT_THROW(c.exec("UPDATE merchants SET settlement_delay_days = 366 WHERE merchant_id = 10001"), std::exception);
  EXPECT_NO_THROW(c.exec("UPDATE merchants SET settlement_delay_days = 365 WHERE merchant_id = 10001"));
  EXPECT_THROW(c.exec("UPDATE merchants SET bound_card_allowed = 2 WHERE merchant_id = 10001"), std::exception);
  // One order per (merchant, orderid) and per cashier id.
  auto dup = c.prepare(kInsertCashier);
  dup.bind(1, int64_t{10001}).bind(2, "Q2").bind(3, "ORDER0001");
  dup.exec();
  EXPECT_EQ(dup.last_error(), SQLITE_CONSTRAINT);
  auto taken = c.prepare(kInsertCashier);
  taken.bind(1, int64_t{10002}).bind(2, "Q1").bind(3, "ORDER0002");
  taken.exec();
  EXPECT_EQ(taken.last_error(), SQLITE_CONSTRAINT);
}

TEST_F(SqliteSchemaTest, Migration5AddsTheConsoleTablesToAVersion4Database) {
  const auto& migrations = embedded_migrations(Engine::kSqlite);
  ASSERT_GE(migrations.size(), 5u);
  ASSERT_EQ(migrations[4].number, 5);
  ASSERT_STREQ(migrations[4].name, "0005_console");
  auto box = storage::testing::test_secret_box();
  {
    // A database as version 4 left it, with one merchant.
    Connection c(path(), false, 1000);
    create_at_version(c, 4);
    auto ins = c.prepare(
        "INSERT INTO merchants (merchant_id, name, enabled, app_key, sign_key_sealed, aes_key_sealed, keys_version, "
        "created_at_ms, updated_at_ms) VALUES (10001, 'Merchant', 1, 'app', ?1, ?2, 1, 7, 8)");
    ins.bind_blob(1, box->seal("sign", merchant_aad(MerchantId{10001}, "sign_key")))
        .bind_blob(2, box->seal("aes-key-16-bytes", merchant_aad(MerchantId{10001}, "aes_key")));
    ins.exec();
  }
  auto store = open_store();
  EXPECT_EQ(store->read()->merchant(MerchantId{10001})->sign_key, "sign") << "the merchant is kept";
  auto rows = store->read()->query_sql("SELECT api_ip_allowlist FROM merchants", {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(sql_text(rows[0][0]), "") << "no allowlist: any address";
  store->close();
  store.reset();

  Connection c(path(), false, 1000);
  auto count = c.prepare("SELECT COUNT(*), MAX(number) FROM schema_migrations");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.int64(0), static_cast<int64_t>(migrations.size()));
  EXPECT_EQ(count.int64(1), migrations.back().number);
  count.reset();
  constexpr const char* kUser =
      "INSERT INTO console_users (name, role, merchant_id, password_hash, created_at_ms, updated_at_ms) ";
  c.exec((std::string(kUser) + "VALUES ('root', 'admin', NULL, 'h', 1, 1)").c_str());
  c.exec((std::string(kUser) + "VALUES ('shop', 'merchant', 10001, 'h', 1, 1)").c_str());
  EXPECT_EQ(c.last_insert_rowid(), 2);
  // The rules the console relies on.
  EXPECT_THROW(c.exec((std::string(kUser) + "VALUES ('root', 'support', NULL, 'h', 1, 1)").c_str()), std::exception)
      << "names are unique";
  EXPECT_THROW(c.exec((std::string(kUser) + "VALUES ('x', 'owner', NULL, 'h', 1, 1)").c_str()), std::exception);
  EXPECT_THROW(c.exec((std::string(kUser) + "VALUES ('x', 'merchant', NULL, 'h', 1, 1)").c_str()), std::exception)
      << "a merchant login belongs to a merchant";
  EXPECT_THROW(c.exec((std::string(kUser) + "VALUES ('x', 'support', 10001, 'h', 1, 1)").c_str()), std::exception)
      << "an operator belongs to none";
  EXPECT_THROW(c.exec((std::string(kUser) + "VALUES ('x', 'merchant', 99, 'h', 1, 1)").c_str()), std::exception)
      << "an unknown merchant";
  EXPECT_THROW(c.exec("UPDATE console_users SET enabled = 2"), std::exception);
  EXPECT_THROW(c.exec("INSERT INTO console_sessions VALUES ('t', 99, 'c', '', '', 1, 1, 2)"), std::exception)
      << "a session of an unknown user";
  c.exec("INSERT INTO console_sessions VALUES ('t', 1, 'c', '', '', 1, 1, 2)");
  c.exec("INSERT INTO console_login_failures (name, remote_ip, at_ms) VALUES ('root', '192.0.2.1', 5)");
  c.exec(
      "INSERT INTO audit_log (at_ms, actor_user_id, actor_name, actor_role, action, target_type, target_id, "
      "before_json, after_json, remote_ip, request_id) VALUES (1, NULL, 'cli:ops', 'cli', 'user.create', 'user', "
      "'1', '{}', '{}', '', '')");
  auto fk = c.prepare("PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.step()) << "no foreign key is left dangling";
  // The console's frequent look-ups use an index.
  EXPECT_EQ(ephemeral_tables(c, "SELECT user_id FROM console_sessions WHERE token_hash = 't' AND expires_at_ms > 1"),
            0);
  EXPECT_EQ(ephemeral_tables(c, "SELECT COUNT(*) FROM console_login_failures WHERE name = 'root' AND at_ms > 1"), 0);
  EXPECT_EQ(ephemeral_tables(c, "SELECT audit_id FROM audit_log ORDER BY at_ms DESC LIMIT 50"), 0);
}

TEST_F(SqliteSchemaTest, Migration8KeepsTheJournalOfAVersion7DatabaseAndItsNextEntryIds) {
  const auto& migrations = embedded_migrations(Engine::kSqlite);
  ASSERT_GE(migrations.size(), 8u);
  ASSERT_EQ(migrations[7].number, 8);
  ASSERT_STREQ(migrations[7].name, "0008_ledger_appends");
  const std::string merchant_account = ledger::merchant_available(MerchantId{10001}).code;
  const ledger::Account clearing = ledger::consign_clearing();  // may go negative
  const std::string clearing_code = clearing.code;
  {
    // A database as version 7 left it: two entries (ids 1 and 7, as AUTOINCREMENT may leave gaps), two postings
    // each, balances to match.
    Connection c(path(), false, 1000);
    create_at_version(c, 7);
    auto account = c.prepare("INSERT INTO ledger_accounts (account, merchant_id, may_go_negative, balance_fen) "
                             "VALUES (?1, ?2, ?3, ?4)");
    account.bind(1, merchant_account).bind(2, int64_t{10001}).bind(3, false).bind(4, int64_t{300});
    account.exec();
    account.reset();
    ASSERT_TRUE(clearing.may_go_negative);
    account.bind(1, clearing_code).bind_null(2).bind(3, true).bind(4, int64_t{-300});
    account.exec();
    c.exec("INSERT INTO ledger_entries (entry_id, kind, reference, created_at_ms) VALUES (1, 'test.a', 'R1', 10)");
    c.exec("INSERT INTO ledger_entries (entry_id, kind, reference, created_at_ms) VALUES (7, 'test.b', 'R2', 20)");
    auto posting = c.prepare("INSERT INTO ledger_postings (entry_id, account, amount_fen) VALUES (?1, ?2, ?3)");
    for (auto [entry, fen] : {std::pair<int64_t, int64_t>{1, 100}, {7, 200}}) {
      posting.bind(1, entry).bind(2, merchant_account).bind(3, fen);
      posting.exec();
      posting.reset();
      posting.bind(1, entry).bind(2, clearing_code).bind(3, -fen);
      posting.exec();
      posting.reset();
    }
  }
  auto store = open_store();
  {
    auto tx = store->read();
    auto r2 = tx->postings_for_reference("R2");
    ASSERT_EQ(r2.size(), 2u);
    EXPECT_EQ(r2[0].entry_id, 7);
    EXPECT_EQ(r2[0].kind, "test.b");
    EXPECT_EQ(r2[0].created_at_ms, 20);
    EXPECT_EQ(r2[0].account, merchant_account);
    EXPECT_EQ(r2[0].amount.fen(), 200);
    EXPECT_EQ(r2[1].account, clearing_code);
    EXPECT_EQ(r2[1].amount.fen(), -200);
    auto check = tx->check_ledger();
    EXPECT_TRUE(check.ok) << (check.problems.empty() ? "" : check.problems[0]);
    EXPECT_EQ(check.entries, 2);
    EXPECT_EQ(check.postings, 4);
  }
  // The next entry takes the id after the largest.
  ASSERT_TRUE(store
                  ->write_sync([&](Tx& tx) {
                    return tx.post(ledger::Entry{"test.c", "R3",
                                                 {{ledger::merchant_available(MerchantId{10001}), Money::from_fen(50)},
                                                  {clearing, Money::from_fen(-50)}}},
                                   30);
                  })
                  .ok());
  auto r3 = store->read()->postings_for_reference("R3");
  ASSERT_EQ(r3.size(), 2u);
  EXPECT_EQ(r3[0].entry_id, 8);
  EXPECT_TRUE(store->read()->check_ledger().ok);
  store->close();
  store.reset();

  Connection c(path(), false, 1000);
  c.exec("PRAGMA foreign_keys=ON");
  auto seq = c.prepare("SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'ledger_entries'");
  ASSERT_TRUE(seq.step());
  EXPECT_EQ(seq.int64(0), 0) << "no AUTOINCREMENT counter left to update on every entry";
  auto without_rowid = c.prepare("SELECT sql FROM sqlite_schema WHERE name = 'ledger_postings'");
  ASSERT_TRUE(without_rowid.step());
  EXPECT_NE(without_rowid.text(0).find("WITHOUT ROWID"), std::string::npos) << without_rowid.text(0);
  without_rowid.reset();
  EXPECT_THROW(c.exec(("INSERT INTO ledger_postings VALUES (99, '" + clearing_code + "', 1)").c_str()), std::exception)
      << "a posting of an unknown entry";
  EXPECT_THROW(c.exec("INSERT INTO ledger_postings VALUES (8, 'no-such-account', 1)"), std::exception)
      << "a posting to an unknown account";
  auto fk = c.prepare("PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.step()) << "no foreign key is left dangling";
  // The journal's look-ups still use their indexes.
  EXPECT_EQ(ephemeral_tables(c, "SELECT entry_id FROM ledger_entries WHERE reference = 'R1'"), 0);
  EXPECT_EQ(ephemeral_tables(c, "SELECT entry_id FROM ledger_entries WHERE created_at_ms >= 1 ORDER BY created_at_ms"),
            0);
  EXPECT_EQ(ephemeral_tables(c, "SELECT entry_id, amount_fen FROM ledger_postings WHERE account = 'a' ORDER BY "
                                "entry_id"),
            0);
}

TEST_F(SqliteSchemaTest, Migration9KeepsTheNotificationsOfAVersion8DatabaseAndTheirNextIds) {
  const auto& migrations = embedded_migrations(Engine::kSqlite);
  ASSERT_GE(migrations.size(), 9u);
  ASSERT_EQ(migrations[8].number, 9);
  ASSERT_STREQ(migrations[8].name, "0009_notification_superseded");
  {
    // A database as version 8 left it: notifications 1 and 5 (AUTOINCREMENT may leave gaps; 6 was used and
    // deleted, so the next is 7), one with an attempt; 'superseded' not yet allowed.
    Connection c(path(), false, 1000);
    create_at_version(c, 8);
    for (const char* id : {"1", "5", "6"}) {
      c.exec((std::string("INSERT INTO notifications (notification_id, merchant_id, protocol, order_ref, url, "
                          "content_type, body, schedule, attempts_made, attempts_max, state, next_attempt_at_ms, "
                          "claimed_until_ms, created_at_ms, updated_at_ms) VALUES (") +
              id + ", 1, 'cashier', 'Q" + id + "', 'http://x/', 'text/plain', 'b" + id +
              "', 'cashier', 1, 10, 'pending', 100, 50, 10, 20)")
                 .c_str());
    }
    c.exec("DELETE FROM notifications WHERE notification_id = 6");
    c.exec("INSERT INTO notification_attempts (notification_id, attempt_no, started_at_ms, latency_ms, http_status, "
           "error, body_excerpt, delivered) VALUES (5, 1, 30, 4, 500, 'not acknowledged', 'no', 0)");
    EXPECT_THROW(c.exec("UPDATE notifications SET state='superseded' WHERE notification_id = 1"), std::exception);
  }
  auto store = open_store();
  {
    auto tx = store->read();
    auto n5 = tx->notification(NotificationId{5});
    ASSERT_TRUE(n5.has_value());
    EXPECT_EQ(n5->order_ref, "Q5");
    EXPECT_EQ(n5->body, "b5");
    EXPECT_EQ(n5->attempts_made, 1);
    EXPECT_EQ(n5->next_attempt_at_ms, 100);
    EXPECT_EQ(n5->claimed_until_ms, 50);
    EXPECT_EQ(n5->created_at_ms, 10);
    EXPECT_EQ(n5->updated_at_ms, 20);
    EXPECT_EQ(n5->state, NotificationState::kPending);
    ASSERT_EQ(tx->attempts(NotificationId{5}).size(), 1u);
    EXPECT_EQ(tx->attempts(NotificationId{5})[0].http_status, 500u);
    EXPECT_TRUE(tx->notification(NotificationId{1}).has_value());
    EXPECT_EQ(tx->pending_notifications(), 2);
  }
  NotificationId next;
  ASSERT_TRUE(store
                  ->write_sync([&](Tx& tx) {
                    auto n1 = *tx.notification(NotificationId{1});
                    n1.state = NotificationState::kSuperseded;
                    tx.update_notification(n1);
                    Notification n = n1;
                    n.state = NotificationState::kPending;
                    next = tx.enqueue_notification(n);
                    return ok_status();
                  })
                  .ok());
  EXPECT_EQ(next.value(), 7) << "ids are never reused";
  EXPECT_EQ(store->read()->notification(NotificationId{1})->state, NotificationState::kSuperseded);
  store->close();
  store.reset();
  Connection c(path(), false, 1000);
  auto fk = c.prepare("PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.step()) << "no foreign key is left dangling";
  EXPECT_EQ(ephemeral_tables(c, "SELECT notification_id FROM notifications WHERE order_ref = 'Q1'"), 0);
  EXPECT_EQ(ephemeral_tables(c, "SELECT notification_id FROM notifications WHERE state = 'pending' AND "
                                "next_attempt_at_ms <= 1 ORDER BY next_attempt_at_ms"),
            0);
}

// Commits must not pay for checkpoints: a background thread copies the WAL into the database as it grows, so the
// writer never reaches its own (hard) limit under a steady load.
TEST_F(SqliteSchemaTest, BackgroundCheckpointerKeepsTheWalShort) {
  auto store = open_store_with_filler();
  // ~3 000 WAL pages: each commit writes a few KiB of random blob into a fresh table row.
  fill(*store, 300, 40'000);
  auto stats = wait_until_checkpointed(*store, 1);
  EXPECT_GT(stats.checkpoints, 0u);
  EXPECT_GT(stats.checkpointed_pages, 1000u) << "the background checkpointer copied the WAL into the database";
  EXPECT_EQ(stats.inline_checkpoints, 0u) << "the writer never had to checkpoint in a commit";
  store->close();
}

// The server times every WAL sync through the store (paygate_storage_wal_sync_duration_seconds); the store's own
// wrapper, which logs the slow ones, must pass each on, and must let go of the observer when it closes.
TEST_F(SqliteSchemaTest, TheSyncObserverSeesEveryCommitUntilTheStoreCloses) {
  auto store = open_store_with_filler();
  std::atomic<int> syncs{0};
  store->set_sync_observer([&](int64_t sync_us) {
    EXPECT_GE(sync_us, 0);
    syncs.fetch_add(1);
  });
  fill(*store, 5, 1'000);
  EXPECT_GE(syncs.load(), 5) << "one WAL sync per commit";
  store->close();
  const int after_close = syncs.load();
  auto other = open_store_with_filler();
  fill(*other, 3, 1'000);
  EXPECT_EQ(syncs.load(), after_close) << "a closed store's observer is no longer called";
  other->close();
}

// A checkpoint pass has a fixed cost: locks, the WAL index, a sync of the database file. The checkpointer used to
// start a pass after every commit once the WAL was 1 000 pages long (a quarter of a core under the consign
// benchmark); it now waits until kCheckpointStepPages (256) more frames were appended, and skips SQLite's sync of
// the WAL, which the writer's commits made durable already. Before: 449 passes here.
TEST_F(SqliteSchemaTest, CheckpointPassesEachCoverManyCommits) {
  auto store = open_store_with_filler();
  const auto skipped_before = store->stats().wal_syncs_skipped;
  // 600 commits of ~5 WAL pages each, one at a time: ~3 000 pages.
  fill(*store, 600, 16'000);
  auto stats = wait_until_checkpointed(*store, 1'500);
  EXPECT_GE(stats.checkpointed_pages, 1'500u);
  EXPECT_LE(stats.checkpoints, 40u) << "a pass copies the frames of several commits, not of one";
  EXPECT_EQ(stats.inline_checkpoints, 0u);
  EXPECT_GE(stats.wal_syncs_skipped - skipped_before, stats.checkpoints)
      << "no pass synced the WAL: the writer's commits had";
  store->close();
}

// Under writes with no gap between them, the background checkpointer never finds the WAL fully copied at the moment
// a write transaction starts, so SQLite cannot start the WAL over: it grew to the writer's hard limit (20 000 pages),
// where commits stalled on checkpoints of their own (1 s at the consign benchmark's half rate, 2026-11-22). The
// writer now copies the last frames itself once the WAL passes a bound, so the next transaction starts it over.
// ~30 000 WAL pages, all queued at once, so that the writer never waits for work; then the WAL's longest length.
uintmax_t wal_bytes_after_writes_without_pause(Store& store, const std::string& wal_path) {
  constexpr int kWrites = 30'000;
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < kWrites; ++i) {
    store.submit(
        [](Tx& tx) {
          auto& sql = dynamic_cast<sqlite::SqliteTx&>(tx);
          sql.connection().exec("INSERT INTO filler (data) VALUES (randomblob(3000))");
          return ok_status();
        },
        [&](Status st) {
          if (!st.ok()) failed.fetch_add(1);
          done.fetch_add(1);
        });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (done.load() < kWrites && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(done.load(), kWrites);
  EXPECT_EQ(failed.load(), 0);
  // SQLite never shrinks the WAL file (journal_size_limit -1): its size is the longest the WAL got.
  return std::filesystem::file_size(wal_path);
}

constexpr uintmax_t kWalBytesBound = uintmax_t{8'000} * 4'120;  // 8 000 frames of a 4 KiB page and its header

TEST_F(SqliteSchemaTest, TheWalStartsOverUnderWritesWithoutPause) {
  auto store = open_store_with_filler();
  auto wal_bytes = wal_bytes_after_writes_without_pause(*store, path() + "-wal");
  auto stats = store->stats();
  EXPECT_EQ(stats.inline_checkpoints, 0u) << "the writer never had to checkpoint in a commit";
  EXPECT_GT(stats.wal_tail_checkpoints, 0u);
  EXPECT_LT(wal_bytes, kWalBytesBound) << "the WAL started over before it passed a few thousand pages";
  store->close();
}

// Under a loaded machine the checkpointer may get too little CPU to catch up with the writer, each pass leaving
// more frames behind than the last (this test's forerunner above once failed so under `ctest -j2`). The writer
// then takes the rest over itself at a fixed length, however slow the checkpointer is.
TEST_F(SqliteSchemaTest, TheWalStartsOverWhenTheCheckpointerFallsBehind) {
  auto store = open_store_with_filler([] { std::this_thread::sleep_for(std::chrono::milliseconds(50)); });
  auto wal_bytes = wal_bytes_after_writes_without_pause(*store, path() + "-wal");
  auto stats = store->stats();
  EXPECT_EQ(stats.inline_checkpoints, 0u) << "the writer never had to checkpoint in a commit";
  EXPECT_GT(stats.wal_tail_checkpoints, 0u);
  EXPECT_LT(wal_bytes, kWalBytesBound) << "the WAL started over before it passed a few thousand pages";
  store->close();
}

}  // namespace
}  // namespace paygate::storage
