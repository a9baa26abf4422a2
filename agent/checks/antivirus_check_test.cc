#include "agent/checks/antivirus_check.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/testing/fake_command_runner.h"
#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::MetricValue;
using testing::SpecFromYaml;
using testing::TempDir;

// Replies recorded from clamd 1.4.6 (Debian clamav-daemon), NUL terminators included.
std::string Fixture(const std::string& name) { return testing::Testdata("antivirus/" + name); }

// The unix time of a broken-down local time, as the check computes it.
int64_t LocalEpoch(std::tm tm) {
  tm.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&tm));
}

TEST(ClamdProtocolTest, ParsesRecordedVersionReplies) {
  auto v = ParseClamdVersion(Fixture("version_cud.bin"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->engine, "1.4.6");
  EXPECT_EQ(v->db_version, 27123);
  EXPECT_EQ(v->db_time_text, "Thu Nov 19 11:21:55 2026");
  ASSERT_TRUE(v->db_time.has_value());
  EXPECT_EQ(v->db_time->tm_year, 126);
  EXPECT_EQ(v->db_time->tm_mon, 10);
  EXPECT_EQ(v->db_time->tm_mday, 19);
  EXPECT_EQ(v->db_time->tm_hour, 11);
  EXPECT_EQ(v->db_time->tm_min, 21);

  auto local = ParseClamdVersion(Fixture("version_local.bin"));
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(local->engine, "1.4.6");
  EXPECT_FALSE(local->db_version.has_value());
  EXPECT_FALSE(local->db_time.has_value());

  // A single-digit day is space-padded by ctime().
  auto padded = ParseClamdVersion("ClamAV 1.0.5/27000/Sun Nov  8 09:00:00 2026\n");
  ASSERT_TRUE(padded.ok()) << padded.status().ToString();
  EXPECT_EQ(padded->db_time->tm_mday, 8);

  EXPECT_EQ(ParseClamdVersion("PONG").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseClamdVersion("ClamAV 1.4.6/abc/x").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseClamdVersion("ClamAV 1.4.6/1/yesterday").status().code(), StatusCode::kDataLoss);
}

TEST(ClamdProtocolTest, ParsesRecordedScanReplies) {
  auto found = ParseClamdScanReply(Fixture("instream_eicar_found.bin"));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, "Test.EICAR-HDB.UNOFFICIAL");
  auto clean = ParseClamdScanReply(Fixture("instream_clean.bin"));
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(*clean, "");
  auto too_big = ParseClamdScanReply(Fixture("instream_too_big.bin"));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(too_big.status().message(), "INSTREAM size limit exceeded. ERROR");
  EXPECT_EQ(ParseClamdScanReply("what?").status().code(), StatusCode::kDataLoss);
}

TEST(ClamdProtocolTest, EicarTestFileIsTheStandardOne) {
  const std::string eicar = EicarTestFile();
  ASSERT_EQ(eicar.size(), 68u);
  // FNV-1a 64 of the 68 bytes, computed independently (Python) from the published string.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : eicar) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  EXPECT_EQ(h, 0x4c4b83eef5c7ac63ull);
}

TEST(ClamdProtocolTest, InstreamFramesChunksBigEndian) {
  const std::string req = ClamdInstreamRequest("abcdefghij", 4);
  const std::string expected = std::string("zINSTREAM\0", 10) + std::string("\0\0\0\4abcd", 8) +
                               std::string("\0\0\0\4efgh", 8) + std::string("\0\0\0\2ij", 6) +
                               std::string("\0\0\0\0", 4);
  EXPECT_EQ(req, expected);
  const std::string big = ClamdInstreamRequest(std::string(300, 'x'), 8192);
  EXPECT_EQ(big.substr(10, 4), std::string("\0\0\x01\x2c", 4));  // 300
}

