// cashier::Service and its write-side steps against each storage engine (SQLite, PostgreSQL), a ManualClock and a
// SeededRandom. Requests are sealed here by hand (base64 of a JSON written here, md5(base64 + key) lowercase), and
// what the service sends (back notify bodies, query answers) is opened by hand (URL decoding, base64) and compared
// with JSON written here, rather than with the codec under test.
#include "protocols/cashier/service.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"
#include "ledger/ledger.h"
#include "storage/testing/store_fixture.h"

namespace paygate::cashier {
namespace {

using orders::CashierOrder;
using orders::CashierState;
using storage::Tx;

const std::string kKey = "CASHIER_KEY_123";
const std::string kSingleKey = "CASHIER_SINGLE_456";
const std::string kDisabledKey = "CASHIER_OFF_789";
const MerchantId kMerchant{10001};  // WeiXin 2.5%, AliPay 0.6%, Bank disabled
const MerchantId kSingle{10002};    // AliPay only
const MerchantId kDisabled{10003};  // the account is disabled
constexpr int64_t kStartMs = 1'700'000'000'250;  // 2023-11-14 22:13:20.250 UTC, 2023-11-15 06:13:20 at +480
constexpr int64_t kExpiryMs = 15 * 60'000;
constexpr int64_t kDayMs = 86'400'000;
// Orders are paid 61 s after they are placed: 2023-11-15 06:14:21 at +480 (the date is a day after UTC's).
constexpr int64_t kPaidAtMs = kStartMs + 61'000;
const std::string kPaidAtText = "2023-11-15 06:14:21";
const std::string kBackUrl = "https://merchant.example.com/notify?shop=1";
const std::string kFrontUrl = "https://merchant.example.com/return";
const std::string kIdNumber = "11010519491231002X";  // a valid resident ID number (check digit X)

std::string md5_lower(const std::string& s) { return crypto::md5_hex_lower(s); }

// A pay request's JSON, members in the document's order; empty optional members are left out.
struct PayReq {
  std::string action = "WeiXin";
  std::string txnamt = "10003";  // written as is: a JSON number unless the caller quotes it
  std::string merid = "10001";
  std::string orderid = "M20231115000001";
  std::string backurl = kBackUrl;
  std::string fronturl = kFrontUrl;
  std::string accname;
  std::string accno;

