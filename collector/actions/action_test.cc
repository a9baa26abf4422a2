// Agent actions on the collector: requested through the API (validated, audited with the
// reason), listed to the agent in its answers until it reports them finished, its reports
// moving the state (a retried report changes nothing; another agent's report about the id is
// ignored), and expiry. The 401/403 matrix of these routes is in api/route_matrix_test.cc; the
// whole path with the real agent and steadfast-backup is in tests/e2e.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "collector/testing/accounts_fixture.h"
#include "collector/testing/test_util.h"
#include "common/random.h"

namespace steadfast::collector::api {
namespace {

using accounts::Role;
using nlohmann::json;
using protocol::ActionResult;
using protocol::ActionState;
using testutil::Dispatch;

class ActionsTest : public testutil::InProcessCollectorTest {
 protected:
  void SetUp() override {
    StartCollector();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(testutil::AddUser(*server_, "oper", accounts::kCentreUnitId, {Role::kOperator}).ok());
    for (const char* agent : {"agent-1", "agent-2"}) {
      ASSERT_TRUE(testutil::EnrollAgent(*server_, agent, clock_.NowMillis()).ok());
    }
  }

  http::HttpResponse AsOperator(const std::string& method, const std::string& target, const std::string& body = "") {
    testutil::BrowserSession s = testutil::Login(*server_, "oper");
    EXPECT_EQ(s.status, 200) << s.body.dump();
    return Dispatch(*server_, method, target, body, s.Headers());
  }

