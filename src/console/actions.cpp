#include "console/actions.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "protocols/consign/service.h"
#include "protocols/gateway/service.h"

namespace paygate::console {

using nlohmann::json;

std::vector<std::string> available_actions(const Principal& who, OrderKind kind, std::string_view status,
                                           bool has_notification) {
  std::vector<std::string> out;
  if (has_notification && who.allowed(Permission::kResend)) out.emplace_back("resend");
  switch (kind) {
    case OrderKind::kCard:
      if (status == "review" && who.allowed(Permission::kResolveReview)) out.emplace_back("resolve");
      break;
    case OrderKind::kCashier:
      if ((status == "paid" || status == "pending") && who.allowed(Permission::kResolveReview)) {
        out.emplace_back("hold");
      }
      if (status == "held" && who.allowed(Permission::kResolveReview)) out.emplace_back("release");
      break;
    case OrderKind::kPayout:
      if (status == "approval" && who.allowed(Permission::kApprovePayout)) {
        out.emplace_back("approve");
        out.emplace_back("reject");
      }
      break;
    case OrderKind::kPayIn:
      break;
  }
  return out;
}

namespace {

Status check_permission(const Principal& who, Permission p, std::string_view what) {
  if (who.allowed(p)) return ok_status();
  return make_error(ErrorCode::kUnauthenticated,
                    "a " + std::string(role_name(who.role)) + " user may not " + std::string(what));
}

// The order, if it exists and `who` may see it, and its state for the audit entry.
struct Found {
  OrderRef ref;
  json before;
};
// `noun` names what was looked for in the not-found message ("order", "payout", "cashier order").
Result<Found> find_visible(storage::Tx& tx, const Principal& who, const std::string& id,
                           std::string_view noun = "order") {
  auto ref = find_order(tx, id);
  if (!ref || !who.can_see_merchant(ref->merchant_id)) {
    return make_error(ErrorCode::kNotFound, "no " + std::string(noun) + " " + id);
  }
  auto before = order_state_json(tx, id);
  PG_ASSERT(before.has_value(), "an order found a moment ago is gone");
  return Found{*ref, std::move(*before)};
}

Status require_kind(const Found& f, OrderKind kind, const std::string& id, std::string_view what) {
  if (f.ref.kind == kind) return ok_status();
  return make_error(ErrorCode::kFailedPrecondition, "order " + id + " is a " + std::string(kind_name(f.ref.kind)) +
                                                        " order: only " + std::string(what));
}

void audit(storage::Tx& tx, const Principal& who, std::string action, const std::string& id, const json& before,
           json after, int64_t now_ms) {
  AuditEntry e;
  e.action = std::move(action);
  e.target_type = "order";
  e.target_id = id;
  e.before_json = before.dump();
  e.after_json = after.dump();
  write_audit(tx, who, e, now_ms);
}

json state_after(storage::Tx& tx, const std::string& id) {
  auto after = order_state_json(tx, id);
  PG_ASSERT(after.has_value(), "an order changed a moment ago is gone");
  return *after;
}

}  // namespace

Result<NotificationId> resend_notification(storage::Tx& tx, const Principal& who, const std::string& order_id,
                                           int64_t now_ms) {
  PG_TRY(check_permission(who, Permission::kResend, "resend notifications"));
  auto found = find_visible(tx, who, order_id);
  if (!found.ok()) return found.error();
  auto notes = tx.notifications_for_order(order_id);
  if (notes.empty()) {
    return make_error(ErrorCode::kFailedPrecondition, "order " + order_id + " has no notification to resend");
  }
  const storage::Notification& n = notes.back();  // by id: the latest
  if (n.state == storage::NotificationState::kPending && n.claimed_until_ms > now_ms) {
    // A delivery of it is in flight, and whatever it gets is recorded as that attempt (delivered ends it): the one
    // more attempt is a copy of it, due now, sent on its own.
    storage::Notification copy = n;
    copy.attempts_made = 0;
    copy.attempts_max = 1;
    copy.state = storage::NotificationState::kPending;
    copy.next_attempt_at_ms = now_ms;
    copy.claimed_until_ms = 0;
    copy.created_at_ms = copy.updated_at_ms = now_ms;
    NotificationId id = tx.enqueue_notification(copy);
    json after = found->before;
    after["notification"] = {{"id", id.value()},   {"copy_of", n.id.value()}, {"state", "pending"},
                             {"attempts_made", 0}, {"attempts_max", 1},       {"next_attempt_at_ms", now_ms}};
    json before = found->before;
    before["notification"] = {{"id", n.id.value()},
                              {"state", "in flight"},
                              {"attempts_made", n.attempts_made},
                              {"attempts_max", n.attempts_max}};
    audit(tx, who, "order.resend", order_id, before, after, now_ms);
    return id;
  }
  // One more attempt however its schedule ended; a notification still pending keeps the retries it has left.
  int attempts_max = n.attempts_made + 1;
  if (n.state == storage::NotificationState::kPending) attempts_max = std::max(attempts_max, n.attempts_max);
  // update_notification leaves attempts_max alone, so the re-arming is one statement.
  int64_t changed = tx.exec_sql(
      "UPDATE notifications SET state = 'pending', attempts_max = $2, next_attempt_at_ms = $3, updated_at_ms = $4 "
      "WHERE notification_id = $1",
      {storage::SqlValue{n.id.value()}, storage::SqlValue{int64_t{attempts_max}}, storage::SqlValue{now_ms},
       storage::SqlValue{now_ms}});
  PG_ASSERT(changed == 1, "a notification read a moment ago is gone");
  json before = found->before;
  before["notification"] = {{"id", n.id.value()},
                            {"state", storage::notification_state_name(n.state)},
                            {"attempts_made", n.attempts_made},
                            {"attempts_max", n.attempts_max}};
  json after = found->before;
  after["notification"] = {{"id", n.id.value()},
                           {"state", "pending"},
                           {"attempts_made", n.attempts_made},
                           {"attempts_max", attempts_max},
                           {"next_attempt_at_ms", now_ms}};
  audit(tx, who, "order.resend", order_id, before, after, now_ms);
  return n.id;
}

Status check_operator_text(std::string_view field, std::string_view text) {
  constexpr size_t kOperatorTextBytesMax = 255;
  if (text.size() > kOperatorTextBytesMax) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(field) + " is longer than " + std::to_string(kOperatorTextBytesMax) + " bytes");
  }
  if (!is_utf8(text) || has_control_chars(text)) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(field) + " must be UTF-8 text without control characters");
  }
  return ok_status();
}

