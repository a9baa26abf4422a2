// Binary-to-text encodings used by the authentication primitives (RFC 4648).
//
// - Base32 (RFC 4648 §6, alphabet A-Z2-7): TOTP secrets, as authenticator apps expect them.
// - Base64 without padding, standard alphabet (§4): salts and hashes in PHC strings.
// - Base64url without padding (§5): opaque tokens (cookie- and URL-safe).
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace steadfast::collector::auth {

// Upper-case base32. With `pad`, '=' fills the last group to 8 characters.
std::string Base32Encode(std::string_view data, bool pad = true);
// Accepts upper or lower case, with or without correct '=' padding. InvalidArgument for a
// character outside the alphabet, misplaced or wrong padding, or a length that no byte
// string encodes to (1, 3 or 6 characters in the last group).
StatusOr<std::string> Base32Decode(std::string_view text);

enum class Base64Alphabet { kStandard, kUrlSafe };
// No '=' padding in either alphabet.
std::string Base64Encode(std::string_view data, Base64Alphabet alphabet);
// Strict: no padding, no whitespace, canonical (unused low bits of the last character must be
// zero), no character of the other alphabet. InvalidArgument otherwise.
StatusOr<std::string> Base64Decode(std::string_view text, Base64Alphabet alphabet);

}  // namespace steadfast::collector::auth
