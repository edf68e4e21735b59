// gateway::Service and its write-side steps against each storage engine (SQLite, PostgreSQL), a ManualClock and a
// SeededRandom. Requests are signed here by hand (the document's fixed order, MD5 lower) rather than with the codec
// under test.
#include "protocols/gateway/service.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"
#include "storage/testing/store_fixture.h"

namespace paygate::gateway {
namespace {

using orders::PayIn;
using orders::PayInOutcome;
using orders::PayInState;
using orders::Payout;
using orders::PayoutState;
using storage::Tx;

const std::string kAppKey = "AK-gateway-merchant-0001";
const std::string kSignKey = "SK-gateway-0123456789";
const std::string kOtherAppKey = "AK-gateway-merchant-0002";
const std::string kOtherSignKey = "SK-other-9876543210";
const MerchantId kMerchant{10001};
const MerchantId kOther{10002};
constexpr int64_t kStartMs = 1'700'000'000'250;
constexpr int64_t kExpiryMs = 15 * 60'000;

std::string md5_lower(const std::string& s) {
  std::string h = crypto::md5_hex_upper(s);
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h;
}

std::string get(const Fields& f, const char* name) {
  auto it = f.find(name);
  return it == f.end() ? std::string() : it->second;
}

std::string joined(const Fields& f, std::initializer_list<const char*> names, const std::string& key) {
  std::string s;
  for (const char* n : names) s += std::string(n) + "=" + get(f, n) + "&";
  return s + "key=" + key;
}

Fields signed_pay_in(Fields f, const std::string& key = kSignKey) {
  f.erase("sign");
  f.emplace("sign", md5_lower(joined(f, {"amount", "appKey", "callbackUrl", "channelId", "mrn", "returnUrl"}, key)));
  return f;
}

Fields signed_payout(Fields f, const std::string& key = kSignKey) {
  f.erase("sign");
  f.emplace("sign", md5_lower(joined(f, {"accountName", "accountNumber", "amount", "appKey", "bankName",
                                         "callbackUrl", "mrn"},
                                     key)));
  return f;
}

Fields signed_query(Fields f, const std::string& key = kSignKey) {
  f.erase("sign");
  f.emplace("sign", md5_lower(joined(f, {"appKey", "mrn"}, key)));
  return f;
}

template <typename T>
::testing::AssertionResult fails_with(const Result<T>& r, WireError code, std::string_view substring) {
  if (r.ok()) {
    return ::testing::AssertionFailure() << "expected " << wire_error_name(code) << " containing \"" << substring
                                         << "\", got ok";
  }
  if (wire_error_of(r.error()) != code || r.error().message.find(substring) == std::string::npos) {
    return ::testing::AssertionFailure() << "expected " << wire_error_name(code) << " containing \"" << substring
                                         << "\", got " << wire_error_name(wire_error_of(r.error())) << ": \""
                                         << r.error().message << "\"";
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
::testing::AssertionResult succeeds(const Result<T>& r) {
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << error_code_name(r.error().code) << ": " << r.error().message;
}

class GatewayServiceTest : public ::testing::TestWithParam<storage::testing::StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    Config config;
    config.payment_expiry_ms = kExpiryMs;
    config.payout_delay_ms = 1'000;
    config.schedule.gateway_retry_delays_ms = {100, 200};
    processors_.payin.emplace(sandbox_.name(), &sandbox_);
    processors_.bank = &bank_;
    service_ = std::make_unique<Service>(*store_, clock_, config, processors_);
    auto st = store_->write_sync([](Tx& tx) {
      storage::Merchant m;
      m.name = "Gateway merchant";
      m.app_key = kAppKey;
      m.sign_key = kSignKey;
      m.aes_key = "abcdefghijklmnop";
      m.created_at_ms = m.updated_at_ms = kStartMs;
      EXPECT_EQ(tx.insert_merchant(m), kMerchant);
      storage::Merchant other = m;
      other.name = "Other";
      other.app_key = kOtherAppKey;
      other.sign_key = kOtherSignKey;
      other.enabled = false;
      EXPECT_EQ(tx.insert_merchant(other), kOther);
      auto channel = [&](int id, int32_t fee_permille, int64_t min_fen, int64_t max_fen, bool enabled) {
        storage::MerchantChannel ch;
        ch.merchant_id = kMerchant;
        ch.channel_id = id;
        ch.enabled = enabled;
        ch.fee_rate = RatePermille{fee_permille};
        ch.min_amount = Money::from_fen(min_fen);
        ch.max_amount = Money::from_fen(max_fen);
        ch.processor = "sandbox";
        ch.updated_at_ms = kStartMs;
        tx.set_merchant_channel(ch);
      };
      channel(1, 25, 0, 0, true);          // 2.5%, no limits
      channel(2, 0, 100, 500'000, true);   // free, 1.00 .. 5000.00
      channel(3, 25, 0, 0, false);         // disabled
      return ok_status();
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  void TearDown() override {
    if (store_) store_->close();
  }

  Fields pay_in_fields(const std::string& mrn = "M-1", const std::string& amount = "10.5") const {
    return Fields{{"amount", amount},
                  {"appKey", kAppKey},
                  {"callbackUrl", "https://merchant.example.com/cb?x=1"},
                  {"channelId", "1"},
                  {"mrn", mrn},
                  {"returnUrl", "https://merchant.example.com/return"},
                  {"payer", "张三"}};
  }

  Fields payout_fields(const std::string& mrn = "W-1", const std::string& amount = "100",
                       const std::string& account = "6222020000001234") const {
    return Fields{{"amount", amount},
                  {"appKey", kAppKey},
                  {"bankName", "中国工商银行"},
                  {"accountName", "张三"},
                  {"accountNumber", account},
                  {"mrn", mrn},
                  {"callbackUrl", "https://merchant.example.com/payout-cb"}};
  }

  static Fields with(Fields f, const std::string& name, const std::string& value) {
    f[name] = value;
    return f;
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

  Result<PayInAnswer> pay_in(const Fields& signed_fields) {
    auto p = service_->prepare_pay_in(signed_fields);
    if (!p.ok()) return p.error();
    return in_write<PayInAnswer>([&](Tx& tx) { return Service::commit_pay_in(tx, *p, random_); });
  }

  // prepare_payout, seal_ahead, then commit_payout, as the handler does.
  Result<PayoutAnswer> payout(const Fields& signed_fields) {
    auto p = service_->prepare_payout(signed_fields);
    if (!p.ok()) return p.error();
    service_->seal_ahead(*p, random_);
    return in_write<PayoutAnswer>([&](Tx& tx) { return Service::commit_payout(tx, *p, random_); });
  }

  Result<PayIn> complete(const PaymentId& id, PayInOutcome outcome) {
    return in_write<PayIn>(
        [&](Tx& tx) { return complete_pay_in(tx, id, outcome, clock_.now_unix_ms(), service_->config().schedule); });
  }

  PayInOutcome paid(int64_t fen) { return PayInOutcome{PayInOutcome::Kind::kPaid, Money::from_fen(fen), {}}; }

  // Credits the merchant's available balance by paying a pay-in of `fen` on the free channel 2.
  void fund(int64_t fen, const std::string& mrn = "FUND") {
    auto a = pay_in(signed_pay_in(with(pay_in_fields(mrn, format_yuan(Money::from_fen(fen))), "channelId", "2")));
    ASSERT_TRUE(succeeds(a));
    ASSERT_TRUE(succeeds(complete(a->payin.id, paid(fen))));
  }

  Money available() { return store_->read()->balance(ledger::merchant_available(kMerchant).code); }
  Money reserved() { return store_->read()->balance(ledger::merchant_payout_reserved(kMerchant).code); }
  Money revenue() { return store_->read()->balance(ledger::platform_revenue().code); }

  std::vector<storage::Notification> callbacks(const std::string& ref) {
    return store_->read()->notifications_for_order(ref);
  }

  void expect_ledger_ok() {
    auto check = store_->read()->check_ledger();
    EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
  ManualClock clock_{kStartMs};
  SeededRandom random_{42};
  processors::SandboxPayInProcessor sandbox_;
  processors::SandboxBank bank_;
  Processors processors_;
  std::unique_ptr<Service> service_;
};

// ---- pay-in ----

TEST_P(GatewayServiceTest, PayInIsStoredWaitingWithTheChannelFeeAndExpiry) {
  auto a = pay_in(signed_pay_in(pay_in_fields()));
  ASSERT_TRUE(succeeds(a));
  EXPECT_FALSE(a->identical_retry);
  const PayIn& p = a->payin;
  EXPECT_EQ(p.id.value().size(), 1u + 13 + 12);
  EXPECT_EQ(p.id.value()[0], 'P');
  auto stored = store_->read()->payin_by_id(p.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->merchant_id, kMerchant);
  EXPECT_EQ(stored->mrn, "M-1");
  EXPECT_EQ(stored->amount.fen(), 1050);
  EXPECT_EQ(stored->amount_text, "10.5");
  EXPECT_EQ(stored->channel_id, 1);
  EXPECT_EQ(stored->fee_rate.value, 25);
  EXPECT_EQ(stored->payer, "张三");
  EXPECT_EQ(stored->state, PayInState::kWaiting);
  EXPECT_EQ(stored->expires_at_ms, kStartMs + kExpiryMs);
  EXPECT_EQ(stored->processor, "sandbox");
  EXPECT_TRUE(callbacks(p.id.value()).empty());
}

TEST_P(GatewayServiceTest, PayInErrorsCarryTheirWireCode) {
  auto f = pay_in_fields();
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(f, "amount", "1.234"))), WireError::kInvalidData, "two decimals"));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(f, "appKey", "AK-nobody"))), WireError::kObjectNotFound,
                         "unknown appKey AK-nobody"));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(f, "wrong-key")), WireError::kSignError, "bad sign"));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(f, "appKey", kOtherAppKey), kOtherSignKey)),
                         WireError::kObjectNotFound, "disabled"));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(f, "channelId", "3"))), WireError::kInvalidData,
                         "channelId 3 (Bank card) is not enabled for this merchant"));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(f, "channelId", "4"))), WireError::kInvalidData, "not enabled"));
  auto ch2 = with(f, "channelId", "2");
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(ch2, "amount", "0.99"))), WireError::kInvalidData,
                         "amount 0.99 is below the minimum of channel 2 (Alipay): 1.00"));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(ch2, "amount", "5000.01"))), WireError::kInvalidData,
                         "above the maximum"));
  EXPECT_TRUE(succeeds(pay_in(signed_pay_in(with(with(ch2, "amount", "5000"), "mrn", "M-edge")))));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(f, "callbackUrl", "http://127.0.0.1/cb"))),
                         WireError::kInvalidData, "private, loopback"));
  // Nothing of the rejected requests was stored.
  EXPECT_FALSE(store_->read()->payin(kMerchant, "M-1").has_value());
}

