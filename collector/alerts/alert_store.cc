#include "collector/alerts/alert_store.h"

#include <nlohmann/json.hpp>

#include <set>
#include <utility>

#include "common/sqlite/store_sql.h"

namespace steadfast::collector::alerts {
namespace {

using nlohmann::json;
using sqlite::SqliteDb;
using sqlite::SqliteStatement;

constexpr sqlite::StoreSql kSql("alert store");

std::vector<sqlite::Migration> Migrations() {
  return {{1, R"sql(
CREATE TABLE alerts (
  id               INTEGER PRIMARY KEY,
  fingerprint      TEXT NOT NULL,
  rule             TEXT NOT NULL,
  labels_json      TEXT NOT NULL,
  annotations_json TEXT NOT NULL,
  severity         TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved', 'cleared')),
  value            REAL NOT NULL,
  active_since_ms  INTEGER NOT NULL,
  firing_since_ms  INTEGER NOT NULL,
  ended_ms         INTEGER NOT NULL,
  updated_ms       INTEGER NOT NULL,
  ack_by           TEXT NOT NULL DEFAULT '',
  ack_at_ms        INTEGER NOT NULL DEFAULT 0,
  ack_expires_ms   INTEGER NOT NULL DEFAULT 0,
  ack_comment      TEXT NOT NULL DEFAULT '',
  assignee         TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_active_fingerprint ON alerts (fingerprint) WHERE state IN ('pending', 'firing');
CREATE INDEX alerts_by_fingerprint ON alerts (fingerprint, id);
CREATE INDEX alerts_by_state ON alerts (state, id);

CREATE TABLE alert_events (
  id       INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL REFERENCES alerts (id),
  at_ms    INTEGER NOT NULL,
  kind     TEXT NOT NULL,
  actor    TEXT NOT NULL,
  comment  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);

CREATE TABLE alert_series (
  series_key   TEXT PRIMARY KEY,
  status       INTEGER NOT NULL,
  since_ms     INTEGER NOT NULL,
  changes_json TEXT NOT NULL
);

CREATE TABLE notify_groups (
  receiver          TEXT NOT NULL,
  group_key         TEXT NOT NULL,
  route_path        TEXT NOT NULL,
  group_labels_json TEXT NOT NULL,
  created_ms        INTEGER NOT NULL,
  last_sent_ms      INTEGER NOT NULL,
  sent_firing_json  TEXT NOT NULL,
  PRIMARY KEY (receiver, group_key)
);

CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  dedup_key       TEXT NOT NULL UNIQUE,
  receiver        TEXT NOT NULL,
  integration     TEXT NOT NULL,
  group_key       TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_ms      INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  sent_ms         INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms, id);
)sql"},
          {2, R"sql(
CREATE TABLE silences (
  id            INTEGER PRIMARY KEY,
  matchers_json TEXT NOT NULL,
  starts_ms     INTEGER NOT NULL,
  ends_ms       INTEGER NOT NULL,
  weekly_json   TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  comment       TEXT NOT NULL,
  created_ms    INTEGER NOT NULL,
  expired_ms    INTEGER NOT NULL DEFAULT 0,
  expired_by    TEXT NOT NULL DEFAULT ''
);
)sql"},
          {3, R"sql(
CREATE TABLE alert_escalations (
  fingerprint  TEXT NOT NULL,
  policy       TEXT NOT NULL,
  start_ms     INTEGER NOT NULL,
  checked_ms   INTEGER NOT NULL,
  acknowledged INTEGER NOT NULL CHECK (acknowledged IN (0, 1)),
  PRIMARY KEY (fingerprint, policy)
);
)sql"},
          {4, R"sql(
CREATE TABLE heartbeats (
  name       TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL
);
CREATE TABLE heartbeat_pings (
  id        INTEGER PRIMARY KEY,
  name      TEXT NOT NULL,
  at_ms     INTEGER NOT NULL,
  kind      TEXT NOT NULL CHECK (kind IN ('start', 'success', 'fail', 'exit')),
  exit_code INTEGER NOT NULL,
  source    TEXT NOT NULL
);
CREATE INDEX heartbeat_pings_by_name ON heartbeat_pings (name, id);
)sql"},
          {5, R"sql(
CREATE TABLE oncall_documents (
  kind       TEXT NOT NULL CHECK (kind IN ('schedule', 'escalation_policy')),
  name       TEXT NOT NULL,
  body_json  TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
);
)sql"}};
}

std::string LabelsJson(const alerting::Labels& labels) {
  json j = json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

alerting::Labels ParseLabels(const std::string& text) {
  alerting::Labels out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  }
  return out;
}

std::string_view TransitionState(alerting::TransitionKind k) {
  switch (k) {
    case alerting::TransitionKind::kPending: return "pending";
    case alerting::TransitionKind::kFiring: return "firing";
    case alerting::TransitionKind::kResolved: return "resolved";
    case alerting::TransitionKind::kCleared: return "cleared";
  }
  return "pending";
}

constexpr const char* kAlertColumns =
    "id, fingerprint, rule, labels_json, annotations_json, state, value, active_since_ms, firing_since_ms, "
    "ended_ms, updated_ms, ack_by, ack_at_ms, ack_expires_ms, ack_comment, assignee";

AlertRecord ReadAlert(const SqliteStatement& s) {
  AlertRecord r;
  r.id = s.ColumnInt(0);
  r.fingerprint = s.ColumnText(1);
  r.rule = s.ColumnText(2);
  r.labels = ParseLabels(s.ColumnText(3));
  r.annotations = ParseLabels(s.ColumnText(4));
  r.state = ParseAlertState(s.ColumnText(5)).value_or(AlertState::kPending);
  r.value = s.ColumnDouble(6);
  r.active_since_ms = s.ColumnInt(7);
  r.firing_since_ms = s.ColumnInt(8);
  r.ended_ms = s.ColumnInt(9);
  r.updated_ms = s.ColumnInt(10);
  r.ack_by = s.ColumnText(11);
  r.ack_at_ms = s.ColumnInt(12);
  r.ack_expires_ms = s.ColumnInt(13);
  r.ack_comment = s.ColumnText(14);
  r.assignee = s.ColumnText(15);
  return r;
}

Status InsertEvent(SqliteDb& db, int64_t alert_id, int64_t at_ms, std::string_view kind, const std::string& actor,
                   const std::string& comment) {
  return kSql.Exec(db, "INSERT INTO alert_events (alert_id, at_ms, kind, actor, comment) VALUES (?1, ?2, ?3, ?4, ?5)",
                   alert_id, at_ms, kind, actor, comment);
}

StatusOr<std::optional<AlertRecord>> ActiveByFingerprint(SqliteDb& db, const std::string& fingerprint) {
  SF_ASSIGN_OR_RETURN(SqliteStatement s,
                      kSql.Bound(db, std::string("SELECT ") + kAlertColumns +
                                         " FROM alerts WHERE fingerprint = ?1 AND state IN ('pending', 'firing')",
                                 fingerprint));
  SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
  if (!row) return std::optional<AlertRecord>();
  return std::optional<AlertRecord>(ReadAlert(s));
}

Status ApplyTransition(SqliteDb& db, const alerting::Transition& t, int64_t now_ms) {
  const alerting::Alert& a = t.alert;
  SF_ASSIGN_OR_RETURN(std::optional<AlertRecord> active, ActiveByFingerprint(db, a.fingerprint));
  const std::string_view state = TransitionState(t.kind);
  int64_t id = 0;
  switch (t.kind) {
    case alerting::TransitionKind::kPending:
    case alerting::TransitionKind::kFiring: {
      if (active) {
        id = active->id;
        SF_RETURN_IF_ERROR(kSql.Exec(db,
                                     "UPDATE alerts SET state = ?2, value = ?3, labels_json = ?4, annotations_json = ?5, "
                                     "active_since_ms = ?6, firing_since_ms = ?7, updated_ms = ?8 WHERE id = ?1",
                                     id, state, a.value, LabelsJson(a.labels), LabelsJson(a.annotations),
                                     a.active_since_ms, a.firing_since_ms, now_ms));
      } else {
        auto sev = a.labels.find("severity");
        SF_RETURN_IF_ERROR(kSql.Exec(
            db,
            "INSERT INTO alerts (fingerprint, rule, labels_json, annotations_json, severity, state, value, "
            "active_since_ms, firing_since_ms, ended_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10)",
            a.fingerprint, a.rule, LabelsJson(a.labels), LabelsJson(a.annotations),
            sev == a.labels.end() ? std::string() : sev->second, state, a.value, a.active_since_ms,
            a.firing_since_ms, now_ms));
        id = db.LastInsertRowId();
      }
      break;
    }
    case alerting::TransitionKind::kResolved:
    case alerting::TransitionKind::kCleared: {
      // An alert the store never saw active (a round lost with its crash and decided again
      // differently) has nothing to end.
      if (!active) return OkStatus();
      id = active->id;
      SF_RETURN_IF_ERROR(kSql.Exec(db, "UPDATE alerts SET state = ?2, ended_ms = ?3, updated_ms = ?4 WHERE id = ?1",
                                   id, state, t.at_ms, now_ms));
      break;
    }
  }
  return InsertEvent(db, id, t.at_ms, state, "system", "");
}

// A dedup key already there is skipped: the same notification is stored once.
Status InsertOutbox(SqliteDb& db, const OutboxEntry& e) {
  return kSql.Exec(db,
                   "INSERT INTO outbox (dedup_key, receiver, integration, group_key, body, created_ms, "
                   "next_attempt_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (dedup_key) DO NOTHING",
                   e.dedup_key, e.receiver, e.integration, e.group_key, e.body, e.created_ms, e.next_attempt_ms);
}

std::string ChangesJson(const std::vector<int64_t>& changes) {
  json j = json::array();
  for (int64_t c : changes) j.push_back(c);
  return j.dump();
}

std::string SentFiringJson(const std::set<std::string>& sent) {
  json j = json::array();
  for (const std::string& fp : sent) j.push_back(fp);
  return j.dump();
}

OutboxEntry ReadOutbox(const SqliteStatement& s) {
  OutboxEntry e;
  e.id = s.ColumnInt(0);
  e.dedup_key = s.ColumnText(1);
  e.receiver = s.ColumnText(2);
  e.group_key = s.ColumnText(3);
  e.body = s.ColumnText(4);
  e.created_ms = s.ColumnInt(5);
  e.next_attempt_ms = s.ColumnInt(6);
  e.attempts = static_cast<int>(s.ColumnInt(7));
  e.state = s.ColumnText(8);
  e.sent_ms = s.ColumnInt(9);
  e.last_error = s.ColumnText(10);
  e.integration = s.ColumnText(11);
  return e;
}

constexpr const char* kSilenceColumns =
    "id, matchers_json, starts_ms, ends_ms, weekly_json, created_by, comment, created_ms, expired_ms, expired_by";

json WeeklyJson(const std::optional<alerting::WeeklyRecurrence>& w) {
  if (!w) return nullptr;
  return {{"days", w->days}, {"start_minute", w->start_minute}, {"duration_ms", w->duration_ms},
          {"time_zone", w->time_zone}};
}

SilenceRecord ReadSilence(const SqliteStatement& s) {
  SilenceRecord r;
  r.id = s.ColumnInt(0);
  r.silence.id = std::to_string(r.id);
  json m = json::parse(s.ColumnText(1), nullptr, false);
  if (m.is_array()) {
    for (const json& t : m) {
      if (!t.is_string()) continue;
      r.matcher_texts.push_back(t.get<std::string>());
      // Stored only after parsing; a text that no longer parses matches nothing rather than
      // everything (the silence keeps its other matchers).
      StatusOr<alerting::Matcher> parsed = alerting::Matcher::Parse(r.matcher_texts.back());
      if (parsed.ok()) {
        r.silence.matchers.push_back(std::move(parsed).value());
      } else {
        r.silence.matchers.push_back(alerting::Matcher::Parse("__unparseable__=\"x\"").value());
      }
    }
  }
  r.silence.starts_ms = s.ColumnInt(2);
  r.silence.ends_ms = s.ColumnInt(3);
  json w = json::parse(s.ColumnText(4), nullptr, false);
  if (w.is_object()) {
    alerting::WeeklyRecurrence wr;
    wr.days = w.value("days", 0u);
    wr.start_minute = w.value("start_minute", 0);
    wr.duration_ms = w.value("duration_ms", int64_t{0});
    wr.time_zone = w.value("time_zone", std::string());
    r.silence.weekly = wr;
  }
  r.silence.created_by = s.ColumnText(5);
  r.silence.comment = s.ColumnText(6);
  r.created_ms = s.ColumnInt(7);
  r.expired_ms = s.ColumnInt(8);
  r.expired_by = s.ColumnText(9);
  // An expired silence's window ends when it was expired.
  if (r.expired_ms != 0 && (r.silence.ends_ms == 0 || r.expired_ms < r.silence.ends_ms)) r.silence.ends_ms = r.expired_ms;
  return r;
}

constexpr const char* kOutboxColumns =
    "id, dedup_key, receiver, group_key, body, created_ms, next_attempt_ms, attempts, state, sent_ms, last_error, "
    "integration";

}  // namespace

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kPending: return "pending";
    case AlertState::kFiring: return "firing";
    case AlertState::kResolved: return "resolved";
    case AlertState::kCleared: return "cleared";
  }
  return "pending";
}

