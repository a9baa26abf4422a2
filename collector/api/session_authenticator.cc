#include "collector/api/session_authenticator.h"

#include <algorithm>

#include "collector/auth/session_policy.h"
#include "collector/auth/tokens.h"
#include "common/logging.h"

namespace steadfast::collector::api {

namespace {

using accounts::Principal;
using accounts::Role;

constexpr int64_t kTokenTouchIntervalMs = 60'000;

// NotFound from the store means "no such credential": the caller is not authenticated.
Status AsUnauthenticated(const Status& st, std::string_view what) {
  if (st.code() == StatusCode::kNotFound) return UnauthenticatedError(std::string(what));
  return st;
}

}  // namespace

SessionAuthenticator::SessionAuthenticator(accounts::AccountStore& store, const auth::AuthConfig& config,
                                           const Passwords& passwords, const Clock& clock)
    : store_(store), config_(config), passwords_(passwords), clock_(clock) {}

StatusOr<Authentication> SessionAuthenticator::Authenticate(const http::HttpRequest& request) {
  if (std::optional<std::string> authorization = request.headers.Get("Authorization")) {
    std::optional<std::string> token = auth::BearerToken(*authorization);
    if (!token) return UnauthenticatedError("Authorization header is not a bearer token");
    if (auth::TokenKindOf(*token) != auth::TokenKind::kApi) {
      return UnauthenticatedError("bearer credential is not a Steadfast API token (sfa_...)");
    }
    return FromApiToken(*token);
  }
  if (std::optional<std::string> cookie = request.headers.Get("Cookie")) return FromSession(*cookie, request);
  return UnauthenticatedError("no credential");
}

Status SessionAuthenticator::FillScope(Principal& p) {
  p.centre_wide = p.HasRole(Role::kAdmin) || p.unit_id == accounts::kCentreUnitId;
  p.scope_unit_ids.clear();
  if (!p.centre_wide) {
    SF_ASSIGN_OR_RETURN(p.scope_unit_ids, store_.SubtreeUnitIds(p.unit_id));
  }
  return OkStatus();
}

StatusOr<Principal> SessionAuthenticator::PrincipalForUser(const accounts::User& user) {
  Principal p;
  p.kind = Principal::Kind::kUser;
  p.id = user.id;
  p.name = user.username;
  p.roles = user.roles;
  p.unit_id = user.unit_id;
  SF_RETURN_IF_ERROR(FillScope(p));
  const int64_t now = clock_.NowMillis();
  p.must_change_password =
      user.source == "local" && (user.must_change_password || passwords_.IsExpired(user.password_changed_at_ms, now));
  p.totp_enrollment_required = !user.totp_enabled && config_.TotpRequiredFor(accounts::RoleNames(user.roles));
  return p;
}

StatusOr<Authentication> SessionAuthenticator::FromApiToken(const std::string& token) {
  StatusOr<accounts::ApiToken> found = store_.FindApiTokenByHash(auth::HashToken(token));
  if (!found.ok()) return AsUnauthenticated(found.status(), "unknown or revoked API token");
  const int64_t now = clock_.NowMillis();
  if (now >= found->expires_at_ms) return UnauthenticatedError("API token '" + found->name + "' has expired");
  StatusOr<accounts::User> owner = store_.GetUser(found->created_by_user_id);
  if (!owner.ok()) return AsUnauthenticated(owner.status(), "the API token's owner no longer exists");
  if (!owner->active) return UnauthenticatedError("the API token's owner is disabled");
  if (std::find(owner->roles.begin(), owner->roles.end(), found->role) == owner->roles.end()) {
    return UnauthenticatedError("the API token's owner no longer holds the role '" +
                                std::string(accounts::RoleName(found->role)) + "'");
  }
  Authentication auth;
  Principal& p = auth.principal;
  p.kind = Principal::Kind::kApiToken;
  p.id = found->id;
  p.name = found->name;
  p.roles = {found->role};
  p.unit_id = found->unit_id;
  p.user_id_for_token = found->created_by_user_id;
  p.owner_username = owner->username;
  SF_RETURN_IF_ERROR(FillScope(p));
  if (!found->last_used_ms || now - *found->last_used_ms >= kTokenTouchIntervalMs) {
    Status touched = store_.TouchApiToken(found->id, now);
    if (!touched.ok()) SF_LOG_WARN("auth: cannot record use of API token {}: {}", found->id, touched.ToString());
  }
  return auth;
}

StatusOr<Authentication> SessionAuthenticator::FromSession(const std::string& cookie_header,
                                                           const http::HttpRequest& request) {
  std::vector<std::string> tokens = auth::AllSessionTokensFromCookies(cookie_header);
  if (tokens.empty()) return UnauthenticatedError("no session cookie");
  for (const std::string& token : tokens) {
    StatusOr<accounts::Session> session = store_.FindSessionByTokenHash(auth::HashToken(token));
    if (!session.ok()) {
      if (session.status().code() == StatusCode::kNotFound) continue;
      return session.status();
    }
    const int64_t now = clock_.NowMillis();
    auth::SessionState state = config_.session.Evaluate(session->created_at_ms, session->last_seen_ms, now);
    if (state != auth::SessionState::kActive) {
      accounts::Actor system;
      system.type = "system";
      system.name = "session-policy";
      system.source_address = request.remote_address;
      system.time_ms = now;
      Status revoked = store_.RevokeSession(system, session->public_id, "sessions.expire");
      if (!revoked.ok()) SF_LOG_WARN("auth: cannot end expired session: {}", revoked.ToString());
      return UnauthenticatedError("session ended (" + std::string(auth::SessionStateName(state)) + ")");
    }
    StatusOr<accounts::User> user = store_.GetUser(session->user_id);
    if (!user.ok()) return AsUnauthenticated(user.status(), "the session's user no longer exists");
    if (!user->active) return UnauthenticatedError("the session's user is disabled");
    Authentication auth;
    SF_ASSIGN_OR_RETURN(auth.principal, PrincipalForUser(*user));
    auth.principal.session_public_id = session->public_id;
    auth.via_session_cookie = true;
    auth.csrf_token = session->csrf_token;
    if (config_.session.NeedsTouch(session->last_seen_ms, now)) {
      Status touched = store_.TouchSession(session->public_id, now);
      if (!touched.ok()) SF_LOG_WARN("auth: cannot record session activity: {}", touched.ToString());
    }
    return auth;
  }
  return UnauthenticatedError("unknown, expired or revoked session");
}

}  // namespace steadfast::collector::api
