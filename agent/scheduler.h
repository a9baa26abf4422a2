// Scheduler: which checks are due, as a pure function of the (monotonic) time it is given.
// It never sleeps and never reads a clock; the agent's check loop asks NextDue(), waits on a
// condition variable until then (or until it is stopped), runs DueChecks(now) and reports each
// run with MarkRun().
//
// Each check runs on a fixed grid: first at `start + jitter`, then every `interval`. One
// offset is drawn from the injected Random when the first check is added, and each check's
// jitter is that offset modulo its interval. So agents restarted together spread their checks
// (and their reports to the collector) over the interval, while within one agent the checks of
// one interval run together, and a check whose interval is a multiple of another's runs with
// it: one wake-up and one spool commit per cycle instead of one per check. A run that finishes
// late does not shift the grid; slots missed while a run was overdue are skipped, not run back
// to back.
//
// Not thread-safe: owned and used by one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"

namespace steadfast::agent {

using MonoTime = std::chrono::steady_clock::time_point;

class Scheduler {
 public:
  explicit Scheduler(Random& random) : random_(random) {}

  // Adds a check whose first run is due at now + jitter (the agent's offset modulo interval).
  // Returns its index (0, 1, 2, ...), the handle for MarkRun. interval must be positive.
  size_t Add(std::string name, Millis interval, MonoTime now);

  size_t size() const { return entries_.size(); }
  const std::string& name(size_t index) const { return entries_[index].name; }
  Millis interval(size_t index) const { return entries_[index].interval; }
  MonoTime due(size_t index) const { return entries_[index].due; }

  // The earliest due time of any check; nullopt when there are none.
  std::optional<MonoTime> NextDue() const;
  // Indexes of the checks due at `now` (due <= now), earliest due first.
  std::vector<size_t> DueChecks(MonoTime now) const;
  // Records that check `index` ran at `now`: its next due time becomes the first grid slot
  // after `now`.
  void MarkRun(size_t index, MonoTime now);

 private:
  struct Entry {
    std::string name;
    Millis interval;
    MonoTime due;
  };
  // Offsets are drawn below this (a day): far above any interval, so `offset % interval` is
  // close to uniform.
  static constexpr uint64_t kOffsetRangeMs = 86'400'000;
  Random& random_;
  std::optional<uint64_t> offset_ms_;  // drawn at the first Add
  std::vector<Entry> entries_;
};

}  // namespace steadfast::agent
