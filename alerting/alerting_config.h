// The collector config's `alerting:` section: rule files, the routing tree, the receivers and
// how notifications are sent. Read and validated in full at start-up (and on reload); every
// error names file:line:key.
//
//   alerting:
//     rule_files: [alert-rules.yaml]     # relative to the config file's directory
//     evaluation_interval: 1s            # rounds also run at once when a report arrives
//     external_url: https://steadfast.example.org   # the console, for links in messages
//     route:                             # routing.h
//       receiver: duty-webhook
//       group_by: [alertname, host]
//     receivers:
//       - name: duty-webhook
//         webhook_configs:
//           - url: https://hooks.example.org/steadfast
//             secret_file: /etc/steadfast/webhook.secret   # HMAC key (X-Steadfast-Signature)
//             send_resolved: true
//             timeout: 10s
//       - name: record-only                # no integrations: alerts are stored, not sent
//     delivery:
//       retry_for: 24h                     # after this a notification is given up (failed)
//       max_backoff: 5m                    # retries back off 1s, 2s, 4s ... up to this
//
// Without an `alerting:` section the collector stores no alerts and sends nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/routing.h"
#include "alerting/rules.h"
#include "common/config/config_node.h"
#include "common/fs/file_system.h"
#include "common/status.h"

namespace steadfast::alerting {

struct WebhookConfig {
  std::string url;
  std::string secret;       // read from secret_file; empty: the body is not signed
  std::string secret_file;  // for messages
  bool send_resolved = true;
  int64_t timeout_ms = 10'000;
};

struct ReceiverConfig {
  std::string name;
  std::vector<WebhookConfig> webhooks;
};

struct AlertingConfig {
  bool enabled = false;  // false when the section is absent
  std::vector<std::string> rule_files;  // resolved paths
  RuleSet rules;
  int64_t evaluation_interval_ms = 1'000;
  std::string external_url;
  Route route;
  std::vector<ReceiverConfig> receivers;
  int64_t retry_for_ms = 24LL * 3'600'000;
  int64_t max_backoff_ms = 300'000;

  const ReceiverConfig* FindReceiver(const std::string& name) const;
};

// Reads the `alerting` node (absent: disabled). Relative rule_files are resolved against
// `config_dir`; secret files are read through `fs` and must not be readable by everyone.
StatusOr<AlertingConfig> ParseAlertingConfig(const config::ConfigNode& node, const std::string& config_dir,
                                             FileSystem& fs);

}  // namespace steadfast::alerting
