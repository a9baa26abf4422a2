#include "agent/checks/system_check.h"

#include <gtest/gtest.h>

#include <cmath>

#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::FindTarget;
using testing::MetricValue;
using testing::SpecFromYaml;

constexpr char kStat4Cpus[] =
    "cpu  10000 500 3000 80000 1000 100 400 0 0 0\n"
    "cpu0 2500 125 750 20000 250 25 100 0 0 0\n"
    "cpu1 2500 125 750 20000 250 25 100 0 0 0\n"
    "cpu2 2500 125 750 20000 250 25 100 0 0 0\n"
    "cpu3 2500 125 750 20000 250 25 100 0 0 0\n"
    "ctxt 987654\n";

std::string Meminfo(uint64_t total_kb, uint64_t avail_kb, uint64_t swap_total_kb = 0,
                    uint64_t swap_free_kb = 0) {
  return "MemTotal: " + std::to_string(total_kb) +
         " kB\nMemFree: 1000 kB\nMemAvailable: " + std::to_string(avail_kb) +
         " kB\nSwapTotal: " + std::to_string(swap_total_kb) +
         " kB\nSwapFree: " + std::to_string(swap_free_kb) + " kB\nHugePages_Total: 0\n";
}

class SystemCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirectories("/fixture/proc").ok());
    Write("stat", kStat4Cpus);
    Write("meminfo", Meminfo(8'000'000, 2'000'000, 2'000'000, 1'500'000));
    Write("loadavg", "1.50 2.00 2.50 3/512 12345\n");
    Write("uptime", "273600.52 1000000.00\n");
  }
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(fs_.WriteFileAtomic("/fixture/proc/" + name, text).ok());
  }
  std::vector<CheckResult> Run(SystemCheck& check) {
    CheckContext ctx{clock_, fs_, "/fixture/proc"};
    return check.Run(ctx);
  }
  CheckStatus StatusOf(SystemCheck& check, const std::string& target) {
    std::vector<CheckResult> results = Run(check);
    const CheckResult* r = FindTarget(results, target);
    return r == nullptr ? CheckStatus::kUnknown : r->status;
  }
  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
};

