// FakeClock: a Clock that moves only when the test says so. Thread-safe.
#pragma once

#include <atomic>

#include "common/clock.h"

namespace steadfast::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_unix_millis = 1'790'000'000'000) : now_ms_(start_unix_millis) {}
  SystemTime Now() const override { return SystemTime(Millis(now_ms_.load())); }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(Millis(now_ms_.load()));
  }
  void Advance(Millis d) { now_ms_ += d.count(); }
  void SetMillis(int64_t ms) { now_ms_ = ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace steadfast::testing
