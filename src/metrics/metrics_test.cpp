#include "metrics/metrics.h"

#include <gtest/gtest.h>

namespace paygate::metrics {
namespace {

TEST(Metrics, RendersPrometheusText) {
  Registry r;
  r.counter("paygate_requests_total", "Requests.", "{route=\"a\"}").inc(3);
  r.gauge("paygate_depth", "Depth.").set(7);
  auto& h = r.histogram("paygate_latency_seconds", "Latency.", {0.1, 1}, "{route=\"a\"}");
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string text = r.render();
  EXPECT_NE(text.find("# TYPE paygate_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("paygate_requests_total{route=\"a\"} 3"), std::string::npos);
  EXPECT_NE(text.find("paygate_depth 7"), std::string::npos);
  EXPECT_NE(text.find("paygate_latency_seconds_bucket{route=\"a\",le=\"0.1\"} 1"), std::string::npos);
  EXPECT_NE(text.find("paygate_latency_seconds_bucket{route=\"a\",le=\"1\"} 2"), std::string::npos);
  EXPECT_NE(text.find("paygate_latency_seconds_bucket{route=\"a\",le=\"+Inf\"} 3"), std::string::npos);
  EXPECT_NE(text.find("paygate_latency_seconds_count{route=\"a\"} 3"), std::string::npos);
}

TEST(Metrics, SameNameAndLabelsIsTheSameSeries) {
  Registry r;
  r.counter("x_total", "X.").inc();
  r.counter("x_total", "X.").inc();
  EXPECT_EQ(r.counter("x_total", "X.").value(), 2u);
}

}  // namespace
}  // namespace paygate::metrics
