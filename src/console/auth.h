// The console's identity layer: passwords (libsodium argon2id), console users, sessions and the login rate limit,
// all kept in the database through portable SQL (storage::Tx::query_sql/exec_sql), so every node serves every
// session. Used by the admin API (api_session.cpp) and the CLI (tools/console_commands.cpp).
//
// Password hashing and verification are slow on purpose (tens of milliseconds, 64 MiB): never call them inside a
// write transaction; hash first, then submit the write with the hash.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/ids.h"
#include "base/result.h"
#include "console/console.h"
#include "storage/store.h"

namespace paygate::console {

// ---- Passwords and names ----

// kConsolePasswordLengthMin..Max bytes; kInvalidArgument saying why otherwise.
Status check_password_rules(std::string_view password);
// A login name: 1..kConsoleNameLengthMax characters from [A-Za-z0-9._@-].
Status check_user_name(std::string_view name);
// libsodium crypto_pwhash_str (argon2id, interactive limits). kInternal when libsodium fails (out of memory).
Result<std::string> hash_password(std::string_view password);
// False on a wrong password or a malformed hash.
bool verify_password(std::string_view hash, std::string_view password);
// Spends the time of a verification against a fixed hash and returns false: for a name that does not exist, so
// that it answers as slowly as a wrong password.
bool verify_dummy_password(std::string_view password);
// A random password for the CLI to print once: 20 characters [A-Za-z0-9] (about 119 bits).
std::string generate_password(Random& random);
// Equality in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// ---- Users ----

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::kSupport;
  std::optional<MerchantId> merchant_id;  // merchants only
  bool enabled = true;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t last_login_at_ms = 0;
};
// The contract's User object: {"id","name","role","merchant_id" (null for operators),"enabled","created_at_ms",
// "last_login_at_ms"}.
nlohmann::json user_json(const User& user);

struct UserFilter {
  std::optional<Role> role;
  std::optional<MerchantId> merchant_id;
  std::optional<int64_t> before_id;  // keyset pagination: ids strictly below this
  size_t limit = 50;                 // at most limits::kConsolePageSizeMax is honoured
};
// Newest (highest id) first.
std::vector<User> list_users(storage::Tx& tx, const UserFilter& filter);
std::optional<User> user_by_id(storage::Tx& tx, int64_t id);
std::optional<User> user_by_name(storage::Tx& tx, std::string_view name);

struct NewUser {
  std::string name;
  Role role = Role::kSupport;  // admin, support or merchant (never cli)
  std::optional<MerchantId> merchant_id;  // required for merchant, refused for operators
  std::string password_hash;  // from hash_password
};
// Checks the name and the role/merchant pairing (the merchant must exist), inserts, audits `user.create`.
// kInvalidArgument, kNotFound (no such merchant) or kAlreadyExists (the name is taken).
Result<User> create_user(storage::Tx& tx, const NewUser& user, const Principal& who, int64_t now_ms);
// Enables or disables a user; disabling ends its sessions. Audits `user.enable|disable` (when it changes).
Result<User> set_user_enabled(storage::Tx& tx, int64_t id, bool enabled, const Principal& who, int64_t now_ms);
// Replaces the password hash and ends the user's sessions but `keep_token_hash` (the session of a user changing
// its own password; empty: none survives). Audits `user.password` (no hash in it).
Result<User> set_user_password(storage::Tx& tx, int64_t id, const std::string& password_hash, const Principal& who,
                               int64_t now_ms, std::string_view keep_token_hash = {});
// The stored hash, for verification.
std::optional<std::string> password_hash_of(storage::Tx& tx, int64_t id);

// ---- Sessions ----

struct SessionLimits {
  int64_t ttl_ms = 12LL * 3600 * 1000;  // absolute lifetime
  int64_t idle_ms = 30LL * 60 * 1000;   // ends when unused this long
};
// last_seen_at_ms is written at most this often (a write per request would be wasteful).
inline constexpr int64_t kSessionTouchIntervalMs = 60'000;

// A new session's secrets: the cookie token (32 random bytes, hex), the SHA-256 hex of it (all the database
// keeps) and the CSRF token (32 random bytes, hex).
struct SessionTokens {
  std::string token;
  std::string token_hash;
  std::string csrf_token;
};
SessionTokens new_session_tokens(Random& random);
// SHA-256 hex of a cookie token.
std::string session_token_hash(std::string_view token);
// Whether a cookie's token has the shape new_session_tokens gives (64 lowercase hex), before any look-up.
bool well_formed_session_token(std::string_view token);

struct Session {
  std::string token_hash;
  std::string csrf_token;
  User user;
  int64_t created_at_ms = 0;
  int64_t last_seen_at_ms = 0;
  int64_t expires_at_ms = 0;
};
void insert_session(storage::Tx& tx, const SessionTokens& tokens, int64_t user_id, std::string_view remote_ip,
                    std::string_view user_agent, int64_t now_ms, const SessionLimits& limits);
// The live session of a cookie token; nullopt when unknown, past its absolute expiry or idle too long, or when its
// user (or the user's merchant) is disabled.
std::optional<Session> find_session(storage::Tx& tx, std::string_view token, int64_t now_ms,
                                    const SessionLimits& limits);
bool session_needs_touch(const Session& session, int64_t now_ms);
void touch_session(storage::Tx& tx, std::string_view token_hash, int64_t now_ms);
void delete_session(storage::Tx& tx, std::string_view token_hash);
// Ends every session of the user except `keep_token_hash`; returns how many ended.
int64_t delete_user_sessions(storage::Tx& tx, int64_t user_id, std::string_view keep_token_hash = {});
// Deletes up to a bounded number of expired sessions and of login failures older than the window; run at each
// login. Returns the rows deleted.
int64_t prune_sessions_and_failures(storage::Tx& tx, int64_t now_ms, const SessionLimits& limits);

// ---- Login ----

// Seconds until a login for `name` or from `remote_ip` may be tried again (kConsoleLoginFailuresMax failures of
// either within kConsoleLoginWindowMs); 0 when allowed.
int64_t login_retry_after_s(storage::Tx& tx, std::string_view name, std::string_view remote_ip, int64_t now_ms);
void record_login_failure(storage::Tx& tx, std::string_view name, std::string_view remote_ip, int64_t now_ms);

// What a login needs to know before verifying the password (read in a snapshot).
struct LoginCandidate {
  User user;
  std::string password_hash;
  bool merchant_enabled = true;  // false for a merchant login of a disabled merchant
};
std::optional<LoginCandidate> login_candidate(storage::Tx& tx, std::string_view name);

// After a successful verification: checks again, in the write transaction, that the user may log in (still
// enabled, merchant enabled, the same password hash, not rate limited), then stamps last_login_at_ms, forgets the
// name's failures, creates the session and audits `session.login`. kUnauthenticated when the user may no longer
// log in; kResourceExhausted (message: the Retry-After seconds) when rate limited meanwhile.
struct LoginRequest {
  std::string name;
  std::string verified_hash;  // the hash the password was verified against
  std::string remote_ip;
  std::string user_agent;
  std::string request_id;
};
Result<User> complete_login(storage::Tx& tx, const LoginRequest& request, const SessionTokens& tokens,
                            int64_t now_ms, const SessionLimits& limits);

// The principal of a session's user, for authorization and audit.
Principal principal_of(const User& user, std::string remote_ip, std::string request_id);

}  // namespace paygate::console
