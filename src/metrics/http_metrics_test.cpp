#include "metrics/http_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace paygate::metrics {
namespace {

// The kept handles are the Registry's own: /metrics shows the same series a direct look-up would create.
TEST(HttpRequestMetrics, CountsAndTimesEachRouteAndStatusInTheRegistry) {
  Registry kept_registry;
  Registry direct;
  HttpRequestMetrics kept(kept_registry);
  const struct {
    const char* route;
    unsigned status;
    int64_t latency_us;
  } requests[] = {{"consign.submit", 200, 800},
                  {"consign.submit", 200, 1'200},
                  {"consign.submit", 400, 90},
                  {"unmatched", 404, 30},
                  {"metrics", 200, 15'000}};
  for (const auto& q : requests) {
    kept.record(q.route, q.status, q.latency_us);
    direct
        .counter("paygate_http_requests_total", "HTTP requests by route and status.",
                 std::string("{route=\"") + q.route + "\",status=\"" + std::to_string(q.status) + "\"}")
        .inc();
    direct
        .histogram("paygate_http_request_duration_seconds", "HTTP request latency by route.", latency_buckets_s(),
                   std::string("{route=\"") + q.route + "\"}")
        .observe(static_cast<double>(q.latency_us) / 1e6);
  }
  EXPECT_EQ(kept_registry.render(), direct.render());
  EXPECT_NE(kept_registry.render().find("paygate_http_requests_total{route=\"consign.submit\",status=\"200\"} 2"),
            std::string::npos)
      << kept_registry.render();
}

TEST(HttpRequestMetrics, ThreadsCountEveryRequest) {
  Registry registry;
  HttpRequestMetrics metrics(registry);
  auto run = [&] {
    for (int i = 0; i < 1000; ++i) metrics.record(i % 2 == 0 ? "a" : "b", i % 3 == 0 ? 200 : 500, 10);
  };
  std::thread other(run);
  run();
  other.join();
  const std::string text = registry.render();
  // 2 x 1000 requests: "a" takes the even i, of which a third (i % 6 == 0) answered 200.
  EXPECT_NE(text.find("paygate_http_requests_total{route=\"a\",status=\"200\"} 334"), std::string::npos) << text;
  EXPECT_NE(text.find("paygate_http_requests_total{route=\"a\",status=\"500\"} 666"), std::string::npos) << text;
  EXPECT_NE(text.find("paygate_http_request_duration_seconds_count{route=\"b\"} 1000"), std::string::npos) << text;
}

}  // namespace
}  // namespace paygate::metrics
