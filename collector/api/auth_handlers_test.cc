// Login, lockout, sessions, password change, TOTP and API tokens through the running
// collector's routes (no sockets), with a FakeClock for every timing rule.
#include "collector/api/auth_handlers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "collector/auth/encoding.h"
#include "collector/auth/fake_ldap_directory.h"
#include "collector/auth/totp.h"
#include "collector/server.h"
#include "collector/testing/accounts_fixture.h"
#include "collector/testing/test_util.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::api {
namespace {

using accounts::Role;
using nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;
using testutil::BrowserSession;
using testutil::Dispatch;
using testutil::ErrorCode;
using testutil::Login;

class AuthHandlersTest : public testutil::InProcessCollectorTest {
 protected:
  void Start() {
    StartCollector();
    if (HasFatalFailure()) return;
    auto u = testutil::AddUser(*server_, "alice", accounts::kCentreUnitId, {Role::kOperator});
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    alice_ = *u;
  }

  // Audit records of `action` with `result`.
  size_t Audited(const std::string& action, audit::AuditResult result) {
    audit::AuditQuery q;
    q.action = action;
    q.result = result;
    q.limit = 1000;
    auto records = server_->audit_log().Query(q);
    EXPECT_TRUE(records.ok());
    return records.ok() ? records->size() : 0;
  }

  http::HttpResponse Get(const std::string& path, const BrowserSession& s) {
    return Dispatch(*server_, "GET", path, "", s.Headers());
  }

  accounts::User alice_;
};

TEST_F(AuthHandlersTest, WrongPasswordAndUnknownUserLookTheSameAndAreAudited) {
  Start();
  BrowserSession wrong = Login(*server_, "alice", "not-her-password");
  BrowserSession nobody = Login(*server_, "mallory", "whatever-1A");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(nobody.status, 401);
  EXPECT_EQ(wrong.body["error"]["code"], "invalid_credentials");
  EXPECT_EQ(wrong.body["error"]["message"], nobody.body["error"]["message"]);
  EXPECT_TRUE(wrong.cookie.empty());
  EXPECT_EQ(Audited("auth.login", audit::AuditResult::kDenied), 2u);
  BrowserSession ok = Login(*server_, "Alice");  // usernames are case-insensitive
  EXPECT_EQ(ok.status, 200) << ok.body.dump();
  EXPECT_EQ(Audited("auth.login", audit::AuditResult::kOk), 1u);
}

TEST_F(AuthHandlersTest, AccountLocksAfterFiveFailuresEvenForTheRightPasswordAndUnlocksLater) {
  Start();
  for (int i = 0; i < 5; ++i) {
    // Different addresses, so only the account lock applies.
    EXPECT_EQ(Login(*server_, "alice", "bad", "198.51.100." + std::to_string(i)).status, 401);
  }
  BrowserSession locked = Login(*server_, "alice", testutil::kTestPassword, "198.51.100.77");
  EXPECT_EQ(locked.status, 429) << locked.body.dump();
  EXPECT_EQ(locked.body["error"]["code"], "locked_out");
  clock_.Advance(minutes(9));
  EXPECT_EQ(Login(*server_, "alice", testutil::kTestPassword, "198.51.100.77").status, 429);
  clock_.Advance(minutes(1) + seconds(1));  // the first lock is 10 minutes
  EXPECT_EQ(Login(*server_, "alice", testutil::kTestPassword, "198.51.100.77").status, 200);
  // Success forgets the failures: one more failure does not lock again.
  EXPECT_EQ(Login(*server_, "alice", "bad", "198.51.100.78").status, 401);
  EXPECT_EQ(Login(*server_, "alice", testutil::kTestPassword, "198.51.100.78").status, 200);
}

TEST_F(AuthHandlersTest, RepeatedLocksGrowLonger) {
  Start();
  for (int i = 0; i < 5; ++i) Login(*server_, "alice", "bad", "198.51.100.1");
  clock_.Advance(minutes(10) + seconds(1));
  // One more failure right after the first lock: the second lock is twice as long.
  EXPECT_EQ(Login(*server_, "alice", "bad", "198.51.100.2").status, 401);
  clock_.Advance(minutes(19));
  EXPECT_EQ(Login(*server_, "alice", testutil::kTestPassword, "198.51.100.3").status, 429);
  clock_.Advance(minutes(1) + seconds(1));
  EXPECT_EQ(Login(*server_, "alice", testutil::kTestPassword, "198.51.100.3").status, 200);
}

TEST_F(AuthHandlersTest, OneAddressSprayingManyAccountsIsThrottled) {
  Start();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Login(*server_, "user" + std::to_string(i), "guess-Aa1", "203.0.113.9").status, 401);
  }
  BrowserSession r = Login(*server_, "alice", testutil::kTestPassword, "203.0.113.9");
  EXPECT_EQ(r.status, 429);
  // Another address is not affected.
  EXPECT_EQ(Login(*server_, "alice", testutil::kTestPassword, "203.0.113.10").status, 200);
}