  std::string json() const {
    std::string s = "{\"action\":\"" + action + "\",\"txnamt\":" + txnamt + ",\"merid\":\"" + merid +
                    "\",\"orderid\":\"" + orderid + "\",\"backurl\":\"" + backurl + "\"";
    if (!fronturl.empty()) s += ",\"fronturl\":\"" + fronturl + "\"";
    if (!accname.empty()) s += ",\"accname\":\"" + accname + "\"";
    if (!accno.empty()) s += ",\"accno\":\"" + accno + "\"";
    return s + "}";
  }
};

// The form a merchant posts: req = base64(json), sign = md5(req + key), lowercase.
Fields sealed(const std::string& json, const std::string& key = kKey) {
  std::string text = crypto::base64_encode(json);
  return Fields{{"req", text}, {"sign", md5_lower(text + key)}};
}
Fields sealed(const PayReq& r, const std::string& key = kKey) { return sealed(r.json(), key); }

// ---- opening what the service sends, by hand ----

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Opened {
  std::string text;  // the base64 text as signed
  std::string sign;
  std::string json;  // the decoded text
};

std::string base64_decoded(const std::string& text) {
  auto bytes = crypto::base64_decode(text);
  EXPECT_TRUE(bytes.has_value()) << "not base64: " << text;
  return bytes.value_or("");
}

// A back notify body: resp=<base64, URL-encoded>&sign=<md5>.
Opened open_notify(const std::string& body) {
  Opened o;
  const std::string head = "resp=";
  const std::string mid = "&sign=";
  auto at = body.find(mid);
  if (!body.starts_with(head) || at == std::string::npos) {
    ADD_FAILURE() << "not a resp=...&sign=... body: " << body;
    return o;
  }
  o.text = url_decode(body.substr(head.size(), at - head.size()));
  o.sign = body.substr(at + mid.size());
  o.json = base64_decoded(o.text);
  return o;
}

// A query answer: {"resp":"<base64>","sign":"<md5 or empty>"}.
Opened open_answer(const std::string& body) {
  Opened o;
  const std::string head = "{\"resp\":\"";
  const std::string mid = "\",\"sign\":\"";
  const std::string tail = "\"}";
  auto at = body.find(mid);
  if (!body.starts_with(head) || !body.ends_with(tail) || at == std::string::npos) {
    ADD_FAILURE() << "not a {\"resp\":...,\"sign\":...} answer: " << body;
    return o;
  }
  o.text = body.substr(head.size(), at - head.size());
  o.sign = body.substr(at + mid.size(), body.size() - tail.size() - at - mid.size());
  o.json = base64_decoded(o.text);
  return o;
}

// The members shared by the back notify and the query answer, in the document's order.
std::string result_members(const std::string& code, const std::string& msg, const CashierId& queryid, int64_t txnamt,
                           const std::string& orderid, const std::string& merid = "10001") {
  return "\"resultcode\":\"" + code + "\",\"resultmsg\":\"" + msg + "\",\"queryid\":\"" + queryid.value() +
         "\",\"txnamt\":" + std::to_string(txnamt) + ",\"merid\":\"" + merid + "\",\"orderid\":\"" + orderid + "\"";
}

std::string notify_json(const std::string& code, const std::string& msg, const CashierId& queryid, int64_t txnamt,
                        const std::string& orderid, const std::string& paytime, const std::string& merid = "10001") {
  return "{" + result_members(code, msg, queryid, txnamt, orderid, merid) + ",\"paytime\":\"" + paytime + "\"}";
}

std::string query_ok_json(const std::string& code, const std::string& msg, const CashierId& queryid, int64_t txnamt,
                          const std::string& orderid, const std::string& paytime) {
  return "{\"respcode\":\"00\",\"respmsg\":\"成功\"," + result_members(code, msg, queryid, txnamt, orderid) +
         ",\"paytime\":\"" + paytime + "\"}";
}

std::string query_error_json(const std::string& code, const std::string& msg) {
  return "{\"respcode\":\"" + code + "\",\"respmsg\":\"" + msg + "\"}";
}

template <typename T>
::testing::AssertionResult fails_with(const Result<T>& r, ErrorCode code, std::string_view substring) {
  if (r.ok()) {
    return ::testing::AssertionFailure() << "expected " << error_code_name(code) << " containing \"" << substring
                                         << "\", got ok";
  }
  if (r.error().code != code || r.error().message.find(substring) == std::string::npos) {
    return ::testing::AssertionFailure() << "expected " << error_code_name(code) << " containing \"" << substring
                                         << "\", got " << error_code_name(r.error().code) << ": \""
                                         << r.error().message << "\"";
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
::testing::AssertionResult succeeds(const Result<T>& r) {
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << error_code_name(r.error().code) << ": " << r.error().message;
}

class CashierServiceTest : public ::testing::TestWithParam<storage::testing::StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    Config config;
    config.order_expiry_ms = kExpiryMs;
    service_ = std::make_unique<Service>(*store_, clock_, config);
    auto st = store_->write_sync([](Tx& tx) {
      storage::Merchant m;
      m.name = "Cashier merchant";
      m.app_key = "AK-cashier-0001";
      m.sign_key = kKey;
      m.aes_key = "abcdefghijklmnop";
      m.created_at_ms = m.updated_at_ms = kStartMs;
      EXPECT_EQ(tx.insert_merchant(m), kMerchant);
      storage::Merchant single = m;
      single.name = "One method";
      single.app_key = "AK-cashier-0002";
      single.sign_key = kSingleKey;
      EXPECT_EQ(tx.insert_merchant(single), kSingle);
      storage::Merchant off = m;
      off.name = "Disabled";
      off.app_key = "AK-cashier-0003";
      off.sign_key = kDisabledKey;
      off.enabled = false;
      EXPECT_EQ(tx.insert_merchant(off), kDisabled);
      auto channel = [&](MerchantId merchant, int id, int32_t fee_permille, bool enabled) {
        storage::MerchantChannel ch;
        ch.merchant_id = merchant;
        ch.channel_id = id;
        ch.enabled = enabled;
        ch.fee_rate = RatePermille{fee_permille};
        ch.processor = "sandbox";
        ch.updated_at_ms = kStartMs;
        tx.set_merchant_channel(ch);
      };
      channel(kMerchant, 1, 25, true);   // WeiXin 2.5%
      channel(kMerchant, 2, 6, true);    // AliPay 0.6%
      channel(kMerchant, 3, 10, false);  // Bank, disabled
      channel(kSingle, 2, 6, true);
      channel(kDisabled, 1, 25, true);
      channel(kDisabled, 2, 6, true);
      return ok_status();
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  void TearDown() override {
    if (store_) store_->close();
  }

  template <typename T>
  Result<T> in_write(const std::function<Result<T>(Tx&)>& fn) {
    std::optional<Result<T>> out;
    auto st = store_->write_sync([&](Tx& tx) -> Status {
      out.emplace(fn(tx));
      if (!out->ok()) return out->error();
      return ok_status();
    });
    if (!out) return st.error();
    if (out->ok() && !st.ok()) return st.error();
    return std::move(*out);
  }

  Result<PayAnswer> pay(const Fields& form, Refusal* refusal = nullptr) {
    auto p = service_->prepare_pay(form, refusal);
    if (!p.ok()) return p.error();
    return in_write<PayAnswer>([&](Tx& tx) { return Service::commit_pay(tx, *p, random_); });
  }

  // A request prepare_pay refuses: the refusal it reports (which must be the error it returns, or the one it leaves
  // for commit_pay).
  Refusal refusal_of(const Fields& form) {
    Refusal refusal{make_error(ErrorCode::kInternal, "not set"), "not set"};
    auto p = service_->prepare_pay(form, &refusal);
    EXPECT_TRUE(!p.ok() || p->refused.has_value()) << "the request was accepted";
    const Error* e = !p.ok() ? &p.error() : p->refused ? &*p->refused : nullptr;
    if (e != nullptr) {
      EXPECT_EQ(e->code, refusal.error.code);
      EXPECT_EQ(e->message, refusal.error.message);
    }
    return refusal;
  }

  Result<CashierOrder> complete(const CashierId& id, Outcome outcome, std::optional<Action> method = std::nullopt) {
    return in_write<CashierOrder>(
        [&](Tx& tx) { return complete_order(tx, id, outcome, method, clock_.now_unix_ms(), service_->config()); });
  }
  Result<CashierOrder> hold(const CashierId& id, const std::string& reason = "") {
    return in_write<CashierOrder>(
        [&](Tx& tx) { return hold_order(tx, id, reason, clock_.now_unix_ms(), service_->config()); });
  }
  Result<CashierOrder> release(const CashierId& id, bool to_merchant, const std::string& reason = "") {
    return in_write<CashierOrder>(
        [&](Tx& tx) { return release_order(tx, id, to_merchant, reason, clock_.now_unix_ms(), service_->config()); });
  }
  size_t settle(int64_t due_by_ms) {
    auto n = in_write<size_t>([&](Tx& tx) -> Result<size_t> {
      return settle_due(tx, due_by_ms, clock_.now_unix_ms(), 100, service_->config());
    });
    EXPECT_TRUE(succeeds(n));
    return n.ok() ? *n : 0;
  }
  size_t expire() {
    auto n = in_write<size_t>(
        [&](Tx& tx) -> Result<size_t> { return expire_orders(tx, clock_.now_unix_ms(), 100, service_->config()); });
    EXPECT_TRUE(succeeds(n));
    return n.ok() ? *n : 0;
  }

  void update_merchant(const std::function<void(storage::Merchant&)>& change) {
    auto st = store_->write_sync([&](Tx& tx) {
      auto m = *tx.merchant(kMerchant);
      change(m);
      tx.update_merchant(m);
      return ok_status();
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
    service_->catalog().invalidate();
  }

  // Pays `fen` of the merchant's available balance out to a bank account, as a payout would: a reserve and its
  // payment, so that nothing stays reserved.
  Status pay_out(int64_t fen) {
    PayoutId id{"W-test-" + std::to_string(++payouts_)};
    return store_->write_sync([&](Tx& tx) -> Status {
      PG_TRY(tx.post(ledger::payout_reserve(kMerchant, id, Money::from_fen(fen), Money{}), clock_.now_unix_ms()));
      return tx.post(ledger::payout_paid(kMerchant, id, Money::from_fen(fen), Money{}), clock_.now_unix_ms());
    });
  }

  std::optional<CashierOrder> stored(const CashierId& id) { return store_->read()->cashier_order_by_id(id); }
  std::vector<storage::Notification> notifies(const CashierId& id) {
    return store_->read()->notifications_for_order(id.value());
  }

  Money balance(const ledger::Account& a) { return store_->read()->balance(a.code); }
  int64_t available() { return balance(ledger::merchant_available(kMerchant)).fen(); }
  int64_t pending() { return balance(ledger::merchant_pending(kMerchant)).fen(); }
  int64_t frozen() { return balance(ledger::merchant_frozen(kMerchant)).fen(); }
  int64_t revenue() { return balance(ledger::platform_revenue()).fen(); }
  int64_t clearing() { return balance(ledger::cashier_clearing()).fen(); }

  // One back notify: where it goes, how it is retried, and its body opened by hand.
  void expect_notify(const storage::Notification& n, const CashierId& id, int64_t at_ms, const std::string& json,
                     const std::string& key = kKey, MerchantId merchant = kMerchant) {
    EXPECT_EQ(n.merchant_id, merchant);
    EXPECT_EQ(n.protocol, "cashier");
    EXPECT_EQ(n.order_ref, id.value());
    EXPECT_EQ(n.url, kBackUrl);
    EXPECT_EQ(n.content_type, "application/x-www-form-urlencoded");
    EXPECT_EQ(n.schedule, "cashier");
    EXPECT_EQ(n.attempts_max, 10);
    EXPECT_EQ(n.attempts_made, 0);
    EXPECT_EQ(n.state, storage::NotificationState::kPending);
    EXPECT_EQ(n.next_attempt_at_ms, at_ms);
    EXPECT_EQ(n.created_at_ms, at_ms);
    Opened o = open_notify(n.body);
    EXPECT_EQ(o.json, json);
    EXPECT_EQ(o.sign, md5_lower(o.text + key));
  }

  void expect_ledger_ok() {
    auto check = store_->read()->check_ledger();
    EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
  ManualClock clock_{kStartMs};
  SeededRandom random_{42};
  std::unique_ptr<Service> service_;
  int payouts_ = 0;
};

// ---- payment requests ----

TEST_P(CashierServiceTest, PayRequestIsStoredUnpaidWithTheMethodFeeRateAndExpiry) {
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  EXPECT_FALSE(a->identical_retry);
  const std::string& id = a->order.id.value();
  ASSERT_EQ(id.size(), 1u + 13 + 12);
  EXPECT_EQ(id[0], 'Q');
  EXPECT_EQ(id.substr(1, 13), std::to_string(kStartMs));
  auto o = stored(a->order.id);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->merchant_id, kMerchant);
  EXPECT_EQ(o->orderid, "M20231115000001");
  EXPECT_EQ(o->action, "WeiXin");
  EXPECT_EQ(o->method, "WeiXin");
  EXPECT_EQ(o->amount.fen(), 10'003);
  EXPECT_EQ(o->backurl, kBackUrl);
  EXPECT_EQ(o->fronturl, kFrontUrl);
  EXPECT_EQ(o->accname, "");
  EXPECT_EQ(o->accno, "");
  EXPECT_EQ(o->state, CashierState::kUnpaid);
  EXPECT_EQ(o->message, "未支付");
  EXPECT_EQ(o->fee_rate.value, 25);
  EXPECT_EQ(o->fee.fen(), 0);
  EXPECT_EQ(o->paid_at_ms, 0);
  EXPECT_EQ(o->settle_after_ms, 0);
  EXPECT_EQ(o->expires_at_ms, kStartMs + kExpiryMs);
  EXPECT_EQ(o->created_at_ms, kStartMs);
  EXPECT_EQ(store_->read()->next_cashier_expiry_ms(), kStartMs + kExpiryMs);

  // AliPay has its own rate; Arbi has no method and no rate until the customer chooses.
  auto b = pay(sealed(PayReq{.action = "AliPay", .orderid = "M20231115000002", .fronturl = ""}));
  ASSERT_TRUE(succeeds(b));
  EXPECT_EQ(b->order.method, "AliPay");
  EXPECT_EQ(b->order.fee_rate.value, 6);
  EXPECT_EQ(stored(b->order.id)->fronturl, "");
  auto c = pay(sealed(PayReq{.action = "Arbi", .orderid = "M20231115000003"}));
  ASSERT_TRUE(succeeds(c));
  o = stored(c->order.id);
  EXPECT_EQ(o->action, "Arbi");
  EXPECT_EQ(o->method, "");
  EXPECT_EQ(o->fee_rate.value, 0);
  EXPECT_EQ(o->state, CashierState::kUnpaid);
  EXPECT_NE(c->order.id, a->order.id);

  EXPECT_TRUE(notifies(a->order.id).empty()) << "placing an order notifies nobody";
  EXPECT_EQ(available(), 0);
  EXPECT_EQ(clearing(), 0);
}

TEST_P(CashierServiceTest, IdenticalRetryGetsTheFirstOrderAndAChangedOneIsADuplicate) {
  auto first = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(first));
  clock_.advance_ms(5'000);
  auto retry = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(retry));
  EXPECT_TRUE(retry->identical_retry);
  EXPECT_EQ(retry->order.id, first->order.id);
  EXPECT_EQ(retry->order.created_at_ms, kStartMs);
  // The same business fields written otherwise (txnamt as a string, action in another case) are the same request.
  auto same = pay(sealed(PayReq{.action = "weixin", .txnamt = "\"10003\""}));
  ASSERT_TRUE(succeeds(same));
  EXPECT_TRUE(same->identical_retry);
  EXPECT_EQ(same->order.id, first->order.id);

  for (const PayReq& changed : {PayReq{.txnamt = "10004"}, PayReq{.action = "AliPay"},
                                PayReq{.backurl = "https://merchant.example.com/other"},
                                PayReq{.fronturl = "https://merchant.example.com/elsewhere"}, PayReq{.fronturl = ""}}) {
    EXPECT_TRUE(fails_with(pay(sealed(changed)), ErrorCode::kAlreadyExists,
                           "duplicate orderid: M20231115000001 was already used with other fields"))
        << changed.json();
  }
  auto o = stored(first->order.id);
  EXPECT_EQ(o->amount.fen(), 10'003);
  EXPECT_EQ(o->backurl, kBackUrl);
  EXPECT_EQ(o->state, CashierState::kUnpaid);
  EXPECT_EQ(o->created_at_ms, kStartMs);
  EXPECT_EQ(o->expires_at_ms, kStartMs + kExpiryMs) << "a retry does not extend the expiry";
  // The orderid is the merchant's: another merchant may use the same one.
  auto other = pay(sealed(PayReq{.action = "AliPay", .merid = "10002"}, kSingleKey));
  ASSERT_TRUE(succeeds(other));
  EXPECT_FALSE(other->identical_retry);
  EXPECT_NE(other->order.id, first->order.id);
}

TEST_P(CashierServiceTest, RefusalsCarryTheKeyTheAnswerCanBeSignedWith) {
  // The merchant is unknown or cannot be read: nothing to sign with.
  Refusal r = refusal_of(sealed(PayReq{.merid = "99999"}));
  EXPECT_EQ(r.error.code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error.message, "unknown merid 99999");
  EXPECT_EQ(r.merchant_key, "");
  r = refusal_of(sealed(PayReq{.merid = "M10001"}));
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error.message.find("merid must be the merchant number"), std::string::npos) << r.error.message;
  EXPECT_EQ(r.merchant_key, "");
  r = refusal_of(Fields{{"req", "eyJh-IjoxfQ"}, {"sign", md5_lower("eyJh-IjoxfQ" + kKey)}});
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error.message.find("URL-safe alphabet"), std::string::npos) << r.error.message;
  EXPECT_EQ(r.merchant_key, "");
  // A wrong or missing sign from a known merchant is answered signed (DECISIONS.md: the sign is empty only when
  // the merchant could not be identified), even when a field is bad too; but without the request's own fields,
  // which nobody authenticated (see Refusal::echo_request).
  r = refusal_of(sealed(PayReq{}, "not-the-key"));
  EXPECT_EQ(r.error.code, ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error.message.find("bad sign"), std::string::npos) << r.error.message;
  EXPECT_EQ(r.merchant_key, kKey);
  EXPECT_FALSE(r.echo_request);
  Fields unsigned_form = sealed(PayReq{});
  unsigned_form.erase("sign");
  r = refusal_of(unsigned_form);
  EXPECT_EQ(r.error.code, ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error.message.find("missing required field sign"), std::string::npos) << r.error.message;
  EXPECT_EQ(r.merchant_key, kKey);
  EXPECT_FALSE(r.echo_request);
  r = refusal_of(sealed(PayReq{.orderid = "M2023-1115"}, "not-the-key"));
  EXPECT_EQ(r.error.code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(r.merchant_key, kKey);
  EXPECT_FALSE(r.echo_request);
  // A well-signed request from a known merchant is refused signed, whatever the reason.
  r = refusal_of(sealed(PayReq{.orderid = "M2023-1115"}));
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error.message.find("orderid must be letters and digits only"), std::string::npos) << r.error.message;
  EXPECT_EQ(r.merchant_key, kKey);
  r = refusal_of(sealed(PayReq{.txnamt = "10.03"}));
  EXPECT_NE(r.error.message.find("txnamt must be a whole number of fen"), std::string::npos) << r.error.message;
  EXPECT_EQ(r.merchant_key, kKey);
  r = refusal_of(sealed(PayReq{.action = "Bank"}));
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error.message, "action Bank is not enabled for this merchant (需提前开交易权限)");
  EXPECT_EQ(r.merchant_key, kKey);
  r = refusal_of(sealed(PayReq{.action = "WeiXin", .merid = "10002"}, kSingleKey));
  EXPECT_EQ(r.error.message, "action WeiXin is not enabled for this merchant (需提前开交易权限)");
  EXPECT_EQ(r.merchant_key, kSingleKey);
  r = refusal_of(sealed(PayReq{.action = "Arbi", .merid = "10002"}, kSingleKey));
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error.message.find("two or more payment methods; this merchant has 1 enabled"), std::string::npos)
      << r.error.message;
  EXPECT_EQ(r.merchant_key, kSingleKey);
  r = refusal_of(sealed(PayReq{.merid = "10003"}, kDisabledKey));
  EXPECT_EQ(r.error.code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error.message, "merchant account is disabled");
  EXPECT_EQ(r.merchant_key, kDisabledKey);
  r = refusal_of(sealed(PayReq{.backurl = "http://127.0.0.1/notify"}));
  EXPECT_NE(r.error.message.find("private, loopback"), std::string::npos) << r.error.message;
  EXPECT_EQ(r.merchant_key, kKey);
  // Without a processor (sandbox off) a good request is refused, signed.
  Config no_sandbox = service_->config();
  no_sandbox.sandbox = false;
  Service without_processor(*store_, clock_, no_sandbox);
  Refusal unavailable{make_error(ErrorCode::kInternal, "not set"), "not set"};
  EXPECT_TRUE(fails_with(without_processor.prepare_pay(sealed(PayReq{}), &unavailable), ErrorCode::kUnavailable,
                         "no payment processor is available"));
  EXPECT_EQ(unavailable.error.code, ErrorCode::kUnavailable);
  EXPECT_EQ(unavailable.merchant_key, kKey);
  // With one method left of two, Arbi is refused too.
  ASSERT_TRUE(store_->write_sync([](Tx& tx) {
                      auto ch = *tx.merchant_channel(kMerchant, 2);
                      ch.enabled = false;
                      tx.set_merchant_channel(ch);
                      return ok_status();
                    }).ok());
  service_->catalog().invalidate();
  r = refusal_of(sealed(PayReq{.action = "Arbi"}));
  EXPECT_NE(r.error.message.find("this merchant has 1 enabled"), std::string::npos) << r.error.message;
  EXPECT_EQ(r.merchant_key, kKey);
  EXPECT_EQ(service_->enabled_methods(kMerchant), std::vector<Action>{Action::kWeiXin});

  EXPECT_FALSE(store_->read()->cashier_order(kMerchant, "M20231115000001").has_value());
  EXPECT_FALSE(store_->read()->cashier_order(kSingle, "M20231115000001").has_value());
}

TEST_P(CashierServiceTest, BoundCardNeedsThePermissionAndIsStored) {
  PayReq bound{.action = "AliPay", .orderid = "B20231115000001", .accname = "张徐", .accno = "11010519491231002x"};
  Refusal r = refusal_of(sealed(bound));
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error.message, "bound-card payment (accname + accno) is not enabled for this merchant");
  EXPECT_EQ(r.merchant_key, kKey);

  update_merchant([](storage::Merchant& m) { m.bound_card_allowed = true; });
  auto a = pay(sealed(bound));
  ASSERT_TRUE(succeeds(a));
  auto o = stored(a->order.id);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->accname, "张徐");
  EXPECT_EQ(o->accno, kIdNumber) << "stored with an upper-case X";
  EXPECT_EQ(store_->read()->cashier_order(kMerchant, "B20231115000001")->accno, kIdNumber);
  // The check digit in either case is the same number: an identical retry. Another name is another request.
  PayReq upper = bound;
  upper.accno = kIdNumber;
  auto retry = pay(sealed(upper));
  ASSERT_TRUE(succeeds(retry));
  EXPECT_TRUE(retry->identical_retry);
  EXPECT_EQ(retry->order.id, a->order.id);
  EXPECT_EQ(retry->order.accname, "张徐");
  PayReq renamed = bound;
  renamed.accname = "张三";
  EXPECT_TRUE(fails_with(pay(sealed(renamed)), ErrorCode::kAlreadyExists, "duplicate orderid"));
  PayReq plain = bound;
  plain.accname = plain.accno = "";
  EXPECT_TRUE(fails_with(pay(sealed(plain)), ErrorCode::kAlreadyExists, "duplicate orderid"));
  // The permission is for the merchant: bound-card payment stays refused for another one.
  PayReq elsewhere = bound;
  elsewhere.merid = "10002";
  EXPECT_EQ(refusal_of(sealed(elsewhere, kSingleKey)).error.message,
            "bound-card payment (accname + accno) is not enabled for this merchant");
}

TEST_P(CashierServiceTest, AnIdenticalRetryGetsTheFirstOrderWhateverTheMerchantsSettingsRefuseSince) {
  auto first = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(first));
  auto arbi = pay(sealed(PayReq{.action = "Arbi", .orderid = "A20231115000001"}));
  ASSERT_TRUE(succeeds(arbi));
  update_merchant([](storage::Merchant& m) { m.bound_card_allowed = true; });
  PayReq bound{.action = "AliPay", .orderid = "B20231115000001", .accname = "张徐", .accno = kIdNumber};
  auto bound_first = pay(sealed(bound));
  ASSERT_TRUE(succeeds(bound_first));

