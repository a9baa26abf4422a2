#include "collector/actions/action_store.h"

#include <string_view>

namespace steadfast::collector::actions {
namespace {

std::vector<sqlite::Migration> Migrations() {
  return {{1, R"sql(
CREATE TABLE agent_actions (
  id              TEXT PRIMARY KEY,
  agent_id        TEXT NOT NULL,
  action          TEXT NOT NULL,
  params          TEXT NOT NULL,
  reason          TEXT NOT NULL,
  requested_by    TEXT NOT NULL,
  requested_at_ms INTEGER NOT NULL,
  expires_at_ms   INTEGER NOT NULL,
  state           TEXT NOT NULL,
  delivered_at_ms INTEGER NOT NULL DEFAULT 0,
  started_at_ms   INTEGER NOT NULL DEFAULT 0,
  finished_at_ms  INTEGER NOT NULL DEFAULT 0,
  updated_at_ms   INTEGER NOT NULL,
  summary         TEXT NOT NULL DEFAULT '',
  details         TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
CREATE INDEX agent_actions_by_agent ON agent_actions(agent_id, requested_at_ms);
CREATE INDEX agent_actions_open ON agent_actions(agent_id, requested_at_ms)
  WHERE state IN ('pending', 'delivered', 'running');
)sql"}};
}

constexpr std::string_view kColumns =
    "id, agent_id, action, params, reason, requested_by, requested_at_ms, expires_at_ms, state, delivered_at_ms, "
    "started_at_ms, finished_at_ms, updated_at_ms, summary, details";

bool Waiting(const std::string& state) { return state == "pending" || state == "delivered"; }

AgentAction ActionOf(const sqlite::SqliteStatement& q, int64_t now_ms) {
  AgentAction a;
  a.id = q.ColumnText(0);
  a.agent_id = q.ColumnText(1);
  a.action = q.ColumnText(2);
  a.params_json = q.ColumnText(3);
  a.reason = q.ColumnText(4);
  a.requested_by = q.ColumnText(5);
  a.requested_at_ms = q.ColumnInt(6);
  a.expires_at_ms = q.ColumnInt(7);
  a.state = q.ColumnText(8);
  a.delivered_at_ms = q.ColumnInt(9);
  a.started_at_ms = q.ColumnInt(10);
  a.finished_at_ms = q.ColumnInt(11);
  a.updated_at_ms = q.ColumnInt(12);
  a.summary = q.ColumnText(13);
  a.details_json = q.ColumnText(14);
  // Past its expiry and never started: expired, whether or not Deliver has written it yet.
  if (Waiting(a.state) && now_ms > a.expires_at_ms) a.state = "expired";
  return a;
}

}  // namespace

bool Finished(const std::string& state) {
  return state == "succeeded" || state == "failed" || state == "refused" || state == "expired";
}

StatusOr<std::unique_ptr<ActionStore>> ActionStore::Open(AdminDb& db, AuditAppender append_audit) {
  SF_RETURN_IF_ERROR(db.Migrate("agent_actions", Migrations()));
  std::unique_ptr<ActionStore> store(new ActionStore(db, std::move(append_audit)));
  SF_RETURN_IF_ERROR(db.Read([&](sqlite::SqliteDb& conn) -> Status {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, conn.Prepare(
        "SELECT DISTINCT agent_id FROM agent_actions WHERE state IN ('pending', 'delivered', 'running')"));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      store->open_agents_.insert(q.ColumnText(0));
    }
    return OkStatus();
  }));
  return store;
}

Status ActionStore::Queue(const AgentAction& a, const audit::AuditEvent& audit) {
  return db_.Write([&](sqlite::SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db.Prepare(
        "INSERT INTO agent_actions(id, agent_id, action, params, reason, requested_by, requested_at_ms, "
        "expires_at_ms, state, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?7)"));
    q.Bind(1, a.id).Bind(2, a.agent_id).Bind(3, a.action).Bind(4, a.params_json).Bind(5, a.reason)
        .Bind(6, a.requested_by).Bind(7, a.requested_at_ms).Bind(8, a.expires_at_ms);
    Status st = q.Run();
    if (st.code() == StatusCode::kAlreadyExists) return AlreadyExistsError("action id " + a.id + " is taken");
    SF_RETURN_IF_ERROR(st);
    SF_RETURN_IF_ERROR(append_audit_ ? append_audit_(db, audit) : OkStatus());
    // Before the commit, so that no report in between can miss it (the set may over-report:
    // an agent in it without an open action costs one read).
    std::lock_guard<std::mutex> l(open_mu_);
    open_agents_.insert(a.agent_id);
    return OkStatus();
  });
}

