// consign::Service against a real SQLite store in a temporary directory, a ManualClock and a SeededRandom. Requests
// are signed here by hand (the document's fixed order, MD5 upper) rather than with the codec under test.
#include "protocols/consign/service.h"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>

#include "crypto/card_password.h"
#include "crypto/crypto.h"
#include "processors/sandbox/card_processor.h"
#include "storage/testing/store_fixture.h"

namespace paygate::consign {
namespace {

using orders::ConsignOrder;
using orders::ConsignOutcome;
using orders::ConsignState;
using storage::Tx;

const std::string kSignKey = "SK-merchant-0123456789";
const std::string kAesKey = "abcdefghijklmnop";
const std::string kOtherSignKey = "SK-other-9876543210";
const std::string kOtherAesKey = "ponmlkjihgfedcba";
const std::string kNotifyUrl = "https://merchant.example.com/notify";
const MerchantId kMerchant{10001};
const MerchantId kOther{10002};
constexpr int64_t kStartMs = 1'700'000'000'250;

std::string get(const Fields& f, const char* name) {
  auto it = f.find(name);
  return it == f.end() ? std::string() : it->second;
}

std::string submit_string(const Fields& f, const std::string& key) {
  return "customerId=" + get(f, "customerId") + "&timestamp=" + get(f, "timestamp") + "&orderId=" + get(f, "orderId") +
         "&batchno=" + get(f, "batchno") + "&productCode=" + get(f, "productCode") +
         "&cardNumber=" + get(f, "cardNumber") + "&cardPassword=" + get(f, "cardPassword") +
         "&faceMoney=" + get(f, "faceMoney") + "&notifyUrl=" + get(f, "notifyUrl") + "&key=" + key;
}

std::string query_string(const Fields& f, const std::string& key) {
  return "customerId=" + get(f, "customerId") + "&timestamp=" + get(f, "timestamp") + "&orderId=" + get(f, "orderId") +
         "&key=" + key;
}

Fields signed_with(Fields f, const std::string& key = kSignKey) {
  f.erase("sign");
  f.emplace("sign", crypto::md5_hex_upper(submit_string(f, key)));
  return f;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
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

storage::Product make_product(const std::string& code, std::vector<int64_t> faces, int32_t rate, bool custom,
                              int32_t min, int32_t max, bool enabled) {
  storage::Product p;
  p.code = code;
  p.name = "Product " + code;
  p.face_values_yuan = std::move(faces);
  p.default_rate = RatePermille{rate};
  p.custom_rate_allowed = custom;
  p.custom_rate_min = RatePermille{min};
  p.custom_rate_max = RatePermille{max};
  p.enabled = enabled;
  p.created_at_ms = kStartMs;
  return p;
}

// Splits a form body into its names, in order.
std::vector<std::string> form_names(const std::string& body) {
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t end = body.find('&', pos);
    if (end == std::string::npos) end = body.size();
    std::string pair = body.substr(pos, end - pos);
    names.push_back(pair.substr(0, pair.find('=')));
    pos = end + 1;
  }
  return names;
}

class ConsignServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = harness_.open();
    box_ = harness_.box();
    service_ = std::make_unique<Service>(*store_, box_, clock_, Config{});
    auto st = store_->write_sync([](Tx& tx) {
      storage::Merchant m;
      m.name = "Test merchant";
      m.app_key = "app-1";
      m.sign_key = kSignKey;
      m.aes_key = kAesKey;
      m.created_at_ms = kStartMs;
      m.updated_at_ms = kStartMs;
      EXPECT_EQ(tx.insert_merchant(m), kMerchant);
      storage::Merchant other = m;
      other.name = "Other merchant";
      other.app_key = "app-2";
      other.sign_key = kOtherSignKey;
      other.aes_key = kOtherAesKey;
      EXPECT_EQ(tx.insert_merchant(other), kOther);
      tx.upsert_product(make_product("JD100", {50, 100, 200}, 965, true, 900, 980, true));
      tx.upsert_product(make_product("FIXED", {10, 20}, 950, false, 0, 0, true));
      tx.upsert_product(make_product("OFF", {100}, 965, false, 0, 0, false));
      tx.upsert_product(make_product("NOTMINE", {100}, 965, false, 0, 0, true));
      for (const char* code : {"JD100", "FIXED", "OFF"}) tx.set_merchant_product(kMerchant, code, true);
      tx.set_merchant_product(kOther, "JD100", true);
      return ok_status();
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  void TearDown() override { store_->close(); }

  // A valid submission, unsigned.
  Fields fields(const std::string& order_id = "O-1", const std::string& password = "PW-0001") const {
    return Fields{
        {"customerId", "10001"},
        {"timestamp", std::to_string(clock_.now_unix_s())},
        {"orderId", order_id},
        {"productType", "0"},
        {"batchno", "B-1"},
        {"productCode", "JD100"},
        {"cardNumber", "CN-0001"},
        {"cardPassword", crypto::encode_card_password(password, kAesKey)},
        {"faceMoney", "100"},
        {"notifyUrl", kNotifyUrl},
        {"custom", "my-custom"},
    };
  }

  Fields with(Fields f, const std::string& name, const std::string& value) const {
    f[name] = value;
    return f;
  }

  // prepare_submit's answer, with a refusal by the catalogue (which commit_submit gives only after the order-id rule)
  // as the error it becomes for a new order id: these tests are about the rules, not their order.
  Result<PreparedSubmit> prepare(const Fields& signed_fields) const {
    auto p = service_->prepare_submit(signed_fields);
    if (p.ok() && p->refused) return *p->refused;
    return p;
  }
  // Signs (with the merchant's key) and prepares.
  Result<PreparedSubmit> prepare_signed(Fields f) const { return prepare(signed_with(std::move(f))); }

  Result<SubmitAnswer> commit(const PreparedSubmit& p) {
    std::optional<Result<SubmitAnswer>> out;
    auto st = store_->write_sync([&](Tx& tx) -> Status {
      out.emplace(Service::commit_submit(tx, p, random_));
      if (!out->ok()) return out->error();
      return ok_status();
    });
    if (!out) return st.error();
    if (out->ok() && !st.ok()) return st.error();
    return std::move(*out);
  }

  // prepare_submit, seal_ahead, then commit_submit, as the handler does.
  Result<SubmitAnswer> submit(const Fields& signed_fields) {
    auto p = service_->prepare_submit(signed_fields);
    if (!p.ok()) return p.error();
    service_->seal_ahead(*p, random_);
    return commit(*p);
  }

  // Submits (signed) and returns the stored order; an empty order (and a test failure) when that did not work.
  ConsignOrder place(Fields f) {
    auto a = submit(signed_with(std::move(f)));
    EXPECT_TRUE(succeeds(a));
    if (!a.ok()) return {};
    auto o = store_->read()->consign_order_by_sys(a->sys_order_id);
    EXPECT_TRUE(o.has_value());
    return o.value_or(ConsignOrder{});
  }

  std::optional<ConsignOrder> order(const std::string& merchant_order_id) const {
    return store_->read()->consign_order(kMerchant, merchant_order_id);
  }

  Status finish(const ConsignOrder& o, const ConsignOutcome& outcome) {
    return store_->write_sync([&](Tx& tx) { return finish_order(tx, o, outcome, clock_.now_unix_ms()); });
  }

  size_t process(int64_t now_ms, size_t limit = 10) {
    size_t n = 0;
    auto st = store_->write_sync([&](Tx& tx) {
      n = process_due_orders(tx, sandbox_, now_ms, limit);
      return ok_status();
    });
    EXPECT_TRUE(st.ok());
    return n;
  }

  int64_t count_orders(std::optional<std::string> batchno = std::nullopt) const {
    storage::OrderFilter f;
    f.merchant_id = kMerchant;
    f.batchno = std::move(batchno);
    f.limit = 1'000;
    int64_t n = 0;
    for (;;) {
      auto page = store_->read()->consign_orders(f);
      if (page.empty()) return n;
      n += static_cast<int64_t>(page.size());
      f.before = std::pair{page.back().created_at_ms, page.back().sys_order_id.value()};
    }
  }

  // The batch counter without changing it: add one in a transaction that is rolled back.
  int64_t batch_count(const std::string& batchno) {
    int64_t n = -1;
    auto st = store_->write_sync([&](Tx& tx) -> Status {
      n = tx.consign_batch_add(kMerchant, batchno) - 1;
      return make_error(ErrorCode::kInternal, "roll back");
    });
    EXPECT_FALSE(st.ok());
    return n;
  }

  void expect_ledger_ok() {
    auto check = store_->read()->check_ledger();
    EXPECT_TRUE(check.ok) << ::testing::PrintToString(check.problems);
  }

  Money balance(const std::string& account) const { return store_->read()->balance(account); }

  storage::testing::SqliteHarness harness_;
  std::unique_ptr<storage::Store> store_;
  std::shared_ptr<const crypto::SecretBox> box_;
  ManualClock clock_{kStartMs};
  SeededRandom random_{42};
  processors::SandboxCardProcessor sandbox_;
  std::unique_ptr<Service> service_;
};

// ---------------------------------------------------------------------------------------------------------------
// prepare_submit

TEST_F(ConsignServiceTest, PrepareSubmitBuildsTheOrder) {
  auto p = prepare_signed(with(fields("O-1", "PW-0001"), "seCode", "321"));
  ASSERT_TRUE(succeeds(p));
  const auto& o = p->order;
  EXPECT_EQ(o.merchant_id, kMerchant);
  EXPECT_TRUE(o.sys_order_id.value().empty()) << "assigned at commit";
  EXPECT_EQ(o.merchant_order_id, "O-1");
  EXPECT_EQ(o.batchno, "B-1");
  EXPECT_EQ(o.product_code, "JD100");
  EXPECT_EQ(o.product_type, 0);
  EXPECT_EQ(o.card_number, "CN-0001");
  EXPECT_EQ(o.card_password, "PW-0001");
  EXPECT_FALSE(o.card_fingerprint.empty());
  EXPECT_EQ(o.card_fingerprint.find("PW-0001"), std::string::npos);
  EXPECT_EQ(o.se_code, "321");
  EXPECT_EQ(o.face_money_yuan, 100);
  EXPECT_EQ(o.rate, RatePermille{965}) << "the product's default rate";
  EXPECT_EQ(o.notify_url, kNotifyUrl);
  EXPECT_EQ(o.custom, "my-custom");
  EXPECT_FALSE(o.request_fingerprint.empty());
  EXPECT_EQ(o.state, ConsignState::kProcessing);
  EXPECT_EQ(o.created_at_ms, kStartMs);
  EXPECT_EQ(o.process_after_ms, kStartMs + 2'000);
  // The same card always has the same fingerprint; another card another.
  auto again = prepare_signed(fields("O-2", "PW-0001"));
  ASSERT_TRUE(succeeds(again));
  EXPECT_EQ(again->order.card_fingerprint, o.card_fingerprint);
  EXPECT_NE(again->order.request_fingerprint, o.request_fingerprint);
  auto other = prepare_signed(fields("O-3", "PW-0002"));
  ASSERT_TRUE(succeeds(other));
  EXPECT_NE(other->order.card_fingerprint, o.card_fingerprint);
  // Nothing is written by prepare.
  EXPECT_EQ(count_orders(), 0);
}

// Stored with every order and compared on an identical retry, so its bytes must not change between versions: the
// SHA-256 (lower-case hex) of the business fields, each followed by 0x1F, then the encrypted password in lower case.
TEST_F(ConsignServiceTest, TheRequestFingerprintIsTheSha256OfTheBusinessFieldsAndTheLowerCasePassword) {
  Fields f = signed_with(fields("O-9", "PW-0009"));
  std::string password(field(f, "cardPassword"));
  for (auto& c : password) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  f = signed_with(with(f, "cardPassword", password));  // upper-case hex: the same value
  auto p = prepare(f);
  ASSERT_TRUE(succeeds(p));
  std::string input;
  for (const char* name : {"customerId", "orderId", "batchno", "productCode", "cardNumber", "faceMoney", "notifyUrl"}) {
    input += field(f, name);
    input += '\x1f';
  }
  for (char c : password) input += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(p->order.request_fingerprint, crypto::sha256_hex(input));
}

TEST_F(ConsignServiceTest, ProcessingDelayComesFromConfig) {
  Service slow(*store_, box_, clock_, Config{.processing_delay_ms = 10'000});
  auto p = slow.prepare_submit(signed_with(fields()));
  ASSERT_TRUE(succeeds(p));
  EXPECT_EQ(p->order.process_after_ms, kStartMs + 10'000);
}

class ConsignServiceMissingField : public ConsignServiceTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ConsignServiceMissingField, IsRejectedWhenAbsentOrEmpty) {
  const std::string& name = GetParam();
  Fields f = signed_with(fields());
  ASSERT_TRUE(succeeds(prepare(f)));
  Fields absent = f;
  absent.erase(name);
  EXPECT_TRUE(fails_with(prepare(absent), ErrorCode::kInvalidArgument, "missing required field " + name));
  EXPECT_TRUE(fails_with(prepare(with(f, name, "")), ErrorCode::kInvalidArgument, "missing required field " + name));
}

INSTANTIATE_TEST_SUITE_P(Required, ConsignServiceMissingField,
                         ::testing::ValuesIn(std::vector<std::string>{"customerId", "timestamp", "orderId",
                                                                      "productType", "batchno", "productCode",
                                                                      "cardPassword", "faceMoney", "sign"}),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST_F(ConsignServiceTest, OptionalFieldsMayBeAbsent) {
  Fields f = fields();
  f.erase("cardNumber");
  f.erase("notifyUrl");
  f.erase("custom");
  auto p = prepare_signed(f);
  ASSERT_TRUE(succeeds(p));
  EXPECT_EQ(p->order.card_number, "");
  EXPECT_EQ(p->order.notify_url, "");
  EXPECT_EQ(p->order.custom, "");
}

TEST_F(ConsignServiceTest, CustomerIdMustBeNumeric) {
  for (const char* bad : {"abc", "10001a", "-10001", " 10001", "1e4", "10001.0"}) {
    EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "customerId", bad)), ErrorCode::kInvalidArgument,
                           "customerId must be the numeric merchant id"))
        << bad;
  }
}

TEST_F(ConsignServiceTest, UnknownMerchantIsUnauthenticated) {
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "customerId", "99999")), ErrorCode::kUnauthenticated,
                         "unknown customerId 99999"));
}

