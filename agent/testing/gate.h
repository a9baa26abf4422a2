// Thread coordination for the agent's tests (test targets only): a gate a fake check blocks on,
// a guard that opens it on scope exit, and a bounded poll.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/clock.h"

namespace steadfast::agent::testing {

// A gate a check blocks on until the test opens it.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Opens a gate when it goes out of scope: declared after the agent or runtime under test, it
// lets their destructors join a blocked check even when an assertion ended the test early.
class OpenOnExit {
 public:
  explicit OpenOnExit(Gate& gate) : gate_(gate) {}
  ~OpenOnExit() { gate_.Open(); }
  OpenOnExit(const OpenOnExit&) = delete;
  OpenOnExit& operator=(const OpenOnExit&) = delete;

 private:
  Gate& gate_;
};

// Polls `pred` every few milliseconds (threads are doing the work) for up to `timeout`.
inline bool WaitUntil(const std::function<bool()>& pred, Millis timeout = Millis(5'000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(Millis(5));
  }
  return pred();
}

}  // namespace steadfast::agent::testing
