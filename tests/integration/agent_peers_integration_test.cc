// The agent's network checks against the real servers they talk to, each started by the test on
// loopback in its own temporary directory and stopped in TearDown:
//   ups        NUT upsd + the dummy-ups driver (Debian nut-server, nut-client); the simulated UPS
//              is switched from on line to on battery to low battery while the test runs
//   antivirus  clamd (Debian clamav-daemon) on a unix socket, with a signature database made by
//              the test (tests/peers/make_clamav_cud.sh, an EICAR .hdb): nothing is downloaded
//   snmp       snmpd (Debian snmpd) with a v2c community, a v3 authPriv user and a "pass" program
//              (tests/peers/ups_mib_pass.sh) serving a simulated UPS's RFC 1628 UPS-MIB
// A missing server binary skips the tests that need it, naming the Debian package
// (deploy/install-deps.sh installs them).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "agent/check.h"
#include "agent/checks/antivirus_check.h"
#include "agent/checks/snmp_check.h"
#include "agent/checks/stream_socket.h"
#include "agent/checks/ups_check.h"
#include "agent/testing/test_util.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "tests/support/process.h"

namespace steadfast {
namespace {

using agent::CheckContext;
using agent::testing::MetricValue;
using agent::testing::SpecFromYaml;
using protocol::CheckResult;
using protocol::CheckStatus;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testsupport::Process;
using testsupport::StopProcess;
using testsupport::WriteTextFile;

// clamd and upsd may take a few seconds to exit on SIGTERM.
constexpr milliseconds kStopGrace{10'000};

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// Writes `text` to `path` through a rename, so a daemon re-reading the file never sees half.
void ReplaceFile(const std::string& path, const std::string& text) {
  WriteTextFile(path + ".new", text);
  std::filesystem::rename(path + ".new", path);
}

// Runs `check` once with a `budget` deadline.
std::vector<CheckResult> RunOnce(agent::Check& check, FileSystem& fs,
                                 milliseconds budget = milliseconds(3'000)) {
  RealClock clock;
  CheckContext ctx{clock, fs};
  ctx.deadline = std::chrono::steady_clock::now() + budget;
  return check.Run(ctx);
}

// Runs `check` until `done` holds for its single result or `timeout` passes; returns the last
// result.
CheckResult RunUntil(agent::Check& check, FileSystem& fs,
                     const std::function<bool(const CheckResult&)>& done,
                     milliseconds timeout = milliseconds(15'000),
                     milliseconds per_run = milliseconds(3'000)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  CheckResult last;
  while (true) {
    auto results = RunOnce(check, fs, per_run);
    EXPECT_EQ(results.size(), 1u);
    if (!results.empty()) last = results[0];
    if (done(last) || std::chrono::steady_clock::now() > end) return last;
    std::this_thread::sleep_for(milliseconds(200));
  }
}

std::unique_ptr<agent::Check> MustCreate(StatusOr<std::unique_ptr<agent::Check>> check) {
  EXPECT_TRUE(check.ok()) << check.status().ToString();
  return check.ok() ? std::move(check).value() : nullptr;
}


// ---------------------------------------------------------------------------------------------
// NUT

std::string UpsDev(const std::string& status, int charge, int runtime, double input_voltage) {
  return fmt::format(
      "device.type: ups\ndevice.mfr: Dummy Corp\ndevice.model: SimUPS 1500\n"
      "ups.mfr: Dummy Corp\nups.model: SimUPS 1500\nups.serial: SIM0001\n"
      "ups.status: {}\nups.load: 23\nups.realpower.nominal: 900\nbattery.charge: {}\n"
      "battery.charge.low: 10\nbattery.runtime: {}\nbattery.voltage: 12.1\n"
      "input.voltage: {:.1f}\ninput.voltage.nominal: 230\noutput.voltage: 230.0\n",
      status, charge, runtime, input_voltage);
}

class NutPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Executable("/lib/nut/upsd") || !Executable("/lib/nut/dummy-ups")) {
      GTEST_SKIP() << "needs /lib/nut/upsd and /lib/nut/dummy-ups (Debian packages nut-server "
                      "nut-client)";
    }
    port_ = testsupport::FreeLoopbackPort();
    const std::string d = dir_.path();
    std::filesystem::create_directories(d + "/state");
    WriteTextFile(d + "/ups.dev", UpsDev("OL CHRG", 100, 1200, 229.5));
    // The /sbin/upsd wrapper needs MODE=standalone in /etc/nut/nut.conf; the binaries under
    // /lib/nut are called directly with NUT_CONFPATH / NUT_STATEPATH instead.
    WriteTextFile(d + "/ups.conf", "[ups]\n  driver = dummy-ups\n  port = " + d +
                                       "/ups.dev\n  desc = \"Simulated UPS for tests\"\n");
    WriteTextFile(d + "/upsd.conf", fmt::format("LISTEN 127.0.0.1 {}\n", port_));
    WriteTextFile(d + "/upsd.users", "[monitor]\n  password = \"mon pass\"\n  upsmon secondary\n");
    WriteTextFile(d + "/nut.conf", "MODE=standalone\n");
    WriteTextFile(d + "/monitor.pass", "mon pass\n");
    std::vector<std::string> user;
    if (::geteuid() == 0) {
      // As root both daemons drop to user nut, which must be able to read and write here.
      const passwd* pw = ::getpwnam("nut");
      ASSERT_NE(pw, nullptr) << "no user 'nut' (created by the nut-server package)";
      for (const auto& e : std::filesystem::recursive_directory_iterator(d)) {
        ASSERT_EQ(::chown(e.path().c_str(), pw->pw_uid, pw->pw_gid), 0) << e.path();
      }
      ASSERT_EQ(::chown(d.c_str(), pw->pw_uid, pw->pw_gid), 0);
      std::filesystem::permissions(d + "/upsd.users", std::filesystem::perms(0640));
      user = {"-u", "nut"};
    }
    std::vector<std::string> env = {"/usr/bin/env", "NUT_CONFPATH=" + d,
                                    "NUT_STATEPATH=" + d + "/state"};
    std::vector<std::string> driver_argv = env;
    driver_argv.insert(driver_argv.end(), {"/lib/nut/dummy-ups", "-a", "ups", "-F"});
    driver_argv.insert(driver_argv.end(), user.begin(), user.end());
    driver_ = std::make_unique<Process>(driver_argv, d + "/driver.log");
    for (int i = 0; i < 200 && !std::filesystem::exists(d + "/state/dummy-ups-ups"); ++i) {
      std::this_thread::sleep_for(milliseconds(25));
    }
    ASSERT_TRUE(std::filesystem::exists(d + "/state/dummy-ups-ups"))
        << testsupport::ReadTextFile(d + "/driver.log");
    std::vector<std::string> upsd_argv = env;
    upsd_argv.insert(upsd_argv.end(), {"/lib/nut/upsd", "-F", "-4"});
    upsd_argv.insert(upsd_argv.end(), user.begin(), user.end());
    upsd_ = std::make_unique<Process>(upsd_argv, d + "/upsd.log");
    // Ready when upsd serves the driver's data (it answers WAIT / refuses for about 1-2 s).
    auto check = Check("ups: ups");
    CheckResult r = RunUntil(
        *check, *fs_, [](const CheckResult& r) { return r.status != CheckStatus::kUnknown; });
    ASSERT_NE(r.status, CheckStatus::kUnknown) << r.summary << "\n"
                                               << testsupport::ReadTextFile(d + "/upsd.log");
  }

  void TearDown() override {
    StopProcess(upsd_, kStopGrace);
    StopProcess(driver_, kStopGrace);
  }

  std::unique_ptr<agent::Check> Check(const std::string& extra) {
    return MustCreate(agent::NewUpsCheck(
        SpecFromYaml(fmt::format("{{name: ups, type: ups, port: {}, {}}}", port_, extra))));
  }

  void SetUps(const std::string& status, int charge, int runtime, double input_voltage) {
    ReplaceFile(dir_.path() + "/ups.dev", UpsDev(status, charge, runtime, input_voltage));
  }

  testsupport::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  std::unique_ptr<Process> driver_;
  std::unique_ptr<Process> upsd_;
};

TEST_F(NutPeerTest, OnLineThenOnBatteryThenLowBattery) {
  auto check = Check("ups: ups");
  auto results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].target, fmt::format("ups@127.0.0.1:{}", port_));
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_EQ(results[0].summary,
            "on line: charge 100%, runtime left 20m 0s, load 23%, input 229.5 V, output 230.0 V; "
            "charging");
  EXPECT_EQ(*MetricValue(results[0], "ups_on_battery"), 0);
  EXPECT_DOUBLE_EQ(*MetricValue(results[0], "ups_battery_charge_ratio"), 1.0);

