#include "storage/postgres/pg_tx.h"

#include <algorithm>
#include <array>
#include <map>
#include <sstream>

#include "storage/postgres/pg_statements.h"

namespace paygate::storage::pg {
namespace {

#define PG_MERCHANT_COLUMNS                                                                              \
  "merchant_id, name, enabled, app_key, sign_key_sealed, aes_key_sealed, keys_version, payout_fee_fen, " \
  "payout_manual_approval, settlement_delay_days, bound_card_allowed, created_at_ms, updated_at_ms, "    \
  "api_ip_allowlist"

#define PG_PRODUCT_COLUMNS                                                                                       \
  "product_code, name, face_values_yuan, default_rate_permille, custom_rate_allowed, custom_rate_min_permille, " \
  "custom_rate_max_permille, enabled, created_at_ms"

#define PG_ORDER_COLUMNS                                                                                         \
  "merchant_id, sys_order_id, merchant_order_id, batchno, product_code, product_type, card_number, "             \
  "card_password_sealed, card_fingerprint, se_code_sealed, face_money_yuan, rate_permille, notify_url, custom, " \
  "request_fingerprint, state, message, real_money_yuan, amount_fen, success_time_s, process_after_ms, "         \
  "created_at_ms, updated_at_ms"

#define PG_CHANNEL_COLUMNS \
  "merchant_id, channel_id, enabled, fee_rate_permille, min_amount_fen, max_amount_fen, processor, updated_at_ms"

#define PG_PAYIN_COLUMNS                                                                                  \
  "merchant_id, payment_id, mrn, channel_id, amount_fen, amount_text, callback_url, return_url, payer, "  \
  "request_fingerprint, processor, fee_rate_permille, state, paid_fen, fee_fen, message, expires_at_ms, " \
  "finished_at_ms, created_at_ms, updated_at_ms"

#define PG_PAYOUT_COLUMNS                                                                                           \
  "merchant_id, payout_id, mrn, amount_fen, amount_text, fee_fen, bank_name, account_name, account_number_sealed, " \
  "callback_url, request_fingerprint, state, message, process_after_ms, finished_at_ms, created_at_ms, "            \
  "updated_at_ms"

#define PG_CASHIER_COLUMNS                                                                                          \
  "merchant_id, cashier_id, orderid, action, method, amount_fen, backurl, fronturl, accname_sealed, accno_sealed, " \
  "request_fingerprint, state, held_from, fee_fen, fee_rate_permille, message, paid_at_ms, settle_after_ms, "       \
  "expires_at_ms, created_at_ms, updated_at_ms"

#define PG_NOTIFICATION_COLUMNS                                                                           \
  "notification_id, merchant_id, protocol, order_ref, url, content_type, body, schedule, attempts_made, " \
  "attempts_max, state, next_attempt_at_ms, claimed_until_ms, created_at_ms, updated_at_ms"

using Table = std::array<StatementDef, kStmtCount>;

Table make_statements() {
  Table t{};
  auto def = [&t](Stmt id, const char* name, const char* sql) { t[id] = StatementDef{name, sql}; };
  def(kBegin, "begin", "BEGIN ISOLATION LEVEL READ COMMITTED");
  def(kBeginSnapshot, "begin_snapshot", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  def(kCommit, "commit", "COMMIT");
  def(kRollback, "rollback", "ROLLBACK");
  def(kSavepoint, "savepoint", "SAVEPOINT req");
  def(kRelease, "release", "RELEASE SAVEPOINT req");
  def(kRollbackToSavepoint, "rollback_to", "ROLLBACK TO SAVEPOINT req");

  def(kMerchantById, "merchant_by_id", "SELECT " PG_MERCHANT_COLUMNS " FROM merchants WHERE merchant_id = $1");
  def(kMerchantByAppKey, "merchant_by_app_key", "SELECT " PG_MERCHANT_COLUMNS " FROM merchants WHERE app_key = $1");
  def(kMerchantsAll, "merchants_all", "SELECT " PG_MERCHANT_COLUMNS " FROM merchants ORDER BY merchant_id");
  def(kMerchantIdLock, "merchant_id_lock", "SELECT pg_advisory_xact_lock($1::bigint)");
  def(kMerchantNextId, "merchant_next_id", "SELECT COALESCE(MAX(merchant_id), 10000) + 1 FROM merchants");
  def(kMerchantInsert, "merchant_insert",
      "INSERT INTO merchants (" PG_MERCHANT_COLUMNS
      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
      "ON CONFLICT DO NOTHING RETURNING merchant_id");
  def(kMerchantUpdate, "merchant_update",
      "UPDATE merchants SET name = $2, enabled = $3, app_key = $4, sign_key_sealed = $5, aes_key_sealed = $6, "
      "keys_version = $7, payout_fee_fen = $8, payout_manual_approval = $9, settlement_delay_days = $10, "
      "bound_card_allowed = $11, updated_at_ms = $12, api_ip_allowlist = $13 WHERE merchant_id = $1");

  def(kProductUpsert, "product_upsert",
      "INSERT INTO products (" PG_PRODUCT_COLUMNS
      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
      "ON CONFLICT (product_code) DO UPDATE SET name = excluded.name, face_values_yuan = excluded.face_values_yuan, "
      "default_rate_permille = excluded.default_rate_permille, custom_rate_allowed = excluded.custom_rate_allowed, "
      "custom_rate_min_permille = excluded.custom_rate_min_permille, "
      "custom_rate_max_permille = excluded.custom_rate_max_permille, enabled = excluded.enabled");
  def(kProductByCode, "product_by_code", "SELECT " PG_PRODUCT_COLUMNS " FROM products WHERE product_code = $1");
  def(kProductsAll, "products_all", "SELECT " PG_PRODUCT_COLUMNS " FROM products ORDER BY product_code");
  // Only for a known merchant and product, so that an unknown one is an answer (no row), not an error that
  // aborts the pipeline.
  def(kMerchantProductSet, "merchant_product_set",
      "INSERT INTO merchant_products (merchant_id, product_code, enabled) "
      "SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM merchants WHERE merchant_id = $1) "
      "AND EXISTS (SELECT 1 FROM products WHERE product_code = $2) "
      "ON CONFLICT (merchant_id, product_code) DO UPDATE SET enabled = excluded.enabled RETURNING 1");
  def(kMerchantProductEnabled, "merchant_product_enabled",
      "SELECT enabled FROM merchant_products WHERE merchant_id = $1 AND product_code = $2");
  def(kMerchantProducts, "merchant_products",
      "SELECT product_code FROM merchant_products WHERE merchant_id = $1 AND enabled ORDER BY product_code");

  // A conflict on any unique rule (merchant order id, sys order id, live card) inserts nothing instead of
  // aborting the transaction; kOrderConflict then says which rule it was. Under READ COMMITTED an insert that
  // meets a row another transaction has inserted but not committed waits for it, and conflicts once it commits.
  def(kOrderInsert, "order_insert",
      "INSERT INTO consign_orders (" PG_ORDER_COLUMNS
      ", card_live) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
      "$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) ON CONFLICT DO NOTHING RETURNING 1");
  def(kOrderConflict, "order_conflict",
      "SELECT EXISTS (SELECT 1 FROM consign_orders WHERE merchant_id = $1 AND merchant_order_id = $2), "
      "EXISTS (SELECT 1 FROM consign_orders WHERE product_code = $5 AND card_number = $6 AND card_fingerprint = $3 "
      "AND card_live), "
      "EXISTS (SELECT 1 FROM consign_orders WHERE sys_order_id = $4)");
  def(kOrderUpdate, "order_update",
      "UPDATE consign_orders SET state = $3, card_live = $4, message = $5, real_money_yuan = $6, amount_fen = $7, "
      "success_time_s = $8, process_after_ms = $9, updated_at_ms = $10 WHERE merchant_id = $1 AND sys_order_id = $2");
  def(kOrderByMerchantOrderId, "order_by_merchant_order_id",
      "SELECT " PG_ORDER_COLUMNS " FROM consign_orders WHERE merchant_id = $1 AND merchant_order_id = $2");
  def(kOrderBySys, "order_by_sys", "SELECT " PG_ORDER_COLUMNS " FROM consign_orders WHERE sys_order_id = $1");
  def(kOrdersList, "orders_list",
      "SELECT " PG_ORDER_COLUMNS
      " FROM consign_orders WHERE ($1::bigint IS NULL OR merchant_id = $1) "
      "AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR batchno = $3) "
      "AND ($4::bigint IS NULL OR created_at_ms < $4 OR (created_at_ms = $4 AND sys_order_id < $5::text)) "
      "ORDER BY created_at_ms DESC, sys_order_id DESC LIMIT $6");
  // SKIP LOCKED: an order another transaction (another node's processor) holds is left to it.
  def(kOrdersDueLocked, "orders_due_locked",
      "SELECT " PG_ORDER_COLUMNS
      " FROM consign_orders WHERE state = 'processing' AND process_after_ms <= $1 "
      "ORDER BY process_after_ms, sys_order_id LIMIT $2 FOR UPDATE SKIP LOCKED");
  def(kOrdersDue, "orders_due",
      "SELECT " PG_ORDER_COLUMNS
      " FROM consign_orders WHERE state = 'processing' AND process_after_ms <= $1 "
      "ORDER BY process_after_ms, sys_order_id LIMIT $2");
  // The live-card index leads with the product and the number (migration 0007).
  def(kCardLive, "card_live",
      "SELECT 1 FROM consign_orders WHERE product_code = $1 AND card_number = $2 AND card_fingerprint = $3 "
      "AND card_live");
  def(kNextConsignDue, "next_consign_due",
      "SELECT MIN(process_after_ms) FROM consign_orders WHERE state = 'processing'");
  // The batch counter (see PgTx::consign_batch_add): created at zero if new (a concurrent creator's row is waited
  // for, then left alone), locked and read once per transaction, written once before COMMIT.
  def(kBatchCreate, "batch_create",
      "INSERT INTO consign_batches (merchant_id, batchno, cards) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING");
  def(kBatchLock, "batch_lock", "SELECT cards FROM consign_batches WHERE merchant_id = $1 AND batchno = $2 FOR UPDATE");
  def(kBatchSet, "batch_set", "UPDATE consign_batches SET cards = $3 WHERE merchant_id = $1 AND batchno = $2");

  // Only for a known merchant, so that an unknown one is an answer (no row), as for kMerchantProductSet.
  def(kChannelSet, "channel_set",
      "INSERT INTO merchant_channels (" PG_CHANNEL_COLUMNS
      ") SELECT $1::bigint, $2::integer, $3::boolean, $4::integer, $5::bigint, $6::bigint, $7::text, $8::bigint "
      "WHERE EXISTS (SELECT 1 FROM merchants WHERE merchant_id = $1::bigint) "
      "ON CONFLICT (merchant_id, channel_id) DO UPDATE SET enabled = excluded.enabled, "
      "fee_rate_permille = excluded.fee_rate_permille, min_amount_fen = excluded.min_amount_fen, "
      "max_amount_fen = excluded.max_amount_fen, processor = excluded.processor, "
      "updated_at_ms = excluded.updated_at_ms RETURNING 1");
  def(kChannelGet, "channel_get",
      "SELECT " PG_CHANNEL_COLUMNS " FROM merchant_channels WHERE merchant_id = $1 AND channel_id = $2");
  def(kChannelsList, "channels_list",
      "SELECT " PG_CHANNEL_COLUMNS " FROM merchant_channels WHERE merchant_id = $1 ORDER BY channel_id");

  // Pay-ins. A conflict on either unique rule (merchant and mrn, payment id) inserts nothing; kPayInConflict then
  // says which (see kOrderInsert for how a concurrent uncommitted insert is waited for).
  def(kPayInInsert, "payin_insert",
      "INSERT INTO gateway_payins (" PG_PAYIN_COLUMNS
      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) "
      "ON CONFLICT DO NOTHING RETURNING 1");
  def(kPayInConflict, "payin_conflict",
      "SELECT EXISTS (SELECT 1 FROM gateway_payins WHERE merchant_id = $1 AND mrn = $2), "
      "EXISTS (SELECT 1 FROM gateway_payins WHERE payment_id = $3)");
  def(kPayInUpdate, "payin_update",
      "UPDATE gateway_payins SET state = $3, paid_fen = $4, fee_fen = $5, message = $6, expires_at_ms = $7, "
      "finished_at_ms = $8, updated_at_ms = $9 WHERE merchant_id = $1 AND payment_id = $2");
  // In a write transaction a single pay-in is locked until it ends: two completions of one pay-in (a page and the
  // expiry sweep, on any node) take turns, and the second reads what the first committed (READ COMMITTED reads the
  // row's newest version once the lock is granted).
  def(kPayInByMrn, "payin_by_mrn",
      "SELECT " PG_PAYIN_COLUMNS " FROM gateway_payins WHERE merchant_id = $1 AND mrn = $2");
  def(kPayInByMrnLocked, "payin_by_mrn_locked",
      "SELECT " PG_PAYIN_COLUMNS " FROM gateway_payins WHERE merchant_id = $1 AND mrn = $2 FOR UPDATE");
  def(kPayInById, "payin_by_id", "SELECT " PG_PAYIN_COLUMNS " FROM gateway_payins WHERE payment_id = $1");
  def(kPayInByIdLocked, "payin_by_id_locked",
      "SELECT " PG_PAYIN_COLUMNS " FROM gateway_payins WHERE payment_id = $1 FOR UPDATE");
  // SKIP LOCKED: a pay-in another transaction holds (being paid, or another node's sweep) is left to it.
  def(kPayInsExpiredLocked, "payins_expired_locked",
      "SELECT " PG_PAYIN_COLUMNS
      " FROM gateway_payins WHERE state = 'waiting' AND expires_at_ms <= $1 "
      "ORDER BY expires_at_ms, payment_id LIMIT $2 FOR UPDATE SKIP LOCKED");
  def(kPayInsExpired, "payins_expired",
      "SELECT " PG_PAYIN_COLUMNS
      " FROM gateway_payins WHERE state = 'waiting' AND expires_at_ms <= $1 "
      "ORDER BY expires_at_ms, payment_id LIMIT $2");
  def(kNextPayInExpiry, "next_payin_expiry", "SELECT MIN(expires_at_ms) FROM gateway_payins WHERE state = 'waiting'");
  def(kPayInsList, "payins_list",
      "SELECT " PG_PAYIN_COLUMNS
      " FROM gateway_payins WHERE ($1::bigint IS NULL OR merchant_id = $1) AND ($2::text IS NULL OR state = $2) "
      "AND ($3::bigint IS NULL OR created_at_ms < $3 OR (created_at_ms = $3 AND payment_id < $4::text)) "
      "ORDER BY created_at_ms DESC, payment_id DESC LIMIT $5");

  // Payouts: as pay-ins.
  def(kPayoutInsert, "payout_insert",
      "INSERT INTO gateway_payouts (" PG_PAYOUT_COLUMNS
      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
      "ON CONFLICT DO NOTHING RETURNING 1");
  def(kPayoutConflict, "payout_conflict",
      "SELECT EXISTS (SELECT 1 FROM gateway_payouts WHERE merchant_id = $1 AND mrn = $2), "
      "EXISTS (SELECT 1 FROM gateway_payouts WHERE payout_id = $3)");
  def(kPayoutUpdate, "payout_update",
      "UPDATE gateway_payouts SET state = $3, message = $4, process_after_ms = $5, finished_at_ms = $6, "
      "updated_at_ms = $7 WHERE merchant_id = $1 AND payout_id = $2");
  def(kPayoutByMrn, "payout_by_mrn",
      "SELECT " PG_PAYOUT_COLUMNS " FROM gateway_payouts WHERE merchant_id = $1 AND mrn = $2");
  def(kPayoutByMrnLocked, "payout_by_mrn_locked",
      "SELECT " PG_PAYOUT_COLUMNS " FROM gateway_payouts WHERE merchant_id = $1 AND mrn = $2 FOR UPDATE");
  def(kPayoutById, "payout_by_id", "SELECT " PG_PAYOUT_COLUMNS " FROM gateway_payouts WHERE payout_id = $1");
  def(kPayoutByIdLocked, "payout_by_id_locked",
      "SELECT " PG_PAYOUT_COLUMNS " FROM gateway_payouts WHERE payout_id = $1 FOR UPDATE");
  def(kPayoutsDueLocked, "payouts_due_locked",
      "SELECT " PG_PAYOUT_COLUMNS
      " FROM gateway_payouts WHERE state = 'processing' AND process_after_ms <= $1 "
      "ORDER BY process_after_ms, payout_id LIMIT $2 FOR UPDATE SKIP LOCKED");
  def(kPayoutsDue, "payouts_due",
      "SELECT " PG_PAYOUT_COLUMNS
      " FROM gateway_payouts WHERE state = 'processing' AND process_after_ms <= $1 "
      "ORDER BY process_after_ms, payout_id LIMIT $2");
  def(kNextPayoutDue, "next_payout_due",
      "SELECT MIN(process_after_ms) FROM gateway_payouts WHERE state = 'processing'");
  def(kPayoutsList, "payouts_list",
      "SELECT " PG_PAYOUT_COLUMNS
      " FROM gateway_payouts WHERE ($1::bigint IS NULL OR merchant_id = $1) AND ($2::text IS NULL OR state = $2) "
      "AND ($3::bigint IS NULL OR created_at_ms < $3 OR (created_at_ms = $3 AND payout_id < $4::text)) "
      "ORDER BY created_at_ms DESC, payout_id DESC LIMIT $5");

  // Cashier orders: as pay-ins. A conflict on either unique rule (merchant and orderid, cashier id) inserts nothing;
  // kCashierConflict then says which.
  def(kCashierInsert, "cashier_insert",
      "INSERT INTO cashier_orders (" PG_CASHIER_COLUMNS
      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) "
      "ON CONFLICT DO NOTHING RETURNING 1");
  def(kCashierConflict, "cashier_conflict",
      "SELECT EXISTS (SELECT 1 FROM cashier_orders WHERE merchant_id = $1 AND orderid = $2), "
      "EXISTS (SELECT 1 FROM cashier_orders WHERE cashier_id = $3)");
  def(kCashierUpdate, "cashier_update",
      "UPDATE cashier_orders SET method = $3, state = $4, held_from = $5, fee_fen = $6, fee_rate_permille = $7, "
      "message = $8, paid_at_ms = $9, settle_after_ms = $10, expires_at_ms = $11, updated_at_ms = $12 "
      "WHERE merchant_id = $1 AND cashier_id = $2");
  // In a write transaction a single order is locked until it ends: its payment, expiry, settlement, hold, release or
  // return (on any node) take turns, and each reads what the one before committed.
  def(kCashierByOrderid, "cashier_by_orderid",
      "SELECT " PG_CASHIER_COLUMNS " FROM cashier_orders WHERE merchant_id = $1 AND orderid = $2");
  def(kCashierByOrderidLocked, "cashier_by_orderid_locked",
      "SELECT " PG_CASHIER_COLUMNS " FROM cashier_orders WHERE merchant_id = $1 AND orderid = $2 FOR UPDATE");
  def(kCashierById, "cashier_by_id", "SELECT " PG_CASHIER_COLUMNS " FROM cashier_orders WHERE cashier_id = $1");
  def(kCashierByIdLocked, "cashier_by_id_locked",
      "SELECT " PG_CASHIER_COLUMNS " FROM cashier_orders WHERE cashier_id = $1 FOR UPDATE");
  // SKIP LOCKED: an order another transaction holds (being paid or held, or another node's sweep) is left to it.
  def(kCashiersExpiredLocked, "cashiers_expired_locked",
      "SELECT " PG_CASHIER_COLUMNS
      " FROM cashier_orders WHERE state = 'unpaid' AND expires_at_ms <= $1 "
      "ORDER BY expires_at_ms, cashier_id LIMIT $2 FOR UPDATE SKIP LOCKED");
  def(kCashiersExpired, "cashiers_expired",
      "SELECT " PG_CASHIER_COLUMNS
      " FROM cashier_orders WHERE state = 'unpaid' AND expires_at_ms <= $1 "
      "ORDER BY expires_at_ms, cashier_id LIMIT $2");
  def(kNextCashierExpiry, "next_cashier_expiry",
      "SELECT MIN(expires_at_ms) FROM cashier_orders WHERE state = 'unpaid'");
  def(kCashiersToSettleLocked, "cashiers_to_settle_locked",
      "SELECT " PG_CASHIER_COLUMNS
      " FROM cashier_orders WHERE state = 'pending' AND settle_after_ms <= $1 "
      "ORDER BY settle_after_ms, cashier_id LIMIT $2 FOR UPDATE SKIP LOCKED");
  def(kCashiersToSettle, "cashiers_to_settle",
      "SELECT " PG_CASHIER_COLUMNS
      " FROM cashier_orders WHERE state = 'pending' AND settle_after_ms <= $1 "
      "ORDER BY settle_after_ms, cashier_id LIMIT $2");
  def(kNextCashierSettlement, "next_cashier_settlement",
      "SELECT MIN(settle_after_ms) FROM cashier_orders WHERE state = 'pending'");
  def(kCashiersList, "cashiers_list",
      "SELECT " PG_CASHIER_COLUMNS
      " FROM cashier_orders WHERE ($1::bigint IS NULL OR merchant_id = $1) AND ($2::text IS NULL OR state = $2) "
      "AND ($3::bigint IS NULL OR created_at_ms < $3 OR (created_at_ms = $3 AND cashier_id < $4::text)) "
      "ORDER BY created_at_ms DESC, cashier_id DESC LIMIT $5");

