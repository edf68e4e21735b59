#include "console/auth.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "base/limits.h"
#include "crypto/crypto.h"

namespace paygate::console {

using storage::SqlRow;
using storage::SqlValue;
using storage::sql_int;
using storage::sql_is_null;
using storage::sql_text;

namespace {

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  PG_ASSERT(ready, "libsodium failed to initialize");
}

// Login failures older than this many rows per name or address are irrelevant to the limit.
constexpr size_t kPruneSessionsMax = 100;
constexpr size_t kPruneFailuresMax = 1'000;

constexpr std::string_view kUserColumns =
    "u.user_id, u.name, u.role, u.merchant_id, u.enabled, u.created_at_ms, u.updated_at_ms, u.last_login_at_ms";
constexpr size_t kUserColumnCount = 8;

User user_from_row(const SqlRow& row, size_t first) {
  PG_ASSERT(row.size() >= first + kUserColumnCount, "console user row too short");
  User u;
  u.id = sql_int(row[first]);
  u.name = sql_text(row[first + 1]);
  auto role = parse_role(sql_text(row[first + 2]));
  if (!role) throw storage::StorageFailure("console_users.role holds an unknown role: " + sql_text(row[first + 2]));
  u.role = *role;
  if (!sql_is_null(row[first + 3])) u.merchant_id = MerchantId{sql_int(row[first + 3])};
  u.enabled = sql_int(row[first + 4]) != 0;
  u.created_at_ms = sql_int(row[first + 5]);
  u.updated_at_ms = sql_int(row[first + 6]);
  u.last_login_at_ms = sql_int(row[first + 7]);
  return u;
}

std::string select_users_sql(std::string_view where) {
  return std::string("SELECT ") + std::string(kUserColumns) + " FROM console_users u " + std::string(where);
}

std::optional<User> one_user(storage::Tx& tx, std::string_view where, const std::vector<SqlValue>& params) {
  auto rows = tx.query_sql(select_users_sql(where), params);
  if (rows.empty()) return std::nullopt;
  return user_from_row(rows.front(), 0);
}

bool name_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '@' || c == '-';
}

// Seconds until the failures selected by `column = value` drop below the limit; 0 when already below.
int64_t retry_after_for(storage::Tx& tx, std::string_view column, std::string_view value, int64_t now_ms) {
  auto rows = tx.query_sql("SELECT at_ms FROM console_login_failures WHERE " + std::string(column) +
                               " = $1 AND at_ms > $2 ORDER BY at_ms DESC LIMIT " +
                               std::to_string(limits::kConsoleLoginFailuresMax),
                           {std::string(value), now_ms - limits::kConsoleLoginWindowMs});
  if (rows.size() < static_cast<size_t>(limits::kConsoleLoginFailuresMax)) return 0;
  // The limit lifts when the oldest of the last kConsoleLoginFailuresMax failures leaves the window.
  int64_t lifts_at_ms = sql_int(rows.back()[0]) + limits::kConsoleLoginWindowMs;
  int64_t wait_ms = std::max<int64_t>(lifts_at_ms - now_ms, 1);
  return (wait_ms + 999) / 1000;
}

// A name as recorded for the rate limit: what was sent, cut to the longest valid name.
std::string failure_name(std::string_view name) {
  return std::string(name.substr(0, limits::kConsoleNameLengthMax));
}

}  // namespace

// ---- Passwords and names ----

Status check_password_rules(std::string_view password) {
  if (password.size() < limits::kConsolePasswordLengthMin || password.size() > limits::kConsolePasswordLengthMax) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a password must be " + std::to_string(limits::kConsolePasswordLengthMin) + " to " +
                          std::to_string(limits::kConsolePasswordLengthMax) + " characters");
  }
  for (char c : password) {
    if (c == '\0' || c == '\n' || c == '\r') {
      return make_error(ErrorCode::kInvalidArgument, "a password may not hold NUL or line breaks");
    }
  }
  return ok_status();
}

