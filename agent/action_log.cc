#include "agent/action_log.h"

#include <unistd.h>

namespace steadfast::agent {
namespace {

constexpr int64_t kKeepMs = 30LL * 24 * 3'600'000;
constexpr int64_t kKeepRows = 1'000;

std::vector<sqlite::Migration> Migrations() {
  return {{1, R"sql(
CREATE TABLE actions (
  id               TEXT PRIMARY KEY,
  action           TEXT NOT NULL,
  params           TEXT NOT NULL,
  requested_at_ms  INTEGER NOT NULL,
  requested_by     TEXT NOT NULL,
  expires_at_ms    INTEGER NOT NULL,
  received_at_ms   INTEGER NOT NULL,
  state            TEXT,             -- NULL: received, not started
  summary          TEXT NOT NULL DEFAULT '',
  details          TEXT NOT NULL DEFAULT '{}',
  started_at_ms    INTEGER NOT NULL DEFAULT 0,
  finished_at_ms   INTEGER NOT NULL DEFAULT 0,
  version          INTEGER NOT NULL DEFAULT 0,
  reported_version INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX actions_unreported ON actions(received_at_ms) WHERE version > reported_version;
)sql"}};
}

protocol::ActionRequest RequestOf(const sqlite::SqliteStatement& q) {
  protocol::ActionRequest r;
  r.id = q.ColumnText(0);
  r.action = q.ColumnText(1);
  r.params_json = q.ColumnText(2);
  r.requested_at_ms = q.ColumnInt(3);
  r.requested_by = q.ColumnText(4);
  r.expires_at_ms = q.ColumnInt(5);
  return r;
}

// Columns id, state, summary, details, started_at_ms, finished_at_ms.
protocol::ActionResult ResultOf(const sqlite::SqliteStatement& q) {
  protocol::ActionResult r;
  r.id = q.ColumnText(0);
  auto state = protocol::ParseActionState(q.ColumnText(1));
  r.state = state.ok() ? *state : protocol::ActionState::kFailed;
  r.summary = q.ColumnText(2);
  r.details_json = q.ColumnText(3);
  r.started_at_ms = q.ColumnInt(4);
  r.finished_at_ms = q.ColumnInt(5);
  return r;
}

}  // namespace

StatusOr<std::unique_ptr<ActionLog>> ActionLog::Open(const std::string& path, Clock& clock) {
  std::unique_ptr<ActionLog> log(new ActionLog(path, clock));
  if (path != ":memory:" && ::access(path.c_str(), F_OK) != 0) return log;  // made by the first action
  std::lock_guard<std::mutex> lock(log->mu_);
  SF_RETURN_IF_ERROR(log->OpenLocked());
  {
    // Whatever was running when the previous process ended is over, unfinished.
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, log->db_->Prepare(
        "UPDATE actions SET state = 'failed', summary = 'interrupted by an agent restart; not run again', "
        "finished_at_ms = ?1, version = version + 1 WHERE state = 'running'"));
    q.Bind(1, clock.NowMillis());
    SF_RETURN_IF_ERROR(q.Run().WithContext(path));
  }
  SF_RETURN_IF_ERROR(log->Prune().WithContext(path));
  return log;
}

Status ActionLog::OpenLocked() {
  if (db_) return OkStatus();
  sqlite::OpenOptions open;
  open.synchronous = "FULL";
  SF_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::SqliteDb> db, sqlite::SqliteDb::Open(path_, open));
  SF_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-256"));
  SF_RETURN_IF_ERROR(db->Migrate(Migrations()).WithContext(path_));
  db_ = std::move(db);
  return OkStatus();
}

StatusOr<std::vector<protocol::ActionRequest>> ActionLog::AddNew(const std::vector<protocol::ActionRequest>& requests) {
  std::vector<protocol::ActionRequest> fresh;
  if (requests.empty()) return fresh;
  std::lock_guard<std::mutex> lock(mu_);
  SF_RETURN_IF_ERROR(OpenLocked());
  sqlite::Transaction tx(db_.get());
  SF_RETURN_IF_ERROR(tx.Begin());
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement insert, db_->Prepare(
      "INSERT OR IGNORE INTO actions(id, action, params, requested_at_ms, requested_by, expires_at_ms, "
      "received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  const int64_t now = clock_.NowMillis();
  for (const protocol::ActionRequest& r : requests) {
    insert.Reset();
    insert.Bind(1, r.id).Bind(2, r.action).Bind(3, r.params_json).Bind(4, r.requested_at_ms)
        .Bind(5, r.requested_by).Bind(6, r.expires_at_ms).Bind(7, now);
    SF_RETURN_IF_ERROR(insert.Run());
    if (db_->Changes() > 0) fresh.push_back(r);
  }
  SF_RETURN_IF_ERROR(tx.Commit());
  return fresh;
}

StatusOr<std::vector<protocol::ActionRequest>> ActionLog::Waiting() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!db_) return std::vector<protocol::ActionRequest>{};
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db_->Prepare(
      "SELECT id, action, params, requested_at_ms, requested_by, expires_at_ms FROM actions "
      "WHERE state IS NULL ORDER BY received_at_ms, id"));
  std::vector<protocol::ActionRequest> out;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(RequestOf(q));
  }
  return out;
}