  // Locks the entry's accounts in one fixed order (rows are locked as the sort returns them): platform accounts
  // first, then merchant accounts, each by name. Reads their balances as of the lock.
  def(kAccountsLock, "accounts_lock",
      "SELECT account, balance_fen FROM ledger_accounts WHERE account = ANY($1::text[]) "
      "ORDER BY merchant_id IS NOT NULL, account FOR UPDATE");
  def(kAccountBalance, "account_balance", "SELECT balance_fen FROM ledger_accounts WHERE account = $1");
  def(kEntryInsert, "entry_insert", "INSERT INTO ledger_entries (kind, reference, created_at_ms) VALUES ($1, $2, $3)");
  def(kAccountCreate, "account_create",
      "INSERT INTO ledger_accounts (account, merchant_id, may_go_negative, balance_fen) VALUES ($1, $2, $3, 0) "
      "ON CONFLICT (account) DO NOTHING");
  def(kAccountMove, "account_move", "UPDATE ledger_accounts SET balance_fen = balance_fen + $2 WHERE account = $1");
  // The entry inserted just before on this connection (statements run in order): no round trip for its id.
  def(kPostingInsert, "posting_insert",
      "INSERT INTO ledger_postings (entry_id, account, amount_fen) "
      "VALUES (currval(pg_get_serial_sequence('ledger_entries', 'entry_id')), $1, $2)");
  def(kPostingsForReference, "postings_for_reference",
      "SELECT e.entry_id, e.kind, e.reference, p.account, p.amount_fen, e.created_at_ms FROM ledger_entries e "
      "JOIN ledger_postings p ON p.entry_id = e.entry_id WHERE e.reference = $1 ORDER BY e.entry_id, p.account");
  def(kLedgerCounts, "ledger_counts",
      "SELECT (SELECT COUNT(*) FROM ledger_entries), (SELECT COUNT(*) FROM ledger_postings), "
      "(SELECT COUNT(*) FROM ledger_accounts)");
  def(kLedgerUnbalancedEntries, "ledger_unbalanced_entries",
      "SELECT entry_id, SUM(amount_fen)::bigint, COUNT(*) FROM ledger_postings GROUP BY entry_id "
      "HAVING SUM(amount_fen) <> 0 OR COUNT(*) < 2 ORDER BY entry_id LIMIT 20");
  def(kLedgerAccountMismatch, "ledger_account_mismatch",
      "SELECT a.account, a.balance_fen, s.total FROM ledger_accounts a CROSS JOIN LATERAL "
      "(SELECT COALESCE(SUM(p.amount_fen), 0)::bigint AS total FROM ledger_postings p WHERE p.account = a.account) s "
      "WHERE a.balance_fen <> s.total ORDER BY a.account LIMIT 20");
  def(kLedgerNegativeAccounts, "ledger_negative_accounts",
      "SELECT account, balance_fen FROM ledger_accounts WHERE NOT may_go_negative AND balance_fen < 0 "
      "ORDER BY account");
  def(kLedgerBalanceSum, "ledger_balance_sum", "SELECT COALESCE(SUM(balance_fen), 0)::bigint FROM ledger_accounts");
  def(kLedgerUnsettledOrders, "ledger_unsettled_orders",
      "SELECT o.sys_order_id FROM consign_orders o WHERE o.state = 'success' AND o.amount_fen > 0 AND "
      "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.sys_order_id AND e.kind = 'consign.settle') <> 1 "
      "ORDER BY o.sys_order_id LIMIT 20");
  // A paid pay-in is credited exactly once; a waiting or failed one never.
  def(kLedgerPayIns, "ledger_payins",
      "SELECT payment_id, state, n FROM (SELECT p.payment_id, p.state, (SELECT COUNT(*) FROM ledger_entries e "
      "WHERE e.reference = p.payment_id AND e.kind = 'gateway.payin') AS n FROM gateway_payins p) x "
      "WHERE n <> CASE WHEN state = 'paid' THEN 1 ELSE 0 END ORDER BY payment_id LIMIT 20");
  // Every payout reserved its money once; a paid one paid it out once, a failed or rejected one refunded it once,
  // an open one neither.
  def(kLedgerPayouts, "ledger_payouts",
      "SELECT payout_id, state, r, p, f FROM (SELECT o.payout_id, o.state, "
      "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.payout_id AND e.kind = 'gateway.payout.reserve') "
      "AS r, "
      "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.payout_id AND e.kind = 'gateway.payout.paid') "
      "AS p, "
      "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.payout_id AND e.kind = 'gateway.payout.refund') "
      "AS f FROM gateway_payouts o) x "
      "WHERE r <> 1 OR p <> CASE WHEN state = 'paid' THEN 1 ELSE 0 END "
      "OR f <> CASE WHEN state IN ('failed', 'rejected') THEN 1 ELSE 0 END ORDER BY payout_id LIMIT 20");
  // What a merchant's payouts hold in reserve is exactly what its open payouts (approval, processing) need.
  def(kLedgerPayoutReserves, "ledger_payout_reserves",
      "SELECT m.merchant_id, COALESCE(a.balance_fen, 0)::bigint, COALESCE(o.total, 0)::bigint FROM merchants m "
      "LEFT JOIN ledger_accounts a ON a.account = 'merchant:' || m.merchant_id || ':payout_reserved' "
      "LEFT JOIN (SELECT merchant_id, SUM(amount_fen + fee_fen) AS total FROM gateway_payouts "
      "WHERE state IN ('approval', 'processing') GROUP BY merchant_id) o ON o.merchant_id = m.merchant_id "
      "WHERE COALESCE(a.balance_fen, 0) <> COALESCE(o.total, 0) ORDER BY m.merchant_id LIMIT 20");

