// In-process integration: a real agent::Agent and a real collector::CollectorServer in one
// process, talking HTTP over 127.0.0.1 (port 0), each with its own SQLite file in a temp dir.
// The test reads everything back through the collector's REST API with a separate libcurl
// client, so what is checked is what a user (or the console) would see.
//
// What the unit tests do not cover and this file does:
//   - the agent's real checks, spool, uplink and HTTP client against the real collector: every
//     result of every check arrives with the status the check gave it;
//   - a collector restart on the same data dir while the agent keeps producing: every result
//     spooled meanwhile arrives exactly once, in seq order, read with after_seq paging;
//   - hostile report requests over the real socket (the HTTP server's body limit, header
//     parsing and connection handling included), each answered with the right status and JSON
//     error, and the store byte-for-byte unchanged afterwards.
//
// The agent's checks read a fixture proc tree (proc_root) so their statuses are known:
// memory 75% used with warning at 70% (warning), load 0.5 per CPU (ok), swap 25% (ok), uptime
// (ok), cpu (unknown from the second run on: the fixture's counters never advance), one
// filesystem mounted read-only that must be read-write (critical), and a TCP connect to the
// collector's own port (ok).
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "agent/agent_config.h"
#include "agent/check_registry.h"
#include "collector/admin_cli.h"
#include "collector/auth/secure_random.h"
#include "collector/server.h"
#include "common/clock.h"
#include "common/compression.h"
#include "common/fs/file_system.h"
#include "common/http/beast_http_client.h"
#include "common/http/http_client.h"
#include "common/protocol/protocol.h"
#include "common/random.h"
#include "tests/support/process.h"

namespace steadfast {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testsupport::TempDir;

constexpr char kEnrollmentToken[] = "integration-enrolment-token-0123456789";
// Small limits so the hostile cases stay small: compressed body / decompressed body.
constexpr int64_t kMaxBodyBytes = 64 * 1024;
constexpr int64_t kMaxDecompressedBytes = 256 * 1024;
// The results one run of all three checks produces (cpu, load, memory, swap, uptime; one
// filesystem; one TCP connect).
constexpr size_t kResultsPerRun = 7;

// The collector's error document, or a description of why the body is not one.
struct ApiError {
  bool valid = false;
  std::string code, message, field;
};

ApiError ParseError(const std::string& body) {
  ApiError e;
  json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return e;
  const json& err = j["error"];
  if (!err.contains("code") || !err["code"].is_string() || !err.contains("message") ||
      !err["message"].is_string()) {
    return e;
  }
  e.valid = true;
  e.code = err["code"].get<std::string>();
  e.message = err["message"].get<std::string>();
  if (err.contains("field") && err["field"].is_string()) e.field = err["field"].get<std::string>();
  return e;
}


std::string Uname() {
  struct utsname u {};
  return ::uname(&u) == 0 ? std::string(u.nodename) : std::string();
}

// A zstd frame whose header does not state the decompressed size (as a streaming compressor
// writes it), so a decompressor cannot refuse it up front and must stop while expanding.
std::string ZstdCompressWithoutContentSize(const std::string& data) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) return "";
  out.resize(n);
  return out;
}

class AgentCollectorIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.reset(new agent::CheckRegistry());
    agent::RegisterBuiltinChecks(*registry_);
    http::HttpClientOptions o;
    o.connect_timeout = milliseconds(2'000);
    client_ = http::NewCurlHttpClient(o);
    http::HttpClientOptions ao;
    ao.connect_timeout = milliseconds(1'000);
    ao.user_agent = "steadfast-agent/integration-test";
    agent_http_ = http::NewBeastHttpClient(ao);
    WriteProcFixture();
  }

  void TearDown() override {
    if (agent_) agent_->Stop();
    agent_.reset();
    if (collector_) collector_->Shutdown();
    collector_.reset();
  }

  // The proc tree the agent's checks read (see the file comment for the statuses it gives).
  void WriteProcFixture() {
    proc_ = dir_.path() + "/proc";
    ro_mount_ = dir_.path() + "/ro-mount";
    std::filesystem::create_directories(proc_ + "/self");
    std::filesystem::create_directories(ro_mount_);
    testsupport::WriteTextFile(proc_ + "/stat",
                               "cpu  10000 500 3000 80000 1000 100 400 0 0 0\n"
                               "cpu0 2500 125 750 20000 250 25 100 0 0 0\n"
                               "cpu1 2500 125 750 20000 250 25 100 0 0 0\n"
                               "cpu2 2500 125 750 20000 250 25 100 0 0 0\n"
                               "cpu3 2500 125 750 20000 250 25 100 0 0 0\n");
    testsupport::WriteTextFile(proc_ + "/meminfo",
                               "MemTotal:        8000000 kB\nMemFree:          500000 kB\n"
                               "MemAvailable:    2000000 kB\nSwapTotal:       2000000 kB\n"
                               "SwapFree:        1500000 kB\n");
    testsupport::WriteTextFile(proc_ + "/loadavg", "1.50 2.00 2.50 3/512 12345\n");
    testsupport::WriteTextFile(proc_ + "/uptime", "273600.52 1000000.00\n");
    testsupport::WriteTextFile(proc_ + "/self/mounts",
                               "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
                               "/dev/sdz1 " +
                                   ro_mount_ + " ext4 ro,relatime 0 0\n");
  }

  collector::CollectorConfig CollectorConfigFor(uint16_t port) {
    collector::CollectorConfig c;
    c.listen_host = "127.0.0.1";
    c.listen_port = port;
    c.data_dir = dir_.path() + "/collector";
    c.web_root = SF_WEB_ROOT;
    c.enrollment_tokens = {kEnrollmentToken};
    c.max_body_bytes = kMaxBodyBytes;
    c.max_decompressed_bytes = kMaxDecompressedBytes;
    c.io_threads = 1;
    c.handler_threads = 4;
    // The floors the config allows: the admin's password is hashed once per test.
    c.auth.argon2.memory_kib = collector::auth::kConfigMinArgon2MemoryKib;
    c.auth.argon2.iterations = 1;
    c.auth.argon2.parallelism = 1;
    return c;
  }

  // How the test authenticates to the read API: an admin created with the collector's
  // `admin create-admin` command and an API token from `admin create-token`, as an operator
  // would script it. Every read (Get/GetJson) carries the token. Once per data dir.
  void SignIn() {
    collector::auth::OpenSslRandom random;
    std::istringstream in("Integration-Test-Passw0rd-7431\n");
    std::ostringstream out, err;
    collector::AdminEnv env{*fs_, clock_, random, in, out, err, "integration-test"};
    collector::AdminCommand create;
    create.kind = collector::AdminCommand::Kind::kCreateAdmin;
    create.username = "it-admin";
    create.password_stdin = true;
    ASSERT_EQ(collector::RunAdminCommand(CollectorConfigFor(0), create, env), 0) << err.str();
    collector::AdminCommand token;
    token.kind = collector::AdminCommand::Kind::kCreateToken;
    token.username = "it-admin";
    token.token_name = "integration-test";
    token.role = "admin";
    token.days = 1;
    out.str("");
    ASSERT_EQ(collector::RunAdminCommand(CollectorConfigFor(0), token, env), 0) << err.str();
    api_token_ = out.str();
    while (!api_token_.empty() && std::isspace(static_cast<unsigned char>(api_token_.back())))
      api_token_.pop_back();
    ASSERT_FALSE(api_token_.empty());
  }

  // Starts the collector on `port` (0: any); a port just released may take a moment to bind.
  void StartCollector(uint16_t port = 0) {
    auto deadline = std::chrono::steady_clock::now() + milliseconds(5'000);
    for (;;) {
      auto s = collector::CollectorServer::Start(CollectorConfigFor(port),
                                                 collector::CollectorDeps{clock_, *fs_});
      if (s.ok()) {
        collector_ = std::move(s).value();
        base_ = collector_->url();
        if (api_token_.empty()) SignIn();
        return;
      }
      if (s.status().code() != StatusCode::kUnavailable ||
          std::chrono::steady_clock::now() > deadline) {
        FAIL() << "collector did not start: " << s.status().ToString();
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  void StartAgent() {
    ASSERT_TRUE(collector_) << "start the collector first: the agent's TCP check targets its port";
    const std::string port = std::to_string(collector_->port());
    const std::string yaml =
        "collector_url: " + base_ + "\n" + "enrollment_token: " + kEnrollmentToken + "\n" +
        "state_dir: " + dir_.path() + "/agent\n" + "proc_root: " + proc_ + "\n" +
        "log: {level: warn}\n"
        // Batches smaller than one run of the checks, so draining the spool takes several
        // sends and acks.
        "uplink: {interval: 100ms, timeout: 2s, max_backoff: 1s, batch_size: 4}\n"
        "checks:\n"
        "  - {name: system, type: system, interval: 1s, memory_warning_percent: 70,"
        " memory_critical_percent: 90}\n"
        "  - {name: disks, type: filesystem, interval: 1s, expect_rw: [" +
        ro_mount_ +
        "]}\n"
        "  - {name: collector-port, type: tcp, interval: 1s, target: 127.0.0.1:" +
        port + ", timeout: 500ms}\n";
    auto config = agent::ParseAgentConfigText(yaml, "integration-agent.yaml", *registry_);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto a = agent::Agent::Create(std::move(config).value(), *registry_,
                                  agent::AgentEnv{clock_, *fs_, *agent_http_, random_});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    agent_ = std::move(a).value();
    Status st = agent_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // {agent_id, agent_token} from the agent's state dir.
  protocol::EnrollResponse AgentIdentity() {
    json j =
        json::parse(testsupport::ReadTextFile(dir_.path() + "/agent/agent.token"), nullptr, false);
    protocol::EnrollResponse r;
    if (j.is_object()) {
      r.agent_id = j.value("agent_id", "");
      r.agent_token = j.value("agent_token", "");
    }
    return r;
  }

  StatusOr<http::HttpResponse> Do(const std::string& method, const std::string& path,
                                  std::string body = "", http::Headers headers = {}) {
    http::HttpClientRequest req;
    req.method = method;
    req.url = base_ + path;
    req.body = std::move(body);
    req.headers = std::move(headers);
    req.timeout = milliseconds(10'000);
    return client_->Do(req);
  }

  // A read of the REST API, authenticated (see SignIn).
  StatusOr<http::HttpResponse> Get(const std::string& path) {
    http::Headers h;
    h.Add("Authorization", "Bearer " + api_token_);
    return Do("GET", path, "", std::move(h));
  }

  json GetJson(const std::string& path) {
    auto r = Get(path);
    if (!r.ok() || r->status != 200) {
      ADD_FAILURE() << "GET " << path << ": "
                    << (r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString());
      return json();
    }
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << "GET " << path << ": not JSON: " << r->body;
    return j;
  }

  // Polls `cond` until it holds; false (with a test failure naming `what`) after `timeout`.
  bool WaitUntil(const std::function<bool()>& cond, milliseconds timeout, const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "timed out after " << timeout.count() << " ms waiting for " << what;
        return false;
      }
      std::this_thread::sleep_for(milliseconds(25));
    }
    return true;
  }

  // (check, target) -> latest result, as /hosts/{id}/checks shows it.
  std::map<std::pair<std::string, std::string>, json> LatestChecks(const std::string& id) {
    std::map<std::pair<std::string, std::string>, json> out;
    auto r = Get("/api/v1/hosts/" + http::PercentEncode(id) + "/checks");
    if (!r.ok() || r->status != 200) return out;
    json j = json::parse(r->body, nullptr, false);
    if (!j.is_object() || !j["items"].is_array()) return out;
    for (const json& c : j["items"])
      out[{c["check"].get<std::string>(), c["target"].get<std::string>()}] = c;
    return out;
  }

  // Every stored result of host `id`, read with after_seq paging `page_size` at a time.
  // `pages` (if set) receives the number of requests it took.
  std::vector<json> AllHistory(const std::string& id, int page_size, int* pages = nullptr) {
    std::vector<json> rows;
    int64_t after = 0;
    int n = 0;
    for (;;) {
      ++n;
      json page = GetJson("/api/v1/hosts/" + http::PercentEncode(id) + "/checks/history?limit=" +
                          std::to_string(page_size) + "&after_seq=" + std::to_string(after));
      if (!page.is_object() || !page["items"].is_array()) break;
      for (const json& row : page["items"]) rows.push_back(row);
      if (page["next_after_seq"].is_null()) break;
      int64_t next = page["next_after_seq"].get<int64_t>();
      if (next <= after || n > 100'000) {
        ADD_FAILURE() << "history paging does not advance: after_seq " << after << " -> " << next;
        break;
      }
      after = next;
    }
    if (pages != nullptr) *pages = n;
    return rows;
  }

  // Everything the API shows about the stored data, with the volatile server_time removed:
  // the host list, each host, its latest checks and its whole history.
  json StoreSnapshot() {
    json snap = json::object();
    json hosts = GetJson("/api/v1/hosts?limit=1000");
    hosts.erase("server_time");
    snap["hosts"] = hosts;
    for (const json& h : hosts["items"]) {
      const std::string id = h["id"].get<std::string>();
      json host = GetJson("/api/v1/hosts/" + http::PercentEncode(id));
      host.erase("server_time");
      json checks = GetJson("/api/v1/hosts/" + http::PercentEncode(id) + "/checks");
      checks.erase("server_time");
      snap["host:" + id] = host;
      snap["checks:" + id] = checks;
      snap["history:" + id] = AllHistory(id, 100'000);
    }
    return snap;
  }

  TempDir dir_;
  RealClock clock_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  SystemRandom random_;
  std::unique_ptr<agent::CheckRegistry> registry_;
  std::unique_ptr<http::HttpClient> client_;      // the test's own requests
  std::unique_ptr<http::HttpClient> agent_http_;  // the agent's, as in agent_main
  std::string proc_, ro_mount_;
  std::unique_ptr<collector::CollectorServer> collector_;
  std::string base_;
  std::string api_token_;  // see SignIn
  std::unique_ptr<agent::Agent> agent_;
};

TEST_F(AgentCollectorIntegration, EnrolsAndEveryCheckResultIsReadableThroughTheApi) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  const std::string tcp_target = "127.0.0.1:" + std::to_string(collector_->port());
  const std::map<std::pair<std::string, std::string>, std::string> expected = {
      {{"system", "cpu"}, "unknown"},         {{"system", "load"}, "ok"},
      {{"system", "memory"}, "warning"},      {{"system", "swap"}, "ok"},
      {{"system", "uptime"}, "ok"},           {{"disks", ro_mount_}, "critical"},
      {{"collector-port", tcp_target}, "ok"},
  };
  ASSERT_EQ(expected.size(), kResultsPerRun);

  // Enrolment created exactly one host; wait until every check's result is there, and the
  // second cpu result (the first reads the counters "since boot", later ones see no change).
  std::string id;
  ASSERT_TRUE(WaitUntil(
      [&] {
        json hosts = GetJson("/api/v1/hosts");
        if (hosts["items"].size() != 1) return false;
        id = hosts["items"][0]["id"].get<std::string>();
        auto latest = LatestChecks(id);
        if (latest.size() != expected.size()) return false;
        json cpu =
            GetJson("/api/v1/hosts/" + http::PercentEncode(id) + "/checks/history?check=system&target=cpu");
        return cpu["items"].size() >= 2;
      },
      milliseconds(8'000), "every check's result and a second cpu result"));

  protocol::EnrollResponse identity = AgentIdentity();
  EXPECT_EQ(id, identity.agent_id) << "the host's id is the one the agent stored at enrolment";
  EXPECT_FALSE(identity.agent_token.empty());

  // GET /api/v1/hosts
  json hosts = GetJson("/api/v1/hosts");
  ASSERT_EQ(hosts["items"].size(), 1u) << hosts.dump();
  EXPECT_EQ(hosts["total"], 1);
  EXPECT_TRUE(hosts["next_offset"].is_null());
  const json& h = hosts["items"][0];
  EXPECT_EQ(h["hostname"], Uname());
  EXPECT_EQ(h["worst_status"], "critical");
  EXPECT_EQ(h["check_count"], 7);
  EXPECT_EQ(h["status_counts"], (json{{"ok", 4}, {"warning", 1}, {"critical", 1}, {"unknown", 1}}))
      << h.dump();
  ASSERT_TRUE(h["last_seen"].is_string()) << h.dump();
  auto last_seen = ParseRfc3339Millis(h["last_seen"].get<std::string>());
  ASSERT_TRUE(last_seen.ok());
  EXPECT_LE(std::abs(*last_seen - clock_.NowMillis()), 5'000)
      << "last_seen is the time of the last report";

  // GET /api/v1/hosts/{id}
  json host = GetJson("/api/v1/hosts/" + http::PercentEncode(id));
  EXPECT_EQ(host["id"], id);
  EXPECT_EQ(host["hostname"], Uname());
  EXPECT_EQ(host["worst_status"], "critical");
  EXPECT_FALSE(host["agent_version"].get<std::string>().empty());

  // GET /api/v1/hosts/{id}/checks: the status every check gave, and what it said.
  auto latest = LatestChecks(id);
  ASSERT_EQ(latest.size(), expected.size());
  for (const auto& [key, status] : expected) {
    ASSERT_TRUE(latest.count(key)) << key.first << "/" << key.second;
    EXPECT_EQ(latest[key]["status"], status)
        << key.first << "/" << key.second << ": " << latest[key].dump();
  }
  const json& memory = latest[std::make_pair(std::string("system"), std::string("memory"))];
  const json& disk = latest[std::make_pair(std::string("disks"), ro_mount_)];
  EXPECT_NE(memory["summary"].get<std::string>().find("75.0% used"), std::string::npos)
      << memory.dump();
  EXPECT_NE(disk["summary"].get<std::string>().find("read-only"), std::string::npos) << disk.dump();
  EXPECT_FALSE(memory["metrics"].empty());

  // An unknown host is a 404 with a JSON error, not an empty 200.
  auto missing = Get("/api/v1/hosts/no-such-host/checks");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(ParseError(missing->body).valid) << missing->body;
}

TEST_F(AgentCollectorIntegration, ResultsSpooledWhileTheCollectorIsDownArriveOnceAndInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  const uint16_t port = collector_->port();
  std::string id;
  ASSERT_TRUE(WaitUntil(
      [&] {
        json hosts = GetJson("/api/v1/hosts");
        if (hosts["items"].size() != 1) return false;
        id = hosts["items"][0]["id"].get<std::string>();
        return LatestChecks(id).size() == kResultsPerRun;
      },
      milliseconds(8'000), "the first results"));
  const size_t stored_before_outage = AllHistory(id, 100'000).size();

  collector_->Shutdown();
  collector_.reset();
  // The agent keeps producing; its uplink fails and backs off; the spool grows.
  ASSERT_TRUE(WaitUntil(
      [&] { return agent_->spool()->Count() >= static_cast<int64_t>(2 * kResultsPerRun); },
      milliseconds(8'000), "two runs' results in the spool"));
  auto spooled = agent_->spool()->PeekBatch(100'000);
  ASSERT_TRUE(spooled.ok()) << spooled.status().ToString();
  ASSERT_GE(spooled->size(), 2 * kResultsPerRun);
  const uint64_t last_spooled = spooled->back().seq;

  ASSERT_NO_FATAL_FAILURE(
      StartCollector(port));  // same data dir, same port: the agent's URL stays valid
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto head = agent_->spool()->PeekBatch(1);
        return head.ok() && (head->empty() || head->front().seq > last_spooled);
      },
      milliseconds(8'000), "the spool to drain past what was spooled during the outage"));
  agent_->Stop();

  // Read everything back a few rows at a time, so after_seq paging is exercised.
  int pages = 0;
  std::vector<json> rows = AllHistory(id, 5, &pages);
  EXPECT_GT(pages, 3);
  ASSERT_GT(rows.size(), stored_before_outage);
  std::vector<uint64_t> seqs;
  std::map<uint64_t, json> by_seq;
  for (const json& r : rows) {
    seqs.push_back(r["seq"].get<uint64_t>());
    by_seq[seqs.back()] = r;
  }
  for (size_t i = 1; i < seqs.size(); ++i) {
    ASSERT_LT(seqs[i - 1], seqs[i])
        << "history is not in strictly increasing seq order (duplicate or reorder) at " << i;
  }
  // Every result spooled during the outage is stored once, as the agent produced it.
  for (const protocol::ReportEntry& e : *spooled) {
    ASSERT_EQ(by_seq.count(e.seq), 1u)
        << "seq " << e.seq << " (" << e.result.check << "/" << e.result.target
        << ") was spooled during the outage and never arrived";
    const json& row = by_seq[e.seq];
    EXPECT_EQ(row["check"], e.result.check);
    EXPECT_EQ(row["target"], e.result.target);
    EXPECT_EQ(row["status"], std::string(protocol::CheckStatusName(e.result.status)));
    EXPECT_EQ(row["summary"], e.result.summary);
    EXPECT_EQ(row["observed_at"], FormatRfc3339Millis(e.result.observed_at_ms));
  }
  // And nothing anywhere was lost: stored plus still spooled is one gap-free range.
  auto pending = agent_->spool()->PeekBatch(100'000);
  ASSERT_TRUE(pending.ok());
  std::set<uint64_t> all(seqs.begin(), seqs.end());
  for (const auto& e : *pending) all.insert(e.seq);
  EXPECT_EQ(*all.rbegin() - *all.begin() + 1, all.size())
      << "a gap in the sequence: results were lost";
  EXPECT_LT(seqs.front(), spooled->front().seq)
      << "what was stored before the outage survived the restart";
}

TEST_F(AgentCollectorIntegration, HostileReportsAreRefusedOverTheSocketAndStoreNothing) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(WaitUntil(
      [&] {
        json hosts = GetJson("/api/v1/hosts");
        return hosts["items"].size() == 1 &&
               LatestChecks(hosts["items"][0]["id"].get<std::string>()).size() == kResultsPerRun;
      },
      milliseconds(8'000), "the first results"));
  agent_->Stop();  // from here on only this test writes
  const protocol::EnrollResponse me = AgentIdentity();
  ASSERT_FALSE(me.agent_token.empty());

  // A second agent, enrolled through the API, with one stored result.
  protocol::EnrollRequest enroll;
  enroll.enrollment_token = kEnrollmentToken;
  enroll.host.hostname = "other-host";
  auto er = Do("POST", "/api/v1/enroll", protocol::EncodeEnrollRequest(enroll));
  ASSERT_TRUE(er.ok());
  ASSERT_EQ(er->status, 200) << er->body;
  auto other = protocol::DecodeEnrollResponse(er->body);
  ASSERT_TRUE(other.ok());

  // A well-formed batch for `agent_id`, seqs from `first`.
  auto batch = [](const std::string& agent_id, uint64_t first, size_t n,
                  size_t summary_bytes = 20) {
    protocol::ReportBatch b;
    b.agent_id = agent_id;
    b.sent_at_ms = 1'790'000'000'000;
    b.host.hostname = "h";
    uint64_t x = 88172645463325252ull;  // xorshift: summaries that do not compress
    for (size_t i = 0; i < n; ++i) {
      protocol::ReportEntry e;
      e.seq = first + i;
      e.result.check = "probe";
      e.result.target = "t" + std::to_string(i);
      e.result.status = protocol::CheckStatus::kWarning;
      e.result.observed_at_ms = b.sent_at_ms;
      for (size_t k = 0; k < summary_bytes; ++k) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        e.result.summary.push_back(static_cast<char>('!' + x % 90));
      }
      e.result.metrics.push_back({"value", {}, 1.0, ""});
      b.results.push_back(std::move(e));
    }
    return b;
  };
  auto post = [&](const std::string& token, const std::string& body, const std::string& encoding,
                  const std::string& authorization = "") {
    http::Headers h;
    if (!authorization.empty()) {
      h.Add("Authorization", authorization);
    } else if (!token.empty()) {
      h.Add("Authorization", "Bearer " + token);
    }
    h.Add("Content-Type", "application/json");
    if (!encoding.empty()) h.Add("Content-Encoding", encoding);
    return Do("POST", "/api/v1/reports", body, h);
  };
  {
    auto ok = post(other->agent_token,
                   ZstdCompress(protocol::EncodeReportBatch(batch(other->agent_id, 1, 2))), "zstd");
    ASSERT_TRUE(ok.ok());
    ASSERT_EQ(ok->status, 200) << ok->body;
  }

  const json before = StoreSnapshot();
  ASSERT_EQ(before["hosts"]["items"].size(), 2u);
  ASSERT_GE(before["history:" + me.agent_id].size(), kResultsPerRun);
  ASSERT_EQ(before["history:" + other->agent_id].size(), 2u);

  // Seqs far above anything the agent issued, so a wrongly accepted batch would show as new rows.
  const uint64_t seq = 9'000'000'000'000'000ull;
  const json good = json::parse(protocol::EncodeReportBatch(batch(me.agent_id, seq, 4)));
  auto mutated = [&](const std::function<void(json&)>& f) {
    json j = good;
    f(j);
    return ZstdCompress(j.dump());
  };
  const std::string good_text = good.dump();

  // Over the compressed limit: a real batch whose summaries do not compress.
  const std::string huge = protocol::EncodeReportBatch(batch(me.agent_id, seq, 200, 1'000));
  const std::string huge_zstd = ZstdCompress(huge);
  ASSERT_GT(huge_zstd.size(), static_cast<size_t>(kMaxBodyBytes));
  // Under the compressed limit, over the decompressed one.
  const std::string bomb = ZstdCompress(std::string(32u << 20, ' '));
  const std::string bomb_streamed = ZstdCompressWithoutContentSize(std::string(32u << 20, ' '));
  ASSERT_LT(bomb.size(), static_cast<size_t>(kMaxBodyBytes));
  ASSERT_FALSE(bomb_streamed.empty());
  ASSERT_LT(bomb_streamed.size(), static_cast<size_t>(kMaxBodyBytes));
  // Within both limits after compression but a valid frame cut short.
  std::string cut = ZstdCompress(good_text);
  cut.resize(cut.size() - 5);

  struct Case {
    std::string name;
    std::function<StatusOr<http::HttpResponse>()> send;
    int status;
    std::string code;   // "" = any
    std::string field;  // "" = not checked
  };
  const std::string& tok = me.agent_token;
  std::vector<Case> cases = {
      {"truncated JSON",
       [&] { return post(tok, ZstdCompress(good_text.substr(0, good_text.size() / 2)), "zstd"); },
       400, "invalid_argument", ""},
      {"not an object", [&] { return post(tok, ZstdCompress("[1,2,3]"), "zstd"); }, 400,
       "invalid_argument", ""},
      {"status of the wrong value",
       [&] {
         return post(tok, mutated([](json& j) { j["results"][3]["status"] = "fine"; }), "zstd");
       },
       400, "invalid_argument", "results[3].status"},
      {"seq as a string",
       [&] { return post(tok, mutated([](json& j) { j["results"][1]["seq"] = "2"; }), "zstd"); },
       400, "invalid_argument", "results[1].seq"},
      {"metric value as a string",
       [&] {
         return post(tok, mutated([](json& j) { j["results"][0]["metrics"][0]["value"] = "high"; }),
                     "zstd");
       },
       400, "invalid_argument", "results[0].metrics[0].value"},
      {"host as a string",
       [&] { return post(tok, mutated([](json& j) { j["host"] = "srv"; }), "zstd"); }, 400,
       "invalid_argument", "host"},
      {"results as an object",
       [&] { return post(tok, mutated([](json& j) { j["results"] = json::object(); }), "zstd"); },
       400, "invalid_argument", "results"},
      {"one bad result among good ones (nothing of the batch is stored)",
       [&] {
         return post(tok, mutated([](json& j) { j["results"][2]["observed_at"] = "yesterday"; }),
                     "zstd");
       },
       400, "invalid_argument", "results[2].observed_at"},
      {"identity body (no Content-Encoding) with a wrong type",
       [&] {
         json j = good;
         j["results"][0]["check"] = 42;
         return post(tok, j.dump(), "");
       },
       400, "invalid_argument", "results[0].check"},
      {"huge zstd batch over the body limit", [&] { return post(tok, huge_zstd, "zstd"); }, 413, "",
       ""},
      {"huge identity batch over the body limit", [&] { return post(tok, huge, "identity"); }, 413,
       "", ""},
      {"not a zstd frame", [&] { return post(tok, "this is not a zstd frame at all", "zstd"); },
       400, "", ""},
      {"zstd frame cut short", [&] { return post(tok, cut, "zstd"); }, 400, "", ""},
      {"zstd bomb (size in the frame header)", [&] { return post(tok, bomb, "zstd"); }, 413, "",
       ""},
      {"zstd bomb (streamed frame, no size in the header)",
       [&] { return post(tok, bomb_streamed, "zstd"); }, 413, "", ""},
      {"missing token", [&] { return post("", ZstdCompress(good_text), "zstd"); }, 401, "", ""},
      {"wrong token",
       [&] { return post("not-a-real-token-0123456789abcdef", ZstdCompress(good_text), "zstd"); },
       401, "", ""},
      {"not a bearer token",
       [&] { return post("", ZstdCompress(good_text), "zstd", "Basic dXNlcjpwYXNz"); }, 401, "",
       ""},
      {"empty bearer token", [&] { return post("", ZstdCompress(good_text), "zstd", "Bearer "); },
       401, "", ""},
      {"another agent's id",
       [&] { return post(other->agent_token, ZstdCompress(good_text), "zstd"); }, 403, "",
       "agent_id"},
      {"unknown Content-Encoding", [&] { return post(tok, ZstdCompress(good_text), "gzip"); }, 415,
       "", "Content-Encoding"},
      {"two Content-Encodings", [&] { return post(tok, ZstdCompress(good_text), "zstd, gzip"); },
       415, "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = c.send();
    ASSERT_TRUE(r.ok()) << "the collector must answer, not drop the connection: "
                        << r.status().ToString();
    EXPECT_EQ(r->status, c.status) << r->body;
    EXPECT_NE(r->headers.Get("Content-Type").value_or("").find("application/json"),
              std::string::npos);
    ApiError e = ParseError(r->body);
    EXPECT_TRUE(e.valid) << "not a JSON error document: " << r->body;
    EXPECT_FALSE(e.message.empty());
    if (!c.code.empty()) {
      EXPECT_EQ(e.code, c.code) << r->body;
    }
    if (!c.field.empty()) {
      EXPECT_EQ(e.field, c.field) << r->body;
    }
  }

  // Nothing of any of that reached the store: hosts (last_seen included), latest checks and
  // the whole history of both agents are exactly as before.
  const json after = StoreSnapshot();
  EXPECT_EQ(after, before) << "the store changed (JSON patch from before to after):\n"
                           << json::diff(before, after).dump(1);

  // And the collector still serves: ready, and the same batch, well-formed, is stored.
  auto ready = Get("/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
  auto ok = post(tok, ZstdCompress(good_text), "zstd");
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->status, 200) << ok->body;
  auto ack = protocol::DecodeReportAck(ok->body);
  ASSERT_TRUE(ack.ok()) << ok->body;
  EXPECT_EQ(ack->accepted, 4);
  EXPECT_EQ(ack->acked_through, seq + 3);
  EXPECT_EQ(AllHistory(me.agent_id, 100'000).size(), before["history:" + me.agent_id].size() + 4);
}

}  // namespace
}  // namespace steadfast
