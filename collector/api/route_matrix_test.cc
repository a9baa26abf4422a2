// The 401/403 matrix: walks EVERY route of the running collector's route table with no
// credential, with each role, out of scope, without the CSRF token, and with a restricted
// session, and checks the guard's answer. A new route is covered the moment it is added; a
// route whose {id} names an object kind without a fixture here fails the test.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "collector/auth/secure_random.h"
#include "collector/server.h"
#include "collector/testing/accounts_fixture.h"
#include "collector/testing/test_util.h"
#include "common/random.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::api {
namespace {

using accounts::Permission;
using accounts::Role;
using nlohmann::json;
using testutil::BrowserSession;
using testutil::Dispatch;
using testutil::ErrorCode;

class RouteMatrixTest : public testutil::InProcessCollectorTest {
 protected:
  void SetUp() override {
    StartCollector();
    if (HasFatalFailure()) return;

    auto a = testutil::AddUnit(*server_, "unit-a", accounts::kCentreUnitId);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    unit_a_ = a->id;
    auto dept = testutil::AddUnit(*server_, "dept-a1x", unit_a_, accounts::UnitKind::kDepartment);
    ASSERT_TRUE(dept.ok()) << dept.status().ToString();
    dept_a1_ = dept->id;
    auto b = testutil::AddUnit(*server_, "unit-b", accounts::kCentreUnitId);
    ASSERT_TRUE(b.ok());
    unit_b_ = b->id;

    for (const auto& [agent, unit] : {std::pair{"agent-a", unit_a_}, std::pair{"agent-b", unit_b_}}) {
      ASSERT_TRUE(testutil::EnrollAgent(*server_, agent, clock_.NowMillis(), unit).ok());
      // An inventory too, so the host inventory routes answer with content, not 404.
      protocol::HostInventory inventory;
      inventory.agent_id = agent;
      inventory.collected_at_ms = clock_.NowMillis();
      inventory.host = testutil::Host(std::string("host-") + agent);  // as enrolled
      ASSERT_TRUE(server_->inventory().ReportHostInventory(agent, inventory, clock_.NowMillis()).ok());
    }
    // Equipment inside unit A's subtree and in unit B.
    for (const auto& [name, unit, id] : {std::tuple{"ups-a", dept_a1_, &equipment_a_},
                                         std::tuple{"ups-b", unit_b_, &equipment_b_}}) {
      inventory::Equipment e;
      e.type = inventory::EquipmentType::kUps;
      e.name = name;
      e.unit_id = unit;
      auto created = server_->inventory().CreateEquipment(testutil::TestActor(), e);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      *id = created->id;
    }
    // An alert on each host.
    auto alert_a = testutil::AddFiringAlert(*server_, "agent-a", "disk-failing", clock_.NowMillis());
    auto alert_b = testutil::AddFiringAlert(*server_, "agent-b", "disk-failing", clock_.NowMillis());
    ASSERT_TRUE(alert_a.ok() && alert_b.ok()) << alert_a.status().ToString();
    alert_a_ = *alert_a;
    alert_b_ = *alert_b;
    for (Role r : accounts::kAllRoles) {
      auto u = testutil::AddUser(*server_, std::string(accounts::RoleName(r)) + "-a", unit_a_, {r});
      ASSERT_TRUE(u.ok()) << u.status().ToString();
      users_[r] = *u;
    }
    auto victim_a = testutil::AddUser(*server_, "victim-a", dept_a1_, {Role::kViewer});
    auto victim_b = testutil::AddUser(*server_, "victim-b", unit_b_, {Role::kViewer});
    ASSERT_TRUE(victim_a.ok() && victim_b.ok());
    victim_a_ = *victim_a;
    victim_b_ = *victim_b;
    ASSERT_TRUE(testutil::AddToken(*server_, victim_b_, Role::kViewer, "b-token", clock_.NowMillis(), random_,
                                   &token_b_)
                    .ok());
  }

  // The path of a route with its {id} filled with an object of the given scope.
  std::string PathFor(const RouteSpec& spec, bool in_scope, Role caller) {
    std::string path = spec.pattern;
    if (path == "/*") return "/index.html";
    std::string id;
    switch (spec.object) {
      case ObjectKind::kNone: id = "no-such-id"; break;
      case ObjectKind::kHost: id = in_scope ? "agent-a" : "agent-b"; break;
      case ObjectKind::kUser: id = std::to_string(in_scope ? victim_a_.id : victim_b_.id); break;
      case ObjectKind::kUnit: id = std::to_string(in_scope ? dept_a1_ : unit_b_); break;
      case ObjectKind::kApiToken: {
        if (!in_scope) {
          id = std::to_string(token_b_);
          break;
        }
        // A fresh token of the caller's own, so revoking it is theirs to do.
        int64_t token_id = 0;
        EXPECT_TRUE(testutil::AddToken(*server_, users_[caller], caller, "t" + std::to_string(++token_seq_),
                                       clock_.NowMillis(), random_, &token_id)
                        .ok());
        id = std::to_string(token_id);
        break;
      }
      case ObjectKind::kEquipment: id = std::to_string(in_scope ? equipment_a_ : equipment_b_); break;
      case ObjectKind::kAlert: id = std::to_string(in_scope ? alert_a_ : alert_b_); break;
    }
    size_t at = path.find("{id}");
    if (at != std::string::npos) path.replace(at, 4, id);
    // Something under the object (an action of the host): the guard answers before it matters.
    at = path.find("{action}");
    if (at != std::string::npos) path.replace(at, 8, "act-none");
    EXPECT_EQ(path.find('{'), std::string::npos) << spec.pattern << ": a placeholder the matrix does not know";
    return path;
  }

