#include "collector/api/org_handlers.h"

#include <algorithm>
#include <utility>

#include "collector/api/api_util.h"
#include "collector/api/api_tokens.h"

namespace steadfast::collector::api {

namespace {

using accounts::Permission;
using accounts::Principal;
using accounts::Role;
using http::HttpResponse;
using nlohmann::json;

constexpr int64_t kMaxTokenDays = 366;

// nullopt: every unit (centre-wide); otherwise the principal's units.
std::optional<std::vector<int64_t>> ScopeUnits(const Principal& p) {
  if (p.centre_wide) return std::nullopt;
  return p.scope_unit_ids;
}

json ContactsToJson(const accounts::Contacts& c) {
  return json{{"email", c.email},     {"phone", c.phone}, {"dingtalk", c.dingtalk},
              {"wecom", c.wecom},     {"slack", c.slack}, {"telegram", c.telegram}};
}

// Parses {"roles": [...]} into roles; 400 naming roles[i] for an unknown name.
bool ParseRoles(const json& body, std::optional<std::vector<Role>>* out, HttpResponse* error) {
  auto it = body.find("roles");
  if (it == body.end()) return true;
  if (!it->is_array()) {
    *error = BadParam("roles", "expected an array of role names");
    return false;
  }
  std::vector<Role> roles;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& r = (*it)[i];
    std::optional<Role> role = r.is_string() ? accounts::ParseRole(r.get<std::string>()) : std::nullopt;
    if (!role) {
      *error = BadParam("roles[" + std::to_string(i) + "]",
                        "unknown role; expected admin, unit_admin, operator, inspector, manager or viewer");
      return false;
    }
    if (std::find(roles.begin(), roles.end(), *role) == roles.end()) roles.push_back(*role);
  }
  *out = std::move(roles);
  return true;
}

bool ParseContacts(const json& body, std::optional<accounts::Contacts>* out, HttpResponse* error) {
  auto it = body.find("contacts");
  if (it == body.end()) return true;
  if (!it->is_object()) {
    *error = BadParam("contacts", "expected an object");
    return false;
  }
  accounts::Contacts c;
  std::pair<const char*, std::string*> fields[] = {{"email", &c.email},   {"phone", &c.phone},
                                                   {"dingtalk", &c.dingtalk}, {"wecom", &c.wecom},
                                                   {"slack", &c.slack},   {"telegram", &c.telegram}};
  for (auto it2 = it->begin(); it2 != it->end(); ++it2) {
    auto f = std::find_if(std::begin(fields), std::end(fields), [&](const auto& p) { return it2.key() == p.first; });
    if (f == std::end(fields)) {
      *error = BadParam("contacts." + it2.key(), "unknown field");
      return false;
    }
    if (!it2->is_string()) {
      *error = BadParam("contacts." + it2.key(), "expected a string");
      return false;
    }
    *f->second = it2->get<std::string>();
  }
  *out = std::move(c);
  return true;
}

// Only an admin grants admin: the refusal, or nullopt when `roles` may be granted.
std::optional<HttpResponse> RefuseUngrantable(const Principal& p, const std::vector<Role>& roles) {
  if (!p.HasRole(Role::kAdmin) && std::find(roles.begin(), roles.end(), Role::kAdmin) != roles.end()) {
    return HttpResponse::Error(403, "permission_denied", "only an admin can grant the admin role", "roles");
  }
  return std::nullopt;
}

// A unit admin manages units strictly below their own; an admin anything.
bool MayManageUnit(const Principal& p, int64_t unit_id) {
  if (p.HasRole(Role::kAdmin)) return true;
  return p.InScope(unit_id) && unit_id != p.unit_id;
}

// Active admins other than `except_user_id`.
StatusOr<int64_t> OtherActiveAdmins(accounts::AccountStore& store, int64_t except_user_id) {
  accounts::UserQuery q;
  q.role = Role::kAdmin;
  q.active = true;
  q.limit = 2;
  SF_ASSIGN_OR_RETURN(accounts::UserPage page, store.ListUsers(q));
  int64_t n = page.total;
  for (const accounts::User& u : page.items) {
    if (u.id == except_user_id) --n;
  }
  return n;
}

// The {id} of the path; 0 (no such object) when it is not a positive integer.
int64_t IdParam(const RequestContext& ctx) {
  int64_t id = 0;
  return ParsePositiveId(PathParam(ctx.request, "id"), &id) ? id : 0;
}

}  // namespace