std::optional<AlertState> ParseAlertState(std::string_view text) {
  for (AlertState s : {AlertState::kPending, AlertState::kFiring, AlertState::kResolved, AlertState::kCleared}) {
    if (AlertStateName(s) == text) return s;
  }
  return std::nullopt;
}

std::string AlertRecord::severity() const {
  auto it = labels.find("severity");
  return it == labels.end() ? std::string() : it->second;
}

bool AlertRecord::AcknowledgedAt(int64_t now_ms) const {
  return !ack_by.empty() && (ack_expires_ms == 0 || now_ms < ack_expires_ms);
}

StatusOr<std::unique_ptr<SqliteAlertStore>> SqliteAlertStore::Open(AdminDb& db, AuditAppender append_audit) {
  if (!append_audit) return InvalidArgumentError("alert store: an audit appender is required");
  SF_RETURN_IF_ERROR(db.Migrate("alerts", Migrations()));
  return std::unique_ptr<SqliteAlertStore>(new SqliteAlertStore(db, std::move(append_audit)));
}

Status SqliteAlertStore::ApplyRound(const RoundWrite& round, int64_t now_ms) {
  return db_.Write([&](SqliteDb& db) -> Status {
    for (const alerting::Transition& t : round.transitions) SF_RETURN_IF_ERROR(ApplyTransition(db, t, now_ms));
    for (const AlertEvent& e : round.events) {
      SF_RETURN_IF_ERROR(InsertEvent(db, e.alert_id, e.at_ms, e.kind, e.actor, e.comment));
    }
    for (const SeriesMemo& m : round.series) {
      SF_RETURN_IF_ERROR(kSql.Exec(db,
                                   "INSERT INTO alert_series (series_key, status, since_ms, changes_json) VALUES "
                                   "(?1, ?2, ?3, ?4) ON CONFLICT (series_key) DO UPDATE SET status = excluded.status, "
                                   "since_ms = excluded.since_ms, changes_json = excluded.changes_json",
                                   m.key, static_cast<int64_t>(m.status), m.since_ms, ChangesJson(m.changes_ms)));
    }
    for (const GroupRecord& g : round.groups) {
      SF_RETURN_IF_ERROR(kSql.Exec(
          db,
          "INSERT INTO notify_groups (receiver, group_key, route_path, group_labels_json, created_ms, last_sent_ms, "
          "sent_firing_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (receiver, group_key) DO UPDATE SET "
          "route_path = excluded.route_path, group_labels_json = excluded.group_labels_json, "
          "created_ms = excluded.created_ms, last_sent_ms = excluded.last_sent_ms, "
          "sent_firing_json = excluded.sent_firing_json",
          g.receiver, g.group_key, g.route_path, LabelsJson(g.group_labels), g.state.created_ms,
          g.state.last_sent_ms, SentFiringJson(g.state.sent_firing)));
    }
    for (const auto& [receiver, key] : round.finished_groups) {
      SF_RETURN_IF_ERROR(
          kSql.Exec(db, "DELETE FROM notify_groups WHERE receiver = ?1 AND group_key = ?2", receiver, key));
    }
    for (const EscalationState& e : round.escalations) {
      SF_RETURN_IF_ERROR(kSql.Exec(db,
                                   "INSERT INTO alert_escalations (fingerprint, policy, start_ms, checked_ms, "
                                   "acknowledged) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (fingerprint, policy) DO "
                                   "UPDATE SET start_ms = excluded.start_ms, checked_ms = excluded.checked_ms, "
                                   "acknowledged = excluded.acknowledged",
                                   e.fingerprint, e.policy, e.start_ms, e.checked_ms, e.acknowledged));
    }
    for (const auto& [fp, policy] : round.finished_escalations) {
      SF_RETURN_IF_ERROR(
          kSql.Exec(db, "DELETE FROM alert_escalations WHERE fingerprint = ?1 AND policy = ?2", fp, policy));
    }
    for (const OutboxEntry& e : round.outbox) {
      SF_RETURN_IF_ERROR(InsertOutbox(db, e));
    }
    return OkStatus();
  });
}

