// Authenticator: who is calling. Turns a request's credential — the `sf_session` cookie or an
// `Authorization: Bearer sfa_...` API token — into an accounts::Principal.
#pragma once

#include <string>

#include "collector/accounts/roles.h"
#include "common/http/http_types.h"
#include "common/status.h"

namespace steadfast::collector::api {

struct Authentication {
  accounts::Principal principal;
  bool via_session_cookie = false;  // ambient credential: mutating calls need the CSRF token
  std::string csrf_token;           // the session's; empty for API tokens
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Unauthenticated when the request carries no credential or one that is unknown, revoked,
  // expired, or belongs to a disabled user; the message says which (for logs and the audit
  // record — it never echoes the credential). Unavailable when the store cannot answer.
  virtual StatusOr<Authentication> Authenticate(const http::HttpRequest& request) = 0;
};

}  // namespace steadfast::collector::api
