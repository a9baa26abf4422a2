// The ping check for real: echoes to 127.0.0.1 and ::1 through raw and unprivileged ICMP
// sockets, several checks at once, and an unreachable TEST-NET address. The tests that need
// an address outside loopback (192.0.2.1), or that change net.ipv4.ping_group_range, run on a
// thread inside a private network namespace of its own (unshare(CLONE_NEWNET) affects only
// the calling thread), so no packet leaves this machine and no host setting changes; they skip
// where namespaces are not allowed.
#include "agent/checks/ping_check.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/testing/test_util.h"
#include "common/fs/file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::MetricValue;
using testing::SpecFromYaml;
using SteadyClock = std::chrono::steady_clock;

CheckResult RunPing(PingCheckOptions o, Millis budget = Millis(5'000)) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  PingCheck check("ping", std::move(o));
  CheckContext ctx{clock, *fs};
  ctx.deadline = SteadyClock::now() + budget;
  auto results = check.Run(ctx);
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? CheckResult{} : results[0];
}

PingCheckOptions Loopback(std::string host, PingCheckOptions::Socket socket) {
  PingCheckOptions o;
  o.host = std::move(host);
  o.socket = socket;
  o.count = 5;
  o.interval = Millis(20);
  o.wait = Millis(500);
  return o;
}

bool CanOpen(int family, int type) {
  int fd = ::socket(family, type, family == AF_INET6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP));
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool HasIpv6Loopback() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

void ExpectAllReplies(const CheckResult& r, int count) {
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(*MetricValue(r, "ping_packets_sent"), count);
  EXPECT_EQ(*MetricValue(r, "ping_packets_received"), count) << r.summary;
  EXPECT_EQ(*MetricValue(r, "ping_loss_ratio"), 0.0);
  double min = *MetricValue(r, "ping_rtt_min_seconds");
  double avg = *MetricValue(r, "ping_rtt_avg_seconds");
  double max = *MetricValue(r, "ping_rtt_max_seconds");
  EXPECT_GT(min, 0.0);
  EXPECT_LE(min, avg);
  EXPECT_LE(avg, max);
  EXPECT_LT(max, 0.5) << "loopback";
  EXPECT_GE(*MetricValue(r, "ping_jitter_seconds"), 0.0);
  EXPECT_LE(*MetricValue(r, "ping_jitter_seconds"), max - min + 1e-9);
  auto details = nlohmann::json::parse(r.details_json);
  EXPECT_EQ(details["duplicates"], 0);
  EXPECT_EQ(details["rtts_ms"].size(), static_cast<size_t>(count));
}

// Runs `fn` on a new thread inside a fresh network namespace with `lo` up. Returns false
// (and runs nothing) when the namespace cannot be made.
bool InPrivateNetns(const std::function<void()>& fn) {
  bool ok = false;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) return;
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
      ifr.ifr_flags |= IFF_UP;
      ok = ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    }
    ::close(s);
    if (ok) fn();
  });
  t.join();
  return ok;
}

// In the current (private) namespace: route 192.0.2.0/24 out of `lo`, where nothing answers:
// the echoes loop back, are not for a local address, and are dropped (forwarding is off).
bool RouteTestNetIntoTheVoid() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  rtentry rt{};
  auto* dst = reinterpret_cast<sockaddr_in*>(&rt.rt_dst);
  dst->sin_family = AF_INET;
  ::inet_pton(AF_INET, "192.0.2.0", &dst->sin_addr);
  auto* mask = reinterpret_cast<sockaddr_in*>(&rt.rt_genmask);
  mask->sin_family = AF_INET;
  ::inet_pton(AF_INET, "255.255.255.0", &mask->sin_addr);
  rt.rt_flags = RTF_UP;
  char dev[] = "lo";
  rt.rt_dev = dev;
  bool ok = ::ioctl(s, SIOCADDRT, &rt) == 0;
  ::close(s);
  return ok;
}

TEST(PingCheckTest, Ipv4LoopbackOverRawSocket) {
  if (!CanOpen(AF_INET, SOCK_RAW)) GTEST_SKIP() << "no CAP_NET_RAW";
  CheckResult r = RunPing(Loopback("127.0.0.1", PingCheckOptions::Socket::kRaw));
  ExpectAllReplies(r, 5);
  EXPECT_EQ(r.target, "127.0.0.1");
  EXPECT_EQ(r.summary.rfind("5/5 replies from 127.0.0.1 (0% loss), rtt min/avg/max ", 0), 0u)
      << r.summary;
  EXPECT_NE(r.summary.find(" ms, jitter "), std::string::npos) << r.summary;
  EXPECT_EQ(nlohmann::json::parse(r.details_json)["socket"], "raw");
}

