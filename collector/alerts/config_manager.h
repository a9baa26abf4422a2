// AlertingConfigManager: makes the alerting configuration in force (LiveAlertingConfig) — the
// config file's `alerting:` section plus the on-call schedules and escalation policies made
// through the API (kept in collector.db, alerting/oncall_config.h) — and makes every change to
// it: a reload of the file (SIGHUP, POST /api/v1/alerting/reload) and the API's edits of
// schedules and policies. A change is checked whole before anything is stored or takes effect;
// a bad one is refused with the reason (the file's errors name file:line:key) and the
// configuration in force stays. Reloads and edits are audited.
//
// Names are unique across both sources. Schedules and policies from the file are read-only
// through the API (422: edit the file and reload); the API's cannot be shadowed by the file
// (a reload that adds a schedule of the same name is refused).
#pragma once

#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerting/alerting_config.h"
#include "collector/alerts/alert_store.h"
#include "collector/alerts/live_config.h"
#include "common/clock.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace steadfast::collector::alerts {

// Reads the config file again and returns its `alerting:` section (errors name file:line:key).
using AlertingFileReader = std::function<StatusOr<alerting::AlertingConfig>()>;

inline constexpr char kScheduleKind[] = "schedule";
inline constexpr char kPolicyKind[] = "escalation_policy";

struct ReloadSummary {
  int64_t version = 0;
  size_t rule_files = 0;
  size_t rules = 0;
  size_t receivers = 0;
  size_t schedules = 0;
  size_t escalation_policies = 0;
  size_t heartbeats = 0;
};

// A schedule or policy as the API shows it.
struct OncallEntry {
  std::string kind;
  std::string name;
  std::string source;     // "config" (the file; read-only here) or "api"
  std::string body_json;  // in the form the API takes back
  std::string created_by;  // "api" entries only
  int64_t created_ms = 0;
  std::string updated_by;
  int64_t updated_ms = 0;
};

class AlertingConfigManager {
 public:
  // `file` is the config file's section as read at start; `reader` reads it again on reload
  // (null: reloads are refused, e.g. a collector started from text in a test). Errors: a
  // reference that does not resolve, or a stored document that no longer fits the file
  // (InvalidArgument naming it: a configuration error).
  static StatusOr<std::unique_ptr<AlertingConfigManager>> Create(alerting::AlertingConfig file,
                                                                 SqliteAlertStore& store, AlertingFileReader reader,
                                                                 const Clock& clock, prometheus::Registry* registry);

  const LiveAlertingConfig& live() const { return live_; }

  // Reads the file again and puts its section, with the API's documents, in force. Errors:
  // InvalidArgument (the file), FailedPrecondition (references; alerting turned on or off,
  // which needs a restart; no file to read).
  StatusOr<ReloadSummary> Reload(const AlertActor& actor);

  // kind: kScheduleKind or kPolicyKind.
  std::vector<OncallEntry> List(const std::string& kind) const;
  StatusOr<OncallEntry> Find(const std::string& kind, const std::string& name) const;  // NotFound
  // Creates (`name` empty: the body's) or replaces the API document `name` from a JSON body.
  // Errors: InvalidArgument (the body; "line N: key: reason"), AlreadyExists (create: the name
  // is taken), NotFound (replace: no such API document), FailedPrecondition (a file's entry,
  // or references that do not resolve).
  StatusOr<OncallEntry> Put(const std::string& kind, const std::string& name, const std::string& body, bool create,
                            const AlertActor& actor);
  // Errors: NotFound, FailedPrecondition (a file's entry, or still used by a policy or route).
  Status Delete(const std::string& kind, const std::string& name, const AlertActor& actor);

 private:
  AlertingConfigManager(alerting::AlertingConfig file, std::vector<OncallDocument> docs,
                        alerting::AlertingConfig composed, SqliteAlertStore& store, AlertingFileReader reader,
                        const Clock& clock);
  // The file's section with `docs` added, checked.
  static StatusOr<alerting::AlertingConfig> Compose(const alerting::AlertingConfig& file,
                                                    const std::vector<OncallDocument>& docs);
  bool InFile(const std::string& kind, const std::string& name) const;  // mu_
  void RecordReload(bool ok, int64_t now_ms);

  mutable std::mutex mu_;  // serialises changes
  alerting::AlertingConfig file_;      // mu_
  std::vector<OncallDocument> docs_;   // mu_: as stored
  LiveAlertingConfig live_;
  SqliteAlertStore& store_;
  AlertingFileReader reader_;
  const Clock& clock_;
  prometheus::Gauge* last_ok_ = nullptr;
  prometheus::Gauge* last_ok_time_ = nullptr;
  prometheus::Counter* reloads_ok_ = nullptr;
  prometheus::Counter* reloads_failed_ = nullptr;
};

}  // namespace steadfast::collector::alerts
