// The agent's dns and http checks against real servers started by the test on loopback, each in
// its own temporary directory and stopped in TearDown:
//   dns   dnsmasq (Debian dnsmasq-base) on a free port, authoritative for example.test from
//         command-line records (A, AAAA, CNAME, MX, TXT, PTR); no upstream, no hosts file
//   http  python3 -m http.server serving a directory (keyword checks), and openssl s_server
//         -WWW with a certificate made at test time valid for 5 days (critical days left) that
//         the check trusts through ca_file, or does not (untrusted: critical)
// The ping check runs for real in agent_test (checks/ping_check_test.cc): it needs no server.
// A missing binary skips the tests that need it, naming the Debian package.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/check.h"
#include "agent/checks/dns_check.h"
#include "agent/checks/http_check.h"
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
using testsupport::Process;
using testsupport::StopProcess;
using testsupport::WriteTextFile;

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

CheckResult RunOnce(agent::Check& check, milliseconds budget = milliseconds(3'000)) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  ctx.deadline = clock.Monotonic() + budget;
  auto results = check.Run(ctx);
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? CheckResult{} : results[0];
}

std::unique_ptr<agent::Check> Make(StatusOr<std::unique_ptr<agent::Check>> check) {
  EXPECT_TRUE(check.ok()) << check.status().ToString();
  return check.ok() ? std::move(check).value() : nullptr;
}

bool TcpAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

bool WaitForPort(int port, milliseconds timeout = milliseconds(5'000)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (TcpAccepts(port)) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// dnsmasq

class DnsmasqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Executable("/usr/sbin/dnsmasq")) {
      GTEST_SKIP() << "needs /usr/sbin/dnsmasq (Debian package dnsmasq-base)";
    }
    port_ = testsupport::FreeLoopbackPort();
    dnsmasq_ = std::make_unique<Process>(
        std::vector<std::string>{
            "/usr/sbin/dnsmasq", "--keep-in-foreground", "--log-facility=-",
            fmt::format("--port={}", port_), "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file=",
            "--local=/example.test/",
            "--host-record=www.example.test,192.0.2.10,2001:db8::10",
            "--host-record=www.example.test,192.0.2.11",
            "--cname=alias.example.test,www.example.test",
            "--mx-host=example.test,mail.example.test,10",
            "--txt-record=example.test,v=spf1 -all"},
        dir_.path() + "/dnsmasq.log");
    ASSERT_TRUE(WaitForPort(port_)) << "dnsmasq did not start; see " << dir_.path()
                                    << "/dnsmasq.log";
  }
  void TearDown() override { StopProcess(dnsmasq_); }

  CheckResult Dns(const std::string& keys) {
    auto check = Make(agent::NewDnsCheck(SpecFromYaml(fmt::format(
        "{{name: dns, type: dns, server: '127.0.0.1:{}', {}}}", port_, keys))));
    return check ? RunOnce(*check) : CheckResult{};
  }

  testsupport::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Process> dnsmasq_;
};

TEST_F(DnsmasqTest, ExpectedAnswers) {
  CheckResult r = Dns("query: www.example.test, expect: [192.0.2.10, 192.0.2.11]");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.target, "www.example.test A");
  EXPECT_EQ(r.summary.rfind(fmt::format("www.example.test A 192.0.2.1"), 0), 0u) << r.summary;
  EXPECT_NE(r.summary.find(fmt::format(" from 127.0.0.1:{} in ", port_)), std::string::npos)
      << r.summary;
  EXPECT_EQ(*MetricValue(r, "dns_answer_records"), 2);
  EXPECT_EQ(*MetricValue(r, "dns_rcode"), 0);
  EXPECT_EQ(*MetricValue(r, "dns_expected_ok"), 1);
  EXPECT_LT(*MetricValue(r, "dns_lookup_seconds"), 0.5);

  EXPECT_EQ(Dns("query: www.example.test, record_type: AAAA, expect: '2001:DB8::10'").status,
            CheckStatus::kOk);
  r = Dns("query: example.test, record_type: MX, expect: '10 mail.example.test.'");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  r = Dns("query: example.test, record_type: TXT, expect: 'v=spf1 -all'");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  r = Dns("query: alias.example.test, record_type: CNAME, expect: www.example.test");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  r = Dns("query: 192.0.2.10, record_type: PTR, expect: www.example.test");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.target, "10.2.0.192.in-addr.arpa PTR");
  // An A query for the alias follows the CNAME; the chain is in the details.
  r = Dns("query: alias.example.test, expect: 192.0.2.10, expect_match: any");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  auto details = nlohmann::json::parse(r.details_json);
  EXPECT_EQ(details["records"][0]["type"], "CNAME");
}

