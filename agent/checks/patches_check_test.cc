#include "agent/checks/patches_check.h"

#include <gtest/gtest.h>

#include <map>

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

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

const std::vector<std::string> kAptArgv = {"apt-get",
                                           "--simulate",
                                           "--quiet=2",
                                           "-o",
                                           "Debug::NoLocking=1",
                                           "-o",
                                           "APT::Get::Show-User-Simulation-Note=false",
                                           "dist-upgrade"};

std::string Fixture(const std::string& name) { return testing::Testdata("patches/" + name); }

class PatchesCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirectories("/v/lib/apt/lists/partial").ok());
    ASSERT_TRUE(fs_.CreateDirectories("/v/lib/dpkg").ok());
    ASSERT_TRUE(fs_.CreateDirectories("/state").ok());
    ASSERT_TRUE(fs_.CreateDirectories("/r").ok());
    for (const char* f : {"deb.debian.org_debian_dists_bookworm_InRelease",
                          "deb.debian.org_debian-security_dists_bookworm-security_InRelease",
                          "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"}) {
      ASSERT_TRUE(fs_.WriteFileAtomic(std::string("/v/lib/apt/lists/") + f, "x").ok());
    }
    const int64_t now = clock_.NowMillis();
    mtimes_["/v/lib/dpkg/status"] = now - 30 * kDay;
    mtimes_["/v/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease"] = now - 20 * kDay;
    mtimes_["/v/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease"] =
        now - 2 * kHour;
    // Packages files do not count: only *Release, partial/ and the periodic stamp.
    mtimes_
        ["/v/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"] =
            now;
    mtimes_["/v/lib/apt/lists/partial"] = now - 3 * kHour;
  }
  PatchesCheckOptions Options() {
    PatchesCheckOptions o;
    o.state_file = "/state/patches.json";
    o.reboot_required_file = "/r/reboot-required";
    return o;
  }
  std::unique_ptr<PatchesCheck> Make(PatchesCheckOptions o) {
    return std::make_unique<PatchesCheck>("patches", std::move(o),
                                          [this](const std::string& path) -> StatusOr<int64_t> {
                                            auto it = mtimes_.find(path);
                                            if (it == mtimes_.end()) return NotFoundError(path);
                                            return it->second;
                                          });
  }
  void AptPrints(const std::string& fixture) {
    FakeOutcome out;
    out.out = Fixture(fixture);
    runner_.Script(kAptArgv, out);
  }
  CheckResult Run(Check& check) {
    CheckContext ctx{clock_, fs_};
    ctx.var_root = "/v";
    ctx.commands = &runner_;
    auto results = check.Run(ctx);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }

  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
  FakeCommandRunner runner_;
  std::map<std::string, int64_t> mtimes_;
};

TEST_F(PatchesCheckTest, CountsSecurityUpdatesFromRecordedBookwormOutput) {
  AptPrints("apt-get-simulate-bookworm.txt");
  auto check = Make(Options());
  CheckResult r = Run(*check);
  EXPECT_EQ(r.target, "packages");
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary,
            "92 security updates pending (first seen now, e.g. libgcrypt20-dev), 129 in total; "
            "package lists 2h 0m old");
  EXPECT_EQ(*MetricValue(r, "patches_pending"), 129);
  EXPECT_EQ(*MetricValue(r, "patches_security_pending"), 92);
  EXPECT_EQ(*MetricValue(r, "patches_package_lists_age_seconds"), 7200);
  EXPECT_EQ(*MetricValue(r, "node_reboot_required"), 0);
  ASSERT_EQ(runner_.calls().size(), 1u);
  EXPECT_EQ(runner_.calls()[0].argv, kAptArgv);
}

TEST_F(PatchesCheckTest, OldestPendingSecurityUpdateSurvivesRestartsAndGoesCritical) {
  AptPrints("apt-get-simulate-bookworm.txt");
  auto check = Make(Options());
  Run(*check);
  // One run (what --once does) writes nothing; the second run saves the first-seen times.
  EXPECT_FALSE(fs_.Exists("/state/patches.json"));
  Run(*check);
  ASSERT_TRUE(fs_.Exists("/state/patches.json"));
  clock_.Advance(std::chrono::hours(24 * 8));
  // The agent restarted: a fresh check reads the first-seen times back.
  auto restarted = Make(Options());
  CheckResult r = Run(*restarted);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_NE(r.summary.find("oldest waiting 8d 0h 0m"), std::string::npos) << r.summary;
  EXPECT_EQ(*MetricValue(r, "patches_security_oldest_pending_seconds"), 8 * 86400);
  // Lists are now 8 days old as well.
  EXPECT_NE(r.summary.find("package lists 8d 2h 0m old"), std::string::npos) << r.summary;
}

