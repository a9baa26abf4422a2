#include "agent/checks/raid_check.h"

#include <gtest/gtest.h>

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

std::string Fixture(const std::string& name) { return testing::Testdata("raid/" + name); }

std::optional<double> Labelled(const CheckResult& r, const std::string& name,
                               const std::string& key, const std::string& value) {
  for (const auto& m : r.metrics) {
    auto it = m.labels.find(key);
    if (m.name == name && it != m.labels.end() && it->second == value) return m.value;
  }
  return std::nullopt;
}

class RaidCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirectories("/p").ok());
    ASSERT_TRUE(fs_.CreateDirectories("/s/block").ok());
  }
  void UseMdstat(const std::string& fixture) {
    ASSERT_TRUE(fs_.WriteFileAtomic("/p/mdstat", Fixture(fixture)).ok());
  }
  void SetSysfs(const std::string& md, const std::string& file, const std::string& value) {
    ASSERT_TRUE(fs_.CreateDirectories("/s/block/" + md + "/md").ok());
    ASSERT_TRUE(fs_.WriteFileAtomic("/s/block/" + md + "/md/" + file, value + "\n").ok());
  }
  std::vector<CheckResult> Run(RaidCheckOptions o = {}) {
    RaidCheck check("raid", std::move(o));
    CheckContext ctx{clock_, fs_, "/p"};
    ctx.sys_root = "/s";
    return check.Run(ctx);
  }

  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
};

TEST_F(RaidCheckTest, HealthyRaid1IsOk) {
  UseMdstat("mdstat-healthy-raid1");
  auto results = Run();
  ASSERT_EQ(results.size(), 1u);
  const CheckResult& r = results[0];
  EXPECT_EQ(r.target, "md0");
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.summary, "raid1 healthy [2/2] [UU]");
  EXPECT_EQ(*Labelled(r, "node_md_disks", "state", "active"), 2);
  EXPECT_EQ(*Labelled(r, "node_md_disks", "state", "failed"), 0);
  EXPECT_EQ(*MetricValue(r, "node_md_disks_required"), 2);
  EXPECT_EQ(*MetricValue(r, "node_md_blocks"), 976630464);
  EXPECT_EQ(*Labelled(r, "node_md_state", "state", "active"), 1);
  EXPECT_EQ(*Labelled(r, "node_md_state", "state", "recovering"), 0);
  EXPECT_EQ(*MetricValue(r, "md_degraded_disks"), 0);
}

TEST_F(RaidCheckTest, DegradedRaid1IsCritical) {
  UseMdstat("mdstat-degraded-raid1");
  auto results = Run();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);
  EXPECT_EQ(results[0].summary, "raid1 degraded [2/1] [U_] (1 of 2 members missing)");
  EXPECT_EQ(*MetricValue(results[0], "md_degraded_disks"), 1);
}

TEST_F(RaidCheckTest, Raid5RecoveryShowsProgressAndEtaAndStaysCritical) {
  UseMdstat("mdstat-raid5-recovery");
  auto results = Run();
  ASSERT_EQ(results.size(), 1u);
  const CheckResult& r = results[0];
  EXPECT_EQ(r.target, "md1");
  // Redundancy is gone until the rebuild ends.
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary,
            "raid5 degraded [4/3] [UUU_] (1 of 4 members missing), rebuilding 45.2%, ETA 1h 12m");
  EXPECT_NEAR(*MetricValue(r, "md_sync_progress_ratio"), 0.452, 1e-9);
  EXPECT_NEAR(*MetricValue(r, "md_sync_remaining_seconds"), 72.4 * 60, 1e-6);
  EXPECT_EQ(*MetricValue(r, "node_md_blocks_synced"), 883040256);
  EXPECT_EQ(*Labelled(r, "node_md_state", "state", "recovering"), 1);
  EXPECT_EQ(*Labelled(r, "node_md_state", "state", "active"), 0);
}

