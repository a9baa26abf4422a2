#include "agent/checks/disk_health_check.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/posix_command_runner.h"
#include "agent/testing/fake_command_runner.h"
#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::FakeCommandRunner;
using testing::FakeOutcome;
using testing::FindTarget;
using testing::MetricValue;
using testing::SpecFromYaml;

std::string Fixture(const std::string& name) { return testing::Testdata("disk_health/" + name); }

// smartctl prints its JSON whatever the exit status; the fixtures record both.
FakeOutcome Smartctl(const std::string& fixture) {
  FakeOutcome out;
  out.out = Fixture(fixture);
  out.exit_code = nlohmann::json::parse(out.out)["smartctl"]["exit_status"].get<int>();
  return out;
}

// A fixture with some fields changed, e.g. {"/nvme_smart_health_information_log/media_errors", 3}.
FakeOutcome Edited(const std::string& fixture,
                   const std::vector<std::pair<std::string, nlohmann::json>>& edits) {
  FakeOutcome out = Smartctl(fixture);
  nlohmann::json j = nlohmann::json::parse(out.out);
  for (const auto& [pointer, value] : edits) j[nlohmann::json::json_pointer(pointer)] = value;
  out.out = j.dump(2);
  out.exit_code = j["smartctl"]["exit_status"].get<int>();
  return out;
}

std::optional<double> Attribute(const CheckResult& r, const std::string& id) {
  return testing::LabelledMetricValue(r, "smartctl_device_attribute", "attribute_id", id);
}

