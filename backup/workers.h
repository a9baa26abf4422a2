// Small things the backup engine's threaded operations share.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>

namespace steadfast::backup {

// Worker threads for `requested` (0: one per core, at most 8).
inline int WorkerCount(int requested) {
  if (requested > 0) return requested;
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : static_cast<int>(std::min(n, 8u));
}

inline constexpr int64_t kProgressEveryMs = 100;  // progress callbacks at most this often

}  // namespace steadfast::backup