TEST(PingCheckTest, Ipv6LoopbackOverRawSocket) {
  if (!CanOpen(AF_INET6, SOCK_RAW)) GTEST_SKIP() << "no CAP_NET_RAW or no IPv6";
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine";
  CheckResult r = RunPing(Loopback("::1", PingCheckOptions::Socket::kRaw));
  ExpectAllReplies(r, 5);
  EXPECT_EQ(r.summary.rfind("5/5 replies from ::1 (0% loss)", 0), 0u) << r.summary;
}

TEST(PingCheckTest, HostNameIsResolvedAndShown) {
  if (!CanOpen(AF_INET, SOCK_RAW)) GTEST_SKIP() << "no CAP_NET_RAW";
  PingCheckOptions o = Loopback("localhost", PingCheckOptions::Socket::kAuto);
  o.family = PingCheckOptions::Family::kIpv4;
  o.count = 2;
  CheckResult r = RunPing(o);
  ExpectAllReplies(r, 2);
  EXPECT_EQ(r.summary.rfind("2/2 replies from localhost (127.0.0.1) (0% loss)", 0), 0u)
      << r.summary;
}

// With ping_group_range admitting root (in a private namespace, leaving the host's setting
// alone), auto picks the unprivileged socket, for IPv4 and IPv6.
TEST(PingCheckTest, LoopbackOverUnprivilegedSocket) {
  bool ran = InPrivateNetns([] {
    std::ofstream("/proc/sys/net/ipv4/ping_group_range") << "0 2147483647\n";
    if (!CanOpen(AF_INET, SOCK_DGRAM)) {
      ADD_FAILURE() << "ping_group_range did not take effect";
      return;
    }
    CheckResult r = RunPing(Loopback("127.0.0.1", PingCheckOptions::Socket::kAuto));
    ExpectAllReplies(r, 5);
    EXPECT_EQ(nlohmann::json::parse(r.details_json)["socket"], "dgram");
    if (CanOpen(AF_INET6, SOCK_DGRAM) && HasIpv6Loopback()) {
      CheckResult r6 = RunPing(Loopback("::1", PingCheckOptions::Socket::kDgram));
      ExpectAllReplies(r6, 5);
    }
  });
  if (!ran) GTEST_SKIP() << "cannot make a network namespace here";
}

// Four checks at once on raw sockets, which all see every echo reply: each counts its own.
TEST(PingCheckTest, ConcurrentChecksDoNotCountEachOthersReplies) {
  if (!CanOpen(AF_INET, SOCK_RAW)) GTEST_SKIP() << "no CAP_NET_RAW";
  std::vector<CheckResult> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&results, i] {
      PingCheckOptions o = Loopback("127.0.0.1", PingCheckOptions::Socket::kRaw);
      o.count = 10;
      o.interval = Millis(5);
      results[i] = RunPing(o);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) ExpectAllReplies(r, 10);
}

