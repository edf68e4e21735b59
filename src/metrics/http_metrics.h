// The per-request HTTP metrics (requests by route and status, latency by route) with their handles kept: looking
// them up in the Registry by name and label strings cost six string allocations, two map searches and the
// registry's lock per request (the I/O thread's profile under the consign benchmark, docs/performance.md). Routes
// and statuses are few and fixed, so the handles are found once each and kept; the lock here is held only for a
// search of a small map.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "metrics/metrics.h"

namespace paygate::metrics {

class HttpRequestMetrics {
 public:
  explicit HttpRequestMetrics(Registry& registry) : registry_(registry) {}

  // paygate_http_requests_total{route,status} += 1 and paygate_http_request_duration_seconds{route} observes.
  void record(std::string_view route, unsigned status, int64_t latency_us);

 private:
  struct Route {
    Histogram* latency = nullptr;
    std::map<unsigned, Counter*> requests;  // by status
  };
  Route& route(std::string_view name);  // caller holds mu_

  Registry& registry_;
  std::mutex mu_;
  // Bounded by the code, not the network: route names are the router's (registered routes and "unmatched"), and
  // statuses are the few the server answers with.
  std::map<std::string, Route, std::less<>> routes_;
};

}  // namespace paygate::metrics
