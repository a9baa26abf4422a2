#include "agent/checks/filesystem_check.h"

#include <gtest/gtest.h>

#include <map>

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

constexpr uint64_t kGiB = 1ull << 30;

// Usage with `used_percent` of (used + avail) in use and no root reserve.
FsUsage Usage(double used_percent, double inodes_used_percent = 10) {
  FsUsage u;
  u.size_bytes = 100 * kGiB;
  u.avail_bytes =
      static_cast<uint64_t>(static_cast<double>(u.size_bytes) * (100 - used_percent) / 100);
  u.free_bytes = u.avail_bytes;
  u.files = 1'000'000;
  u.files_free = static_cast<uint64_t>(1'000'000 * (100 - inodes_used_percent) / 100);
  return u;
}

class FilesystemCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirectories("/p/self").ok());
    usage_["/"] = Usage(50);
    usage_["/var/lib/mysql"] = Usage(50);
    usage_["/srv/backup disk"] = Usage(50);
    usage_["/run"] = Usage(1);
    usage_["/data"] = Usage(10);
  }
  void SetMounts(const std::string& text) {
    ASSERT_TRUE(fs_.WriteFileAtomic("/p/self/mounts", text).ok());
  }
  StatFsFunction FakeStatFs() {
    return [this](const std::string& path) -> StatusOr<FsUsage> {
      ++statfs_calls_;
      auto it = usage_.find(path);
      if (it == usage_.end()) return NotFoundError("statvfs " + path + ": no such file");
      return it->second;
    };
  }
  std::vector<CheckResult> Run(Check& check) {
    CheckContext ctx{clock_, fs_, "/p"};
    return check.Run(ctx);
  }
  std::unique_ptr<Check> FromYaml(const std::string& yaml) {
    auto spec = SpecFromYaml(yaml);
    auto made = NewFilesystemCheck(spec);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? std::move(made).value() : nullptr;
  }

  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
  std::map<std::string, FsUsage> usage_;
  int statfs_calls_ = 0;
};

TEST_F(FilesystemCheckTest, ChecksRealDisksAndSkipsPseudoFilesystems) {
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock_, *fs, std::string(SF_AGENT_TESTDATA_DIR) + "/proc"};
  FilesystemCheck check("disks", {}, FakeStatFs());
  std::vector<CheckResult> results = check.Run(ctx);
  std::vector<std::string> targets;
  for (const auto& r : results) targets.push_back(r.target);
  EXPECT_EQ(targets, (std::vector<std::string>{"/", "/var/lib/mysql", "/srv/backup disk"}));
  const CheckResult* root = FindTarget(results, "/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->check, "disks");
  EXPECT_EQ(root->status, CheckStatus::kOk);
  EXPECT_DOUBLE_EQ(*MetricValue(*root, "filesystem_used_ratio"), 0.5);
  EXPECT_EQ(*MetricValue(*root, "filesystem_size_bytes"), 100.0 * kGiB);
  EXPECT_DOUBLE_EQ(*MetricValue(*root, "filesystem_files_used_ratio"), 0.1);
  EXPECT_EQ(*MetricValue(*root, "filesystem_readonly"), 0);
  EXPECT_EQ(root->metrics.front().labels.at("mountpoint"), "/");
  EXPECT_EQ(root->metrics.front().labels.at("device"), "/dev/sda1");
  EXPECT_EQ(root->metrics.front().labels.at("fstype"), "ext4");
  EXPECT_EQ(root->summary, "50.0% used (50.0 GiB available of 100.0 GiB), inodes 10.0% used");
  EXPECT_EQ(root->details_json, R"({"device":"/dev/sda1","fstype":"ext4","read_only":false})");
  // Mounted read-only from the start and not expected read-write: fine, but said.
  const CheckResult* backup = FindTarget(results, "/srv/backup disk");
  ASSERT_NE(backup, nullptr);
  EXPECT_EQ(backup->status, CheckStatus::kOk);
  EXPECT_NE(backup->summary.find("read-only"), std::string::npos);
  EXPECT_EQ(*MetricValue(*backup, "filesystem_readonly"), 1);
}

