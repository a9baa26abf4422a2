#include "agent/checks/backup_check.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::FindTarget;
using testing::MetricValue;
using testing::SpecFromYaml;
using testing::TempDir;

constexpr int64_t kNowS = 1'790'000'000;  // FakeClock's default start
constexpr int64_t kHourS = 3600;

// Writes `size` bytes to `path` and sets its mtime to `mtime_s`.
void MakeFile(const std::string& path, size_t size, int64_t mtime_s) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << std::string(size, 'x');
  }
  timespec times[2] = {{mtime_s, 0}, {mtime_s, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

void WriteWithMtime(const std::string& path, const std::string& text, int64_t mtime_s) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
  }
  timespec times[2] = {{mtime_s, 0}, {mtime_s, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

class BackupCheckTest : public ::testing::Test {
 protected:
  std::unique_ptr<Check> Make(const std::string& yaml) {
    auto check = NewBackupCheck(SpecFromYaml(yaml));
    EXPECT_TRUE(check.ok()) << check.status().ToString();
    return check.ok() ? std::move(check).value() : nullptr;
  }
  std::vector<CheckResult> Run(Check& check) {
    CheckContext ctx{clock_, *fs_};
    return check.Run(ctx);
  }
  CheckResult RunOne(const std::string& yaml) {
    auto check = Make(yaml);
    if (!check) return {};
    auto results = Run(*check);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  std::string Dir() const { return dir_.path(); }

  TempDir dir_;
  steadfast::testing::FakeClock clock_{kNowS * 1000};
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
};

TEST(BackupStatusFileTest, TextForms) {
  auto empty = ParseBackupStatusFile("", 100);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->success);
  EXPECT_EQ(empty->finished_at_s, 100);

  auto ok = ParseBackupStatusFile("ok\n", 200);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->success);
  EXPECT_EQ(ok->finished_at_s, 200);

  auto ok_text = ParseBackupStatusFile("ok 1234 files copied\nsecond line\n", 5);
  ASSERT_TRUE(ok_text.ok());
  EXPECT_TRUE(ok_text->success);

  auto fail = ParseBackupStatusFile("fail  3 disk full\r\n", 300);
  ASSERT_TRUE(fail.ok());
  EXPECT_FALSE(fail->success);
  EXPECT_EQ(fail->message, "3 disk full");
  EXPECT_EQ(fail->finished_at_s, 300);

  auto bare_fail = ParseBackupStatusFile("fail\n", 300);
  ASSERT_TRUE(bare_fail.ok());
  EXPECT_FALSE(bare_fail->success);
  EXPECT_EQ(bare_fail->message, "");

  EXPECT_FALSE(ParseBackupStatusFile("done\n", 1).ok());
  EXPECT_FALSE(ParseBackupStatusFile("OK\n", 1).ok());  // the words are lower case
  EXPECT_FALSE(ParseBackupStatusFile("okay\n", 1).ok());
}

TEST(BackupStatusFileTest, JsonForm) {
  auto j = ParseBackupStatusFile(
      R"({"status": "fail", "finished_at": "2026-11-28T02:00:00Z", "message": "exit 2"})", 9);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_FALSE(j->success);
  EXPECT_EQ(j->finished_at_s, 1795831200);
  EXPECT_EQ(j->message, "exit 2");

  auto unix_s = ParseBackupStatusFile(R"( {"status":"ok","finished_at":1790000000})", 9);
  ASSERT_TRUE(unix_s.ok());
  EXPECT_TRUE(unix_s->success);
  EXPECT_EQ(unix_s->finished_at_s, 1790000000);

  auto no_time = ParseBackupStatusFile(R"({"status":"ok"})", 77);
  ASSERT_TRUE(no_time.ok());
  EXPECT_EQ(no_time->finished_at_s, 77);

  EXPECT_FALSE(ParseBackupStatusFile(R"({"status":"maybe"})", 1).ok());
  EXPECT_FALSE(ParseBackupStatusFile(R"({"finished_at":1})", 1).ok());
  EXPECT_FALSE(ParseBackupStatusFile(R"({"status":"ok","finished_at":"yesterday"})", 1).ok());
  EXPECT_FALSE(ParseBackupStatusFile(R"({"status":"ok",)", 1).ok());
}

TEST_F(BackupCheckTest, NewestFileIsTheLastBackupWithSizeChange) {
  MakeFile(Dir() + "/db-1.sql.gz", 1000, kNowS - 49 * kHourS);
  MakeFile(Dir() + "/db-2.sql.gz", 1100, kNowS - 5 * kHourS);
  MakeFile(Dir() + "/other.txt", 5, kNowS);                   // does not match
  std::filesystem::create_directory(Dir() + "/db-3.sql.gz");  // a directory: skipped
  CheckResult r = RunOne("{name: b, type: backup, files: '" + Dir() + "/db-*.sql.gz'}");
  EXPECT_EQ(r.target, "files");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.summary, "last backup db-2.sql.gz 5h 0m ago, 1.1 KiB (+10.0% vs previous 1000 B)");
  EXPECT_EQ(*MetricValue(r, "backup_files"), 2);
  EXPECT_EQ(*MetricValue(r, "backup_last_age_seconds"), 5 * kHourS);
  EXPECT_EQ(*MetricValue(r, "backup_last_timestamp_seconds"), kNowS - 5 * kHourS);
  EXPECT_EQ(*MetricValue(r, "backup_last_size_bytes"), 1100);
  EXPECT_EQ(*MetricValue(r, "backup_previous_size_bytes"), 1000);
  EXPECT_NEAR(*MetricValue(r, "backup_size_change_ratio"), 0.1, 1e-9);
}

TEST_F(BackupCheckTest, AgeThresholds) {
  MakeFile(Dir() + "/a.tar", 10, kNowS - 27 * kHourS);
  CheckResult warn = RunOne("{name: b, type: backup, files: '" + Dir() + "/*.tar'}");
  EXPECT_EQ(warn.status, CheckStatus::kWarning);
  EXPECT_EQ(warn.summary,
            "last backup is 1d 3h 0m old (warning after 26h): a.tar 1d 3h 0m ago, 10 B");
  MakeFile(Dir() + "/a.tar", 10, kNowS - 51 * kHourS);
  EXPECT_EQ(RunOne("{name: b, type: backup, files: '" + Dir() + "/*.tar'}").status,
            CheckStatus::kCritical);
  // Custom thresholds, and 0 turning the critical one off.
  CheckResult custom = RunOne("{name: b, type: backup, files: {path: '" + Dir() +
                              "/a.tar', max_age_warning: 7d, max_age_critical: 0}}");
  EXPECT_EQ(custom.status, CheckStatus::kOk) << custom.summary;
}

TEST_F(BackupCheckTest, ShrinkAndEmptyAndMinimumSize) {
  MakeFile(Dir() + "/d1.dump", 1000, kNowS - 30 * kHourS);
  MakeFile(Dir() + "/d2.dump", 400, kNowS - kHourS);
  CheckResult shrunk = RunOne("{name: b, type: backup, files: '" + Dir() + "/*.dump'}");
  EXPECT_EQ(shrunk.status, CheckStatus::kCritical);
  EXPECT_EQ(shrunk.summary,
            "backup shrank by 60% (critical at 50%): d2.dump 1h 0m ago, 400 B (-60.0% vs previous "
            "1000 B)");
  MakeFile(Dir() + "/d2.dump", 700, kNowS - kHourS);
  EXPECT_EQ(RunOne("{name: b, type: backup, files: '" + Dir() + "/*.dump'}").status,
            CheckStatus::kWarning);
  MakeFile(Dir() + "/d2.dump", 0, kNowS - kHourS);
  CheckResult empty = RunOne("{name: b, type: backup, files: '" + Dir() + "/*.dump'}");
  EXPECT_EQ(empty.status, CheckStatus::kCritical);
  EXPECT_NE(empty.summary.find("newest backup file is empty (0 bytes)"), std::string::npos)
      << empty.summary;
  MakeFile(Dir() + "/d2.dump", 2000, kNowS - kHourS);
  CheckResult small =
      RunOne("{name: b, type: backup, files: {path: '" + Dir() + "/*.dump', min_size: 1MiB}}");
  EXPECT_EQ(small.status, CheckStatus::kCritical);
  EXPECT_NE(small.summary.find("newest backup is only 2.0 KiB, below the minimum 1.0 MiB"),
            std::string::npos)
      << small.summary;
}

TEST_F(BackupCheckTest, SingleRewrittenFileComparesWithTheLastRunsSize) {
  const std::string path = Dir() + "/latest.tar.zst";
  MakeFile(path, 5000, kNowS - 2 * kHourS);
  auto check = Make("{name: b, type: backup, files: '" + path + "'}");
  ASSERT_NE(check, nullptr);
  CheckResult first = Run(*check)[0];
  EXPECT_EQ(first.status, CheckStatus::kOk);
  EXPECT_FALSE(MetricValue(first, "backup_previous_size_bytes").has_value());
  // Same file again: still no previous backup.
  EXPECT_FALSE(MetricValue(Run(*check)[0], "backup_previous_size_bytes").has_value());
  // The job rewrote it, much smaller: compared with what the check saw before.
  clock_.Advance(std::chrono::hours(24));
  MakeFile(path, 1000, kNowS + 22 * kHourS);
  CheckResult second = Run(*check)[0];
  EXPECT_EQ(second.status, CheckStatus::kCritical) << second.summary;
  EXPECT_EQ(*MetricValue(second, "backup_previous_size_bytes"), 5000);
  EXPECT_NEAR(*MetricValue(second, "backup_size_change_ratio"), -0.8, 1e-9);
  // The comparison stays until the file changes again.
  EXPECT_EQ(Run(*check)[0].status, CheckStatus::kCritical);
}

TEST_F(BackupCheckTest, NoMatchingFileIsCriticalNamingAMissingDirectory) {
  CheckResult none = RunOne("{name: b, type: backup, files: '" + Dir() + "/*.bak'}");
  EXPECT_EQ(none.status, CheckStatus::kCritical);
  EXPECT_EQ(none.summary, "no backup file matches " + Dir() + "/*.bak");
  EXPECT_EQ(*MetricValue(none, "backup_files"), 0);
  CheckResult no_dir = RunOne("{name: b, type: backup, files: '" + Dir() + "/gone/*.bak'}");
  EXPECT_EQ(no_dir.status, CheckStatus::kCritical);
  EXPECT_EQ(no_dir.summary, "no backup file: directory " + Dir() + "/gone does not exist");
}

TEST_F(BackupCheckTest, HeartbeatAges) {
  const std::string hb = Dir() + "/heartbeat";
  const std::string yaml = "{name: b, type: backup, heartbeat: '" + hb + "'}";
  CheckResult missing = RunOne(yaml);
  EXPECT_EQ(missing.target, "heartbeat");
  EXPECT_EQ(missing.status, CheckStatus::kCritical);
  EXPECT_EQ(missing.summary, "no backup run ever reported: " + hb + " does not exist");

  WriteWithMtime(hb, "", kNowS - 3 * kHourS);  // touched
  CheckResult touched = RunOne(yaml);
  EXPECT_EQ(touched.status, CheckStatus::kOk);
  EXPECT_EQ(touched.summary, "last backup run succeeded 3h 0m ago");
  EXPECT_EQ(*MetricValue(touched, "backup_heartbeat_age_seconds"), 3 * kHourS);
  EXPECT_EQ(*MetricValue(touched, "backup_heartbeat_success"), 1);
  EXPECT_EQ(*MetricValue(touched, "backup_heartbeat_timestamp_seconds"), kNowS - 3 * kHourS);

  WriteWithMtime(hb, "ok\n", kNowS - 30 * kHourS);
  CheckResult late = RunOne(yaml);
  EXPECT_EQ(late.status, CheckStatus::kWarning);
  EXPECT_EQ(late.summary, "last backup run succeeded 1d 6h 0m ago (warning after 26h)");
  WriteWithMtime(hb, "ok\n", kNowS - 60 * kHourS);
  EXPECT_EQ(RunOne(yaml).status, CheckStatus::kCritical);
}

TEST_F(BackupCheckTest, HeartbeatFailureAndGarbage) {
  const std::string hb = Dir() + "/heartbeat";
  const std::string yaml = "{name: b, type: backup, heartbeat: {path: '" + hb + "'}}";
  WriteWithMtime(hb, "fail 23 rsync partial transfer\n", kNowS - 600);
  CheckResult failed = RunOne(yaml);
  EXPECT_EQ(failed.status, CheckStatus::kCritical);
  EXPECT_EQ(failed.summary, "last backup run failed (23 rsync partial transfer) 10m 0s ago");
  EXPECT_EQ(*MetricValue(failed, "backup_heartbeat_success"), 0);

  WriteWithMtime(hb, "finished\n", kNowS - 600);
  CheckResult garbage = RunOne(yaml);
  EXPECT_EQ(garbage.status, CheckStatus::kUnknown);
  EXPECT_EQ(garbage.summary, hb + ": unrecognised content 'finished' (expected 'ok', 'fail "
                                  "[code] [text]' or a JSON object)");
}

TEST_F(BackupCheckTest, VerifyJsonWithItsOwnTime) {
  const std::string v = Dir() + "/verify.json";
  const std::string yaml = "{name: b, type: backup, verify: '" + v + "'}";
  // The file was copied later (mtime now); finished_at says when the verification ran.
  WriteWithMtime(v, R"({"status":"ok","finished_at":)" + std::to_string(kNowS - 9 * 86400) + "}",
                 kNowS);
  CheckResult old = RunOne(yaml);
  EXPECT_EQ(old.target, "verify");
  EXPECT_EQ(old.status, CheckStatus::kWarning);
  EXPECT_EQ(old.summary, "last verification succeeded 9d 0h 0m ago (warning after 8d)");
  EXPECT_EQ(*MetricValue(old, "backup_verify_age_seconds"), 9 * 86400);
  WriteWithMtime(v, R"({"status":"fail","message":"3 chunks damaged"})", kNowS - 60);
  CheckResult failed = RunOne(yaml);
  EXPECT_EQ(failed.status, CheckStatus::kCritical);
  EXPECT_EQ(failed.summary, "last verification failed (3 chunks damaged) 1m 0s ago");
  EXPECT_EQ(*MetricValue(failed, "backup_verify_success"), 0);
}

TEST_F(BackupCheckTest, OneResultPerAspectInOrder) {
  MakeFile(Dir() + "/x.bak", 10, kNowS - 60);
  WriteWithMtime(Dir() + "/hb", "ok", kNowS - 60);
  WriteWithMtime(Dir() + "/vf", "ok", kNowS - 60);
  auto check = Make("{name: b, type: backup, files: '" + Dir() + "/*.bak', heartbeat: '" + Dir() +
                    "/hb', verify: '" + Dir() + "/vf', storage: '" + Dir() + "'}");
  ASSERT_NE(check, nullptr);
  auto results = Run(*check);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].target, "files");
  EXPECT_EQ(results[1].target, "heartbeat");
  EXPECT_EQ(results[2].target, "verify");
  EXPECT_EQ(results[3].target, "storage");
  for (const auto& r : results) {
    EXPECT_EQ(r.check, "b");
    EXPECT_EQ(r.observed_at_ms, kNowS * 1000);
  }
}

