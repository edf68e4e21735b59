#include "protocols/gateway/service.h"

#include "base/limits.h"
#include "crypto/crypto.h"
#include "http/client.h"
#include "http/http.h"
#include "http/ip_allowlist.h"
#include "notify/outbox.h"

namespace paygate::gateway {
namespace {

Error invalid(std::string msg) { return make_error(ErrorCode::kInvalidArgument, std::move(msg)); }

// The business fields of a request: every signed field (the gateway signs no timestamp), in signing order.
std::string request_fingerprint(const Fields& f, std::initializer_list<const char*> names) {
  std::string s;
  for (const char* name : names) {
    s += field(f, name);
    s += '\x1f';
  }
  return crypto::sha256_hex(s);
}

Status check_callback_url(std::string_view url, bool allow_private_targets) {
  if (allow_private_targets) return ok_status();
  auto parsed = http::parse_url(url);
  if (!parsed.ok()) return invalid("callbackUrl must be an absolute http:// or https:// URL: " + parsed.error().message);
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(parsed->host, ec);
  if (!ec && http::is_forbidden_target(addr)) {
    return invalid("callbackUrl points to a private, loopback or link-local address, which this platform does not call");
  }
  return ok_status();
}

std::string channel_label(int channel_id) {
  const Channel* c = find_channel(channel_id);
  return std::to_string(channel_id) + (c ? " (" + std::string(c->name_en) + ")" : "");
}

std::string random_suffix(Random& random) { return random.alnum(12); }

void enqueue_callback(storage::Tx& tx, MerchantId merchant_id, const std::string& order_ref, const std::string& url,
                      std::string body, int64_t now_ms, const notify::ScheduleConfig& schedule) {
  storage::Notification n;
  n.merchant_id = merchant_id;
  n.protocol = "gateway";
  n.order_ref = order_ref;
  n.url = url;
  n.content_type = "application/x-www-form-urlencoded";
  n.body = std::move(body);
  n.schedule = std::string(notify::kGatewaySchedule);
  n.attempts_max = notify::attempts_max(notify::kGatewaySchedule, schedule);
  n.next_attempt_at_ms = now_ms;
  n.created_at_ms = now_ms;
  n.updated_at_ms = now_ms;
  notify::enqueue_newest(tx, std::move(n));
}

storage::Merchant merchant_of(storage::Tx& tx, MerchantId id) {
  auto merchant = tx.merchant(id);
  PG_ASSERT(merchant.has_value(), "order without its merchant");
  return *merchant;
}

void enqueue_pay_in_callback(storage::Tx& tx, const orders::PayIn& p, int64_t now_ms,
                             const notify::ScheduleConfig& schedule) {
  PG_ASSERT(p.state == orders::PayInState::kPaid, "pay-in callback for an unpaid order");
  auto merchant = merchant_of(tx, p.merchant_id);
  PayInCallback cb{p.paid, merchant.app_key, p.channel_id, p.mrn, p.amount_text};
  enqueue_callback(tx, p.merchant_id, p.id.value(), p.callback_url,
                   http::form_encode(pay_in_callback_fields(cb, merchant.sign_key)), now_ms, schedule);
}

void enqueue_payout_callback(storage::Tx& tx, const orders::Payout& p, int64_t now_ms,
                             const notify::ScheduleConfig& schedule) {
  PG_ASSERT(p.state == orders::PayoutState::kPaid, "payout callback for an unpaid payout");
  auto merchant = merchant_of(tx, p.merchant_id);
  PayoutCallback cb{p.amount, merchant.app_key, p.mrn};
  enqueue_callback(tx, p.merchant_id, p.id.value(), p.callback_url,
                   http::form_encode(payout_callback_fields(cb, merchant.sign_key)), now_ms, schedule);
}

std::string mrn_taken(std::string_view what, const std::string& mrn) {
  return "mrn " + mrn + " was already used for another " + std::string(what) +
         " with different fields; an identical retry gets the first answer, any change needs a new mrn";
}

}  // namespace

WireError wire_error_of(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument: return WireError::kInvalidData;
    case ErrorCode::kUnauthenticated: return WireError::kSignError;
    case ErrorCode::kNotFound: return WireError::kObjectNotFound;
    case ErrorCode::kAlreadyExists: return WireError::kMrnDuplication;
    case ErrorCode::kFailedPrecondition: return WireError::kInsufficientBalance;
    default: return WireError::kInvalidData;
  }
}