TEST_F(FilesystemCheckTest, SpaceAndInodeThresholds) {
  SetMounts(
      "/dev/sda1 / ext4 rw 0 0\n/dev/sda2 /var/lib/mysql xfs rw 0 0\n/dev/sdc /data ext4 rw 0 0\n");
  usage_["/"] = Usage(85);
  usage_["/var/lib/mysql"] = Usage(95);
  usage_["/data"] = Usage(10, 91);
  FilesystemCheck check("disks", {}, FakeStatFs());
  auto results = Run(check);
  EXPECT_EQ(FindTarget(results, "/")->status, CheckStatus::kWarning);
  EXPECT_EQ(FindTarget(results, "/var/lib/mysql")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "/data")->status, CheckStatus::kCritical);
  EXPECT_NE(FindTarget(results, "/data")->summary.find("inodes 91.0% used"), std::string::npos);
}

TEST_F(FilesystemCheckTest, ReservedBlocksCountAsUsedLikeDf) {
  SetMounts("/dev/sda1 / ext4 rw 0 0\n");
  FsUsage u;
  u.size_bytes = 100 * kGiB;
  u.free_bytes = 15 * kGiB;  // 5 GiB of it reserved for root
  u.avail_bytes = 10 * kGiB;
  usage_["/"] = u;
  FilesystemCheck check("disks", {}, FakeStatFs());
  auto results = Run(check);
  // used 85 / (85 + 10) = 89.5%: warning, as df would show 90%.
  EXPECT_NEAR(*MetricValue(results[0], "filesystem_used_ratio"), 85.0 / 95.0, 1e-9);
  EXPECT_EQ(results[0].status, CheckStatus::kWarning);
}

TEST_F(FilesystemCheckTest, FilesystemWithoutInodeCountSkipsInodes) {
  SetMounts("/dev/sda1 / btrfs rw 0 0\n");
  usage_["/"].files = 0;
  usage_["/"].files_free = 0;
  FilesystemCheck check("disks", {}, FakeStatFs());
  auto results = Run(check);
  EXPECT_EQ(results[0].status, CheckStatus::kOk);
  EXPECT_FALSE(MetricValue(results[0], "filesystem_files").has_value());
}

TEST_F(FilesystemCheckTest, RootMountedReadOnlyIsCritical) {
  SetMounts("/dev/sda1 / ext4 ro,relatime 0 0\n");
  FilesystemCheck check("disks", {}, FakeStatFs());
  auto results = Run(check);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);
  EXPECT_NE(results[0].summary.find("remounted read-only"), std::string::npos)
      << results[0].summary;
}

TEST_F(FilesystemCheckTest, StatvfsReadOnlyFlagAlsoCounts) {
  SetMounts("/dev/sda1 / ext4 rw 0 0\n");
  usage_["/"].read_only = true;
  FilesystemCheck check("disks", {}, FakeStatFs());
  EXPECT_EQ(Run(check)[0].status, CheckStatus::kCritical);
}

TEST_F(FilesystemCheckTest, MountThatTurnsReadOnlyAfterBeingReadWriteIsCritical) {
  SetMounts("/dev/sda2 /var/lib/mysql xfs rw 0 0\n");
  FilesystemCheck check("disks", {}, FakeStatFs());
  EXPECT_EQ(Run(check)[0].status, CheckStatus::kOk);
  // The kernel remounted it read-only after an I/O error.
  SetMounts("/dev/sda2 /var/lib/mysql xfs ro,relatime 0 0\n");
  auto results = Run(check);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);
  EXPECT_EQ(results[0].summary.rfind("remounted read-only;", 0), 0u) << results[0].summary;
  // A mount that has always been read-only is not an alarm.
  FilesystemCheck fresh("disks", {}, FakeStatFs());
  EXPECT_EQ(Run(fresh)[0].status, CheckStatus::kOk);
}

TEST_F(FilesystemCheckTest, IncludeTypesReplacesTheDefaultExclusions) {
  auto check = FromYaml("{name: shm, type: filesystem, include_types: [tmpfs]}");
  ASSERT_NE(check, nullptr);
  auto* fsc = dynamic_cast<FilesystemCheck*>(check.get());
  ASSERT_NE(fsc, nullptr);
  EXPECT_TRUE(fsc->Selected({"tmpfs", "/run", "tmpfs", {}, false}));
  EXPECT_FALSE(fsc->Selected({"/dev/sda1", "/", "ext4", {}, false}));
  EXPECT_FALSE(fsc->Selected({"tmpfs", "/dev/shm", "tmpfs", {}, false}));  // /dev/* excluded
}