class DiskHealthCheckTest : public ::testing::Test {
 protected:
  void ScriptAll() {
    runner_.Script({"smartctl", "--scan", "--json"}, Smartctl("scan.json"));
    runner_.Script({"smartctl", "--json", "-a", "/dev/sda"}, Smartctl("sata-ssd-healthy.json"));
    runner_.Script({"smartctl", "--json", "-a", "/dev/sdb"}, Smartctl("sata-hdd-failing.json"));
    runner_.Script({"smartctl", "--json", "-a", "/dev/sdc"}, Smartctl("usb-bridge-unknown.json"));
    runner_.Script({"smartctl", "--json", "-a", "-d", "sat", "/dev/sdc"},
                   Smartctl("usb-bridge-sat.json"));
    runner_.Script({"smartctl", "--json", "-a", "/dev/sdd"}, Smartctl("sas-hdd.json"));
    runner_.Script({"smartctl", "--json", "-a", "-d", "nvme", "/dev/nvme0"},
                   Smartctl("nvme-healthy.json"));
  }
  std::vector<CheckResult> Run(Check& check) {
    CheckContext ctx{clock_, fs_};
    ctx.commands = &runner_;
    return check.Run(ctx);
  }
  CheckResult RunOne(DiskHealthCheck& check) {
    auto results = Run(check);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  static DiskHealthCheckOptions Devices(std::vector<SmartDeviceSpec> d) {
    DiskHealthCheckOptions o;
    o.devices = std::move(d);
    return o;
  }

  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
  FakeCommandRunner runner_;
};

TEST_F(DiskHealthCheckTest, ScansAndGradesEveryKindOfDisk) {
  ScriptAll();
  DiskHealthCheck check("disks", {});
  auto results = Run(check);
  ASSERT_EQ(results.size(), 5u);

  const CheckResult* ssd = FindTarget(results, "/dev/sda");
  ASSERT_NE(ssd, nullptr);
  EXPECT_EQ(ssd->status, CheckStatus::kOk);
  EXPECT_EQ(ssd->summary,
            "Samsung SSD 870 EVO 500GB (S6PXNM0T412345A): SMART passed, 33°C, 12345 h powered on");
  EXPECT_EQ(*MetricValue(*ssd, "smartctl_device_smart_status"), 1);
  EXPECT_EQ(*MetricValue(*ssd, "smartctl_device_temperature"), 33);
  EXPECT_EQ(*MetricValue(*ssd, "smartctl_device_power_on_seconds"), 12345.0 * 3600);
  EXPECT_EQ(*Attribute(*ssd, "5"), 0);

  const CheckResult* hdd = FindTarget(results, "/dev/sdb");
  ASSERT_NE(hdd, nullptr);
  EXPECT_EQ(hdd->status, CheckStatus::kCritical);
  EXPECT_EQ(hdd->summary,
            "ST4000DM004-2CV104 (ZFN0GX4K): SMART overall-health FAILED; Reallocated_Sector_Ct at "
            "or below its threshold (9 <= 10); 3896 reallocated sectors; 536 pending sectors; 536 "
            "offline uncorrectable sectors, 36°C, 45123 h powered on");
  EXPECT_EQ(*MetricValue(*hdd, "smartctl_device_smart_status"), 0);
  EXPECT_EQ(*MetricValue(*hdd, "smartctl_device_smartctl_exit_status"), 88);
  EXPECT_EQ(*Attribute(*hdd, "197"), 536);
  EXPECT_EQ(*MetricValue(*hdd, "smartctl_device_error_log_count"), 412);

  // The USB disk needed -d sat.
  const CheckResult* usb = FindTarget(results, "/dev/sdc");
  ASSERT_NE(usb, nullptr);
  EXPECT_EQ(usb->status, CheckStatus::kOk) << usb->summary;
  EXPECT_EQ(usb->summary,
            "WDC WD40EFRX-68N32N0 (WD-WCC7K4XXXXXX): SMART passed, 41°C, 28011 h powered on");

  const CheckResult* sas = FindTarget(results, "/dev/sdd");
  ASSERT_NE(sas, nullptr);
  EXPECT_EQ(sas->status, CheckStatus::kWarning);  // 2 grown defects >= 1
  EXPECT_EQ(
      sas->summary,
      "SEAGATE ST1200MM0009 (W3B0R4X10000E8465F6K): 2 grown defects, 34°C, 27153 h powered on");
  EXPECT_EQ(*MetricValue(*sas, "smartctl_device_scsi_grown_defect_list"), 2);

  const CheckResult* nvme = FindTarget(results, "/dev/nvme0");
  ASSERT_NE(nvme, nullptr);
  EXPECT_EQ(nvme->status, CheckStatus::kOk);
  EXPECT_EQ(
      nvme->summary,
      "Samsung SSD 980 PRO 1TB (S5GXNX0T812345K): SMART passed, 38°C, 8760 h powered on, 2% used");
  EXPECT_EQ(*MetricValue(*nvme, "smartctl_device_percentage_used"), 2);
  EXPECT_EQ(*MetricValue(*nvme, "smartctl_device_available_spare"), 100);
  EXPECT_EQ(*MetricValue(*nvme, "smartctl_device_media_errors"), 0);
}

TEST_F(DiskHealthCheckTest, UsbBridgeRetriedWithSatOnceThenRemembered) {
  ScriptAll();
  DiskHealthCheck check("disks", Devices({{"/dev/sdc", ""}}));
  EXPECT_EQ(RunOne(check).status, CheckStatus::kOk);
  EXPECT_EQ(runner_.call_lines(), (std::vector<std::string>{"smartctl --json -a /dev/sdc",
                                                            "smartctl --json -a -d sat /dev/sdc"}));
  EXPECT_EQ(RunOne(check).status, CheckStatus::kOk);
  EXPECT_EQ(runner_.call_lines().back(), "smartctl --json -a -d sat /dev/sdc");
  EXPECT_EQ(runner_.call_count(), 3u);
}

TEST_F(DiskHealthCheckTest, GrowthSinceTheLastRunWarnsEvenBelowThresholds) {
  DiskHealthCheckOptions o = Devices({{"/dev/sda", ""}});
  o.pending = {};  // thresholds off: only growth can warn
  DiskHealthCheck check("disks", o);
  runner_.Script({"smartctl", "--json", "-a", "/dev/sda"}, Smartctl("sata-ssd-healthy.json"));
  EXPECT_EQ(RunOne(check).status, CheckStatus::kOk);
  // The SSD reports no attribute 197; give it one at 0, then let it grow.
  auto grown = Smartctl("sata-ssd-healthy.json");
  nlohmann::json j = nlohmann::json::parse(grown.out);
  j["ata_smart_attributes"]["table"].push_back({{"id", 197},
                                                {"name", "Current_Pending_Sector"},
                                                {"value", 100},
                                                {"worst", 100},
                                                {"thresh", 0},
                                                {"when_failed", ""},
                                                {"raw", {{"value", 0}, {"string", "0"}}}});
  grown.out = j.dump();
  runner_.Script({"smartctl", "--json", "-a", "/dev/sda"}, grown);
  EXPECT_EQ(RunOne(check).status, CheckStatus::kOk);
  j["ata_smart_attributes"]["table"].back()["raw"]["value"] = 3;
  grown.out = j.dump();
  runner_.Script({"smartctl", "--json", "-a", "/dev/sda"}, grown);
  CheckResult r = RunOne(check);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_NE(r.summary.find("3 pending sectors (grew from 0 since the last check)"),
            std::string::npos)
      << r.summary;
  // Unchanged at the next run: the growth warning clears.
  EXPECT_EQ(RunOne(check).status, CheckStatus::kOk);
}

TEST_F(DiskHealthCheckTest, WornNvmeWithMediaErrors) {
  runner_.Script({"smartctl", "--json", "-a", "/dev/nvme0"}, Smartctl("nvme-worn.json"));
  DiskHealthCheck check("disks", Devices({{"/dev/nvme0", ""}}));
  CheckResult r = RunOne(check);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary,
            "Samsung SSD 970 EVO Plus 1TB (S4EWNX0R901234X): 12 media errors; 97% of rated "
            "endurance used, 47°C, 39120 h powered on");
  EXPECT_EQ(*MetricValue(r, "smartctl_device_num_err_log_entries"), 184);
  // More media errors at the next run; the NVMe error log growing says nothing by itself.
  runner_.Script(
      {"smartctl", "--json", "-a", "/dev/nvme0"},
      Edited("nvme-worn.json", {{"/nvme_smart_health_information_log/media_errors", 15},
                                {"/nvme_smart_health_information_log/num_err_log_entries", 190}}));
  r = RunOne(check);
  EXPECT_NE(r.summary.find("15 media errors (grew from 12 since the last check)"),
            std::string::npos)
      << r.summary;
  EXPECT_EQ(r.summary.find("error log"), std::string::npos) << r.summary;
}

