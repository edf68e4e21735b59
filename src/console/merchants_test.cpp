// console/merchants.h against each storage engine: every change checked, validated and audited (never a key in the
// audit log), the roles that may not change merchants refused, a merchant user confined to its own merchant.
#include "console/merchants.h"

#include <gtest/gtest.h>

#include "base/limits.h"
#include "storage/testing/store_fixture.h"

namespace paygate::console {
namespace {

using nlohmann::json;
using storage::Tx;

constexpr int64_t kNowMs = 1'700'000'000'000;

Principal person(Role role, std::optional<MerchantId> merchant = std::nullopt) {
  Principal p;
  p.user_id = role == Role::kAdmin ? 1 : role == Role::kSupport ? 2 : 3;
  p.name = std::string(role_name(role)) + "-user";
  p.role = role;
  p.merchant_id = merchant;
  p.remote_ip = "192.0.2.10";
  p.request_id = "req-1";
  return p;
}

template <typename T>
::testing::AssertionResult succeeds(const Result<T>& r) {
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << error_code_name(r.error().code) << ": " << r.error().message;
}

struct AuditRow {
  std::string actor_name, actor_role, action, target_type, target_id;
  json before, after;
  std::string remote_ip, request_id;
};

class MerchantsTest : public ::testing::TestWithParam<storage::testing::StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    auto st = store_->write_sync([](Tx& tx) {
      storage::Product p;
      p.code = "JDE";
      p.name = "JD E-card";
      p.face_values_yuan = {100};
      p.default_rate = RatePermille{965};
      tx.upsert_product(p);
      p.code = "CTRIP";
      p.name = "Ctrip";
      tx.upsert_product(p);
      return ok_status();
    });
    ASSERT_TRUE(st.ok());
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
    return std::move(*out);
  }

  storage::Merchant create(const std::string& name, const Principal& who = person(Role::kAdmin)) {
    keys_ = generate_keys(random_);
    auto m = in_write<storage::Merchant>([&](Tx& tx) { return create_merchant(tx, who, name, keys_, kNowMs); });
    EXPECT_TRUE(succeeds(m));
    return m.ok() ? *m : storage::Merchant{};
  }

  std::vector<AuditRow> audit() {
    auto rows = store_->read()->query_sql(
        "SELECT actor_name, actor_role, action, target_type, target_id, before_json, after_json, remote_ip, "
        "request_id FROM audit_log ORDER BY audit_id",
        {});
    std::vector<AuditRow> out;
    for (const auto& r : rows) {
      out.push_back(AuditRow{storage::sql_text(r[0]), storage::sql_text(r[1]), storage::sql_text(r[2]),
                             storage::sql_text(r[3]), storage::sql_text(r[4]), json::parse(storage::sql_text(r[5])),
                             json::parse(storage::sql_text(r[6])), storage::sql_text(r[7]), storage::sql_text(r[8])});
    }
    return out;
  }

  std::string audit_text() {
    std::string all;
    for (const auto& r : store_->read()->query_sql("SELECT before_json, after_json FROM audit_log", {})) {
      all += storage::sql_text(r[0]) + storage::sql_text(r[1]);
    }
    return all;
  }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
  SeededRandom random_{11};
  MerchantKeys keys_;
};

