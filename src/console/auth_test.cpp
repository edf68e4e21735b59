// The console's identity layer: passwords, the role table, users, sessions (absolute and idle expiry), the login
// rate limit and the audit log, on every storage engine (SQLite; PostgreSQL when a test cluster is configured).
#include "console/auth.h"

#include <gtest/gtest.h>

#include "base/limits.h"
#include "console/audit.h"
#include "console/console.h"
#include "storage/testing/store_fixture.h"

namespace paygate::console {
namespace {

using storage::testing::StoreBackend;

// Hashing is slow on purpose: hash once per password and reuse.
const std::string& hash_of_secret() {
  static const std::string h = *hash_password("correct horse battery");
  return h;
}

TEST(ConsolePasswords, HashVerifiesOnlyItsPassword) {
  const auto& h = hash_of_secret();
  EXPECT_TRUE(h.starts_with("$argon2id$"));
  EXPECT_TRUE(verify_password(h, "correct horse battery"));
  EXPECT_FALSE(verify_password(h, "correct horse batterY"));
  EXPECT_FALSE(verify_password(h, ""));
  EXPECT_FALSE(verify_password("", "correct horse battery"));
  EXPECT_FALSE(verify_password("$argon2id$garbage", "correct horse battery"));
  EXPECT_FALSE(verify_dummy_password("correct horse battery"));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*hash_password("correct horse battery"), h);
}

TEST(ConsolePasswords, Rules) {
  EXPECT_FALSE(check_password_rules(std::string(limits::kConsolePasswordLengthMin - 1, 'a')).ok());
  EXPECT_TRUE(check_password_rules(std::string(limits::kConsolePasswordLengthMin, 'a')).ok());
  EXPECT_TRUE(check_password_rules(std::string(limits::kConsolePasswordLengthMax, 'a')).ok());
  EXPECT_FALSE(check_password_rules(std::string(limits::kConsolePasswordLengthMax + 1, 'a')).ok());
  EXPECT_FALSE(check_password_rules("abcdefghij\nk").ok());
  EXPECT_TRUE(check_password_rules("密码密码密码密码").ok());  // bytes, not characters: 24 bytes
  SeededRandom random(7);
  auto generated = generate_password(random);
  EXPECT_EQ(generated.size(), 20u);
  EXPECT_TRUE(check_password_rules(generated).ok());
  EXPECT_NE(generate_password(random), generated);
}

TEST(ConsoleNames, Rules) {
  EXPECT_TRUE(check_user_name("alice").ok());
  EXPECT_TRUE(check_user_name("ops.team-1_x@example.com").ok());
  EXPECT_FALSE(check_user_name("").ok());
  EXPECT_FALSE(check_user_name("cli:root").ok());  // the CLI's actor names cannot be taken
  EXPECT_FALSE(check_user_name("a b").ok());
  EXPECT_FALSE(check_user_name(std::string(limits::kConsoleNameLengthMax + 1, 'a')).ok());
}

TEST(ConsoleCsrf, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("abc", ""));
}

TEST(ConsoleRoles, NamesRoundTrip) {
  for (auto r : {Role::kAdmin, Role::kSupport, Role::kMerchant}) EXPECT_EQ(parse_role(role_name(r)), r);
  EXPECT_EQ(role_name(Role::kCli), "cli");
  EXPECT_FALSE(parse_role("cli"));
  EXPECT_FALSE(parse_role("Admin"));
}

TEST(ConsoleRoles, PermissionTable) {
  const std::vector<Permission> all = {Permission::kView,           Permission::kResend,
                                       Permission::kResolveReview,  Permission::kApprovePayout,
                                       Permission::kManageMerchants, Permission::kManageUsers,
                                       Permission::kReadAudit};
  auto allowed = [&](Role role) {
    Principal p;
    p.role = role;
    std::vector<Permission> out;
    for (auto perm : all) {
      if (p.allowed(perm)) out.push_back(perm);
    }
    return out;
  };
  EXPECT_EQ(allowed(Role::kAdmin), all);
  EXPECT_EQ(allowed(Role::kCli), all);
  EXPECT_EQ(allowed(Role::kSupport),
            (std::vector<Permission>{Permission::kView, Permission::kResend, Permission::kResolveReview}));
  EXPECT_EQ(allowed(Role::kMerchant), (std::vector<Permission>{Permission::kView, Permission::kResend}));
}