json UnitToJson(const accounts::Unit& u) {
  return json{{"id", u.id},
              {"parent_id", u.parent_id ? json(*u.parent_id) : json(nullptr)},
              {"name", u.name},
              {"code", u.code},
              {"kind", std::string(accounts::UnitKindName(u.kind))},
              {"created_at", TimeOrNull(u.created_at_ms)}};
}

json UserToJson(const accounts::User& u) {
  return json{{"id", u.id},
              {"username", u.username},
              {"display_name", u.display_name},
              {"unit_id", u.unit_id},
              {"roles", accounts::RoleNames(u.roles)},
              {"contacts", ContactsToJson(u.contacts)},
              {"language", u.language},
              {"active", u.active},
              {"source", u.source},
              {"must_change_password", u.must_change_password},
              {"password_changed_at", TimeOrNull(u.password_changed_at_ms)},
              {"totp_enabled", u.totp_enabled},
              {"created_at", TimeOrNull(u.created_at_ms)},
              {"updated_at", TimeOrNull(u.updated_at_ms)}};
}

json TokenToJson(const accounts::ApiToken& t) {
  return json{{"id", t.id},
              {"name", t.name},
              {"role", std::string(accounts::RoleName(t.role))},
              {"unit_id", t.unit_id},
              {"created_by", t.created_by_user_id},
              {"created_at", TimeOrNull(t.created_at_ms)},
              {"expires_at", TimeOrNull(t.expires_at_ms)},
              {"revoked_at", t.revoked_at_ms ? TimeOrNull(*t.revoked_at_ms) : json(nullptr)},
              {"last_used", t.last_used_ms ? TimeOrNull(*t.last_used_ms) : json(nullptr)}};
}

OrgHandlers::OrgHandlers(accounts::AccountStore& store, const Passwords& passwords, auth::SecureRandom& random)
    : store_(store), passwords_(passwords), random_(random) {}

void OrgHandlers::AddRoutes(RouteTable& t) {
  using P = Permission;
  auto bind = [this](HttpResponse (OrgHandlers::*fn)(const RequestContext&) const) {
    return [this, fn](const RequestContext& ctx) { return (this->*fn)(ctx); };
  };
  t.Add({"GET", "/api/v1/units", "units.list", P::kRead, false, ObjectKind::kNone, bind(&OrgHandlers::ListUnits)});
  t.Add({"POST", "/api/v1/units", "units.create", P::kManageOrg, false, ObjectKind::kNone,
         bind(&OrgHandlers::CreateUnit)});
  t.Add({"GET", "/api/v1/units/{id}", "units.get", P::kRead, false, ObjectKind::kUnit, bind(&OrgHandlers::GetUnit)});
  t.Add({"PATCH", "/api/v1/units/{id}", "units.update", P::kManageOrg, false, ObjectKind::kUnit,
         bind(&OrgHandlers::UpdateUnit)});
  t.Add({"GET", "/api/v1/users", "users.list", P::kRead, false, ObjectKind::kNone, bind(&OrgHandlers::ListUsers)});
  t.Add({"POST", "/api/v1/users", "users.create", P::kManageUsers, false, ObjectKind::kNone,
         bind(&OrgHandlers::CreateUser)});
  t.Add({"GET", "/api/v1/users/{id}", "users.get", P::kRead, false, ObjectKind::kUser, bind(&OrgHandlers::GetUser)});
  t.Add({"PATCH", "/api/v1/users/{id}", "users.update", P::kManageUsers, false, ObjectKind::kUser,
         bind(&OrgHandlers::UpdateUser)});
  t.Add({"POST", "/api/v1/users/{id}/reset-password", "users.reset_password", P::kManageUsers, false,
         ObjectKind::kUser, bind(&OrgHandlers::ResetPassword)});
  t.Add({"GET", "/api/v1/tokens", "tokens.list", P::kSelf, false, ObjectKind::kNone, bind(&OrgHandlers::ListTokens)});
  t.Add({"POST", "/api/v1/tokens", "tokens.create", P::kSelf, false, ObjectKind::kNone,
         bind(&OrgHandlers::CreateToken)});
  t.Add({"DELETE", "/api/v1/tokens/{id}", "tokens.revoke", P::kSelf, false, ObjectKind::kApiToken,
         bind(&OrgHandlers::RevokeToken)});
  t.Add({"PUT", "/api/v1/hosts/{id}/unit", "hosts.assign", P::kManageAssets, false, ObjectKind::kHost,
         bind(&OrgHandlers::AssignHost)});
}

