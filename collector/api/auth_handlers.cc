#include "collector/api/auth_handlers.h"

#include <algorithm>
#include <utility>

#include "collector/api/api_util.h"
#include "collector/api/org_handlers.h"
#include "collector/auth/session_policy.h"
#include "collector/auth/tokens.h"
#include "collector/auth/totp.h"
#include "common/logging.h"

namespace steadfast::collector::api {

namespace {

using accounts::Permission;
using accounts::Principal;
using accounts::Role;
using http::HttpResponse;
using nlohmann::json;

constexpr size_t kMaxUsernameBytes = 256;
constexpr size_t kMaxPasswordBytes = 4096;  // argon2 accepts more; nobody types more

HttpResponse Locked(int64_t retry_after_seconds) {
  HttpResponse r = HttpResponse::Error(429, "locked_out",
                                       "too many failed attempts; try again in " +
                                           std::to_string(retry_after_seconds) + " s");
  r.headers.Set("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

HttpResponse InvalidCredentials() {
  return HttpResponse::Error(401, "invalid_credentials", "wrong username or password");
}

HttpResponse DirectoryUnavailable() {
  return HttpResponse::Error(503, "directory_unavailable",
                             "the directory (LDAP) that checks this password cannot be reached; try again later");
}

bool SameRoles(std::vector<Role> a, std::vector<Role> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

json PrincipalToJson(const Principal& p) {
  return json{{"kind", p.kind == Principal::Kind::kUser ? "user" : "token"},
              {"id", p.id},
              {"name", p.name},
              {"roles", accounts::RoleNames(p.roles)},
              {"unit_id", p.unit_id},
              {"centre_wide", p.centre_wide},
              {"scope_unit_ids", p.centre_wide ? json(nullptr) : json(p.scope_unit_ids)},
              {"must_change_password", p.must_change_password},
              {"totp_enrollment_required", p.totp_enrollment_required}};
}

HttpResponse SessionsOnly() {
  return HttpResponse::Error(400, "invalid_argument",
                             "this is for logged-in people; API tokens are managed under /api/v1/tokens");
}

}  // namespace

AuthHandlers::AuthHandlers(AuthHandlerDeps deps)
    : d_(deps), address_throttle_(deps.config.address_lockout, deps.config.address_table_size) {}

void AuthHandlers::AddRoutes(RouteTable& t) {
  using P = Permission;
  auto bind = [this](HttpResponse (AuthHandlers::*fn)(const RequestContext&)) {
    return [this, fn](const RequestContext& ctx) { return (this->*fn)(ctx); };
  };
  t.Add({"POST", "/api/v1/auth/login", "auth.login", std::nullopt, false, ObjectKind::kNone,
         bind(&AuthHandlers::Login)});
  t.Add({"POST", "/api/v1/auth/logout", "auth.logout", P::kSelf, true, ObjectKind::kNone,
         bind(&AuthHandlers::Logout)});
  t.Add({"GET", "/api/v1/auth/session", "auth.session", P::kSelf, true, ObjectKind::kNone,
         bind(&AuthHandlers::WhoAmI)});
  t.Add({"POST", "/api/v1/auth/password", "auth.change_password", P::kSelf, true, ObjectKind::kNone,
         bind(&AuthHandlers::ChangePassword)});
  t.Add({"GET", "/api/v1/auth/sessions", "sessions.list", P::kSelf, false, ObjectKind::kNone,
         bind(&AuthHandlers::ListSessions)});
  t.Add({"DELETE", "/api/v1/auth/sessions/{id}", "sessions.revoke", P::kSelf, false, ObjectKind::kNone,
         bind(&AuthHandlers::RevokeSession)});
  t.Add({"POST", "/api/v1/auth/totp/setup", "auth.totp_setup", P::kSelf, true, ObjectKind::kNone,
         bind(&AuthHandlers::TotpSetup)});
  t.Add({"POST", "/api/v1/auth/totp/confirm", "auth.totp_confirm", P::kSelf, true, ObjectKind::kNone,
         bind(&AuthHandlers::TotpConfirm)});
  t.Add({"DELETE", "/api/v1/auth/totp", "auth.totp_disable", P::kSelf, false, ObjectKind::kNone,
         bind(&AuthHandlers::TotpDisable)});
  t.Add({"POST", "/api/v1/users/{id}/reset-totp", "users.reset_totp", P::kManageUsers, false, ObjectKind::kUser,
         bind(&AuthHandlers::ResetTotp)});
}

auth::LockoutState AuthHandlers::LockoutStateOf(const accounts::UserCredentials& creds) {
  return {creds.failed_logins, creds.locked_until_ms, creds.last_failure_ms};
}

void AuthHandlers::CountFailure(const accounts::User& user, const auth::LockoutState& state, int64_t now_ms) {
  const auth::LockoutState next = d_.config.account_lockout.OnFailure(state, now_ms);
  Status saved = d_.store.SaveLoginState(user.id, next.failures, next.locked_until_ms, next.last_failure_ms);
  if (!saved.ok()) SF_LOG_WARN("auth: cannot save lockout state of '{}': {}", user.username, saved.ToString());
}

void AuthHandlers::AuditDenied(const RequestContext& ctx, const std::string& action, const std::string& actor_name,
                               const std::string& object_id, const std::string& code, const std::string& message,
                               audit::AuditResult result) {
  // On the public login route the actor is anonymous; the name tried is what matters.
  audit::AuditEvent e = accounts::AuditEventFor(ctx.actor, action, object_id.empty() ? "" : "user", object_id);
  e.actor_name = actor_name;
  e.result = result;
  e.result_code = code;
  e.message = message;
  StatusOr<int64_t> seq = d_.audit.Append(e);
  if (!seq.ok()) SF_LOG_ERROR("audit: cannot record {} for '{}': {}", action, actor_name, seq.status().ToString());
}

HttpResponse AuthHandlers::Login(const RequestContext& ctx) {
  const int64_t now = ctx.actor.time_ms;
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"username", "password", "totp_code"}, &error)) return error;
  std::optional<std::string> username, password, totp_code;
  if (!GetString(*body, "username", &username, &error) || !GetString(*body, "password", &password, &error) ||
      !GetString(*body, "totp_code", &totp_code, &error)) {
    return error;
  }
  if (!username || username->empty()) return BadParam("username", "required");
  if (!password) return BadParam("password", "required");
  if (username->size() > kMaxUsernameBytes) return BadParam("username", "too long");
  if (password->size() > kMaxPasswordBytes) return BadParam("password", "too long");
  const std::string& remote = ctx.request.remote_address;