TEST_F(AuthHandlersTest, SessionsEndWhenIdleAndAtTheirLifetime) {
  config_.auth.session.idle_timeout_ms = 30 * 60'000;
  config_.auth.session.absolute_lifetime_ms = 2 * 3600'000;
  Start();
  BrowserSession s = Login(*server_, "alice");
  ASSERT_EQ(s.status, 200);
  clock_.Advance(minutes(29));
  EXPECT_EQ(Get("/api/v1/auth/session", s).status, 200);
  clock_.Advance(minutes(29));  // activity kept it alive
  EXPECT_EQ(Get("/api/v1/auth/session", s).status, 200);
  clock_.Advance(minutes(31));
  EXPECT_EQ(Get("/api/v1/auth/session", s).status, 401);
  EXPECT_EQ(Audited("sessions.expire", audit::AuditResult::kOk), 1u);

  BrowserSession t = Login(*server_, "alice");
  for (int i = 0; i < 8; ++i) {
    clock_.Advance(minutes(15));
    EXPECT_EQ(Get("/api/v1/auth/session", t).status, i < 7 ? 200 : 401) << "after " << (i + 1) * 15 << " min";
  }
}

TEST_F(AuthHandlersTest, ForcedPasswordChangeThenTheNewPasswordWorksAndTheOldOneDoesNot) {
  Start();
  auto hash = server_->passwords().HashNew(server_->accounts(), "Temp-Pass-123", "alice", "", 0);
  ASSERT_TRUE(hash.ok());
  ASSERT_TRUE(
      server_->accounts().SetPassword(testutil::TestActor(), alice_.id, *hash, true, 3, "users.reset_password", "").ok());
  BrowserSession s = Login(*server_, "alice", "Temp-Pass-123");
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["must_change_password"], true);
  EXPECT_EQ(ErrorCode(Get("/api/v1/hosts", s)), "password_change_required");

  auto change = [&](const std::string& current, const std::string& next) {
    return Dispatch(*server_, "POST", "/api/v1/auth/password",
                    json{{"current_password", current}, {"new_password", next}}.dump(), s.Headers());
  };
  http::HttpResponse weak = change("Temp-Pass-123", "short");
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(json::parse(weak.body)["error"]["field"], "new_password");
  http::HttpResponse same = change("Temp-Pass-123", "Temp-Pass-123");
  EXPECT_EQ(same.status, 400) << "history: " << same.body;
  EXPECT_EQ(change("wrong-current", "Brand-New-456").status, 403);
  http::HttpResponse ok = change("Temp-Pass-123", "Brand-New-456");
  EXPECT_EQ(ok.status, 204) << ok.body;
  EXPECT_EQ(Get("/api/v1/hosts", s).status, 200);  // this session goes on, unrestricted
  EXPECT_EQ(Login(*server_, "alice", "Temp-Pass-123").status, 401);
  EXPECT_EQ(Login(*server_, "alice", "Brand-New-456").status, 200);
}

TEST_F(AuthHandlersTest, ExpiredPasswordMustBeChanged) {
  config_.auth.password_policy.max_age_ms = 90LL * 24 * 3600'000;
  Start();
  clock_.Advance(std::chrono::hours(24 * 91));
  BrowserSession s = Login(*server_, "alice");
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["must_change_password"], true);
}

