#include "common/utf8.h"

namespace steadfast {

std::optional<Utf8Char> DecodeUtf8At(std::string_view s, size_t i) {
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  const auto c = static_cast<unsigned char>(s[i]);
  uint32_t cp = 0;
  size_t len = 0;
  if (c < 0x80) {
    return Utf8Char{c, 1};
  } else if ((c & 0xE0) == 0xC0) {
    cp = c & 0x1F;
    len = 2;
  } else if ((c & 0xF0) == 0xE0) {
    cp = c & 0x0F;
    len = 3;
  } else if ((c & 0xF8) == 0xF0) {
    cp = c & 0x07;
    len = 4;
  } else {
    return std::nullopt;
  }
  if (i + len > s.size()) return std::nullopt;
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return std::nullopt;
  return Utf8Char{cp, len};
}

std::optional<size_t> Utf8TextLength(std::string_view s, bool allow_line_breaks) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    const auto ch = DecodeUtf8At(s, i);
    if (!ch) return std::nullopt;
    const uint32_t cp = ch->code_point;
    const bool line_break = cp == '\n' || cp == '\r' || cp == '\t';
    if (IsControlCodePoint(cp) && !(allow_line_breaks && line_break)) return std::nullopt;
    i += ch->length;
    ++n;
  }
  return n;
}

}  // namespace steadfast
