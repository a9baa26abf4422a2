// Content-defined chunking (backup/FORMAT.md, section 5.1): FastCDC with normalised chunking
// over a keyed gear table. Pure: the caller hands it the bytes from a chunk's start, at least
// `max` of them unless the stream ends, and gets back where the chunk ends.
//
// Normalised chunking: before the average size a boundary needs `bits + 2` zero bits of the
// rolling hash (rarer), after it `bits - 2` (likelier), so chunk sizes cluster around the average
// instead of spreading exponentially. The hash shifts one bit per byte and the masks take its
// top bits, so a boundary depends on the last 64 bytes; an insertion or deletion changes only the
// chunks around it. The gear table is derived from the repository's chunker key, so boundaries
// (and with them chunk sizes) reveal nothing comparable across repositories.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"

namespace steadfast::backup {

struct ChunkerParams {
  // Chosen by measurement (bench/backup_chunk_sizes.sh, FORMAT.md 5.1).
  size_t min = 256 * 1024;
  size_t avg = 512 * 1024;
  size_t max = 4 * 1024 * 1024;
};

// Powers of two with 64 KiB <= min < avg < max <= 64 MiB; the error names the value.
Status ValidateChunkerParams(const ChunkerParams& p);

using GearTable = std::array<uint64_t, 256>;

// gear[i] = the first 8 bytes (little-endian) of HMAC-SHA-256(key, "gear" || i).
GearTable MakeGearTable(std::span<const uint8_t, 32> chunker_key);

class Chunker {
 public:
  // `params` must be valid (ValidateChunkerParams).
  Chunker(const GearTable& gear, const ChunkerParams& params);

  // The length of the chunk that starts at data[0]. `data` holds at least max() bytes, or all
  // that is left of the stream (then the result is at most data.size(); an empty stream has no
  // chunk and gives 0).
  size_t Cut(std::span<const uint8_t> data) const;

  // The same, fed as the data arrives: `data` is the chunk so far (from its start), `state`
  // remembers how far it was scanned. Returns the chunk's length once known, or 0 when more
  // data is needed (`eof`: there is no more; the rest is the last chunk). Gives the same cuts
  // as Cut on the whole stream, however the data is split.
  struct State {
    size_t scanned = 0;
    uint64_t fp = 0;
  };
  size_t Resume(std::span<const uint8_t> data, State& state, bool eof) const;

  const ChunkerParams& params() const { return params_; }

 private:
  GearTable gear_;
  ChunkerParams params_;
  uint64_t mask_small_ = 0;  // before avg: more bits must be zero
  uint64_t mask_large_ = 0;  // after avg: fewer
};

}  // namespace steadfast::backup