StatusOr<std::vector<AlertRecord>> SqliteAlertStore::ActiveAlerts() {
  std::vector<AlertRecord> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(
        db, std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE state IN ('pending', 'firing') ORDER BY id",
        [&](const SqliteStatement& s) { out.push_back(ReadAlert(s)); });
  }));
  return out;
}

StatusOr<std::vector<SeriesMemo>> SqliteAlertStore::SeriesMemos() {
  std::vector<SeriesMemo> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db, "SELECT series_key, status, since_ms, changes_json FROM alert_series",
                           [&](const SqliteStatement& s) {
                             SeriesMemo m;
                             m.key = s.ColumnText(0);
                             int64_t st = s.ColumnInt(1);
                             m.status = st >= 0 && st <= 3 ? static_cast<protocol::CheckStatus>(st)
                                                           : protocol::CheckStatus::kUnknown;
                             m.since_ms = s.ColumnInt(2);
                             json j = json::parse(s.ColumnText(3), nullptr, false);
                             if (j.is_array()) {
                               for (const json& c : j) {
                                 if (c.is_number_integer()) m.changes_ms.push_back(c.get<int64_t>());
                               }
                             }
                             out.push_back(std::move(m));
                           });
  }));
  return out;
}

StatusOr<std::vector<GroupRecord>> SqliteAlertStore::Groups() {
  std::vector<GroupRecord> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db,
                           "SELECT receiver, group_key, route_path, group_labels_json, created_ms, last_sent_ms, "
                           "sent_firing_json FROM notify_groups ORDER BY receiver, group_key",
                           [&](const SqliteStatement& s) {
                             GroupRecord g;
                             g.receiver = s.ColumnText(0);
                             g.group_key = s.ColumnText(1);
                             g.route_path = s.ColumnText(2);
                             g.group_labels = ParseLabels(s.ColumnText(3));
                             g.state.created_ms = s.ColumnInt(4);
                             g.state.last_sent_ms = s.ColumnInt(5);
                             json j = json::parse(s.ColumnText(6), nullptr, false);
                             if (j.is_array()) {
                               for (const json& fp : j) {
                                 if (fp.is_string()) g.state.sent_firing.insert(fp.get<std::string>());
                               }
                             }
                             out.push_back(std::move(g));
                           });
  }));
  return out;
}