TEST_F(AuthHandlersTest, TotpEnrolmentThenLoginNeedsTheCodeAndRefusesReplay) {
  Start();
  BrowserSession s = Login(*server_, "alice");
  http::HttpResponse setup = Dispatch(*server_, "POST", "/api/v1/auth/totp/setup", "{}", s.Headers());
  ASSERT_EQ(setup.status, 200) << setup.body;
  const std::string secret = json::parse(setup.body)["secret"];
  EXPECT_NE(json::parse(setup.body)["otpauth_uri"].get<std::string>().find("otpauth://totp/"), std::string::npos);
  auto key = auth::Base32Decode(secret);
  ASSERT_TRUE(key.ok());
  http::HttpResponse bad = Dispatch(*server_, "POST", "/api/v1/auth/totp/confirm", json{{"code", "000000"}}.dump(),
                                    s.Headers());
  EXPECT_EQ(bad.status, 400);
  const std::string code = auth::TotpCode(*key, clock_.NowMillis());
  ASSERT_EQ(Dispatch(*server_, "POST", "/api/v1/auth/totp/confirm", json{{"code", code}}.dump(), s.Headers()).status,
            204);

  clock_.Advance(seconds(30));
  BrowserSession no_code = Login(*server_, "alice");
  EXPECT_EQ(no_code.status, 401);
  EXPECT_EQ(no_code.body["error"]["code"], "totp_required");
  const std::string now_code = auth::TotpCode(*key, clock_.NowMillis());
  BrowserSession with_code = Login(*server_, "alice", testutil::kTestPassword, "192.0.2.10", now_code);
  EXPECT_EQ(with_code.status, 200) << with_code.body.dump();
  BrowserSession replay = Login(*server_, "alice", testutil::kTestPassword, "192.0.2.10", now_code);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(replay.body["error"]["code"], "totp_invalid");
}

TEST_F(AuthHandlersTest, RoleThatRequiresTotpIsRestrictedUntilEnrolled) {
  config_.auth.totp_required_roles = {"operator"};
  Start();
  BrowserSession s = Login(*server_, "alice");
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["totp_enrollment_required"], true);
  EXPECT_EQ(ErrorCode(Get("/api/v1/hosts", s)), "totp_enrollment_required");
  EXPECT_EQ(Dispatch(*server_, "POST", "/api/v1/auth/totp/setup", "{}", s.Headers()).status, 200);
}

TEST_F(AuthHandlersTest, ListAndRevokeOwnSessionsOnly) {
  Start();
  auto bob = testutil::AddUser(*server_, "bob", accounts::kCentreUnitId, {Role::kViewer});
  ASSERT_TRUE(bob.ok());
  BrowserSession a1 = Login(*server_, "alice");
  BrowserSession a2 = Login(*server_, "alice");
  BrowserSession b1 = Login(*server_, "bob");
  json mine = json::parse(Get("/api/v1/auth/sessions", a1).body);
  ASSERT_EQ(mine["items"].size(), 2u);
  std::string other_id;
  for (const json& item : mine["items"]) {
    if (!item["current"].get<bool>()) other_id = item["id"];
  }
  ASSERT_FALSE(other_id.empty());
  const std::string bobs_id = json::parse(Get("/api/v1/auth/sessions", b1).body)["items"][0]["id"];
  EXPECT_EQ(Dispatch(*server_, "DELETE", "/api/v1/auth/sessions/" + bobs_id, "", a1.Headers()).status, 404);
  EXPECT_EQ(Get("/api/v1/auth/session", b1).status, 200);
  EXPECT_EQ(Dispatch(*server_, "DELETE", "/api/v1/auth/sessions/" + other_id, "", a1.Headers()).status, 204);
  EXPECT_EQ(Get("/api/v1/auth/session", a2).status, 401);
  EXPECT_EQ(Get("/api/v1/auth/session", a1).status, 200);
}

TEST_F(AuthHandlersTest, DisablingAUserEndsTheirSessionsAndTokens) {
  Start();
  auto admin = testutil::AddUser(*server_, "root", accounts::kCentreUnitId, {Role::kAdmin});
  ASSERT_TRUE(admin.ok());
  BrowserSession s = Login(*server_, "alice");
  auto token = testutil::AddToken(*server_, alice_, Role::kOperator, "ci", clock_.NowMillis(), random_);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts", "", testutil::Bearer(*token)).status, 200);
  BrowserSession root = Login(*server_, "root");
  http::HttpResponse off = Dispatch(*server_, "PATCH", "/api/v1/users/" + std::to_string(alice_.id),
                                    json{{"active", false}}.dump(), root.Headers());
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(Get("/api/v1/auth/session", s).status, 401);
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts", "", testutil::Bearer(*token)).status, 401);
  EXPECT_EQ(Login(*server_, "alice").status, 401);
}

