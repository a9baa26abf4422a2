// AlertEngine: the collector's alerting loop. Reports feed it the check series' state (after
// they are durable); it evaluates the rules (alerting/evaluator.h) whenever a report arrived and
// at least every evaluation_interval, routes and groups the firing alerts
// (alerting/routing.h, grouping.h), and writes each round — transitions, series memos, group
// state and the notifications it decided — to the AlertStore in ONE transaction. The
// OutboxSender sends the notifications afterwards.
//
// Crash safety: nothing is decided twice. A round that did not commit left no trace and is
// decided again from the same state after a restart; a round that committed recorded the
// groups as notified, so the same notification is not decided again. At start the engine
// reloads the active alerts, the series memos and the groups from the store, and the series'
// latest results from Storage.
//
// Silences and inhibition hold back notifications, never the alerts' lifecycle: a silenced alert
// is still stored, resolves, and if it was notified firing its resolution is notified.
// Acknowledgements that expire are ended by the round that passes their expiry.
//
// Escalation: a firing alert (not silenced or inhibited) whose route names an escalation policy
// is escalated under it (alerting/escalation.h): each round writes the steps that came due since
// the last one to the outbox — people (users, and whoever the tier's schedules have on call
// then) as "user:<name>" entries, emailed by the OutboxSender; receivers through their
// integrations — in the round's transaction, with the escalation's progress. Acknowledging
// holds the escalation; when the acknowledgement expires or is withdrawn while the alert still
// fires, the escalation starts again from tier 1. Resolving ends it.
//
// Heartbeats (alerting.heartbeats) are series too: check="heartbeat", target=<name>, plus their
// configured labels, with the status alerting/heartbeat.h gives their pings; rules treat them
// like any check.
//
// Series labels: host (the agent's hostname), agent_id (the alert's unit is its host's), check,
// target.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "alerting/alerting_config.h"
#include "alerting/evaluator.h"
#include "collector/alerts/ack_links.h"
#include "collector/alerts/alert_store.h"
#include "collector/alerts/live_config.h"
#include "collector/store/storage.h"
#include "common/clock.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace steadfast::collector::alerts {

class AlertEngine {
 public:
  // Loads the state (see above). Does not start the thread: Start() does (tests drive rounds
  // with RunRound instead).
  // `config` must outlive the engine. A new configuration (LiveAlertingConfig::Set) takes effect
  // at the start of the next round: the rules are rebuilt, groups find their routes again by
  // path (the root when the route is gone), heartbeats are added and dropped. Alerts of rules
  // that are gone resolve in that round; what was notified is not notified again.
  static StatusOr<std::unique_ptr<AlertEngine>> Create(const LiveAlertingConfig& config, SqliteAlertStore& store,
                                                       Storage& storage, const Clock& clock,
                                                       prometheus::Registry* registry);
  ~AlertEngine();

  void Start();
  // Stops the thread (a round in progress completes). Idempotent.
  void Shutdown();

  // A batch that is now durable in Storage. Entries at or below a series' last seq (retries)
  // are ignored. Wakes the loop.
  void Observe(const protocol::ReportBatch& batch, int64_t received_at_ms);

  // A heartbeat ping, already stored (SqliteAlertStore::RecordPing). Wakes the loop. Unknown
  // names are ignored.
  void ObservePing(const std::string& name, const alerting::Ping& ping);

  // Alerts posted to the Alertmanager-compatible API (POST /api/v2/alerts): each is firing until
  // its ends_ms (0: now + 5 minutes, Alertmanager's resolve_timeout), and is re-sent by its
  // source while it lasts. Their rule is "external"; routing, grouping, silences and escalation
  // treat them like the collector's own. Wakes the loop.
  struct ExternalAlert {
    alerting::Labels labels;
    alerting::Labels annotations;
    int64_t starts_ms = 0;  // 0: now
    int64_t ends_ms = 0;    // 0: now + 5 minutes
  };
  void ObserveExternal(const std::vector<ExternalAlert>& alerts);