TEST(PingCheckTest, UnansweredTestNetAddressIsFullLossWithinTheDeadline) {
  bool routed = false;
  bool ran = InPrivateNetns([&] {
    routed = RouteTestNetIntoTheVoid();
    if (!routed) return;
    PingCheckOptions o;
    o.host = "192.0.2.1";
    o.socket = PingCheckOptions::Socket::kRaw;  // auto would pick raw too (root, "1 0")
    o.count = 5;
    o.interval = Millis(200);
    o.wait = Millis(1'000);
    const auto start = SteadyClock::now();
    CheckResult r = RunPing(o, Millis(1'500));
    const auto took = std::chrono::duration_cast<Millis>(SteadyClock::now() - start);
    EXPECT_EQ(r.status, CheckStatus::kCritical) << r.summary;
    EXPECT_EQ(r.summary, "no reply to 5 echoes to 192.0.2.1 (100% loss)");
    EXPECT_EQ(*MetricValue(r, "ping_loss_ratio"), 1.0);
    EXPECT_EQ(*MetricValue(r, "ping_packets_sent"), 5);
    EXPECT_FALSE(MetricValue(r, "ping_rtt_avg_seconds").has_value());
    EXPECT_LE(took.count(), 1'500) << "the run must end by its deadline";
    EXPECT_GE(took.count(), 1'400) << "it waits for late replies until shortly before it";
  });
  if (!ran || !routed) GTEST_SKIP() << "cannot make a network namespace with a route here";
}

TEST(PingCheckTest, NoRouteIsCriticalWithTheReason) {
  bool ran = InPrivateNetns([] {
    PingCheckOptions o = Loopback("192.0.2.1", PingCheckOptions::Socket::kRaw);
    o.count = 3;
    CheckResult r = RunPing(o);
    EXPECT_EQ(r.status, CheckStatus::kCritical) << r.summary;
    EXPECT_EQ(r.summary, "no reply to 3 echoes to 192.0.2.1 (100% loss): Network is unreachable");
    EXPECT_LT(r.duration_ms, 500) << "every echo failed at once: nothing to wait for";
  });
  if (!ran) GTEST_SKIP() << "cannot make a network namespace here";
}

TEST(PingCheckTest, DeadlineCutsARunShort) {
  if (!CanOpen(AF_INET, SOCK_RAW)) GTEST_SKIP() << "no CAP_NET_RAW";
  PingCheckOptions o = Loopback("127.0.0.1", PingCheckOptions::Socket::kRaw);
  o.count = 10;
  o.interval = Millis(100);
  CheckResult r = RunPing(o, Millis(250));
  EXPECT_LE(r.duration_ms, 250);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_NE(r.summary.find("; only 3 of 10 echoes sent before the deadline"), std::string::npos)
      << r.summary;
}

TEST(PingCheckTest, RttThresholdsGradeTheAverage) {
  if (!CanOpen(AF_INET, SOCK_RAW)) GTEST_SKIP() << "no CAP_NET_RAW";
  PingCheckOptions o = Loopback("127.0.0.1", PingCheckOptions::Socket::kRaw);
  o.count = 2;
  o.rtt_ms = Thresholds{0.0, 1'000.0};
  CheckResult r = RunPing(o);
  EXPECT_EQ(r.status, CheckStatus::kWarning) << r.summary;
  EXPECT_NE(r.summary.find("[avg rtt >= 0.000 ms]"), std::string::npos) << r.summary;
  o.rtt_ms = Thresholds{0.0, 0.0};
  EXPECT_EQ(RunPing(o).status, CheckStatus::kCritical);
}

// Without CAP_NET_RAW (dropped on this thread only: capabilities are per thread) and with
// ping_group_range "1 0", no ICMP socket opens: unknown, naming both missing permissions.
TEST(PingCheckTest, NoPermissionIsUnknownNamingWhatIsMissing) {
  std::string range;
  std::ifstream("/proc/sys/net/ipv4/ping_group_range") >> range;
  if (CanOpen(AF_INET, SOCK_DGRAM)) GTEST_SKIP() << "unprivileged ICMP sockets are allowed here";
  CheckResult r;
  bool dropped = false;
  std::thread t([&] {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return;
    data[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
    if (::syscall(SYS_capset, &header, data) != 0) return;
    dropped = !CanOpen(AF_INET, SOCK_RAW);
    if (dropped) r = RunPing(Loopback("127.0.0.1", PingCheckOptions::Socket::kAuto));
  });
  t.join();
  if (!dropped) GTEST_SKIP() << "cannot drop CAP_NET_RAW here";
  EXPECT_EQ(r.status, CheckStatus::kUnknown);
  EXPECT_EQ(r.summary.rfind("cannot open an ICMP socket: unprivileged ICMP sockets are not "
                            "allowed for group ",
                            0),
            0u)
      << r.summary;
  EXPECT_NE(r.summary.find("(net.ipv4.ping_group_range is \"1"), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find("and raw ICMP sockets need CAP_NET_RAW"), std::string::npos)
      << r.summary;
}

TEST(PingCheckFactoryTest, ValidatesItsKeys) {
  auto ok = NewPingCheck(SpecFromYaml(
      "{name: gw, type: ping, host: 10.0.0.1, count: 10, echo_interval: 100ms, wait: 2s, "
      "packet_size: 1400, family: ipv4, socket: raw, warning_loss_percent: 10, "
      "critical_loss_percent: 50, warning_rtt_ms: 20, critical_rtt_ms: 80}"));
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(NewPingCheck(SpecFromYaml("{name: gw, type: ping, host: h}")).ok());

  auto expect_error = [](const std::string& yaml, const std::string& text) {
    auto r = NewPingCheck(SpecFromYaml(yaml));
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
  };
  expect_error("name: gw\ntype: ping\n", "host: required key is missing");
  expect_error("name: gw\ntype: ping\nhost: h\ncout: 3\n", "cout");
  expect_error("name: gw\ntype: ping\nhost: h\ncount: 0\n", "agent.yaml:4: count");
  expect_error("name: gw\ntype: ping\nhost: h\nfamily: ipv5\n", "agent.yaml:4: family");
  expect_error("name: gw\ntype: ping\nhost: h\nsocket: stream\n", "socket");
  expect_error("name: gw\ntype: ping\nhost: h\npacket_size: 4\n", "packet_size");
  expect_error("name: gw\ntype: ping\nhost: h\nwarning_loss_percent: 70\n",
               "warning_loss_percent");
  // 100 echoes 200 ms apart do not fit in the default 10 s timeout.
  expect_error("name: gw\ntype: ping\nhost: h\ncount: 100\n",
               "agent.yaml:4: count: 100 echoes 200 ms apart plus a wait of 1 s for the last "
               "reply take 20.8 s, which does not fit in the check's timeout of 10 s");
}

}  // namespace
}  // namespace steadfast::agent
