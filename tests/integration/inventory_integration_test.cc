// In-process integration of the asset register: a real agent::Agent (Beast HTTP client, the
// inventory read from the fixture tree agent/testdata/inventory/server1 through sys_root and a
// written proc tree) enrols with a real collector::CollectorServer over 127.0.0.1 and sends its
// inventory; the test reads it back through the REST API with an API token over a separate
// libcurl client, as the console would, and checks that a unit admin of another unit is
// refused the host (403).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "agent/agent.h"
#include "agent/agent_config.h"
#include "agent/check_registry.h"
#include "collector/api/api_tokens.h"
#include "collector/auth/secure_random.h"
#include "collector/server.h"
#include "common/clock.h"
#include "common/http/beast_http_client.h"
#include "common/http/http_client.h"
#include "common/random.h"
#include "tests/support/process.h"

namespace steadfast {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr char kEnrollmentToken[] = "inventory-integration-enrolment-token";

class InventoryIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::RegisterBuiltinChecks(registry_);
    http::HttpClientOptions o;
    o.connect_timeout = milliseconds(2'000);
    client_ = http::NewCurlHttpClient(o);
    http::HttpClientOptions ao;
    ao.connect_timeout = milliseconds(1'000);
    agent_http_ = http::NewBeastHttpClient(ao);
    proc_ = dir_.path() + "/proc";
    std::filesystem::create_directories(proc_);
    testsupport::WriteTextFile(proc_ + "/meminfo", "MemTotal:        8000000 kB\nMemFree: 1 kB\n");
    testsupport::WriteTextFile(proc_ + "/cpuinfo",
                               "processor\t: 0\nmodel name\t: Test CPU @ 3.00GHz\n\n"
                               "processor\t: 1\nmodel name\t: Test CPU @ 3.00GHz\n");

    collector::CollectorConfig c;
    c.listen_host = "127.0.0.1";
    c.listen_port = 0;
    c.data_dir = dir_.path() + "/collector";
    c.web_root = SF_WEB_ROOT;
    c.enrollment_tokens = {kEnrollmentToken};
    c.io_threads = 1;
    c.handler_threads = 2;
    c.auth.argon2.memory_kib = collector::auth::kConfigMinArgon2MemoryKib;
    c.auth.argon2.iterations = 1;
    c.auth.argon2.parallelism = 1;
    auto server = collector::CollectorServer::Start(c, collector::CollectorDeps{clock_, *fs_});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    collector_ = std::move(server).value();
  }

  void TearDown() override {
    if (agent_) agent_->Stop();
    if (collector_) collector_->Shutdown();
  }

  // An API token of a new user holding `role` in `unit_id`.
  std::string TokenFor(const std::string& username, collector::accounts::Role role,
                       int64_t unit_id) {
    collector::accounts::Actor actor;
    actor.name = "test";
    actor.time_ms = clock_.NowMillis();
    collector::accounts::NewUser u;
    u.username = username;
    u.display_name = username;
    u.unit_id = unit_id;
    u.roles = {role};
    auto user = collector_->accounts().CreateUser(actor, u);
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    if (!user.ok()) return "";
    auto issued = collector::api::IssueApiToken(collector_->accounts(), actor, random_, user->id,
                                                role, unit_id, "it", /*days=*/1);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? issued->secret : "";
  }

  StatusOr<http::HttpResponse> Get(const std::string& path, const std::string& token) {
    http::HttpClientRequest req;
    req.url = collector_->url() + path;
    req.headers.Set("Authorization", "Bearer " + token);
    req.timeout = milliseconds(10'000);
    return client_->Do(req);
  }

  bool WaitUntil(const std::function<bool()>& cond, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(25));
    }
    return true;
  }

  testsupport::TempDir dir_;
  RealClock clock_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  collector::auth::OpenSslRandom random_;
  SystemRandom agent_random_;
  agent::CheckRegistry registry_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<http::HttpClient> agent_http_;
  std::string proc_;
  std::unique_ptr<collector::CollectorServer> collector_;
  std::unique_ptr<agent::Agent> agent_;
};