TEST_F(ConsignServiceTest, BadSignIsUnauthenticated) {
  const std::string expected = "bad sign: expected MD5 (upper-case hex) of the fields in the documented order";
  // Signed with another merchant's key.
  EXPECT_TRUE(fails_with(prepare(signed_with(fields(), kOtherSignKey)), ErrorCode::kUnauthenticated, expected));
  // A signed field changed after signing.
  EXPECT_TRUE(fails_with(prepare(with(signed_with(fields()), "faceMoney", "50")), ErrorCode::kUnauthenticated, expected));
  EXPECT_TRUE(fails_with(prepare(with(signed_with(fields()), "notifyUrl", "https://evil.example.com/")),
                         ErrorCode::kUnauthenticated, expected));
  // A number re-formatted after signing signs differently.
  Fields reformatted = signed_with(fields());
  reformatted["faceMoney"] = "100.00";
  EXPECT_TRUE(fails_with(prepare(reformatted), ErrorCode::kUnauthenticated, expected));
  // A truncated sign, and the query's signing string instead of the submit's.
  Fields truncated = signed_with(fields());
  truncated["sign"] = truncated["sign"].substr(0, 31);
  EXPECT_TRUE(fails_with(prepare(truncated), ErrorCode::kUnauthenticated, expected));
  Fields query_signed = fields();
  query_signed["sign"] = crypto::md5_hex_upper(query_string(query_signed, kSignKey));
  EXPECT_TRUE(fails_with(prepare(query_signed), ErrorCode::kUnauthenticated, expected));
  // Unsigned fields may change freely.
  Fields unsigned_changed = signed_with(fields());
  unsigned_changed["custom"] = "changed";
  unsigned_changed["productType"] = "1";
  unsigned_changed["seCode"] = "999";
  EXPECT_TRUE(succeeds(prepare(unsigned_changed)));
}

