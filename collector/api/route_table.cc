#include "collector/api/route_table.h"

#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "collector/api/api_util.h"
#include "collector/auth/tokens.h"
#include "collector/http_metrics.h"
#include "common/logging.h"

namespace steadfast::collector::api {

namespace {

using accounts::Actor;
using accounts::Principal;
using http::HttpRequest;
using http::HttpResponse;

Actor ActorFor(const Principal* principal, const HttpRequest& request, int64_t now_ms) {
  if (principal != nullptr) return accounts::ActorOf(*principal, request.remote_address, now_ms);
  Actor actor;
  actor.type = "anonymous";
  actor.source_address = request.remote_address;
  actor.time_ms = now_ms;
  return actor;
}

std::string ObjectTypeName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kNone: return "";
    case ObjectKind::kHost: return "host";
    case ObjectKind::kUser: return "user";
    case ObjectKind::kUnit: return "unit";
    case ObjectKind::kApiToken: return "token";
    case ObjectKind::kEquipment: return "equipment";
    case ObjectKind::kAlert: return "alert";
  }
  return "";
}

// The object id of a route's path, if it names one.
std::string ObjectId(const RouteSpec& spec, const HttpRequest& request) {
  if (spec.object == ObjectKind::kNone) return "";
  auto it = request.path_params.find("id");
  return it != request.path_params.end() ? it->second : "";
}

std::string ErrorCodeOf(const HttpResponse& response) {
  nlohmann::json doc = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object() && doc["error"].contains("code") &&
      doc["error"]["code"].is_string()) {
    return doc["error"]["code"].get<std::string>();
  }
  return "http_" + std::to_string(response.status);
}

}  // namespace

