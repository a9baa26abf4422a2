// Accounts helpers for tests of a running CollectorServer: users with known passwords, API
// tokens, login, and dispatching requests to the server's router without sockets; and a
// fixture that runs one in-process (collector_test only: it needs SF_WEB_ROOT).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collector/api/api_tokens.h"
#include "collector/server.h"
#include "collector/testing/test_util.h"
#include "common/http/http_types.h"
#include "common/random.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::testutil {

inline constexpr char kTestPassword[] = "Correct-Horse-9";

// argon2 at test cost (the defaults take 64 MiB and ~100 ms per hash, too slow under ASan).
inline void UseFastPasswordHashing(CollectorConfig& config) {
  config.auth.argon2.memory_kib = 64;
  config.auth.argon2.iterations = 1;
  config.auth.argon2.parallelism = 1;
}

// A collector config for in-process tests: loopback port 0, data under `dir`, the console files
// from `web_root`, small thread pools and test-cost password hashing.
inline CollectorConfig TestCollectorConfig(const std::string& dir, const std::string& web_root) {
  CollectorConfig c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.data_dir = dir + "/data";
  c.web_root = web_root;
  c.io_threads = 1;
  c.handler_threads = 2;
  UseFastPasswordHashing(c);
  return c;
}

inline accounts::Actor TestActor() {
  accounts::Actor a;
  a.type = "system";
  a.name = "test";
  a.time_ms = 1'790'000'000'000;  // FakeClock's default start
  return a;
}

// A user with `password`, not forced to change it.
inline StatusOr<accounts::User> AddUser(CollectorServer& server, const std::string& username, int64_t unit_id,
                                        std::vector<accounts::Role> roles,
                                        const std::string& password = kTestPassword) {
  accounts::NewUser u;
  u.username = username;
  u.display_name = "Test " + username;
  u.unit_id = unit_id;
  u.roles = std::move(roles);
  u.must_change_password = false;
  SF_ASSIGN_OR_RETURN(u.password_hash, server.passwords().HashNew(server.accounts(), password, username, "", 0));
  return server.accounts().CreateUser(TestActor(), u);
}

inline StatusOr<accounts::Unit> AddUnit(CollectorServer& server, const std::string& code, int64_t parent_id,
                                        accounts::UnitKind kind = accounts::UnitKind::kUnit) {
  accounts::Unit u;
  u.name = "Unit " + code;
  u.code = code;
  u.parent_id = parent_id;
  u.kind = kind;
  return server.accounts().CreateUnit(TestActor(), u);
}

// An API token of `user` with `role`, valid for a day from `now_ms`; returns the secret.
inline StatusOr<std::string> AddToken(CollectorServer& server, const accounts::User& user, accounts::Role role,
                                      const std::string& name, int64_t now_ms, auth::SecureRandom& random,
                                      int64_t* id = nullptr) {
  accounts::Actor actor = TestActor();
  actor.time_ms = now_ms;
  SF_ASSIGN_OR_RETURN(api::IssuedToken issued,
                      api::IssueApiToken(server.accounts(), actor, random, user.id, role, user.unit_id, name, /*days=*/1));
  if (id != nullptr) *id = issued.token.id;
  return issued.secret;
}

// Sends a request through the server's router as the HTTP server would (target parsed, remote
// address set), without a socket.
inline http::HttpResponse Dispatch(const CollectorServer& server, const std::string& method, const std::string& target,
                                   const std::string& body = "", http::Headers headers = {},
                                   const std::string& remote = "192.0.2.10") {
  http::HttpRequest r;
  r.method = method;
  r.target = target;
  Status parsed = http::ParseTarget(target, &r.path, &r.query);
  if (!parsed.ok()) return http::HttpResponse::Error(parsed);
  r.headers = std::move(headers);
  if (!body.empty() && !r.headers.Get("Content-Type")) r.headers.Set("Content-Type", "application/json");
  r.body = body;
  r.remote_address = remote;
  return server.router().Dispatch(r);
}

// A logged-in browser: its cookie and CSRF token.
struct BrowserSession {
  int status = 0;
  std::string cookie;  // "sf_session=..."
  std::string csrf;
  nlohmann::json body;

