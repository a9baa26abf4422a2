// Alerting end to end with the real collector binary and a real webhook receiver
// (tests/peers/webhook_receiver.py: python3's http.server, checking X-Steadfast-Signature with
// Python's own hmac module). Reports go in through the agents' API; notifications must come
// out signed, once each, even when the collector is killed with SIGKILL at any moment.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "common/http/http_client.h"
#include "common/protocol/protocol.h"
#include "tests/support/process.h"

namespace steadfast {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testsupport::Process;
using testsupport::TempDir;

constexpr char kToken[] = "e2e-enrolment-token-0123456789";
constexpr char kSecret[] = "e2e-webhook-secret-0123456789";

class AlertingE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/python3";
    port_ = testsupport::FreeLoopbackPort();
    hook_port_ = testsupport::FreeLoopbackPort();
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    client_ = http::NewCurlHttpClient({});
    const std::string d = dir_.path();
    testsupport::WriteTextFile(d + "/hook.secret", std::string(kSecret) + "\n");
    ::chmod((d + "/hook.secret").c_str(), 0600);
    testsupport::WriteTextFile(d + "/rules.yaml",
                               "rules:\n"
                               "  - name: check-critical\n"
                               "    kind: check_status\n"
                               "    statuses: [critical]\n"
                               "    annotations: {summary: '{{check}} {{target}} on {{host}} is critical'}\n");
    testsupport::WriteTextFile(
        d + "/collector.yaml",
        "listen: 127.0.0.1:" + std::to_string(port_) + "\n" + "data_dir: " + d + "/collector\n" +
            "web_root: " + std::string(SF_SOURCE_DIR) + "/dashboards/web\n" + "enrollment_tokens: [" + kToken +
            "]\n" + "auth: {argon2: {memory: 19MiB, iterations: 1, parallelism: 1}}\n" +
            "alerting:\n"
            "  rule_files: [rules.yaml]\n"
            "  route: {receiver: hook, group_by: [alertname, host, target], group_wait: 10s, group_interval: 1s}\n"
            "  receivers:\n"
            "    - name: hook\n"
            "      webhook_configs:\n"
            "        - url: http://127.0.0.1:" +
            std::to_string(hook_port_) + "/hook\n" + "          secret_file: " + d + "/hook.secret\n" +
            "  delivery: {max_backoff: 1s}\n");
    receiver_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/python3", std::string(SF_SOURCE_DIR) + "/tests/peers/webhook_receiver.py",
                                 "--port", std::to_string(hook_port_), "--out", d + "/received.jsonl",
                                 "--secret-file", d + "/hook.secret", "--ready-file", d + "/receiver.ready"},
        d + "/receiver.log");
    for (int i = 0; i < 200 && access((d + "/receiver.ready").c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(milliseconds(25));
    }
    ASSERT_EQ(access((d + "/receiver.ready").c_str(), F_OK), 0) << testsupport::ReadTextFile(d + "/receiver.log");
  }

  std::unique_ptr<Process> StartCollector() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{SF_COLLECTOR_BIN, "--config", dir_.path() + "/collector.yaml"},
        dir_.path() + "/collector.log");
    for (int i = 0; i < 500; ++i) {
      http::HttpClientRequest req;
      req.url = base_ + "/readyz";
      req.timeout = milliseconds(2000);
      auto r = client_->Do(req);
      if (r.ok() && r->status == 200) return p;
      if (!p->running()) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
    ADD_FAILURE() << "collector did not become ready; log:\n" << testsupport::ReadTextFile(p->log_path());
    return p;
  }

  StatusOr<http::HttpResponse> Post(const std::string& path, const std::string& body, const std::string& bearer) {
    http::HttpClientRequest req;
    req.method = "POST";
    req.url = base_ + path;
    req.body = body;
    req.timeout = milliseconds(5000);
    req.headers.Set("Content-Type", "application/json");
    if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
    return client_->Do(req);
  }

  void Enroll() {
    protocol::EnrollRequest e;
    e.enrollment_token = kToken;
    e.host.hostname = "db-1";
    e.host.os = "Debian GNU/Linux 12 (bookworm)";
    e.host.kernel = "6.1.0";
    e.host.arch = "x86_64";
    e.host.agent_version = "0.1.0";
    auto r = Post("/api/v1/enroll", protocol::EncodeEnrollRequest(e), "");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
    auto resp = protocol::DecodeEnrollResponse(r->body);
    ASSERT_TRUE(resp.ok());
    agent_id_ = resp->agent_id;
    agent_token_ = resp->agent_token;
  }

  // One batch with a result per target; true once the collector answered 200 (durable).
  bool Report(const std::vector<std::string>& targets, protocol::CheckStatus status, uint64_t first_seq) {
    protocol::ReportBatch b;
    b.agent_id = agent_id_;
    b.host.hostname = "db-1";
    b.sent_at_ms = NowMs();
    uint64_t seq = first_seq;
    for (const std::string& t : targets) {
      protocol::ReportEntry e;
      e.seq = seq++;
      e.result.check = "disk";
      e.result.target = t;
      e.result.status = status;
      e.result.summary = "disk " + t;
      e.result.observed_at_ms = NowMs();
      b.results.push_back(e);
    }
    auto r = Post("/api/v1/reports", protocol::EncodeReportBatch(b), agent_token_);
    return r.ok() && r->status == 200;
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  std::vector<json> Received() {
    std::vector<json> out;
    std::ifstream in(dir_.path() + "/received.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object()) out.push_back(std::move(j));
    }
    return out;
  }

  // (status, target) -> the Idempotency-Keys of the delivered (200) notifications carrying it.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> Delivered() {
    std::map<std::pair<std::string, std::string>, std::set<std::string>> out;
    for (const json& r : Received()) {
      if (r["code"] != 200) continue;
      for (const json& a : r["body"]["alerts"]) {
        out[{a["status"].get<std::string>(), a["labels"]["target"].get<std::string>()}].insert(
            r["idempotency_key"].get<std::string>());
      }
    }
    return out;
  }

  void WaitFor(const std::function<bool()>& cond, milliseconds timeout, const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline) {
        FAIL() << "timed out waiting for " << what << "\ncollector log:\n"
               << testsupport::ReadTextFile(dir_.path() + "/collector.log");
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  TempDir dir_;
  int port_ = 0;
  int hook_port_ = 0;
  std::string base_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<Process> receiver_;
  std::string agent_id_, agent_token_;
};

