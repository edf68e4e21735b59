#include "protocols/consign/service.h"

#include <array>

#include "base/limits.h"
#include "base/text.h"
#include "crypto/card_password.h"
#include "http/client.h"
#include "http/http.h"
#include "http/ip_allowlist.h"

namespace paygate::consign {
namespace {

Error invalid(std::string msg) { return make_error(ErrorCode::kInvalidArgument, std::move(msg)); }

// The business fields of a submission: every signed field but the timestamp (DECISIONS.md). The encrypted
// password is compared case-insensitively: upper- and lowercase hex are the same value. Stored with each order, so
// these bytes must stay as they are; built in one allocation.
std::string request_fingerprint(const Fields& f) {
  static constexpr std::array<std::string_view, 7> kNames = {"customerId", "orderId",   "batchno",  "productCode",
                                                             "cardNumber", "faceMoney", "notifyUrl"};
  std::array<std::string_view, kNames.size()> values;
  const std::string_view password = field(f, "cardPassword");
  size_t bytes = password.size();
  for (size_t i = 0; i < kNames.size(); ++i) {
    values[i] = field(f, kNames[i]);
    bytes += values[i].size() + 1;
  }
  std::string s;
  s.reserve(bytes);
  for (std::string_view v : values) {
    s += v;
    s += '\x1f';
  }
  for (char c : password) s += ascii_lower(c);
  return crypto::sha256_hex(s);
}

Status check_notify_url(std::string_view url, bool allow_private_targets) {
  if (url.size() > limits::kNotifyUrlLengthMax) return invalid("notifyUrl is longer than 1024 characters");
  auto parsed = http::parse_url(url);
  if (!parsed.ok()) return invalid("notifyUrl must be an absolute http:// or https:// URL: " + parsed.error().message);
  if (!allow_private_targets) {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(parsed->host, ec);
    if (!ec && http::is_forbidden_target(addr)) {
      return invalid("notifyUrl points to a private, loopback or link-local address, which this platform does not call");
    }
  }
  return ok_status();
}

}  // namespace

SysOrderId new_sys_order_id(int64_t now_ms, Random& random) {
  std::string digits = std::to_string(random.uniform(1'000'000));
  return SysOrderId{"C" + std::to_string(now_ms) + std::string(6 - digits.size(), '0') + digits};
}

Service::Service(storage::Store& store, std::shared_ptr<const crypto::SecretBox> box, const Clock& clock, Config config)
    : store_(store), catalog_(store, clock, config.catalog_cache_ttl_ms), box_(std::move(box)), clock_(clock),
      config_(config) {}

Result<storage::MerchantRef> Service::authenticate(const Fields& f, bool submit, std::string_view remote_ip) const {
  auto customer_id = parse_int64_strict(field(f, "customerId"));
  if (!customer_id) return invalid("customerId must be the numeric merchant id");
  auto merchant = catalog_.merchant(MerchantId{*customer_id});
  if (!merchant) return make_error(ErrorCode::kUnauthenticated, "unknown customerId " + std::string(field(f, "customerId")));
  std::string signing = submit ? submit_signing_string(f, merchant->sign_key) : query_signing_string(f, merchant->sign_key);
  if (!signature_matches(field(f, "sign"), signing)) {
    return make_error(ErrorCode::kUnauthenticated,
                      "bad sign: expected MD5 (upper-case hex) of the fields in the documented order followed by "
                      "&key=<your signing key>");
  }
  if (!http::ip_allowed(merchant->api_ip_allowlist, remote_ip)) {
    return make_error(ErrorCode::kUnauthenticated, http::ip_not_allowed_message(remote_ip));
  }
  if (!merchant->enabled) return make_error(ErrorCode::kFailedPrecondition, "merchant account is disabled");
  auto ts = parse_int64_strict(field(f, "timestamp"));
  if (!ts) return invalid("timestamp must be Unix time in seconds");
  int64_t skew_s = *ts - clock_.now_unix_s();
  if (skew_s > config_.timestamp_skew_s || skew_s < -config_.timestamp_skew_s) {
    return invalid("timestamp is more than " + std::to_string(config_.timestamp_skew_s) +
                   " seconds away from server time " + std::to_string(clock_.now_unix_s()));
  }
  return merchant;
}

Result<PreparedSubmit> Service::prepare_submit(const Fields& f, std::string_view remote_ip) const {
  for (const char* name : {"customerId", "timestamp", "orderId", "productType", "batchno", "productCode",
                           "cardPassword", "faceMoney", "sign"}) {
    if (field(f, name).empty()) return invalid(std::string("missing required field ") + name);
  }
  auto authenticated = authenticate(f, true, remote_ip);
  if (!authenticated.ok()) return authenticated.error();
  const storage::MerchantRef merchant = std::move(*authenticated);

  std::string_view order_id = field(f, "orderId");
  if (order_id.size() > limits::kMerchantOrderIdLengthMax) return invalid("orderId is longer than 50 characters");
  if (!is_printable_ascii_no_space(order_id)) return invalid("orderId must be printable ASCII without spaces");

  // See PreparedSubmit::refused.
  auto refuse_unless_retry = [&](Error e) -> Result<PreparedSubmit> {
    PreparedSubmit p;
    p.order.merchant_id = merchant->id;
    p.order.merchant_order_id = std::string(order_id);
    p.order.request_fingerprint = request_fingerprint(f);
    p.refused = std::move(e);
    return p;
  };

  std::string_view product_type = field(f, "productType");
  if (product_type != "0" && product_type != "1" && product_type != "2") {
    return invalid("productType must be 0 (card number and password), 1 (image) or 2 (redemption link)");
  }

  std::string_view batchno = field(f, "batchno");
  if (batchno.size() > limits::kBatchNoLengthMax) return invalid("batchno is longer than 64 characters");
  if (!is_printable_ascii_no_space(batchno)) return invalid("batchno must be printable ASCII without spaces");

  std::string_view product_code = field(f, "productCode");
  // Checked before it appears in any message or log line.
  if (product_code.size() > limits::kProductCodeLengthMax) return invalid("productCode is longer than 64 characters");
  if (!is_printable_ascii_no_space(product_code)) return invalid("productCode must be printable ASCII without spaces");
  auto product = catalog_.product(std::string(product_code));
  if (!product || !product->enabled) {
    return refuse_unless_retry(invalid("unknown productCode " + std::string(product_code)));
  }
  if (!catalog_.merchant_product_enabled(merchant->id, product->code)) {
    return refuse_unless_retry(invalid("productCode " + product->code + " is not enabled for this merchant"));
  }

  auto face = parse_int64_strict(field(f, "faceMoney"));
  if (!face || *face <= 0) return invalid("faceMoney must be a positive whole number of yuan");
  if (std::find(product->face_values_yuan.begin(), product->face_values_yuan.end(), *face) ==
      product->face_values_yuan.end()) {
    std::string accepted;
    for (auto v : product->face_values_yuan) accepted += (accepted.empty() ? "" : ",") + std::to_string(v);
    return refuse_unless_retry(invalid("faceMoney " + std::to_string(*face) + " is not accepted for " +
                                       product->code + " (accepted: " + accepted + ")"));
  }

  RatePermille rate = product->default_rate;
  if (auto custom_rate = field(f, "customizeRate"); !custom_rate.empty()) {
    if (!product->custom_rate_allowed) {
      return refuse_unless_retry(invalid("customizeRate is not allowed for product " + product->code));
    }
    auto parsed = parse_rate_percent(custom_rate);
    if (!parsed.ok()) return invalid("customizeRate must be a percentage with at most one decimal, e.g. 96.5");
    if (parsed->value < product->custom_rate_min.value || parsed->value > product->custom_rate_max.value) {
      return refuse_unless_retry(invalid("customizeRate must be between " +
                                         format_rate_percent(product->custom_rate_min) + " and " +
                                         format_rate_percent(product->custom_rate_max) + " for product " +
                                         product->code));
    }
    rate = *parsed;
  }

  std::string_view card_number = field(f, "cardNumber");
  if (card_number.size() > limits::kCardNumberLengthMax) return invalid("cardNumber is longer than 128 characters");
  if (has_control_chars(card_number)) return invalid("cardNumber contains control characters");

  std::string_view card_password_hex = field(f, "cardPassword");
  if (card_password_hex.size() > limits::kCardPasswordHexLengthMax) return invalid("cardPassword is too long");
  auto password = crypto::decode_card_password(card_password_hex, merchant->aes_key);
  if (!password.ok()) return invalid(password.error().message);
  if (password->empty()) return invalid("cardPassword decrypts to an empty password");
  if (password->size() > limits::kCardPasswordPlainLengthMax) return invalid("cardPassword is too long");

  std::string_view notify_url = field(f, "notifyUrl");
  if (!notify_url.empty()) PG_TRY(check_notify_url(notify_url, config_.allow_private_targets));

  std::string_view custom = field(f, "custom");
  if (custom.size() > limits::kCustomLengthMax) return invalid("custom is longer than 1024 characters");
  std::string_view se_code = field(f, "seCode");
  if (se_code.size() > 64) return invalid("seCode is longer than 64 characters");

  int64_t now_ms = clock_.now_unix_ms();
  PreparedSubmit p;
  auto& o = p.order;
  o.merchant_id = merchant->id;
  o.merchant_order_id = std::string(order_id);
  o.batchno = std::string(batchno);
  o.product_code = product->code;
  o.product_type = product_type[0] - '0';
  o.card_number = std::string(card_number);
  o.card_password = std::move(password).value();
  o.card_fingerprint = box_->fingerprint(o.product_code + '\x1f' + o.card_number + '\x1f' + o.card_password);
  o.se_code = std::string(se_code);
  o.face_money_yuan = *face;
  o.rate = rate;
  o.notify_url = std::string(notify_url);
  o.custom = std::string(custom);
  o.request_fingerprint = request_fingerprint(f);
  o.state = orders::ConsignState::kProcessing;
  o.message = "processing";
  o.process_after_ms = now_ms + config_.processing_delay_ms;
  o.created_at_ms = now_ms;
  o.updated_at_ms = now_ms;
  return p;
}

namespace {
// The answer to a submission whose merchant order id already exists: the first answer for an identical retry.
Result<SubmitAnswer> answer_existing(const orders::ConsignOrder& existing, const orders::ConsignOrder& in) {
  if (existing.request_fingerprint == in.request_fingerprint) return SubmitAnswer{existing.sys_order_id, true};
  return make_error(ErrorCode::kAlreadyExists,
                    "duplicate orderId: " + in.merchant_order_id + " was already submitted with other fields");
}
}  // namespace

void Service::seal_ahead(PreparedSubmit& p, Random& random) const {
  if (p.refused) return;  // nothing will be inserted
  p.sealed = storage::seal_card(*box_, new_sys_order_id(p.order.created_at_ms, random), p.order.card_password,
                                p.order.se_code);
}

Result<SubmitAnswer> Service::commit_submit(storage::Tx& tx, const PreparedSubmit& p, Random& random) {
  const auto& in = p.order;
  if (p.refused) {
    if (auto existing = tx.consign_order(in.merchant_id, in.merchant_order_id)) return answer_existing(*existing, in);
    return *p.refused;
  }
  // Insert first (no look-up before: an order id seen before is the rare case, and both engines report it ahead of
  // any other conflict), count the batch after: on a shared database (PostgreSQL, several writers or nodes) an
  // insert that meets a concurrent request's uncommitted order waits for it, so an identical retry racing the
  // first learns "duplicate orderId" and gets the first answer below, without having counted a card in the batch.
  // Any failure below fails the closure, which rolls back both the insert and the count. The rules keep the order
  // docs/protocols/consign.md gives: order id, then batch, then card.
  orders::ConsignOrder order = in;
  bool inserted = false;
  bool card_live = false;
  for (int attempt = 0; attempt < 3 && !inserted && !card_live; ++attempt) {
    const bool sealed_ahead = attempt == 0 && !p.sealed.sys_order_id.value().empty();
    order.sys_order_id = sealed_ahead ? p.sealed.sys_order_id : new_sys_order_id(in.created_at_ms, random);
    auto st = tx.insert_consign_order(order, p.sealed);
    if (st.ok()) {
      inserted = true;
    } else if (st.error().message == "duplicate orderId") {
      // An identical retry, another request with this order id, or (PostgreSQL) a concurrent one just committed.
      if (auto existing = tx.consign_order(in.merchant_id, in.merchant_order_id)) return answer_existing(*existing, in);
      return st.error();
    } else if (st.error().message == "card already submitted") {
      card_live = true;
    } else if (st.error().message != "sys order id collision") {
      return st.error();
    }
  }
  if (!inserted && !card_live) return make_error(ErrorCode::kUnavailable, "could not allocate an order id, retry");
  if (tx.consign_batch_add(in.merchant_id, in.batchno) > static_cast<int64_t>(limits::kConsignBatchCardsMax)) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "batch " + in.batchno + " is full: a batch holds at most 2000 cards");
  }
  if (card_live) {
    return make_error(ErrorCode::kAlreadyExists,
                      "card already submitted: this card is being processed or was already redeemed");
  }
  return SubmitAnswer{order.sys_order_id, false};
}

