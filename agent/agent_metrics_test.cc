#include "agent/agent_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <limits>
#include <thread>

#include "agent/testing/prometheus_text.h"

namespace steadfast::agent {
namespace {

using testing::ParsePrometheusText;
using testing::Scrape;

Scrape Parse(const std::string& text) {
  Scrape s = ParsePrometheusText(text);
  EXPECT_EQ(s.error, "") << text;
  return s;
}

prometheus::ClientMetric Metric(std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  return m;
}

// Every metric type, escapes in help and label values, and values that are hard to print.
std::vector<prometheus::MetricFamily> AwkwardFamilies() {
  const double kInf = std::numeric_limits<double>::infinity();
  std::vector<prometheus::MetricFamily> out;
  // prometheus-cpp 1.0 writes help text unescaped: no newline here (see HelpIsEscaped).
  prometheus::MetricFamily counter{"x_requests_total", "Requests \\ by \"result\"",
                                   prometheus::MetricType::Counter, {}};
  for (double v : {0.0, 1.0, 123456789012345.0, 0.1, 1e-9, 1e300}) {
    auto m = Metric({{"result", "v" + std::to_string(counter.metric.size())},
                     {"path", "C:\\dir \"quoted\"\nnext"}});
    m.counter.value = v;
    counter.metric.push_back(m);
  }
  out.push_back(counter);
  prometheus::MetricFamily gauge{"x_temperature_celsius", "", prometheus::MetricType::Gauge, {}};
  for (double v : {-40.5, 2.5e-7, kInf, -kInf, 1.0 / 3.0, 6.02214076e23}) {
    auto m = Metric({{"sensor", "s" + std::to_string(gauge.metric.size())}});
    m.gauge.value = v;
    gauge.metric.push_back(m);
  }
  auto unlabelled = Metric({});
  unlabelled.gauge.value = 42;
  gauge.metric.push_back(unlabelled);
  out.push_back(gauge);
  prometheus::MetricFamily untyped{"x_untyped", "Untyped.", prometheus::MetricType::Untyped, {}};
  auto u = Metric({{"a", "b"}});
  u.untyped.value = 7.25;
  untyped.metric.push_back(u);
  out.push_back(untyped);
  prometheus::MetricFamily summary{"x_latency_seconds", "Summary.",
                                   prometheus::MetricType::Summary, {}};
  auto s = Metric({{"op", "read"}});
  s.summary.sample_count = 10;
  s.summary.sample_sum = 3.5;
  s.summary.quantile = {{0.5, 0.2}, {0.9, 0.7}, {0.99, 1.25}};
  summary.metric.push_back(s);
  out.push_back(summary);
  prometheus::MetricFamily histogram{"x_duration_seconds", "Histogram.",
                                     prometheus::MetricType::Histogram, {}};
  auto h = Metric({{"check", "disk"}});
  h.histogram.sample_count = 5;
  h.histogram.sample_sum = 12.125;
  h.histogram.bucket = {{1, 0.001}, {2, 0.5}, {4, 10}, {5, kInf}};
  histogram.metric.push_back(h);
  out.push_back(histogram);
  return out;
}

bool SameValue(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Held to prometheus-cpp (the collector's serialiser): the two texts parse to the same
// families, types and samples.
TEST(AgentMetricsTest, ExpositionParsesToTheSameSamplesAsPrometheusCpp) {
  const std::vector<prometheus::MetricFamily> families = AwkwardFamilies();
  const std::string ours = ExpositionText(families);
  const std::string theirs = prometheus::TextSerializer().Serialize(families);
  const Scrape a = Parse(ours);
  const Scrape b = Parse(theirs);
  EXPECT_EQ(a.types, b.types);
  // The same samples, whatever the order (prometheus-cpp writes _count and _sum first).
  auto sorted = [](std::vector<testing::ScrapedSample> v) {
    std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
      return std::tie(x.name, x.labels) < std::tie(y.name, y.labels);
    });
    return v;
  };
  const auto sa = sorted(a.samples);
  const auto sb = sorted(b.samples);
  ASSERT_EQ(sa.size(), sb.size()) << ours << "\n---\n" << theirs;
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].name, sb[i].name);
    EXPECT_EQ(sa[i].labels, sb[i].labels) << sa[i].name;
    EXPECT_TRUE(SameValue(sa[i].value, sb[i].value))
        << sa[i].name << ": " << sa[i].value << " vs " << sb[i].value;
  }
}