TEST_P(MerchantsTest, CreateStoresTheKeysAndAuditsWithoutThem) {
  auto m = create("Shop A");
  EXPECT_EQ(m.id, MerchantId{10001});
  EXPECT_EQ(keys_.app_key.size(), 32u);
  EXPECT_EQ(keys_.sign_key.size(), 32u);
  EXPECT_EQ(keys_.aes_key.size(), 16u);
  auto stored = store_->read()->merchant(m.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->sign_key, keys_.sign_key);
  EXPECT_EQ(stored->aes_key, keys_.aes_key);
  EXPECT_EQ(stored->app_key, keys_.app_key);

  auto rows = audit();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "merchant.create");
  EXPECT_EQ(rows[0].target_type, "merchant");
  EXPECT_EQ(rows[0].target_id, "10001");
  EXPECT_EQ(rows[0].actor_name, "admin-user");
  EXPECT_EQ(rows[0].actor_role, "admin");
  EXPECT_EQ(rows[0].remote_ip, "192.0.2.10");
  EXPECT_EQ(rows[0].request_id, "req-1");
  EXPECT_EQ(rows[0].before, json::object());
  EXPECT_EQ(rows[0].after["name"], "Shop A");
  EXPECT_EQ(rows[0].after["key_fingerprint"], crypto::SecretBox::display_fingerprint(keys_.sign_key));
  const auto text = audit_text();
  EXPECT_EQ(text.find(keys_.sign_key), std::string::npos);
  EXPECT_EQ(text.find(keys_.aes_key), std::string::npos);

  auto j = merchant_json(*stored);
  EXPECT_FALSE(j.contains("key"));
  EXPECT_FALSE(j.contains("aesKey"));
  EXPECT_EQ(j["keys_version"], 1);
  EXPECT_EQ(j["ip_allowlist"], json::array());
  EXPECT_EQ(keys_json(keys_)["key"], keys_.sign_key);
}

