#include "agent/checks/sensors_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::FindTarget;
using testing::SpecFromYaml;
using testing::TempDir;

std::optional<double> SensorMetric(const CheckResult& r, const std::string& name,
                                   const std::string& sensor) {
  for (const auto& m : r.metrics) {
    auto it = m.labels.find("sensor");
    if (m.name == name && it != m.labels.end() && it->second == sensor) return m.value;
  }
  return std::nullopt;
}

// A copy of testdata/sensors/sys (symlinks kept) that a test may change.
class SensorsCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = dir_.path() + "/sys";
    testing::CopyTestdataTree("sensors/sys", sys_);
  }
  void Write(const std::string& rel, const std::string& value) {
    std::ofstream(sys_ + "/class/hwmon/" + rel) << value << "\n";
  }
  std::vector<CheckResult> Run(SensorsCheckOptions o = {}) {
    SensorsCheck check("sensors", std::move(o));
    CheckContext ctx{clock_, *fs_};
    ctx.sys_root = sys_;
    return check.Run(ctx);
  }

  TempDir dir_;
  std::string sys_;
  steadfast::testing::FakeClock clock_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
};

TEST_F(SensorsCheckTest, OneResultPerChipWithStableIds) {
  auto results = Run();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].target, "acpitz");  // no device link: the chip name
  EXPECT_EQ(results[1].target, "platform_coretemp_0");
  EXPECT_EQ(results[2].target, "platform_nct6775_656");
  for (const auto& r : results) EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(results[0].summary, "acpitz: 1 temperature, hottest temp1 27.8°C");
  EXPECT_EQ(results[1].summary, "coretemp: 3 temperatures, hottest Package id 0 52.0°C");
  EXPECT_EQ(results[2].summary,
            "nct6798: 4 temperatures, hottest PECI Agent 0 51.0°C, 2 fans 846–1024 RPM, "
            "6 voltages");
}

TEST_F(SensorsCheckTest, MetricsUseNodeExporterNamesAndUnits) {
  auto results = Run();
  const CheckResult* core = FindTarget(results, "platform_coretemp_0");
  ASSERT_NE(core, nullptr);
  EXPECT_DOUBLE_EQ(*SensorMetric(*core, "node_hwmon_temp_celsius", "temp1"), 52.0);
  EXPECT_DOUBLE_EQ(*SensorMetric(*core, "node_hwmon_temp_max_celsius", "temp1"), 80.0);
  EXPECT_DOUBLE_EQ(*SensorMetric(*core, "node_hwmon_temp_crit_celsius", "temp1"), 100.0);
  EXPECT_EQ(core->metrics.front().name, "node_hwmon_chip_names");
  EXPECT_EQ(core->metrics.front().labels.at("chip_name"), "coretemp");
  const CheckResult* nct = FindTarget(results, "platform_nct6775_656");
  ASSERT_NE(nct, nullptr);
  EXPECT_DOUBLE_EQ(*SensorMetric(*nct, "node_hwmon_fan_rpm", "fan1"), 1024);
  EXPECT_DOUBLE_EQ(*SensorMetric(*nct, "node_hwmon_fan_min_rpm", "fan2"), 200);
  EXPECT_DOUBLE_EQ(*SensorMetric(*nct, "node_hwmon_in_volts", "in8"), 3.184);
  EXPECT_DOUBLE_EQ(*SensorMetric(*nct, "node_hwmon_in_min_volts", "in8"), 2.704);
  EXPECT_DOUBLE_EQ(*SensorMetric(*nct, "node_hwmon_temp_celsius", "temp3"), -62.0);
  // temp3 has no max/crit files: no limit metrics for it.
  EXPECT_FALSE(SensorMetric(*nct, "node_hwmon_temp_max_celsius", "temp3").has_value());
}

TEST_F(SensorsCheckTest, TemperatureAgainstKernelMaxAndCrit) {
  Write("hwmon1/temp2_input", "85000");
  auto results = Run();
  const CheckResult* core = FindTarget(results, "platform_coretemp_0");
  EXPECT_EQ(core->status, CheckStatus::kWarning);
  EXPECT_EQ(core->summary, "coretemp: Core 0 85.0°C >= high 80.0°C");
  Write("hwmon1/temp3_input", "100000");
  results = Run();
  core = FindTarget(results, "platform_coretemp_0");
  EXPECT_EQ(core->status, CheckStatus::kCritical);
  EXPECT_EQ(core->summary,
            "coretemp: Core 0 85.0°C >= high 80.0°C; Core 1 100.0°C >= critical 100.0°C");
}

TEST_F(SensorsCheckTest, CritAlarmIsCritical) {
  Write("hwmon1/temp1_crit_alarm", "1");
  auto results = Run();
  EXPECT_EQ(FindTarget(results, "platform_coretemp_0")->status, CheckStatus::kCritical);
}

TEST_F(SensorsCheckTest, ConfiguredThresholdsReplaceTheKernels) {
  SensorsCheckOptions o;
  o.temperature_warning = 30;
  o.temperature_critical = 50;
  auto results = Run(o);
  // acpitz had no limits at all; now 27.8 < 30 is fine.
  EXPECT_EQ(FindTarget(results, "acpitz")->status, CheckStatus::kOk);
  const CheckResult* core = FindTarget(results, "platform_coretemp_0");
  EXPECT_EQ(core->status, CheckStatus::kCritical);
  EXPECT_NE(core->summary.find("Package id 0 52.0°C >= critical 50.0°C"), std::string::npos)
      << core->summary;
  EXPECT_NE(core->summary.find("Core 0 48.0°C >= high 30.0°C"), std::string::npos);
}

