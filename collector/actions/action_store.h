// ActionStore: the actions people (and, later, emergency plans) ask agents to run
// (common/protocol/PROTOCOL.md, "Actions"; docs/ACTIONS.md). It lives in the admin database, so
// a request and its audit record commit in one transaction.
//
// States: pending (queued) -> delivered (listed in an answer to the agent) -> running ->
// succeeded | failed | refused, as the agent reports them; pending or delivered past its
// expiry -> expired (the agent would refuse it anyway; should it have started it just in time,
// its report replaces "expired"). What the agent reported finished never changes again, so a
// retried report is harmless, and a report about an id that is not this agent's is ignored.
//
// Thread-safe (AdminDb serialises).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "collector/audit/audit_log.h"
#include "collector/store/admin_db.h"
#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::collector::actions {

struct AgentAction {
  std::string id;  // "act-" and 16 hex digits
  std::string agent_id;
  std::string action;  // emergency_backup
  std::string params_json = "{}";
  std::string reason;        // why, in the requester's words
  std::string requested_by;  // user name (or the plan)
  int64_t requested_at_ms = 0;
  int64_t expires_at_ms = 0;
  std::string state = "pending";
  int64_t delivered_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::string summary;
  std::string details_json = "{}";
};

// Whether `state` is final (succeeded, failed, refused, expired).
bool Finished(const std::string& state);

class ActionStore {
 public:
  using AuditAppender = std::function<Status(sqlite::SqliteDb&, const audit::AuditEvent&)>;
  static StatusOr<std::unique_ptr<ActionStore>> Open(AdminDb& db, AuditAppender append_audit);

  // Queues `action` (state pending) with `audit` in one transaction. AlreadyExists for a taken id.
  Status Queue(const AgentAction& action, const audit::AuditEvent& audit);
  // The agent's actions, newest first; expired ones are shown as such.
  StatusOr<std::vector<AgentAction>> List(const std::string& agent_id, int64_t limit, int64_t now_ms);
  // NotFound unless the action is the agent's.
  StatusOr<AgentAction> Get(const std::string& agent_id, const std::string& id, int64_t now_ms);
  // What to list in an answer to the agent: its actions that are not finished and not
  // expired, oldest first, at most protocol::kMaxActionsPerAck; pending ones become delivered,
  // and those found past their expiry become expired. Called for every report: an agent with
  // no open action is answered from memory, without touching the database.
  StatusOr<std::vector<protocol::ActionRequest>> Deliver(const std::string& agent_id, int64_t now_ms);
  // The states an agent reported. Returns how many actions changed.
  StatusOr<int> Record(const std::string& agent_id, const std::vector<protocol::ActionResult>& results,
                       int64_t now_ms);

 private:
  ActionStore(AdminDb& db, AuditAppender append_audit) : db_(db), append_audit_(std::move(append_audit)) {}
  AdminDb& db_;
  const AuditAppender append_audit_;
  std::mutex open_mu_;
  std::unordered_set<std::string> open_agents_;  // agents that may have an open action
};

}  // namespace steadfast::collector::actions