TEST_F(PatchesCheckTest, InstalledUpdatesLeaveTheStateAndTheClockRestarts) {
  AptPrints("apt-get-simulate-bookworm.txt");
  auto check = Make(Options());
  Run(*check);
  clock_.Advance(std::chrono::hours(24));
  // Everything was installed; dpkg's status changed, so apt runs again.
  mtimes_["/v/lib/dpkg/status"] = clock_.NowMillis();
  runner_.Script(kAptArgv, FakeOutcome{});
  CheckResult r = Run(*check);
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.summary, "no updates pending; package lists 1d 2h 0m old");
  EXPECT_EQ(fs_.ReadFile("/state/patches.json").value(), "{\"security_first_seen_ms\":{}}\n");
  // A new security update shows up: it has waited 0 days, not since the first run.
  mtimes_["/v/lib/dpkg/status"] = clock_.NowMillis() + 1;
  AptPrints("apt-get-simulate-bookworm.txt");
  r = Run(*check);
  EXPECT_EQ(*MetricValue(r, "patches_security_oldest_pending_seconds"), 0);
}

TEST_F(PatchesCheckTest, SimulationIsCachedUntilDpkgOrListsChange) {
  AptPrints("apt-get-simulate-bookworm.txt");
  auto check = Make(Options());
  Run(*check);
  clock_.Advance(std::chrono::minutes(1));
  Run(*check);
  EXPECT_EQ(runner_.call_count(), 1u);
  mtimes_["/v/lib/apt/lists/partial"] = clock_.NowMillis();  // apt-get update ran
  CheckResult r = Run(*check);
  EXPECT_EQ(runner_.call_count(), 2u);
  EXPECT_NE(r.summary.find("package lists 0m 0s old"), std::string::npos) << r.summary;
  clock_.Advance(std::chrono::hours(6));  // recheck_interval
  Run(*check);
  EXPECT_EQ(runner_.call_count(), 3u);
}

TEST_F(PatchesCheckTest, RebootRequiredNamesThePackages) {
  runner_.Script(kAptArgv, FakeOutcome{});
  ASSERT_TRUE(fs_.WriteFileAtomic("/r/reboot-required", "*** System restart required ***\n").ok());
  ASSERT_TRUE(
      fs_.WriteFileAtomic("/r/reboot-required.pkgs", Fixture("reboot-required.pkgs") + "libc6\n")
          .ok());
  auto check = Make(Options());
  CheckResult r = Run(*check);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary,
            "no updates pending; package lists 2h 0m old; reboot required "
            "(linux-image-6.1.0-28-amd64, libc6)");
  EXPECT_EQ(*MetricValue(r, "node_reboot_required"), 1);
  PatchesCheckOptions o = Options();
  o.reboot_required = CheckStatus::kCritical;
  EXPECT_EQ(Run(*Make(o)).status, CheckStatus::kCritical);
}

TEST_F(PatchesCheckTest, StaleOrMissingListsWarn) {
  runner_.Script(kAptArgv, FakeOutcome{});
  clock_.Advance(std::chrono::hours(24 * 7));
  auto check = Make(Options());
  CheckResult r = Run(*check);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary, "no updates pending; package lists 7d 2h 0m old");
  mtimes_.clear();
  r = Run(*Make(Options()));
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_NE(r.summary.find("never downloaded"), std::string::npos);
  EXPECT_FALSE(MetricValue(r, "patches_package_lists_age_seconds").has_value());
}

TEST_F(PatchesCheckTest, AptFailureIsUnknownWithAptsMessage) {
  FakeOutcome fail;
  fail.exit_code = 100;
  fail.err =
      "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the "
      "problem. \n";
  runner_.Script(kAptArgv, fail);
  CheckResult r = Run(*Make(Options()));
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary,
            "apt-get --simulate failed (exit 100): E: dpkg was interrupted, you must manually run "
            "'dpkg --configure -a' to correct the problem. ");
}

TEST_F(PatchesCheckTest, UbuntuSecurityPocketAndNewKernelPackages) {
  // Hand-written in the format of Ubuntu 22.04's apt 2.4 (not recorded on this machine).
  AptPrints("apt-get-simulate-ubuntu-jammy.txt");
  CheckResult r = Run(*Make(Options()));
  EXPECT_EQ(*MetricValue(r, "patches_pending"), 5);
  EXPECT_EQ(*MetricValue(r, "patches_security_pending"), 3);
}

TEST_F(PatchesCheckTest, DnfWhenAptIsAbsent) {
  FakeOutcome all, sec, restart;
  all.exit_code = 100;
  all.out = Fixture("dnf-check-update.txt");
  sec.exit_code = 100;
  sec.out = Fixture("dnf-check-update-security.txt");
  restart.exit_code = 1;
  restart.out =
      "Core libraries or services have been updated since boot-up:\n  * kernel\n\n"
      "Reboot is required to fully utilize these updates.\n";
  runner_.Script({"dnf", "-q", "check-update"}, all);
  runner_.Script({"dnf", "-q", "check-update", "--security"}, sec);
  runner_.Script({"dnf", "-q", "needs-restarting", "-r"}, restart);
  CheckResult r = Run(*Make(Options()));
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(*MetricValue(r, "patches_pending"), 9);
  EXPECT_EQ(*MetricValue(r, "patches_security_pending"), 4);
  EXPECT_EQ(*MetricValue(r, "node_reboot_required"), 1);
  EXPECT_FALSE(MetricValue(r, "patches_package_lists_age_seconds").has_value());
  EXPECT_EQ(r.summary,
            "4 security updates pending (first seen now, e.g. kernel.x86_64), 9 in total; "
            "reboot required");
  EXPECT_NE(r.details_json.find("\"manager\":\"dnf\""), std::string::npos);
}

