// Units, users, tokens, host assignment and the audit API through the running collector's
// routes (no sockets): the rules beyond the route table, validation, and what gets audited.
#include "collector/api/org_handlers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "collector/server.h"
#include "collector/testing/accounts_fixture.h"
#include "collector/testing/test_util.h"
#include "common/random.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::api {
namespace {

using accounts::Role;
using nlohmann::json;
using testutil::BrowserSession;
using testutil::Dispatch;
using testutil::ErrorCode;
using testutil::Login;

class OrgHandlersTest : public testutil::InProcessCollectorTest {
 protected:
  void SetUp() override {
    StartCollector();
    if (HasFatalFailure()) return;
    auto a = testutil::AddUnit(*server_, "unit-a", accounts::kCentreUnitId);
    auto b = testutil::AddUnit(*server_, "unit-b", accounts::kCentreUnitId);
    ASSERT_TRUE(a.ok() && b.ok());
    unit_a_ = a->id;
    unit_b_ = b->id;
    auto root = testutil::AddUser(*server_, "root", accounts::kCentreUnitId, {Role::kAdmin});
    auto ua = testutil::AddUser(*server_, "ua", unit_a_, {Role::kUnitAdmin});
    ASSERT_TRUE(root.ok() && ua.ok());
    root_ = *root;
    root_session_ = Login(*server_, "root");
    ua_session_ = Login(*server_, "ua");
    ASSERT_EQ(root_session_.status, 200);
    ASSERT_EQ(ua_session_.status, 200);
  }

  http::HttpResponse Post(const std::string& path, const json& body, const BrowserSession& s) {
    return Dispatch(*server_, "POST", path, body.dump(), s.Headers());
  }
  http::HttpResponse Patch(const std::string& path, const json& body, const BrowserSession& s) {
    return Dispatch(*server_, "PATCH", path, body.dump(), s.Headers());
  }
  static std::string Field(const http::HttpResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") && j["error"].contains("field") ? j["error"]["field"].get<std::string>()
                                                                                : "";
  }

  int64_t unit_a_ = 0, unit_b_ = 0;
  accounts::User root_;
  BrowserSession root_session_, ua_session_;
};

TEST_F(OrgHandlersTest, CreateUserGivesATemporaryPasswordThatMustBeChanged) {
  http::HttpResponse r = Post("/api/v1/users",
                              {{"username", "Zhang.Wei"},
                               {"display_name", "张伟"},
                               {"unit_id", unit_a_},
                               {"roles", {"operator", "inspector"}},
                               {"contacts", {{"email", "zw@example.org"}, {"wecom", "zhangwei"}}},
                               {"language", "zh-CN"}},
                              ua_session_);
  ASSERT_EQ(r.status, 201) << r.body;
  json user = json::parse(r.body);
  EXPECT_EQ(user["username"], "zhang.wei");
  EXPECT_EQ(user["must_change_password"], true);
  const std::string temporary = user["temporary_password"];
  EXPECT_GE(temporary.size(), 16u);
  EXPECT_FALSE(user.contains("password_hash"));
  BrowserSession s = Login(*server_, "zhang.wei", temporary);
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["must_change_password"], true);
  // The audit record of the creation names who did it and holds no secret.
  audit::AuditQuery q;
  q.action = "users.create";
  q.actor_name = "ua";
  auto records = server_->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].event.actor_name, "ua");
  EXPECT_EQ((*records)[0].event.summary_json.find(temporary), std::string::npos);
  EXPECT_EQ((*records)[0].event.summary_json.find("argon2"), std::string::npos);
}

TEST_F(OrgHandlersTest, AnApiTokensAuditRecordsNameThePersonBehindIt) {
  StatusOr<std::string> token =
      testutil::AddToken(*server_, root_, Role::kAdmin, "nightly", clock_.NowMillis(), random_);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  http::Headers headers;
  headers.Set("Authorization", "Bearer " + *token);
  http::HttpResponse r = Dispatch(*server_, "POST", "/api/v1/units",
                                  json{{"name", "Unit C"}, {"code", "unit-c"}, {"kind", "unit"}, {"parent_id", 1}}.dump(),
                                  headers);
  ASSERT_EQ(r.status, 201) << r.body;
  audit::AuditQuery q;
  q.action = "units.create";
  q.actor_name = "root";  // finds what root's tokens did too
  auto records = server_->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].event.actor_type, "token");
  EXPECT_EQ((*records)[0].event.actor_name, "root (token nightly)");
}

