// End-to-end tests with the real binaries: a collector and an agent started as processes on
// loopback, killed with SIGKILL at bad moments, and checked for lost or duplicated results.
//
// The invariant checked after every scenario: the sequence numbers the collector stored for
// the agent, together with what is still in the agent's spool, form one gap-free range that
// ends at the last number the agent's spool ever issued. The collector holds each number at
// most once (the API would show a duplicate), and in the order the agent produced them.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/http/http_client.h"
#include "common/sqlite/sqlite_db.h"
#include "tests/support/process.h"

namespace steadfast {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testsupport::Process;
using testsupport::TempDir;

constexpr char kToken[] = "e2e-enrolment-token-0123456789";

class AgentCollectorE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testsupport::FreeLoopbackPort();
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    client_ = http::NewCurlHttpClient({});
    testsupport::WriteTextFile(dir_.path() + "/collector.yaml",
                               "listen: 127.0.0.1:" + std::to_string(port_) + "\n" +
                                   "data_dir: " + dir_.path() + "/collector\n" +
                                   "web_root: " + std::string(SF_SOURCE_DIR) + "/dashboards/web\n" +
                                   "enrollment_tokens: [" + kToken + "]\n" +
                                   "auth: {argon2: {memory: 19MiB, iterations: 1, parallelism: 1}}\n");
    // A person to read the API as, made the way an operator would: with the admin CLI.
    const std::string cli = std::string(SF_COLLECTOR_BIN) + " admin ";
    const std::string conf = " --config " + dir_.path() + "/collector.yaml";
    const std::string token_file = dir_.path() + "/viewer.token";
    const std::string setup = "echo 'E2e-Watch-Pass-17' | " + cli + "create-admin" + conf +
                              " --username reader --password-stdin >/dev/null && " + cli + "create-token" + conf +
                              " --username reader --name e2e --role admin > " + token_file + " 2>/dev/null";
    ASSERT_EQ(std::system(setup.c_str()), 0) << setup;
    std::string token = testsupport::ReadTextFile(token_file);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    ASSERT_EQ(token.rfind("sfa_", 0), 0u) << token;
    api_token_ = token;
    testsupport::WriteTextFile(dir_.path() + "/agent.yaml",
                               "collector_url: " + base_ + "\n" +
                                   "enrollment_token: " + kToken + "\n" +
                                   "state_dir: " + dir_.path() + "/agent\n" +
                                   "uplink:\n  interval: 1s\n  batch_size: 20\n  max_backoff: 2s\n" +
                                   "checks:\n"
                                   "  - {name: system, type: system, interval: 1s}\n"
                                   "  - {name: filesystems, type: filesystem, interval: 1s}\n"
                                   "  - {name: collector-port, type: tcp, target: 127.0.0.1:" +
                                   std::to_string(port_) + ", interval: 1s}\n");
  }

  std::unique_ptr<Process> StartCollector() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{SF_COLLECTOR_BIN, "--config", dir_.path() + "/collector.yaml"},
        dir_.path() + "/collector.log");
    for (int i = 0; i < 300; ++i) {
      auto r = Get("/readyz");
      if (r.ok() && r->status == 200) return p;
      if (!p->running()) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
    ADD_FAILURE() << "collector did not become ready; log:\n" << testsupport::ReadTextFile(p->log_path());
    return p;
  }

  std::unique_ptr<Process> StartAgent() {
    return std::make_unique<Process>(
        std::vector<std::string>{SF_AGENT_BIN, "--config", dir_.path() + "/agent.yaml"},
        dir_.path() + "/agent.log");
  }

  StatusOr<http::HttpResponse> Get(const std::string& path) {
    http::HttpClientRequest req;
    req.url = base_ + path;
    req.timeout = milliseconds(5000);
    req.headers.Set("Authorization", "Bearer " + api_token_);
    return client_->Do(req);
  }

  StatusOr<http::HttpResponse> Post(const std::string& path, const json& body) {
    http::HttpClientRequest req;
    req.method = "POST";
    req.url = base_ + path;
    req.timeout = milliseconds(5000);
    req.headers.Set("Authorization", "Bearer " + api_token_);
    req.headers.Set("Content-Type", "application/json");
    req.body = body.dump();
    return client_->Do(req);
  }

  json GetJson(const std::string& path) {
    auto r = Get(path);
    if (!r.ok() || r->status != 200) {
      ADD_FAILURE() << path << ": " << (r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString());
      return json();
    }
    return json::parse(r->body, nullptr, false);
  }

  // The agent id once the collector has heard from it, or "".
  std::string HostId() {
    json hosts = GetJson("/api/v1/hosts");
    if (!hosts.is_object() || !hosts["items"].is_array() || hosts["items"].empty()) return "";
    return hosts["items"][0]["id"].get<std::string>();
  }

  // Every seq the collector stored for the host, across all its checks, with duplicates kept
  // so the test can see them.
  std::vector<int64_t> CollectorSeqs(const std::string& host) {
    std::vector<int64_t> seqs;
    json checks = GetJson("/api/v1/hosts/" + host + "/checks");
    for (const auto& c : checks["items"]) {
      std::string q = "/api/v1/hosts/" + host + "/checks/history?limit=100000&check=" +
                      c["check"].get<std::string>() + "&target=" + http::PercentEncode(c["target"].get<std::string>());
      json h = GetJson(q);
      for (const auto& row : h["items"]) seqs.push_back(row["seq"].get<int64_t>());
    }
    std::sort(seqs.begin(), seqs.end());
    return seqs;
  }

  struct SpoolState {
    std::vector<int64_t> pending;  // seqs still in the spool
    int64_t last_issued = 0;       // the highest seq the spool ever issued
  };

  SpoolState ReadSpool() {
    SpoolState s;
    sqlite::OpenOptions ro;
    ro.read_only = true;
    auto db = sqlite::SqliteDb::Open(dir_.path() + "/agent/spool.db", ro);
    if (!db.ok()) {
      ADD_FAILURE() << db.status().ToString();
      return s;
    }
    auto q = (*db)->Prepare(SF_SPOOL_PENDING_SQL);
    if (!q.ok()) {
      ADD_FAILURE() << q.status().ToString();
      return s;
    }
    while (q->Step().value_or(false)) s.pending.push_back(q->ColumnInt(0));
    auto m = (*db)->Prepare("SELECT seq FROM sqlite_sequence");
    if (m.ok() && m->Step().value_or(false)) s.last_issued = m->ColumnInt(0);
    return s;
  }

  void WaitUntil(const std::function<bool()>& cond, milliseconds timeout, const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline) {
        FAIL() << "timed out waiting for " << what << "\ncollector log:\n"
               << testsupport::ReadTextFile(dir_.path() + "/collector.log") << "\nagent log:\n"
               << testsupport::ReadTextFile(dir_.path() + "/agent.log");
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  // The invariant of this file (see the top comment).
  void ExpectNothingLostNothingDuplicated(const std::string& host, size_t min_results) {
    std::vector<int64_t> stored = CollectorSeqs(host);
    SpoolState spool = ReadSpool();
    ASSERT_GE(stored.size(), min_results);
    EXPECT_EQ(std::adjacent_find(stored.begin(), stored.end()), stored.end()) << "a result was stored twice";
    std::set<int64_t> all(stored.begin(), stored.end());
    all.insert(spool.pending.begin(), spool.pending.end());
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(*all.rbegin(), spool.last_issued) << "the newest results are missing";
    int64_t expected = *all.rbegin() - *all.begin() + 1;
    EXPECT_EQ(static_cast<int64_t>(all.size()), expected)
        << "gap in the sequence: " << expected - static_cast<int64_t>(all.size()) << " results lost";
  }

  TempDir dir_;
  int port_ = 0;
  std::string base_;
  std::unique_ptr<http::HttpClient> client_;
  std::string api_token_;
};

