// The storage interface. One implementation per engine (sqlite/, later postgres/), one conformance suite
// (store_conformance_test.cpp) run against each.
//
// Writes go through `submit`: the closure runs on one of the store's writers inside a transaction shared with
// other requests (group commit, each request isolated by a savepoint), and `done` is called only after the
// transaction is durable. A closure may run more than once (PostgreSQL runs a batch again after a deadlock or a
// lost connection, the earlier run rolled back): it must have no effect outside the Tx except setting what it
// returns. Reads go through `read()`, a snapshot on a reader connection.
//
// Tx methods signal environment failures (disk full, corrupt database) by throwing StorageFailure; the store
// turns that into an error Result at its boundary. Business errors are Results returned by the closures.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/ids.h"
#include "base/limits.h"
#include "base/money.h"
#include "base/result.h"
#include "ledger/ledger.h"
#include "orders/cashier_order.h"
#include "orders/consign_order.h"
#include "orders/gateway_order.h"

namespace paygate::crypto {
class SecretBox;
}

namespace paygate::storage {

struct StorageFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Merchant {
  MerchantId id;
  std::string name;
  bool enabled = true;
  std::string app_key;
  std::string sign_key;   // plaintext in memory; sealed at rest
  std::string aes_key;    // 16 characters; sealed at rest
  int64_t keys_version = 1;
  // Gateway payouts: the fee taken with each payout (may be 0), and whether payouts wait for an operator.
  Money payout_fee;
  bool payout_manual_approval = false;
  // Cashier: days a paid order's money stays pending before settling to available (0: settled at once, result
  // 0000; N: result 1002 until then), and whether bound-card payment (accname + accno) is allowed.
  int settlement_delay_days = 0;
  bool bound_card_allowed = false;
  // Protocol API calls are accepted only from these addresses and CIDR ranges (normalized entries, see
  // http/ip_allowlist.h); empty: from any address. Stored comma-separated in merchants.api_ip_allowlist.
  std::vector<std::string> api_ip_allowlist;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// A merchant as the catalogue cache hands it out: shared, never copied per request (nor its keys).
using MerchantRef = std::shared_ptr<const Merchant>;

struct Product {
  std::string code;
  std::string name;
  std::vector<int64_t> face_values_yuan;  // ascending
  RatePermille default_rate;
  bool custom_rate_allowed = false;
  RatePermille custom_rate_min;
  RatePermille custom_rate_max;
  bool enabled = true;
  int64_t created_at_ms = 0;
};

// kSuperseded: a newer notification of the same order was enqueued before this one was delivered; it is not sent
// again (notify::enqueue_newest).
enum class NotificationState { kPending, kDelivered, kFailed, kSuperseded };
std::string_view notification_state_name(NotificationState s);
// The inverse of notification_state_name; anything unknown reads as pending.
NotificationState parse_notification_state(std::string_view s);
// How every engine stores a product's face values: whole yuan, comma-separated, ascending.
std::string join_face_values(const std::vector<int64_t>& values);
std::vector<int64_t> split_face_values(const std::string& text);
// How every engine stores a merchant's IP allowlist: the entries comma-separated ("" for none).
std::string join_ip_allowlist(const std::vector<std::string>& entries);
std::vector<std::string> split_ip_allowlist(const std::string& text);
// The associated data a sealed column is bound to (its row and column), the same on every engine, so a sealed
// value copied to another row or column does not open.
std::string merchant_aad(MerchantId id, const char* field);
std::string order_aad(const SysOrderId& id, const char* field);
std::string payout_aad(const PayoutId& id, const char* field);
std::string cashier_aad(const CashierId& id, const char* field);

// A consign card's secrets sealed ahead of its insert, for one sys order id (their associated data). The request's
// own thread seals them, so that the single writer, the group commit's bottleneck, need not (docs/performance.md).
struct SealedCard {
  SysOrderId sys_order_id;  // empty: nothing sealed ahead
  std::string password;
  std::string se_code;  // empty when the order has no security code
};
SealedCard seal_card(const crypto::SecretBox& box, const SysOrderId& id, std::string_view password,
                     std::string_view se_code);
// A payout's bank account number sealed ahead of its insert, for one payout id, in the same way.
struct SealedAccount {
  PayoutId payout_id;  // empty: nothing sealed ahead
  std::string account_number;
};
SealedAccount seal_account(const crypto::SecretBox& box, const PayoutId& id, std::string_view account_number);
// What an engine stores: the secrets sealed ahead when they were sealed for this row's id, else sealed now.
SealedCard sealed_for(const crypto::SecretBox& box, const orders::ConsignOrder& order, const SealedCard& ahead);
SealedAccount sealed_for(const crypto::SecretBox& box, const orders::Payout& payout, const SealedAccount& ahead);

// A gateway channel (the document's table, ids 1..15) as enabled for one merchant.
struct MerchantChannel {
  MerchantId merchant_id;
  int channel_id = 0;
  bool enabled = true;
  RatePermille fee_rate;      // tenths of a percent of the paid amount, e.g. 25 = 2.5%
  Money min_amount;           // per order; 0: no minimum
  Money max_amount;           // per order; 0: no maximum
  std::string processor = "sandbox";
  int64_t updated_at_ms = 0;
};

struct PayInFilter {
  std::optional<MerchantId> merchant_id;
  std::optional<orders::PayInState> state;
  size_t limit = 100;
  // Keyset pagination: created strictly before (created_at_ms, id).
  std::optional<std::pair<int64_t, std::string>> before;
};

struct CashierFilter {
  std::optional<MerchantId> merchant_id;
  std::optional<orders::CashierState> state;
  size_t limit = 100;
  std::optional<std::pair<int64_t, std::string>> before;
};

struct PayoutFilter {
  std::optional<MerchantId> merchant_id;
  std::optional<orders::PayoutState> state;
  size_t limit = 100;
  std::optional<std::pair<int64_t, std::string>> before;
};

struct Notification {
  NotificationId id;
  MerchantId merchant_id;
  std::string protocol;      // "consign"
  std::string order_ref;     // the sys order id
  std::string url;
  std::string content_type;
  std::string body;
  std::string schedule;      // schedule name, see notify/schedule.h
  int attempts_made = 0;
  int attempts_max = 1;
  NotificationState state = NotificationState::kPending;
  int64_t next_attempt_at_ms = 0;
  int64_t claimed_until_ms = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct NotificationAttempt {
  NotificationId notification_id;
  int attempt_no = 0;
  int64_t started_at_ms = 0;
  int64_t latency_ms = 0;
  unsigned http_status = 0;
  std::string error;
  std::string body_excerpt;
  bool delivered = false;
};

struct OrderFilter {
  std::optional<MerchantId> merchant_id;
  std::optional<orders::ConsignState> state;
  std::optional<std::string> batchno;
  size_t limit = 100;
  // Keyset pagination: orders created strictly before this (created_at_ms, sys_order_id).
  std::optional<std::pair<int64_t, std::string>> before;
};

struct LedgerCheck {
  bool ok = true;
  int64_t entries = 0;
  int64_t postings = 0;
  int64_t accounts = 0;
  std::vector<std::string> problems;  // human-readable, empty when ok
};

struct PostingRow {
  int64_t entry_id = 0;
  std::string kind;
  std::string reference;
  std::string account;
  Money amount;
  int64_t created_at_ms = 0;
};

// Portable SQL for the console and reports (src/console/): one SQL text runs on every engine. Placeholders are
// $1..$n (SQLite binds them by name); the SQL must be portable (no engine-specific functions; integer arithmetic
// on *_ms columns for dates; CAST(SUM(x) AS BIGINT) since PostgreSQL sums BIGINT as NUMERIC).
// Values: NULL, a 64-bit integer (INTEGER/BIGINT/SMALLINT/boolean columns), or text (TEXT or BLOB bytes).
//
// Rules, found by running each form on both engines (store_conformance_test.cpp, PortableSql, tests most):
// - One SELECT, WITH, VALUES, INSERT, UPDATE or DELETE per call; every $1..$n used (both engines refuse a value
//   without a placeholder or a placeholder without a value). A placeholder may repeat. On PostgreSQL each call is
//   two round trips (parse and describe, then run), on SQLite a fresh prepare: not for hot paths.
// - Parameter types: PostgreSQL types each placeholder from where it stands; SQLite has no types. Where the SQL
//   does not fix one, CAST it: `SELECT $1` reads back as text on PostgreSQL, `$1 IS NULL` and `$1 - $2` fail there,
//   and `$1 + 1` or `$1 - 86400000` make $1 a 32-bit INTEGER (a *_ms value overflows). Write
//   `CAST($1 AS BIGINT) - 86400000`, or better compute in C++ and pass the result; an optional filter is
//   `(CAST($1 AS BIGINT) IS NULL OR merchant_id = $1)` (and CAST($1 AS TEXT) for text). Pass int64 for integer
//   and flag columns and strings for text; never compare two placeholders with each other.
// - BOOLEAN columns of the older tables (merchants.enabled, payout_manual_approval, bound_card_allowed,
//   merchant_channels.enabled, merchant_products.enabled, ...; INTEGER 0/1 on SQLite): `enabled = 1` FAILS on
//   PostgreSQL (no BOOLEAN = INTEGER). Test with `WHERE enabled`, `WHERE NOT enabled`, `enabled = TRUE`, or
//   `enabled = $n` with an int64 0 or 1 (any other integer fails on PostgreSQL). Set with `SET enabled = $n`
//   (0 or 1), TRUE/FALSE or NOT enabled. Read them plainly: query_sql returns 0 or 1 on both engines, as for
//   EXISTS (...) and comparisons in a select list; CASE WHEN enabled THEN 1 ELSE 0 END also works (for SUM).
// - SMALLINT 0/1 flags of the console tables (console_users.enabled): compare and set with integers
//   (`enabled = 1`, `= $n`, `SET enabled = 1 - enabled`); `WHERE enabled` and TRUE/FALSE fail on PostgreSQL.
// - Numbers are integers only: query_sql refuses NUMERIC and floating-point columns (a StorageFailure says "cast
//   it to BIGINT"). SUM of a BIGINT is NUMERIC on PostgreSQL: CAST(SUM(x) AS BIGINT), and COALESCE after the
//   CAST: COALESCE(CAST(SUM(x) AS BIGINT), 0). No AVG (PostgreSQL rounds where SQLite truncates): write
//   CAST(SUM(x) AS BIGINT) / COUNT(*). `/` on integers truncates toward zero on both; `x / 0` is NULL on SQLite
//   and an error on PostgreSQL: divide by NULLIF(d, 0). An overflow is an error on PostgreSQL and a (refused)
//   float on SQLite. CAST('12x' AS BIGINT) is 12 on SQLite and an error on PostgreSQL: validate input in C++.
// - Text compares bytewise on both (PostgreSQL columns are COLLATE "C"): 'B' < 'a'. LIKE is case-insensitive
//   (ASCII) on SQLite and case-sensitive on PostgreSQL: for a search write `LOWER(col) LIKE LOWER($1) ESCAPE '\'`
//   (LOWER is ASCII-only on SQLite), and always say ESCAPE '\' (SQLite has no default escape character).
// - Functions on both: COALESCE, NULLIF, ABS, LOWER, UPPER, TRIM, SUBSTR, LENGTH, COUNT, MIN, MAX, SUM, `||`
//   (also text || integer), CAST(x AS BIGINT / TEXT). Not portable: IFNULL, IIF, strftime, now(), GREATEST; and
//   LENGTH of bytes (consign_orders.card_number and .custom are BYTEA on PostgreSQL, TEXT on SQLite, and may hold
//   NUL bytes: read and compare them whole; a string parameter for them may hold any bytes, one for TEXT no NUL).
// - Shapes that work on both: JOINs, GROUP BY an alias or a position, WITH RECURSIVE, LIMIT $n OFFSET $m, IN ($1,
//   $2), CASE, EXISTS. A subquery in FROM needs an alias (`FROM (...) AS t`, PostgreSQL). UNION ALL takes one
//   ORDER BY and LIMIT at the end, naming columns of the result (`ORDER BY created_at_ms DESC, id DESC`, with the
//   first SELECT's aliases); to filter or page the union, wrap it: SELECT ... FROM (... UNION ALL ...) AS u WHERE.
//   Dates are integer arithmetic on *_ms, e.g. UTC days: created_at_ms / 86400000.
// - Writes (write transactions only; exec_sql and any write through query_sql fail in a read snapshot). New ids:
//   `INSERT ... RETURNING user_id` through query_sql; never give an id of the console tables (PostgreSQL's are
//   GENERATED ALWAYS). A violated constraint (unique, check, foreign key) is a StorageFailure that fails the whole
//   request (kUnavailable; on PostgreSQL the request's savepoint is rolled back and the closure cannot go on): for
//   an expected duplicate write `INSERT ... ON CONFLICT (name) DO NOTHING` and treat 0 changed rows as the conflict
//   (ON CONFLICT (k) DO UPDATE SET x = excluded.x works on both too; after INSERT ... SELECT the SELECT needs a
//   WHERE, even `WHERE TRUE`, for SQLite's parser). No FOR UPDATE (SQLite has none): change a row in one statement
//   (`UPDATE ... SET n = n + 1 WHERE ...`, or `UPDATE ... WHERE state = $old` and check the count).
// - At most limits::kSqlRowsMax rows (PostgreSQL receives the whole result before counting): carry a LIMIT.
using SqlValue = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<SqlValue>;
// Readers for a column that must hold the given type (StorageFailure otherwise); NULL reads as 0 or "".
int64_t sql_int(const SqlValue& v);
std::string sql_text(const SqlValue& v);
bool sql_is_null(const SqlValue& v);

class Tx {
 public:
  virtual ~Tx() = default;