StatusOr<std::vector<AlertRecord>> SqliteAlertStore::LatestByFingerprint(const std::vector<std::string>& fingerprints) {
  std::vector<AlertRecord> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    for (const std::string& fp : fingerprints) {
      SF_ASSIGN_OR_RETURN(SqliteStatement s,
                          kSql.Bound(db, std::string("SELECT ") + kAlertColumns +
                                             " FROM alerts WHERE fingerprint = ?1 ORDER BY id DESC LIMIT 1",
                                     fp));
      SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
      if (row) out.push_back(ReadAlert(s));
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<AlertPage> SqliteAlertStore::List(const AlertQuery& query) {
  if (query.limit < 1 || query.limit > 1000) return InvalidArgumentError("limit: must be 1..1000");
  AlertPage page;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    std::vector<sqlite::SqlParam> params;
    std::string sql = std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE 1 = 1";
    if (query.states) {
      sql += " AND state IN (";
      for (size_t i = 0; i < query.states->size(); ++i) {
        if (i > 0) sql += ", ";
        sql += sqlite::Placeholder(std::string(AlertStateName((*query.states)[i])), &params);
      }
      sql += ")";
      if (query.states->empty()) sql = std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE 0 = 1";
    }
    if (query.severity) sql += " AND severity = " + sqlite::Placeholder(*query.severity, &params);
    if (query.fingerprint) sql += " AND fingerprint = " + sqlite::Placeholder(*query.fingerprint, &params);
    if (query.before_id > 0) sql += " AND id < " + sqlite::Placeholder(query.before_id, &params);
    sql += " ORDER BY id DESC";
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.BoundParams(db, sql, params));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
      if (!row) break;
      AlertRecord r = ReadAlert(s);
      if (query.acknowledged && r.AcknowledgedAt(query.now_ms) != *query.acknowledged) continue;
      if (!alerting::MatchesAll(query.match, r.labels)) continue;
      if (static_cast<int64_t>(page.items.size()) == query.limit) {
        page.next_before_id = page.items.back().id;
        break;
      }
      page.items.push_back(std::move(r));
    }
    return OkStatus();
  }));
  return page;
}

