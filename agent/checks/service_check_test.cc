#include "agent/checks/service_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

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

const std::vector<std::string> kUnits = {"nginx.service", "postgresql@15-main.service",
                                         "clamav-daemon.service", "backup.service",
                                         "slapd.service"};

std::string Fixture(const std::string& name) { return testing::Testdata("service/" + name); }

std::vector<std::string> ShowArgv(const std::vector<std::string>& units) {
  std::vector<std::string> argv = {
      "systemctl", "show", "--no-pager",
      "--property=LoadState,ActiveState,SubState,Result,NRestarts,ActiveEnterTimestampMonotonic"};
  argv.insert(argv.end(), units.begin(), units.end());
  return argv;
}

std::optional<double> UnitState(const CheckResult& r, const std::string& state) {
  return testing::LabelledMetricValue(r, "node_systemd_unit_state", "state", state);
}

class ServiceCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirectories("/p/1").ok());
    // 10 s after boot; ActiveEnterTimestampMonotonic counts microseconds since boot.
    ASSERT_TRUE(fs_.WriteFileAtomic("/p/uptime", "3600.50 7000.00\n").ok());
    ASSERT_TRUE(fs_.WriteFileAtomic("/p/1/comm", "systemd\n").ok());
  }
  void AddProcess(int pid, const std::string& comm, const std::string& cmdline) {
    const std::string dir = "/p/" + std::to_string(pid);
    ASSERT_TRUE(fs_.CreateDirectories(dir).ok());
    ASSERT_TRUE(fs_.WriteFileAtomic(dir + "/comm", comm + "\n").ok());
    ASSERT_TRUE(fs_.WriteFileAtomic(dir + "/cmdline", cmdline).ok());
  }
  std::unique_ptr<ServiceCheck> Make(ServiceCheckOptions o) {
    auto made = ServiceCheck::Create("svc", std::move(o));
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? std::move(made).value() : nullptr;
  }
  std::vector<CheckResult> Run(Check& check) {
    CheckContext ctx{clock_, fs_, "/p"};
    ctx.commands = &runner_;
    return check.Run(ctx);
  }

  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
  FakeCommandRunner runner_;
};

TEST_F(ServiceCheckTest, UnitStatesFromOneSystemctlCall) {
  FakeOutcome show;
  show.out = Fixture("systemctl-show.txt");
  runner_.Script(ShowArgv(kUnits), show);
  ServiceCheckOptions o;
  o.units = kUnits;
  auto check = Make(o);
  auto results = Run(*check);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(runner_.call_count(), 1u);

  const CheckResult* nginx = FindTarget(results, "nginx.service");
  EXPECT_EQ(nginx->status, CheckStatus::kOk);
  // 3600.5 s up, active since 5.123456 s after boot.
  EXPECT_EQ(nginx->summary, "active (running) for 59m 55s");
  EXPECT_EQ(*UnitState(*nginx, "active"), 1);
  EXPECT_EQ(*UnitState(*nginx, "failed"), 0);
  EXPECT_NEAR(*MetricValue(*nginx, "systemd_unit_active_seconds"), 3595.38, 0.01);
  EXPECT_EQ(*MetricValue(*nginx, "node_systemd_service_restart_total"), 0);

  const CheckResult* pg = FindTarget(results, "postgresql@15-main.service");
  EXPECT_EQ(pg->status, CheckStatus::kCritical);
  EXPECT_EQ(pg->summary, "failed (exit-code)");
  EXPECT_EQ(*UnitState(*pg, "failed"), 1);

  EXPECT_EQ(FindTarget(results, "clamav-daemon.service")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "clamav-daemon.service")->summary, "not found (not installed?)");
  EXPECT_EQ(FindTarget(results, "backup.service")->summary, "inactive (dead)");
  EXPECT_EQ(FindTarget(results, "backup.service")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "slapd.service")->status, CheckStatus::kWarning);
  EXPECT_EQ(FindTarget(results, "slapd.service")->summary, "activating (start-pre)");
}