std::string client_message(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInternal: return "internal error, nothing was stored; retry later";
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kUnavailable: return "the platform is busy, nothing was stored; retry later";
    default: return e.message;
  }
}

PaymentId new_payment_id(int64_t now_ms, Random& random) {
  return PaymentId{"P" + std::to_string(now_ms) + random_suffix(random)};
}

PayoutId new_payout_id(int64_t now_ms, Random& random) {
  return PayoutId{"W" + std::to_string(now_ms) + random_suffix(random)};
}

Service::Service(storage::Store& store, const Clock& clock, Config config, Processors processors)
    : store_(store), catalog_(store, clock, config.catalog_cache_ttl_ms), clock_(clock), config_(std::move(config)),
      processors_(std::move(processors)) {
  PG_ASSERT(processors_.bank != nullptr, "the gateway needs a bank processor");
}

Result<storage::MerchantRef> Service::authenticate(const std::string& app_key, std::string_view sign,
                                                   std::string (*signing)(const Fields&, std::string_view),
                                                   const Fields& f, std::string_view remote_ip) const {
  auto merchant = catalog_.merchant_by_app_key(app_key);
  if (!merchant) return make_error(ErrorCode::kNotFound, "unknown appKey " + app_key);
  if (!signature_matches(sign, signing(f, merchant->sign_key))) {
    return make_error(ErrorCode::kUnauthenticated,
                      "bad sign: expected the MD5 (lower-case hex) of the fields in the documented order followed by "
                      "&key=<your signing key>");
  }
  if (!http::ip_allowed(merchant->api_ip_allowlist, remote_ip)) {
    return make_error(ErrorCode::kUnauthenticated, http::ip_not_allowed_message(remote_ip));
  }
  if (!merchant->enabled) return make_error(ErrorCode::kNotFound, "merchant account is disabled");
  return merchant;
}

Result<PreparedPayIn> Service::prepare_pay_in(const Fields& f, std::string_view remote_ip) const {
  auto req = validate_pay_in(f);
  if (!req.ok()) return req.error();
  auto authenticated = authenticate(req->app_key, req->sign, &pay_in_signing_string, f, remote_ip);
  if (!authenticated.ok()) return authenticated.error();
  const storage::MerchantRef merchant = std::move(*authenticated);
  PG_TRY(check_callback_url(req->callback_url, config_.allow_private_targets));

  const std::string fingerprint =
      request_fingerprint(f, {"amount", "appKey", "callbackUrl", "channelId", "mrn", "returnUrl"});
  // See PreparedPayIn::refused.
  auto refuse_unless_retry = [&](Error e) -> Result<PreparedPayIn> {
    PreparedPayIn p;
    p.payin.merchant_id = merchant->id;
    p.payin.mrn = req->mrn;
    p.payin.request_fingerprint = fingerprint;
    p.refused = std::move(e);
    return p;
  };
  auto channel = catalog_.merchant_channel(merchant->id, req->channel_id);
  if (!channel || !channel->enabled) {
    return refuse_unless_retry(
        invalid("channelId " + channel_label(req->channel_id) + " is not enabled for this merchant"));
  }
  const auto* processor = processors_.find(channel->processor);
  if (processor == nullptr) {
    return refuse_unless_retry(
        invalid("channelId " + channel_label(req->channel_id) + " is not available at the moment"));
  }
  if (channel->min_amount.is_positive() && req->amount < channel->min_amount) {
    return refuse_unless_retry(invalid("amount " + format_yuan(req->amount) + " is below the minimum of channel " +
                                       channel_label(req->channel_id) + ": " + format_yuan(channel->min_amount)));
  }
  if (channel->max_amount.is_positive() && req->amount > channel->max_amount) {
    return refuse_unless_retry(invalid("amount " + format_yuan(req->amount) + " is above the maximum of channel " +
                                       channel_label(req->channel_id) + ": " + format_yuan(channel->max_amount)));
  }

  int64_t now_ms = clock_.now_unix_ms();
  PreparedPayIn p;
  auto& o = p.payin;
  o.merchant_id = merchant->id;
  o.mrn = req->mrn;
  o.channel_id = req->channel_id;
  o.amount = req->amount;
  o.amount_text = req->amount_text;
  o.callback_url = req->callback_url;
  o.return_url = req->return_url;
  o.payer = req->payer;
  o.request_fingerprint = fingerprint;
  o.processor = std::string(processor->name());
  o.fee_rate = channel->fee_rate;
  o.state = orders::PayInState::kWaiting;
  o.message = "waiting for the customer";
  o.expires_at_ms = now_ms + config_.payment_expiry_ms;
  o.created_at_ms = now_ms;
  o.updated_at_ms = now_ms;
  return p;
}

