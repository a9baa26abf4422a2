// AlertStore: the collector's alerts, their history, the notification groups and the outbox,
// in collector.db on the admin connection (AdminDb), so that a person's action on an alert and
// its audit record commit together.
//
// Tables (component "alerts"):
//   alerts           one row per alert episode: pending -> firing -> resolved (or pending ->
//                    cleared); at most one active (pending or firing) row per fingerprint.
//                    Acknowledgement (who, when, comment, optional expiry), assignee.
//   alert_events     the history of each alert, append-only: every transition (actor
//                    "system"), acknowledgement, comment, assignment, notification, with who
//                    and when.
//   alert_series     per check series, when its current status began and its recent status
//                    changes, so that `for` and flapping survive a restart.
//   notify_groups    the grouping state of each (receiver, group key): when created, last sent,
//                    which alerts were notified firing (alerting/grouping.h).
//   outbox           notifications to send: written in the same transaction as the round
//                    that decided them, unique on a dedup key, sent by OutboxSender with
//                    retries, marked sent (or failed) afterwards.
//
// ApplyRound writes one evaluation round (transitions, series memos, groups, outbox rows) in
// ONE transaction: after a crash either all of it is there or none of it, and the round is
// decided again from the same state.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerting/evaluator.h"
#include "alerting/grouping.h"
#include "alerting/heartbeat.h"
#include "alerting/suppression.h"
#include "collector/audit/audit_log.h"
#include "collector/store/admin_db.h"
#include "common/status.h"

namespace steadfast::collector::alerts {

enum class AlertState { kPending, kFiring, kResolved, kCleared };
std::string_view AlertStateName(AlertState s);
std::optional<AlertState> ParseAlertState(std::string_view text);

struct AlertRecord {
  int64_t id = 0;
  std::string fingerprint;
  std::string rule;
  alerting::Labels labels;
  alerting::Labels annotations;
  AlertState state = AlertState::kPending;
  double value = 0;
  int64_t active_since_ms = 0;
  int64_t firing_since_ms = 0;  // 0: never fired
  int64_t ended_ms = 0;         // resolved or cleared at; 0 while active
  int64_t updated_ms = 0;
  // Acknowledgement; ack_by empty when not acknowledged. ack_expires_ms 0: until resolved.
  std::string ack_by;
  int64_t ack_at_ms = 0;
  int64_t ack_expires_ms = 0;
  std::string ack_comment;
  std::string assignee;  // username; empty: nobody

  std::string severity() const;
  bool Active() const { return state == AlertState::kPending || state == AlertState::kFiring; }
  // Acknowledged and the acknowledgement has not expired at `now_ms`.
  bool AcknowledgedAt(int64_t now_ms) const;
};

struct AlertEvent {
  int64_t id = 0;
  int64_t alert_id = 0;
  int64_t at_ms = 0;
  std::string kind;   // pending firing resolved cleared acknowledged unacknowledged
                      // ack_expired commented assigned notified
  std::string actor;  // "system" or a username
  std::string comment;
};

// Per series: when its status began and its recent changes (alert_series).
struct SeriesMemo {
  std::string key;
  protocol::CheckStatus status = protocol::CheckStatus::kOk;
  int64_t since_ms = 0;
  std::vector<int64_t> changes_ms;
};

struct GroupRecord {
  std::string receiver;
  std::string group_key;
  std::string route_path;
  alerting::Labels group_labels;
  alerting::GroupState state;
};

struct OutboxEntry {
  int64_t id = 0;
  std::string dedup_key;  // unique: a notification decided twice is stored once
  std::string receiver;
  std::string integration;  // which of the receiver's integrations: "webhook[0]", ...
  std::string group_key;
  std::string body;       // the message (Alertmanager webhook v4 JSON); notifiers render from it
  int64_t created_ms = 0;
  int64_t next_attempt_ms = 0;
  int attempts = 0;
  std::string state = "pending";  // pending, sent, failed
  int64_t sent_ms = 0;
  std::string last_error;
};

// The escalation of one firing alert under one policy (alert_escalations): when it (re)started
// and up to when its steps were sent.
struct EscalationState {
  std::string fingerprint;
  std::string policy;
  int64_t start_ms = 0;
  int64_t checked_ms = 0;
  bool acknowledged = false;  // held while the alert is acknowledged; restarts when that ends
};

struct RoundWrite {
  std::vector<alerting::Transition> transitions;
  std::vector<SeriesMemo> series;                   // upserted
  std::vector<GroupRecord> groups;                  // upserted
  std::vector<std::pair<std::string, std::string>> finished_groups;  // (receiver, key) deleted
  std::vector<OutboxEntry> outbox;                  // inserted; a dedup key already there is skipped
  std::vector<AlertEvent> events;                   // extra events (alert_id set), e.g. ack_expired
  std::vector<EscalationState> escalations;         // upserted
  std::vector<std::pair<std::string, std::string>> finished_escalations;  // (fingerprint, policy)
};

struct AlertQuery {
  std::optional<std::vector<AlertState>> states;  // unset: all
  std::optional<std::string> severity;
  std::optional<std::string> fingerprint;  // every episode of one alert
  std::optional<bool> acknowledged;  // at `now_ms`
  std::vector<alerting::Matcher> match;  // on the labels (applied after the SQL filters)
  int64_t now_ms = 0;
  int64_t before_id = 0;  // paging cursor: id < before_id (newest first); 0: from the newest
  int64_t limit = 100;
};

struct AlertPage {
  std::vector<AlertRecord> items;  // newest first
  int64_t next_before_id = 0;      // 0: no more
};

// A silence (maintenance window) as stored: alerting::Silence plus its bookkeeping. A silence is
// never deleted; expiring it early ends its window and records who did it.
struct SilenceRecord {
  int64_t id = 0;
  alerting::Silence silence;  // id = the decimal id; matchers parsed from matcher_texts
  std::vector<std::string> matcher_texts;
  int64_t created_ms = 0;
  int64_t expired_ms = 0;  // 0: not ended early
  std::string expired_by;