StatusOr<AlertRecord> SqliteAlertStore::Get(int64_t id) {
  std::optional<AlertRecord> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db, std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE id = ?1", id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (row) out = ReadAlert(s);
    return OkStatus();
  }));
  if (!out) return NotFoundError("alert " + std::to_string(id) + " not found");
  return *out;
}

StatusOr<AlertRecord> SqliteAlertStore::GetActiveByFingerprint(const std::string& fingerprint) {
  std::optional<AlertRecord> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(out, ActiveByFingerprint(db, fingerprint));
    return OkStatus();
  }));
  if (!out) return NotFoundError("no active alert " + fingerprint + " (it may have resolved)");
  return *out;
}

StatusOr<std::vector<AlertEvent>> SqliteAlertStore::Events(int64_t alert_id) {
  std::vector<AlertEvent> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(
        db, "SELECT id, alert_id, at_ms, kind, actor, comment FROM alert_events WHERE alert_id = ?1 ORDER BY id",
        [&](const SqliteStatement& s) {
          out.push_back({s.ColumnInt(0), s.ColumnInt(1), s.ColumnInt(2), s.ColumnText(3), s.ColumnText(4),
                         s.ColumnText(5)});
        },
        alert_id);
  }));
  return out;
}

StatusOr<AlertRecord> SqliteAlertStore::PersonAction(
    int64_t id, const AlertActor& actor, const AlertEvent& event,
    const std::function<Status(SqliteDb&, AlertRecord&)>& change) {
  std::optional<AlertRecord> result;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db, std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE id = ?1", id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("alert " + std::to_string(id) + " not found");
    AlertRecord r = ReadAlert(s);
    SF_RETURN_IF_ERROR(change(db, r));
    SF_RETURN_IF_ERROR(InsertEvent(db, id, event.at_ms, event.kind, actor.name, event.comment));
    audit::AuditEvent a = actor.audit;
    a.time_ms = event.at_ms;
    a.object_type = "alert";
    a.object_id = std::to_string(id);
    json summary = {{"alertname", r.rule}, {"fingerprint", r.fingerprint}, {"state", AlertStateName(r.state)}};
    if (!event.comment.empty()) summary["comment"] = event.comment;
    if (event.kind == "assigned") summary["assignee"] = r.assignee;
    if (event.kind == "acknowledged" && r.ack_expires_ms > 0) summary["expires_ms"] = r.ack_expires_ms;
    a.summary_json = summary.dump(-1, ' ', false, json::error_handler_t::replace);
    SF_RETURN_IF_ERROR(append_audit_(db, a));
    result = std::move(r);
    return OkStatus();
  }));
  return *result;
}

StatusOr<AlertRecord> SqliteAlertStore::Acknowledge(int64_t id, const AlertActor& actor, const std::string& comment,
                                                    int64_t expires_ms, int64_t now_ms) {
  if (expires_ms != 0 && expires_ms <= now_ms) return InvalidArgumentError("expires: must be in the future");
  return PersonAction(id, actor, {0, id, now_ms, "acknowledged", actor.name, comment},
                      [&](SqliteDb& db, AlertRecord& r) -> Status {
                        if (!r.Active()) {
                          return FailedPreconditionError("alert " + std::to_string(id) + " is " +
                                                         std::string(AlertStateName(r.state)) +
                                                         "; only an active alert can be acknowledged");
                        }
                        r.ack_by = actor.name;
                        r.ack_at_ms = now_ms;
                        r.ack_expires_ms = expires_ms;
                        r.ack_comment = comment;
                        r.updated_ms = now_ms;
                        return kSql.Exec(db,
                                         "UPDATE alerts SET ack_by = ?2, ack_at_ms = ?3, ack_expires_ms = ?4, "
                                         "ack_comment = ?5, updated_ms = ?3 WHERE id = ?1",
                                         id, actor.name, now_ms, expires_ms, comment);
                      });
}

StatusOr<AlertRecord> SqliteAlertStore::Unacknowledge(int64_t id, const AlertActor& actor, int64_t now_ms) {
  return PersonAction(id, actor, {0, id, now_ms, "unacknowledged", actor.name, ""},
                      [&](SqliteDb& db, AlertRecord& r) -> Status {
                        if (r.ack_by.empty()) {
                          return FailedPreconditionError("alert " + std::to_string(id) + " is not acknowledged");
                        }
                        r.ack_by.clear();
                        r.ack_at_ms = 0;
                        r.ack_expires_ms = 0;
                        r.ack_comment.clear();
                        r.updated_ms = now_ms;
                        return kSql.Exec(db,
                                         "UPDATE alerts SET ack_by = '', ack_at_ms = 0, ack_expires_ms = 0, "
                                         "ack_comment = '', updated_ms = ?2 WHERE id = ?1",
                                         id, now_ms);
                      });
}

StatusOr<AlertRecord> SqliteAlertStore::Comment(int64_t id, const AlertActor& actor, const std::string& comment,
                                                int64_t now_ms) {
  if (comment.empty()) return InvalidArgumentError("comment: must not be empty");
  return PersonAction(id, actor, {0, id, now_ms, "commented", actor.name, comment},
                      [&](SqliteDb& db, AlertRecord& r) -> Status {
                        r.updated_ms = now_ms;
                        return kSql.Exec(db, "UPDATE alerts SET updated_ms = ?2 WHERE id = ?1", id, now_ms);
                      });
}