bool IsMutating(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

HttpResponse OutOfScope(std::string_view what) {
  return HttpResponse::Error(403, "permission_denied", std::string(what) + " is outside your units");
}

RouteTable::RouteTable(Authenticator& authenticator, accounts::AccountStore& accounts, audit::AuditLog* audit,
                       const Clock& clock)
    : authenticator_(authenticator), accounts_(accounts), audit_(audit), clock_(clock) {
  SetResolver(ObjectKind::kHost, [this](const std::string& id) { return accounts_.HostUnit(id); });
  SetResolver(ObjectKind::kUser, [this](const std::string& id) -> StatusOr<int64_t> {
    int64_t user_id = 0;
    if (!ParsePositiveId(id, &user_id)) return NotFoundError("no user " + id);
    SF_ASSIGN_OR_RETURN(accounts::User user, accounts_.GetUser(user_id));
    return user.unit_id;
  });
  SetResolver(ObjectKind::kUnit, [this](const std::string& id) -> StatusOr<int64_t> {
    int64_t unit_id = 0;
    if (!ParsePositiveId(id, &unit_id)) return NotFoundError("no unit " + id);
    SF_ASSIGN_OR_RETURN(accounts::Unit unit, accounts_.GetUnit(unit_id));
    return unit.id;
  });
  SetResolver(ObjectKind::kApiToken, [this](const std::string& id) -> StatusOr<int64_t> {
    int64_t token_id = 0;
    if (!ParsePositiveId(id, &token_id)) return NotFoundError("no token " + id);
    SF_ASSIGN_OR_RETURN(accounts::ApiToken token, accounts_.GetApiToken(token_id));
    return token.unit_id;
  });
}

void RouteTable::Add(RouteSpec spec) {
  SF_CHECK(!registered_);  // wiring order: the router already points into routes_
  routes_.push_back(std::move(spec));
}

void RouteTable::SetResolver(ObjectKind kind, UnitResolver resolver) {
  for (auto& [k, r] : resolvers_) {
    if (k == kind) {
      r = std::move(resolver);
      return;
    }
  }
  resolvers_.emplace_back(kind, std::move(resolver));
}

void RouteTable::RegisterOn(http::Router& router, HttpMetrics* metrics) const {
  registered_ = true;
  for (const RouteSpec& spec : routes_) {
    http::HttpHandler handler = [this, &spec](const HttpRequest& request) { return Guard(spec, request); };
    if (metrics != nullptr) handler = metrics->Instrument(spec.action, std::move(handler));
    router.Handle(spec.method, spec.pattern, std::move(handler));
  }
}

HttpResponse RouteTable::Guard(const RouteSpec& spec, const HttpRequest& request) const {
  const int64_t now_ms = clock_.NowMillis();
  if (!spec.permission) {
    RequestContext ctx{request, nullptr, ActorFor(nullptr, request, now_ms)};
    return spec.handler(ctx);
  }

  // 1. Who is calling.
  StatusOr<Authentication> auth = authenticator_.Authenticate(request);
  if (!auth.ok()) {
    Actor anonymous = ActorFor(nullptr, request, now_ms);
    if (auth.status().code() != StatusCode::kUnauthenticated) {
      SF_LOG_WARN("api: authentication failed for {} {}: {}", request.method, request.path, auth.status().ToString());
      HttpResponse r = HttpResponse::Error(auth.status());
      if (r.status == 503) r.headers.Set("Retry-After", "1");
      return r;
    }
    HttpResponse r = HttpResponse::Error(401, "unauthenticated", "log in or present a valid API token");
    r.headers.Set("WWW-Authenticate", "Bearer realm=\"steadfast\"");
    // A probe without any credential on a read is routine (a browser before login); refused
    // mutations and presented-but-bad credentials are worth an audit record.
    const bool presented = request.headers.Get("Authorization").has_value() ||
                           request.headers.Get("Cookie").value_or("").find("sf_session=") != std::string::npos;
    if (IsMutating(request.method) || presented) return Refuse(spec, request, anonymous, std::move(r));
    return r;
  }
  const Principal& principal = auth->principal;
  Actor actor = ActorFor(&principal, request, now_ms);

  // 2. Restricted sessions reach only the routes that let them finish what is pending.
  if (!spec.allow_restricted) {
    if (principal.must_change_password) {
      return Refuse(spec, request, actor,
                    HttpResponse::Error(403, "password_change_required",
                                        "change your password first (POST /api/v1/auth/password)"));
    }
    if (principal.totp_enrollment_required) {
      return Refuse(spec, request, actor,
                    HttpResponse::Error(403, "totp_enrollment_required",
                                        "your role requires a second factor: set up TOTP first"));
    }
  }

  // 3. Role.
  if (!principal.Has(*spec.permission)) {
    return Refuse(spec, request, actor,
                  HttpResponse::Error(403, "permission_denied",
                                      "this needs the '" + std::string(accounts::PermissionName(*spec.permission)) +
                                          "' permission, which your roles do not grant"));
  }

  // 4. CSRF: a browser carries the cookie to any site's forms; only our page knows the token.
  if (auth->via_session_cookie && IsMutating(request.method)) {
    std::optional<std::string> presented = request.headers.Get(auth::kCsrfHeader);
    if (!presented || !auth::VerifyCsrfToken(*presented, auth->csrf_token)) {
      return Refuse(spec, request, actor,
                    HttpResponse::Error(403, "csrf", "missing or wrong X-CSRF-Token header for a cookie session"));
    }
  }

  // 5. Scope of the object the path names.
  if (spec.object != ObjectKind::kNone) {
    const std::string id = ObjectId(spec, request);
    const UnitResolver* resolver = nullptr;
    for (const auto& [k, r] : resolvers_) {
      if (k == spec.object) resolver = &r;
    }
    SF_CHECK(resolver != nullptr);  // every ObjectKind used by a route registers a resolver at wiring time
    StatusOr<int64_t> unit = (*resolver)(id);
    if (!unit.ok()) {
      HttpResponse r = HttpResponse::Error(unit.status());
      if (IsMutating(request.method)) AuditFailure(spec, request, actor, r);
      return r;
    }
    if (!principal.InScope(*unit)) {
      return Refuse(spec, request, actor, OutOfScope(ObjectTypeName(spec.object) + " " + id));
    }
  }

  // 6. The handler.
  RequestContext ctx{request, &principal, actor};
  HttpResponse response = spec.handler(ctx);
  if (IsMutating(request.method) && response.status >= 400) AuditFailure(spec, request, actor, response);
  return response;
}

HttpResponse RouteTable::Refuse(const RouteSpec& spec, const HttpRequest& request, const Actor& actor,
                                HttpResponse response) const {
  AuditFailure(spec, request, actor, response);
  return response;
}

void RouteTable::AuditFailure(const RouteSpec& spec, const HttpRequest& request, const Actor& actor,
                              const HttpResponse& response) const {
  if (audit_ == nullptr) return;
  audit::AuditEvent event =
      accounts::AuditEventFor(actor, spec.action, ObjectTypeName(spec.object), ObjectId(spec, request));
  const bool denied = response.status == 401 || response.status == 403 || response.status == 429;
  event.result = denied ? audit::AuditResult::kDenied : audit::AuditResult::kError;
  event.result_code = ErrorCodeOf(response);
  event.message = request.method + " " + request.path + " -> " + std::to_string(response.status);
  StatusOr<int64_t> seq = audit_->Append(event);
  if (!seq.ok()) SF_LOG_ERROR("audit: could not record {} by {}: {}", spec.action, actor.name, seq.status().ToString());
}

}  // namespace steadfast::collector::api