TEST(ConsoleRoles, MerchantsSeeOnlyThemselves) {
  Principal m;
  m.role = Role::kMerchant;
  m.merchant_id = MerchantId{10001};
  EXPECT_TRUE(m.can_see_merchant(MerchantId{10001}));
  EXPECT_FALSE(m.can_see_merchant(MerchantId{10002}));
  EXPECT_FALSE(m.is_operator());
  Principal s;
  s.role = Role::kSupport;
  EXPECT_TRUE(s.can_see_merchant(MerchantId{10002}));
  Principal cli = cli_principal();
  EXPECT_TRUE(cli.name.starts_with("cli:"));
  EXPECT_GT(cli.name.size(), 4u);
  EXPECT_EQ(cli.role, Role::kCli);
  EXPECT_EQ(cli.user_id, 0);
  EXPECT_TRUE(cli.can_see_merchant(MerchantId{1}));
}

TEST(ConsoleSessions, TokensAreRandomHexAndOnlyTheHashIsKept) {
  SeededRandom random(42);
  auto a = new_session_tokens(random);
  auto b = new_session_tokens(random);
  EXPECT_TRUE(well_formed_session_token(a.token));
  EXPECT_EQ(a.csrf_token.size(), 64u);
  EXPECT_NE(a.token, b.token);
  EXPECT_NE(a.token, a.csrf_token);
  EXPECT_EQ(a.token_hash, session_token_hash(a.token));
  EXPECT_NE(a.token_hash, a.token);
  EXPECT_FALSE(well_formed_session_token(a.token.substr(1)));
  EXPECT_FALSE(well_formed_session_token(std::string(64, 'G')));
}

// ---- On every engine ----

constexpr int64_t kT0 = 1'800'000'000'000;

class ConsoleStore : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    admin_ = cli_principal();
  }
  void TearDown() override {
    if (store_) store_->close();
  }

  template <typename T>
  Result<T> write(const std::function<Result<T>(storage::Tx&)>& fn) {
    std::optional<Result<T>> out;
    auto st = store_->write_sync([&](storage::Tx& tx) -> Status {
      out.emplace(fn(tx));
      if (!out->ok()) return out->error();
      return ok_status();
    });
    if (!st.ok() && (!out || out->ok())) return st.error();
    return std::move(*out);
  }

  MerchantId add_merchant(const std::string& tag, bool enabled = true) {
    storage::Merchant m;
    m.name = "Merchant " + tag;
    m.enabled = enabled;
    m.app_key = "app-" + tag;
    m.sign_key = "sign-key-" + tag + "-0123456789";
    m.aes_key = ("aes" + tag + "0123456789abcdef").substr(0, 16);
    m.created_at_ms = m.updated_at_ms = kT0;
    MerchantId id;
    EXPECT_TRUE(store_->write_sync([&](storage::Tx& tx) -> Status {
                        id = tx.insert_merchant(m);
                        return ok_status();
                      }).ok());
    return id;
  }

  User add_user(const std::string& name, Role role, std::optional<MerchantId> merchant = std::nullopt) {
    NewUser nu{name, role, merchant, hash_of_secret()};
    auto u = write<User>([&](storage::Tx& tx) { return create_user(tx, nu, admin_, kT0); });
    EXPECT_TRUE(u.ok()) << (u.ok() ? "" : u.error().message);
    return *u;
  }

  SessionTokens login(const User& u, int64_t now_ms, const std::string& ip = "10.0.0.1") {
    auto tokens = new_session_tokens(random_);
    LoginRequest req{u.name, hash_of_secret(), ip, "test-agent", "req-1"};
    auto r = write<User>([&](storage::Tx& tx) { return complete_login(tx, req, tokens, now_ms, limits_); });
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return tokens;
  }

  std::optional<Session> find(const std::string& token, int64_t now_ms) {
    return find_session(*store_->read(), token, now_ms, limits_);
  }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
  Principal admin_;
  SeededRandom random_{1};
  SessionLimits limits_{12LL * 3600 * 1000, 30LL * 60 * 1000};
};

