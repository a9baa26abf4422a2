#include "agent/checks/interface_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/testing/test_util.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::FindTarget;
using testing::MetricValue;
using testing::SpecFromYaml;
using testing::TempDir;

// A copy of testdata/interface/sys that a test may change.
class InterfaceCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = dir_.path() + "/sys";
    testing::CopyTestdataTree("interface/sys", sys_);
  }
  void Write(const std::string& rel, const std::string& value) {
    std::ofstream(sys_ + "/class/net/" + rel) << value << "\n";
  }
  uint64_t Read(const std::string& rel) {
    std::ifstream in(sys_ + "/class/net/" + rel);
    uint64_t v = 0;
    in >> v;
    return v;
  }
  void Add(const std::string& rel, uint64_t delta) {
    Write(rel, std::to_string(Read(rel) + delta));
  }
  std::vector<CheckResult> Run(InterfaceCheck& check) {
    CheckContext ctx{clock_, *fs_};
    ctx.sys_root = sys_;
    return check.Run(ctx);
  }

  TempDir dir_;
  std::string sys_;
  steadfast::testing::FakeClock clock_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
};

TEST_F(InterfaceCheckTest, DefaultSelectionSkipsLoopbackAndVirtualPlumbing) {
  InterfaceCheck check("net", {});
  auto results = Run(check);
  std::vector<std::string> targets;
  for (const auto& r : results) targets.push_back(r.target);
  EXPECT_EQ(targets, (std::vector<std::string>{"eno1", "eno2", "eno3"}));
  const CheckResult* eno1 = FindTarget(results, "eno1");
  EXPECT_EQ(eno1->status, CheckStatus::kOk);
  EXPECT_EQ(eno1->summary, "up, 1000 Mb/s full duplex");
  EXPECT_EQ(*MetricValue(*eno1, "node_network_up"), 1);
  EXPECT_EQ(*MetricValue(*eno1, "node_network_carrier"), 1);
  EXPECT_EQ(*MetricValue(*eno1, "node_network_speed_bytes"), 125'000'000);
  EXPECT_EQ(*MetricValue(*eno1, "node_network_mtu_bytes"), 1500);
  EXPECT_EQ(*MetricValue(*eno1, "node_network_receive_bytes_total"), 918273645501.0);
  EXPECT_EQ(*MetricValue(*eno1, "node_network_receive_drop_total"), 1832);
  EXPECT_FALSE(MetricValue(*eno1, "network_errors_per_second").has_value());  // first run
  // Unplugged and admin-down ports that are not required are reported, not alarmed.
  EXPECT_EQ(FindTarget(results, "eno2")->status, CheckStatus::kOk);
  EXPECT_EQ(FindTarget(results, "eno2")->summary, "no carrier (not required)");
  EXPECT_EQ(FindTarget(results, "eno3")->summary, "administratively down");
  EXPECT_EQ(*MetricValue(*FindTarget(results, "eno2"), "node_network_up"), 0);
}

TEST_F(InterfaceCheckTest, RequiredInterfaceWithoutCarrierOrMissingIsCritical) {
  InterfaceCheckOptions o;
  o.required = {"eno2", "eno3", "bond0"};
  InterfaceCheck check("net", o);
  auto results = Run(check);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(FindTarget(results, "eno2")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "eno2")->summary, "no carrier (link down)");
  EXPECT_EQ(FindTarget(results, "eno3")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "bond0")->status, CheckStatus::kCritical);
  EXPECT_EQ(FindTarget(results, "bond0")->summary, "bond0 does not exist");
}

TEST_F(InterfaceCheckTest, LinkLostAfterBeingUpIsWarning) {
  InterfaceCheck check("net", {});
  EXPECT_EQ(FindTarget(Run(check), "eno1")->status, CheckStatus::kOk);
  Write("eno1/carrier", "0");
  Write("eno1/operstate", "down");
  auto results = Run(check);
  EXPECT_EQ(FindTarget(results, "eno1")->status, CheckStatus::kWarning);
  EXPECT_EQ(FindTarget(results, "eno1")->summary.rfind("link lost", 0), 0u);
  EXPECT_EQ(*MetricValue(*FindTarget(results, "eno1"), "node_network_carrier"), 0);
}

