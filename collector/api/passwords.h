// Passwords: the collector's password rules in one place — policy check, history, hashing,
// temporary passwords — over the primitives of collector/auth.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "collector/accounts/account_store.h"
#include "collector/auth/auth_config.h"
#include "collector/auth/password_hasher.h"
#include "collector/auth/secure_random.h"
#include "common/status.h"

namespace steadfast::collector::api {

class Passwords {
 public:
  Passwords(const auth::AuthConfig& config, auth::SecureRandom& random);

  // Checks `password` against the policy (and, for an existing user, the history of
  // `history_depth` previous passwords and the current one), then hashes it. InvalidArgument
  // whose message starts with "password: " naming every rule broken.
  StatusOr<std::string> HashNew(accounts::AccountStore& store, const std::string& password,
                                const std::string& username, const std::string& display_name,
                                int64_t existing_user_id) const;
  // A random password that satisfies the policy, for admin resets and new accounts; the user
  // must change it at first login.
  std::string Temporary() const;
  // Constant-time verification of `password` against a stored hash; when `encoded` is empty
  // (unknown user or no local password) runs a dummy verification so timing does not tell.
  bool Verify(const std::string& password, const std::string& encoded) const;
  int history_depth() const;
  bool IsExpired(int64_t changed_at_ms, int64_t now_ms) const;

 private:
  const auth::AuthConfig& config_;
  auth::SecureRandom& random_;
  std::unique_ptr<auth::PasswordHasher> hasher_;
};

}  // namespace steadfast::collector::api
