// The commented examples of the hardware and OS checks in deploy/config/agent.yaml must stay
// valid: each one, uncommented, is parsed and validated like a real config.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "agent/agent_config.h"
#include "agent/check_registry.h"
#include "agent/testing/test_util.h"
#include "common/fs/file_system.h"

namespace steadfast::agent {
namespace {

TEST(HardwareExamplesTest, CommentedExamplesInAgentYamlAreValid) {
  auto fs = NewPosixFileSystem();
  auto yaml = fs->ReadFile(SF_AGENT_EXAMPLE_CONFIG);
  ASSERT_TRUE(yaml.ok()) << yaml.status().ToString();
  CheckRegistry registry;
  RegisterBuiltinChecks(registry);
  const std::set<std::string> ours = {"disk_health", "raid",      "sensors", "interface",
                                      "service",     "time_sync", "patches"};
  std::set<std::string> seen;
  for (const std::string& block : testing::CommentedCheckExamples(*yaml)) {
    auto type_at = block.find("type: ");
    ASSERT_NE(type_at, std::string::npos) << block;
    std::string type = block.substr(type_at + 6, block.find('\n', type_at) - type_at - 6);
    if (ours.count(type) == 0) continue;
    seen.insert(type);
    auto config = ParseAgentConfigText(
        "collector_url: http://127.0.0.1:8080\nenrollment_token: x\nchecks:\n" + block,
        "agent.yaml", registry);
    EXPECT_TRUE(config.ok()) << type << ": " << config.status().ToString() << "\n" << block;
  }
  EXPECT_EQ(seen, ours);
}

}  // namespace
}  // namespace steadfast::agent
