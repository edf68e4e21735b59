// The gateway protocol's business logic, free of HTTP: pay-ins (create, identical retry, completion by the
// processor, expiry), payouts (acceptance with the balance hold, approval, the bank's answer, refund), queries with
// re-callback, and the callbacks through the durable outbox. Each state change, its ledger entry and its callback
// are written in one transaction.
//
// Errors carry the wire code they answer with (wire_error_of): kInvalidArgument invalid_data, kUnauthenticated
// sign_error, kNotFound object_not_found, kAlreadyExists mrn_duplication, kFailedPrecondition
// insufficient_balance; anything else is the platform's own trouble, answered as invalid_data with a generic
// message (nothing was stored).
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "notify/schedule.h"
#include "processors/sandbox/gateway_processors.h"
#include "protocols/gateway/codec.h"
#include "storage/catalog_cache.h"
#include "storage/store.h"

namespace paygate::gateway {

struct Config {
  int64_t payment_expiry_ms = 15 * 60'000;  // a pay-in not paid by then fails (status 2)
  int64_t payout_delay_ms = 2'000;          // the sandbox bank's time to answer
  bool allow_private_targets = false;       // refuse callbackUrl with a literal private/loopback address up front
  int64_t catalog_cache_ttl_ms = 0;
  notify::ScheduleConfig schedule;          // the callbacks' attempts
};

// What a wire error code an Error answers with.
WireError wire_error_of(const Error& e);
// What the merchant may read of an error: its own mistakes in full, ours as a generic message.
std::string client_message(const Error& e);

struct PreparedPayIn {
  orders::PayIn payin;  // everything but the id
  // Set when a rule that reads the operator's current settings (the merchant's channel: enabled, its processor, its
  // amount limits) refused the request. The mrn rule still comes first (DECISIONS.md): an earlier pay-in with this
  // mrn answers, so an identical retry gets its first answer whatever the operator changed since; otherwise this
  // is the answer and nothing is stored. Of `payin`, only the merchant, the mrn and the request fingerprint are set
  // then.
  std::optional<Error> refused;
};
struct PayInAnswer {
  orders::PayIn payin;  // as stored (the first one, for an identical retry)
  bool identical_retry = false;
};

struct PreparedPayout {
  orders::Payout payout;           // everything but the id
  storage::SealedAccount sealed;  // the account number sealed for a first payout id (seal_ahead), or nothing
};
struct PayoutAnswer {
  orders::Payout payout;
  bool identical_retry = false;
};

struct QueryAnswer {
  std::string mrn;
  QueryStatus status = QueryStatus::kWaiting;
  bool callback_queued = false;
};

// The processors by name, and the bank.
struct Processors {
  std::map<std::string, const processors::PayInProcessor*, std::less<>> payin;
  const processors::BankProcessor* bank = nullptr;
  const processors::PayInProcessor* find(std::string_view name) const {
    auto it = payin.find(name);
    return it == payin.end() ? nullptr : it->second;
  }
};

class Service {
 public:
  Service(storage::Store& store, const Clock& clock, Config config, Processors processors);

  // Everything that needs no write: fields, merchant, signature, IP allowlist, channel, amount bounds. Reads a
  // snapshot. Every call from a merchant takes `remote_ip`, the caller's address: outside the merchant's non-empty
  // API IP allowlist it is refused with kUnauthenticated (sign_error, "IP not allowed: ..."); an empty address is
  // outside every list.
  Result<PreparedPayIn> prepare_pay_in(const Fields& f, std::string_view remote_ip = {}) const;
  // Runs in the writer transaction: the identical-retry and mrn rules, then the insert.
  static Result<PayInAnswer> commit_pay_in(storage::Tx& tx, const PreparedPayIn& p, Random& random);

  Result<PreparedPayout> prepare_payout(const Fields& f, std::string_view remote_ip = {}) const;
  // Draws the payout's first id and seals its account number for it, on the calling thread rather than the
  // writer's. commit_payout tries that id first; it seals again only for another (a collision).
  void seal_ahead(PreparedPayout& p, Random& random) const;
  // The identical-retry and mrn rules, the insert and the balance hold (amount + fee) in one savepoint: refused
  // with kFailedPrecondition (nothing stored) when the available balance does not cover it.
  static Result<PayoutAnswer> commit_payout(storage::Tx& tx, const PreparedPayout& p, Random& random);

  // Checks a query (fields, merchant, signature) and finds the order. `callback` on a paid order needs a write:
  // run requeue_*_callback in a write transaction afterwards.
  struct FoundPayIn {
    orders::PayIn payin;
    bool callback = false;
  };
  Result<FoundPayIn> find_pay_in(const Fields& f, std::string_view remote_ip = {}) const;
  struct FoundPayout {
    orders::Payout payout;
    bool callback = false;
  };
  Result<FoundPayout> find_payout(const Fields& f, std::string_view remote_ip = {}) const;

  const Config& config() const { return config_; }
  const Processors& processors() const { return processors_; }
  storage::CatalogCache& catalog() const { return catalog_; }

 private:
  // The merchant of `app_key` whose key signs `signing(key)` to `sign`, and who may use the API.
  Result<storage::MerchantRef> authenticate(const std::string& app_key, std::string_view sign,
                                            std::string (*signing)(const Fields&, std::string_view),
                                            const Fields& f, std::string_view remote_ip) const;

  storage::Store& store_;
  mutable storage::CatalogCache catalog_;
  const Clock& clock_;
  Config config_;
  Processors processors_;
};

// ---- write-side steps, each inside a write transaction ----

// Completes a waiting pay-in: paid (the ledger entry, then the callback) or failed. kNotFound for an unknown id,
// kFailedPrecondition when it is no longer waiting (it says what it is).
Result<orders::PayIn> complete_pay_in(storage::Tx& tx, const PaymentId& id, const orders::PayInOutcome& outcome,
                                      int64_t now_ms, const notify::ScheduleConfig& schedule);
// Fails up to `limit` waiting pay-ins whose expiry has passed. Returns how many.
size_t expire_pay_ins(storage::Tx& tx, int64_t now_ms, size_t limit);
// Queues a fresh callback for a paid pay-in (the query's callback=true). Returns false when it is not paid.
bool requeue_pay_in_callback(storage::Tx& tx, const PaymentId& id, int64_t now_ms,
                             const notify::ScheduleConfig& schedule);

// Sends up to `limit` due processing payouts to the bank and applies its answers. Returns how many.
size_t process_due_payouts(storage::Tx& tx, const processors::BankProcessor& bank, int64_t now_ms, size_t limit,
                           const notify::ScheduleConfig& schedule);
// An operator's decision on a payout waiting for approval: approve (the bank takes it after `delay_ms`) or
// reject (the money returns to the available balance).
Result<orders::Payout> approve_payout(storage::Tx& tx, const PayoutId& id, int64_t now_ms, int64_t delay_ms);
Result<orders::Payout> reject_payout(storage::Tx& tx, const PayoutId& id, const std::string& reason, int64_t now_ms);
// Queues a fresh callback for a paid payout. Returns false when it is not paid.
bool requeue_payout_callback(storage::Tx& tx, const PayoutId& id, int64_t now_ms,
                             const notify::ScheduleConfig& schedule);

// New platform ids: prefix + 13-digit Unix ms + 12 random letters and digits.
PaymentId new_payment_id(int64_t now_ms, Random& random);
PayoutId new_payout_id(int64_t now_ms, Random& random);

}  // namespace paygate::gateway
