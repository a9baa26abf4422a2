#include "agent/agent.h"

#include <fmt/format.h>
#include <malloc.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/checks/check_util.h"
#include "agent/host_info.h"
#include "agent/host_port.h"
#include "common/logging.h"
#include "steadfast/version.h"

namespace steadfast::agent {
namespace {

std::string Trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// Floor for retry waits: a zero draw of the full-jitter backoff must not make a loop spin.
constexpr Millis kMinRetryWait(100);
// How long finished results may wait in memory for the other runs of their group before they
// are spooled (CheckRuntime's `gather`). Results not yet spooled are lost if the agent dies,
// like a run that had not started; a SIGTERM spools them (the check thread's last tick).
constexpr Millis kResultGather(1'000);

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Renames a SQLite database and its -wal/-shm companions (those may be absent).
Status MoveAside(const std::string& path, const std::string& aside) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    std::filesystem::rename(path + suffix, aside + suffix, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return UnavailableError("rename " + path + suffix + ": " + ec.message());
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentConfig config, const CheckRegistry& registry,
                                               AgentEnv env) {
  std::unique_ptr<Agent> agent(new Agent(std::move(config), env));
  Agent& a = *agent;
  CheckContext base{env.clock, env.fs, a.config_.proc_root};
  base.sys_root = a.config_.sys_root;
  base.dev_root = a.config_.dev_root;
  base.etc_root = a.config_.etc_root;
  base.var_root = a.config_.var_root;
  base.state_dir = a.config_.state_dir;
  base.commands = env.commands;
  // The runtime's workers wake the check thread when a run starts with an earlier deadline
  // than it planned to wake for, or results are ready to spool. Results are gathered for up to
  // kResultGather while other runs are under way: checks due together (the scheduler gives
  // same-interval checks one phase) are spooled in one commit, so a cycle costs one fsync,
  // not one per check.
  a.runtime_ = std::make_unique<CheckRuntime>(
      env.clock, env.random, base, static_cast<size_t>(a.config_.check_workers),
      [&a] {
        {
          std::lock_guard<std::mutex> lock(a.mu_);
          a.check_event_ = true;
        }
        a.check_cv_.notify_all();
      },
      kResultGather);
  const MonoTime now = env.clock.Monotonic();
  for (const CheckSpec& spec : a.config_.checks) {
    SF_ASSIGN_OR_RETURN(std::unique_ptr<Check> check, registry.Create(spec));
    a.runtime_->Add(check.get(), Millis(spec.interval_ms), Millis(spec.timeout_ms), now);
    a.checks_.push_back(std::move(check));
    const MetricLabels labels = {{"check", spec.name}};
    a.checks_run_.push_back(&a.checks_run_family_->Add(labels));
    a.check_duration_.push_back(&a.check_duration_family_->Add(labels));
    a.check_timeouts_.push_back(&a.check_timeouts_family_->Add(labels));
    a.check_skipped_.push_back(&a.check_skipped_family_->Add(labels));
    a.check_late_.push_back(&a.check_late_family_->Add(labels));
  }
  if (!a.config_.backup_jobs.empty() && env.commands != nullptr) {
    a.backup_jobs_ = std::make_unique<BackupJobRunner>(a.config_.backup_jobs, a.config_.state_dir,
                                                       BackupProgram(a.config_.backup_program), *env.commands, env.clock);
  }
  return agent;
}

std::string BackupProgram(const std::string& configured) {
  if (!configured.empty()) return configured;
  // Installed side by side (bin/steadfast-agent, bin/steadfast-backup), or in the build tree
  // (agent/steadfast-agent, backup/steadfast-backup).
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    const std::string exe(self, static_cast<size_t>(n));
    const std::string dir = exe.substr(0, exe.rfind('/'));
    for (const std::string& candidate : {dir + "/steadfast-backup", dir + "/../backup/steadfast-backup"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "steadfast-backup";  // looked up in the command runner's fixed PATH
}

Agent::Agent(AgentConfig config, AgentEnv env)
    : config_(std::move(config)), env_(env) {
  // Names are constants (a duplicate would stop every unit test that builds an Agent).
  auto gauge = [this](const char* name, const char* help) {
    return &registry_.AddGauge(name, help).Add({});
  };
  auto counter = [this](const char* name, const char* help) {
    return &registry_.AddCounter(name, help).Add({});
  };
  checks_run_family_ = &registry_.AddCounter("steadfast_agent_checks_run_total", "Check runs (finished or timed out), by check name.");
  check_duration_family_ = &registry_.AddHistogram("steadfast_agent_check_duration_seconds", "Time one run of a check took, by check name.", {0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30});
  check_timeouts_family_ = &registry_.AddCounter("steadfast_agent_check_timeouts_total", "Runs still going at the check's timeout, reported unknown.");
  check_skipped_family_ =
      &registry_.AddCounter("steadfast_agent_check_skipped_total", "Scheduled runs skipped because the check's previous run was still going.");
  check_late_family_ =
      &registry_.AddCounter("steadfast_agent_check_late_results_total", "Timed-out runs that returned later; their results were discarded.");
  check_threads_ = gauge("steadfast_agent_check_threads",
                         "Worker threads running checks (check_workers, plus one per check still "
                         "running past its timeout).");
  spool_rows_ = gauge("steadfast_agent_spool_rows", "Results in the spool waiting for the collector.");
  spool_bytes_ = gauge("steadfast_agent_spool_bytes",
                       "Bytes of result text in the spool (what spool.max_bytes bounds).");
  spool_rejected_rows_ = gauge("steadfast_agent_spool_rejected_rows",
                               "Results the collector refused as malformed, kept aside.");
  spool_oldest_age_ = gauge("steadfast_agent_spool_oldest_age_seconds",
                            "Age of the oldest result in the spool.");
  auto& dropped = registry_.AddCounter(
      "steadfast_agent_spool_dropped_total",
      "Results dropped from the spool: reason full (metrics-only samples, to "
      "stay under max_rows/max_bytes) or expired (older than max_age).");
  spool_dropped_full_ = &dropped.Add({{"reason", "full"}});
  spool_dropped_expired_ = &dropped.Add({{"reason", "expired"}});
  spool_errors_ = counter("steadfast_agent_spool_errors_total",
                          "Results lost because they could not be written to the spool.");
  uplink_requests_ = &registry_.AddCounter("steadfast_agent_uplink_requests_total", "Report requests sent to the collector, by result.");
  actions_total_ = &registry_.AddCounter("steadfast_agent_actions_total",
                                         "Actions the collector asked for that ended, by action and state "
                                         "(succeeded, failed, refused).");
  uplink_up_ = gauge("steadfast_agent_uplink_up",
                     "1 if the last exchange with the collector succeeded, else 0.");
  uplink_failures_ = gauge("steadfast_agent_uplink_consecutive_failures",
                           "Failed exchanges with the collector since the last success.");
  uplink_outage_ = gauge("steadfast_agent_uplink_outage_seconds",
                         "How long the current outage of the link to the collector has lasted "
                         "(0 while up).");
  uplink_last_outage_ = gauge("steadfast_agent_uplink_last_outage_duration_seconds",
                              "Duration of the last outage that ended.");
  uplink_outages_ = counter("steadfast_agent_uplink_outages_total",
                            "Outages of the link to the collector (runs of failed exchanges).");
  uplink_last_success_ = gauge("steadfast_agent_uplink_last_success_timestamp_seconds",
                               "Unix time of the last report the collector acknowledged.");
  uplink_last_failure_ = gauge("steadfast_agent_uplink_last_failure_timestamp_seconds",
                               "Unix time of the last failed exchange with the collector.");
  router_.Handle("GET", "/metrics", [this](const http::HttpRequest&) { return HandleMetrics(); });
  router_.Handle("GET", "/healthz", [this](const http::HttpRequest&) { return HandleHealthz(); });
}

Agent::~Agent() { Stop(); }

Status Agent::Start() {
  SF_CHECK(!started_);  // Start is called once by main; a second call is a bug.
  host_ = CollectHostInfo(env_.fs);
  SF_RETURN_IF_ERROR(env_.fs.CreateDirectories(config_.state_dir, 0700));
  SpoolOptions spool_options;
  spool_options.max_rows = config_.spool.max_rows;
  spool_options.max_bytes = config_.spool.max_bytes;
  spool_options.max_age = Millis(config_.spool.max_age_ms);
  const std::string spool_path = config_.state_dir + "/spool.db";
  auto spool = Spool::Open(spool_path, env_.clock, spool_options);
  if (!spool.ok() && spool.status().code() == StatusCode::kDataLoss) {
    // A damaged spool must not keep the host unmonitored: keep the file for a person to look
    // at and start a new one. Its sequence starts at now_ms * 1000, above every number the
    // old one issued, so the collector never sees a number twice.
    const std::string aside = fmt::format("{}.damaged-{}", spool_path, env_.clock.NowMillis());
    SF_LOG_ERROR("spool {} is damaged ({}); moving it to {} and starting an empty one", spool_path,
                 spool.status().ToString(), aside);
    SF_RETURN_IF_ERROR(MoveAside(spool_path, aside));
    spool = Spool::Open(spool_path, env_.clock, spool_options);
  }
  if (!spool.ok()) return spool.status().WithContext("open spool " + spool_path);
  spool_ = std::move(spool).value();

  // The actions the collector asked for (PROTOCOL.md, "Actions"): which ids were seen, and
  // their states until the collector has them.
  const std::string actions_path = config_.state_dir + "/actions.db";
  auto action_log = ActionLog::Open(actions_path, env_.clock);
  if (!action_log.ok() && action_log.status().code() == StatusCode::kDataLoss) {
    const std::string aside = fmt::format("{}.damaged-{}", actions_path, env_.clock.NowMillis());
    SF_LOG_ERROR("action log {} is damaged ({}); moving it to {} and starting an empty one", actions_path,
                 action_log.status().ToString(), aside);
    SF_RETURN_IF_ERROR(MoveAside(actions_path, aside));
    action_log = ActionLog::Open(actions_path, env_.clock);
  }
  if (!action_log.ok()) return action_log.status().WithContext("open action log " + actions_path);
  action_log_ = std::move(action_log).value();
  actions_ = std::make_unique<ActionRunner>(
      *action_log_, config_.actions.allowed, backup_jobs_.get(), env_.clock,
      [this](const protocol::ActionRequest& request, const protocol::ActionResult& result) {
        if (result.state != protocol::ActionState::kRunning) {
          actions_total_->Add({{"action", request.action}, {"state", std::string(protocol::ActionStateName(result.state))}})
              .Increment();
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          uplink_wake_ = true;
        }
        cv_.notify_all();
      });

  SF_ASSIGN_OR_RETURN(identity_, LoadIdentity(env_.fs, config_.state_dir));
  if (identity_) {
    enrolled_ = true;
    if (!identity_->collector_url.empty() && identity_->collector_url != config_.collector_url) {
      SF_LOG_WARN("agent.token was issued by {} but collector_url is {}; using {}",
                  identity_->collector_url, config_.collector_url, config_.collector_url);
    }
  } else if (config_.enrollment_token.empty() && config_.enrollment_token_file.empty()) {
    return FailedPreconditionError(fmt::format(
        "{} does not exist and neither enrollment_token nor enrollment_token_file is set in {}",
        IdentityPath(config_.state_dir), config_.source.empty() ? "the config" : config_.source));
  }

  if (!config_.metrics_listen.empty()) {
    http::HttpServerOptions o;
    SF_RETURN_IF_ERROR(SplitHostPort(config_.metrics_listen, &o.bind_address, &o.port));
    o.io_threads = 1;
    o.handler_threads = 1;
    o.max_body_bytes = 64 << 10;
    o.shutdown_grace = Millis(2'000);
    o.server_name = "steadfast-agent";
    auto server = http::HttpServer::Start(o, router_.AsHandler());
    if (!server.ok()) {
      return server.status().WithContext("metrics_listen " + config_.metrics_listen);
    }
    metrics_server_ = std::move(server).value();
    SF_LOG_INFO("serving /metrics and /healthz on {}:{}", o.bind_address, metrics_server_->port());
  }
  UpdateSpoolMetrics();
  started_ = true;
  check_thread_ = std::thread([this] { CheckLoop(); });
  uplink_thread_ = std::thread([this] { UplinkLoop(); });
  if (backup_jobs_) backup_jobs_->Start();
  actions_->Start();
  SF_LOG_INFO("agent started: {} checks on {} workers, spool {} ({} results waiting), collector {}",
              checks_.size(), config_.check_workers, spool_path, spool_->Count(),
              config_.collector_url);
  return OkStatus();
}

void Agent::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  check_cv_.notify_all();
  if (backup_jobs_) backup_jobs_->Stop();  // waits for a job under way (killed at its timeout)
  if (actions_) actions_->Stop();          // waits for the action under way
  if (check_thread_.joinable()) check_thread_.join();
  // Drops queued runs and waits for the running ones (their wake-ups use mu_, alive here).
  runtime_->Shutdown();
  if (uplink_thread_.joinable()) uplink_thread_.join();
  if (metrics_server_) metrics_server_->Shutdown();
}

bool Agent::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

bool Agent::WaitFor(Millis d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_ || uplink_wake_; });
  uplink_wake_ = false;
  return !stopping_;
}

void Agent::HandleRuns(std::vector<CheckRun>& runs, bool spool) {
  std::vector<protocol::CheckResult> batch;
  std::vector<std::string> names;
  for (CheckRun& run : runs) {
    checks_run_[run.index]->Increment();
    check_duration_[run.index]->Observe(Seconds(run.elapsed));
    if (run.timed_out) check_timeouts_[run.index]->Increment();
    check_metrics_.Update(runtime_->name(run.index), run.results);
    if (!spool || run.results.empty()) continue;
    batch.insert(batch.end(), run.results.begin(), run.results.end());
    names.push_back(runtime_->name(run.index));
  }
  if (batch.empty()) return;
  // Every run that finished since the last tick in one transaction: one commit (one fsync)
  // instead of one per check, the spool's largest CPU cost (bench/agent_cycle.sh, perf).
  auto seqs = spool_->AppendAll(batch);
  // The cycle's results, their JSON and SQLite's scratch space are freed by now; hand the
  // freed heap pages back (about 0.3 MB of the agent's resident memory, bench/agent_cycle.sh)
  // rather than keep them for the next cycle. Once per commit.
  ::malloc_trim(0);
  if (!seqs.ok()) {
    spool_errors_->Increment(static_cast<double>(batch.size()));
    SF_LOG_ERROR("cannot spool {} results of checks {}: {}", batch.size(), JoinText(names, ", "),
                 seqs.status().ToString());
  }
}

std::vector<protocol::CheckResult> Agent::RunChecksOnce() {
  std::vector<CheckRun> runs = runtime_->RunAllOnce();
  HandleRuns(runs, /*spool=*/false);
  check_threads_->Set(static_cast<double>(runtime_->threads()));
  std::vector<protocol::CheckResult> all;
  for (CheckRun& run : runs) {
    for (auto& r : run.results) all.push_back(std::move(r));
  }
  return all;
}

void Agent::CheckLoop() {
  while (!stopping()) {
    TickOutput out = runtime_->Tick(env_.clock.Monotonic());
    HandleRuns(out.runs, /*spool=*/true);
    for (size_t i : out.skipped) {
      check_skipped_[i]->Increment();
      SF_LOG_WARN("check {} is due but its previous run is still going; skipping this run",
                  runtime_->name(i));
    }
    for (size_t i : out.late) check_late_[i]->Increment();
    check_threads_->Set(static_cast<double>(runtime_->threads()));
    if (!out.runs.empty()) UpdateSpoolMetrics();

    const std::optional<MonoTime> next = runtime_->NextWakeup();
    const MonoTime now = env_.clock.Monotonic();
    // No checks: just wait for Stop (an hour at a time).
    Millis wait = next ? std::chrono::ceil<Millis>(*next - now) : Millis(3'600'000);
    std::unique_lock<std::mutex> lock(mu_);
    check_cv_.wait_for(lock, std::max(wait, Millis(1)),
                       [this] { return stopping_ || check_event_; });
    check_event_ = false;
  }
  // Stopping: what finished but was still gathering goes to the spool before the process ends.
  std::vector<CheckRun> finished = runtime_->TakeFinished();
  if (!finished.empty()) {
    HandleRuns(finished, /*spool=*/true);
    UpdateSpoolMetrics();
  }
}

StatusOr<std::string> Agent::EnrollmentToken() {
  if (!config_.enrollment_token.empty()) return config_.enrollment_token;
  if (config_.enrollment_token_file.empty()) return std::string();
  SF_ASSIGN_OR_RETURN(std::string text, env_.fs.ReadFile(config_.enrollment_token_file, 4096));
  return Trim(text);
}

std::optional<AgentIdentity> Agent::ObtainIdentity() {
  int failures = 0;
  while (!stopping()) {
    Status error;
    if (auto token = EnrollmentToken(); !token.ok()) {
      error = token.status().WithContext("read enrollment_token_file");
    } else {
      EnrollOptions o;
      o.collector_url = config_.collector_url;
      o.enrollment_token = *token;
      o.host = host_;
      o.timeout = Millis(config_.uplink.timeout_ms);
      auto id = LoadOrEnroll(env_.fs, env_.http, config_.state_dir, o);
      if (id.ok()) return *id;
      error = id.status();
    }
    ++failures;
    Millis delay =
        BackoffDelay(failures, Millis(1'000), Millis(config_.uplink.max_backoff_ms), env_.random);
    SF_LOG_ERROR("enrolment failed: {}; retrying in {} ms", error.ToString(), delay.count());
    if (!WaitFor(std::max(delay, kMinRetryWait))) break;
  }
  return std::nullopt;
}

void Agent::UplinkLoop() {
  if (!identity_) {
    identity_ = ObtainIdentity();
    if (!identity_) return;  // stopping
    enrolled_ = true;
  }
  UplinkOptions o;
  o.collector_url = config_.collector_url;
  o.agent_id = identity_->agent_id;
  o.agent_token = identity_->agent_token;
  o.host = host_;
  o.batch_size = static_cast<size_t>(config_.uplink.batch_size);
  o.request_timeout = Millis(config_.uplink.timeout_ms);
  o.max_backoff = Millis(config_.uplink.max_backoff_ms);
  o.poll_interval = Millis(config_.uplink.poll_interval_ms);
  o.actions = action_log_.get();
  o.on_actions = [this](const std::vector<protocol::ActionRequest>& actions) {
    Status st = actions_->Offer(actions);
    if (!st.ok()) SF_LOG_ERROR("actions: cannot record the collector's actions: {}", st.ToString());
  };
  uplink_ = std::make_unique<Uplink>(*spool_, env_.http, env_.clock, env_.random, o);
  InventoryReporterOptions io;
  io.collector_url = config_.collector_url;
  io.agent_id = identity_->agent_id;
  io.agent_token = identity_->agent_token;
  FileSystem& fs = env_.fs;
  io.host_info = [&fs] { return CollectHostInfo(fs); };
  io.roots.proc = config_.proc_root;
  io.roots.sys = config_.sys_root;
  io.retry_interval = std::max(Millis(config_.uplink.interval_ms), kMinRetryWait);
  io.max_backoff = std::max(Millis(config_.uplink.max_backoff_ms), io.retry_interval);
  io.request_timeout = Millis(config_.uplink.timeout_ms);
  inventory_ = std::make_unique<InventoryReporter>(env_.fs, env_.http, env_.clock, io);
  const Millis interval(config_.uplink.interval_ms);
  while (!stopping()) {
    const size_t requested = uplink_->current_batch_size();
    UplinkResult r = uplink_->SendOnce();
    RecordUplinkResult(r);
    // Only while the collector is reachable and takes this agent: the inventory must not add
    // a second timeout to a cycle whose report already failed.
    if (r.outcome != UplinkOutcome::kRetryLater && r.outcome != UplinkOutcome::kUnauthorized &&
        !stopping()) {
      inventory_->Tick();
    }
    Millis wait(0);
    switch (r.outcome) {
      case UplinkOutcome::kIdle:
        wait = interval;
        break;
      case UplinkOutcome::kSent:
        // A full batch means a backlog: keep draining. Otherwise let results gather for an
        // interval rather than sending each one as it is spooled.
        wait = r.entries >= requested ? Millis(0) : interval;
        break;
      case UplinkOutcome::kRetryLater:
        wait = std::max(r.retry_after, kMinRetryWait);
        break;
      case UplinkOutcome::kBatchSplit:
      case UplinkOutcome::kRejected:
        wait = Millis(0);
        break;
      case UplinkOutcome::kUnauthorized:
        uplink_unauthorized_ = true;
        wait = Millis(3'600'000);  // nothing to do until a restart; wake only to stop
        break;
    }
    if (wait.count() > 0 && !WaitFor(wait)) break;
  }
}

void Agent::SpoolUplinkResult(const protocol::CheckResult& r, const SpoolDrops& covered) {
  auto seq = spool_->AppendDropReport(r, covered);
  if (!seq.ok()) {
    spool_errors_->Increment();
    SF_LOG_ERROR("cannot spool the uplink report: {}", seq.status().ToString());
    return;
  }
  check_metrics_.Update(kUplinkCheckName, {r});
  if (r.status != protocol::CheckStatus::kOk) backlog_report_pending_ = true;
  SF_LOG_INFO("uplink: {}", r.summary);
}

void Agent::RecordUplinkResult(const UplinkResult& r) {
  const int64_t now_ms = env_.clock.NowMillis();
  std::optional<UplinkOutage> ended = uplink_monitor_.Record(r, now_ms);
  if (r.outcome == UplinkOutcome::kSent) {
    uplink_last_success_->Set(static_cast<double>(now_ms) / 1000.0);
  }
  if (r.attempted) {
    std::string label(UplinkOutcomeName(r.outcome));
    if (r.outcome == UplinkOutcome::kRetryLater && r.http_status == 0) label = "transport_error";
    uplink_requests_->Add({{"result", label}}).Increment();
  }
  // While the collector takes reports: report the outage that just ended, drops nobody has
  // heard of yet, or that the backlog a warning report announced is delivered.
  const bool delivering = r.outcome == UplinkOutcome::kSent || r.outcome == UplinkOutcome::kIdle ||
                          r.outcome == UplinkOutcome::kBatchSplit ||
                          r.outcome == UplinkOutcome::kRejected;
  if (delivering) {
    const SpoolDrops drops = spool_->UnreportedDrops();
    if (ended || drops.total() > 0) {
      SpoolUplinkResult(UplinkReport(config_.collector_url, ended ? &*ended : nullptr,
                                     spool_->Count(), drops, now_ms),
                        drops);
    } else if (backlog_report_pending_ && spool_->Count() == 0) {
      backlog_report_pending_ = false;
      SpoolUplinkResult(UplinkCaughtUpReport(config_.collector_url, now_ms), SpoolDrops{});
    }
  }
  if (r.attempted) UpdateSpoolMetrics();
  UpdateUplinkMetrics();
}

void Agent::UpdateUplinkMetrics() {
  const UplinkState s = uplink_monitor_.Snapshot();
  const int64_t now_ms = env_.clock.NowMillis();
  std::lock_guard<std::mutex> lock(metrics_mu_);
  uplink_up_->Set(s.up ? 1 : 0);
  uplink_failures_->Set(static_cast<double>(s.consecutive_failures));
  uplink_outage_->Set(s.outage_started_ms > 0
                          ? static_cast<double>(now_ms - s.outage_started_ms) / 1000.0
                          : 0);
  uplink_last_outage_->Set(static_cast<double>(s.last_outage_duration_ms) / 1000.0);
  if (s.last_failure_ms > 0) uplink_last_failure_->Set(static_cast<double>(s.last_failure_ms) / 1000.0);
  if (s.outages_total > outages_reported_) {
    uplink_outages_->Increment(static_cast<double>(s.outages_total - outages_reported_));
    outages_reported_ = s.outages_total;
  }
}

void Agent::UpdateSpoolMetrics() {
  if (!spool_) return;
  std::lock_guard<std::mutex> lock(metrics_mu_);
  spool_rows_->Set(static_cast<double>(spool_->Count()));
  spool_bytes_->Set(static_cast<double>(spool_->Bytes()));
  spool_rejected_rows_->Set(static_cast<double>(spool_->RejectedCount()));
  spool_oldest_age_->Set(Seconds(spool_->OldestAge()));
  const SpoolDrops dropped = spool_->DroppedSinceOpen();
  if (dropped.full > dropped_reported_.full) {
    spool_dropped_full_->Increment(static_cast<double>(dropped.full - dropped_reported_.full));
  }
  if (dropped.expired > dropped_reported_.expired) {
    spool_dropped_expired_->Increment(
        static_cast<double>(dropped.expired - dropped_reported_.expired));
  }
  dropped_reported_ = dropped;
}

http::HttpResponse Agent::HandleMetrics() {
  UpdateSpoolMetrics();
  UpdateUplinkMetrics();
  // std::bad_alloc while serialising must not take the agent down.
  try {
    std::vector<prometheus::MetricFamily> families = registry_.Collect();
    for (auto& f : check_metrics_.Collect()) families.push_back(std::move(f));
    return http::HttpResponse::Text(200, ExpositionText(families),
                                    "text/plain; version=0.0.4; charset=utf-8");
  } catch (const std::exception& e) {
    SF_LOG_ERROR("metrics: cannot serialise: {}", e.what());
  }
  return http::HttpResponse::Error(500, "internal", "cannot serialise metrics");
}

http::HttpResponse Agent::HandleHealthz() {
  const UplinkState s = uplink_monitor_.Snapshot();
  nlohmann::json uplink = {{"up", s.up}, {"consecutive_failures", s.consecutive_failures}};
  if (s.outage_started_ms > 0) uplink["outage_started"] = FormatRfc3339Millis(s.outage_started_ms);
  if (!s.last_error.empty()) uplink["last_error"] = s.last_error;
  if (s.last_success_ms > 0) uplink["last_success"] = FormatRfc3339Millis(s.last_success_ms);
  nlohmann::json j = {
      {"status", "ok"},
      {"version", kVersion},
      {"enrolled", enrolled_.load()},
      {"uplink_stopped", uplink_unauthorized_.load()},
      {"uplink", std::move(uplink)},
  };
  if (spool_) {
    j["spool_rows"] = spool_->Count();
    j["spool_oldest_age_seconds"] = Seconds(spool_->OldestAge());
  }
  return http::HttpResponse::Json(
      200, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

uint16_t Agent::metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

}  // namespace steadfast::agent
