-- Version 7: the live-card rule's index leads with the product and the card number, then the fingerprint.
-- Keyed by the fingerprint alone (a keyed hash, so random), every new card changed a different index page: one
-- more 4 KiB page per submitted card for each commit to write to the WAL and each checkpoint to copy, which made
-- it the costliest part of a submit (docs/performance.md). Cards arrive mostly in number order (a merchant's batch
-- of gift cards), so in number order their index entries land on the same few pages. The rule is unchanged: the
-- fingerprint covers the product, the number and the password, so (product, number, fingerprint) is unique
-- exactly when the fingerprint is.
DROP INDEX consign_orders_live_card;
CREATE UNIQUE INDEX consign_orders_live_card ON consign_orders(product_code, card_number, card_fingerprint)
  WHERE card_live = 1;