TEST_F(DnsmasqTest, WrongAnswerIsCritical) {
  CheckResult r = Dns("query: www.example.test, expect: 192.0.2.99");
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("wrong answer: missing 192.0.2.99 (www.example.test A 192.0.2.1", 0), 0u)
      << r.summary;
  EXPECT_EQ(*MetricValue(r, "dns_expected_ok"), 0);
  r = Dns("query: www.example.test, expect: 192.0.2.10, expect_match: exact");
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("wrong answer: unexpected 192.0.2.11", 0), 0u) << r.summary;
}

TEST_F(DnsmasqTest, NxdomainIsCriticalUnlessExpected) {
  CheckResult r = Dns("query: gone.example.test");
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("NXDOMAIN for gone.example.test A (from 127.0.0.1:", 0), 0u)
      << r.summary;
  EXPECT_EQ(*MetricValue(r, "dns_rcode"), 3);
  r = Dns("query: gone.example.test, expect_rcode: NXDOMAIN");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.summary.rfind("gone.example.test A: NXDOMAIN as expected, from 127.0.0.1:", 0), 0u)
      << r.summary;
  // A name that exists but has no record of the type.
  r = Dns("query: example.test, record_type: SRV");
  EXPECT_EQ(r.status, CheckStatus::kCritical) << r.summary;
  EXPECT_EQ(r.summary.rfind("no SRV record for example.test (NOERROR, empty answer)", 0), 0u)
      << r.summary;
}

TEST_F(DnsmasqTest, OverTcp) {
  CheckResult r = Dns("query: www.example.test, protocol: tcp, expect: 192.0.2.10");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(nlohmann::json::parse(r.details_json)["protocol"], "tcp");
}

TEST_F(DnsmasqTest, ServerDownIsCritical) {
  StopProcess(dnsmasq_);
  CheckResult r = Dns("query: www.example.test");
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind(fmt::format("no answer from 127.0.0.1:{}", port_), 0), 0u)
      << r.summary;
  EXPECT_EQ(*MetricValue(r, "dns_up"), 0);
}

