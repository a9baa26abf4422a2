// Agent: the running agent. It assembles the checks (from the config, through the registry),
// the check runtime, the spool and the uplink, with the clock, file system, HTTP client,
// command runner and randomness injected, and runs two threads:
//   - the check thread ticks the CheckRuntime (check_runtime.h): due checks go to a bounded
//     pool of workers (check_workers), each run with its timeout; finished and timed-out runs
//     are appended to the spool and kept as the latest results for /metrics. It waits on a
//     condition variable until the next due time or deadline, or until a worker wakes it;
//   - the uplink thread enrols if the agent has no identity yet, then keeps draining the spool
//     to the collector, waiting uplink.interval when idle and the backoff after failures; after
//     each exchange that reached the collector it lets the InventoryReporter send the host's
//     inventory when it is new, changed or a day old (never spooled, never delaying reports).
//     It measures the link (UplinkMonitor) and, when the link comes back after an outage or the
//     spool dropped results, spools a result of the built-in check "uplink" saying so.
// Stop() wakes both and joins them; no wait ignores it. If metrics_listen is set, /metrics and
// /healthz are served on a small HTTP server (one I/O thread, one handler thread).
//
// Thread-safety: Start/Stop from one controlling thread; the metrics and health handlers and
// accessors are thread-safe.
#pragma once


#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/agent_config.h"
#include "agent/agent_metrics.h"
#include "agent/action_log.h"
#include "agent/action_runner.h"
#include "agent/backup_jobs.h"
#include "agent/check.h"
#include "agent/check_metrics.h"
#include "agent/check_registry.h"
#include "agent/check_runtime.h"
#include "agent/command_runner.h"
#include "agent/enrollment.h"
#include "agent/inventory_reporter.h"
#include "agent/spool.h"
#include "agent/uplink.h"
#include "agent/uplink_monitor.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "common/http/http_client.h"
#include "common/http/http_server.h"
#include "common/random.h"