  // Mains lost: the driver re-reads the file within its poll interval (2 s).
  SetUps("OB DISCHRG", 90, 1100, 0.0);
  CheckResult r =
      RunUntil(*check, *fs_, [](const CheckResult& r) { return r.status != CheckStatus::kOk; });
  EXPECT_EQ(r.status, CheckStatus::kWarning) << r.summary;
  EXPECT_EQ(r.summary.rfind("ON BATTERY — charge 90%, runtime left 18m 20s", 0), 0u) << r.summary;
  EXPECT_EQ(*MetricValue(r, "ups_on_battery"), 1);
  EXPECT_EQ(*MetricValue(r, "ups_low_battery"), 0);

  SetUps("OB DISCHRG LB", 15, 200, 0.0);
  r = RunUntil(*check, *fs_,
               [](const CheckResult& r) { return r.status == CheckStatus::kCritical; });
  EXPECT_EQ(r.status, CheckStatus::kCritical) << r.summary;
  EXPECT_EQ(r.summary.rfind("ON BATTERY — LOW BATTERY: charge 15% (critical at 20%), runtime left "
                            "3m 20s (critical at 5m 0s)",
                            0),
            0u)
      << r.summary;
  EXPECT_EQ(*MetricValue(r, "ups_low_battery"), 1);

