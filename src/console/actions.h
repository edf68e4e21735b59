// What an operator (or a merchant, for resend) may do to an order, for the admin API and the CLI alike: resend its
// notification, resolve a consign review, hold or release a cashier order, approve or reject a payout. Each runs
// inside the caller's write transaction, calls the protocol's own service code, checks the principal's permission
// and scope, and writes its audit entry (before and after: the order's status and amounts) in the same transaction.
//
// Errors: kUnauthenticated when the principal lacks the permission (the API answers 403 forbidden: it has already
// refused such a request in authorize(), this is the second line); kNotFound when there is no such order or the
// principal may not see it; kFailedPrecondition when the order's kind or state does not allow the action;
// kInvalidArgument for bad input.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/ids.h"
#include "base/result.h"
#include "console/console.h"
#include "console/orders.h"
#include "orders/cashier_order.h"
#include "orders/consign_order.h"
#include "orders/gateway_order.h"
#include "protocols/cashier/service.h"
#include "storage/store.h"

namespace paygate::console {

// What the actions need of the platform's configuration.
struct ActionConfig {
  int64_t payout_delay_ms = 2'000;  // an approved payout goes to the bank after this (sandbox.payout_delay_ms)
  cashier::Config cashier;          // the back notify's paytime zone
};

// The names of the actions `who` may take on an order of this kind in this state now ("resend", "resolve", "hold",
// "release", "approve", "reject"). The caller has checked that `who` may see the order.
std::vector<std::string> available_actions(const Principal& who, OrderKind kind, std::string_view status,
                                           bool has_notification);

// The order's latest notification is sent again now: pending, one more attempt allowed (attempts_max =
// attempts_made + 1), due now. While a delivery of it is in flight (claimed), a copy of it is queued instead, due
// now with one attempt, so the resend is still one more attempt. Returns the id of the notification that will be
// sent; the caller wakes the dispatcher after the commit. Audit order.resend.
Result<NotificationId> resend_notification(storage::Tx& tx, const Principal& who, const std::string& order_id,
                                           int64_t now_ms);

// An operator's message or reason for the merchant (resolve, hold, release, reject), from the admin API or the
// CLI: at most 255 bytes of UTF-8 without control characters, since it reaches the merchant's query answers and
// notifications. The error names `field` ("message", "--reason", ...).
Status check_operator_text(std::string_view field, std::string_view text);

// A consign card in review: success with its real value (whole yuan, > 0) or failure with a message. Audit
// order.resolve. Returns the order after.
Result<orders::ConsignOrder> resolve_review(storage::Tx& tx, const Principal& who, const std::string& order_id,
                                            const orders::ConsignOutcome& outcome, int64_t now_ms);

// A paid or pending cashier order held (funds frozen), or a held one released to the merchant or returned to the
// payer. Audit order.hold / order.release.
Result<orders::CashierOrder> hold_cashier_order(storage::Tx& tx, const Principal& who, const std::string& order_id,
                                                const std::string& reason, int64_t now_ms, const ActionConfig& config);
Result<orders::CashierOrder> release_cashier_order(storage::Tx& tx, const Principal& who, const std::string& order_id,
                                                   bool to_merchant, const std::string& reason, int64_t now_ms,
                                                   const ActionConfig& config);

// A payout waiting for approval approved (the bank takes it after config.payout_delay_ms) or rejected (its money
// returns to the available balance). Audit payout.approve / payout.reject.
Result<orders::Payout> approve_payout(storage::Tx& tx, const Principal& who, const std::string& payout_id,
                                      int64_t now_ms, const ActionConfig& config);
Result<orders::Payout> reject_payout(storage::Tx& tx, const Principal& who, const std::string& payout_id,
                                     const std::string& reason, int64_t now_ms);

}  // namespace paygate::console