TEST_F(ConsignServiceTest, LowercaseSignIsAccepted) {
  Fields f = signed_with(fields());
  f["sign"] = lower(f["sign"]);
  EXPECT_TRUE(succeeds(prepare(f)));
}

TEST_F(ConsignServiceTest, DisabledMerchantIsRejected) {
  ASSERT_TRUE(store_->write_sync([](Tx& tx) {
                      auto m = *tx.merchant(kMerchant);
                      m.enabled = false;
                      tx.update_merchant(m);
                      return ok_status();
                    })
                  .ok());
  EXPECT_TRUE(fails_with(prepare_signed(fields()), ErrorCode::kFailedPrecondition, "merchant account is disabled"));
  // A bad sign is still reported as such first: nothing is revealed to a caller without the key.
  EXPECT_TRUE(fails_with(prepare(signed_with(fields(), "wrong")), ErrorCode::kUnauthenticated, "bad sign"));
}

TEST_F(ConsignServiceTest, TimestampWithin300SecondsIsAccepted) {
  const int64_t now_s = clock_.now_unix_s();
  for (int64_t delta : {-300, -1, 0, 1, 300}) {
    EXPECT_TRUE(succeeds(prepare_signed(with(fields(), "timestamp", std::to_string(now_s + delta))))) << delta;
  }
}

TEST_F(ConsignServiceTest, TimestampMoreThan300SecondsAwayIsRejected) {
  const int64_t now_s = clock_.now_unix_s();
  const std::string expected = "timestamp is more than 300 seconds away from server time " + std::to_string(now_s);
  for (int64_t ts : {now_s + 301, now_s - 301, now_s + 86'400, int64_t{0}, clock_.now_unix_ms()}) {
    EXPECT_TRUE(
        fails_with(prepare_signed(with(fields(), "timestamp", std::to_string(ts))), ErrorCode::kInvalidArgument, expected))
        << ts;
  }
  // The window moves with the clock.
  const std::string later = std::to_string(now_s + 400);
  EXPECT_FALSE(prepare_signed(with(fields(), "timestamp", later)).ok());
  clock_.advance_ms(100'000);
  EXPECT_TRUE(succeeds(prepare_signed(with(fields(), "timestamp", later))));
}

TEST_F(ConsignServiceTest, TimestampSkewIsConfigurable) {
  Service strict(*store_, box_, clock_, Config{.timestamp_skew_s = 10});
  const int64_t now_s = clock_.now_unix_s();
  EXPECT_TRUE(succeeds(strict.prepare_submit(signed_with(with(fields(), "timestamp", std::to_string(now_s - 10))))));
  EXPECT_TRUE(fails_with(strict.prepare_submit(signed_with(with(fields(), "timestamp", std::to_string(now_s - 11)))),
                         ErrorCode::kInvalidArgument, "timestamp is more than 10 seconds away"));
}

TEST_F(ConsignServiceTest, TimestampMustBeUnixSeconds) {
  for (const char* bad : {"abc", "1700000000.5", "-1700000000", "+1700000000"}) {
    EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "timestamp", bad)), ErrorCode::kInvalidArgument,
                           "timestamp must be Unix time in seconds"))
        << bad;
  }
}

TEST_F(ConsignServiceTest, OrderIdAtMost50Characters) {
  EXPECT_TRUE(succeeds(prepare_signed(fields(std::string(50, 'x')))));
  EXPECT_TRUE(fails_with(prepare_signed(fields(std::string(51, 'x'))), ErrorCode::kInvalidArgument,
                         "orderId is longer than 50 characters"));
}

TEST_F(ConsignServiceTest, OrderIdMustBePrintableAsciiWithoutSpaces) {
  for (const char* bad : {"O 1", "O\t1", "O\x7f", "\xe8\xae\xa2\xe5\x8d\x95"}) {
    EXPECT_TRUE(fails_with(prepare_signed(fields(bad)), ErrorCode::kInvalidArgument,
                           "orderId must be printable ASCII without spaces"))
        << bad;
  }
  EXPECT_TRUE(succeeds(prepare_signed(fields("A-z_0.9:~!"))));
}

TEST_F(ConsignServiceTest, BatchnoAtMost64PrintableCharacters) {
  EXPECT_TRUE(succeeds(prepare_signed(with(fields(), "batchno", std::string(64, 'b')))));
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "batchno", std::string(65, 'b'))), ErrorCode::kInvalidArgument,
                         "batchno is longer than 64 characters"));
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "batchno", "B 1")), ErrorCode::kInvalidArgument,
                         "batchno must be printable ASCII without spaces"));
}

TEST_F(ConsignServiceTest, ProductTypeMustBe0Or1Or2) {
  for (const char* ok : {"0", "1", "2"}) {
    auto p = prepare_signed(with(fields(), "productType", ok));
    ASSERT_TRUE(succeeds(p)) << ok;
    EXPECT_EQ(p->order.product_type, ok[0] - '0');
  }
  for (const char* bad : {"3", "-1", "00", "1.0", "a"}) {
    EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "productType", bad)), ErrorCode::kInvalidArgument,
                           "productType must be 0 (card number and password), 1 (image) or 2 (redemption link)"))
        << bad;
  }
}

TEST_F(ConsignServiceTest, UnknownProductCodeIsRejected) {
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "productCode", "NOPE")), ErrorCode::kInvalidArgument,
                         "unknown productCode NOPE"));
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "productCode", "jd100")), ErrorCode::kInvalidArgument,
                         "unknown productCode jd100"));
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "productCode", std::string(65, 'P'))),
                         ErrorCode::kInvalidArgument, "productCode is longer than 64 characters"));
  // A code with control characters is never echoed (it would reach the log line of the rejection); the message
  // says what is wrong with it instead of a bare "unknown productCode" (a black-box audit: `JDE ` with a trailing
  // space hid exactly the mistake).
  for (const char* bad : {"JD\nevent=forged", "JD100 ", "JD 100", "\xef\xbc\xaa\xef\xbc\xa4", "JD100\t"}) {
    auto r = prepare_signed(with(fields(), "productCode", bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message, "productCode must be printable ASCII without spaces") << bad;
  }
}

TEST_F(ConsignServiceTest, ProductDisabledGloballyIsUnknown) {
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "productCode", "OFF")), ErrorCode::kInvalidArgument,
                         "unknown productCode OFF"));
  // Disabling JD100 in the catalogue takes effect at once, although the merchant still has it enabled.
  ASSERT_TRUE(store_->write_sync([](Tx& tx) {
                      tx.upsert_product(make_product("JD100", {50, 100, 200}, 965, true, 900, 980, false));
                      return ok_status();
                    })
                  .ok());
  EXPECT_TRUE(fails_with(prepare_signed(fields()), ErrorCode::kInvalidArgument, "unknown productCode JD100"));
}

TEST_F(ConsignServiceTest, ProductNotEnabledForTheMerchantIsRejected) {
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "productCode", "NOTMINE")), ErrorCode::kInvalidArgument,
                         "productCode NOTMINE is not enabled for this merchant"));
  ASSERT_TRUE(store_->write_sync([](Tx& tx) {
                      tx.set_merchant_product(kMerchant, "JD100", false);
                      return ok_status();
                    })
                  .ok());
  EXPECT_TRUE(fails_with(prepare_signed(fields()), ErrorCode::kInvalidArgument,
                         "productCode JD100 is not enabled for this merchant"));
}

TEST_F(ConsignServiceTest, FaceMoneyMustBeOneTheProductAccepts) {
  for (const char* ok : {"50", "100", "200"}) {
    auto p = prepare_signed(with(fields(), "faceMoney", ok));
    ASSERT_TRUE(succeeds(p)) << ok;
    EXPECT_EQ(std::to_string(p->order.face_money_yuan), ok);
  }
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "faceMoney", "30")), ErrorCode::kInvalidArgument,
                         "faceMoney 30 is not accepted for JD100 (accepted: 50,100,200)"));
  EXPECT_TRUE(fails_with(prepare_signed(with(with(fields(), "productCode", "FIXED"), "faceMoney", "100")),
                         ErrorCode::kInvalidArgument, "faceMoney 100 is not accepted for FIXED (accepted: 10,20)"));
}

