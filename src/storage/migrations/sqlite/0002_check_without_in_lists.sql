-- The state CHECK constraints of version 1 used `state IN (...)`: SQLite evaluates an IN list of three or more
-- values through a temporary b-tree, built on every INSERT and on every UPDATE of the state, i.e. on every
-- submit, every finished order and every notification attempt. The same constraints written as OR chains
-- cost a few comparisons. SQLite cannot alter a CHECK constraint, so both tables are rebuilt (the documented
-- procedure: new table, copy, drop, rename, indexes). Foreign keys are off while migrations run and checked
-- before the commit.

CREATE TABLE consign_orders_v2 (
  merchant_id           INTEGER NOT NULL,
  sys_order_id          TEXT    NOT NULL UNIQUE,
  merchant_order_id     TEXT    NOT NULL,
  batchno               TEXT    NOT NULL,
  product_code          TEXT    NOT NULL,
  product_type          INTEGER NOT NULL,
  card_number           TEXT    NOT NULL,
  card_password_sealed  BLOB    NOT NULL,
  card_fingerprint      TEXT    NOT NULL,
  se_code_sealed        BLOB,
  face_money_yuan       INTEGER NOT NULL,
  rate_permille         INTEGER NOT NULL,
  notify_url            TEXT    NOT NULL,
  custom                TEXT    NOT NULL,
  request_fingerprint   TEXT    NOT NULL,
  state                 TEXT    NOT NULL
                        CHECK (state = 'processing' OR state = 'review' OR state = 'success' OR state = 'failed'),
  card_live             INTEGER NOT NULL,   -- 1 while processing, in review or succeeded
  message               TEXT    NOT NULL,
  real_money_yuan       INTEGER NOT NULL DEFAULT 0,
  amount_fen            INTEGER NOT NULL DEFAULT 0,
  success_time_s        INTEGER NOT NULL DEFAULT 0,
  process_after_ms      INTEGER NOT NULL,
  created_at_ms         INTEGER NOT NULL,
  updated_at_ms         INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, merchant_order_id)
);
INSERT INTO consign_orders_v2 SELECT * FROM consign_orders;
DROP TABLE consign_orders;
ALTER TABLE consign_orders_v2 RENAME TO consign_orders;
CREATE UNIQUE INDEX consign_orders_live_card ON consign_orders(card_fingerprint) WHERE card_live = 1;
CREATE INDEX consign_orders_due ON consign_orders(process_after_ms) WHERE state = 'processing';
CREATE INDEX consign_orders_merchant_created ON consign_orders(merchant_id, created_at_ms);

CREATE TABLE notifications_v2 (
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
  state              TEXT    NOT NULL CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed'),
  next_attempt_at_ms INTEGER NOT NULL,
  claimed_until_ms   INTEGER NOT NULL DEFAULT 0,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL
);
INSERT INTO notifications_v2 SELECT * FROM notifications;
-- Keep the AUTOINCREMENT high-water mark: ids are never reused.
DELETE FROM sqlite_sequence WHERE name = 'notifications_v2';
UPDATE sqlite_sequence SET name = 'notifications_v2' WHERE name = 'notifications';
DROP TABLE notifications;
ALTER TABLE notifications_v2 RENAME TO notifications;
CREATE INDEX notifications_due ON notifications(next_attempt_at_ms) WHERE state = 'pending';
CREATE INDEX notifications_order ON notifications(order_ref);