  http::Headers Headers(bool with_csrf = true) const {
    http::Headers h;
    h.Set("Cookie", cookie);
    if (with_csrf) h.Set("X-CSRF-Token", csrf);
    return h;
  }
};

inline BrowserSession Login(const CollectorServer& server, const std::string& username,
                            const std::string& password = kTestPassword, const std::string& remote = "192.0.2.10",
                            const std::string& totp_code = "") {
  nlohmann::json req{{"username", username}, {"password", password}};
  if (!totp_code.empty()) req["totp_code"] = totp_code;
  http::HttpResponse r = Dispatch(server, "POST", "/api/v1/auth/login", req.dump(), {}, remote);
  BrowserSession s;
  s.status = r.status;
  s.body = nlohmann::json::parse(r.body, nullptr, false);
  if (std::optional<std::string> set = r.headers.Get("Set-Cookie")) s.cookie = set->substr(0, set->find(';'));
  if (s.body.is_object() && s.body.contains("csrf_token")) s.csrf = s.body["csrf_token"].get<std::string>();
  return s;
}

inline http::Headers Bearer(const std::string& token) {
  http::Headers h;
  h.Set("Authorization", "Bearer " + token);
  return h;
}

// The "error.code" of a JSON error response, or "".
inline std::string ErrorCode(const http::HttpResponse& r) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("code")) {
    return j["error"]["code"].get<std::string>();
  }
  return "";
}

// An agent enrolled straight in storage, as enrolment would leave it: token "tok-<agent_id>",
// hostname "host-<agent_id>"; with `unit` > 0, its host assigned to that unit.
inline Status EnrollAgent(CollectorServer& server, const std::string& agent_id, int64_t now_ms, int64_t unit = 0) {
  AgentRecord rec;
  rec.agent_id = agent_id;
  rec.token_sha256 = Sha256Hex("tok-" + agent_id);
  rec.host = Host("host-" + agent_id);
  rec.enrolled_at_ms = now_ms;
  SF_RETURN_IF_ERROR(server.storage().CreateAgent(rec));
  if (unit > 0) return server.accounts().AssignHost(TestActor(), agent_id, unit);
  return OkStatus();
}

// Stores a firing alert of `rule` on the host `agent_id` (as the engine would) and returns its id.
inline StatusOr<int64_t> AddFiringAlert(CollectorServer& server, const std::string& agent_id, const std::string& rule,
                                        int64_t now_ms) {
  alerting::Transition t;
  t.kind = alerting::TransitionKind::kFiring;
  t.at_ms = now_ms;
  t.alert.rule = rule;
  t.alert.labels = {{"alertname", rule}, {"agent_id", agent_id}, {"host", "host-" + agent_id}, {"severity", "critical"}};
  t.alert.fingerprint = alerting::Fingerprint(t.alert.labels);
  t.alert.phase = alerting::AlertPhase::kFiring;
  t.alert.active_since_ms = now_ms;
  t.alert.firing_since_ms = now_ms;
  alerts::RoundWrite round;
  round.transitions.push_back(t);
  SF_RETURN_IF_ERROR(server.alert_store().ApplyRound(round, now_ms));
  alerts::AlertQuery q;
  q.limit = 1;
  SF_ASSIGN_OR_RETURN(alerts::AlertPage page, server.alert_store().List(q));
  if (page.items.empty()) return InternalError("the alert was not stored");
  return page.items[0].id;
}

// A collector running in this process on a FakeClock, for tests that call its routes. Set
// config_ fields before StartCollector().
class InProcessCollectorTest : public ::testing::Test {
 protected:
  void StartCollector() {
    auto s = CollectorServer::Start(config_, CollectorDeps{clock_, *fs_, &random_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  TempDir dir_;
  steadfast::testing::FakeClock clock_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  auth::OpenSslRandom random_;
  CollectorConfig config_ = TestCollectorConfig(dir_.path(), SF_WEB_ROOT);
  std::unique_ptr<CollectorServer> server_;
};

}  // namespace steadfast::collector::testutil