TEST_F(AuthHandlersTest, TokensExpireAndFollowTheirOwnersRoles) {
  Start();
  auto admin = testutil::AddUser(*server_, "root", accounts::kCentreUnitId, {Role::kAdmin});
  ASSERT_TRUE(admin.ok());
  auto token = testutil::AddToken(*server_, alice_, Role::kOperator, "ci", clock_.NowMillis(), random_);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts", "", testutil::Bearer(*token)).status, 200);
  // The owner loses the role: the token stops working.
  BrowserSession root = Login(*server_, "root");
  ASSERT_EQ(Dispatch(*server_, "PATCH", "/api/v1/users/" + std::to_string(alice_.id),
                     json{{"roles", {"viewer"}}}.dump(), root.Headers())
                .status,
            200);
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts", "", testutil::Bearer(*token)).status, 401);
  // A fresh viewer token expires after its day.
  auto viewer_token = testutil::AddToken(*server_, alice_, Role::kViewer, "ci2", clock_.NowMillis(), random_);
  ASSERT_TRUE(viewer_token.ok());
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts", "", testutil::Bearer(*viewer_token)).status, 200);
  clock_.Advance(std::chrono::hours(25));
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts", "", testutil::Bearer(*viewer_token)).status, 401);
  // A session token is not a bearer token, and garbage is refused before any lookup.
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts", "", testutil::Bearer("sfs_" + std::string(43, 'A'))).status,
            401);
  EXPECT_EQ(Dispatch(*server_, "GET", "/api/v1/hosts", "", testutil::Bearer("nonsense")).status, 401);
}

TEST_F(AuthHandlersTest, TokenCreatedOverTheApiIsShownOnceAndStoredHashed) {
  Start();
  BrowserSession s = Login(*server_, "alice");
  http::HttpResponse r = Dispatch(*server_, "POST", "/api/v1/tokens",
                                  json{{"name", "nightly"}, {"role", "operator"}, {"expires_in_days", 30}}.dump(),
                                  s.Headers());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token = json::parse(r.body)["token"];
  EXPECT_EQ(token.rfind("sfa_", 0), 0u);
  json list = json::parse(Get("/api/v1/tokens", s).body);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_FALSE(list["items"][0].contains("token"));
  EXPECT_EQ(list.dump().find(token), std::string::npos);
  // A role the creator does not hold is refused.
  r = Dispatch(*server_, "POST", "/api/v1/tokens", json{{"name", "x"}, {"role", "admin"}}.dump(), s.Headers());
  EXPECT_EQ(r.status, 403);
  // A token cannot mint tokens.
  r = Dispatch(*server_, "POST", "/api/v1/tokens", json{{"name", "y"}, {"role", "operator"}}.dump(),
               testutil::Bearer(token));
  EXPECT_EQ(r.status, 403);
}

// ---- LDAP login, against FakeLdapDirectory (held to a real slapd by ldap_slapd_test).

constexpr char kAdminsGroup[] = "cn=sf-admins,ou=groups,dc=example,dc=org";
constexpr char kCountyOpsGroup[] = "cn=county-ops,ou=groups,dc=example,dc=org";
constexpr char kAuditorsGroup[] = "cn=auditors,ou=groups,dc=example,dc=org";
constexpr char kGhostGroup[] = "cn=ghosts,ou=groups,dc=example,dc=org";
constexpr char kDoraPassword[] = "Dora-Directory-1";

