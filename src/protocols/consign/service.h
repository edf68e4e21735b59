// The consign protocol's business logic, free of HTTP: validate a submission, store it (identical retry,
// duplicate, batch and card rules), answer queries, and finish orders (state, ledger, notify outbox in one
// transaction).
#pragma once
#include <memory>
#include <optional>

#include "base/clock.h"
#include "crypto/crypto.h"
#include "notify/schedule.h"
#include "processors/sandbox/card_processor.h"
#include "protocols/consign/codec.h"
#include "storage/catalog_cache.h"
#include "storage/store.h"

namespace paygate::consign {

struct Config {
  int64_t timestamp_skew_s = 300;
  int64_t processing_delay_ms = 2'000;
  bool allow_private_targets = false;  // refuse notifyUrl with a literal private/loopback address up front
  // How long merchants and products are cached in memory (0: read them for every request). A change made by
  // another process takes effect within this time.
  int64_t catalog_cache_ttl_ms = 0;
};

struct PreparedSubmit {
  orders::ConsignOrder order;  // everything but sys_order_id
  storage::SealedCard sealed;  // the card sealed for a first sys order id (seal_ahead), or nothing
  // Set when a rule that reads the operator's current catalogue (the product, its face values and rates, the
  // merchant's products) refused the request. The order-id rule still comes first (DECISIONS.md): an earlier order
  // with this id answers, so an identical retry gets its first answer whatever the operator changed since;
  // otherwise this is the answer and nothing is stored. Of `order`, only the merchant, the merchant's order id and
  // the request fingerprint are set then.
  std::optional<Error> refused;
};

struct SubmitAnswer {
  SysOrderId sys_order_id;
  bool identical_retry = false;
};

class Service {
 public:
  Service(storage::Store& store, std::shared_ptr<const crypto::SecretBox> box, const Clock& clock, Config config);

  // Everything that needs no write: fields, merchant, signature, timestamp, product, password. Reads a
  // snapshot. Errors carry the message for the merchant's developer.
  // `remote_ip` is the caller's address, checked against the merchant's API IP allowlist after the signature
  // (kUnauthenticated "IP not allowed: ..." when outside a non-empty list; an empty address is outside every list).
  Result<PreparedSubmit> prepare_submit(const Fields& f, std::string_view remote_ip = {}) const;
  // Draws the order's first sys order id and seals the card for it, on the calling thread rather than the
  // writer's. commit_submit tries that id first; it seals again only for another (a collision).
  void seal_ahead(PreparedSubmit& p, Random& random) const;
  // Runs in the writer transaction.
  static Result<SubmitAnswer> commit_submit(storage::Tx& tx, const PreparedSubmit& p, Random& random);

  // kNotFound means the protocol's code "2".
  Result<OrderView> query(const Fields& f, std::string_view remote_ip = {}) const;

  const Config& config() const { return config_; }

 private:
  Result<storage::MerchantRef> authenticate(const Fields& f, bool submit, std::string_view remote_ip) const;

  storage::Store& store_;
  mutable storage::CatalogCache catalog_;
  std::shared_ptr<const crypto::SecretBox> box_;
  const Clock& clock_;
  Config config_;
};

// Applies an outcome inside a write transaction: the order's new state, the ledger entry for a success, and
// the notification for a final state (when the order has a notifyUrl).
Status finish_order(storage::Tx& tx, const orders::ConsignOrder& order, const orders::ConsignOutcome& outcome,
                    int64_t now_ms);

// Moves up to `limit` due processing orders forward with the processor. Returns how many were handled.
size_t process_due_orders(storage::Tx& tx, const processors::CardProcessor& processor, int64_t now_ms, size_t limit);

// A new system order id: "C" + 13-digit Unix milliseconds + 6 random digits.
SysOrderId new_sys_order_id(int64_t now_ms, Random& random);

}  // namespace paygate::consign
