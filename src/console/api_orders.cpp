// The admin API's orders and dashboard (docs/console.md, "Orders" and "Dashboard"):
//   GET  /admin/api/orders, /admin/api/orders.csv, /admin/api/orders/{id}
//   POST /admin/api/orders/{id}/resend|resolve|hold|release|approve|reject
//   GET  /admin/api/dashboard
// Reads use a snapshot; every change goes through async_write, so an answer follows the durable commit.
#include <cstdio>

#include "base/limits.h"
#include "base/money.h"
#include "base/text.h"
#include "console/actions.h"
#include "console/api.h"
#include "console/api_support.h"
#include "console/csv.h"
#include "console/dashboard.h"
#include "console/orders.h"
#include "storage/async_write.h"

namespace paygate::console {

namespace {

namespace asio = boost::asio;
using http::Request;
using http::Response;
using nlohmann::json;

// An action's refusal: 403 for a missing permission (actions.h), else the common mapping.
Response action_error(const Request& req, const Error& e) {
  if (e.code == ErrorCode::kUnauthenticated) return json_error(req, bhttp::status::forbidden, "forbidden", e.message);
  return error_response(req, e);
}

Response bad_request(const Request& req, std::string_view message) {
  return json_error(req, bhttp::status::bad_request, "bad_request", message);
}

// "YYYY-MM-DD HH:MM:SS" of a Unix millisecond time at the offset.
std::string local_time(int64_t at_ms, int utc_offset_minutes) {
  int64_t s = at_ms / 1000 + int64_t{utc_offset_minutes} * 60;
  int64_t days = s / 86400 - (s % 86400 < 0 ? 1 : 0);
  int64_t secs = s - days * 86400;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

std::string yuan(int64_t fen) {
  return format_yuan(Money::from_fen(fen));
}

// The message or reason of an action's body, if any (console::check_operator_text).
Result<std::string> body_message(const json& body) {
  for (const char* key : {"message", "reason"}) {
    if (!body.contains(key) || body[key].is_null()) continue;
    if (!body[key].is_string()) return make_error(ErrorCode::kInvalidArgument, std::string(key) + " must be a string");
    std::string m = body[key].get<std::string>();
    PG_TRY(check_operator_text(key, m));
    return m;
  }
  return std::string();
}

// The body of an action: an empty body reads as {}; otherwise it must be a JSON object.
std::variant<json, Response> optional_body(const Request& req) {
  if (req.raw.body().empty()) return json::object();
  return json_body(req);
}

ActionConfig action_config(const ApiDeps& deps) {
  ActionConfig c;
  c.payout_delay_ms = deps.config.payout_delay_ms;
  c.cashier.utc_offset_minutes = deps.config.cashier_utc_offset_minutes;
  return c;
}

asio::awaitable<Response> list_orders(ApiDeps& deps, Request& req) {
  auto who = authorize(deps, req, Permission::kView);
  if (auto* r = std::get_if<Response>(&who)) co_return std::move(*r);
  auto query = parse_order_query(query_fields(req), 50, limits::kConsolePageSizeMax);
  if (!query.ok()) co_return error_response(req, query.error());
  auto page = search_orders(*deps.store.read(), std::get<Principal>(who), *query);
  json items = json::array();
  for (const auto& row : page.items) items.push_back(order_row_json(row));
  co_return page_response(req, std::move(items), page.next_cursor);
}

asio::awaitable<Response> export_orders(ApiDeps& deps, Request& req) {
  auto who = authorize(deps, req, Permission::kView);
  if (auto* r = std::get_if<Response>(&who)) co_return std::move(*r);
  auto query = parse_order_query(query_fields(req), limits::kConsoleCsvRowsMax, limits::kConsoleCsvRowsMax);
  if (!query.ok()) co_return error_response(req, query.error());
  auto page = search_orders(*deps.store.read(), std::get<Principal>(who), *query);
  const int offset = deps.config.utc_offset_minutes;
  std::string csv = "\xEF\xBB\xBF";  // UTF-8 BOM: spreadsheets then read Chinese text correctly
  csv +=
      "id,protocol,kind,merchant_id,merchant_name,merchant_order_id,channel,amount_yuan,settled_yuan,fee_yuan,"
      "status,created_at,created_at_ms,updated_at_ms\r\n";
  for (const auto& o : page.items) {
    csv += csv_text(o.id) + "," + std::string(protocol_name(o.kind)) + "," + std::string(kind_name(o.kind)) + "," +
           std::to_string(o.merchant_id.value()) + "," + csv_text(o.merchant_name) + "," +
           csv_text(o.merchant_order_id) + "," + csv_text(o.channel) + "," + yuan(o.amount_fen) + "," +
           yuan(o.settled_fen) + "," + yuan(o.fee_fen) + "," + csv_text(o.status) + "," +
           local_time(o.created_at_ms, offset) + "," + std::to_string(o.created_at_ms) + "," +
           std::to_string(o.updated_at_ms) + "\r\n";
  }
  if (page.next_cursor) csv += "# truncated at " + std::to_string(query->limit) + " rows\r\n";
  auto res = http::make_response(req, bhttp::status::ok, "text/csv; charset=utf-8", std::move(csv));
  std::string date = local_time(deps.clock.now_unix_ms(), offset).substr(0, 10);
  res.set(bhttp::field::content_disposition, "attachment; filename=\"orders-" + date + ".csv\"");
  res.set(bhttp::field::cache_control, "no-store");
  co_return res;
}

asio::awaitable<Response> show_order(ApiDeps& deps, Request& req) {
  auto who = authorize(deps, req, Permission::kView);
  if (auto* r = std::get_if<Response>(&who)) co_return std::move(*r);
  auto detail = order_detail(*deps.store.read(), std::get<Principal>(who), std::string(req.path_param("id")));
  if (!detail.ok()) co_return error_response(req, detail.error());
  co_return json_response(req, *detail);
}

// The detail after a change, from a fresh snapshot (the change is committed).
Response detail_after(ApiDeps& deps, const Request& req, const Principal& who, const std::string& id) {
  auto detail = order_detail(*deps.store.read(), who, id);
  if (!detail.ok()) return error_response(req, detail.error());
  return json_response(req, *detail);
}

enum class Act { kResend, kResolve, kHold, kRelease, kApprove, kReject };

Permission permission_of(Act a) {
  switch (a) {
    case Act::kResend:
      return Permission::kResend;
    case Act::kResolve:
    case Act::kHold:
    case Act::kRelease:
      return Permission::kResolveReview;
    case Act::kApprove:
    case Act::kReject:
      return Permission::kApprovePayout;
  }
  return Permission::kApprovePayout;
}

asio::awaitable<Response> act(ApiDeps& deps, Request& req, Act a) {
  auto authorized = authorize(deps, req, permission_of(a));
  if (auto* r = std::get_if<Response>(&authorized)) co_return std::move(*r);
  const Principal who = std::get<Principal>(std::move(authorized));
  const std::string id(req.path_param("id"));
  auto parsed = optional_body(req);
  if (auto* r = std::get_if<Response>(&parsed)) co_return std::move(*r);
  const json body = std::get<json>(std::move(parsed));
  auto message = body_message(body);
  if (!message.ok()) co_return error_response(req, message.error());

  orders::ConsignOutcome outcome{orders::ConsignOutcome::Kind::kFail, 0, *message};
  bool to_merchant = true;
  if (a == Act::kResolve) {
    std::string result = body.contains("result") && body["result"].is_string() ? body["result"].get<std::string>() : "";
    if (result == "success") {
      const auto& v = body.contains("real_money_yuan") ? body["real_money_yuan"] : json();
      if (!v.is_number_integer()) co_return bad_request(req, "real_money_yuan must be a whole number of yuan");
      if (v.get<int64_t>() <= 0) co_return bad_request(req, "real_money_yuan must be positive");
      if (v.get<int64_t>() > kMoneyFenMax / 100) co_return bad_request(req, "real_money_yuan is too large");
      outcome.kind = orders::ConsignOutcome::Kind::kSuccess;
      outcome.real_money_yuan = v.get<int64_t>();
    } else if (result == "fail") {
      if (message->empty()) co_return bad_request(req, "a failure needs a message for the merchant");
    } else {
      co_return bad_request(req, "result must be \"success\" or \"fail\"");
    }
  }
  if (a == Act::kRelease) {
    std::string to = body.contains("to") && body["to"].is_string() ? body["to"].get<std::string>() : "";
    if (to != "merchant" && to != "payer") co_return bad_request(req, "to must be \"merchant\" or \"payer\"");
    to_merchant = to == "merchant";
  }

  const int64_t now_ms = deps.clock.now_unix_ms();
  const ActionConfig config = action_config(deps);
  const std::string reason = *message;
  std::function<Result<int64_t>(storage::Tx&)> change = [a, who, id, outcome, to_merchant, reason, now_ms,
                                                         config](storage::Tx& tx) -> Result<int64_t> {
    switch (a) {
      case Act::kResend: {
        auto n = resend_notification(tx, who, id, now_ms);
        if (!n.ok()) return n.error();
        return n->value();
      }
      case Act::kResolve: {
        auto o = resolve_review(tx, who, id, outcome, now_ms);
        if (!o.ok()) return o.error();
        return int64_t{0};
      }
      case Act::kHold: {
        auto o = hold_cashier_order(tx, who, id, reason, now_ms, config);
        if (!o.ok()) return o.error();
        return int64_t{0};
      }
      case Act::kRelease: {
        auto o = release_cashier_order(tx, who, id, to_merchant, reason, now_ms, config);
        if (!o.ok()) return o.error();
        return int64_t{0};
      }
      case Act::kApprove: {
        auto p = approve_payout(tx, who, id, now_ms, config);
        if (!p.ok()) return p.error();
        return p->process_after_ms;
      }
      case Act::kReject: {
        auto p = reject_payout(tx, who, id, reason, now_ms);
        if (!p.ok()) return p.error();
        return int64_t{0};
      }
    }
    return make_error(ErrorCode::kInternal, "unknown action");
  };
  auto done = co_await storage::async_write<int64_t>(deps.store, std::move(change));
  if (!done.ok()) co_return action_error(req, done.error());

  // Resend re-arms a notification; resolve, hold, release and reject queue one.
  if (a != Act::kApprove && deps.wake_dispatcher) deps.wake_dispatcher();
  if (a == Act::kApprove && deps.work_due) deps.work_due(*done);
  if (a == Act::kResend) co_return json_response(req, {{"notification_id", *done}}, bhttp::status::accepted);
  co_return detail_after(deps, req, who, id);
}

asio::awaitable<Response> show_dashboard(ApiDeps& deps, Request& req) {
  auto who = authorize(deps, req, Permission::kView);
  if (auto* r = std::get_if<Response>(&who)) co_return std::move(*r);
  auto fields = query_fields(req);
  DashboardQuery q;
  q.utc_offset_minutes = deps.config.utc_offset_minutes;
  q.now_ms = deps.clock.now_unix_ms();
  if (const auto* v = fields.find("days"); v && !v->empty()) {
    auto n = parse_int64_strict(*v);
    if (!n || *n < 1 || *n > limits::kConsoleDashboardDaysMax) {
      co_return bad_request(req, "days must be 1 to " + std::to_string(limits::kConsoleDashboardDaysMax));
    }
    q.days = static_cast<int>(*n);
  }
  if (const auto* v = fields.find("merchant_id"); v && !v->empty()) {
    auto n = parse_int64_strict(*v);
    if (!n) co_return bad_request(req, "merchant_id must be a non-negative integer, got '" + *v + "'");
    q.merchant_id = MerchantId{*n};
  }
  co_return json_response(req, dashboard(*deps.store.read(), std::get<Principal>(who), q));
}

}  // namespace

void register_order_routes(http::Router& router, ApiDeps& deps) {
  ApiDeps* d = &deps;
  router.add(bhttp::verb::get, "/admin/api/orders", "console.orders",
             [d](Request& req) -> asio::awaitable<Response> { co_return co_await list_orders(*d, req); });
  router.add(bhttp::verb::get, "/admin/api/orders.csv", "console.orders_csv",
             [d](Request& req) -> asio::awaitable<Response> { co_return co_await export_orders(*d, req); });
  router.add(bhttp::verb::get, "/admin/api/orders/{id}", "console.order",
             [d](Request& req) -> asio::awaitable<Response> { co_return co_await show_order(*d, req); });
  const std::pair<const char*, Act> actions[] = {{"resend", Act::kResend},   {"resolve", Act::kResolve},
                                                 {"hold", Act::kHold},       {"release", Act::kRelease},
                                                 {"approve", Act::kApprove}, {"reject", Act::kReject}};
  for (const auto& [name, a] : actions) {
    Act act_kind = a;
    router.add(bhttp::verb::post, std::string("/admin/api/orders/{id}/") + name, std::string("console.order_") + name,
               [d, act_kind](Request& req) -> asio::awaitable<Response> { co_return co_await act(*d, req, act_kind); });
  }
  router.add(bhttp::verb::get, "/admin/api/dashboard", "console.dashboard",
             [d](Request& req) -> asio::awaitable<Response> { co_return co_await show_dashboard(*d, req); });
}

}  // namespace paygate::console