TEST_F(ServiceCheckTest, RestartsSinceTheLastRunWarn) {
  const std::vector<std::string> units = {"nginx.service"};
  auto show = [&](int restarts) {
    FakeOutcome out;
    out.out = "NRestarts=" + std::to_string(restarts) +
              "\nLoadState=loaded\nActiveState=active\nSubState=running\n"
              "ActiveEnterTimestampMonotonic=3000000000\n";
    runner_.Script(ShowArgv(units), out);
  };
  ServiceCheckOptions o;
  o.units = units;
  auto check = Make(o);
  show(3);
  EXPECT_EQ(Run(*check)[0].status, CheckStatus::kOk);  // restarts before we looked: history
  show(3);
  EXPECT_EQ(Run(*check)[0].status, CheckStatus::kOk);
  show(5);
  auto r = Run(*check)[0];
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary,
            "active (running) for 10m 0s, restarted 2 times since the last check (5 in total)");
}

TEST_F(ServiceCheckTest, NoSystemdIsUnknownNamingPid1) {
  ASSERT_TRUE(fs_.WriteFileAtomic("/p/1/comm", "process_api\n").ok());
  FakeOutcome fail;
  fail.exit_code = 1;
  fail.err = Fixture("systemctl-no-systemd.err");
  runner_.Script(ShowArgv({"nginx.service"}), fail);
  ServiceCheckOptions o;
  o.units = {"nginx.service"};
  auto results = Run(*Make(o));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary,
            "systemd is not running here (PID 1 is process_api): System has not been booted with "
            "systemd as init system (PID 1). Can't operate.");
}

TEST_F(ServiceCheckTest, MissingSystemctlOrGarbledOutputIsUnknown) {
  ServiceCheckOptions o;
  o.units = {"nginx.service", "cron.service"};
  auto check = Make(o);
  auto results = Run(*check);  // nothing scripted: systemctl does not exist
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[1].summary, "systemctl not found: this machine does not run systemd");
  FakeOutcome one_block;
  one_block.out = "ActiveState=active\n";
  runner_.Script(ShowArgv(o.units), one_block);
  results = Run(*check);
  EXPECT_EQ(results[0].summary, "systemctl show printed 1 blocks for 2 units");
}

TEST_F(ServiceCheckTest, ProcessesByNameAndCmdline) {
  AddProcess(1, "systemd", std::string("/sbin/init\0splash\0", 18));
  AddProcess(812, "sshd", std::string("sshd: /usr/sbin/sshd -D [listener]\0", 35));
  AddProcess(4242, "java", std::string("/usr/bin/java\0-jar\0/opt/jenkins/jenkins.war\0", 44));
  AddProcess(4243, "java", std::string("/usr/bin/java\0-jar\0/opt/other.jar\0", 34));
  AddProcess(2, "kthreadd", "");
  // comm is cut at 15 characters; the rule names the full program.
  AddProcess(900, "postgres_export", std::string("/usr/bin/postgres_exporter\0", 27));
  ServiceCheckOptions o;
  o.processes = {{"sshd", "sshd", "", 1, std::nullopt},
                 {"jenkins", "", "java .*jenkins\\.war", 1, 1},
                 {"java", "java", "", 1, 1},
                 {"exporter", "postgres_exporter", "", 1, std::nullopt},
                 {"nginx", "nginx", "", 1, std::nullopt}};
  auto results = Run(*Make(o));
  ASSERT_EQ(results.size(), 5u);
  const CheckResult* sshd = FindTarget(results, "process sshd");
  EXPECT_EQ(sshd->status, CheckStatus::kOk);
  EXPECT_EQ(sshd->summary, "1 process running (pid 812)");
  EXPECT_EQ(*MetricValue(*sshd, "namedprocess_namegroup_num_procs"), 1);
  EXPECT_EQ(FindTarget(results, "process jenkins")->summary, "1 process running (pid 4242)");
  const CheckResult* java = FindTarget(results, "process java");
  EXPECT_EQ(java->status, CheckStatus::kWarning);
  EXPECT_EQ(java->summary, "2 processes running (pid 4242, 4243), maximum 1");
  EXPECT_EQ(FindTarget(results, "process exporter")->status, CheckStatus::kOk);
  const CheckResult* nginx = FindTarget(results, "process nginx");
  EXPECT_EQ(nginx->status, CheckStatus::kCritical);
  EXPECT_EQ(nginx->summary, "0 processes running, minimum 1");
}