TEST_F(BackupCheckTest, StorageMissingOrNotADirectory) {
  CheckResult missing = RunOne("{name: b, type: backup, storage: '" + Dir() + "/nope'}");
  EXPECT_EQ(missing.status, CheckStatus::kCritical);
  EXPECT_EQ(missing.summary, "backup storage " + Dir() + "/nope does not exist");
  MakeFile(Dir() + "/file", 1, kNowS);
  CheckResult file = RunOne("{name: b, type: backup, storage: '" + Dir() + "/file'}");
  EXPECT_EQ(file.status, CheckStatus::kCritical);
  EXPECT_EQ(file.summary, "backup storage " + Dir() + "/file is not a directory");
}

TEST_F(BackupCheckTest, StorageWriteProbeLeavesNothingBehind) {
  CheckResult r =
      RunOne("{name: b, type: backup, storage: {path: '" + Dir() + "', write_probe: true}}");
  EXPECT_EQ(*MetricValue(r, "backup_storage_writable"), 1) << r.summary;
  EXPECT_NE(r.summary.find(", writable"), std::string::npos) << r.summary;
  EXPECT_TRUE(std::filesystem::is_empty(Dir()));
}

TEST_F(BackupCheckTest, StorageThatRefusesTheProbeIsCritical) {
  // procfs refuses new files even to root.
  CheckResult r = RunOne(
      "{name: b, type: backup, storage: {path: /proc, write_probe: true, "
      "free_warning_percent: 0, free_critical_percent: 0}}");
  EXPECT_EQ(r.status, CheckStatus::kCritical) << r.summary;
  EXPECT_EQ(*MetricValue(r, "backup_storage_writable"), 0);
  EXPECT_EQ(r.summary.rfind("not writable (create of a probe file: ", 0), 0u) << r.summary;
}