// A clamd stand-in on a unix socket: one command per connection, replies from a table keyed
// by the command (for zINSTREAM: by the streamed bytes).
class FakeClamd {
 public:
  FakeClamd(std::string path, std::map<std::string, std::string> replies)
      : path_(std::move(path)), replies_(std::move(replies)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeClamd() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int connections() const { return connections_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      std::string in;
      char buf[4096];
      std::string reply;
      while (true) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        size_t nul = in.find('\0');
        if (nul == std::string::npos) continue;
        const std::string cmd = in.substr(0, nul);
        if (cmd != "zINSTREAM") {
          reply = replies_.count(cmd) ? replies_.at(cmd) : std::string("UNKNOWN COMMAND\0", 16);
          break;
        }
        // Chunks until the zero length.
        std::string data;
        size_t pos = nul + 1;
        bool complete = false;
        while (pos + 4 <= in.size()) {
          uint32_t len =
              (static_cast<uint8_t>(in[pos]) << 24) | (static_cast<uint8_t>(in[pos + 1]) << 16) |
              (static_cast<uint8_t>(in[pos + 2]) << 8) | static_cast<uint8_t>(in[pos + 3]);
          if (len == 0) {
            complete = true;
            break;
          }
          if (pos + 4 + len > in.size()) break;
          data += in.substr(pos + 4, len);
          pos += 4 + len;
        }
        if (!complete) continue;
        reply = replies_.count("INSTREAM:" + data) ? replies_.at("INSTREAM:" + data)
                                                   : std::string("stream: OK\0", 11);
        break;
      }
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::string path_;
  std::map<std::string, std::string> replies_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

class ClamavCheckTest : public ::testing::Test {
 protected:
  CheckResult Run(AntivirusCheckOptions o) {
    AntivirusCheck check("av", std::move(o));
    CheckContext ctx{clock_, fs_};
    ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    auto results = check.Run(ctx);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  AntivirusCheckOptions Options() {
    AntivirusCheckOptions o;
    o.socket_path = dir_.path() + "/clamd.sock";
    return o;
  }
  // Sets the fake clock `days` after the recorded database's build time.
  void DaysAfterDatabase(double days) {
    auto v = ParseClamdVersion(Fixture("version_cud.bin"));
    ASSERT_TRUE(v.ok());
    clock_.SetMillis(LocalEpoch(*v->db_time) * 1000 + static_cast<int64_t>(days * 86'400'000));
  }
  std::map<std::string, std::string> Replies(const std::string& version_fixture) {
    return {{"zPING", Fixture("ping.bin")}, {"zVERSION", Fixture(version_fixture)}};
  }
  TempDir dir_;
  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
};

TEST_F(ClamavCheckTest, FreshSignaturesAreOk) {
  FakeClamd clamd(dir_.path() + "/clamd.sock", Replies("version_cud.bin"));
  DaysAfterDatabase(1.5);
  CheckResult r = Run(Options());
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.summary,
            "ClamAV 1.4.6 up, signatures 27123 built Thu Nov 19 11:21:55 2026 (1.5 days old)");
  EXPECT_EQ(r.target, dir_.path() + "/clamd.sock");
  EXPECT_EQ(*MetricValue(r, "antivirus_engine_up"), 1);
  EXPECT_EQ(*MetricValue(r, "antivirus_signature_version"), 27123);
  EXPECT_DOUBLE_EQ(*MetricValue(r, "antivirus_signature_age_seconds"), 1.5 * 86'400);
  EXPECT_FALSE(MetricValue(r, "antivirus_selftest_detected").has_value());
  EXPECT_EQ(clamd.connections(), 2);
}

TEST_F(ClamavCheckTest, SignatureAgeThresholds) {
  FakeClamd clamd(dir_.path() + "/clamd.sock", Replies("version_cud.bin"));
  DaysAfterDatabase(4);
  CheckResult r = Run(Options());
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary.rfind("signatures 4.0 days old (warning at 3 days); ClamAV 1.4.6 up", 0), 0u)
      << r.summary;
  DaysAfterDatabase(10);
  r = Run(Options());
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("signatures 10.0 days old (critical at 7 days); ", 0), 0u) << r.summary;
}

TEST_F(ClamavCheckTest, NoDatabaseVersionIsWarning) {
  FakeClamd clamd(dir_.path() + "/clamd.sock", Replies("version_local.bin"));
  CheckResult r = Run(Options());
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary,
            "clamd reports no signature database version (only local signatures loaded?); "
            "ClamAV 1.4.6 up");
  EXPECT_FALSE(MetricValue(r, "antivirus_signature_age_seconds").has_value());
}

