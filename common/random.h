// Random: injected randomness (jitter). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace steadfast {

class Random {
 public:
  virtual ~Random() = default;
  // Uniform in [0, bound); returns 0 when bound == 0.
  virtual uint64_t Uniform(uint64_t bound) = 0;
};

// Mersenne twister seeded from std::random_device; guarded by a mutex.
class SystemRandom final : public Random {
 public:
  SystemRandom() : engine_(std::random_device{}()) {}
  explicit SystemRandom(uint64_t seed) : engine_(seed) {}
  uint64_t Uniform(uint64_t bound) override {
    if (bound == 0) return 0;
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_int_distribution<uint64_t>(0, bound - 1)(engine_);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

// A hex string of `bytes` cryptographically random bytes (the kernel CSPRNG, getrandom(2));
// for tokens and ids. Crashes only if the OS entropy source is broken.
std::string RandomHexToken(size_t bytes);

// Lowercase hex of raw bytes (digests, MACs).
std::string HexEncode(std::string_view bytes);

// SHA-256 of `data` as lowercase hex (OpenSSL); used to store tokens without keeping them.
std::string Sha256Hex(const std::string& data);

}  // namespace steadfast