TEST_F(SystemCheckTest, ReadsTheFixtureProcTreeOnDisk) {
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock_, *fs, std::string(SF_AGENT_TESTDATA_DIR) + "/proc"};
  SystemCheck check("system", {});
  std::vector<CheckResult> results = check.Run(ctx);
  ASSERT_EQ(results.size(), 5u);
  for (const auto& r : results) {
    EXPECT_EQ(r.check, "system");
    EXPECT_EQ(r.status, CheckStatus::kOk) << r.target << ": " << r.summary;
    EXPECT_EQ(r.observed_at_ms, clock_.NowMillis());
  }
  const CheckResult* cpu = FindTarget(results, "cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_NEAR(*MetricValue(*cpu, "cpu_usage_ratio"), 14'000.0 / 95'000.0, 1e-9);
  EXPECT_EQ(*MetricValue(*cpu, "cpus"), 4);
  EXPECT_NE(cpu->summary.find("since boot"), std::string::npos) << cpu->summary;
  EXPECT_EQ(cpu->details_json, R"({"since_boot":true})");

  const CheckResult* mem = FindTarget(results, "memory");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(*MetricValue(*mem, "memory_MemTotal_bytes"), 8'000'000.0 * 1024);
  EXPECT_EQ(*MetricValue(*mem, "memory_MemAvailable_bytes"), 2'000'000.0 * 1024);
  EXPECT_DOUBLE_EQ(*MetricValue(*mem, "memory_used_ratio"), 0.75);
  EXPECT_EQ(mem->summary, "memory 75.0% used (1.9 GiB available of 7.6 GiB)");

  const CheckResult* swap = FindTarget(results, "swap");
  ASSERT_NE(swap, nullptr);
  EXPECT_DOUBLE_EQ(*MetricValue(*swap, "swap_used_ratio"), 0.25);

  const CheckResult* load = FindTarget(results, "load");
  ASSERT_NE(load, nullptr);
  EXPECT_EQ(*MetricValue(*load, "load1"), 1.5);
  EXPECT_EQ(*MetricValue(*load, "load5"), 2.0);
  EXPECT_EQ(*MetricValue(*load, "load15"), 2.5);
  EXPECT_EQ(*MetricValue(*load, "load5_per_cpu"), 0.5);

  const CheckResult* up = FindTarget(results, "uptime");
  ASSERT_NE(up, nullptr);
  EXPECT_DOUBLE_EQ(*MetricValue(*up, "uptime_seconds"), 273'600.52);
  EXPECT_EQ(*MetricValue(*up, "boot_time_seconds"),
            std::floor(static_cast<double>(clock_.NowMillis()) / 1000.0 - 273'600.52));
  EXPECT_EQ(up->summary, "up 3d 4h 0m");
}

TEST_F(SystemCheckTest, CpuUsageIsTheDeltaBetweenRuns) {
  SystemCheck check("system", {});
  Run(check);
  // 1000 more ticks: 250 busy (user), 700 idle, 50 iowait.
  Write("stat",
        "cpu  10250 500 3000 80700 1050 100 400 0 0 0\n"
        "cpu0 1 1 1 1 1 1 1 0 0 0\ncpu1 1 1 1 1 1 1 1 0 0 0\n");
  std::vector<CheckResult> results = Run(check);
  const CheckResult* cpu = FindTarget(results, "cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_NEAR(*MetricValue(*cpu, "cpu_usage_ratio"), 0.25, 1e-9);
  EXPECT_NEAR(*MetricValue(*cpu, "cpu_iowait_ratio"), 0.05, 1e-9);
  EXPECT_EQ(*MetricValue(*cpu, "cpus"), 2);
  EXPECT_EQ(cpu->summary.find("since boot"), std::string::npos);
  EXPECT_EQ(cpu->details_json, R"({"since_boot":false})");
}

TEST_F(SystemCheckTest, NoElapsedCpuTimeIsUnknownNotDivisionByZero) {
  SystemCheck check("system", {});
  Run(check);
  std::vector<CheckResult> results = Run(check);  // same counters
  EXPECT_EQ(FindTarget(results, "cpu")->status, CheckStatus::kUnknown);
}

TEST_F(SystemCheckTest, IowaitGoingBackwardsDoesNotWrapAround) {
  SystemCheck check("system", {});
  Run(check);
  Write("stat", "cpu  10500 500 3000 81000 900 100 400 0 0 0\ncpu0 1 1 1 1 1 1 1 0 0 0\n");
  std::vector<CheckResult> results = Run(check);
  const CheckResult* cpu = FindTarget(results, "cpu");
  double usage = *MetricValue(*cpu, "cpu_usage_ratio");
  EXPECT_GE(usage, 0.0);
  EXPECT_LE(usage, 1.0);
  EXPECT_EQ(*MetricValue(*cpu, "cpu_iowait_ratio"), 0.0);
}

TEST_F(SystemCheckTest, MemoryThresholds) {
  SystemCheck check("system", {});
  Write("meminfo", Meminfo(1'000'000, 80'000));  // 92% used
  EXPECT_EQ(StatusOf(check, "memory"), CheckStatus::kWarning);
  Write("meminfo", Meminfo(1'000'000, 40'000));  // 96% used
  EXPECT_EQ(StatusOf(check, "memory"), CheckStatus::kCritical);
  Write("meminfo", Meminfo(1'000'000, 500'000));
  EXPECT_EQ(StatusOf(check, "memory"), CheckStatus::kOk);
}

TEST_F(SystemCheckTest, LoadPerCoreThresholdsUseTheFiveMinuteAverage) {
  SystemCheck check("system", {});
  Write("loadavg", "30.0 9.00 1.00 1/100 1\n");  // 9 / 4 CPUs = 2.25
  EXPECT_EQ(StatusOf(check, "load"), CheckStatus::kWarning);
  Write("loadavg", "1.0 17.00 1.00 1/100 1\n");  // 4.25 per CPU
  EXPECT_EQ(StatusOf(check, "load"), CheckStatus::kCritical);
}

TEST_F(SystemCheckTest, NoSwapIsOk) {
  SystemCheck check("system", {});
  Write("meminfo", Meminfo(1'000'000, 500'000, 0, 0));
  std::vector<CheckResult> results = Run(check);
  const CheckResult* swap = FindTarget(results, "swap");
  EXPECT_EQ(swap->status, CheckStatus::kOk);
  EXPECT_EQ(swap->summary, "no swap configured");
}

TEST_F(SystemCheckTest, ConfiguredSwapAndCpuThresholds) {
  auto check = NewSystemCheck(
      SpecFromYaml("{name: sys, type: system, swap_warning_percent: 20, swap_critical_percent: 50,"
                   " cpu_warning_percent: 10, cpu_critical_percent: 99}"));
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  CheckContext ctx{clock_, fs_, "/fixture/proc"};
  auto results = (*check)->Run(ctx);
  EXPECT_EQ(FindTarget(results, "swap")->status, CheckStatus::kWarning);  // 25%
  EXPECT_EQ(FindTarget(results, "cpu")->status, CheckStatus::kWarning);   // 14.7%
  EXPECT_EQ(results.front().check, "sys");
}

TEST_F(SystemCheckTest, UnreadableProcGivesUnknownResults) {
  steadfast::testing::MemoryFileSystem empty;
  CheckContext ctx{clock_, empty, "/nowhere"};
  SystemCheck check("system", {});
  std::vector<CheckResult> results = check.Run(ctx);
  ASSERT_EQ(results.size(), 5u);
  for (const auto& r : results) {
    EXPECT_EQ(r.status, CheckStatus::kUnknown) << r.target;
    EXPECT_FALSE(r.summary.empty());
  }
}

TEST(SystemCheckParseTest, ParsersRejectGarbage) {
  EXPECT_FALSE(ParseProcStat("intr 1 2 3\n").ok());
  EXPECT_FALSE(ParseProcStat("cpu  1 2\n").ok());
  EXPECT_FALSE(ParseMeminfo("Foo: 1 kB\n").ok());
  EXPECT_FALSE(ParseLoadavg("high\n").ok());
  EXPECT_FALSE(ParseUptime("-3 1\n").ok());
  auto mem = ParseMeminfo("MemTotal: 10 kB\nHugePages_Total: 7\n");
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(mem->at("MemTotal"), 10'240u);
  EXPECT_EQ(mem->at("HugePages_Total"), 7u);
}

TEST(SystemCheckFactoryTest, ValidatesItsKeys) {
  EXPECT_TRUE(NewSystemCheck(SpecFromYaml("{name: s, type: system, interval: 30s}")).ok());
  auto unknown = NewSystemCheck(SpecFromYaml("name: s\ntype: system\nmemory_warn: 5\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("agent.yaml:3: memory_warn: unknown key"),
            std::string::npos)
      << unknown.status().message();
  auto inverted = NewSystemCheck(SpecFromYaml(
      "name: s\ntype: system\nmemory_warning_percent: 97\nmemory_critical_percent: 96\n"));
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.status().message().find("agent.yaml:3: memory_warning_percent"),
            std::string::npos)
      << inverted.status().message();
  // Only the warning is set, above the default critical (95).
  EXPECT_FALSE(
      NewSystemCheck(SpecFromYaml("{name: s, type: system, memory_warning_percent: 99}")).ok());
  auto range =
      NewSystemCheck(SpecFromYaml("{name: s, type: system, memory_critical_percent: 150}"));
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("memory_critical_percent"), std::string::npos);
}

}  // namespace
}  // namespace steadfast::agent
