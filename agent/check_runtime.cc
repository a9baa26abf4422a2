#include "agent/check_runtime.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "agent/checks/check_util.h"
#include "common/logging.h"

namespace steadfast::agent {
namespace {

constexpr size_t kMaxTargetBytes = 1024;
// A check that reported more targets than this gets one timed-out result per target only up
// to here; beyond that the collector sees them stale rather than the agent flooding it.
constexpr size_t kMaxTimedOutTargets = 256;

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>((*s)[cut]) & 0xC0) == 0x80) --cut;
  s->resize(cut);
}

}  // namespace

CheckRuntime::CheckRuntime(Clock& clock, Random& random, CheckContext base, size_t workers,
                           std::function<void()> wake, Millis gather)
    : clock_(clock),
      base_(std::move(base)),
      workers_(std::max<size_t>(workers, 1)),
      wake_(std::move(wake)),
      gather_(gather),
      scheduler_(random) {}

CheckRuntime::~CheckRuntime() { Shutdown(); }

size_t CheckRuntime::Add(Check* check, Millis interval, Millis timeout, MonoTime now) {
  // Config validation guarantees both; a zero timeout would time every run out at once.
  SF_CHECK(check != nullptr && timeout.count() > 0);
  std::lock_guard<std::mutex> lock(mu_);
  Entry e;
  e.check = check;
  e.timeout = timeout;
  checks_.push_back(std::move(e));
  return scheduler_.Add(check->name(), interval, now);
}

void CheckRuntime::SpawnLocked() {
  while (!stopping_ && queue_.size() > idle_threads_ &&
         live_threads_ - overtime_threads_ < workers_) {
    ++live_threads_;
    threads_.emplace_back([this] { WorkerLoop(); });
  }
}

void CheckRuntime::Finalise(size_t index, std::vector<protocol::CheckResult>* results,
                            Millis elapsed) const {
  const std::string& name = checks_[index].check->name();
  for (protocol::CheckResult& r : *results) {
    if (r.duration_ms == 0) r.duration_ms = elapsed.count();
    if (r.check.empty()) r.check = name;
    // Output of commands and devices is not always UTF-8; the protocol's JSON must be.
    r.target = SanitizeUtf8(r.target);
    r.summary = SanitizeUtf8(r.summary);
    // The collector refuses longer ones (PROTOCOL.md); a cut summary beats a rejected result.
    TruncateUtf8(&r.target, kMaxTargetBytes);
    TruncateUtf8(&r.summary, protocol::kMaxStringBytes);
    // A NaN or infinite value would make the collector refuse the whole result.
    std::erase_if(r.metrics, [](const protocol::Metric& m) { return !std::isfinite(m.value); });
    if (r.metrics.size() > protocol::kMaxMetricsPerResult) {
      r.metrics.resize(protocol::kMaxMetricsPerResult);
    }
    for (protocol::Metric& m : r.metrics) {
      m.name = SanitizeUtf8(m.name);
      std::map<std::string, std::string> labels;
      for (const auto& [k, v] : m.labels) labels.emplace(SanitizeUtf8(k), SanitizeUtf8(v));
      m.labels = std::move(labels);
    }
    SF_LOG_DEBUG("check {} {}: {} {}", r.check, r.target, protocol::CheckStatusName(r.status),
                 r.summary);
  }
}