TEST_F(InterfaceCheckTest, ErrorAndDropRatesSinceTheLastRun) {
  InterfaceCheck check("net", {});
  Run(check);
  clock_.Advance(std::chrono::seconds(60));
  Add("eno1/statistics/rx_bytes", 60 * 1024 * 1024);
  Add("eno1/statistics/tx_bytes", 60 * 1024);
  Add("eno1/statistics/rx_errors", 90);  // 1.5/s: warning
  auto results = Run(check);
  const CheckResult* eno1 = FindTarget(results, "eno1");
  EXPECT_EQ(eno1->status, CheckStatus::kWarning);
  EXPECT_DOUBLE_EQ(*MetricValue(*eno1, "network_errors_per_second"), 1.5);
  EXPECT_DOUBLE_EQ(*MetricValue(*eno1, "network_drops_per_second"), 0);
  EXPECT_DOUBLE_EQ(*MetricValue(*eno1, "network_receive_bytes_per_second"), 1024 * 1024);
  EXPECT_EQ(eno1->summary, "up, 1000 Mb/s full duplex, rx 1.0 MiB/s, tx 1.0 KiB/s, 1.50 errors/s");
  clock_.Advance(std::chrono::seconds(10));
  Add("eno1/statistics/tx_errors", 100);  // 10/s: critical
  EXPECT_EQ(FindTarget(Run(check), "eno1")->status, CheckStatus::kCritical);
  clock_.Advance(std::chrono::seconds(10));
  Add("eno1/statistics/rx_dropped", 1000);  // 100 drops/s: warning; no new errors
  auto after_drops = Run(check);
  const CheckResult* dropped = FindTarget(after_drops, "eno1");
  ASSERT_NE(dropped, nullptr);
  EXPECT_EQ(dropped->status, CheckStatus::kWarning);
  EXPECT_NE(dropped->summary.find("100.00 drops/s"), std::string::npos) << dropped->summary;
}

TEST_F(InterfaceCheckTest, CounterResetRestartsTheBaseline) {
  InterfaceCheck check("net", {});
  Run(check);
  clock_.Advance(std::chrono::seconds(60));
  Write("eno1/statistics/rx_errors", "0");
  Write("eno1/statistics/rx_bytes", "100");  // driver reloaded
  auto results = Run(check);
  EXPECT_FALSE(MetricValue(*FindTarget(results, "eno1"), "network_errors_per_second").has_value());
  clock_.Advance(std::chrono::seconds(10));
  Add("eno1/statistics/rx_errors", 5);
  results = Run(check);
  EXPECT_DOUBLE_EQ(*MetricValue(*FindTarget(results, "eno1"), "network_errors_per_second"), 0.5);
}

TEST_F(InterfaceCheckTest, SlowOrHalfDuplexLinkIsWarning) {
  InterfaceCheckOptions o;
  o.min_speed_mbps = 10000;
  InterfaceCheck check("net", o);
  auto results = Run(check);
  EXPECT_EQ(FindTarget(results, "eno1")->status, CheckStatus::kWarning);
  EXPECT_EQ(FindTarget(results, "eno1")->summary,
            "up, 1000 Mb/s full duplex, speed 1000 Mb/s below the expected 10000 Mb/s");
  Write("eno1/speed", "100");
  Write("eno1/duplex", "half");
  InterfaceCheck plain("net", {});
  results = Run(plain);
  EXPECT_EQ(FindTarget(results, "eno1")->status, CheckStatus::kWarning);
  EXPECT_NE(FindTarget(results, "eno1")->summary.find("half duplex"), std::string::npos);
}