TEST_F(RaidCheckTest, ResyncIsWarningAndDelayedResyncToo) {
  UseMdstat("mdstat-raid6-resync");
  auto results = Run();
  ASSERT_EQ(results.size(), 2u);
  const CheckResult* md2 = FindTarget(results, "md2");
  ASSERT_NE(md2, nullptr);
  EXPECT_EQ(md2->status, CheckStatus::kWarning);
  EXPECT_EQ(md2->summary, "raid6 healthy [6/6] [UUUUUU], resyncing 12.6%, ETA 5h 1m");
  EXPECT_EQ(*Labelled(*md2, "node_md_state", "state", "resync"), 1);
  const CheckResult* md3 = FindTarget(results, "md3");
  ASSERT_NE(md3, nullptr);
  EXPECT_EQ(md3->status, CheckStatus::kWarning);
  EXPECT_EQ(md3->summary, "raid1 healthy [2/2] [UU], resync pending (DELAYED)");
}

TEST_F(RaidCheckTest, Raid10ScrubIsOkAndSpareCounted) {
  UseMdstat("mdstat-raid10");
  auto results = Run();
  ASSERT_EQ(results.size(), 1u);
  const CheckResult& r = results[0];
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.summary, "raid10 healthy [4/4] [UUUU], checking 8.9%, ETA 2h 39m, 1 spare");
  EXPECT_EQ(*Labelled(r, "node_md_disks", "state", "spare"), 1);
  EXPECT_EQ(*Labelled(r, "node_md_disks", "state", "active"), 4);
  EXPECT_EQ(*Labelled(r, "node_md_state", "state", "check"), 1);
}

TEST_F(RaidCheckTest, FailedMembersAreNamed) {
  UseMdstat("mdstat-failed-member");
  auto results = Run();
  ASSERT_EQ(results.size(), 2u);
  // A spare took over: still redundant, but the dead disk must be replaced.
  const CheckResult* md5 = FindTarget(results, "md5");
  ASSERT_NE(md5, nullptr);
  EXPECT_EQ(md5->status, CheckStatus::kWarning);
  EXPECT_EQ(md5->summary, "raid1 healthy [2/2] [UU], failed: sdb1");
  EXPECT_EQ(*Labelled(*md5, "node_md_disks", "state", "failed"), 1);
  const CheckResult* md6 = FindTarget(results, "md6");
  ASSERT_NE(md6, nullptr);
  EXPECT_EQ(md6->status, CheckStatus::kCritical);
  EXPECT_NE(md6->summary.find("failed: sdd2"), std::string::npos) << md6->summary;
}

TEST_F(RaidCheckTest, InactiveArrayIsCriticalAutoReadOnlyIsNoted) {
  UseMdstat("mdstat-inactive");
  auto results = Run();
  ASSERT_EQ(results.size(), 2u);
  const CheckResult* md127 = FindTarget(results, "md127");
  ASSERT_NE(md127, nullptr);
  EXPECT_EQ(md127->status, CheckStatus::kCritical);
  EXPECT_EQ(md127->summary, "md inactive (assembled from sdc1, sdb1 but not started)");
  EXPECT_EQ(*Labelled(*md127, "node_md_state", "state", "inactive"), 1);
  const CheckResult* md126 = FindTarget(results, "md126");
  ASSERT_NE(md126, nullptr);
  EXPECT_EQ(md126->status, CheckStatus::kOk);
  EXPECT_EQ(md126->summary, "raid1 healthy [2/2] [UU], auto-read-only");
}

TEST_F(RaidCheckTest, SysfsOverridesAndFillsIn) {
  UseMdstat("mdstat-healthy-raid1");
  // The kernel already knows a member dropped out and runs a repair that mdstat lacks.
  SetSysfs("md0", "array_state", "active");
  SetSysfs("md0", "degraded", "1");
  SetSysfs("md0", "sync_action", "repair");
  SetSysfs("md0", "sync_completed", "500000000 / 1953260928");
  SetSysfs("md0", "sync_speed", "100000");
  SetSysfs("md0", "mismatch_cnt", "128");
  RaidCheckOptions o;
  o.mismatch_warning = 100;
  auto results = Run(o);
  ASSERT_EQ(results.size(), 1u);
  const CheckResult& r = results[0];
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  // (1953260928 - 500000000) sectors / 2 KiB / 100000 KiB/s = 7266 s.
  EXPECT_EQ(r.summary,
            "raid1 degraded [2/1] [UU] (1 of 2 members missing), repairing 25.6%, ETA 2h 1m, "
            "128 mismatched sectors");
  EXPECT_NEAR(*MetricValue(r, "md_sync_remaining_seconds"), 7266.3, 0.1);
  EXPECT_EQ(*MetricValue(r, "md_mismatch_sectors"), 128);
  EXPECT_NE(r.details_json.find("\"array_state\":\"active\""), std::string::npos);
}

