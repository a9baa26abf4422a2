#include "common/random.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/status.h"

namespace steadfast {
std::string HexEncode(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string RandomHexToken(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  // The kernel's CSPRNG directly (what RAND_bytes seeds from): the first RAND_bytes call
  // initialises OpenSSL's DRBG and provider machinery, about 2 MB of resident pages in a
  // process such as the agent that otherwise never uses libcrypto. getrandom() blocks only
  // until the pool is initialised at boot and returns at most 256 bytes per call; EINTR is
  // retried. Any other failure means the OS entropy source is broken; nothing sensible can go on.
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::getrandom(buf.data() + done, std::min<size_t>(buf.size() - done, 256), 0);
    if (n < 0 && errno == EINTR) continue;
    SF_CHECK(n > 0);
    done += static_cast<size_t>(n);
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

}  // namespace steadfast