// ---- units

HttpResponse OrgHandlers::ListUnits(const RequestContext& ctx) const {
  StatusOr<std::vector<accounts::Unit>> units = store_.ListUnits();
  if (!units.ok()) return ErrorResponse(units.status());
  json items = json::array();
  for (const accounts::Unit& u : *units) {
    if (ctx.principal->InScope(u.id)) items.push_back(UnitToJson(u));
  }
  return JsonResponse(200, json{{"items", std::move(items)}});
}

HttpResponse OrgHandlers::CreateUnit(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"name", "code", "kind", "parent_id"}, &error)) return error;
  std::optional<std::string> name, code, kind;
  std::optional<int64_t> parent;
  if (!GetString(*body, "name", &name, &error) || !GetString(*body, "code", &code, &error) ||
      !GetString(*body, "kind", &kind, &error) || !GetInt(*body, "parent_id", &parent, &error)) {
    return error;
  }
  if (!name) return BadParam("name", "required");
  if (!code) return BadParam("code", "required");
  if (!parent) return BadParam("parent_id", "required");
  accounts::Unit unit;
  unit.name = *name;
  unit.code = *code;
  unit.parent_id = *parent;
  if (kind) {
    std::optional<accounts::UnitKind> k = accounts::ParseUnitKind(*kind);
    if (!k || *k == accounts::UnitKind::kCentre) return BadParam("kind", "expected unit or department");
    unit.kind = *k;
  }
  if (!ctx.principal->InScope(*parent)) return OutOfScope("parent unit " + std::to_string(*parent));
  StatusOr<accounts::Unit> created = store_.CreateUnit(ctx.actor, unit);
  if (!created.ok()) return ErrorResponse(created.status());
  return JsonResponse(201, UnitToJson(*created));
}

HttpResponse OrgHandlers::GetUnit(const RequestContext& ctx) const {
  StatusOr<accounts::Unit> unit = store_.GetUnit(IdParam(ctx));
  if (!unit.ok()) return ErrorResponse(unit.status());
  return JsonResponse(200, UnitToJson(*unit));
}

HttpResponse OrgHandlers::UpdateUnit(const RequestContext& ctx) const {
  const int64_t id = IdParam(ctx);
  if (!MayManageUnit(*ctx.principal, id)) return OutOfScope("unit " + std::to_string(id) + " (your own unit or above)");
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"name", "parent_id"}, &error)) return error;
  std::optional<std::string> name;
  std::optional<int64_t> parent;
  if (!GetString(*body, "name", &name, &error) || !GetInt(*body, "parent_id", &parent, &error)) return error;
  if (parent && !ctx.principal->InScope(*parent)) return OutOfScope("parent unit " + std::to_string(*parent));
  StatusOr<accounts::Unit> updated = store_.UpdateUnit(ctx.actor, id, name, parent);
  if (!updated.ok()) return ErrorResponse(updated.status());
  return JsonResponse(200, UnitToJson(*updated));
}

// ---- users

