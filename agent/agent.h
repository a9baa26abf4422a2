// Agent: the running agent. It assembles the checks (from the config, through the registry),
// the scheduler, the spool and the uplink, with the clock, file system, HTTP client and
// randomness injected, and runs two threads:
//   - the check thread waits (condition variable) until the scheduler's next due time, runs the
//     due checks and appends their results to the spool;
//   - the uplink thread enrols if the agent has no identity yet, then keeps draining the spool
//     to the collector, waiting uplink.interval when idle and the backoff after failures; after
//     each exchange that reached the collector it lets the InventoryReporter send the host's
//     inventory when it is new, changed or a day old (never spooled, never delaying reports).
// Stop() wakes both and joins them; no wait ignores it. If metrics_listen is set, /metrics and
// /healthz are served on a small HTTP server (one I/O thread, one handler thread).
//
// Thread-safety: Start/Stop from one controlling thread; the metrics and health handlers and
// accessors are thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/agent_config.h"
#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/enrollment.h"
#include "agent/inventory_reporter.h"
#include "agent/scheduler.h"
#include "agent/spool.h"
#include "agent/uplink.h"
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
};

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
  // Ends both threads promptly and stops the metrics server. A check already running finishes
  // first (a tcp check waits at most its timeout) and so does a request already sent to the
  // collector (at most uplink.timeout); no wait between them ignores Stop. Idempotent.
  void Stop();

  // Runs every check once, now, and returns the results; touches neither spool nor collector.
  // For --once. Must not be called while the agent is started.
  std::vector<protocol::CheckResult> RunChecksOnce();

  prometheus::Registry& metrics_registry() { return *registry_; }
  http::HttpResponse HandleMetrics();
  http::HttpResponse HandleHealthz();
  // The metrics server's port (0 when off or not started).
  uint16_t metrics_port() const;

  // After Start: the spool (for tests and the health handler).
  Spool* spool() { return spool_.get(); }
  const AgentConfig& config() const { return config_; }

 private:
  Agent(AgentConfig config, AgentEnv env);

  // Runs check `index`, fills duration_ms where the check left it 0, updates metrics.
  std::vector<protocol::CheckResult> RunCheck(size_t index);
  void CheckLoop();
  void UplinkLoop();
  // Waits up to `d` or until Stop(); false when stopping.
  bool WaitFor(Millis d);
  bool stopping() const;
  // Identity: the stored one, or enrol (retrying with backoff until it works or Stop()).
  std::optional<AgentIdentity> ObtainIdentity();
  StatusOr<std::string> EnrollmentToken();
  void UpdateSpoolMetrics();
  void RecordUplinkResult(const UplinkResult& result);

  AgentConfig config_;
  AgentEnv env_;
  CheckContext context_;
  std::vector<std::unique_ptr<Check>> checks_;
  std::vector<Millis> intervals_;
  protocol::HostInfo host_;

  std::unique_ptr<Spool> spool_;
  std::optional<AgentIdentity> identity_;         // set by Start or the uplink thread
  std::unique_ptr<Uplink> uplink_;                // uplink thread only
  std::unique_ptr<InventoryReporter> inventory_;  // uplink thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool started_ = false;   // controlling thread only
  std::thread check_thread_;
  std::thread uplink_thread_;
  std::atomic<bool> uplink_unauthorized_{false};
  std::atomic<bool> enrolled_{false};

  // Metrics. The registry owns the families; the pointers stay valid for its lifetime.
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* checks_run_family_ = nullptr;
  prometheus::Family<prometheus::Histogram>* check_duration_family_ = nullptr;
  std::vector<prometheus::Counter*> checks_run_;        // per check
  std::vector<prometheus::Histogram*> check_duration_;  // per check
  prometheus::Gauge* spool_rows_ = nullptr;
  prometheus::Gauge* spool_rejected_rows_ = nullptr;
  prometheus::Gauge* spool_oldest_age_ = nullptr;
  prometheus::Counter* spool_dropped_ = nullptr;
  prometheus::Counter* spool_errors_ = nullptr;
  prometheus::Family<prometheus::Counter>* uplink_requests_ = nullptr;
  prometheus::Gauge* uplink_last_success_ = nullptr;
  std::mutex metrics_mu_;
  uint64_t dropped_reported_ = 0;  // guarded by metrics_mu_

  // Last, so it is destroyed first: its handlers use the router, registry and spool above.
  http::Router router_;
  std::unique_ptr<http::HttpServer> metrics_server_;
};

}  // namespace steadfast::agent
