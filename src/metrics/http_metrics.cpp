#include "metrics/http_metrics.h"

namespace paygate::metrics {

namespace {
constexpr const char* kRequestsName = "paygate_http_requests_total";
constexpr const char* kRequestsHelp = "HTTP requests by route and status.";
constexpr const char* kLatencyName = "paygate_http_request_duration_seconds";
constexpr const char* kLatencyHelp = "HTTP request latency by route.";
}  // namespace

HttpRequestMetrics::Route& HttpRequestMetrics::route(std::string_view name) {
  auto it = routes_.find(name);
  if (it != routes_.end()) return it->second;
  Route r;
  r.latency =
      &registry_.histogram(kLatencyName, kLatencyHelp, latency_buckets_s(), "{route=\"" + std::string(name) + "\"}");
  return routes_.emplace(std::string(name), std::move(r)).first->second;
}

void HttpRequestMetrics::record(std::string_view route_name, unsigned status, int64_t latency_us) {
  Counter* requests = nullptr;
  Histogram* latency = nullptr;
  {
    std::lock_guard lock(mu_);
    Route& r = route(route_name);
    auto it = r.requests.find(status);
    if (it == r.requests.end()) {
      const std::string labels =
          "{route=\"" + std::string(route_name) + "\",status=\"" + std::to_string(status) + "\"}";
      it = r.requests.emplace(status, &registry_.counter(kRequestsName, kRequestsHelp, labels)).first;
    }
    requests = it->second;
    latency = r.latency;
  }
  requests->inc();
  latency->observe(static_cast<double>(latency_us) / 1e6);
}

}  // namespace paygate::metrics