  // A cashier order is paid once when it was paid at all: paid, pending and held ones, and failed ones that were
  // returned to the payer; never an unpaid one or one that failed unpaid. $1 = cashier.pay, $2 = cashier.return.
  def(kLedgerCashierPays, "ledger_cashier_pays",
      "SELECT cashier_id, state, p, r FROM (SELECT o.cashier_id, o.state, "
      "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.cashier_id AND e.kind = $1::text) AS p, "
      "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.cashier_id AND e.kind = $2::text) AS r "
      "FROM cashier_orders o) x "
      "WHERE p <> CASE WHEN state IN ('paid', 'pending', 'held') OR (state = 'failed' AND r > 0) THEN 1 ELSE 0 END "
      "ORDER BY cashier_id LIMIT 20");
  // A pending order has not been settled. $1 = cashier.settle.
  def(kLedgerCashierSettled, "ledger_cashier_settled",
      "SELECT cashier_id, s FROM (SELECT o.cashier_id, (SELECT COUNT(*) FROM ledger_entries e "
      "WHERE e.reference = o.cashier_id AND e.kind = $1::text) AS s FROM cashier_orders o WHERE o.state = 'pending') x "
      "WHERE s > 0 ORDER BY cashier_id LIMIT 20");
  // A merchant's account `merchant:<id>:$1` holds exactly the net (amount - fee) of its orders in state $2 (pending:
  // the pending orders; frozen: the held ones).
  def(kLedgerCashierBalances, "ledger_cashier_balances",
      "SELECT m.merchant_id, COALESCE(a.balance_fen, 0)::bigint, COALESCE(o.total, 0)::bigint FROM merchants m "
      "LEFT JOIN ledger_accounts a ON a.account = 'merchant:' || m.merchant_id || ':' || $1::text "
      "LEFT JOIN (SELECT merchant_id, SUM(amount_fen - fee_fen) AS total FROM cashier_orders "
      "WHERE state = $2::text GROUP BY merchant_id) o ON o.merchant_id = m.merchant_id "
      "WHERE COALESCE(a.balance_fen, 0) <> COALESCE(o.total, 0) ORDER BY m.merchant_id LIMIT 20");

  // Held until the transaction ends; false at once when another session holds it.
  def(kJobLock, "job_lock", "SELECT pg_try_advisory_xact_lock($1::bigint)");

