// AuthConfig: every authentication setting, read from the `auth:` section of the collector
// config (deploy/config/collector.yaml shows every key with its meaning; auth_test parses it).
//
//   auth:
//     password_policy: {preset: mlps3, min_length: 12}   # password_policy.h
//     session: {idle_timeout: 30m, absolute_lifetime: 12h}  # session_policy.h
//     lockout:                                            # lockout.h
//       account: {threshold: 5, first_delay: 10m, growth_factor: 2, max_delay: 1h, reset_after: 30m}
//       address: {threshold: 20, first_delay: 1m, growth_factor: 2, max_delay: 15m, reset_after: 15m,
//                 table_size: 10000}
//     argon2: {memory: 64MiB, iterations: 3, parallelism: 4, max_concurrent: 4}  # password_hasher.h
//     totp_required_roles: [admin]                         # role names; [] = TOTP optional
//     totp_issuer: Steadfast                               # shown in authenticator apps
//     totp_window: 1                                       # +- steps of 30 s accepted
//     ldap: {url: ..., group_mappings: [...], ...}         # optional; ldap_config.h
//
// Every key is optional; an absent `auth:` gives AuthConfig{} (the defaults below). Unknown
// keys are errors. The collector's config loader calls ParseAuthConfig(root["auth"]).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/auth/ldap_config.h"
#include "collector/auth/lockout.h"
#include "collector/auth/password_hasher.h"
#include "collector/auth/password_policy.h"
#include "collector/auth/session_policy.h"
#include "common/config/config_node.h"
#include "common/status.h"

namespace steadfast::collector::auth {

// The role names of docs/ACCOUNTS.md. collector/accounts owns the Role enum (and depends on
// this library, not the other way round); its tests hold the two lists equal.
inline constexpr std::string_view kRoleNames[] = {"admin",     "unit_admin", "operator",
                                                  "inspector", "manager",    "viewer"};

// Floors the config applies to argon2 on top of ValidateArgon2Options: at least 19 MiB of
// memory (the OWASP Password Storage Cheat Sheet's minimum argon2id configuration, m=19 MiB,
// t=2, p=1), at most 2 GiB (RFC 9106's first recommendation); 1..10 iterations; 1..16 lanes.
inline constexpr uint32_t kConfigMinArgon2MemoryKib = 19 * 1024;
inline constexpr uint32_t kConfigMaxArgon2MemoryKib = 2 * 1024 * 1024;

struct AuthConfig {
  PasswordPolicy password_policy = PasswordPolicy::FromPreset(PasswordPreset::kMlps2);
  SessionPolicy session;
  LockoutPolicy account_lockout = DefaultAccountLockout();
  LockoutPolicy address_lockout = DefaultAddressLockout();
  size_t address_table_size = 10'000;  // AddressThrottle entries (about 100 bytes each)
  Argon2Options argon2;
  // Users holding any of these roles must have TOTP: at login without it they may only enrol
  // (accounts::Principal::totp_enrollment_required). Sorted, no duplicates.
  std::vector<std::string> totp_required_roles;
  std::string totp_issuer = "Steadfast";  // no ':' (it separates issuer and account in URIs)
  int totp_window = 1;                    // 0..kTotpMaxWindow
  // LDAP login; unset = local accounts only.
  std::optional<LdapConfig> ldap;

  // True when any of `role_names` is in totp_required_roles.
  bool TotpRequiredFor(const std::vector<std::string>& role_names) const;
};

// Reads the `auth:` node (absent -> defaults). InvalidArgument "file:line: auth.x.y: ..." for
// an unknown key, a wrong type, a value out of range, an unknown role name, a password
// policy looser than its preset, or a bad `ldap:` section (ParseLdapConfig).
StatusOr<AuthConfig> ParseAuthConfig(const config::ConfigNode& node);

}  // namespace steadfast::collector::auth
