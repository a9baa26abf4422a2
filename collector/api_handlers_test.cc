#include "collector/api_handlers.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <nlohmann/json.hpp>

#include "collector/accounts/sqlite_account_store.h"
#include "collector/api/core_routes.h"
#include "collector/host_status_collector.h"
#include "collector/ingest_handler.h"
#include "collector/static_files.h"
#include "collector/store/sqlite_storage.h"
#include "collector/testing/fake_authenticator.h"
#include "collector/testing/test_util.h"
#include "common/random.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;
using protocol::CheckStatus;
using testutil::Batch;

class ApiHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStorageOptions so;
    so.path = dir_.path() + "/collector.db";
    auto s = SqliteStorage::Open(so, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    storage_ = std::move(s).value();
    collector_ = std::make_unique<HostCheckStatusCollector>(*storage_);
    api_ = std::make_unique<ApiHandlers>(*storage_, clock_, registry_,
                                         std::vector<const prometheus::Collectable*>{collector_.get()});
    ingest_ = std::make_unique<IngestHandler>(*storage_, clock_, registry_, IngestOptions{});
    static_ = std::make_unique<StaticFiles>(dir_.path());
    // The real route table and guard, with a fixed centre-wide admin as the caller.
    auto admin_db = AdminDb::Open(so.path);
    ASSERT_TRUE(admin_db.ok()) << admin_db.status().ToString();
    admin_db_ = std::move(admin_db).value();
    auto accounts = accounts::SqliteAccountStore::Open(
        *admin_db_, [](sqlite::SqliteDb&, const audit::AuditEvent&) { return OkStatus(); });
    ASSERT_TRUE(accounts.ok()) << accounts.status().ToString();
    accounts_ = std::move(accounts).value();
    routes_ = std::make_unique<api::RouteTable>(authenticator_, *accounts_, nullptr, clock_);
    api::AddCoreRoutes(*routes_, *ingest_, *api_, *static_, *accounts_);
    routes_->RegisterOn(router_, nullptr);
  }

  void AddHost(const std::string& id, const std::string& hostname) {
    AgentRecord a;
    a.agent_id = id;
    a.token_sha256 = Sha256Hex("t-" + id);
    a.host = testutil::Host(hostname);
    a.enrolled_at_ms = 1'790'000'000'000;
    ASSERT_TRUE(storage_->CreateAgent(a).ok());
  }

  void Ingest(const protocol::ReportBatch& b, const std::string& hostname) {
    protocol::ReportBatch copy = b;
    copy.host.hostname = hostname;
    auto ack = storage_->IngestBatch(copy, clock_.NowMillis());
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  }

  // Dispatches a GET through the same router the server uses (target parsed as the server does).
  HttpResponse Get(const std::string& target) {
    HttpRequest r;
    r.method = "GET";
    r.target = target;
    Status parsed = http::ParseTarget(target, &r.path, &r.query);
    EXPECT_TRUE(parsed.ok()) << parsed.ToString();
    return router_.Dispatch(r);
  }

  json GetJson(const std::string& target, int expected_status = 200) {
    HttpResponse r = Get(target);
    EXPECT_EQ(r.status, expected_status) << target << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }

  testutil::TempDir dir_;
  testing::FakeClock clock_{1'790'000'100'000};
  prometheus::Registry registry_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<HostCheckStatusCollector> collector_;
  std::unique_ptr<ApiHandlers> api_;
  std::unique_ptr<IngestHandler> ingest_;
  std::unique_ptr<StaticFiles> static_;
  std::unique_ptr<AdminDb> admin_db_;
  std::unique_ptr<accounts::SqliteAccountStore> accounts_;
  testutil::FakeAuthenticator authenticator_;
  std::unique_ptr<api::RouteTable> routes_;
  http::Router router_;
};

TEST_F(ApiHandlersTest, ListHostsPaginates) {
  for (int i = 0; i < 5; ++i) AddHost("a-" + std::to_string(i), "host-" + std::to_string(i));
  json page = GetJson("/api/v1/hosts?limit=2");
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["total"], 5);
  EXPECT_EQ(page["next_offset"], 2);
  EXPECT_EQ(page["items"][0]["hostname"], "host-0");
  EXPECT_EQ(page["items"][0]["id"], "a-0");
  EXPECT_EQ(page["server_time"], FormatRfc3339Millis(clock_.NowMillis()));

  page = GetJson("/api/v1/hosts?limit=2&offset=4");
  ASSERT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["items"][0]["hostname"], "host-4");
  EXPECT_TRUE(page["next_offset"].is_null());

  page = GetJson("/api/v1/hosts");
  EXPECT_EQ(page["items"].size(), 5u);
  EXPECT_TRUE(page["next_offset"].is_null());

  page = GetJson("/api/v1/hosts?offset=10");
  EXPECT_TRUE(page["items"].empty());
  EXPECT_TRUE(page["next_offset"].is_null());
  EXPECT_EQ(page["total"], 5);
}

