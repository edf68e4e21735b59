-- Version 3: the gateway protocol (docs/protocols/gateway.md). A merchant's payout settings, its channels, pay-ins
-- and payouts. Amounts are integer fen, times Unix milliseconds; every table carries merchant_id first in its key.
-- State CHECK constraints are OR chains, not IN lists (see 0002).

ALTER TABLE merchants ADD COLUMN payout_fee_fen INTEGER NOT NULL DEFAULT 0 CHECK (payout_fee_fen >= 0);
ALTER TABLE merchants ADD COLUMN payout_manual_approval INTEGER NOT NULL DEFAULT 0
  CHECK (payout_manual_approval = 0 OR payout_manual_approval = 1);

-- The gateway channels (the document's table, ids 1..15) a merchant may use, with its fee and limits.
CREATE TABLE merchant_channels (
  merchant_id        INTEGER NOT NULL REFERENCES merchants(merchant_id),
  channel_id         INTEGER NOT NULL,
  enabled            INTEGER NOT NULL,
  fee_rate_permille  INTEGER NOT NULL CHECK (fee_rate_permille >= 0 AND fee_rate_permille <= 1000),
  min_amount_fen     INTEGER NOT NULL DEFAULT 0 CHECK (min_amount_fen >= 0),
  max_amount_fen     INTEGER NOT NULL DEFAULT 0 CHECK (max_amount_fen >= 0),   -- 0: no maximum
  processor          TEXT    NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, channel_id)
);

CREATE TABLE gateway_payins (
  merchant_id          INTEGER NOT NULL,
  payment_id           TEXT    NOT NULL UNIQUE,
  mrn                  TEXT    NOT NULL,
  channel_id           INTEGER NOT NULL,
  amount_fen           INTEGER NOT NULL CHECK (amount_fen > 0),
  amount_text          TEXT    NOT NULL,   -- exactly as submitted
  callback_url         TEXT    NOT NULL,
  return_url           TEXT    NOT NULL,
  payer                TEXT    NOT NULL,
  request_fingerprint  TEXT    NOT NULL,
  processor            TEXT    NOT NULL,
  fee_rate_permille    INTEGER NOT NULL,
  state                TEXT    NOT NULL CHECK (state = 'waiting' OR state = 'paid' OR state = 'failed'),
  paid_fen             INTEGER NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
  fee_fen              INTEGER NOT NULL DEFAULT 0 CHECK (fee_fen >= 0),
  message              TEXT    NOT NULL,
  expires_at_ms        INTEGER NOT NULL,
  finished_at_ms       INTEGER NOT NULL DEFAULT 0,
  created_at_ms        INTEGER NOT NULL,
  updated_at_ms        INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, mrn)
);
-- Expiry sweeps walk this in order (the payment id breaks ties, so the sweep's order is the index's).
CREATE INDEX gateway_payins_expiry ON gateway_payins(expires_at_ms, payment_id) WHERE state = 'waiting';
CREATE INDEX gateway_payins_merchant_created ON gateway_payins(merchant_id, created_at_ms);

CREATE TABLE gateway_payouts (
  merchant_id            INTEGER NOT NULL,
  payout_id              TEXT    NOT NULL UNIQUE,
  mrn                    TEXT    NOT NULL,
  amount_fen             INTEGER NOT NULL CHECK (amount_fen > 0),
  amount_text            TEXT    NOT NULL,   -- exactly as submitted
  fee_fen                INTEGER NOT NULL CHECK (fee_fen >= 0),
  bank_name              TEXT    NOT NULL,
  account_name           TEXT    NOT NULL,
  account_number_sealed  BLOB    NOT NULL,
  callback_url           TEXT    NOT NULL,
  request_fingerprint    TEXT    NOT NULL,
  state                  TEXT    NOT NULL CHECK (state = 'approval' OR state = 'processing' OR state = 'paid' OR
                                                 state = 'failed' OR state = 'rejected'),
  message                TEXT    NOT NULL,
  process_after_ms       INTEGER NOT NULL,
  finished_at_ms         INTEGER NOT NULL DEFAULT 0,
  created_at_ms          INTEGER NOT NULL,
  updated_at_ms          INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, mrn)
);
CREATE INDEX gateway_payouts_due ON gateway_payouts(process_after_ms, payout_id) WHERE state = 'processing';
CREATE INDEX gateway_payouts_merchant_created ON gateway_payouts(merchant_id, created_at_ms);
