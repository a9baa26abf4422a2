// The alert REST API through the collector's router: listing with filters and scope,
// acknowledging (with expiry), unacknowledging, commenting, assigning, each audited, and bad
// input refused with the field named. (The 401/403 matrix of these routes is in
// route_matrix_test.cc.)
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <mutex>
#include <thread>

#include "collector/alerts/ack_links.h"
#include "collector/testing/accounts_fixture.h"
#include "common/random.h"

namespace steadfast::collector::api {
namespace {

using accounts::Role;
using nlohmann::json;
using testutil::BrowserSession;
using testutil::Dispatch;
using testutil::ErrorCode;

class AlertHandlersTest : public testutil::InProcessCollectorTest {
 protected:
  void SetUp() override {
    StartCollector();
    if (HasFatalFailure()) return;
    auto a = testutil::AddUnit(*server_, "unit-a", accounts::kCentreUnitId);
    auto b = testutil::AddUnit(*server_, "unit-b", accounts::kCentreUnitId);
    ASSERT_TRUE(a.ok() && b.ok());
    for (const auto& [agent, unit] : {std::pair{"agent-a", a->id}, std::pair{"agent-b", b->id}}) {
      ASSERT_TRUE(testutil::EnrollAgent(*server_, agent, clock_.NowMillis(), unit).ok());
    }
    auto alert_a = testutil::AddFiringAlert(*server_, "agent-a", "disk-failing", clock_.NowMillis());
    auto alert_b = testutil::AddFiringAlert(*server_, "agent-b", "raid-degraded", clock_.NowMillis());
    ASSERT_TRUE(alert_a.ok() && alert_b.ok());
    alert_a_ = *alert_a;
    alert_b_ = *alert_b;
    ASSERT_TRUE(testutil::AddUser(*server_, "admin1", accounts::kCentreUnitId, {Role::kAdmin}).ok());
    ASSERT_TRUE(testutil::AddUser(*server_, "oper-a", a->id, {Role::kOperator}).ok());
    ASSERT_TRUE(testutil::AddUser(*server_, "viewer-a", a->id, {Role::kViewer}).ok());
  }

  http::HttpResponse As(const std::string& user, const std::string& method, const std::string& target,
                        const json& body = nullptr) {
    BrowserSession s = testutil::Login(*server_, user);
    EXPECT_EQ(s.status, 200) << s.body.dump();
    return Dispatch(*server_, method, target, body.is_null() ? "" : body.dump(), s.Headers());
  }

  int64_t alert_a_ = 0, alert_b_ = 0;
};

TEST_F(AlertHandlersTest, ListsWithFiltersAndOnlyTheCallersUnits) {
  http::HttpResponse r = As("admin1", "GET", "/api/v1/alerts");
  ASSERT_EQ(r.status, 200) << r.body;
  json list = json::parse(r.body);
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["items"][0]["id"], alert_b_) << "newest first";
  EXPECT_EQ(list["items"][0]["state"], "firing");
  EXPECT_EQ(list["items"][0]["severity"], "critical");

  list = json::parse(As("oper-a", "GET", "/api/v1/alerts").body);
  ASSERT_EQ(list["items"].size(), 1u) << list.dump();
  EXPECT_EQ(list["items"][0]["id"], alert_a_);

  list = json::parse(As("admin1", "GET", "/api/v1/alerts?match=" + http::PercentEncode("alertname=~\"raid.*\"")).body);
  ASSERT_EQ(list["items"].size(), 1u) << list.dump();
  EXPECT_EQ(list["items"][0]["rule"], "raid-degraded");
  list = json::parse(As("admin1", "GET", "/api/v1/alerts?state=resolved").body);
  EXPECT_EQ(list["items"].size(), 0u);
  list = json::parse(As("admin1", "GET", "/api/v1/alerts?limit=1").body);
  ASSERT_EQ(list["items"].size(), 1u);
  ASSERT_EQ(list["next_before_id"], alert_b_);
  list = json::parse(As("admin1", "GET", "/api/v1/alerts?limit=1&before_id=" + std::to_string(alert_b_)).body);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["id"], alert_a_);

