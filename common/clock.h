// Clock: the only way Steadfast code reads the time, so that logic depending on
// time is a pure function of `now` and tests use FakeClock (common/testing).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace steadfast {

using SystemTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

// Thread-safe implementations only.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC).
  virtual SystemTime Now() const = 0;
  // Monotonic time for measuring durations and timeouts.
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;

  int64_t NowMillis() const {
    return std::chrono::duration_cast<Millis>(Now().time_since_epoch()).count();
  }
};

class RealClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
};

// RFC 3339 UTC with millisecond precision: "2026-11-29T02:44:34.123Z".
std::string FormatRfc3339Millis(int64_t unix_millis);
// Parses RFC 3339 ("Z" or "+hh:mm" offsets, optional fraction) into unix milliseconds.
StatusOr<int64_t> ParseRfc3339Millis(const std::string& text);
// Parses "250ms", "30s", "5m", "2h", "1d" into milliseconds (a bare number is seconds).
StatusOr<int64_t> ParseDurationMillis(const std::string& text);

}  // namespace steadfast
