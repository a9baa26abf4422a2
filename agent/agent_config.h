// AgentConfig: the agent's YAML config (deploy/config/agent.yaml is the commented example),
// parsed and validated in full at start-up. Every error names file:line:key; unknown keys are
// errors, and each check's type-specific keys are validated by its factory here too, so
// `steadfast-agent --check-config` catches everything the agent would refuse later.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/backup_jobs.h"
#include "agent/check_registry.h"
#include "common/config/config_node.h"
#include "common/logging.h"
#include "common/status.h"

namespace steadfast::agent {

struct UplinkConfig {
  int64_t batch_size = 500;
  int64_t interval_ms = 5'000;  // how often to look for new results to send
  int64_t timeout_ms = 10'000;  // per request
  int64_t max_backoff_ms = 60'000;
  int64_t spool_max_rows = 100'000;  // the older spelling of spool.max_rows (same value)
  // With nothing to send, a report is still made this often (an empty one): the collector's
  // answer is how actions reach the agent (PROTOCOL.md, "Actions").
  int64_t poll_interval_ms = 15'000;
};

// The actions the collector may ask this agent to run (PROTOCOL.md, "Actions"); anything else
// is refused. Empty (the default): none.
inline constexpr const char* kKnownActions[] = {"emergency_backup"};
struct ActionsConfig {
  std::vector<std::string> allowed;
};

// The spool's bounds (agent/spool.h: metrics-only samples are dropped first, status changes
// never for space).
struct SpoolConfig {
  int64_t max_rows = 100'000;
  int64_t max_bytes = int64_t{256} << 20;
  int64_t max_age_ms = 7LL * 24 * 3'600'000;
};

struct TlsConfig {
  std::string ca_file;  // extra CA bundle; empty: the system store
  bool insecure_skip_verify = false;
};

struct AgentConfig {
  std::string source;         // file name the config came from, for messages
  std::string collector_url;  // "http(s)://host:port", trailing slashes removed
  std::string enrollment_token;
  std::string enrollment_token_file;
  std::string state_dir = "/var/lib/steadfast-agent";
  std::string metrics_listen;  // "" = off, else "host:port"
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";  // sysfs: the host inventory (agent/inventory.h) and checks
  // Given to checks in CheckContext (agent/check.h); /host/... when the agent runs in a
  // container that sees the host's trees there.
  std::string dev_root = "/dev";
  std::string etc_root = "/etc";
  std::string var_root = "/var";
  int64_t check_workers = 4;  // checks running at the same time (check_runtime.h)
  SpoolConfig spool;
  LogOptions log;
  UplinkConfig uplink;
  ActionsConfig actions;
  TlsConfig tls;
  std::vector<CheckSpec> checks;
  std::vector<BackupJobConfig> backup_jobs;  // agent/backup_jobs.h
  // The steadfast-backup program the jobs run; "" = next to this executable, else in the fixed PATH.
  std::string backup_program;
};

// Parses and validates; `registry` supplies the check types (and validates their keys).
StatusOr<AgentConfig> ParseAgentConfig(const config::ConfigDocument& doc,
                                       const CheckRegistry& registry);
// Load + parse a YAML file. NotFound if it cannot be read.
StatusOr<AgentConfig> LoadAgentConfig(const std::string& path, const CheckRegistry& registry);
// Convenience for tests: parse YAML text named `file_name`.
StatusOr<AgentConfig> ParseAgentConfigText(const std::string& yaml, const std::string& file_name,
                                           const CheckRegistry& registry);

}  // namespace steadfast::agent