namespace steadfast::agent {

// What the agent borrows from main (or a test). All must outlive the Agent.
struct AgentEnv {
  Clock& clock;
  FileSystem& fs;
  http::HttpClient& http;
  Random& random;
  // For checks that run programs (ctx.commands); null: such checks report unknown.
  CommandRunner* commands = nullptr;
};

// The steadfast-backup program backup jobs run: `configured`, else the one installed beside
// this executable, else "steadfast-backup" in the command runner's fixed PATH.
std::string BackupProgram(const std::string& configured);

class Agent {
 public:
  // Builds every configured check (errors as from the check factories). Opens nothing yet.
  static StatusOr<std::unique_ptr<Agent>> Create(AgentConfig config, const CheckRegistry& registry,
                                                 AgentEnv env);
  ~Agent();  // Stop()s
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Creates state_dir (0700), opens the spool (a damaged one is renamed to
  // spool.db.damaged-<ms> and replaced by an empty one), reads the identity (FailedPrecondition if
  // there is none and no enrolment token is configured), starts the metrics server (Unavailable if
  // the port is taken) and the two threads. Call once.
  Status Start();
  // Ends both threads and stops the metrics server. Runs already going finish first (checks
  // bound themselves by their timeout; commands are killed at it) and so does a request
  // already sent to the collector (at most uplink.timeout); queued runs are dropped. Idempotent.
  void Stop();

  // Runs every check once, now, through the same worker pool and timeouts, and returns the
  // results in config order (a check that timed out gives `unknown` results); touches neither
  // spool nor collector. For --once. Must not be called while the agent is started.
  std::vector<protocol::CheckResult> RunChecksOnce();
  // After RunChecksOnce: a timed-out check is still running in its thread (it ignores its
  // deadline); destroying the Agent would wait for it.
  bool HasOverrunningChecks() const { return runtime_->HasOverrunningRuns(); }

  http::HttpResponse HandleMetrics();
  http::HttpResponse HandleHealthz();
  // The metrics server's port (0 when off or not started).
  uint16_t metrics_port() const;

  // After Start: the spool (for tests and the health handler).
  Spool* spool() { return spool_.get(); }
  const AgentConfig& config() const { return config_; }
  // The backup jobs' runner (null without jobs or a command runner): emergency_backup and
  // --run-backup-job use it, started or not.
  BackupJobRunner* backup_jobs() { return backup_jobs_.get(); }

 private:
  Agent(AgentConfig config, AgentEnv env);

  // Metrics and latest results for finished runs; appends them to the spool when `spool`.
  void HandleRuns(std::vector<CheckRun>& runs, bool spool);
  void CheckLoop();
  void UplinkLoop();
  // Waits up to `d` or until Stop(); false when stopping.
  bool WaitFor(Millis d);
  bool stopping() const;
  // Identity: the stored one, or enrol (retrying with backoff until it works or Stop()).
  std::optional<AgentIdentity> ObtainIdentity();
  StatusOr<std::string> EnrollmentToken();
  void UpdateSpoolMetrics();
  void UpdateUplinkMetrics();
  // Monitors the link; spools an "uplink" result after an outage, after drops, or when the
  // backlog a warning report announced is delivered.
  void RecordUplinkResult(const UplinkResult& result);
  void SpoolUplinkResult(const protocol::CheckResult& r, const SpoolDrops& covered);

  AgentConfig config_;
  AgentEnv env_;
  std::vector<std::unique_ptr<Check>> checks_;
  std::unique_ptr<CheckRuntime> runtime_;
  CheckMetrics check_metrics_;
  protocol::HostInfo host_;

  std::unique_ptr<Spool> spool_;
  std::optional<AgentIdentity> identity_;         // set by Start or the uplink thread
  std::unique_ptr<Uplink> uplink_;                // uplink thread only
  std::unique_ptr<InventoryReporter> inventory_;  // uplink thread only
  UplinkMonitor uplink_monitor_;
  bool backlog_report_pending_ = false;  // uplink thread only: a warning report awaits "caught up"

  mutable std::mutex mu_;
  std::condition_variable cv_;        // Stop() for both threads' waits
  std::condition_variable check_cv_;  // the check thread: a run started or ended
  bool stopping_ = false;             // guarded by mu_
  bool check_event_ = false;          // guarded by mu_
  bool uplink_wake_ = false;          // guarded by mu_: an action state to report
  bool started_ = false;              // controlling thread only
  std::thread check_thread_;
  std::thread uplink_thread_;
  std::atomic<bool> uplink_unauthorized_{false};
  std::atomic<bool> enrolled_{false};

  // Metrics. The registry owns the families; the pointers stay valid for its lifetime.
  MetricRegistry registry_;
  MetricFamily<Counter>* checks_run_family_ = nullptr;
  MetricFamily<Histogram>* check_duration_family_ = nullptr;
  MetricFamily<Counter>* check_timeouts_family_ = nullptr;
  MetricFamily<Counter>* check_skipped_family_ = nullptr;
  MetricFamily<Counter>* check_late_family_ = nullptr;
  std::vector<Counter*> checks_run_;        // per check
  std::vector<Histogram*> check_duration_;  // per check
  std::vector<Counter*> check_timeouts_;    // per check
  std::vector<Counter*> check_skipped_;     // per check
  std::vector<Counter*> check_late_;        // per check
  Gauge* check_threads_ = nullptr;
  Gauge* spool_rows_ = nullptr;
  Gauge* spool_bytes_ = nullptr;
  Gauge* spool_rejected_rows_ = nullptr;
  Gauge* spool_oldest_age_ = nullptr;
  Counter* spool_dropped_full_ = nullptr;
  Counter* spool_dropped_expired_ = nullptr;
  Counter* spool_errors_ = nullptr;
  MetricFamily<Counter>* uplink_requests_ = nullptr;
  Gauge* uplink_up_ = nullptr;
  Gauge* uplink_failures_ = nullptr;
  Gauge* uplink_outage_ = nullptr;
  Gauge* uplink_last_outage_ = nullptr;
  Counter* uplink_outages_ = nullptr;
  Gauge* uplink_last_success_ = nullptr;
  Gauge* uplink_last_failure_ = nullptr;
  MetricFamily<Counter>* actions_total_ = nullptr;
  std::mutex metrics_mu_;
  SpoolDrops dropped_reported_;     // guarded by metrics_mu_
  int64_t outages_reported_ = 0;    // guarded by metrics_mu_

  // Last, so it is destroyed first: its handlers use the router, registry and spool above.
  http::Router router_;
  std::unique_ptr<http::HttpServer> metrics_server_;
  std::unique_ptr<BackupJobRunner> backup_jobs_;  // when the config has backup jobs
  std::unique_ptr<ActionLog> action_log_;
  std::unique_ptr<ActionRunner> actions_;  // after backup_jobs_: destroyed (joined) first
};

}  // namespace steadfast::agent
