#include "console/api_support.h"

#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>
#include <string>

#include "base/limits.h"
#include "base/text.h"
#include "console/auth.h"

namespace paygate::console {

namespace {

constexpr std::string_view kJsonType = "application/json; charset=utf-8";

std::string dump_json(const nlohmann::json& j) {
  // Strings come from the database and from clients: bytes that are not UTF-8 are replaced, never an exception.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::optional<std::string> session_token_from_cookie(const http::Request& req) {
  for (auto it = req.raw.find(bhttp::field::cookie); it != req.raw.end() && it->name() == bhttp::field::cookie; ++it) {
    std::string_view header(it->value().data(), it->value().size());
    while (!header.empty()) {
      auto semi = header.find(';');
      auto pair = trim_blanks(header.substr(0, semi));
      header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (trim_blanks(pair.substr(0, eq)) != kSessionCookie) continue;
      auto value = trim_blanks(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
  }
  return std::nullopt;
}

http::Response no_content_response(const http::Request& req) {
  auto res = http::make_response(req, bhttp::status::no_content, kJsonType, "");
  res.erase(bhttp::field::content_type);
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

std::variant<Principal, http::Response> authorize(ApiDeps& deps, const http::Request& req, Permission permission) {
  auto token = session_token_from_cookie(req);
  if (!token || token->empty()) return json_error(req, bhttp::status::unauthorized, "unauthenticated", "log in first");
  const int64_t now_ms = deps.clock.now_unix_ms();
  const SessionLimits limits{deps.config.session_ttl_ms, deps.config.session_idle_ms};
  std::optional<Session> session;
  try {
    auto tx = deps.store.read();
    session = find_session(*tx, *token, now_ms, limits);
  } catch (const std::exception& e) {
    spdlog::error("event=console_session_lookup_failed request_id={} error=\"{}\"", req.request_id, e.what());
    return json_error(req, bhttp::status::service_unavailable, "unavailable", "storage unavailable, try again");
  }
  if (!session) {
    return json_error(req, bhttp::status::unauthorized, "unauthenticated", "the session has ended: log in again");
  }
  const auto method = req.raw.method();
  if (method != bhttp::verb::get && method != bhttp::verb::head) {
    auto it = req.raw.find(kCsrfHeader);
    std::string_view sent =
        it == req.raw.end() ? std::string_view{} : std::string_view(it->value().data(), it->value().size());
    if (sent.empty() || !constant_time_equal(sent, session->csrf_token)) {
      return json_error(req, bhttp::status::forbidden, "csrf", "missing or wrong X-CSRF-Token header");
    }
  }
  Principal who = principal_of(session->user, req.remote_ip, req.request_id);
  if (!who.allowed(permission)) {
    return json_error(req, bhttp::status::forbidden, "forbidden", "your role may not do this");
  }
  if (session_needs_touch(*session, now_ms)) {
    // Fire and forget: the idle limit is coarse (a minute), and a lost touch only shortens a session by that much.
    storage::WriteFn touch = [hash = session->token_hash, now_ms](storage::Tx& tx) -> Status {
      touch_session(tx, hash, now_ms);
      return ok_status();
    };
    deps.store.submit(std::move(touch), [](Status st) {
      if (!st.ok()) spdlog::debug("event=console_session_touch_failed error=\"{}\"", st.error().message);
    });
  }
  return who;
}

http::Response json_response(const http::Request& req, const nlohmann::json& body, bhttp::status status) {
  auto res = http::make_response(req, status, kJsonType, dump_json(body));
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

http::Response page_response(const http::Request& req, nlohmann::json items,
                             const std::optional<std::string>& next_cursor) {
  return json_response(req, {{"items", std::move(items)},
                             {"next_cursor", next_cursor ? nlohmann::json(*next_cursor) : nlohmann::json(nullptr)}});
}

http::Response json_error(const http::Request& req, bhttp::status status, std::string_view code,
                          std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return json_response(req, body, status);
}

http::Response error_response(const http::Request& req, const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
      return json_error(req, bhttp::status::bad_request, "bad_request", error.message);
    case ErrorCode::kUnauthenticated:
      return json_error(req, bhttp::status::unauthorized, "unauthenticated", error.message);
    case ErrorCode::kNotFound:
      return json_error(req, bhttp::status::not_found, "not_found", error.message);
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return json_error(req, bhttp::status::conflict, "conflict", error.message);
    case ErrorCode::kResourceExhausted:
      return json_error(req, bhttp::status::too_many_requests, "rate_limited", error.message);
    case ErrorCode::kUnavailable:
      return json_error(req, bhttp::status::service_unavailable, "unavailable", error.message);
    case ErrorCode::kInternal:
      break;
  }
  spdlog::error("event=console_internal_error request_id={} path={} error=\"{}\"", req.request_id, req.path,
                error.message);
  return json_error(req, bhttp::status::internal_server_error, "internal",
                    "internal error (request id " + req.request_id + ")");
}

std::variant<nlohmann::json, http::Response> json_body(const http::Request& req) {
  auto it = req.raw.find(bhttp::field::content_type);
  if (it == req.raw.end() ||
      !http::has_media_type(std::string_view(it->value().data(), it->value().size()), "application/json")) {
    return json_error(req, bhttp::status::unsupported_media_type, "unsupported_media_type",
                      "send Content-Type: application/json");
  }
  const auto& body = req.raw.body();
  if (body.size() > limits::kConsoleBodyBytesMax) {
    return json_error(req, bhttp::status::payload_too_large, "payload_too_large",
                      "the body is over " + std::to_string(limits::kConsoleBodyBytesMax) + " bytes");
  }
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return json_error(req, bhttp::status::bad_request, "bad_request", "malformed JSON");
  if (!parsed.is_object())
    return json_error(req, bhttp::status::bad_request, "bad_request", "the body must be a JSON object");
  return parsed;
}

http::FormFields query_fields(const http::Request& req) {
  auto fields = http::parse_form_urlencoded(req.query);
  if (!fields.ok()) return {};  // a malformed query string reads as no filters
  return std::move(fields).value();
}

}  // namespace paygate::console