// Help text may hold backslashes and newlines (a check's metric unit, say): escaped, so the line
// does not end early.
TEST(AgentMetricsTest, HelpIsEscaped) {
  MetricRegistry r;
  r.AddGauge("x_up", "First \\ line\nsecond line").Add({}).Set(1);
  const std::string text = ExpositionText(r.Collect());
  EXPECT_EQ(text, "# HELP x_up First \\\\ line\\nsecond line\n# TYPE x_up gauge\nx_up 1\n");
  EXPECT_EQ(Parse(text).Value("x_up"), 1);
}

TEST(AgentMetricsTest, NanPrintsAsPrometheusReadsIt) {
  prometheus::MetricFamily f{"x_ratio", "", prometheus::MetricType::Gauge, {}};
  auto m = Metric({});
  m.gauge.value = std::nan("");
  f.metric.push_back(m);
  EXPECT_EQ(ExpositionText({f}), "# TYPE x_ratio gauge\nx_ratio NaN\n");
}

TEST(AgentMetricsTest, FamiliesWithoutSeriesAreLeftOut) {
  MetricRegistry r;
  r.AddCounter("x_events_total", "Events.");
  EXPECT_EQ(ExpositionText(r.Collect()), "");
}

TEST(AgentMetricsTest, RegistrySeriesByLabels) {
  MetricRegistry r;
  MetricFamily<Counter>& runs = r.AddCounter("x_runs_total", "Runs.");
  Counter& disk = runs.Add({{"check", "disk"}});
  EXPECT_EQ(&disk, &runs.Add({{"check", "disk"}}));  // the same series, not a second one
  disk.Increment();
  disk.Increment(2.5);
  disk.Increment(-1);  // counters do not go down
  runs.Add({{"check", "cpu"}}).Increment();
  Gauge& up = r.AddGauge("x_up", "Up.").Add({});
  up.Set(1);
  up.Set(0);
  Histogram& h =
      r.AddHistogram("x_seconds", "Durations.", {0.1, 1, 10}).Add({{"check", "disk"}});
  for (double v : {0.05, 0.1, 0.5, 1.0, 20.0}) h.Observe(v);

  const Scrape s = Parse(ExpositionText(r.Collect()));
  EXPECT_EQ(s.Value("x_runs_total", {{"check", "disk"}}), 3.5);
  EXPECT_EQ(s.Value("x_runs_total", {{"check", "cpu"}}), 1);
  EXPECT_EQ(s.Value("x_up"), 0);
  // le is "less than or equal": 0.1 counts in the 0.1 bucket, 1.0 in the 1 bucket.
  EXPECT_EQ(s.Value("x_seconds_bucket", {{"check", "disk"}, {"le", "0.1"}}), 2);
  EXPECT_EQ(s.Value("x_seconds_bucket", {{"check", "disk"}, {"le", "1"}}), 4);
  EXPECT_EQ(s.Value("x_seconds_bucket", {{"check", "disk"}, {"le", "10"}}), 4);
  EXPECT_EQ(s.Value("x_seconds_bucket", {{"check", "disk"}, {"le", "+Inf"}}), 5);
  EXPECT_EQ(s.Value("x_seconds_count", {{"check", "disk"}}), 5);
  EXPECT_EQ(s.Value("x_seconds_sum", {{"check", "disk"}}), 21.65);
  EXPECT_EQ(s.types.at("x_runs_total"), "counter");
  EXPECT_EQ(s.types.at("x_up"), "gauge");
  EXPECT_EQ(s.types.at("x_seconds"), "histogram");
}

TEST(AgentMetricsTest, ConcurrentUpdatesAreAllCounted) {
  MetricRegistry r;
  MetricFamily<Counter>& runs = r.AddCounter("x_runs_total", "Runs.");
  MetricFamily<Histogram>& durations = r.AddHistogram("x_seconds", "Durations.", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10'000; ++i) {
        runs.Add({{"check", t % 2 == 0 ? "even" : "odd"}}).Increment();
        durations.Add({}).Observe(0.5);
        if (i % 1000 == 0) (void)r.Collect();  // a scrape meanwhile
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const Scrape s = Parse(ExpositionText(r.Collect()));
  EXPECT_EQ(s.Value("x_runs_total", {{"check", "even"}}), 20'000);
  EXPECT_EQ(s.Value("x_runs_total", {{"check", "odd"}}), 20'000);
  EXPECT_EQ(s.Value("x_seconds_count"), 40'000);
}

}  // namespace
}  // namespace steadfast::agent