Result<PayInAnswer> Service::commit_pay_in(storage::Tx& tx, const PreparedPayIn& p, Random& random) {
  const auto& in = p.payin;
  auto answer_existing = [&](const orders::PayIn& existing) -> Result<PayInAnswer> {
    if (existing.request_fingerprint == in.request_fingerprint) return PayInAnswer{existing, true};
    // A pay-in answer has no code member (payouts carry `"error":"mrn_duplication"`): DECISIONS.md names the
    // gateway's duplicate error for both, so the message leads with it.
    return make_error(ErrorCode::kAlreadyExists, "mrn_duplication: " + mrn_taken("pay-in", in.mrn));
  };
  if (p.refused) {
    if (auto existing = tx.payin(in.merchant_id, in.mrn)) return answer_existing(*existing);
    return *p.refused;
  }
  // Insert first: an mrn seen before is the rare case, and both engines report it ahead of an id collision.
  orders::PayIn payin = in;
  for (int attempt = 0; attempt < 3; ++attempt) {
    payin.id = new_payment_id(in.created_at_ms, random);
    auto st = tx.insert_payin(payin);
    if (st.ok()) return PayInAnswer{payin, false};
    if (st.error().message == "duplicate mrn") {
      // A retry, another request with this mrn, or (PostgreSQL) a concurrent one just committed.
      if (auto existing = tx.payin(in.merchant_id, in.mrn)) return answer_existing(*existing);
      return st.error();
    }
    if (st.error().message != "payment id collision") return st.error();
  }
  return make_error(ErrorCode::kUnavailable, "could not allocate a payment id, retry");
}

Result<PreparedPayout> Service::prepare_payout(const Fields& f, std::string_view remote_ip) const {
  auto req = validate_payout(f);
  if (!req.ok()) return req.error();
  auto authenticated = authenticate(req->app_key, req->sign, &payout_signing_string, f, remote_ip);
  if (!authenticated.ok()) return authenticated.error();
  const storage::MerchantRef merchant = std::move(*authenticated);
  PG_TRY(check_callback_url(req->callback_url, config_.allow_private_targets));

  int64_t now_ms = clock_.now_unix_ms();
  PreparedPayout p;
  auto& o = p.payout;
  o.merchant_id = merchant->id;
  o.mrn = req->mrn;
  o.amount = req->amount;
  o.amount_text = req->amount_text;
  o.fee = merchant->payout_fee;
  o.bank_name = req->bank_name;
  o.account_name = req->account_name;
  o.account_number = req->account_number;
  o.callback_url = req->callback_url;
  o.request_fingerprint = request_fingerprint(
      f, {"accountName", "accountNumber", "amount", "appKey", "bankName", "callbackUrl", "mrn"});
  if (merchant->payout_manual_approval) {
    o.state = orders::PayoutState::kApproval;
    o.message = "waiting for approval";
  } else {
    o.state = orders::PayoutState::kProcessing;
    o.message = "processing";
  }
  o.process_after_ms = now_ms + config_.payout_delay_ms;
  o.created_at_ms = now_ms;
  o.updated_at_ms = now_ms;
  return p;
}

void Service::seal_ahead(PreparedPayout& p, Random& random) const {
  p.sealed = storage::seal_account(store_.box(), new_payout_id(p.payout.created_at_ms, random), p.payout.account_number);
}

