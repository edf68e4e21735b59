#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/crypto.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/store.h"

namespace paygate::storage::sqlite {

// Tx over one connection. The caller owns the transaction boundaries. A read snapshot (`read_only`) refuses
// exec_sql; its connection (PRAGMA query_only) refuses any other write.
class SqliteTx : public Tx {
 public:
  SqliteTx(Connection& conn, const crypto::SecretBox& box, bool read_only = false)
      : c_(conn), box_(box), read_only_(read_only) {}
  // The connection under this transaction, for engine-specific tests and tools.
  Connection& connection() { return c_; }

  // The writer's calls around the requests of a batch (sqlite_store.cpp), as PgTx has them: which request runs
  // now, that it was rolled back to its savepoint, and, after the last one and before COMMIT, to write what
  // consign_batch_add counted and post() moved in memory.
  void start_request(int index) { request_ = index; }
  void request_rolled_back();
  void write_counters();

  std::vector<SqlRow> query_sql(std::string_view sql, const std::vector<SqlValue>& params) override;
  int64_t exec_sql(std::string_view sql, const std::vector<SqlValue>& params) override;

  MerchantId insert_merchant(const Merchant& merchant) override;
  void update_merchant(const Merchant& merchant) override;
  std::optional<Merchant> merchant(MerchantId id) override;
  std::optional<Merchant> merchant_by_app_key(const std::string& app_key) override;
  std::vector<Merchant> merchants() override;

  void upsert_product(const Product& product) override;
  std::optional<Product> product(const std::string& code) override;
  std::vector<Product> products() override;
  void set_merchant_product(MerchantId merchant, const std::string& code, bool enabled) override;
  bool merchant_product_enabled(MerchantId merchant, const std::string& code) override;
  std::vector<std::string> merchant_products(MerchantId merchant) override;

  using Tx::insert_consign_order;
  Status insert_consign_order(const orders::ConsignOrder& order, const SealedCard& sealed) override;
  void update_consign_order(const orders::ConsignOrder& order) override;
  std::optional<orders::ConsignOrder> consign_order(MerchantId merchant, const std::string& merchant_order_id) override;
  std::optional<orders::ConsignOrder> consign_order_by_sys(const SysOrderId& id) override;
  std::vector<orders::ConsignOrder> consign_orders(const OrderFilter& filter) override;
  std::vector<orders::ConsignOrder> consign_orders_due(int64_t now_ms, size_t limit) override;
  bool consign_card_live(const std::string& product_code, const std::string& card_number,
                         const std::string& card_fingerprint) override;
  std::optional<int64_t> next_consign_due_ms() override;
  int64_t consign_batch_add(MerchantId merchant, const std::string& batchno) override;

  void set_merchant_channel(const MerchantChannel& channel) override;
  std::optional<MerchantChannel> merchant_channel(MerchantId merchant, int channel_id) override;
  std::vector<MerchantChannel> merchant_channels(MerchantId merchant) override;

  Status insert_payin(const orders::PayIn& payin) override;
  void update_payin(const orders::PayIn& payin) override;
  std::optional<orders::PayIn> payin(MerchantId merchant, const std::string& mrn) override;
  std::optional<orders::PayIn> payin_by_id(const PaymentId& id) override;
  std::vector<orders::PayIn> payins_expired(int64_t now_ms, size_t limit) override;
  std::optional<int64_t> next_payin_expiry_ms() override;
  std::vector<orders::PayIn> payins(const PayInFilter& filter) override;

  using Tx::insert_payout;
  Status insert_payout(const orders::Payout& payout, const SealedAccount& sealed) override;
  void update_payout(const orders::Payout& payout) override;
  std::optional<orders::Payout> payout(MerchantId merchant, const std::string& mrn) override;
  std::optional<orders::Payout> payout_by_id(const PayoutId& id) override;
  std::vector<orders::Payout> payouts_due(int64_t now_ms, size_t limit) override;
  std::optional<int64_t> next_payout_due_ms() override;
  std::vector<orders::Payout> payouts(const PayoutFilter& filter) override;