TEST_F(ClamavCheckTest, SelfTestMustDetectEicar) {
  auto replies = Replies("version_cud.bin");
  replies["INSTREAM:" + EicarTestFile()] = Fixture("instream_eicar_found.bin");
  DaysAfterDatabase(1);
  AntivirusCheckOptions o = Options();
  o.self_test = true;
  {
    FakeClamd clamd(dir_.path() + "/clamd.sock", replies);
    CheckResult r = Run(o);
    EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
    EXPECT_NE(r.summary.find("EICAR self-test detected (Test.EICAR-HDB.UNOFFICIAL)"),
              std::string::npos)
        << r.summary;
    EXPECT_EQ(*MetricValue(r, "antivirus_selftest_detected"), 1);
  }
  ::unlink((dir_.path() + "/clamd.sock").c_str());
  {
    FakeClamd blind(dir_.path() + "/clamd.sock", Replies("version_cud.bin"));  // answers OK
    CheckResult r = Run(o);
    EXPECT_EQ(r.status, CheckStatus::kCritical);
    EXPECT_EQ(r.summary.rfind("clamd did NOT detect the EICAR test file; ", 0), 0u) << r.summary;
    EXPECT_EQ(*MetricValue(r, "antivirus_selftest_detected"), 0);
  }
  ::unlink((dir_.path() + "/clamd.sock").c_str());
  {
    replies["INSTREAM:" + EicarTestFile()] = Fixture("instream_too_big.bin");
    FakeClamd erring(dir_.path() + "/clamd.sock", replies);
    CheckResult r = Run(o);
    EXPECT_EQ(r.status, CheckStatus::kCritical);
    EXPECT_EQ(r.summary.rfind("EICAR self-test failed: INSTREAM size limit exceeded. ERROR", 0), 0u)
        << r.summary;
  }
}

TEST_F(ClamavCheckTest, WrongPingReplyIsUnknown) {
  FakeClamd clamd(dir_.path() + "/clamd.sock", {{"zPING", std::string("NOPE\0", 5)}});
  CheckResult r = Run(Options());
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary,
            "cannot reach clamd at " + dir_.path() + "/clamd.sock: unexpected PING reply 'NOPE'");
  EXPECT_EQ(*MetricValue(r, "antivirus_engine_up"), 0);
}

// Host test: no clamd runs here, so Debian's default socket path does not exist.
TEST_F(ClamavCheckTest, HostWithoutClamdIsUnknown) {
  auto check = NewAntivirusCheck(SpecFromYaml("{name: av, type: antivirus}"));
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  CheckContext ctx{clock_, fs_};
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  const auto start = std::chrono::steady_clock::now();
  auto results = (*check)->Run(ctx);
  ASSERT_EQ(results.size(), 1u);
  if (results[0].status != CheckStatus::kUnknown) {
    GTEST_SKIP() << "a clamd answers on /run/clamav/clamd.ctl here: " << results[0].summary;
  }
  EXPECT_EQ(results[0].target, "/run/clamav/clamd.ctl");
  EXPECT_EQ(results[0].summary,
            "cannot reach clamd at /run/clamav/clamd.ctl: No such file or directory");
  EXPECT_EQ(*MetricValue(results[0], "antivirus_engine_up"), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ClamavCheckTest, TcpRefusedIsUnknown) {
  testing::LoopbackSocket refusing(/*listen=*/false);
  AntivirusCheckOptions o;
  o.tcp_host = "127.0.0.1";
  o.tcp_port = refusing.port();
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_NE(r.summary.find("connection refused"), std::string::npos) << r.summary;
}

class GenericAntivirusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* dir : {"/fixture/proc/1", "/fixture/proc/812", "/fixture/proc/self"}) {
      ASSERT_TRUE(fs_.CreateDirectories(dir).ok());
    }
    ASSERT_TRUE(fs_.WriteFileAtomic("/fixture/proc/1/comm", "init\n").ok());
    ASSERT_TRUE(fs_.WriteFileAtomic("/fixture/proc/812/comm", "avscand\n").ok());
    ASSERT_TRUE(fs_.WriteFileAtomic("/fixture/proc/self/comm", "avscand\n").ok());
  }
  CheckResult Run(AntivirusCheckOptions o, int64_t definitions_age_seconds) {
    const int64_t now_s = clock_.NowMillis() / 1000;
    AntivirusCheck check("av", std::move(o), [&](const std::string& path) -> StatusOr<int64_t> {
      if (path != "/var/lib/av/defs") return NotFoundError(path + ": no such file or directory");
      return now_s - definitions_age_seconds;
    });
    CheckContext ctx{clock_, fs_, "/fixture/proc"};
    ctx.commands = &runner_;
    auto results = check.Run(ctx);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  AntivirusCheckOptions Options() {
    AntivirusCheckOptions o;
    o.product = AntivirusCheckOptions::Product::kGeneric;
    o.definitions = "/var/lib/av/defs";
    return o;
  }
  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
  testing::FakeCommandRunner runner_;
};

