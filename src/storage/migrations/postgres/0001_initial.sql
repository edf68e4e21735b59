-- paygate schema for PostgreSQL, version 1: the same tables, columns and meaning as sqlite/0001_initial.sql.
-- Amounts are integer fen; times are Unix milliseconds (suffix _ms) or seconds (_s). Secrets are sealed with the
-- master key (suffix _sealed, BYTEA). Text columns compare bytewise (COLLATE "C"), as SQLite does, so listings,
-- keyset pagination and ORDER BY give the same order on both engines whatever the database's locale.
-- Three columns hold bytes exactly as a merchant (or its server) sent them, which need not be UTF-8 (a GBK
-- `custom`, a response excerpt cut mid-character): consign_orders.card_number, consign_orders.custom and
-- notification_attempts.body_excerpt are BYTEA here, where SQLite keeps any bytes in TEXT. Every other text is
-- either checked ASCII or written by paygate itself.
--
-- Distribution by merchant: merchant-owned tables put merchant_id first in their primary key, so they can later
-- be distributed (sharded) by merchant_id: merchants, merchant_products, consign_orders, consign_batches.
-- These stay global:
--   products                              the catalogue every merchant shares (a reference table);
--   ledger_accounts, ledger_entries,      one journal entry moves money between a merchant's account and the
--   ledger_postings                       platform's accounts in one transaction;
--   notifications, notification_attempts  the Store interface addresses a notification by its id alone;
--   schema_migrations.
-- Three unique rules are global too and would need a global index (or a redesign) once distributed:
-- merchants.app_key (looked up without the merchant id), consign_orders.sys_order_id (looked up without the
-- merchant id) and the live card (a card may be live only once across all merchants).

CREATE TABLE merchants (
  merchant_id       BIGINT  PRIMARY KEY,
  name              TEXT    COLLATE "C" NOT NULL,
  enabled           BOOLEAN NOT NULL DEFAULT TRUE,
  app_key           TEXT    COLLATE "C" NOT NULL UNIQUE,
  sign_key_sealed   BYTEA   NOT NULL,
  aes_key_sealed    BYTEA   NOT NULL,
  keys_version      BIGINT  NOT NULL DEFAULT 1,
  created_at_ms     BIGINT  NOT NULL,
  updated_at_ms     BIGINT  NOT NULL
);

CREATE TABLE products (
  product_code             TEXT    COLLATE "C" PRIMARY KEY,
  name                     TEXT    COLLATE "C" NOT NULL,
  face_values_yuan         TEXT    COLLATE "C" NOT NULL,   -- comma-separated whole yuan, ascending
  default_rate_permille    INTEGER NOT NULL,
  custom_rate_allowed      BOOLEAN NOT NULL DEFAULT FALSE,
  custom_rate_min_permille INTEGER NOT NULL DEFAULT 0,
  custom_rate_max_permille INTEGER NOT NULL DEFAULT 0,
  enabled                  BOOLEAN NOT NULL DEFAULT TRUE,
  created_at_ms            BIGINT  NOT NULL
);

CREATE TABLE merchant_products (
  merchant_id   BIGINT  NOT NULL REFERENCES merchants(merchant_id),
  product_code  TEXT    COLLATE "C" NOT NULL REFERENCES products(product_code),
  enabled       BOOLEAN NOT NULL,
  PRIMARY KEY (merchant_id, product_code)
);