TEST_F(ConsignServiceTest, FaceMoneyMustBeAPositiveWholeNumberOfYuan) {
  for (const char* bad : {"100.00", "100.5", "0", "-100", "abc", "0100", "1e2", "99999999999999999999"}) {
    EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "faceMoney", bad)), ErrorCode::kInvalidArgument,
                           "faceMoney must be a positive whole number of yuan"))
        << bad;
  }
}

TEST_F(ConsignServiceTest, CustomizeRateWithinTheProductsBoundsIsUsed) {
  for (auto [text, permille] : {std::pair{"95", 950}, std::pair{"90", 900}, std::pair{"98", 980},
                                std::pair{"96.5", 965}, std::pair{"90.0", 900}}) {
    auto p = prepare_signed(with(fields(), "customizeRate", text));
    ASSERT_TRUE(succeeds(p)) << text;
    EXPECT_EQ(p->order.rate, RatePermille{permille}) << text;
  }
}

TEST_F(ConsignServiceTest, CustomizeRateOutOfBoundsIsRejected) {
  for (const char* bad : {"89.9", "98.1", "0", "100"}) {
    EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "customizeRate", bad)), ErrorCode::kInvalidArgument,
                           "customizeRate must be between 90 and 98 for product JD100"))
        << bad;
  }
}

TEST_F(ConsignServiceTest, CustomizeRateWithTwoDecimalsIsRejected) {
  for (const char* bad : {"96.55", "96.50", "abc", "-95", "101", "9 5"}) {
    EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "customizeRate", bad)), ErrorCode::kInvalidArgument,
                           "customizeRate must be a percentage with at most one decimal"))
        << bad;
  }
}

TEST_F(ConsignServiceTest, CustomizeRateNotAllowedForTheProduct) {
  Fields fixed = with(with(fields(), "productCode", "FIXED"), "faceMoney", "10");
  auto p = prepare_signed(fixed);
  ASSERT_TRUE(succeeds(p));
  EXPECT_EQ(p->order.rate, RatePermille{950});
  EXPECT_TRUE(fails_with(prepare_signed(with(fixed, "customizeRate", "95")), ErrorCode::kInvalidArgument,
                         "customizeRate is not allowed for product FIXED"));
}

TEST_F(ConsignServiceTest, CardPasswordUnderAnotherAesKeyIsRejected) {
  Fields f = fields();
  f["cardPassword"] = crypto::encode_card_password("PW-0001", kOtherAesKey);
  auto p = prepare_signed(f);
  ASSERT_FALSE(p.ok()) << "decrypted to " << p->order.card_password;
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(p.error().message == crypto::kCardPasswordNoDecrypt || p.error().message == crypto::kCardPasswordNotUtf8)
      << p.error().message;
}

TEST_F(ConsignServiceTest, CardPasswordMustBeHexOfBase64) {
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "cardPassword", "zz")), ErrorCode::kInvalidArgument,
                         crypto::kCardPasswordNotHex));
  // Hex of something that is not base64 ("!!!!").
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "cardPassword", "21212121")), ErrorCode::kInvalidArgument,
                         crypto::kCardPasswordNotBase64));
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "cardPassword", std::string(8'194, 'a'))),
                         ErrorCode::kInvalidArgument, "cardPassword is too long"));
}

TEST_F(ConsignServiceTest, CardPasswordInUppercaseHexIsAccepted) {
  Fields f = fields();
  f["cardPassword"] = upper(f["cardPassword"]);
  auto p = prepare_signed(f);
  ASSERT_TRUE(succeeds(p));
  EXPECT_EQ(p->order.card_password, "PW-0001");
}

TEST_F(ConsignServiceTest, NotifyUrlMustBeHttpOrHttps) {
  for (const char* bad : {"ftp://merchant.example.com/n", "merchant.example.com/notify", "javascript:alert(1)",
                          "http://", "https://user:pw@merchant.example.com/", "http://merchant.example.com/a b"}) {
    EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "notifyUrl", bad)), ErrorCode::kInvalidArgument,
                           "notifyUrl must be an absolute http:// or https:// URL"))
        << bad;
  }
  for (const char* ok : {"http://merchant.example.com/n", "https://merchant.example.com:8443/n?x=1",
                         "http://93.184.215.14/callback"}) {
    EXPECT_TRUE(succeeds(prepare_signed(with(fields(), "notifyUrl", ok)))) << ok;
  }
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "notifyUrl", "https://m.example.com/" + std::string(1'010, 'a'))),
                         ErrorCode::kInvalidArgument, "notifyUrl is longer than 1024 characters"));
}

TEST_F(ConsignServiceTest, NotifyUrlToALiteralPrivateAddressIsRefused) {
  for (const char* bad : {"http://127.0.0.1:8080/notify", "http://10.1.2.3/n", "http://192.168.0.10/n",
                          "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/n"}) {
    EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "notifyUrl", bad)), ErrorCode::kInvalidArgument,
                           "notifyUrl points to a private, loopback or link-local address"))
        << bad;
  }
}

TEST_F(ConsignServiceTest, NotifyUrlToAPrivateAddressIsAllowedWhenConfigured) {
  Service permissive(*store_, box_, clock_, Config{.allow_private_targets = true});
  auto p = permissive.prepare_submit(signed_with(with(fields(), "notifyUrl", "http://127.0.0.1:8080/notify")));
  ASSERT_TRUE(succeeds(p));
  EXPECT_EQ(p->order.notify_url, "http://127.0.0.1:8080/notify");
  // Still http(s) only.
  EXPECT_TRUE(fails_with(permissive.prepare_submit(signed_with(with(fields(), "notifyUrl", "ftp://127.0.0.1/"))),
                         ErrorCode::kInvalidArgument, "notifyUrl must be an absolute http:// or https:// URL"));
}

