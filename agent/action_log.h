// ActionLog: the actions the collector asked this agent to run (PROTOCOL.md, "Actions"), kept
// in SQLite in the state directory (actions.sqlite, synchronous=FULL) so that:
//   - an action runs at most once: the collector lists it in every answer until it is
//     finished, and an id already in the log is not taken again;
//   - its outcome reaches the collector: each change of state gets a new version, and the
//     uplink sends the latest state of every action whose version the collector has not yet
//     acknowledged, in the reports after it;
//   - an agent restart loses nothing: actions received but not started are run after it; one
//     that was running is reported failed ("interrupted by an agent restart"), not run again.
// Finished, reported actions are kept for 30 days (their ids must stay known while the
// collector might still list them), at most 1,000 rows. The file is made when the first action
// arrives: most agents never get one, and an unopened log costs no memory.
//
// Thread-safety: all methods are thread-safe (one connection behind a mutex).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/protocol/protocol.h"
#include "common/sqlite/sqlite_db.h"
#include "common/status.h"

namespace steadfast::agent {

// One unacknowledged state of an action, as the uplink sends it.
struct PendingActionResult {
  protocol::ActionResult result;
  int64_t version = 0;
};

class ActionLog {
 public:
  // Opens the log if its file exists (an action left running by the previous process is then
  // marked failed); otherwise the file is created by the first AddNew with a request.
  static StatusOr<std::unique_ptr<ActionLog>> Open(const std::string& path, Clock& clock);

  // Records the requests whose ids are new, durably, and returns them (in the given order).
  StatusOr<std::vector<protocol::ActionRequest>> AddNew(const std::vector<protocol::ActionRequest>& requests);
  // Requests received and never started (after a restart: what is still to run), oldest first.
  StatusOr<std::vector<protocol::ActionRequest>> Waiting();
  // A new state of an action (a new version to report).
  Status Update(const protocol::ActionResult& result);
  // The latest state of up to `max` actions with a version not yet acknowledged, oldest first.
  StatusOr<std::vector<PendingActionResult>> Unreported(size_t max);
  // The collector has these versions (its 200 answer to the report that carried them).
  Status MarkReported(const std::vector<std::pair<std::string, int64_t>>& versions);
  // The stored state of one action (NotFound for an unknown id).
  StatusOr<protocol::ActionResult> Get(const std::string& id);

 private:
  ActionLog(std::string path, Clock& clock) : path_(std::move(path)), clock_(clock) {}
  Status OpenLocked();  // opens (creating) the file
  Status Prune();

  std::mutex mu_;
  const std::string path_;
  std::unique_ptr<sqlite::SqliteDb> db_;  // null until there is a file
  Clock& clock_;
};

}  // namespace steadfast::agent