  json Request(const std::string& agent, const json& body, int expect = 202) {
    http::HttpResponse r = AsOperator("POST", "/api/v1/hosts/" + agent + "/actions", body.dump());
    EXPECT_EQ(r.status, expect) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  json Action(const std::string& agent, const std::string& id) {
    http::HttpResponse r = AsOperator("GET", "/api/v1/hosts/" + agent + "/actions/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // A report from `agent` (empty, or with action states); returns the collector's answer.
  protocol::ReportAck Report(const std::string& agent, std::vector<ActionResult> states = {}) {
    protocol::ReportBatch b;
    b.agent_id = agent;
    b.sent_at_ms = clock_.NowMillis();
    b.host = testutil::Host("host-" + agent);
    b.action_results = std::move(states);
    http::HttpResponse r = Dispatch(*server_, "POST", "/api/v1/reports", protocol::EncodeReportBatch(b),
                                    testutil::Bearer("tok-" + agent));
    EXPECT_EQ(r.status, 200) << r.body;
    auto ack = protocol::DecodeReportAck(r.body);
    EXPECT_TRUE(ack.ok()) << r.body;
    return ack.ok() ? *ack : protocol::ReportAck{};
  }
};

TEST_F(ActionsTest, ARequestIsValidatedAuditedAndCarriedToTheAgentUntilItReportsTheEnd) {
  // Refused requests, each naming the field.
  for (const auto& [body, field] : std::vector<std::pair<json, std::string>>{
           {json{{"reason", "x"}}, "action"},
           {json{{"action", "reboot"}, {"reason", "x"}}, "action"},
           {json{{"action", "emergency_backup"}}, "reason"},
           {json{{"action", "emergency_backup"}, {"reason", "x"}, {"params", {{"job", "../etc"}}}}, "params.job"},
           {json{{"action", "emergency_backup"}, {"reason", "x"}, {"params", {{"jobs", "a"}}}}, "params.jobs"},
           {json{{"action", "emergency_backup"}, {"reason", "x"}, {"expires_in", 5}}, "expires_in"},
           {json{{"action", "emergency_backup"}, {"reason", "x"}, {"colour", "red"}}, "colour"},
       }) {
    json r = Request("agent-1", body, 400);
    EXPECT_EQ(r["error"]["field"], field) << r.dump();
  }
  EXPECT_EQ(AsOperator("POST", "/api/v1/hosts/no-such-agent/actions",
                       json{{"action", "emergency_backup"}, {"reason", "x"}}.dump()).status,
            404);

  json created = Request("agent-1", json{{"action", "emergency_backup"},
                                         {"params", {{"job", "records"}}},
                                         {"reason", "power failure in the server room, on battery"}});
  const json& a = created["action"];
  const std::string id = a["id"];
  EXPECT_EQ(id.rfind("act-", 0), 0u);
  EXPECT_EQ(a["state"], "pending");
  EXPECT_EQ(a["requested_by"], "oper");
  EXPECT_EQ(a["params"]["job"], "records");

  // The audit trail has who asked, for which host, and why.
  audit::AuditQuery q;
  q.action = "hosts.action";
  auto all = server_->audit_log().Query(q);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 9u) << "the eight refused requests are recorded as errors";
  q.result = audit::AuditResult::kOk;
  auto records = server_->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  const audit::AuditEvent& e = (*records)[0].event;
  EXPECT_EQ(e.actor_name, "oper");
  EXPECT_EQ(e.object_type, "host");
  EXPECT_EQ(e.object_id, "agent-1");
  json summary = json::parse(e.summary_json);
  EXPECT_EQ(summary["action_id"], id);
  EXPECT_EQ(summary["reason"], "power failure in the server room, on battery");

  // Queued actions survive a restart of the collector.
  server_.reset();
  StartCollector();
  ASSERT_TRUE(server_);

  // Only agent-1's answers carry it, every time until it reports the end.
  EXPECT_TRUE(Report("agent-2").actions.empty());
  protocol::ReportAck ack = Report("agent-1");
  ASSERT_EQ(ack.actions.size(), 1u);
  EXPECT_EQ(ack.actions[0].id, id);
  EXPECT_EQ(ack.actions[0].action, "emergency_backup");
  EXPECT_EQ(json::parse(ack.actions[0].params_json)["job"], "records");
  EXPECT_EQ(ack.actions[0].requested_by, "oper");
  EXPECT_EQ(Action("agent-1", id)["state"], "delivered");
  clock_.Advance(std::chrono::seconds(5));
  const int64_t started = clock_.NowMillis();
  ack = Report("agent-1", {{id, ActionState::kRunning, "backing up job records", started, 0, "{}"}});
  EXPECT_EQ(ack.actions.size(), 1u) << "still listed while it runs";
  EXPECT_EQ(Action("agent-1", id)["state"], "running");

  // Another agent cannot move it.
  Report("agent-2", {{id, ActionState::kFailed, "not mine", started, started, "{}"}});
  EXPECT_EQ(Action("agent-1", id)["state"], "running");

  clock_.Advance(std::chrono::seconds(20));
  ack = Report("agent-1", {{id, ActionState::kSucceeded, "job records: snapshot 3f2a1b0c, 1.0 MiB added", started,
                            clock_.NowMillis(), R"({"jobs":[{"job":"records","ok":true}]})"}});
  EXPECT_TRUE(ack.actions.empty()) << "finished: no longer listed";
  // A retried report of an older state changes nothing.
  Report("agent-1", {{id, ActionState::kRunning, "backing up job records", started, 0, "{}"}});
  json done = Action("agent-1", id);
  EXPECT_EQ(done["state"], "succeeded");
  EXPECT_EQ(done["finished"], true);
  EXPECT_EQ(done["summary"], "job records: snapshot 3f2a1b0c, 1.0 MiB added");
  EXPECT_EQ(done["details"]["jobs"][0]["job"], "records");
  EXPECT_FALSE(done["started_at"].is_null());
  EXPECT_FALSE(done["finished_at"].is_null());

  json list = json::parse(AsOperator("GET", "/api/v1/hosts/agent-1/actions").body);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["id"], id);
  EXPECT_EQ(AsOperator("GET", "/api/v1/hosts/agent-2/actions/" + id).status, 404) << "not agent-2's";
}

TEST_F(ActionsTest, AnActionNotStartedBeforeItExpiresIsExpiredAndNoLongerListed) {
  json created = Request("agent-1", json{{"action", "emergency_backup"}, {"reason", "drill"}, {"expires_in", 60}});
  const std::string id = created["action"]["id"];
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(Action("agent-1", id)["state"], "expired");
  EXPECT_TRUE(Report("agent-1").actions.empty());
  EXPECT_EQ(Action("agent-1", id)["state"], "expired");
  // The agent's own word replaces the collector's guess (it may have started just in time).
  Report("agent-1", {{id, ActionState::kRefused, "expired at ... before it could start", 0, clock_.NowMillis(), "{}"}});
  EXPECT_EQ(Action("agent-1", id)["state"], "refused");
}

}  // namespace
}  // namespace steadfast::collector::api
