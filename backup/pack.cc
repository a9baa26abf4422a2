#include "backup/pack.h"

#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace steadfast::backup {
namespace {

constexpr char kPackMagic[] = "SFBKPCK1";
constexpr uint64_t kHeaderNonce = 0xFFFFFFFFULL;
constexpr char kHeaderAad[] = "header";

template <typename Buffer>
void PutLe(Buffer& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t GetLe(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// aad of a blob: type || id.
std::array<uint8_t, 33> BlobAad(BlobType type, const BlobId& id) {
  std::array<uint8_t, 33> aad{};
  aad[0] = static_cast<uint8_t>(type);
  std::memcpy(aad.data() + 1, id.data(), id.size());
  return aad;
}

std::span<const uint8_t> Span(const char* s) { return {reinterpret_cast<const uint8_t*>(s), std::strlen(s)}; }

}  // namespace

PackBuffer BufferPool::Take() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return out_ < max_ || open_; });
  ++out_;
  if (free_.empty()) return PackBuffer();
  PackBuffer b = std::move(free_.back());
  free_.pop_back();
  return b;
}

void BufferPool::Open() {
  {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
  }
  cv_.notify_all();
}

void BufferPool::Give(PackBuffer b) {
  b.clear();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (out_ > 0) --out_;
    if (free_.size() < max_) free_.push_back(std::move(b));
  }
  cv_.notify_one();
}

// At zstd's level 3 (dfast), the table of short matches has 2^16 entries; with 2^14 it stays in
// the core's cache: 6-9 % faster, measured with `zstd -b3 --zstd=clog=14 -B512K` on the
// benchmark's data (the output 0.04 % smaller), system libraries (0.7 % larger) and
// documentation (0.1 % larger). Other levels keep zstd's tables.
constexpr int kShortTableLog = 14;

BlobCompressor::BlobCompressor(int zstd_level) : level_(zstd_level) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  cctx_ = c;
  if (c == nullptr) std::abort();
  if (level_ > 0) {
    (void)ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level_);
    if (level_ == 3) (void)ZSTD_CCtx_setParameter(c, ZSTD_c_chainLog, kShortTableLog);
  }
}

BlobCompressor::~BlobCompressor() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_)); }

// Large blobs are sampled first: four 4 KiB pieces compressed at level 1. When they do not
// shrink by 1/32, the blob is taken to be incompressible (media, archives, encrypted files) and
// stored raw without spending a full compression on it.
bool BlobCompressor::LooksCompressible(std::span<const uint8_t> plaintext) {
  constexpr size_t kPiece = 4 * 1024, kPieces = 4;
  if (plaintext.size() < (256u << 10)) return true;
  sample_.resize(ZSTD_compressBound(kPiece));
  size_t in_total = 0, out_total = 0;
  for (size_t i = 0; i < kPieces; ++i) {
    const size_t at = (plaintext.size() - kPiece) / (kPieces - 1) * i;
    const size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(cctx_), sample_.data(), sample_.size(), plaintext.data() + at, kPiece, 1);
    if (ZSTD_isError(n)) return true;
    in_total += kPiece;
    out_total += n;
  }
  return out_total <= in_total - in_total / 32;
}

BlobCompressor::Result BlobCompressor::Compress(std::span<const uint8_t> plaintext) {
  Result r;
  r.payload = plaintext;
  if (level_ <= 0 || plaintext.empty() || !LooksCompressible(plaintext)) return r;
  const size_t room = ZSTD_compressBound(plaintext.size());
  if (out_.size() < room) out_.resize(room);
  // The level and parameters set at construction (ZSTD_compressCCtx would use the level alone).
  const size_t n = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), out_.data(), room, plaintext.data(), plaintext.size());
  // Stored compressed only when that saves at least 1/32 (FORMAT.md 5.2).
  if (!ZSTD_isError(n) && n <= plaintext.size() - plaintext.size() / 32 && n < plaintext.size()) {
    r.raw = false;
    r.payload = std::span<const uint8_t>(out_.data(), n);
  }
  return r;
}

PackWriter::PackWriter(const MasterKey& key, int zstd_level, BufferPool* pool, size_t reserve)
    : key_(key), compressor_(zstd_level), pool_(pool), reserve_(reserve) {
  Start();
}

PackWriter::~PackWriter() = default;

void PackWriter::Start() {
  if (pool_ != nullptr) bytes_ = pool_->Take();
  bytes_.clear();
  if (bytes_.capacity() < reserve_) bytes_.reserve(reserve_);
  entries_.clear();
  bytes_.resize(kPackPrefix);
  std::memcpy(bytes_.data(), kPackMagic, 8);
  std::array<uint8_t, kSaltSize> salt = {};
  FillRandom(salt);
  std::memcpy(bytes_.data() + 8, salt.data(), kSaltSize);
  subkey_ = DeriveSubkey(key_.enc, salt, "pack");
}

