// Sha256Hex (declared in random.h), in a file of its own: binaries that use the rest of
// random.cc without it (steadfast-agent) then have no reference to libcrypto, which --as-needed
// leaves unmapped (common/tls/openssl_loader.h).
#include <openssl/evp.h>

#include "common/random.h"
#include "common/status.h"

namespace steadfast {

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest with SHA-256 cannot fail on valid in-memory input.
  SF_CHECK(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace steadfast
