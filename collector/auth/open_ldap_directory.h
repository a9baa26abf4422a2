// OpenLdapDirectory: LdapDirectory over LDAPv3 with the OpenLDAP client library (libldap).
//
// One login: connect (ldap_initialize; protocol 3, no referrals, connect and operation timeout;
// StartTLS or ldaps:// with certificate checking demanded), find the user's DN (the template, or
// a search as the service account), simple-bind as it with the password, read the display name
// and email, and search group_base for the groups holding the user (as the service account
// when there is one, else as the user). A fresh connection per login: logins are rare, and a
// libldap connection must not be shared between threads. ldap.h stays inside the .cc.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "collector/auth/ldap_config.h"
#include "collector/auth/ldap_directory.h"
#include "common/fs/file_system.h"
#include "common/status.h"

namespace steadfast::collector::auth {

class OpenLdapDirectory final : public LdapDirectory {
 public:
  // Reads the service account's password from config.bind_password_file through `fs` (when
  // bind_dn is set). InvalidArgument "auth.ldap.bind_password_file: ..." when it is missing,
  // empty, or readable by everyone. Does not contact the directory.
  static StatusOr<std::unique_ptr<OpenLdapDirectory>> Create(const LdapConfig& config,
                                                             FileSystem& fs);

  // `bind_password` is the service account's ("" without bind_dn).
  OpenLdapDirectory(LdapConfig config, std::string bind_password);

  StatusOr<LdapIdentity> Authenticate(const std::string& username,
                                      const std::string& password) override;

 private:
  const LdapConfig config_;
  const std::string bind_password_;
};

// RFC 4515 escaping of a value placed into a filter: '*', '(', ')', '\', NUL and every byte
// outside ASCII become \xx (ldap_bv2escaped_filter_value).
std::string EscapeLdapFilterValue(std::string_view value);

// RFC 4514 escaping of a value placed into a DN as an attribute value (',', '+', '"', '\', '<',
// '>', ';', '=', NUL, a leading '#' or space, a trailing space; UTF-8 written as \xx), through
// libldap's DN writer. InvalidArgument when `value` is not valid UTF-8.
StatusOr<std::string> EscapeLdapDnValue(std::string_view value);

// `text` with every {username} and {dn} replaced by the given (already escaped) values.
std::string ExpandLdapPlaceholders(std::string_view text, std::string_view username,
                                   std::string_view dn);

}  // namespace steadfast::collector::auth