TEST_F(ApiHandlersTest, BadPaginationParamsAre400NamingTheField) {
  for (const auto& [target, field] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/hosts?limit=0", "limit"},
           {"/api/v1/hosts?limit=1001", "limit"},
           {"/api/v1/hosts?limit=ten", "limit"},
           {"/api/v1/hosts?limit=", "limit"},
           {"/api/v1/hosts?limit=5x", "limit"},
           {"/api/v1/hosts?offset=-1", "offset"},
           {"/api/v1/hosts?offset=99999999999999999999", "offset"},
       }) {
    json j = GetJson(target, 400);
    EXPECT_EQ(j["error"]["field"], field) << target;
    EXPECT_EQ(j["error"]["code"], "invalid_argument");
  }
}

TEST_F(ApiHandlersTest, HostDetailShowsStatusAndTimes) {
  AddHost("a-1", "srv-01");
  protocol::ReportBatch b = Batch("a-1", {1, 2});
  b.results[1].result.target = "/var";
  b.results[1].result.status = CheckStatus::kWarning;
  Ingest(b, "srv-01");
  json h = GetJson("/api/v1/hosts/a-1");
  EXPECT_EQ(h["id"], "a-1");
  EXPECT_EQ(h["hostname"], "srv-01");
  EXPECT_EQ(h["os"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(h["worst_status"], "warning");
  EXPECT_EQ(h["status_counts"]["ok"], 1);
  EXPECT_EQ(h["status_counts"]["warning"], 1);
  EXPECT_EQ(h["status_counts"]["critical"], 0);
  EXPECT_EQ(h["check_count"], 2);
  EXPECT_EQ(h["last_seen"], FormatRfc3339Millis(clock_.NowMillis()));
  EXPECT_EQ(h["enrolled_at"], "2026-09-21T14:13:20.000Z");

  AddHost("a-2", "quiet");
  h = GetJson("/api/v1/hosts/a-2");
  EXPECT_TRUE(h["worst_status"].is_null());
  EXPECT_TRUE(h["last_seen"].is_null());
}

TEST_F(ApiHandlersTest, UnknownHostIs404Json) {
  for (const std::string target : {"/api/v1/hosts/a-nope", "/api/v1/hosts/a-nope/checks",
                                   "/api/v1/hosts/a-nope/checks/history?check=x"}) {
    json j = GetJson(target, 404);
    EXPECT_EQ(j["error"]["code"], "not_found") << target;
  }
}

TEST_F(ApiHandlersTest, HostChecksShowLatestStateWithMetricsAndDetails) {
  AddHost("a-1", "srv-01");
  Ingest(Batch("a-1", {1}, "root-fs", "/", CheckStatus::kOk), "srv-01");
  Ingest(Batch("a-1", {2}, "root-fs", "/", CheckStatus::kCritical), "srv-01");
  json checks = GetJson("/api/v1/hosts/a-1/checks");
  ASSERT_EQ(checks["items"].size(), 1u);
  const json& c = checks["items"][0];
  EXPECT_EQ(c["check"], "root-fs");
  EXPECT_EQ(c["target"], "/");
  EXPECT_EQ(c["status"], "critical");
  EXPECT_EQ(c["seq"], 2);
  EXPECT_EQ(c["observed_at"], "2026-09-21T14:13:20.002Z");
  EXPECT_EQ(c["duration_ms"], 3);
  EXPECT_EQ(c["metrics"][0]["name"], "filesystem_used_ratio");
  EXPECT_EQ(c["metrics"][0]["labels"]["mountpoint"], "/");
  EXPECT_EQ(c["metrics"][0]["unit"], "ratio");
  EXPECT_DOUBLE_EQ(c["metrics"][0]["value"].get<double>(), 0.5);
  EXPECT_EQ(c["details"]["fstype"], "ext4");
}

TEST_F(ApiHandlersTest, HistoryFiltersPagesAndValidates) {
  AddHost("a-1", "srv-01");
  Ingest(Batch("a-1", {1, 2, 3, 4, 5}, "root-fs", "/"), "srv-01");
  Ingest(Batch("a-1", {6, 7}, "tcp", "10.0.0.1:443"), "srv-01");
  json h = GetJson("/api/v1/hosts/a-1/checks/history?check=root-fs&target=%2F&limit=2");
  ASSERT_EQ(h["items"].size(), 2u);
  EXPECT_EQ(h["items"][0]["seq"], 1);
  EXPECT_EQ(h["next_after_seq"], 2);
  h = GetJson("/api/v1/hosts/a-1/checks/history?check=root-fs&target=%2F&limit=2&after_seq=4");
  ASSERT_EQ(h["items"].size(), 1u);
  EXPECT_EQ(h["items"][0]["seq"], 5);
  EXPECT_TRUE(h["next_after_seq"].is_null());

  h = GetJson("/api/v1/hosts/a-1/checks/history?target=10.0.0.1%3A443");
  EXPECT_EQ(h["items"].size(), 2u);
  h = GetJson("/api/v1/hosts/a-1/checks/history");
  EXPECT_EQ(h["items"].size(), 7u);
  // observed_at = 2026-09-21T14:13:20.000Z + seq ms; to is exclusive.
  h = GetJson("/api/v1/hosts/a-1/checks/history?from=2026-09-21T14:13:20.002Z&to=2026-09-21T14:13:20.004Z");
  ASSERT_EQ(h["items"].size(), 2u);
  EXPECT_EQ(h["items"][0]["seq"], 2);
  EXPECT_EQ(h["items"][1]["seq"], 3);
  h = GetJson("/api/v1/hosts/a-1/checks/history?from=2026-09-21T22:13:20.002%2B08:00&limit=1");
  EXPECT_EQ(h["items"][0]["seq"], 2);

  for (const auto& [target, field] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/hosts/a-1/checks/history?from=yesterday", "from"},
           {"/api/v1/hosts/a-1/checks/history?to=2026-13-45T00:00:00Z", "to"},
           {"/api/v1/hosts/a-1/checks/history?from=2026-09-22T00:00:00Z&to=2026-09-21T00:00:00Z", "from"},
           {"/api/v1/hosts/a-1/checks/history?limit=0", "limit"},
           {"/api/v1/hosts/a-1/checks/history?limit=100001", "limit"},
           {"/api/v1/hosts/a-1/checks/history?after_seq=-3", "after_seq"},
       }) {
    json j = GetJson(target, 400);
    EXPECT_EQ(j["error"]["field"], field) << target;
  }
}

TEST_F(ApiHandlersTest, HealthAndReadiness) {
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 200);
  storage_->Close();
  EXPECT_EQ(Get("/healthz").status, 200);
  HttpResponse r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Get("/api/v1/hosts").status, 503);
}