StatusOr<AlertRecord> SqliteAlertStore::Assign(int64_t id, const AlertActor& actor, const std::string& assignee,
                                               int64_t now_ms) {
  return PersonAction(id, actor, {0, id, now_ms, "assigned", actor.name, assignee},
                      [&](SqliteDb& db, AlertRecord& r) -> Status {
                        if (!r.Active()) {
                          return FailedPreconditionError("alert " + std::to_string(id) + " is " +
                                                         std::string(AlertStateName(r.state)) +
                                                         "; only an active alert can be assigned");
                        }
                        r.assignee = assignee;
                        r.updated_ms = now_ms;
                        return kSql.Exec(db, "UPDATE alerts SET assignee = ?2, updated_ms = ?3 WHERE id = ?1", id,
                                         assignee, now_ms);
                      });
}

StatusOr<SilenceRecord> SqliteAlertStore::CreateSilence(const alerting::Silence& silence,
                                                        const std::vector<std::string>& matcher_texts,
                                                        const AlertActor& actor, int64_t now_ms) {
  Status valid = alerting::ValidateSilence(silence);
  if (!valid.ok()) return InvalidArgumentError("silence: " + valid.message());
  json matchers = json::array();
  for (const std::string& t : matcher_texts) matchers.push_back(t);
  int64_t id = 0;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                                 "INSERT INTO silences (matchers_json, starts_ms, ends_ms, weekly_json, created_by, "
                                 "comment, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                 matchers.dump(), silence.starts_ms, silence.ends_ms, WeeklyJson(silence.weekly).dump(),
                                 actor.name, silence.comment, now_ms));
    id = db.LastInsertRowId();
    json summary = {{"matchers", matchers}, {"starts_ms", silence.starts_ms}, {"ends_ms", silence.ends_ms},
                    {"weekly", WeeklyJson(silence.weekly)}, {"comment", silence.comment}};
    return AppendAudit(db, actor, now_ms, "silence", std::to_string(id),
                       summary.dump(-1, ' ', false, json::error_handler_t::replace));
  }));
  ++silence_version_;
  return GetSilence(id);
}

StatusOr<SilenceRecord> SqliteAlertStore::ExpireSilence(int64_t id, const AlertActor& actor, int64_t now_ms) {
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db, std::string("SELECT ") + kSilenceColumns + " FROM silences WHERE id = ?1", id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("silence " + std::to_string(id) + " not found");
    SilenceRecord r = ReadSilence(s);
    if (r.EndedAt(now_ms)) return FailedPreconditionError("silence " + std::to_string(id) + " is already over");
    SF_RETURN_IF_ERROR(kSql.Exec(db, "UPDATE silences SET expired_ms = ?2, expired_by = ?3 WHERE id = ?1", id, now_ms,
                                 actor.name));
    return AppendAudit(db, actor, now_ms, "silence", std::to_string(id));
  }));
  ++silence_version_;
  return GetSilence(id);
}

StatusOr<SilenceRecord> SqliteAlertStore::GetSilence(int64_t id) {
  std::optional<SilenceRecord> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db, std::string("SELECT ") + kSilenceColumns + " FROM silences WHERE id = ?1", id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (row) out = ReadSilence(s);
    return OkStatus();
  }));
  if (!out) return NotFoundError("silence " + std::to_string(id) + " not found");
  return *out;
}

StatusOr<std::vector<SilenceRecord>> SqliteAlertStore::ListSilences(bool include_ended, int64_t now_ms) {
  std::vector<SilenceRecord> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db, std::string("SELECT ") + kSilenceColumns + " FROM silences ORDER BY id DESC",
                           [&](const SqliteStatement& s) {
                             SilenceRecord r = ReadSilence(s);
                             if (include_ended || !r.EndedAt(now_ms)) out.push_back(std::move(r));
                           });
  }));
  return out;
}

StatusOr<std::vector<OutboxEntry>> SqliteAlertStore::DueOutbox(int64_t now_ms, int64_t limit) {
  std::vector<OutboxEntry> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db,
                           std::string("SELECT ") + kOutboxColumns +
                               " FROM outbox WHERE state = 'pending' AND next_attempt_ms <= ?1 ORDER BY "
                               "next_attempt_ms, id LIMIT ?2",
                           [&](const SqliteStatement& s) { out.push_back(ReadOutbox(s)); }, now_ms, limit);
  }));
  return out;
}

StatusOr<std::optional<int64_t>> SqliteAlertStore::NextOutboxAttempt() {
  std::optional<int64_t> next;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db, "SELECT MIN(next_attempt_ms) FROM outbox WHERE state = 'pending'"));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (row && !s.IsNull(0)) next = s.ColumnInt(0);
    return OkStatus();
  }));
  return next;
}

StatusOr<std::vector<OutboxEntry>> SqliteAlertStore::DueFor(const std::string& receiver, const std::string& integration,
                                                            int64_t now_ms, int64_t limit) {
  std::vector<OutboxEntry> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db,
                           std::string("SELECT ") + kOutboxColumns +
                               " FROM outbox WHERE state = 'pending' AND receiver = ?1 AND integration = ?2 AND "
                               "next_attempt_ms <= ?3 ORDER BY next_attempt_ms, id LIMIT ?4",
                           [&](const SqliteStatement& s) { out.push_back(ReadOutbox(s)); }, receiver, integration,
                           now_ms, limit);
  }));
  return out;
}

