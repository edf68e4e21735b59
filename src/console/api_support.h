// Shared by the admin API's handler files (api_*.cpp): who is asking, JSON in and out, errors in one format.
// Internal to src/console/.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "console/console.h"
#include "crypto/crypto.h"
#include "http/router.h"
#include "storage/store.h"

namespace paygate::console {

namespace bhttp = boost::beast::http;

struct ApiConfig {
  int64_t session_ttl_ms = 12LL * 3600 * 1000;  // absolute lifetime of a session
  int64_t session_idle_ms = 30LL * 60 * 1000;   // a session unused this long ends
  // Cookies get `Secure` when the console is served over TLS: server.public_url is https, or a proxy in front
  // says so (X-Forwarded-Proto: https).
  bool public_url_is_https = false;
  int utc_offset_minutes = 480;  // days in reports and charts are local days at this offset (Beijing by default)
  // What the order actions need (console/actions.h): an approved payout goes to the bank after payout_delay_ms
  // (sandbox.payout_delay_ms); a cashier back notify's paytime is at cashier_utc_offset_minutes
  // (cashier.utc_offset_minutes).
  int64_t payout_delay_ms = 2'000;
  int cashier_utc_offset_minutes = 480;
};

struct ApiDeps {
  storage::Store& store;
  const crypto::SecretBox& box;
  Clock& clock;
  Random& random;
  ApiConfig config;
  std::function<void()> wake_dispatcher;           // after a notification was re-armed
  std::function<void(int64_t due_ms)> work_due;    // after something became due (e.g. a payout approved)
};

// The session cookie's name.
inline constexpr std::string_view kSessionCookie = "pg_console";
// The header a change must carry, equal to the session's CSRF token.
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// Finds the session (cookie), checks it has not expired, checks the CSRF header on every method but GET/HEAD, and
// checks the permission. Returns the principal, or the response to send: 401 `unauthenticated`, 403 `csrf` or
// `forbidden`.
std::variant<Principal, http::Response> authorize(ApiDeps& deps, const http::Request& req, Permission permission);

http::Response json_response(const http::Request& req, const nlohmann::json& body,
                             bhttp::status status = bhttp::status::ok);
// One page of a list: {"items": [...], "next_cursor": "..." or null when it is the last page} (docs/console.md).
http::Response page_response(const http::Request& req, nlohmann::json items,
                             const std::optional<std::string>& next_cursor);
// {"error": {"code": code, "message": message}}. Codes: bad_request, unauthenticated, bad_credentials, csrf,
// forbidden, not_found, conflict, rate_limited, unavailable, internal.
http::Response json_error(const http::Request& req, bhttp::status status, std::string_view code,
                          std::string_view message);
// Maps a Result error to json_error (kInvalidArgument 400, kUnauthenticated 401 `unauthenticated`, kNotFound 404,
// kAlreadyExists/kFailedPrecondition 409, kResourceExhausted 429, kUnavailable 503, else 500 with a generic message
// naming the request id; the error itself goes to the log).
http::Response error_response(const http::Request& req, const Error& error);
// The request body as a JSON object: 415 unless Content-Type is application/json, 400 when malformed or not an
// object, 413 over limits::kConsoleBodyBytesMax.
std::variant<nlohmann::json, http::Response> json_body(const http::Request& req);
// The query string's fields (none when the query string is malformed).
http::FormFields query_fields(const http::Request& req);
// 204 No Content (no body, Cache-Control: no-store).
http::Response no_content_response(const http::Request& req);
// The session cookie's value, if the request carries one.
std::optional<std::string> session_token_from_cookie(const http::Request& req);

}  // namespace paygate::console
