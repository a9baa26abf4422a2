// The collector's route table: every endpoint with what it needs (docs/ACCOUNTS.md).
//
// Each RouteSpec names its audit action, the permission it needs (none = public), whether a
// restricted session (password change or TOTP enrolment pending) may use it, and the kind of
// object its {id} path parameter names, so that the ONE guard in Guard() applies to every
// route the same way:
//
//   1. authenticate (session cookie or bearer API token)       -> 401 unauthenticated
//   2. restricted session on a route that does not allow it     -> 403 password_change_required
//                                                                   / totp_enrollment_required
//   3. role lacks the permission                                -> 403 permission_denied
//   4. cookie-authenticated mutating call without the CSRF token -> 403 csrf
//   5. {id} names an object outside the principal's units        -> 403 permission_denied
//      (an unknown id is 404)
//   6. the handler (which filters lists by scope and checks the unit of objects it creates)
//
// Refusals at any step, and mutating calls that fail, are written to the audit log here;
// successful mutations are audited by the store in the transaction that makes them.
// The route-matrix test walks RouteTable::routes() with every role, so a route cannot be added
// without passing through the guard.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/accounts/account_store.h"
#include "collector/accounts/roles.h"
#include "collector/api/authenticator.h"
#include "collector/audit/audit_log.h"
#include "common/clock.h"
#include "common/http/http_types.h"

namespace steadfast::collector {
class HttpMetrics;
}

namespace steadfast::collector::api {

// What the {id} (or {agent_id}) path parameter of a route names; decides how step 5 finds the
// object's unit.
enum class ObjectKind { kNone, kHost, kUser, kUnit, kApiToken, kEquipment, kAlert };

struct RequestContext {
  const http::HttpRequest& request;
  // Null on public routes; otherwise the authenticated caller.
  const accounts::Principal* principal = nullptr;
  // Who to write into audit records (filled from the principal, or anonymous).
  accounts::Actor actor;
};

using ApiHandler = std::function<http::HttpResponse(const RequestContext&)>;

struct RouteSpec {
  std::string method;
  std::string pattern;  // as for http::Router
  std::string action;   // "users.create": the audit action and the metrics handler label
  std::optional<accounts::Permission> permission;  // nullopt: public (no authentication here)
  bool allow_restricted = false;
  ObjectKind object = ObjectKind::kNone;
  ApiHandler handler;
  // Public to people, but the handler itself demands an agent's enrolment or agent token
  // (POST /api/v1/enroll, /api/v1/reports): user sessions and API tokens mean nothing there.
  bool agent_credentials = false;
};

// Looks up the unit owning an object of a kind (step 5). NotFound for an unknown id.
using UnitResolver = std::function<StatusOr<int64_t>(const std::string& id)>;

class RouteTable {
 public:
  // `audit` may be null only in tests that do not look at audit records.
  RouteTable(Authenticator& authenticator, accounts::AccountStore& accounts, audit::AuditLog* audit,
             const Clock& clock);

  void Add(RouteSpec spec);
  // Overrides the resolver of an object kind (the defaults use the AccountStore for hosts,
  // users, units and tokens; kEquipment has none until the inventory registers it).
  void SetResolver(ObjectKind kind, UnitResolver resolver);

  const std::vector<RouteSpec>& routes() const { return routes_; }

  // Registers every route on `router`, each behind Guard() and, if `metrics` is set,
  // instrumented under its action name. This table must outlive the router, and no route may be
  // added afterwards (the router holds references into the table).
  void RegisterOn(http::Router& router, HttpMetrics* metrics) const;

  // Runs the guard and, if it passes, the handler of `spec`.
  http::HttpResponse Guard(const RouteSpec& spec, const http::HttpRequest& request) const;

 private:
  http::HttpResponse Refuse(const RouteSpec& spec, const http::HttpRequest& request,
                            const accounts::Actor& actor, http::HttpResponse response) const;
  void AuditFailure(const RouteSpec& spec, const http::HttpRequest& request, const accounts::Actor& actor,
                    const http::HttpResponse& response) const;

  Authenticator& authenticator_;
  accounts::AccountStore& accounts_;
  audit::AuditLog* audit_;
  const Clock& clock_;
  std::vector<RouteSpec> routes_;
  std::vector<std::pair<ObjectKind, UnitResolver>> resolvers_;
  mutable bool registered_ = false;
};

// Whether a method changes state (everything except GET, HEAD, OPTIONS).
bool IsMutating(const std::string& method);

// 403 with code permission_denied and a message naming the object, for handlers checking the
// unit of an object they are about to create or move.
http::HttpResponse OutOfScope(std::string_view what);

}  // namespace steadfast::collector::api