Status SqliteAlertStore::DeferIntegration(const std::string& receiver, const std::string& integration,
                                          int64_t next_attempt_ms) {
  return db_.Write([&](SqliteDb& db) {
    return kSql.Exec(db,
                     "UPDATE outbox SET next_attempt_ms = ?3 WHERE state = 'pending' AND receiver = ?1 AND "
                     "integration = ?2 AND next_attempt_ms < ?3",
                     receiver, integration, next_attempt_ms);
  });
}

Status SqliteAlertStore::RecordOutcomes(const std::vector<OutboxOutcome>& outcomes) {
  return db_.Write([&](SqliteDb& db) -> Status {
    for (const OutboxOutcome& o : outcomes) {
      switch (o.kind) {
        case OutboxOutcome::Kind::kSent:
          SF_RETURN_IF_ERROR(kSql.Exec(db, "UPDATE outbox SET state = 'sent', sent_ms = ?2, attempts = attempts + 1 WHERE id = ?1",
                                       o.id, o.at_ms));
          break;
        case OutboxOutcome::Kind::kRetry:
          SF_RETURN_IF_ERROR(kSql.Exec(db,
                                       "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3 "
                                       "WHERE id = ?1",
                                       o.id, o.at_ms, o.error));
          break;
        case OutboxOutcome::Kind::kFailed:
          SF_RETURN_IF_ERROR(kSql.Exec(db,
                                       "UPDATE outbox SET state = 'failed', attempts = attempts + 1, sent_ms = ?2, "
                                       "last_error = ?3 WHERE id = ?1",
                                       o.id, o.at_ms, o.error));
          break;
      }
    }
    return OkStatus();
  });
}

StatusOr<std::vector<OutboxEntry>> SqliteAlertStore::ListOutbox(const std::string& state, const std::string& receiver,
                                                                int64_t before_id, int64_t limit) {
  std::vector<OutboxEntry> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db,
                           std::string("SELECT ") + kOutboxColumns +
                               " FROM outbox WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR receiver = ?2) AND "
                               "(?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4",
                           [&](const SqliteStatement& s) { out.push_back(ReadOutbox(s)); }, state, receiver,
                           before_id, limit);
  }));
  return out;
}

Status SqliteAlertStore::QueueAudited(const std::vector<OutboxEntry>& entries, const AlertActor& actor,
                                      int64_t now_ms) {
  return db_.Write([&](SqliteDb& db) -> Status {
    json keys = json::array();
    for (const OutboxEntry& e : entries) {
      SF_RETURN_IF_ERROR(InsertOutbox(db, e));
      keys.push_back(e.integration);
    }
    return AppendAudit(db, actor, now_ms, "receiver", entries.empty() ? std::string() : entries.front().receiver,
                       json{{"integrations", keys}}.dump());
  });
}

StatusOr<std::vector<OutboxEntry>> SqliteAlertStore::OutboxEntries(int64_t after_id, int64_t limit) {
  std::vector<OutboxEntry> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db,
                           std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2",
                           [&](const SqliteStatement& s) { out.push_back(ReadOutbox(s)); }, after_id, limit);
  }));
  return out;
}

StatusOr<std::vector<int64_t>> SqliteAlertStore::ExpireAcknowledgements(int64_t now_ms) {
  std::vector<int64_t> ids;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(kSql.ForEachRow(
        db, "SELECT id FROM alerts WHERE ack_by <> '' AND ack_expires_ms > 0 AND ack_expires_ms <= ?1 AND state IN "
        "('pending', 'firing') ORDER BY id",
        [&](const SqliteStatement& s) { ids.push_back(s.ColumnInt(0)); }, now_ms));
    for (int64_t id : ids) {
      SF_ASSIGN_OR_RETURN(int64_t expired_at, kSql.Int(db, "SELECT ack_expires_ms FROM alerts WHERE id = ?1", id));
      SF_RETURN_IF_ERROR(kSql.Exec(db,
                                   "UPDATE alerts SET ack_by = '', ack_at_ms = 0, ack_expires_ms = 0, ack_comment = '', "
                                   "updated_ms = ?2 WHERE id = ?1",
                                   id, now_ms));
      SF_RETURN_IF_ERROR(InsertEvent(db, id, expired_at, "ack_expired", "system", ""));
    }
    return OkStatus();
  }));
  return ids;
}

StatusOr<std::vector<std::string>> SqliteAlertStore::AcknowledgedFingerprints(int64_t now_ms) {
  std::vector<std::string> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db,
                           "SELECT fingerprint FROM alerts WHERE state IN ('pending', 'firing') AND ack_by <> '' AND "
                           "(ack_expires_ms = 0 OR ack_expires_ms > ?1)",
                           [&](const SqliteStatement& s) { out.push_back(s.ColumnText(0)); }, now_ms);
  }));
  return out;
}

StatusOr<std::vector<EscalationState>> SqliteAlertStore::Escalations() {
  std::vector<EscalationState> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db,
                           "SELECT fingerprint, policy, start_ms, checked_ms, acknowledged FROM alert_escalations "
                           "ORDER BY fingerprint, policy",
                           [&](const SqliteStatement& s) {
                             out.push_back({s.ColumnText(0), s.ColumnText(1), s.ColumnInt(2), s.ColumnInt(3),
                                            s.ColumnInt(4) != 0});
                           });
  }));
  return out;
}

namespace {
constexpr int64_t kPingsKept = 50;

std::string_view PingKindName(alerting::PingKind k) {
  switch (k) {
    case alerting::PingKind::kStart: return "start";
    case alerting::PingKind::kSuccess: return "success";
    case alerting::PingKind::kFail: return "fail";
    case alerting::PingKind::kExitCode: return "exit";
  }
  return "success";
}
}  // namespace