TEST_F(OrgHandlersTest, ValidationErrorsNameTheField) {
  EXPECT_EQ(Field(Post("/api/v1/users", {{"username", "x y"}, {"unit_id", unit_a_}, {"roles", {"viewer"}}}, ua_session_)),
            "username");
  EXPECT_EQ(Field(Post("/api/v1/users", {{"username", "ok1"}, {"unit_id", unit_a_}, {"roles", {"boss"}}}, ua_session_)),
            "roles[0]");
  EXPECT_EQ(Field(Post("/api/v1/users", {{"username", "ok2"}, {"unit_id", "a"}, {"roles", {"viewer"}}}, ua_session_)),
            "unit_id");
  EXPECT_EQ(Field(Post("/api/v1/users", {{"username", "ok3"}, {"unit_id", unit_a_}, {"roles", {"viewer"}}, {"colour", 1}},
                       ua_session_)),
            "colour");
  EXPECT_EQ(Field(Post("/api/v1/users",
                       {{"username", "ok4"}, {"unit_id", unit_a_}, {"roles", {"viewer"}}, {"password", "abc"}},
                       ua_session_)),
            "password");
  EXPECT_EQ(Field(Post("/api/v1/users",
                       {{"username", "ok5"}, {"unit_id", unit_a_}, {"roles", {"viewer"}},
                        {"contacts", {{"email", "not an email"}}}},
                       ua_session_)),
            "contacts.email");
  http::HttpResponse dup = Post("/api/v1/users", {{"username", "ROOT"}, {"unit_id", unit_a_}, {"roles", {"viewer"}}},
                                ua_session_);
  EXPECT_EQ(dup.status, 409) << dup.body;
  EXPECT_EQ(Field(dup), "username");
  http::HttpResponse not_json = Dispatch(*server_, "POST", "/api/v1/users", "{oops", ua_session_.Headers());
  EXPECT_EQ(not_json.status, 400);
  // Nothing of that was stored.
  accounts::UserQuery q;
  EXPECT_EQ(server_->accounts().ListUsers(q)->total, 2);
}

TEST_F(OrgHandlersTest, UnitAdminStaysInsideTheirUnitAndCannotMakeAdmins) {
  EXPECT_EQ(Post("/api/v1/users", {{"username", "x1"}, {"unit_id", unit_b_}, {"roles", {"viewer"}}}, ua_session_).status,
            403);
  EXPECT_EQ(Post("/api/v1/users", {{"username", "x2"}, {"unit_id", unit_a_}, {"roles", {"admin"}}}, ua_session_).status,
            403);
  // Departments below their unit: yes; their own unit or a sibling: no.
  http::HttpResponse dept =
      Post("/api/v1/units", {{"name", "Records"}, {"code", "a-records"}, {"kind", "department"}, {"parent_id", unit_a_}},
           ua_session_);
  ASSERT_EQ(dept.status, 201) << dept.body;
  const int64_t dept_id = json::parse(dept.body)["id"];
  EXPECT_EQ(Patch("/api/v1/units/" + std::to_string(dept_id), {{"name", "Archive"}}, ua_session_).status, 200);
  EXPECT_EQ(Patch("/api/v1/units/" + std::to_string(unit_a_), {{"name", "Mine"}}, ua_session_).status, 403);
  EXPECT_EQ(Patch("/api/v1/units/" + std::to_string(dept_id), {{"parent_id", unit_b_}}, ua_session_).status, 403);
  EXPECT_EQ(Post("/api/v1/units", {{"name", "Rogue"}, {"code", "rogue"}, {"parent_id", accounts::kCentreUnitId}},
                 ua_session_)
                .status,
            403);
  // The unit list shows their subtree only.
  json units = json::parse(Dispatch(*server_, "GET", "/api/v1/units", "", ua_session_.Headers()).body);
  std::vector<int64_t> ids;
  for (const json& u : units["items"]) ids.push_back(u["id"]);
  EXPECT_EQ(ids, (std::vector<int64_t>{unit_a_, dept_id}));
  // Moving a unit under its own descendant is refused, naming the field.
  http::HttpResponse cycle = Patch("/api/v1/units/" + std::to_string(unit_a_), {{"parent_id", dept_id}}, root_session_);
  EXPECT_EQ(cycle.status, 400) << cycle.body;
  EXPECT_EQ(Field(cycle), "parent_id");
}

