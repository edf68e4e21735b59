#pragma once
#include <map>
#include <utility>

#include "crypto/crypto.h"
#include "storage/postgres/pg_conn.h"
#include "storage/store.h"

namespace paygate::storage::pg {

// Tx over one pipelined connection. The caller owns the transaction boundaries (BEGIN ... COMMIT) and the tags.
//
// In a write transaction (READ COMMITTED) statements whose results the interface does not return are sent without
// waiting (updates, the inserts of a ledger posting, attempts); reads, inserts whose conflict decides the answer
// and anything returning a value wait. In a read snapshot (REPEATABLE READ READ ONLY) the write methods throw.
class PgTx : public Tx {
 public:
  enum class Mode { kWrite, kSnapshot };
  PgTx(Conn& conn, const crypto::SecretBox& box, Mode mode) : c_(conn), box_(box), mode_(mode) {}

  // The writer's calls around the requests of a batch (pg_store.cpp): which request runs now, that it was rolled
  // back to its savepoint, and, after the last one and before COMMIT, to write what was counted in memory.
  void start_request(int index) { request_ = index; }
  void request_rolled_back();
  void write_counters();

  // Portable SQL (pg_sql.cpp): the unnamed statement, carrying the current request's tag like every statement.
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

  bool try_job_lock(std::string_view job) override;

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
  std::optional<int64_t> next_notification_due_ms() override;

 private:
  void require_write(const char* what) const;
  Merchant read_merchant(const Rows& rows, int row);
  orders::ConsignOrder read_order(const Rows& rows, int row);
  orders::Payout read_payout(const Rows& rows, int row);
  orders::CashierOrder read_cashier_order(const Rows& rows, int row);
  std::vector<orders::CashierOrder> read_cashier_orders(const Rows& rows);
  std::string open_sealed(std::string_view sealed, const std::string& aad);

  // consign_batch_add's counters of this transaction, by (merchant, batchno).
  struct BatchCounter {
    int64_t cards_at_lock = 0;     // the row as locked
    int locked_by = -1;            // the request whose savepoint took the lock
    std::map<int, int64_t> added;  // by request
  };

  Conn& c_;
  const crypto::SecretBox& box_;
  Mode mode_;
  int request_ = -1;
  std::map<std::pair<int64_t, std::string>, BatchCounter> counters_;
};

}  // namespace paygate::storage::pg
