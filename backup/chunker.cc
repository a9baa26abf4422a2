#include "backup/chunker.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <bit>
#include <string>

namespace steadfast::backup {
namespace {

constexpr size_t kFloor = 64 * 1024;
constexpr size_t kCeiling = 64 * 1024 * 1024;

// `ones` top bits set.
uint64_t TopMask(int ones) { return ones <= 0 ? 0 : ~uint64_t{0} << (64 - ones); }

}  // namespace

Status ValidateChunkerParams(const ChunkerParams& p) {
  for (const auto& [name, v] : {std::pair{"min", p.min}, std::pair{"avg", p.avg}, std::pair{"max", p.max}}) {
    if (!std::has_single_bit(v) || v < kFloor || v > kCeiling) {
      return InvalidArgumentError(std::string("chunker ") + name + ": " + std::to_string(v) +
                                  " is not a power of two between 64 KiB and 64 MiB");
    }
  }
  if (!(p.min < p.avg && p.avg < p.max)) {
    return InvalidArgumentError("chunker: need min < avg < max, got " + std::to_string(p.min) + " / " +
                                std::to_string(p.avg) + " / " + std::to_string(p.max));
  }
  return OkStatus();
}

GearTable MakeGearTable(std::span<const uint8_t, 32> chunker_key) {
  GearTable gear{};
  for (int i = 0; i < 256; ++i) {
    const uint8_t msg[5] = {'g', 'e', 'a', 'r', static_cast<uint8_t>(i)};
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), chunker_key.data(), static_cast<int>(chunker_key.size()), msg, sizeof msg, out, &len);
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | out[b];
    gear[static_cast<size_t>(i)] = v;
  }
  return gear;
}

Chunker::Chunker(const GearTable& gear, const ChunkerParams& params) : gear_(gear), params_(params) {
  const int bits = std::countr_zero(params_.avg);
  mask_small_ = TopMask(bits + 2);
  mask_large_ = TopMask(bits - 2);
}

size_t Chunker::Cut(std::span<const uint8_t> data) const {
  State st;
  return Resume(data, st, true);
}

size_t Chunker::Resume(std::span<const uint8_t> data, State& state, bool eof) const {
  const size_t n = data.size();
  if (n <= params_.min) return eof ? n : 0;
  const size_t normal = std::min(n, params_.avg);
  const size_t end = std::min(n, params_.max);
  const uint8_t* p = data.data();
  uint64_t fp = state.fp;
  size_t i = state.scanned;
  if (i < params_.min) {
    // The hash of the 64 bytes before `min`, so the first test already sees a full window.
    fp = 0;
    for (i = params_.min - 64; i < params_.min; ++i) fp = (fp << 1) + gear_[p[i]];
  }
  for (; i < normal; ++i) {
    fp = (fp << 1) + gear_[p[i]];
    if ((fp & mask_small_) == 0) return i + 1;
  }
  for (; i < end; ++i) {
    fp = (fp << 1) + gear_[p[i]];
    if ((fp & mask_large_) == 0) return i + 1;
  }
  if (end == params_.max || eof) return end;
  state.scanned = i;
  state.fp = fp;
  return 0;
}

}  // namespace steadfast::backup
