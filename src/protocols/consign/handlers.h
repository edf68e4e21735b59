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
  std::function<void()> on_order_created;  // wakes the processor
};

void register_routes(http::Router& router, HandlerDeps deps);

}  // namespace paygate::consign