TEST_F(ApiHandlersTest, MetricsExportHostCheckStatusGauge) {
  AddHost("a-1", "srv-01");
  Ingest(Batch("a-1", {1}, "root-fs", "/", CheckStatus::kCritical), "srv-01");
  Ingest(Batch("a-1", {2}, "tcp", "db:5432", CheckStatus::kWarning), "srv-01");
  // The same hostname re-enrolled: the agent seen most recently wins each series.
  AddHost("a-2", "srv-01");
  clock_.Advance(std::chrono::seconds(5));
  Ingest(Batch("a-2", {1}, "root-fs", "/", CheckStatus::kOk), "srv-01");
  HttpResponse r = Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.Get("Content-Type").value_or("").find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE steadfast_host_check_status gauge"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"(steadfast_host_check_status{check="root-fs",host="srv-01",target="/"} 0)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"(steadfast_host_check_status{check="tcp",host="srv-01",target="db:5432"} 1)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find(R"(target="/"} 2)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("steadfast_collector_host_status_scrape_error 0"), std::string::npos);
  EXPECT_NE(r.body.find("steadfast_collector_ingest_batches_total"), std::string::npos);
}

TEST_F(ApiHandlersTest, RoutesAnswer405AndStaticFallback) {
  HttpRequest r;
  r.method = "DELETE";
  r.target = r.path = "/api/v1/hosts";
  EXPECT_EQ(router_.Dispatch(r).status, 405);
  r.method = "PUT";
  r.target = r.path = "/api/v1/reports";
  EXPECT_EQ(router_.Dispatch(r).status, 405);
  EXPECT_EQ(Get("/api/v1/nothing-here").status, 404);
}

}  // namespace
}  // namespace steadfast::collector
