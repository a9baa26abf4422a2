// ActionRunner: runs the actions the collector asks for (PROTOCOL.md, "Actions"), one at a
// time, on its own thread, and records every state in the ActionLog (which the uplink
// reports). An action is refused, with the reason, when this agent's config does not allow it
// (actions.allowed), when it has expired, or when its parameters are wrong. Known actions:
//   emergency_backup  {"job": NAME} optional: every backup job now (or the one named), tagged
//                     "emergency", nothing forgotten (BackupJobRunner::Emergency).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/action_log.h"
#include "agent/backup_jobs.h"
#include "common/clock.h"
#include "common/protocol/protocol.h"

namespace steadfast::agent {

class ActionRunner {
 public:
  // Called after each new state is recorded (the agent wakes the uplink and counts it).
  using Changed = std::function<void(const protocol::ActionRequest&, const protocol::ActionResult&)>;
  // `jobs` may be null (no backup jobs).
  ActionRunner(ActionLog& log, std::vector<std::string> allowed, BackupJobRunner* jobs, Clock& clock,
               Changed changed = nullptr);
  ~ActionRunner();
  ActionRunner(const ActionRunner&) = delete;
  ActionRunner& operator=(const ActionRunner&) = delete;

  // Starts the thread; it first runs what the log holds as received and not started.
  void Start();
  // Stops after the action under way.
  void Stop();
  // The actions of a collector's answer: those new to the log are recorded and queued.
  Status Offer(const std::vector<protocol::ActionRequest>& actions);
  // Runs one action on the calling thread and records its states; returns the final one.
  protocol::ActionResult Run(const protocol::ActionRequest& request);

 private:
  void Loop();
  protocol::ActionResult Record(const protocol::ActionRequest& request, protocol::ActionResult result);
  // `job`: the one job to run ("" for all), already checked.
  protocol::ActionResult EmergencyBackup(const protocol::ActionRequest& request, protocol::ActionResult r,
                                         const std::string& job);

  ActionLog& log_;
  const std::vector<std::string> allowed_;
  BackupJobRunner* jobs_;
  Clock& clock_;
  Changed changed_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<protocol::ActionRequest> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace steadfast::agent