class LdapLoginTest : public AuthHandlersTest {
 protected:
  void StartWithLdap() {
    auth::LdapConfig ldap;
    ldap.url = "ldap://fake-directory.invalid";
    ldap.user_dn_template = "uid={username},ou=people,dc=example,dc=org";
    ldap.group_base = "ou=groups,dc=example,dc=org";
    ldap.group_mappings = {{kAdminsGroup, {"admin"}, "centre"},
                           {kCountyOpsGroup, {"operator", "viewer"}, "county"},
                           {kAuditorsGroup, {"manager"}, ""},
                           {kGhostGroup, {"viewer"}, "nowhere"}};
    ldap.default_unit = "centre";
    config_.auth.ldap = ldap;
    auto s = CollectorServer::Start(config_, CollectorDeps{clock_, *fs_, &random_, &directory_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    auto county = testutil::AddUnit(*server_, "county", accounts::kCentreUnitId);
    ASSERT_TRUE(county.ok()) << county.status().ToString();
    county_id_ = county->id;
    auto alice = testutil::AddUser(*server_, "alice", accounts::kCentreUnitId, {Role::kOperator});
    ASSERT_TRUE(alice.ok()) << alice.status().ToString();
    alice_ = *alice;
    auto root = testutil::AddUser(*server_, "root", accounts::kCentreUnitId, {Role::kAdmin});
    ASSERT_TRUE(root.ok()) << root.status().ToString();

    directory_.SetUser("dora", kDoraPassword,
                       {"uid=dora,ou=people,dc=example,dc=org", "Dora Explorer", "dora@example.org",
                        {kCountyOpsGroup}});
    directory_.SetUser("erin", "Erin-Directory-2", {"uid=erin,ou=people,dc=example,dc=org", "Erin", "", {}});
    directory_.SetUser("gus", "Gus-Directory-3", {"uid=gus,ou=people,dc=example,dc=org", "Gus", "", {kGhostGroup}});
    directory_.SetUser("x,y", "Comma-Directory-4",
                       {"uid=x\\2Cy,ou=people,dc=example,dc=org", "Comma", "", {kCountyOpsGroup}});
    // A directory entry with a local namesake: the local account wins, the directory is not asked.
    directory_.SetUser("alice", "Alice-Directory-5",
                       {"uid=alice,ou=people,dc=example,dc=org", "Directory Alice", "", {kAdminsGroup}});
  }

  // The audit records of failed logins with `code`.
  std::vector<audit::AuditRecord> RefusedLogins(const std::string& code) {
    audit::AuditQuery q;
    q.action = "auth.login";
    q.limit = 1000;
    auto records = server_->audit_log().Query(q);
    EXPECT_TRUE(records.ok());
    std::vector<audit::AuditRecord> out;
    for (const audit::AuditRecord& r : records.ok() ? *records : std::vector<audit::AuditRecord>{}) {
      if (r.event.result_code == code) out.push_back(r);
    }
    return out;
  }

  StatusOr<accounts::User> Account(const std::string& username) {
    return server_->accounts().FindUserByUsername(username);
  }

  auth::testing::FakeLdapDirectory directory_;
  int64_t county_id_ = 0;
};

TEST_F(LdapLoginTest, FirstLoginCreatesTheAccountFromTheDirectory) {
  StartWithLdap();
  ASSERT_FALSE(Account("dora").ok());
  const size_t created_before = Audited("users.create", audit::AuditResult::kOk);  // alice and root
  BrowserSession s = Login(*server_, "Dora", kDoraPassword);
  ASSERT_EQ(s.status, 200) << s.body.dump();
  EXPECT_EQ(s.body["user"]["username"], "dora");
  EXPECT_EQ(s.body["user"]["source"], "ldap");
  EXPECT_EQ(s.body["user"]["display_name"], "Dora Explorer");
  EXPECT_EQ(s.body["user"]["contacts"]["email"], "dora@example.org");
  EXPECT_EQ(s.body["user"]["roles"], json({"operator", "viewer"}));
  EXPECT_EQ(s.body["user"]["unit_id"], county_id_);
  EXPECT_EQ(s.body["must_change_password"], false);
  auto creds = server_->accounts().GetCredentials(s.body["user"]["id"].get<int64_t>());
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->password_hash, "");  // nothing local to guess
  EXPECT_EQ(Get("/api/v1/hosts", s).status, 200);
  EXPECT_EQ(Audited("users.create", audit::AuditResult::kOk), created_before + 1);
  EXPECT_EQ(Audited("auth.login", audit::AuditResult::kOk), 1u);
  // Next time the account is there: no second creation.
  EXPECT_EQ(Login(*server_, "dora", kDoraPassword).status, 200);
  EXPECT_EQ(Audited("users.create", audit::AuditResult::kOk), created_before + 1);
  EXPECT_EQ(Audited("users.update", audit::AuditResult::kOk), 0u);
}

TEST_F(LdapLoginTest, RolesUnitNameAndMailFollowTheDirectoryAndTheChangeIsAudited) {
  StartWithLdap();
  ASSERT_EQ(Login(*server_, "dora", kDoraPassword).status, 200);
  directory_.SetUser("dora", kDoraPassword,
                     {"uid=dora,ou=people,dc=example,dc=org", "Dora Admin", "dora.a@example.org",
                      {kAuditorsGroup, kAdminsGroup}});
  BrowserSession s = Login(*server_, "dora", kDoraPassword);
  ASSERT_EQ(s.status, 200) << s.body.dump();
  EXPECT_EQ(s.body["user"]["roles"], json({"admin", "manager"}));
  EXPECT_EQ(s.body["user"]["unit_id"], accounts::kCentreUnitId);
  EXPECT_EQ(s.body["user"]["display_name"], "Dora Admin");
  EXPECT_EQ(s.body["user"]["contacts"]["email"], "dora.a@example.org");
  EXPECT_EQ(s.body["principal"]["centre_wide"], true);
  audit::AuditQuery q;
  q.action = "users.update";
  auto updates = server_->audit_log().Query(q);
  ASSERT_TRUE(updates.ok());
  ASSERT_EQ(updates->size(), 1u);
  EXPECT_EQ(updates->front().event.actor_type, "system");
  EXPECT_EQ(updates->front().event.actor_name, "ldap");
  EXPECT_NE(updates->front().event.summary_json.find("admin"), std::string::npos);
  // Groups naming no unit: the default unit.
  directory_.SetGroups("dora", {kAuditorsGroup});
  s = Login(*server_, "dora", kDoraPassword);
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["user"]["roles"], json({"manager"}));
  EXPECT_EQ(s.body["user"]["unit_id"], accounts::kCentreUnitId);
  EXPECT_EQ(Audited("users.update", audit::AuditResult::kOk), 2u);
}

