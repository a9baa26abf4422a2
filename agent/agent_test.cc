#include "agent/agent.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <thread>

#include "agent/posix_command_runner.h"
#include "agent/testing/fake_http_client.h"
#include "agent/testing/gate.h"
#include "agent/testing/prometheus_text.h"
#include "agent/testing/test_util.h"
#include "common/http/beast_http_client.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using testing::FakeCollector;
using testing::FakeHttpClient;
using testing::FixedRandom;
using testing::Gate;
using testing::OpenOnExit;
using testing::WaitUntil;

// A check that hangs until its gate opens, ignoring its deadline (a buggy in-process check).
class BlockingCheck final : public Check {
 public:
  BlockingCheck(std::string name, Gate* gate) : Check(std::move(name)), gate_(gate) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override {
    gate_->Wait();
    protocol::CheckResult r = NewResult(ctx, "x");
    r.status = protocol::CheckStatus::kOk;
    return {r};
  }

 private:
  Gate* gate_;
};

class QuickCheck final : public Check {
 public:
  using Check::Check;
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override {
    protocol::CheckResult r = NewResult(ctx, "q");
    r.status = protocol::CheckStatus::kOk;
    r.summary = "quick";
    return {r};
  }
};

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() {
    RegisterBuiltinChecks(registry_);
    client_.SetHandler(collector_.AsHandler());
  }
  std::string Yaml(const std::string& extra = "", const std::string& uplink = "{interval: 100ms}") {
    return "collector_url: http://collector.test\n"
           "enrollment_token: enrol-secret\n"
           "state_dir: " +
           dir_.path() +
           "/state\n"
           "proc_root: " +
           std::string(SF_AGENT_TESTDATA_DIR) +
           "/proc\n"
           "uplink: " +
           uplink + "\n" + extra +
           "checks:\n"
           "  - {name: system, type: system}\n"
           "  - {name: mysql-disk, type: filesystem, include_mount_points: [/var/lib/mysql]}\n";
  }
  std::unique_ptr<Agent> MakeAgent(const std::string& yaml) {
    auto config = ParseAgentConfigText(yaml, "agent.yaml", registry_);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    if (!config.ok()) return nullptr;
    auto agent = Agent::Create(std::move(config).value(), registry_,
                               AgentEnv{clock_, *fs_, client_, random_});
    EXPECT_TRUE(agent.ok()) << agent.status().ToString();
    return agent.ok() ? std::move(agent).value() : nullptr;
  }

  void RegisterBlocking(Gate* gate) {
    ASSERT_TRUE(registry_
                    .Register("blocking",
                              [gate](const CheckSpec& spec) -> StatusOr<std::unique_ptr<Check>> {
                                return std::unique_ptr<Check>(
                                    std::make_unique<BlockingCheck>(spec.name, gate));
                              })
                    .ok());
  }
  void RegisterQuick() {
    ASSERT_TRUE(registry_
                    .Register("quick",
                              [](const CheckSpec& spec) -> StatusOr<std::unique_ptr<Check>> {
                                return std::unique_ptr<Check>(std::make_unique<QuickCheck>(spec.name));
                              })
                    .ok());
  }

  CheckRegistry registry_;
  testing::TempDir dir_;
  steadfast::testing::FakeClock clock_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  FakeHttpClient client_;
  FakeCollector collector_;
  FixedRandom random_{0};  // no jitter: every check is due at start
};

TEST_F(AgentTest, RunChecksOnceTouchesNeitherSpoolNorCollector) {
  auto agent = MakeAgent(Yaml());
  ASSERT_NE(agent, nullptr);
  std::vector<protocol::CheckResult> results = agent->RunChecksOnce();
  ASSERT_EQ(results.size(), 6u);  // five system results, one mount
  EXPECT_EQ(results[0].check, "system");
  EXPECT_EQ(results[5].check, "mysql-disk");
  EXPECT_EQ(results[5].target, "/var/lib/mysql");
  for (const auto& r : results) EXPECT_EQ(r.observed_at_ms, clock_.NowMillis());
  EXPECT_EQ(client_.request_count(), 0u);
  EXPECT_FALSE(fs_->Exists(dir_.path() + "/state"));
  std::string metrics = agent->HandleMetrics().body;
  EXPECT_NE(metrics.find("steadfast_agent_checks_run_total{check=\"system\"} 1"), std::string::npos)
      << metrics;
}