TEST_P(ConsoleStore, CreateUsersWithTheirRules) {
  auto merchant = add_merchant("a");
  auto admin = add_user("root", Role::kAdmin);
  EXPECT_GT(admin.id, 0);
  EXPECT_FALSE(admin.merchant_id);
  auto m = add_user("shop", Role::kMerchant, merchant);
  EXPECT_EQ(m.merchant_id, merchant);
  EXPECT_EQ(user_json(m)["merchant_id"], merchant.value());
  EXPECT_TRUE(user_json(admin)["merchant_id"].is_null());
  EXPECT_FALSE(user_json(admin).contains("password_hash"));

  auto again = write<User>([&](storage::Tx& tx) {
    return create_user(tx, NewUser{"root", Role::kSupport, std::nullopt, hash_of_secret()}, admin_, kT0);
  });
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  auto no_merchant = write<User>([&](storage::Tx& tx) {
    return create_user(tx, NewUser{"m2", Role::kMerchant, std::nullopt, hash_of_secret()}, admin_, kT0);
  });
  EXPECT_EQ(no_merchant.error().code, ErrorCode::kInvalidArgument);
  auto unknown_merchant = write<User>([&](storage::Tx& tx) {
    return create_user(tx, NewUser{"m3", Role::kMerchant, MerchantId{999}, hash_of_secret()}, admin_, kT0);
  });
  EXPECT_EQ(unknown_merchant.error().code, ErrorCode::kNotFound);
  auto operator_with_merchant = write<User>([&](storage::Tx& tx) {
    return create_user(tx, NewUser{"s1", Role::kSupport, merchant, hash_of_secret()}, admin_, kT0);
  });
  EXPECT_EQ(operator_with_merchant.error().code, ErrorCode::kInvalidArgument);

  auto tx = store_->read();
  EXPECT_EQ(user_by_name(*tx, "shop")->id, m.id);
  EXPECT_EQ(user_by_id(*tx, admin.id)->name, "root");
  EXPECT_EQ(*password_hash_of(*tx, admin.id), hash_of_secret());
  EXPECT_EQ(list_users(*tx, {}).size(), 2u);
  UserFilter merchants;
  merchants.role = Role::kMerchant;
  ASSERT_EQ(list_users(*tx, merchants).size(), 1u);
  UserFilter page;
  page.limit = 1;
  auto first = list_users(*tx, page);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].id, m.id);  // newest first
  page.before_id = first[0].id;
  EXPECT_EQ(list_users(*tx, page)[0].id, admin.id);

  AuditFilter creations;
  creations.action = "user.create";
  auto audit = list_audit(*tx, creations);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].target_id, std::to_string(m.id));
  EXPECT_EQ(audit[0].actor_name, admin_.name);
  EXPECT_EQ(audit[0].actor_role, "cli");
  EXPECT_FALSE(audit[0].actor_user_id);
  EXPECT_EQ(audit_row_json(audit[0])["after"]["name"], "shop");
  EXPECT_EQ(audit[0].after_json.find("argon2"), std::string::npos);
}

TEST_P(ConsoleStore, SessionsEndWhenIdleOrOld) {
  auto u = add_user("alice", Role::kSupport);
  auto t = login(u, kT0);
  auto s = find(t.token, kT0 + 1);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->user.id, u.id);
  EXPECT_EQ(s->csrf_token, t.csrf_token);
  EXPECT_EQ(s->user.last_login_at_ms, kT0);
  EXPECT_FALSE(find(t.token + "0", kT0 + 1));
  EXPECT_FALSE(find(new_session_tokens(random_).token, kT0 + 1));

  // Idle: unused for idle_ms ends it; a touch keeps it alive.
  EXPECT_TRUE(find(t.token, kT0 + limits_.idle_ms - 1));
  EXPECT_FALSE(find(t.token, kT0 + limits_.idle_ms));
  EXPECT_FALSE(session_needs_touch(*s, kT0 + kSessionTouchIntervalMs - 1));
  EXPECT_TRUE(session_needs_touch(*s, kT0 + kSessionTouchIntervalMs));
  int64_t now = kT0;
  for (int i = 0; i < 30; ++i) {  // used every 25 minutes for 12.5 hours
    now += 25 * 60'000;
    auto live = find(t.token, now);
    if (now < kT0 + limits_.ttl_ms) {
      ASSERT_TRUE(live) << "at +" << (now - kT0) / 60'000 << " min";
      ASSERT_TRUE(write<Unit>([&](storage::Tx& tx) -> Result<Unit> {
                    touch_session(tx, live->token_hash, now);
                    return Unit{};
                  }).ok());
    } else {
      EXPECT_FALSE(live) << "absolute expiry at +" << (now - kT0) / 60'000 << " min";
    }
  }
  // A shortened ttl applies to sessions already open.
  auto t2 = login(u, now);
  EXPECT_TRUE(find(t2.token, now + 120'000));
  EXPECT_FALSE(find_session(*store_->read(), t2.token, now + 120'000, SessionLimits{60'000, limits_.idle_ms}));
}