TEST_F(DiskHealthCheckTest, AtaErrorLogGrowthWarns) {
  runner_.Script({"smartctl", "--json", "-a", "/dev/sda"}, Smartctl("sata-ssd-healthy.json"));
  DiskHealthCheck check("disks", Devices({{"/dev/sda", ""}}));
  EXPECT_EQ(RunOne(check).status, CheckStatus::kOk);
  runner_.Script({"smartctl", "--json", "-a", "/dev/sda"},
                 Edited("sata-ssd-healthy.json", {{"/ata_smart_error_log/summary/count", 2},
                                                  {"/smartctl/exit_status", 64}}));
  CheckResult r = RunOne(check);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_NE(r.summary.find("error log grew from 0 to 2 entries"), std::string::npos) << r.summary;
}

TEST_F(DiskHealthCheckTest, NvmeCriticalWarningAndSpareBelowThreshold) {
  runner_.Script(
      {"smartctl", "--json", "-a", "/dev/nvme0"},
      Edited("nvme-healthy.json", {{"/nvme_smart_health_information_log/critical_warning", 5},
                                   {"/nvme_smart_health_information_log/available_spare", 8},
                                   {"/smart_status/passed", false},
                                   {"/smartctl/exit_status", 8}}));
  DiskHealthCheck check("disks", Devices({{"/dev/nvme0", ""}}));
  CheckResult r = RunOne(check);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary,
            "Samsung SSD 980 PRO 1TB (S5GXNX0T812345K): SMART overall-health FAILED; critical "
            "warning 0x05: available spare below threshold, reliability degraded by media or "
            "internal errors; available spare 8% <= threshold 10%, 38°C, 8760 h powered on");
  EXPECT_EQ(*MetricValue(r, "smartctl_device_critical_warning"), 5);
}

