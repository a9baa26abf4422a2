#include "agent/checks/time_sync_check.h"

#include <gtest/gtest.h>
#include <sys/timex.h>

#include <cmath>

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
using testing::MetricValue;
using testing::SpecFromYaml;

const std::vector<std::string> kChronyArgv = {"chronyc", "-n", "-c", "tracking"};

std::string Fixture(const std::string& name) { return testing::Testdata("time_sync/" + name); }

KernelTimex Synced(double offset = 0.0005) {
  KernelTimex k;
  k.state = TIME_OK;
  k.status = STA_PLL;
  k.offset = offset;
  k.maxerror = 0.012;
  k.esterror = 0.0003;
  return k;
}

KernelTimex Unsynced() {
  KernelTimex k;
  k.state = TIME_ERROR;
  k.status = STA_UNSYNC;
  k.maxerror = 16.0;
  k.esterror = 16.0;
  return k;
}

class TimeSyncCheckTest : public ::testing::Test {
 protected:
  CheckResult Run(TimeSyncCheckOptions o, StatusOr<KernelTimex> kernel) {
    TimeSyncCheck check("time", std::move(o), [kernel] { return kernel; });
    CheckContext ctx{clock_, fs_};
    ctx.commands = &runner_;
    auto results = check.Run(ctx);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  void ChronyPrints(const std::string& fixture) {
    FakeOutcome out;
    out.out = Fixture(fixture);
    runner_.Script(kChronyArgv, out);
  }

  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
  FakeCommandRunner runner_;
};

TEST_F(TimeSyncCheckTest, KernelOnlySynchronised) {
  CheckResult r = Run({}, Synced());  // chronyc not installed
  EXPECT_EQ(r.target, "clock");
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.summary, "synchronised (kernel), offset +0.500 ms");
  EXPECT_EQ(*MetricValue(r, "node_timex_sync_status"), 1);
  EXPECT_DOUBLE_EQ(*MetricValue(r, "node_timex_offset_seconds"), 0.0005);
  EXPECT_DOUBLE_EQ(*MetricValue(r, "node_timex_maxerror_seconds"), 0.012);
  EXPECT_DOUBLE_EQ(*MetricValue(r, "time_sync_offset_seconds"), 0.0005);
  EXPECT_FALSE(MetricValue(r, "chrony_tracking_stratum").has_value());
  EXPECT_EQ(runner_.call_count(), 1u);  // it looked for chronyc
}

TEST_F(TimeSyncCheckTest, KernelUnsynchronisedIsWarningOrConfiguredCritical) {
  CheckResult r = Run({}, Unsynced());
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary,
            "not synchronised (kernel STA_UNSYNC, max error 16.000 s), offset +0.000 ms");
  EXPECT_EQ(*MetricValue(r, "node_timex_sync_status"), 0);
  TimeSyncCheckOptions o;
  o.unsynchronised = CheckStatus::kCritical;
  EXPECT_EQ(Run(o, Unsynced()).status, CheckStatus::kCritical);
}

TEST_F(TimeSyncCheckTest, EitherUnsyncSignalCounts) {
  KernelTimex flag_only = Synced();
  flag_only.status |= STA_UNSYNC;  // state still TIME_OK
  EXPECT_EQ(Run({}, flag_only).status, CheckStatus::kWarning);
  KernelTimex state_only = Synced();
  state_only.state = TIME_ERROR;
  EXPECT_EQ(Run({}, state_only).status, CheckStatus::kWarning);
  EXPECT_TRUE(Synced().Synchronised());
}

TEST_F(TimeSyncCheckTest, OffsetThresholds) {
  EXPECT_EQ(Run({}, Synced(0.099)).status, CheckStatus::kOk);
  CheckResult warn = Run({}, Synced(-0.150));
  EXPECT_EQ(warn.status, CheckStatus::kWarning);
  EXPECT_EQ(warn.summary, "synchronised (kernel), offset -150.000 ms (limit 100 ms)");
  CheckResult crit = Run({}, Synced(2.5));
  EXPECT_EQ(crit.status, CheckStatus::kCritical);
  EXPECT_EQ(crit.summary, "synchronised (kernel), offset +2.500 s (limit 1000 ms)");
}

TEST_F(TimeSyncCheckTest, ChronyWinsOverTheKernel) {
  ChronyPrints("chronyc-tracking-synced.csv");
  // chronyd slews the clock itself: the kernel may show STA_UNSYNC without rtcsync.
  CheckResult r = Run({}, Unsynced());
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.summary, "synchronised to 162.159.200.123 (stratum 4, chrony), offset -0.012 ms");
  EXPECT_EQ(*MetricValue(r, "chrony_tracking_stratum"), 4);
  EXPECT_DOUBLE_EQ(*MetricValue(r, "chrony_tracking_system_time_seconds"), -0.000012345);
  EXPECT_DOUBLE_EQ(*MetricValue(r, "chrony_tracking_root_delay_seconds"), 0.012345678);
  EXPECT_EQ(*MetricValue(r, "node_timex_sync_status"), 0);  // still reported as the kernel says
  ASSERT_EQ(runner_.calls().size(), 1u);
  EXPECT_EQ(runner_.calls()[0].argv, kChronyArgv);
  EXPECT_GT(runner_.calls()[0].timeout.count(), 0);
}

