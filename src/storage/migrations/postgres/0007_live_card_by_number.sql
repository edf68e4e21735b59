-- Version 7: the same as sqlite/0007_live_card_by_number.sql. The live-card rule's index leads with the product
-- and the card number, then the fingerprint: keyed by the fingerprint alone (a keyed hash, so random), every new
-- card changed a different index page; cards arriving in number order now share pages. The rule is unchanged:
-- the fingerprint covers the product, the number and the password.
DROP INDEX consign_orders_live_card;
CREATE UNIQUE INDEX consign_orders_live_card ON consign_orders(product_code, card_number, card_fingerprint)
  WHERE card_live;