TEST_F(InventoryIntegration, TheAgentsInventoryReachesTheRegisterAndStaysInScope) {
  const std::string yaml = "collector_url: " + collector_->url() +
                           "\nenrollment_token: " + kEnrollmentToken +
                           "\nstate_dir: " + dir_.path() + "/agent\nproc_root: " + proc_ +
                           "\nsys_root: " + SF_AGENT_INVENTORY_TESTDATA +
                           "/server1/sys\nlog: {level: warn}\n"
                           "uplink: {interval: 100ms, timeout: 2s, max_backoff: 1s}\n";
  auto config = agent::ParseAgentConfigText(yaml, "inventory-agent.yaml", registry_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto a = agent::Agent::Create(std::move(config).value(), registry_,
                                agent::AgentEnv{clock_, *fs_, *agent_http_, agent_random_});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  agent_ = std::move(a).value();
  ASSERT_TRUE(agent_->Start().ok());

  collector::inventory::HostInventoryQuery any;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto page = collector_->inventory().ListHostInventories(any);
        return page.ok() && page->total == 1;
      },
      milliseconds(10'000)))
      << "no inventory arrived";
  const std::string agent_id =
      collector_->inventory().ListHostInventories(any)->items.at(0).agent_id;

  const std::string admin =
      TokenFor("it-admin", collector::accounts::Role::kAdmin, collector::accounts::kCentreUnitId);
  auto r = Get("/api/v1/hosts/" + agent_id + "/inventory", admin);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  json doc = json::parse(r->body);
  const json& inv = doc["inventory"];
  EXPECT_EQ(doc["unit_id"], collector::accounts::kCentreUnitId);  // not assigned yet
  EXPECT_EQ(inv["cpu"], (json{{"model", "Test CPU @ 3.00GHz"}, {"count", 2}}));
  EXPECT_EQ(inv["memory_bytes"], int64_t{8000000} * 1024);
  EXPECT_EQ(inv["dmi"]["product_serial"], "7XK9Q23");
  EXPECT_EQ(inv["dmi"]["sys_vendor"], "Dell Inc.");
  ASSERT_EQ(inv["disks"].size(), 2u);
  EXPECT_EQ(inv["disks"][0]["name"], "nvme0n1");
  EXPECT_EQ(inv["disks"][1]["serial"], "ZC1ABCDE");
  EXPECT_FALSE(inv["host"]["hostname"].get<std::string>().empty());

  auto list = Get("/api/v1/inventory/hosts?q=7xk9q23", admin);
  ASSERT_TRUE(list.ok());
  json page = json::parse(list->body);
  EXPECT_EQ(page["total"], 1) << list->body;
  auto history = Get("/api/v1/hosts/" + agent_id + "/inventory/history", admin);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(json::parse(history->body)["items"][0]["first"], true) << history->body;

  // A unit admin of another unit is refused the (centre's) host and does not see it listed.
  collector::accounts::Actor actor;
  actor.name = "test";
  actor.time_ms = clock_.NowMillis();
  collector::accounts::Unit unit;
  unit.name = "Branch";
  unit.code = "branch";
  unit.parent_id = collector::accounts::kCentreUnitId;
  auto branch = collector_->accounts().CreateUnit(actor, unit);
  ASSERT_TRUE(branch.ok());
  const std::string unit_admin =
      TokenFor("branch-admin", collector::accounts::Role::kUnitAdmin, branch->id);
  auto refused = Get("/api/v1/hosts/" + agent_id + "/inventory", unit_admin);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 403) << refused->body;
  auto theirs = Get("/api/v1/inventory/hosts", unit_admin);
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(json::parse(theirs->body)["total"], 0) << theirs->body;
}

}  // namespace
}  // namespace steadfast