TEST_P(ConsoleStore, DisablingAndPasswordChangesEndSessions) {
  auto merchant = add_merchant("b");
  auto u = add_user("bob", Role::kAdmin);
  auto m = add_user("shopb", Role::kMerchant, merchant);
  auto t1 = login(u, kT0);
  auto t2 = login(u, kT0);
  auto tm = login(m, kT0);
  ASSERT_TRUE(find(t1.token, kT0 + 1) && find(t2.token, kT0 + 1) && find(tm.token, kT0 + 1));

  // Changing the password from session 1 keeps session 1 only.
  auto changed = write<User>([&](storage::Tx& tx) {
    return set_user_password(tx, u.id, hash_of_secret(), principal_of(u, "ip", "r"), kT0 + 2, t1.token_hash);
  });
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(find(t1.token, kT0 + 3));
  EXPECT_FALSE(find(t2.token, kT0 + 3));

  // A user cannot disable itself; another admin (here the CLI) can, and its sessions end.
  auto self = write<User>([&](storage::Tx& tx) { return set_user_enabled(tx, u.id, false, principal_of(u, "", ""), kT0); });
  EXPECT_EQ(self.error().code, ErrorCode::kFailedPrecondition);
  auto disabled = write<User>([&](storage::Tx& tx) { return set_user_enabled(tx, u.id, false, admin_, kT0 + 4); });
  ASSERT_TRUE(disabled.ok());
  EXPECT_FALSE(disabled->enabled);
  EXPECT_FALSE(find(t1.token, kT0 + 5));
  auto candidate = login_candidate(*store_->read(), "bob");
  ASSERT_TRUE(candidate);
  EXPECT_FALSE(candidate->user.enabled);
  // Even with the right password, a disabled user cannot complete a login.
  auto tokens = new_session_tokens(random_);
  auto refused = write<User>([&](storage::Tx& tx) {
    return complete_login(tx, LoginRequest{"bob", hash_of_secret(), "ip", "ua", "r"}, tokens, kT0 + 6, limits_);
  });
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
  auto enabled = write<User>([&](storage::Tx& tx) { return set_user_enabled(tx, u.id, true, admin_, kT0 + 7); });
  EXPECT_TRUE(enabled->enabled);

  // A disabled merchant's logins lose their sessions and cannot log in.
  ASSERT_TRUE(store_->write_sync([&](storage::Tx& tx) -> Status {
                      auto mm = *tx.merchant(merchant);
                      mm.enabled = false;
                      tx.update_merchant(mm);
                      return ok_status();
                    }).ok());
  EXPECT_FALSE(find(tm.token, kT0 + 8));
  EXPECT_FALSE(login_candidate(*store_->read(), "shopb")->merchant_enabled);

  AuditFilter f;
  f.target_type = "user";
  f.target_id = std::to_string(u.id);
  std::vector<std::string> actions;
  for (const auto& a : list_audit(*store_->read(), f)) actions.push_back(a.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"user.enable", "user.disable", "user.password", "session.login",
                                               "session.login", "user.create"}));
}