  // Runs portable SQL (see SqlValue) and returns every row (at most kSqlRowsMax: more is a StorageFailure, so a
  // query must carry its own LIMIT). In a read snapshot only reads are allowed.
  virtual std::vector<SqlRow> query_sql(std::string_view sql, const std::vector<SqlValue>& params) = 0;
  // Runs one portable statement without rows and returns the rows it changed. Write transactions only.
  virtual int64_t exec_sql(std::string_view sql, const std::vector<SqlValue>& params) = 0;

  // Merchants. insert_merchant assigns the id when merchant.id is 0 (ids start at 10001).
  virtual MerchantId insert_merchant(const Merchant& merchant) = 0;
  virtual void update_merchant(const Merchant& merchant) = 0;
  virtual std::optional<Merchant> merchant(MerchantId id) = 0;
  virtual std::optional<Merchant> merchant_by_app_key(const std::string& app_key) = 0;
  virtual std::vector<Merchant> merchants() = 0;

  // Product catalogue and per-merchant enablement.
  virtual void upsert_product(const Product& product) = 0;
  virtual std::optional<Product> product(const std::string& code) = 0;
  virtual std::vector<Product> products() = 0;
  virtual void set_merchant_product(MerchantId merchant, const std::string& code, bool enabled) = 0;
  virtual bool merchant_product_enabled(MerchantId merchant, const std::string& code) = 0;
  virtual std::vector<std::string> merchant_products(MerchantId merchant) = 0;

