// The cashier protocol's business logic, free of HTTP: payment requests (envelope, merchant, signature, methods,
// bound-card permission, identical retry), the customer's payment through the processor with the five result codes
// and the money behind each, settlement of pending funds, holds and releases, expiry, queries, and the back notify
// through the durable outbox. Each state change, its ledger entry and its back notify are one transaction.
//
// Methods are the gateway's channels (one merchant account, one configuration): WeiXin is channel 1 (微信),
// AliPay channel 2 (支付宝), Bank channel 3 (银行卡). A method is enabled for a merchant when its channel is, and
// the channel's fee rate applies.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "notify/schedule.h"
#include "protocols/cashier/codec.h"
#include "storage/catalog_cache.h"
#include "storage/store.h"

namespace paygate::cashier {

struct Config {
  int64_t order_expiry_ms = 15 * 60'000;  // an unpaid order fails (1003) after this
  int utc_offset_minutes = kDefaultUtcOffsetMinutes;
  bool allow_private_targets = false;
  int64_t catalog_cache_ttl_ms = 0;
  bool sandbox = true;  // only the sandbox processor exists: without it payment requests are refused
};

// The payment methods (the document's actions but Arbi) and their channels.
struct Method {
  Action action;
  int channel_id;
};
inline constexpr std::array<Method, 3> kMethods{{{Action::kWeiXin, 1}, {Action::kAliPay, 2}, {Action::kBank, 3}}};
std::optional<Action> method_of_channel(int channel_id);
int channel_of(Action method);

struct PreparedPay {
  orders::CashierOrder order;  // everything but the id
  std::string merchant_key;    // to sign the answer
  // Set when a rule that reads the operator's current settings (the merchant's methods, the bound-card permission)
  // refused the request. The orderid rule still comes first (DECISIONS.md): an earlier order with this orderid
  // answers, so an identical retry gets its first answer whatever the operator changed since; otherwise this is
  // the answer and nothing is stored. Of `order`, only the merchant, the orderid and the request fingerprint are
  // set then.
  std::optional<Error> refused;
};
struct PayAnswer {
  orders::CashierOrder order;
  bool identical_retry = false;
};

// Why a request was refused, with what the answer can be signed with (empty: the merchant is unknown).
struct Refusal {
  Error error;
  std::string merchant_key;  // empty: the merchant could not be identified, so the answer goes out unsigned
  // false for a request whose signature failed: its answer is signed (DECISIONS.md) but carries none of the
  // request's own fields, or anyone could get the platform's signature over a 1003 for an order and amount of their
  // choosing, a valid-looking front notify to replay to the merchant's fronturl.
  bool echo_request = true;
};

class Service {
 public:
  Service(storage::Store& store, const Clock& clock, Config config);

  // A payment request's form (req, sign): envelope, fields, merchant, signature, IP allowlist, method, permission.
  // A refusal is reported in `refusal` too, also one left for commit_pay (PreparedPay::refused).
  // `remote_ip` is the caller's address: outside the merchant's non-empty API IP allowlist the request is refused
  // with kUnauthenticated ("IP not allowed: ..."); an empty address is outside every list.
  Result<PreparedPay> prepare_pay(const Fields& form, Refusal* refusal, std::string_view remote_ip = {}) const;
  static Result<PayAnswer> commit_pay(storage::Tx& tx, const PreparedPay& p, Random& random);

  struct QueryResult {
    std::string body;  // envelope_json of the answer
  };
  // POST /api/query: always an answer (errors are respcodes), signed when the merchant is known.
  // Outside the merchant's IP allowlist: respcode 02 (as a bad sign), "IP not allowed: ...".
  std::string query(const Fields& form, std::string_view remote_ip = {}) const;

  // The methods the merchant has enabled, in kMethods order.
  std::vector<Action> enabled_methods(MerchantId merchant) const;

  const Config& config() const { return config_; }
  storage::CatalogCache& catalog() const { return catalog_; }

 private:
  storage::Store& store_;
  mutable storage::CatalogCache catalog_;
  const Clock& clock_;
  Config config_;
};

// What the sandbox (or, later, a real processor) reports for an unpaid order. kSettle means "paid, settled as the
// merchant's settlement delay says" (0000 with no delay, 1002 otherwise): what a real payment does.
enum class Outcome { kSettle, kPaid, kPending, kFailed, kHeld };
// Parses the sandbox endpoint's result: success (kSettle), fail (kFailed), 0000, 1002, 1003, 1004.
std::optional<Outcome> parse_outcome(std::string_view text);

// ---- write-side steps, each inside a write transaction ----

// Completes an unpaid order paid with `method` (required for Arbi: one of the enabled methods; otherwise the
// order's own). kNotFound, kFailedPrecondition (not unpaid any more, expired), kInvalidArgument (bad method).
Result<orders::CashierOrder> complete_order(storage::Tx& tx, const CashierId& id, Outcome outcome,
                                            std::optional<Action> method, int64_t now_ms, const Config& config);
// Fails up to `limit` unpaid orders past their expiry (1003, back notify). Returns how many.
size_t expire_orders(storage::Tx& tx, int64_t now_ms, size_t limit, const Config& config);
// Settles up to `limit` pending orders due by `due_by_ms` (now, or a later time for `paygate settle --as-of`):
// pending -> available, 0000, back notify, all stamped `now_ms`. Returns how many.
size_t settle_due(storage::Tx& tx, int64_t due_by_ms, int64_t now_ms, size_t limit, const Config& config);
// Holds a paid or pending order: its funds move to frozen (1004, back notify). kFailedPrecondition when it is in
// another state, or its funds have already left the available balance.
Result<orders::CashierOrder> hold_order(storage::Tx& tx, const CashierId& id, const std::string& reason,
                                        int64_t now_ms, const Config& config);
// Releases a held order: to the merchant (frozen -> available, 0000) or back to the payer (1003). Back notify.
Result<orders::CashierOrder> release_order(storage::Tx& tx, const CashierId& id, bool to_merchant,
                                           const std::string& reason, int64_t now_ms, const Config& config);

// The order as the payloads show it.
TxnView view_of(const orders::CashierOrder& o);
// Masks an ID number for display: the first 4 and last 4 characters.
std::string mask_id_number(std::string_view number);

CashierId new_cashier_id(int64_t now_ms, Random& random);

}  // namespace paygate::cashier