TEST_F(LdapLoginTest, PersonInNoMappedGroupGetsNoAccessAndTheReasonIsAudited) {
  StartWithLdap();
  BrowserSession erin = Login(*server_, "erin", "Erin-Directory-2");
  BrowserSession wrong = Login(*server_, "dora", "not-doras");
  EXPECT_EQ(erin.status, 401);
  EXPECT_EQ(erin.body["error"], wrong.body["error"]);  // the right password is not given away
  EXPECT_FALSE(Account("erin").ok());
  auto refused = RefusedLogins("no_ldap_group");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].event.actor_name, "erin");
  EXPECT_NE(refused[0].event.message.find("no mapped LDAP group"), std::string::npos) << refused[0].event.message;
  // Someone who had access loses it with their last mapped group.
  ASSERT_EQ(Login(*server_, "dora", kDoraPassword).status, 200);
  directory_.SetGroups("dora", {"cn=staff,ou=groups,dc=example,dc=org"});
  EXPECT_EQ(Login(*server_, "dora", kDoraPassword).status, 401);
  EXPECT_EQ(RefusedLogins("no_ldap_group").size(), 2u);
}

TEST_F(LdapLoginTest, MappingToAnUnknownUnitRefusesTheLoginWithAClearReason) {
  StartWithLdap();
  EXPECT_EQ(Login(*server_, "gus", "Gus-Directory-3").status, 401);
  EXPECT_FALSE(Account("gus").ok());
  auto refused = RefusedLogins("unknown_unit");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].event.message.find("'nowhere'"), std::string::npos) << refused[0].event.message;
}

TEST_F(LdapLoginTest, NameTheAccountsCannotHoldIsRefused) {
  StartWithLdap();
  EXPECT_EQ(Login(*server_, "x,y", "Comma-Directory-4").status, 401);
  EXPECT_EQ(RefusedLogins("invalid_username").size(), 1u);
}

TEST_F(LdapLoginTest, DirectoryValuesTheAccountsCannotHoldAreLeftOut) {
  StartWithLdap();
  directory_.SetUser("hank", "Hank-Directory-6",
                     {"uid=hank,ou=people,dc=example,dc=org", std::string(150, 'H'), "not a mail address",
                      {kCountyOpsGroup}});
  BrowserSession s = Login(*server_, "hank", "Hank-Directory-6");
  ASSERT_EQ(s.status, 200) << s.body.dump();
  EXPECT_EQ(s.body["user"]["display_name"], "hank");
  EXPECT_EQ(s.body["user"]["contacts"]["email"], "");
  // Later the directory is fixed: the account follows.
  directory_.SetUser("hank", "Hank-Directory-6",
                     {"uid=hank,ou=people,dc=example,dc=org", "Hank", "hank@example.org", {kCountyOpsGroup}});
  s = Login(*server_, "hank", "Hank-Directory-6");
  ASSERT_EQ(s.status, 200) << s.body.dump();
  EXPECT_EQ(s.body["user"]["display_name"], "Hank");
  EXPECT_EQ(s.body["user"]["contacts"]["email"], "hank@example.org");
}