TEST_F(AgentCollectorE2E, ResultsArriveAndBothStopCleanly) {
  auto collector = StartCollector();
  auto agent = StartAgent();
  std::string host;
  WaitUntil([&] { return !(host = HostId()).empty() && CollectorSeqs(host).size() >= 3; }, milliseconds(20000),
            "the first results");
  json checks = GetJson("/api/v1/hosts/" + host + "/checks");
  std::set<std::string> names;
  for (const auto& c : checks["items"]) names.insert(c["check"].get<std::string>());
  EXPECT_TRUE(names.count("system"));
  EXPECT_TRUE(names.count("filesystems"));
  EXPECT_TRUE(names.count("collector-port"));
  agent->Signal(SIGTERM);
  EXPECT_EQ(agent->Wait(milliseconds(10000)), 0);
  collector->Signal(SIGTERM);
  EXPECT_EQ(collector->Wait(milliseconds(15000)), 0);
  // The token file holds a secret: only its owner may read it.
  EXPECT_EQ(std::filesystem::status(dir_.path() + "/agent/agent.token").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(AgentCollectorE2E, CollectorKilledWhileAgentProducesLosesNothing) {
  auto collector = StartCollector();
  auto agent = StartAgent();
  std::string host;
  WaitUntil([&] { return !(host = HostId()).empty() && CollectorSeqs(host).size() >= 3; }, milliseconds(20000),
            "the first results");
  collector->Signal(SIGKILL);
  ASSERT_EQ(collector->Wait(milliseconds(5000)), 128 + SIGKILL);
  // The agent keeps producing into its spool while the collector is down.
  size_t before_outage = 0;
  WaitUntil([&] { return (before_outage = ReadSpool().pending.size()) >= 10; }, milliseconds(20000),
            "results to pile up in the spool");
  collector = StartCollector();
  WaitUntil([&] { return ReadSpool().pending.size() < before_outage / 2; }, milliseconds(30000),
            "the spool to drain after the collector came back");
  agent->Signal(SIGTERM);
  ASSERT_EQ(agent->Wait(milliseconds(10000)), 0);
  ExpectNothingLostNothingDuplicated(host, 13);
}

TEST_F(AgentCollectorE2E, AgentKilledMidSendLosesNothing) {
  auto collector = StartCollector();
  auto agent = StartAgent();
  std::string host;
  WaitUntil([&] { return !(host = HostId()).empty(); }, milliseconds(20000), "enrolment");
  // Kill the agent at moments spread over its send cycle (interval 1 s), restart it each time.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(milliseconds(700 + 170 * i));
    agent->Signal(SIGKILL);
    ASSERT_EQ(agent->Wait(milliseconds(5000)), 128 + SIGKILL);
    agent = StartAgent();
  }
  std::this_thread::sleep_for(milliseconds(2500));
  agent->Signal(SIGTERM);
  ASSERT_EQ(agent->Wait(milliseconds(10000)), 0);
  ExpectNothingLostNothingDuplicated(host, 10);
  // Only one agent identity: a restarted agent reuses its token and does not enrol again.
  json hosts = GetJson("/api/v1/hosts");
  EXPECT_EQ(hosts["items"].size(), 1u);
}

// The emergency backup, end to end: a person asks through the API (audited), the collector
// carries the action to the agent in its answer, the agent runs its backup job with the real
// steadfast-backup, and the outcome comes back to the API with the snapshot. Then the agent is
// killed while a second emergency backup runs: started again, it reports that action failed
// (interrupted) and does not run it again.
class EmergencyBackupE2E : public AgentCollectorE2E {
 protected:
  void SetUp() override {
    AgentCollectorE2E::SetUp();
    if (HasFatalFailure()) return;
    const std::string d = dir_.path();
    std::filesystem::create_directories(d + "/data");
    testsupport::WriteTextFile(d + "/data/records.txt", "the day's records\n");
    testsupport::WriteTextFile(d + "/backup.pass", "e2e-backup-password\n");
    ASSERT_EQ(std::system(Backup("init --kdf-memory-mib 64 --kdf-passes 3 >/dev/null").c_str()), 0);
    testsupport::WriteTextFile(d + "/agent.yaml",
                               "collector_url: " + base_ + "\n" + "enrollment_token: " + kToken + "\n" +
                                   "state_dir: " + d + "/agent\n" + "backup_program: " + SF_BACKUP_BIN + "\n" +
                                   "uplink:\n  interval: 1s\n  poll_interval: 1s\n  max_backoff: 2s\n" +
                                   "actions:\n  allowed: [emergency_backup]\n" +
                                   "checks:\n  - {name: system, type: system, interval: 30s}\n" +
                                   "backup_jobs:\n  - name: records\n    repository: " + d + "/repo\n" +
                                   "    password_file: " + d + "/backup.pass\n    paths: [" + d + "/data]\n" +
                                   "    every: 30d\n");
  }

  std::string Backup(const std::string& args) {
    const std::string d = dir_.path();
    return std::string(SF_BACKUP_BIN) + " -q -r " + d + "/repo -p " + d + "/backup.pass --cache-dir " + d +
           "/bcache " + args;
  }

  // The snapshot ids tagged emergency.
  std::vector<std::string> EmergencySnapshots() {
    const std::string out = dir_.path() + "/snapshots.json";
    EXPECT_EQ(std::system(Backup("snapshots --tag emergency --json > " + out).c_str()), 0);
    json list = json::parse(testsupport::ReadTextFile(out), nullptr, false);
    std::vector<std::string> ids;
    if (list.is_array()) {
      for (const auto& s : list) ids.push_back(s["id"].get<std::string>());
    }
    return ids;
  }

  std::string RequestBackup(const std::string& host, const std::string& reason) {
    auto r = Post("/api/v1/hosts/" + host + "/actions",
                  json{{"action", "emergency_backup"}, {"params", {{"job", "records"}}}, {"reason", reason}});
    EXPECT_TRUE(r.ok() && r->status == 202) << (r.ok() ? r->body : r.status().ToString());
    if (!r.ok() || r->status != 202) return "";
    return json::parse(r->body)["action"]["id"].get<std::string>();
  }

  json ActionOf(const std::string& host, const std::string& id) {
    return GetJson("/api/v1/hosts/" + host + "/actions/" + id);
  }
};

TEST_F(EmergencyBackupE2E, RequestedThroughTheApiRunOnTheAgentAndReportedBack) {
  auto collector = StartCollector();
  auto agent = StartAgent();
  std::string host;
  WaitUntil([&] { return !(host = HostId()).empty(); }, milliseconds(20000), "enrolment");
  // The schedule's first run (every: 30d, never run: due now) makes the ordinary snapshot.
  const std::string id = RequestBackup(host, "power failure: preserve the data");
  ASSERT_FALSE(id.empty());
  json action;
  WaitUntil([&] { return (action = ActionOf(host, id))["finished"] == true; }, milliseconds(60000),
            "the emergency backup to finish");
  ASSERT_EQ(action["state"], "succeeded") << action.dump();
  EXPECT_NE(action["summary"].get<std::string>().find("job records: snapshot "), std::string::npos) << action.dump();
  const std::string snapshot = action["details"]["jobs"][0]["snapshot"].get<std::string>();
  std::vector<std::string> tagged = EmergencySnapshots();
  ASSERT_EQ(tagged.size(), 1u);
  EXPECT_EQ(tagged[0], snapshot);
  // Who asked, and why, is in the audit trail.
  json audit = GetJson("/api/v1/audit?action=hosts.action");
  ASSERT_GE(audit["items"].size(), 1u) << audit.dump();
  EXPECT_NE(audit.dump().find("power failure: preserve the data"), std::string::npos) << audit.dump();
  agent->Signal(SIGTERM);
  EXPECT_EQ(agent->Wait(milliseconds(20000)), 0);
}

TEST_F(EmergencyBackupE2E, AnAgentKilledDuringTheBackupReportsItInterruptedAndDoesNotRunItAgain) {
  auto collector = StartCollector();
  auto agent = StartAgent();
  std::string host;
  WaitUntil([&] { return !(host = HostId()).empty(); }, milliseconds(20000), "enrolment");
  // Let the scheduled first backup finish, so that the emergency one is what gets killed.
  WaitUntil([&] { return std::filesystem::exists(dir_.path() + "/agent/backup-jobs/records.json"); },
            milliseconds(120000), "the scheduled backup");
  {
    // Enough new data (incompressible) that the emergency backup is still running when the
    // agent is killed.
    std::string big(128u << 20, '\0');
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < big.size(); i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(&big[i], &x, 8);
    }
    testsupport::WriteTextFile(dir_.path() + "/data/big.bin", big);
  }
  const std::string id = RequestBackup(host, "drill of the kill");
  ASSERT_FALSE(id.empty());
  WaitUntil([&] { return ActionOf(host, id)["state"] == "running"; }, milliseconds(30000), "the backup to start");
  agent->Signal(SIGKILL);
  ASSERT_EQ(agent->Wait(milliseconds(5000)), 128 + SIGKILL);
  agent = StartAgent();
  json action;
  WaitUntil([&] { return (action = ActionOf(host, id))["finished"] == true; }, milliseconds(30000),
            "the interrupted action to be reported");
  EXPECT_EQ(action["state"], "failed") << action.dump();
  EXPECT_NE(action["summary"].get<std::string>().find("interrupted"), std::string::npos) << action.dump();
  // Not run again: give the agent time to (wrongly) start it, then look.
  std::this_thread::sleep_for(milliseconds(3000));
  EXPECT_LE(EmergencySnapshots().size(), 1u) << "at most the killed run's own backup, which may have completed";
  EXPECT_EQ(std::system(Backup("check >/dev/null").c_str()), 0) << "the repository is whole";
  agent->Signal(SIGTERM);
  EXPECT_EQ(agent->Wait(milliseconds(60000)), 0);
}