Result<PayoutAnswer> Service::commit_payout(storage::Tx& tx, const PreparedPayout& p, Random& random) {
  const auto& in = p.payout;
  auto answer_existing = [&](const orders::Payout& existing) -> Result<PayoutAnswer> {
    if (existing.request_fingerprint == in.request_fingerprint) return PayoutAnswer{existing, true};
    return make_error(ErrorCode::kAlreadyExists, mrn_taken("payout", in.mrn));
  };
  // Insert first, as for pay-ins; the hold is taken only once the payout is in.
  orders::Payout payout = in;
  bool inserted = false;
  for (int attempt = 0; attempt < 3 && !inserted; ++attempt) {
    const bool sealed_ahead = attempt == 0 && !p.sealed.payout_id.value().empty();
    payout.id = sealed_ahead ? p.sealed.payout_id : new_payout_id(in.created_at_ms, random);
    auto st = tx.insert_payout(payout, p.sealed);
    if (st.ok()) {
      inserted = true;
    } else if (st.error().message == "duplicate mrn") {
      if (auto existing = tx.payout(in.merchant_id, in.mrn)) return answer_existing(*existing);
      return st.error();
    } else if (st.error().message != "payout id collision") {
      return st.error();
    }
  }
  if (!inserted) return make_error(ErrorCode::kUnavailable, "could not allocate a payout id, retry");
  // The hold. A refusal fails the request, which rolls its insert back with it.
  auto held = tx.post(ledger::payout_reserve(payout.merchant_id, payout.id, payout.amount, payout.fee), in.created_at_ms);
  if (!held.ok()) {
    if (held.error().code != ErrorCode::kFailedPrecondition) return held.error();
    Money available = tx.balance(ledger::merchant_available(payout.merchant_id).code);
    std::string needed = format_yuan(*payout.amount.checked_add(payout.fee));
    return make_error(ErrorCode::kFailedPrecondition,
                      "insufficient balance: the payout needs " + needed +
                          (payout.fee.is_positive() ? " (amount " + format_yuan(payout.amount) + " plus fee " +
                                                          format_yuan(payout.fee) + ")"
                                                    : std::string()) +
                          ", the available balance is " + format_yuan(available));
  }
  return PayoutAnswer{payout, false};
}

Result<Service::FoundPayIn> Service::find_pay_in(const Fields& f, std::string_view remote_ip) const {
  auto req = validate_query(f);
  if (!req.ok()) return req.error();
  auto authenticated = authenticate(req->app_key, req->sign, &query_signing_string, f, remote_ip);
  if (!authenticated.ok()) return authenticated.error();
  const storage::MerchantRef merchant = std::move(*authenticated);
  auto payin = store_.read()->payin(merchant->id, req->mrn);
  if (!payin) return make_error(ErrorCode::kNotFound, "no pay-in with mrn " + req->mrn);
  return FoundPayIn{*payin, req->callback};
}

Result<Service::FoundPayout> Service::find_payout(const Fields& f, std::string_view remote_ip) const {
  auto req = validate_query(f);
  if (!req.ok()) return req.error();
  auto authenticated = authenticate(req->app_key, req->sign, &query_signing_string, f, remote_ip);
  if (!authenticated.ok()) return authenticated.error();
  const storage::MerchantRef merchant = std::move(*authenticated);
  auto payout = store_.read()->payout(merchant->id, req->mrn);
  if (!payout) return make_error(ErrorCode::kNotFound, "no payout with mrn " + req->mrn);
  return FoundPayout{*payout, req->callback};
}

// ---- write-side steps ----

Result<orders::PayIn> complete_pay_in(storage::Tx& tx, const PaymentId& id, const orders::PayInOutcome& outcome,
                                      int64_t now_ms, const notify::ScheduleConfig& schedule) {
  auto payin = tx.payin_by_id(id);  // locked to the end of the transaction
  if (!payin) return make_error(ErrorCode::kNotFound, "no payment " + id.value());
  // Past its expiry a payment cannot be paid any more, even if the expiry job has not marked it yet.
  if (payin->state == orders::PayInState::kWaiting && now_ms >= payin->expires_at_ms &&
      outcome.kind == orders::PayInOutcome::Kind::kPaid) {
    return make_error(ErrorCode::kFailedPrecondition, "payment " + id.value() + " has expired");
  }
  auto next = orders::apply_payin_outcome(*payin, outcome, now_ms);
  if (!next.ok()) return next.error();
  tx.update_payin(*next);
  if (next->state == orders::PayInState::kPaid) {
    PG_TRY(tx.post(ledger::gateway_payin(next->merchant_id, next->id, next->paid, next->fee), now_ms));
    enqueue_pay_in_callback(tx, *next, now_ms, schedule);
  }
  return *next;
}

