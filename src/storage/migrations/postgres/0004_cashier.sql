-- Version 4: the cashier protocol, the same tables, columns and meaning as sqlite/0004_cashier.sql. A merchant's
-- settlement delay and bound-card permission, and the cashier orders. Amounts are integer fen, times Unix
-- milliseconds; sealed values are BYTEA; text compares bytewise (COLLATE "C"). The text columns hold what the
-- cashier codec has checked (ids, method names, URLs, hex fingerprints) or what paygate writes (the message), all
-- UTF-8 without NUL, so none needs BYTEA; the payer's account name and number are sealed.
--
-- Distribution by merchant: cashier_orders puts merchant_id first in its primary key. One unique rule is global, as
-- gateway_payins.payment_id is: cashier_orders.cashier_id (the protocol's queryid; the cashier page, the processor
-- and the settlement job address an order by it alone).

ALTER TABLE merchants
  ADD COLUMN settlement_delay_days INTEGER NOT NULL DEFAULT 0
    CHECK (settlement_delay_days >= 0 AND settlement_delay_days <= 365),
  ADD COLUMN bound_card_allowed BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE cashier_orders (
  merchant_id          BIGINT  NOT NULL,
  cashier_id           TEXT    COLLATE "C" NOT NULL UNIQUE,   -- the protocol's queryid
  orderid              TEXT    COLLATE "C" NOT NULL,          -- the merchant's order id
  action               TEXT    COLLATE "C" NOT NULL,          -- as requested: Bank, WeiXin, AliPay or Arbi
  method               TEXT    COLLATE "C" NOT NULL,          -- paid with; for Arbi empty until the customer chooses
  amount_fen           BIGINT  NOT NULL CHECK (amount_fen > 0),
  backurl              TEXT    COLLATE "C" NOT NULL,
  fronturl             TEXT    COLLATE "C" NOT NULL,
  accname_sealed       BYTEA,                                 -- bound-card payment only, else NULL
  accno_sealed         BYTEA,                                 -- bound-card payment only, else NULL
  request_fingerprint  TEXT    COLLATE "C" NOT NULL,
  state                TEXT    COLLATE "C" NOT NULL
                       CHECK (state IN ('unpaid', 'paid', 'pending', 'failed', 'held')),
  held_from            TEXT    COLLATE "C" NOT NULL DEFAULT 'unpaid'
                       CHECK (held_from IN ('unpaid', 'paid', 'pending', 'failed', 'held')),
  fee_fen              BIGINT  NOT NULL DEFAULT 0 CHECK (fee_fen >= 0 AND fee_fen <= amount_fen),
  fee_rate_permille    INTEGER NOT NULL CHECK (fee_rate_permille >= 0 AND fee_rate_permille <= 1000),
  message              TEXT    COLLATE "C" NOT NULL,
  paid_at_ms           BIGINT  NOT NULL DEFAULT 0,
  settle_after_ms      BIGINT  NOT NULL DEFAULT 0,
  expires_at_ms        BIGINT  NOT NULL,
  created_at_ms        BIGINT  NOT NULL,
  updated_at_ms        BIGINT  NOT NULL,
  PRIMARY KEY (merchant_id, orderid)
);
-- The expiry and settlement sweeps walk these in order (the cashier id breaks ties, so the sweep's order is the
-- index's).
CREATE INDEX cashier_orders_expiry ON cashier_orders(expires_at_ms, cashier_id) WHERE state = 'unpaid';
CREATE INDEX cashier_orders_settlement ON cashier_orders(settle_after_ms, cashier_id) WHERE state = 'pending';
CREATE INDEX cashier_orders_merchant_created ON cashier_orders(merchant_id, created_at_ms);
