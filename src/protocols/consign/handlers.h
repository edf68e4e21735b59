// HTTP glue for the consign protocol: thin handlers over Service. Every protocol-level outcome is HTTP 200
// with the protocol's JSON body.
#pragma once
#include <functional>

#include "base/clock.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "protocols/consign/service.h"

namespace paygate::consign {

struct HandlerDeps {
  Service& service;
  storage::Store& store;
  Random& random;
  metrics::Registry& metrics;
  std::function<void(int64_t due_ms)> on_order_created;  // tells the processor when the new order is due
};

void register_routes(http::Router& router, HandlerDeps deps);

}  // namespace paygate::consign
