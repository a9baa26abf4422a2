#include "collector/auth/secure_random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "common/status.h"

namespace steadfast::collector::auth {

std::string SecureRandom::Bytes(size_t n) {
  std::string out(n, '\0');
  Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

uint64_t SecureRandom::Uniform(uint64_t bound) {
  if (bound <= 1) return 0;
  // Accept only values below the largest multiple of `bound`, so every result is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  while (true) {
    uint64_t v = 0;
    Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
    if (v < limit) return v % bound;
  }
}

void OpenSslRandom::Fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    size_t chunk = std::min<size_t>(out.size() - done, INT_MAX);
    // RAND_bytes fails only when OpenSSL's DRBG cannot be seeded from the OS; handing out
    // predictable secrets instead would be worse than stopping.
    SF_CHECK(RAND_bytes(out.data() + done, static_cast<int>(chunk)) == 1);
    done += chunk;
  }
}

}  // namespace steadfast::collector::auth
