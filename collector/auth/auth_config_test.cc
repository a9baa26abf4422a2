#include "collector/auth/auth_config.h"

#include <gtest/gtest.h>

#include "collector/auth/fake_secure_random.h"
#include "common/config/config_node.h"

namespace steadfast::collector::auth {
namespace {

constexpr int64_t kMin = 60'000;

StatusOr<AuthConfig> ParseYaml(const std::string& yaml) {
  SF_ASSIGN_OR_RETURN(auto doc, config::ConfigDocument::Parse(yaml, "collector.yaml"));
  return ParseAuthConfig(doc.root()["auth"]);
}

TEST(AuthConfigTest, AbsentSectionGivesTheDefaults) {
  auto c = ParseYaml("listen: 127.0.0.1:8080\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->password_policy.preset, PasswordPreset::kMlps2);
  EXPECT_EQ(c->session.idle_timeout_ms, 30 * kMin);
  EXPECT_EQ(c->session.absolute_lifetime_ms, 720 * kMin);
  EXPECT_EQ(c->account_lockout.threshold, 5);
  EXPECT_EQ(c->address_lockout.threshold, 20);
  EXPECT_EQ(c->address_table_size, 10'000u);
  EXPECT_EQ(c->argon2.memory_kib, 65536u);
  EXPECT_EQ(c->argon2.iterations, 3u);
  EXPECT_EQ(c->argon2.parallelism, 4u);
  EXPECT_TRUE(c->totp_required_roles.empty());
  EXPECT_EQ(c->totp_issuer, "Steadfast");
  EXPECT_EQ(c->totp_window, 1);
  // The defaults are themselves valid.
  AuthConfig d;
  EXPECT_TRUE(d.password_policy.Validate().ok());
  EXPECT_TRUE(d.session.Validate().ok());
  EXPECT_TRUE(d.account_lockout.Validate().ok());
  EXPECT_TRUE(d.address_lockout.Validate().ok());
  EXPECT_TRUE(ValidateArgon2Options(d.argon2).ok());
}

TEST(AuthConfigTest, ReadsEverySection) {
  auto c = ParseYaml(R"(auth:
  password_policy: {preset: mlps3, min_length: 12}
  session: {idle_timeout: 10m, absolute_lifetime: 8h}
  lockout:
    account: {threshold: 3, first_delay: 5m, growth_factor: 3, max_delay: 2h, reset_after: 1h}
    address: {threshold: 50, table_size: 500}
  argon2: {memory: 128MiB, iterations: 2, parallelism: 2, max_concurrent: 8}
  totp_required_roles: [viewer, admin]
  totp_issuer: Coal Group IT
  totp_window: 2
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->password_policy.preset, PasswordPreset::kMlps3);
  EXPECT_EQ(c->password_policy.min_length, 12);
  EXPECT_EQ(c->session.idle_timeout_ms, 10 * kMin);
  EXPECT_EQ(c->session.absolute_lifetime_ms, 480 * kMin);
  EXPECT_EQ(c->account_lockout.threshold, 3);
  EXPECT_EQ(c->account_lockout.first_delay_ms, 5 * kMin);
  EXPECT_EQ(c->account_lockout.growth_factor, 3.0);
  EXPECT_EQ(c->account_lockout.max_delay_ms, 120 * kMin);
  EXPECT_EQ(c->account_lockout.reset_after_ms, 60 * kMin);
  EXPECT_EQ(c->address_lockout.threshold, 50);
  EXPECT_EQ(c->address_lockout.first_delay_ms, kMin);  // address defaults kept
  EXPECT_EQ(c->address_table_size, 500u);
  EXPECT_EQ(c->argon2.memory_kib, 128u * 1024);
  EXPECT_EQ(c->argon2.iterations, 2u);
  EXPECT_EQ(c->argon2.parallelism, 2u);
  EXPECT_EQ(c->argon2.max_concurrent, 8);
  EXPECT_EQ(c->totp_required_roles, (std::vector<std::string>{"admin", "viewer"}));
  EXPECT_EQ(c->totp_issuer, "Coal Group IT");
  EXPECT_EQ(c->totp_window, 2);
}

TEST(AuthConfigTest, TotpRequiredForAnyListedRole) {
  AuthConfig c = ParseYaml("auth:\n  totp_required_roles: [admin, unit_admin]\n").value();
  EXPECT_TRUE(c.TotpRequiredFor({"admin"}));
  EXPECT_TRUE(c.TotpRequiredFor({"viewer", "unit_admin"}));
  EXPECT_FALSE(c.TotpRequiredFor({"viewer", "operator"}));
  EXPECT_FALSE(c.TotpRequiredFor({}));
  EXPECT_FALSE(AuthConfig{}.TotpRequiredFor({"admin"}));
}

TEST(AuthConfigTest, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"auth:\n  pasword_policy: {}\n",
       "collector.yaml:2: auth.pasword_policy: unknown key (known keys here: password_policy, session, lockout, "
       "argon2, totp_required_roles, totp_issuer, totp_window, ldap)"},
      {"auth: yes\n", "collector.yaml:1: auth: expected a mapping (key: value)"},
      {"auth:\n  password_policy:\n    preset: mlps3\n    history: 2\n",
       "collector.yaml:4: auth.password_policy.history: history 2 is below preset mlps3's 5"},
      {"auth:\n  session:\n    idle_timeout: forever\n",
       "collector.yaml:3: auth.session.idle_timeout: expected a duration like 30s, 5m or 250ms, got 'forever'"},
      {"auth:\n  lockout:\n    account:\n      threshold: 0\n",
       "collector.yaml:4: auth.lockout.account.threshold: must be between 1 and 1000, got 0"},
      {"auth:\n  lockout:\n    account:\n      table_size: 10\n",
       "collector.yaml:4: auth.lockout.account.table_size: unknown key (known keys here: threshold, first_delay, "
       "growth_factor, max_delay, reset_after)"},
      {"auth:\n  lockout:\n    address:\n      table_size: 10\n",
       "collector.yaml:4: auth.lockout.address.table_size: must be between 100 and 10000000, got 10"},
      {"auth:\n  lockout:\n    host: {}\n",
       "collector.yaml:3: auth.lockout.host: unknown key (known keys here: account, address)"},
      {"auth:\n  argon2:\n    memory: 1MiB\n",
       "collector.yaml:3: auth.argon2.memory: must be between 19MiB and 2GiB, got '1MiB'"},
      {"auth:\n  argon2:\n    memory: 65536\n",
       "collector.yaml:3: auth.argon2.memory: expected a size like 64MiB, 19456KiB or 1GiB, got '65536'"},
      {"auth:\n  argon2:\n    memory: 3GiB\n",
       "collector.yaml:3: auth.argon2.memory: must be between 19MiB and 2GiB, got '3GiB'"},
      {"auth:\n  argon2:\n    iterations: 0\n",
       "collector.yaml:3: auth.argon2.iterations: must be between 1 and 10, got 0"},
      {"auth:\n  argon2:\n    parallelism: 17\n",
       "collector.yaml:3: auth.argon2.parallelism: must be between 1 and 16, got 17"},
      {"auth:\n  argon2:\n    salt: 8\n",
       "collector.yaml:3: auth.argon2.salt: unknown key (known keys here: memory, iterations, parallelism, "
       "max_concurrent)"},
      {"auth:\n  totp_required_roles:\n    - admin\n    - superuser\n",
       "collector.yaml:4: auth.totp_required_roles[1]: unknown role 'superuser' (roles: admin, unit_admin, "
       "operator, inspector, manager, viewer)"},
      {"auth:\n  totp_required_roles: [admin, admin]\n",
       "collector.yaml:2: auth.totp_required_roles[1]: role 'admin' is listed twice"},
      {"auth:\n  totp_required_roles: admin\n", "collector.yaml:2: auth.totp_required_roles: expected a list"},
      {"auth:\n  totp_issuer: \"Steadfast: Mine\"\n",
       "collector.yaml:2: auth.totp_issuer: must be 1 to 100 characters without ':'"},
      {"auth:\n  totp_window: 11\n", "collector.yaml:2: auth.totp_window: must be between 0 and 10, got 11"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseYaml(c.yaml);
    ASSERT_FALSE(parsed.ok()) << c.yaml;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parsed.status().message(), c.message) << c.yaml;
  }
}

TEST(AuthConfigTest, RoleNamesAreTheSixOfTheDesign) {
  EXPECT_EQ(std::size(kRoleNames), 6u);
  EXPECT_EQ(kRoleNames[0], "admin");
  EXPECT_EQ(kRoleNames[5], "viewer");
}

TEST(AuthConfigTest, TheExampleConfigBlockParses) {
  auto doc = config::ConfigDocument::Load(SF_COLLECTOR_EXAMPLE_CONFIG);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const config::ConfigNode auth = doc->root()["auth"];
  ASSERT_TRUE(auth.present()) << "deploy/config/collector.yaml has no auth: section";
  auto c = ParseAuthConfig(auth);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // The example says its values are the defaults, except totp_required_roles.
  AuthConfig d;
  EXPECT_EQ(c->password_policy.preset, d.password_policy.preset);
  EXPECT_EQ(c->password_policy.min_length, d.password_policy.min_length);
  EXPECT_EQ(c->password_policy.max_length, d.password_policy.max_length);
  EXPECT_EQ(c->password_policy.min_classes, d.password_policy.min_classes);
  EXPECT_EQ(c->password_policy.history, d.password_policy.history);
  EXPECT_EQ(c->password_policy.max_age_ms, d.password_policy.max_age_ms);
  EXPECT_EQ(c->session.idle_timeout_ms, d.session.idle_timeout_ms);
  EXPECT_EQ(c->session.absolute_lifetime_ms, d.session.absolute_lifetime_ms);
  for (auto [got, want] : {std::pair{c->account_lockout, d.account_lockout},
                           std::pair{c->address_lockout, d.address_lockout}}) {
    EXPECT_EQ(got.threshold, want.threshold);
    EXPECT_EQ(got.first_delay_ms, want.first_delay_ms);
    EXPECT_EQ(got.growth_factor, want.growth_factor);
    EXPECT_EQ(got.max_delay_ms, want.max_delay_ms);
    EXPECT_EQ(got.reset_after_ms, want.reset_after_ms);
  }
  EXPECT_EQ(c->address_table_size, d.address_table_size);
  EXPECT_EQ(c->argon2.memory_kib, d.argon2.memory_kib);
  EXPECT_EQ(c->argon2.iterations, d.argon2.iterations);
  EXPECT_EQ(c->argon2.parallelism, d.argon2.parallelism);
  EXPECT_EQ(c->argon2.max_concurrent, d.argon2.max_concurrent);
  EXPECT_EQ(c->totp_required_roles, (std::vector<std::string>{"admin", "unit_admin"}));
  EXPECT_EQ(c->totp_issuer, d.totp_issuer);
  EXPECT_EQ(c->totp_window, d.totp_window);
}

}  // namespace
}  // namespace steadfast::collector::auth