  // Over for good: ended early, or its end has passed.
  bool EndedAt(int64_t now_ms) const {
    return expired_ms != 0 || (silence.ends_ms != 0 && now_ms >= silence.ends_ms);
  }
};

// Who acts, for alert_events and the audit record.
// A schedule or an escalation policy made through the API (alerting/oncall_config.h): kind
// "schedule" or "escalation_policy", its JSON as the parsers take it.
struct OncallDocument {
  std::string kind;
  std::string name;
  std::string body_json;
  std::string created_by;
  int64_t created_ms = 0;
  std::string updated_by;
  int64_t updated_ms = 0;
};

struct AlertActor {
  std::string name;  // username
  audit::AuditEvent audit;  // actor fields, action and source filled by the caller
};

class SqliteAlertStore {
 public:
  using AuditAppender = std::function<Status(sqlite::SqliteDb&, const audit::AuditEvent&)>;
  static StatusOr<std::unique_ptr<SqliteAlertStore>> Open(AdminDb& db, AuditAppender append_audit);

  Status ApplyRound(const RoundWrite& round, int64_t now_ms);

  // For a restart: the active alerts, the series memos, the groups, and the last record of each
  // fingerprint notified firing in a group (for resolutions still to send).
  StatusOr<std::vector<AlertRecord>> ActiveAlerts();
  StatusOr<std::vector<SeriesMemo>> SeriesMemos();
  StatusOr<std::vector<GroupRecord>> Groups();
  // The newest record of each fingerprint (active or not).
  StatusOr<std::vector<AlertRecord>> LatestByFingerprint(const std::vector<std::string>& fingerprints);

  StatusOr<AlertPage> List(const AlertQuery& query);
  StatusOr<AlertRecord> Get(int64_t id);  // NotFound
  StatusOr<AlertRecord> GetActiveByFingerprint(const std::string& fingerprint);  // NotFound
  StatusOr<std::vector<AlertEvent>> Events(int64_t alert_id);

  // Person actions; each writes an alert_events row and an audit record in one transaction.
  // NotFound for an unknown alert; FailedPrecondition when the alert is no longer active
  // (acknowledge, assign).
  StatusOr<AlertRecord> Acknowledge(int64_t id, const AlertActor& actor, const std::string& comment,
                                    int64_t expires_ms, int64_t now_ms);
  StatusOr<AlertRecord> Unacknowledge(int64_t id, const AlertActor& actor, int64_t now_ms);
  StatusOr<AlertRecord> Comment(int64_t id, const AlertActor& actor, const std::string& comment, int64_t now_ms);
  StatusOr<AlertRecord> Assign(int64_t id, const AlertActor& actor, const std::string& assignee, int64_t now_ms);

  // Silences. CreateSilence validates (alerting::ValidateSilence; InvalidArgument "field:
  // reason"), stores and audits; ExpireSilence ends one now (FailedPrecondition when already over).
  StatusOr<SilenceRecord> CreateSilence(const alerting::Silence& silence, const std::vector<std::string>& matcher_texts,
                                        const AlertActor& actor, int64_t now_ms);
  StatusOr<SilenceRecord> ExpireSilence(int64_t id, const AlertActor& actor, int64_t now_ms);
  StatusOr<SilenceRecord> GetSilence(int64_t id);  // NotFound
  // Newest first; without `include_ended`, only those not over at now_ms.
  StatusOr<std::vector<SilenceRecord>> ListSilences(bool include_ended, int64_t now_ms);
  // Bumped by every silence change: the engine reloads silences when it moves.
  int64_t SilenceVersion() const { return silence_version_.load(); }

