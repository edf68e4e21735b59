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

}  // namespace paygate::console