TEST_F(AgentTest, StartEnrolsRunsChecksAndDeliversResults) {
  auto agent = MakeAgent(Yaml());
  ASSERT_NE(agent, nullptr);
  ASSERT_TRUE(agent->Start().ok());
  EXPECT_TRUE(WaitUntil([&] { return collector_.stored().size() >= 6; }))
      << "stored " << collector_.stored().size();
  EXPECT_TRUE(WaitUntil([&] { return agent->spool()->Count() == 0; }));
  const std::string token = dir_.path() + "/state/agent.token";
  EXPECT_EQ(*fs_->FileMode(token), 0600u);
  EXPECT_EQ(*fs_->FileMode(dir_.path() + "/state"), 0700u);
  EXPECT_TRUE(fs_->Exists(dir_.path() + "/state/spool.db"));

  auto health = agent->HandleHealthz();
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find("\"enrolled\":true"), std::string::npos) << health.body;
  // The uplink thread updates its metrics just after the spool is acked.
  std::string metrics;
  EXPECT_TRUE(WaitUntil([&] {
    metrics = agent->HandleMetrics().body;
    return metrics.find("steadfast_agent_uplink_requests_total{result=\"sent\"}") !=
           std::string::npos;
  })) << metrics;
  EXPECT_NE(metrics.find("steadfast_agent_uplink_last_success_timestamp_seconds 1790000000"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("steadfast_agent_spool_rows 0"), std::string::npos);
  EXPECT_NE(metrics.find("steadfast_agent_spool_dropped_total{reason=\"full\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics.find("steadfast_agent_check_duration_seconds_count{check=\"system\"} 1"),
            std::string::npos);

  const auto before = std::chrono::steady_clock::now();
  agent->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, Millis(1'000));
}

TEST_F(AgentTest, SendsTheHostInventoryOnceAfterStart) {
  const std::string sys = std::string(SF_AGENT_INVENTORY_TESTDATA) + "/server1/sys";
  auto agent = MakeAgent(Yaml("sys_root: " + sys + "\n"));
  ASSERT_NE(agent, nullptr);
  ASSERT_TRUE(agent->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return !collector_.inventories().empty(); }));
  // Reports keep flowing; the unchanged inventory is not sent again.
  ASSERT_TRUE(WaitUntil([&] { return collector_.batches() >= 1 && agent->spool()->Count() == 0; }));
  agent->Stop();
  std::vector<protocol::HostInventory> got = collector_.inventories();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].agent_id, "a-test");
  EXPECT_EQ(got[0].collected_at_ms, clock_.NowMillis());
  EXPECT_EQ(got[0].dmi.product_serial, "7XK9Q23");
  ASSERT_EQ(got[0].disks.size(), 2u);
  EXPECT_EQ(got[0].disks[1].serial, "ZC1ABCDE");
  EXPECT_GT(got[0].memory_bytes, 0);
  EXPECT_EQ(got[0].cpu_count, 4);  // the fixture proc has no cpuinfo: sysfs' online list
  EXPECT_FALSE(got[0].host.hostname.empty());
}

TEST_F(AgentTest, StopIsPromptWhileBackingOff) {
  client_.SetHandler(nullptr);  // collector down: enrolment keeps failing and backing off
  auto agent = MakeAgent(Yaml("", "{interval: 1h, max_backoff: 1h}"));
  ASSERT_NE(agent, nullptr);
  ASSERT_TRUE(agent->Start().ok());
  EXPECT_TRUE(
      WaitUntil([&] { return client_.request_count() >= 1 && agent->spool()->Count() >= 6; }));
  const auto before = std::chrono::steady_clock::now();
  agent->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, Millis(1'000));
  // Nothing was lost: the results wait in the spool for the next start.
  EXPECT_EQ(agent->spool()->Count(), 6);
}

TEST_F(AgentTest, ResultsSurviveARestartBeforeDelivery) {
  client_.SetHandler(nullptr);
  {
    auto agent = MakeAgent(Yaml());
    ASSERT_TRUE(agent->Start().ok());
    ASSERT_TRUE(WaitUntil([&] { return agent->spool()->Count() >= 6; }));
    agent->Stop();
  }
  client_.SetHandler(collector_.AsHandler());
  auto agent = MakeAgent(Yaml());
  ASSERT_TRUE(agent->Start().ok());
  EXPECT_TRUE(WaitUntil([&] { return collector_.stored().size() >= 12; }));
}

TEST_F(AgentTest, StartWithoutIdentityOrTokenIsFailedPrecondition) {
  std::string yaml = Yaml();
  yaml.replace(yaml.find("enrollment_token: enrol-secret\n"), 31, "");
  auto agent = MakeAgent(yaml);
  ASSERT_NE(agent, nullptr);
  Status st = agent->Start();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("agent.token"), std::string::npos);
}

