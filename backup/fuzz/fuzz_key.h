// The fixed master key the fuzz targets and their corpus share (so that seeds decrypt, and the
// fuzzer's mutations of them reach the parsers behind the authentication).
#pragma once

#include <array>
#include <cstdint>

#include "backup/crypto.h"

namespace steadfast::backup::fuzz {

inline const MasterKey& Key() {
  static const MasterKey key = [] {
    std::array<uint8_t, 96> bytes{};
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
    return MasterKey::Parse(bytes, Cipher::kAes256Gcm).value();
  }();
  return key;
}

}  // namespace steadfast::backup::fuzz