  def(kNotificationInsert, "notification_insert",
      "INSERT INTO notifications (merchant_id, protocol, order_ref, url, content_type, body, schedule, "
      "attempts_made, attempts_max, state, next_attempt_at_ms, claimed_until_ms, created_at_ms, updated_at_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, 'pending', $9, 0, $10, $10) RETURNING notification_id");
  // Rows another transaction has locked (another node claiming or recording) are skipped, not waited for.
  def(kNotificationsClaim, "notifications_claim",
      "WITH claimed AS (UPDATE notifications SET claimed_until_ms = $2 WHERE notification_id IN ("
      "SELECT notification_id FROM notifications WHERE state = 'pending' AND next_attempt_at_ms <= $1 "
      "AND claimed_until_ms <= $1 AND merchant_id <> ALL($4::bigint[]) "
      "ORDER BY next_attempt_at_ms, notification_id LIMIT $3 FOR UPDATE SKIP LOCKED) "
      "RETURNING " PG_NOTIFICATION_COLUMNS
      ") "
      "SELECT * FROM claimed ORDER BY next_attempt_at_ms, notification_id");
  def(kAttemptUpsert, "attempt_upsert",
      "INSERT INTO notification_attempts (notification_id, attempt_no, started_at_ms, latency_ms, http_status, "
      "error, body_excerpt, delivered) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
      "ON CONFLICT (notification_id, attempt_no) DO UPDATE SET started_at_ms = excluded.started_at_ms, "
      "latency_ms = excluded.latency_ms, http_status = excluded.http_status, error = excluded.error, "
      "body_excerpt = excluded.body_excerpt, delivered = excluded.delivered");
  def(kNotificationUpdate, "notification_update",
      "UPDATE notifications SET attempts_made = $2, state = $3, next_attempt_at_ms = $4, claimed_until_ms = $5, "
      "updated_at_ms = $6 WHERE notification_id = $1");
  def(kNotificationById, "notification_by_id",
      "SELECT " PG_NOTIFICATION_COLUMNS " FROM notifications WHERE notification_id = $1");
  def(kNotificationsForOrder, "notifications_for_order",
      "SELECT " PG_NOTIFICATION_COLUMNS " FROM notifications WHERE order_ref = $1 ORDER BY notification_id");
  // In a write, an order's notifications are read locked, in id order everywhere (enqueue_newest, the
  // dispatcher's record of an attempt): under READ COMMITTED, two nodes could otherwise each act on a state the
  // other is changing (an attempt recorded as delivered over its being superseded, and the newer one left
  // waiting for a claim nobody releases).
  def(kNotificationByIdForUpdate, "notification_by_id_for_update",
      "SELECT " PG_NOTIFICATION_COLUMNS " FROM notifications WHERE notification_id = $1 FOR UPDATE");
  def(kNotificationsForOrderForUpdate, "notifications_for_order_for_update",
      "SELECT " PG_NOTIFICATION_COLUMNS " FROM notifications WHERE order_ref = $1 ORDER BY notification_id FOR UPDATE");
  def(kAttempts, "attempts",
      "SELECT notification_id, attempt_no, started_at_ms, latency_ms, http_status, error, body_excerpt, delivered "
      "FROM notification_attempts WHERE notification_id = $1 ORDER BY attempt_no");
  def(kPendingCount, "pending_count", "SELECT COUNT(*) FROM notifications WHERE state = 'pending'");
  def(kReleaseClaims, "release_claims",
      "UPDATE notifications SET claimed_until_ms = 0 WHERE state = 'pending' AND claimed_until_ms > 0");
  def(kNextNotificationDue, "next_notification_due",
      "SELECT MIN(GREATEST(next_attempt_at_ms, claimed_until_ms)) FROM notifications WHERE state = 'pending'");

  def(kSelectOne, "select_one", "SELECT 1");
  for (const auto& s : t) PG_ASSERT(s.name != nullptr && s.sql != nullptr, "statement table has a gap");
  return t;
}

Product read_product(const Rows& r, int i) {
  Product p;
  p.code = r.text(i, 0);
  p.name = r.text(i, 1);
  p.face_values_yuan = split_face_values(r.text(i, 2));
  p.default_rate = RatePermille{static_cast<int32_t>(r.i64(i, 3))};
  p.custom_rate_allowed = r.boolean(i, 4);
  p.custom_rate_min = RatePermille{static_cast<int32_t>(r.i64(i, 5))};
  p.custom_rate_max = RatePermille{static_cast<int32_t>(r.i64(i, 6))};
  p.enabled = r.boolean(i, 7);
  p.created_at_ms = r.i64(i, 8);
  return p;
}

Notification read_notification(const Rows& r, int i) {
  Notification n;
  n.id = NotificationId{r.i64(i, 0)};
  n.merchant_id = MerchantId{r.i64(i, 1)};
  n.protocol = r.text(i, 2);
  n.order_ref = r.text(i, 3);
  n.url = r.text(i, 4);
  n.content_type = r.text(i, 5);
  n.body = r.text(i, 6);
  n.schedule = r.text(i, 7);
  n.attempts_made = static_cast<int>(r.i64(i, 8));
  n.attempts_max = static_cast<int>(r.i64(i, 9));
  n.state = parse_notification_state(r.text(i, 10));
  n.next_attempt_at_ms = r.i64(i, 11);
  n.claimed_until_ms = r.i64(i, 12);
  n.created_at_ms = r.i64(i, 13);
  n.updated_at_ms = r.i64(i, 14);
  return n;
}

// How many times insert_consign_order inserts again when it met a conflict whose row then vanished (the other
// transaction's card stopped being live, or its insert rolled back, between the insert and the check).
constexpr int kOrderInsertAttemptsMax = 3;

}  // namespace

std::span<const StatementDef> statements() {
  static const Table table = make_statements();
  return table;
}

int64_t advisory_key(std::string_view name) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (char c : std::string("paygate:") + std::string(name)) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return static_cast<int64_t>(h);
}

void PgTx::require_write(const char* what) const {
  if (mode_ != Mode::kWrite) throw StorageFailure(std::string(what) + " in a read-only snapshot");
}

std::string PgTx::open_sealed(std::string_view sealed, const std::string& aad) {
  auto plain = box_.open(sealed, aad);
  // A value that does not open means the master key is wrong or the row was tampered with: an operating
  // error the operator must see, not something to hide.
  if (!plain.ok()) throw StorageFailure("cannot open sealed " + aad + ": " + plain.error().message);
  return std::move(plain).value();
}

// ---- merchants ----

Merchant PgTx::read_merchant(const Rows& r, int i) {
  Merchant m;
  m.id = MerchantId{r.i64(i, 0)};
  m.name = r.text(i, 1);
  m.enabled = r.boolean(i, 2);
  m.app_key = r.text(i, 3);
  m.sign_key = open_sealed(r.text(i, 4), merchant_aad(m.id, "sign_key"));
  m.aes_key = open_sealed(r.text(i, 5), merchant_aad(m.id, "aes_key"));
  m.keys_version = r.i64(i, 6);
  m.payout_fee = Money::from_fen(r.i64(i, 7));
  m.payout_manual_approval = r.boolean(i, 8);
  m.settlement_delay_days = static_cast<int>(r.i64(i, 9));
  m.bound_card_allowed = r.boolean(i, 10);
  m.created_at_ms = r.i64(i, 11);
  m.updated_at_ms = r.i64(i, 12);
  m.api_ip_allowlist = split_ip_allowlist(r.text(i, 13));
  return m;
}

MerchantId PgTx::insert_merchant(const Merchant& merchant) {
  require_write("insert_merchant");
  MerchantId id = merchant.id;
  if (id.value() == 0) {
    // Ids are max + 1, as on SQLite. Writers (and nodes) creating merchants at once take turns: the lock is held
    // to the end of the transaction, and the MAX below, a new statement, sees what the previous holder committed.
    c_.send(kMerchantIdLock, Params().i64(advisory_key("merchant_ids")));
    auto rows = c_.query(kMerchantNextId);
    id = MerchantId{rows.i64(0, 0)};
  }
  auto rows = c_.query(kMerchantInsert, Params()
                                            .i64(id.value())
                                            .text(merchant.name)
                                            .boolean(merchant.enabled)
                                            .text(merchant.app_key)
                                            .bytes(box_.seal(merchant.sign_key, merchant_aad(id, "sign_key")))
                                            .bytes(box_.seal(merchant.aes_key, merchant_aad(id, "aes_key")))
                                            .i64(merchant.keys_version)
                                            .i64(merchant.payout_fee.fen())
                                            .boolean(merchant.payout_manual_approval)
                                            .i64(merchant.settlement_delay_days)
                                            .boolean(merchant.bound_card_allowed)
                                            .i64(merchant.created_at_ms)
                                            .i64(merchant.updated_at_ms)
                                            .text(join_ip_allowlist(merchant.api_ip_allowlist)));
  if (rows.empty()) throw StorageFailure("merchant id or appKey already exists");
  return id;
}

void PgTx::update_merchant(const Merchant& m) {
  require_write("update_merchant");
  c_.send(kMerchantUpdate, Params()
                               .i64(m.id.value())
                               .text(m.name)
                               .boolean(m.enabled)
                               .text(m.app_key)
                               .bytes(box_.seal(m.sign_key, merchant_aad(m.id, "sign_key")))
                               .bytes(box_.seal(m.aes_key, merchant_aad(m.id, "aes_key")))
                               .i64(m.keys_version)
                               .i64(m.payout_fee.fen())
                               .boolean(m.payout_manual_approval)
                               .i64(m.settlement_delay_days)
                               .boolean(m.bound_card_allowed)
                               .i64(m.updated_at_ms)
                               .text(join_ip_allowlist(m.api_ip_allowlist)));
}

std::optional<Merchant> PgTx::merchant(MerchantId id) {
  auto rows = c_.query(kMerchantById, Params().i64(id.value()));
  if (rows.empty()) return std::nullopt;
  return read_merchant(rows, 0);
}

std::optional<Merchant> PgTx::merchant_by_app_key(const std::string& app_key) {
  auto rows = c_.query(kMerchantByAppKey, Params().text(app_key));
  if (rows.empty()) return std::nullopt;
  return read_merchant(rows, 0);
}

std::vector<Merchant> PgTx::merchants() {
  auto rows = c_.query(kMerchantsAll);
  std::vector<Merchant> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_merchant(rows, i));
  return out;
}

// ---- products ----

void PgTx::upsert_product(const Product& p) {
  require_write("upsert_product");
  c_.send(kProductUpsert, Params()
                              .text(p.code)
                              .text(p.name)
                              .text(join_face_values(p.face_values_yuan))
                              .i64(p.default_rate.value)
                              .boolean(p.custom_rate_allowed)
                              .i64(p.custom_rate_min.value)
                              .i64(p.custom_rate_max.value)
                              .boolean(p.enabled)
                              .i64(p.created_at_ms));
}

std::optional<Product> PgTx::product(const std::string& code) {
  auto rows = c_.query(kProductByCode, Params().text(code));
  if (rows.empty()) return std::nullopt;
  return read_product(rows, 0);
}

