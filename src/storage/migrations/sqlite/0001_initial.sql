-- paygate schema, version 1. Amounts are integer fen; times are Unix milliseconds (suffix _ms) or
-- seconds (_s). Secrets are sealed with the master key (suffix _sealed). Every merchant-owned table
-- carries merchant_id in its key so the schema can later be distributed by merchant.

CREATE TABLE merchants (
  merchant_id       INTEGER PRIMARY KEY,
  name              TEXT    NOT NULL,
  enabled           INTEGER NOT NULL DEFAULT 1,
  app_key           TEXT    NOT NULL UNIQUE,
  sign_key_sealed   BLOB    NOT NULL,
  aes_key_sealed    BLOB    NOT NULL,
  keys_version      INTEGER NOT NULL DEFAULT 1,
  created_at_ms     INTEGER NOT NULL,
  updated_at_ms     INTEGER NOT NULL
);

CREATE TABLE products (
  product_code          TEXT    PRIMARY KEY,
  name                  TEXT    NOT NULL,
  face_values_yuan      TEXT    NOT NULL,   -- comma-separated whole yuan, ascending
  default_rate_permille INTEGER NOT NULL,
  custom_rate_allowed   INTEGER NOT NULL DEFAULT 0,
  custom_rate_min_permille INTEGER NOT NULL DEFAULT 0,
  custom_rate_max_permille INTEGER NOT NULL DEFAULT 0,
  enabled               INTEGER NOT NULL DEFAULT 1,
  created_at_ms         INTEGER NOT NULL
);

CREATE TABLE merchant_products (
  merchant_id   INTEGER NOT NULL REFERENCES merchants(merchant_id),
  product_code  TEXT    NOT NULL REFERENCES products(product_code),
  enabled       INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, product_code)
);

CREATE TABLE consign_orders (
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
  state                 TEXT    NOT NULL CHECK (state IN ('processing','review','success','failed')),
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
-- The same card may be live only once (DECISIONS: processing or succeeded blocks a resubmission).
CREATE UNIQUE INDEX consign_orders_live_card ON consign_orders(card_fingerprint) WHERE card_live = 1;
CREATE INDEX consign_orders_due ON consign_orders(process_after_ms) WHERE state = 'processing';
CREATE INDEX consign_orders_merchant_created ON consign_orders(merchant_id, created_at_ms);

CREATE TABLE consign_batches (
  merchant_id   INTEGER NOT NULL,
  batchno       TEXT    NOT NULL,
  cards         INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, batchno)
);

-- Double-entry ledger. A journal entry's postings sum to zero.
CREATE TABLE ledger_accounts (
  account         TEXT    PRIMARY KEY,   -- e.g. merchant:10001:available, platform:revenue
  merchant_id     INTEGER,               -- null for platform accounts
  may_go_negative INTEGER NOT NULL,
  balance_fen     INTEGER NOT NULL DEFAULT 0,
  CHECK (may_go_negative = 1 OR balance_fen >= 0)
);

CREATE TABLE ledger_entries (
  entry_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT    NOT NULL,
  reference     TEXT    NOT NULL,   -- the order the entry belongs to
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX ledger_entries_reference ON ledger_entries(reference);

CREATE TABLE ledger_postings (
  entry_id    INTEGER NOT NULL REFERENCES ledger_entries(entry_id),
  account     TEXT    NOT NULL REFERENCES ledger_accounts(account),
  amount_fen  INTEGER NOT NULL,
  PRIMARY KEY (entry_id, account)
);
CREATE INDEX ledger_postings_account ON ledger_postings(account, entry_id);

-- Durable notification outbox, written in the same transaction as the state change it reports.
CREATE TABLE notifications (
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
  state              TEXT    NOT NULL CHECK (state IN ('pending','delivered','failed')),
  next_attempt_at_ms INTEGER NOT NULL,
  claimed_until_ms   INTEGER NOT NULL DEFAULT 0,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL
);
CREATE INDEX notifications_due ON notifications(next_attempt_at_ms) WHERE state = 'pending';
CREATE INDEX notifications_order ON notifications(order_ref);

CREATE TABLE notification_attempts (
  notification_id INTEGER NOT NULL REFERENCES notifications(notification_id),
  attempt_no      INTEGER NOT NULL,
  started_at_ms   INTEGER NOT NULL,
  latency_ms      INTEGER NOT NULL,
  http_status     INTEGER NOT NULL,   -- 0 when no HTTP response was received
  error           TEXT    NOT NULL,
  body_excerpt    TEXT    NOT NULL,
  delivered       INTEGER NOT NULL,
  PRIMARY KEY (notification_id, attempt_no)
);
