// Every SQL statement the PostgreSQL backend runs, prepared once per connection (the SQL is in pg_tx.cpp, beside
// the Tx methods that use it).
#pragma once
#include <span>

#include "storage/postgres/pg_conn.h"

namespace paygate::storage::pg {

enum Stmt : int {
  // Transaction control.
  kBegin,
  kBeginSnapshot,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackToSavepoint,
  // Merchants.
  kMerchantById,
  kMerchantByAppKey,
  kMerchantsAll,
  kMerchantIdLock,
  kMerchantNextId,
  kMerchantInsert,
  kMerchantUpdate,
  // Products.
  kProductUpsert,
  kProductByCode,
  kProductsAll,
  kMerchantProductSet,
  kMerchantProductEnabled,
  kMerchantProducts,
  // Consign orders.
  kOrderInsert,
  kOrderConflict,
  kOrderUpdate,
  kOrderByMerchantOrderId,
  kOrderBySys,
  kOrdersList,
  kOrdersDueLocked,
  kOrdersDue,
  kCardLive,
  kNextConsignDue,
  kBatchCreate,
  kBatchLock,
  kBatchSet,
  // Gateway channels.
  kChannelSet,
  kChannelGet,
  kChannelsList,
  // Gateway pay-ins.
  kPayInInsert,
  kPayInConflict,
  kPayInUpdate,
  kPayInByMrn,
  kPayInByMrnLocked,
  kPayInById,
  kPayInByIdLocked,
  kPayInsExpiredLocked,
  kPayInsExpired,
  kNextPayInExpiry,
  kPayInsList,
  // Gateway payouts.
  kPayoutInsert,
  kPayoutConflict,
  kPayoutUpdate,
  kPayoutByMrn,
  kPayoutByMrnLocked,
  kPayoutById,
  kPayoutByIdLocked,
  kPayoutsDueLocked,
  kPayoutsDue,
  kNextPayoutDue,
  kPayoutsList,
  // Cashier orders.
  kCashierInsert,
  kCashierConflict,
  kCashierUpdate,
  kCashierByOrderid,
  kCashierByOrderidLocked,
  kCashierById,
  kCashierByIdLocked,
  kCashiersExpiredLocked,
  kCashiersExpired,
  kNextCashierExpiry,
  kCashiersToSettleLocked,
  kCashiersToSettle,
  kNextCashierSettlement,
  kCashiersList,
  // Ledger.
  kAccountsLock,
  kAccountBalance,
  kEntryInsert,
  kAccountCreate,
  kAccountMove,
  kPostingInsert,
  kPostingsForReference,
  kLedgerCounts,
  kLedgerUnbalancedEntries,
  kLedgerAccountMismatch,
  kLedgerNegativeAccounts,
  kLedgerBalanceSum,
  kLedgerUnsettledOrders,
  kLedgerPayIns,
  kLedgerPayouts,
  kLedgerPayoutReserves,
  kLedgerCashierPays,
  kLedgerCashierSettled,
  kLedgerCashierBalances,
  // Jobs.
  kJobLock,
  // Notifications.
  kNotificationInsert,
  kNotificationsClaim,
  kAttemptUpsert,
  kNotificationUpdate,
  kNotificationById,
  kNotificationsForOrder,
  kNotificationByIdForUpdate,
  kNotificationsForOrderForUpdate,
  kAttempts,
  kPendingCount,
  kReleaseClaims,
  kNextNotificationDue,
  // Probes.
  kSelectOne,
  kStmtCount
};

std::span<const StatementDef> statements();

// A stable 64-bit advisory-lock key for `name` (FNV-1a over "paygate:" + name): the same on every node and
// every version, so nodes agree on what a lock name means.
int64_t advisory_key(std::string_view name);

}  // namespace paygate::storage::pg