  // Power back.
  SetUps("OL CHRG", 60, 900, 231.0);
  r = RunUntil(*check, *fs_, [](const CheckResult& r) { return r.status == CheckStatus::kOk; });
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
}

TEST_F(NutPeerTest, AllUpsesAndCredentialsFromAFile) {
  auto check = Check(fmt::format("username: monitor, password_file: {}/monitor.pass", dir_.path()));
  auto results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].target, fmt::format("ups@127.0.0.1:{}", port_));
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_NE(results[0].details_json.find("\"device.model\":\"SimUPS 1500\""), std::string::npos)
      << results[0].details_json;
}

TEST_F(NutPeerTest, UnknownUpsAndStoppedDriverAreUnknownWithUpsdsReason) {
  auto wrong = Check("ups: nosuch");
  auto results = RunOnce(*wrong, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary, "cannot read UPS: upsd does not know this UPS (ERR UNKNOWN-UPS)");

  StopProcess(driver_, kStopGrace);
  auto check = Check("ups: ups");
  CheckResult r = RunUntil(*check, *fs_,
                           [](const CheckResult& r) { return r.status == CheckStatus::kUnknown; });
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary,
            "cannot read UPS: upsd is not connected to the UPS driver (ERR DRIVER-NOT-CONNECTED)");
}

TEST_F(NutPeerTest, StoppedUpsdIsUnknownConnectionRefused) {
  StopProcess(upsd_, kStopGrace);
  auto check = Check("ups: ups");
  auto results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary,
            fmt::format("cannot connect to upsd at 127.0.0.1:{}: connection refused", port_));
}

// ---------------------------------------------------------------------------------------------
// clamd

// The .ndb inside the .cud container matches an arbitrary marker (hex of "steadfast"), not EICAR:
// the container only has to give clamd a versioned, dated database.
constexpr char kUnrelatedNdb[] = "Test.Steadfast-Marker:0:*:737465616466617374\n";

class ClamdPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Executable("/usr/sbin/clamd")) {
      GTEST_SKIP() << "needs /usr/sbin/clamd (Debian package clamav-daemon)";
    }
    const std::string d = dir_.path();
    std::filesystem::create_directories(d + "/db");
    std::filesystem::create_directories(d + "/tmp");
    socket_ = d + "/clamd.sock";
    WriteTextFile(d + "/clamd.conf", "DatabaseDirectory " + d + "/db\nLocalSocket " + socket_ +
                                         "\nFixStaleSocket yes\nForeground yes\nLogFile " + d +
                                         "/clamd.log\nLogTime yes\nTemporaryDirectory " + d +
                                         "/tmp\nMaxThreads 2\nSelfCheck 600\n");
  }
  void TearDown() override { StopProcess(clamd_, kStopGrace); }

  // A daily.cud with database `version` built `age` ago (tests/peers/make_clamav_cud.sh).
  void AddVersionedDatabase(int version, std::chrono::seconds age) {
    const std::string sig = dir_.path() + "/marker.ndb";
    WriteTextFile(sig, kUnrelatedNdb);
    const int64_t built =
        std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count() -
        age.count();
    Process make(
        {"/bin/sh", std::string(SF_SOURCE_DIR) + "/tests/peers/make_clamav_cud.sh",
         dir_.path() + "/db/daily.cud", std::to_string(version), std::to_string(built), sig},
        dir_.path() + "/make_cud.log");
    ASSERT_EQ(make.Wait(milliseconds(30'000)), 0) << testsupport::ReadTextFile(make.log_path());
  }
  // The EICAR test file's MD5 signature (hash:size:name, the .hdb format).
  void AddEicarSignature() {
    WriteTextFile(dir_.path() + "/db/test.hdb",
                  "44d88612fea8a8f36de82e1278abb02f:68:Test.EICAR-HDB\n");
  }

  void StartClamd() {
    clamd_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/sbin/clamd", "--config-file=" + dir_.path() + "/clamd.conf"},
        dir_.path() + "/clamd.stdout");
    const auto end = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < end) {
      auto sock = agent::StreamSocket::ConnectUnix(
          socket_, std::chrono::steady_clock::now() + milliseconds(500));
      if (sock.ok() && sock->WriteAll(std::string("zPING\0", 6)).ok()) {
        auto reply = sock->ReadUntil('\0', 64);
        if (reply.ok() && *reply == "PONG") return;
      }
      ASSERT_TRUE(clamd_->running()) << testsupport::ReadTextFile(dir_.path() + "/clamd.log")
                                     << testsupport::ReadTextFile(dir_.path() + "/clamd.stdout");
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "clamd not ready: " << testsupport::ReadTextFile(dir_.path() + "/clamd.log");
  }

  std::unique_ptr<agent::Check> Check(bool self_test) {
    return MustCreate(agent::NewAntivirusCheck(SpecFromYaml(fmt::format(
        "{{name: av, type: antivirus, socket: '{}', self_test: {}}}", socket_, self_test))));
  }

  testsupport::TempDir dir_;
  std::string socket_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  std::unique_ptr<Process> clamd_;
};

TEST_F(ClamdPeerTest, FreshDatabaseAndEicarSelfTest) {
  AddVersionedDatabase(27123, std::chrono::hours(26));
  AddEicarSignature();
  StartClamd();
  auto check = Check(/*self_test=*/true);
  auto results = RunOnce(*check, *fs_, milliseconds(10'000));
  ASSERT_EQ(results.size(), 1u);
  const CheckResult& r = results[0];
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.target, socket_);
  EXPECT_EQ(r.summary.rfind("ClamAV ", 0), 0u) << r.summary;
  EXPECT_NE(r.summary.find(" up, signatures 27123 built "), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find("(1.1 days old)"), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find("EICAR self-test detected (Test.EICAR-HDB.UNOFFICIAL)"),
            std::string::npos)
      << r.summary;
  EXPECT_EQ(*MetricValue(r, "antivirus_engine_up"), 1);
  EXPECT_EQ(*MetricValue(r, "antivirus_signature_version"), 27123);
  EXPECT_NEAR(*MetricValue(r, "antivirus_signature_age_seconds"), 26 * 3600, 120);
  EXPECT_EQ(*MetricValue(r, "antivirus_selftest_detected"), 1);
}

TEST_F(ClamdPeerTest, OldDatabaseIsCritical) {
  AddVersionedDatabase(27001, std::chrono::hours(24 * 10));
  AddEicarSignature();
  StartClamd();
  auto results = RunOnce(*Check(false), *fs_, milliseconds(10'000));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind("signatures 10.0 days old (critical at 7 days); ClamAV ", 0),
            0u)
      << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "antivirus_signature_version"), 27001);
}

TEST_F(ClamdPeerTest, ClamdThatMissesEicarIsCritical) {
  AddVersionedDatabase(27123, std::chrono::hours(2));  // no EICAR signature loaded
  StartClamd();
  auto results = RunOnce(*Check(true), *fs_, milliseconds(10'000));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind("clamd did NOT detect the EICAR test file; ClamAV ", 0), 0u)
      << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "antivirus_selftest_detected"), 0);
}

TEST_F(ClamdPeerTest, OnlyLocalSignaturesIsWarningAndStoppedClamdUnknown) {
  AddEicarSignature();
  StartClamd();
  auto check = Check(true);
  auto results = RunOnce(*check, *fs_, milliseconds(10'000));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kWarning) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind(
                "clamd reports no signature database version (only local signatures loaded?); "
                "ClamAV ",
                0),
            0u)
      << results[0].summary;

  StopProcess(clamd_, kStopGrace);
  results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(results[0].summary.rfind("cannot reach clamd at " + socket_ + ": ", 0), 0u)
      << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "antivirus_engine_up"), 0);
}

