#include "collector/auth/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "collector/auth/encoding.h"
#include "common/http/http_types.h"

namespace steadfast::collector::auth {

int64_t TotpStep(int64_t unix_ms) {
  int64_t step = unix_ms / kTotpStepMillis;
  if (unix_ms % kTotpStepMillis != 0 && unix_ms < 0) --step;  // floor, not truncation
  return step;
}

std::string HotpCode(std::string_view key, uint64_t counter, int digits) {
  // Digits are a compile-time choice of the caller (6 for users, 8 for the RFC vectors).
  SF_CHECK(digits >= 6 && digits <= 8);
  unsigned char message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  // HMAC-SHA1 over in-memory data cannot fail short of a broken OpenSSL.
  SF_CHECK(HMAC(EVP_sha1(), key_ptr, static_cast<int>(key.size()), message, sizeof message, mac, &mac_len) !=
           nullptr);
  SF_CHECK(mac_len == 20);
  // RFC 4226 §5.3 dynamic truncation.
  int offset = mac[19] & 0x0f;
  uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                    (static_cast<uint32_t>(mac[offset + 1]) << 16) | (static_cast<uint32_t>(mac[offset + 2]) << 8) |
                    static_cast<uint32_t>(mac[offset + 3]);
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

std::string TotpCode(std::string_view key, int64_t unix_ms, int digits) {
  return HotpCode(key, static_cast<uint64_t>(TotpStep(unix_ms)), digits);
}

std::string GenerateTotpSecret(SecureRandom& random) {
  return Base32Encode(random.Bytes(kTotpSecretBytes), /*pad=*/false);
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret_base32) {
  std::string_view secret = secret_base32;
  while (!secret.empty() && secret.back() == '=') secret.remove_suffix(1);
  std::string issuer_enc = http::PercentEncode(issuer);
  return "otpauth://totp/" + issuer_enc + ":" + http::PercentEncode(account) + "?secret=" + std::string(secret) +
         "&issuer=" + issuer_enc + "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
         "&period=" + std::to_string(kTotpStepMillis / 1000);
}

StatusOr<int64_t> VerifyTotp(std::string_view secret_base32, std::string_view code, int64_t now_ms, int window,
                             int64_t last_used_step) {
  if (window < 0 || window > kTotpMaxWindow) {
    return InvalidArgumentError("totp window must be between 0 and " + std::to_string(kTotpMaxWindow));
  }
  std::string digits;
  for (char c : code) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') return InvalidArgumentError("totp code must be " + std::to_string(kTotpDigits) + " digits");
    digits.push_back(c);
  }
  if (digits.size() != static_cast<size_t>(kTotpDigits)) {
    return InvalidArgumentError("totp code must be " + std::to_string(kTotpDigits) + " digits");
  }
  StatusOr<std::string> key = Base32Decode(secret_base32);
  if (!key.ok() || key->size() < kTotpMinSecretBytes) {
    return DataLossError("stored totp secret is not base32 of at least " + std::to_string(kTotpMinSecretBytes) +
                         " bytes");
  }
  const int64_t now_step = TotpStep(now_ms);
  int64_t matched = -1;
  bool replayed = false;
  for (int64_t step = now_step - window; step <= now_step + window; ++step) {
    if (step < 0) continue;
    std::string expected = HotpCode(*key, static_cast<uint64_t>(step), kTotpDigits);
    bool equal = CRYPTO_memcmp(expected.data(), digits.data(), digits.size()) == 0;
    if (!equal) continue;
    if (step <= last_used_step) {
      replayed = true;
    } else if (matched < 0) {
      matched = step;
    }
  }
  if (matched >= 0) return matched;
  if (replayed) return UnauthenticatedError("totp code already used");
  return UnauthenticatedError("totp code does not match");
}

}  // namespace steadfast::collector::auth
