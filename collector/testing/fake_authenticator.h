// FakeAuthenticator: an Authenticator that answers every request with one fixed principal, for
// handler tests that are not about authentication. The real one is tested in
// session_authenticator / route matrix tests.
#pragma once

#include "collector/api/authenticator.h"

namespace steadfast::collector::testutil {

class FakeAuthenticator final : public api::Authenticator {
 public:
  // A centre-wide admin by default.
  FakeAuthenticator() {
    auth_.principal.kind = accounts::Principal::Kind::kApiToken;
    auth_.principal.id = 1;
    auth_.principal.name = "fake-admin";
    auth_.principal.roles = {accounts::Role::kAdmin};
    auth_.principal.unit_id = accounts::kCentreUnitId;
    auth_.principal.centre_wide = true;
  }
  explicit FakeAuthenticator(api::Authentication auth) : auth_(std::move(auth)) {}

  StatusOr<api::Authentication> Authenticate(const http::HttpRequest&) override { return auth_; }

 private:
  api::Authentication auth_;
};

}  // namespace steadfast::collector::testutil