TEST_P(MerchantsTest, NamesAreChecked) {
  for (const std::string& bad : {std::string(), std::string(limits::kConsoleNameLengthMax + 1, 'x'),
                                 std::string("tab\there"), std::string("\xff\xfe")}) {
    auto r = in_write<storage::Merchant>(
        [&](Tx& tx) { return create_merchant(tx, person(Role::kAdmin), bad, generate_keys(random_), kNowMs); });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(store_->read()->merchants().empty());
  EXPECT_TRUE(audit().empty());
}

TEST_P(MerchantsTest, SupportAndMerchantUsersMayNotChangeMerchants) {
  auto m = create("Shop A");
  for (const auto& who : {person(Role::kSupport), person(Role::kMerchant, m.id)}) {
    auto created = in_write<storage::Merchant>(
        [&](Tx& tx) { return create_merchant(tx, who, "Sneaky", generate_keys(random_), kNowMs); });
    ASSERT_FALSE(created.ok());
    EXPECT_TRUE(is_forbidden(created.error())) << created.error().message;
    MerchantPatch patch;
    patch.enabled = false;
    auto updated = in_write<storage::Merchant>([&](Tx& tx) { return update_merchant(tx, who, m.id, patch, kNowMs); });
    ASSERT_FALSE(updated.ok());
    EXPECT_TRUE(is_forbidden(updated.error()));
    auto rotated = in_write<storage::Merchant>(
        [&](Tx& tx) { return rotate_keys(tx, who, m.id, generate_keys(random_), kNowMs); });
    EXPECT_TRUE(is_forbidden(rotated.error()));
    ChannelChange change;
    change.fee_rate = RatePermille{25};
    auto channel = in_write<storage::MerchantChannel>(
        [&](Tx& tx) { return set_channel(tx, who, m.id, 1, change, kNowMs); });
    EXPECT_TRUE(is_forbidden(channel.error()));
    auto product = in_write<json>([&](Tx& tx) { return set_product(tx, who, m.id, "JDE", true, kNowMs); });
    EXPECT_TRUE(is_forbidden(product.error()));
  }
  EXPECT_TRUE(store_->read()->merchant(m.id)->enabled);
  EXPECT_EQ(store_->read()->merchants().size(), 1u);
  EXPECT_EQ(audit().size(), 1u);  // the creation only
}

TEST_P(MerchantsTest, PatchIsValidatedFieldByField) {
  auto bad = [](const json& body) {
    auto p = parse_merchant_patch(body);
    return p.ok() ? std::string("ok") : p.error().message;
  };
  EXPECT_EQ(bad(json::object()), "nothing to change");
  EXPECT_EQ(bad({{"enabled", "yes"}}), "enabled must be true or false");
  EXPECT_EQ(bad({{"payout_fee_fen", -1}}), "payout_fee_fen must be 0 to 10000000000 fen");
  EXPECT_EQ(bad({{"payout_fee_fen", 1.5}}), "payout_fee_fen must be a whole number");
  EXPECT_EQ(bad({{"settlement_delay_days", 366}}), "settlement_delay_days must be 0 to 365");
  EXPECT_EQ(bad({{"bound_card_allowed", 1}}), "bound_card_allowed must be true or false");
  EXPECT_EQ(bad({{"name", ""}}), "name must be 1 to 64 characters");
  EXPECT_EQ(bad({{"ip_allowlist", "10.0.0.0/8"}}), "ip_allowlist must be an array of addresses or CIDR ranges");
  EXPECT_EQ(bad({{"ip_allowlist", {"10.1.0.0/8"}}}),
            "IP allowlist entry '10.1.0.0/8': the address has bits set past the /8 prefix (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(bad({{"app_key", "x"}}).substr(0, 25), "unknown field app_key (a ");
  EXPECT_EQ(bad({{"payout_manual_approval", true}, {"ip_allowlist", json::array()}}), "ok");
}

TEST_P(MerchantsTest, UpdateChangesTheFieldsGivenAndAuditsBeforeAndAfter) {
  auto m = create("Shop A");
  auto patch = parse_merchant_patch({{"name", "Shop A2"},
                                     {"payout_fee_fen", 150},
                                     {"payout_manual_approval", true},
                                     {"settlement_delay_days", 2},
                                     {"bound_card_allowed", true},
                                     {"ip_allowlist", {"10.0.0.0/8", " 2001:DB8::/32", "10.0.0.0/8"}}});
  ASSERT_TRUE(succeeds(patch));
  auto after = in_write<storage::Merchant>(
      [&](Tx& tx) { return update_merchant(tx, person(Role::kAdmin), m.id, *patch, kNowMs + 5); });
  ASSERT_TRUE(succeeds(after));
  auto stored = *store_->read()->merchant(m.id);
  EXPECT_EQ(stored.name, "Shop A2");
  EXPECT_EQ(stored.payout_fee.fen(), 150);
  EXPECT_TRUE(stored.payout_manual_approval);
  EXPECT_EQ(stored.settlement_delay_days, 2);
  EXPECT_TRUE(stored.bound_card_allowed);
  EXPECT_EQ(stored.api_ip_allowlist, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_EQ(stored.updated_at_ms, kNowMs + 5);
  EXPECT_TRUE(stored.enabled);
  EXPECT_EQ(stored.sign_key, keys_.sign_key);

  auto rows = audit();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].action, "merchant.update");
  EXPECT_EQ(rows[1].before["name"], "Shop A");
  EXPECT_EQ(rows[1].after["name"], "Shop A2");
  EXPECT_EQ(rows[1].before["ip_allowlist"], json::array());
  EXPECT_EQ(rows[1].after["ip_allowlist"], json({"10.0.0.0/8", "2001:db8::/32"}));

  // An unknown merchant; an allowlist that does not parse (straight from the CLI) is refused, changing nothing.
  MerchantPatch off;
  off.enabled = false;
  EXPECT_EQ(in_write<storage::Merchant>([&](Tx& tx) {
              return update_merchant(tx, person(Role::kAdmin), MerchantId{99}, off, kNowMs);
            }).error().code,
            ErrorCode::kNotFound);
  MerchantPatch ips;
  ips.ip_allowlist = std::vector<std::string>{"not-an-ip"};
  EXPECT_EQ(in_write<storage::Merchant>([&](Tx& tx) {
              return update_merchant(tx, person(Role::kAdmin), m.id, ips, kNowMs);
            }).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(audit().size(), 2u);
}

TEST_P(MerchantsTest, RotateKeysReplacesAllThreeAndBumpsTheVersion) {
  auto m = create("Shop A");
  const auto old_keys = keys_;
  const auto fresh = generate_keys(random_);
  auto after = in_write<storage::Merchant>(
      [&](Tx& tx) { return rotate_keys(tx, person(Role::kAdmin), m.id, fresh, kNowMs + 1); });
  ASSERT_TRUE(succeeds(after));
  auto tx = store_->read();
  EXPECT_FALSE(tx->merchant_by_app_key(old_keys.app_key).has_value());
  auto stored = tx->merchant_by_app_key(fresh.app_key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->sign_key, fresh.sign_key);
  EXPECT_EQ(stored->aes_key, fresh.aes_key);
  EXPECT_EQ(stored->keys_version, 2);
  auto rows = audit();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].action, "merchant.rotate_keys");
  EXPECT_EQ(rows[1].before["keys_version"], 1);
  EXPECT_EQ(rows[1].after["keys_version"], 2);
  const auto text = audit_text();
  for (const auto& k : {old_keys.sign_key, old_keys.aes_key, fresh.sign_key, fresh.aes_key}) {
    EXPECT_EQ(text.find(k), std::string::npos) << k;
  }
}

TEST_P(MerchantsTest, ChannelsAreSetWithTheirRatesAndAudited) {
  auto m = create("Shop A");
  auto admin = person(Role::kAdmin);
  ChannelChange change;
  auto first = in_write<storage::MerchantChannel>([&](Tx& tx) { return set_channel(tx, admin, m.id, 2, change, kNowMs); });
  EXPECT_EQ(first.error().message, "fee_rate_permille is required to enable a channel for the first time");
  change = *parse_channel_change({{"enabled", true}, {"fee_rate_permille", 25}, {"max_amount_fen", 500'000}});
  auto set = in_write<storage::MerchantChannel>([&](Tx& tx) { return set_channel(tx, admin, m.id, 2, change, kNowMs); });
  ASSERT_TRUE(succeeds(set));
  auto stored = store_->read()->merchant_channel(m.id, 2);
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->enabled);
  EXPECT_EQ(stored->fee_rate.value, 25);
  EXPECT_EQ(stored->max_amount.fen(), 500'000);
  EXPECT_EQ(stored->processor, "sandbox");

  // Disabling keeps the rate.
  change = *parse_channel_change({{"enabled", false}});
  ASSERT_TRUE(succeeds(
      in_write<storage::MerchantChannel>([&](Tx& tx) { return set_channel(tx, admin, m.id, 2, change, kNowMs); })));
  stored = store_->read()->merchant_channel(m.id, 2);
  EXPECT_FALSE(stored->enabled);
  EXPECT_EQ(stored->fee_rate.value, 25);

  auto rows = audit();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].action, "channel.set");
  EXPECT_EQ(rows[1].target_type, "channel");
  EXPECT_EQ(rows[1].target_id, "10001:2");
  EXPECT_EQ(rows[1].before, json({{"merchant_id", 10001}, {"channel_id", 2}, {"enabled", false}}));  // never set
  EXPECT_EQ(rows[1].after["fee_rate_permille"], 25);
  EXPECT_EQ(rows[2].before["enabled"], true);
  EXPECT_EQ(rows[2].after["enabled"], false);

  auto parse_error = [](const json& body) { return parse_channel_change(body).error().message; };
  EXPECT_EQ(parse_error({{"fee_rate_permille", 25}}), "enabled is required");
  EXPECT_EQ(parse_error({{"enabled", true}, {"fee_rate_permille", 1001}}),
            "fee_rate_permille must be 0 to 1000 (per mille: 25 = 2.5%)");
  change = *parse_channel_change({{"enabled", true}, {"min_amount_fen", 600'000}});
  EXPECT_EQ(in_write<storage::MerchantChannel>([&](Tx& tx) {
              return set_channel(tx, admin, m.id, 2, change, kNowMs);
            }).error().message,
            "min_amount_fen must not be above max_amount_fen");
  change = *parse_channel_change({{"enabled", true}, {"fee_rate_permille", 10}});
  EXPECT_EQ(in_write<storage::MerchantChannel>([&](Tx& tx) {
              return set_channel(tx, admin, m.id, 16, change, kNowMs);
            }).error().code,
            ErrorCode::kNotFound);
  change.must_exist = true;
  EXPECT_EQ(in_write<storage::MerchantChannel>([&](Tx& tx) {
              return set_channel(tx, admin, m.id, 3, change, kNowMs);
            }).error().message,
            "channel 3 was never enabled for merchant 10001");
}

TEST_P(MerchantsTest, ProductsAreEnabledPerMerchantAndAudited) {
  auto m = create("Shop A");
  auto admin = person(Role::kAdmin);
  auto row = in_write<json>([&](Tx& tx) { return set_product(tx, admin, m.id, "JDE", true, kNowMs); });
  ASSERT_TRUE(succeeds(row));
  EXPECT_EQ((*row)["code"], "JDE");
  EXPECT_EQ((*row)["enabled"], true);
  EXPECT_TRUE(store_->read()->merchant_product_enabled(m.id, "JDE"));
  EXPECT_EQ(in_write<json>([&](Tx& tx) { return set_product(tx, admin, m.id, "NOPE", true, kNowMs); }).error().message,
            "no product NOPE");
  auto rows = audit();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].action, "product.set");
  EXPECT_EQ(rows[1].target_id, "10001:JDE");
  EXPECT_EQ(rows[1].before["enabled"], false);
  EXPECT_EQ(rows[1].after["enabled"], true);
}

TEST_P(MerchantsTest, DetailShowsEveryChannelProductsAndUsersToWhoMaySeeIt) {
  auto a = create("Shop A");
  auto b = create("Shop B");
  ChannelChange change;
  change.fee_rate = RatePermille{25};
  ASSERT_TRUE(succeeds(in_write<storage::MerchantChannel>(
      [&](Tx& tx) { return set_channel(tx, person(Role::kAdmin), a.id, 1, change, kNowMs); })));
  ASSERT_TRUE(succeeds(
      in_write<json>([&](Tx& tx) { return set_product(tx, person(Role::kAdmin), a.id, "CTRIP", true, kNowMs); })));
  auto st = store_->write_sync([&](Tx& tx) {
    tx.exec_sql(
        "INSERT INTO console_users (name, role, merchant_id, password_hash, enabled, created_at_ms, updated_at_ms, "
        "last_login_at_ms) VALUES ($1, 'merchant', $2, 'x', 1, $3, $3, 0)",
        {std::string("shop-a-login"), a.id.value(), kNowMs});
    return ok_status();
  });
  ASSERT_TRUE(st.ok()) << st.error().message;

  auto d = merchant_detail(*store_->read(), person(Role::kSupport), a.id);
  ASSERT_TRUE(succeeds(d));
  EXPECT_EQ((*d)["merchant"]["name"], "Shop A");
  EXPECT_EQ((*d)["balances"]["available_fen"], 0);
  ASSERT_EQ((*d)["channels"].size(), 15u);
  EXPECT_EQ((*d)["channels"][0]["channel_id"], 1);
  EXPECT_EQ((*d)["channels"][0]["enabled"], true);
  EXPECT_EQ((*d)["channels"][0]["fee_rate_permille"], 25);
  EXPECT_EQ((*d)["channels"][1]["enabled"], false);
  EXPECT_EQ((*d)["channels"][1]["fee_rate_permille"], nullptr);
  ASSERT_EQ((*d)["products"].size(), 2u);
  EXPECT_EQ((*d)["products"][0]["code"], "CTRIP");
  EXPECT_EQ((*d)["products"][0]["enabled"], true);
  EXPECT_EQ((*d)["products"][1]["enabled"], false);
  ASSERT_EQ((*d)["users"].size(), 1u);
  EXPECT_EQ((*d)["users"][0]["name"], "shop-a-login");
  EXPECT_EQ((*d)["users"][0]["role"], "merchant");
  EXPECT_EQ((*d)["users"][0]["merchant_id"], a.id.value());
  EXPECT_EQ((*d)["users"][0]["enabled"], true);

  // A merchant user sees its own merchant; another merchant's is not found, as an unknown id.
  EXPECT_TRUE(succeeds(merchant_detail(*store_->read(), person(Role::kMerchant, a.id), a.id)));
  auto other = merchant_detail(*store_->read(), person(Role::kMerchant, a.id), b.id);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(other.error().message, "no merchant 10002");
  EXPECT_EQ(merchant_detail(*store_->read(), person(Role::kAdmin), MerchantId{99}).error().message, "no merchant 99");
}

TEST_P(MerchantsTest, ListSearchesAndPages) {
  for (int i = 1; i <= 5; ++i) create("Shop " + std::to_string(i) + (i % 2 ? " Tea" : " Coffee"));
  auto admin = person(Role::kAdmin);
  auto page1 = list_merchants(*store_->read(), admin, "", 2, "");
  ASSERT_TRUE(succeeds(page1));
  ASSERT_EQ(page1->items.size(), 2u);
  EXPECT_EQ(page1->items[0].id, MerchantId{10005});
  EXPECT_EQ(page1->items[1].id, MerchantId{10004});
  ASSERT_TRUE(page1->next_cursor.has_value());
  auto page2 = list_merchants(*store_->read(), admin, "", 2, *page1->next_cursor);
  ASSERT_TRUE(succeeds(page2));
  EXPECT_EQ(page2->items[0].id, MerchantId{10003});
  auto page3 = list_merchants(*store_->read(), admin, "", 2, *page2->next_cursor);
  ASSERT_EQ(page3->items.size(), 1u);
  EXPECT_FALSE(page3->next_cursor.has_value());

  auto tea = list_merchants(*store_->read(), admin, "tea", 50, "");
  ASSERT_TRUE(succeeds(tea));
  EXPECT_EQ(tea->items.size(), 3u);
  auto by_id = list_merchants(*store_->read(), admin, "10002", 50, "");
  ASSERT_EQ(by_id->items.size(), 1u);
  EXPECT_EQ(by_id->items[0].name, "Shop 2 Coffee");
  auto by_key = list_merchants(*store_->read(), admin, keys_.app_key, 50, "");
  ASSERT_EQ(by_key->items.size(), 1u);
  EXPECT_EQ(by_key->items[0].id, MerchantId{10005});
  EXPECT_TRUE(list_merchants(*store_->read(), admin, "100%", 50, "")->items.empty());
  EXPECT_EQ(list_merchants(*store_->read(), admin, "", 50, "abc").error().code, ErrorCode::kInvalidArgument);

  auto own = list_merchants(*store_->read(), person(Role::kMerchant, MerchantId{10003}), "", 50, "");
  ASSERT_EQ(own->items.size(), 1u);
  EXPECT_EQ(own->items[0].id, MerchantId{10003});
}

TEST_P(MerchantsTest, CatalogueListsEveryChannelAndProduct) {
  auto c = catalogue_json(*store_->read());
  ASSERT_EQ(c["channels"].size(), 15u);
  EXPECT_EQ(c["channels"][0]["channel_id"], 1);
  ASSERT_EQ(c["products"].size(), 2u);
  EXPECT_EQ(c["products"][1]["code"], "JDE");
  EXPECT_EQ(c["products"][1]["default_rate_permille"], 965);
}

INSTANTIATE_TEST_SUITE_P(Engines, MerchantsTest, ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::console
