// LdapDirectory: checks a username and password against a directory and says who the person is
// and which groups they are in (docs/ACCOUNTS.md, "LDAP"). OpenLdapDirectory
// (open_ldap_directory.h) speaks LDAP through libldap; FakeLdapDirectory
// (fake_ldap_directory.h, test targets only) keeps entries in memory; ldap_directory_conformance.h
// holds the behaviour both must show.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace steadfast::collector::auth {

struct LdapIdentity {
  std::string dn;            // the entry the password was checked against
  std::string display_name;  // display_name_attribute's first value, or ""
  std::string email;         // email_attribute's first value, or ""
  std::vector<std::string>
      groups;  // DNs of the groups group_filter found, in the server's spelling
};

class LdapDirectory {
 public:
  virtual ~LdapDirectory() = default;

  // Checks `password` for the directory user named `username` (matched as the directory
  // matches it, typically case-insensitively). Codes:
  // - Unauthenticated: wrong password, unknown user, a name matching several entries, or an
  //   empty password — refused before anything is sent, since a simple bind with a DN and an
  //   empty password is an anonymous bind that many servers answer with "success";
  // - Unavailable: the directory cannot be reached, times out, refuses TLS or the service
  //   account; the message names the URL, never the password.
  // Thread-safe; may block for up to a few times the configured timeout.
  virtual StatusOr<LdapIdentity> Authenticate(const std::string& username,
                                              const std::string& password) = 0;
};

}  // namespace steadfast::collector::auth