TEST_F(LdapLoginTest, DirectoryDownIs503NotCountedAndAudited) {
  StartWithLdap();
  ASSERT_EQ(Login(*server_, "dora", kDoraPassword).status, 200);
  directory_.SetAvailable(false);
  for (int i = 0; i < 12; ++i) {  // six each: more than the account lockout threshold
    BrowserSession down = Login(*server_, i % 2 == 0 ? "dora" : "newcomer", kDoraPassword);
    EXPECT_EQ(down.status, 503) << down.body.dump();
    EXPECT_EQ(down.body["error"]["code"], "directory_unavailable");
  }
  EXPECT_EQ(Audited("auth.login", audit::AuditResult::kError), 12u);
  auto refused = RefusedLogins("directory_unavailable");
  ASSERT_FALSE(refused.empty());
  EXPECT_NE(refused[0].event.message.find("ldap://fake-directory.invalid"), std::string::npos);
  EXPECT_EQ(refused[0].event.message.find(kDoraPassword), std::string::npos);
  // Local accounts still log in.
  EXPECT_EQ(Login(*server_, "alice").status, 200);
  directory_.SetAvailable(true);
  EXPECT_EQ(Login(*server_, "dora", kDoraPassword).status, 200);
}

TEST_F(LdapLoginTest, EmptyPasswordNeverReachesTheDirectory) {
  StartWithLdap();
  ASSERT_EQ(Login(*server_, "dora", kDoraPassword).status, 200);
  const int calls = directory_.calls();
  for (const char* name : {"dora", "erin", "nobody"}) {
    BrowserSession s = Login(*server_, name, "");
    EXPECT_EQ(s.status, 401) << name;
    EXPECT_EQ(s.body["error"]["code"], "invalid_credentials");
  }
  EXPECT_EQ(directory_.calls(), calls);
  EXPECT_EQ(RefusedLogins("empty_password").size(), 3u);
}

TEST_F(LdapLoginTest, LocalAccountsNeverGoToTheDirectory) {
  StartWithLdap();
  const int calls = directory_.calls();
  EXPECT_EQ(Login(*server_, "alice", "Alice-Directory-5").status, 401);
  BrowserSession ok = Login(*server_, "alice");
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body["user"]["source"], "local");
  EXPECT_EQ(ok.body["user"]["roles"], json({"operator"}));
  EXPECT_EQ(directory_.calls(), calls);
}

TEST_F(LdapLoginTest, UnknownUserAndWrongPasswordLookTheSameAndBothCount) {
  StartWithLdap();
  ASSERT_EQ(Login(*server_, "dora", kDoraPassword).status, 200);
  BrowserSession wrong = Login(*server_, "dora", "nope-1", "198.51.100.1");
  BrowserSession nobody = Login(*server_, "mallory", "nope-1", "198.51.100.1");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body["error"], nobody.body["error"]);
  // Per account, once the account exists: five failures lock it, even for the right password.
  for (int i = 0; i < 4; ++i) {
    Login(*server_, "dora", "nope-" + std::to_string(i), "198.51.100." + std::to_string(10 + i));
  }
  BrowserSession locked = Login(*server_, "dora", kDoraPassword, "198.51.100.99");
  EXPECT_EQ(locked.status, 429) << locked.body.dump();
  const int calls = directory_.calls();
  clock_.Advance(minutes(10) + seconds(1));
  EXPECT_EQ(Login(*server_, "dora", kDoraPassword, "198.51.100.99").status, 200);
  EXPECT_EQ(directory_.calls(), calls + 1);  // nothing was asked while locked
  // Per address, for names the collector has never seen.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Login(*server_, "guess" + std::to_string(i), "nope", "203.0.113.7").status, 401);
  }
  EXPECT_EQ(Login(*server_, "dora", kDoraPassword, "203.0.113.7").status, 429);
}

TEST_F(LdapLoginTest, DisabledDirectoryAccountStaysRefused) {
  StartWithLdap();
  BrowserSession dora = Login(*server_, "dora", kDoraPassword);
  ASSERT_EQ(dora.status, 200);
  BrowserSession root = Login(*server_, "root");
  ASSERT_EQ(Dispatch(*server_, "PATCH", "/api/v1/users/" + dora.body["user"]["id"].dump(),
                     json{{"active", false}}.dump(), root.Headers())
                .status,
            200);
  const int calls = directory_.calls();
  EXPECT_EQ(Login(*server_, "dora", kDoraPassword).status, 401);
  EXPECT_EQ(directory_.calls(), calls);
  EXPECT_EQ(RefusedLogins("account_disabled").size(), 1u);
}