TEST_F(SensorsCheckTest, StoppedFanWithMinimumIsCriticalSlowFanWarning) {
  Write("hwmon2/fan2_input", "0");
  auto results = Run();
  const CheckResult* nct = FindTarget(results, "platform_nct6775_656");
  EXPECT_EQ(nct->status, CheckStatus::kCritical);
  EXPECT_EQ(nct->summary, "nct6798: fan2 stopped (0 RPM, minimum 200)");
  Write("hwmon2/fan2_input", "150");
  results = Run();
  nct = FindTarget(results, "platform_nct6775_656");
  EXPECT_EQ(nct->status, CheckStatus::kWarning);
  EXPECT_EQ(nct->summary, "nct6798: fan2 150 RPM < minimum 200");
}

TEST_F(SensorsCheckTest, FanMinOverrideCatchesUnconnectedHeadersUnlessExcluded) {
  SensorsCheckOptions o;
  o.fan_min_rpm = 500;
  auto results = Run(o);
  const CheckResult* nct = FindTarget(results, "platform_nct6775_656");
  EXPECT_EQ(nct->status, CheckStatus::kCritical);
  EXPECT_NE(nct->summary.find("fan3 stopped"), std::string::npos) << nct->summary;
  o.exclude_sensors = {"nct6798/fan3"};
  results = Run(o);
  EXPECT_EQ(FindTarget(results, "platform_nct6775_656")->status, CheckStatus::kOk);
}

TEST_F(SensorsCheckTest, VoltageOutsideLimitsWarnsAndBogusLimitsAreIgnored) {
  Write("hwmon2/in8_input", "2500");  // CMOS battery low
  auto results = Run();
  const CheckResult* nct = FindTarget(results, "platform_nct6775_656");
  EXPECT_EQ(nct->status, CheckStatus::kWarning);
  EXPECT_EQ(nct->summary, "nct6798: in8 2.500 V outside 2.704–3.632 V");
  SensorsCheckOptions o;
  o.voltage_limits = false;
  EXPECT_EQ(FindTarget(Run(o), "platform_nct6775_656")->status, CheckStatus::kOk);
}

TEST_F(SensorsCheckTest, FaultySensorIsSkippedAndExclusionByLabel) {
  Write("hwmon2/temp3_fault", "1");
  Write("hwmon2/temp3_max", "30000");  // would warn, but the sensor is open-circuit
  auto results = Run();
  const CheckResult* nct = FindTarget(results, "platform_nct6775_656");
  EXPECT_EQ(nct->status, CheckStatus::kOk);
  EXPECT_NE(nct->summary.find("1 faulty sensor skipped"), std::string::npos) << nct->summary;
  Write("hwmon1/temp1_input", "90000");
  SensorsCheckOptions o;
  o.exclude_sensors = {"Package id 0"};
  EXPECT_EQ(FindTarget(Run(o), "platform_coretemp_0")->status, CheckStatus::kOk);
}

TEST_F(SensorsCheckTest, ChipsFilter) {
  SensorsCheckOptions o;
  o.chips = {"coretemp", "platform_nct6775_656"};
  auto results = Run(o);
  ASSERT_EQ(results.size(), 2u);
  o.chips = {"k10temp"};
  results = Run(o);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "no hwmon chip matched `chips`");
}

TEST_F(SensorsCheckTest, NoHwmonIsUnknownUnlessNotRequired) {
  std::filesystem::remove_all(sys_ + "/class/hwmon");
  auto results = Run();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary.rfind("no hwmon sensors", 0), 0u) << results[0].summary;
  SensorsCheckOptions o;
  o.required = false;
  EXPECT_EQ(Run(o)[0].status, CheckStatus::kOk);
}

TEST(SensorsFactoryTest, ValidatesKeys) {
  EXPECT_TRUE(NewSensorsCheck(SpecFromYaml("{name: s, type: sensors, chips: [coretemp], "
                                           "exclude_sensors: [AUXTIN0], "
                                           "temperature_warning_celsius: 70, "
                                           "temperature_critical_celsius: 85, fan_min_rpm: 300, "
                                           "voltage_limits: false, required: false}"))
                  .ok());
  auto inverted =
      NewSensorsCheck(SpecFromYaml("{name: s, type: sensors, temperature_warning_celsius: 90, "
                                   "temperature_critical_celsius: 80}"));
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.status().message().find("temperature_warning_celsius"), std::string::npos);
  EXPECT_FALSE(NewSensorsCheck(SpecFromYaml("{name: s, type: sensors, fan_min_rpm: 0}")).ok());
  EXPECT_FALSE(NewSensorsCheck(SpecFromYaml("{name: s, type: sensors, fans: 1}")).ok());
}

// This machine is a VM without hwmon: the check says so. On hardware, values must be sane.
TEST(SensorsHostTest, RunsOnThisMachine) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  SensorsCheck check("sensors", {});
  auto results = check.Run(ctx);
  ASSERT_FALSE(results.empty());
  if (!fs->Exists("/sys/class/hwmon")) {
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
    EXPECT_EQ(results[0].summary.rfind("no hwmon sensors", 0), 0u) << results[0].summary;
    return;
  }
  for (const auto& r : results) {
    for (const auto& m : r.metrics) {
      if (m.name == "node_hwmon_temp_celsius") {
        EXPECT_GT(m.value, -60);
        EXPECT_LT(m.value, 150);
      }
      if (m.name == "node_hwmon_fan_rpm") {
        EXPECT_GE(m.value, 0);
      }
    }
  }
}

}  // namespace
}  // namespace steadfast::agent