TEST_P(ConsoleStore, LoginRateLimitPerNameAndAddress) {
  auto u = add_user("carol", Role::kSupport);
  auto fail = [&](const std::string& name, const std::string& ip, int64_t at) {
    ASSERT_TRUE(write<Unit>([&](storage::Tx& tx) -> Result<Unit> {
                  record_login_failure(tx, name, ip, at);
                  return Unit{};
                }).ok());
  };
  auto retry = [&](const std::string& name, const std::string& ip, int64_t at) {
    return login_retry_after_s(*store_->read(), name, ip, at);
  };
  for (int i = 0; i < limits::kConsoleLoginFailuresMax - 1; ++i) fail("carol", "10.0.0." + std::to_string(i), kT0 + i * 1000);
  EXPECT_EQ(retry("carol", "10.9.9.9", kT0 + 10'000), 0);
  fail("carol", "10.0.0.99", kT0 + 10'000);
  // Five failures for the name: blocked from anywhere until the first leaves the window.
  EXPECT_EQ(retry("carol", "10.9.9.9", kT0 + 10'000), (limits::kConsoleLoginWindowMs - 10'000) / 1000);
  EXPECT_EQ(retry("carol", "10.9.9.9", kT0 + limits::kConsoleLoginWindowMs - 500), 1);  // rounded up
  EXPECT_EQ(retry("carol", "10.9.9.9", kT0 + limits::kConsoleLoginWindowMs), 0);  // four left in the window
  EXPECT_EQ(retry("dave", "10.9.9.9", kT0 + 10'000), 0);

  // Rate limited meanwhile: even a verified password gets no session.
  auto tokens = new_session_tokens(random_);
  auto limited = write<User>([&](storage::Tx& tx) {
    return complete_login(tx, LoginRequest{"carol", hash_of_secret(), "10.9.9.9", "ua", "r"}, tokens, kT0 + 20'000,
                          limits_);
  });
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, ErrorCode::kResourceExhausted);
  EXPECT_GT(std::stoll(limited.error().message), 0);

  // Per address: five failures on different names from one address.
  for (int i = 0; i < limits::kConsoleLoginFailuresMax; ++i) fail("name" + std::to_string(i), "192.0.2.7", kT0);
  EXPECT_GT(retry("carol-other", "192.0.2.7", kT0 + 1000), 0);
  EXPECT_EQ(retry("carol-other", "192.0.2.8", kT0 + 1000), 0);

  // After the window a login succeeds, forgets the name's failures, and old rows are pruned.
  int64_t later = kT0 + limits::kConsoleLoginWindowMs + 60'000;
  login(u, later, "10.9.9.9");
  EXPECT_EQ(retry("carol", "10.9.9.9", later), 0);
  auto left = store_->read()->query_sql("SELECT COUNT(*) FROM console_login_failures", {});
  EXPECT_EQ(storage::sql_int(left[0][0]), 0);
}

TEST_P(ConsoleStore, AuditFiltersAndPages) {
  Principal who = cli_principal();
  ASSERT_TRUE(write<Unit>([&](storage::Tx& tx) -> Result<Unit> {
                for (int i = 0; i < 5; ++i) {
                  write_audit(tx, who,
                              AuditEntry{i % 2 ? "merchant.update" : "order.resend", i % 2 ? "merchant" : "order",
                                         std::to_string(i), "{\"a\":1}", "{\"a\":2}"},
                              kT0 + i);
                }
                return Unit{};
              }).ok());
  auto tx = store_->read();
  EXPECT_EQ(list_audit(*tx, {}).size(), 5u);
  AuditFilter f;
  f.action = "order.resend";
  EXPECT_EQ(list_audit(*tx, f).size(), 3u);
  f.target_id = "2";
  auto one = list_audit(*tx, f);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].at_ms, kT0 + 2);
  auto j = audit_row_json(one[0]);
  EXPECT_EQ(j["before"]["a"], 1);
  EXPECT_EQ(j["after"]["a"], 2);
  EXPECT_EQ(j["actor_role"], "cli");
  AuditFilter window;
  window.from_ms = kT0 + 1;
  window.to_ms = kT0 + 3;
  EXPECT_EQ(list_audit(*tx, window).size(), 2u);
  AuditFilter page;
  page.limit = 2;
  auto p1 = list_audit(*tx, page);
  ASSERT_EQ(p1.size(), 2u);
  EXPECT_EQ(p1[0].at_ms, kT0 + 4);
  page.before_id = p1.back().id;
  auto p2 = list_audit(*tx, page);
  ASSERT_EQ(p2.size(), 2u);
  EXPECT_EQ(p2[0].at_ms, kT0 + 2);
}

INSTANTIATE_TEST_SUITE_P(Engines, ConsoleStore, ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::console
