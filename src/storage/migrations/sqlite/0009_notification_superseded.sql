-- A notification can be superseded: when an order changes state again before the merchant acknowledged the
-- notification of the previous state, the older one stops (it carries a state that is no longer true) and only the
-- newer is sent, so the merchant never learns an older state after a newer one. SQLite cannot change a CHECK
-- constraint in place: the table is rebuilt (new table, copy, drop, rename, indexes), keeping its ids and its
-- AUTOINCREMENT high-water mark, as version 2 did.
CREATE TABLE notifications_v9 (
  notification_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  merchant_id        INTEGER NOT NULL,
  protocol           TEXT    NOT NULL,
  order_ref          TEXT    NOT NULL,
  url                TEXT    NOT NULL,
  content_type       TEXT    NOT NULL,
  body               TEXT    NOT NULL,
  schedule           TEXT    NOT NULL,
  attempts_made      INTEGER NOT NULL DEFAULT 0,
  attempts_max       INTEGER NOT NULL,
  state              TEXT    NOT NULL
                     CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed' OR state = 'superseded'),
  next_attempt_at_ms INTEGER NOT NULL,
  claimed_until_ms   INTEGER NOT NULL DEFAULT 0,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL
);
INSERT INTO notifications_v9 SELECT * FROM notifications;
DELETE FROM sqlite_sequence WHERE name = 'notifications_v9';
UPDATE sqlite_sequence SET name = 'notifications_v9' WHERE name = 'notifications';
DROP TABLE notifications;
ALTER TABLE notifications_v9 RENAME TO notifications;
CREATE INDEX notifications_due ON notifications(next_attempt_at_ms) WHERE state = 'pending';
CREATE INDEX notifications_order ON notifications(order_ref);