size_t expire_pay_ins(storage::Tx& tx, int64_t now_ms, size_t limit) {
  auto due = tx.payins_expired(now_ms, limit);
  for (const auto& p : due) {
    auto next = orders::apply_payin_outcome(p, {orders::PayInOutcome::Kind::kExpired, {}, {}}, now_ms);
    PG_ASSERT(next.ok(), "a waiting pay-in could not expire");
    tx.update_payin(*next);
  }
  return due.size();
}

bool requeue_pay_in_callback(storage::Tx& tx, const PaymentId& id, int64_t now_ms,
                             const notify::ScheduleConfig& schedule) {
  auto payin = tx.payin_by_id(id);
  if (!payin || payin->state != orders::PayInState::kPaid) return false;
  enqueue_pay_in_callback(tx, *payin, now_ms, schedule);
  return true;
}

namespace {
Status finish_payout(storage::Tx& tx, const orders::Payout& p, orders::PayoutState state, const std::string& message,
                     int64_t now_ms, const notify::ScheduleConfig& schedule) {
  PG_ASSERT(orders::is_final(state), "finishing a payout into a state that is not final");
  orders::Payout next = p;
  next.state = state;
  next.message = message;
  next.finished_at_ms = now_ms;
  next.updated_at_ms = now_ms;
  tx.update_payout(next);
  if (state == orders::PayoutState::kPaid) {
    PG_TRY(tx.post(ledger::payout_paid(p.merchant_id, p.id, p.amount, p.fee), now_ms));
    enqueue_payout_callback(tx, next, now_ms, schedule);
  } else {
    PG_TRY(tx.post(ledger::payout_refund(p.merchant_id, p.id, p.amount, p.fee), now_ms));
  }
  return ok_status();
}
}  // namespace

size_t process_due_payouts(storage::Tx& tx, const processors::BankProcessor& bank, int64_t now_ms, size_t limit,
                           const notify::ScheduleConfig& schedule) {
  auto due = tx.payouts_due(now_ms, limit);
  for (const auto& p : due) {
    auto decision = bank.decide(p);
    auto st = finish_payout(tx, p, decision.paid ? orders::PayoutState::kPaid : orders::PayoutState::kFailed,
                            decision.message, now_ms, schedule);
    // The reserve holds exactly amount + fee for every processing payout (the ledger check verifies it).
    PG_ASSERT(st.ok(), "a payout's reserve did not cover it");
  }
  return due.size();
}

Result<orders::Payout> approve_payout(storage::Tx& tx, const PayoutId& id, int64_t now_ms, int64_t delay_ms) {
  auto p = tx.payout_by_id(id);
  if (!p) return make_error(ErrorCode::kNotFound, "no payout " + id.value());
  if (p->state != orders::PayoutState::kApproval) {
    return make_error(ErrorCode::kFailedPrecondition, "payout " + id.value() + " is " +
                                                          std::string(orders::payout_state_name(p->state)) +
                                                          ", not waiting for approval");
  }
  p->state = orders::PayoutState::kProcessing;
  p->message = "approved";
  p->process_after_ms = now_ms + delay_ms;
  p->updated_at_ms = now_ms;
  tx.update_payout(*p);
  return *p;
}

Result<orders::Payout> reject_payout(storage::Tx& tx, const PayoutId& id, const std::string& reason, int64_t now_ms) {
  auto p = tx.payout_by_id(id);
  if (!p) return make_error(ErrorCode::kNotFound, "no payout " + id.value());
  if (p->state != orders::PayoutState::kApproval) {
    return make_error(ErrorCode::kFailedPrecondition, "payout " + id.value() + " is " +
                                                          std::string(orders::payout_state_name(p->state)) +
                                                          ", not waiting for approval");
  }
  PG_TRY(finish_payout(tx, *p, orders::PayoutState::kRejected, reason.empty() ? "rejected by the operator" : reason,
                       now_ms, notify::ScheduleConfig{}));
  return *tx.payout_by_id(id);
}

bool requeue_payout_callback(storage::Tx& tx, const PayoutId& id, int64_t now_ms,
                             const notify::ScheduleConfig& schedule) {
  auto p = tx.payout_by_id(id);
  if (!p || p->state != orders::PayoutState::kPaid) return false;
  enqueue_payout_callback(tx, *p, now_ms, schedule);
  return true;
}

}  // namespace paygate::gateway