TEST_F(AgentCollectorE2E, ConfigErrorsExitWithStatus2AndNameTheKey) {
  testsupport::WriteTextFile(dir_.path() + "/bad.yaml", "listen: 127.0.0.1:1\nlissten: typo\n");
  Process c({SF_COLLECTOR_BIN, "--config", dir_.path() + "/bad.yaml"}, dir_.path() + "/bad-c.log");
  EXPECT_EQ(c.Wait(milliseconds(10000)), 2);
  EXPECT_NE(testsupport::ReadTextFile(c.log_path()).find("bad.yaml:2"), std::string::npos)
      << testsupport::ReadTextFile(c.log_path());
  testsupport::WriteTextFile(dir_.path() + "/bad-agent.yaml",
                             "collector_url: http://127.0.0.1:1\nstate_dir: /tmp\nchecks:\n"
                             "  - {name: x, type: system, interval: often}\n");
  Process a({SF_AGENT_BIN, "--config", dir_.path() + "/bad-agent.yaml"}, dir_.path() + "/bad-a.log");
  EXPECT_EQ(a.Wait(milliseconds(10000)), 2);
  EXPECT_NE(testsupport::ReadTextFile(a.log_path()).find("bad-agent.yaml:4"), std::string::npos)
      << testsupport::ReadTextFile(a.log_path());
}