  // Source address first: it also stops spraying one password over many accounts.
  auth::LockoutDecision by_address = address_throttle_.Check(remote, now);
  if (!by_address.allowed) {
    AuditDenied(ctx, "auth.login", *username, "", "locked_out", "source address is locked out");
    return Locked(by_address.RetryAfterSeconds());
  }

  StatusOr<accounts::User> user = d_.store.FindUserByUsername(*username);
  if (!user.ok() && user.status().code() != StatusCode::kNotFound) return ErrorResponse(user.status());
  // With a directory, names unknown here and the accounts that came from it are its to check.
  if (d_.ldap != nullptr && d_.config.ldap && (!user.ok() || user->source == "ldap")) {
    return LdapLogin(ctx, *username, *password, totp_code,
                     user.ok() ? std::optional<accounts::User>(*user) : std::nullopt);
  }
  if (!user.ok() || !user->active) {
    d_.passwords.Verify(*password, "");  // same time as a real check
    address_throttle_.OnFailure(remote, now);
    AuditDenied(ctx, "auth.login", *username, user.ok() ? std::to_string(user->id) : "",
                user.ok() ? "account_disabled" : "unknown_user", "login refused");
    return InvalidCredentials();
  }
  StatusOr<accounts::UserCredentials> creds = d_.store.GetCredentials(user->id);
  if (!creds.ok()) return ErrorResponse(creds.status());
  const auth::LockoutState state = LockoutStateOf(*creds);
  auth::LockoutDecision by_account = d_.config.account_lockout.Check(state, now);
  if (!by_account.allowed) {
    AuditDenied(ctx, "auth.login", user->username, std::to_string(user->id), "locked_out", "account is locked out");
    return Locked(by_account.RetryAfterSeconds());
  }
  if (user->source != "local") {
    return RefuseLogin(
        ctx, *user, state, "directory_login_unavailable", "login refused",
        HttpResponse::Error(401, "invalid_credentials",
                            "this account signs in through the directory (LDAP), which is not configured"));
  }
  if (!d_.passwords.Verify(*password, creds->password_hash)) {
    return RefuseLogin(ctx, *user, state, "wrong_password", "login refused", InvalidCredentials());
  }
  return FinishLogin(ctx, *user, *creds, totp_code);
}

HttpResponse AuthHandlers::RefuseLogin(const RequestContext& ctx, const accounts::User& user,
                                       const auth::LockoutState& state, const std::string& code,
                                       const std::string& message, HttpResponse response) {
  const int64_t now = ctx.actor.time_ms;
  CountFailure(user, state, now);
  address_throttle_.OnFailure(ctx.request.remote_address, now);
  AuditDenied(ctx, "auth.login", user.username, std::to_string(user.id), code, message);
  return response;
}

HttpResponse AuthHandlers::LdapLogin(const RequestContext& ctx, const std::string& username,
                                     const std::string& password, const std::optional<std::string>& totp_code,
                                     std::optional<accounts::User> user) {
  const int64_t now = ctx.actor.time_ms;
  const std::string& remote = ctx.request.remote_address;
  auth::LockoutState state;
  if (user) {
    if (!user->active) {
      address_throttle_.OnFailure(remote, now);
      AuditDenied(ctx, "auth.login", user->username, std::to_string(user->id), "account_disabled", "login refused");
      return InvalidCredentials();
    }
    StatusOr<accounts::UserCredentials> creds = d_.store.GetCredentials(user->id);
    if (!creds.ok()) return ErrorResponse(creds.status());
    state = LockoutStateOf(*creds);
    auth::LockoutDecision by_account = d_.config.account_lockout.Check(state, now);
    if (!by_account.allowed) {
      AuditDenied(ctx, "auth.login", user->username, std::to_string(user->id), "locked_out", "account is locked out");
      return Locked(by_account.RetryAfterSeconds());
    }
  }
  // Every refusal from here answers and counts like a wrong password, so neither the answer nor
  // the lockout tells whether the directory accepted the password; the audit has the reason.
  auto refuse = [&](const std::string& code, const std::string& message) {
    if (user) return RefuseLogin(ctx, *user, state, code, message, InvalidCredentials());
    address_throttle_.OnFailure(remote, now);
    AuditDenied(ctx, "auth.login", username, "", code, message);
    return InvalidCredentials();
  };
  if (password.empty()) {
    return refuse("empty_password", "empty password, not sent to the directory (it would be an anonymous bind)");
  }
  StatusOr<auth::LdapIdentity> identity = d_.ldap->Authenticate(username, password);
  if (!identity.ok()) {
    if (identity.status().code() == StatusCode::kUnauthenticated) {
      return refuse("ldap_invalid_credentials", "LDAP: " + identity.status().message());
    }
    // Not the person's doing: not counted toward lockout, answered 503 rather than 401.
    SF_LOG_WARN("auth: cannot check the login of '{}' with the directory: {}", username, identity.status().ToString());
    AuditDenied(ctx, "auth.login", user ? user->username : username, user ? std::to_string(user->id) : "",
                "directory_unavailable", identity.status().message(), audit::AuditResult::kError);
    return DirectoryUnavailable();
  }
  std::string refusal;
  StatusOr<accounts::User> synced = SyncLdapUser(ctx, username, user, *identity, &refusal);
  if (!synced.ok()) {
    if (refusal.empty()) return ErrorResponse(synced.status());
    return refuse(refusal, synced.status().message());
  }
  StatusOr<accounts::UserCredentials> creds = d_.store.GetCredentials(synced->id);
  if (!creds.ok()) return ErrorResponse(creds.status());
  return FinishLogin(ctx, *synced, *creds, totp_code);
}

StatusOr<accounts::User> AuthHandlers::SyncLdapUser(const RequestContext& ctx, const std::string& username,
                                                    const std::optional<accounts::User>& existing,
                                                    const auth::LdapIdentity& identity, std::string* refusal_code) {
  std::optional<auth::LdapAccess> access = auth::MapLdapGroups(*d_.config.ldap, identity.groups);
  if (!access) {
    *refusal_code = "no_ldap_group";
    return PermissionDeniedError("no mapped LDAP group: the directory lists " + std::to_string(identity.groups.size()) +
                                 " group(s) for " + identity.dn + ", none in auth.ldap.group_mappings");
  }
  SF_ASSIGN_OR_RETURN(std::vector<accounts::Unit> units, d_.store.ListUnits());
  auto unit = std::find_if(units.begin(), units.end(),
                           [&](const accounts::Unit& u) { return u.code == access->unit_code; });
  if (unit == units.end()) {
    *refusal_code = "unknown_unit";
    return FailedPreconditionError("auth.ldap maps " + identity.dn + " to unit '" + access->unit_code +
                                   "', and there is no unit with that code");
  }
  std::vector<Role> roles;
  for (const std::string& name : access->roles) {
    std::optional<Role> role = accounts::ParseRole(name);
    // ParseLdapConfig accepts only auth::kRoleNames, which roles_test holds equal to the Role names.
    SF_CHECK(role.has_value());
    roles.push_back(*role);
  }
  // Changes the directory brings are made (and audited) by the system actor "ldap".
  accounts::Actor actor = ctx.actor;
  actor.type = "system";
  actor.name = "ldap";

  // Values the accounts cannot hold (an overlong name, a malformed mail) are left out rather
  // than keep the person out; the username itself must fit.
  if (!existing) {
    accounts::NewUser n;
    n.username = username;
    n.display_name = identity.display_name.empty() ? username : identity.display_name;
    n.unit_id = unit->id;
    n.roles = roles;
    n.contacts.email = identity.email;
    n.source = "ldap";
    n.must_change_password = false;
    while (true) {
      StatusOr<accounts::User> created = d_.store.CreateUser(actor, n);
      if (created.ok()) return created;
      const Status& st = created.status();
      const std::string field = accounts::FieldOfError(st);
      if (st.code() == StatusCode::kInvalidArgument && field == "display_name" && n.display_name != username) {
        SF_LOG_WARN("auth: LDAP display name of '{}' not kept: {}", username, st.message());
        n.display_name = username;
      } else if (st.code() == StatusCode::kInvalidArgument && field == "contacts.email" && !n.contacts.email.empty()) {
        SF_LOG_WARN("auth: LDAP email of '{}' not kept: {}", username, st.message());
        n.contacts.email.clear();
      } else if (st.code() == StatusCode::kAlreadyExists) {
        // A concurrent login of the same person created it first; anyone else's account is not theirs.
        StatusOr<accounts::User> raced = d_.store.FindUserByUsername(username);
        if (raced.ok() && raced->source == "ldap" && raced->active) return raced;
        *refusal_code = "username_taken";
        return st;
      } else {
        if (st.code() == StatusCode::kInvalidArgument) {
          *refusal_code = field == "username" ? "invalid_username" : "invalid_directory_data";
        }
        return st;
      }
    }
  }

  accounts::UserUpdate update;
  if (!SameRoles(existing->roles, roles)) update.roles = roles;
  if (existing->unit_id != unit->id) update.unit_id = unit->id;
  if (!identity.display_name.empty() && identity.display_name != existing->display_name) {
    update.display_name = identity.display_name;
  }
  if (!identity.email.empty() && identity.email != existing->contacts.email) {
    update.contacts = existing->contacts;
    update.contacts->email = identity.email;
  }
  while (update.roles || update.unit_id || update.display_name || update.contacts) {
    StatusOr<accounts::User> updated = d_.store.UpdateUser(actor, existing->id, update);
    if (updated.ok()) return updated;
    const Status& st = updated.status();
    const std::string field = accounts::FieldOfError(st);
    if (st.code() == StatusCode::kInvalidArgument && field == "display_name" && update.display_name) {
      SF_LOG_WARN("auth: LDAP display name of '{}' not kept: {}", existing->username, st.message());
      update.display_name.reset();
    } else if (st.code() == StatusCode::kInvalidArgument && field == "contacts.email" && update.contacts) {
      SF_LOG_WARN("auth: LDAP email of '{}' not kept: {}", existing->username, st.message());
      update.contacts.reset();
    } else {
      return st;
    }
  }
  return *existing;
}

HttpResponse AuthHandlers::FinishLogin(const RequestContext& ctx, const accounts::User& user,
                                       const accounts::UserCredentials& creds,
                                       const std::optional<std::string>& totp_code) {
  const int64_t now = ctx.actor.time_ms;
  const std::string& remote = ctx.request.remote_address;
  const auth::LockoutState state = LockoutStateOf(creds);
  auto fail = [&](const std::string& code, HttpResponse response) {
    return RefuseLogin(ctx, user, state, code, "login refused", std::move(response));
  };

  int64_t totp_step = 0;
  if (user.totp_enabled) {
    if (!totp_code || totp_code->empty()) {
      // The password was right; asking for the second factor is not a failure.
      return HttpResponse::Error(401, "totp_required", "enter the 6-digit code from your authenticator app",
                                 "totp_code");
    }
    StatusOr<int64_t> step =
        auth::VerifyTotp(creds.totp_secret_base32, *totp_code, now, d_.config.totp_window, creds.totp_last_step);
    if (!step.ok()) {
      return fail("totp_invalid", HttpResponse::Error(401, "totp_invalid",
                                                      "the code is wrong, expired or already used", "totp_code"));
    }
    totp_step = *step;
  }

  // Success.
  if (state.failures != 0 || state.locked_until_ms != 0) {
    Status saved = d_.store.SaveLoginState(user.id, 0, 0, 0);
    if (!saved.ok()) return ErrorResponse(saved);
  }
  if (totp_step > 0) {
    // The store refuses a step not newer than the last one, so of two logins racing with the
    // same code only one gets through.
    Status saved = d_.store.SaveTotpStep(user.id, totp_step);
    if (saved.code() == StatusCode::kFailedPrecondition) {
      return fail("totp_invalid", HttpResponse::Error(401, "totp_invalid", "the code was already used", "totp_code"));
    }
    if (!saved.ok()) return ErrorResponse(saved);
  }
  StatusOr<Principal> principal = d_.authenticator.PrincipalForUser(user);
  if (!principal.ok()) return ErrorResponse(principal.status());

  const std::string token = auth::NewToken(auth::TokenKind::kSession, d_.random);
  accounts::Session session;
  session.public_id = auth::HashToken(d_.random.Bytes(16)).substr(0, 24);
  session.token_sha256 = auth::HashToken(token);
  session.csrf_token = auth::NewCsrfToken(d_.random);
  session.user_id = user.id;
  session.created_at_ms = now;
  session.last_seen_ms = now;
  session.source_address = remote;
  session.user_agent = ctx.request.headers.Get("User-Agent").value_or("").substr(0, 200);
  Status created = d_.store.CreateSession(accounts::ActorOf(*principal, remote, now), session);
  if (!created.ok()) return ErrorResponse(created);

  json doc{{"user", UserToJson(user)},
           {"principal", PrincipalToJson(*principal)},
           {"csrf_token", session.csrf_token},
           {"session_id", session.public_id},
           {"must_change_password", principal->must_change_password},
           {"totp_enrollment_required", principal->totp_enrollment_required},
           {"expires_at", FormatRfc3339Millis(d_.config.session.ExpiresAtMs(now, now))}};
  HttpResponse r = JsonResponse(200, doc);
  r.headers.Add("Set-Cookie",
                auth::SessionCookie(token, d_.secure_cookies, d_.config.session.CookieMaxAgeSeconds(now, now)));
  return r;
}

HttpResponse AuthHandlers::Logout(const RequestContext& ctx) {
  if (ctx.principal->kind != Principal::Kind::kUser) return SessionsOnly();
  Status st = d_.store.RevokeSession(ctx.actor, ctx.principal->session_public_id, "auth.logout");
  if (!st.ok() && st.code() != StatusCode::kNotFound) return ErrorResponse(st);
  HttpResponse r = NoContent();
  r.headers.Add("Set-Cookie", auth::ClearSessionCookie(d_.secure_cookies));
  return r;
}

HttpResponse AuthHandlers::WhoAmI(const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  json doc{{"principal", PrincipalToJson(p)}};
  if (p.kind == Principal::Kind::kUser) {
    StatusOr<accounts::User> user = d_.store.GetUser(p.id);
    if (!user.ok()) return ErrorResponse(user.status());
    doc["user"] = UserToJson(*user);
    doc["session_id"] = p.session_public_id;
    // The console keeps the CSRF token in memory only; after a reload it asks again. Another
    // site cannot read this response (same-origin policy; no CORS headers are sent).
    StatusOr<std::vector<accounts::Session>> sessions = d_.store.ListSessions(p.id);
    if (!sessions.ok()) return ErrorResponse(sessions.status());
    for (const accounts::Session& s : *sessions) {
      if (s.public_id == p.session_public_id) {
        doc["csrf_token"] = s.csrf_token;
        doc["expires_at"] = FormatRfc3339Millis(d_.config.session.ExpiresAtMs(s.created_at_ms, s.last_seen_ms));
      }
    }
  }
  return JsonResponse(200, doc);
}

std::optional<HttpResponse> AuthHandlers::CheckCurrentPassword(const RequestContext& ctx, const accounts::User& user,
                                                               const std::string& password) {
  const int64_t now = ctx.actor.time_ms;
  StatusOr<accounts::UserCredentials> creds = d_.store.GetCredentials(user.id);
  if (!creds.ok()) return ErrorResponse(creds.status());
  const auth::LockoutState state = LockoutStateOf(*creds);
  auth::LockoutDecision decision = d_.config.account_lockout.Check(state, now);
  if (!decision.allowed) return Locked(decision.RetryAfterSeconds());
  if (user.source == "ldap") {
    // The directory holds this password (an empty one is never sent: an anonymous bind).
    if (d_.ldap == nullptr || !d_.config.ldap) return DirectoryUnavailable();
    if (!password.empty()) {
      StatusOr<auth::LdapIdentity> identity = d_.ldap->Authenticate(user.username, password);
      if (identity.ok()) return std::nullopt;
      if (identity.status().code() != StatusCode::kUnauthenticated) {
        SF_LOG_WARN("auth: cannot check the password of '{}' with the directory: {}", user.username,
                    identity.status().ToString());
        return DirectoryUnavailable();
      }
    }
  } else if (d_.passwords.Verify(password, creds->password_hash)) {
    return std::nullopt;
  }
  CountFailure(user, state, now);
  return HttpResponse::Error(403, "invalid_credentials", "current_password: does not match", "current_password");
}

HttpResponse AuthHandlers::ChangePassword(const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.kind != Principal::Kind::kUser) return SessionsOnly();
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"current_password", "new_password"}, &error)) return error;
  std::optional<std::string> current, next;
  if (!GetString(*body, "current_password", &current, &error) || !GetString(*body, "new_password", &next, &error)) {
    return error;
  }
  if (!current) return BadParam("current_password", "required");
  if (!next) return BadParam("new_password", "required");
  if (next->size() > kMaxPasswordBytes) return BadParam("new_password", "too long");
  StatusOr<accounts::User> user = d_.store.GetUser(p.id);
  if (!user.ok()) return ErrorResponse(user.status());
  if (user->source != "local") {
    return HttpResponse::Error(409, "failed_precondition",
                               "the password is managed by the directory (LDAP); change it there");
  }
  if (std::optional<HttpResponse> refused = CheckCurrentPassword(ctx, *user, *current)) {
    if (refused->status == 403) {
      AuditDenied(ctx, "auth.change_password", user->username, std::to_string(user->id), "invalid_credentials",
                  "wrong current password");
    }
    return *refused;
  }
  StatusOr<std::string> hash = d_.passwords.HashNew(d_.store, *next, user->username, user->display_name, user->id);
  if (!hash.ok()) {
    Status st = hash.status();
    // The policy names "password"; in this request the field is new_password.
    if (st.code() == StatusCode::kInvalidArgument && st.message().rfind("password: ", 0) == 0) {
      return BadParam("new_password", st.message().substr(10));
    }
    return ErrorResponse(st);
  }
  Status st = d_.store.SetPassword(ctx.actor, user->id, *hash, /*must_change_password=*/false,
                                   d_.passwords.history_depth(), "auth.change_password", p.session_public_id);
  if (!st.ok()) return ErrorResponse(st);
  return NoContent();
}

