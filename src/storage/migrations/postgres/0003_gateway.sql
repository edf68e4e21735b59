-- Version 3: the gateway protocol (docs/protocols/gateway.md), the same tables, columns and meaning as
-- sqlite/0003_gateway.sql. A merchant's payout settings, its channels, pay-ins and payouts. Amounts are integer fen,
-- times Unix milliseconds; sealed values are BYTEA; text compares bytewise (COLLATE "C"). Every text column holds
-- checked ASCII or UTF-8 (the gateway codec refuses anything else), so none needs BYTEA.
--
-- Distribution by merchant: merchant_channels, gateway_payins and gateway_payouts put merchant_id first in their
-- primary key. Two unique rules are global, as consign_orders.sys_order_id is: gateway_payins.payment_id and
-- gateway_payouts.payout_id (a payment page and the payout processor address a row by its id alone).

ALTER TABLE merchants
  ADD COLUMN payout_fee_fen BIGINT NOT NULL DEFAULT 0 CHECK (payout_fee_fen >= 0),
  ADD COLUMN payout_manual_approval BOOLEAN NOT NULL DEFAULT FALSE;

-- The gateway channels (the document's table, ids 1..15) a merchant may use, with its fee and limits.
CREATE TABLE merchant_channels (
  merchant_id        BIGINT  NOT NULL REFERENCES merchants(merchant_id),
  channel_id         INTEGER NOT NULL,
  enabled            BOOLEAN NOT NULL,
  fee_rate_permille  INTEGER NOT NULL CHECK (fee_rate_permille >= 0 AND fee_rate_permille <= 1000),
  min_amount_fen     BIGINT  NOT NULL DEFAULT 0 CHECK (min_amount_fen >= 0),
  max_amount_fen     BIGINT  NOT NULL DEFAULT 0 CHECK (max_amount_fen >= 0),   -- 0: no maximum
  processor          TEXT    COLLATE "C" NOT NULL,
  updated_at_ms      BIGINT  NOT NULL,
  PRIMARY KEY (merchant_id, channel_id)
);

CREATE TABLE gateway_payins (
  merchant_id          BIGINT  NOT NULL,
  payment_id           TEXT    COLLATE "C" NOT NULL UNIQUE,
  mrn                  TEXT    COLLATE "C" NOT NULL,
  channel_id           INTEGER NOT NULL,
  amount_fen           BIGINT  NOT NULL CHECK (amount_fen > 0),
  amount_text          TEXT    COLLATE "C" NOT NULL,   -- exactly as submitted
  callback_url         TEXT    COLLATE "C" NOT NULL,
  return_url           TEXT    COLLATE "C" NOT NULL,
  payer                TEXT    COLLATE "C" NOT NULL,
  request_fingerprint  TEXT    COLLATE "C" NOT NULL,
  processor            TEXT    COLLATE "C" NOT NULL,
  fee_rate_permille    INTEGER NOT NULL,
  state                TEXT    COLLATE "C" NOT NULL CHECK (state IN ('waiting','paid','failed')),
  paid_fen             BIGINT  NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
  fee_fen              BIGINT  NOT NULL DEFAULT 0 CHECK (fee_fen >= 0),
  message              TEXT    COLLATE "C" NOT NULL,
  expires_at_ms        BIGINT  NOT NULL,
  finished_at_ms       BIGINT  NOT NULL DEFAULT 0,
  created_at_ms        BIGINT  NOT NULL,
  updated_at_ms        BIGINT  NOT NULL,
  PRIMARY KEY (merchant_id, mrn)
);
-- Expiry sweeps walk this in order (the payment id breaks ties, so the sweep's order is the index's).
CREATE INDEX gateway_payins_expiry ON gateway_payins(expires_at_ms, payment_id) WHERE state = 'waiting';
CREATE INDEX gateway_payins_merchant_created ON gateway_payins(merchant_id, created_at_ms);

CREATE TABLE gateway_payouts (
  merchant_id            BIGINT  NOT NULL,
  payout_id              TEXT    COLLATE "C" NOT NULL UNIQUE,
  mrn                    TEXT    COLLATE "C" NOT NULL,
  amount_fen             BIGINT  NOT NULL CHECK (amount_fen > 0),
  amount_text            TEXT    COLLATE "C" NOT NULL,   -- exactly as submitted
  fee_fen                BIGINT  NOT NULL CHECK (fee_fen >= 0),
  bank_name              TEXT    COLLATE "C" NOT NULL,
  account_name           TEXT    COLLATE "C" NOT NULL,
  account_number_sealed  BYTEA   NOT NULL,
  callback_url           TEXT    COLLATE "C" NOT NULL,
  request_fingerprint    TEXT    COLLATE "C" NOT NULL,
  state                  TEXT    COLLATE "C" NOT NULL
                         CHECK (state IN ('approval','processing','paid','failed','rejected')),
  message                TEXT    COLLATE "C" NOT NULL,
  process_after_ms       BIGINT  NOT NULL,
  finished_at_ms         BIGINT  NOT NULL DEFAULT 0,
  created_at_ms          BIGINT  NOT NULL,
  updated_at_ms          BIGINT  NOT NULL,
  PRIMARY KEY (merchant_id, mrn)
);
CREATE INDEX gateway_payouts_due ON gateway_payouts(process_after_ms, payout_id) WHERE state = 'processing';
CREATE INDEX gateway_payouts_merchant_created ON gateway_payouts(merchant_id, created_at_ms);
