// SecureRandom: cryptographically secure random bytes for secrets — password salts, session
// and API tokens, CSRF tokens, TOTP secrets.
//
// Why not common/random.h's Random: SystemRandom is a Mersenne twister seeded with 32 bits
// from std::random_device. That is fine for jitter, but its outputs are predictable from a few
// hundred earlier ones and its seed can be brute-forced, so a secret drawn from it could be
// reconstructed from another (e.g. one's own TOTP secret). A separate interface keeps the two
// apart in the type system: a secret cannot be drawn from jitter randomness by mistake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace steadfast::collector::auth {

// Implementations are thread-safe.
class SecureRandom {
 public:
  virtual ~SecureRandom() = default;
  // Fills `out` with random bytes. Never fails: an implementation that cannot produce secure
  // bytes crashes rather than return predictable ones.
  virtual void Fill(std::span<uint8_t> out) = 0;

  // `n` random bytes as a (binary) string.
  std::string Bytes(size_t n);
  // Uniform in [0, bound), without modulo bias (rejection sampling); 0 when bound == 0.
  uint64_t Uniform(uint64_t bound);
};

// OpenSSL's RAND_bytes (the OS entropy source behind a DRBG). main assembles one; tests may
// use it too where determinism does not matter.
class OpenSslRandom final : public SecureRandom {
 public:
  void Fill(std::span<uint8_t> out) override;
};

}  // namespace steadfast::collector::auth