Result<orders::ConsignOrder> resolve_review(storage::Tx& tx, const Principal& who, const std::string& order_id,
                                            const orders::ConsignOutcome& outcome, int64_t now_ms) {
  PG_TRY(check_permission(who, Permission::kResolveReview, "resolve reviews"));
  if (outcome.kind == orders::ConsignOutcome::Kind::kReview) {
    return make_error(ErrorCode::kInvalidArgument, "a review resolves to success or failure");
  }
  if (outcome.kind == orders::ConsignOutcome::Kind::kSuccess && outcome.real_money_yuan <= 0) {
    return make_error(ErrorCode::kInvalidArgument, "the real value must be a positive number of yuan");
  }
  auto found = find_visible(tx, who, order_id);
  if (!found.ok()) return found.error();
  PG_TRY(require_kind(*found, OrderKind::kCard, order_id, "consign cards are reviewed"));
  auto o = tx.consign_order_by_sys(SysOrderId{order_id});
  PG_ASSERT(o.has_value(), "a consign order found a moment ago is gone");
  if (o->state != orders::ConsignState::kReview) {
    return make_error(
        ErrorCode::kFailedPrecondition,
        "order " + order_id + " is " + std::string(orders::state_name(o->state)) + ", not waiting for manual review");
  }
  PG_TRY(consign::finish_order(tx, *o, outcome, now_ms));
  auto after = tx.consign_order_by_sys(SysOrderId{order_id});
  PG_ASSERT(after.has_value(), "a resolved order is gone");
  json after_json = state_after(tx, order_id);
  if (outcome.kind == orders::ConsignOutcome::Kind::kSuccess) after_json["real_money_yuan"] = outcome.real_money_yuan;
  audit(tx, who, "order.resolve", order_id, found->before, after_json, now_ms);
  return *after;
}

Result<orders::CashierOrder> hold_cashier_order(storage::Tx& tx, const Principal& who, const std::string& order_id,
                                                const std::string& reason, int64_t now_ms, const ActionConfig& config) {
  PG_TRY(check_permission(who, Permission::kResolveReview, "hold orders"));
  auto found = find_visible(tx, who, order_id, "cashier order");
  if (!found.ok()) return found.error();
  PG_TRY(require_kind(*found, OrderKind::kCashier, order_id, "cashier orders are held"));
  auto o = cashier::hold_order(tx, CashierId{order_id}, reason, now_ms, config.cashier);
  if (!o.ok()) return o.error();
  audit(tx, who, "order.hold", order_id, found->before, state_after(tx, order_id), now_ms);
  return o;
}

Result<orders::CashierOrder> release_cashier_order(storage::Tx& tx, const Principal& who, const std::string& order_id,
                                                   bool to_merchant, const std::string& reason, int64_t now_ms,
                                                   const ActionConfig& config) {
  PG_TRY(check_permission(who, Permission::kResolveReview, "release orders"));
  auto found = find_visible(tx, who, order_id, "cashier order");
  if (!found.ok()) return found.error();
  PG_TRY(require_kind(*found, OrderKind::kCashier, order_id, "cashier orders are released"));
  auto o = cashier::release_order(tx, CashierId{order_id}, to_merchant, reason, now_ms, config.cashier);
  if (!o.ok()) return o.error();
  json after = state_after(tx, order_id);
  after["to"] = to_merchant ? "merchant" : "payer";
  audit(tx, who, "order.release", order_id, found->before, after, now_ms);
  return o;
}

Result<orders::Payout> approve_payout(storage::Tx& tx, const Principal& who, const std::string& payout_id,
                                      int64_t now_ms, const ActionConfig& config) {
  PG_TRY(check_permission(who, Permission::kApprovePayout, "approve payouts"));
  auto found = find_visible(tx, who, payout_id, "payout");
  if (!found.ok()) return found.error();
  PG_TRY(require_kind(*found, OrderKind::kPayout, payout_id, "payouts are approved"));
  auto p = gateway::approve_payout(tx, PayoutId{payout_id}, now_ms, config.payout_delay_ms);
  if (!p.ok()) return p.error();
  audit(tx, who, "payout.approve", payout_id, found->before, state_after(tx, payout_id), now_ms);
  return p;
}

Result<orders::Payout> reject_payout(storage::Tx& tx, const Principal& who, const std::string& payout_id,
                                     const std::string& reason, int64_t now_ms) {
  PG_TRY(check_permission(who, Permission::kApprovePayout, "reject payouts"));
  auto found = find_visible(tx, who, payout_id, "payout");
  if (!found.ok()) return found.error();
  PG_TRY(require_kind(*found, OrderKind::kPayout, payout_id, "payouts are rejected"));
  auto p = gateway::reject_payout(tx, PayoutId{payout_id}, reason, now_ms);
  if (!p.ok()) return p.error();
  audit(tx, who, "payout.reject", payout_id, found->before, state_after(tx, payout_id), now_ms);
  return p;
}

}  // namespace paygate::console