TEST(ServiceParseTest, SplitsBlocks) {
  auto blocks = ParseSystemctlShow("A=1\nB=x=y\n\nA=2\n\n\nA=3\n");
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].at("B"), "x=y");
  EXPECT_EQ(blocks[2].at("A"), "3");
}

TEST(ServiceFactoryTest, ValidatesKeys) {
  auto ok = NewServiceCheck(SpecFromYaml(
      "{name: s, type: service, units: [nginx, cron.service], processes: [{name: sshd}, "
      "{cmdline: 'java .*jenkins', min: 1, max: 2, label: jenkins}]}"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_FALSE(NewServiceCheck(SpecFromYaml("{name: s, type: service}")).ok());
  auto regex =
      NewServiceCheck(SpecFromYaml("name: s\ntype: service\nprocesses:\n  - cmdline: 'java (['\n"));
  ASSERT_FALSE(regex.ok());
  EXPECT_NE(regex.status().message().find("agent.yaml:4: processes[0].cmdline: not a valid"),
            std::string::npos)
      << regex.status().message();
  EXPECT_FALSE(
      NewServiceCheck(SpecFromYaml("{name: s, type: service, processes: [{name: a, cmdline: b}]}"))
          .ok());
  EXPECT_FALSE(NewServiceCheck(
                   SpecFromYaml("{name: s, type: service, processes: [{name: a, min: 2, max: 1}]}"))
                   .ok());
  EXPECT_FALSE(NewServiceCheck(SpecFromYaml("{name: s, type: service, units: ['a b']}")).ok());
  EXPECT_FALSE(
      NewServiceCheck(SpecFromYaml("{name: s, type: service, processes: [{name: a, count: 1}]}"))
          .ok());
}

// The process form on this machine: the test binary itself must be found. The unit form: this
// VM has no running systemd, which must come back as unknown with the reason.
TEST(ServiceHostTest, FindsItsOwnProcessAndExplainsMissingSystemd) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  auto comm = fs->ReadFile("/proc/self/comm");
  ASSERT_TRUE(comm.ok());
  std::string self = comm->substr(0, comm->find('\n'));
  PosixCommandRunner runner;
  CheckContext ctx{clock, *fs};
  ctx.commands = &runner;
  ServiceCheckOptions o;
  o.processes = {{"self", self, "", 1, std::nullopt}};
  o.units = {"cron.service"};
  auto made = ServiceCheck::Create("svc", o);
  ASSERT_TRUE(made.ok());
  auto results = (*made)->Run(ctx);
  ASSERT_EQ(results.size(), 2u);
  const CheckResult* proc = FindTarget(results, "process self");
  ASSERT_NE(proc, nullptr);
  EXPECT_EQ(proc->status, CheckStatus::kOk) << proc->summary;
  // Parallel test runs may show several processes of this name; ours is one of them.
  EXPECT_GE(*MetricValue(*proc, "namedprocess_namegroup_num_procs"), 1);
  auto procs = ScanProcesses(*fs, "/proc");
  EXPECT_TRUE(std::any_of(procs.begin(), procs.end(), [&](const ProcessInfo& p) {
    return p.pid == ::getpid() && p.comm == self;
  }));
  const CheckResult* unit = FindTarget(results, "cron.service");
  ASSERT_NE(unit, nullptr);
  if (!fs->Exists("/run/systemd/system")) {
    EXPECT_EQ(unit->status, CheckStatus::kUnknown);
    EXPECT_FALSE(unit->summary.empty());
  } else {
    EXPECT_NE(unit->status, CheckStatus::kUnknown) << unit->summary;
  }
}

}  // namespace
}  // namespace steadfast::agent
