// AuthHandlers: logging in and out, one's own sessions, password and second factor.
//
//   POST   /api/v1/auth/login        {username, password, totp_code?}             public
//          200 {user, csrf_token, must_change_password, totp_enrollment_required, expires_at}
//              + Set-Cookie sf_session (HttpOnly, SameSite=Strict, Secure under TLS)
//          401 invalid_credentials (same answer for an unknown user and a wrong password),
//          401 totp_required / totp_invalid, 429 locked_out with Retry-After (per account and
//          per source address; also for the right password while locked)
//   POST   /api/v1/auth/logout                                                     self*
//   GET    /api/v1/auth/session      who am I: user, roles, scope, csrf_token, flags  self*
//   POST   /api/v1/auth/password     {current_password, new_password}              self*
//   GET    /api/v1/auth/sessions     own sessions ("current": true for this one)   self
//   DELETE /api/v1/auth/sessions/{id}  revoke one of one's own sessions            self
//   POST   /api/v1/auth/totp/setup   -> {secret, otpauth_uri} (not active until confirmed) self*
//   POST   /api/v1/auth/totp/confirm {code}                                        self*
//   DELETE /api/v1/auth/totp         {current_password}; refused when a role requires TOTP self
//   POST   /api/v1/users/{id}/reset-totp   an admin clears a lost second factor    manage_users
// (* also reachable while a password change or TOTP enrolment is pending.)
//
// Every attempt is audited: successful logins by the store with the session, failures here.
#pragma once

#include "collector/accounts/account_store.h"
#include "collector/api/passwords.h"
#include "collector/api/route_table.h"
#include "collector/api/session_authenticator.h"
#include "collector/audit/audit_log.h"
#include "collector/auth/auth_config.h"
#include "collector/auth/lockout.h"
#include "collector/auth/secure_random.h"
#include "common/clock.h"

namespace steadfast::collector::api {

struct AuthHandlerDeps {
  accounts::AccountStore& store;
  const auth::AuthConfig& config;
  const Passwords& passwords;
  SessionAuthenticator& authenticator;
  audit::AuditLog& audit;
  const Clock& clock;
  auth::SecureRandom& random;
  bool secure_cookies = false;  // the collector serves TLS
};

class AuthHandlers {
 public:
  explicit AuthHandlers(AuthHandlerDeps deps);
  void AddRoutes(RouteTable& table);

  http::HttpResponse Login(const RequestContext& ctx);
  http::HttpResponse Logout(const RequestContext& ctx);
  http::HttpResponse WhoAmI(const RequestContext& ctx);
  http::HttpResponse ChangePassword(const RequestContext& ctx);
  http::HttpResponse ListSessions(const RequestContext& ctx);
  http::HttpResponse RevokeSession(const RequestContext& ctx);
  http::HttpResponse TotpSetup(const RequestContext& ctx);
  http::HttpResponse TotpConfirm(const RequestContext& ctx);
  http::HttpResponse TotpDisable(const RequestContext& ctx);
  http::HttpResponse ResetTotp(const RequestContext& ctx);

 private:
  // Writes a refused attempt (failed login, lockout) to the audit log.
  void AuditDenied(const RequestContext& ctx, const std::string& action, const std::string& actor_name,
                   const std::string& object_id, const std::string& code, const std::string& message);
  // Checks `password` for the user of a session principal; counts a failure toward lockout.
  // Returns the refusal, or nullopt when it matches.
  std::optional<http::HttpResponse> CheckCurrentPassword(const RequestContext& ctx, const accounts::User& user,
                                                         const std::string& password);

  AuthHandlerDeps d_;
  auth::AddressThrottle address_throttle_;
};

}  // namespace steadfast::collector::api
