// The admin API's session routes and api_support, in process: requests through the router to the handlers, on a
// real store (SQLite; PostgreSQL when a test cluster is configured), with a manual clock.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include "console/api.h"
#include "console/api_support.h"
#include "console/auth.h"
#include "http/testing.h"
#include "storage/testing/store_fixture.h"

namespace paygate::console {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using storage::testing::StoreBackend;

constexpr int64_t kT0 = 1'800'000'000'000;
constexpr std::string_view kPassword = "admin-password-1";

http::Request make_request(bhttp::verb method, std::string target, std::string body = "",
                           std::string content_type = "application/json") {
  http::Request req;
  req.raw.method(method);
  req.raw.target(target);
  req.raw.version(11);
  if (!content_type.empty()) req.raw.set(bhttp::field::content_type, content_type);
  req.raw.body() = std::move(body);
  req.raw.prepare_payload();
  auto q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string::npos ? "" : target.substr(q + 1);
  req.remote_ip = "192.0.2.1";
  req.request_id = "test-request";
  return req;
}

TEST(ConsoleApiSupport, SessionCookieIsFoundAmongOthers) {
  auto req = make_request(bhttp::verb::get, "/admin/api/me");
  EXPECT_FALSE(session_token_from_cookie(req));
  req.raw.set(bhttp::field::cookie, "a=1; pg_console=abc; b=2");
  EXPECT_EQ(session_token_from_cookie(req), "abc");
  req.raw.set(bhttp::field::cookie, "pg_console_x=1;pg_console=\"q\"");
  EXPECT_EQ(session_token_from_cookie(req), "q");
  req.raw.set(bhttp::field::cookie, "other=pg_console");
  EXPECT_FALSE(session_token_from_cookie(req));
}

TEST(ConsoleApiSupport, JsonBodyLimits) {
  auto ok = make_request(bhttp::verb::post, "/x", R"({"a":1})", "application/json; charset=utf-8");
  ASSERT_TRUE(std::holds_alternative<json>(json_body(ok)));
  EXPECT_EQ(std::get<json>(json_body(ok))["a"], 1);
  auto status_of = [](const http::Request& r) {
    auto b = json_body(r);
    return std::holds_alternative<http::Response>(b) ? std::get<http::Response>(b).result() : bhttp::status::ok;
  };
  EXPECT_EQ(status_of(make_request(bhttp::verb::post, "/x", R"({"a":1})", "text/plain")),
            bhttp::status::unsupported_media_type);
  EXPECT_EQ(status_of(make_request(bhttp::verb::post, "/x", R"({"a":1})", "")), bhttp::status::unsupported_media_type);
  EXPECT_EQ(status_of(make_request(bhttp::verb::post, "/x", R"({"a":)")), bhttp::status::bad_request);
  EXPECT_EQ(status_of(make_request(bhttp::verb::post, "/x", "[1]")), bhttp::status::bad_request);
  EXPECT_EQ(status_of(make_request(bhttp::verb::post, "/x", "{\"a\":\"" + std::string(20'000, 'x') + "\"}")),
            bhttp::status::payload_too_large);
}

TEST(ConsoleApiSupport, ErrorsHaveOneShape) {
  auto req = make_request(bhttp::verb::get, "/x");
  auto res = error_response(req, make_error(ErrorCode::kAlreadyExists, "taken"));
  EXPECT_EQ(res.result(), bhttp::status::conflict);
  auto j = json::parse(res.body());
  EXPECT_EQ(j["error"]["code"], "conflict");
  EXPECT_EQ(j["error"]["message"], "taken");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json; charset=utf-8");
  auto internal = error_response(req, make_error(ErrorCode::kInternal, "secret detail"));
  EXPECT_EQ(internal.result(), bhttp::status::internal_server_error);
  EXPECT_EQ(internal.body().find("secret detail"), std::string::npos);
  EXPECT_EQ(error_response(req, make_error(ErrorCode::kInvalidArgument, "x")).result(), bhttp::status::bad_request);
  EXPECT_EQ(error_response(req, make_error(ErrorCode::kNotFound, "x")).result(), bhttp::status::not_found);
  EXPECT_EQ(error_response(req, make_error(ErrorCode::kResourceExhausted, "x")).result(),
            bhttp::status::too_many_requests);
  EXPECT_EQ(error_response(req, make_error(ErrorCode::kUnavailable, "x")).result(), bhttp::status::service_unavailable);
}

class ConsoleApi : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (auto why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    harness_ = GetParam().make();
    store_ = harness_->open();
    deps_ = std::make_unique<ApiDeps>(ApiDeps{*store_, *harness_->box(), clock_, random_, ApiConfig{}, [] {},
                                              [](int64_t) {}});
    register_routes(router_, *deps_);
    auto hash = hash_password(kPassword);
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE(store_->write_sync([&](storage::Tx& tx) -> Status {
                        auto u = create_user(tx, NewUser{"root", Role::kAdmin, std::nullopt, *hash}, cli_principal(),
                                             kT0);
                        if (!u.ok()) return u.error();
                        admin_id_ = u->id;
                        return ok_status();
                      }).ok());
  }
  void TearDown() override {
    io_.stop();
    if (store_) store_->close();
  }

  http::Response call(http::Request req) {
    auto match = router_.find(req.raw.method(), req.path);
    if (!match.handler) throw std::runtime_error("no route for " + req.path);
    req.path_params = match.params;
    const http::Handler* handler = match.handler;
    return http::testing::run_on(io_.io.get_executor(),
                                 [handler, &req]() -> asio::awaitable<http::Response> { co_return co_await (*handler)(req); });
  }

  http::Response login(const std::string& name, std::string_view password, const std::string& ip = "192.0.2.1") {
    auto req = make_request(bhttp::verb::post, "/admin/api/login",
                            json{{"name", name}, {"password", std::string(password)}}.dump());
    req.remote_ip = ip;
    return call(std::move(req));
  }

  // A request carrying the session cookie, and the CSRF header when csrf is given.
  http::Request with_session(http::Request req, const std::string& token, const std::string& csrf = "") {
    req.raw.set(bhttp::field::cookie, "pg_console=" + token);
    if (!csrf.empty()) req.raw.set("X-CSRF-Token", csrf);
    return req;
  }

  static std::string cookie_token(const http::Response& res) {
    std::string c(res[bhttp::field::set_cookie]);
    auto start = c.find("pg_console=");
    if (start == std::string::npos) return "";
    start += 11;
    return c.substr(start, c.find(';', start) - start);
  }

  static std::string code_of(const http::Response& res) {
    auto j = json::parse(res.body(), nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"]["code"].get<std::string>() : "";
  }

  std::unique_ptr<storage::testing::StoreHarness> harness_;
  std::unique_ptr<storage::Store> store_;
  ManualClock clock_{kT0};
  SeededRandom random_{99};
  std::unique_ptr<ApiDeps> deps_;
  http::Router router_;
  http::testing::IoThreads io_{2};
  int64_t admin_id_ = 0;
};

TEST_P(ConsoleApi, LoginMeUsersAuditLogout) {
  // Wrong password and unknown name answer alike.
  auto wrong = login("root", "not-the-password");
  EXPECT_EQ(wrong.result(), bhttp::status::unauthorized);
  EXPECT_EQ(code_of(wrong), "bad_credentials");
  auto unknown = login("nobody", kPassword);
  EXPECT_EQ(unknown.result(), bhttp::status::unauthorized);
  EXPECT_EQ(unknown.body(), wrong.body());
  EXPECT_EQ(call(make_request(bhttp::verb::post, "/admin/api/login", R"({"name":"root"})", "text/plain")).result(),
            bhttp::status::unsupported_media_type);

  auto ok = login("root", kPassword);
  ASSERT_EQ(ok.result(), bhttp::status::ok) << ok.body();
  std::string cookie(ok[bhttp::field::set_cookie]);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Path=/"), std::string::npos);
  EXPECT_NE(cookie.find("Max-Age=43200"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);
  std::string token = cookie_token(ok);
  ASSERT_TRUE(well_formed_session_token(token));
  auto body = json::parse(ok.body());
  std::string csrf = body["csrf_token"];
  EXPECT_EQ(body["user"]["name"], "root");
  EXPECT_EQ(body["user"]["role"], "admin");
  EXPECT_EQ(body["user"]["last_login_at_ms"], kT0);
  EXPECT_EQ(ok.body().find(token), std::string::npos);

  // Behind a TLS proxy the cookie is Secure.
  auto proxied_req = make_request(bhttp::verb::post, "/admin/api/login",
                                  json{{"name", "root"}, {"password", std::string(kPassword)}}.dump());
  proxied_req.raw.set("X-Forwarded-Proto", "https");
  auto proxied = call(std::move(proxied_req));
  EXPECT_NE(std::string(proxied[bhttp::field::set_cookie]).find("; Secure"), std::string::npos);

  auto me = call(with_session(make_request(bhttp::verb::get, "/admin/api/me"), token));
  ASSERT_EQ(me.result(), bhttp::status::ok);
  EXPECT_EQ(json::parse(me.body())["csrf_token"], csrf);
  EXPECT_EQ(call(make_request(bhttp::verb::get, "/admin/api/me")).result(), bhttp::status::unauthorized);
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::get, "/admin/api/me"), std::string(64, 'a'))).result(),
            bhttp::status::unauthorized);

  // A change needs the CSRF header.
  std::string new_user = json{{"name", "helper"}, {"role", "support"}, {"password", "support-password"}}.dump();
  auto no_csrf = call(with_session(make_request(bhttp::verb::post, "/admin/api/users", new_user), token));
  EXPECT_EQ(no_csrf.result(), bhttp::status::forbidden);
  EXPECT_EQ(code_of(no_csrf), "csrf");
  auto bad_csrf = call(with_session(make_request(bhttp::verb::post, "/admin/api/users", new_user), token, "x" + csrf));
  EXPECT_EQ(code_of(bad_csrf), "csrf");
  auto created = call(with_session(make_request(bhttp::verb::post, "/admin/api/users", new_user), token, csrf));
  ASSERT_EQ(created.result(), bhttp::status::created) << created.body();
  int64_t helper_id = json::parse(created.body())["id"];
  auto dup = call(with_session(make_request(bhttp::verb::post, "/admin/api/users", new_user), token, csrf));
  EXPECT_EQ(dup.result(), bhttp::status::conflict);
  auto short_pw = call(with_session(
      make_request(bhttp::verb::post, "/admin/api/users",
                   json{{"name", "x"}, {"role", "support"}, {"password", "short"}}.dump()),
      token, csrf));
  EXPECT_EQ(short_pw.result(), bhttp::status::bad_request);

  auto users = call(with_session(make_request(bhttp::verb::get, "/admin/api/users?limit=1"), token));
  ASSERT_EQ(users.result(), bhttp::status::ok);
  auto page1 = json::parse(users.body());
  ASSERT_EQ(page1["items"].size(), 1u);
  EXPECT_EQ(page1["items"][0]["name"], "helper");
  ASSERT_TRUE(page1["next_cursor"].is_string());
  auto users2 = call(with_session(
      make_request(bhttp::verb::get, "/admin/api/users?limit=1&cursor=" + page1["next_cursor"].get<std::string>()),
      token));
  auto page2 = json::parse(users2.body());
  ASSERT_EQ(page2["items"].size(), 1u);
  EXPECT_EQ(page2["items"][0]["name"], "root");
  EXPECT_TRUE(page2["next_cursor"].is_null());
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::get, "/admin/api/users?cursor=zzz"), token)).result(),
            bhttp::status::bad_request);

  // The support user may look but not manage users or read the audit log.
  auto support_login = login("helper", "support-password");
  ASSERT_EQ(support_login.result(), bhttp::status::ok);
  std::string support_token = cookie_token(support_login);
  auto forbidden = call(with_session(make_request(bhttp::verb::get, "/admin/api/audit"), support_token));
  EXPECT_EQ(forbidden.result(), bhttp::status::forbidden);
  EXPECT_EQ(code_of(forbidden), "forbidden");

  // Disabling the support user ends its session.
  auto disabled = call(with_session(
      make_request(bhttp::verb::post, "/admin/api/users/" + std::to_string(helper_id) + "/disable", ""), token, csrf));
  ASSERT_EQ(disabled.result(), bhttp::status::ok) << disabled.body();
  EXPECT_EQ(json::parse(disabled.body())["enabled"], false);
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::get, "/admin/api/me"), support_token)).result(),
            bhttp::status::unauthorized);
  EXPECT_EQ(login("helper", "support-password").result(), bhttp::status::unauthorized);
  auto self = call(with_session(
      make_request(bhttp::verb::post, "/admin/api/users/" + std::to_string(admin_id_) + "/disable", ""), token, csrf));
  EXPECT_EQ(self.result(), bhttp::status::conflict);
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::post, "/admin/api/users/999/enable", ""), token, csrf)).result(),
            bhttp::status::not_found);

  auto audit = call(with_session(make_request(bhttp::verb::get, "/admin/api/audit?target_type=user"), token));
  ASSERT_EQ(audit.result(), bhttp::status::ok);
  std::vector<std::string> actions;
  const json audit_page = json::parse(audit.body());  // named: a temporary's member would dangle in the loop
  for (const auto& item : audit_page["items"]) actions.push_back(item["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"user.disable", "session.login", "user.create", "session.login",
                                               "session.login", "user.create"}));
  auto created_entry = json::parse(
      call(with_session(make_request(bhttp::verb::get, "/admin/api/audit?action=user.create&limit=1"), token)).body());
  EXPECT_EQ(created_entry["items"][0]["actor_name"], "root");
  EXPECT_EQ(created_entry["items"][0]["remote_ip"], "192.0.2.1");
  EXPECT_EQ(created_entry["items"][0]["after"]["name"], "helper");

  // Logout needs CSRF, ends the session and clears the cookie.
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::post, "/admin/api/logout", ""), token)).result(),
            bhttp::status::forbidden);
  auto out = call(with_session(make_request(bhttp::verb::post, "/admin/api/logout", ""), token, csrf));
  EXPECT_EQ(out.result(), bhttp::status::no_content);
  EXPECT_NE(std::string(out[bhttp::field::set_cookie]).find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::get, "/admin/api/me"), token)).result(),
            bhttp::status::unauthorized);
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::post, "/admin/api/logout", ""), token, csrf)).result(),
            bhttp::status::no_content);
}