Status PackWriter::Add(BlobType type, const BlobId& id, std::span<const uint8_t> plaintext) {
  if (plaintext.size() > kMaxBlobSize) {
    return InvalidArgumentError("a blob of " + std::to_string(plaintext.size()) + " bytes is larger than the limit");
  }
  return AddPayload(type, id, plaintext.size(), compressor_.Compress(plaintext));
}

Status PackWriter::AddPayload(BlobType type, const BlobId& id, size_t raw_length, const BlobCompressor::Result& r) {
  if (raw_length > kMaxBlobSize) {
    return InvalidArgumentError("a blob of " + std::to_string(raw_length) + " bytes is larger than the limit");
  }
  if (entries_.size() >= kMaxPackEntries || bytes_.size() + r.payload.size() + kTagSize > kMaxPackBytes) {
    return FailedPreconditionError("the pack is full (FORMAT.md 5.3: 2^24 blobs, 4 GiB); finish it first");
  }
  PackEntry e;
  e.type = type;
  e.id = id;
  e.index = static_cast<uint32_t>(entries_.size());
  e.offset = bytes_.size();
  e.raw_length = static_cast<uint32_t>(raw_length);
  e.raw = r.raw;
  // Copied into the pack and sealed in place.
  const size_t at = bytes_.size();
  bytes_.resize(at + r.payload.size() + kTagSize);
  if (!r.payload.empty()) std::memcpy(bytes_.data() + at, r.payload.data(), r.payload.size());
  const auto aad = BlobAad(type, id);
  SealInPlace(key_.cipher, subkey_, CounterNonce(e.index), aad, bytes_.data() + at, r.payload.size());
  e.stored_length = static_cast<uint32_t>(r.payload.size() + kTagSize);
  entries_.push_back(e);
  return OkStatus();
}

PackWriter::Pack PackWriter::Finish(bool name) {
  Bytes header;
  header.reserve(entries_.size() * kPackEntrySize);
  for (const PackEntry& e : entries_) {
    header.push_back(static_cast<uint8_t>(e.type));
    header.push_back(e.raw ? 1 : 0);
    PutLe(header, 0, 2);
    PutLe(header, e.stored_length, 4);
    PutLe(header, e.raw_length, 4);
    PutLe(header, 0, 4);
    header.insert(header.end(), e.id.begin(), e.id.end());
  }
  const Bytes sealed = Seal(key_.cipher, subkey_, CounterNonce(kHeaderNonce), Span(kHeaderAad), header);
  bytes_.insert(bytes_.end(), sealed.begin(), sealed.end());
  PutLe(bytes_, sealed.size(), 4);
  Pack p;
  if (name) p.name = Hex(Sha256(bytes_));
  p.bytes = std::move(bytes_);
  p.entries = std::move(entries_);
  Start();
  return p;
}

StatusOr<std::vector<PackEntry>> ReadPackHeader(const MasterKey& key, std::span<const uint8_t> prefix,
                                                std::span<const uint8_t> tail, uint64_t file_size,
                                                std::string_view what) {
  const std::string w(what);
  if (prefix.size() < kPackPrefix || std::memcmp(prefix.data(), kPackMagic, 8) != 0) {
    return DataLossError(w + ": not a steadfast-backup pack (bad magic)");
  }
  if (tail.size() < 4 || file_size < kPackPrefix + 4 + kTagSize) return DataLossError(w + ": too short for a pack");
  const uint64_t hlen = GetLe(tail.data() + tail.size() - 4, 4);
  if (hlen < kTagSize || hlen + 4 + kPackPrefix > file_size || hlen > kMaxPackEntries * kPackEntrySize + kTagSize) {
    return DataLossError(w + ": header length " + std::to_string(hlen) + " does not fit the pack");
  }
  if (hlen + 4 > tail.size()) {
    // Not damage: the caller read too little of the pack's end. It can read this much and retry.
    return InvalidArgumentError(w + ": the header needs the last " + std::to_string(hlen + 4) + " bytes, got " +
                                std::to_string(tail.size()));
  }
  std::span<const uint8_t, kSaltSize> salt(prefix.data() + 8, kSaltSize);
  const Key32 subkey = DeriveSubkey(key.enc, salt, "pack");
  StatusOr<Bytes> header = Open(key.cipher, subkey, CounterNonce(kHeaderNonce), Span(kHeaderAad),
                                tail.subspan(tail.size() - 4 - hlen, hlen), w + " header");
  if (!header.ok()) return header.status();
  if (header->size() % kPackEntrySize != 0) return DataLossError(w + ": header size is not a whole number of entries");
  std::vector<PackEntry> out;
  uint64_t offset = kPackPrefix;
  const uint64_t blobs_end = file_size - 4 - hlen;
  for (size_t i = 0; i < header->size() / kPackEntrySize; ++i) {
    const uint8_t* p = header->data() + i * kPackEntrySize;
    PackEntry e;
    if (p[0] > 1) return DataLossError(w + ": entry " + std::to_string(i) + " has an unknown blob type");
    e.type = static_cast<BlobType>(p[0]);
    e.raw = (p[1] & 1) != 0;
    e.stored_length = static_cast<uint32_t>(GetLe(p + 4, 4));
    e.raw_length = static_cast<uint32_t>(GetLe(p + 8, 4));
    std::memcpy(e.id.data(), p + 16, 32);
    e.index = static_cast<uint32_t>(i);
    e.offset = offset;
    if (e.stored_length < kTagSize || e.raw_length > kMaxBlobSize || offset + e.stored_length > blobs_end) {
      return DataLossError(w + ": entry " + std::to_string(i) + " does not fit the pack");
    }
    offset += e.stored_length;
    out.push_back(e);
  }
  if (offset != blobs_end) return DataLossError(w + ": the header does not account for every byte of the pack");
  return out;
}