HttpResponse OrgHandlers::ListUsers(const RequestContext& ctx) const {
  HttpResponse error;
  accounts::UserQuery q;
  q.unit_ids = ScopeUnits(*ctx.principal);
  auto limit = IntParam(ctx.request, "limit", 100, 1, 1000, &error);
  if (!limit) return error;
  auto offset = IntParam(ctx.request, "offset", 0, 0, INT64_MAX, &error);
  if (!offset) return error;
  q.limit = *limit;
  q.offset = *offset;
  auto unit = IntParam(ctx.request, "unit_id", 0, 0, INT64_MAX, &error);
  if (!unit) return error;
  if (*unit > 0) {
    if (!ctx.principal->InScope(*unit)) return OutOfScope("unit " + std::to_string(*unit));
    StatusOr<std::vector<int64_t>> subtree = store_.SubtreeUnitIds(*unit);
    if (!subtree.ok()) return ErrorResponse(subtree.status());
    q.unit_ids = *subtree;
  }
  if (std::optional<std::string> role = OptionalParam(ctx.request, "role"); role && !role->empty()) {
    q.role = accounts::ParseRole(*role);
    if (!q.role) return BadParam("role", "unknown role '" + *role + "'");
  }
  if (std::optional<std::string> active = OptionalParam(ctx.request, "active"); active && !active->empty()) {
    if (*active != "true" && *active != "false") return BadParam("active", "expected true or false");
    q.active = *active == "true";
  }
  q.text = OptionalParam(ctx.request, "q").value_or("");
  StatusOr<accounts::UserPage> page = store_.ListUsers(q);
  if (!page.ok()) return ErrorResponse(page.status());
  json items = json::array();
  for (const accounts::User& u : page->items) items.push_back(UserToJson(u));
  const int64_t next = q.offset + static_cast<int64_t>(page->items.size());
  return JsonResponse(200, json{{"items", std::move(items)},
                                {"total", page->total},
                                {"next_offset", next < page->total && !page->items.empty() ? json(next) : json(nullptr)}});
}

HttpResponse OrgHandlers::CreateUser(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"username", "display_name", "unit_id", "roles", "contacts", "language", "password"},
                        &error)) {
    return error;
  }
  std::optional<std::string> username, display_name, language, password;
  std::optional<int64_t> unit_id;
  std::optional<std::vector<Role>> roles;
  std::optional<accounts::Contacts> contacts;
  if (!GetString(*body, "username", &username, &error) || !GetString(*body, "display_name", &display_name, &error) ||
      !GetString(*body, "language", &language, &error) || !GetString(*body, "password", &password, &error) ||
      !GetInt(*body, "unit_id", &unit_id, &error) || !ParseRoles(*body, &roles, &error) ||
      !ParseContacts(*body, &contacts, &error)) {
    return error;
  }
  if (!username) return BadParam("username", "required");
  if (!unit_id) return BadParam("unit_id", "required");
  if (!roles || roles->empty()) return BadParam("roles", "at least one role is required");
  if (!ctx.principal->InScope(*unit_id)) return OutOfScope("unit " + std::to_string(*unit_id));
  if (std::optional<HttpResponse> refused = RefuseUngrantable(*ctx.principal, *roles)) return *refused;

  accounts::NewUser user;
  user.username = *username;
  user.display_name = display_name.value_or(*username);
  user.unit_id = *unit_id;
  user.roles = *roles;
  if (contacts) user.contacts = *contacts;
  if (language) user.language = *language;
  user.must_change_password = true;  // whoever set it, the person chooses their own secret
  std::string temporary;
  const std::string& chosen = password ? *password : (temporary = passwords_.Temporary());
  StatusOr<std::string> hash = passwords_.HashNew(store_, chosen, user.username, user.display_name, 0);
  if (!hash.ok()) return ErrorResponse(hash.status());
  user.password_hash = *hash;
  StatusOr<accounts::User> created = store_.CreateUser(ctx.actor, user);
  if (!created.ok()) return ErrorResponse(created.status());
  json doc = UserToJson(*created);
  if (!password) doc["temporary_password"] = temporary;
  return JsonResponse(201, doc);
}