TEST_P(GatewayServiceTest, IdenticalPayInRetryGetsTheFirstAnswerAndAChangeIsADuplicate) {
  auto first = pay_in(signed_pay_in(pay_in_fields()));
  ASSERT_TRUE(succeeds(first));
  clock_.advance_ms(5'000);
  // payer is not signed: a retry with another payer is still the same request.
  auto retry = pay_in(signed_pay_in(with(pay_in_fields(), "payer", "someone else")));
  ASSERT_TRUE(succeeds(retry));
  EXPECT_TRUE(retry->identical_retry);
  EXPECT_EQ(retry->payin.id, first->payin.id);
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(pay_in_fields(), "amount", "10.50"))), WireError::kMrnDuplication,
                         "mrn_duplication: mrn M-1 was already used"));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(pay_in_fields(), "returnUrl", "https://x.example/r"))),
                         WireError::kMrnDuplication, "different fields"));
  auto stored = store_->read()->payin(kMerchant, "M-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->amount_text, "10.5");
  EXPECT_EQ(stored->created_at_ms, kStartMs);
}

TEST_P(GatewayServiceTest, AnIdenticalPayInRetryGetsTheFirstAnswerWhateverTheChannelRefusesSince) {
  const Fields f = with(pay_in_fields("M-ch", "50.00"), "channelId", "2");
  auto first = pay_in(signed_pay_in(f));
  ASSERT_TRUE(succeeds(first));
  auto set_channel_2 = [&](int64_t max_fen, bool enabled, const std::string& processor) {
    ASSERT_TRUE(store_->write_sync([&](Tx& tx) {
                        storage::MerchantChannel ch;
                        ch.merchant_id = kMerchant;
                        ch.channel_id = 2;
                        ch.enabled = enabled;
                        ch.min_amount = Money::from_fen(100);
                        ch.max_amount = Money::from_fen(max_fen);
                        ch.processor = processor;
                        ch.updated_at_ms = clock_.now_unix_ms();
                        tx.set_merchant_channel(ch);
                        return ok_status();
                      })
                    .ok());
  };
  auto expect_first_answer = [&](const char* after) {
    clock_.advance_ms(1'000);
    auto retry = pay_in(signed_pay_in(f));
    ASSERT_TRUE(succeeds(retry)) << after;
    EXPECT_TRUE(retry->identical_retry) << after;
    EXPECT_EQ(retry->payin.id, first->payin.id) << after;
  };
  // Each change alone refuses a new pay-in (PayInErrorsCarryTheirWireCode); the retry of an accepted one is answered.
  set_channel_2(2'000, true, "sandbox");
  expect_first_answer("the channel's maximum lowered below the amount");
  set_channel_2(500'000, true, "no-such-processor");
  expect_first_answer("the channel bound to a processor that is not there");
  set_channel_2(500'000, false, "sandbox");
  expect_first_answer("the channel disabled");

  // The mrn rule comes first for a changed request too; a new mrn gets the channel's refusal, and nothing is stored.
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(f, "amount", "50.01"))), WireError::kMrnDuplication,
                         "mrn M-ch was already used"));
  EXPECT_TRUE(fails_with(pay_in(signed_pay_in(with(f, "mrn", "M-new"))), WireError::kInvalidData,
                         "channelId 2 (Alipay) is not enabled for this merchant"));
  EXPECT_FALSE(store_->read()->payin(kMerchant, "M-new").has_value());
  auto stored = store_->read()->payin(kMerchant, "M-ch");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->updated_at_ms, kStartMs);
  EXPECT_EQ(stored->state, PayInState::kWaiting);
}

