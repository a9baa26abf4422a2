// The alert REST API through the collector's router: listing with filters and scope,
// acknowledging (with expiry), unacknowledging, commenting, assigning, each audited, and bad
// input refused with the field named. (The 401/403 matrix of these routes is in
// route_matrix_test.cc.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
      AgentRecord rec;
      rec.agent_id = agent;
      rec.token_sha256 = Sha256Hex(std::string("tok-") + agent);
      rec.host = testutil::Host(std::string("host-") + agent);
      ASSERT_TRUE(server_->storage().CreateAgent(rec).ok());
      ASSERT_TRUE(server_->accounts().AssignHost(testutil::TestActor(), agent, unit).ok());
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

}  // namespace
}  // namespace steadfast::collector::api
