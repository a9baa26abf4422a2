// Backup jobs end to end with the real steadfast-backup program (built in this tree): a job
// backs up, its state file says so, the `backup` check's job and drill aspects report it; a
// drill passes and its evidence is named; an emergency run tags its snapshot and forgets
// nothing; a job with the wrong password fails and the check says critical with the reason.
// Also the config's validation and the schedule's arithmetic.
#include "agent/backup_jobs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/checks/backup_check.h"
#include "agent/posix_command_runner.h"
#include "agent/testing/test_util.h"
#include "common/config/config_node.h"
#include "common/fs/file_system.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

namespace fs = std::filesystem;
using protocol::CheckResult;
using protocol::CheckStatus;

StatusOr<std::vector<BackupJobConfig>> Parse(const std::string& yaml) {
  SF_ASSIGN_OR_RETURN(config::ConfigDocument doc, config::ConfigDocument::Parse(yaml, "agent.yaml"));
  return ParseBackupJobs(doc.root()["backup_jobs"]);
}

std::string ErrorOf(const std::string& yaml) {
  auto r = Parse(yaml);
  return r.ok() ? "accepted" : r.status().message();
}

TEST(BackupJobsConfigTest, ValidJobsAndErrorsNamingFileLineKey) {
  auto ok = Parse(
      "backup_jobs:\n"
      "  - name: records\n"
      "    repository: /srv/backup/repo\n"
      "    password_file: /etc/steadfast/backup.pass\n"
      "    paths: [/var/lib/records]\n"
      "    sqlite: [/var/lib/app/app.db]\n"
      "    every: 1d\n"
      "    at: \"02:30\"\n"
      "    retention: {keep_daily: 7, keep_weekly: 4}\n"
      "    drill: {every: 7d, sample: 50}\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].at_minute, 150);
  EXPECT_EQ((*ok)[0].retention.daily, 7);
  EXPECT_EQ((*ok)[0].drill_sample, 50);
  const std::string head = "backup_jobs:\n  - name: a\n    repository: /r\n    password_file: /p\n";
  EXPECT_EQ(ErrorOf(head), "agent.yaml:2: backup_jobs[0]: a backup job needs `paths` or `sqlite`");
  EXPECT_NE(ErrorOf(head + "    paths: [relative]\n").find("agent.yaml:5: backup_jobs[0].paths: 'relative' is not an absolute path"),
            std::string::npos) << ErrorOf(head + "    paths: [relative]\n");
  EXPECT_NE(ErrorOf(head + "    paths: [/x]\n    at: \"25:00\"\n").find("agent.yaml:6: backup_jobs[0].at: expected a time of day"),
            std::string::npos);
  EXPECT_NE(ErrorOf(head + "    paths: [/x]\n    every: 5h\n    at: \"01:00\"\n").find("`at` needs `every` in whole days"),
            std::string::npos);
  EXPECT_NE(ErrorOf(head + "    paths: [/x]\n    retention: {prune: true}\n").find("keeps nothing"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "    paths: [/x]\n    colour: red\n").find("agent.yaml:6: backup_jobs[0].colour: unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf(head + "    paths: [/x]\n" + "  - name: a\n    repository: /r\n    password_file: /p\n    paths: [/y]\n")
                .find("two backup jobs named 'a'"),
            std::string::npos);
}

TEST(BackupJobsScheduleTest, IntervalsAndTimesOfDay) {
  BackupJobConfig j;
  j.every_ms = 3'600'000;
  EXPECT_EQ(BackupJobRunner::NextDue(j, 0, 5'000), 5'000) << "never ran: now";
  EXPECT_EQ(BackupJobRunner::NextDue(j, 1'000'000, 5'000), 4'600'000);
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  j.every_ms = 86'400'000;
  j.at_minute = 2 * 60 + 30;
  const int64_t day = 86'400'000, midnight = 20'000 * day;
  EXPECT_EQ(BackupJobRunner::NextDue(j, 0, midnight + 3'600'000), midnight + 150 * 60'000) << "today's 02:30 is ahead";
  EXPECT_EQ(BackupJobRunner::NextDue(j, 0, midnight + 3 * 3'600'000), midnight + day + 150 * 60'000);
  // Ran today at 02:31: next is tomorrow's 02:30, not the day after.
  EXPECT_EQ(BackupJobRunner::NextDue(j, midnight + 151 * 60'000, midnight + 4 * 3'600'000), midnight + day + 150 * 60'000);
}

class BackupJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-jobs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/data/sub");
    std::ofstream(dir_ + "/data/a.txt") << std::string(200000, 'a');
    std::ofstream(dir_ + "/data/sub/b.txt") << "records of the day\n";
    std::ofstream(dir_ + "/pass") << "job-password\n";
    std::ofstream(dir_ + "/wrong") << "not-it\n";
    // The operator makes the repository once; a job never creates one (a mistyped path must
    // fail, not start a new repository).
    const std::string init = std::string(SF_BACKUP_PROGRAM) + " -q -r " + dir_ + "/repo -p " + dir_ +
                             "/pass --cache-dir " + dir_ + "/c init --kdf-memory-mib 64 --kdf-passes 3";
    ASSERT_EQ(std::system(init.c_str()), 0);
    job_.name = "records";
    job_.repository = dir_ + "/repo";
    job_.password_file = dir_ + "/pass";
    job_.paths = {dir_ + "/data"};
    job_.retention.last = 2;
    job_.drill_sample = 0;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<CheckResult> CheckJob() {
    auto check = NewBackupCheck(testing::SpecFromYaml("name: b\ntype: backup\njob: records\n"));
    EXPECT_TRUE(check.ok()) << check.status().ToString();
    auto fsys = NewPosixFileSystem();
    CheckContext ctx{clock_, *fsys};
    ctx.state_dir = dir_ + "/state";
    return (*check)->Run(ctx);
  }

  std::string dir_;
  BackupJobConfig job_;
  PosixCommandRunner commands_;
  steadfast::testing::FakeClock clock_{1'790'000'000'000};
};

TEST_F(BackupJobsTest, AJobBacksUpIsDrilledAndTheCheckSaysSo) {
  std::vector<CheckResult> before = CheckJob();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before[0].status, CheckStatus::kCritical);
  EXPECT_NE(before[0].summary.find("never run"), std::string::npos);

  BackupJobRunner runner({job_}, dir_ + "/state", SF_BACKUP_PROGRAM, commands_, clock_);
  auto s = runner.RunBackup("records", "manual");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(s->last_ok) << s->last_error;
  EXPECT_EQ(s->snapshot.size(), 64u);
  EXPECT_EQ(s->files_new, 2u);
  EXPECT_EQ(s->bytes_read, 200000u + 19u);
  // A second run reads nothing new, and retention keeps the last two.
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(runner.RunBackup("records", "schedule")->last_ok);
  clock_.Advance(std::chrono::hours(1));
  auto third = runner.RunBackup("records", "schedule");
  ASSERT_TRUE(third->last_ok);
  EXPECT_EQ(third->bytes_read, 0u);
  EXPECT_EQ(third->files_unmodified, 2u);
  size_t snapshots = 0;
  for (const auto& e : fs::directory_iterator(dir_ + "/repo/snapshots")) snapshots += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(snapshots, 2u) << "keep_last: 2";

  auto d = runner.RunDrill("records");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->drill_result, "passed") << d->drill_message;
  EXPECT_EQ(d->drill_files, 2u);
  EXPECT_EQ(d->drill_evidence.size(), 64u);

  clock_.Advance(std::chrono::hours(2));
  std::vector<CheckResult> after = CheckJob();
  EXPECT_EQ(after[0].status, CheckStatus::kOk) << after[0].summary;
  EXPECT_NE(after[0].summary.find("last success 2h"), std::string::npos) << after[0].summary;
  EXPECT_EQ(*testing::MetricValue(after[0], "backup_job_last_run_success"), 1);
  EXPECT_EQ(*testing::MetricValue(after[0], "backup_job_read_bytes"), 0);
  EXPECT_EQ(after[1].status, CheckStatus::kOk) << after[1].summary;
  EXPECT_EQ(*testing::MetricValue(after[1], "backup_drill_success"), 1);

  clock_.Advance(std::chrono::hours(49));
  EXPECT_EQ(CheckJob()[0].status, CheckStatus::kCritical) << "no success for 51h";
  clock_.Advance(std::chrono::hours(24 * 14));
  EXPECT_EQ(CheckJob()[1].status, CheckStatus::kCritical) << "no drill for 15 days";
}

TEST_F(BackupJobsTest, EmergencyRunsAreTaggedAndAFailureIsCriticalWithItsReason) {
  BackupJobConfig bad = job_;
  bad.name = "broken";
  bad.password_file = dir_ + "/wrong";
  BackupJobRunner runner({job_, bad}, dir_ + "/state", SF_BACKUP_PROGRAM, commands_, clock_);
  auto results = runner.Emergency();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].second.last_ok) << results[0].second.last_error;
  EXPECT_EQ(results[0].second.last_reason, "emergency");
  EXPECT_FALSE(results[1].second.last_ok);
  EXPECT_NE(results[1].second.last_error.find("wrong password"), std::string::npos) << results[1].second.last_error;

  const std::string list = std::string(SF_BACKUP_PROGRAM) + " -r " + dir_ + "/repo -p " + dir_ + "/pass --cache-dir " +
                           dir_ + "/c snapshots --tag emergency --json > " + dir_ + "/list.json";
  ASSERT_EQ(std::system(list.c_str()), 0);
  std::ifstream in(dir_ + "/list.json");
  const std::string listed((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(listed.find("\"emergency\""), std::string::npos) << listed;

  auto check = NewBackupCheck(testing::SpecFromYaml("name: b\ntype: backup\njob:\n  name: broken\n"));
  ASSERT_TRUE(check.ok());
  auto fsys = NewPosixFileSystem();
  CheckContext ctx{clock_, *fsys};
  ctx.state_dir = dir_ + "/state";
  auto r = (*check)->Run(ctx);
  EXPECT_EQ(r[0].status, CheckStatus::kCritical);
  EXPECT_NE(r[0].summary.find("wrong password"), std::string::npos) << r[0].summary;
  EXPECT_NE(r[0].summary.find("never succeeded"), std::string::npos) << r[0].summary;
}

}  // namespace
}  // namespace steadfast::agent