  // Consign orders. insert fails with kAlreadyExists when the merchant order id or sys order id exists,
  // or when the card is already live; the message says which ("duplicate orderId", "card already submitted",
  // "sys order id collision"), the order id first when several apply. The card's secrets are sealed here,
  // unless `sealed` holds them sealed for the order's sys order id already.
  Status insert_consign_order(const orders::ConsignOrder& order) { return insert_consign_order(order, SealedCard{}); }
  virtual Status insert_consign_order(const orders::ConsignOrder& order, const SealedCard& sealed) = 0;
  virtual void update_consign_order(const orders::ConsignOrder& order) = 0;
  virtual std::optional<orders::ConsignOrder> consign_order(MerchantId merchant, const std::string& merchant_order_id) = 0;
  virtual std::optional<orders::ConsignOrder> consign_order_by_sys(const SysOrderId& id) = 0;
  virtual std::vector<orders::ConsignOrder> consign_orders(const OrderFilter& filter) = 0;
  // Processing orders due by now_ms, oldest first. In a write transaction the returned orders are locked until
  // it ends, and orders locked by another transaction (another node) are skipped, so no order is processed twice.
  virtual std::vector<orders::ConsignOrder> consign_orders_due(int64_t now_ms, size_t limit) = 0;
  // The same card (product, number, password: the fingerprint covers all three) is processing, in review or
  // succeeded. The live-card index leads with the product and the number (migration 0007), hence all three.
  virtual bool consign_card_live(const std::string& product_code, const std::string& card_number,
                                 const std::string& card_fingerprint) = 0;
  // The earliest process_after_ms among processing orders, if any.
  virtual std::optional<int64_t> next_consign_due_ms() = 0;
  // Adds one card to (merchant, batchno) and returns the new count.
  virtual int64_t consign_batch_add(MerchantId merchant, const std::string& batchno) = 0;

