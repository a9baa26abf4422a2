#include "agent/scheduler.h"

#include <algorithm>

#include "common/status.h"

namespace steadfast::agent {

size_t Scheduler::Add(std::string name, Millis interval, MonoTime now) {
  // Config validation guarantees a positive interval; a zero one would make DueChecks spin.
  SF_CHECK(interval.count() > 0);
  if (!offset_ms_) offset_ms_ = random_.Uniform(kOffsetRangeMs);
  Millis jitter(static_cast<int64_t>(*offset_ms_ % static_cast<uint64_t>(interval.count())));
  entries_.push_back(Entry{std::move(name), interval, now + jitter});
  return entries_.size() - 1;
}

std::optional<MonoTime> Scheduler::NextDue() const {
  std::optional<MonoTime> next;
  for (const Entry& e : entries_) {
    if (!next || e.due < *next) next = e.due;
  }
  return next;
}

std::vector<size_t> Scheduler::DueChecks(MonoTime now) const {
  std::vector<size_t> due;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].due <= now) due.push_back(i);
  }
  std::stable_sort(due.begin(), due.end(),
                   [this](size_t a, size_t b) { return entries_[a].due < entries_[b].due; });
  return due;
}

void Scheduler::MarkRun(size_t index, MonoTime now) {
  Entry& e = entries_[index];
  if (e.due > now) {
    // Run early (e.g. --once style manual run): the next slot stays where it is.
    return;
  }
  // Smallest k >= 1 with due + k * interval > now, computed without a loop so a long
  // suspend (laptop lid, VM pause) does not iterate over every missed slot.
  auto behind = std::chrono::duration_cast<Millis>(now - e.due).count();
  int64_t k = behind / e.interval.count() + 1;
  e.due += Millis(k * e.interval.count());
}

}  // namespace steadfast::agent