StatusOr<Key32> PackSubkey(const MasterKey& key, std::span<const uint8_t> prefix, std::string_view what) {
  if (prefix.size() < kPackPrefix || std::memcmp(prefix.data(), kPackMagic, 8) != 0) {
    return DataLossError(std::string(what) + ": not a steadfast-backup pack (bad magic)");
  }
  std::span<const uint8_t, kSaltSize> salt(prefix.data() + 8, kSaltSize);
  return DeriveSubkey(key.enc, salt, "pack");
}

StatusOr<std::span<const uint8_t>> OpenBlobSpan(Cipher cipher, const Key32& subkey, const BlobHasher& hasher,
                                                const PackEntry& entry, uint8_t* sealed, Bytes& scratch,
                                                std::string_view what) {
  const auto w = [&] { return std::string(what) + " blob " + Hex(entry.id).substr(0, 16); };
  if (entry.stored_length < kTagSize) return DataLossError(w() + ": too short to hold an authentication tag");
  {
    const Status opened = OpenInPlace(cipher, subkey, CounterNonce(entry.index), BlobAad(entry.type, entry.id), sealed,
                                      entry.stored_length, w());
    if (!opened.ok()) return opened;
  }
  const size_t n = entry.stored_length - kTagSize;
  std::span<const uint8_t> plain(sealed, n);
  if (!entry.raw) {
    const unsigned long long size = ZSTD_getFrameContentSize(sealed, n);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size != entry.raw_length) {
      return DataLossError(w() + ": its decompressed size does not match the header");
    }
    // One decompression context per thread, reused: no allocation per blob.
    thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    scratch.resize(entry.raw_length);
    const size_t got = ZSTD_decompressDCtx(dctx.get(), scratch.data(), scratch.size(), sealed, n);
    if (ZSTD_isError(got) || got != entry.raw_length) return DataLossError(w() + ": cannot be decompressed");
    plain = scratch;
  }
  if (plain.size() != entry.raw_length) return DataLossError(w() + ": its size does not match the header");
  if (hasher.Id(plain) != entry.id) return DataLossError(w() + ": its content does not hash to its id");
  return plain;
}

StatusOr<Bytes> OpenBlobInPlace(Cipher cipher, const Key32& subkey, const BlobHasher& hasher, const PackEntry& entry,
                                Bytes sealed, std::string_view what) {
  if (sealed.size() != entry.stored_length) {
    return DataLossError(std::string(what) + " blob " + Hex(entry.id).substr(0, 16) + ": its stored length does not match the header");
  }
  Bytes plain;
  SF_ASSIGN_OR_RETURN(std::span<const uint8_t> got, OpenBlobSpan(cipher, subkey, hasher, entry, sealed.data(), plain, what));
  if (got.data() == sealed.data()) {  // raw: the buffer is the plaintext
    sealed.resize(got.size());
    return sealed;
  }
  return plain;
}

StatusOr<Bytes> OpenBlob(const MasterKey& key, const BlobHasher& hasher, std::span<const uint8_t> prefix,
                         const PackEntry& entry, std::span<const uint8_t> sealed, std::string_view what) {
  SF_ASSIGN_OR_RETURN(Key32 subkey, PackSubkey(key, prefix, what));
  return OpenBlobInPlace(key.cipher, subkey, hasher, entry, Bytes(sealed.begin(), sealed.end()), what);
}

}  // namespace steadfast::backup
