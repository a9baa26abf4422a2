// UTF-8 text checks shared by the stores that validate what people type (names, notes).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace steadfast {

// The number of code points of `s` when it is well-formed UTF-8 (no overlong forms,
// surrogates or values beyond U+10FFFF) without control characters (C0, DEL, C1) — except line
// feed, carriage return and tab when `allow_line_breaks`; nullopt otherwise.
std::optional<size_t> Utf8TextLength(std::string_view s, bool allow_line_breaks = false);

}  // namespace steadfast
