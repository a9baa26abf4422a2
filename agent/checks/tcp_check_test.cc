#include "agent/checks/tcp_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::LoopbackSocket;
using testing::MetricValue;
using testing::SpecFromYaml;

class TcpCheckTest : public ::testing::Test {
 protected:
  CheckResult RunOnce(TcpCheckOptions o, Clock& clock) {
    TcpCheck check("tcp", std::move(o));
    CheckContext ctx{clock, fs_, "/proc"};
    auto results = check.Run(ctx);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  steadfast::testing::MemoryFileSystem fs_;
};

TEST_F(TcpCheckTest, ConnectsToAListeningPort) {
  LoopbackSocket server(/*listen=*/true);
  RealClock clock;
  TcpCheckOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  CheckResult r = RunOnce(o, clock);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.target, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(*MetricValue(r, "tcp_up"), 1);
  ASSERT_TRUE(MetricValue(r, "tcp_connect_seconds").has_value());
  EXPECT_LT(*MetricValue(r, "tcp_connect_seconds"), 1.0);
  EXPECT_EQ(r.summary.rfind("connected to 127.0.0.1 in ", 0), 0u) << r.summary;
}

TEST_F(TcpCheckTest, LatencyThresholds) {
  LoopbackSocket server(true);
  steadfast::testing::FakeClock clock;  // the connect takes 0 ms by this clock
  TcpCheckOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.latency_ms = Thresholds{0.0, 100.0};
  EXPECT_EQ(RunOnce(o, clock).status, CheckStatus::kWarning);
  o.latency_ms = Thresholds{0.0, 0.0};
  EXPECT_EQ(RunOnce(o, clock).status, CheckStatus::kCritical);
}

TEST_F(TcpCheckTest, RefusedConnectionIsCritical) {
  LoopbackSocket closed(/*listen=*/false);  // bound, not listening: the kernel answers RST
  RealClock clock;
  TcpCheckOptions o;
  o.host = "127.0.0.1";
  o.port = closed.port();
  CheckResult r = RunOnce(o, clock);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary, "connection refused (127.0.0.1)");
  EXPECT_EQ(*MetricValue(r, "tcp_up"), 0);
}

TEST_F(TcpCheckTest, TimeoutIsCritical) {
  // A listener whose accept queue is full drops further SYNs, so a connect hangs until our
  // timeout. Fill the queue with connections nobody accepts.
  LoopbackSocket server(true, /*backlog=*/0);
  std::vector<int> fillers;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(server.port());
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  RealClock clock;
  TcpCheckOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.timeout = Millis(150);
  auto start = clock.Monotonic();
  CheckResult r = RunOnce(o, clock);
  auto took = std::chrono::duration_cast<Millis>(clock.Monotonic() - start);
  for (int fd : fillers) ::close(fd);
  if (r.status == CheckStatus::kOk) GTEST_SKIP() << "this kernel accepted past the backlog";
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary, "connection timed out after 150 ms (127.0.0.1)");
  EXPECT_GE(took.count(), 140);
  EXPECT_LT(took.count(), 1'000);
}

TEST_F(TcpCheckTest, TargetBracketsIpv6) {
  TcpCheckOptions o;
  o.host = "::1";
  o.port = 22;
  EXPECT_EQ(TcpCheck("t", o).Target(), "[::1]:22");
}

TEST(TcpCheckFactoryTest, ValidatesItsKeys) {
  auto ok = NewTcpCheck(SpecFromYaml(
      "{name: db, type: tcp, host: db.example, port: 5432, timeout: 2s, warning_ms: 100, "
      "critical_ms: 1000}"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(dynamic_cast<TcpCheck*>(ok->get())->Target(), "db.example:5432");

  auto missing = NewTcpCheck(SpecFromYaml("name: db\ntype: tcp\nhost: db.example\n"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("port: required key is missing"), std::string::npos)
      << missing.status().message();
  auto bad_port = NewTcpCheck(SpecFromYaml("name: db\ntype: tcp\nhost: h\nport: 70000\n"));
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.status().message().find("agent.yaml:4: port"), std::string::npos)
      << bad_port.status().message();
  EXPECT_FALSE(NewTcpCheck(SpecFromYaml("{name: db, type: tcp, port: 80}")).ok());
  auto target = NewTcpCheck(SpecFromYaml("{name: db, type: tcp, target: '[::1]:5432'}"));
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ(dynamic_cast<TcpCheck*>(target->get())->Target(), "[::1]:5432");
  target = NewTcpCheck(SpecFromYaml("{name: db, type: tcp, target: 10.0.0.1:22}"));
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ(dynamic_cast<TcpCheck*>(target->get())->Target(), "10.0.0.1:22");
  auto both = NewTcpCheck(SpecFromYaml("name: db\ntype: tcp\ntarget: h:1\nport: 2\n"));
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("agent.yaml:3: target: set either target"),
            std::string::npos)
      << both.status().message();
  auto no_port = NewTcpCheck(SpecFromYaml("{name: db, type: tcp, target: db.example}"));
  ASSERT_FALSE(no_port.ok());
  EXPECT_NE(no_port.status().message().find("target: expected host:port"), std::string::npos);
  EXPECT_FALSE(NewTcpCheck(SpecFromYaml("{name: db, type: tcp, target: 'h:0'}")).ok());
  EXPECT_FALSE(
      NewTcpCheck(SpecFromYaml("{name: db, type: tcp, host: h, port: 80, tls: true}")).ok());
  EXPECT_FALSE(
      NewTcpCheck(SpecFromYaml("{name: db, type: tcp, host: h, port: 80, timeout: soon}")).ok());
}

}  // namespace
}  // namespace steadfast::agent
