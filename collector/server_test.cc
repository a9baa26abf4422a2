#include "collector/server.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "collector/testing/accounts_fixture.h"
#include "collector/testing/test_util.h"
#include "common/compression.h"
#include "common/http/http_client.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector {
namespace {

using nlohmann::json;

constexpr char kToken[] = "server-test-token-0123456789";

class CollectorServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testutil::TestCollectorConfig(dir_.path(), SF_WEB_ROOT);
    config_.enrollment_tokens = {kToken};
    config_.handler_threads = 4;
    client_ = http::NewCurlHttpClient({});
  }

  // Starts the server and makes a viewer's API token for the read API.
  void StartServer() {
    auto s = CollectorServer::Start(config_, CollectorDeps{clock_, *fs_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    auto reader = server_->accounts().FindUserByUsername("reader");
    if (!reader.ok()) reader = testutil::AddUser(*server_, "reader", accounts::kCentreUnitId, {accounts::Role::kViewer});
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto token = testutil::AddToken(*server_, *reader, accounts::Role::kViewer, "t" + std::to_string(++tokens_),
                                    clock_.NowMillis(), random_);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    reader_ = testutil::Bearer(*token);
  }

  StatusOr<http::HttpResponse> Do(const std::string& method, const std::string& path, std::string body = "",
                                  http::Headers headers = {}) {
    http::HttpClientRequest req;
    req.method = method;
    req.url = server_->url() + path;
    req.body = std::move(body);
    req.headers = std::move(headers);
    req.timeout = std::chrono::milliseconds(10'000);
    return client_->Do(req);
  }

  testutil::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  CollectorConfig config_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<CollectorServer> server_;
  auth::OpenSslRandom random_;
  http::Headers reader_;  // Authorization of a viewer's API token
  int tokens_ = 0;
};

TEST_F(CollectorServerTest, EnrolReportQueryOverRealSockets) {
  StartServer();
  ASSERT_NE(server_->port(), 0);
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(server_->port()));

  protocol::EnrollRequest enroll;
  enroll.enrollment_token = kToken;
  enroll.host = testutil::Host("srv-01");
  http::Headers json_headers;
  json_headers.Add("Content-Type", "application/json");
  auto r = Do("POST", "/api/v1/enroll", protocol::EncodeEnrollRequest(enroll), json_headers);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  auto identity = protocol::DecodeEnrollResponse(r->body);
  ASSERT_TRUE(identity.ok());

  http::Headers h;
  h.Add("Authorization", "Bearer " + identity->agent_token);
  h.Add("Content-Type", "application/json");
  h.Add("Content-Encoding", "zstd");
  std::string body = ZstdCompress(protocol::EncodeReportBatch(testutil::Batch(identity->agent_id, {1, 2, 3})));
  r = Do("POST", "/api/v1/reports", body, h);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(protocol::DecodeReportAck(r->body)->accepted, 3);

  r = Do("GET", "/api/v1/hosts");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401) << r->body;  // the read API needs an account
  EXPECT_EQ(r->headers.Get("WWW-Authenticate").value_or(""), "Bearer realm=\"steadfast\"");
  r = Do("GET", "/api/v1/hosts", "", reader_);
  ASSERT_TRUE(r.ok());
  json hosts = json::parse(r->body);
  ASSERT_EQ(hosts["items"].size(), 1u);
  EXPECT_EQ(hosts["items"][0]["id"], identity->agent_id);
  r = Do("GET", "/api/v1/hosts/" + identity->agent_id + "/checks/history?check=root-fs&target=%2F", "", reader_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::parse(r->body)["items"].size(), 3u);

  r = Do("GET", "/metrics");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->body.find("steadfast_collector_ingest_results_total 3"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("steadfast_collector_http_requests_total{code=\"200\",handler=\"reports\"} 1"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("steadfast_collector_storage_commits_total"), std::string::npos);
  EXPECT_NE(r->body.find("steadfast_host_check_status{check=\"root-fs\",host=\"srv-01\",target=\"/\"} 0"),
            std::string::npos);
  EXPECT_NE(r->body.find("steadfast_collector_build_info"), std::string::npos);

  r = Do("GET", "/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("<html"), std::string::npos);
  r = Do("HEAD", "/app.js");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  r = Do("GET", "/%2e%2e/%2e%2e/etc/passwd");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->status == 400 || r->status == 404) << r->status;
  EXPECT_EQ(Do("GET", "/readyz")->status, 200);
  EXPECT_EQ(Do("GET", "/healthz")->status, 200);

  auto started = std::chrono::steady_clock::now();
  server_->Shutdown();
  server_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_FALSE(Do("GET", "/healthz").ok());
}

TEST_F(CollectorServerTest, LoginOverRealSocketsSetsAHardenedCookieAndLogoutEndsIt) {
  StartServer();
  ASSERT_TRUE(testutil::AddUser(*server_, "ops", accounts::kCentreUnitId, {accounts::Role::kOperator}).ok());
  http::Headers h;
  h.Add("Content-Type", "application/json");
  auto r = Do("POST", "/api/v1/auth/login", json{{"username", "OPS"}, {"password", testutil::kTestPassword}}.dump(), h);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string cookie = r->headers.Get("Set-Cookie").value_or("");
  EXPECT_EQ(cookie.rfind("sf_session=sfs_", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "no TLS here: " << cookie;
  const std::string csrf = json::parse(r->body)["csrf_token"].get<std::string>();

  http::Headers session;
  session.Add("Cookie", cookie.substr(0, cookie.find(';')));
  r = Do("GET", "/api/v1/auth/session", "", session);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["user"]["username"], "ops");
  session.Add("X-CSRF-Token", csrf);
  r = Do("POST", "/api/v1/auth/logout", "", session);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 204) << r->body;
  EXPECT_NE(r->headers.Get("Set-Cookie").value_or("").find("Max-Age=0"), std::string::npos);
  r = Do("GET", "/api/v1/auth/session", "", session);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);

  // Both logins and the logout are in the audit trail.
  audit::AuditQuery q;
  q.actor_name = "ops";
  auto records = server_->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  std::vector<std::string> actions;
  for (const auto& rec : *records) actions.push_back(rec.event.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"auth.login", "auth.logout"}));
}

