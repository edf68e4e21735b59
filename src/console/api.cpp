#include "console/api.h"

namespace paygate::console {

void register_routes(http::Router& router, ApiDeps& deps) {
  register_session_routes(router, deps);
  register_order_routes(router, deps);
  register_merchant_routes(router, deps);
  register_money_routes(router, deps);
  register_notification_routes(router, deps);
  // Anything else under the API's prefix answers in the API's own error format, not the server's plain text.
  router.add_fallback(
      "/admin/api/", "console.unmatched", [&router](http::Request& req) -> boost::asio::awaitable<http::Response> {
        if (auto m = router.find(req.raw.method(), req.path); m.method_not_allowed) {
          http::Response res = json_error(req, bhttp::status::method_not_allowed, "method_not_allowed",
                                          "this endpoint does not take " + std::string(req.raw.method_string()));
          res.set(bhttp::field::allow, m.allow);
          co_return res;
        }
        co_return json_error(req, bhttp::status::not_found, "not_found", "no such endpoint: " + req.path);
      });
}

}  // namespace paygate::console