TEST_F(AlertingE2E, ACriticalResultReachesTheSignedWebhookAndItsResolutionFollows) {
  auto collector = StartCollector();
  Enroll();
  const int64_t sent = NowMs();
  ASSERT_TRUE(Report({"/dev/sda"}, protocol::CheckStatus::kCritical, 1));
  WaitFor([&] { return Delivered().count({"firing", "/dev/sda"}) == 1; }, milliseconds(10'000), "the firing alert");
  std::vector<json> got = Received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["signature_ok"], true) << "Python's hmac disagrees with our signature";
  const json& body = got[0]["body"];
  EXPECT_EQ(body["version"], "4");
  EXPECT_EQ(body["status"], "firing");
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "check-critical");
  EXPECT_EQ(body["alerts"][0]["labels"]["host"], "db-1");
  EXPECT_EQ(body["alerts"][0]["annotations"]["summary"], "disk /dev/sda on db-1 is critical");
  // The target is 1 s (p99) from the report to the webhook; an ASan build under a
  // parallel test run gets ten times that here (bench/alert_latency.sh measures it for real).
  EXPECT_LT(got[0]["received_ms"].get<int64_t>() - sent, 10'000);

  ASSERT_TRUE(Report({"/dev/sda"}, protocol::CheckStatus::kOk, 2));
  WaitFor([&] { return Delivered().count({"resolved", "/dev/sda"}) == 1; }, milliseconds(10'000), "the resolution");
  got = Received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["signature_ok"], true);
  EXPECT_EQ(got[1]["body"]["status"], "resolved");
  EXPECT_NE(got[0]["idempotency_key"], got[1]["idempotency_key"]);
  collector->Signal(SIGTERM);
  EXPECT_EQ(collector->Wait(milliseconds(10'000)), 0);
}

TEST_F(AlertingE2E, SighupReloadsTheRulesAndABadFileIsRefusedWhileTheOldRulesStay) {
  auto collector = StartCollector();
  Enroll();
  ASSERT_TRUE(Report({"/dev/sda"}, protocol::CheckStatus::kCritical, 1));
  WaitFor([&] { return Delivered().count({"firing", "/dev/sda"}) == 1; }, milliseconds(10'000), "the firing alert");

  // A broken rule file: refused, logged with file:line, the running rules stay.
  const std::string rules = dir_.path() + "/rules.yaml";
  testsupport::WriteTextFile(rules, "rules:\n  - name: check-critical\n    kind: check_status\n    statusez: [critical]\n");
  collector->Signal(SIGHUP);
  WaitFor([&] { return testsupport::ReadTextFile(dir_.path() + "/collector.log").find("reload") != std::string::npos &&
                       testsupport::ReadTextFile(dir_.path() + "/collector.log").find("refused") != std::string::npos; },
          milliseconds(10'000), "the refused reload in the log");
  const std::string log = testsupport::ReadTextFile(dir_.path() + "/collector.log");
  EXPECT_NE(log.find("rules.yaml:4"), std::string::npos) << log;
  EXPECT_NE(log.find("statusez"), std::string::npos) << log;
  ASSERT_TRUE(collector->running());
  ASSERT_TRUE(Report({"/dev/sdc"}, protocol::CheckStatus::kCritical, 2));
  WaitFor([&] { return Delivered().count({"firing", "/dev/sdc"}) == 1; }, milliseconds(10'000),
          "an alert from the rules still in force");

  // A good file: the critical rule is gone (its alerts resolve, notified once) and a new rule
  // for warnings is in force.
  // (Critical, so that its first notification does not wait the route's 10 s group_wait.)
  testsupport::WriteTextFile(rules, "rules:\n  - name: check-warning\n    kind: check_status\n    statuses: [warning]\n"
                                    "    severity: critical\n");
  collector->Signal(SIGHUP);
  WaitFor([&] { return Delivered().count({"resolved", "/dev/sda"}) == 1 && Delivered().count({"resolved", "/dev/sdc"}) == 1; },
          milliseconds(10'000), "the alerts of the removed rule resolving");
  ASSERT_TRUE(Report({"/dev/sdb"}, protocol::CheckStatus::kWarning, 3));
  WaitFor([&] { return Delivered().count({"firing", "/dev/sdb"}) == 1; }, milliseconds(10'000),
          "an alert from the reloaded rule");
  EXPECT_EQ(Delivered()[std::make_pair(std::string("firing"), std::string("/dev/sda"))].size(), 1u) << "nothing sent twice";
  collector->Signal(SIGTERM);
  EXPECT_EQ(collector->Wait(milliseconds(10'000)), 0);
}

TEST_F(AlertingE2E, ACollectorKilledAtAnyMomentSendsEveryNotificationAfterRestartAndNoneTwice) {
  auto collector = StartCollector();
  Enroll();
  std::mt19937 rng(12345);
  std::vector<std::string> targets;
  uint64_t seq = 1;
  constexpr int kRounds = 6;
  constexpr int kPerRound = 5;
  // Each round: a batch of new failures, then a kill at a random moment while the collector
  // evaluates, writes the outbox and sends; a batch not answered is sent again after the restart,
  // as an agent would.
  auto kill_and_restart = [&] {
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 120)(rng)));
    collector->Signal(SIGKILL);
    ASSERT_EQ(collector->Wait(milliseconds(5000)), 128 + SIGKILL);
    collector = StartCollector();
  };
  for (int i = 0; i < kRounds * kPerRound; ++i) {
    targets.push_back("/dev/sd" + std::string(1, static_cast<char>('a' + i / kPerRound)) + std::to_string(i % kPerRound));
  }
  // Everything fails, round by round, with kills; then everything resolves, with kills again.
  for (const auto& [status, kind] : {std::pair{protocol::CheckStatus::kCritical, "firing"},
                                     std::pair{protocol::CheckStatus::kOk, "resolved"}}) {
    for (int round = 0; round < kRounds; ++round) {
      std::vector<std::string> batch(targets.begin() + round * kPerRound, targets.begin() + (round + 1) * kPerRound);
      // An agent retries until the collector answers (it may still be starting after a kill).
      bool stored = false;
      for (int attempt = 0; attempt < 50 && !stored; ++attempt) {
        stored = Report(batch, status, seq);
        if (!stored) {
          if (!collector->running()) collector = StartCollector();
          std::this_thread::sleep_for(milliseconds(100));
        }
      }
      ASSERT_TRUE(stored) << "the collector never took the batch";
      seq += batch.size();
      kill_and_restart();
    }
    WaitFor([&, kind = std::string(kind)] {
      auto d = Delivered();
      return std::all_of(targets.begin(), targets.end(), [&](const std::string& t) { return d.count({kind, t}) != 0; });
    }, milliseconds(30'000), std::string("every ") + kind + " notification");
  }
  std::this_thread::sleep_for(milliseconds(2500));  // anything extra would arrive by now

  auto delivered = Delivered();
  for (const std::string& t : targets) {
    SCOPED_TRACE(t);
    // One notification each; a second delivery would have to carry the same Idempotency-Key
    // (a kill between the receiver's answer and recording it), which the receiver can drop.
    EXPECT_EQ((delivered[{"firing", t}].size()), 1u);
    EXPECT_EQ((delivered[{"resolved", t}].size()), 1u);
  }
  // A repeat with the same key can only come from a kill between the receiver's answer and the
  // outbox recording it: at most one per notification in flight (4 workers) per kill.
  std::map<std::string, int> per_key;
  for (const json& r : Received()) {
    EXPECT_EQ(r["signature_ok"], true);
    if (r["code"] == 200) ++per_key[r["idempotency_key"].get<std::string>()];
  }
  int repeats = 0;
  for (const auto& [key, n] : per_key) repeats += n - 1;
  EXPECT_LE(repeats, 4 * 2 * kRounds);
}

// Prometheus itself (Debian's prometheus) sends its alerts to the collector's Alertmanager API;
// they go out to the webhook like the collector's own.
TEST_F(AlertingE2E, PrometheusAlertsArriveThroughTheAlertmanagerApi) {
  if (access("/usr/bin/prometheus", X_OK) != 0) GTEST_SKIP() << "needs prometheus (deploy/install-deps.sh)";
  const std::string d = dir_.path();
  // An API token for Prometheus, made with the admin CLI as an operator would (the CLI makes
  // the first account an admin; a token carries one of its user's roles).
  const std::string cli = std::string(SF_COLLECTOR_BIN) + " admin ";
  const std::string conf = " --config " + d + "/collector.yaml";
  const std::string setup = "echo 'E2e-Watch-Pass-17x' | " + cli + "create-admin" + conf +
                            " --username feeder --password-stdin >/dev/null && " + cli + "create-token" + conf +
                            " --username feeder --name prometheus --role admin > " + d + "/prom.token 2>/dev/null";
  ASSERT_EQ(std::system(setup.c_str()), 0) << setup;
  std::string token = testsupport::ReadTextFile(d + "/prom.token");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  auto collector = StartCollector();
  const int prom_port = testsupport::FreeLoopbackPort();
  testsupport::WriteTextFile(d + "/prom-rules.yml",
                             "groups:\n  - name: e2e\n    rules:\n      - alert: BackupStale\n"
                             "        expr: vector(1)\n        labels: {host: nas1, severity: critical}\n"
                             "        annotations: {summary: 'nightly backup is stale'}\n");
  testsupport::WriteTextFile(d + "/prometheus.yml",
                             "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                             "rule_files: ['" + d + "/prom-rules.yml']\n"
                             "alerting:\n  alertmanagers:\n    - api_version: v2\n"
                             "      authorization: {credentials: '" + token + "'}\n"
                             "      static_configs: [{targets: ['127.0.0.1:" + std::to_string(port_) + "']}]\n");
  // resend-delay 1s: Prometheus drops the first send made before it has discovered the target.
  Process prometheus({"/usr/bin/prometheus", "--config.file=" + d + "/prometheus.yml",
                      "--storage.tsdb.path=" + d + "/prom-data", "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                      "--rules.alert.resend-delay=1s"},
                     d + "/prometheus.log");
  WaitFor([&] {
    for (const json& r : Received()) {
      for (const json& a : r["body"]["alerts"]) {
        if (a["labels"].value("alertname", "") == "BackupStale") return true;
      }
    }
    return false;
  }, milliseconds(40'000), "Prometheus' alert at the webhook");
  for (const json& r : Received()) {
    for (const json& a : r["body"]["alerts"]) {
      if (a["labels"].value("alertname", "") != "BackupStale") continue;
      EXPECT_EQ(r["signature_ok"], true);
      EXPECT_EQ(a["status"], "firing");
      EXPECT_EQ(a["labels"]["host"], "nas1");
      EXPECT_EQ(a["annotations"]["summary"], "nightly backup is stale");
    }
  }
  prometheus.Signal(SIGTERM);
  prometheus.Wait(milliseconds(10'000));
}

}  // namespace
}  // namespace steadfast
