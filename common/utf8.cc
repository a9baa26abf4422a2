#include "common/utf8.h"

#include <cstdint>

namespace steadfast {

std::optional<size_t> Utf8TextLength(std::string_view s, bool allow_line_breaks) {
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
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
    if (len > 1 && cp < kMinForLength[len]) return std::nullopt;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    const bool line_break = cp == '\n' || cp == '\r' || cp == '\t';
    if ((cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) && !(allow_line_breaks && line_break)) return std::nullopt;
    i += len;
    ++n;
  }
  return n;
}

}  // namespace steadfast
