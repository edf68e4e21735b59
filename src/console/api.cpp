#include "console/api.h"

namespace paygate::console {

void register_routes(http::Router& router, ApiDeps& deps) {
  register_session_routes(router, deps);
  register_order_routes(router, deps);
  register_merchant_routes(router, deps);
  register_money_routes(router, deps);
}

}  // namespace paygate::console
