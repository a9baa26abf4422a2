// Roles, permissions and principals (docs/ACCOUNTS.md, "Roles and scope").
//
// The role -> permission table lives in one place (roles.cc) so the route table, the tests
// and the documentation agree. Scope is separate from permission: a permission says what kind
// of action a role may take; the principal's scope says on which units' objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace steadfast::collector::accounts {

enum class Role { kAdmin, kUnitAdmin, kOperator, kInspector, kManager, kViewer };
inline constexpr Role kAllRoles[] = {Role::kAdmin,     Role::kUnitAdmin, Role::kOperator,
                                     Role::kInspector, Role::kManager,   Role::kViewer};

enum class Permission {
  kRead,          // hosts, checks, org tree, users' public fields, assets
  kOperate,       // acknowledge, comment, run plans
  kInspect,       // inspections; verify and clear findings
  kSignOff,       // review and sign off reports
  kManageUsers,   // users, roles, password resets, other people's API tokens
  kManageOrg,     // create, rename, move units (unit_admin: below their own unit only)
  kManageAssets,  // host assignment, equipment, allocations
  kReadAudit,
  kVerifyAudit,   // walk the whole chain
  kManageAlerting,  // reload the alerting config; on-call schedules and escalation policies
  kSelf,          // own session, password, TOTP, own API tokens
};
inline constexpr Permission kAllPermissions[] = {
    Permission::kRead,        Permission::kOperate,   Permission::kInspect,      Permission::kSignOff,
    Permission::kManageUsers, Permission::kManageOrg, Permission::kManageAssets, Permission::kReadAudit,
    Permission::kVerifyAudit, Permission::kManageAlerting, Permission::kSelf};

std::string_view RoleName(Role role);  // "admin", "unit_admin", ...
std::vector<std::string> RoleNames(const std::vector<Role>& roles);
std::optional<Role> ParseRole(std::string_view name);
std::string_view PermissionName(Permission permission);  // "read", "manage_users", ...

// The table of docs/ACCOUNTS.md.
bool RoleGrants(Role role, Permission permission);

// Who is calling: a logged-in user (session cookie) or an API token. Built by the API layer
// per request from the store; immutable afterwards.
struct Principal {
  enum class Kind { kUser, kApiToken };
  Kind kind = Kind::kUser;
  int64_t id = 0;            // user id or token id
  std::string name;          // username or token name
  std::vector<Role> roles;   // a token has exactly one
  int64_t unit_id = 0;
  // Units this principal may see and change: its unit and every descendant. Empty when
  // centre_wide — the admin role, or any role held at the centre unit — which means every
  // unit, including hosts never assigned to one.
  std::vector<int64_t> scope_unit_ids;
  bool centre_wide = false;
  // Session principals only.
  std::string session_public_id;
  bool must_change_password = false;
  bool totp_enrollment_required = false;  // a role requires TOTP and the user has none yet
  int64_t user_id_for_token = 0;          // token principals: the user who created the token
  std::string owner_username;             // token principals: that user's username

  bool Has(Permission permission) const;
  bool HasRole(Role role) const;
  bool InScope(int64_t unit_id) const;
};

}  // namespace steadfast::collector::accounts