TEST_F(BackupCheckTest, StorageFreeSpaceThresholds) {
  struct statvfs vfs {};
  ASSERT_EQ(::statvfs(Dir().c_str(), &vfs), 0);
  const double avail = static_cast<double>(vfs.f_bavail) * vfs.f_frsize;
  // Every threshold above what is free: critical; only the warning one: warning.
  CheckResult crit = RunOne("{name: b, type: backup, storage: {path: '" + Dir() +
                            "', free_warning_percent: 100, free_critical_percent: 100}}");
  EXPECT_EQ(crit.status, CheckStatus::kCritical);
  EXPECT_EQ(crit.summary.rfind("low free space (critical) — " + Dir() + ": ", 0), 0u)
      << crit.summary;
  const auto above = static_cast<int64_t>(avail) + (int64_t{1} << 30);
  CheckResult warn = RunOne("{name: b, type: backup, storage: {path: '" + Dir() +
                            "', free_warning_percent: 0, free_critical_percent: 0, "
                            "free_warning_bytes: " +
                            std::to_string(above) + "}}");
  EXPECT_EQ(warn.status, CheckStatus::kWarning) << warn.summary;
}

TEST_F(BackupCheckTest, ReadOnlyMountIsCritical) {
  struct statvfs vfs {};
  if (::statvfs("/sys", &vfs) != 0 || (vfs.f_flag & ST_RDONLY) == 0) {
    GTEST_SKIP() << "/sys is mounted read-write here";
  }
  CheckResult r = RunOne(
      "{name: b, type: backup, storage: {path: /sys, write_probe: true, "
      "free_warning_percent: 0, free_critical_percent: 0}}");
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("on a read-only mount — /sys: ", 0), 0u) << r.summary;
  EXPECT_EQ(*MetricValue(r, "backup_storage_readonly"), 1);
}