TEST_F(FilesystemCheckTest, ExcludeListsReplaceTheDefaults) {
  auto check = FromYaml(
      "{name: d, type: filesystem, exclude_types: [xfs], exclude_mount_points: ['/srv/*']}");
  auto* fsc = dynamic_cast<FilesystemCheck*>(check.get());
  ASSERT_NE(fsc, nullptr);
  EXPECT_FALSE(fsc->Selected({"/dev/sda2", "/var/lib/mysql", "xfs", {}, false}));
  EXPECT_FALSE(fsc->Selected({"/dev/sdb1", "/srv/backup", "ext4", {}, false}));
  EXPECT_TRUE(fsc->Selected({"/dev/sdb1", "/srv", "ext4", {}, false}));
  EXPECT_TRUE(fsc->Selected({"overlay", "/", "overlay", {}, false}));  // default list replaced
}

TEST_F(FilesystemCheckTest, NamedMountPointsMustBeMountedAndWritable) {
  SetMounts("/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /backup ext4 ro 0 0\n");
  usage_["/backup"] = Usage(20);
  FilesystemCheckOptions o;
  o.include_mount_points = {"/", "/backup", "/data"};
  FilesystemCheck check("disks", o, FakeStatFs());
  auto results = Run(check);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(FindTarget(results, "/")->status, CheckStatus::kOk);
  EXPECT_EQ(FindTarget(results, "/backup")->status, CheckStatus::kCritical);  // named: expect rw
  const CheckResult* data = FindTarget(results, "/data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->status, CheckStatus::kCritical);
  EXPECT_EQ(data->summary, "/data is not mounted");
}

TEST_F(FilesystemCheckTest, OverMountedPointKeepsTheVisibleEntry) {
  SetMounts("/dev/sda3 /data ext4 rw 0 0\n/dev/sdc1 /data xfs ro 0 0\n");
  FilesystemCheck check("disks", {}, FakeStatFs());
  auto results = Run(check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_NE(results[0].details_json.find("/dev/sdc1"), std::string::npos);
}

TEST_F(FilesystemCheckTest, StatvfsFailureIsUnknown) {
  SetMounts("/dev/sdz1 /gone ext4 rw 0 0\n");
  FilesystemCheck check("disks", {}, FakeStatFs());
  auto results = Run(check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("cannot read usage"), std::string::npos);
}

TEST_F(FilesystemCheckTest, MissingMountTableOrNoMatchIsUnknown) {
  FilesystemCheck check("disks", {}, FakeStatFs());
  auto results = Run(check);  // no /p/self/mounts written
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  SetMounts("proc /proc proc rw 0 0\n");
  results = Run(check);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(statfs_calls_, 0);
}

class FilesystemTrendTest : public FilesystemCheckTest {
 protected:
  // One run with `avail_gib` GiB available (of 100 GiB), `minutes` after the previous one.
  std::vector<CheckResult> RunAt(FilesystemCheck& check, int minutes, double avail_gib,
                                 uint64_t size = 100 * kGiB) {
    clock_.Advance(std::chrono::minutes(minutes));
    FsUsage u;
    u.size_bytes = size;
    u.avail_bytes = static_cast<uint64_t>(avail_gib * static_cast<double>(kGiB));
    u.free_bytes = u.avail_bytes;
    usage_["/"] = u;
    return Run(check);
  }
  void SetUp() override {
    FilesystemCheckTest::SetUp();
    SetMounts("/dev/sda1 / ext4 rw 0 0\n");
  }
};

TEST_F(FilesystemTrendTest, DaysUntilFullFromTheRecentRate) {
  FilesystemCheck check("disks", {}, FakeStatFs());
  // 50 GiB free, shrinking by 1 GiB an hour: 48.5 GiB left after 90 minutes, about 2 days.
  std::vector<CheckResult> results;
  for (int m = 0; m <= 80; m += 10) {
    results = RunAt(check, m == 0 ? 0 : 10, 50.0 - m / 60.0);
    // Fewer than 90 minutes (a quarter of the 6h window) of history: no estimate yet.
    EXPECT_FALSE(MetricValue(results[0], "filesystem_days_until_full").has_value()) << m;
    EXPECT_EQ(results[0].status, CheckStatus::kOk);
  }
  results = RunAt(check, 10, 48.5);
  auto days = MetricValue(results[0], "filesystem_days_until_full");
  ASSERT_TRUE(days.has_value());
  EXPECT_NEAR(*days, 48.5 / 24.0, 1e-6);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical);  // <= 3 days
  EXPECT_NE(results[0].summary.find(", full in 2.0 days at the current rate"), std::string::npos)
      << results[0].summary;
}

TEST_F(FilesystemTrendTest, SlowerFillIsWarningAndSlowestIsFine) {
  FilesystemCheck warn("disks", {}, FakeStatFs());
  FilesystemCheck fine("disks", {}, FakeStatFs());
  std::vector<CheckResult> w, f;
  for (int m = 0; m <= 120; m += 10) {
    clock_.Advance(std::chrono::minutes(m == 0 ? 0 : 10));
    FsUsage u = Usage(50);
    u.avail_bytes = static_cast<uint64_t>((50.0 - 0.2 * m / 60.0) * kGiB);  // 0.2 GiB/h
    u.free_bytes = u.avail_bytes;
    usage_["/"] = u;
    w = Run(warn);
    u.avail_bytes = static_cast<uint64_t>((50.0 - 0.01 * m / 60.0) * kGiB);  // 0.01 GiB/h
    u.free_bytes = u.avail_bytes;
    usage_["/"] = u;
    f = Run(fine);
  }
  EXPECT_NEAR(*MetricValue(w[0], "filesystem_days_until_full"), 49.6 / 0.2 / 24.0, 1e-3);
  EXPECT_EQ(w[0].status, CheckStatus::kWarning);  // about 10 days
  EXPECT_EQ(f[0].status, CheckStatus::kOk);       // about 200 days
  EXPECT_TRUE(MetricValue(f[0], "filesystem_days_until_full").has_value());
}

TEST_F(FilesystemTrendTest, NoEstimateWhileSpaceGrowsOrStaysFlat) {
  FilesystemCheck check("disks", {}, FakeStatFs());
  std::vector<CheckResult> results;
  for (int m = 0; m <= 120; m += 10) results = RunAt(check, m == 0 ? 0 : 10, 40.0 + m / 60.0);
  EXPECT_FALSE(MetricValue(results[0], "filesystem_days_until_full").has_value());
  FilesystemCheck flat("disks", {}, FakeStatFs());
  for (int m = 0; m <= 120; m += 10) results = RunAt(flat, 10, 40.0);
  EXPECT_FALSE(MetricValue(results[0], "filesystem_days_until_full").has_value());
  EXPECT_EQ(results[0].status, CheckStatus::kOk);
}

TEST_F(FilesystemTrendTest, ResizeRestartsTheHistory) {
  FilesystemCheck check("disks", {}, FakeStatFs());
  std::vector<CheckResult> results;
  for (int m = 0; m <= 120; m += 10) results = RunAt(check, m == 0 ? 0 : 10, 50.0 - m / 60.0);
  ASSERT_TRUE(MetricValue(results[0], "filesystem_days_until_full").has_value());
  results = RunAt(check, 10, 148.0, 200 * kGiB);  // grown to 200 GiB
  EXPECT_FALSE(MetricValue(results[0], "filesystem_days_until_full").has_value());
  EXPECT_EQ(results[0].status, CheckStatus::kOk);
}

TEST_F(FilesystemTrendTest, OnlyTheWindowCounts) {
  FilesystemCheckOptions o;
  o.growth_window = std::chrono::hours(1);
  FilesystemCheck check("disks", o, FakeStatFs());
  std::vector<CheckResult> results;
  // A burst two hours ago, then flat for the last hour and a half.
  for (int m = 0; m <= 30; m += 10) results = RunAt(check, m == 0 ? 0 : 10, 50.0 - m);
  ASSERT_TRUE(MetricValue(results[0], "filesystem_days_until_full").has_value());
  for (int m = 0; m < 9; ++m) results = RunAt(check, 10, 20.0);
  EXPECT_FALSE(MetricValue(results[0], "filesystem_days_until_full").has_value());
}

TEST(FilesystemSlopeTest, LeastSquares) {
  std::deque<SpaceSample> s = {{0, 100}, {1000, 90}, {2000, 80}};
  EXPECT_DOUBLE_EQ(*AvailSlope(s), -10.0);
  s = {{0, 100}, {1000, 95}, {2000, 80}, {3000, 85}};
  EXPECT_NEAR(*AvailSlope(s), -6.0, 1e-9);
  EXPECT_FALSE(AvailSlope({{0, 1}}).has_value());
  EXPECT_FALSE(AvailSlope({{5, 1}, {5, 2}}).has_value());
}

TEST(FilesystemParseTest, ParsesMountsWithEscapes) {
  auto mounts = ParseMounts(
      "/dev/sdb1 /srv/backup\\040disk ext4 ro,relatime 0 0\n"
      "garbage\n"
      "server:/x /mnt/a\\134b nfs4 rw,vers=4.2 0 0\n");
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mount_point, "/srv/backup disk");
  EXPECT_TRUE(mounts[0].read_only);
  EXPECT_EQ(mounts[0].options, (std::vector<std::string>{"ro", "relatime"}));
  EXPECT_EQ(mounts[1].mount_point, "/mnt/a\\b");
  EXPECT_EQ(mounts[1].fs_type, "nfs4");
  EXPECT_FALSE(mounts[1].read_only);
}