Status check_user_name(std::string_view name) {
  if (name.empty() || name.size() > limits::kConsoleNameLengthMax ||
      !std::all_of(name.begin(), name.end(), name_char_ok)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a user name must be 1 to " + std::to_string(limits::kConsoleNameLengthMax) +
                          " characters of A-Z, a-z, 0-9, '.', '_', '@' and '-'");
  }
  return ok_status();
}

Result<std::string> hash_password(std::string_view password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return make_error(ErrorCode::kInternal, "password hashing failed (out of memory?)");
  }
  return std::string(out);
}

bool verify_password(std::string_view hash, std::string_view password) {
  ensure_sodium();
  // crypto_pwhash_str_verify needs a NUL-terminated hash of at most crypto_pwhash_STRBYTES - 1 characters.
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string h(hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

bool verify_dummy_password(std::string_view password) {
  // Hashed once, with the same parameters as every real hash, so verifying against it costs the same.
  static const std::string dummy = [] {
    auto h = hash_password("paygate: no such console user");
    PG_ASSERT(h.ok(), "hashing the dummy password failed");
    return *h;
  }();
  (void)verify_password(dummy, password);
  return false;
}

std::string generate_password(Random& random) { return random.alnum(20); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  // Through a volatile read so the compiler cannot end the loop early on a known difference.
  volatile unsigned char result = diff;
  return result == 0;
}

// ---- Users ----

nlohmann::json user_json(const User& user) {
  return {{"id", user.id},
          {"name", user.name},
          {"role", role_name(user.role)},
          {"merchant_id", user.merchant_id ? nlohmann::json(user.merchant_id->value()) : nlohmann::json(nullptr)},
          {"enabled", user.enabled},
          {"created_at_ms", user.created_at_ms},
          {"last_login_at_ms", user.last_login_at_ms}};
}

std::vector<User> list_users(storage::Tx& tx, const UserFilter& filter) {
  std::string where = "WHERE 1 = 1";
  std::vector<SqlValue> params;
  if (filter.role) {
    params.emplace_back(std::string(role_name(*filter.role)));
    where += " AND u.role = $" + std::to_string(params.size());
  }
  if (filter.merchant_id) {
    params.emplace_back(filter.merchant_id->value());
    where += " AND u.merchant_id = $" + std::to_string(params.size());
  }
  if (filter.before_id) {
    params.emplace_back(*filter.before_id);
    where += " AND u.user_id < $" + std::to_string(params.size());
  }
  size_t limit = std::clamp<size_t>(filter.limit, 1, limits::kConsolePageSizeMax);
  where += " ORDER BY u.user_id DESC LIMIT " + std::to_string(limit);
  std::vector<User> out;
  for (const auto& row : tx.query_sql(select_users_sql(where), params)) out.push_back(user_from_row(row, 0));
  return out;
}

std::optional<User> user_by_id(storage::Tx& tx, int64_t id) {
  return one_user(tx, "WHERE u.user_id = $1", {id});
}

std::optional<User> user_by_name(storage::Tx& tx, std::string_view name) {
  return one_user(tx, "WHERE u.name = $1", {std::string(name)});
}

std::optional<std::string> password_hash_of(storage::Tx& tx, int64_t id) {
  auto rows = tx.query_sql("SELECT password_hash FROM console_users WHERE user_id = $1", {id});
  if (rows.empty()) return std::nullopt;
  return sql_text(rows.front()[0]);
}

Result<User> create_user(storage::Tx& tx, const NewUser& user, const Principal& who, int64_t now_ms) {
  PG_TRY(check_user_name(user.name));
  PG_ASSERT(!user.password_hash.empty(), "create_user needs a password hash");
  if (user.role == Role::kCli) return make_error(ErrorCode::kInvalidArgument, "role must be admin, support or merchant");
  if (user.role == Role::kMerchant) {
    if (!user.merchant_id) return make_error(ErrorCode::kInvalidArgument, "a merchant user needs a merchant_id");
    if (!tx.merchant(*user.merchant_id)) {
      return make_error(ErrorCode::kNotFound, "no merchant " + std::to_string(user.merchant_id->value()));
    }
  } else if (user.merchant_id) {
    return make_error(ErrorCode::kInvalidArgument, "only merchant users belong to a merchant");
  }
  if (user_by_name(tx, user.name)) {
    return make_error(ErrorCode::kAlreadyExists, "a user named " + user.name + " exists");
  }
  SqlValue merchant = user.merchant_id ? SqlValue{user.merchant_id->value()} : SqlValue{};
  tx.exec_sql(
      "INSERT INTO console_users (name, role, merchant_id, password_hash, enabled, created_at_ms, updated_at_ms, "
      "last_login_at_ms) VALUES ($1, $2, $3, $4, 1, $5, $5, 0)",
      {user.name, std::string(role_name(user.role)), merchant, user.password_hash, now_ms});
  auto created = user_by_name(tx, user.name);
  if (!created) throw storage::StorageFailure("console user " + user.name + " not found after its insert");
  write_audit(tx, who, AuditEntry{"user.create", "user", std::to_string(created->id), "{}", user_json(*created).dump()},
              now_ms);
  return *created;
}

Result<User> set_user_enabled(storage::Tx& tx, int64_t id, bool enabled, const Principal& who, int64_t now_ms) {
  auto before = user_by_id(tx, id);
  if (!before) return make_error(ErrorCode::kNotFound, "no user " + std::to_string(id));
  if (before->enabled == enabled) return *before;  // nothing changes, nothing to audit
  if (!enabled && who.user_id == id) {
    return make_error(ErrorCode::kFailedPrecondition, "a user cannot disable itself");
  }
  tx.exec_sql("UPDATE console_users SET enabled = $2, updated_at_ms = $3 WHERE user_id = $1",
              {id, int64_t{enabled ? 1 : 0}, now_ms});
  int64_t ended = enabled ? 0 : delete_user_sessions(tx, id);
  User after = *before;
  after.enabled = enabled;
  after.updated_at_ms = now_ms;
  auto after_json = user_json(after);
  if (!enabled) after_json["sessions_ended"] = ended;
  write_audit(tx, who,
              AuditEntry{enabled ? "user.enable" : "user.disable", "user", std::to_string(id),
                         user_json(*before).dump(), after_json.dump()},
              now_ms);
  return after;
}

Result<User> set_user_password(storage::Tx& tx, int64_t id, const std::string& password_hash, const Principal& who,
                               int64_t now_ms, std::string_view keep_token_hash) {
  PG_ASSERT(!password_hash.empty(), "set_user_password needs a password hash");
  auto user = user_by_id(tx, id);
  if (!user) return make_error(ErrorCode::kNotFound, "no user " + std::to_string(id));
  tx.exec_sql("UPDATE console_users SET password_hash = $2, updated_at_ms = $3 WHERE user_id = $1",
              {id, password_hash, now_ms});
  int64_t ended = delete_user_sessions(tx, id, keep_token_hash);
  user->updated_at_ms = now_ms;
  // Never the hash: only that it changed.
  nlohmann::json after = {{"password", "changed"}, {"sessions_ended", ended}};
  write_audit(tx, who, AuditEntry{"user.password", "user", std::to_string(id), "{}", after.dump()}, now_ms);
  return *user;
}

// ---- Sessions ----

SessionTokens new_session_tokens(Random& random) {
  auto random_hex = [&random](size_t bytes) {
    std::string raw;
    raw.reserve(bytes);
    while (raw.size() < bytes) {
      uint64_t v = random.next_u64();
      for (int i = 0; i < 8 && raw.size() < bytes; ++i) raw.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
    return crypto::hex_encode_lower(raw);
  };
  SessionTokens t;
  t.token = random_hex(32);
  t.token_hash = session_token_hash(t.token);
  t.csrf_token = random_hex(32);
  return t;
}

std::string session_token_hash(std::string_view token) { return crypto::sha256_hex(token); }

bool well_formed_session_token(std::string_view token) {
  return token.size() == 64 &&
         std::all_of(token.begin(), token.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void insert_session(storage::Tx& tx, const SessionTokens& tokens, int64_t user_id, std::string_view remote_ip,
                    std::string_view user_agent, int64_t now_ms, const SessionLimits& limits) {
  tx.exec_sql(
      "INSERT INTO console_sessions (token_hash, user_id, csrf_token, remote_ip, user_agent, created_at_ms, "
      "last_seen_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
      {tokens.token_hash, user_id, tokens.csrf_token, std::string(remote_ip),
       std::string(user_agent.substr(0, 256)), now_ms, now_ms + limits.ttl_ms});
}

std::optional<Session> find_session(storage::Tx& tx, std::string_view token, int64_t now_ms,
                                    const SessionLimits& limits) {
  if (!well_formed_session_token(token)) return std::nullopt;
  auto rows = tx.query_sql(
      "SELECT s.token_hash, s.csrf_token, s.created_at_ms, s.last_seen_at_ms, s.expires_at_ms, m.enabled, " +
          std::string(kUserColumns) +
          " FROM console_sessions s JOIN console_users u ON u.user_id = s.user_id"
          " LEFT JOIN merchants m ON m.merchant_id = u.merchant_id WHERE s.token_hash = $1",
      {session_token_hash(token)});
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.front();
  Session s;
  s.token_hash = sql_text(row[0]);
  s.csrf_token = sql_text(row[1]);
  s.created_at_ms = sql_int(row[2]);
  s.last_seen_at_ms = sql_int(row[3]);
  s.expires_at_ms = sql_int(row[4]);
  bool merchant_enabled = sql_is_null(row[5]) || sql_int(row[5]) != 0;
  s.user = user_from_row(row, 6);
  // The absolute limit as stored at login, and as configured now (a shortened ttl applies to live sessions).
  int64_t ends_at_ms = std::min(s.expires_at_ms, s.created_at_ms + limits.ttl_ms);
  if (now_ms >= ends_at_ms) return std::nullopt;
  if (now_ms >= s.last_seen_at_ms + limits.idle_ms) return std::nullopt;
  if (!s.user.enabled || !merchant_enabled) return std::nullopt;
  return s;
}

bool session_needs_touch(const Session& session, int64_t now_ms) {
  return now_ms - session.last_seen_at_ms >= kSessionTouchIntervalMs;
}

void touch_session(storage::Tx& tx, std::string_view token_hash, int64_t now_ms) {
  tx.exec_sql("UPDATE console_sessions SET last_seen_at_ms = $2 WHERE token_hash = $1 AND last_seen_at_ms < $2",
              {std::string(token_hash), now_ms});
}

void delete_session(storage::Tx& tx, std::string_view token_hash) {
  tx.exec_sql("DELETE FROM console_sessions WHERE token_hash = $1", {std::string(token_hash)});
}

int64_t delete_user_sessions(storage::Tx& tx, int64_t user_id, std::string_view keep_token_hash) {
  return tx.exec_sql("DELETE FROM console_sessions WHERE user_id = $1 AND token_hash <> $2",
                     {user_id, std::string(keep_token_hash)});
}

int64_t prune_sessions_and_failures(storage::Tx& tx, int64_t now_ms, const SessionLimits& limits) {
  int64_t n = tx.exec_sql(
      "DELETE FROM console_sessions WHERE token_hash IN (SELECT token_hash FROM console_sessions "
      "WHERE expires_at_ms <= $1 OR last_seen_at_ms <= $2 LIMIT " + std::to_string(kPruneSessionsMax) + ")",
      {now_ms, now_ms - limits.idle_ms});
  n += tx.exec_sql(
      "DELETE FROM console_login_failures WHERE failure_id IN (SELECT failure_id FROM console_login_failures "
      "WHERE at_ms <= $1 LIMIT " + std::to_string(kPruneFailuresMax) + ")",
      {now_ms - limits::kConsoleLoginWindowMs});
  return n;
}

// ---- Login ----

int64_t login_retry_after_s(storage::Tx& tx, std::string_view name, std::string_view remote_ip, int64_t now_ms) {
  return std::max(retry_after_for(tx, "name", failure_name(name), now_ms),
                  retry_after_for(tx, "remote_ip", remote_ip, now_ms));
}

void record_login_failure(storage::Tx& tx, std::string_view name, std::string_view remote_ip, int64_t now_ms) {
  tx.exec_sql("INSERT INTO console_login_failures (name, remote_ip, at_ms) VALUES ($1, $2, $3)",
              {failure_name(name), std::string(remote_ip), now_ms});
}

std::optional<LoginCandidate> login_candidate(storage::Tx& tx, std::string_view name) {
  if (!check_user_name(name).ok()) return std::nullopt;
  auto rows = tx.query_sql("SELECT u.password_hash, m.enabled, " + std::string(kUserColumns) +
                               " FROM console_users u LEFT JOIN merchants m ON m.merchant_id = u.merchant_id"
                               " WHERE u.name = $1",
                           {std::string(name)});
  if (rows.empty()) return std::nullopt;
  LoginCandidate c;
  c.password_hash = sql_text(rows.front()[0]);
  c.merchant_enabled = sql_is_null(rows.front()[1]) || sql_int(rows.front()[1]) != 0;
  c.user = user_from_row(rows.front(), 2);
  return c;
}

Result<User> complete_login(storage::Tx& tx, const LoginRequest& request, const SessionTokens& tokens,
                            int64_t now_ms, const SessionLimits& limits) {
  auto candidate = login_candidate(tx, request.name);
  if (!candidate || !constant_time_equal(candidate->password_hash, request.verified_hash) ||
      !candidate->user.enabled || !candidate->merchant_enabled) {
    return make_error(ErrorCode::kUnauthenticated, "bad credentials");
  }
  // Concurrent guesses all pass the check made before verifying; the one that was right still waits its turn.
  if (int64_t wait_s = login_retry_after_s(tx, request.name, request.remote_ip, now_ms); wait_s > 0) {
    return make_error(ErrorCode::kResourceExhausted, std::to_string(wait_s));
  }
  User user = candidate->user;
  user.last_login_at_ms = now_ms;
  tx.exec_sql("UPDATE console_users SET last_login_at_ms = $2 WHERE user_id = $1", {user.id, now_ms});
  tx.exec_sql("DELETE FROM console_login_failures WHERE name = $1", {failure_name(request.name)});
  insert_session(tx, tokens, user.id, request.remote_ip, request.user_agent, now_ms, limits);
  Principal who = principal_of(user, request.remote_ip, request.request_id);
  nlohmann::json after = {{"user_agent", request.user_agent.substr(0, 256)}};
  // A user agent is whatever the client sent: bytes that are not UTF-8 are replaced, not refused.
  write_audit(tx, who,
              AuditEntry{"session.login", "user", std::to_string(user.id), "{}",
                         after.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
              now_ms);
  (void)prune_sessions_and_failures(tx, now_ms, limits);
  return user;
}

Principal principal_of(const User& user, std::string remote_ip, std::string request_id) {
  Principal p;
  p.user_id = user.id;
  p.name = user.name;
  p.role = user.role;
  p.merchant_id = user.merchant_id;
  p.remote_ip = std::move(remote_ip);
  p.request_id = std::move(request_id);
  return p;
}

}  // namespace paygate::console
