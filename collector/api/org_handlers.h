// OrgHandlers: the organisation tree, users, API tokens and host assignment.
//
//   GET    /api/v1/units                     units in the caller's scope, parents first
//   POST   /api/v1/units                     {name, code, kind, parent_id}        manage_org
//   GET    /api/v1/units/{id}                                                      read
//   PATCH  /api/v1/units/{id}                {name?, parent_id?}                   manage_org
//   GET    /api/v1/users?unit_id=&role=&active=&q=&limit=&offset=                 read
//   POST   /api/v1/users                     {username, display_name, unit_id, roles[],
//                                             contacts{}, language, password?}     manage_users
//          -> 201 user (+ "temporary_password" once, when no password was given)
//   GET    /api/v1/users/{id}                                                      read
//   PATCH  /api/v1/users/{id}                {display_name?, unit_id?, roles?, contacts?,
//                                             language?, active?}                  manage_users
//   POST   /api/v1/users/{id}/reset-password -> {"temporary_password": "..."}      manage_users
//   GET    /api/v1/tokens                    own tokens; with manage_users, all in scope
//   POST   /api/v1/tokens                    {name, role, unit_id?, expires_in_days} -> 201
//                                            with "token" shown once               self
//   DELETE /api/v1/tokens/{id}               revoke (own, or any in scope with manage_users)
//   PUT    /api/v1/hosts/{id}/unit           {unit_id}                              manage_assets
//
// Rules beyond the route table (docs/ACCOUNTS.md): a unit admin manages units strictly below
// their own; only an admin grants the admin role; the last active admin cannot be disabled or
// lose the role; a token's role must be one its creator holds and its unit in the creator's
// scope; API tokens cannot mint tokens; tokens expire within 366 days.
#pragma once

#include <nlohmann/json.hpp>

#include "collector/accounts/account_store.h"
#include "collector/api/passwords.h"
#include "collector/api/route_table.h"
#include "collector/auth/secure_random.h"

namespace steadfast::collector::api {

class OrgHandlers {
 public:
  OrgHandlers(accounts::AccountStore& store, const Passwords& passwords, auth::SecureRandom& random);

  // Adds every route above to `table`.
  void AddRoutes(RouteTable& table);

  http::HttpResponse ListUnits(const RequestContext& ctx) const;
  http::HttpResponse CreateUnit(const RequestContext& ctx) const;
  http::HttpResponse GetUnit(const RequestContext& ctx) const;
  http::HttpResponse UpdateUnit(const RequestContext& ctx) const;
  http::HttpResponse ListUsers(const RequestContext& ctx) const;
  http::HttpResponse CreateUser(const RequestContext& ctx) const;
  http::HttpResponse GetUser(const RequestContext& ctx) const;
  http::HttpResponse UpdateUser(const RequestContext& ctx) const;
  http::HttpResponse ResetPassword(const RequestContext& ctx) const;
  http::HttpResponse ListTokens(const RequestContext& ctx) const;
  http::HttpResponse CreateToken(const RequestContext& ctx) const;
  http::HttpResponse RevokeToken(const RequestContext& ctx) const;
  http::HttpResponse AssignHost(const RequestContext& ctx) const;

 private:
  accounts::AccountStore& store_;
  const Passwords& passwords_;
  auth::SecureRandom& random_;
};

// JSON views (never secrets) shared with other handlers.
nlohmann::json UnitToJson(const accounts::Unit& unit);
nlohmann::json UserToJson(const accounts::User& user);
nlohmann::json TokenToJson(const accounts::ApiToken& token);

}  // namespace steadfast::collector::api
