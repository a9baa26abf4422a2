#include "agent/agent.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/host_info.h"
#include "agent/host_port.h"
#include "common/logging.h"
#include "common/metrics/metrics.h"
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

constexpr size_t kMaxTargetBytes = 1024;

// Floor for retry waits: a zero draw of the full-jitter backoff must not make a loop spin.
constexpr Millis kMinRetryWait(100);

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

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>((*s)[cut]) & 0xC0) == 0x80) --cut;
  s->resize(cut);
}

}  // namespace

StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentConfig config, const CheckRegistry& registry,
                                               AgentEnv env) {
  std::unique_ptr<Agent> agent(new Agent(std::move(config), env));
  for (const CheckSpec& spec : agent->config_.checks) {
    SF_ASSIGN_OR_RETURN(std::unique_ptr<Check> check, registry.Create(spec));
    agent->checks_.push_back(std::move(check));
    agent->intervals_.push_back(Millis(spec.interval_ms));
    agent->checks_run_.push_back(&agent->checks_run_family_->Add({{"check", spec.name}}));
    agent->check_duration_.push_back(&agent->check_duration_family_->Add(
        {{"check", spec.name}},
        prometheus::Histogram::BucketBoundaries{0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30}));
  }
  return agent;
}

Agent::Agent(AgentConfig config, AgentEnv env)
    : config_(std::move(config)),
      env_(env),
      context_{env.clock, env.fs, config_.proc_root},
      registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  // Names are constants, so prometheus-cpp's invalid_argument cannot happen here; the unit
  // tests build an Agent and would catch a bad name.
  checks_run_family_ = &BuildCounter()
                            .Name("steadfast_agent_checks_run_total")
                            .Help("Check runs, by check name.")
                            .Register(*registry_);
  check_duration_family_ = &prometheus::BuildHistogram()
                                .Name("steadfast_agent_check_duration_seconds")
                                .Help("Time one run of a check took, by check name.")
                                .Register(*registry_);
  spool_rows_ = &BuildGauge()
                     .Name("steadfast_agent_spool_rows")
                     .Help("Results in the spool waiting for the collector.")
                     .Register(*registry_)
                     .Add({});
  spool_rejected_rows_ = &BuildGauge()
                              .Name("steadfast_agent_spool_rejected_rows")
                              .Help("Results the collector refused as malformed, kept aside.")
                              .Register(*registry_)
                              .Add({});
  spool_oldest_age_ = &BuildGauge()
                           .Name("steadfast_agent_spool_oldest_age_seconds")
                           .Help("Age of the oldest result in the spool.")
                           .Register(*registry_)
                           .Add({});
  spool_dropped_ = &BuildCounter()
                        .Name("steadfast_agent_spool_dropped_total")
                        .Help("Results dropped because the spool was full.")
                        .Register(*registry_)
                        .Add({});
  spool_errors_ = &BuildCounter()
                       .Name("steadfast_agent_spool_errors_total")
                       .Help("Results lost because they could not be written to the spool.")
                       .Register(*registry_)
                       .Add({});
  uplink_requests_ = &BuildCounter()
                          .Name("steadfast_agent_uplink_requests_total")
                          .Help("Report requests sent to the collector, by result.")
                          .Register(*registry_);
  uplink_last_success_ = &BuildGauge()
                              .Name("steadfast_agent_uplink_last_success_timestamp_seconds")
                              .Help("Unix time of the last report the collector acknowledged.")
                              .Register(*registry_)
                              .Add({});
  router_.Handle("GET", "/metrics", [this](const http::HttpRequest&) { return HandleMetrics(); });
  router_.Handle("GET", "/healthz", [this](const http::HttpRequest&) { return HandleHealthz(); });
}

Agent::~Agent() { Stop(); }

Status Agent::Start() {
  SF_CHECK(!started_);  // Start is called once by main; a second call is a bug.
  host_ = CollectHostInfo(env_.fs);
  SF_RETURN_IF_ERROR(env_.fs.CreateDirectories(config_.state_dir, 0700));
  SpoolOptions spool_options;
  spool_options.max_rows = config_.uplink.spool_max_rows;
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
  SF_LOG_INFO("agent started: {} checks, spool {} ({} results waiting), collector {}",
              checks_.size(), spool_path, spool_->Count(), config_.collector_url);
  return OkStatus();
}

void Agent::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (check_thread_.joinable()) check_thread_.join();
  if (uplink_thread_.joinable()) uplink_thread_.join();
  if (metrics_server_) metrics_server_->Shutdown();
}

bool Agent::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

