#include "notify/outbox.h"

#include <algorithm>

namespace paygate::notify {
namespace {

bool same_order(const storage::Notification& a, const storage::Notification& b) {
  return a.protocol == b.protocol && a.merchant_id == b.merchant_id && a.order_ref == b.order_ref;
}

}  // namespace

NotificationId enqueue_newest(storage::Tx& tx, storage::Notification n) {
  for (storage::Notification& older : tx.notifications_for_order(n.order_ref)) {
    if (!same_order(older, n)) continue;
    // An attempt in flight, of a pending one or of one superseded already (its claim is cleared when the attempt
    // is recorded, whatever the state).
    if (older.claimed_until_ms > n.created_at_ms) {
      n.next_attempt_at_ms = std::max(n.next_attempt_at_ms, older.claimed_until_ms);
    }
    if (older.state != storage::NotificationState::kPending) continue;
    older.state = storage::NotificationState::kSuperseded;
    older.updated_at_ms = n.created_at_ms;
    tx.update_notification(older);
  }
  return tx.enqueue_notification(n);
}

void release_newer_after(storage::Tx& tx, const storage::Notification& superseded, int64_t now_ms) {
  for (storage::Notification& newer : tx.notifications_for_order(superseded.order_ref)) {
    if (newer.id.value() <= superseded.id.value() || !same_order(newer, superseded)) continue;
    if (newer.state != storage::NotificationState::kPending || newer.attempts_made > 0) continue;
    if (newer.next_attempt_at_ms <= now_ms) continue;
    newer.next_attempt_at_ms = now_ms;
    newer.updated_at_ms = now_ms;
    tx.update_notification(newer);
  }
}

}  // namespace paygate::notify