TEST_F(AgentTest, EnrolmentTokenFromAFile) {
  ASSERT_TRUE(fs_->WriteFileAtomic(dir_.path() + "/token", "  enrol-secret\n", 0600).ok());
  std::string yaml = Yaml();
  yaml.replace(yaml.find("enrollment_token: enrol-secret\n"), 31,
               "enrollment_token_file: " + dir_.path() + "/token\n");
  auto agent = MakeAgent(yaml);
  ASSERT_TRUE(agent->Start().ok());
  EXPECT_TRUE(WaitUntil([&] { return fs_->Exists(dir_.path() + "/state/agent.token"); }));
}

TEST_F(AgentTest, RevokedTokenStopsTheUplinkAndShowsInHealth) {
  collector_.SetStatus(401);
  auto agent = MakeAgent(Yaml());
  ASSERT_TRUE(agent->Start().ok());
  EXPECT_TRUE(WaitUntil([&] {
    return agent->HandleHealthz().body.find("\"uplink_stopped\":true") != std::string::npos;
  }));
  // Nothing is deleted: every result of the first runs stays spooled.
  EXPECT_TRUE(WaitUntil([&] { return agent->spool()->Count() == 6; }));
  EXPECT_EQ(collector_.stored().size(), 0u);
}

TEST_F(AgentTest, DamagedSpoolIsMovedAsideAndReplaced) {
  ASSERT_TRUE(fs_->CreateDirectories(dir_.path() + "/state").ok());
  ASSERT_TRUE(fs_->WriteFileAtomic(dir_.path() + "/state/spool.db", std::string(8192, 'x')).ok());
  auto agent = MakeAgent(Yaml());
  Status st = agent->Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto entries = fs_->ListDirectory(dir_.path() + "/state");
  ASSERT_TRUE(entries.ok());
  bool found = false;
  for (const auto& e : *entries) found |= e.rfind("spool.db.damaged-", 0) == 0;
  EXPECT_TRUE(found);
  EXPECT_TRUE(WaitUntil([&] { return collector_.stored().size() >= 6; }));
}

// A check whose summary and target are longer than the protocol allows.
class WordyCheck final : public Check {
 public:
  using Check::Check;
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override {
    protocol::CheckResult r = NewResult(ctx, std::string(2000, 't'));
    r.status = protocol::CheckStatus::kOk;
    std::string summary;
    for (int i = 0; i < 3000; ++i) summary += "\xc3\xa9";  // "é", two bytes each
    r.summary = summary;
    return {r};
  }
};

TEST_F(AgentTest, OverlongTargetAndSummaryAreCutToTheProtocolLimits) {
  ASSERT_TRUE(registry_
                  .Register("wordy",
                            [](const CheckSpec& spec) -> StatusOr<std::unique_ptr<Check>> {
                              return std::unique_ptr<Check>(
                                  std::make_unique<WordyCheck>(spec.name));
                            })
                  .ok());
  std::string yaml = Yaml();
  yaml += "  - {name: wordy, type: wordy}\n";
  auto agent = MakeAgent(yaml);
  ASSERT_NE(agent, nullptr);
  auto results = agent->RunChecksOnce();
  const protocol::CheckResult& r = results.back();
  EXPECT_EQ(r.target.size(), 1024u);
  EXPECT_EQ(r.summary.size(), protocol::kMaxStringBytes);
  EXPECT_EQ(r.summary.substr(r.summary.size() - 2), "\xc3\xa9");
}