Result<OrderView> Service::query(const Fields& f, std::string_view remote_ip) const {
  for (const char* name : {"customerId", "timestamp", "orderId", "sign"}) {
    if (field(f, name).empty()) return invalid(std::string("missing required field ") + name);
  }
  auto authenticated = authenticate(f, false, remote_ip);
  if (!authenticated.ok()) return authenticated.error();
  const storage::MerchantRef merchant = std::move(*authenticated);
  auto tx = store_.read();
  std::string order_id(field(f, "orderId"));
  // The merchant's own order id first, then the platform's (DECISIONS.md).
  auto order = tx->consign_order(merchant->id, order_id);
  if (!order) {
    order = tx->consign_order_by_sys(SysOrderId{order_id});
    if (order && order->merchant_id != merchant->id) order.reset();
  }
  if (!order) return make_error(ErrorCode::kNotFound, "order not found");
  return view_of(*order);
}

Status finish_order(storage::Tx& tx, const orders::ConsignOrder& order, const orders::ConsignOutcome& outcome,
                    int64_t now_ms) {
  auto next = orders::apply_outcome(order, outcome, now_ms);
  if (!next.ok()) return next.error();
  tx.update_consign_order(*next);
  if (next->state == orders::ConsignState::kSuccess) {
    auto real = Money::from_yuan(next->real_money_yuan);
    PG_ASSERT(real.has_value(), "real money overflow after apply_outcome");
    PG_TRY(tx.post(ledger::consign_settlement(next->merchant_id, next->sys_order_id, *real, next->amount), now_ms));
  }
  if (orders::is_final(next->state) && !next->notify_url.empty()) {
    auto merchant = tx.merchant(next->merchant_id);
    PG_ASSERT(merchant.has_value(), "order without its merchant");
    storage::Notification n;
    n.merchant_id = next->merchant_id;
    n.protocol = "consign";
    n.order_ref = next->sys_order_id.value();
    n.url = next->notify_url;
    n.content_type = "application/x-www-form-urlencoded";
    n.body = http::form_encode(notify_fields(view_of(*next), merchant->sign_key));
    n.schedule = std::string(notify::kConsignSchedule);
    n.attempts_max = notify::kConsignAttemptsMax;
    n.next_attempt_at_ms = now_ms;
    n.created_at_ms = now_ms;
    n.updated_at_ms = now_ms;
    tx.enqueue_notification(n);
  }
  return ok_status();
}

size_t process_due_orders(storage::Tx& tx, const processors::CardProcessor& processor, int64_t now_ms, size_t limit) {
  // Orders are locked row by row (consign_orders_due skips what another node holds), so no job lock is needed.
  auto due = tx.consign_orders_due(now_ms, limit);
  for (const auto& order : due) {
    auto st = finish_order(tx, order, processor.decide(order), now_ms);
    // Outcomes from the processor are always valid for a processing order; a failure here is a bug.
    PG_ASSERT(st.ok(), "processor outcome could not be applied");
  }
  return due.size();
}

}  // namespace paygate::consign
