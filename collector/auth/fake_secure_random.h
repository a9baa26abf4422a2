// FakeSecureRandom: deterministic "random" bytes for tests (test targets only). Each Fill
// continues a SplitMix64 stream from the seed, so two fakes with the same seed produce the same
// salts and tokens, and successive calls differ. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "collector/auth/secure_random.h"

namespace steadfast::collector::auth::testing {

class FakeSecureRandom final : public SecureRandom {
 public:
  explicit FakeSecureRandom(uint64_t seed = 1) : state_(seed) {}
  void Fill(std::span<uint8_t> out) override {
    for (size_t i = 0; i < out.size(); i += 8) {
      uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      for (size_t k = 0; k < 8 && i + k < out.size(); ++k) out[i + k] = static_cast<uint8_t>(z >> (8 * k));
    }
  }

 private:
  std::atomic<uint64_t> state_;
};

}  // namespace steadfast::collector::auth::testing