HttpResponse AuthHandlers::ListSessions(const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.kind != Principal::Kind::kUser) return SessionsOnly();
  StatusOr<std::vector<accounts::Session>> sessions = d_.store.ListSessions(p.id);
  if (!sessions.ok()) return ErrorResponse(sessions.status());
  json items = json::array();
  for (const accounts::Session& s : *sessions) {
    items.push_back(json{{"id", s.public_id},
                         {"created_at", TimeOrNull(s.created_at_ms)},
                         {"last_seen", TimeOrNull(s.last_seen_ms)},
                         {"expires_at", FormatRfc3339Millis(d_.config.session.ExpiresAtMs(s.created_at_ms, s.last_seen_ms))},
                         {"source_address", s.source_address},
                         {"user_agent", s.user_agent},
                         {"current", s.public_id == p.session_public_id}});
  }
  return JsonResponse(200, json{{"items", std::move(items)}});
}

HttpResponse AuthHandlers::RevokeSession(const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.kind != Principal::Kind::kUser) return SessionsOnly();
  const std::string id = PathParam(ctx.request, "id");
  StatusOr<std::vector<accounts::Session>> sessions = d_.store.ListSessions(p.id);
  if (!sessions.ok()) return ErrorResponse(sessions.status());
  const bool own = std::any_of(sessions->begin(), sessions->end(),
                               [&](const accounts::Session& s) { return s.public_id == id; });
  if (!own) return HttpResponse::Error(404, "not_found", "you have no session " + id);
  Status st = d_.store.RevokeSession(ctx.actor, id, "sessions.revoke");
  if (!st.ok()) return ErrorResponse(st);
  HttpResponse r = NoContent();
  if (id == p.session_public_id) r.headers.Add("Set-Cookie", auth::ClearSessionCookie(d_.secure_cookies));
  return r;
}