TEST_F(AgentTest, ServesMetricsAndHealthOverHttp) {
  auto agent = MakeAgent(Yaml("metrics_listen: 127.0.0.1:0\n"));
  ASSERT_TRUE(agent->Start().ok());
  ASSERT_NE(agent->metrics_port(), 0);
  auto http = http::NewBeastHttpClient({});
  http::HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(agent->metrics_port()) + "/metrics";
  req.timeout = Millis(5'000);
  auto resp = http->Do(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_NE(resp->body.find("steadfast_agent_spool_rows"), std::string::npos);
  req.url = "http://127.0.0.1:" + std::to_string(agent->metrics_port()) + "/healthz";
  resp = http->Do(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_NE(resp->body.find("\"status\":\"ok\""), std::string::npos);
  agent->Stop();
}

TEST_F(AgentTest, TimedOutCheckPrintsUnknownInOnceMode) {
  // --once with a real clock: the hung check is cut off at its timeout, the others report.
  Gate gate;
  RegisterBlocking(&gate);
  RealClock real;
  std::string yaml = Yaml();
  yaml += "  - {name: stuck, type: blocking, interval: 60s, timeout: 300ms}\n";
  auto config = ParseAgentConfigText(yaml, "agent.yaml", registry_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto agent = Agent::Create(std::move(config).value(), registry_,
                             AgentEnv{real, *fs_, client_, random_});
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  OpenOnExit open_gate(gate);
  const auto before = std::chrono::steady_clock::now();
  std::vector<protocol::CheckResult> results = (*agent)->RunChecksOnce();
  EXPECT_LT(std::chrono::steady_clock::now() - before, Millis(3'000));
  ASSERT_EQ(results.size(), 7u);
  EXPECT_EQ(results.back().check, "stuck");
  EXPECT_EQ(results.back().status, protocol::CheckStatus::kUnknown);
  EXPECT_EQ(results.back().summary, "timed out after 300 ms");
  EXPECT_TRUE((*agent)->HasOverrunningChecks());
  std::string metrics = (*agent)->HandleMetrics().body;
  EXPECT_NE(metrics.find("steadfast_agent_check_timeouts_total{check=\"stuck\"} 1"),
            std::string::npos)
      << metrics;
  gate.Open();
}

TEST_F(AgentTest, AHungCheckDoesNotHoldUpTheOthers) {
  // Real time, short intervals: `stuck` blocks for good; `quick` keeps its 1 s schedule.
  Gate gate;
  RegisterBlocking(&gate);
  RegisterQuick();
  RealClock real;
  const std::string yaml =
      "collector_url: http://collector.test\nenrollment_token: enrol-secret\nstate_dir: " +
      dir_.path() + "/state\ncheck_workers: 1\nuplink: {interval: 100ms}\nchecks:\n" +
      "  - {name: stuck, type: blocking, interval: 1s, timeout: 200ms}\n" +
      "  - {name: quick, type: quick, interval: 1s}\n";
  auto config = ParseAgentConfigText(yaml, "agent.yaml", registry_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto agent = Agent::Create(std::move(config).value(), registry_,
                             AgentEnv{real, *fs_, client_, random_});
  ASSERT_TRUE(agent.ok());
  OpenOnExit open_gate(gate);
  ASSERT_TRUE((*agent)->Start().ok());
  auto count = [&](const std::string& check, protocol::CheckStatus status) {
    int n = 0;
    for (const auto& [seq, r] : collector_.stored()) n += r.check == check && r.status == status;
    return n;
  };
  // Three runs of quick need two more slots after the first: about 2 s.
  EXPECT_TRUE(WaitUntil([&] { return count("quick", protocol::CheckStatus::kOk) >= 3; },
                        Millis(8'000)));
  EXPECT_EQ(count("stuck", protocol::CheckStatus::kUnknown), 1);
  std::string metrics = (*agent)->HandleMetrics().body;
  EXPECT_NE(metrics.find("steadfast_agent_check_skipped_total{check=\"stuck\"}"), std::string::npos);
  EXPECT_EQ(metrics.find("steadfast_agent_check_skipped_total{check=\"stuck\"} 0"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("steadfast_agent_check_skipped_total{check=\"quick\"} 0"), std::string::npos);
  gate.Open();
  (*agent)->Stop();
}

TEST_F(AgentTest, MetricsExposeCheckResultsInAValidScrape) {
  auto agent = MakeAgent(Yaml());
  ASSERT_NE(agent, nullptr);
  agent->RunChecksOnce();
  const std::string body = agent->HandleMetrics().body;
  testing::Scrape s = testing::ParsePrometheusText(body);
  ASSERT_EQ(s.error, "") << body;
  EXPECT_EQ(s.Value("steadfast_check_status", {{"check", "system"}, {"target", "load"}}), 0);
  EXPECT_TRUE(s.Value("steadfast_check_status", {{"check", "mysql-disk"}, {"target", "/var/lib/mysql"}}));
  EXPECT_TRUE(s.Value("node_load1").has_value());
  EXPECT_TRUE(s.Value("node_memory_MemAvailable_bytes").has_value());
  EXPECT_TRUE(s.Value("steadfast_check_cpu_usage_ratio", {{"check", "system"}, {"target", "cpu"}}));
  EXPECT_EQ(s.types.at("steadfast_agent_spool_dropped_total"), "counter");
  EXPECT_EQ(s.Value("steadfast_agent_uplink_up"), 0);
}

// The same scrape through an independent parser: the official Python client's (Debian's
// python3-prometheus-client), which Prometheus' own format rules back.
TEST_F(AgentTest, MetricsParseWithThePrometheusPythonClient) {
  PosixCommandRunner runner;
  CommandRequest probe;
  probe.argv = {"/usr/bin/python3", "-c", "import prometheus_client.parser"};
  auto has = runner.Run(probe);
  if (!has.ok() || has->exit_code != 0) GTEST_SKIP() << "install python3-prometheus-client";
  auto agent = MakeAgent(Yaml());
  ASSERT_NE(agent, nullptr);
  agent->RunChecksOnce();
  CommandRequest parse;
  parse.argv = {"/usr/bin/python3", "-c",
                "import sys\n"
                "from prometheus_client.parser import text_string_to_metric_families as p\n"
                "names = {s.name for f in p(sys.stdin.read()) for s in f.samples}\n"
                "print(len(names))\n"
                "print('node_load1' in names, 'steadfast_check_status' in names)\n"};
  parse.stdin_data = agent->HandleMetrics().body;
  auto r = runner.Run(parse);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->out.find("\nTrue True\n"), std::string::npos) << r->out;
}

TEST_F(AgentTest, AnOutageIsReportedWhenTheLinkComesBack) {
  collector_.SetStatus(503);
  auto agent = MakeAgent(Yaml("", "{interval: 100ms, max_backoff: 1s}"));
  ASSERT_TRUE(agent->Start().ok());
  // Enrolment works; reports fail with 503 a few times.
  ASSERT_TRUE(WaitUntil([&] { return client_.request_count() >= 4; }));
  EXPECT_TRUE(WaitUntil([&] {
    return agent->HandleMetrics().body.find("steadfast_agent_uplink_consecutive_failures 0") ==
           std::string::npos;
  }));
  collector_.SetStatus(200);
  const protocol::CheckResult* uplink = nullptr;
  std::map<uint64_t, protocol::CheckResult> stored;
  EXPECT_TRUE(WaitUntil([&] {
    stored = collector_.stored();
    for (const auto& [seq, r] : stored) {
      if (r.check == "uplink") uplink = &r;
    }
    return uplink != nullptr;
  }));
  ASSERT_NE(uplink, nullptr);
  EXPECT_EQ(uplink->target, "http://collector.test");
  EXPECT_EQ(uplink->status, protocol::CheckStatus::kOk);
  EXPECT_EQ(uplink->summary.rfind("collector reachable again after 0m 0s without delivery (", 0), 0u)
      << uplink->summary;
  EXPECT_NE(uplink->summary.find("last error: collector answered 503"), std::string::npos)
      << uplink->summary;
  testing::Scrape s = testing::ParsePrometheusText(agent->HandleMetrics().body);
  EXPECT_EQ(s.Value("steadfast_agent_uplink_up"), 1);
  EXPECT_EQ(s.Value("steadfast_agent_uplink_outages_total"), 1);
  EXPECT_EQ(s.Value("steadfast_check_status", {{"check", "uplink"}, {"target", "http://collector.test"}}), 0);
  agent->Stop();
}

TEST_F(AgentTest, DropsFromAnEarlierRunAreReportedAndThenCleared) {
  // A spool left by an earlier run that had to drop samples while the collector was away.
  ASSERT_TRUE(fs_->CreateDirectories(dir_.path() + "/state", 0700).ok());
  {
    SpoolOptions o;
    o.max_rows = 100;
    auto spool = Spool::Open(dir_.path() + "/state/spool.db", clock_, o);
    ASSERT_TRUE(spool.ok());
    protocol::CheckResult r;
    r.check = "system";
    r.target = "load";
    r.status = protocol::CheckStatus::kOk;
    r.observed_at_ms = clock_.NowMillis();
    for (int i = 0; i < 130; ++i) ASSERT_TRUE((*spool)->Append(r).ok());
    ASSERT_EQ((*spool)->UnreportedDrops().full, 30u);
  }
  auto agent = MakeAgent(Yaml());
  ASSERT_TRUE(agent->Start().ok());
  std::vector<protocol::CheckResult> reports;
  EXPECT_TRUE(WaitUntil([&] {
    reports.clear();
    for (const auto& [seq, r] : collector_.stored()) {
      if (r.check == "uplink") reports.push_back(r);
    }
    return reports.size() >= 2;
  }));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].status, protocol::CheckStatus::kWarning);
  EXPECT_NE(reports[0].summary.find("the spool dropped 30 results (30 metrics-only samples"),
            std::string::npos)
      << reports[0].summary;
  EXPECT_EQ(reports[1].status, protocol::CheckStatus::kOk);
  EXPECT_EQ(reports[1].summary, "link to the collector is up and the backlog is delivered");
  EXPECT_EQ(agent->spool()->UnreportedDrops().total(), 0u);
  agent->Stop();
}

}  // namespace
}  // namespace steadfast::agent