TEST_F(AgentCollectorE2E, HelpAndVersion) {
  for (const char* bin : {SF_COLLECTOR_BIN, SF_AGENT_BIN}) {
    Process v({bin, "--version"}, dir_.path() + "/v.log");
    EXPECT_EQ(v.Wait(milliseconds(10000)), 0);
    Process h({bin, "--help"}, dir_.path() + "/h.log");
    EXPECT_EQ(h.Wait(milliseconds(10000)), 0);
  }
  std::string out = testsupport::ReadTextFile(dir_.path() + "/v.log");
  EXPECT_NE(out.find("steadfast-collector"), std::string::npos);
  EXPECT_NE(out.find("steadfast-agent"), std::string::npos);
  EXPECT_NE(testsupport::ReadTextFile(dir_.path() + "/h.log").find("--config"), std::string::npos);
}

// The agent binary does not link OpenSSL or net-snmp (common/tls/openssl_loader.h,
// agent/checks/net_snmp_client.cc): an agent without TLS or SNMP work never maps them, and one
// with an https probe loads libssl on first use and gets the same answers as a linked one.
TEST(AgentBinaryE2E, LoadsOpenSslOnlyForTlsAndItWorksThen) {
  TempDir dir;
  const std::string d = dir.path();
  const int metrics_port = testsupport::FreeLoopbackPort();
  testsupport::WriteTextFile(d + "/plain.yaml",
                             "collector_url: http://127.0.0.1:1\nenrollment_token: e2e\nstate_dir: " +
                                 d + "/plain\nmetrics_listen: 127.0.0.1:" +
                                 std::to_string(metrics_port) +
                                 "\nchecks:\n  - {name: system, type: system, interval: 1s}\n");
  Process plain({SF_AGENT_BIN, "--config", d + "/plain.yaml"}, d + "/plain.log");
  auto client = http::NewCurlHttpClient({});
  bool served = false;
  for (int i = 0; i < 250 && !served && plain.running(); ++i) {
    http::HttpClientRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics";
    req.timeout = milliseconds(2000);
    auto r = client->Do(req);
    served = r.ok() && r->status == 200 &&
             r->body.find("steadfast_agent_checks_run_total{check=\"system\"} 1") != std::string::npos;
    if (!served) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(served) << testsupport::ReadTextFile(d + "/plain.log");
  const std::string maps = testsupport::ReadTextFile("/proc/" + std::to_string(plain.pid()) + "/maps");
  EXPECT_NE(maps.find("steadfast-agent"), std::string::npos);
  for (const char* lib : {"libssl", "libcrypto", "libnetsnmp"}) {
    EXPECT_EQ(maps.find(lib), std::string::npos) << lib << " is mapped:\n" << maps;
  }

  if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/openssl (Debian openssl)";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                         "-nodes -days 5 -subj /CN=localhost -addext subjectAltName=DNS:localhost "
                         "-keyout " + d + "/key.pem -out " + d + "/cert.pem >/dev/null 2>&1")
                            .c_str()),
            0);
  testsupport::WriteTextFile(d + "/index.html", "hello over TLS\n");
  const int tls_port = testsupport::FreeLoopbackPort();
  Process server({"/bin/sh", "-c",
                  "cd " + d + " && exec /usr/bin/openssl s_server -quiet -WWW -accept 127.0.0.1:" +
                      std::to_string(tls_port) + " -cert cert.pem -key key.pem"},
                 d + "/s_server.log");
  const std::string url = "https://localhost:" + std::to_string(tls_port) + "/index.html";
  testsupport::WriteTextFile(d + "/tls.yaml",
                             "collector_url: http://127.0.0.1:1\nstate_dir: " + d + "/tls\nchecks:\n" +
                                 "  - {name: trusted, type: http, url: '" + url + "', ca_file: '" + d +
                                 "/cert.pem', body_contains: hello}\n" +
                                 "  - {name: untrusted, type: http, url: '" + url + "'}\n");
  std::string out;
  for (int attempt = 0; attempt < 50; ++attempt) {  // until s_server listens
    Process once({SF_AGENT_BIN, "--config", d + "/tls.yaml", "--once"}, d + "/once.log");
    once.Wait(milliseconds(30000));
    out = testsupport::ReadTextFile(d + "/once.log");
    if (out.find("Connection refused") == std::string::npos &&
        out.find("connection refused") == std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_NE(out.find("certificate expires in 5.0 days (< 7) (HTTP 200 in "), std::string::npos) << out;
  EXPECT_NE(out.find("not accepted: self-signed certificate"), std::string::npos) << out;
}

}  // namespace
}  // namespace steadfast