TEST_P(GatewayServiceTest, PaidPayInCreditsTheAmountLessTheFeeAndQueuesASignedCallback) {
  auto a = pay_in(signed_pay_in(pay_in_fields("M-fee", "100.01")));
  ASSERT_TRUE(succeeds(a));
  // The customer pays a different amount: 100.03 at 2.5% is 2.50075, half-up 2.50 to the fen.
  auto done = complete(a->payin.id, paid(10'003));
  ASSERT_TRUE(succeeds(done));
  EXPECT_EQ(done->state, PayInState::kPaid);
  EXPECT_EQ(done->paid.fen(), 10'003);
  EXPECT_EQ(done->fee.fen(), 250);
  EXPECT_EQ(available().fen(), 10'003 - 250);
  EXPECT_EQ(revenue().fen(), 250);
  auto postings = store_->read()->postings_for_reference(a->payin.id.value());
  ASSERT_EQ(postings.size(), 3u);
  EXPECT_EQ(postings[0].kind, "gateway.payin");

  auto cbs = callbacks(a->payin.id.value());
  ASSERT_EQ(cbs.size(), 1u);
  EXPECT_EQ(cbs[0].protocol, "gateway");
  EXPECT_EQ(cbs[0].url, "https://merchant.example.com/cb?x=1");
  EXPECT_EQ(cbs[0].attempts_max, 3);
  std::string sign = md5_lower("amount=100.03&appKey=" + kAppKey + "&channel=1&mrn=M-fee&originAmount=100.01&key=" +
                               kSignKey);
  EXPECT_EQ(cbs[0].body, "amount=100.03&appKey=" + kAppKey + "&channel=1&mrn=M-fee&originAmount=100.01&sign=" + sign);
  expect_ledger_ok();

  // Half-up at the boundary: 0.20 at 2.5% is exactly 0.005 -> 0.01; 0.01 -> 0.00025 -> 0.
  auto b = pay_in(signed_pay_in(pay_in_fields("M-half", "0.20")));
  ASSERT_TRUE(succeeds(b));
  EXPECT_EQ(complete(b->payin.id, paid(20))->fee.fen(), 1);
  auto c = pay_in(signed_pay_in(pay_in_fields("M-tiny", "0.01")));
  ASSERT_TRUE(succeeds(c));
  EXPECT_EQ(complete(c->payin.id, paid(1))->fee.fen(), 0);
  EXPECT_EQ(available().fen(), 10'003 - 250 + 19 + 1);
  EXPECT_EQ(revenue().fen(), 251);
  expect_ledger_ok();
}

TEST_P(GatewayServiceTest, FailedAndExpiredPayInsMoveNoMoneyAndSendNoCallback) {
  auto a = pay_in(signed_pay_in(pay_in_fields("M-fail")));
  ASSERT_TRUE(succeeds(a));
  auto failed = complete(a->payin.id, PayInOutcome{PayInOutcome::Kind::kFailed, {}, "declined"});
  ASSERT_TRUE(succeeds(failed));
  EXPECT_EQ(failed->state, PayInState::kFailed);
  EXPECT_EQ(orders::payin_protocol_status(failed->state), 2);
  EXPECT_TRUE(fails_with(complete(a->payin.id, paid(1050)), WireError::kInsufficientBalance, "already failed"));

  auto b = pay_in(signed_pay_in(pay_in_fields("M-expire")));
  ASSERT_TRUE(succeeds(b));
  EXPECT_EQ(store_->read()->next_payin_expiry_ms(), kStartMs + kExpiryMs);
  clock_.advance_ms(kExpiryMs);
  // Due but not yet marked: a payment past its expiry is refused anyway.
  EXPECT_TRUE(fails_with(complete(b->payin.id, paid(1050)), WireError::kInsufficientBalance, "expired"));
  auto expired = in_write<size_t>([&](Tx& tx) { return expire_pay_ins(tx, clock_.now_unix_ms(), 10); });
  ASSERT_TRUE(succeeds(expired));
  EXPECT_EQ(*expired, 1u);
  auto stored = store_->read()->payin_by_id(b->payin.id);
  EXPECT_EQ(stored->state, PayInState::kFailed);
  EXPECT_EQ(stored->message, "expired");
  EXPECT_FALSE(store_->read()->next_payin_expiry_ms().has_value());
  EXPECT_TRUE(callbacks(a->payin.id.value()).empty());
  EXPECT_TRUE(callbacks(b->payin.id.value()).empty());
  EXPECT_EQ(available().fen(), 0);
  expect_ledger_ok();
}

TEST_P(GatewayServiceTest, AMerchantsIpAllowlistRefusesEveryApiCallFromOutsideIt) {
  fund(100'000);
  ASSERT_TRUE(succeeds(pay_in(signed_pay_in(pay_in_fields("M-before")))));
  auto st = store_->write_sync([](Tx& tx) {
    auto m = *tx.merchant(kMerchant);
    m.api_ip_allowlist = {"10.0.0.0/8", "2001:db8::/32"};
    tx.update_merchant(m);
    return ok_status();
  });
  ASSERT_TRUE(st.ok());
  const std::string refused = "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist";
  EXPECT_TRUE(fails_with(service_->prepare_pay_in(signed_pay_in(pay_in_fields("M-ip")), "127.0.0.1"),
                         WireError::kSignError, refused));
  EXPECT_TRUE(fails_with(service_->prepare_payout(signed_payout(payout_fields("W-ip")), "127.0.0.1"),
                         WireError::kSignError, refused));
  Fields q{{"appKey", kAppKey}, {"mrn", "M-before"}};
  EXPECT_TRUE(fails_with(service_->find_pay_in(signed_query(q), "127.0.0.1"), WireError::kSignError, refused));
  EXPECT_TRUE(fails_with(service_->find_payout(signed_query(q), "127.0.0.1"), WireError::kSignError, refused));
  // No address at all is outside the list too; a bad sign is still a bad sign, whatever the address.
  EXPECT_TRUE(fails_with(service_->prepare_pay_in(signed_pay_in(pay_in_fields("M-ip"))), WireError::kSignError,
                         "IP not allowed"));
  EXPECT_TRUE(fails_with(service_->prepare_pay_in(signed_pay_in(pay_in_fields("M-ip"), "bad"), "127.0.0.1"),
                         WireError::kSignError, "bad sign"));
  // Inside the list.
  EXPECT_TRUE(succeeds(service_->prepare_pay_in(signed_pay_in(pay_in_fields("M-ip")), "10.1.2.3")));
  EXPECT_TRUE(succeeds(service_->prepare_payout(signed_payout(payout_fields("W-ip")), "2001:db8::7")));
  EXPECT_TRUE(succeeds(service_->find_pay_in(signed_query(q), "10.255.255.255")));
}

TEST_P(GatewayServiceTest, QueryFindsTheOrderAndRequeuesTheCallbackOnlyWhenPaid) {
  auto a = pay_in(signed_pay_in(pay_in_fields("M-q")));
  ASSERT_TRUE(succeeds(a));
  Fields q{{"appKey", kAppKey}, {"mrn", "M-q"}, {"callback", "true"}};
  auto found = service_->find_pay_in(signed_query(q));
  ASSERT_TRUE(succeeds(found));
  EXPECT_TRUE(found->callback);
  EXPECT_EQ(found->payin.state, PayInState::kWaiting);
  EXPECT_FALSE(*in_write<bool>([&](Tx& tx) -> Result<bool> {
    return requeue_pay_in_callback(tx, a->payin.id, clock_.now_unix_ms(), service_->config().schedule);
  }));
  ASSERT_TRUE(succeeds(complete(a->payin.id, paid(1050))));
  EXPECT_TRUE(*in_write<bool>([&](Tx& tx) -> Result<bool> {
    return requeue_pay_in_callback(tx, a->payin.id, clock_.now_unix_ms(), service_->config().schedule);
  }));
  auto cbs = callbacks(a->payin.id.value());
  ASSERT_EQ(cbs.size(), 2u);
  EXPECT_EQ(cbs[0].body, cbs[1].body);

  EXPECT_TRUE(fails_with(service_->find_pay_in(signed_query(with(q, "mrn", "M-none"))), WireError::kObjectNotFound,
                         "no pay-in with mrn M-none"));
  EXPECT_TRUE(fails_with(service_->find_pay_in(signed_query(q, "bad")), WireError::kSignError, "bad sign"));
  EXPECT_TRUE(fails_with(service_->find_pay_in(signed_query(with(q, "appKey", "nobody"))), WireError::kObjectNotFound,
                         "unknown appKey"));
  EXPECT_TRUE(fails_with(service_->find_pay_in(signed_query(with(q, "callback", "yes"))), WireError::kInvalidData,
                         "callback must be true or false"));
  // A payout's mrn is not a pay-in's.
  EXPECT_TRUE(fails_with(service_->find_payout(signed_query(q)), WireError::kObjectNotFound, "no payout"));
}

// ---- payouts ----

TEST_P(GatewayServiceTest, APayoutTakesTheIdItsAccountNumberWasSealedAheadFor) {
  fund(50'000);
  auto p = service_->prepare_payout(signed_payout(payout_fields("W-1", "100")));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->sealed.payout_id.value().empty()) << "prepare_payout seals nothing";
  service_->seal_ahead(*p, random_);
  ASSERT_FALSE(p->sealed.payout_id.value().empty());
  EXPECT_EQ(p->sealed.account_number.find("6222020000001234"), std::string::npos) << "sealed, not plain";
  auto a = in_write<PayoutAnswer>([&](Tx& tx) { return Service::commit_payout(tx, *p, random_); });
  ASSERT_TRUE(succeeds(a));
  EXPECT_EQ(a->payout.id, p->sealed.payout_id);
  EXPECT_EQ(store_->read()->payout(kMerchant, "W-1")->account_number, "6222020000001234");
}

TEST_P(GatewayServiceTest, ACollisionOnTheSealedAheadPayoutIdSealsTheAccountAgainForTheNextId) {
  fund(50'000);
  auto p = service_->prepare_payout(signed_payout(payout_fields("W-1", "100")));
  ASSERT_TRUE(p.ok()) << p.error().message;
  service_->seal_ahead(*p, random_);
  // Another payout already holds that id.
  auto other = service_->prepare_payout(signed_payout(payout_fields("W-2", "1", "6222020000009999")));
  ASSERT_TRUE(other.ok()) << other.error().message;
  orders::Payout taken = other->payout;
  taken.id = p->sealed.payout_id;
  ASSERT_TRUE(store_->write_sync([&](Tx& tx) { return tx.insert_payout(taken); }).ok());

  auto a = in_write<PayoutAnswer>([&](Tx& tx) { return Service::commit_payout(tx, *p, random_); });
  ASSERT_TRUE(succeeds(a));
  EXPECT_NE(a->payout.id, p->sealed.payout_id);
  auto stored = store_->read()->payout(kMerchant, "W-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->id, a->payout.id);
  EXPECT_EQ(stored->account_number, "6222020000001234") << "sealed for the id it got, or it would not open";
}

TEST_P(GatewayServiceTest, PayoutHoldsAmountPlusFeeAndTheBankPaysIt) {
  fund(50'000);
  ASSERT_TRUE(store_->write_sync([](Tx& tx) {
                      auto m = *tx.merchant(kMerchant);
                      m.payout_fee = Money::from_fen(200);
                      tx.update_merchant(m);
                      return ok_status();
                    }).ok());
  service_->catalog().invalidate();
  auto a = payout(signed_payout(payout_fields("W-1", "100")));
  ASSERT_TRUE(succeeds(a));
  EXPECT_EQ(a->payout.state, PayoutState::kProcessing);
  EXPECT_EQ(a->payout.fee.fen(), 200);
  EXPECT_EQ(available().fen(), 50'000 - 10'200);
  EXPECT_EQ(reserved().fen(), 10'200);
  expect_ledger_ok();

  // An identical retry moves no money; a changed one is a duplicate.
  auto retry = payout(signed_payout(payout_fields("W-1", "100")));
  ASSERT_TRUE(succeeds(retry));
  EXPECT_TRUE(retry->identical_retry);
  EXPECT_TRUE(fails_with(payout(signed_payout(payout_fields("W-1", "101"))), WireError::kMrnDuplication, "W-1"));
  EXPECT_EQ(available().fen(), 50'000 - 10'200);

  EXPECT_EQ(store_->read()->next_payout_due_ms(), kStartMs + 1'000);
  auto none = in_write<size_t>([&](Tx& tx) -> Result<size_t> {
    return process_due_payouts(tx, bank_, clock_.now_unix_ms(), 10, service_->config().schedule);
  });
  EXPECT_EQ(*none, 0u) << "not due before the bank's delay";
  clock_.advance_ms(1'000);
  auto handled = in_write<size_t>([&](Tx& tx) -> Result<size_t> {
    return process_due_payouts(tx, bank_, clock_.now_unix_ms(), 10, service_->config().schedule);
  });
  EXPECT_EQ(*handled, 1u);
  auto stored = store_->read()->payout(kMerchant, "W-1");
  EXPECT_EQ(stored->state, PayoutState::kPaid);
  EXPECT_EQ(stored->account_number, "6222020000001234");
  EXPECT_EQ(reserved().fen(), 0);
  EXPECT_EQ(available().fen(), 50'000 - 10'200);
  EXPECT_EQ(revenue().fen(), 200);
  auto cbs = callbacks(stored->id.value());
  ASSERT_EQ(cbs.size(), 1u);
  EXPECT_EQ(cbs[0].body, "amount=100&appKey=" + kAppKey + "&mrn=W-1&sign=" +
                             md5_lower("amount=100&appKey=" + kAppKey + "&mrn=W-1&key=" + kSignKey));
  expect_ledger_ok();
}

TEST_P(GatewayServiceTest, FailedPayoutReturnsTheMoneyAndSendsNoCallback) {
  fund(20'000);
  auto a = payout(signed_payout(payout_fields("W-fail", "150", "6222020000000000")));
  ASSERT_TRUE(succeeds(a));
  EXPECT_EQ(available().fen(), 5'000);
  clock_.advance_ms(1'000);
  ASSERT_TRUE(succeeds(in_write<size_t>([&](Tx& tx) -> Result<size_t> {
    return process_due_payouts(tx, bank_, clock_.now_unix_ms(), 10, service_->config().schedule);
  })));
  auto stored = store_->read()->payout(kMerchant, "W-fail");
  EXPECT_EQ(stored->state, PayoutState::kFailed);
  EXPECT_EQ(orders::payout_protocol_status(stored->state), 2);
  EXPECT_NE(stored->message.find("************0000"), std::string::npos);
  EXPECT_EQ(available().fen(), 20'000);
  EXPECT_EQ(reserved().fen(), 0);
  EXPECT_TRUE(callbacks(stored->id.value()).empty());
  auto postings = store_->read()->postings_for_reference(stored->id.value());
  ASSERT_EQ(postings.size(), 4u);
  EXPECT_EQ(postings[0].kind, "gateway.payout.reserve");
  EXPECT_EQ(postings[2].kind, "gateway.payout.refund");
  expect_ledger_ok();
}

TEST_P(GatewayServiceTest, InsufficientBalanceStoresNothing) {
  fund(10'000);
  EXPECT_TRUE(fails_with(payout(signed_payout(payout_fields("W-big", "101"))), WireError::kInsufficientBalance,
                         "insufficient balance: the payout needs 101.00, the available balance is 100.00"));
  EXPECT_FALSE(store_->read()->payout(kMerchant, "W-big").has_value());
  EXPECT_EQ(available().fen(), 10'000);
  // The same mrn is free for a request that fits.
  EXPECT_TRUE(succeeds(payout(signed_payout(payout_fields("W-big", "100")))));
  EXPECT_EQ(available().fen(), 0);
  EXPECT_TRUE(fails_with(payout(signed_payout(payout_fields("W-more", "1"))), WireError::kInsufficientBalance,
                         "available balance is 0.00"));
  expect_ledger_ok();
}

TEST_P(GatewayServiceTest, PayoutErrorsCarryTheirWireCode) {
  auto f = payout_fields();
  EXPECT_TRUE(fails_with(payout(signed_payout(with(f, "amount", "10.0"))), WireError::kInvalidData, "whole number"));
  EXPECT_TRUE(fails_with(payout(signed_payout(with(f, "accountNumber", "1234"))), WireError::kInvalidData,
                         "8 to 32 digits"));
  EXPECT_TRUE(fails_with(payout(signed_payout(f, "nope")), WireError::kSignError, "bad sign"));
  EXPECT_TRUE(fails_with(payout(signed_payout(with(f, "appKey", "AK-x"))), WireError::kObjectNotFound, "unknown appKey"));
  EXPECT_TRUE(fails_with(payout(signed_payout(f)), WireError::kInsufficientBalance, "insufficient balance"));
}

TEST_P(GatewayServiceTest, ManualApprovalWaitsForTheOperator) {
  fund(30'000);
  ASSERT_TRUE(store_->write_sync([](Tx& tx) {
                      auto m = *tx.merchant(kMerchant);
                      m.payout_manual_approval = true;
                      tx.update_merchant(m);
                      return ok_status();
                    }).ok());
  service_->catalog().invalidate();
  auto a = payout(signed_payout(payout_fields("W-a", "100")));
  auto b = payout(signed_payout(payout_fields("W-b", "100")));
  ASSERT_TRUE(succeeds(a));
  ASSERT_TRUE(succeeds(b));
  EXPECT_EQ(a->payout.state, PayoutState::kApproval);
  EXPECT_EQ(available().fen(), 10'000) << "held at acceptance, before approval";
  clock_.advance_ms(60'000);
  EXPECT_FALSE(store_->read()->next_payout_due_ms().has_value()) << "the bank does not see unapproved payouts";

  auto approved = in_write<Payout>([&](Tx& tx) { return approve_payout(tx, a->payout.id, clock_.now_unix_ms(), 500); });
  ASSERT_TRUE(succeeds(approved));
  EXPECT_EQ(approved->state, PayoutState::kProcessing);
  EXPECT_EQ(store_->read()->next_payout_due_ms(), clock_.now_unix_ms() + 500);
  auto rejected =
      in_write<Payout>([&](Tx& tx) { return reject_payout(tx, b->payout.id, "account name mismatch", clock_.now_unix_ms()); });
  ASSERT_TRUE(succeeds(rejected));
  EXPECT_EQ(rejected->state, PayoutState::kRejected);
  EXPECT_EQ(rejected->message, "account name mismatch");
  EXPECT_EQ(available().fen(), 20'000);
  EXPECT_TRUE(fails_with(in_write<Payout>([&](Tx& tx) { return approve_payout(tx, b->payout.id, clock_.now_unix_ms(), 0); }),
                         WireError::kInsufficientBalance, "is rejected, not waiting for approval"));
  EXPECT_FALSE(
      in_write<Payout>([&](Tx& tx) { return reject_payout(tx, PayoutId{"W-nope"}, "", clock_.now_unix_ms()); }).ok());
  expect_ledger_ok();
}

INSTANTIATE_TEST_SUITE_P(Engines, GatewayServiceTest, ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::gateway