TEST(FilesystemParseTest, MountPointPatterns) {
  EXPECT_TRUE(MountPointMatches("/var", "/var"));
  EXPECT_FALSE(MountPointMatches("/var", "/var/lib"));
  EXPECT_TRUE(MountPointMatches("/var/*", "/var/lib"));
  EXPECT_FALSE(MountPointMatches("/var/*", "/var"));
  EXPECT_FALSE(MountPointMatches("/var/*", "/variable"));
  EXPECT_TRUE(MountPointMatches("/*", "/boot"));
  EXPECT_FALSE(MountPointMatches("/*", "/"));
}

TEST(FilesystemParseTest, PosixStatFsOfRoot) {
  auto u = PosixStatFs("/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_GT(u->size_bytes, 0u);
  EXPECT_LE(u->avail_bytes, u->free_bytes);
  EXPECT_EQ(PosixStatFs("/no/such/mount/point").status().code(), StatusCode::kNotFound);
}

TEST(FilesystemFactoryTest, ValidatesItsKeys) {
  EXPECT_TRUE(NewFilesystemCheck(
                  SpecFromYaml("{name: d, type: filesystem, include_mount_points: [/, /data], "
                               "space_warning_percent: 70, space_critical_percent: 80}"))
                  .ok());
  auto relative =
      NewFilesystemCheck(SpecFromYaml("name: d\ntype: filesystem\nexpect_rw:\n  - /\n  - data\n"));
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.status().message().find("agent.yaml:5: expect_rw[1]"), std::string::npos)
      << relative.status().message();
  EXPECT_FALSE(
      NewFilesystemCheck(SpecFromYaml("{name: d, type: filesystem, expect_rw: ['/x/*']}")).ok());
  EXPECT_FALSE(
      NewFilesystemCheck(SpecFromYaml("{name: d, type: filesystem, exclude_types: xfs}")).ok());
  auto unknown = NewFilesystemCheck(SpecFromYaml("{name: d, type: filesystem, mountpoints: [/]}"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("mountpoints: unknown key"), std::string::npos);
  EXPECT_FALSE(
      NewFilesystemCheck(SpecFromYaml("{name: d, type: filesystem, inodes_warning_percent: 95, "
                                      "inodes_critical_percent: 90}"))
          .ok());
}

TEST(FilesystemFactoryTest, DaysUntilFullKeys) {
  auto ok = NewFilesystemCheck(SpecFromYaml(
      "{name: d, type: filesystem, days_until_full_warning: 30, days_until_full_critical: 7, "
      "growth_window: 24h}"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(
      NewFilesystemCheck(SpecFromYaml("{name: d, type: filesystem, days_until_full_warning: 0, "
                                      "days_until_full_critical: 0}"))
          .ok());
  // Fewer days left is worse, so critical above warning is a mistake.
  auto inverted = NewFilesystemCheck(SpecFromYaml(
      "name: d\ntype: filesystem\ndays_until_full_warning: 3\ndays_until_full_critical: 14\n"));
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.status().message().find("agent.yaml:4: days_until_full_critical"),
            std::string::npos)
      << inverted.status().message();
  EXPECT_FALSE(
      NewFilesystemCheck(SpecFromYaml("{name: d, type: filesystem, growth_window: 1m}")).ok());
}

}  // namespace
}  // namespace steadfast::agent