HttpResponse OrgHandlers::GetUser(const RequestContext& ctx) const {
  StatusOr<accounts::User> user = store_.GetUser(IdParam(ctx));
  if (!user.ok()) return ErrorResponse(user.status());
  return JsonResponse(200, UserToJson(*user));
}

HttpResponse OrgHandlers::UpdateUser(const RequestContext& ctx) const {
  const int64_t id = IdParam(ctx);
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"display_name", "unit_id", "roles", "contacts", "language", "active"}, &error)) {
    return error;
  }
  accounts::UserUpdate u;
  if (!GetString(*body, "display_name", &u.display_name, &error) || !GetInt(*body, "unit_id", &u.unit_id, &error) ||
      !ParseRoles(*body, &u.roles, &error) || !ParseContacts(*body, &u.contacts, &error) ||
      !GetString(*body, "language", &u.language, &error) || !GetBool(*body, "active", &u.active, &error)) {
    return error;
  }
  if (u.unit_id && !ctx.principal->InScope(*u.unit_id)) return OutOfScope("unit " + std::to_string(*u.unit_id));
  StatusOr<accounts::User> current = store_.GetUser(id);
  if (!current.ok()) return ErrorResponse(current.status());
  if (u.roles) {
    if (u.roles->empty()) return BadParam("roles", "at least one role is required");
    if (std::optional<HttpResponse> refused = RefuseUngrantable(*ctx.principal, *u.roles)) return *refused;
    // Taking admin away is granting in reverse: a unit admin cannot demote an admin.
    const bool was_admin =
        std::find(current->roles.begin(), current->roles.end(), Role::kAdmin) != current->roles.end();
    if (was_admin && !ctx.principal->HasRole(Role::kAdmin)) {
      return HttpResponse::Error(403, "permission_denied", "only an admin can change an admin's roles", "roles");
    }
  }
  const bool was_active_admin = current->active && std::find(current->roles.begin(), current->roles.end(),
                                                             Role::kAdmin) != current->roles.end();
  const bool loses_admin =
      (u.active && !*u.active) || (u.roles && std::find(u.roles->begin(), u.roles->end(), Role::kAdmin) == u.roles->end());
  if (was_active_admin && loses_admin) {
    StatusOr<int64_t> others = OtherActiveAdmins(store_, id);
    if (!others.ok()) return ErrorResponse(others.status());
    if (*others == 0) {
      return HttpResponse::Error(409, "failed_precondition",
                                 "this is the last active admin; make someone else admin first",
                                 u.active ? "active" : "roles");
    }
  }
  StatusOr<accounts::User> updated = store_.UpdateUser(ctx.actor, id, u);
  if (!updated.ok()) return ErrorResponse(updated.status());
  return JsonResponse(200, UserToJson(*updated));
}

HttpResponse OrgHandlers::ResetPassword(const RequestContext& ctx) const {
  const int64_t id = IdParam(ctx);
  StatusOr<accounts::User> user = store_.GetUser(id);
  if (!user.ok()) return ErrorResponse(user.status());
  if (user->source != "local") {
    return HttpResponse::Error(409, "failed_precondition",
                               "the password is managed by the directory (LDAP); reset it there");
  }
  const bool is_admin = std::find(user->roles.begin(), user->roles.end(), Role::kAdmin) != user->roles.end();
  if (is_admin && !ctx.principal->HasRole(Role::kAdmin)) {
    return HttpResponse::Error(403, "permission_denied", "only an admin can reset an admin's password");
  }
  const std::string temporary = passwords_.Temporary();
  StatusOr<std::string> hash = passwords_.HashNew(store_, temporary, user->username, user->display_name, 0);
  if (!hash.ok()) return ErrorResponse(hash.status());
  Status st = store_.SetPassword(ctx.actor, id, *hash, /*must_change_password=*/true, passwords_.history_depth(),
                                 "users.reset_password", /*keep_session_public_id=*/"");
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, json{{"temporary_password", temporary}, {"must_change_password", true}});
}

// ---- API tokens