TEST_F(GenericAntivirusTest, ProcessRunningAndFreshDefinitions) {
  AntivirusCheckOptions o = Options();
  o.process = "avscand";
  o.display_name = "AV Scanner";
  CheckResult r = Run(o, 3600);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.target, "AV Scanner");
  EXPECT_EQ(r.summary, "AV Scanner: process avscand running (1), definitions 0.0 days old");
  EXPECT_EQ(*MetricValue(r, "antivirus_engine_up"), 1);
  EXPECT_EQ(*MetricValue(r, "antivirus_signature_age_seconds"), 3600);
}

TEST_F(GenericAntivirusTest, ProcessNotRunningIsCritical) {
  AntivirusCheckOptions o = Options();
  o.process = "kesl";
  o.display_name = "kesl";
  CheckResult r = Run(o, 3600);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary, "kesl: process kesl is not running; definitions 0.0 days old");
  EXPECT_EQ(*MetricValue(r, "antivirus_engine_up"), 0);
}

TEST_F(GenericAntivirusTest, UnitStateFromSystemctl) {
  runner_.Script({"systemctl", "is-active", "kesl.service"}, {0, 0, "active\n", ""});
  runner_.Script({"systemctl", "is-active", "stopped.service"}, {3, 0, "inactive\n", ""});
  runner_.Script({"systemctl", "is-active", "nosystemd.service"},
                 {1, 0, "",
                  "System has not been booted with systemd as init system (PID 1). "
                  "Can't operate.\n"});
  runner_.AddProgram("/usr/bin/systemctl",
                     [](const CommandRequest&, const auto&) { return testing::FakeOutcome{}; });
  AntivirusCheckOptions o = Options();
  o.unit = "kesl.service";
  o.display_name = "Kaspersky";
  CheckResult r = Run(o, 5 * 86'400);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary,
            "Kaspersky: signatures 5.0 days old (warning at 3 days); kesl.service active, "
            "definitions 5.0 days old");

  o.unit = "stopped.service";
  r = Run(o, 60);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary, "Kaspersky: stopped.service is inactive; definitions 0.0 days old");

  o.unit = "nosystemd.service";
  r = Run(o, 60);
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary,
            "Kaspersky: cannot ask systemd about nosystemd.service: System has not been booted "
            "with systemd as init system (PID 1). Can't operate.; definitions 0.0 days old");
  EXPECT_EQ(runner_.call_lines().back(), "systemctl is-active nosystemd.service");
}

TEST_F(GenericAntivirusTest, MissingDefinitionsIsUnknownAndOldOnesCritical) {
  AntivirusCheckOptions o = Options();
  o.process = "avscand";
  o.display_name = "av";
  o.definitions = "/elsewhere";
  CheckResult r = Run(o, 0);
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary,
            "av: cannot read the definitions' age: /elsewhere: no such file or directory; process "
            "avscand running (1)");
  o.definitions = "/var/lib/av/defs";
  r = Run(o, 8 * 86'400);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
}

