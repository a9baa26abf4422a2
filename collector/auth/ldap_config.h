// LdapConfig: the optional `auth.ldap:` section (docs/ACCOUNTS.md, "LDAP"), and the pure
// mapping from a user's directory groups to Steadfast roles and unit.
//
//   auth:
//     ldap:
//       url: ldap://ldap.example.org          # ldap:// or ldaps://; several space-separated
//       start_tls: false                      # StartTLS on ldap:// (not with ldaps://)
//       ca_file: /etc/ssl/certs/ldap-ca.pem   # optional; else the system's CAs
//       timeout: 5s                           # connect and each operation
//       # The user's DN: a template (the name is DN-escaped) ...
//       user_dn_template: "uid={username},ou=people,dc=example,dc=org"
//       # ... or a search as a service account (the name is filter-escaped):
//       bind_dn: "cn=steadfast,dc=example,dc=org"
//       bind_password_file: /etc/steadfast/ldap.password
//       user_base: "ou=people,dc=example,dc=org"
//       user_filter: "(uid={username})"
//       display_name_attribute: cn
//       email_attribute: mail
//       group_base: "ou=groups,dc=example,dc=org"
//       group_filter: "(member={dn})"         # {dn}: the user's DN; {username}
//       group_mappings:
//         - {group: "cn=sf-admins,ou=groups,dc=example,dc=org", roles: [admin], unit: centre}
//         - {group: "cn=county-ops,ou=groups,dc=example,dc=org", roles: [operator, viewer], unit:
//         county}
//       default_unit: centre                  # for users whose groups name no unit
//
// Secrets are never inline: `bind_password` is refused; the service account's password is read
// from bind_password_file when the collector starts (OpenLdapDirectory::Create).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config_node.h"
#include "common/status.h"

namespace steadfast::collector::auth {

struct LdapGroupMapping {
  std::string group_dn;            // compared with SameLdapDn
  std::vector<std::string> roles;  // names from kRoleNames, at least one, no duplicates
  std::string unit_code;           // accounts::Unit::code; "" = this group names no unit
};

struct LdapConfig {
  std::string url;  // one or more space-separated ldap:// or ldaps:// URIs, tried in order
  bool start_tls = false;
  std::string ca_file;  // PEM; "" = the TLS library's default CAs
  int64_t timeout_ms = 5'000;
  // Template mode when set: the user binds as this DN with {username} replaced (DN-escaped).
  std::string user_dn_template;
  // Search mode (user_dn_template empty): bind as bind_dn, find exactly one entry under
  // user_base matching user_filter ({username} filter-escaped), then bind as that entry. In
  // template mode bind_dn is optional; when set, groups are searched as it rather than as the user.
  std::string bind_dn;
  std::string bind_password_file;
  std::string user_base;
  std::string user_filter = "(uid={username})";
  std::string display_name_attribute = "cn";
  std::string email_attribute = "mail";
  std::string group_base;
  std::string group_filter = "(member={dn})";
  std::vector<LdapGroupMapping> group_mappings;  // at least one; no group listed twice
  std::string default_unit;                      // required when a mapping names no unit

  bool search_mode() const { return user_dn_template.empty(); }
};

// Reads a present `ldap:` node. InvalidArgument "file:line: auth.ldap.key: reason" for an
// unknown key (an inline `bind_password` gets its own reason), a missing or malformed url,
// start_tls with ldaps://, both or neither of user_dn_template and user_base, a template or
// filter without its placeholder or with an unknown one ("{user}"), unbalanced parentheses, a
// search mode without bind_dn and bind_password_file, an unknown role, a malformed unit code,
// a group listed twice, or a mapping without a unit when there is no default_unit.
StatusOr<LdapConfig> ParseLdapConfig(const config::ConfigNode& node);

// What a user's groups grant.
struct LdapAccess {
  std::vector<std::string> roles;  // the union over every mapped group, in kRoleNames order
  std::string unit_code;  // the first mapping (config order) that matches and names a unit,
                          // else default_unit
};

// Maps the DNs of a user's groups to roles and unit; nullopt when none of them is mapped
// (such a user gets no access).
std::optional<LdapAccess> MapLdapGroups(const LdapConfig& config,
                                        const std::vector<std::string>& group_dns);

// Whether two DNs name the same entry as far as group mapping needs: ASCII case is ignored,
// spaces around the separators ',', '+' and '=' are ignored, and an escaped character compares
// equal whether written "\," or "\2C". (Values of case-sensitive attributes are conflated; group
// DNs use cn/ou/dc, which are case-insensitive.)
bool SameLdapDn(std::string_view a, std::string_view b);

}  // namespace steadfast::collector::auth