std::vector<Product> PgTx::products() {
  auto rows = c_.query(kProductsAll);
  std::vector<Product> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_product(rows, i));
  return out;
}

void PgTx::set_merchant_product(MerchantId merchant, const std::string& code, bool enabled) {
  require_write("set_merchant_product");
  auto rows = c_.query(kMerchantProductSet, Params().i64(merchant.value()).text(code).boolean(enabled));
  if (rows.empty()) throw StorageFailure("unknown merchant or product");
}

bool PgTx::merchant_product_enabled(MerchantId merchant, const std::string& code) {
  auto rows = c_.query(kMerchantProductEnabled, Params().i64(merchant.value()).text(code));
  return !rows.empty() && rows.boolean(0, 0);
}

std::vector<std::string> PgTx::merchant_products(MerchantId merchant) {
  auto rows = c_.query(kMerchantProducts, Params().i64(merchant.value()));
  std::vector<std::string> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(rows.text(i, 0));
  return out;
}

// ---- consign orders ----

orders::ConsignOrder PgTx::read_order(const Rows& r, int i) {
  orders::ConsignOrder o;
  o.merchant_id = MerchantId{r.i64(i, 0)};
  o.sys_order_id = SysOrderId{r.text(i, 1)};
  o.merchant_order_id = r.text(i, 2);
  o.batchno = r.text(i, 3);
  o.product_code = r.text(i, 4);
  o.product_type = static_cast<int>(r.i64(i, 5));
  o.card_number = r.text(i, 6);
  o.card_password = open_sealed(r.text(i, 7), order_aad(o.sys_order_id, "card_password"));
  o.card_fingerprint = r.text(i, 8);
  if (!r.is_null(i, 9)) o.se_code = open_sealed(r.text(i, 9), order_aad(o.sys_order_id, "se_code"));
  o.face_money_yuan = r.i64(i, 10);
  o.rate = RatePermille{static_cast<int32_t>(r.i64(i, 11))};
  o.notify_url = r.text(i, 12);
  o.custom = r.text(i, 13);
  o.request_fingerprint = r.text(i, 14);
  auto state = orders::parse_state(r.text(i, 15));
  if (!state) throw StorageFailure("consign order " + o.sys_order_id.value() + " has an unknown state");
  o.state = *state;
  o.message = r.text(i, 16);
  o.real_money_yuan = r.i64(i, 17);
  o.amount = Money::from_fen(r.i64(i, 18));
  o.success_time_s = r.i64(i, 19);
  o.process_after_ms = r.i64(i, 20);
  o.created_at_ms = r.i64(i, 21);
  o.updated_at_ms = r.i64(i, 22);
  return o;
}

Status PgTx::insert_consign_order(const orders::ConsignOrder& o, const SealedCard& sealed) {
  require_write("insert_consign_order");
  const SealedCard card = sealed_for(box_, o, sealed);
  bool live = orders::card_is_live(o.state);
  Params insert;
  insert.i64(o.merchant_id.value())
      .text(o.sys_order_id.value())
      .text(o.merchant_order_id)
      .text(o.batchno)
      .text(o.product_code)
      .i64(o.product_type)
      .bytes(o.card_number)
      .bytes(card.password)
      .text(o.card_fingerprint);
  if (o.se_code.empty()) {
    insert.null();
  } else {
    insert.bytes(card.se_code);
  }
  insert.i64(o.face_money_yuan)
      .i64(o.rate.value)
      .text(o.notify_url)
      .bytes(o.custom)
      .text(o.request_fingerprint)
      .text(orders::state_name(o.state))
      .text(o.message)
      .i64(o.real_money_yuan)
      .i64(o.amount.fen())
      .i64(o.success_time_s)
      .i64(o.process_after_ms)
      .i64(o.created_at_ms)
      .i64(o.updated_at_ms)
      .boolean(live);
  for (int attempt = 0; attempt < kOrderInsertAttemptsMax; ++attempt) {
    if (!c_.query(kOrderInsert, insert).empty()) return ok_status();
    // Which rule? The merchant order id first (SQLite's store looks in the same order): an identical request,
    // retried or concurrent (same order id, same card), must learn "duplicate orderId", on which the consign
    // service looks the first one up and answers as it did.
    auto why = c_.query(kOrderConflict, Params()
                                            .i64(o.merchant_id.value())
                                            .text(o.merchant_order_id)
                                            .text(o.card_fingerprint)
                                            .text(o.sys_order_id.value())
                                            .text(o.product_code)
                                            .bytes(o.card_number));
    if (why.boolean(0, 0)) return make_error(ErrorCode::kAlreadyExists, "duplicate orderId");
    if (live && why.boolean(0, 1)) return make_error(ErrorCode::kAlreadyExists, "card already submitted");
    if (why.boolean(0, 2)) return make_error(ErrorCode::kAlreadyExists, "sys order id collision");
  }
  throw StorageFailure("consign order insert kept conflicting with rows that then vanished");
}

void PgTx::update_consign_order(const orders::ConsignOrder& o) {
  require_write("update_consign_order");
  c_.send(kOrderUpdate,
          Params()
              .i64(o.merchant_id.value())
              .text(o.sys_order_id.value())
              .text(orders::state_name(o.state))
              .boolean(orders::card_is_live(o.state))
              .text(o.message)
              .i64(o.real_money_yuan)
              .i64(o.amount.fen())
              .i64(o.success_time_s)
              .i64(o.process_after_ms)
              .i64(o.updated_at_ms),
          1);  // exactly one row, or this request fails (found when its result arrives)
}

std::optional<orders::ConsignOrder> PgTx::consign_order(MerchantId merchant, const std::string& merchant_order_id) {
  auto rows = c_.query(kOrderByMerchantOrderId, Params().i64(merchant.value()).text(merchant_order_id));
  if (rows.empty()) return std::nullopt;
  return read_order(rows, 0);
}

std::optional<orders::ConsignOrder> PgTx::consign_order_by_sys(const SysOrderId& id) {
  auto rows = c_.query(kOrderBySys, Params().text(id.value()));
  if (rows.empty()) return std::nullopt;
  return read_order(rows, 0);
}

std::vector<orders::ConsignOrder> PgTx::consign_orders(const OrderFilter& f) {
  Params p;
  if (f.merchant_id)
    p.i64(f.merchant_id->value());
  else
    p.null();
  if (f.state)
    p.text(orders::state_name(*f.state));
  else
    p.null();
  if (f.batchno)
    p.text(*f.batchno);
  else
    p.null();
  if (f.before) {
    p.i64(f.before->first).text(f.before->second);
  } else {
    p.null().null();
  }
  p.i64(static_cast<int64_t>(std::min(f.limit, limits::kListPageSizeMax)));
  auto rows = c_.query(kOrdersList, p);
  std::vector<orders::ConsignOrder> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_order(rows, i));
  return out;
}

std::vector<orders::ConsignOrder> PgTx::consign_orders_due(int64_t now_ms, size_t limit) {
  // A read snapshot cannot lock (and need not: it changes nothing).
  auto rows = c_.query(mode_ == Mode::kWrite ? kOrdersDueLocked : kOrdersDue,
                       Params().i64(now_ms).i64(static_cast<int64_t>(limit)));
  std::vector<orders::ConsignOrder> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_order(rows, i));
  return out;
}

bool PgTx::consign_card_live(const std::string& product_code, const std::string& card_number, const std::string& fp) {
  return !c_.query(kCardLive, Params().text(product_code).bytes(card_number).text(fp)).empty();
}

std::optional<int64_t> PgTx::next_consign_due_ms() {
  auto rows = c_.query(kNextConsignDue);
  if (rows.empty() || rows.is_null(0, 0)) return std::nullopt;
  return rows.i64(0, 0);
}

// Every submit of a batch adds one to the same row. Updating it per submit, each in its own savepoint, leaves a
// row version per submit that no one can prune before the transaction ends: each later look-up walks all of them
// (measured: the submit rate fell to a quarter). So the first add of a transaction locks the row and reads it;
// later adds count in memory (no statement at all), per request, so that a request rolled back to its savepoint
// takes its adds back; write_counters() stores the sums before COMMIT. The row lock, held to the end of the
// transaction, makes other writers and nodes wait for the sum, as the per-submit update did.
int64_t PgTx::consign_batch_add(MerchantId merchant, const std::string& batchno) {
  require_write("consign_batch_add");
  PG_ASSERT(request_ >= 0, "consign_batch_add outside a request");
  auto key = std::pair(merchant.value(), batchno);
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    Params p;
    p.i64(merchant.value()).text(batchno);
    c_.send(kBatchCreate, p);
    auto rows = c_.query(kBatchLock, p);
    if (rows.empty()) throw StorageFailure("batch counter row missing after its insert");
    it = counters_.emplace(key, BatchCounter{rows.i64(0, 0), request_, {}}).first;
  }
  ++it->second.added[request_];
  int64_t cards = it->second.cards_at_lock;
  for (const auto& [request, n] : it->second.added) cards += n;
  return cards;
}

void PgTx::request_rolled_back() {
  for (auto it = counters_.begin(); it != counters_.end();) {
    if (it->second.locked_by == request_) {
      // Its savepoint held the row lock, released with the rollback: the next add locks and reads again. (Later
      // requests have not run yet, so nothing else counted on it.)
      it = counters_.erase(it);
    } else {
      it->second.added.erase(request_);
      ++it;
    }
  }
}

void PgTx::write_counters() {
  for (const auto& [key, counter] : counters_) {
    int64_t cards = counter.cards_at_lock;
    for (const auto& [request, n] : counter.added) cards += n;
    if (cards == counter.cards_at_lock) continue;
    // The row exists and is locked by this transaction since kBatchLock, so the update finds it.
    c_.send(kBatchSet, Params().i64(key.first).text(key.second).i64(cards));
  }
  counters_.clear();
}

// ---- gateway channels ----

namespace {
MerchantChannel read_channel(const Rows& r, int i) {
  MerchantChannel ch;
  ch.merchant_id = MerchantId{r.i64(i, 0)};
  ch.channel_id = static_cast<int>(r.i64(i, 1));
  ch.enabled = r.boolean(i, 2);
  ch.fee_rate = RatePermille{static_cast<int32_t>(r.i64(i, 3))};
  ch.min_amount = Money::from_fen(r.i64(i, 4));
  ch.max_amount = Money::from_fen(r.i64(i, 5));
  ch.processor = r.text(i, 6);
  ch.updated_at_ms = r.i64(i, 7);
  return ch;
}
}  // namespace