TEST(NewestModifiedTimeTest, FileAndDirectory) {
  TempDir dir;
  const std::string sub = dir.path() + "/bases/daily";
  std::filesystem::create_directories(sub);
  std::ofstream(dir.path() + "/bases/old.dat") << "x";
  std::ofstream(sub + "/new.dat") << "y";
  const auto now = std::filesystem::file_time_type::clock::now();
  std::filesystem::last_write_time(dir.path() + "/bases/old.dat", now - std::chrono::hours(48));
  std::filesystem::last_write_time(sub + "/new.dat", now - std::chrono::hours(2));
  auto newest = NewestModifiedTime(dir.path() + "/bases");
  ASSERT_TRUE(newest.ok()) << newest.status().ToString();
  const int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  EXPECT_NEAR(static_cast<double>(now_unix - *newest), 7200, 5);
  auto file = NewestModifiedTime(dir.path() + "/bases/old.dat");
  ASSERT_TRUE(file.ok());
  EXPECT_NEAR(static_cast<double>(now_unix - *file), 48 * 3600, 5);
  EXPECT_EQ(NewestModifiedTime(dir.path() + "/missing").status().code(), StatusCode::kNotFound);
  std::filesystem::create_directories(dir.path() + "/empty");
  EXPECT_EQ(NewestModifiedTime(dir.path() + "/empty").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(AntivirusFactoryTest, ValidatesItsKeys) {
  auto clamav = NewAntivirusCheck(
      SpecFromYaml("{name: av, type: antivirus, socket: /var/run/clamd.sock, self_test: true, "
                   "signature_warning_days: 2, signature_critical_days: 5}"));
  ASSERT_TRUE(clamav.ok()) << clamav.status().ToString();
  EXPECT_EQ(dynamic_cast<AntivirusCheck*>(clamav->get())->Target(), "/var/run/clamd.sock");
  auto tcp = NewAntivirusCheck(SpecFromYaml("{name: av, type: antivirus, address: 'av1:3310'}"));
  ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
  EXPECT_EQ(dynamic_cast<AntivirusCheck*>(tcp->get())->Target(), "av1:3310");
  auto generic = NewAntivirusCheck(
      SpecFromYaml("{name: av, type: antivirus, product: generic, unit: kesl.service, "
                   "definitions: /var/opt/kaspersky/bases}"));
  ASSERT_TRUE(generic.ok()) << generic.status().ToString();
  EXPECT_EQ(dynamic_cast<AntivirusCheck*>(generic->get())->Target(), "kesl.service");

  auto both =
      NewAntivirusCheck(SpecFromYaml("name: av\ntype: antivirus\nsocket: /s\naddress: h:1\n"));
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("agent.yaml:4: address: set either socket"),
            std::string::npos)
      << both.status().message();
  auto mixed = NewAntivirusCheck(
      SpecFromYaml("name: av\ntype: antivirus\nproduct: generic\nprocess: x\ndefinitions: /d\n"
                   "self_test: true\n"));
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("agent.yaml:6: self_test: only for product: clamav"),
            std::string::npos)
      << mixed.status().message();
  EXPECT_FALSE(
      NewAntivirusCheck(SpecFromYaml("{name: av, type: antivirus, product: norton}")).ok());
  EXPECT_FALSE(
      NewAntivirusCheck(SpecFromYaml("{name: av, type: antivirus, product: generic, unit: u}"))
          .ok());  // no definitions
  EXPECT_FALSE(NewAntivirusCheck(
                   SpecFromYaml("{name: av, type: antivirus, product: generic, definitions: /d}"))
                   .ok());  // neither unit nor process
  EXPECT_FALSE(
      NewAntivirusCheck(SpecFromYaml("{name: av, type: antivirus, socket: rel.sock}")).ok());
  EXPECT_FALSE(NewAntivirusCheck(SpecFromYaml("{name: av, type: antivirus, unit: u}")).ok());
  EXPECT_FALSE(NewAntivirusCheck(SpecFromYaml("{name: av, type: antivirus, "
                                              "signature_warning_days: 9, "
                                              "signature_critical_days: 7}"))
                   .ok());
  EXPECT_FALSE(NewAntivirusCheck(SpecFromYaml("{name: av, type: antivirus, selftest: true}")).ok());
}

}  // namespace
}  // namespace steadfast::agent
