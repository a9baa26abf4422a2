#include "collector/auth/auth_config.h"

#include <algorithm>
#include <cctype>

#include "collector/auth/totp.h"

namespace steadfast::collector::auth {
namespace {

// "64MiB", "19456KiB", "1GiB" -> KiB. A unit is required: a bare number would be ambiguous
// between bytes (our other sizes) and KiB (argon2's m).
StatusOr<uint32_t> MemoryKib(const config::ConfigNode& node, uint32_t fallback) {
  if (!node.present()) return fallback;
  SF_ASSIGN_OR_RETURN(std::string text, node.String());
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string unit = text.substr(digits);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  uint64_t mult = unit == "KiB" ? 1 : unit == "MiB" ? 1024 : unit == "GiB" ? 1024 * 1024 : 0;
  if (digits == 0 || digits > 9 || mult == 0) {
    return node.Error("expected a size like 64MiB, 19456KiB or 1GiB, got '" + text + "'");
  }
  uint64_t kib = std::stoull(text.substr(0, digits)) * mult;
  if (kib < kConfigMinArgon2MemoryKib || kib > kConfigMaxArgon2MemoryKib) {
    return node.Error("must be between 19MiB and 2GiB, got '" + text + "'");
  }
  return static_cast<uint32_t>(kib);
}

Status ParseArgon2(const config::ConfigNode& node, Argon2Options* out) {
  SF_RETURN_IF_ERROR(node.CheckNoUnknownKeys({"memory", "iterations", "parallelism", "max_concurrent"}));
  SF_ASSIGN_OR_RETURN(out->memory_kib, MemoryKib(node["memory"], out->memory_kib));
  SF_ASSIGN_OR_RETURN(int64_t t, node["iterations"].Int(out->iterations, 1, 10));
  SF_ASSIGN_OR_RETURN(int64_t p, node["parallelism"].Int(out->parallelism, 1, 16));
  SF_ASSIGN_OR_RETURN(int64_t c, node["max_concurrent"].Int(out->max_concurrent, 1, 64));
  out->iterations = static_cast<uint32_t>(t);
  out->parallelism = static_cast<uint32_t>(p);
  out->max_concurrent = static_cast<int>(c);
  Status valid = ValidateArgon2Options(*out);
  if (!valid.ok()) return node.Error(valid.message());
  return OkStatus();
}

}  // namespace

bool AuthConfig::TotpRequiredFor(const std::vector<std::string>& role_names) const {
  return std::any_of(role_names.begin(), role_names.end(), [this](const std::string& role) {
    return std::binary_search(totp_required_roles.begin(), totp_required_roles.end(), role);
  });
}

StatusOr<AuthConfig> ParseAuthConfig(const config::ConfigNode& node) {
  SF_RETURN_IF_ERROR(node.CheckNoUnknownKeys({"password_policy", "session", "lockout", "argon2",
                                              "totp_required_roles", "totp_issuer", "totp_window", "ldap"}));
  AuthConfig c;
  SF_ASSIGN_OR_RETURN(c.password_policy, ParsePasswordPolicy(node["password_policy"]));
  SF_ASSIGN_OR_RETURN(c.session, ParseSessionPolicy(node["session"]));

  const config::ConfigNode lockout = node["lockout"];
  SF_RETURN_IF_ERROR(lockout.CheckNoUnknownKeys({"account", "address"}));
  SF_ASSIGN_OR_RETURN(c.account_lockout, ParseLockoutPolicy(lockout["account"], c.account_lockout));
  const config::ConfigNode address = lockout["address"];
  SF_ASSIGN_OR_RETURN(c.address_lockout, ParseLockoutPolicy(address, c.address_lockout, {"table_size"}));
  SF_ASSIGN_OR_RETURN(int64_t table_size,
                      address["table_size"].Int(static_cast<int64_t>(c.address_table_size), 100, 10'000'000));
  c.address_table_size = static_cast<size_t>(table_size);

  SF_RETURN_IF_ERROR(ParseArgon2(node["argon2"], &c.argon2));

  SF_ASSIGN_OR_RETURN(std::vector<config::ConfigNode> roles, node["totp_required_roles"].Items());
  for (const config::ConfigNode& item : roles) {
    SF_ASSIGN_OR_RETURN(std::string role, item.RequiredString());
    if (std::find(std::begin(kRoleNames), std::end(kRoleNames), role) == std::end(kRoleNames)) {
      return item.Error("unknown role '" + role +
                        "' (roles: admin, unit_admin, operator, inspector, manager, viewer)");
    }
    if (std::find(c.totp_required_roles.begin(), c.totp_required_roles.end(), role) !=
        c.totp_required_roles.end()) {
      return item.Error("role '" + role + "' is listed twice");
    }
    c.totp_required_roles.push_back(role);
  }
  std::sort(c.totp_required_roles.begin(), c.totp_required_roles.end());

  SF_ASSIGN_OR_RETURN(c.totp_issuer, node["totp_issuer"].String(c.totp_issuer));
  if (c.totp_issuer.empty() || c.totp_issuer.size() > 100 || c.totp_issuer.find(':') != std::string::npos) {
    return node["totp_issuer"].Error("must be 1 to 100 characters without ':'");
  }
  SF_ASSIGN_OR_RETURN(int64_t window, node["totp_window"].Int(c.totp_window, 0, kTotpMaxWindow));
  c.totp_window = static_cast<int>(window);
  if (node["ldap"].present()) {
    SF_ASSIGN_OR_RETURN(c.ldap, ParseLdapConfig(node["ldap"]));
  }
  return c;
}

}  // namespace steadfast::collector::auth