  // Gateway channels per merchant (insert or replace).
  virtual void set_merchant_channel(const MerchantChannel& channel) = 0;
  virtual std::optional<MerchantChannel> merchant_channel(MerchantId merchant, int channel_id) = 0;
  virtual std::vector<MerchantChannel> merchant_channels(MerchantId merchant) = 0;

  // Gateway pay-ins. insert fails with kAlreadyExists, message "duplicate mrn" when (merchant, mrn) exists or
  // "payment id collision" when the id does. The single-row look-ups lock the row until the end of a write
  // transaction (so two completions of one pay-in, on any node, take turns and the second sees the first).
  virtual Status insert_payin(const orders::PayIn& payin) = 0;
  virtual void update_payin(const orders::PayIn& payin) = 0;
  virtual std::optional<orders::PayIn> payin(MerchantId merchant, const std::string& mrn) = 0;
  virtual std::optional<orders::PayIn> payin_by_id(const PaymentId& id) = 0;
  // Waiting pay-ins whose expiry is at or before now_ms, oldest expiry first; in a write transaction locked,
  // skipping rows another transaction holds.
  virtual std::vector<orders::PayIn> payins_expired(int64_t now_ms, size_t limit) = 0;
  // The earliest expiry among waiting pay-ins.
  virtual std::optional<int64_t> next_payin_expiry_ms() = 0;
  // Newest first.
  virtual std::vector<orders::PayIn> payins(const PayInFilter& filter) = 0;

