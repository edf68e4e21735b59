// The outbox's ordering rule: a merchant learns an order's states in the order they happened.
#pragma once

#include "storage/store.h"

namespace paygate::notify {

// Enqueues `n` (due at n.next_attempt_at_ms) as the newest notification of its order (same protocol, merchant and
// order_ref). The order's older notifications still pending are superseded: they carry a state that is no longer
// true and are not sent again, so a merchant whose server failed the older one does not acknowledge it after the
// newer. An older one with an attempt in flight (its claim not run out at n.created_at_ms) cannot be called back:
// `n` waits for that claim, and the dispatcher brings it forward as soon as the attempt is recorded
// (release_newer_after).
NotificationId enqueue_newest(storage::Tx& tx, storage::Notification n);

// After an attempt of `superseded` was recorded: its order's newer notifications that waited for it (never
// attempted, due later) are due at `now_ms`.
void release_newer_after(storage::Tx& tx, const storage::Notification& superseded, int64_t now_ms);

}  // namespace paygate::notify