TEST_F(RaidCheckTest, MismatchWarningThreshold) {
  UseMdstat("mdstat-healthy-raid1");
  SetSysfs("md0", "mismatch_cnt", "256");
  EXPECT_EQ(Run()[0].status, CheckStatus::kOk);  // off by default
  RaidCheckOptions o;
  o.mismatch_warning = 256;
  EXPECT_EQ(Run(o)[0].status, CheckStatus::kWarning);
}

TEST_F(RaidCheckTest, BrokenArrayStateIsCritical) {
  UseMdstat("mdstat-healthy-raid1");
  SetSysfs("md0", "array_state", "broken");
  auto results = Run();
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);
  EXPECT_NE(results[0].summary.find("broken"), std::string::npos);
}

TEST_F(RaidCheckTest, NamedArraysMustExist) {
  UseMdstat("mdstat-healthy-raid1");
  RaidCheckOptions o;
  o.arrays = {"md0", "md9"};
  auto results = Run(o);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(FindTarget(results, "md0")->status, CheckStatus::kOk);
  EXPECT_EQ(FindTarget(results, "md9")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "md9")->summary, "md9 does not exist (not assembled?)");
}

TEST_F(RaidCheckTest, NoArraysIsUnknownUnlessNotRequired) {
  UseMdstat("mdstat-none");
  auto results = Run();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "no md arrays");
  RaidCheckOptions o;
  o.required = false;
  results = Run(o);
  EXPECT_EQ(results[0].status, CheckStatus::kOk);
  ASSERT_TRUE(fs_.RemoveFile("/p/mdstat").ok());
  results = Run();
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("md driver is not loaded"), std::string::npos);
}

TEST(RaidParseTest, MemberFlagsAndHeaderForms) {
  auto arrays = ParseMdstat(
      "md9 : active (read-only) raid1 sdb1[1](W)(F) sda1[0] nvme0n1p1[2](J)\n"
      "      1000 blocks super 1.2 [2/2] [UU]\n");
  ASSERT_TRUE(arrays.ok());
  ASSERT_EQ(arrays->size(), 1u);
  const MdArray& a = (*arrays)[0];
  EXPECT_EQ(a.read_only, "read-only");
  EXPECT_EQ(a.level, "raid1");
  ASSERT_EQ(a.members.size(), 3u);
  EXPECT_TRUE(a.members[0].write_mostly);
  EXPECT_TRUE(a.members[0].failed);
  EXPECT_EQ(a.members[0].role, 1);
  EXPECT_FALSE(a.members[1].failed);
  EXPECT_TRUE(a.members[2].journal);
  EXPECT_FALSE(ParseMdstat("md0 : exploded raid1 sda1[0]\n").ok());
}

TEST(RaidFactoryTest, ValidatesKeys) {
  EXPECT_TRUE(
      NewRaidCheck(SpecFromYaml("{name: r, type: raid, arrays: [md0, md1], required: false, "
                                "mismatch_warning: 1000}"))
          .ok());
  auto bad = NewRaidCheck(SpecFromYaml("name: r\ntype: raid\narrays:\n  - /dev/md0\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("agent.yaml:4: arrays[0]"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(NewRaidCheck(SpecFromYaml("{name: r, type: raid, mismatch_warning: 0}")).ok());
  auto unknown = NewRaidCheck(SpecFromYaml("{name: r, type: raid, array: [md0]}"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("array: unknown key"), std::string::npos);
}

// This machine has no md driver: the check must say so rather than guess.
TEST(RaidHostTest, RunsOnThisMachine) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  RaidCheck check("raid", {});
  auto results = check.Run(ctx);
  ASSERT_FALSE(results.empty());
  if (!fs->Exists("/proc/mdstat")) {
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
    EXPECT_NE(results[0].summary.find("no md arrays"), std::string::npos) << results[0].summary;
    return;
  }
  for (const auto& r : results) {
    EXPECT_FALSE(r.summary.empty());
    if (r.target == "md") continue;
    auto active = Labelled(r, "node_md_disks", "state", "active");
    ASSERT_TRUE(active.has_value());
    EXPECT_GE(*active, 0);
  }
}

}  // namespace
}  // namespace steadfast::agent
