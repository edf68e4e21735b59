-- Version 4: the cashier protocol. A merchant's settlement delay and bound-card permission, and the cashier orders.
-- Amounts are integer fen, times Unix milliseconds; merchant_id comes first in the key. State CHECK constraints are
-- OR chains, not IN lists (see 0002).

ALTER TABLE merchants ADD COLUMN settlement_delay_days INTEGER NOT NULL DEFAULT 0
  CHECK (settlement_delay_days >= 0 AND settlement_delay_days <= 365);
ALTER TABLE merchants ADD COLUMN bound_card_allowed INTEGER NOT NULL DEFAULT 0
  CHECK (bound_card_allowed = 0 OR bound_card_allowed = 1);

CREATE TABLE cashier_orders (
  merchant_id          INTEGER NOT NULL,
  cashier_id           TEXT    NOT NULL UNIQUE,   -- the protocol's queryid
  orderid              TEXT    NOT NULL,          -- the merchant's order id
  action               TEXT    NOT NULL,          -- as requested: Bank, WeiXin, AliPay or Arbi
  method               TEXT    NOT NULL,          -- paid with; for Arbi empty until the customer chooses
  amount_fen           INTEGER NOT NULL CHECK (amount_fen > 0),
  backurl              TEXT    NOT NULL,
  fronturl             TEXT    NOT NULL,
  accname_sealed       BLOB,                      -- bound-card payment only, else NULL
  accno_sealed         BLOB,                      -- bound-card payment only, else NULL
  request_fingerprint  TEXT    NOT NULL,
  state                TEXT    NOT NULL CHECK (state = 'unpaid' OR state = 'paid' OR state = 'pending' OR
                                               state = 'failed' OR state = 'held'),
  held_from            TEXT    NOT NULL DEFAULT 'unpaid'
                       CHECK (held_from = 'unpaid' OR held_from = 'paid' OR held_from = 'pending' OR
                              held_from = 'failed' OR held_from = 'held'),
  fee_fen              INTEGER NOT NULL DEFAULT 0 CHECK (fee_fen >= 0 AND fee_fen <= amount_fen),
  fee_rate_permille    INTEGER NOT NULL CHECK (fee_rate_permille >= 0 AND fee_rate_permille <= 1000),
  message              TEXT    NOT NULL,
  paid_at_ms           INTEGER NOT NULL DEFAULT 0,
  settle_after_ms      INTEGER NOT NULL DEFAULT 0,
  expires_at_ms        INTEGER NOT NULL,
  created_at_ms        INTEGER NOT NULL,
  updated_at_ms        INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, orderid)
);
-- The expiry and settlement sweeps walk these in order (the cashier id breaks ties, so the sweep's order is the
-- index's).
CREATE INDEX cashier_orders_expiry ON cashier_orders(expires_at_ms, cashier_id) WHERE state = 'unpaid';
CREATE INDEX cashier_orders_settlement ON cashier_orders(settle_after_ms, cashier_id) WHERE state = 'pending';
CREATE INDEX cashier_orders_merchant_created ON cashier_orders(merchant_id, created_at_ms);