// ---------------------------------------------------------------------------------------------
// snmpd

int FreeUdpPort() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class SnmpdPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Executable("/usr/sbin/snmpd")) {
      GTEST_SKIP() << "needs /usr/sbin/snmpd (Debian package snmpd)";
    }
    port_ = FreeUdpPort();
    const std::string d = dir_.path();
    UseUpsState("ups_mib_online.txt");
    WriteTextFile(d + "/community", "steadfast-ro\n");
    WriteTextFile(d + "/wrong-community", "not-the-community\n");
    WriteTextFile(d + "/auth", "auth-pass-123\n");
    WriteTextFile(d + "/priv", "priv-pass-456\n");
    WriteTextFile(d + "/wrong-auth", "auth-pass-999\n");
    WriteTextFile(
        d + "/snmpd.conf",
        fmt::format("agentAddress udp:127.0.0.1:{}\n"
                    "rocommunity steadfast-ro 127.0.0.1\n"
                    "createUser monitor SHA \"auth-pass-123\" AES \"priv-pass-456\"\n"
                    "rouser monitor priv\n"
                    "pass .1.3.6.1.2.1.33 /bin/sh {}/tests/peers/ups_mib_pass.sh {}/ups_state\n",
                    port_, SF_SOURCE_DIR, d));
    // -C: only our config; MIBS= and the persistent directory keep snmpd away from the MIB
    // files and /var/lib/snmp (where createUser would otherwise be saved).
    snmpd_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/env", "MIBS=", "SNMP_PERSISTENT_DIR=" + d + "/persist",
                                 "/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", d + "/snmpd.conf"},
        d + "/snmpd.log");
    auto probe = Check("oids: [{oid: 1.3.6.1.2.1.1.5.0, name: sysName}]");
    // UDP: until snmpd has bound its port a request just goes unanswered, so probe briefly.
    CheckResult r = RunUntil(
        *probe, *fs_, [](const CheckResult& r) { return r.status != CheckStatus::kUnknown; },
        milliseconds(15'000), milliseconds(300));
    ASSERT_EQ(r.status, CheckStatus::kOk) << r.summary << "\n"
                                          << testsupport::ReadTextFile(d + "/snmpd.log");
  }
  void TearDown() override { StopProcess(snmpd_, kStopGrace); }

  void UseUpsState(const std::string& fixture) {
    ReplaceFile(dir_.path() + "/ups_state",
                testsupport::ReadTextFile(std::string(SF_AGENT_TESTDATA_DIR) + "/snmp/" + fixture));
  }

  std::unique_ptr<agent::Check> Check(const std::string& extra,
                                      const std::string& credentials = "") {
    const std::string creds = credentials.empty()
                                  ? fmt::format("community_file: {}/community", dir_.path())
                                  : credentials;
    return MustCreate(agent::NewSnmpCheck(SpecFromYaml(
        fmt::format("{{name: snmp, type: snmp, host: 127.0.0.1, port: {}, retries: 0, {}, {}}}",
                    port_, creds, extra))));
  }

  testsupport::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  std::unique_ptr<Process> snmpd_;
};

TEST_F(SnmpdPeerTest, V2cGetAndIfMibWalk) {
  auto check = Check(
      "profile: if-mib, interfaces: [lo, 'eth*'], oids: [{oid: 1.3.6.1.2.1.1.3.0, name: "
      "sysUpTime, scale: 0.01, unit: seconds, critical_below: 0}]");
  auto results = RunOnce(*check, *fs_);
  const std::string host = fmt::format("127.0.0.1:{}", port_);
  const CheckResult* lo = agent::testing::FindTarget(results, host + "/lo");
  ASSERT_NE(lo, nullptr);
  EXPECT_EQ(lo->status, CheckStatus::kOk) << lo->summary;
  EXPECT_EQ(lo->summary.rfind("up", 0), 0u) << lo->summary;
  EXPECT_EQ(*MetricValue(*lo, "snmp_if_up"), 1);
  EXPECT_EQ(*MetricValue(*lo, "snmp_if_admin_up"), 1);
  EXPECT_GT(*MetricValue(*lo, "snmp_if_receive_bytes_total"), 0);
  EXPECT_GT(*MetricValue(*lo, "snmp_if_transmit_bytes_total"), 0);
  EXPECT_TRUE(MetricValue(*lo, "snmp_if_receive_errs_total").has_value());
  for (const CheckResult& r : results) {
    EXPECT_NE(r.status, CheckStatus::kUnknown) << r.target << ": " << r.summary;
  }
  const CheckResult* uptime = agent::testing::FindTarget(results, host + "/sysUpTime");
  ASSERT_NE(uptime, nullptr);
  EXPECT_EQ(uptime->status, CheckStatus::kOk) << uptime->summary;
  EXPECT_GT(*MetricValue(*uptime, "snmp_value"), 0);
  EXPECT_LT(*MetricValue(*uptime, "snmp_value"), 600);
}