StatusOr<int64_t> SqliteAlertStore::EnsureHeartbeat(const std::string& name, int64_t now_ms) {
  int64_t created = now_ms;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(kSql.Exec(
        db, "INSERT INTO heartbeats (name, created_ms) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING", name, now_ms));
    SF_ASSIGN_OR_RETURN(created, kSql.Int(db, "SELECT created_ms FROM heartbeats WHERE name = ?1", name));
    return OkStatus();
  }));
  return created;
}

Status SqliteAlertStore::RecordPing(const std::string& name, const alerting::Ping& ping, const std::string& source) {
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                                 "INSERT INTO heartbeat_pings (name, at_ms, kind, exit_code, source) VALUES (?1, ?2, ?3, "
                                 "?4, ?5)",
                                 name, ping.at_ms, PingKindName(ping.kind), ping.exit_code, source));
    return kSql.Exec(db,
                     "DELETE FROM heartbeat_pings WHERE name = ?1 AND id <= (SELECT id FROM heartbeat_pings WHERE "
                     "name = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                     name, kPingsKept);
  });
}

StatusOr<std::vector<alerting::Ping>> SqliteAlertStore::RecentPings(const std::string& name) {
  std::vector<alerting::Ping> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db, "SELECT at_ms, kind, exit_code FROM heartbeat_pings WHERE name = ?1 ORDER BY id",
                           [&](const SqliteStatement& s) {
                             alerting::Ping p;
                             p.at_ms = s.ColumnInt(0);
                             const std::string kind = s.ColumnText(1);
                             p.kind = kind == "start"  ? alerting::PingKind::kStart
                                      : kind == "fail" ? alerting::PingKind::kFail
                                      : kind == "exit" ? alerting::PingKind::kExitCode
                                                       : alerting::PingKind::kSuccess;
                             p.exit_code = static_cast<int>(s.ColumnInt(2));
                             out.push_back(p);
                           },
                           name);
  }));
  return out;
}

StatusOr<std::vector<OncallDocument>> SqliteAlertStore::OncallDocuments() {
  std::vector<OncallDocument> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) {
    return kSql.ForEachRow(db,
                           "SELECT kind, name, body_json, created_by, created_ms, updated_by, updated_ms FROM "
                           "oncall_documents ORDER BY kind, name",
                           [&](const SqliteStatement& s) {
                             OncallDocument d;
                             d.kind = s.ColumnText(0);
                             d.name = s.ColumnText(1);
                             d.body_json = s.ColumnText(2);
                             d.created_by = s.ColumnText(3);
                             d.created_ms = s.ColumnInt(4);
                             d.updated_by = s.ColumnText(5);
                             d.updated_ms = s.ColumnInt(6);
                             out.push_back(std::move(d));
                           });
  }));
  return out;
}

Status SqliteAlertStore::PutOncallDocument(const std::string& kind, const std::string& name, const std::string& body_json,
                                           bool create, const AlertActor& actor, int64_t now_ms) {
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s, kSql.Bound(db, "SELECT 1 FROM oncall_documents WHERE kind = ?1 AND name = ?2",
                                                      kind, name));
    SF_ASSIGN_OR_RETURN(bool exists, kSql.Step(s));
    if (create && exists) return AlreadyExistsError(kind + " '" + name + "' already exists");
    if (!create && !exists) return NotFoundError("no " + kind + " '" + name + "' made through the API");
    if (create) {
      SF_RETURN_IF_ERROR(kSql.Exec(db,
                                   "INSERT INTO oncall_documents (kind, name, body_json, created_by, created_ms, "
                                   "updated_by, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?5)",
                                   kind, name, body_json, actor.name, now_ms));
    } else {
      SF_RETURN_IF_ERROR(kSql.Exec(db,
                                   "UPDATE oncall_documents SET body_json = ?3, updated_by = ?4, updated_ms = ?5 "
                                   "WHERE kind = ?1 AND name = ?2",
                                   kind, name, body_json, actor.name, now_ms));
    }
    return AppendAudit(db, actor, now_ms, kind, name, body_json);
  });
}

Status SqliteAlertStore::DeleteOncallDocument(const std::string& kind, const std::string& name, const AlertActor& actor,
                                              int64_t now_ms) {
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(kSql.Exec(db, "DELETE FROM oncall_documents WHERE kind = ?1 AND name = ?2", kind, name));
    if (db.Changes() == 0) return NotFoundError("no " + kind + " '" + name + "' made through the API");
    return AppendAudit(db, actor, now_ms, kind, name);
  });
}

Status SqliteAlertStore::Audit(const AlertActor& actor, const std::string& object_type, const std::string& object_id,
                               const std::string& summary_json, int64_t now_ms) {
  return db_.Write([&](SqliteDb& db) -> Status {
    return AppendAudit(db, actor, now_ms, object_type, object_id, summary_json);
  });
}

Status SqliteAlertStore::AppendAudit(SqliteDb& db, const AlertActor& actor, int64_t at_ms, std::string object_type,
                                     std::string object_id, std::string summary_json) const {
  audit::AuditEvent a = actor.audit;
  a.time_ms = at_ms;
  a.object_type = std::move(object_type);
  a.object_id = std::move(object_id);
  a.summary_json = std::move(summary_json);
  return append_audit_(db, a);
}

}  // namespace steadfast::collector::alerts