// This machine's /tmp, for real: values in range.
TEST(BackupCheckHostTest, StorageOfTmp) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  auto check = NewBackupCheck(SpecFromYaml(
      "{name: b, type: backup, storage: {path: /tmp, write_probe: true, free_warning_percent: 0, "
      "free_critical_percent: 0}}"));
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  CheckContext ctx{clock, *fs};
  auto results = (*check)->Run(ctx);
  ASSERT_EQ(results.size(), 1u);
  const CheckResult& r = results[0];
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_GT(*MetricValue(r, "backup_storage_size_bytes"), 1 << 20);
  EXPECT_GE(*MetricValue(r, "backup_storage_avail_bytes"), 0);
  EXPECT_LE(*MetricValue(r, "backup_storage_avail_bytes"),
            *MetricValue(r, "backup_storage_size_bytes"));
  EXPECT_GE(*MetricValue(r, "backup_storage_avail_ratio"), 0.0);
  EXPECT_LE(*MetricValue(r, "backup_storage_avail_ratio"), 1.0);
  EXPECT_EQ(*MetricValue(r, "backup_storage_writable"), 1);
  EXPECT_EQ(*MetricValue(r, "backup_storage_readonly"), 0);
}

TEST(BackupCheckFactoryTest, RejectsBadConfigNamingFileLineKey) {
  auto error = [](const std::string& yaml) {
    auto c = NewBackupCheck(SpecFromYaml(yaml));
    return c.ok() ? std::string("accepted") : c.status().message();
  };
  EXPECT_EQ(error("name: b\ntype: backup\n"),
            "agent.yaml:1: files: a backup check needs at least one of job, files, heartbeat, verify, "
            "storage");
  EXPECT_NE(error("name: b\ntype: backup\nrepository: /srv/repo\n").find("agent.yaml:3: repository: unknown key"),
            std::string::npos);
  EXPECT_NE(error("name: b\ntype: backup\njob:\n  name: x\n  drill_max_age_warning: 9d\n  drill_max_age_critical: 2d\n")
                .find("agent.yaml:5: job.drill_max_age_warning: the warning age is above the critical age"),
            std::string::npos);
  EXPECT_NE(error("name: b\ntype: backup\nfiles:\n  path: /x\n  max_age: 1d\n")
                .find("agent.yaml:5: files.max_age: unknown key"),
            std::string::npos)
      << error("name: b\ntype: backup\nfiles:\n  path: /x\n  max_age: 1d\n");
  EXPECT_EQ(error("name: b\ntype: backup\nfiles:\n  max_age_warning: 1d\n"),
            "agent.yaml:4: files.path: required key is missing");
  EXPECT_EQ(error("name: b\ntype: backup\nfiles:\n  path: /x\n  min_size: lots\n"),
            "agent.yaml:5: files.min_size: expected a size like 256MiB, 1GiB, 500MB or a number of bytes, "
            "got 'lots'");
  EXPECT_EQ(error("name: b\ntype: backup\nheartbeat:\n  path: /x\n  max_age_warning: 3d\n"
                  "  max_age_critical: 1d\n"),
            "agent.yaml:5: heartbeat.max_age_warning: the warning age is above the critical age");
  EXPECT_EQ(error("name: b\ntype: backup\nstorage:\n  path: /x\n  free_warning_percent: 5\n"
                  "  free_critical_percent: 10\n"),
            "agent.yaml:5: storage.free_warning_percent: the warning free space is below the "
            "critical one (less free is worse)");
  EXPECT_EQ(error("name: b\ntype: backup\nstorage: relative/dir\n"),
            "agent.yaml:3: storage: expected an absolute directory path");
  EXPECT_NE(error("name: b\ntype: backup\nverify:\n  path: /x\n  max_age_warning: soon\n")
                .find("agent.yaml:5: verify.max_age_warning: "),
            std::string::npos);
  EXPECT_EQ(error("name: b\ntype: backup\nfiles: /srv/*.gz\nheartbeat: /run/hb\nverify: /run/v\n"
                  "storage: {path: /srv, write_probe: true, free_warning_bytes: 50GiB}\n"),
            "accepted");
}

}  // namespace
}  // namespace steadfast::agent
