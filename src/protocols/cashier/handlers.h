// HTTP glue for the cashier protocol: the payment request (POST /api/icashier, GET /apis/icashier), the hosted
// cashier page and its status, the front notify redirect, the query (POST /api/query), and the sandbox completion
// of cashier orders.
#pragma once
#include <functional>
#include <string>

#include "base/clock.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "protocols/cashier/service.h"

namespace paygate::cashier {

struct HandlerDeps {
  Service& service;
  storage::Store& store;
  const Clock& clock;
  Random& random;
  metrics::Registry& metrics;
  std::string public_url;  // absolute links; empty: the request's Host
  bool sandbox = true;
  std::function<void(int64_t due_ms)> on_work_due;  // an expiry or a settlement became due
  std::function<void()> on_notify_queued;           // wakes the dispatcher
};

void register_routes(http::Router& router, HandlerDeps deps);

// POST /sandbox/payments/{id}/complete for a cashier order (id "Q..."): result=success|fail|0000|1002|1003|1004,
// optional method (for Arbi). The route itself is shared with the gateway (server_app dispatches by id).
boost::asio::awaitable<http::Response> sandbox_complete(const HandlerDeps& deps, http::Request& req);

}  // namespace paygate::cashier
