// Login, lockout, sessions, password change, TOTP and API tokens through the running
// collector's routes (no sockets), with a FakeClock for every timing rule.
#include "collector/api/auth_handlers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "collector/auth/encoding.h"
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

class AuthHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.listen_host = "127.0.0.1";
    config_.listen_port = 0;
    config_.data_dir = dir_.path() + "/data";
    config_.web_root = SF_WEB_ROOT;
    config_.io_threads = 1;
    config_.handler_threads = 2;
    testutil::UseFastPasswordHashing(config_);
  }

  void Start() {
    auto s = CollectorServer::Start(config_, CollectorDeps{clock_, *fs_, &random_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
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

  testutil::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  auth::OpenSslRandom random_;
  CollectorConfig config_;
  std::unique_ptr<CollectorServer> server_;
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

}  // namespace
}  // namespace steadfast::collector::api