void CheckRuntime::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ++idle_threads_;
    work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --idle_threads_;
    if (stopping_) break;
    const size_t index = queue_.front();
    queue_.pop_front();
    Entry& e = checks_[index];
    e.state = State::kRunning;
    e.overtime = false;
    e.started = clock_.Monotonic();
    e.deadline = e.started + e.timeout;
    CheckContext ctx = base_;
    ctx.deadline = e.deadline;
    Check* check = e.check;
    const MonoTime started = e.started;
    // The controller must watch this deadline if it planned to sleep past it.
    bool wake = WakeByLocked(e.deadline + kDeadlineGrace);
    lock.unlock();
    event_cv_.notify_all();
    if (wake && wake_) wake_();

    std::vector<protocol::CheckResult> results = check->Run(ctx);
    const Millis elapsed = std::chrono::duration_cast<Millis>(clock_.Monotonic() - started);
    Finalise(index, &results, elapsed);

    lock.lock();
    const MonoTime finished = clock_.Monotonic();
    Entry& done = checks_[index];
    done.state = State::kIdle;
    wake = false;
    if (done.overtime) {
      // Already reported as timed out; these results would contradict that report.
      done.overtime = false;
      --overtime_threads_;
      late_.push_back(index);
      SF_LOG_WARN("check {} returned {} ms after its {} timeout; its results are discarded",
                  check->name(), (elapsed - done.timeout).count(), ShortDuration(done.timeout));
    } else {
      done.last_targets.clear();
      for (const auto& r : results) {
        if (done.last_targets.size() < kMaxTimedOutTargets) done.last_targets.push_back(r.target);
      }
      if (done_.empty()) first_done_at_ = finished;
      done_.push_back(CheckRun{index, std::move(results), elapsed, false});
      // Ready now when nothing else is under way; otherwise at the end of the gathering window
      // (the last run of the group to finish wakes the controller then).
      const bool ready = gather_.count() == 0 || !InFlightLocked();
      wake = WakeByLocked(ready ? finished : first_done_at_ + gather_);
    }
    lock.unlock();
    event_cv_.notify_all();
    if (wake && wake_) wake_();
    lock.lock();
    // A replacement took this thread's place while it overran: one of the two goes.
    if (live_threads_ - overtime_threads_ > workers_) break;
  }
  --live_threads_;
  exited_.push_back(std::this_thread::get_id());
}

CheckRun CheckRuntime::TimedOutRun(size_t index, const Entry& e) const {
  CheckRun run;
  run.index = index;
  run.timed_out = true;
  run.elapsed = e.timeout;
  std::vector<std::string> targets = e.last_targets;
  if (targets.empty()) targets.push_back(e.check->name());
  const std::string summary = "timed out after " + ShortDuration(e.timeout);
  const std::string details =
      nlohmann::json{{"timed_out", true}, {"timeout_ms", e.timeout.count()}}.dump();
  for (std::string& target : targets) {
    protocol::CheckResult r;
    r.check = e.check->name();
    r.target = std::move(target);
    r.status = protocol::CheckStatus::kUnknown;
    r.summary = summary;
    r.observed_at_ms = clock_.NowMillis();
    r.duration_ms = e.timeout.count();
    r.details_json = details;
    run.results.push_back(std::move(r));
  }
  return run;
}

bool CheckRuntime::InFlightLocked() const {
  return std::any_of(checks_.begin(), checks_.end(), [](const Entry& e) {
    return e.state == State::kQueued || (e.state == State::kRunning && !e.overtime);
  });
}

bool CheckRuntime::WakeByLocked(MonoTime t) {
  if (planned_wakeup_ && *planned_wakeup_ <= t) return false;
  // Until it asks NextWakeup again the controller is awake and sees every later event.
  planned_wakeup_ = clock_.Monotonic();
  return true;
}

void CheckRuntime::CollectLocked(MonoTime now, TickOutput* out, bool release_all) {
  for (size_t i : late_) out->late.push_back(i);
  late_.clear();
  for (size_t i = 0; i < checks_.size(); ++i) {
    Entry& e = checks_[i];
    if (e.state != State::kRunning || e.overtime || e.deadline + kDeadlineGrace > now) continue;
    e.overtime = true;
    ++overtime_threads_;
    SF_LOG_WARN("check {} is still running after its {} timeout; reporting it unknown",
                e.check->name(), ShortDuration(e.timeout));
    if (done_.empty()) first_done_at_ = now;
    done_.push_back(TimedOutRun(i, e));
  }
  const bool release = release_all || gather_.count() == 0 || !InFlightLocked() ||
                       (!done_.empty() && first_done_at_ + gather_ <= now);
  if (release) {
    for (CheckRun& run : done_) out->runs.push_back(std::move(run));
    done_.clear();
  }
  // Runs may be waiting for the thread that just overran.
  SpawnLocked();
}

