#include "protocols/cashier/service.h"

#include <algorithm>

#include "crypto/crypto.h"
#include "http/client.h"
#include "http/http.h"
#include "http/ip_allowlist.h"
#include "notify/outbox.h"
#include "ledger/ledger.h"

namespace paygate::cashier {
namespace {

using orders::CashierOrder;
using orders::CashierState;

Error invalid(std::string msg) { return make_error(ErrorCode::kInvalidArgument, std::move(msg)); }
Error precondition(std::string msg) { return make_error(ErrorCode::kFailedPrecondition, std::move(msg)); }

// The business fields of a request, for the identical-retry rule: everything validated, in a fixed order.
std::string request_fingerprint(const PayRequest& r) {
  std::string s;
  for (const std::string& v : {std::string(action_name(r.action)), std::to_string(r.amount.fen()),
                               std::to_string(r.merchant_id.value()), r.order_id, r.back_url, r.front_url,
                               r.acc_name, r.acc_no}) {
    s += v;
    s += '\x1f';
  }
  return crypto::sha256_hex(s);
}

Status check_url_target(std::string_view name, std::string_view url, bool allow_private_targets) {
  if (allow_private_targets || url.empty()) return ok_status();
  auto parsed = http::parse_url(url);
  if (!parsed.ok()) return invalid(std::string(name) + " must be an absolute http:// or https:// URL");
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(parsed->host, ec);
  if (!ec && http::is_forbidden_target(addr)) {
    return invalid(std::string(name) +
                   " points to a private, loopback or link-local address, which this platform does not call");
  }
  return ok_status();
}

storage::Merchant merchant_of(storage::Tx& tx, MerchantId id) {
  auto m = tx.merchant(id);
  PG_ASSERT(m.has_value(), "cashier order without its merchant");
  return *m;
}

void enqueue_back_notify(storage::Tx& tx, const CashierOrder& o, int64_t now_ms, const Config& config) {
  auto merchant = merchant_of(tx, o.merchant_id);
  storage::Notification n;
  n.merchant_id = o.merchant_id;
  n.protocol = "cashier";
  n.order_ref = o.id.value();
  n.url = o.backurl;
  n.content_type = "application/x-www-form-urlencoded";
  n.body = envelope_form(seal(back_notify_json(view_of(o), config.utc_offset_minutes), merchant.sign_key));
  n.schedule = std::string(notify::kCashierSchedule);
  n.attempts_max = kBackNotifyAttemptsMax;
  n.next_attempt_at_ms = now_ms;
  n.created_at_ms = now_ms;
  n.updated_at_ms = now_ms;
  notify::enqueue_newest(tx, std::move(n));
}

Money net_of(const CashierOrder& o) { return *o.amount.checked_sub(o.fee); }

// Moves the order's net between two of its merchant's accounts (nothing to move when the fee took it all).
Status move_net(storage::Tx& tx, std::string_view kind, const CashierOrder& o, const ledger::Account& from,
                const ledger::Account& to, int64_t now_ms) {
  Money net = net_of(o);
  if (!net.is_positive()) return ok_status();
  return tx.post(ledger::cashier_move(kind, o.id, from, to, net), now_ms);
}

ledger::Account account_of(MerchantId m, CashierState s) {
  switch (s) {
    case CashierState::kPending: return ledger::merchant_pending(m);
    case CashierState::kHeld: return ledger::merchant_frozen(m);
    default: return ledger::merchant_available(m);
  }
}

std::string state_says(const CashierOrder& o) {
  return "order " + o.id.value() + " is " + std::string(orders::cashier_state_name(o.state)) + " (" +
         std::string(orders::cashier_result_code(o.state)) + ")";
}

}  // namespace

std::optional<Action> method_of_channel(int channel_id) {
  for (const auto& m : kMethods) {
    if (m.channel_id == channel_id) return m.action;
  }
  return std::nullopt;
}

int channel_of(Action method) {
  for (const auto& m : kMethods) {
    if (m.action == method) return m.channel_id;
  }
  PG_ASSERT(false, "Arbi has no channel");
  return 0;
}

std::optional<Outcome> parse_outcome(std::string_view text) {
  if (text == "success") return Outcome::kSettle;
  if (text == "fail") return Outcome::kFailed;
  if (text == "0000") return Outcome::kPaid;
  if (text == "1002") return Outcome::kPending;
  if (text == "1003") return Outcome::kFailed;
  if (text == "1004") return Outcome::kHeld;
  return std::nullopt;
}

TxnView view_of(const CashierOrder& o) {
  TxnView v;
  switch (o.state) {
    case CashierState::kUnpaid: v.result = ResultCode::kUnpaid; break;
    case CashierState::kPaid: v.result = ResultCode::kPaid; break;
    case CashierState::kPending: v.result = ResultCode::kPaidPending; break;
    case CashierState::kFailed: v.result = ResultCode::kFailed; break;
    case CashierState::kHeld: v.result = ResultCode::kHeld; break;
  }
  v.result_msg = o.message;
  v.query_id = o.id.value();
  v.amount = o.amount;
  v.merid = std::to_string(o.merchant_id.value());
  v.order_id = o.orderid;
  v.paid_at_ms = o.paid_at_ms;
  return v;
}

std::string mask_id_number(std::string_view number) {
  if (number.size() <= 8) return std::string(number.size(), '*');
  return std::string(number.substr(0, 4)) + std::string(number.size() - 8, '*') +
         std::string(number.substr(number.size() - 4));
}

CashierId new_cashier_id(int64_t now_ms, Random& random) {
  return CashierId{"Q" + std::to_string(now_ms) + random.alnum(12)};
}

Service::Service(storage::Store& store, const Clock& clock, Config config)
    : store_(store), catalog_(store, clock, config.catalog_cache_ttl_ms), clock_(clock), config_(config) {}

std::vector<Action> Service::enabled_methods(MerchantId merchant) const {
  std::vector<Action> out;
  for (const auto& m : kMethods) {
    auto ch = catalog_.merchant_channel(merchant, m.channel_id);
    if (ch && ch->enabled) out.push_back(m.action);
  }
  return out;
}

Result<PreparedPay> Service::prepare_pay(const Fields& form, Refusal* refusal, std::string_view remote_ip) const {
  auto refuse = [&](Error e, std::string key = {}, bool echo_request = true) -> Result<PreparedPay> {
    if (refusal) *refusal = Refusal{e, std::move(key), echo_request};
    return e;
  };
  auto envelope = open_envelope(form);
  if (!envelope.ok()) return refuse(envelope.error());
  auto req = validate_pay(envelope->fields);
  // The merchant first when the id is readable, so that even a refusal of a field is signed (DECISIONS.md: the sign
  // is empty only when the merchant could not be identified).
  auto merid = parse_merid(field(envelope->fields, "merid"));
  storage::MerchantRef merchant;
  if (merid.ok()) merchant = catalog_.merchant(*merid);
  if (!merchant) {
    if (!req.ok()) return refuse(req.error());
    return refuse(make_error(ErrorCode::kNotFound, "unknown merid " + std::to_string(req->merchant_id.value())));
  }
  if (auto sig = check_signature(*envelope, merchant->sign_key); !sig.ok()) {
    return refuse(sig.error(), merchant->sign_key, /*echo_request=*/false);
  }
  const std::string& key = merchant->sign_key;
  if (!http::ip_allowed(merchant->api_ip_allowlist, remote_ip)) {
    return refuse(make_error(ErrorCode::kUnauthenticated, http::ip_not_allowed_message(remote_ip)), key);
  }
  if (!req.ok()) return refuse(req.error(), key);
  if (!merchant->enabled) return refuse(make_error(ErrorCode::kNotFound, "merchant account is disabled"), key);
  if (!config_.sandbox) {
    return refuse(make_error(ErrorCode::kUnavailable, "no payment processor is available at the moment"), key);
  }
  if (auto st = check_url_target("backurl", req->back_url, config_.allow_private_targets); !st.ok()) {
    return refuse(st.error(), key);
  }

  // See PreparedPay::refused.
  auto refuse_unless_retry = [&](Error e) -> Result<PreparedPay> {
    if (refusal) *refusal = Refusal{e, key};
    PreparedPay p;
    p.merchant_key = key;
    p.order.merchant_id = merchant->id;
    p.order.orderid = req->order_id;
    p.order.request_fingerprint = request_fingerprint(*req);
    p.refused = std::move(e);
    return p;
  };
  auto methods = enabled_methods(merchant->id);
  RatePermille fee_rate;
  if (req->action == Action::kArbi) {
    if (methods.size() < 2) {
      return refuse_unless_retry(
          invalid("action Arbi lets the customer choose among two or more payment methods; this merchant has " +
                  std::to_string(methods.size()) + " enabled"));
    }
  } else {
    if (std::find(methods.begin(), methods.end(), req->action) == methods.end()) {
      return refuse_unless_retry(invalid("action " + std::string(action_name(req->action)) +
                                         " is not enabled for this merchant (需提前开交易权限)"));
    }
    fee_rate = catalog_.merchant_channel(merchant->id, channel_of(req->action))->fee_rate;
  }
  if (req->bound_card() && !merchant->bound_card_allowed) {
    return refuse_unless_retry(invalid("bound-card payment (accname + accno) is not enabled for this merchant"));
  }

  int64_t now_ms = clock_.now_unix_ms();
  PreparedPay p;
  p.merchant_key = key;
  auto& o = p.order;
  o.merchant_id = merchant->id;
  o.orderid = req->order_id;
  o.action = std::string(action_name(req->action));
  o.method = req->action == Action::kArbi ? std::string() : o.action;
  o.amount = req->amount;
  o.backurl = req->back_url;
  o.fronturl = req->front_url;
  o.accname = req->acc_name;
  o.accno = req->acc_no;
  o.request_fingerprint = request_fingerprint(*req);
  o.state = CashierState::kUnpaid;
  o.fee_rate = fee_rate;
  o.message = std::string(default_result_message(ResultCode::kUnpaid));
  o.expires_at_ms = now_ms + config_.order_expiry_ms;
  o.created_at_ms = now_ms;
  o.updated_at_ms = now_ms;
  return p;
}

Result<PayAnswer> Service::commit_pay(storage::Tx& tx, const PreparedPay& p, Random& random) {
  const auto& in = p.order;
  auto answer_existing = [&](const CashierOrder& existing) -> Result<PayAnswer> {
    if (existing.request_fingerprint == in.request_fingerprint) return PayAnswer{existing, true};
    return make_error(ErrorCode::kAlreadyExists,
                      "duplicate orderid: " + in.orderid +
                          " was already used with other fields; an identical retry gets the first order");
  };
  if (auto existing = tx.cashier_order(in.merchant_id, in.orderid)) return answer_existing(*existing);
  if (p.refused) return *p.refused;
  CashierOrder order = in;
  for (int attempt = 0; attempt < 3; ++attempt) {
    order.id = new_cashier_id(in.created_at_ms, random);
    auto st = tx.insert_cashier_order(order);
    if (st.ok()) return PayAnswer{order, false};
    if (st.error().message == "duplicate orderid") {
      if (auto existing = tx.cashier_order(in.merchant_id, in.orderid)) return answer_existing(*existing);
      return st.error();
    }
    if (st.error().message != "cashier id collision") return st.error();
  }
  return make_error(ErrorCode::kUnavailable, "could not allocate an order id, retry");
}

std::string Service::query(const Fields& form, std::string_view remote_ip) const {
  auto answer = [](RespCode code, std::string_view msg, const std::string& key) {
    auto json = query_error_json(code, msg);
    return envelope_json(key.empty() ? seal_unsigned(json) : seal(json, key));
  };
  auto envelope = open_envelope(form);
  if (!envelope.ok()) return answer(RespCode::kBadRequest, envelope.error().message, "");
  auto merid = parse_merid(field(envelope->fields, "merid"));
  if (!merid.ok()) return answer(RespCode::kBadRequest, merid.error().message, "");
  auto merchant = catalog_.merchant(*merid);
  if (!merchant) return answer(RespCode::kUnknownMerchant, "unknown merid " + std::to_string(merid->value()), "");
  // Signed, as every answer once the merchant is known (DECISIONS.md); a query's failure holds nothing the
  // request chose.
  if (auto sig = check_signature(*envelope, merchant->sign_key); !sig.ok()) {
    return answer(RespCode::kBadSign, sig.error().message, merchant->sign_key);
  }
  const std::string& key = merchant->sign_key;
  if (!http::ip_allowed(merchant->api_ip_allowlist, remote_ip)) {
    return answer(RespCode::kBadSign, http::ip_not_allowed_message(remote_ip), key);
  }
  if (!merchant->enabled) return answer(RespCode::kUnknownMerchant, "merchant account is disabled", key);
  auto req = validate_query(envelope->fields);
  if (!req.ok()) return answer(RespCode::kBadRequest, req.error().message, key);
  std::optional<CashierOrder> order;
  try {
    auto tx = store_.read();
    if (!req->query_id.empty()) {
      order = tx->cashier_order_by_id(CashierId{req->query_id});
      if (order && order->merchant_id != merchant->id) order.reset();
    } else {
      order = tx->cashier_order(merchant->id, req->order_id);
    }
  } catch (const std::exception&) {
    return answer(RespCode::kBusy, "the platform cannot answer now; query again later", key);
  }
  if (!order) {
    return answer(RespCode::kNotFound,
                  req->query_id.empty() ? "no order with orderid " + req->order_id
                                        : "no order with queryid " + req->query_id,
                  key);
  }
  return envelope_json(seal(query_ok_json(view_of(*order), config_.utc_offset_minutes), key));
}

// ---- write-side steps ----

Result<CashierOrder> complete_order(storage::Tx& tx, const CashierId& id, Outcome outcome, std::optional<Action> method,
                                    int64_t now_ms, const Config& config) {
  auto o = tx.cashier_order_by_id(id);
  if (!o) return make_error(ErrorCode::kNotFound, "no cashier order " + id.value());
  if (o->state != CashierState::kUnpaid) return precondition(state_says(*o));
  if (outcome != Outcome::kFailed && now_ms >= o->expires_at_ms) {
    return precondition("order " + id.value() + " has expired");
  }
  auto merchant = merchant_of(tx, o->merchant_id);
  CashierOrder next = *o;
  next.updated_at_ms = now_ms;
  if (outcome == Outcome::kFailed) {
    next.state = CashierState::kFailed;
    next.message = std::string(default_result_message(ResultCode::kFailed));
    tx.update_cashier_order(next);
    enqueue_back_notify(tx, next, now_ms, config);
    return next;
  }
  // The method paid with: the order's own, or for Arbi the customer's choice among the enabled ones.
  Action paid_with;
  if (o->action == "Arbi") {
    if (!method || *method == Action::kArbi) return invalid("choose how to pay: WeiXin, AliPay or Bank");
    paid_with = *method;
  } else {
    auto own = parse_action(o->action);
    PG_ASSERT(own.ok(), "stored action unreadable");
    if (method && *method != *own) {
      return invalid("this order is paid with " + o->action + ", not " + std::string(action_name(*method)));
    }
    paid_with = *own;
  }
  auto channel = tx.merchant_channel(o->merchant_id, channel_of(paid_with));
  if (!channel || !channel->enabled) {
    return invalid("payment method " + std::string(action_name(paid_with)) + " is not enabled for this merchant");
  }
  next.method = std::string(action_name(paid_with));
  if (o->action == "Arbi") next.fee_rate = channel->fee_rate;
  next.fee = apply_rate_half_up(o->amount, next.fee_rate);
  next.paid_at_ms = now_ms;
  switch (outcome) {
    case Outcome::kSettle:
      next.state = merchant.settlement_delay_days > 0 ? CashierState::kPending : CashierState::kPaid;
      break;
    case Outcome::kPaid: next.state = CashierState::kPaid; break;
    case Outcome::kPending: next.state = CashierState::kPending; break;
    case Outcome::kHeld:
      next.state = CashierState::kHeld;
      next.held_from = CashierState::kPaid;
      break;
    case Outcome::kFailed: PG_ASSERT(false, "handled above"); break;
  }
  if (next.state == CashierState::kPending) {
    next.settle_after_ms = now_ms + int64_t{merchant.settlement_delay_days} * 86'400'000;
  }
  ResultCode code = view_of(next).result;
  next.message = std::string(default_result_message(code));
  tx.update_cashier_order(next);
  PG_TRY(tx.post(ledger::cashier_pay(next.id, account_of(next.merchant_id, next.state), next.amount, next.fee), now_ms));
  enqueue_back_notify(tx, next, now_ms, config);
  return next;
}

size_t expire_orders(storage::Tx& tx, int64_t now_ms, size_t limit, const Config& config) {
  auto due = tx.cashier_orders_expired(now_ms, limit);
  for (auto o : due) {
    o.state = CashierState::kFailed;
    o.message = "expired: not paid in time";
    o.updated_at_ms = now_ms;
    tx.update_cashier_order(o);
    enqueue_back_notify(tx, o, now_ms, config);
  }
  return due.size();
}

size_t settle_due(storage::Tx& tx, int64_t due_by_ms, int64_t now_ms, size_t limit, const Config& config) {
  auto due = tx.cashier_orders_to_settle(due_by_ms, limit);
  // Merchant by merchant, in id order: a settlement touches only its merchant's own accounts, so two nodes settling
  // orders of the same merchants lock them in the same order instead of deadlocking.
  std::sort(due.begin(), due.end(), [](const CashierOrder& a, const CashierOrder& b) {
    return std::pair(a.merchant_id.value(), a.id.value()) < std::pair(b.merchant_id.value(), b.id.value());
  });
  for (auto o : due) {
    auto st = move_net(tx, ledger::kCashierSettle, o, ledger::merchant_pending(o.merchant_id),
                       ledger::merchant_available(o.merchant_id), now_ms);
    // The pending account holds every pending order's net (the ledger check verifies it).
    PG_ASSERT(st.ok(), "a pending order's funds were not in the pending balance");
    o.state = CashierState::kPaid;
    o.message = std::string(default_result_message(ResultCode::kPaid));
    o.updated_at_ms = now_ms;
    tx.update_cashier_order(o);
    enqueue_back_notify(tx, o, now_ms, config);
  }
  return due.size();
}

Result<CashierOrder> hold_order(storage::Tx& tx, const CashierId& id, const std::string& reason, int64_t now_ms,
                                const Config& config) {
  auto o = tx.cashier_order_by_id(id);
  if (!o) return make_error(ErrorCode::kNotFound, "no cashier order " + id.value());
  if (o->state != CashierState::kPaid && o->state != CashierState::kPending) {
    return precondition(state_says(*o) + ": only a paid order (0000 or 1002) can be held");
  }
  auto moved = move_net(tx, ledger::kCashierHold, *o, account_of(o->merchant_id, o->state),
                        ledger::merchant_frozen(o->merchant_id), now_ms);
  if (!moved.ok()) {
    return precondition("order " + id.value() + " cannot be held: its funds could not move to frozen (" +
                        moved.error().message + "; already paid out?)");
  }
  CashierOrder next = *o;
  next.held_from = o->state;
  next.state = CashierState::kHeld;
  next.message = reason.empty() ? std::string(default_result_message(ResultCode::kHeld)) : reason;
  next.updated_at_ms = now_ms;
  tx.update_cashier_order(next);
  enqueue_back_notify(tx, next, now_ms, config);
  return next;
}

Result<CashierOrder> release_order(storage::Tx& tx, const CashierId& id, bool to_merchant, const std::string& reason,
                                   int64_t now_ms, const Config& config) {
  auto o = tx.cashier_order_by_id(id);
  if (!o) return make_error(ErrorCode::kNotFound, "no cashier order " + id.value());
  if (o->state != CashierState::kHeld) return precondition(state_says(*o) + ", not held");
  CashierOrder next = *o;
  next.updated_at_ms = now_ms;
  if (to_merchant) {
    PG_TRY(move_net(tx, ledger::kCashierRelease, *o, ledger::merchant_frozen(o->merchant_id),
                    ledger::merchant_available(o->merchant_id), now_ms));
    next.state = CashierState::kPaid;
    next.message = reason.empty() ? std::string(default_result_message(ResultCode::kPaid)) : reason;
  } else {
    PG_TRY(tx.post(ledger::cashier_return(o->merchant_id, o->id, o->amount, o->fee), now_ms));
    next.state = CashierState::kFailed;
    next.message = reason.empty() ? "returned to the payer" : reason;
  }
  tx.update_cashier_order(next);
  enqueue_back_notify(tx, next, now_ms, config);
  return next;
}

}  // namespace paygate::cashier