TEST_F(CollectorServerTest, DataSurvivesRestart) {
  StartServer();
  AgentRecord a;
  a.agent_id = "a-1";
  a.token_sha256 = "00";
  a.host = testutil::Host("srv-01");
  ASSERT_TRUE(server_->storage().CreateAgent(a).ok());
  ASSERT_TRUE(server_->storage().IngestBatch(testutil::Batch("a-1", {1, 2}), clock_.NowMillis()).ok());
  server_.reset();
  StartServer();
  auto r = Do("GET", "/api/v1/hosts/a-1/checks", "", reader_);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["items"][0]["seq"], 2);
}

TEST_F(CollectorServerTest, RetentionPrunesOldHistory) {
  config_.prune_interval_ms = 20;
  config_.history_retention_ms = 3600 * 1000;
  StartServer();
  AgentRecord a;
  a.agent_id = "a-1";
  a.token_sha256 = "00";
  a.host = testutil::Host("srv-01");
  ASSERT_TRUE(server_->storage().CreateAgent(a).ok());
  ASSERT_TRUE(server_->storage().IngestBatch(testutil::Batch("a-1", {1, 2}), clock_.NowMillis()).ok());
  HistoryQuery q;
  q.agent_id = "a-1";
  EXPECT_EQ(server_->storage().History(q)->size(), 2u);
  clock_.Advance(std::chrono::hours(2));
  bool pruned = false;
  for (int i = 0; i < 500 && !pruned; ++i) {
    pruned = server_->storage().History(q)->empty();
    if (!pruned) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(pruned);
  EXPECT_EQ(server_->storage().ListHostChecks("a-1")->size(), 1u);  // latest state stays
}

TEST_F(CollectorServerTest, ShutdownIsPromptWithHourlyRetention) {
  StartServer();
  auto started = std::chrono::steady_clock::now();
  server_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(CollectorServerTest, PortInUseFails) {
  StartServer();
  CollectorConfig again = config_;
  again.listen_port = server_->port();
  again.data_dir = dir_.path() + "/other";
  auto s = CollectorServer::Start(again, CollectorDeps{clock_, *fs_});
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace steadfast::collector
