// The console's JSON admin API under /admin/api/ (docs/console.md). Each api_*.cpp registers its own routes;
// register_routes registers them all.
#pragma once
#include "console/api_support.h"
#include "http/router.h"

namespace paygate::console {

// Every /admin/api/ route. `deps` must outlive the router.
void register_routes(http::Router& router, ApiDeps& deps);

// Login, logout, me, users, audit (api_session.cpp).
void register_session_routes(http::Router& router, ApiDeps& deps);
// Orders across the protocols, their actions, the dashboard (api_orders.cpp).
void register_order_routes(http::Router& router, ApiDeps& deps);
// Merchants, their channels, products, keys and IP allowlists; the catalogue (api_merchants.cpp).
void register_merchant_routes(http::Router& router, ApiDeps& deps);
// Balances, statements, reconciliation (api_money.cpp).
void register_money_routes(http::Router& router, ApiDeps& deps);
// The notification log (api_notifications.cpp).
void register_notification_routes(http::Router& router, ApiDeps& deps);

}  // namespace paygate::console