  // Escalation messages to people carry one-click acknowledgement links signed with these
  // (when external_url is set). Must outlive the engine; set before Start().
  void SetAckLinks(const AckLinks* links) { links_ = links; }

  // A round soon (a new configuration is in force).
  void Wake();

  // Called after a round wrote notifications (the OutboxSender's wake-up).
  void SetOnNotifications(std::function<void()> fn);

  // One round now, on the caller's thread (tests; the loop calls it too).
  Status RunRound();

  size_t SeriesCount() const;
  // The LiveAlertingConfig version the last round ran with.
  int64_t ConfigVersion() const { return applied_version_.load(); }

 private:
  struct Series {
    alerting::SeriesState state;
    uint64_t last_seq = 0;
    bool memo_dirty = false;
  };
  struct Group {
    GroupRecord record;
    const alerting::Route* route = nullptr;
  };

  AlertEngine(const LiveAlertingConfig& live, SqliteAlertStore& store, const Clock& clock);
  Status Load(Storage& storage);
  // Takes the live configuration's new snapshot (see Create). Called by the round.
  Status ApplyConfig();
  void Loop();
  static std::string SeriesKey(const std::string& agent_id, const std::string& check, const std::string& target);

  const LiveAlertingConfig& live_;
  // The snapshot in force: replaced by ApplyConfig (holding round_mu_ and series_mu_), so the
  // round reads it freely and others read it under series_mu_.
  std::shared_ptr<const alerting::AlertingConfig> config_;
  int64_t config_version_ = 0;                   // round_mu_
  std::atomic<int64_t> applied_version_{0};
  std::atomic<int64_t> interval_ms_{1'000};
  std::unique_ptr<alerting::Evaluator> evaluator_;  // round_mu_
  SqliteAlertStore& store_;
  const Clock& clock_;

  mutable std::mutex series_mu_;
  std::unordered_map<std::string, Series> series_;  // guarded by series_mu_
  std::unordered_map<std::string, std::string> hostnames_;  // agent id -> hostname; series_mu_
  struct Heartbeat {
    const alerting::HeartbeatEntry* entry = nullptr;
    int64_t created_ms = 0;
    std::vector<alerting::Ping> pings;  // oldest first
  };
  std::map<std::string, Heartbeat> heartbeats_;  // by name; guarded by series_mu_
  struct External {
    alerting::Alert alert;
    int64_t ends_ms = 0;
    bool stored = false;  // its firing transition is in the store
  };
  std::map<std::string, External> external_;  // by fingerprint; guarded by series_mu_
  bool dirty_ = false;                                       // a report since the last round; series_mu_

  // Touched only by the round (RunRound is serialised by round_mu_).
  std::mutex round_mu_;
  alerting::AlertBook book_;
  bool book_valid_ = true;  // false after a round failed to commit: reload from the store
  std::map<std::string, Group> groups_;  // by receiver + '\x1e' + group key
  // Alerts notified firing that are no longer active, until their resolution is sent.
  std::unordered_map<std::string, std::pair<alerting::Alert, int64_t>> resolved_;
  // Silences not over yet, reloaded when the store's silence version moves.
  std::vector<alerting::Silence> silences_;
  int64_t silence_version_ = 0;
  // When each Alertmanager integration ("receiver/alertmanager[i]") last had the active alerts
  // re-sent (every minute: Alertmanager resolves what it stops hearing about).
  std::map<std::string, int64_t> am_resent_;
  // Escalations by fingerprint + '\x1e' + policy.
  std::map<std::string, EscalationState> escalations_;

  const AckLinks* links_ = nullptr;
  std::mutex notify_mu_;
  std::function<void()> on_notifications_;  // guarded by notify_mu_

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool wake_ = false;      // guarded by loop_mu_
  bool stopping_ = false;  // guarded by loop_mu_
  std::thread thread_;

  prometheus::Histogram* round_seconds_ = nullptr;
  prometheus::Counter* round_failures_ = nullptr;
  prometheus::Gauge* firing_ = nullptr;
  prometheus::Gauge* pending_ = nullptr;
  prometheus::Counter* notifications_decided_ = nullptr;
};

}  // namespace steadfast::collector::alerts