  // The operator takes WeiXin away (so Arbi has one method left) and the bound-card permission.
  update_merchant([](storage::Merchant& m) { m.bound_card_allowed = false; });
  ASSERT_TRUE(store_->write_sync([](Tx& tx) {
                      auto ch = *tx.merchant_channel(kMerchant, 1);
                      ch.enabled = false;
                      tx.set_merchant_channel(ch);
                      return ok_status();
                    }).ok());
  service_->catalog().invalidate();
  clock_.advance_ms(5'000);
  const PayReq arbi_req{.action = "Arbi", .orderid = "A20231115000001"};
  for (const auto& [req, was] : {std::pair{PayReq{}, first->order.id}, std::pair{arbi_req, arbi->order.id},
                                 std::pair{bound, bound_first->order.id}}) {
    auto retry = pay(sealed(req));
    ASSERT_TRUE(succeeds(retry)) << req.json();
    EXPECT_TRUE(retry->identical_retry) << req.json();
    EXPECT_EQ(retry->order.id, was) << req.json();
  }
  // The orderid rule comes first for a changed request too; a new orderid gets the refusal, and nothing is stored.
  EXPECT_TRUE(fails_with(pay(sealed(PayReq{.txnamt = "10004"})), ErrorCode::kAlreadyExists, "duplicate orderid"));
  EXPECT_TRUE(fails_with(pay(sealed(PayReq{.orderid = "M20231115000002"})), ErrorCode::kInvalidArgument,
                         "action WeiXin is not enabled for this merchant"));
  EXPECT_TRUE(fails_with(pay(sealed(PayReq{.action = "Arbi", .orderid = "A20231115000002"})),
                         ErrorCode::kInvalidArgument, "this merchant has 1 enabled"));
  PayReq bound_new = bound;
  bound_new.orderid = "B20231115000002";
  EXPECT_TRUE(fails_with(pay(sealed(bound_new)), ErrorCode::kInvalidArgument, "bound-card payment"));
  for (const char* orderid : {"M20231115000002", "A20231115000002", "B20231115000002"}) {
    EXPECT_FALSE(store_->read()->cashier_order(kMerchant, orderid).has_value()) << orderid;
  }
  EXPECT_EQ(stored(first->order.id)->updated_at_ms, kStartMs);
}

// ---- completing an order ----

TEST_P(CashierServiceTest, SettledAtOncePaysTheAvailableBalanceLessTheHalfUpFee) {
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  clock_.set_unix_ms(kPaidAtMs);
  auto done = complete(a->order.id, Outcome::kSettle);
  ASSERT_TRUE(succeeds(done));
  // 100.03 at 2.5% is 2.50075: 2.50.
  EXPECT_EQ(done->state, CashierState::kPaid);
  EXPECT_EQ(done->fee.fen(), 250);
  EXPECT_EQ(done->method, "WeiXin");
  EXPECT_EQ(done->paid_at_ms, kPaidAtMs);
  EXPECT_EQ(done->settle_after_ms, 0);
  EXPECT_EQ(done->message, "交易成功");
  auto o = stored(a->order.id);
  EXPECT_EQ(o->state, CashierState::kPaid);
  EXPECT_EQ(o->fee.fen(), 250);
  EXPECT_EQ(o->paid_at_ms, kPaidAtMs);
  EXPECT_EQ(o->updated_at_ms, kPaidAtMs);
  EXPECT_EQ(available(), 10'003 - 250);
  EXPECT_EQ(revenue(), 250);
  EXPECT_EQ(clearing(), -10'003);
  EXPECT_EQ(pending(), 0);
  auto postings = store_->read()->postings_for_reference(a->order.id.value());
  ASSERT_EQ(postings.size(), 3u);
  for (const auto& p : postings) EXPECT_EQ(p.kind, ledger::kCashierPay);

  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 1u);
  expect_notify(n[0], a->order.id, kPaidAtMs,
                notify_json("0000", "交易成功", a->order.id, 10'003, "M20231115000001", kPaidAtText));
  // The retry of a paid order's request gets the paid order and notifies nobody again.
  auto retry = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(retry));
  EXPECT_TRUE(retry->identical_retry);
  EXPECT_EQ(retry->order.state, CashierState::kPaid);
  EXPECT_EQ(notifies(a->order.id).size(), 1u);
  expect_ledger_ok();

  // Half up at the boundary: 0.20 at 2.5% is exactly 0.005 -> 0.01; 0.19 -> 0.00475 -> 0; 0.01 -> 0.
  auto b = pay(sealed(PayReq{.txnamt = "20", .orderid = "M20231115000002"}));
  auto c = pay(sealed(PayReq{.txnamt = "19", .orderid = "M20231115000003"}));
  auto d = pay(sealed(PayReq{.txnamt = "1", .orderid = "M20231115000004"}));
  ASSERT_TRUE(succeeds(b) && succeeds(c) && succeeds(d));
  EXPECT_EQ(complete(b->order.id, Outcome::kSettle)->fee.fen(), 1);
  EXPECT_EQ(complete(c->order.id, Outcome::kSettle)->fee.fen(), 0);
  EXPECT_EQ(complete(d->order.id, Outcome::kSettle)->fee.fen(), 0);
  EXPECT_EQ(available(), 10'003 - 250 + 19 + 19 + 1);
  EXPECT_EQ(revenue(), 251);
  EXPECT_EQ(clearing(), -(10'003 + 20 + 19 + 1));
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, SettledWithADelayIsPendingUntilSettleDueMovesItToAvailable) {
  update_merchant([](storage::Merchant& m) { m.settlement_delay_days = 2; });
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  clock_.set_unix_ms(kPaidAtMs);
  auto done = complete(a->order.id, Outcome::kSettle);
  ASSERT_TRUE(succeeds(done));
  const int64_t settle_at = kPaidAtMs + 2 * kDayMs;
  EXPECT_EQ(done->state, CashierState::kPending);
  EXPECT_EQ(done->message, "交易处理中");
  EXPECT_EQ(done->settle_after_ms, settle_at);
  EXPECT_EQ(stored(a->order.id)->settle_after_ms, settle_at);
  EXPECT_EQ(pending(), 9'753);
  EXPECT_EQ(available(), 0);
  EXPECT_EQ(revenue(), 250);
  EXPECT_EQ(store_->read()->next_cashier_settlement_ms(), settle_at);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 1u);
  expect_notify(n[0], a->order.id, kPaidAtMs,
                notify_json("1002", "交易处理中", a->order.id, 10'003, "M20231115000001", kPaidAtText));
  expect_ledger_ok();

  // Not before settle_after.
  clock_.set_unix_ms(settle_at - 1);
  EXPECT_EQ(settle(clock_.now_unix_ms()), 0u);
  EXPECT_EQ(stored(a->order.id)->state, CashierState::kPending);
  EXPECT_EQ(notifies(a->order.id).size(), 1u);
  EXPECT_EQ(pending(), 9'753);
  // At it: pending -> available, 0000, one more notify (paytime is still when the customer paid).
  clock_.advance_ms(1);
  EXPECT_EQ(settle(clock_.now_unix_ms()), 1u);
  auto o = stored(a->order.id);
  EXPECT_EQ(o->state, CashierState::kPaid);
  EXPECT_EQ(o->message, "交易成功");
  EXPECT_EQ(o->paid_at_ms, kPaidAtMs);
  EXPECT_EQ(o->updated_at_ms, settle_at);
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(available(), 9'753);
  EXPECT_EQ(revenue(), 250);
  n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 2u);
  expect_notify(n[1], a->order.id, settle_at,
                notify_json("0000", "交易成功", a->order.id, 10'003, "M20231115000001", kPaidAtText));
  EXPECT_FALSE(store_->read()->next_cashier_settlement_ms().has_value());
  // Settled once.
  clock_.advance_ms(kDayMs);
  EXPECT_EQ(settle(clock_.now_unix_ms()), 0u);
  EXPECT_EQ(notifies(a->order.id).size(), 2u);
  EXPECT_EQ(available(), 9'753);
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, SettlingAsOfALaterTimeStampsTheWallClock) {
  update_merchant([](storage::Merchant& m) { m.settlement_delay_days = 1; });
  auto a = pay(sealed(PayReq{}));
  auto b = pay(sealed(PayReq{.action = "AliPay", .txnamt = "10000", .orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(a) && succeeds(b));
  clock_.set_unix_ms(kPaidAtMs);
  ASSERT_TRUE(succeeds(complete(a->order.id, Outcome::kSettle)));
  clock_.advance_ms(60'000);
  ASSERT_TRUE(succeeds(complete(b->order.id, Outcome::kSettle)));
  EXPECT_EQ(pending(), 9'753 + 9'940);

  // An hour later, settle as of a's settlement time: a is due, b (a minute later) is not.
  const int64_t now = kPaidAtMs + 3'600'000;
  clock_.set_unix_ms(now);
  EXPECT_EQ(settle(kPaidAtMs + kDayMs - 1), 0u);
  EXPECT_EQ(settle(kPaidAtMs + kDayMs), 1u);
  auto o = stored(a->order.id);
  EXPECT_EQ(o->state, CashierState::kPaid);
  EXPECT_EQ(o->updated_at_ms, now) << "stamped with the wall clock, not the as-of time";
  EXPECT_EQ(stored(b->order.id)->state, CashierState::kPending);
  EXPECT_EQ(pending(), 9'940);
  EXPECT_EQ(available(), 9'753);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 2u);
  expect_notify(n[1], a->order.id, now,
                notify_json("0000", "交易成功", a->order.id, 10'003, "M20231115000001", kPaidAtText));
  auto postings = store_->read()->postings_for_reference(a->order.id.value());
  ASSERT_EQ(postings.size(), 5u);  // pay: clearing, pending, revenue; settle: pending, available
  EXPECT_EQ(postings[3].kind, ledger::kCashierSettle);
  EXPECT_EQ(postings[3].created_at_ms, now);
  EXPECT_EQ(postings[4].created_at_ms, now);
  EXPECT_EQ(notifies(b->order.id).size(), 1u);
  // Far ahead: b settles too.
  EXPECT_EQ(settle(now + 30 * kDayMs), 1u);
  EXPECT_EQ(stored(b->order.id)->state, CashierState::kPaid);
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(available(), 9'753 + 9'940);
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, PaidAndPendingOutcomesAreForcedWhateverTheDelay) {
  // No delay, but the processor says 1002: pending, due at once.
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  clock_.set_unix_ms(kPaidAtMs);
  auto pend = complete(a->order.id, Outcome::kPending);
  ASSERT_TRUE(succeeds(pend));
  EXPECT_EQ(pend->state, CashierState::kPending);
  EXPECT_EQ(pend->settle_after_ms, kPaidAtMs);
  EXPECT_EQ(pending(), 9'753);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 1u);
  expect_notify(n[0], a->order.id, kPaidAtMs,
                notify_json("1002", "交易处理中", a->order.id, 10'003, "M20231115000001", kPaidAtText));

  // A three-day delay, but the processor says 0000: paid, available at once.
  update_merchant([](storage::Merchant& m) { m.settlement_delay_days = 3; });
  auto b = pay(sealed(PayReq{.orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(b));
  auto paid = complete(b->order.id, Outcome::kPaid);
  ASSERT_TRUE(succeeds(paid));
  EXPECT_EQ(paid->state, CashierState::kPaid);
  EXPECT_EQ(paid->settle_after_ms, 0);
  EXPECT_EQ(available(), 9'753);
  EXPECT_EQ(pending(), 9'753);
  n = notifies(b->order.id);
  ASSERT_EQ(n.size(), 1u);
  expect_notify(n[0], b->order.id, kPaidAtMs,
                notify_json("0000", "交易成功", b->order.id, 10'003, "M20231115000002", kPaidAtText));
  expect_ledger_ok();
  // The forced pending order settles on the next run.
  EXPECT_EQ(settle(clock_.now_unix_ms()), 1u);
  EXPECT_EQ(available(), 2 * 9'753);
  EXPECT_EQ(pending(), 0);
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, HeldOutcomePaysIntoTheFrozenBalance) {
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  clock_.set_unix_ms(kPaidAtMs);
  auto held = complete(a->order.id, Outcome::kHeld);
  ASSERT_TRUE(succeeds(held));
  EXPECT_EQ(held->state, CashierState::kHeld);
  EXPECT_EQ(held->held_from, CashierState::kPaid);
  EXPECT_EQ(held->message, "协查调单");
  EXPECT_EQ(held->fee.fen(), 250);
  EXPECT_EQ(held->paid_at_ms, kPaidAtMs);
  EXPECT_EQ(frozen(), 9'753);
  EXPECT_EQ(available(), 0);
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(revenue(), 250);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 1u);
  expect_notify(n[0], a->order.id, kPaidAtMs,
                notify_json("1004", "协查调单", a->order.id, 10'003, "M20231115000001", kPaidAtText));
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, FailedOutcomeMovesNoMoneyAndAnOrderIsCompletedOnce) {
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  clock_.set_unix_ms(kPaidAtMs);
  auto failed = complete(a->order.id, Outcome::kFailed);
  ASSERT_TRUE(succeeds(failed));
  EXPECT_EQ(failed->state, CashierState::kFailed);
  EXPECT_EQ(failed->message, "交易失败");
  EXPECT_EQ(failed->paid_at_ms, 0);
  EXPECT_EQ(failed->fee.fen(), 0);
  EXPECT_TRUE(store_->read()->postings_for_reference(a->order.id.value()).empty());
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 1u);
  expect_notify(n[0], a->order.id, kPaidAtMs, notify_json("1003", "交易失败", a->order.id, 10'003, "M20231115000001", ""));
  // Completing again, with any outcome, is refused and changes nothing.
  EXPECT_TRUE(fails_with(complete(a->order.id, Outcome::kSettle), ErrorCode::kFailedPrecondition,
                         "order " + a->order.id.value() + " is failed (1003)"));
  EXPECT_TRUE(fails_with(complete(a->order.id, Outcome::kFailed), ErrorCode::kFailedPrecondition, "is failed"));

  auto b = pay(sealed(PayReq{.orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(b));
  ASSERT_TRUE(succeeds(complete(b->order.id, Outcome::kSettle)));
  EXPECT_TRUE(fails_with(complete(b->order.id, Outcome::kSettle), ErrorCode::kFailedPrecondition, "is paid (0000)"));
  EXPECT_TRUE(fails_with(complete(b->order.id, Outcome::kFailed), ErrorCode::kFailedPrecondition, "is paid (0000)"));
  EXPECT_TRUE(fails_with(complete(b->order.id, Outcome::kHeld), ErrorCode::kFailedPrecondition, "is paid (0000)"));
  EXPECT_EQ(stored(b->order.id)->state, CashierState::kPaid);
  EXPECT_EQ(available(), 9'753);
  EXPECT_EQ(revenue(), 250);
  EXPECT_EQ(notifies(a->order.id).size(), 1u);
  EXPECT_EQ(notifies(b->order.id).size(), 1u);
  EXPECT_TRUE(fails_with(complete(CashierId{"Q0000000000000nosuchorder1"}, Outcome::kSettle), ErrorCode::kNotFound,
                         "no cashier order"));
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, ArbiIsPaidWithAnEnabledMethodAtThatMethodsRate) {
  auto a = pay(sealed(PayReq{.action = "Arbi", .txnamt = "10000"}));
  ASSERT_TRUE(succeeds(a));
  clock_.set_unix_ms(kPaidAtMs);
  EXPECT_TRUE(fails_with(complete(a->order.id, Outcome::kSettle), ErrorCode::kInvalidArgument, "choose how to pay"));
  EXPECT_TRUE(fails_with(complete(a->order.id, Outcome::kSettle, Action::kArbi), ErrorCode::kInvalidArgument,
                         "choose how to pay"));
  EXPECT_TRUE(fails_with(complete(a->order.id, Outcome::kSettle, Action::kBank), ErrorCode::kInvalidArgument,
                         "payment method Bank is not enabled for this merchant"));
  auto o = stored(a->order.id);
  EXPECT_EQ(o->state, CashierState::kUnpaid);
  EXPECT_EQ(o->method, "");
  EXPECT_TRUE(notifies(a->order.id).empty());
  auto done = complete(a->order.id, Outcome::kSettle, Action::kAliPay);
  ASSERT_TRUE(succeeds(done));
  EXPECT_EQ(done->method, "AliPay");
  EXPECT_EQ(done->action, "Arbi");
  EXPECT_EQ(done->fee_rate.value, 6);
  EXPECT_EQ(done->fee.fen(), 60);  // 100.00 at 0.6%
  o = stored(a->order.id);
  EXPECT_EQ(o->method, "AliPay");
  EXPECT_EQ(o->fee_rate.value, 6);
  EXPECT_EQ(available(), 9'940);
  EXPECT_EQ(revenue(), 60);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 1u);
  expect_notify(n[0], a->order.id, kPaidAtMs,
                notify_json("0000", "交易成功", a->order.id, 10'000, "M20231115000001", kPaidAtText));

  // The same with WeiXin: its rate.
  auto b = pay(sealed(PayReq{.action = "Arbi", .txnamt = "10000", .orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(b));
  auto wx = complete(b->order.id, Outcome::kSettle, Action::kWeiXin);
  ASSERT_TRUE(succeeds(wx));
  EXPECT_EQ(wx->fee.fen(), 250);
  EXPECT_EQ(wx->fee_rate.value, 25);

  // An order placed for one method is paid with it: another is refused, its own named explicitly is fine.
  auto c = pay(sealed(PayReq{.orderid = "M20231115000003"}));
  ASSERT_TRUE(succeeds(c));
  EXPECT_TRUE(fails_with(complete(c->order.id, Outcome::kSettle, Action::kAliPay), ErrorCode::kInvalidArgument,
                         "this order is paid with WeiXin, not AliPay"));
  EXPECT_TRUE(fails_with(complete(c->order.id, Outcome::kSettle, Action::kArbi), ErrorCode::kInvalidArgument,
                         "this order is paid with WeiXin, not Arbi"));
  EXPECT_EQ(stored(c->order.id)->state, CashierState::kUnpaid);
  EXPECT_TRUE(notifies(c->order.id).empty());
  auto own = complete(c->order.id, Outcome::kSettle, Action::kWeiXin);
  ASSERT_TRUE(succeeds(own));
  EXPECT_EQ(own->fee.fen(), 250);
  EXPECT_EQ(available(), 9'940 + 9'750 + 9'753);
  EXPECT_EQ(revenue(), 60 + 250 + 250);
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, ExpiredOrdersCannotBePaidAndExpireOrdersFailsThem) {
  auto a = pay(sealed(PayReq{}));
  auto b = pay(sealed(PayReq{.orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(a) && succeeds(b));
  clock_.set_unix_ms(kPaidAtMs);
  auto c = pay(sealed(PayReq{.orderid = "M20231115000003"}));
  auto d = pay(sealed(PayReq{.orderid = "M20231115000004"}));
  ASSERT_TRUE(succeeds(c) && succeeds(d));
  ASSERT_TRUE(succeeds(complete(d->order.id, Outcome::kFailed)));
  // The last millisecond before the expiry: still payable, and nothing expires.
  clock_.set_unix_ms(kStartMs + kExpiryMs - 1);
  EXPECT_EQ(expire(), 0u);
  ASSERT_TRUE(succeeds(complete(b->order.id, Outcome::kSettle)));
  // At the expiry: refused even though not marked yet.
  clock_.advance_ms(1);
  EXPECT_TRUE(fails_with(complete(a->order.id, Outcome::kSettle), ErrorCode::kFailedPrecondition,
                         "order " + a->order.id.value() + " has expired"));
  EXPECT_TRUE(fails_with(complete(a->order.id, Outcome::kHeld), ErrorCode::kFailedPrecondition, "has expired"));
  EXPECT_EQ(stored(a->order.id)->state, CashierState::kUnpaid);
  EXPECT_TRUE(notifies(a->order.id).empty());

  EXPECT_EQ(expire(), 1u);
  auto o = stored(a->order.id);
  EXPECT_EQ(o->state, CashierState::kFailed);
  EXPECT_EQ(o->message, "expired: not paid in time");
  EXPECT_EQ(o->updated_at_ms, kStartMs + kExpiryMs);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 1u);
  expect_notify(n[0], a->order.id, kStartMs + kExpiryMs,
                notify_json("1003", "expired: not paid in time", a->order.id, 10'003, "M20231115000001", ""));
  // The others are untouched: b paid, c unpaid (placed later), d failed before.
  EXPECT_EQ(stored(b->order.id)->state, CashierState::kPaid);
  EXPECT_EQ(notifies(b->order.id).size(), 1u);
  EXPECT_EQ(stored(c->order.id)->state, CashierState::kUnpaid);
  EXPECT_TRUE(notifies(c->order.id).empty());
  EXPECT_EQ(stored(d->order.id)->message, "交易失败");
  EXPECT_EQ(notifies(d->order.id).size(), 1u);
  EXPECT_EQ(store_->read()->next_cashier_expiry_ms(), kPaidAtMs + kExpiryMs);
  EXPECT_EQ(expire(), 0u) << "expired once";
  EXPECT_EQ(notifies(a->order.id).size(), 1u);
  EXPECT_TRUE(fails_with(complete(a->order.id, Outcome::kSettle), ErrorCode::kFailedPrecondition, "is failed (1003)"));
  // c's turn.
  clock_.set_unix_ms(kPaidAtMs + kExpiryMs);
  EXPECT_EQ(expire(), 1u);
  EXPECT_EQ(stored(c->order.id)->state, CashierState::kFailed);
  EXPECT_FALSE(store_->read()->next_cashier_expiry_ms().has_value());
  EXPECT_EQ(available(), 9'753);
  expect_ledger_ok();
}

// ---- holds and releases ----

TEST_P(CashierServiceTest, HoldFreezesAPaidOrAPendingOrdersFunds) {
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  clock_.set_unix_ms(kPaidAtMs);
  ASSERT_TRUE(succeeds(complete(a->order.id, Outcome::kSettle)));
  clock_.advance_ms(60'000);
  auto held = hold(a->order.id, "chargeback inquiry");
  ASSERT_TRUE(succeeds(held));
  EXPECT_EQ(held->state, CashierState::kHeld);
  EXPECT_EQ(held->held_from, CashierState::kPaid);
  EXPECT_EQ(held->message, "chargeback inquiry");
  EXPECT_EQ(stored(a->order.id)->state, CashierState::kHeld);
  EXPECT_EQ(available(), 0);
  EXPECT_EQ(frozen(), 9'753);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 2u);
  expect_notify(n[1], a->order.id, kPaidAtMs + 60'000,
                notify_json("1004", "chargeback inquiry", a->order.id, 10'003, "M20231115000001", kPaidAtText));
  expect_ledger_ok();

  update_merchant([](storage::Merchant& m) { m.settlement_delay_days = 1; });
  auto b = pay(sealed(PayReq{.action = "AliPay", .txnamt = "10000", .orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(b));
  ASSERT_TRUE(succeeds(complete(b->order.id, Outcome::kSettle)));
  EXPECT_EQ(pending(), 9'940);
  auto held_b = hold(b->order.id);
  ASSERT_TRUE(succeeds(held_b));
  EXPECT_EQ(held_b->held_from, CashierState::kPending);
  EXPECT_EQ(held_b->message, "协查调单");
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(frozen(), 9'753 + 9'940);
  n = notifies(b->order.id);
  ASSERT_EQ(n.size(), 2u);
  expect_notify(n[1], b->order.id, clock_.now_unix_ms(),
                notify_json("1004", "协查调单", b->order.id, 10'000, "M20231115000002", "2023-11-15 06:15:21"));
  // A held order is not settled.
  clock_.advance_ms(2 * kDayMs);
  EXPECT_EQ(settle(clock_.now_unix_ms()), 0u);
  EXPECT_EQ(stored(b->order.id)->state, CashierState::kHeld);
  EXPECT_EQ(notifies(b->order.id).size(), 2u);
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, HoldIsRefusedInOtherStatesAndWhenTheFundsWerePaidOut) {
  auto unpaid = pay(sealed(PayReq{}));
  auto failed = pay(sealed(PayReq{.orderid = "M20231115000002"}));
  auto held = pay(sealed(PayReq{.orderid = "M20231115000003"}));
  auto paid = pay(sealed(PayReq{.orderid = "M20231115000004"}));
  ASSERT_TRUE(succeeds(unpaid) && succeeds(failed) && succeeds(held) && succeeds(paid));
  clock_.set_unix_ms(kPaidAtMs);
  ASSERT_TRUE(succeeds(complete(failed->order.id, Outcome::kFailed)));
  ASSERT_TRUE(succeeds(complete(held->order.id, Outcome::kHeld)));
  ASSERT_TRUE(succeeds(complete(paid->order.id, Outcome::kSettle)));
  EXPECT_TRUE(fails_with(hold(unpaid->order.id), ErrorCode::kFailedPrecondition,
                         "is unpaid (1001): only a paid order (0000 or 1002) can be held"));
  EXPECT_TRUE(fails_with(hold(failed->order.id), ErrorCode::kFailedPrecondition, "is failed (1003)"));
  EXPECT_TRUE(fails_with(hold(held->order.id), ErrorCode::kFailedPrecondition, "is held (1004)"));
  EXPECT_TRUE(fails_with(hold(CashierId{"Q0000000000000nosuchorder1"}), ErrorCode::kNotFound, "no cashier order"));
  EXPECT_EQ(notifies(unpaid->order.id).size(), 0u);
  EXPECT_EQ(notifies(failed->order.id).size(), 1u);
  EXPECT_EQ(notifies(held->order.id).size(), 1u);

  // The merchant was paid out all but one fen of the paid order's 97.53: the hold no longer fits.
  ASSERT_EQ(available(), 9'753);
  auto st = pay_out(9'752);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(available(), 1);
  EXPECT_TRUE(fails_with(hold(paid->order.id), ErrorCode::kFailedPrecondition,
                         "cannot be held: its funds could not move to frozen (insufficient balance"));
  auto o = stored(paid->order.id);
  EXPECT_EQ(o->state, CashierState::kPaid);
  EXPECT_EQ(available(), 1);
  EXPECT_EQ(frozen(), 9'753) << "only the order held at payment";
  EXPECT_EQ(notifies(paid->order.id).size(), 1u);
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, ReleaseToTheMerchantMakesTheFundsAvailable) {
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  clock_.set_unix_ms(kPaidAtMs);
  ASSERT_TRUE(succeeds(complete(a->order.id, Outcome::kSettle)));
  ASSERT_TRUE(succeeds(hold(a->order.id, "inquiry")));
  EXPECT_EQ(frozen(), 9'753);
  clock_.advance_ms(3'600'000);
  auto released = release(a->order.id, true);
  ASSERT_TRUE(succeeds(released));
  EXPECT_EQ(released->state, CashierState::kPaid);
  EXPECT_EQ(released->message, "交易成功");
  EXPECT_EQ(released->paid_at_ms, kPaidAtMs);
  EXPECT_EQ(stored(a->order.id)->state, CashierState::kPaid);
  EXPECT_EQ(frozen(), 0);
  EXPECT_EQ(available(), 9'753);
  EXPECT_EQ(revenue(), 250);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 3u);
  expect_notify(n[2], a->order.id, kPaidAtMs + 3'600'000,
                notify_json("0000", "交易成功", a->order.id, 10'003, "M20231115000001", kPaidAtText));
  EXPECT_TRUE(fails_with(release(a->order.id, true), ErrorCode::kFailedPrecondition, "is paid (0000), not held"));
  EXPECT_TRUE(fails_with(release(a->order.id, false), ErrorCode::kFailedPrecondition, "not held"));
  EXPECT_EQ(notifies(a->order.id).size(), 3u);
  expect_ledger_ok();

  // Held at payment (1004), released with a reason: it is the resultmsg.
  auto b = pay(sealed(PayReq{.orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(b));
  ASSERT_TRUE(succeeds(complete(b->order.id, Outcome::kHeld)));
  auto rb = release(b->order.id, true, "cleared by review");
  ASSERT_TRUE(succeeds(rb));
  EXPECT_EQ(rb->message, "cleared by review");
  n = notifies(b->order.id);
  ASSERT_EQ(n.size(), 2u);
  expect_notify(n[1], b->order.id, clock_.now_unix_ms(),
                notify_json("0000", "cleared by review", b->order.id, 10'003, "M20231115000002",
                            "2023-11-15 07:14:21"));
  EXPECT_EQ(available(), 2 * 9'753);
  EXPECT_EQ(frozen(), 0);
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, ReleaseToThePayerReturnsTheAmountAndTheFee) {
  auto a = pay(sealed(PayReq{}));
  auto b = pay(sealed(PayReq{.orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(a) && succeeds(b));
  clock_.set_unix_ms(kPaidAtMs);
  ASSERT_TRUE(succeeds(complete(a->order.id, Outcome::kSettle)));
  ASSERT_TRUE(succeeds(complete(b->order.id, Outcome::kSettle)));
  ASSERT_TRUE(succeeds(hold(a->order.id)));
  EXPECT_EQ(revenue(), 500);
  EXPECT_EQ(clearing(), -20'006);
  clock_.advance_ms(60'000);
  auto returned = release(a->order.id, false);
  ASSERT_TRUE(succeeds(returned));
  EXPECT_EQ(returned->state, CashierState::kFailed);
  EXPECT_EQ(returned->message, "returned to the payer");
  EXPECT_EQ(stored(a->order.id)->state, CashierState::kFailed);
  // a's net left frozen and its fee left revenue, the whole amount back to the payer; b is untouched.
  EXPECT_EQ(frozen(), 0);
  EXPECT_EQ(available(), 9'753);
  EXPECT_EQ(revenue(), 250);
  EXPECT_EQ(clearing(), -10'003);
  auto postings = store_->read()->postings_for_reference(a->order.id.value());
  ASSERT_EQ(postings.size(), 3u + 2u + 3u);  // pay, hold, return
  EXPECT_EQ(postings.back().kind, ledger::kCashierReturn);
  auto n = notifies(a->order.id);
  ASSERT_EQ(n.size(), 3u);
  // The payment happened: paytime stays in the 1003 notify of a returned order.
  expect_notify(n[2], a->order.id, kPaidAtMs + 60'000,
                notify_json("1003", "returned to the payer", a->order.id, 10'003, "M20231115000001", kPaidAtText));
  EXPECT_TRUE(fails_with(release(a->order.id, false), ErrorCode::kFailedPrecondition, "is failed (1003), not held"));
  EXPECT_TRUE(fails_with(hold(a->order.id), ErrorCode::kFailedPrecondition, "is failed (1003)"));
  EXPECT_EQ(notifies(a->order.id).size(), 3u);
  expect_ledger_ok();

  // Held at payment, then returned with a reason: clearing comes back to b's alone.
  auto c = pay(sealed(PayReq{.action = "AliPay", .txnamt = "10000", .orderid = "M20231115000003"}));
  ASSERT_TRUE(succeeds(c));
  ASSERT_TRUE(succeeds(complete(c->order.id, Outcome::kHeld)));
  EXPECT_EQ(frozen(), 9'940);
  auto rc = release(c->order.id, false, "fraud confirmed");
  ASSERT_TRUE(succeeds(rc));
  EXPECT_EQ(rc->message, "fraud confirmed");
  EXPECT_EQ(frozen(), 0);
  EXPECT_EQ(revenue(), 250);
  EXPECT_EQ(clearing(), -10'003);
  n = notifies(c->order.id);
  ASSERT_EQ(n.size(), 2u);
  expect_notify(n[1], c->order.id, clock_.now_unix_ms(),
                notify_json("1003", "fraud confirmed", c->order.id, 10'000, "M20231115000003", "2023-11-15 06:15:21"));
  expect_ledger_ok();
}

// ---- query ----

TEST_P(CashierServiceTest, QueryFindsTheOrderByQueryidOrOrderid) {
  auto a = pay(sealed(PayReq{}));
  auto b = pay(sealed(PayReq{.action = "AliPay", .txnamt = "500", .orderid = "M20231115000002"}));
  ASSERT_TRUE(succeeds(a) && succeeds(b));
  clock_.set_unix_ms(kPaidAtMs);
  ASSERT_TRUE(succeeds(complete(a->order.id, Outcome::kSettle)));

  // By queryid; queryid wins over an orderid naming another order.
  const std::string qa = a->order.id.value();
  for (const std::string& json : {R"({"merid":"10001","queryid":")" + qa + "\"}",
                                  R"({"merid":"10001","queryid":")" + qa + R"(","orderid":"M20231115000002"})",
                                  R"({"merid":10001,"queryid":")" + qa + R"(","orderid":"not an orderid!"})"}) {
    Opened o = open_answer(service_->query(sealed(json)));
    EXPECT_EQ(o.json, query_ok_json("0000", "交易成功", a->order.id, 10'003, "M20231115000001", kPaidAtText)) << json;
    EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
  }
  // By orderid: the unpaid one, paytime empty.
  Opened o = open_answer(service_->query(sealed(R"({"merid":"10001","orderid":"M20231115000002"})")));
  EXPECT_EQ(o.json, query_ok_json("1001", "未支付", b->order.id, 500, "M20231115000002", ""));
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
  // Queries change nothing.
  EXPECT_TRUE(notifies(b->order.id).empty());
  EXPECT_EQ(notifies(a->order.id).size(), 1u);
  expect_ledger_ok();
}

TEST_P(CashierServiceTest, AMerchantsIpAllowlistRefusesPayAndQueryFromOutsideIt) {
  auto a = pay(sealed(PayReq{}));
  ASSERT_TRUE(succeeds(a));
  auto st = store_->write_sync([](Tx& tx) {
    auto m = *tx.merchant(MerchantId{10001});
    m.api_ip_allowlist = {"10.0.0.0/8"};
    tx.update_merchant(m);
    return ok_status();
  });
  ASSERT_TRUE(st.ok());
  const std::string refused = "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist";
  Refusal r{make_error(ErrorCode::kInternal, "not set"), "not set"};
  auto p = service_->prepare_pay(sealed(PayReq{.orderid = "M20231115000009"}), &r, "127.0.0.1");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(r.error.message, refused);
  EXPECT_EQ(r.merchant_key, kKey);  // signed: the caller proved it holds the key
  EXPECT_FALSE(service_->prepare_pay(sealed(PayReq{.orderid = "M20231115000009"}), nullptr).ok());
  EXPECT_TRUE(succeeds(service_->prepare_pay(sealed(PayReq{.orderid = "M20231115000009"}), nullptr, "10.0.0.1")));

  const std::string q = R"({"merid":"10001","queryid":")" + a->order.id.value() + "\"}";
  Opened o = open_answer(service_->query(sealed(q), "127.0.0.1"));
  EXPECT_EQ(o.json, query_error_json("02", refused));
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
  o = open_answer(service_->query(sealed(q), "10.9.8.7"));
  EXPECT_EQ(o.json, query_ok_json("1001", "未支付", a->order.id, 10'003, "M20231115000001", ""));
}

TEST_P(CashierServiceTest, QueryErrorsAreRespcodesSignedOnlyForAKnownMerchantAndAGoodSign) {
  auto a = pay(sealed(PayReq{}));
  auto other = pay(sealed(PayReq{.action = "AliPay", .merid = "10002", .orderid = "S20231115000001"}, kSingleKey));
  ASSERT_TRUE(succeeds(a) && succeeds(other));
  auto answer = [&](const Fields& form) { return open_answer(service_->query(form)); };

  // 04, signed: no such order for this merchant (another merchant's queryid or orderid included).
  Opened o = answer(sealed(R"({"merid":"10001","orderid":"M20231115009999"})"));
  EXPECT_EQ(o.json, query_error_json("04", "no order with orderid M20231115009999"));
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
  o = answer(sealed(R"({"merid":"10001","queryid":"Q1700000000250nosuchorder"})"));
  EXPECT_EQ(o.json, query_error_json("04", "no order with queryid Q1700000000250nosuchorder"));
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
  o = answer(sealed(R"({"merid":"10001","queryid":")" + other->order.id.value() + "\"}"));
  EXPECT_EQ(o.json, query_error_json("04", "no order with queryid " + other->order.id.value()));
  o = answer(sealed(R"({"merid":"10001","orderid":"S20231115000001"})"));
  EXPECT_EQ(o.json, query_error_json("04", "no order with orderid S20231115000001"));
  // ... which its own merchant finds.
  o = answer(sealed(R"({"merid":"10002","orderid":"S20231115000001"})", kSingleKey));
  EXPECT_EQ(o.json, R"({"respcode":"00","respmsg":"成功",)" +
                        result_members("1001", "未支付", other->order.id, 10'003, "S20231115000001", "10002") +
                        R"(,"paytime":""})");
  EXPECT_EQ(o.sign, md5_lower(o.text + kSingleKey));

  // 02, signed with the merchant's key (DECISIONS.md): a wrong or missing sign. The answer holds nothing the
  // request chose.
  o = answer(sealed(R"({"merid":"10001","orderid":"M20231115000001"})", "not-the-key"));
  EXPECT_EQ(o.json.substr(0, 31), R"({"respcode":"02","respmsg":"bad)");
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
  Fields unsigned_form = sealed(R"({"merid":"10001","orderid":"M20231115000001"})");
  unsigned_form.erase("sign");
  o = answer(unsigned_form);
  EXPECT_NE(o.json.find(R"({"respcode":"02","respmsg":"missing required field sign)"), std::string::npos) << o.json;
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));

  // 03: an unknown merchant (unsigned), a disabled one (signed).
  o = answer(sealed(R"({"merid":"99999","orderid":"M20231115000001"})"));
  EXPECT_EQ(o.json, query_error_json("03", "unknown merid 99999"));
  EXPECT_EQ(o.sign, "");
  o = answer(sealed(R"({"merid":"10003","orderid":"M20231115000001"})", kDisabledKey));
  EXPECT_EQ(o.json, query_error_json("03", "merchant account is disabled"));
  EXPECT_EQ(o.sign, md5_lower(o.text + kDisabledKey));

  // 01: unsigned until the merchant is known, signed after.
  o = answer(Fields{{"req", "not base64!"}, {"sign", "0123456789abcdef0123456789abcdef"}});
  EXPECT_EQ(o.json.substr(0, 33), R"({"respcode":"01","respmsg":"req i)");
  EXPECT_EQ(o.sign, "");
  o = answer(Fields{});
  EXPECT_EQ(o.json, query_error_json("01", "missing required field req"));
  EXPECT_EQ(o.sign, "");
  o = answer(sealed(R"({"merid":"010001","orderid":"M20231115000001"})"));
  EXPECT_NE(o.json.find(R"({"respcode":"01","respmsg":"merid must be)"), std::string::npos) << o.json;
  EXPECT_EQ(o.sign, "");
  o = answer(sealed(R"({"merid":"10001"})"));
  EXPECT_EQ(o.json, query_error_json("01", "missing queryid and orderid: send at least one (queryid wins when both "
                                           "are sent)"));
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
  o = answer(sealed(R"({"merid":"10001","queryid":"Q-1"})"));
  EXPECT_NE(o.json.find(R"({"respcode":"01","respmsg":"queryid must be)"), std::string::npos) << o.json;
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
  o = answer(sealed(R"({"merid":"10001","orderid":"short"})"));
  EXPECT_EQ(o.json, query_error_json("01", "orderid is shorter than 8 characters"));
  EXPECT_EQ(o.sign, md5_lower(o.text + kKey));
}

INSTANTIATE_TEST_SUITE_P(Engines, CashierServiceTest, ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::cashier