// A server that takes the packets and never answers: the run ends by its deadline.
TEST(DnsSilentServerTest, NoAnswerWithinTheDeadlineIsCritical) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  auto check = Make(agent::NewDnsCheck(SpecFromYaml(
      fmt::format("{{name: dns, type: dns, server: '127.0.0.1:{}', query: a.example}}", port))));
  ASSERT_TRUE(check);
  const auto start = std::chrono::steady_clock::now();
  CheckResult r = RunOnce(*check, milliseconds(1'000));
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  // The run's 1 s less the check's margin for building its result (20 ms). The upper bound
  // leaves room for a machine busy with the rest of the suite (ASan, 4 tests at a time): the
  // point is that the run ends at its deadline, not at the resolver's own 5 s x attempts.
  EXPECT_EQ(r.summary.rfind(fmt::format("no answer from 127.0.0.1:{} within ", port), 0), 0u)
      << r.summary;
  EXPECT_LT(took, milliseconds(2'000));
  EXPECT_GT(took, milliseconds(900));
}

// ---------------------------------------------------------------------------------------------
// http: python3 http.server and openssl s_server

class HttpPeersTest : public ::testing::Test {
 protected:
  void TearDown() override { StopProcess(server_); }
  testsupport::TempDir dir_;
  std::unique_ptr<Process> server_;
};

TEST_F(HttpPeersTest, PythonHttpServerKeywordAndStatus) {
  if (!Executable("/usr/bin/python3")) GTEST_SKIP() << "needs /usr/bin/python3 (Debian python3)";
  const std::string root = dir_.path() + "/www";
  std::filesystem::create_directories(root);
  WriteTextFile(root + "/index.html", "<html><body>Steadfast status: all good</body></html>\n");
  const int port = testsupport::FreeLoopbackPort();
  server_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", std::to_string(port),
                               "--bind", "127.0.0.1", "--directory", root},
      dir_.path() + "/http.log");
  ASSERT_TRUE(WaitForPort(port));
  auto ok = Make(agent::NewHttpCheck(SpecFromYaml(fmt::format(
      "{{name: web, type: http, url: 'http://127.0.0.1:{}/index.html', body_contains: 'all good'}}",
      port))));
  CheckResult r = RunOnce(*ok);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.summary.rfind("HTTP 200 in ", 0), 0u) << r.summary;
  // http.server redirects a directory without its slash: followed, counted.
  std::filesystem::create_directories(root + "/docs");
  WriteTextFile(root + "/docs/index.html", "docs here\n");
  auto redirect = Make(agent::NewHttpCheck(SpecFromYaml(fmt::format(
      "{{name: web, type: http, url: 'http://127.0.0.1:{}/docs', follow_redirects: true, "
      "body_contains: 'docs here'}}",
      port))));
  r = RunOnce(*redirect);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(*MetricValue(r, "http_redirects"), 1);
  auto missing = Make(agent::NewHttpCheck(SpecFromYaml(
      fmt::format("{{name: web, type: http, url: 'http://127.0.0.1:{}/missing.html'}}", port))));
  r = RunOnce(*missing);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("status 404, expected 200-399 (HTTP 404 in ", 0), 0u) << r.summary;
}

TEST_F(HttpPeersTest, OpensslServerCertificateDaysLeft) {
  if (!Executable("/usr/bin/openssl")) GTEST_SKIP() << "needs /usr/bin/openssl (Debian openssl)";
  const std::string d = dir_.path();
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                         "-nodes -days 5 -subj /CN=localhost -addext subjectAltName=DNS:localhost "
                         "-keyout " + d + "/key.pem -out " + d + "/cert.pem >/dev/null 2>&1")
                            .c_str()),
            0);
  WriteTextFile(d + "/index.html", "hello over TLS\n");
  const int port = testsupport::FreeLoopbackPort();
  server_ = std::make_unique<Process>(
      std::vector<std::string>{"/bin/sh", "-c",
                               fmt::format("cd {} && exec /usr/bin/openssl s_server -quiet -WWW "
                                           "-accept 127.0.0.1:{} -cert cert.pem -key key.pem",
                                           d, port)},
      d + "/s_server.log");
  ASSERT_TRUE(WaitForPort(port));
  auto trusted = Make(agent::NewHttpCheck(SpecFromYaml(fmt::format(
      "{{name: tls, type: http, url: 'https://localhost:{}/index.html', ca_file: '{}/cert.pem', "
      "body_contains: hello}}",
      port, d))));
  CheckResult r = RunOnce(*trusted);
  EXPECT_EQ(r.status, CheckStatus::kCritical) << r.summary;
  EXPECT_EQ(r.summary.rfind("certificate expires in 5.0 days (< 7) (HTTP 200 in ", 0), 0u)
      << r.summary;
  EXPECT_NEAR(*MetricValue(r, "http_tls_cert_days_left"), 5.0, 0.01);

  auto untrusted = Make(agent::NewHttpCheck(SpecFromYaml(
      fmt::format("{{name: tls, type: http, url: 'https://localhost:{}/index.html'}}", port))));
  r = RunOnce(*untrusted);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_NE(r.summary.find("not accepted: self-signed certificate"), std::string::npos)
      << r.summary;
}

}  // namespace
}  // namespace steadfast
