// Helpers the backup engine's tests share.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace steadfast::backup::testing {

// `n` pseudo-random bytes, the same for the same seed (incompressible test data).
inline std::string RandomText(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace steadfast::backup::testing
