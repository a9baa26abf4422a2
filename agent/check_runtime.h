// CheckRuntime: runs the configured checks on their schedules on a bounded pool of worker
// threads, each run with a deadline.
//
//   - Schedule: a Scheduler (fixed grid per check, first run jittered) decides what is due.
//   - Pool: at most `workers` runs at a time; threads are started when work is waiting and
//     none is idle, and stay for later runs.
//   - Timeout: a run gets ctx.deadline = start + the check's timeout. A run still going
//     kDeadlineGrace after its deadline is reported as `unknown` "timed out after 10 s" (one
//     result per target the check reported last time, or one with the check's name as
//     target), and its late results are discarded when it returns. The grace lets a check that
//     honours its deadline (its command was killed right then) report its own, more telling
//     result. Commands run through ctx.commands are killed
//     at the deadline by the runner; an in-process check must bound its own waits by
//     ctx.deadline, because a thread cannot be stopped from outside. Its worker no longer counts
//     against the pool: a replacement thread serves the other checks, so one hung check never
//     delays the rest (at most one extra thread per overrunning check, since a check never
//     runs twice at once).
//   - No overlap: a check whose run is still queued or running when it is due again skips
//     that slot (counted in TickOutput::skipped).
//
// Time comes from the injected Clock and Tick's `now`; the runtime never sleeps on its own
// (except RunAllOnce, which waits for the runs it started), so tests drive it with FakeClock.
//
// Thread-safety: Add before the first Tick; Tick, NextWakeup and RunAllOnce from one
// controlling thread. Worker threads call `wake` when a run starts or ends.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/check.h"
#include "agent/scheduler.h"
#include "common/clock.h"
#include "common/protocol/protocol.h"
#include "common/random.h"

namespace steadfast::agent {

// How long after its deadline a run may still return before it is reported timed out.
inline constexpr Millis kDeadlineGrace{500};

// One run of a check as the runtime reports it: the results of a run that finished in time
// (already finalised: check name and duration filled in, target and summary cut to the
// protocol's limits, text made valid UTF-8), or the `unknown` results of one that timed out.
struct CheckRun {
  size_t index = 0;
  std::vector<protocol::CheckResult> results;
  Millis elapsed{0};
  bool timed_out = false;
};

struct TickOutput {
  std::vector<CheckRun> runs;      // finished or timed out since the last Tick
  std::vector<size_t> skipped;     // checks due while still queued or running: slot skipped
  std::vector<size_t> late;        // checks whose overdue run has now returned (discarded)
};

class CheckRuntime {
 public:
  // `base` is the context every run gets (its deadline is set per run). `wake` may be empty;
  // it is called when the controlling thread must act before the time NextWakeup last
  // returned: a run started whose deadline comes earlier, or finished runs are ready.
  //
  // `gather` > 0 makes Tick hand out finished runs in groups: they are held while other runs
  // are still queued or running within their deadline, for at most `gather` after the first
  // of them finished. Checks due together then finish together, and the agent spools them in
  // one commit (one fsync) instead of one per check. 0 hands out every run at the next Tick.
  CheckRuntime(Clock& clock, Random& random, CheckContext base, size_t workers,
               std::function<void()> wake, Millis gather = Millis(0));
  // Shutdown().
  ~CheckRuntime();
  CheckRuntime(const CheckRuntime&) = delete;
  CheckRuntime& operator=(const CheckRuntime&) = delete;

  // Adds a check (borrowed; must outlive the runtime), first due at now + jitter. Returns its
  // index. interval and timeout are positive.
  size_t Add(Check* check, Millis interval, Millis timeout, MonoTime now);
  size_t size() const { return checks_.size(); }
  const std::string& name(size_t index) const { return checks_[index].check->name(); }

  // Collects finished runs, reports runs past their deadline as timed out, and queues the
  // checks due at `now`. Never blocks on a check.
  TickOutput Tick(MonoTime now);
  // When Tick has something to do next without being woken: the earliest due time, running
  // deadline (plus kDeadlineGrace) or end of a gathering window. nullopt when there are no
  // checks. The caller is expected to wait until then (or until `wake`): workers compare
  // their events with it to decide whether to call `wake`.
  std::optional<MonoTime> NextWakeup() const;

  // The finished runs Tick is still holding back to gather them, handed out now (on stop).
  std::vector<CheckRun> TakeFinished();

  // Runs every check once, now (at most `workers` at a time), and waits until each one has
  // finished or timed out. Runs in check order. Must not be mixed with Tick.
  std::vector<CheckRun> RunAllOnce();

  // True while a run that timed out is still executing (its thread cannot be reclaimed).
  bool HasOverrunningRuns() const;
  // Worker threads alive (for tests).
  size_t threads() const;

  // Drops queued runs and waits for running ones to return (a check that ignores its deadline
  // holds this up). Idempotent.
  void Shutdown();

 private:
  enum class State { kIdle, kQueued, kRunning };
  struct Entry {
    Check* check = nullptr;
    Millis timeout{0};
    State state = State::kIdle;
    bool overtime = false;  // running past its deadline; its results will be discarded
    MonoTime started{};
    MonoTime deadline{};
    std::vector<std::string> last_targets;  // of the last run that finished in time
  };

  void WorkerLoop();
  // Starts threads while runs wait and fewer than `workers_` threads are idle or busy within
  // their deadline. Caller holds mu_.
  void SpawnLocked();
  // Marks runs past their deadline as timed out and moves finished runs to `out` (all of
  // them with `release_all`, otherwise as `gather` allows).
  void CollectLocked(MonoTime now, TickOutput* out, bool release_all = false);
  // Runs queued, or running within their deadline.
  bool InFlightLocked() const;
  // Whether the controlling thread must be woken for something due at `t`: true when t is
  // before the wake-up it planned. Records that it is being woken.
  bool WakeByLocked(MonoTime t);
  CheckRun TimedOutRun(size_t index, const Entry& e) const;
  void JoinExitedLocked();
  void Finalise(size_t index, std::vector<protocol::CheckResult>* results, Millis elapsed) const;

  Clock& clock_;
  const CheckContext base_;
  const size_t workers_;
  const std::function<void()> wake_;
  const Millis gather_;
  Scheduler scheduler_;  // controlling thread only

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // workers wait for queue_ or stopping_
  std::condition_variable event_cv_;  // RunAllOnce waits for runs to start or end
  std::vector<Entry> checks_;         // guarded by mu_ (check, timeout fixed after Add)
  std::deque<size_t> queue_;
  std::vector<CheckRun> done_;
  MonoTime first_done_at_{};                       // when done_ became non-empty
  mutable std::optional<MonoTime> planned_wakeup_;  // as NextWakeup last returned, or now once woken
  std::vector<size_t> late_;
  size_t live_threads_ = 0;
  size_t idle_threads_ = 0;
  size_t overtime_threads_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> exited_;
};

}  // namespace steadfast::agent