TEST_F(TimeSyncCheckTest, ChronyOffsetAndUnsynchronised) {
  ChronyPrints("chronyc-tracking-offset-250ms.csv");
  CheckResult r = Run({}, Synced());
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary,
            "synchronised to 192.168.0.1 (stratum 3, chrony), offset +250.123 ms (limit 100 ms)");
  ChronyPrints("chronyc-tracking-unsynchronised.csv");
  r = Run({}, Synced());
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary.rfind("not synchronised (chrony", 0), 0u) << r.summary;
}

TEST_F(TimeSyncCheckTest, SilentChronydIsNotedInAutoAndUnknownInAlways) {
  FakeOutcome fail;
  fail.exit_code = 1;
  fail.err = Fixture("chronyc-no-daemon.err");
  runner_.Script(kChronyArgv, fail);
  CheckResult r = Run({}, Unsynced());
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_NE(r.summary.find("; chronyd does not answer: 506 Cannot talk to daemon"),
            std::string::npos)
      << r.summary;
  TimeSyncCheckOptions o;
  o.chrony = "always";
  r = Run(o, Synced());
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary, "chronyd does not answer: 506 Cannot talk to daemon");
}

TEST_F(TimeSyncCheckTest, NeverSkipsChronyAndKernelFailureIsUnknown) {
  ChronyPrints("chronyc-tracking-synced.csv");
  TimeSyncCheckOptions o;
  o.chrony = "never";
  CheckResult r = Run(o, InternalError("ntp_adjtime: Operation not permitted"));
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary, "cannot read the kernel clock state: ntp_adjtime: Operation not permitted");
  EXPECT_EQ(runner_.call_count(), 0u);
  // With chrony answering, a failed kernel call is not fatal.
  r = Run({}, InternalError("ntp_adjtime: Operation not permitted"));
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_FALSE(MetricValue(r, "node_timex_sync_status").has_value());
}

TEST(ChronyParseTest, RejectsMalformedLines) {
  EXPECT_TRUE(ParseChronyTracking(Fixture("chronyc-tracking-synced.csv")).ok());
  EXPECT_FALSE(ParseChronyTracking("506 Cannot talk to daemon\n").ok());
  EXPECT_FALSE(ParseChronyTracking("A,b,x,1,2,3,4,5,6,7,8,9,10,Normal\n").ok());
}

TEST(TimeSyncFactoryTest, ValidatesKeys) {
  EXPECT_TRUE(NewTimeSyncCheck(SpecFromYaml("{name: t, type: time_sync, offset_warning_ms: 50, "
                                            "offset_critical_ms: 500, unsynchronised: critical, "
                                            "chrony: always, chronyc: /usr/bin/chronyc}"))
                  .ok());
  auto bad = NewTimeSyncCheck(SpecFromYaml("{name: t, type: time_sync, chrony: sometimes}"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("chrony"), std::string::npos);
  EXPECT_FALSE(
      NewTimeSyncCheck(SpecFromYaml("{name: t, type: time_sync, chronyc: bin/chronyc}")).ok());
  EXPECT_FALSE(NewTimeSyncCheck(SpecFromYaml("{name: t, type: time_sync, offset_warning_ms: 2000, "
                                             "offset_critical_ms: 1000}"))
                   .ok());
  EXPECT_FALSE(NewTimeSyncCheck(SpecFromYaml("{name: t, type: time_sync, ntp: true}")).ok());
}

// The real adjtimex on this machine: values in range; a VM without a time daemon is
// unsynchronised, which the check must say.
TEST(TimeSyncHostTest, RunsOnThisMachine) {
  auto k = SystemAdjtimex();
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_GE(k->state, TIME_OK);
  EXPECT_LE(k->state, TIME_ERROR);
  EXPECT_GE(k->maxerror, 0);
  EXPECT_LT(std::fabs(k->offset), 3600);
  RealClock clock;
  auto fs = NewPosixFileSystem();
  PosixCommandRunner runner;
  CheckContext ctx{clock, *fs};
  ctx.commands = &runner;
  TimeSyncCheck check("time", {});
  auto results = check.Run(ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_NE(results[0].status, CheckStatus::kUnknown) << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "node_timex_sync_status"), k->Synchronised() ? 1 : 0);
  EXPECT_NE(results[0].summary.find(k->Synchronised() ? "synchronised" : "not synchronised"),
            std::string::npos)
      << results[0].summary;
}

}  // namespace
}  // namespace steadfast::agent