void CheckRuntime::JoinExitedLocked() {
  for (std::thread::id id : exited_) {
    auto it = std::find_if(threads_.begin(), threads_.end(),
                           [id](const std::thread& t) { return t.get_id() == id; });
    // It has released mu_ for the last time; joining only waits for its return.
    if (it != threads_.end()) {
      it->join();
      threads_.erase(it);
    }
  }
  exited_.clear();
}

TickOutput CheckRuntime::Tick(MonoTime now) {
  TickOutput out;
  std::lock_guard<std::mutex> lock(mu_);
  JoinExitedLocked();
  CollectLocked(now, &out);
  for (size_t i : scheduler_.DueChecks(now)) {
    scheduler_.MarkRun(i, now);
    Entry& e = checks_[i];
    if (e.state != State::kIdle) {
      out.skipped.push_back(i);
      continue;
    }
    e.state = State::kQueued;
    queue_.push_back(i);
  }
  SpawnLocked();
  work_cv_.notify_all();
  return out;
}

std::vector<CheckRun> CheckRuntime::TakeFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CheckRun> runs;
  runs.swap(done_);
  return runs;
}

std::optional<MonoTime> CheckRuntime::NextWakeup() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<MonoTime> next = scheduler_.NextDue();
  auto consider = [&next](MonoTime t) {
    if (!next || t < *next) next = t;
  };
  for (const Entry& e : checks_) {
    if (e.state == State::kRunning && !e.overtime) consider(e.deadline + kDeadlineGrace);
  }
  if (!done_.empty()) {
    consider(gather_.count() == 0 || !InFlightLocked() ? first_done_at_ : first_done_at_ + gather_);
  }
  planned_wakeup_ = next;
  return next;
}

std::vector<CheckRun> CheckRuntime::RunAllOnce() {
  std::vector<std::optional<CheckRun>> runs(checks_.size());
  std::unique_lock<std::mutex> lock(mu_);
  for (size_t i = 0; i < checks_.size(); ++i) {
    if (checks_[i].state != State::kIdle) continue;  // cannot happen: not mixed with Tick
    checks_[i].state = State::kQueued;
    queue_.push_back(i);
  }
  SpawnLocked();
  work_cv_.notify_all();
  while (true) {
    TickOutput out;
    const MonoTime now = clock_.Monotonic();
    CollectLocked(now, &out, /*release_all=*/true);
    for (CheckRun& run : out.runs) runs[run.index] = std::move(run);
    bool all = std::all_of(runs.begin(), runs.end(), [](const auto& r) { return r.has_value(); });
    if (all || stopping_) break;
    // Wake for the next deadline; a run starting or ending notifies event_cv_.
    Millis wait(1'000);
    for (const Entry& e : checks_) {
      if (e.state == State::kRunning && !e.overtime) {
        wait = std::min(wait, std::chrono::ceil<Millis>(e.deadline + kDeadlineGrace - now));
      }
    }
    event_cv_.wait_for(lock, std::max(wait, Millis(1)));
  }
  std::vector<CheckRun> ordered;
  for (auto& r : runs) {
    if (r) ordered.push_back(std::move(*r));
  }
  return ordered;
}

bool CheckRuntime::HasOverrunningRuns() const {
  std::lock_guard<std::mutex> lock(mu_);
  return overtime_threads_ > 0;
}

size_t CheckRuntime::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_threads_;
}

void CheckRuntime::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (size_t i : queue_) checks_[i].state = State::kIdle;
    queue_.clear();
    threads.swap(threads_);
    exited_.clear();
  }
  work_cv_.notify_all();
  event_cv_.notify_all();
  for (std::thread& t : threads) t.join();
}

}  // namespace steadfast::agent
