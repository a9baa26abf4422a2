// Packs (backup/FORMAT.md, section 5.3): blobs compressed (unless incompressible), each sealed
// with the pack's subkey under its position as nonce and its type and id as associated data,
// then the sealed header listing them, then the header's length. A pack's name is the SHA-256
// of its bytes; its header alone rebuilds its index entries.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backup/crypto.h"
#include "common/status.h"

namespace steadfast::backup {

enum class BlobType : uint8_t { kData = 0, kTree = 1 };

struct PackEntry {
  BlobType type = BlobType::kData;
  bool raw = false;           // stored uncompressed
  BlobId id{};
  uint32_t index = 0;         // position in the pack: its nonce
  uint64_t offset = 0;        // of the sealed blob in the pack file
  uint32_t stored_length = 0;  // sealed: ciphertext and tag
  uint32_t raw_length = 0;     // plaintext
};

inline constexpr size_t kPackPrefix = 8 + kSaltSize;  // magic, salt
inline constexpr size_t kPackEntrySize = 48;
inline constexpr uint32_t kMaxBlobSize = 256u << 20;  // a blob's plaintext (tree blobs included)
inline constexpr size_t kMaxPackEntries = size_t{1} << 24;
inline constexpr uint64_t kMaxPackBytes = uint64_t{4} << 30;  // blobs; the header comes on top

class PackWriter {
 public:
  // `zstd_level` 0: store every blob raw.
  PackWriter(const MasterKey& key, int zstd_level);
  ~PackWriter();
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;

  // Appends one blob whose id the caller computed (BlobHasher). InvalidArgument when it is
  // larger than kMaxBlobSize; FailedPrecondition when the pack is full (Finish it first).
  Status Add(BlobType type, const BlobId& id, std::span<const uint8_t> plaintext);
  size_t size() const { return bytes_.size(); }  // bytes so far
  size_t count() const { return entries_.size(); }

  struct Pack {
    std::string name;  // hex SHA-256 of `bytes`
    Bytes bytes;
    std::vector<PackEntry> entries;
  };
  // Seals the header and hands the pack over; the writer starts a new pack (new salt).
  Pack Finish();

 private:
  void Start();
  bool LooksCompressible(std::span<const uint8_t> plaintext);
  const MasterKey& key_;
  int level_;
  void* cctx_ = nullptr;  // ZSTD_CCtx
  Bytes bytes_;
  Key32 subkey_{};
  std::vector<PackEntry> entries_;
};

// The header of a pack of `file_size` bytes from its first kPackPrefix bytes and its last
// `tail` bytes (at least the header and its length; the whole pack works too). DataLoss naming
// `what` when anything does not add up; InvalidArgument (saying how many bytes) when `tail` is
// shorter than the header.
StatusOr<std::vector<PackEntry>> ReadPackHeader(const MasterKey& key, std::span<const uint8_t> prefix,
                                                std::span<const uint8_t> tail, uint64_t file_size,
                                                std::string_view what);

// One blob's plaintext from its sealed bytes, checked: authentication, size, and that its keyed
// id is the one the header gives. `prefix`: the pack's first kPackPrefix bytes.
StatusOr<Bytes> OpenBlob(const MasterKey& key, const BlobHasher& hasher, std::span<const uint8_t> prefix,
                         const PackEntry& entry, std::span<const uint8_t> sealed, std::string_view what);

}  // namespace steadfast::backup