bool Agent::WaitFor(Millis d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

std::vector<protocol::CheckResult> Agent::RunCheck(size_t index) {
  const auto start = env_.clock.Monotonic();
  std::vector<protocol::CheckResult> results = checks_[index]->Run(context_);
  const auto elapsed = env_.clock.Monotonic() - start;
  const int64_t elapsed_ms = std::chrono::duration_cast<Millis>(elapsed).count();
  for (protocol::CheckResult& r : results) {
    if (r.duration_ms == 0) r.duration_ms = elapsed_ms;
    if (r.check.empty()) r.check = checks_[index]->name();
    // The collector refuses longer ones (PROTOCOL.md); a cut summary beats a rejected result.
    TruncateUtf8(&r.target, kMaxTargetBytes);
    TruncateUtf8(&r.summary, protocol::kMaxStringBytes);
    SF_LOG_DEBUG("check {} {}: {} {}", r.check, r.target, protocol::CheckStatusName(r.status),
                 r.summary);
  }
  checks_run_[index]->Increment();
  check_duration_[index]->Observe(Seconds(elapsed));
  return results;
}

std::vector<protocol::CheckResult> Agent::RunChecksOnce() {
  std::vector<protocol::CheckResult> all;
  for (size_t i = 0; i < checks_.size(); ++i) {
    std::vector<protocol::CheckResult> results = RunCheck(i);
    for (auto& r : results) all.push_back(std::move(r));
  }
  return all;
}

void Agent::CheckLoop() {
  Scheduler scheduler(env_.random);
  for (size_t i = 0; i < checks_.size(); ++i) {
    scheduler.Add(checks_[i]->name(), intervals_[i], env_.clock.Monotonic());
  }
  while (!stopping()) {
    const auto now = env_.clock.Monotonic();
    std::vector<size_t> due = scheduler.DueChecks(now);
    if (due.empty()) {
      auto next = scheduler.NextDue();
      // No checks: just wait for Stop (an hour at a time).
      Millis wait = next ? std::chrono::ceil<Millis>(*next - now) : Millis(3'600'000);
      if (!WaitFor(std::max(wait, Millis(1)))) break;
      continue;
    }
    for (size_t index : due) {
      if (stopping()) break;
      std::vector<protocol::CheckResult> results = RunCheck(index);
      scheduler.MarkRun(index, env_.clock.Monotonic());
      auto seqs = spool_->AppendAll(results);
      if (!seqs.ok()) {
        spool_errors_->Increment(static_cast<double>(results.size()));
        SF_LOG_ERROR("cannot spool {} results of check {}: {}", results.size(),
                     checks_[index]->name(), seqs.status().ToString());
      }
    }
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

void Agent::RecordUplinkResult(const UplinkResult& r) {
  if (r.outcome == UplinkOutcome::kSent) {
    uplink_last_success_->Set(static_cast<double>(env_.clock.NowMillis()) / 1000.0);
  }
  if (r.attempted) {
    UpdateSpoolMetrics();
    std::string label(UplinkOutcomeName(r.outcome));
    if (r.outcome == UplinkOutcome::kRetryLater && r.http_status == 0) label = "transport_error";
    uplink_requests_->Add({{"result", label}}).Increment();
  }
}

void Agent::UpdateSpoolMetrics() {
  if (!spool_) return;
  std::lock_guard<std::mutex> lock(metrics_mu_);
  spool_rows_->Set(static_cast<double>(spool_->Count()));
  spool_rejected_rows_->Set(static_cast<double>(spool_->RejectedCount()));
  spool_oldest_age_->Set(Seconds(spool_->OldestAge()));
  const uint64_t dropped = spool_->DroppedTotal();
  if (dropped > dropped_reported_) {
    spool_dropped_->Increment(static_cast<double>(dropped - dropped_reported_));
    dropped_reported_ = dropped;
  }
}

http::HttpResponse Agent::HandleMetrics() {
  UpdateSpoolMetrics();
  return metrics::ServeMetrics(*registry_);
}

http::HttpResponse Agent::HandleHealthz() {
  nlohmann::json j = {
      {"status", "ok"},
      {"version", kVersion},
      {"enrolled", enrolled_.load()},
      {"uplink_stopped", uplink_unauthorized_.load()},
  };
  if (spool_) {
    j["spool_rows"] = spool_->Count();
    j["spool_oldest_age_seconds"] = Seconds(spool_->OldestAge());
  }
  return http::HttpResponse::Json(200, j.dump());
}

uint16_t Agent::metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

}  // namespace steadfast::agent