  // Gateway payouts. insert fails with kAlreadyExists "duplicate mrn" or "payout id collision". Look-ups lock as
  // for pay-ins.
  // The account number is sealed here, unless `sealed` holds it sealed for the payout's id already.
  Status insert_payout(const orders::Payout& payout) { return insert_payout(payout, SealedAccount{}); }
  virtual Status insert_payout(const orders::Payout& payout, const SealedAccount& sealed) = 0;
  virtual void update_payout(const orders::Payout& payout) = 0;
  virtual std::optional<orders::Payout> payout(MerchantId merchant, const std::string& mrn) = 0;
  virtual std::optional<orders::Payout> payout_by_id(const PayoutId& id) = 0;
  // Processing payouts with process_after_ms at or before now_ms, oldest first; locked as payins_expired.
  virtual std::vector<orders::Payout> payouts_due(int64_t now_ms, size_t limit) = 0;
  // The earliest process_after_ms among processing payouts.
  virtual std::optional<int64_t> next_payout_due_ms() = 0;
  // Newest first.
  virtual std::vector<orders::Payout> payouts(const PayoutFilter& filter) = 0;

  // Cashier orders. insert fails with kAlreadyExists "duplicate orderid" or "cashier id collision". Single-row
  // look-ups lock the row in a write transaction, as for pay-ins.
  virtual Status insert_cashier_order(const orders::CashierOrder& order) = 0;
  virtual void update_cashier_order(const orders::CashierOrder& order) = 0;
  virtual std::optional<orders::CashierOrder> cashier_order(MerchantId merchant, const std::string& orderid) = 0;
  virtual std::optional<orders::CashierOrder> cashier_order_by_id(const CashierId& id) = 0;
  // Unpaid orders whose expiry is at or before now_ms, oldest first; locked, skipping rows others hold.
  virtual std::vector<orders::CashierOrder> cashier_orders_expired(int64_t now_ms, size_t limit) = 0;
  virtual std::optional<int64_t> next_cashier_expiry_ms() = 0;
  // Pending orders whose settle_after_ms is at or before now_ms, oldest first; locked, skipping rows others hold.
  virtual std::vector<orders::CashierOrder> cashier_orders_to_settle(int64_t now_ms, size_t limit) = 0;
  virtual std::optional<int64_t> next_cashier_settlement_ms() = 0;
  // Newest first.
  virtual std::vector<orders::CashierOrder> cashier_orders(const CashierFilter& filter) = 0;

  // Ledger. post() validates the entry, creates accounts on first use, and fails with kFailedPrecondition
  // (changing nothing) when an account that may not go negative would.
  virtual Status post(const ledger::Entry& entry, int64_t now_ms) = 0;
  virtual Money balance(const std::string& account) = 0;
  virtual std::vector<PostingRow> postings_for_reference(const std::string& reference) = 0;
  virtual LedgerCheck check_ledger() = 0;

  // Scheduled jobs. Takes the cluster-wide lock named `job` for the rest of this write transaction; false when
  // another transaction (another node) holds it, and the job should be skipped this round. Single-node engines
  // always return true: their one writer already serializes jobs.
  virtual bool try_job_lock(std::string_view job) = 0;