TEST_P(ConsoleApi, IdleSessionEndsAndPasswordChange) {
  auto ok = login("root", kPassword);
  ASSERT_EQ(ok.result(), bhttp::status::ok);
  std::string token = cookie_token(ok);
  std::string csrf = json::parse(ok.body())["csrf_token"];
  clock_.advance_ms(29 * 60'000);
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::get, "/admin/api/me"), token)).result(), bhttp::status::ok);
  // That request recorded its use (asynchronously): wait for it, then 29 more minutes are fine.
  for (int i = 0; i < 100; ++i) {
    auto s = find_session(*store_->read(), token, clock_.now_unix_ms(), SessionLimits{});
    if (s && s->last_seen_at_ms == clock_.now_unix_ms()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  clock_.advance_ms(29 * 60'000);
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::get, "/admin/api/me"), token)).result(), bhttp::status::ok);

  auto wrong = call(with_session(
      make_request(bhttp::verb::post, "/admin/api/me/password",
                   json{{"current_password", "nope-nope-nope"}, {"new_password", "new-password-22"}}.dump()),
      token, csrf));
  EXPECT_EQ(wrong.result(), bhttp::status::bad_request);
  auto changed = call(with_session(
      make_request(bhttp::verb::post, "/admin/api/me/password",
                   json{{"current_password", std::string(kPassword)}, {"new_password", "new-password-22"}}.dump()),
      token, csrf));
  EXPECT_EQ(changed.result(), bhttp::status::no_content) << changed.body();
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::get, "/admin/api/me"), token)).result(), bhttp::status::ok);
  EXPECT_EQ(login("root", kPassword).result(), bhttp::status::unauthorized);
  EXPECT_EQ(login("root", "new-password-22").result(), bhttp::status::ok);

  clock_.advance_ms(31 * 60'000);
  EXPECT_EQ(call(with_session(make_request(bhttp::verb::get, "/admin/api/me"), token)).result(),
            bhttp::status::unauthorized);
}

TEST_P(ConsoleApi, RateLimitedLogins) {
  for (int i = 0; i < limits::kConsoleLoginFailuresMax; ++i) {
    EXPECT_EQ(login("root", "wrong-password", "198.51.100." + std::to_string(i)).result(), bhttp::status::unauthorized);
  }
  auto limited = login("root", kPassword, "198.51.100.200");
  EXPECT_EQ(limited.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(code_of(limited), "rate_limited");
  EXPECT_EQ(limited[bhttp::field::retry_after], std::to_string(limits::kConsoleLoginWindowMs / 1000));
  clock_.advance_ms(limits::kConsoleLoginWindowMs + 1);
  EXPECT_EQ(login("root", kPassword, "198.51.100.200").result(), bhttp::status::ok);
}

INSTANTIATE_TEST_SUITE_P(Engines, ConsoleApi, ::testing::ValuesIn(storage::testing::conformance_backends()),
                         [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });

}  // namespace
}  // namespace paygate::console
