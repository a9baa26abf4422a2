#include "agent/action_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/checks/check_util.h"
#include "common/clock.h"
#include "common/logging.h"

namespace steadfast::agent {
namespace {

using nlohmann::json;
using protocol::ActionRequest;
using protocol::ActionResult;
using protocol::ActionState;

}  // namespace

ActionRunner::ActionRunner(ActionLog& log, std::vector<std::string> allowed, BackupJobRunner* jobs, Clock& clock,
                           Changed changed)
    : log_(log), allowed_(std::move(allowed)), jobs_(jobs), clock_(clock), changed_(std::move(changed)) {}

ActionRunner::~ActionRunner() { Stop(); }

void ActionRunner::Start() {
  StatusOr<std::vector<ActionRequest>> waiting = log_.Waiting();
  if (!waiting.ok()) {
    SF_LOG_ERROR("actions: cannot read the action log: {}", waiting.status().ToString());
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    for (ActionRequest& r : *waiting) queue_.push_back(std::move(r));
  }
  thread_ = std::thread([this] { Loop(); });
}

void ActionRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status ActionRunner::Offer(const std::vector<ActionRequest>& actions) {
  SF_ASSIGN_OR_RETURN(std::vector<ActionRequest> fresh, log_.AddNew(actions));
  if (fresh.empty()) return OkStatus();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (ActionRequest& r : fresh) {
      SF_LOG_INFO("actions: {} ({}) requested by {}", r.action, r.id, r.requested_by.empty() ? "?" : r.requested_by);
      queue_.push_back(std::move(r));
    }
  }
  cv_.notify_all();
  return OkStatus();
}

void ActionRunner::Loop() {
  while (true) {
    ActionRequest next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    Run(next);
  }
}

ActionResult ActionRunner::Record(const ActionRequest& request, ActionResult result) {
  Status st = log_.Update(result);
  if (!st.ok()) SF_LOG_ERROR("actions: cannot record the state of {}: {}", result.id, st.ToString());
  if (changed_) changed_(request, result);
  return result;
}

ActionResult ActionRunner::Run(const ActionRequest& request) {
  ActionResult r;
  r.id = request.id;
  const int64_t now = clock_.NowMillis();
  const auto refuse = [&](const std::string& why) {
    r.state = ActionState::kRefused;
    r.summary = why;
    r.finished_at_ms = clock_.NowMillis();
    SF_LOG_WARN("actions: {} ({}) refused: {}", request.action, request.id, why);
    return Record(request, r);
  };
  if (std::find(allowed_.begin(), allowed_.end(), request.action) == allowed_.end()) {
    return refuse(request.action + " is not allowed on this agent (its config's actions.allowed: " +
                  (allowed_.empty() ? std::string("none") : fmt::format("{}", fmt::join(allowed_, ", "))) + ")");
  }
  if (request.expires_at_ms > 0 && now > request.expires_at_ms) {
    return refuse("expired at " + FormatRfc3339Millis(request.expires_at_ms) + " before it could start");
  }
  json params = json::parse(request.params_json, nullptr, /*allow_exceptions=*/false);
  if (!params.is_object()) return refuse("params: expected a JSON object");
  if (request.action == "emergency_backup") {
    for (auto it = params.begin(); it != params.end(); ++it) {
      if (it.key() != "job") return refuse("params." + it.key() + ": unknown parameter (emergency_backup takes job)");
    }
    if (params.contains("job") && !params["job"].is_string()) return refuse("params.job: expected a string");
    if (jobs_ == nullptr) return refuse("this agent has no backup_jobs");
    const std::string job = params.contains("job") ? params["job"].get<std::string>() : "";
    if (!job.empty()) {
      const auto& all = jobs_->jobs();
      if (std::none_of(all.begin(), all.end(), [&](const BackupJobConfig& j) { return j.name == job; })) {
        return refuse("params.job: no backup job named '" + job + "' on this agent");
      }
    }
    r.state = ActionState::kRunning;
    r.started_at_ms = clock_.NowMillis();
    r.summary = job.empty() ? "backing up every job" : "backing up job " + job;
    SF_LOG_INFO("actions: {} ({}) started: {}", request.action, request.id, r.summary);
    Record(request, r);
    return EmergencyBackup(request, r, job);
  }
  return refuse("unknown action " + request.action);
}

ActionResult ActionRunner::EmergencyBackup(const ActionRequest& request, ActionResult r, const std::string& job) {
  const auto results = jobs_->Emergency(job);
  json jobs = json::array();
  std::vector<std::string> parts;
  bool ok = !results.empty();
  for (const auto& [name, s] : results) {
    json j{{"job", name}, {"ok", s.last_ok}};
    if (s.last_ok) {
      j["snapshot"] = s.snapshot;
      j["bytes_added"] = s.bytes_added_stored;
      j["duration_ms"] = s.duration_ms;
      parts.push_back(fmt::format("job {}: snapshot {}, {} added", name, s.snapshot.substr(0, 8),
                                  HumanBytes(static_cast<double>(s.bytes_added_stored))));
    } else {
      j["error"] = s.last_error;
      parts.push_back(fmt::format("job {}: FAILED: {}", name, s.last_error));
    }
    ok = ok && s.last_ok;
    jobs.push_back(std::move(j));
  }
  r.state = ok ? ActionState::kSucceeded : ActionState::kFailed;
  r.summary = parts.empty() ? "no backup job ran" : fmt::format("{}", fmt::join(parts, "; "));
  if (r.summary.size() > protocol::kMaxStringBytes) {
    size_t n = protocol::kMaxStringBytes;
    while (n > 0 && (static_cast<unsigned char>(r.summary[n]) & 0xC0) == 0x80) --n;  // a whole character
    r.summary.resize(n);
  }
  r.details_json = json{{"jobs", std::move(jobs)}}.dump(-1, ' ', false, json::error_handler_t::replace);
  r.finished_at_ms = clock_.NowMillis();
  SF_LOG_INFO("actions: {} ({}) {}: {}", request.action, request.id, protocol::ActionStateName(r.state), r.summary);
  return Record(request, r);
}

}  // namespace steadfast::agent
