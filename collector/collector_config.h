// CollectorConfig: the collector's YAML config (deploy/config/collector.yaml is the commented
// example), parsed and validated in full at start-up. Every error names file:line:key, and
// unknown keys are errors, so `steadfast-collector --check-config` catches a typo before a
// restart does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/alerting_config.h"
#include "collector/auth/auth_config.h"
#include "common/config/config_node.h"
#include "common/fs/file_system.h"
#include "common/logging.h"
#include "common/status.h"

namespace steadfast::collector {

struct CollectorConfig {
  std::string source;  // file the config came from, for messages
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;  // 0 = any free port (tests)
  std::string data_dir = "/var/lib/steadfast-collector";
  std::string web_root = "/usr/share/steadfast/web";
  // From `enrollment_tokens` plus the lines of `enrollment_token_file` (read at load time).
  std::vector<std::string> enrollment_tokens;
  std::string enrollment_token_file;
  int64_t history_retention_ms = 30LL * 24 * 3600 * 1000;
  int64_t prune_interval_ms = 3600LL * 1000;  // how often retention runs
  // How long audit records are kept (docs/ACCOUNTS.md "Audit trail"); at least
  // kMinAuditRetentionMs, the Cybersecurity Law's six months for security logs.
  int64_t audit_retention_ms = 365LL * 24 * 3600 * 1000;
  std::string storage_synchronous = "FULL";   // FULL or NORMAL
  int64_t max_body_bytes = 16LL << 20;        // compressed request body
  int64_t max_decompressed_bytes = 64LL << 20;
  std::string tls_cert_file;
  std::string tls_key_file;
  int io_threads = 2;
  int handler_threads = 16;
  LogOptions log;
  auth::AuthConfig auth;  // the `auth:` section (collector/auth/auth_config.h)
  alerting::AlertingConfig alerting;  // the `alerting:` section (alerting/alerting_config.h)

  std::string DatabasePath() const { return data_dir + "/collector.db"; }
  // The key the audit records are sealed with; kept beside, not inside, the database.
  std::string AuditKeyPath() const { return data_dir + "/audit.key"; }
};

// Shortest audit_retention accepted: 183 days, i.e. six months (Cybersecurity Law of the PRC,
// art. 21: network logs are kept for no less than six months).
inline constexpr int64_t kMinAuditRetentionMs = 183LL * 24 * 3600 * 1000;

// Enrolment tokens shorter than this are refused as guessable.
inline constexpr size_t kMinEnrollmentTokenBytes = 16;

// Parses and validates; `fs` reads enrollment_token_file and the alerting secrets; relative
// alerting rule_files are read from `config_dir`.
StatusOr<CollectorConfig> ParseCollectorConfig(const config::ConfigDocument& doc, FileSystem& fs,
                                               const std::string& config_dir = "");
// Load + parse a YAML file (NotFound if it cannot be read).
StatusOr<CollectorConfig> LoadCollectorConfig(const std::string& path, FileSystem& fs);
// Parse YAML text named `file_name` (tests).
StatusOr<CollectorConfig> ParseCollectorConfigText(const std::string& yaml, const std::string& file_name,
                                                   FileSystem& fs);

// "16MiB", "512KiB", "1GB", "1048576" -> bytes. InvalidArgument when malformed.
StatusOr<int64_t> ParseByteSize(const std::string& text);

}  // namespace steadfast::collector
