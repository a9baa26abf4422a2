// TOTP second factor: RFC 6238 time-based one-time passwords over RFC 4226 HOTP, the variant
// every authenticator app implements: HMAC-SHA1, 30-second steps from the unix epoch, 6 digits.
// Secrets are kept and shown base32-encoded (RFC 4648, see encoding.h).
//
// Replay: a code is good for one step; VerifyTotp returns the step that matched, the store
// keeps it (UserCredentials::totp_last_step) and passes it back next time, and codes of that
// step or earlier are refused — so a code seen over someone's shoulder cannot be used again.
//
// Pure functions except GenerateTotpSecret; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "collector/auth/secure_random.h"
#include "common/status.h"

namespace steadfast::collector::auth {

inline constexpr int64_t kTotpStepMillis = 30'000;
inline constexpr int kTotpDigits = 6;
inline constexpr size_t kTotpSecretBytes = 20;     // 160 bits, RFC 4226 §4's recommendation
inline constexpr size_t kTotpMinSecretBytes = 16;  // 128 bits, RFC 4226 §4's minimum
inline constexpr int kTotpMaxWindow = 10;

// The RFC 6238 time step containing `unix_ms`: floor(unix_ms / 30000).
int64_t TotpStep(int64_t unix_ms);

// RFC 4226 HOTP of `counter` under `key` (raw bytes), `digits` long (6 to 8; crashes
// otherwise — a constant chosen in code), zero-padded.
std::string HotpCode(std::string_view key, uint64_t counter, int digits);
// HOTP of TotpStep(unix_ms).
std::string TotpCode(std::string_view key, int64_t unix_ms, int digits = kTotpDigits);

// A new random secret of kTotpSecretBytes, base32 without padding (32 characters).
std::string GenerateTotpSecret(SecureRandom& random);

// The otpauth:// URI an authenticator app reads from a QR code (Google Authenticator "Key Uri
// Format"): otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
// with issuer and account percent-encoded (RFC 3986: everything but A-Z a-z 0-9 - . _ ~, so a
// ':' in either becomes %3A) and the secret without '=' padding.
std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret_base32);

// Checks `code` at `now_ms` against the steps TotpStep(now_ms) - window .. + window (clock
// skew between the server and the phone; window 1 = +-30 s) that are later than
// `last_used_step` (0 = none used yet). Returns the step that matched, which the caller
// stores as the new last used step. Every candidate is computed and compared in constant time.
// Errors:
//   InvalidArgument  `code` is not 6 digits (spaces, as apps show "123 456", are ignored), or
//                    window is outside 0..kTotpMaxWindow;
//   DataLoss         `secret_base32` is not base32 of at least kTotpMinSecretBytes bytes;
//   Unauthenticated  no match; the message says "already used" when the code matched only a
//                    step at or before last_used_step (a replay), else "does not match".
StatusOr<int64_t> VerifyTotp(std::string_view secret_base32, std::string_view code, int64_t now_ms,
                             int window = 1, int64_t last_used_step = 0);

}  // namespace steadfast::collector::auth