  // Outbox.
  StatusOr<std::vector<OutboxEntry>> DueOutbox(int64_t now_ms, int64_t limit);
  // The earliest next_attempt_ms of a pending entry; nullopt when none is pending.
  StatusOr<std::optional<int64_t>> NextOutboxAttempt();
  // Due entries of one receiver integration, oldest first (a rate-limited robot's digest).
  StatusOr<std::vector<OutboxEntry>> DueFor(const std::string& receiver, const std::string& integration,
                                            int64_t now_ms, int64_t limit);
  // Holds back every pending entry of one receiver integration due before `next_attempt_ms`
  // (a rate-limited robot whose window is full), in one statement however many there are.
  Status DeferIntegration(const std::string& receiver, const std::string& integration, int64_t next_attempt_ms);
  // How delivery attempts ended, written in one transaction (a digest marks all its entries).
  struct OutboxOutcome {
    enum class Kind { kSent, kRetry, kFailed };
    int64_t id = 0;
    Kind kind = Kind::kSent;
    int64_t at_ms = 0;  // sent/failed: when; retry: the next attempt
    std::string error;
  };
  Status RecordOutcomes(const std::vector<OutboxOutcome>& outcomes);
  // Ends the acknowledgements that expired by `now_ms` (alert_events "ack_expired", actor
  // "system"); returns the alerts' ids. An expired acknowledgement no longer holds back
  // escalation or reminders.
  StatusOr<std::vector<int64_t>> ExpireAcknowledgements(int64_t now_ms);
  // Fingerprints of the active alerts acknowledged (and not expired) at now_ms.
  StatusOr<std::vector<std::string>> AcknowledgedFingerprints(int64_t now_ms);
  StatusOr<std::vector<EscalationState>> Escalations();

  // Heartbeats: when each was first seen (created), and its recent pings (the newest 50 kept).
  StatusOr<int64_t> EnsureHeartbeat(const std::string& name, int64_t now_ms);  // returns created_ms
  Status RecordPing(const std::string& name, const alerting::Ping& ping, const std::string& source);
  StatusOr<std::vector<alerting::Ping>> RecentPings(const std::string& name);  // oldest first

  // Schedules and escalation policies made through the API; the caller validates them.
  // PutOncallDocument creates (AlreadyExists when the name is taken) or replaces (NotFound when
  // absent); Put and Delete (NotFound) are audited in their transaction.
  StatusOr<std::vector<OncallDocument>> OncallDocuments();
  Status PutOncallDocument(const std::string& kind, const std::string& name, const std::string& body_json, bool create,
                           const AlertActor& actor, int64_t now_ms);
  Status DeleteOncallDocument(const std::string& kind, const std::string& name, const AlertActor& actor, int64_t now_ms);
  // An audit record of an alerting action that changes no table (a configuration reload).
  Status Audit(const AlertActor& actor, const std::string& object_type, const std::string& object_id,
               const std::string& summary_json, int64_t now_ms);
  StatusOr<std::vector<OutboxEntry>> OutboxEntries(int64_t after_id, int64_t limit);  // tests
  // Newest first: entries of `state` ("" any) and `receiver` ("" any), id < before_id (0: from
  // the newest), at most `limit`.
  StatusOr<std::vector<OutboxEntry>> ListOutbox(const std::string& state, const std::string& receiver,
                                                int64_t before_id, int64_t limit);
  // Queues `entries` (a test message), audited as `actor` in the same transaction.
  Status QueueAudited(const std::vector<OutboxEntry>& entries, const AlertActor& actor, int64_t now_ms);

 private:
  SqliteAlertStore(AdminDb& db, AuditAppender append_audit) : db_(db), append_audit_(std::move(append_audit)) {}
  // Loads the alert, runs `change` on it (which writes its UPDATE), adds the event and the audit
  // record.
  StatusOr<AlertRecord> PersonAction(int64_t id, const AlertActor& actor, const AlertEvent& event,
                                     const std::function<Status(sqlite::SqliteDb&, AlertRecord&)>& change);
  AdminDb& db_;
  const AuditAppender append_audit_;
  // The actor's audit event for one object, appended in `db`'s transaction.
  Status AppendAudit(sqlite::SqliteDb& db, const AlertActor& actor, int64_t at_ms, std::string object_type,
                     std::string object_id, std::string summary_json = "{}") const;
  std::atomic<int64_t> silence_version_{1};
};

}  // namespace steadfast::collector::alerts
