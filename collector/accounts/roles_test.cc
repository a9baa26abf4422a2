#include "collector/accounts/roles.h"

#include "collector/auth/auth_config.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace steadfast::collector::accounts {
namespace {

TEST(RolesTest, NamesRoundTrip) {
  std::set<std::string_view> names;
  for (Role r : kAllRoles) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
    names.insert(RoleName(r));
  }
  EXPECT_EQ(names.size(), std::size(kAllRoles));
  EXPECT_FALSE(ParseRole("Admin").has_value());
  EXPECT_FALSE(ParseRole("root").has_value());
  std::set<std::string_view> permissions;
  for (Permission p : kAllPermissions) permissions.insert(PermissionName(p));
  EXPECT_EQ(permissions.size(), std::size(kAllPermissions));
}

// The table of docs/ACCOUNTS.md, "Roles and scope", row by row.
// auth::kRoleNames (what the `auth:` config accepts, e.g. totp_required_roles) must name
// exactly these roles, in the same order.
TEST(RolesTest, TheAuthConfigKnowsExactlyTheseRoles) {
  ASSERT_EQ(std::size(auth::kRoleNames), std::size(kAllRoles));
  for (size_t i = 0; i < std::size(kAllRoles); ++i) EXPECT_EQ(auth::kRoleNames[i], RoleName(kAllRoles[i]));
  EXPECT_EQ(RoleNames({Role::kViewer, Role::kAdmin}), (std::vector<std::string>{"viewer", "admin"}));
}

TEST(RolesTest, GrantsMatchTheDocumentedTable) {
  const std::map<std::string, std::set<std::string>> table = {
      {"read", {"admin", "unit_admin", "operator", "inspector", "manager", "viewer"}},
      {"operate", {"admin", "unit_admin", "operator"}},
      {"inspect", {"admin", "inspector"}},
      {"sign_off", {"admin", "manager"}},
      {"manage_users", {"admin", "unit_admin"}},
      {"manage_org", {"admin", "unit_admin"}},
      {"manage_assets", {"admin", "unit_admin"}},
      {"read_audit", {"admin", "unit_admin", "manager"}},
      {"verify_audit", {"admin"}},
      {"manage_alerting", {"admin"}},
      {"self", {"admin", "unit_admin", "operator", "inspector", "manager", "viewer"}},
  };
  ASSERT_EQ(table.size(), std::size(kAllPermissions));
  for (Permission p : kAllPermissions) {
    const auto& holders = table.at(std::string(PermissionName(p)));
    for (Role r : kAllRoles) {
      EXPECT_EQ(RoleGrants(r, p), holders.count(std::string(RoleName(r))) == 1)
          << RoleName(r) << " / " << PermissionName(p);
    }
  }
}

TEST(PrincipalTest, PermissionsAreTheUnionOfRolesAndScopeIsTheUnitList) {
  Principal p;
  p.roles = {Role::kInspector, Role::kManager};
  p.unit_id = 3;
  p.scope_unit_ids = {3, 4};
  EXPECT_TRUE(p.Has(Permission::kInspect));
  EXPECT_TRUE(p.Has(Permission::kSignOff));
  EXPECT_FALSE(p.Has(Permission::kOperate));
  EXPECT_TRUE(p.HasRole(Role::kManager));
  EXPECT_FALSE(p.HasRole(Role::kAdmin));
  EXPECT_TRUE(p.InScope(4));
  EXPECT_FALSE(p.InScope(1));
  p.centre_wide = true;
  EXPECT_TRUE(p.InScope(1));
  EXPECT_TRUE(p.InScope(12345));
}

}  // namespace
}  // namespace steadfast::collector::accounts
