#include "collector/audit/audit_cli.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collector/audit/audit_test_util.h"
#include "collector/audit/sqlite_audit_log.h"
#include "collector/testing/test_util.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::audit {
namespace {

using testing::kDropTriggers;
using testing::RawExec;
using testing::SampleEvent;

struct CommandResult {
  int code = -1;
  std::string out;
  std::string err;
};

// A data directory as the collector leaves it: collector.db with `n` audit records and the
// audit.key beside it. The admin connection stays open, as in a running collector.
class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = NewPosixFileSystem();
    db_path_ = dir_.path() + "/collector.db";
    key_path_ = dir_.path() + "/audit.key";
    StatusOr<AuditKey> key = LoadOrCreateAuditKey(*fs_, key_path_);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    StatusOr<std::unique_ptr<AdminDb>> db = AdminDb::Open(db_path_);
    ASSERT_TRUE(db.ok());
    admin_ = std::move(*db);
    StatusOr<std::unique_ptr<SqliteAuditLog>> log = SqliteAuditLog::Open(*admin_, *key, clock_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
  }

  void AppendMany(int n) {
    for (int i = 1; i <= n; ++i) ASSERT_TRUE(log_->Append(SampleEvent(i)).ok());
  }

  CommandResult Verify() {
    std::ostringstream out, err;
    CommandResult r;
    r.code = RunAuditVerify(db_path_, key_path_, *fs_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  CommandResult Export(const AuditExportOptions& options) {
    std::ostringstream out, err;
    CommandResult r;
    r.code = RunAuditExport(db_path_, options, *fs_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  testutil::TempDir dir_;
  std::unique_ptr<FileSystem> fs_;
  std::string db_path_;
  std::string key_path_;
  steadfast::testing::FakeClock clock_;
  std::unique_ptr<AdminDb> admin_;
  std::unique_ptr<SqliteAuditLog> log_;
};

TEST_F(AuditCliTest, VerifyCleanChainExitsZero) {
  AppendMany(5);
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("OK"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("records checked: 5 (seq 1..5)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("head: seq 5 mac " + log_->Head()->mac_hex), std::string::npos) << r.out;
}

TEST_F(AuditCliTest, VerifyWithTheCollectorStopped) {
  AppendMany(3);
  log_.reset();
  admin_.reset();  // the last connection closes: SQLite checkpoints and removes the -wal file
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("records checked: 3 (seq 1..3)"), std::string::npos) << r.out;
}

TEST_F(AuditCliTest, VerifyTamperedChainExitsThreeAndNamesTheRecord) {
  AppendMany(5);
  RawExec(db_path_, std::string(kDropTriggers) +
                        "UPDATE audit_records SET actor_name = 'bob' WHERE seq = 3;");
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitDamage) << r.out << r.err;
  EXPECT_NE(r.out.find("DAMAGE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("first bad record: seq 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("problem: altered"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("chain intact from seq 1 to 2"), std::string::npos) << r.out;
}

TEST_F(AuditCliTest, VerifyNamesARemovedRecord) {
  AppendMany(5);
  RawExec(db_path_, std::string(kDropTriggers) + "DELETE FROM audit_records WHERE seq = 4;");
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitDamage);
  EXPECT_NE(r.out.find("first bad record: seq 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("problem: removed"), std::string::npos) << r.out;
}

TEST_F(AuditCliTest, VerifyWithoutTheKeyFailsAndDoesNotCreateOne) {
  AppendMany(1);
  ASSERT_TRUE(fs_->RemoveFile(key_path_).ok());
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitFailure);
  EXPECT_NE(r.err.find("audit.key"), std::string::npos) << r.err;
  EXPECT_FALSE(fs_->Exists(key_path_));
}

TEST_F(AuditCliTest, VerifyWithAnotherKeyReportsDamage) {
  AppendMany(2);
  ASSERT_TRUE(fs_->WriteFileAtomic(key_path_, std::string(32, 'x'), 0600).ok());
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitDamage);
  EXPECT_NE(r.out.find("key"), std::string::npos) << r.out;
}

TEST_F(AuditCliTest, VerifyRefusesAReadableKey) {
  AppendMany(1);
  ASSERT_EQ(::chmod(key_path_.c_str(), 0644), 0);
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitFailure);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
}

TEST_F(AuditCliTest, VerifyWithoutADatabaseFails) {
  db_path_ = dir_.path() + "/nothing.db";
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitFailure);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(fs_->Exists(db_path_));
}

TEST_F(AuditCliTest, VerifyOfADatabaseWithoutAnAuditLogFails) {
  db_path_ = dir_.path() + "/other.db";
  RawExec(db_path_, "CREATE TABLE t (x INTEGER);");
  CommandResult r = Verify();
  EXPECT_EQ(r.code, kAuditExitFailure);
  EXPECT_NE(r.err.find("no audit log"), std::string::npos) << r.err;
}

TEST_F(AuditCliTest, ExportCsvToAFileWithFilters) {
  AppendMany(4);
  AuditEvent other = SampleEvent(9);
  other.actor_name = "bob";
  ASSERT_TRUE(log_->Append(other).ok());
  AuditExportOptions options;
  options.format = ExportFormat::kCsv;
  options.filter.actor_name = "bob";
  options.output_path = dir_.path() + "/export.csv";
  CommandResult r = Export(options);
  ASSERT_EQ(r.code, kAuditExitOk) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("1 records"), std::string::npos) << r.err;
  std::string text = fs_->ReadFile(options.output_path).value();
  EXPECT_EQ(text.rfind(std::string(kAuditCsvHeader) + "\r\n5,", 0), 0u) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(fs_->FileMode(options.output_path).value(), 0600u);
}

TEST_F(AuditCliTest, ExportJsonToStdoutWithATimeWindow) {
  AppendMany(6);  // time_ms = base + n
  AuditExportOptions options;
  options.format = ExportFormat::kJsonArray;
  options.filter.from_ms = 1'790'000'000'002;
  options.filter.to_ms = 1'790'000'000'005;
  options.filter.limit = 1;  // ignored: export takes everything that matches
  CommandResult r = Export(options);
  ASSERT_EQ(r.code, kAuditExitOk) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc.size(), 3u);
  EXPECT_EQ(doc[0]["seq"], 2);
  EXPECT_EQ(doc[2]["seq"], 4);
}

TEST_F(AuditCliTest, ExportToAnUnwritablePathFails) {
  AppendMany(1);
  AuditExportOptions options;
  options.output_path = dir_.path() + "/no/such/dir/export.csv";
  CommandResult r = Export(options);
  EXPECT_EQ(r.code, kAuditExitFailure);
  EXPECT_NE(r.err.find("cannot create"), std::string::npos) << r.err;
}

// ---- the real binary: config -> paths -> exit codes

CommandResult RunBinary(const std::string& args) {
  CommandResult r;
  const std::string command = std::string(SF_COLLECTOR_BIN) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class AuditBinaryTest : public AuditCliTest {
 protected:
  void SetUp() override {
    AuditCliTest::SetUp();
    config_ = dir_.path() + "/collector.yaml";
    std::ofstream(config_) << "data_dir: " << dir_.path() << "\naudit_retention: 200d\n";
  }
  std::string config_;
};

TEST_F(AuditBinaryTest, VerifyExitCodes) {
  AppendMany(5);
  CommandResult clean = RunBinary("audit verify --config " + config_);
  EXPECT_EQ(clean.code, 0) << clean.out;
  EXPECT_NE(clean.out.find("OK"), std::string::npos) << clean.out;
  // The global option before the subcommand works too.
  EXPECT_EQ(RunBinary("--config " + config_ + " audit verify").code, 0);

  RawExec(db_path_, std::string(kDropTriggers) + "DELETE FROM audit_records WHERE seq = 2;");
  CommandResult damaged = RunBinary("audit verify --config " + config_);
  EXPECT_EQ(damaged.code, 3) << damaged.out;
  EXPECT_NE(damaged.out.find("first bad record: seq 2"), std::string::npos) << damaged.out;
  EXPECT_NE(damaged.out.find("problem: removed"), std::string::npos) << damaged.out;

  CommandResult bad_config = RunBinary("audit verify --config " + dir_.path() + "/missing.yaml");
  EXPECT_EQ(bad_config.code, 2) << bad_config.out;
  std::ofstream(config_) << "data_dir: " << dir_.path() << "\naudit_retention: 90d\n";
  CommandResult short_retention = RunBinary("audit verify --config " + config_);
  EXPECT_EQ(short_retention.code, 2) << short_retention.out;
  EXPECT_NE(short_retention.out.find("audit_retention"), std::string::npos) << short_retention.out;
}

TEST_F(AuditBinaryTest, ExportAndUsageErrors) {
  AppendMany(3);
  CommandResult json =
      RunBinary("audit export --config " + config_ + " --format jsonl --object-id 102");
  ASSERT_EQ(json.code, 0) << json.out;
  EXPECT_NE(json.out.find("\"seq\":2"), std::string::npos) << json.out;
  EXPECT_EQ(json.out.find("\"seq\":1"), std::string::npos) << json.out;
  const std::string file = dir_.path() + "/out.csv";
  CommandResult csv = RunBinary("audit export --config " + config_ +
                                " --format csv --user alice --from 2026-01-01T00:00:00Z "
                                "--output " +
                                file);
  ASSERT_EQ(csv.code, 0) << csv.out;
  const std::string text = fs_->ReadFile(file).value();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4) << text;  // header + 3 records
  EXPECT_EQ(RunBinary("audit export --config " + config_ + " --format xml").code, 2);
  EXPECT_EQ(RunBinary("audit export --config " + config_ + " --from yesterday").code, 2);
  EXPECT_EQ(RunBinary("audit").code, 2);
  EXPECT_EQ(RunBinary("audit frobnicate --config " + config_).code, 2);
}

}  // namespace
}  // namespace steadfast::collector::audit