  http::HttpResponse Call(const RouteSpec& spec, const std::string& path, http::Headers headers) {
    const bool mutating = IsMutating(spec.method);
    return Dispatch(*server_, spec.method, path, mutating ? "{}" : "", std::move(headers));
  }

  BrowserSession LoginAs(Role r) {
    BrowserSession s = testutil::Login(*server_, users_[r].username);
    EXPECT_EQ(s.status, 200) << s.body.dump();
    return s;
  }

  int64_t unit_a_ = 0, dept_a1_ = 0, unit_b_ = 0, token_b_ = 0;
  int64_t equipment_a_ = 0, equipment_b_ = 0;
  int64_t alert_a_ = 0, alert_b_ = 0;
  int token_seq_ = 0;
  std::map<Role, accounts::User> users_;
  accounts::User victim_a_, victim_b_;
};

TEST_F(RouteMatrixTest, EveryRouteAnswersEveryRoleAsTheTableSays) {
  const std::vector<RouteSpec>& routes = server_->routes().routes();
  ASSERT_GT(routes.size(), 30u);
  int checked = 0;
  for (const RouteSpec& spec : routes) {
    SCOPED_TRACE(spec.method + " " + spec.pattern + " (" + spec.action + ")");
    // No credential at all.
    http::HttpResponse anon = Call(spec, PathFor(spec, true, Role::kAdmin), {});
    if (spec.agent_credentials) {
      // Only an agent's own token opens these; a person's session or API token does not.
      EXPECT_GE(anon.status, 400) << anon.body;
      BrowserSession admin = LoginAs(Role::kAdmin);
      EXPECT_GE(Call(spec, spec.pattern, admin.Headers()).status, 400);
      auto token = testutil::AddToken(*server_, users_[Role::kAdmin], Role::kAdmin, "agent-route-" + spec.action,
                                      clock_.NowMillis(), random_);
      ASSERT_TRUE(token.ok()) << token.status().ToString();
      EXPECT_GE(Call(spec, spec.pattern, testutil::Bearer(*token)).status, 400);
      continue;
    }
    if (!spec.permission) {
      EXPECT_NE(anon.status, 401) << anon.body;
      EXPECT_NE(anon.status, 403) << anon.body;
      continue;
    }
    EXPECT_EQ(anon.status, 401) << anon.body;
    EXPECT_EQ(ErrorCode(anon), "unauthenticated");

    for (Role role : accounts::kAllRoles) {
      SCOPED_TRACE(std::string("role ") + std::string(accounts::RoleName(role)));
      BrowserSession session = LoginAs(role);  // fresh each time: some routes end sessions
      http::HttpResponse r = Call(spec, PathFor(spec, true, role), session.Headers());
      if (accounts::RoleGrants(role, *spec.permission)) {
        EXPECT_NE(r.status, 401) << r.body;
        EXPECT_NE(r.status, 403) << r.body;
      } else {
        EXPECT_EQ(r.status, 403) << r.body;
        EXPECT_EQ(ErrorCode(r), "permission_denied");
      }
      ++checked;

      // Out of scope: every caller here sits in unit A; only admin is centre-wide.
      if (spec.object != ObjectKind::kNone && accounts::RoleGrants(role, *spec.permission)) {
        BrowserSession again = LoginAs(role);
        http::HttpResponse out = Call(spec, PathFor(spec, false, role), again.Headers());
        if (role == Role::kAdmin) {
          EXPECT_NE(out.status, 403) << out.body;
        } else {
          EXPECT_EQ(out.status, 403) << "out-of-scope object: " << out.body;
          EXPECT_EQ(ErrorCode(out), "permission_denied");
        }
      }
    }

    // A cookie session must prove it is our page: no CSRF token, no change.
    if (IsMutating(spec.method)) {
      BrowserSession admin = LoginAs(Role::kAdmin);
      http::HttpResponse r = Call(spec, PathFor(spec, true, Role::kAdmin), admin.Headers(/*with_csrf=*/false));
      EXPECT_EQ(r.status, 403) << r.body;
      EXPECT_EQ(ErrorCode(r), "csrf");
      http::Headers wrong = admin.Headers();
      wrong.Set("X-CSRF-Token", admin.csrf + "x");
      EXPECT_EQ(ErrorCode(Call(spec, PathFor(spec, true, Role::kAdmin), wrong)), "csrf");
    }
  }
  EXPECT_GT(checked, 150);
}

TEST_F(RouteMatrixTest, ApiTokensCarryTheirRoleAndUnitOnEveryRoute) {
  for (Role role : accounts::kAllRoles) {
    SCOPED_TRACE(std::string("token role ") + std::string(accounts::RoleName(role)));
    auto token = testutil::AddToken(*server_, users_[role], role, "matrix", clock_.NowMillis(), random_);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    for (const RouteSpec& spec : server_->routes().routes()) {
      if (!spec.permission) continue;
      SCOPED_TRACE(spec.method + " " + spec.pattern);
      http::HttpResponse r = Call(spec, PathFor(spec, true, role), testutil::Bearer(*token));
      if (!accounts::RoleGrants(role, *spec.permission)) {
        EXPECT_EQ(r.status, 403) << r.body;
        EXPECT_EQ(ErrorCode(r), "permission_denied");
      } else {
        EXPECT_NE(r.status, 401) << r.body;  // no CSRF for bearer tokens
        EXPECT_NE(ErrorCode(r), "csrf");
      }
    }
  }
}

TEST_F(RouteMatrixTest, ARestrictedSessionReachesOnlyWhatLetsItFinish) {
  // Force a password change for the viewer, as after an admin reset.
  auto hash = server_->passwords().HashNew(server_->accounts(), testutil::kTestPassword, "viewer-a", "", 0);
  ASSERT_TRUE(hash.ok());
  ASSERT_TRUE(server_->accounts()
                  .SetPassword(testutil::TestActor(), users_[Role::kViewer].id, *hash, true, 0, "users.reset_password", "")
                  .ok());
  for (const RouteSpec& spec : server_->routes().routes()) {
    if (!spec.permission || !accounts::RoleGrants(Role::kViewer, *spec.permission)) continue;
    SCOPED_TRACE(spec.method + " " + spec.pattern);
    BrowserSession s = LoginAs(Role::kViewer);
    EXPECT_EQ(s.body["must_change_password"], true);
    http::HttpResponse r = Call(spec, PathFor(spec, true, Role::kViewer), s.Headers());
    if (spec.allow_restricted) {
      EXPECT_NE(r.status, 403) << r.body;
    } else {
      EXPECT_EQ(r.status, 403) << r.body;
      EXPECT_EQ(ErrorCode(r), "password_change_required");
    }
  }
}

TEST_F(RouteMatrixTest, UnitAdminIsRefusedAnotherUnitsHostAndTheRefusalIsAudited) {
  BrowserSession s = LoginAs(Role::kUnitAdmin);
  http::HttpResponse mine = Dispatch(*server_, "GET", "/api/v1/hosts/agent-a", "", s.Headers());
  EXPECT_EQ(mine.status, 200) << mine.body;
  http::HttpResponse theirs = Dispatch(*server_, "GET", "/api/v1/hosts/agent-b", "", s.Headers());
  EXPECT_EQ(theirs.status, 403) << theirs.body;
  http::HttpResponse move = Dispatch(*server_, "PUT", "/api/v1/hosts/agent-b/unit",
                                     json{{"unit_id", unit_a_}}.dump(), s.Headers());
  EXPECT_EQ(move.status, 403) << move.body;
  // The host list shows only unit A's host.
  json list = json::parse(Dispatch(*server_, "GET", "/api/v1/hosts", "", s.Headers()).body);
  ASSERT_EQ(list["items"].size(), 1u) << list.dump();
  EXPECT_EQ(list["items"][0]["id"], "agent-a");
  EXPECT_EQ(list["total"], 1);

  audit::AuditQuery q;
  q.actor_name = "unit_admin-a";
  q.result = audit::AuditResult::kDenied;
  auto denied = server_->audit_log().Query(q);
  ASSERT_TRUE(denied.ok());
  // Refused reads are recorded too: a unit admin probing another unit's hosts is worth knowing.
  ASSERT_EQ(denied->size(), 2u);
  EXPECT_EQ((*denied)[0].event.action, "hosts.get");
  EXPECT_EQ((*denied)[1].event.action, "hosts.assign");
  for (const audit::AuditRecord& rec : *denied) {
    EXPECT_EQ(rec.event.object_id, "agent-b");
    EXPECT_EQ(rec.event.result_code, "permission_denied");
    EXPECT_EQ(rec.event.unit_id, unit_a_);
  }
}

}  // namespace
}  // namespace steadfast::collector::api
