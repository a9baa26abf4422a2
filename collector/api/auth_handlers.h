// AuthHandlers: logging in and out, one's own sessions, password and second factor.
//
//   POST   /api/v1/auth/login        {username, password, totp_code?}             public
//          200 {user, csrf_token, must_change_password, totp_enrollment_required, expires_at}
//              + Set-Cookie sf_session (HttpOnly, SameSite=Strict, Secure under TLS)
//          401 invalid_credentials (same answer for an unknown user and a wrong password),
//          401 totp_required / totp_invalid, 429 locked_out with Retry-After (per account and
//          per source address; also for the right password while locked),
//          503 directory_unavailable (LDAP configured and unreachable)
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
//
// LDAP (auth.ldap set and a directory given): a username with no local account, or whose
// account has source "ldap", is checked by the directory instead of a local hash; accounts with
// source "local" never are. On success the account is created just in time (source "ldap", no
// local password) or brought in line with the directory (roles, unit, display name, email;
// audited as users.create / users.update by the system actor "ldap"), then the session starts
// as for anyone (lockout, TOTP, audit). Refused with the same 401 as a wrong password, counted
// toward lockout and audited with the reason: an empty password (never sent: it would be an
// anonymous bind), a person in no mapped group, a mapping naming an unknown unit, a name the
// local accounts cannot hold. Passwords of LDAP accounts change in the directory only.
#pragma once

#include "collector/accounts/account_store.h"
#include "collector/api/passwords.h"
#include "collector/api/route_table.h"
#include "collector/api/session_authenticator.h"
#include "collector/audit/audit_log.h"
#include "collector/auth/auth_config.h"
#include "collector/auth/ldap_directory.h"
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
  // Checks passwords of LDAP accounts when config.ldap is set; null = no directory. Not owned.
  auth::LdapDirectory* ldap = nullptr;
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
  // Writes a refused attempt (failed login, lockout) to the audit log; `result` kError for an
  // attempt that failed on our side (the directory unreachable).
  void AuditDenied(const RequestContext& ctx, const std::string& action, const std::string& actor_name,
                   const std::string& object_id, const std::string& code, const std::string& message,
                   audit::AuditResult result = audit::AuditResult::kDenied);
  static auth::LockoutState LockoutStateOf(const accounts::UserCredentials& creds);
  // One more failed attempt on the account: the lockout state moves on and is saved.
  void CountFailure(const accounts::User& user, const auth::LockoutState& state, int64_t now_ms);
  // Checks `password` for the user of a session principal (an LDAP account's with the
  // directory); counts a failure toward lockout. Returns the refusal (403 invalid_credentials,
  // 429, or 503 directory_unavailable), or nullopt when it matches.
  std::optional<http::HttpResponse> CheckCurrentPassword(const RequestContext& ctx, const accounts::User& user,
                                                         const std::string& password);
  // Login of a name the directory answers for; `user` is its account when it has one.
  http::HttpResponse LdapLogin(const RequestContext& ctx, const std::string& username, const std::string& password,
                               const std::optional<std::string>& totp_code, std::optional<accounts::User> user);
  // Creates the account of a person the directory knows, or updates it to what the directory
  // says. Returns the account, or the refusal (code, audit message) when it cannot hold them.
  StatusOr<accounts::User> SyncLdapUser(const RequestContext& ctx, const std::string& username,
                                        const std::optional<accounts::User>& existing,
                                        const auth::LdapIdentity& identity, std::string* refusal_code);
  // After the password matched (local hash or directory): the second factor, then the session.
  // `creds` as read before this attempt (its lockout state is cleared on success).
  http::HttpResponse FinishLogin(const RequestContext& ctx, const accounts::User& user,
                                 const accounts::UserCredentials& creds, const std::optional<std::string>& totp_code);
  // A failed attempt on an existing account: counted (account and address), audited, answered.
  http::HttpResponse RefuseLogin(const RequestContext& ctx, const accounts::User& user,
                                 const auth::LockoutState& state, const std::string& code, const std::string& message,
                                 http::HttpResponse response);

  AuthHandlerDeps d_;
  auth::AddressThrottle address_throttle_;
};

}  // namespace steadfast::collector::api