TEST_F(InterfaceCheckTest, ExplicitListReplacesTheExclusions) {
  auto made =
      NewInterfaceCheck(SpecFromYaml("{name: n, type: interface, interfaces: [lo, 'veth*']}"));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto results = Run(*dynamic_cast<InterfaceCheck*>(made->get()));
  ASSERT_EQ(results.size(), 2u);
  const CheckResult* lo = FindTarget(results, "lo");
  ASSERT_NE(lo, nullptr);
  // Loopback: operstate "unknown" but carrier 1.
  EXPECT_EQ(lo->status, CheckStatus::kOk);
  EXPECT_EQ(lo->summary, "up");
  EXPECT_EQ(*MetricValue(*lo, "node_network_up"), 0);  // node_exporter: operstate == "up"
  EXPECT_EQ(*MetricValue(*lo, "node_network_carrier"), 1);
  EXPECT_NE(FindTarget(results, "veth3f2a1b0"), nullptr);
}

TEST(InterfaceFactoryTest, ValidatesKeys) {
  EXPECT_TRUE(NewInterfaceCheck(
                  SpecFromYaml("{name: n, type: interface, interfaces: ['en*'], "
                               "exclude: [enx0], required: [eno1], min_speed_mbps: 1000, "
                               "expect_full_duplex: false, errors_per_second_warning: 5, "
                               "errors_per_second_critical: 50, drops_per_second_warning: 1}"))
                  .ok());
  auto pattern =
      NewInterfaceCheck(SpecFromYaml("name: n\ntype: interface\nrequired:\n  - 'eno*'\n"));
  ASSERT_FALSE(pattern.ok());
  EXPECT_NE(pattern.status().message().find("agent.yaml:4: required[0]"), std::string::npos)
      << pattern.status().message();
  EXPECT_FALSE(
      NewInterfaceCheck(SpecFromYaml("{name: n, type: interface, min_speed_mbps: 0}")).ok());
  EXPECT_FALSE(
      NewInterfaceCheck(SpecFromYaml("{name: n, type: interface, errors_per_second_warning: 20, "
                                     "errors_per_second_critical: 10}"))
          .ok());
  EXPECT_FALSE(NewInterfaceCheck(SpecFromYaml("{name: n, type: interface, device: eth0}")).ok());
}

// This VM has lo and a virtio eth0 (speed unknown). Counters must be sane and rise.
TEST(InterfaceHostTest, RunsOnThisMachine) {
  RealClock clock;
  auto fs = NewPosixFileSystem();
  CheckContext ctx{clock, *fs};
  InterfaceCheckOptions o;
  o.interfaces = {"lo", "eth*", "en*"};
  o.exclude = {};
  o.required = {"lo"};
  InterfaceCheck check("net", o);
  auto first = check.Run(ctx);
  const CheckResult* lo = FindTarget(first, "lo");
  ASSERT_NE(lo, nullptr);
  EXPECT_EQ(lo->status, CheckStatus::kOk) << lo->summary;
  EXPECT_EQ(*MetricValue(*lo, "node_network_carrier"), 1);
  EXPECT_GE(*MetricValue(*lo, "node_network_mtu_bytes"), 1500);
  const double before = *MetricValue(*lo, "node_network_transmit_packets_total");
  EXPECT_GT(before, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto second = check.Run(ctx);
  lo = FindTarget(second, "lo");
  ASSERT_NE(lo, nullptr);
  EXPECT_GE(*MetricValue(*lo, "node_network_transmit_packets_total"), before);
  auto errors = MetricValue(*lo, "network_errors_per_second");
  ASSERT_TRUE(errors.has_value());
  EXPECT_GE(*errors, 0);
  for (const auto& r : second) {
    if (r.target.rfind("eth", 0) == 0 || r.target.rfind("en", 0) == 0) {
      EXPECT_NE(r.status, CheckStatus::kUnknown) << r.target << ": " << r.summary;
    }
  }
}

}  // namespace
}  // namespace steadfast::agent