TEST_F(DiskHealthCheckTest, TemperatureThresholdsDifferForNvme) {
  runner_.Script(
      {"smartctl", "--json", "-a", "/dev/sdd"},
      Edited("sas-hdd.json", {{"/temperature/current", 58}, {"/scsi_grown_defect_list", 0}}));
  runner_.Script({"smartctl", "--json", "-a", "/dev/nvme0"},
                 Edited("nvme-healthy.json", {{"/temperature/current", 66}}));
  DiskHealthCheck check("disks", Devices({{"/dev/sdd", ""}, {"/dev/nvme0", ""}}));
  auto results = Run(check);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, CheckStatus::kWarning);  // 58 >= 55 for a hard disk
  EXPECT_NE(results[0].summary.find("temperature 58°C"), std::string::npos);
  EXPECT_EQ(results[1].status, CheckStatus::kOk);  // 66 < 70 for NVMe
}

TEST_F(DiskHealthCheckTest, ExitStatusBitsWithoutAttributeDetail) {
  // bit 5: an attribute failed in the past; bit 7: the self-test log has errors.
  runner_.Script({"smartctl", "--json", "-a", "/dev/sda"},
                 Edited("sata-ssd-healthy.json", {{"/smartctl/exit_status", 32 | 128}}));
  DiskHealthCheck check("disks", Devices({{"/dev/sda", ""}}));
  CheckResult r = RunOne(check);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_NE(r.summary.find("an attribute was at or below its threshold in the past; self-test log "
                           "shows errors"),
            std::string::npos)
      << r.summary;
}

TEST_F(DiskHealthCheckTest, OpenFailuresAreUnknownWithTheReason) {
  runner_.Script({"smartctl", "--json", "-a", "/dev/sda"}, Smartctl("sata-permission-denied.json"));
  runner_.Script({"smartctl", "--json", "-a", "/dev/vda"}, Smartctl("virtio-unknown-type.json"));
  DiskHealthCheck check("disks", Devices({{"/dev/sda", ""}, {"/dev/vda", ""}}));
  auto results = Run(check);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary,
            "cannot read SMART data (smartctl exit 2): Smartctl open device: /dev/sda [SAT] "
            "failed: Permission denied (smartctl needs root, or CAP_SYS_RAWIO and CAP_SYS_ADMIN: "
            "see the privileges section of agent/README.md)");
  EXPECT_EQ(results[1].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[1].summary,
            "cannot read SMART data (smartctl exit 1): /dev/vda: Unable to detect device type");
  EXPECT_EQ(runner_.call_count(), 2u);  // no -d sat retry without a USB bridge message
}

TEST_F(DiskHealthCheckTest, NoDevicesOrNoSmartctl) {
  DiskHealthCheck check("disks", {});
  auto results = Run(check);  // smartctl not installed
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "smartctl is not installed (Debian package smartmontools)");
  runner_.Script({"smartctl", "--scan", "--json"}, Smartctl("scan-empty.json"));
  results = Run(check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary.rfind("no SMART-capable devices", 0), 0u);
  DiskHealthCheckOptions o;
  o.required = false;
  DiskHealthCheck optional("disks", o);
  EXPECT_EQ(Run(optional)[0].status, CheckStatus::kOk);
}

TEST_F(DiskHealthCheckTest, ExcludeAndSudoPrefix) {
  DiskHealthCheckOptions o;
  o.smartctl = {"/usr/bin/sudo", "-n", "/usr/sbin/smartctl"};
  o.exclude = {"/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd"};
  runner_.Script({"/usr/bin/sudo", "-n", "/usr/sbin/smartctl", "--scan", "--json"},
                 Smartctl("scan.json"));
  runner_.Script(
      {"/usr/bin/sudo", "-n", "/usr/sbin/smartctl", "--json", "-a", "-d", "nvme", "/dev/nvme0"},
      Smartctl("nvme-healthy.json"));
  DiskHealthCheck check("disks", o);
  auto results = Run(check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].target, "/dev/nvme0");
  EXPECT_EQ(results[0].status, CheckStatus::kOk);
}