  r = As("admin1", "GET", "/api/v1/alerts?state=burning");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "state");
  r = As("admin1", "GET", "/api/v1/alerts?match=" + http::PercentEncode("alertname~bad"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "match");
  const std::string fp = list["items"][0]["fingerprint"];
  list = json::parse(As("admin1", "GET", "/api/v1/alerts?fingerprint=" + fp).body);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["fingerprint"], fp);
  EXPECT_EQ(As("admin1", "GET", "/api/v1/alerts?fingerprint=zz").status, 400);
  r = As("admin1", "GET", "/api/v1/alerts?severity=urgent");
  EXPECT_EQ(r.status, 400);
}

TEST_F(AlertHandlersTest, AcknowledgeCommentAssignAreRecordedWithWhoAndWhen) {
  const std::string base = "/api/v1/alerts/" + std::to_string(alert_a_);
  http::HttpResponse r = As("oper-a", "POST", base + "/acknowledge", {{"comment", "on it"}, {"expires_in", "2h"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json a = json::parse(r.body);
  EXPECT_EQ(a["acknowledgement"]["by"], "oper-a");
  EXPECT_EQ(a["acknowledgement"]["comment"], "on it");
  EXPECT_EQ(a["acknowledgement"]["in_effect"], true);
  EXPECT_EQ(a["acknowledgement"]["expires_at"], FormatRfc3339Millis(clock_.NowMillis() + 2 * 3'600'000));

  r = As("oper-a", "POST", base + "/comments", {{"comment", "disk ordered"}});
  EXPECT_EQ(r.status, 201) << r.body;
  r = As("oper-a", "POST", base + "/assign", {{"assignee", "viewer-a"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["assignee"], "viewer-a");
  r = As("oper-a", "POST", base + "/unacknowledge", json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["acknowledgement"].is_null());

  json detail = json::parse(As("viewer-a", "GET", base).body);
  std::vector<std::string> kinds;
  for (const json& e : detail["history"]) kinds.push_back(e["kind"].get<std::string>() + "/" + e["actor"].get<std::string>());
  EXPECT_EQ(kinds, (std::vector<std::string>{"firing/system", "acknowledged/oper-a", "commented/oper-a",
                                             "assigned/oper-a", "unacknowledged/oper-a"}));

  audit::AuditQuery q;
  q.action = "alerts.";
  auto records = server_->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  std::vector<std::string> actions;
  for (const audit::AuditRecord& rec : *records) {
    if (rec.event.result != audit::AuditResult::kOk) continue;
    actions.push_back(rec.event.action + " " + rec.event.actor_name + " " + rec.event.object_id);
  }
  const std::string id = std::to_string(alert_a_);
  EXPECT_EQ(actions, (std::vector<std::string>{"alerts.acknowledge oper-a " + id, "alerts.comment oper-a " + id,
                                               "alerts.assign oper-a " + id, "alerts.unacknowledge oper-a " + id}));
}

TEST_F(AlertHandlersTest, BadInputIsRefusedNamingTheFieldAndChangesNothing) {
  const std::string base = "/api/v1/alerts/" + std::to_string(alert_a_);
  struct Case {
    std::string path;
    json body;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{{"/acknowledge", {{"expires_in", "soon"}}, "expires_in"},
                                         {"/acknowledge", {{"expires_at", "2000-01-01T00:00:00Z"}}, "expires_at"},
                                         {"/acknowledge", {{"expires_in", "90d"}}, "expires_in"},
                                         {"/acknowledge", {{"comment", 5}}, "comment"},
                                         {"/acknowledge", {{"until", "1h"}}, "until"},
                                         {"/comments", {{"comment", ""}}, "comment"},
                                         {"/assign", {{"assignee", "nobody-here"}}, "assignee"},
                                         {"/assign", json::object(), "assignee"}}) {
    SCOPED_TRACE(c.path + " " + c.body.dump());
    http::HttpResponse r = As("oper-a", "POST", base + c.path, c.body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["field"], c.field) << r.body;
  }
  json detail = json::parse(As("oper-a", "GET", base).body);
  EXPECT_EQ(detail["history"].size(), 1u) << "nothing but the firing was recorded";
  EXPECT_TRUE(detail["acknowledgement"].is_null());

  EXPECT_EQ(As("oper-a", "POST", "/api/v1/alerts/999999/acknowledge", json::object()).status, 404);
  http::HttpResponse r = As("oper-a", "POST", "/api/v1/alerts/" + std::to_string(alert_b_) + "/acknowledge",
                            json::object());
  EXPECT_EQ(r.status, 403) << "another unit's alert";
  EXPECT_EQ(As("viewer-a", "POST", base + "/acknowledge", json::object()).status, 403) << "viewers only read";
}

TEST_F(AlertHandlersTest, SilencesAreMadeListedAndEndedWithinTheCallersUnits) {
  http::HttpResponse r = As("admin1", "POST", "/api/v1/silences",
                            {{"matchers", {"host=~\"db-.*\""}}, {"comment", "disk swap, ticket 42"}, {"duration", "2h"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json made = json::parse(r.body);
  EXPECT_EQ(made["state"], "active");
  EXPECT_EQ(made["created_by"], "admin1");
  EXPECT_EQ(made["ends_at"], FormatRfc3339Millis(clock_.NowMillis() + 2 * 3'600'000));

  // A unit operator must name a host of their own unit.
  r = As("oper-a", "POST", "/api/v1/silences", {{"matchers", {"alertname=\"x\""}}, {"comment", "c"}, {"duration", "1h"}});
  EXPECT_EQ(r.status, 403) << r.body;
  r = As("oper-a", "POST", "/api/v1/silences",
         {{"matchers", {"agent_id=\"agent-b\""}}, {"comment", "c"}, {"duration", "1h"}});
  EXPECT_EQ(r.status, 403) << r.body;
  r = As("oper-a", "POST", "/api/v1/silences",
         {{"matchers", {"agent_id=\"agent-a\""}},
          {"comment", "nightly batch"},
          {"weekly", {{"days", "mon-fri"}, {"start", "22:00"}, {"duration", "8h"}, {"time_zone", "Asia/Shanghai"}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  json weekly = json::parse(r.body);
  EXPECT_EQ(weekly["weekly"]["days"], "mon,tue,wed,thu,fri");
  EXPECT_EQ(weekly["weekly"]["start"], "22:00");
  // The operator cannot end the admin's organisation-wide silence, but can end their own.
  EXPECT_EQ(As("oper-a", "DELETE", "/api/v1/silences/" + std::to_string(made["id"].get<int64_t>())).status, 403);
  r = As("oper-a", "DELETE", "/api/v1/silences/" + std::to_string(weekly["id"].get<int64_t>()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["state"], "ended");
  EXPECT_EQ(json::parse(r.body)["expired_by"], "oper-a");
  EXPECT_EQ(As("oper-a", "DELETE", "/api/v1/silences/" + std::to_string(weekly["id"].get<int64_t>())).status, 422);

  json list = json::parse(As("viewer-a", "GET", "/api/v1/silences").body);
  ASSERT_EQ(list["items"].size(), 1u) << "the ended one is history";
  list = json::parse(As("viewer-a", "GET", "/api/v1/silences?include_ended=true").body);
  EXPECT_EQ(list["items"].size(), 2u);

  struct Case {
    json body;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {{{"comment", "c"}, {"duration", "1h"}}, "matchers"},
           {{{"matchers", {"host"}}, {"comment", "c"}, {"duration", "1h"}}, "matchers[0]"},
           {{{"matchers", {"host=\"a\""}}, {"duration", "1h"}}, "comment"},
           {{{"matchers", {"host=\"a\""}}, {"comment", "c"}}, "ends_at"},
           {{{"matchers", {"host=\"a\""}}, {"comment", "c"}, {"duration", "forever"}}, "duration"},
           {{{"matchers", {"host=\"a\""}}, {"comment", "c"}, {"weekly", {{"days", "someday"}}}}, "weekly.days"},
           {{{"matchers", {"host=\"a\""}},
             {"comment", "c"},
             {"weekly", {{"days", "sat"}, {"start", "01:00"}, {"duration", "2h"}, {"time_zone", "Mars/Olympus"}}}},
            "weekly.time_zone"}}) {
    SCOPED_TRACE(c.body.dump());
    r = As("admin1", "POST", "/api/v1/silences", c.body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["field"], c.field) << r.body;
  }
}

TEST_F(AlertHandlersTest, AOneClickLinkAcknowledgesAsItsPersonOnlyAfterConfirming) {
  auto links = alerts::AckLinks::LoadOrCreate(*fs_, config_.data_dir + "/ack-links.key", random_);
  ASSERT_TRUE(links.ok()) << links.status().ToString();
  auto alert = server_->alert_store().Get(alert_a_);
  ASSERT_TRUE(alert.ok());
  const std::string url = links->Url("https://sf.example/", alert->fingerprint, "oper-a", clock_.NowMillis());
  ASSERT_EQ(url.rfind("https://sf.example/api/v1/alert-links/ack?f=", 0), 0u) << url;
  const std::string target = url.substr(std::string("https://sf.example").size());

  // Opening the link (a mail scanner does too) only asks.
  http::HttpResponse page = Dispatch(*server_, "GET", target);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos);
  EXPECT_TRUE(server_->alert_store().Get(alert_a_)->ack_by.empty());
  // Its POST acknowledges, as oper-a, audited.
  http::HttpResponse done = Dispatch(*server_, "POST", target);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("Acknowledged"), std::string::npos);
  EXPECT_EQ(server_->alert_store().Get(alert_a_)->ack_by, "oper-a");
  audit::AuditQuery q;
  q.action = "alerts.acknowledge_link";
  auto records = server_->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].event.actor_name, "oper-a");
  EXPECT_EQ((*records)[0].event.object_id, std::to_string(alert_a_));

  // Changed to another person: refused. A viewer's own link: refused (cannot operate).
  std::string forged = target;
  forged.replace(forged.find("u=oper-a"), 8, "u=admin1");
  EXPECT_EQ(Dispatch(*server_, "POST", forged).status, 403);
  auto b = server_->alert_store().Get(alert_b_);
  const std::string viewer = links->Url("https://sf.example", b->fingerprint, "viewer-a", clock_.NowMillis());
  EXPECT_EQ(Dispatch(*server_, "POST", viewer.substr(std::string("https://sf.example").size())).status, 403);
  EXPECT_TRUE(server_->alert_store().Get(alert_b_)->ack_by.empty());
  // Expired after a day; incomplete links are not links.
  const std::string later = links->Url("https://sf.example", b->fingerprint, "oper-a", clock_.NowMillis());
  clock_.Advance(std::chrono::hours(25));
  EXPECT_EQ(Dispatch(*server_, "POST", later.substr(std::string("https://sf.example").size())).status, 410);
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/alert-links/ack?f=x").status, 400);
}

// Heartbeats with alerting on: a cron job's pings become a check series; a failure fires.
class HeartbeatTest : public testutil::InProcessCollectorTest {
 protected:
  void SetUp() override {
    const std::string d = dir_.path();
    ASSERT_TRUE(testutil::WriteFile(d + "/rules.yaml",
                        "rules:\n  - {name: job-failed, kind: check_status, match: ['check=\"heartbeat\"'], "
                        "statuses: [critical]}\n"));
    ASSERT_TRUE(testutil::WriteFile(d + "/hb.token", "heartbeat-token-0123456789\n"));
    ::chmod((d + "/hb.token").c_str(), 0600);
    auto doc = config::ConfigDocument::Parse(
        "alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: console}\n  receivers: [{name: console}]\n"
        "  heartbeats:\n    - {name: nightly-backup, period: 24h, grace: 1h, token_file: " + d +
            "/hb.token, labels: {host: nas1, category: backup}}\n",
        "c.yaml");
    ASSERT_TRUE(doc.ok());
    auto alerting = alerting::ParseAlertingConfig(doc->root()["alerting"], d, *fs_);
    ASSERT_TRUE(alerting.ok()) << alerting.status().ToString();
    config_.alerting = std::move(alerting).value();
    StartCollector();
  }

  http::HttpResponse Ping(const std::string& name, const std::string& status, const std::string& token) {
    http::Headers h;
    if (!token.empty()) h.Set("Authorization", "Bearer " + token);
    return Dispatch(*server_, "POST", "/api/v1/heartbeats/" + name + (status.empty() ? "" : "?status=" + status), "",
                    h);
  }
};

TEST_F(HeartbeatTest, PingsNeedTheHeartbeatsTokenAndAFailureFires) {
  const std::string token = "heartbeat-token-0123456789";
  EXPECT_EQ(Ping("nightly-backup", "start", token).status, 200);
  EXPECT_EQ(Ping("nightly-backup", "", "").status, 401);
  EXPECT_EQ(Ping("nightly-backup", "", "wrong-token-0123456789").status, 401);
  EXPECT_EQ(Ping("weekly", "", token).status, 401) << "unknown names answer like wrong tokens";
  http::HttpResponse bad = Ping("nightly-backup", "sideways", token);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "status");
  EXPECT_EQ(Ping("nightly-backup", "256", token).status, 400);

  ASSERT_EQ(Ping("nightly-backup", "23", token).status, 200);  // exit code 23: failed
  std::vector<alerts::AlertRecord> firing;
  for (int i = 0; i < 200 && firing.empty(); ++i) {
    alerts::AlertQuery q;
    q.states = std::vector<alerts::AlertState>{alerts::AlertState::kFiring};
    auto page = server_->alert_store().List(q);
    ASSERT_TRUE(page.ok());
    firing = page->items;
    if (firing.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].labels.at("target"), "nightly-backup");
  EXPECT_EQ(firing[0].labels.at("host"), "nas1");
  EXPECT_EQ(firing[0].labels.at("category"), "backup");
}

TEST_F(HeartbeatTest, PrometheusCanSendItsAlertsToTheAlertmanagerApi) {
  auto user = testutil::AddUser(*server_, "prometheus", accounts::kCentreUnitId, {Role::kOperator});
  ASSERT_TRUE(user.ok());
  auto token = testutil::AddToken(*server_, *user, Role::kOperator, "prometheus", clock_.NowMillis(), random_);
  ASSERT_TRUE(token.ok());
  auto wait_for = [&](alerts::AlertState state) {
    std::vector<alerts::AlertRecord> found;
    for (int i = 0; i < 200 && found.empty(); ++i) {
      alerts::AlertQuery q;
      q.states = std::vector<alerts::AlertState>{state};
      q.match.push_back(alerting::Matcher::Parse("alertname=\"BackupStale\"").value());
      auto page = server_->alert_store().List(q);
      if (page.ok()) found = page->items;
      if (found.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return found;
  };
  // What Prometheus 2.42 POSTs (captured from the real thing; see RECIPES), with our times.
  const std::string ends = FormatRfc3339Millis(clock_.NowMillis() + 60'000);
  const std::string starts = FormatRfc3339Millis(clock_.NowMillis() - 10'000);
  const std::string body = R"([{"annotations":{"summary":"synthetic always-firing alert"},"endsAt":")" + ends +
                           R"(","startsAt":")" + starts +
                           R"(","generatorURL":"http://vm:19092/graph?g0.expr=vector%281%29&g0.tab=1",)"
                           R"("labels":{"alertname":"BackupStale","host":"nas1","severity":"warning"}}])";
  http::HttpResponse r = Dispatch(*server_, "POST", "/api/v2/alerts", body, testutil::Bearer(*token));
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<alerts::AlertRecord> firing = wait_for(alerts::AlertState::kFiring);
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].rule, "external");
  EXPECT_EQ(firing[0].annotations.at("summary"), "synthetic always-firing alert");
  EXPECT_EQ(firing[0].firing_since_ms, clock_.NowMillis() - 10'000);
  // Re-sent while it lasts: still one alert.
  ASSERT_EQ(Dispatch(*server_, "POST", "/api/v2/alerts", body, testutil::Bearer(*token)).status, 200);
  // Prometheus resolves by sending endsAt in the past.
  std::string resolved = body;
  resolved.replace(resolved.find(ends), ends.size(), FormatRfc3339Millis(clock_.NowMillis() - 1));
  ASSERT_EQ(Dispatch(*server_, "POST", "/api/v2/alerts", resolved, testutil::Bearer(*token)).status, 200);
  std::vector<alerts::AlertRecord> done = wait_for(alerts::AlertState::kResolved);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, firing[0].id);

  struct Case {
    std::string body;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{{"{}", "body"},
                                         {"[{\"labels\":{}}]", "[0].labels"},
                                         {"[{\"annotations\":{\"a\":\"b\"}}]", "[0].labels"},
                                         {"[{\"labels\":{\"a\":1}}]", "[0].labels.a"},
                                         {"[{\"labels\":{\"a\":\"b\"},\"endsAt\":\"soon\"}]", "[0].endsAt"}}) {
    SCOPED_TRACE(c.body);
    http::HttpResponse bad = Dispatch(*server_, "POST", "/api/v2/alerts", c.body, testutil::Bearer(*token));
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(json::parse(bad.body)["error"]["field"], c.field) << bad.body;
  }
  // Reading needs no more than read; sending alerts needs operate.
  auto viewer = testutil::AddUser(*server_, "looker", accounts::kCentreUnitId, {Role::kViewer});
  auto viewer_token = testutil::AddToken(*server_, *viewer, Role::kViewer, "v", clock_.NowMillis(), random_);
  ASSERT_TRUE(viewer_token.ok());
  EXPECT_EQ(Dispatch(*server_, "POST", "/api/v2/alerts", body, testutil::Bearer(*viewer_token)).status, 403);
}

class RecordingClient : public http::HttpClient {
 public:
  StatusOr<http::HttpResponse> Do(const http::HttpClientRequest& request) override {
    std::lock_guard<std::mutex> lock(mu);
    bodies.push_back(request.body);
    http::HttpResponse r;
    r.status = 200;
    return r;
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return bodies.size();
  }
  std::mutex mu;
  std::vector<std::string> bodies;
};

TEST_F(AlertHandlersTest, ATestMessageGoesToEveryIntegrationAndTheOutboxShowsIt) {
  // A second collector on its own data dir, with a webhook receiver and a recording client.
  testutil::TempDir dir;
  CollectorConfig config = testutil::TestCollectorConfig(dir.path(), SF_WEB_ROOT);
  ASSERT_TRUE(testutil::WriteFile(dir.path() + "/rules.yaml", "rules: []\n"));
  auto doc = config::ConfigDocument::Parse(
      "alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: hook}\n"
      "  receivers: [{name: hook, webhook_configs: [{url: 'http://127.0.0.1:9/x'}]}]\n",
      "c.yaml");
  ASSERT_TRUE(doc.ok());
  auto alerting = alerting::ParseAlertingConfig(doc->root()["alerting"], dir.path(), *fs_);
  ASSERT_TRUE(alerting.ok()) << alerting.status().ToString();
  config.alerting = std::move(alerting).value();
  RecordingClient client;
  auto server = CollectorServer::Start(config, CollectorDeps{clock_, *fs_, &random_, nullptr, &client});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE(testutil::AddUser(**server, "oper", accounts::kCentreUnitId, {Role::kOperator}).ok());
  BrowserSession s = testutil::Login(**server, "oper");
  http::HttpResponse r = Dispatch(**server, "POST", "/api/v1/receivers/hook/test", "{}", s.Headers());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body)["queued"], json({"webhook[0]"}));
  for (int i = 0; i < 200 && client.Count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_EQ(client.Count(), 1u);
  EXPECT_NE(client.bodies[0].find("SteadfastTest"), std::string::npos);
  json list;
  for (int i = 0; i < 200; ++i) {
    list = json::parse(Dispatch(**server, "GET", "/api/v1/notifications?receiver=hook", "", s.Headers()).body);
    if (list["items"].size() == 1 && list["items"][0]["state"] == "sent") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(list["items"].size(), 1u) << list.dump();
  EXPECT_EQ(list["items"][0]["state"], "sent");
  EXPECT_EQ(list["items"][0]["integration"], "webhook[0]");
  EXPECT_EQ(Dispatch(**server, "POST", "/api/v1/receivers/nobody/test", "{}", s.Headers()).status, 404);
  EXPECT_EQ(Dispatch(**server, "GET", "/api/v1/notifications?state=lost", "", s.Headers()).status, 400);
  audit::AuditQuery q;
  q.action = "receivers.test";
  q.result = audit::AuditResult::kOk;
  auto records = (*server)->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u) << "the refused one (no such receiver) is recorded as an error";
  EXPECT_EQ((*records)[0].event.actor_name, "oper");
}

}  // namespace
}  // namespace steadfast::collector::api
