#include "collector/auth/tokens.h"

#include <openssl/crypto.h>

#include "collector/auth/encoding.h"
#include "common/random.h"

namespace steadfast::collector::auth {
namespace {

// Unpadded base64url of kTokenRandomBytes.
constexpr size_t kTokenBodyChars = (kTokenRandomBytes * 8 + 5) / 6;

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::string RandomBody(SecureRandom& random) {
  return Base64Encode(random.Bytes(kTokenRandomBytes), Base64Alphabet::kUrlSafe);
}

}  // namespace

std::string_view TokenPrefix(TokenKind kind) {
  return kind == TokenKind::kSession ? kSessionTokenPrefix : kApiTokenPrefix;
}

std::string NewToken(TokenKind kind, SecureRandom& random) { return std::string(TokenPrefix(kind)) + RandomBody(random); }

std::optional<TokenKind> TokenKindOf(std::string_view token) {
  std::optional<TokenKind> kind;
  if (token.substr(0, kSessionTokenPrefix.size()) == kSessionTokenPrefix) kind = TokenKind::kSession;
  else if (token.substr(0, kApiTokenPrefix.size()) == kApiTokenPrefix) kind = TokenKind::kApi;
  else return std::nullopt;
  std::string_view body = token.substr(TokenPrefix(*kind).size());
  if (body.size() != kTokenBodyChars) return std::nullopt;
  for (char c : body) {
    if (!IsBase64Url(c)) return std::nullopt;
  }
  return kind;
}

std::string HashToken(std::string_view token) { return Sha256Hex(std::string(token)); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> BearerToken(std::string_view header) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  header = trim(header);
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  if (header[kScheme.size()] != ' ' && header[kScheme.size()] != '\t') return std::nullopt;
  std::string_view token = trim(header.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

std::string NewCsrfToken(SecureRandom& random) { return RandomBody(random); }

bool VerifyCsrfToken(std::string_view presented, std::string_view expected) {
  if (presented.empty() || expected.empty()) return false;
  return ConstantTimeEquals(presented, expected);
}

}  // namespace steadfast::collector::auth