TEST_F(ConsignServiceTest, CustomAtMost1024Characters) {
  auto p = prepare_signed(with(fields(), "custom", std::string(1'024, 'c')));
  ASSERT_TRUE(succeeds(p));
  EXPECT_EQ(p->order.custom.size(), 1'024u);
  EXPECT_TRUE(fails_with(prepare_signed(with(fields(), "custom", std::string(1'025, 'c'))), ErrorCode::kInvalidArgument,
                         "custom is longer than 1024 characters"));
}

// ---------------------------------------------------------------------------------------------------------------
// commit_submit

TEST_F(ConsignServiceTest, CommitStoresTheOrderWithANewSysOrderId) {
  auto a = submit(signed_with(fields()));
  ASSERT_TRUE(succeeds(a));
  EXPECT_FALSE(a->identical_retry);
  const std::string& id = a->sys_order_id.value();
  ASSERT_EQ(id.size(), 20u) << id;
  EXPECT_EQ(id.substr(0, 14), "C" + std::to_string(kStartMs));
  EXPECT_TRUE(std::all_of(id.begin() + 1, id.end(), [](char c) { return c >= '0' && c <= '9'; })) << id;
  auto o = order("O-1");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->sys_order_id, a->sys_order_id);
  EXPECT_EQ(o->card_password, "PW-0001");
  EXPECT_EQ(o->state, ConsignState::kProcessing);
  EXPECT_EQ(batch_count("B-1"), 1);
  EXPECT_EQ(count_orders(), 1);
}

TEST_F(ConsignServiceTest, TheOrderTakesTheSysOrderIdItsCardWasSealedAheadFor) {
  auto p = prepare_signed(with(fields(), "seCode", "321"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->sealed.sys_order_id.value().empty()) << "prepare_submit seals nothing";
  service_->seal_ahead(*p, random_);
  ASSERT_FALSE(p->sealed.sys_order_id.value().empty());
  EXPECT_EQ(p->sealed.password.find("PW-0001"), std::string::npos) << "sealed, not plain";
  auto a = commit(*p);
  ASSERT_TRUE(succeeds(a));
  EXPECT_EQ(a->sys_order_id, p->sealed.sys_order_id);
  auto o = order("O-1");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->card_password, "PW-0001");
  EXPECT_EQ(o->se_code, "321");
}

TEST_F(ConsignServiceTest, ACollisionOnTheSealedAheadSysOrderIdSealsTheCardAgainForTheNextId) {
  auto p = prepare_signed(with(fields(), "seCode", "321"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  service_->seal_ahead(*p, random_);
  // Another order already holds that sys order id.
  auto other = prepare_signed(with(fields("O-2", "PW-0002"), "cardNumber", "CN-0002"));
  ASSERT_TRUE(other.ok()) << other.error().message;
  ConsignOrder taken = other->order;
  taken.sys_order_id = p->sealed.sys_order_id;
  ASSERT_TRUE(store_->write_sync([&](Tx& tx) { return tx.insert_consign_order(taken); }).ok());

  auto a = commit(*p);
  ASSERT_TRUE(succeeds(a));
  EXPECT_NE(a->sys_order_id, p->sealed.sys_order_id);
  auto o = order("O-1");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->sys_order_id, a->sys_order_id);
  EXPECT_EQ(o->card_password, "PW-0001") << "sealed for the id it got, or it would not open";
  EXPECT_EQ(o->se_code, "321");
}

TEST_F(ConsignServiceTest, IdenticalRetryReturnsTheSameSysOrderIdAndCreatesNothing) {
  auto first = submit(signed_with(fields()));
  ASSERT_TRUE(succeeds(first));
  auto stored = *order("O-1");
  clock_.advance_ms(30'000);  // a new timestamp, so a new sign
  Fields retry = signed_with(fields());
  ASSERT_NE(get(retry, "timestamp"), std::to_string(kStartMs / 1000));
  auto second = submit(retry);
  ASSERT_TRUE(succeeds(second));
  EXPECT_TRUE(second->identical_retry);
  EXPECT_EQ(second->sys_order_id, first->sys_order_id);
  EXPECT_EQ(count_orders(), 1);
  EXPECT_EQ(batch_count("B-1"), 1) << "a retry is not another card in the batch";
  auto after = *order("O-1");
  EXPECT_EQ(after.created_at_ms, stored.created_at_ms);
  EXPECT_EQ(after.updated_at_ms, stored.updated_at_ms);
  EXPECT_EQ(after.process_after_ms, stored.process_after_ms);
}

TEST_F(ConsignServiceTest, RetryWithOtherHexCaseOrChangedUnsignedFieldsIsIdentical) {
  auto first = submit(signed_with(fields()));
  ASSERT_TRUE(succeeds(first));
  Fields f = fields();
  f["cardPassword"] = upper(f["cardPassword"]);  // the same value
  f["custom"] = "another custom";                 // not signed, not a business field
  f["seCode"] = "777";
  f["customizeRate"] = "95";
  auto second = submit(signed_with(f));
  ASSERT_TRUE(succeeds(second));
  EXPECT_TRUE(second->identical_retry);
  EXPECT_EQ(second->sys_order_id, first->sys_order_id);
  auto stored = *order("O-1");
  EXPECT_EQ(stored.custom, "my-custom") << "the first order stays exactly as it was";
  EXPECT_EQ(stored.rate, RatePermille{965});
  EXPECT_EQ(stored.se_code, "");
}

TEST_F(ConsignServiceTest, AnIdenticalRetryGetsTheFirstAnswerWhateverTheCatalogueRefusesSince) {
  auto first = submit(signed_with(with(fields(), "customizeRate", "95")));
  ASSERT_TRUE(succeeds(first));
  auto before = *order("O-1");
  auto change = [&](const std::function<void(Tx&)>& fn) {
    ASSERT_TRUE(store_->write_sync([&](Tx& tx) {
                        fn(tx);
                        return ok_status();
                      })
                    .ok());
  };
  auto expect_first_answer = [&](const char* after) {
    clock_.advance_ms(1'000);
    auto retry = submit(signed_with(with(fields(), "customizeRate", "95")));
    ASSERT_TRUE(succeeds(retry)) << after;
    EXPECT_TRUE(retry->identical_retry) << after;
    EXPECT_EQ(retry->sys_order_id, first->sys_order_id) << after;
  };
  // Each change alone would refuse the request (the tests above); the retry of an accepted order is answered first.
  change([](Tx& tx) { tx.upsert_product(make_product("JD100", {50, 100, 200}, 965, true, 960, 980, true)); });
  expect_first_answer("the custom rate's bounds no longer hold 95");
  change([](Tx& tx) { tx.upsert_product(make_product("JD100", {50, 100, 200}, 965, false, 0, 0, true)); });
  expect_first_answer("custom rates no longer allowed");
  change([](Tx& tx) { tx.upsert_product(make_product("JD100", {50, 200}, 965, true, 900, 980, true)); });
  expect_first_answer("face value 100 no longer accepted");
  change([](Tx& tx) { tx.set_merchant_product(kMerchant, "JD100", false); });
  expect_first_answer("the product no longer enabled for the merchant");
  change([](Tx& tx) { tx.upsert_product(make_product("JD100", {50, 200}, 965, true, 900, 980, false)); });
  expect_first_answer("the product disabled");

  // The order-id rule comes first for a changed request too; a new order id gets the catalogue's refusal.
  EXPECT_TRUE(fails_with(submit(signed_with(with(fields(), "batchno", "B-2"))), ErrorCode::kAlreadyExists,
                         "duplicate orderId: O-1 was already submitted with other fields"));
  EXPECT_TRUE(fails_with(submit(signed_with(fields("O-2", "PW-0002"))), ErrorCode::kInvalidArgument,
                         "unknown productCode JD100"));
  EXPECT_FALSE(order("O-2").has_value());
  EXPECT_EQ(count_orders(), 1);
  EXPECT_EQ(batch_count("B-1"), 1);
  auto after = *order("O-1");
  EXPECT_EQ(after.updated_at_ms, before.updated_at_ms);
  EXPECT_EQ(after.rate, RatePermille{950});
}

TEST_F(ConsignServiceTest, SameOrderIdWithAnotherSignedFieldIsADuplicate) {
  auto first = submit(signed_with(fields()));
  ASSERT_TRUE(succeeds(first));
  auto before = *order("O-1");
  std::vector<std::pair<std::string, std::string>> changes = {
      {"faceMoney", "50"},         {"cardNumber", "CN-0002"}, {"batchno", "B-2"},
      {"notifyUrl", "https://merchant.example.com/other"}, {"cardPassword", crypto::encode_card_password("PW-9", kAesKey)},
  };
  for (const auto& [name, value] : changes) {
    clock_.advance_ms(1'000);
    auto again = submit(signed_with(with(fields(), name, value)));
    EXPECT_TRUE(fails_with(again, ErrorCode::kAlreadyExists,
                           "duplicate orderId: O-1 was already submitted with other fields"))
        << name;
  }
  Fields no_card_number = fields();
  no_card_number.erase("cardNumber");
  EXPECT_TRUE(fails_with(submit(signed_with(no_card_number)), ErrorCode::kAlreadyExists, "duplicate orderId"));

  auto after = *order("O-1");
  EXPECT_EQ(after.sys_order_id, before.sys_order_id);
  EXPECT_EQ(after.face_money_yuan, 100);
  EXPECT_EQ(after.card_number, "CN-0001");
  EXPECT_EQ(after.batchno, "B-1");
  EXPECT_EQ(after.notify_url, kNotifyUrl);
  EXPECT_EQ(after.card_password, "PW-0001");
  EXPECT_EQ(after.state, ConsignState::kProcessing);
  EXPECT_EQ(after.updated_at_ms, before.updated_at_ms);
  EXPECT_EQ(count_orders(), 1);
  EXPECT_EQ(batch_count("B-1"), 1);
  EXPECT_EQ(batch_count("B-2"), 0);
  // Also after the first has finished.
  ASSERT_TRUE(finish(after, {ConsignOutcome::Kind::kFail, 0, ""}).ok());
  EXPECT_TRUE(fails_with(submit(signed_with(with(fields(), "faceMoney", "50"))), ErrorCode::kAlreadyExists,
                         "duplicate orderId"));
  EXPECT_EQ(order("O-1")->state, ConsignState::kFailed);
}

TEST_F(ConsignServiceTest, ABatchHoldsAtMost2000Cards) {
  auto base = prepare_signed(fields("BATCH-BASE"));
  ASSERT_TRUE(succeeds(base));
  auto card = [&](int i) {
    PreparedSubmit q = *base;
    q.order.merchant_order_id = "BATCH-" + std::to_string(i);
    q.order.card_number = "CN-" + std::to_string(i);
    q.order.card_fingerprint = box_->fingerprint("batch card " + std::to_string(i));
    q.order.request_fingerprint = "request " + std::to_string(i);
    return q;
  };
  auto st = store_->write_sync([&](Tx& tx) -> Status {
    for (int i = 0; i < 2'000; ++i) {
      auto a = Service::commit_submit(tx, card(i), random_);
      if (!a.ok()) return make_error(a.error().code, "card " + std::to_string(i) + ": " + a.error().message);
      if (a->identical_retry) return make_error(ErrorCode::kInternal, "unexpected retry at " + std::to_string(i));
    }
    return ok_status();
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(count_orders("B-1"), 2'000);

  EXPECT_TRUE(fails_with(commit(card(2'000)), ErrorCode::kFailedPrecondition,
                         "batch B-1 is full: a batch holds at most 2000 cards"));
  EXPECT_FALSE(order("BATCH-2000").has_value());
  EXPECT_EQ(count_orders("B-1"), 2'000);
  EXPECT_EQ(batch_count("B-1"), 2'000);
  // A retry of a card already in the full batch still gets its first answer.
  auto retry = commit(card(7));
  ASSERT_TRUE(succeeds(retry));
  EXPECT_TRUE(retry->identical_retry);
  EXPECT_EQ(retry->sys_order_id, order("BATCH-7")->sys_order_id);
  // Another batch is not affected, nor is the same batchno of another merchant.
  auto other_batch = card(2'000);
  other_batch.order.batchno = "B-2";
  EXPECT_TRUE(succeeds(commit(other_batch)));
  auto other_merchant = card(2'001);
  other_merchant.order.merchant_id = kOther;
  EXPECT_TRUE(succeeds(commit(other_merchant)));
}

TEST_F(ConsignServiceTest, TheSameCardCannotBeLiveTwice) {
  auto first = place(fields("O-1", "PW-SAME"));
  ASSERT_FALSE(first.sys_order_id.value().empty());

  EXPECT_TRUE(fails_with(submit(signed_with(fields("O-2", "PW-SAME"))), ErrorCode::kAlreadyExists,
                         "card already submitted"));
  EXPECT_FALSE(order("O-2").has_value());
  EXPECT_EQ(batch_count("B-1"), 1) << "a rejected card is not counted in the batch";
  // Another card number, or another product, is another card.
  EXPECT_TRUE(succeeds(submit(signed_with(with(fields("O-3", "PW-SAME"), "cardNumber", "CN-0002")))));
  EXPECT_TRUE(succeeds(
      submit(signed_with(with(with(fields("O-4", "PW-SAME"), "productCode", "FIXED"), "faceMoney", "10")))));

  // Once the first has failed, the card may come again...
  ASSERT_TRUE(finish(first, {ConsignOutcome::Kind::kFail, 0, ""}).ok());
  clock_.advance_ms(1'000);
  auto second = submit(signed_with(fields("O-2", "PW-SAME")));
  ASSERT_TRUE(succeeds(second));
  EXPECT_FALSE(second->identical_retry);
  // ...but not while that one is processing, in review, or after it succeeded.
  EXPECT_TRUE(fails_with(submit(signed_with(fields("O-5", "PW-SAME"))), ErrorCode::kAlreadyExists,
                         "card already submitted"));
  auto o2 = *order("O-2");
  ASSERT_TRUE(finish(o2, {ConsignOutcome::Kind::kReview, 0, ""}).ok());
  EXPECT_TRUE(fails_with(submit(signed_with(fields("O-6", "PW-SAME"))), ErrorCode::kAlreadyExists,
                         "card already submitted"));
  ASSERT_TRUE(finish(*order("O-2"), {ConsignOutcome::Kind::kSuccess, 100, ""}).ok());
  EXPECT_TRUE(fails_with(submit(signed_with(fields("O-7", "PW-SAME"))), ErrorCode::kAlreadyExists,
                         "card already submitted"));
  expect_ledger_ok();
}

// ---------------------------------------------------------------------------------------------------------------
// query

class ConsignServiceQuery : public ConsignServiceTest {
 protected:
  Fields query_fields(const std::string& order_id, const std::string& customer = "10001",
                      const std::string& key = kSignKey) const {
    Fields f{{"customerId", customer}, {"timestamp", std::to_string(clock_.now_unix_s())}, {"orderId", order_id}};
    f["sign"] = crypto::md5_hex_upper(query_string(f, key));
    return f;
  }
};

TEST_F(ConsignServiceQuery, ByMerchantOrderIdAndBySysOrderId) {
  auto placed = place(fields());
  ASSERT_FALSE(placed.sys_order_id.value().empty());
  for (const std::string& id : {std::string("O-1"), placed.sys_order_id.value()}) {
    auto v = service_->query(query_fields(id));
    ASSERT_TRUE(succeeds(v)) << id;
    EXPECT_EQ(v->customer_id, "10001");
    EXPECT_EQ(v->sys_order_id, placed.sys_order_id.value());
    EXPECT_EQ(v->order_id, "O-1");
    EXPECT_EQ(v->status, "1");
    EXPECT_EQ(v->face_money, "100");
    EXPECT_EQ(v->real_money, "0");
    EXPECT_EQ(v->amount, "0.00");
    EXPECT_EQ(v->success_time, "0");
    EXPECT_EQ(v->custom, "my-custom");
  }
  clock_.advance_ms(5'000);
  ASSERT_TRUE(finish(placed, {ConsignOutcome::Kind::kSuccess, 100, ""}).ok());
  auto v = service_->query(query_fields("O-1"));
  ASSERT_TRUE(succeeds(v));
  EXPECT_EQ(v->status, "2");
  EXPECT_EQ(v->real_money, "100");
  EXPECT_EQ(v->amount, "96.50");
  EXPECT_EQ(v->success_time, std::to_string(clock_.now_unix_s()));
}

TEST_F(ConsignServiceQuery, UnknownOrderIsNotFound) {
  EXPECT_TRUE(fails_with(service_->query(query_fields("NOPE")), ErrorCode::kNotFound, "order not found"));
}

TEST_F(ConsignServiceQuery, AnotherMerchantsOrderIsNotFound) {
  auto placed = place(fields());
  ASSERT_FALSE(placed.sys_order_id.value().empty());
  EXPECT_TRUE(fails_with(service_->query(query_fields(placed.sys_order_id.value(), "10002", kOtherSignKey)),
                         ErrorCode::kNotFound, "order not found"));
  EXPECT_TRUE(fails_with(service_->query(query_fields("O-1", "10002", kOtherSignKey)), ErrorCode::kNotFound,
                         "order not found"));
}

TEST_F(ConsignServiceQuery, RequiresEveryFieldAValidSignAndAFreshTimestamp) {
  for (const char* name : {"customerId", "timestamp", "orderId", "sign"}) {
    Fields f = query_fields("O-1");
    f.erase(name);
    EXPECT_TRUE(fails_with(service_->query(f), ErrorCode::kInvalidArgument,
                           std::string("missing required field ") + name));
  }
  EXPECT_TRUE(fails_with(service_->query(query_fields("O-1", "10001", "wrong key")), ErrorCode::kUnauthenticated,
                         "bad sign"));
  Fields lower_sign = query_fields("O-1");
  lower_sign["sign"] = lower(lower_sign["sign"]);
  EXPECT_TRUE(fails_with(service_->query(lower_sign), ErrorCode::kNotFound, "order not found"));
  EXPECT_TRUE(fails_with(service_->query(query_fields("O-1", "99999")), ErrorCode::kUnauthenticated,
                         "unknown customerId 99999"));
  Fields stale{{"customerId", "10001"}, {"timestamp", std::to_string(clock_.now_unix_s() - 301)}, {"orderId", "O-1"}};
  stale["sign"] = crypto::md5_hex_upper(query_string(stale, kSignKey));
  EXPECT_TRUE(fails_with(service_->query(stale), ErrorCode::kInvalidArgument, "timestamp is more than 300 seconds"));
}

// ---------------------------------------------------------------------------------------------------------------
// finish_order

TEST_F(ConsignServiceTest, SuccessCreditsTheMerchantAndEnqueuesASignedNotify) {
  auto placed = place(fields());
  ASSERT_FALSE(placed.sys_order_id.value().empty());
  const std::string sys = placed.sys_order_id.value();
  clock_.advance_ms(5'000);
  const int64_t now_ms = clock_.now_unix_ms();
  ASSERT_TRUE(finish(placed, {ConsignOutcome::Kind::kSuccess, 100, ""}).ok());

  auto o = *order("O-1");
  EXPECT_EQ(o.state, ConsignState::kSuccess);
  EXPECT_EQ(o.real_money_yuan, 100);
  EXPECT_EQ(o.amount, Money::from_fen(9'650));
  EXPECT_EQ(o.success_time_s, now_ms / 1000);
  EXPECT_EQ(o.message, "success");
  EXPECT_EQ(o.updated_at_ms, now_ms);

  // Ledger: merchant credited the amount, the platform keeps the margin, clearing carries the card's value.
  EXPECT_EQ(balance("merchant:10001:available"), Money::from_fen(9'650));
  EXPECT_EQ(balance("platform:revenue"), Money::from_fen(350));
  EXPECT_EQ(balance("platform:consign_clearing"), Money::from_fen(-10'000));
  auto rows = store_->read()->postings_for_reference(sys);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) EXPECT_EQ(r.kind, "consign.settle");
  expect_ledger_ok();

  // Notify.
  auto ns = store_->read()->notifications_for_order(sys);
  ASSERT_EQ(ns.size(), 1u);
  const auto& n = ns[0];
  EXPECT_EQ(n.merchant_id, kMerchant);
  EXPECT_EQ(n.protocol, "consign");
  EXPECT_EQ(n.url, kNotifyUrl);
  EXPECT_EQ(n.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(n.schedule, "consign");
  EXPECT_EQ(n.attempts_max, 3);
  EXPECT_EQ(n.attempts_made, 0);
  EXPECT_EQ(n.state, storage::NotificationState::kPending);
  EXPECT_EQ(n.next_attempt_at_ms, now_ms);

  EXPECT_EQ(form_names(n.body),
            (std::vector<std::string>{"customerId", "sysOrderId", "orderId", "status", "message", "faceMoney",
                                      "realMoney", "amount", "successTime", "custom", "sign"}));
  auto body = parse_body("application/x-www-form-urlencoded", n.body);
  ASSERT_TRUE(succeeds(body));
  const std::string success_time = std::to_string(now_ms / 1000);
  EXPECT_EQ(get(*body, "customerId"), "10001");
  EXPECT_EQ(get(*body, "sysOrderId"), sys);
  EXPECT_EQ(get(*body, "orderId"), "O-1");
  EXPECT_EQ(get(*body, "status"), "2");
  EXPECT_EQ(get(*body, "message"), "success");
  EXPECT_EQ(get(*body, "faceMoney"), "100");
  EXPECT_EQ(get(*body, "realMoney"), "100");
  EXPECT_EQ(get(*body, "amount"), "96.50");
  EXPECT_EQ(get(*body, "successTime"), success_time);
  EXPECT_EQ(get(*body, "custom"), "my-custom");
  const std::string signing = "customerId=10001&sysOrderId=" + sys + "&orderId=O-1&status=2&faceMoney=100&realMoney=100" +
                              "&amount=96.50&successTime=" + success_time + "&key=" + kSignKey;
  EXPECT_EQ(get(*body, "sign"), crypto::md5_hex_upper(signing));
}

TEST_F(ConsignServiceTest, SuccessBelowFaceValueSettlesTheRealValueRoundedHalfUp) {
  auto half = place(fields("O-1", "PW-1"));
  ASSERT_TRUE(finish(half, {ConsignOutcome::Kind::kSuccess, 50, "worth 50"}).ok());
  EXPECT_EQ(order("O-1")->amount, Money::from_fen(4'825));
  EXPECT_EQ(order("O-1")->message, "worth 50");
  // 1 yuan at 96.5% is 96.5 fen: 97 after half-up rounding.
  auto tiny = place(fields("O-2", "PW-2"));
  ASSERT_TRUE(finish(tiny, {ConsignOutcome::Kind::kSuccess, 1, ""}).ok());
  EXPECT_EQ(order("O-2")->amount, Money::from_fen(97));
  EXPECT_EQ(balance("merchant:10001:available"), Money::from_fen(4'825 + 97));
  EXPECT_EQ(balance("platform:revenue"), Money::from_fen(175 + 3));
  EXPECT_EQ(balance("platform:consign_clearing"), Money::from_fen(-5'100));
  auto body = parse_body("", store_->read()->notifications_for_order(order("O-2")->sys_order_id.value())[0].body);
  ASSERT_TRUE(succeeds(body));
  EXPECT_EQ(get(*body, "realMoney"), "1");
  EXPECT_EQ(get(*body, "amount"), "0.97");
  expect_ledger_ok();
}

TEST_F(ConsignServiceTest, FailCreditsNothingAndNotifies) {
  auto placed = place(fields());
  const std::string sys = placed.sys_order_id.value();
  clock_.advance_ms(3'000);
  ASSERT_TRUE(finish(placed, {ConsignOutcome::Kind::kFail, 0, ""}).ok());
  auto o = *order("O-1");
  EXPECT_EQ(o.state, ConsignState::kFailed);
  EXPECT_EQ(o.message, "card redemption failed");
  EXPECT_EQ(o.real_money_yuan, 0);
  EXPECT_EQ(o.amount, Money{});
  EXPECT_EQ(o.success_time_s, clock_.now_unix_s());
  EXPECT_TRUE(store_->read()->postings_for_reference(sys).empty());
  EXPECT_EQ(balance("merchant:10001:available"), Money{});
  EXPECT_EQ(store_->read()->check_ledger().entries, 0);
  expect_ledger_ok();

  auto ns = store_->read()->notifications_for_order(sys);
  ASSERT_EQ(ns.size(), 1u);
  auto body = parse_body("application/x-www-form-urlencoded", ns[0].body);
  ASSERT_TRUE(succeeds(body));
  EXPECT_EQ(get(*body, "status"), "3");
  EXPECT_EQ(get(*body, "realMoney"), "0");
  EXPECT_EQ(get(*body, "amount"), "0.00");
  EXPECT_EQ(get(*body, "message"), "card redemption failed");
  const std::string signing = "customerId=10001&sysOrderId=" + sys + "&orderId=O-1&status=3&faceMoney=100&realMoney=0" +
                              "&amount=0.00&successTime=" + std::to_string(clock_.now_unix_s()) + "&key=" + kSignKey;
  EXPECT_EQ(get(*body, "sign"), crypto::md5_hex_upper(signing));
}

TEST_F(ConsignServiceTest, ReviewDoesNotNotifyUntilResolved) {
  auto placed = place(fields());
  const std::string sys = placed.sys_order_id.value();
  ASSERT_TRUE(finish(placed, {ConsignOutcome::Kind::kReview, 0, ""}).ok());
  auto o = *order("O-1");
  EXPECT_EQ(o.state, ConsignState::kReview);
  EXPECT_EQ(o.message, "waiting for manual review");
  EXPECT_EQ(o.success_time_s, 0);
  EXPECT_TRUE(store_->read()->notifications_for_order(sys).empty());
  EXPECT_EQ(store_->read()->pending_notifications(), 0);
  EXPECT_TRUE(store_->read()->postings_for_reference(sys).empty());
  expect_ledger_ok();
  // Review to review is not a transition.
  EXPECT_TRUE(fails_with(finish(o, {ConsignOutcome::Kind::kReview, 0, ""}), ErrorCode::kFailedPrecondition,
                         "order is not processing"));
  // An operator resolves it: now it settles and notifies.
  ASSERT_TRUE(finish(o, {ConsignOutcome::Kind::kSuccess, 100, "resolved"}).ok());
  EXPECT_EQ(order("O-1")->state, ConsignState::kSuccess);
  EXPECT_EQ(store_->read()->notifications_for_order(sys).size(), 1u);
  EXPECT_EQ(balance("merchant:10001:available"), Money::from_fen(9'650));
  expect_ledger_ok();
}

TEST_F(ConsignServiceTest, NoNotifyUrlNoNotify) {
  Fields f = fields();
  f.erase("notifyUrl");
  auto placed = place(f);
  ASSERT_FALSE(placed.sys_order_id.value().empty());
  ASSERT_TRUE(finish(placed, {ConsignOutcome::Kind::kSuccess, 100, ""}).ok());
  EXPECT_TRUE(store_->read()->notifications_for_order(placed.sys_order_id.value()).empty());
  EXPECT_EQ(store_->read()->pending_notifications(), 0);
  EXPECT_EQ(balance("merchant:10001:available"), Money::from_fen(9'650));
  expect_ledger_ok();

  Fields g = fields("O-2", "PW-2");
  g.erase("notifyUrl");
  auto failed = place(g);
  ASSERT_TRUE(finish(failed, {ConsignOutcome::Kind::kFail, 0, ""}).ok());
  EXPECT_EQ(store_->read()->pending_notifications(), 0);
  expect_ledger_ok();
}

TEST_F(ConsignServiceTest, AFinalOrderCannotBeFinishedAgain) {
  auto placed = place(fields());
  ASSERT_TRUE(finish(placed, {ConsignOutcome::Kind::kSuccess, 100, ""}).ok());
  auto done = *order("O-1");
  EXPECT_TRUE(fails_with(finish(done, {ConsignOutcome::Kind::kSuccess, 100, ""}), ErrorCode::kFailedPrecondition,
                         "is already success"));
  EXPECT_TRUE(fails_with(finish(done, {ConsignOutcome::Kind::kFail, 0, ""}), ErrorCode::kFailedPrecondition,
                         "is already success"));
  EXPECT_EQ(store_->read()->check_ledger().entries, 1);
  EXPECT_EQ(store_->read()->notifications_for_order(done.sys_order_id.value()).size(), 1u);
  EXPECT_EQ(balance("merchant:10001:available"), Money::from_fen(9'650));
  expect_ledger_ok();
}

TEST_F(ConsignServiceTest, AnInvalidOutcomeChangesNothing) {
  auto placed = place(fields());
  EXPECT_TRUE(fails_with(finish(placed, {ConsignOutcome::Kind::kSuccess, 0, ""}), ErrorCode::kInvalidArgument,
                         "real money must be a positive whole number of yuan"));
  EXPECT_EQ(order("O-1")->state, ConsignState::kProcessing);
  EXPECT_EQ(store_->read()->check_ledger().entries, 0);
  EXPECT_EQ(store_->read()->pending_notifications(), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// process_due_orders

TEST_F(ConsignServiceTest, ProcessDueOrdersWaitsForProcessAfterAndAppliesTheProcessor) {
  place(fields("O-ok", "PW-ok-1"));
  place(fields("O-fail", "FAIL-2"));
  place(fields("O-hold", "HOLD-3"));
  place(fields("O-real", "REAL50-4"));
  place(with(fields("O-image", "https://img.example.com/card.png"), "productType", "1"));
  const int64_t t0 = clock_.now_unix_ms();

  EXPECT_EQ(process(t0), 0u);
  clock_.advance_ms(1'999);
  EXPECT_EQ(process(clock_.now_unix_ms()), 0u);
  for (const char* id : {"O-ok", "O-fail", "O-hold", "O-real", "O-image"}) {
    EXPECT_EQ(order(id)->state, ConsignState::kProcessing) << id;
  }
  // One placed now is due 2 s from now, not with the others.
  place(fields("O-late", "PW-late"));
  clock_.advance_ms(1);
  EXPECT_EQ(process(clock_.now_unix_ms()), 5u);

  EXPECT_EQ(order("O-ok")->state, ConsignState::kSuccess);
  EXPECT_EQ(order("O-ok")->real_money_yuan, 100);
  EXPECT_EQ(order("O-fail")->state, ConsignState::kFailed);
  EXPECT_EQ(order("O-hold")->state, ConsignState::kReview);
  EXPECT_EQ(order("O-real")->state, ConsignState::kSuccess);
  EXPECT_EQ(order("O-real")->real_money_yuan, 50);
  EXPECT_EQ(order("O-image")->state, ConsignState::kReview);
  EXPECT_EQ(order("O-late")->state, ConsignState::kProcessing);

  EXPECT_EQ(balance("merchant:10001:available"), Money::from_fen(9'650 + 4'825));
  EXPECT_EQ(balance("platform:revenue"), Money::from_fen(350 + 175));
  EXPECT_EQ(balance("platform:consign_clearing"), Money::from_fen(-15'000));
  EXPECT_EQ(store_->read()->pending_notifications(), 3) << "success, fail and the REAL success; not the reviews";
  EXPECT_TRUE(store_->read()->notifications_for_order(order("O-hold")->sys_order_id.value()).empty());
  expect_ledger_ok();

  EXPECT_EQ(process(clock_.now_unix_ms()), 0u) << "nothing is processed twice";
  clock_.advance_ms(2'000);
  EXPECT_EQ(process(clock_.now_unix_ms()), 1u);
  EXPECT_EQ(order("O-late")->state, ConsignState::kSuccess);
  EXPECT_EQ(store_->read()->pending_notifications(), 4);
  expect_ledger_ok();
}

TEST_F(ConsignServiceTest, ProcessDueOrdersHonorsTheLimit) {
  for (int i = 0; i < 3; ++i) place(fields("O-" + std::to_string(i), "PW-" + std::to_string(i)));
  clock_.advance_ms(2'000);
  const int64_t now = clock_.now_unix_ms();
  EXPECT_EQ(process(now, 2), 2u);
  EXPECT_EQ(process(now, 2), 1u);
  EXPECT_EQ(process(now, 2), 0u);
  EXPECT_EQ(balance("merchant:10001:available"), Money::from_fen(3 * 9'650));
  expect_ledger_ok();
}

TEST_F(ConsignServiceQuery, AMerchantsIpAllowlistRefusesSubmitAndQueryFromOutsideIt) {
  auto st = store_->write_sync([](Tx& tx) {
    auto m = *tx.merchant(kMerchant);
    m.api_ip_allowlist = {"203.0.113.0/24"};
    tx.update_merchant(m);
    return ok_status();
  });
  ASSERT_TRUE(st.ok());
  const std::string refused = "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist";
  EXPECT_TRUE(fails_with(service_->prepare_submit(signed_with(fields()), "127.0.0.1"), ErrorCode::kUnauthenticated,
                         refused));
  EXPECT_TRUE(fails_with(service_->query(query_fields("O-1"), "127.0.0.1"), ErrorCode::kUnauthenticated, refused));
  EXPECT_TRUE(fails_with(service_->prepare_submit(signed_with(fields())), ErrorCode::kUnauthenticated,
                         "IP not allowed"));
  EXPECT_TRUE(service_->prepare_submit(signed_with(fields()), "203.0.113.9").ok());
  EXPECT_TRUE(fails_with(service_->query(query_fields("O-1"), "203.0.113.9"), ErrorCode::kNotFound, "order not found"));
  // The other merchant has no list: any address.
  EXPECT_TRUE(fails_with(service_->query(query_fields("O-1", "10002", kOtherSignKey), "127.0.0.1"),
                         ErrorCode::kNotFound, "order not found"));
}

}  // namespace
}  // namespace paygate::consign