  // Notification outbox.
  virtual NotificationId enqueue_notification(const Notification& n) = 0;
  // Marks up to `limit` due, unclaimed pending notifications (skipping rows another transaction has locked) as claimed until now + lease and returns them.
  // None of `skip_merchants`' (the dispatcher's merchants at their in-flight share, so that one merchant's dead
  // endpoint does not hold every slot; at most limits::kNotifyInFlightMax of them).
  virtual std::vector<Notification> claim_due_notifications(int64_t now_ms, int64_t lease_ms, size_t limit,
                                                            const std::vector<MerchantId>& skip_merchants) = 0;
  virtual void record_attempt(const NotificationAttempt& attempt) = 0;
  virtual void update_notification(const Notification& n) = 0;
  virtual std::optional<Notification> notification(NotificationId id) = 0;
  virtual std::vector<Notification> notifications_for_order(const std::string& order_ref) = 0;
  virtual std::vector<NotificationAttempt> attempts(NotificationId id) = 0;
  virtual int64_t pending_notifications() = 0;
  // Clears every claim. Only for a single-node deployment at start-up, when no other process can be
  // delivering: the previous process's claims died with it.
  virtual int64_t release_notification_claims() = 0;
  // When the next pending notification can be attempted: the earliest max(next_attempt_at_ms, claimed_until_ms),
  // so rows claimed by a delivery in flight do not count as due.
  virtual std::optional<int64_t> next_notification_due_ms() = 0;
};

using WriteFn = std::function<Status(Tx&)>;
using DoneFn = std::function<void(Status)>;

struct StoreStats {
  uint64_t commits = 0;
  uint64_t committed_requests = 0;
  uint64_t rejected_queue_full = 0;
  size_t queue_depth = 0;
  // Engines with a database server (PostgreSQL); 0 on SQLite.
  uint64_t round_trips = 0;    // times the writers waited for the server
  uint64_t batch_retries = 0;  // batches run again after a deadlock, serialization failure or lost connection
  // Engines that checkpoint a write-ahead log themselves (SQLite); 0 elsewhere.
  uint64_t checkpoints = 0;          // background checkpoints that copied WAL pages into the database
  uint64_t checkpointed_pages = 0;   // WAL pages those checkpoints copied
  uint64_t inline_checkpoints = 0;   // checkpoints the writer had to run itself (the WAL passed its hard limit)
  uint64_t wal_tail_checkpoints = 0;  // the writer copied the WAL's last frames so that the WAL could start over
  uint64_t page_cache_scans_avoided = 0;  // commits that skipped SQLite's page cache scan (sqlite/page_cache.h)
  uint64_t wal_writes_in = 0;             // WAL write calls SQLite made (sqlite/wal_vfs.h)
  uint64_t wal_writes_out = 0;            // the write system calls they became
  uint64_t wal_syncs_skipped = 0;         // WAL syncs the checkpointer left out (sqlite/wal_vfs.h)
};

// Observes each commit (batch size and fsync latency), for metrics.
using CommitObserver = std::function<void(size_t batch_size, int64_t commit_us)>;
// Observes each sync of a log the engine writes itself (SQLite's WAL, once per commit), for metrics.
using SyncObserver = std::function<void(int64_t sync_us)>;

class Store {
 public:
  virtual ~Store() = default;
  // "sqlite" or "postgresql". A single-node engine may assume no other process shares its data.
  virtual std::string_view engine() const = 0;
  bool single_node() const { return engine() == "sqlite"; }
  // Queues a write. `done` runs on the writer thread once the transaction holding it is durable (with the
  // closure's own Status), or at once with kResourceExhausted when the queue is full, or kUnavailable when the
  // store is closing or the commit failed. Keep `done` short: post elsewhere to do real work.
  virtual void submit(WriteFn fn, DoneFn done) = 0;
  // A read-only snapshot. Cheap; do not hold it across awaits.
  virtual std::unique_ptr<Tx> read() = 0;
  // What this store seals secrets with, for sealing them ahead of a write (SealedCard, SealedAccount).
  virtual const crypto::SecretBox& box() const = 0;
  virtual StoreStats stats() const = 0;
  virtual void set_commit_observer(CommitObserver observer) = 0;
  // Engines whose database server syncs its own log (PostgreSQL) never call it.
  virtual void set_sync_observer(SyncObserver observer) { (void)observer; }
  // Whether a write transaction can be committed now (for /healthz).
  virtual Status probe_writable() = 0;
  // Drains the queue (every queued write is committed and answered) and stops the writer.
  virtual void close() = 0;

  // Convenience for the CLI and tests: submit and wait.
  Status write_sync(WriteFn fn);
};

}  // namespace paygate::storage
