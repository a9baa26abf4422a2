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
//         email_configs:
//           - to: [ops@example.org]
//             from: "Steadfast <steadfast@example.org>"
//             smarthost: smtp.example.org:587
//             tls: starttls                  # starttls | implicit | none (default: implicit on
//                                            # port 465, else starttls)
//             auth_username: steadfast
//             auth_password_file: /etc/steadfast/smtp.password
//             language: zh-CN                # en | zh-CN: the default templates
//             templates: {subject: "...", text: "...", html: "..."}   # Mustache (templates.h)
//         dingtalk_configs:                  # also wecom_, feishu_, slack_, teams_, telegram_,
//           - url: https://oapi.dingtalk.com/robot/send?access_token=...   # pagerduty_configs
//             secret_file: /etc/steadfast/dingtalk.secret  # signing secret (DingTalk, Feishu);
//                                                          # bot token (Telegram); routing key
//                                                          # (PagerDuty)
//             chat_id: "-100123"             # Telegram only
//             language: zh-CN
//       - name: record-only                # no integrations: alerts are stored, not sent
//     schedules:                         # on-call rotations (oncall.h)
//       - name: server-room
//         time_zone: Asia/Shanghai
//         working: {members: [alice, bob], handoff: "09:00", every: day, start_date: 2026-01-05}
//         days_off: {members: [carol, dave], handoff: "09:00", every: week, handoff_day: sat,
//                    start_date: 2026-01-03}    # optional: weekends and holidays
//         holidays: {days_off: [2026-10-01, 2026-10-02], working_days: [2026-09-27]}
//         overrides: [{user: bob, starts_at: "2026-10-03T09:00:00+08:00", ends_at: "..."}]
//     escalation_policies:               # escalation.h; a route names one (escalation_policy)
//       - name: default
//         tiers:
//           - {after: 0s, schedules: [server-room]}
//           - {after: 15m, users: [chief]}
//           - {after: 30m, receivers: [command-centre]}
//         repeat: 1
//         repeat_after: 30m
//     user_email:                        # how people named by schedules and tiers are emailed
//       from: "Steadfast <steadfast@example.org>"       # (their address: their account's email)
//       smarthost: smtp.example.org:587
//     heartbeats:                        # dead-man's switches for cron jobs (heartbeat.h)
//       - name: nightly-backup           # POST /api/v1/heartbeats/nightly-backup?status=...
//         period: 24h                    # a success is due this often
//         grace: 1h                      # ... and late (critical) this much after
//         max_runtime: 4h                # a start without completion for longer is critical
//         token_file: /etc/steadfast/heartbeat-nightly-backup.token   # Bearer token of the pings
//         labels: {host: nas1, category: backup}   # added to the series' labels
//     delivery:
//       retry_for: 24h                     # after this a notification is given up (failed)
//       max_backoff: 5m                    # retries back off 1s, 2s, 4s ... up to this
//
// Without an `alerting:` section the collector stores no alerts and sends nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alerting/escalation.h"
#include "alerting/heartbeat.h"
#include "alerting/notify/chat_notifier.h"
#include "alerting/notify/email_notifier.h"
#include "alerting/oncall.h"
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

// One integration of a receiver, by the name the outbox keeps ("webhook[0]", "email[1]",
// "dingtalk[0]" ...: its kind and its place among that kind's entries); exactly one pointer set.
struct IntegrationRef {
  std::string name;
  const WebhookConfig* webhook = nullptr;
  const EmailConfig* email = nullptr;
  const ChatConfig* chat = nullptr;
  bool send_resolved = true;
};

struct ReceiverConfig {
  std::string name;
  std::vector<WebhookConfig> webhooks;
  std::vector<EmailConfig> emails;
  std::vector<ChatConfig> chats;  // every chat/incident service, in config order per kind

  // Every integration, in a fixed order (webhooks, emails, chats).
  std::vector<IntegrationRef> Integrations() const;
  // nullopt: no integration of that name (the config changed since it was queued).
  std::optional<IntegrationRef> FindIntegration(const std::string& name) const;
};

struct HeartbeatEntry {
  HeartbeatConfig config;
  std::string token_sha256;  // lowercase hex SHA-256 of the token (the token is not kept)
  std::string token_file;
  Labels labels;
};

struct AlertingConfig {
  bool enabled = false;  // false when the section is absent
  std::vector<std::string> rule_files;  // resolved paths
  RuleSet rules;
  int64_t evaluation_interval_ms = 1'000;
  std::string external_url;
  Route route;
  std::vector<ReceiverConfig> receivers;
  std::vector<Schedule> schedules;
  std::vector<EscalationPolicy> escalation_policies;
  std::optional<EmailConfig> user_email;  // `to` empty: each person's own address
  std::vector<HeartbeatEntry> heartbeats;
  int64_t retry_for_ms = 24LL * 3'600'000;
  int64_t max_backoff_ms = 300'000;

  const ReceiverConfig* FindReceiver(const std::string& name) const;
  const EscalationPolicy* FindPolicy(const std::string& name) const;
};

// Reads the `alerting` node (absent: disabled). Relative rule_files are resolved against
// `config_dir`; secret files are read through `fs` and must not be readable by everyone.
StatusOr<AlertingConfig> ParseAlertingConfig(const config::ConfigNode& node, const std::string& config_dir,
                                             FileSystem& fs);

}  // namespace steadfast::alerting
