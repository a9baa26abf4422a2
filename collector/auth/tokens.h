// Opaque bearer tokens, their storage hash, and CSRF tokens.
//
// Token format: a type prefix and 256 random bits in unpadded base64url, 47 characters:
//
//   sfs_<43 chars>   a browser session (the sf_session cookie); never accepted as a bearer token
//   sfa_<43 chars>   an API token (Authorization: Bearer sfa_...)
//
// The prefix lets the API layer refuse a credential presented in the wrong place without a
// database lookup, and lets secret scanners recognise a leaked token. The store keeps only
// HashToken(token); the token itself is shown once.
//
// CSRF tokens: 256 random bits in unpadded base64url (43 characters, no prefix), one per
// session, created with the session and sent to its browser in the login response; a
// cookie-authenticated mutating call must echo it in the X-CSRF-Token header.
//
// Pure functions except the generators; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "collector/auth/secure_random.h"

namespace steadfast::collector::auth {

enum class TokenKind { kSession, kApi };

inline constexpr size_t kTokenRandomBytes = 32;
inline constexpr std::string_view kSessionTokenPrefix = "sfs_";
inline constexpr std::string_view kApiTokenPrefix = "sfa_";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

std::string_view TokenPrefix(TokenKind kind);

// A new token of `kind`.
std::string NewToken(TokenKind kind, SecureRandom& random);

// The kind of a well-formed token: the right prefix followed by exactly 43 base64url
// characters. nullopt for anything else (wrong prefix, length, alphabet), so a garbled or
// foreign credential can be refused before any lookup.
std::optional<TokenKind> TokenKindOf(std::string_view token);

// What the store keeps and looks up: SHA-256 of the whole token (prefix included), lowercase
// hex. Tokens carry 256 random bits, so an unsalted fast hash is enough — no password-style
// hashing is needed to resist guessing.
std::string HashToken(std::string_view token);

// Equality in time independent of where the strings differ (OpenSSL CRYPTO_memcmp). The
// length is not hidden; all our secrets have a fixed, public length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The token from an Authorization header value "Bearer <token>" (scheme case-insensitive,
// spaces around the token ignored); nullopt for another scheme or an empty token. The token
// is returned as presented; check it with TokenKindOf.
std::optional<std::string> BearerToken(std::string_view authorization_header);

// A new CSRF token for a session.
std::string NewCsrfToken(SecureRandom& random);
// True only when `presented` is non-empty and equals `expected` (compared in constant time).
// An empty expected token (a session without one) never verifies.
bool VerifyCsrfToken(std::string_view presented, std::string_view expected);

}  // namespace steadfast::collector::auth
