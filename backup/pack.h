// Packs (backup/FORMAT.md, section 5.3): blobs compressed (unless incompressible), each sealed
// with the pack's subkey under its position as nonce and its type and id as associated data,
// then the sealed header listing them, then the header's length. A pack's name is the SHA-256
// of its bytes; its header alone rebuilds its index entries.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
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

// An allocator whose vectors' growth leaves the new bytes unset (they are written right
// after), so a buffer's pages are touched only as far as it is filled, not as far as it might
// be. With `Align`, the storage is aligned to it.
template <typename T, size_t Align = 0>
struct UninitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitAllocator<U, Align>;
  };
  UninitAllocator() = default;
  template <typename U>
  UninitAllocator(const UninitAllocator<U, Align>&) {}
  T* allocate(size_t n) {
    if constexpr (Align == 0) {
      return std::allocator<T>::allocate(n);
    } else {
      return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{Align}));
    }
  }
  void deallocate(T* p, size_t n) noexcept {
    if constexpr (Align == 0) {
      std::allocator<T>::deallocate(p, n);
    } else {
      ::operator delete(p, std::align_val_t{Align});
    }
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) {
      ::new (static_cast<void*>(p)) U;
    } else {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  }
};
// Chunks, read buffers, compressor output.
using ByteBuffer = std::vector<uint8_t, UninitAllocator<uint8_t>>;
// A pack being built: page-aligned, so that the local backend can write it with O_DIRECT.
inline constexpr size_t kPackBufferAlign = 4096;
using PackBuffer = std::vector<uint8_t, UninitAllocator<uint8_t, kPackBufferAlign>>;

// Pack buffers handed back once a pack is stored, so that a backup reuses a few large buffers
// instead of faulting in fresh pages for every pack. Thread-safe. At most `max` buffers are out
// at a time: Take waits for a Give beyond that (the writer's pace holds the producers back, and
// the pack buffers' memory is bounded by max full packs).
class BufferPool {
 public:
  explicit BufferPool(size_t max) : max_(max) {}
  PackBuffer Take();
  void Give(PackBuffer b);
  // After a failure: Take no longer waits (what is in flight may never come back).
  void Open();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::vector<PackBuffer> free_;
  size_t out_ = 0;
  size_t max_;
};

// A blob's payload as FORMAT.md 5.2 stores it: zstd at the repository's level, unless the data
// is incompressible (then raw). One per thread; the payload lives in the compressor's buffer
// until its next call (or is the plaintext itself, when raw).
class BlobCompressor {
 public:
  explicit BlobCompressor(int zstd_level);
  ~BlobCompressor();
  BlobCompressor(const BlobCompressor&) = delete;
  BlobCompressor& operator=(const BlobCompressor&) = delete;
  struct Result {
    bool raw = true;
    std::span<const uint8_t> payload;
  };
  Result Compress(std::span<const uint8_t> plaintext);

 private:
  bool LooksCompressible(std::span<const uint8_t> plaintext);
  int level_;
  void* cctx_ = nullptr;  // ZSTD_CCtx
  ByteBuffer out_;
  ByteBuffer sample_;  // LooksCompressible's output
};

class PackWriter {
 public:
  // `zstd_level` 0: store every blob raw. `pool`: where the pack buffers come from (optional);
  // `reserve`: the capacity to give a new pack buffer (a full pack, so that it never grows by
  // copying: pack_size plus the largest blob plus its header).
  PackWriter(const MasterKey& key, int zstd_level, BufferPool* pool = nullptr, size_t reserve = 0);
  ~PackWriter();
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;

  // Appends one blob whose id the caller computed (BlobHasher). InvalidArgument when it is
  // larger than kMaxBlobSize; FailedPrecondition when the pack is full (Finish it first).
  Status Add(BlobType type, const BlobId& id, std::span<const uint8_t> plaintext);
  // The same with the payload a BlobCompressor made (compression outside a shared writer's lock).
  Status AddPayload(BlobType type, const BlobId& id, size_t raw_length, const BlobCompressor::Result& payload);
  size_t size() const { return bytes_.size(); }  // bytes so far
  size_t count() const { return entries_.size(); }

  struct Pack {
    std::string name;  // hex SHA-256 of `bytes`
    PackBuffer bytes;
    std::vector<PackEntry> entries;
  };
  // Seals the header and hands the pack over; the writer starts a new pack (new salt). Without
  // `name`, the pack's name (the SHA-256 of its bytes) is left for the caller to compute, out of
  // whatever lock guards this writer.
  Pack Finish(bool name = true);

 private:
  void Start();
  const MasterKey& key_;
  BlobCompressor compressor_;
  BufferPool* pool_;
  size_t reserve_;
  PackBuffer bytes_;
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

// The same in steps, for readers of many blobs: the pack's subkey from its first kPackPrefix
// bytes (once per pack), then each blob opened in its own buffer (decrypted in place; a raw
// blob's buffer becomes the plaintext without a copy).
StatusOr<Key32> PackSubkey(const MasterKey& key, std::span<const uint8_t> prefix, std::string_view what);
StatusOr<Bytes> OpenBlobInPlace(Cipher cipher, const Key32& subkey, const BlobHasher& hasher, const PackEntry& entry,
                                Bytes sealed, std::string_view what);
// And without giving the plaintext a buffer of its own: `sealed` (entry.stored_length bytes, for
// instance inside a whole pack read by check) is decrypted in place; the plaintext is there
// (raw) or in `scratch` (decompressed).
StatusOr<std::span<const uint8_t>> OpenBlobSpan(Cipher cipher, const Key32& subkey, const BlobHasher& hasher,
                                                const PackEntry& entry, uint8_t* sealed, Bytes& scratch,
                                                std::string_view what);

}  // namespace steadfast::backup