HttpResponse OrgHandlers::ListTokens(const RequestContext& ctx) const {
  const Principal& p = *ctx.principal;
  const bool manager = p.Has(Permission::kManageUsers);
  StatusOr<std::vector<accounts::ApiToken>> tokens =
      store_.ListApiTokens(manager ? ScopeUnits(p) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{p.unit_id}));
  if (!tokens.ok()) return ErrorResponse(tokens.status());
  const int64_t self_id = p.kind == Principal::Kind::kUser ? p.id : p.user_id_for_token;
  json items = json::array();
  for (const accounts::ApiToken& t : *tokens) {
    if (manager || t.created_by_user_id == self_id) items.push_back(TokenToJson(t));
  }
  return JsonResponse(200, json{{"items", std::move(items)}});
}

HttpResponse OrgHandlers::CreateToken(const RequestContext& ctx) const {
  const Principal& p = *ctx.principal;
  if (p.kind != Principal::Kind::kUser) {
    return HttpResponse::Error(403, "permission_denied", "an API token cannot create API tokens; log in as a person");
  }
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"name", "role", "unit_id", "expires_in_days"}, &error)) return error;
  std::optional<std::string> name, role_name;
  std::optional<int64_t> unit_id, days;
  if (!GetString(*body, "name", &name, &error) || !GetString(*body, "role", &role_name, &error) ||
      !GetInt(*body, "unit_id", &unit_id, &error) || !GetInt(*body, "expires_in_days", &days, &error)) {
    return error;
  }
  if (!name) return BadParam("name", "required");
  if (!role_name) return BadParam("role", "required");
  std::optional<Role> role = accounts::ParseRole(*role_name);
  if (!role) return BadParam("role", "unknown role '" + *role_name + "'");
  if (!p.HasRole(*role)) {
    return HttpResponse::Error(403, "permission_denied", "a token can only carry a role you hold yourself", "role");
  }
  const int64_t unit = unit_id.value_or(p.unit_id);
  if (!p.InScope(unit)) return OutOfScope("unit " + std::to_string(unit));
  const int64_t expires_days = days.value_or(90);
  if (expires_days < 1 || expires_days > kMaxTokenDays) {
    return BadParam("expires_in_days", "expected 1.." + std::to_string(kMaxTokenDays));
  }
  StatusOr<IssuedToken> issued = IssueApiToken(store_, ctx.actor, random_, p.id, *role, unit, *name, expires_days);
  if (!issued.ok()) return ErrorResponse(issued.status());
  json doc = TokenToJson(issued->token);
  doc["token"] = issued->secret;  // shown once; only its hash is kept
  return JsonResponse(201, doc);
}

HttpResponse OrgHandlers::RevokeToken(const RequestContext& ctx) const {
  const Principal& p = *ctx.principal;
  StatusOr<accounts::ApiToken> token = store_.GetApiToken(IdParam(ctx));
  if (!token.ok()) return ErrorResponse(token.status());
  const int64_t self_id = p.kind == Principal::Kind::kUser ? p.id : p.user_id_for_token;
  if (token->created_by_user_id != self_id && !p.Has(Permission::kManageUsers)) {
    return HttpResponse::Error(403, "permission_denied", "you can revoke only your own tokens");
  }
  Status st = store_.RevokeApiToken(ctx.actor, token->id);
  if (!st.ok()) return ErrorResponse(st);
  return NoContent();
}

// ---- hosts

HttpResponse OrgHandlers::AssignHost(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"unit_id"}, &error)) return error;
  std::optional<int64_t> unit_id;
  if (!GetInt(*body, "unit_id", &unit_id, &error)) return error;
  if (!unit_id) return BadParam("unit_id", "required");
  if (!ctx.principal->InScope(*unit_id)) return OutOfScope("unit " + std::to_string(*unit_id));
  const std::string agent_id = PathParam(ctx.request, "id");
  Status st = store_.AssignHost(ctx.actor, agent_id, *unit_id);
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, json{{"id", agent_id}, {"unit_id", *unit_id}});
}

}  // namespace steadfast::collector::api
