#include "common/random.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <vector>

#include "common/status.h"

namespace steadfast {
namespace {
std::string ToHex(const unsigned char* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}
}  // namespace

std::string RandomHexToken(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  // RAND_bytes fails only when the OS cannot seed OpenSSL's generator; nothing sensible can go on.
  SF_CHECK(RAND_bytes(buf.data(), static_cast<int>(buf.size())) == 1);
  return ToHex(buf.data(), buf.size());
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest with SHA-256 cannot fail on valid in-memory input.
  SF_CHECK(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1);
  return ToHex(md, len);
}

}  // namespace steadfast
