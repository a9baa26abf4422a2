#include "common/metrics/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

namespace steadfast::metrics {
namespace {

TEST(MetricsTest, CounterShowsUpInText) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter()
                     .Name("steadfast_test_events_total")
                     .Help("Events seen by the test.")
                     .Register(registry);
  family.Add({{"kind", "a"}}).Increment(3);
  prometheus::BuildGauge().Name("steadfast_test_queue_depth").Help("Depth.").Register(registry).Add({}).Set(7);

  http::HttpResponse r = ServeMetrics(registry);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("# TYPE steadfast_test_events_total counter"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("steadfast_test_events_total{kind=\"a\"} 3"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("steadfast_test_queue_depth 7"), std::string::npos) << r.body;
}

TEST(MetricsTest, EmptyRegistryIsEmptyText) {
  prometheus::Registry registry;
  http::HttpResponse r = ServeMetrics(registry);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
}

}  // namespace
}  // namespace steadfast::metrics