  Status insert_cashier_order(const orders::CashierOrder& order) override;
  void update_cashier_order(const orders::CashierOrder& order) override;
  std::optional<orders::CashierOrder> cashier_order(MerchantId merchant, const std::string& orderid) override;
  std::optional<orders::CashierOrder> cashier_order_by_id(const CashierId& id) override;
  std::vector<orders::CashierOrder> cashier_orders_expired(int64_t now_ms, size_t limit) override;
  std::optional<int64_t> next_cashier_expiry_ms() override;
  std::vector<orders::CashierOrder> cashier_orders_to_settle(int64_t now_ms, size_t limit) override;
  std::optional<int64_t> next_cashier_settlement_ms() override;
  std::vector<orders::CashierOrder> cashier_orders(const CashierFilter& filter) override;

  Status post(const ledger::Entry& entry, int64_t now_ms) override;
  Money balance(const std::string& account) override;
  std::vector<PostingRow> postings_for_reference(const std::string& reference) override;
  LedgerCheck check_ledger() override;

  NotificationId enqueue_notification(const Notification& n) override;
  std::vector<Notification> claim_due_notifications(int64_t now_ms, int64_t lease_ms, size_t limit,
                                                    const std::vector<MerchantId>& skip_merchants) override;
  void record_attempt(const NotificationAttempt& attempt) override;
  void update_notification(const Notification& n) override;
  std::optional<Notification> notification(NotificationId id) override;
  std::vector<Notification> notifications_for_order(const std::string& order_ref) override;
  std::vector<NotificationAttempt> attempts(NotificationId id) override;
  int64_t pending_notifications() override;
  int64_t release_notification_claims() override;
  bool try_job_lock(std::string_view) override { return true; }
  std::optional<int64_t> next_notification_due_ms() override;

 private:
  Merchant read_merchant(Stmt& st);
  orders::ConsignOrder read_order(Stmt& st);
  orders::Payout read_payout(Stmt& st);
  orders::CashierOrder read_cashier_order(Stmt& st);
  std::vector<orders::CashierOrder> read_cashier_orders(Stmt& st);
  Notification read_notification(Stmt& st);
  std::string open_sealed(std::string_view sealed, const std::string& aad);
  std::optional<int64_t> stored_balance_fen(const std::string& account);  // nullopt: no such account yet
  // Within the writer's batch (a request is running), moves of existing accounts are held in memory until
  // write_counters (HeldBalance); anywhere else post() writes them at once.
  bool holds_balances() const { return !read_only_ && request_ >= 0; }
  // Adds `fen` to an existing account's row (the caller checked the result against the balance).
  void move_balance(const std::string& account, int64_t fen);
  // The balance as this transaction sees it: the row, plus the moves held in memory when it holds them (nullopt: no
  // such account yet).
  std::optional<int64_t> current_balance_fen(const std::string& account);
  // For SQL that reads or writes ledger_accounts directly: throws if post() holds moves not yet written (the SQL
  // would miss them), and forgets the rows held (the SQL may change them).
  void require_balances_written(std::string_view what);

  // consign_batch_add's counters of this transaction, by (merchant, batchno). Every submit adds one to its batch;
  // an UPSERT per submit changed the same row (and copied its page into each request's savepoint journal) once per
  // request, 12 % of the writer's samples under the consign benchmark.
  struct BatchCounter {
    int64_t cards_stored = 0;      // the row as this transaction first read it (0 if none)
    int64_t cards_added = 0;       // the sum of `added`
    std::map<int, int64_t> added;  // by request
  };

  // post()'s balance moves within the writer's batch, by account. A payout moves the same two accounts (the
  // merchant's available and payout-reserved balances) as every other payout of its merchant: an UPDATE per request
  // changed the same rows, and the look-up before it read them, once per request each. Held in memory, each
  // account is read once per transaction and written once before COMMIT; a request rolled back takes its moves back.
  // Accounts created within the transaction are written at once (a posting's foreign key needs the row).
  struct HeldBalance {
    int64_t stored_fen = 0;        // the row as this transaction first read it
    int64_t moved_fen = 0;         // the sum of `moved`: what the write before COMMIT adds
    std::map<int, int64_t> moved;  // by request
    int read_by_request = -1;      // the request whose look-up read the row: its rollback may remove the row
  };

  Connection& c_;
  const crypto::SecretBox& box_;
  bool read_only_;
  int request_ = -1;
  std::map<std::pair<int64_t, std::string>, BatchCounter> counters_;
  std::map<std::string, HeldBalance, std::less<>> balances_;
};

}  // namespace paygate::storage::sqlite