void PgTx::set_merchant_channel(const MerchantChannel& ch) {
  require_write("set_merchant_channel");
  auto rows = c_.query(kChannelSet, Params()
                                        .i64(ch.merchant_id.value())
                                        .i64(ch.channel_id)
                                        .boolean(ch.enabled)
                                        .i64(ch.fee_rate.value)
                                        .i64(ch.min_amount.fen())
                                        .i64(ch.max_amount.fen())
                                        .text(ch.processor)
                                        .i64(ch.updated_at_ms));
  if (rows.empty()) throw StorageFailure("unknown merchant or invalid channel");
}

std::optional<MerchantChannel> PgTx::merchant_channel(MerchantId merchant, int channel_id) {
  auto rows = c_.query(kChannelGet, Params().i64(merchant.value()).i64(channel_id));
  if (rows.empty()) return std::nullopt;
  return read_channel(rows, 0);
}

std::vector<MerchantChannel> PgTx::merchant_channels(MerchantId merchant) {
  auto rows = c_.query(kChannelsList, Params().i64(merchant.value()));
  std::vector<MerchantChannel> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_channel(rows, i));
  return out;
}

// ---- gateway pay-ins ----

namespace {
orders::PayIn read_payin(const Rows& r, int i) {
  orders::PayIn p;
  p.merchant_id = MerchantId{r.i64(i, 0)};
  p.id = PaymentId{r.text(i, 1)};
  p.mrn = r.text(i, 2);
  p.channel_id = static_cast<int>(r.i64(i, 3));
  p.amount = Money::from_fen(r.i64(i, 4));
  p.amount_text = r.text(i, 5);
  p.callback_url = r.text(i, 6);
  p.return_url = r.text(i, 7);
  p.payer = r.text(i, 8);
  p.request_fingerprint = r.text(i, 9);
  p.processor = r.text(i, 10);
  p.fee_rate = RatePermille{static_cast<int32_t>(r.i64(i, 11))};
  auto state = orders::parse_payin_state(r.text(i, 12));
  if (!state) throw StorageFailure("pay-in " + p.id.value() + " has an unknown state");
  p.state = *state;
  p.paid = Money::from_fen(r.i64(i, 13));
  p.fee = Money::from_fen(r.i64(i, 14));
  p.message = r.text(i, 15);
  p.expires_at_ms = r.i64(i, 16);
  p.finished_at_ms = r.i64(i, 17);
  p.created_at_ms = r.i64(i, 18);
  p.updated_at_ms = r.i64(i, 19);
  return p;
}

std::vector<orders::PayIn> read_payins(const Rows& rows) {
  std::vector<orders::PayIn> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_payin(rows, i));
  return out;
}
}  // namespace

Status PgTx::insert_payin(const orders::PayIn& p) {
  require_write("insert_payin");
  Params insert;
  insert.i64(p.merchant_id.value())
      .text(p.id.value())
      .text(p.mrn)
      .i64(p.channel_id)
      .i64(p.amount.fen())
      .text(p.amount_text)
      .text(p.callback_url)
      .text(p.return_url)
      .text(p.payer)
      .text(p.request_fingerprint)
      .text(p.processor)
      .i64(p.fee_rate.value)
      .text(orders::payin_state_name(p.state))
      .i64(p.paid.fen())
      .i64(p.fee.fen())
      .text(p.message)
      .i64(p.expires_at_ms)
      .i64(p.finished_at_ms)
      .i64(p.created_at_ms)
      .i64(p.updated_at_ms);
  for (int attempt = 0; attempt < kOrderInsertAttemptsMax; ++attempt) {
    if (!c_.query(kPayInInsert, insert).empty()) return ok_status();
    // The mrn first: a concurrent identical request must learn "duplicate mrn" and answer as the first did.
    auto why = c_.query(kPayInConflict, Params().i64(p.merchant_id.value()).text(p.mrn).text(p.id.value()));
    if (why.boolean(0, 0)) return make_error(ErrorCode::kAlreadyExists, "duplicate mrn");
    if (why.boolean(0, 1)) return make_error(ErrorCode::kAlreadyExists, "payment id collision");
    // The conflicting row's insert rolled back meanwhile: insert again.
  }
  throw StorageFailure("pay-in insert kept conflicting with rows that then vanished");
}

void PgTx::update_payin(const orders::PayIn& p) {
  require_write("update_payin");
  c_.send(kPayInUpdate,
          Params()
              .i64(p.merchant_id.value())
              .text(p.id.value())
              .text(orders::payin_state_name(p.state))
              .i64(p.paid.fen())
              .i64(p.fee.fen())
              .text(p.message)
              .i64(p.expires_at_ms)
              .i64(p.finished_at_ms)
              .i64(p.updated_at_ms),
          1);  // exactly one row, or this request fails (found when its result arrives)
}

std::optional<orders::PayIn> PgTx::payin(MerchantId merchant, const std::string& mrn) {
  auto rows =
      c_.query(mode_ == Mode::kWrite ? kPayInByMrnLocked : kPayInByMrn, Params().i64(merchant.value()).text(mrn));
  if (rows.empty()) return std::nullopt;
  return read_payin(rows, 0);
}

std::optional<orders::PayIn> PgTx::payin_by_id(const PaymentId& id) {
  auto rows = c_.query(mode_ == Mode::kWrite ? kPayInByIdLocked : kPayInById, Params().text(id.value()));
  if (rows.empty()) return std::nullopt;
  return read_payin(rows, 0);
}

std::vector<orders::PayIn> PgTx::payins_expired(int64_t now_ms, size_t limit) {
  // A read snapshot cannot lock (and need not: it changes nothing).
  return read_payins(c_.query(mode_ == Mode::kWrite ? kPayInsExpiredLocked : kPayInsExpired,
                              Params().i64(now_ms).i64(static_cast<int64_t>(limit))));
}

std::optional<int64_t> PgTx::next_payin_expiry_ms() {
  auto rows = c_.query(kNextPayInExpiry);
  if (rows.empty() || rows.is_null(0, 0)) return std::nullopt;
  return rows.i64(0, 0);
}

std::vector<orders::PayIn> PgTx::payins(const PayInFilter& f) {
  Params p;
  if (f.merchant_id)
    p.i64(f.merchant_id->value());
  else
    p.null();
  if (f.state)
    p.text(orders::payin_state_name(*f.state));
  else
    p.null();
  if (f.before) {
    p.i64(f.before->first).text(f.before->second);
  } else {
    p.null().null();
  }
  p.i64(static_cast<int64_t>(std::min(f.limit, limits::kListPageSizeMax)));
  return read_payins(c_.query(kPayInsList, p));
}

// ---- gateway payouts ----

orders::Payout PgTx::read_payout(const Rows& r, int i) {
  orders::Payout p;
  p.merchant_id = MerchantId{r.i64(i, 0)};
  p.id = PayoutId{r.text(i, 1)};
  p.mrn = r.text(i, 2);
  p.amount = Money::from_fen(r.i64(i, 3));
  p.amount_text = r.text(i, 4);
  p.fee = Money::from_fen(r.i64(i, 5));
  p.bank_name = r.text(i, 6);
  p.account_name = r.text(i, 7);
  p.account_number = open_sealed(r.text(i, 8), payout_aad(p.id, "account_number"));
  p.callback_url = r.text(i, 9);
  p.request_fingerprint = r.text(i, 10);
  auto state = orders::parse_payout_state(r.text(i, 11));
  if (!state) throw StorageFailure("payout " + p.id.value() + " has an unknown state");
  p.state = *state;
  p.message = r.text(i, 12);
  p.process_after_ms = r.i64(i, 13);
  p.finished_at_ms = r.i64(i, 14);
  p.created_at_ms = r.i64(i, 15);
  p.updated_at_ms = r.i64(i, 16);
  return p;
}

Status PgTx::insert_payout(const orders::Payout& p, const SealedAccount& sealed) {
  require_write("insert_payout");
  const SealedAccount account = sealed_for(box_, p, sealed);
  Params insert;
  insert.i64(p.merchant_id.value())
      .text(p.id.value())
      .text(p.mrn)
      .i64(p.amount.fen())
      .text(p.amount_text)
      .i64(p.fee.fen())
      .text(p.bank_name)
      .text(p.account_name)
      .bytes(account.account_number)
      .text(p.callback_url)
      .text(p.request_fingerprint)
      .text(orders::payout_state_name(p.state))
      .text(p.message)
      .i64(p.process_after_ms)
      .i64(p.finished_at_ms)
      .i64(p.created_at_ms)
      .i64(p.updated_at_ms);
  for (int attempt = 0; attempt < kOrderInsertAttemptsMax; ++attempt) {
    if (!c_.query(kPayoutInsert, insert).empty()) return ok_status();
    auto why = c_.query(kPayoutConflict, Params().i64(p.merchant_id.value()).text(p.mrn).text(p.id.value()));
    if (why.boolean(0, 0)) return make_error(ErrorCode::kAlreadyExists, "duplicate mrn");
    if (why.boolean(0, 1)) return make_error(ErrorCode::kAlreadyExists, "payout id collision");
  }
  throw StorageFailure("payout insert kept conflicting with rows that then vanished");
}

void PgTx::update_payout(const orders::Payout& p) {
  require_write("update_payout");
  c_.send(kPayoutUpdate,
          Params()
              .i64(p.merchant_id.value())
              .text(p.id.value())
              .text(orders::payout_state_name(p.state))
              .text(p.message)
              .i64(p.process_after_ms)
              .i64(p.finished_at_ms)
              .i64(p.updated_at_ms),
          1);  // exactly one row, or this request fails (found when its result arrives)
}

std::optional<orders::Payout> PgTx::payout(MerchantId merchant, const std::string& mrn) {
  auto rows =
      c_.query(mode_ == Mode::kWrite ? kPayoutByMrnLocked : kPayoutByMrn, Params().i64(merchant.value()).text(mrn));
  if (rows.empty()) return std::nullopt;
  return read_payout(rows, 0);
}

