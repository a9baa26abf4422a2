// SessionAuthenticator: the real Authenticator over the AccountStore.
//
// - `Authorization: Bearer sfa_...`: an API token that exists, is not revoked, has not expired,
//   and whose creator is still active and still holds the token's role.
// - `Cookie: sf_session=sfs_...`: a session that is not revoked, not idle or past its lifetime
//   (an expired one is revoked here, audited as sessions.expire), of an active user.
// A session token presented as a bearer token, or an API token as a cookie, is refused.
#pragma once

#include "collector/accounts/account_store.h"
#include "collector/api/authenticator.h"
#include "collector/api/passwords.h"
#include "collector/auth/auth_config.h"
#include "common/clock.h"

namespace steadfast::collector::api {

class SessionAuthenticator final : public Authenticator {
 public:
  SessionAuthenticator(accounts::AccountStore& store, const auth::AuthConfig& config, const Passwords& passwords,
                       const Clock& clock);

  StatusOr<Authentication> Authenticate(const http::HttpRequest& request) override;

  // The principal of a user (roles, unit, scope, pending password change or TOTP enrolment);
  // also used by login. Unavailable when the store cannot answer.
  StatusOr<accounts::Principal> PrincipalForUser(const accounts::User& user);

 private:
  StatusOr<Authentication> FromApiToken(const std::string& token);
  StatusOr<Authentication> FromSession(const std::string& cookie_header, const http::HttpRequest& request);
  // Fills scope_unit_ids / centre_wide from the principal's unit and roles.
  Status FillScope(accounts::Principal& principal);

  accounts::AccountStore& store_;
  const auth::AuthConfig& config_;
  const Passwords& passwords_;
  const Clock& clock_;
};

}  // namespace steadfast::collector::api
