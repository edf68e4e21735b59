// HTTP glue for the gateway protocol: thin handlers over Service. Protocol-level outcomes answer HTTP 200 with the
// protocol's body (JSON, or for the page mode a 302 or an HTML page); only malformed HTTP gets a 4xx.
#pragma once
#include <functional>
#include <string>

#include "base/clock.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "protocols/gateway/service.h"

namespace paygate::gateway {

struct HandlerDeps {
  Service& service;
  storage::Store& store;
  const Clock& clock;
  Random& random;
  metrics::Registry& metrics;
  // The platform's public address for absolute links ("https://pay.example.com"); empty: taken from the request's
  // Host header.
  std::string public_url;
  // Whether the sandbox's completion endpoint and page panel exist.
  bool sandbox = true;
  std::function<void(int64_t due_ms)> on_work_due;  // a pay-in expiry or a payout became due at due_ms
  std::function<void()> on_callback_queued;        // wakes the dispatcher
};

void register_routes(http::Router& router, HandlerDeps deps);

// POST /sandbox/payments/{id}/complete for a gateway pay-in (id "P..."): result=success|fail, optional amount. The
// route is shared with the cashier (server_app dispatches by id) and exists only in sandbox mode.
boost::asio::awaitable<http::Response> sandbox_complete(const HandlerDeps& deps, http::Request& req);

}  // namespace paygate::gateway
