#include "alerting/notify/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/status.h"

namespace steadfast::alerting {

std::string HmacSha256(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // HMAC-SHA256 over in-memory data cannot fail short of a broken OpenSSL.
  SF_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len) != nullptr);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace steadfast::alerting