TEST_F(OrgHandlersTest, TheLastActiveAdminCannotBeDisabledOrDemoted) {
  const std::string path = "/api/v1/users/" + std::to_string(root_.id);
  EXPECT_EQ(Patch(path, {{"active", false}}, root_session_).status, 409);
  EXPECT_EQ(Patch(path, {{"roles", {"viewer"}}}, root_session_).status, 409);
  auto second = testutil::AddUser(*server_, "root2", accounts::kCentreUnitId, {Role::kAdmin});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(Patch(path, {{"roles", {"viewer"}}}, root_session_).status, 200);
  // A unit admin cannot touch an admin's roles.
  EXPECT_EQ(Patch("/api/v1/users/" + std::to_string(second->id), {{"roles", {"viewer"}}}, ua_session_).status, 403);
}

TEST_F(OrgHandlersTest, ResetPasswordEndsTheUsersSessions) {
  auto user = testutil::AddUser(*server_, "op", unit_a_, {Role::kOperator});
  ASSERT_TRUE(user.ok());
  BrowserSession s = Login(*server_, "op");
  http::HttpResponse r =
      Dispatch(*server_, "POST", "/api/v1/users/" + std::to_string(user->id) + "/reset-password", "", ua_session_.Headers());
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string temporary = json::parse(r.body)["temporary_password"];
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/auth/session", "", s.Headers()).status, 401);
  EXPECT_EQ(Login(*server_, "op").status, 401);
  BrowserSession again = Login(*server_, "op", temporary);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["must_change_password"], true);
}

TEST_F(OrgHandlersTest, HostAssignmentIsAuditedWithBeforeAndAfter) {
  AgentRecord rec;
  rec.agent_id = "agent-1";
  rec.token_sha256 = Sha256Hex("x");
  rec.host = testutil::Host("db-01");
  ASSERT_TRUE(server_->storage().CreateAgent(rec).ok());
  http::HttpResponse r = Dispatch(*server_, "PUT", "/api/v1/hosts/agent-1/unit", json{{"unit_id", unit_a_}}.dump(),
                                  root_session_.Headers());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Dispatch(*server_, "PUT", "/api/v1/hosts/nope/unit", json{{"unit_id", unit_a_}}.dump(),
                     root_session_.Headers())
                .status,
            404);
  audit::AuditQuery q;
  q.action = "hosts.";
  auto records = server_->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].event.result, audit::AuditResult::kOk);
  json summary = json::parse((*records)[0].event.summary_json);
  EXPECT_EQ(summary["before"]["unit_id"], accounts::kCentreUnitId) << summary.dump();
  EXPECT_EQ(summary["after"]["unit_id"], unit_a_);
  EXPECT_EQ((*records)[1].event.result, audit::AuditResult::kError);  // the unknown host
  // The unit admin of A now sees the host; B's would not.
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts/agent-1", "", ua_session_.Headers()).status, 200);
}

TEST_F(OrgHandlersTest, AuditApiFiltersByScopeAndExportsCsv) {
  ASSERT_EQ(Post("/api/v1/users", {{"username", "a1"}, {"unit_id", unit_a_}, {"roles", {"viewer"}}}, ua_session_).status,
            201);
  ASSERT_EQ(Post("/api/v1/users", {{"username", "b1"}, {"unit_id", unit_b_}, {"roles", {"viewer"}}}, root_session_).status,
            201);
  json all = json::parse(Dispatch(*server_, "GET", "/api/v1/audit?action=users.create", "", root_session_.Headers()).body);
  EXPECT_EQ(all["items"].size(), 4u) << all.dump();  // the fixture's two users, then a1 and b1
  // The unit admin sees records of actors in unit A only.
  json mine = json::parse(Dispatch(*server_, "GET", "/api/v1/audit?action=users.create", "", ua_session_.Headers()).body);
  ASSERT_EQ(mine["items"].size(), 1u) << mine.dump();
  EXPECT_EQ(mine["items"][0]["actor"]["name"], "ua");
  http::HttpResponse csv = Dispatch(*server_, "GET", "/api/v1/audit?format=csv&actor=root", "", root_session_.Headers());
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.headers.Get("Content-Type").value_or("").rfind("text/csv", 0), 0u);
  EXPECT_NE(csv.body.find("users.create"), std::string::npos) << csv.body;
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/audit?from=yesterday", "", root_session_.Headers()).status, 400);
  // Verify: admin only, and it says the chain is intact.
  json verdict = json::parse(Dispatch(*server_, "GET", "/api/v1/audit/verify", "", root_session_.Headers()).body);
  EXPECT_EQ(verdict["ok"], true) << verdict.dump();
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/audit/verify", "", ua_session_.Headers()).status, 403);
}

}  // namespace
}  // namespace steadfast::collector::api