TEST(SmartctlParseTest, ScanTypesAndMegaraidTargets) {
  auto scan = ParseSmartctlScan(
      R"({"smartctl":{"exit_status":0},"devices":[{"name":"/dev/sda","type":"scsi"},)"
      R"({"name":"/dev/bus/0","type":"megaraid,3"},{"name":"/dev/nvme0","type":"nvme"}]})");
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 3u);
  EXPECT_EQ((*scan)[0].type, "");  // autodetect, so SATA behind libata is read as SAT
  EXPECT_EQ((*scan)[1].type, "megaraid,3");
  EXPECT_FALSE(ParseSmartctlScan("Usage: smartctl ...").ok());
  auto empty = ParseSmartctlScan(Fixture("scan-empty.json"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(DiskHealthCheckTest, MegaraidDiskTarget) {
  runner_.Script({"smartctl", "--json", "-a", "-d", "megaraid,3", "/dev/bus/0"},
                 Smartctl("sas-hdd.json"));
  DiskHealthCheck check("disks", Devices({{"/dev/bus/0", "megaraid,3"}}));
  CheckResult r = RunOne(check);
  EXPECT_EQ(r.target, "/dev/bus/0 [megaraid,3]");
  EXPECT_EQ(r.metrics.front().labels.at("device"), "/dev/bus/0 [megaraid,3]");
}

TEST(DiskHealthFactoryTest, ValidatesKeys) {
  auto ok = NewDiskHealthCheck(SpecFromYaml(
      "{name: d, type: disk_health, devices: [/dev/sda, {device: /dev/sdc, type: sat}], "
      "smartctl: [/usr/bin/sudo, -n, /usr/sbin/smartctl], required: false, "
      "pending_warning: 0, pending_critical: 5, temperature_warning_celsius: 50, "
      "temperature_critical_celsius: 60, percentage_used_warning: 90}"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto relative =
      NewDiskHealthCheck(SpecFromYaml("name: d\ntype: disk_health\ndevices:\n  - sda\n"));
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.status().message().find("agent.yaml:4: devices[0]"), std::string::npos)
      << relative.status().message();
  EXPECT_FALSE(
      NewDiskHealthCheck(SpecFromYaml("{name: d, type: disk_health, devices: [{device: /dev/sda, "
                                      "type: 'sat; rm'}]}"))
          .ok());
  EXPECT_FALSE(
      NewDiskHealthCheck(SpecFromYaml("{name: d, type: disk_health, devices: [{device: /dev/sda, "
                                      "kind: sat}]}"))
          .ok());
  EXPECT_FALSE(
      NewDiskHealthCheck(SpecFromYaml("{name: d, type: disk_health, smartctl: bin/smartctl}"))
          .ok());
  EXPECT_FALSE(
      NewDiskHealthCheck(SpecFromYaml("{name: d, type: disk_health, reallocated_warning: 10, "
                                      "reallocated_critical: 5}"))
          .ok());
  EXPECT_FALSE(
      NewDiskHealthCheck(SpecFromYaml("{name: d, type: disk_health, device: /dev/sda}")).ok());
}

// The real smartctl on this machine. A virtual machine's disks have no SMART: the scan finds
// nothing and the check must say so rather than report a healthy or failed disk.
TEST(DiskHealthHostTest, RunsSmartctlOnThisMachine) {
  auto fs = NewPosixFileSystem();
  if (!fs->Exists("/usr/sbin/smartctl"))
    GTEST_SKIP() << "smartctl missing: apt install smartmontools";
  RealClock clock;
  PosixCommandRunner runner;
  CheckContext ctx{clock, *fs};
  ctx.commands = &runner;
  DiskHealthCheck check("disks", {});
  auto results = check.Run(ctx);
  ASSERT_FALSE(results.empty());
  for (const auto& r : results) {
    EXPECT_FALSE(r.summary.empty());
    if (r.target == "disks") {
      EXPECT_EQ(r.status, CheckStatus::kUnknown);
      EXPECT_EQ(r.summary.rfind("no SMART-capable devices", 0), 0u) << r.summary;
    }
    if (auto t = MetricValue(r, "smartctl_device_temperature")) {
      EXPECT_GT(*t, -20);
      EXPECT_LT(*t, 120);
    }
  }
  // The virtio disk, asked for explicitly, cannot answer SMART commands.
  if (fs->Exists("/dev/vda")) {
    DiskHealthCheckOptions o;
    o.devices = {{"/dev/vda", ""}};
    DiskHealthCheck vda("disks", o);
    auto r = vda.Run(ctx);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, CheckStatus::kUnknown);
    EXPECT_NE(r[0].summary.find("cannot read SMART data"), std::string::npos) << r[0].summary;
  }
}

}  // namespace
}  // namespace steadfast::agent