std::optional<orders::Payout> PgTx::payout_by_id(const PayoutId& id) {
  auto rows = c_.query(mode_ == Mode::kWrite ? kPayoutByIdLocked : kPayoutById, Params().text(id.value()));
  if (rows.empty()) return std::nullopt;
  return read_payout(rows, 0);
}

std::vector<orders::Payout> PgTx::payouts_due(int64_t now_ms, size_t limit) {
  auto rows = c_.query(mode_ == Mode::kWrite ? kPayoutsDueLocked : kPayoutsDue,
                       Params().i64(now_ms).i64(static_cast<int64_t>(limit)));
  std::vector<orders::Payout> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_payout(rows, i));
  return out;
}

std::optional<int64_t> PgTx::next_payout_due_ms() {
  auto rows = c_.query(kNextPayoutDue);
  if (rows.empty() || rows.is_null(0, 0)) return std::nullopt;
  return rows.i64(0, 0);
}

std::vector<orders::Payout> PgTx::payouts(const PayoutFilter& f) {
  Params p;
  if (f.merchant_id)
    p.i64(f.merchant_id->value());
  else
    p.null();
  if (f.state)
    p.text(orders::payout_state_name(*f.state));
  else
    p.null();
  if (f.before) {
    p.i64(f.before->first).text(f.before->second);
  } else {
    p.null().null();
  }
  p.i64(static_cast<int64_t>(std::min(f.limit, limits::kListPageSizeMax)));
  auto rows = c_.query(kPayoutsList, p);
  std::vector<orders::Payout> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_payout(rows, i));
  return out;
}

// ---- cashier orders ----

orders::CashierOrder PgTx::read_cashier_order(const Rows& r, int i) {
  orders::CashierOrder o;
  o.merchant_id = MerchantId{r.i64(i, 0)};
  o.id = CashierId{r.text(i, 1)};
  o.orderid = r.text(i, 2);
  o.action = r.text(i, 3);
  o.method = r.text(i, 4);
  o.amount = Money::from_fen(r.i64(i, 5));
  o.backurl = r.text(i, 6);
  o.fronturl = r.text(i, 7);
  if (!r.is_null(i, 8)) o.accname = open_sealed(r.text(i, 8), cashier_aad(o.id, "accname"));
  if (!r.is_null(i, 9)) o.accno = open_sealed(r.text(i, 9), cashier_aad(o.id, "accno"));
  o.request_fingerprint = r.text(i, 10);
  auto state = orders::parse_cashier_state(r.text(i, 11));
  auto held_from = orders::parse_cashier_state(r.text(i, 12));
  if (!state || !held_from) throw StorageFailure("cashier order " + o.id.value() + " has an unknown state");
  o.state = *state;
  o.held_from = *held_from;
  o.fee = Money::from_fen(r.i64(i, 13));
  o.fee_rate = RatePermille{static_cast<int32_t>(r.i64(i, 14))};
  o.message = r.text(i, 15);
  o.paid_at_ms = r.i64(i, 16);
  o.settle_after_ms = r.i64(i, 17);
  o.expires_at_ms = r.i64(i, 18);
  o.created_at_ms = r.i64(i, 19);
  o.updated_at_ms = r.i64(i, 20);
  return o;
}

std::vector<orders::CashierOrder> PgTx::read_cashier_orders(const Rows& rows) {
  std::vector<orders::CashierOrder> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_cashier_order(rows, i));
  return out;
}

Status PgTx::insert_cashier_order(const orders::CashierOrder& o) {
  require_write("insert_cashier_order");
  Params insert;
  insert.i64(o.merchant_id.value())
      .text(o.id.value())
      .text(o.orderid)
      .text(o.action)
      .text(o.method)
      .i64(o.amount.fen())
      .text(o.backurl)
      .text(o.fronturl);
  // Bound-card fields are sealed to this order's id; an order without them stores NULL, not a sealed empty string.
  if (o.accname.empty()) {
    insert.null();
  } else {
    insert.bytes(box_.seal(o.accname, cashier_aad(o.id, "accname")));
  }
  if (o.accno.empty()) {
    insert.null();
  } else {
    insert.bytes(box_.seal(o.accno, cashier_aad(o.id, "accno")));
  }
  insert.text(o.request_fingerprint)
      .text(orders::cashier_state_name(o.state))
      .text(orders::cashier_state_name(o.held_from))
      .i64(o.fee.fen())
      .i64(o.fee_rate.value)
      .text(o.message)
      .i64(o.paid_at_ms)
      .i64(o.settle_after_ms)
      .i64(o.expires_at_ms)
      .i64(o.created_at_ms)
      .i64(o.updated_at_ms);
  for (int attempt = 0; attempt < kOrderInsertAttemptsMax; ++attempt) {
    if (!c_.query(kCashierInsert, insert).empty()) return ok_status();
    // The orderid first: a concurrent identical request must learn "duplicate orderid" and answer as the first did.
    auto why = c_.query(kCashierConflict, Params().i64(o.merchant_id.value()).text(o.orderid).text(o.id.value()));
    if (why.boolean(0, 0)) return make_error(ErrorCode::kAlreadyExists, "duplicate orderid");
    if (why.boolean(0, 1)) return make_error(ErrorCode::kAlreadyExists, "cashier id collision");
    // The conflicting row's insert rolled back meanwhile: insert again.
  }
  throw StorageFailure("cashier order insert kept conflicting with rows that then vanished");
}

void PgTx::update_cashier_order(const orders::CashierOrder& o) {
  require_write("update_cashier_order");
  c_.send(kCashierUpdate,
          Params()
              .i64(o.merchant_id.value())
              .text(o.id.value())
              .text(o.method)
              .text(orders::cashier_state_name(o.state))
              .text(orders::cashier_state_name(o.held_from))
              .i64(o.fee.fen())
              .i64(o.fee_rate.value)
              .text(o.message)
              .i64(o.paid_at_ms)
              .i64(o.settle_after_ms)
              .i64(o.expires_at_ms)
              .i64(o.updated_at_ms),
          1);  // exactly one row, or this request fails (found when its result arrives)
}

std::optional<orders::CashierOrder> PgTx::cashier_order(MerchantId merchant, const std::string& orderid) {
  auto rows = c_.query(mode_ == Mode::kWrite ? kCashierByOrderidLocked : kCashierByOrderid,
                       Params().i64(merchant.value()).text(orderid));
  if (rows.empty()) return std::nullopt;
  return read_cashier_order(rows, 0);
}

std::optional<orders::CashierOrder> PgTx::cashier_order_by_id(const CashierId& id) {
  auto rows = c_.query(mode_ == Mode::kWrite ? kCashierByIdLocked : kCashierById, Params().text(id.value()));
  if (rows.empty()) return std::nullopt;
  return read_cashier_order(rows, 0);
}

std::vector<orders::CashierOrder> PgTx::cashier_orders_expired(int64_t now_ms, size_t limit) {
  // A read snapshot cannot lock (and need not: it changes nothing).
  return read_cashier_orders(c_.query(mode_ == Mode::kWrite ? kCashiersExpiredLocked : kCashiersExpired,
                                      Params().i64(now_ms).i64(static_cast<int64_t>(limit))));
}

std::optional<int64_t> PgTx::next_cashier_expiry_ms() {
  auto rows = c_.query(kNextCashierExpiry);
  if (rows.empty() || rows.is_null(0, 0)) return std::nullopt;
  return rows.i64(0, 0);
}

std::vector<orders::CashierOrder> PgTx::cashier_orders_to_settle(int64_t now_ms, size_t limit) {
  return read_cashier_orders(c_.query(mode_ == Mode::kWrite ? kCashiersToSettleLocked : kCashiersToSettle,
                                      Params().i64(now_ms).i64(static_cast<int64_t>(limit))));
}

std::optional<int64_t> PgTx::next_cashier_settlement_ms() {
  auto rows = c_.query(kNextCashierSettlement);
  if (rows.empty() || rows.is_null(0, 0)) return std::nullopt;
  return rows.i64(0, 0);
}

std::vector<orders::CashierOrder> PgTx::cashier_orders(const CashierFilter& f) {
  Params p;
  if (f.merchant_id)
    p.i64(f.merchant_id->value());
  else
    p.null();
  if (f.state)
    p.text(orders::cashier_state_name(*f.state));
  else
    p.null();
  if (f.before) {
    p.i64(f.before->first).text(f.before->second);
  } else {
    p.null().null();
  }
  p.i64(static_cast<int64_t>(std::min(f.limit, limits::kListPageSizeMax)));
  return read_cashier_orders(c_.query(kCashiersList, p));
}

// ---- ledger ----

Status PgTx::post(const ledger::Entry& entry, int64_t now_ms) {
  require_write("post");
  auto valid = ledger::validate(entry);
  PG_ASSERT(valid.ok(), "posting an invalid ledger entry");
  // Accounts in one fixed order, the same on every writer and node: the platform's accounts first (every entry
  // moves money against one of them), then the merchants', each by name. A transaction holding a merchant account
  // then already holds the platform accounts it needs, so the posts of two batches (each settling orders of
  // several merchants) queue behind each other instead of deadlocking. validate() guarantees each account once.
  std::vector<const ledger::Posting*> postings;
  for (const auto& p : entry.postings) postings.push_back(&p);
  auto lock_order = [](const ledger::Posting* p) { return std::pair(p->account.merchant_id != 0, p->account.code); };
  std::sort(postings.begin(), postings.end(),
            [&](const auto* a, const auto* b) { return lock_order(a) < lock_order(b); });
  std::vector<std::string> codes;
  for (const auto* p : postings) codes.push_back(p->account.code);

  // Lock, then check every balance, so that a refusal changes nothing and a concurrent post cannot slip a debit
  // between the check and the update (the CHECK constraint stays the last line of defence).
  auto locked = c_.query(kAccountsLock, Params().text_array(codes));
  std::map<std::string, int64_t> balances;
  for (int i = 0; i < locked.size(); ++i) balances[locked.text(i, 0)] = locked.i64(i, 1);
  for (const auto* p : postings) {
    auto it = balances.find(p->account.code);
    Money current = Money::from_fen(it == balances.end() ? 0 : it->second);
    auto next = current.checked_add(p->amount);
    if (!next) return make_error(ErrorCode::kFailedPrecondition, "balance overflow on " + p->account.code);
    if (next->is_negative() && !p->account.may_go_negative) {
      return make_error(ErrorCode::kFailedPrecondition, "insufficient balance on " + p->account.code);
    }
  }
  // Nothing below returns a value: it all travels with the next statement that waits.
  c_.send(kEntryInsert, Params().text(entry.kind).text(entry.reference).i64(now_ms));
  for (const auto* p : postings) {
    if (!balances.contains(p->account.code)) {
      // New account at zero. Created by someone else meanwhile: then it exists and the move below applies to it
      // (a credit, or an account that may go negative: the pre-check at zero was the stricter one).
      Params create;
      create.text(p->account.code);
      if (p->account.merchant_id)
        create.i64(p->account.merchant_id);
      else
        create.null();
      create.boolean(p->account.may_go_negative);
      c_.send(kAccountCreate, create);
    }
    c_.send(kAccountMove, Params().text(p->account.code).i64(p->amount.fen()), 1);
    c_.send(kPostingInsert, Params().text(p->account.code).i64(p->amount.fen()));
  }
  return ok_status();
}