TEST_F(SnmpdPeerTest, WalkOfIfOperStatusWithExpectedValue) {
  auto check = Check(
      "oids: [{oid: 1.3.6.1.2.1.2.2.1.7, name: ifAdminStatus, walk: true, expect: "
      "['1', '2']}]");
  auto results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_NE(results[0].summary.find("values, all ok"), std::string::npos) << results[0].summary;
}

TEST_F(SnmpdPeerTest, V3AuthPrivAndWrongPassword) {
  const std::string d = dir_.path();
  auto check = Check("oids: [{oid: 1.3.6.1.2.1.1.5.0, name: sysName}]",
                     fmt::format("version: 3, username: monitor, auth_protocol: SHA, "
                                 "auth_password_file: {0}/auth, priv_protocol: AES, "
                                 "priv_password_file: {0}/priv",
                                 d));
  auto results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind("sysName = '", 0), 0u) << results[0].summary;

  auto wrong = Check("oids: [{oid: 1.3.6.1.2.1.1.5.0, name: sysName}]",
                     fmt::format("version: 3, username: monitor, auth_password_file: "
                                 "{0}/wrong-auth, priv_password_file: {0}/priv",
                                 d));
  results = RunOnce(*wrong, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("authentication failure"), std::string::npos)
      << results[0].summary;

  // The right password again: the failed session must not have left stale keys behind.
  results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;

  auto unknown_user = Check("oids: [{oid: 1.3.6.1.2.1.1.5.0, name: sysName}]",
                            fmt::format("version: 3, username: nobody, auth_password_file: "
                                        "{0}/auth, priv_password_file: {0}/priv",
                                        d));
  results = RunOnce(*unknown_user, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_NE(results[0].summary.find("does not know this user"), std::string::npos)
      << results[0].summary;
}

TEST_F(SnmpdPeerTest, WrongCommunityTimesOutWithinTheDeadline) {
  auto check = Check("oids: [{oid: 1.3.6.1.2.1.1.5.0, name: sysName}]",
                     fmt::format("community_file: {}/wrong-community", dir_.path()));
  const auto start = std::chrono::steady_clock::now();
  auto results = RunOnce(*check, *fs_, milliseconds(1'500));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(
      results[0].summary.rfind(fmt::format("no response from 127.0.0.1:{} within 1.", port_), 0),
      0u)
      << results[0].summary;
  EXPECT_NE(results[0].summary.find("wrong community"), std::string::npos);
  EXPECT_EQ(*MetricValue(results[0], "snmp_up"), 0);
  EXPECT_LT(took, milliseconds(2'500));
}

TEST_F(SnmpdPeerTest, UpsMibProfileOverARealSnmpd) {
  auto check = Check("profile: ups-mib");
  auto results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].target, fmt::format("127.0.0.1:{}/ups", port_));
  EXPECT_EQ(results[0].status, CheckStatus::kOk) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind("on line: charge 100%, runtime left 45m 0s, load 23%", 0), 0u)
      << results[0].summary;

  UseUpsState("ups_mib_on_battery.txt");
  results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kWarning) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind("ON BATTERY — charge 81%", 0), 0u) << results[0].summary;
  EXPECT_EQ(*MetricValue(results[0], "ups_on_battery"), 1);

  UseUpsState("ups_mib_low_battery.txt");
  results = RunOnce(*check, *fs_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, CheckStatus::kCritical) << results[0].summary;
  EXPECT_EQ(results[0].summary.rfind("ON BATTERY — LOW BATTERY", 0), 0u) << results[0].summary;
}

}  // namespace
}  // namespace steadfast