CREATE TABLE consign_orders (
  merchant_id           BIGINT  NOT NULL,
  sys_order_id          TEXT    COLLATE "C" NOT NULL UNIQUE,
  merchant_order_id     TEXT    COLLATE "C" NOT NULL,
  batchno               TEXT    COLLATE "C" NOT NULL,
  product_code          TEXT    COLLATE "C" NOT NULL,
  product_type          INTEGER NOT NULL,
  card_number           BYTEA   NOT NULL,   -- as sent; not necessarily UTF-8
  card_password_sealed  BYTEA   NOT NULL,
  card_fingerprint      TEXT    COLLATE "C" NOT NULL,
  se_code_sealed        BYTEA,
  face_money_yuan       BIGINT  NOT NULL,
  rate_permille         INTEGER NOT NULL,
  notify_url            TEXT    COLLATE "C" NOT NULL,
  custom                BYTEA   NOT NULL,   -- as sent; not necessarily UTF-8
  request_fingerprint   TEXT    COLLATE "C" NOT NULL,
  state                 TEXT    COLLATE "C" NOT NULL CHECK (state IN ('processing','review','success','failed')),
  card_live             BOOLEAN NOT NULL,   -- true while processing, in review or succeeded
  message               TEXT    COLLATE "C" NOT NULL,
  real_money_yuan       BIGINT  NOT NULL DEFAULT 0,
  amount_fen            BIGINT  NOT NULL DEFAULT 0,
  success_time_s        BIGINT  NOT NULL DEFAULT 0,
  process_after_ms      BIGINT  NOT NULL,
  created_at_ms         BIGINT  NOT NULL,
  updated_at_ms         BIGINT  NOT NULL,
  PRIMARY KEY (merchant_id, merchant_order_id)
);
-- The same card may be live only once (DECISIONS: processing or succeeded blocks a resubmission).
CREATE UNIQUE INDEX consign_orders_live_card ON consign_orders(card_fingerprint) WHERE card_live;
CREATE INDEX consign_orders_due ON consign_orders(process_after_ms) WHERE state = 'processing';
CREATE INDEX consign_orders_merchant_created ON consign_orders(merchant_id, created_at_ms);

CREATE TABLE consign_batches (
  merchant_id   BIGINT NOT NULL,
  batchno       TEXT   COLLATE "C" NOT NULL,
  cards         BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, batchno)
);

-- Double-entry ledger. A journal entry's postings sum to zero.
CREATE TABLE ledger_accounts (
  account         TEXT    COLLATE "C" PRIMARY KEY,   -- e.g. merchant:10001:available, platform:revenue
  merchant_id     BIGINT,                            -- null for platform accounts
  may_go_negative BOOLEAN NOT NULL,
  balance_fen     BIGINT  NOT NULL DEFAULT 0,
  CHECK (may_go_negative OR balance_fen >= 0)
);

CREATE TABLE ledger_entries (
  entry_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind          TEXT   COLLATE "C" NOT NULL,
  reference     TEXT   COLLATE "C" NOT NULL,   -- the order the entry belongs to
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX ledger_entries_reference ON ledger_entries(reference);

CREATE TABLE ledger_postings (
  entry_id    BIGINT NOT NULL REFERENCES ledger_entries(entry_id),
  account     TEXT   COLLATE "C" NOT NULL REFERENCES ledger_accounts(account),
  amount_fen  BIGINT NOT NULL,
  PRIMARY KEY (entry_id, account)
);
CREATE INDEX ledger_postings_account ON ledger_postings(account, entry_id);

-- Durable notification outbox, written in the same transaction as the state change it reports.
CREATE TABLE notifications (
  notification_id    BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  merchant_id        BIGINT  NOT NULL,
  protocol           TEXT    COLLATE "C" NOT NULL,
  order_ref          TEXT    COLLATE "C" NOT NULL,
  url                TEXT    COLLATE "C" NOT NULL,
  content_type       TEXT    COLLATE "C" NOT NULL,
  body               TEXT    COLLATE "C" NOT NULL,
  schedule           TEXT    COLLATE "C" NOT NULL,
  attempts_made      INTEGER NOT NULL DEFAULT 0,
  attempts_max       INTEGER NOT NULL,
  state              TEXT    COLLATE "C" NOT NULL CHECK (state IN ('pending','delivered','failed')),
  next_attempt_at_ms BIGINT  NOT NULL,
  claimed_until_ms   BIGINT  NOT NULL DEFAULT 0,
  created_at_ms      BIGINT  NOT NULL,
  updated_at_ms      BIGINT  NOT NULL
);
CREATE INDEX notifications_due ON notifications(next_attempt_at_ms) WHERE state = 'pending';
CREATE INDEX notifications_order ON notifications(order_ref);

CREATE TABLE notification_attempts (
  notification_id BIGINT  NOT NULL REFERENCES notifications(notification_id),
  attempt_no      INTEGER NOT NULL,
  started_at_ms   BIGINT  NOT NULL,
  latency_ms      BIGINT  NOT NULL,
  http_status     INTEGER NOT NULL,   -- 0 when no HTTP response was received
  error           TEXT    COLLATE "C" NOT NULL,
  body_excerpt    BYTEA   NOT NULL,   -- as the merchant's server answered; not necessarily UTF-8
  delivered       BOOLEAN NOT NULL,
  PRIMARY KEY (notification_id, attempt_no)
);