TEST_F(PatchesCheckTest, NoPackageManagerIsUnknown) {
  CheckResult r = Run(*Make(Options()));
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary, "neither apt-get nor dnf is installed");
}

TEST_F(PatchesCheckTest, UnwritableStateIsNotFatal) {
  AptPrints("apt-get-simulate-bookworm.txt");
  PatchesCheckOptions o = Options();
  o.state_file = "/no/such/dir/patches.json";
  auto check = Make(o);
  Run(*check);
  CheckResult r = Run(*check);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_NE(r.details_json.find("cannot save /no/such/dir/patches.json"), std::string::npos)
      << r.details_json;
}

TEST(PatchesParseTest, InstLineForms) {
  auto u = ParseAptSimulation(
      "Inst libc6 [2.36-9] (2.36-9+deb12u4 Debian:12.5/stable, Debian-Security:12/stable-security "
      "[amd64])\n"
      "Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian:12.8/stable [amd64])\n"
      "Inst perl [5.36.0-7+deb12u2] (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security "
      "[amd64]) []\n"
      "Conf libc6 (2.36-9+deb12u4 Debian:12.5/stable [amd64])\n"
      "Remv foo [1.0]\n");
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[0].package, "libc6");
  EXPECT_EQ(u[0].current_version, "2.36-9");
  EXPECT_EQ(u[0].new_version, "2.36-9+deb12u4");
  EXPECT_EQ(u[0].origins, "Debian:12.5/stable, Debian-Security:12/stable-security");
  EXPECT_TRUE(u[0].security);
  EXPECT_EQ(u[1].current_version, "");
  EXPECT_FALSE(u[1].security);
  EXPECT_TRUE(u[2].security);
}

TEST(PatchesParseTest, DnfWrappedLinesAndObsoletes) {
  auto u = ParseDnfCheckUpdate(Fixture("dnf-check-update.txt"), false);
  ASSERT_EQ(u.size(), 9u);
  EXPECT_EQ(u[6].package, "python3-perf-and-a-very-long-package-name-indeed.x86_64");
  EXPECT_EQ(u[6].new_version, "5.14.0-503.15.1.el9_5");
  EXPECT_EQ(u[8].package, "vim-minimal.x86_64");
}

TEST(PatchesFactoryTest, ValidatesKeys) {
  EXPECT_TRUE(
      NewPatchesCheck(SpecFromYaml("{name: p, type: patches, package_manager: apt, "
                                   "security_warning: 5, security_critical_days: 14, "
                                   "updates_warning: 0, lists_warning_days: 3, "
                                   "reboot_required: critical, reboot_required_file: "
                                   "/run/reboot-required, state_file: '', recheck_interval: 1h}"))
          .ok());
  auto bad = NewPatchesCheck(SpecFromYaml("name: p\ntype: patches\nstate_file: patches.json\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("agent.yaml:3: state_file"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(
      NewPatchesCheck(SpecFromYaml("{name: p, type: patches, package_manager: yum}")).ok());
  EXPECT_FALSE(
      NewPatchesCheck(SpecFromYaml("{name: p, type: patches, recheck_interval: 1s}")).ok());
  EXPECT_FALSE(NewPatchesCheck(SpecFromYaml("{name: p, type: patches, security: 1}")).ok());
}

// Runs the real apt-get --simulate on this Debian machine (a few seconds).
TEST(PatchesHostTest, RunsAptOnThisMachine) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  if (!fs->Exists("/usr/bin/apt-get")) GTEST_SKIP() << "not a Debian/Ubuntu machine";
  PosixCommandRunner runner;
  CheckContext ctx{clock, *fs};
  ctx.commands = &runner;
  PatchesCheckOptions o;
  o.state_file = "";
  PatchesCheck check("patches", o);
  auto results = check.Run(ctx);
  ASSERT_EQ(results.size(), 1u);
  const CheckResult& r = results[0];
  ASSERT_NE(r.status, CheckStatus::kUnknown) << r.summary;
  const double total = *MetricValue(r, "patches_pending");
  const double security = *MetricValue(r, "patches_security_pending");
  EXPECT_GE(total, 0);
  EXPECT_LE(security, total);
  EXPECT_EQ(r.status == CheckStatus::kOk,
            security == 0 && r.summary.find("reboot") == std::string::npos &&
                MetricValue(r, "patches_package_lists_age_seconds").value_or(1e12) < 7 * 86400)
      << r.summary;
  if (auto age = MetricValue(r, "patches_package_lists_age_seconds")) {
    EXPECT_GE(*age, 0);
  }
}

}  // namespace
}  // namespace steadfast::agent