Money PgTx::balance(const std::string& account) {
  auto rows = c_.query(kAccountBalance, Params().text(account));
  return Money::from_fen(rows.empty() ? 0 : rows.i64(0, 0));
}

std::vector<PostingRow> PgTx::postings_for_reference(const std::string& reference) {
  auto rows = c_.query(kPostingsForReference, Params().text(reference));
  std::vector<PostingRow> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(PostingRow{rows.i64(i, 0), rows.text(i, 1), rows.text(i, 2), rows.text(i, 3),
                             Money::from_fen(rows.i64(i, 4)), rows.i64(i, 5)});
  }
  return out;
}

LedgerCheck PgTx::check_ledger() {
  LedgerCheck r;
  auto counts = c_.query(kLedgerCounts);
  r.entries = counts.i64(0, 0);
  r.postings = counts.i64(0, 1);
  r.accounts = counts.i64(0, 2);
  auto unbalanced = c_.query(kLedgerUnbalancedEntries);
  for (int i = 0; i < unbalanced.size(); ++i) {
    r.problems.push_back("entry " + std::to_string(unbalanced.i64(i, 0)) + " sums to " +
                         std::to_string(unbalanced.i64(i, 1)) + " over " + std::to_string(unbalanced.i64(i, 2)) +
                         " postings");
  }
  auto mismatch = c_.query(kLedgerAccountMismatch);
  for (int i = 0; i < mismatch.size(); ++i) {
    r.problems.push_back("account " + mismatch.text(i, 0) + " balance " + std::to_string(mismatch.i64(i, 1)) +
                         " differs from its postings " + std::to_string(mismatch.i64(i, 2)));
  }
  auto negative = c_.query(kLedgerNegativeAccounts);
  for (int i = 0; i < negative.size(); ++i) {
    r.problems.push_back("account " + negative.text(i, 0) + " is negative: " + std::to_string(negative.i64(i, 1)));
  }
  auto sum = c_.query(kLedgerBalanceSum);
  if (sum.i64(0, 0) != 0) r.problems.push_back("account balances sum to " + std::to_string(sum.i64(0, 0)));
  auto unsettled = c_.query(kLedgerUnsettledOrders);
  for (int i = 0; i < unsettled.size(); ++i) {
    r.problems.push_back("successful order " + unsettled.text(i, 0) + " is not settled exactly once");
  }
  auto payins = c_.query(kLedgerPayIns);
  for (int i = 0; i < payins.size(); ++i) {
    r.problems.push_back(payins.text(i, 1) + " pay-in " + payins.text(i, 0) + " has " +
                         std::to_string(payins.i64(i, 2)) + " gateway.payin entries");
  }
  auto payouts = c_.query(kLedgerPayouts);
  for (int i = 0; i < payouts.size(); ++i) {
    r.problems.push_back(payouts.text(i, 1) + " payout " + payouts.text(i, 0) + " has " +
                         std::to_string(payouts.i64(i, 2)) + " reserve, " + std::to_string(payouts.i64(i, 3)) +
                         " paid and " + std::to_string(payouts.i64(i, 4)) + " refund entries");
  }
  auto reserves = c_.query(kLedgerPayoutReserves);
  for (int i = 0; i < reserves.size(); ++i) {
    r.problems.push_back("merchant " + std::to_string(reserves.i64(i, 0)) + " has " +
                         std::to_string(reserves.i64(i, 1)) + " reserved for payouts, its open payouts need " +
                         std::to_string(reserves.i64(i, 2)));
  }
  auto cashier_pays = c_.query(kLedgerCashierPays, Params().text(ledger::kCashierPay).text(ledger::kCashierReturn));
  for (int i = 0; i < cashier_pays.size(); ++i) {
    r.problems.push_back(cashier_pays.text(i, 1) + " cashier order " + cashier_pays.text(i, 0) + " has " +
                         std::to_string(cashier_pays.i64(i, 2)) + " " + std::string(ledger::kCashierPay) + " and " +
                         std::to_string(cashier_pays.i64(i, 3)) + " " + std::string(ledger::kCashierReturn) +
                         " entries");
  }
  auto settled = c_.query(kLedgerCashierSettled, Params().text(ledger::kCashierSettle));
  for (int i = 0; i < settled.size(); ++i) {
    r.problems.push_back("pending cashier order " + settled.text(i, 0) + " has " + std::to_string(settled.i64(i, 1)) +
                         " " + std::string(ledger::kCashierSettle) + " entries");
  }
  for (const auto& [account, state] : {std::pair{"pending", "pending"}, std::pair{"frozen", "held"}}) {
    auto balances = c_.query(kLedgerCashierBalances, Params().text(account).text(state));
    for (int i = 0; i < balances.size(); ++i) {
      r.problems.push_back("merchant " + std::to_string(balances.i64(i, 0)) + " has " +
                           std::to_string(balances.i64(i, 1)) + " " + account + ", its " + state +
                           " cashier orders need " + std::to_string(balances.i64(i, 2)));
    }
  }
  r.ok = r.problems.empty();
  return r;
}

bool PgTx::try_job_lock(std::string_view job) {
  auto rows = c_.query(kJobLock, Params().i64(advisory_key("job:" + std::string(job))));
  return rows.boolean(0, 0);
}

// ---- notifications ----

NotificationId PgTx::enqueue_notification(const Notification& n) {
  require_write("enqueue_notification");
  auto rows = c_.query(kNotificationInsert, Params()
                                                .i64(n.merchant_id.value())
                                                .text(n.protocol)
                                                .text(n.order_ref)
                                                .text(n.url)
                                                .text(n.content_type)
                                                .text(n.body)
                                                .text(n.schedule)
                                                .i64(n.attempts_max)
                                                .i64(n.next_attempt_at_ms)
                                                .i64(n.created_at_ms));
  return NotificationId{rows.i64(0, 0)};
}

std::vector<Notification> PgTx::claim_due_notifications(int64_t now_ms, int64_t lease_ms, size_t limit,
                                                        const std::vector<MerchantId>& skip_merchants) {
  require_write("claim_due_notifications");
  std::vector<int64_t> skip;  // {} skips nobody
  skip.reserve(skip_merchants.size());
  for (const MerchantId& m : skip_merchants) skip.push_back(m.value());
  auto rows = c_.query(kNotificationsClaim,
                       Params().i64(now_ms).i64(now_ms + lease_ms).i64(static_cast<int64_t>(limit)).i64_array(skip));
  std::vector<Notification> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_notification(rows, i));
  return out;
}

void PgTx::record_attempt(const NotificationAttempt& a) {
  require_write("record_attempt");
  c_.send(kAttemptUpsert, Params()
                              .i64(a.notification_id.value())
                              .i64(a.attempt_no)
                              .i64(a.started_at_ms)
                              .i64(a.latency_ms)
                              .i64(static_cast<int64_t>(a.http_status))
                              .text(a.error)
                              .bytes(a.body_excerpt)
                              .boolean(a.delivered));
}

void PgTx::update_notification(const Notification& n) {
  require_write("update_notification");
  c_.send(kNotificationUpdate, Params()
                                   .i64(n.id.value())
                                   .i64(n.attempts_made)
                                   .text(notification_state_name(n.state))
                                   .i64(n.next_attempt_at_ms)
                                   .i64(n.claimed_until_ms)
                                   .i64(n.updated_at_ms));
}

std::optional<Notification> PgTx::notification(NotificationId id) {
  auto rows =
      c_.query(mode_ == Mode::kWrite ? kNotificationByIdForUpdate : kNotificationById, Params().i64(id.value()));
  if (rows.empty()) return std::nullopt;
  return read_notification(rows, 0);
}

std::vector<Notification> PgTx::notifications_for_order(const std::string& order_ref) {
  auto rows = c_.query(mode_ == Mode::kWrite ? kNotificationsForOrderForUpdate : kNotificationsForOrder,
                       Params().text(order_ref));
  std::vector<Notification> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_notification(rows, i));
  return out;
}

std::vector<NotificationAttempt> PgTx::attempts(NotificationId id) {
  auto rows = c_.query(kAttempts, Params().i64(id.value()));
  std::vector<NotificationAttempt> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(NotificationAttempt{NotificationId{rows.i64(i, 0)}, static_cast<int>(rows.i64(i, 1)), rows.i64(i, 2),
                                      rows.i64(i, 3), static_cast<unsigned>(rows.i64(i, 4)), rows.text(i, 5),
                                      rows.text(i, 6), rows.boolean(i, 7)});
  }
  return out;
}

int64_t PgTx::pending_notifications() {
  return c_.query(kPendingCount).i64(0, 0);
}

int64_t PgTx::release_notification_claims() {
  require_write("release_notification_claims");
  return c_.query(kReleaseClaims).affected();
}

std::optional<int64_t> PgTx::next_notification_due_ms() {
  auto rows = c_.query(kNextNotificationDue);
  if (rows.empty() || rows.is_null(0, 0)) return std::nullopt;
  return rows.i64(0, 0);
}

}  // namespace paygate::storage::pg
