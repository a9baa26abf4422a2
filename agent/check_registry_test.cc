#include "agent/check_registry.h"

#include <gtest/gtest.h>

#include "agent/testing/test_util.h"

namespace steadfast::agent {
namespace {

using testing::SpecFromYaml;

class NullCheck final : public Check {
 public:
  using Check::Check;
  std::vector<protocol::CheckResult> Run(const CheckContext&) override { return {}; }
};

TEST(CheckRegistryTest, BuiltinsAreRegistered) {
  CheckRegistry registry;
  RegisterBuiltinChecks(registry);
  // Every built-in type; the list grows as checks are added.
  for (const char* type : {"filesystem", "system", "tcp", "ups", "antivirus", "snmp", "disk_health",
                           "raid", "sensors", "interface", "service", "time_sync", "patches"}) {
    EXPECT_TRUE(registry.Has(type)) << type;
  }
  auto check = registry.Create(SpecFromYaml("{name: sys, type: system}"));
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ((*check)->name(), "sys");
}

TEST(CheckRegistryTest, DuplicateTypeIsRefused) {
  CheckRegistry registry;
  auto factory = [](const CheckSpec& spec) -> StatusOr<std::unique_ptr<Check>> {
    return std::unique_ptr<Check>(std::make_unique<NullCheck>(spec.name));
  };
  ASSERT_TRUE(registry.Register("null", factory).ok());
  Status again = registry.Register("null", factory);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(registry.Has("null"));
  EXPECT_FALSE(registry.Has("system"));
}

TEST(CheckRegistryTest, UnknownTypeNamesFileLineAndKey) {
  CheckRegistry registry;
  RegisterBuiltinChecks(registry);
  auto check = registry.Create(SpecFromYaml("name: x\ntype: smart\n"));
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.status().code(), StatusCode::kInvalidArgument);
  // The known list is every registered type, sorted; it grows as checks are added.
  EXPECT_EQ(check.status().message().rfind(
                "agent.yaml:2: type: unknown check type 'smart' (known: ", 0),
            0u)
      << check.status().message();
  EXPECT_NE(check.status().message().find("filesystem, "), std::string::npos);
}

}  // namespace
}  // namespace steadfast::agent