HttpResponse AuthHandlers::TotpSetup(const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.kind != Principal::Kind::kUser) return SessionsOnly();
  StatusOr<accounts::User> user = d_.store.GetUser(p.id);
  if (!user.ok()) return ErrorResponse(user.status());
  if (user->totp_enabled) {
    return HttpResponse::Error(409, "failed_precondition",
                               "a second factor is already active; disable it first to replace it");
  }
  const std::string secret = auth::GenerateTotpSecret(d_.random);
  Status st = d_.store.SetTotp(ctx.actor, user->id, secret, /*enabled=*/false);
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, json{{"secret", secret},
                                {"otpauth_uri", auth::OtpauthUri(d_.config.totp_issuer, user->username, secret)}});
}

HttpResponse AuthHandlers::TotpConfirm(const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.kind != Principal::Kind::kUser) return SessionsOnly();
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"code"}, &error)) return error;
  std::optional<std::string> code;
  if (!GetString(*body, "code", &code, &error)) return error;
  if (!code) return BadParam("code", "required");
  StatusOr<accounts::UserCredentials> creds = d_.store.GetCredentials(p.id);
  if (!creds.ok()) return ErrorResponse(creds.status());
  if (creds->totp_secret_base32.empty()) {
    return HttpResponse::Error(409, "failed_precondition", "start with POST /api/v1/auth/totp/setup");
  }
  StatusOr<int64_t> step = auth::VerifyTotp(creds->totp_secret_base32, *code, ctx.actor.time_ms,
                                            d_.config.totp_window, creds->totp_last_step);
  if (!step.ok()) {
    if (step.status().code() == StatusCode::kInvalidArgument) return BadParam("code", step.status().message());
    return HttpResponse::Error(400, "invalid_argument", "code: does not match; check the phone's clock", "code");
  }
  Status st = d_.store.SetTotp(ctx.actor, p.id, creds->totp_secret_base32, /*enabled=*/true);
  if (!st.ok()) return ErrorResponse(st);
  st = d_.store.SaveTotpStep(p.id, *step);
  if (!st.ok()) return ErrorResponse(st);
  return NoContent();
}

