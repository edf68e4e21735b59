// The session and user routes of the admin API: login, logout, me, password changes, console users, the audit log
// (docs/console.md, "Session", "Users", "Audit").
//
// Password hashing and verification (argon2id, tens of milliseconds and 64 MiB each) run on a small pool of their
// own, never on the I/O threads nor inside a write transaction; at most kHashJobsMax wait there at once.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <string>

#include "base/limits.h"
#include "base/money.h"
#include "base/text.h"
#include "console/api.h"
#include "console/audit.h"
#include "console/auth.h"
#include "storage/async_write.h"

namespace paygate::console {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr int kHashThreads = 2;
constexpr int kHashJobsMax = 64;
constexpr size_t kPageSizeDefault = 50;

std::atomic<int> hash_jobs{0};

asio::thread_pool& hash_pool() {
  static asio::thread_pool pool(kHashThreads);
  return pool;
}

// Runs fn on the hashing pool and resumes the coroutine on its own executor with the result. Pass a named
// std::function (GCC 12, see storage/async_write.h).
template <typename T>
asio::awaitable<T> on_hash_pool(std::function<T()>&& fn) {
  auto initiate = [fn = std::move(fn)](auto handler) mutable {
    asio::post(hash_pool(), [fn = std::move(fn), handler = std::move(handler)]() mutable {
      T out = fn();
      hash_jobs.fetch_sub(1);
      auto ex = asio::get_associated_executor(handler);
      asio::post(ex, [handler = std::move(handler), out = std::move(out)]() mutable {
        std::move(handler)(std::move(out));
      });
    });
  };
  hash_jobs.fetch_add(1);
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(std::move(initiate), asio::use_awaitable);
}

bool hash_pool_full() { return hash_jobs.load() >= kHashJobsMax; }

http::Response busy(const http::Request& req) {
  auto res = json_error(req, bhttp::status::service_unavailable, "unavailable", "too many logins at once: try again");
  res.set(bhttp::field::retry_after, "1");
  return res;
}

http::Response rate_limited(const http::Request& req, int64_t retry_after_s) {
  auto res = json_error(req, bhttp::status::too_many_requests, "rate_limited",
                        "too many failed logins: try again in " + std::to_string(retry_after_s) + " s");
  res.set(bhttp::field::retry_after, std::to_string(retry_after_s));
  return res;
}

http::Response storage_unavailable(const http::Request& req, const std::exception& e) {
  spdlog::error("event=console_storage_read_failed request_id={} error=\"{}\"", req.request_id, e.what());
  return json_error(req, bhttp::status::service_unavailable, "unavailable", "storage unavailable, try again");
}

// A name safe to log (what clients send as a name is anything).
std::string loggable_name(std::string_view name) {
  return check_user_name(name).ok() ? std::string(name) : std::string("(malformed)");
}

std::string header(const http::Request& req, std::string_view name) {
  auto it = req.raw.find(name);
  return it == req.raw.end() ? std::string() : std::string(it->value().data(), it->value().size());
}

bool over_tls(const ApiDeps& deps, const http::Request& req) {
  if (deps.config.public_url_is_https) return true;
  std::string proto = header(req, "X-Forwarded-Proto");
  // A chain of proxies lists one value each; the first is the client's.
  std::string_view first = std::string_view(proto).substr(0, proto.find(','));
  while (!first.empty() && first.back() == ' ') first.remove_suffix(1);
  while (!first.empty() && first.front() == ' ') first.remove_prefix(1);
  return equals_ignoring_ascii_case(first, "https");
}

std::string session_cookie(const ApiDeps& deps, const http::Request& req, std::string_view token, int64_t max_age_s) {
  std::string c = std::string(kSessionCookie) + "=" + std::string(token) + "; Path=/; Max-Age=" +
                  std::to_string(max_age_s) + "; HttpOnly; SameSite=Strict";
  if (over_tls(deps, req)) c += "; Secure";
  return c;
}

SessionLimits session_limits(const ApiDeps& deps) {
  return SessionLimits{deps.config.session_ttl_ms, deps.config.session_idle_ms};
}

// A required string field of a JSON body.
std::optional<std::string> string_field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

http::Response missing(const http::Request& req, std::string_view what) {
  return json_error(req, bhttp::status::bad_request, "bad_request", std::string(what) + " is required (a string)");
}

// Cursors are opaque to clients: base64url (no padding) of "<kind>:<id>".
std::string encode_cursor(char kind, int64_t id) {
  std::string b = crypto::base64_encode(std::string(1, kind) + ":" + std::to_string(id));
  for (auto& c : b) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

std::optional<int64_t> decode_cursor(char kind, std::string text) {
  if (text.size() > 64) return std::nullopt;
  for (auto& c : text) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (text.size() % 4 != 0) text.push_back('=');
  auto raw = crypto::base64_decode(text);
  if (!raw || raw->size() < 3 || (*raw)[0] != kind || (*raw)[1] != ':') return std::nullopt;
  auto id = parse_int64_strict(std::string_view(*raw).substr(2));
  if (!id || *id <= 0) return std::nullopt;
  return id;
}

struct Page {
  size_t limit = kPageSizeDefault;
  std::optional<int64_t> before_id;
};

// ?limit= (default 50, at most 200) and ?cursor=.
Result<Page> page_of(const http::FormFields& q, char cursor_kind) {
  Page p;
  if (const auto* limit = q.find("limit"); limit && !limit->empty()) {
    auto n = parse_int64_strict(*limit);
    if (!n || *n < 1) return make_error(ErrorCode::kInvalidArgument, "limit must be a positive integer");
    p.limit = static_cast<size_t>(std::min<int64_t>(*n, static_cast<int64_t>(limits::kConsolePageSizeMax)));
  }
  if (const auto* cursor = q.find("cursor"); cursor && !cursor->empty()) {
    p.before_id = decode_cursor(cursor_kind, *cursor);
    if (!p.before_id) return make_error(ErrorCode::kInvalidArgument, "malformed cursor");
  }
  return p;
}

// An optional integer query field; kInvalidArgument when present and not an integer.
Result<std::optional<int64_t>> int_field(const http::FormFields& q, const char* key) {
  const auto* v = q.find(key);
  if (!v || v->empty()) return std::optional<int64_t>{};
  auto n = parse_int64_strict(*v);
  if (!n) return make_error(ErrorCode::kInvalidArgument, std::string(key) + " must be an integer");
  return std::optional<int64_t>{*n};
}

std::optional<std::string> text_field(const http::FormFields& q, const char* key) {
  const auto* v = q.find(key);
  if (!v || v->empty()) return std::nullopt;
  return *v;
}

// The user id of a /users/{id}/... path.
std::optional<int64_t> path_user_id(const http::Request& req) {
  auto id = parse_int64_strict(req.path_param("id"));
  if (!id || *id <= 0) return std::nullopt;
  return id;
}

// ---- Handlers ----

asio::awaitable<http::Response> login(ApiDeps& deps, http::Request& req) {
  auto body = json_body(req);
  if (auto* res = std::get_if<http::Response>(&body)) co_return std::move(*res);
  const json& j = std::get<json>(body);
  auto name = string_field(j, "name");
  auto password = string_field(j, "password");
  if (!name) co_return missing(req, "name");
  if (!password) co_return missing(req, "password");
  const std::string remote_ip = req.remote_ip;
  const SessionLimits limits = session_limits(deps);

  int64_t wait_s = 0;
  std::optional<LoginCandidate> candidate;
  try {
    auto tx = deps.store.read();
    wait_s = login_retry_after_s(*tx, *name, remote_ip, deps.clock.now_unix_ms());
    if (wait_s == 0) candidate = login_candidate(*tx, *name);
  } catch (const std::exception& e) {
    co_return storage_unavailable(req, e);
  }
  if (wait_s > 0) {
    spdlog::warn("event=console_login_refused reason=rate_limited name={} remote={} retry_after_s={}",
                 loggable_name(*name), remote_ip, wait_s);
    co_return rate_limited(req, wait_s);
  }
  if (hash_pool_full()) co_return busy(req);

  // An unknown name is verified against a dummy hash: it answers as slowly as a wrong password.
  std::string hash = candidate ? candidate->password_hash : std::string();
  std::function<bool()> verify = [hash, password = *password]() {
    return hash.empty() ? verify_dummy_password(password) : verify_password(hash, password);
  };
  bool verified = co_await on_hash_pool<bool>(std::move(verify));
  const bool may_log_in = verified && candidate && candidate->user.enabled && candidate->merchant_enabled;

  if (!may_log_in) {
    const char* reason = !candidate ? "unknown_name" : !verified ? "wrong_password" : "disabled";
    int64_t now_ms = deps.clock.now_unix_ms();
    std::function<Result<Unit>(storage::Tx&)> record = [n = *name, remote_ip, now_ms,
                                                        limits](storage::Tx& tx) -> Result<Unit> {
      record_login_failure(tx, n, remote_ip, now_ms);
      (void)prune_sessions_and_failures(tx, now_ms, limits);
      return Unit{};
    };
    auto recorded = co_await storage::async_write<Unit>(deps.store, std::move(record));
    spdlog::warn("event=console_login_failed reason={} name={} remote={} request_id={}", reason, loggable_name(*name),
                 remote_ip, req.request_id);
    if (!recorded.ok()) co_return error_response(req, recorded.error());
    co_return json_error(req, bhttp::status::unauthorized, "bad_credentials", "wrong name or password");
  }

  const SessionTokens tokens = new_session_tokens(deps.random);
  LoginRequest request{*name, candidate->password_hash, remote_ip, header(req, "User-Agent"), req.request_id};
  const int64_t now_ms = deps.clock.now_unix_ms();
  std::function<Result<User>(storage::Tx&)> commit = [request, tokens, now_ms, limits](storage::Tx& tx) {
    return complete_login(tx, request, tokens, now_ms, limits);
  };
  auto user = co_await storage::async_write<User>(deps.store, std::move(commit));
  if (!user.ok()) {
    const Error& e = user.error();
    if (e.code == ErrorCode::kUnauthenticated) {
      spdlog::warn("event=console_login_failed reason=changed name={} remote={} request_id={}", loggable_name(*name),
                   remote_ip, req.request_id);
      co_return json_error(req, bhttp::status::unauthorized, "bad_credentials", "wrong name or password");
    }
    if (e.code == ErrorCode::kResourceExhausted) {
      auto s = parse_int64_strict(e.message);
      if (s) co_return rate_limited(req, *s);
    }
    co_return error_response(req, e);
  }
  spdlog::info("event=console_login name={} role={} user_id={} remote={} request_id={}", user->name,
               role_name(user->role), user->id, remote_ip, req.request_id);
  auto res = json_response(req, json{{"user", user_json(*user)}, {"csrf_token", tokens.csrf_token}});
  res.set(bhttp::field::set_cookie, session_cookie(deps, req, tokens.token, limits.ttl_ms / 1000));
  co_return res;
}

asio::awaitable<http::Response> logout(ApiDeps& deps, http::Request& req) {
  auto clear = [&](http::Response res) {
    res.set(bhttp::field::set_cookie, session_cookie(deps, req, "", 0));
    return res;
  };
  auto auth = authorize(deps, req, Permission::kView);
  if (auto* res = std::get_if<http::Response>(&auth)) {
    // No live session: logging out is already done; forget the cookie anyway.
    if (res->result() == bhttp::status::unauthorized) co_return clear(no_content_response(req));
    co_return std::move(*res);
  }
  Principal who = std::get<Principal>(std::move(auth));
  std::string token_hash = session_token_hash(session_token_from_cookie(req).value_or(""));
  int64_t now_ms = deps.clock.now_unix_ms();
  std::function<Result<Unit>(storage::Tx&)> end = [token_hash, who, now_ms](storage::Tx& tx) -> Result<Unit> {
    delete_session(tx, token_hash);
    write_audit(tx, who, AuditEntry{"session.logout", "user", std::to_string(who.user_id), "{}", "{}"}, now_ms);
    return Unit{};
  };
  auto ended = co_await storage::async_write<Unit>(deps.store, std::move(end));
  if (!ended.ok()) co_return error_response(req, ended.error());
  spdlog::info("event=console_logout name={} user_id={} remote={} request_id={}", who.name, who.user_id,
               who.remote_ip, req.request_id);
  co_return clear(no_content_response(req));
}

asio::awaitable<http::Response> me(ApiDeps& deps, http::Request& req) {
  auto auth = authorize(deps, req, Permission::kView);
  if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
  std::optional<Session> session;
  try {
    auto tx = deps.store.read();
    session = find_session(*tx, session_token_from_cookie(req).value_or(""), deps.clock.now_unix_ms(),
                           session_limits(deps));
  } catch (const std::exception& e) {
    co_return storage_unavailable(req, e);
  }
  if (!session) {
    co_return json_error(req, bhttp::status::unauthorized, "unauthenticated", "the session has ended: log in again");
  }
  co_return json_response(req, json{{"user", user_json(session->user)}, {"csrf_token", session->csrf_token}});
}

asio::awaitable<http::Response> change_own_password(ApiDeps& deps, http::Request& req) {
  auto auth = authorize(deps, req, Permission::kView);
  if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
  Principal who = std::get<Principal>(std::move(auth));
  auto body = json_body(req);
  if (auto* res = std::get_if<http::Response>(&body)) co_return std::move(*res);
  const json& j = std::get<json>(body);
  auto current = string_field(j, "current_password");
  auto next = string_field(j, "new_password");
  if (!current) co_return missing(req, "current_password");
  if (!next) co_return missing(req, "new_password");
  if (auto st = check_password_rules(*next); !st.ok()) co_return error_response(req, st.error());

  std::optional<std::string> hash;
  int64_t wait_s = 0;
  try {
    auto tx = deps.store.read();
    wait_s = login_retry_after_s(*tx, who.name, who.remote_ip, deps.clock.now_unix_ms());
    hash = password_hash_of(*tx, who.user_id);
  } catch (const std::exception& e) {
    co_return storage_unavailable(req, e);
  }
  // Guessing the current password through a borrowed session counts against the same limit as logins.
  if (wait_s > 0) co_return rate_limited(req, wait_s);
  if (!hash) co_return json_error(req, bhttp::status::unauthorized, "unauthenticated", "log in again");
  if (hash_pool_full()) co_return busy(req);
  std::function<Result<std::string>()> check_and_hash = [h = *hash, current = *current,
                                                         next = *next]() -> Result<std::string> {
    if (!verify_password(h, current)) return make_error(ErrorCode::kUnauthenticated, "wrong password");
    return hash_password(next);
  };
  auto new_hash = co_await on_hash_pool<Result<std::string>>(std::move(check_and_hash));
  int64_t now_ms = deps.clock.now_unix_ms();
  if (!new_hash.ok() && new_hash.error().code == ErrorCode::kUnauthenticated) {
    std::function<Result<Unit>(storage::Tx&)> record = [who, now_ms](storage::Tx& tx) -> Result<Unit> {
      record_login_failure(tx, who.name, who.remote_ip, now_ms);
      return Unit{};
    };
    auto recorded = co_await storage::async_write<Unit>(deps.store, std::move(record));
    spdlog::warn("event=console_password_change_refused reason=wrong_password name={} remote={} request_id={}",
                 who.name, who.remote_ip, req.request_id);
    if (!recorded.ok()) co_return error_response(req, recorded.error());
    co_return json_error(req, bhttp::status::bad_request, "bad_request", "the current password is wrong");
  }
  if (!new_hash.ok()) co_return error_response(req, new_hash.error());
  // This session survives; the user's others end.
  std::string keep = session_token_hash(session_token_from_cookie(req).value_or(""));
  std::function<Result<User>(storage::Tx&)> commit = [who, h = *new_hash, now_ms, keep](storage::Tx& tx) {
    return set_user_password(tx, who.user_id, h, who, now_ms, keep);
  };
  auto changed = co_await storage::async_write<User>(deps.store, std::move(commit));
  if (!changed.ok()) co_return error_response(req, changed.error());
  spdlog::info("event=console_password_changed name={} user_id={} by={} request_id={}", who.name, who.user_id,
               who.name, req.request_id);
  co_return no_content_response(req);
}

asio::awaitable<http::Response> list_users_route(ApiDeps& deps, http::Request& req) {
  auto auth = authorize(deps, req, Permission::kManageUsers);
  if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
  auto q = query_fields(req);
  auto page = page_of(q, 'u');
  if (!page.ok()) co_return error_response(req, page.error());
  UserFilter f;
  if (auto role = text_field(q, "role")) {
    f.role = parse_role(*role);
    if (!f.role) co_return json_error(req, bhttp::status::bad_request, "bad_request", "role must be admin, support or merchant");
  }
  auto merchant = int_field(q, "merchant_id");
  if (!merchant.ok()) co_return error_response(req, merchant.error());
  if (*merchant) f.merchant_id = MerchantId{**merchant};
  f.before_id = page->before_id;
  f.limit = page->limit + 1;  // one more tells whether there is a next page
  std::vector<User> users;
  try {
    users = list_users(*deps.store.read(), f);
  } catch (const std::exception& e) {
    co_return storage_unavailable(req, e);
  }
  json items = json::array();
  std::optional<std::string> next;
  for (size_t i = 0; i < users.size() && i < page->limit; ++i) items.push_back(user_json(users[i]));
  if (users.size() > page->limit) next = encode_cursor('u', users[page->limit - 1].id);
  co_return page_response(req, std::move(items), next);
}

asio::awaitable<http::Response> create_user_route(ApiDeps& deps, http::Request& req) {
  auto auth = authorize(deps, req, Permission::kManageUsers);
  if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
  Principal who = std::get<Principal>(std::move(auth));
  auto body = json_body(req);
  if (auto* res = std::get_if<http::Response>(&body)) co_return std::move(*res);
  const json& j = std::get<json>(body);
  auto name = string_field(j, "name");
  auto role_text = string_field(j, "role");
  auto password = string_field(j, "password");
  if (!name) co_return missing(req, "name");
  if (!role_text) co_return missing(req, "role");
  if (!password) co_return missing(req, "password");
  if (auto st = check_user_name(*name); !st.ok()) co_return error_response(req, st.error());
  auto role = parse_role(*role_text);
  if (!role) co_return json_error(req, bhttp::status::bad_request, "bad_request", "role must be admin, support or merchant");
  NewUser user;
  user.name = *name;
  user.role = *role;
  if (auto it = j.find("merchant_id"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) {
      co_return json_error(req, bhttp::status::bad_request, "bad_request", "merchant_id must be an integer");
    }
    user.merchant_id = MerchantId{it->get<int64_t>()};
  }
  if (auto st = check_password_rules(*password); !st.ok()) co_return error_response(req, st.error());
  if (hash_pool_full()) co_return busy(req);
  std::function<Result<std::string>()> hash = [p = *password]() { return hash_password(p); };
  auto hashed = co_await on_hash_pool<Result<std::string>>(std::move(hash));
  if (!hashed.ok()) co_return error_response(req, hashed.error());
  user.password_hash = *hashed;
  int64_t now_ms = deps.clock.now_unix_ms();
  std::function<Result<User>(storage::Tx&)> commit = [user, who, now_ms](storage::Tx& tx) {
    return create_user(tx, user, who, now_ms);
  };
  auto created = co_await storage::async_write<User>(deps.store, std::move(commit));
  if (!created.ok()) co_return error_response(req, created.error());
  spdlog::info("event=console_user_created name={} role={} user_id={} by={} request_id={}", created->name,
               role_name(created->role), created->id, who.name, req.request_id);
  co_return json_response(req, user_json(*created), bhttp::status::created);
}

asio::awaitable<http::Response> set_enabled_route(ApiDeps& deps, http::Request& req, bool enabled) {
  auto auth = authorize(deps, req, Permission::kManageUsers);
  if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
  Principal who = std::get<Principal>(std::move(auth));
  auto id = path_user_id(req);
  if (!id) co_return json_error(req, bhttp::status::not_found, "not_found", "no such user");
  int64_t now_ms = deps.clock.now_unix_ms();
  std::function<Result<User>(storage::Tx&)> commit = [id = *id, enabled, who, now_ms](storage::Tx& tx) {
    return set_user_enabled(tx, id, enabled, who, now_ms);
  };
  auto user = co_await storage::async_write<User>(deps.store, std::move(commit));
  if (!user.ok()) co_return error_response(req, user.error());
  spdlog::info("event=console_user_{} name={} user_id={} by={} request_id={}", enabled ? "enabled" : "disabled",
               user->name, user->id, who.name, req.request_id);
  co_return json_response(req, user_json(*user));
}

asio::awaitable<http::Response> set_password_route(ApiDeps& deps, http::Request& req) {
  auto auth = authorize(deps, req, Permission::kManageUsers);
  if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
  Principal who = std::get<Principal>(std::move(auth));
  auto id = path_user_id(req);
  if (!id) co_return json_error(req, bhttp::status::not_found, "not_found", "no such user");
  auto body = json_body(req);
  if (auto* res = std::get_if<http::Response>(&body)) co_return std::move(*res);
  auto password = string_field(std::get<json>(body), "password");
  if (!password) co_return missing(req, "password");
  if (auto st = check_password_rules(*password); !st.ok()) co_return error_response(req, st.error());
  if (hash_pool_full()) co_return busy(req);
  std::function<Result<std::string>()> hash = [p = *password]() { return hash_password(p); };
  auto hashed = co_await on_hash_pool<Result<std::string>>(std::move(hash));
  if (!hashed.ok()) co_return error_response(req, hashed.error());
  // An admin setting its own password keeps the session it does it from.
  std::string keep =
      *id == who.user_id ? session_token_hash(session_token_from_cookie(req).value_or("")) : std::string();
  int64_t now_ms = deps.clock.now_unix_ms();
  std::function<Result<User>(storage::Tx&)> commit = [id = *id, h = *hashed, who, now_ms, keep](storage::Tx& tx) {
    return set_user_password(tx, id, h, who, now_ms, keep);
  };
  auto user = co_await storage::async_write<User>(deps.store, std::move(commit));
  if (!user.ok()) co_return error_response(req, user.error());
  spdlog::info("event=console_password_changed name={} user_id={} by={} request_id={}", user->name, user->id,
               who.name, req.request_id);
  co_return no_content_response(req);
}

asio::awaitable<http::Response> audit_route(ApiDeps& deps, http::Request& req) {
  auto auth = authorize(deps, req, Permission::kReadAudit);
  if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
  auto q = query_fields(req);
  auto page = page_of(q, 'a');
  if (!page.ok()) co_return error_response(req, page.error());
  AuditFilter f;
  f.actor = text_field(q, "actor");
  f.action = text_field(q, "action");
  f.target_type = text_field(q, "target_type");
  f.target_id = text_field(q, "target_id");
  auto from = int_field(q, "from_ms");
  if (!from.ok()) co_return error_response(req, from.error());
  auto to = int_field(q, "to_ms");
  if (!to.ok()) co_return error_response(req, to.error());
  f.from_ms = *from;
  f.to_ms = *to;
  f.before_id = page->before_id;
  f.limit = page->limit + 1;
  std::vector<AuditRow> rows;
  try {
    rows = list_audit(*deps.store.read(), f);
  } catch (const std::exception& e) {
    co_return storage_unavailable(req, e);
  }
  json items = json::array();
  std::optional<std::string> next;
  for (size_t i = 0; i < rows.size() && i < page->limit; ++i) items.push_back(audit_row_json(rows[i]));
  if (rows.size() > page->limit) next = encode_cursor('a', rows[page->limit - 1].id);
  co_return page_response(req, std::move(items), next);
}

}  // namespace

void register_session_routes(http::Router& router, ApiDeps& deps) {
  ApiDeps* d = &deps;
  router.add(bhttp::verb::post, "/admin/api/login", "console.login",
             [d](http::Request& req) -> asio::awaitable<http::Response> { co_return co_await login(*d, req); });
  router.add(bhttp::verb::post, "/admin/api/logout", "console.logout",
             [d](http::Request& req) -> asio::awaitable<http::Response> { co_return co_await logout(*d, req); });
  router.add(bhttp::verb::get, "/admin/api/me", "console.me",
             [d](http::Request& req) -> asio::awaitable<http::Response> { co_return co_await me(*d, req); });
  router.add(bhttp::verb::post, "/admin/api/me/password", "console.me_password",
             [d](http::Request& req) -> asio::awaitable<http::Response> {
               co_return co_await change_own_password(*d, req);
             });
  router.add(bhttp::verb::get, "/admin/api/users", "console.users",
             [d](http::Request& req) -> asio::awaitable<http::Response> {
               co_return co_await list_users_route(*d, req);
             });
  router.add(bhttp::verb::post, "/admin/api/users", "console.user_create",
             [d](http::Request& req) -> asio::awaitable<http::Response> {
               co_return co_await create_user_route(*d, req);
             });
  router.add(bhttp::verb::post, "/admin/api/users/{id}/disable", "console.user_disable",
             [d](http::Request& req) -> asio::awaitable<http::Response> {
               co_return co_await set_enabled_route(*d, req, false);
             });
  router.add(bhttp::verb::post, "/admin/api/users/{id}/enable", "console.user_enable",
             [d](http::Request& req) -> asio::awaitable<http::Response> {
               co_return co_await set_enabled_route(*d, req, true);
             });
  router.add(bhttp::verb::post, "/admin/api/users/{id}/password", "console.user_password",
             [d](http::Request& req) -> asio::awaitable<http::Response> {
               co_return co_await set_password_route(*d, req);
             });
  router.add(bhttp::verb::get, "/admin/api/audit", "console.audit",
             [d](http::Request& req) -> asio::awaitable<http::Response> { co_return co_await audit_route(*d, req); });
}

}  // namespace paygate::console
