#include "agent/check_metrics.h"

#include <gtest/gtest.h>

#include "agent/agent_metrics.h"
#include "agent/testing/prometheus_text.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::ParsePrometheusText;
using testing::Scrape;

CheckResult Result(std::string check, std::string target, CheckStatus status,
                   std::vector<protocol::Metric> metrics) {
  CheckResult r;
  r.check = std::move(check);
  r.target = std::move(target);
  r.status = status;
  r.duration_ms = 250;
  r.observed_at_ms = 1'790'000'000'000;
  r.metrics = std::move(metrics);
  return r;
}

Scrape ScrapeOf(const CheckMetrics& m) {
  std::string text = ExpositionText(m.Collect());
  Scrape s = ParsePrometheusText(text);
  EXPECT_EQ(s.error, "") << text;
  return s;
}

std::map<std::string, std::string> FsLabels(const std::string& mount) {
  return {{"mountpoint", mount}, {"device", "/dev/sda1"}, {"fstype", "ext4"}};
}

TEST(CheckMetricsTest, StatusDurationAndNodeExporterNames) {
  CheckMetrics m;
  m.Update("disks", {Result("disks", "/", CheckStatus::kWarning,
                            {{"filesystem_avail_bytes", FsLabels("/"), 1.5e9, "bytes"},
                             {"filesystem_used_ratio", FsLabels("/"), 0.85, "ratio"}}),
                     Result("disks", "/var", CheckStatus::kOk,
                            {{"filesystem_avail_bytes", FsLabels("/var"), 7e9, "bytes"}})});
  m.Update("system", {Result("system", "load", CheckStatus::kOk,
                             {{"load1", {}, 0.5, ""}, {"load5_per_cpu", {}, 0.1, ""}})});
  Scrape s = ScrapeOf(m);
  EXPECT_EQ(s.Value("steadfast_check_status", {{"check", "disks"}, {"target", "/"}}), 1);
  EXPECT_EQ(s.Value("steadfast_check_status", {{"check", "disks"}, {"target", "/var"}}), 0);
  EXPECT_EQ(s.Value("steadfast_check_duration_seconds", {{"check", "system"}, {"target", "load"}}),
            0.25);
  EXPECT_EQ(s.Value("steadfast_check_observed_timestamp_seconds",
                    {{"check", "system"}, {"target", "load"}}),
            1'790'000'000);
  // node_exporter's own name and labels, so its dashboards and alert rules apply.
  EXPECT_EQ(s.Value("node_filesystem_avail_bytes", FsLabels("/")), 1.5e9);
  EXPECT_EQ(s.Value("node_filesystem_avail_bytes", FsLabels("/var")), 7e9);
  EXPECT_EQ(s.Value("node_load1"), 0.5);
  EXPECT_EQ(s.types.at("node_load1"), "gauge");
  // Signals node_exporter does not have keep check and target.
  auto labels = FsLabels("/");
  labels["check"] = "disks";
  labels["target"] = "/";
  EXPECT_EQ(s.Value("steadfast_check_filesystem_used_ratio", labels), 0.85);
  EXPECT_EQ(s.Value("steadfast_check_load5_per_cpu", {{"check", "system"}, {"target", "load"}}),
            0.1);
}

TEST(CheckMetricsTest, NamesThatAlreadyAreAnExportersStayAsTheyAre) {
  CheckMetrics m;
  m.Update("clock", {Result("clock", "chrony", CheckStatus::kOk,
                            {{"node_timex_offset_seconds", {}, 0.002, "seconds"}})});
  m.Update("smart", {Result("smart", "/dev/sda", CheckStatus::kOk,
                            {{"smartctl_device_temperature",
                              {{"device", "sda"}, {"temperature_type", "current"}}, 31, "celsius"}})});
  Scrape s = ScrapeOf(m);
  EXPECT_EQ(s.Value("node_timex_offset_seconds"), 0.002);
  EXPECT_EQ(s.Value("smartctl_device_temperature", {{"device", "sda"}, {"temperature_type", "current"}}),
            31);
  EXPECT_EQ(ExporterName("load1"), "node_load1");
  EXPECT_EQ(ExporterName("tcp_connect_seconds"), std::nullopt);
}

TEST(CheckMetricsTest, ANewRunReplacesTheChecksEarlierSeries) {
  CheckMetrics m;
  m.Update("disks", {Result("disks", "/", CheckStatus::kOk, {}),
                     Result("disks", "/mnt/usb", CheckStatus::kOk, {})});
  m.Update("disks", {Result("disks", "/", CheckStatus::kCritical, {})});
  Scrape s = ScrapeOf(m);
  EXPECT_EQ(s.CountFamily("steadfast_check_status"), 1u);
  EXPECT_EQ(s.Value("steadfast_check_status", {{"check", "disks"}, {"target", "/"}}), 2);
}

TEST(CheckMetricsTest, AwkwardNamesLabelsAndValuesStayValid) {
  CheckMetrics m;
  m.Update("web", {Result("web", "http://x/?a=\"b\"\\c\nd", CheckStatus::kOk,
                          {{"perfdata_seconds", {{"label", "response time"}}, 0.012, "seconds"},
                           {"perfdata_seconds", {{"label", "connect"}}, 0.003, "seconds"},
                           {"weird-name.x", {{"check", "inner"}, {"a-b", "1"}, {"a_b", "2"}}, 1, ""},
                           {"status", {}, 5, ""},
                           {"requests_total", {}, 10, ""}})});
  // Two checks reporting the same node_exporter series: the first one wins, no duplicate.
  m.Update("a", {Result("a", "load", CheckStatus::kOk, {{"load1", {}, 1, ""}})});
  m.Update("b", {Result("b", "load", CheckStatus::kOk, {{"load1", {}, 2, ""}})});
  Scrape s = ScrapeOf(m);
  const std::string target = "http://x/?a=\"b\"\\c\nd";
  EXPECT_EQ(s.Value("steadfast_check_perfdata_seconds",
                    {{"check", "web"}, {"target", target}, {"label", "connect"}}),
            0.003);
  EXPECT_EQ(s.CountFamily("steadfast_check_weird_name_x"), 1u);
  EXPECT_EQ(s.Value("steadfast_check_metric_status", {{"check", "web"}, {"target", target}}), 5);
  EXPECT_EQ(s.types.at("steadfast_check_requests_total"), "counter");
  EXPECT_EQ(s.CountFamily("node_load1"), 1u);
  EXPECT_EQ(s.Value("node_load1"), 1);
  for (const auto& sample : s.samples) {
    if (sample.name == "steadfast_check_weird_name_x") {
      EXPECT_EQ(sample.labels.at("exported_check"), "inner");
      EXPECT_EQ(sample.labels.at("check"), "web");
    }
  }
}

}  // namespace
}  // namespace steadfast::agent
