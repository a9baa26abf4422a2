#include "collector/accounts/roles.h"

#include <algorithm>

namespace steadfast::collector::accounts {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kUnitAdmin: return "unit_admin";
    case Role::kOperator: return "operator";
    case Role::kInspector: return "inspector";
    case Role::kManager: return "manager";
    case Role::kViewer: return "viewer";
  }
  return "viewer";
}

std::vector<std::string> RoleNames(const std::vector<Role>& roles) {
  std::vector<std::string> out;
  out.reserve(roles.size());
  for (Role r : roles) out.emplace_back(RoleName(r));
  return out;
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : kAllRoles) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead: return "read";
    case Permission::kOperate: return "operate";
    case Permission::kInspect: return "inspect";
    case Permission::kSignOff: return "sign_off";
    case Permission::kManageUsers: return "manage_users";
    case Permission::kManageOrg: return "manage_org";
    case Permission::kManageAssets: return "manage_assets";
    case Permission::kReadAudit: return "read_audit";
    case Permission::kVerifyAudit: return "verify_audit";
    case Permission::kManageAlerting: return "manage_alerting";
    case Permission::kSelf: return "self";
  }
  return "read";
}

bool RoleGrants(Role role, Permission permission) {
  if (permission == Permission::kRead || permission == Permission::kSelf) return true;
  switch (role) {
    case Role::kAdmin:
      return true;
    case Role::kUnitAdmin:
      return permission == Permission::kOperate || permission == Permission::kManageUsers ||
             permission == Permission::kManageOrg || permission == Permission::kManageAssets ||
             permission == Permission::kReadAudit;
    case Role::kOperator:
      return permission == Permission::kOperate;
    case Role::kInspector:
      return permission == Permission::kInspect;
    case Role::kManager:
      return permission == Permission::kSignOff || permission == Permission::kReadAudit;
    case Role::kViewer:
      return false;
  }
  return false;
}

bool Principal::Has(Permission permission) const {
  return std::any_of(roles.begin(), roles.end(), [permission](Role r) { return RoleGrants(r, permission); });
}

bool Principal::HasRole(Role role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }

bool Principal::InScope(int64_t unit_id) const {
  if (centre_wide) return true;
  return std::find(scope_unit_ids.begin(), scope_unit_ids.end(), unit_id) != scope_unit_ids.end();
}

}  // namespace steadfast::collector::accounts
