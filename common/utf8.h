// UTF-8 decoding and text checks shared by the stores that validate what people type (names,
// notes) and by the agent, which cleans what programs and devices print before it goes into JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace steadfast {

struct Utf8Char {
  uint32_t code_point = 0;
  size_t length = 0;  // bytes, 1..4
};

// The well-formed UTF-8 sequence starting at s[i] (i < s.size()): no overlong forms, surrogates
// or values beyond U+10FFFF. nullopt when the bytes there are not one.
std::optional<Utf8Char> DecodeUtf8At(std::string_view s, size_t i);

// C0 controls, DEL and C1 controls (U+0080..U+009F).
inline bool IsControlCodePoint(uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp < 0xA0); }

// The number of code points of `s` when it is well-formed UTF-8 (no overlong forms,
// surrogates or values beyond U+10FFFF) without control characters (C0, DEL, C1) — except line
// feed, carriage return and tab when `allow_line_breaks`; nullopt otherwise.
std::optional<size_t> Utf8TextLength(std::string_view s, bool allow_line_breaks = false);

}  // namespace steadfast