StatusOr<std::vector<AgentAction>> ActionStore::List(const std::string& agent_id, int64_t limit, int64_t now_ms) {
  std::vector<AgentAction> out;
  SF_RETURN_IF_ERROR(db_.Read([&](sqlite::SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q,
                        db.Prepare(std::string("SELECT ") + std::string(kColumns) +
                                   " FROM agent_actions WHERE agent_id = ?1 ORDER BY requested_at_ms DESC, id DESC "
                                   "LIMIT ?2"));
    q.Bind(1, agent_id).Bind(2, limit);
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(ActionOf(q, now_ms));
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<AgentAction> ActionStore::Get(const std::string& agent_id, const std::string& id, int64_t now_ms) {
  std::optional<AgentAction> found;
  SF_RETURN_IF_ERROR(db_.Read([&](sqlite::SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q,
                        db.Prepare(std::string("SELECT ") + std::string(kColumns) +
                                   " FROM agent_actions WHERE id = ?1 AND agent_id = ?2"));
    q.Bind(1, id).Bind(2, agent_id);
    SF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) found = ActionOf(q, now_ms);
    return OkStatus();
  }));
  if (!found) return NotFoundError("no action " + id + " for host " + agent_id);
  return *found;
}

StatusOr<std::vector<protocol::ActionRequest>> ActionStore::Deliver(const std::string& agent_id, int64_t now_ms) {
  std::vector<protocol::ActionRequest> out;
  {
    std::lock_guard<std::mutex> l(open_mu_);
    if (!open_agents_.count(agent_id)) return out;
  }
  SF_RETURN_IF_ERROR(db_.Write([&](sqlite::SqliteDb& db) -> Status {
    out.clear();
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement expire, db.Prepare(
        "UPDATE agent_actions SET state = 'expired', updated_at_ms = ?2, finished_at_ms = ?2, "
        "summary = 'expired before the agent started it' "
        "WHERE agent_id = ?1 AND state IN ('pending', 'delivered') AND expires_at_ms < ?2"));
    expire.Bind(1, agent_id).Bind(2, now_ms);
    SF_RETURN_IF_ERROR(expire.Run());
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db.Prepare(
        "SELECT id, action, params, requested_at_ms, requested_by, expires_at_ms FROM agent_actions "
        "WHERE agent_id = ?1 AND state IN ('pending', 'delivered', 'running') ORDER BY requested_at_ms, id LIMIT ?2"));
    q.Bind(1, agent_id).Bind(2, static_cast<int64_t>(protocol::kMaxActionsPerAck));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      protocol::ActionRequest r;
      r.id = q.ColumnText(0);
      r.action = q.ColumnText(1);
      r.params_json = q.ColumnText(2);
      r.requested_at_ms = q.ColumnInt(3);
      r.requested_by = q.ColumnText(4);
      r.expires_at_ms = q.ColumnInt(5);
      out.push_back(std::move(r));
    }
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement deliver, db.Prepare(
        "UPDATE agent_actions SET state = 'delivered', delivered_at_ms = ?2, updated_at_ms = ?2 "
        "WHERE agent_id = ?1 AND state = 'pending'"));
    deliver.Bind(1, agent_id).Bind(2, now_ms);
    SF_RETURN_IF_ERROR(deliver.Run());
    if (out.empty()) {
      // Nothing open any more (inside the write, so a Queue cannot slip in between).
      std::lock_guard<std::mutex> l(open_mu_);
      open_agents_.erase(agent_id);
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<int> ActionStore::Record(const std::string& agent_id, const std::vector<protocol::ActionResult>& results,
                                  int64_t now_ms) {
  int changed = 0;
  if (results.empty()) return changed;
  SF_RETURN_IF_ERROR(db_.Write([&](sqlite::SqliteDb& db) -> Status {
    changed = 0;
    // Only this agent's actions, and never one the agent already finished. "expired" is the
    // collector's guess (it never started in time); the agent's word replaces it.
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db.Prepare(
        "UPDATE agent_actions SET state = ?3, summary = ?4, details = ?5, started_at_ms = ?6, finished_at_ms = ?7, "
        "updated_at_ms = ?8, delivered_at_ms = CASE delivered_at_ms WHEN 0 THEN ?8 ELSE delivered_at_ms END "
        "WHERE id = ?1 AND agent_id = ?2 AND state IN ('pending', 'delivered', 'running', 'expired') "
        "AND (?3 <> 'running' OR state <> 'running')"));
    for (const protocol::ActionResult& r : results) {
      q.Reset();
      q.Bind(1, r.id).Bind(2, agent_id).Bind(3, protocol::ActionStateName(r.state)).Bind(4, r.summary)
          .Bind(5, r.details_json).Bind(6, r.started_at_ms).Bind(7, r.finished_at_ms).Bind(8, now_ms);
      SF_RETURN_IF_ERROR(q.Run());
      changed += db.Changes();
    }
    return OkStatus();
  }));
  return changed;
}

}  // namespace steadfast::collector::actions
