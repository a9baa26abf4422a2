// FakeLdapDirectory: an LdapDirectory kept in memory (test targets only). Held to
// OpenLdapDirectory against a real slapd by ldap_directory_conformance.h. Thread-safe.
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "collector/auth/ldap_directory.h"

namespace steadfast::collector::auth::testing {

class FakeLdapDirectory final : public LdapDirectory {
 public:
  explicit FakeLdapDirectory(std::string url = "ldap://fake-directory.invalid")
      : url_(std::move(url)) {}

  // Adds or replaces the user `username` (matched ignoring ASCII case, as uid is in LDAP).
  void SetUser(const std::string& username, const std::string& password, LdapIdentity identity) {
    std::lock_guard<std::mutex> lock(mu_);
    users_[Key(username)] = Entry{password, std::move(identity)};
  }
  void SetGroups(const std::string& username, std::vector<std::string> groups) {
    std::lock_guard<std::mutex> lock(mu_);
    users_[Key(username)].identity.groups = std::move(groups);
  }
  // Unavailable from now on (the server is down), or back.
  void SetAvailable(bool available) {
    std::lock_guard<std::mutex> lock(mu_);
    available_ = available;
  }
  // Authenticate calls so far, refused ones included.
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  StatusOr<LdapIdentity> Authenticate(const std::string& username,
                                      const std::string& password) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    if (password.empty()) {
      return UnauthenticatedError("empty password refused before binding (an anonymous bind)");
    }
    if (!available_) {
      return UnavailableError("LDAP " + url_ + ": cannot connect: Can't contact LDAP server");
    }
    auto it = users_.find(Key(username));
    if (it == users_.end()) {
      return UnauthenticatedError("no directory entry for '" + username + "'");
    }
    if (it->second.password != password) {
      return UnauthenticatedError("the directory refused the password for '" +
                                  it->second.identity.dn + "'");
    }
    return it->second.identity;
  }

 private:
  struct Entry {
    std::string password;
    LdapIdentity identity;
  };
  static std::string Key(std::string username) {
    std::transform(username.begin(), username.end(), username.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return username;
  }

  const std::string url_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> users_;  // guarded by mu_
  bool available_ = true;               // guarded by mu_
  int calls_ = 0;                       // guarded by mu_
};

}  // namespace steadfast::collector::auth::testing
