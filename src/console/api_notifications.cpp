// The admin API's notification log (docs/console.md, "Notifications"):
//   GET /admin/api/notifications
// Resending stays an order action (POST /admin/api/orders/{id}/resend, api_orders.cpp).
#include "base/limits.h"
#include "console/api.h"
#include "console/api_support.h"
#include "console/notifications.h"

namespace paygate::console {

namespace {

namespace asio = boost::asio;
using nlohmann::json;
using http::Request;
using http::Response;

asio::awaitable<Response> list_notifications(ApiDeps& deps, Request& req) {
  auto who = authorize(deps, req, Permission::kView);
  if (auto* r = std::get_if<Response>(&who)) co_return std::move(*r);
  auto query = parse_notification_query(query_fields(req), 50, limits::kConsolePageSizeMax);
  if (!query.ok()) co_return error_response(req, query.error());
  auto page = search_notifications(*deps.store.read(), std::get<Principal>(who), *query);
  json items = json::array();
  for (const auto& row : page.items) items.push_back(notification_row_json(row));
  co_return page_response(req, std::move(items), page.next_cursor);
}

}  // namespace

void register_notification_routes(http::Router& router, ApiDeps& deps) {
  ApiDeps* d = &deps;
  router.add(bhttp::verb::get, "/admin/api/notifications", "console.notifications",
             [d](Request& req) -> asio::awaitable<Response> { co_return co_await list_notifications(*d, req); });
}

}  // namespace paygate::console