HttpResponse AuthHandlers::TotpDisable(const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.kind != Principal::Kind::kUser) return SessionsOnly();
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"current_password"}, &error)) return error;
  std::optional<std::string> current;
  if (!GetString(*body, "current_password", &current, &error)) return error;
  if (!current) return BadParam("current_password", "required");
  StatusOr<accounts::User> user = d_.store.GetUser(p.id);
  if (!user.ok()) return ErrorResponse(user.status());
  if (d_.config.TotpRequiredFor(accounts::RoleNames(user->roles))) {
    return HttpResponse::Error(409, "failed_precondition", "your role requires a second factor");
  }
  if (std::optional<HttpResponse> refused = CheckCurrentPassword(ctx, *user, *current)) return *refused;
  Status st = d_.store.SetTotp(ctx.actor, p.id, "", /*enabled=*/false);
  if (!st.ok()) return ErrorResponse(st);
  return NoContent();
}

HttpResponse AuthHandlers::ResetTotp(const RequestContext& ctx) {
  int64_t id = 0;
  if (!ParsePositiveId(PathParam(ctx.request, "id"), &id)) return HttpResponse::Error(404, "not_found", "no such user");
  StatusOr<accounts::User> user = d_.store.GetUser(id);
  if (!user.ok()) return ErrorResponse(user.status());
  const bool is_admin = std::find(user->roles.begin(), user->roles.end(), Role::kAdmin) != user->roles.end();
  if (is_admin && !ctx.principal->HasRole(Role::kAdmin)) {
    return HttpResponse::Error(403, "permission_denied", "only an admin can reset an admin's second factor");
  }
  Status st = d_.store.SetTotp(ctx.actor, id, "", /*enabled=*/false);
  if (!st.ok()) return ErrorResponse(st);
  return NoContent();
}

}  // namespace steadfast::collector::api
