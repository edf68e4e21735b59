-- A notification can be superseded: when an order changes state again before the merchant acknowledged the
-- notification of the previous state, the older one stops (it carries a state that is no longer true) and only the
-- newer is sent, so the merchant never learns an older state after a newer one.
ALTER TABLE notifications DROP CONSTRAINT notifications_state_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_state_check
  CHECK (state IN ('pending', 'delivered', 'failed', 'superseded'));
