// The privilege recipes shipped in deploy/ for the checks that need more than the agent has
// (agent/README.md, "Running programs"): the sudoers rule for smartctl parses, and its argument
// patterns admit exactly the read-only invocations; the quickstart's generated agent config is
// valid with every check it finds on this machine.
#include <gtest/gtest.h>
#include <regex.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "agent/agent_config.h"
#include "agent/check_registry.h"
#include "agent/posix_command_runner.h"

namespace steadfast::agent {
namespace {

std::string DeployDir() {
  std::string config = SF_AGENT_EXAMPLE_CONFIG;  // <source>/deploy/config/agent.yaml
  return config.substr(0, config.rfind("/config/"));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DeployRecipesTest, SudoersRuleForSmartctlPassesVisudo) {
  const std::string path = DeployDir() + "/sudoers.d/steadfast-agent-smartctl";
  if (::access("/usr/sbin/visudo", X_OK) != 0) GTEST_SKIP() << "install sudo (for visudo)";
  PosixCommandRunner runner;
  CommandRequest req;
  req.argv = {"/usr/sbin/visudo", "-cf", path};
  auto r = runner.Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_NE(r->out.find("parsed OK"), std::string::npos) << r->out;
}

// sudo matches a "^...$" argument pattern as a POSIX extended regular expression against the
// arguments joined by single spaces; so does this test.
TEST(DeployRecipesTest, SudoersRuleAdmitsOnlyReadOnlySmartctlCommands) {
  const std::string text = ReadFile(DeployDir() + "/sudoers.d/steadfast-agent-smartctl");
  const std::string prefix = "/usr/sbin/smartctl ";
  size_t alias = text.find("Cmnd_Alias STEADFAST_SMARTCTL = ");
  ASSERT_NE(alias, std::string::npos);
  size_t start = text.find(prefix, alias);
  ASSERT_NE(start, std::string::npos);
  start += prefix.size();
  const std::string pattern = text.substr(start, text.find('\n', start) - start);
  ASSERT_EQ(pattern.front(), '^');
  regex_t re;
  ASSERT_EQ(::regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB), 0) << pattern;
  auto allowed = [&](const std::string& args) {
    return ::regexec(&re, args.c_str(), 0, nullptr, 0) == 0;
  };
  for (const char* ok : {"--scan --json", "--json --scan-open", "--json=c -a /dev/sda",
                         "-j -x -d sat /dev/sdb", "--json -a -d megaraid,3 /dev/bus/0",
                         "--json -a -d nvme /dev/nvme0", "-a -n standby /dev/sdc",
                         "--json -H /dev/disk/by-path/pci-0000:00:1f.2-ata-1"}) {
    EXPECT_TRUE(allowed(ok)) << ok;
  }
  for (const char* refused :
       {"--json -s off /dev/sda", "--json -t long /dev/sda", "-X /dev/sda", "-o off /dev/sda",
        "--json -a /dev/sda --set=standby,now", "--json -a /dev/../etc/shadow",
        "--json -a /dev/a/../../etc/shadow", "--json -a /etc/shadow", "-a /dev/sda; rm -rf /",
        "--json -a /dev/sda -S on", ""}) {
    EXPECT_FALSE(allowed(refused)) << refused;
  }
  ::regfree(&re);
}

TEST(DeployRecipesTest, SmartctlDropInGrantsOnlyWhatSmartctlNeeds) {
  const std::string text =
      ReadFile(DeployDir() + "/systemd/steadfast-agent.service.d/smartctl.conf");
  EXPECT_NE(text.find("[Service]"), std::string::npos);
  EXPECT_NE(text.find("\nAmbientCapabilities=CAP_SYS_RAWIO CAP_SYS_ADMIN\n"), std::string::npos);
  EXPECT_NE(text.find("\nCapabilityBoundingSet=CAP_SYS_RAWIO CAP_SYS_ADMIN\n"), std::string::npos);
  EXPECT_NE(text.find("\nDevicePolicy=closed\n"), std::string::npos);
  // The drop-in must not undo the unit's other hardening.
  for (const char* key : {"NoNewPrivileges", "ProtectSystem", "SystemCallFilter", "User="}) {
    EXPECT_EQ(text.find(std::string("\n") + key), std::string::npos) << key;
  }
}


// The quickstart's agent config (deploy/lib/quickstart-config.sh), as written on this machine
// with its usual intervals and with the benchmark's "every check each cycle" interval: every
// check it enables must pass the agent's full validation (what --check-config does).
std::string QuickstartAgentConfig(const std::string& every) {
  PosixCommandRunner runner;
  CommandRequest req;
  req.argv = {"/bin/bash", "-c",
              "source \"$0\"/lib/quickstart-config.sh && "
              "quickstart_agent_config 18080 /tmp/unused.token /tmp/unused-state 127.0.0.1:18082",
              DeployDir()};
  if (!every.empty()) req.env["QUICKSTART_INTERVAL"] = every;
  req.timeout = std::chrono::seconds(60);
  auto r = runner.Run(req);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_EQ(r->exit_code, 0) << r->err;
  return r->out;
}

TEST(DeployRecipesTest, QuickstartAgentConfigIsValidWithEveryDiscoveredCheck) {
  CheckRegistry registry;
  RegisterBuiltinChecks(registry);
  for (const std::string every : {"", "5"}) {
    SCOPED_TRACE("QUICKSTART_INTERVAL=" + every);
    const std::string yaml = QuickstartAgentConfig(every);
    auto config = ParseAgentConfigText(yaml, "quickstart-agent.yaml", registry);
    ASSERT_TRUE(config.ok()) << config.status().ToString() << "\n" << yaml;
    // system, filesystems, collector-port, links and clock apply everywhere.
    EXPECT_GE(config->checks.size(), 5u) << yaml;
    for (const auto& spec : config->checks) {
      auto check = registry.Create(spec);
      EXPECT_TRUE(check.ok()) << spec.name << ": " << check.status().ToString();
      if (!every.empty()) {
        EXPECT_EQ(spec.interval_ms, 5'000) << spec.name;
      }
    }
  }
}

}  // namespace
}  // namespace steadfast::agent