Status ActionLog::Update(const protocol::ActionResult& r) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!db_) return NotFoundError("no action " + r.id + " in the log");
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db_->Prepare(
      "UPDATE actions SET state = ?2, summary = ?3, details = ?4, started_at_ms = ?5, finished_at_ms = ?6, "
      "version = version + 1 WHERE id = ?1"));
  q.Bind(1, r.id).Bind(2, protocol::ActionStateName(r.state)).Bind(3, r.summary).Bind(4, r.details_json)
      .Bind(5, r.started_at_ms).Bind(6, r.finished_at_ms);
  SF_RETURN_IF_ERROR(q.Run());
  if (db_->Changes() == 0) return NotFoundError("no action " + r.id + " in the log");
  return OkStatus();
}

StatusOr<std::vector<PendingActionResult>> ActionLog::Unreported(size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!db_) return std::vector<PendingActionResult>{};
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db_->Prepare(
      "SELECT id, state, summary, details, started_at_ms, finished_at_ms, version FROM actions "
      "WHERE version > reported_version AND state IS NOT NULL ORDER BY received_at_ms, id LIMIT ?1"));
  q.Bind(1, static_cast<int64_t>(max));
  std::vector<PendingActionResult> out;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({ResultOf(q), q.ColumnInt(6)});
  }
  return out;
}

Status ActionLog::MarkReported(const std::vector<std::pair<std::string, int64_t>>& versions) {
  std::lock_guard<std::mutex> lock(mu_);
  if (versions.empty() || !db_) return OkStatus();
  sqlite::Transaction tx(db_.get());
  SF_RETURN_IF_ERROR(tx.Begin());
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db_->Prepare(
      "UPDATE actions SET reported_version = ?2 WHERE id = ?1 AND reported_version < ?2"));
  for (const auto& [id, version] : versions) {
    q.Reset();
    q.Bind(1, id).Bind(2, version);
    SF_RETURN_IF_ERROR(q.Run());
  }
  return tx.Commit();
}

StatusOr<protocol::ActionResult> ActionLog::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!db_) return NotFoundError("no action " + id + " in the log");
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db_->Prepare(
      "SELECT id, COALESCE(state, ''), summary, details, started_at_ms, finished_at_ms FROM actions WHERE id = ?1"));
  q.Bind(1, id);
  SF_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFoundError("no action " + id + " in the log");
  return ResultOf(q);
}

Status ActionLog::Prune() {  // mu_ held
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement old, db_->Prepare(
      "DELETE FROM actions WHERE state IN ('succeeded', 'failed', 'refused') AND version = reported_version "
      "AND received_at_ms < ?1"));
  old.Bind(1, clock_.NowMillis() - kKeepMs);
  SF_RETURN_IF_ERROR(old.Run());
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement over, db_->Prepare(
      "DELETE FROM actions WHERE id IN (SELECT id FROM actions WHERE state IN ('succeeded', 'failed', 'refused') "
      "AND version = reported_version ORDER BY received_at_ms DESC LIMIT -1 OFFSET ?1)"));
  over.Bind(1, kKeepRows);
  return over.Run();
}

}  // namespace steadfast::agent