TEST_F(LdapLoginTest, DirectoryPasswordsAreNotChangedOrResetHere) {
  StartWithLdap();
  BrowserSession dora = Login(*server_, "dora", kDoraPassword);
  ASSERT_EQ(dora.status, 200);
  http::HttpResponse change =
      Dispatch(*server_, "POST", "/api/v1/auth/password",
               json{{"current_password", kDoraPassword}, {"new_password", "Brand-New-456"}}.dump(), dora.Headers());
  EXPECT_EQ(change.status, 409) << change.body;
  EXPECT_NE(change.body.find("managed by the directory"), std::string::npos) << change.body;
  BrowserSession root = Login(*server_, "root");
  http::HttpResponse reset = Dispatch(*server_, "POST",
                                      "/api/v1/users/" + dora.body["user"]["id"].dump() + "/reset-password", "{}",
                                      root.Headers());
  EXPECT_EQ(reset.status, 409) << reset.body;
  EXPECT_NE(reset.body.find("managed by the directory"), std::string::npos) << reset.body;
  EXPECT_EQ(Login(*server_, "dora", kDoraPassword).status, 200);
  EXPECT_EQ(Login(*server_, "dora", "Brand-New-456").status, 401);
}

TEST_F(LdapLoginTest, SecondFactorWorksForDirectoryAccountsAndIsDisabledWithTheDirectoryPassword) {
  config_.auth.totp_required_roles = {"admin"};
  StartWithLdap();
  directory_.SetGroups("dora", {kAdminsGroup});
  BrowserSession s = Login(*server_, "dora", kDoraPassword);
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["totp_enrollment_required"], true);
  http::HttpResponse setup = Dispatch(*server_, "POST", "/api/v1/auth/totp/setup", "{}", s.Headers());
  ASSERT_EQ(setup.status, 200) << setup.body;
  auto key = auth::Base32Decode(json::parse(setup.body)["secret"].get<std::string>());
  ASSERT_TRUE(key.ok());
  ASSERT_EQ(Dispatch(*server_, "POST", "/api/v1/auth/totp/confirm",
                     json{{"code", auth::TotpCode(*key, clock_.NowMillis())}}.dump(), s.Headers())
                .status,
            204);
  clock_.Advance(seconds(30));
  EXPECT_EQ(Login(*server_, "dora", kDoraPassword).body["error"]["code"], "totp_required");
  BrowserSession with_code =
      Login(*server_, "dora", kDoraPassword, "192.0.2.10", auth::TotpCode(*key, clock_.NowMillis()));
  ASSERT_EQ(with_code.status, 200) << with_code.body.dump();
  // Without the admin role TOTP is optional; turning it off asks for the directory password.
  directory_.SetGroups("dora", {kCountyOpsGroup});
  clock_.Advance(seconds(30));
  BrowserSession ops = Login(*server_, "dora", kDoraPassword, "192.0.2.10", auth::TotpCode(*key, clock_.NowMillis()));
  ASSERT_EQ(ops.status, 200) << ops.body.dump();
  auto disable = [&](const std::string& password) {
    return Dispatch(*server_, "DELETE", "/api/v1/auth/totp", json{{"current_password", password}}.dump(),
                    ops.Headers());
  };
  EXPECT_EQ(disable("").status, 403);
  EXPECT_EQ(disable("not-doras").status, 403);
  EXPECT_EQ(disable(kDoraPassword).status, 204);
}

// Without a directory in CollectorDeps the server builds OpenLdapDirectory from auth.ldap,
// reading the service account's password file at start.
TEST_F(AuthHandlersTest, ServerBuildsTheLdapDirectoryFromTheConfig) {
  auth::LdapConfig ldap;
  ldap.url = "ldap://127.0.0.1:1";  // nothing listens there
  ldap.bind_dn = "cn=steadfast,dc=example,dc=org";
  ldap.bind_password_file = dir_.path() + "/ldap.password";
  ldap.user_base = "ou=people,dc=example,dc=org";
  ldap.group_base = "ou=groups,dc=example,dc=org";
  ldap.group_mappings = {{kAdminsGroup, {"admin"}, "centre"}};
  config_.auth.ldap = ldap;
  auto refused = CollectorServer::Start(config_, CollectorDeps{clock_, *fs_, &random_});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("auth.ldap.bind_password_file"), std::string::npos)
      << refused.status().ToString();
  ASSERT_TRUE(fs_->WriteFileAtomic(ldap.bind_password_file, "Service-Secret-9\n", 0600).ok());
  StartCollector();
  ASSERT_FALSE(HasFatalFailure());
  BrowserSession s = Login(*server_, "dora", kDoraPassword);
  EXPECT_EQ(s.status, 503) << s.body.dump();
  EXPECT_EQ(s.body["error"]["code"], "directory_unavailable");
}

}  // namespace
}  // namespace steadfast::collector::api
