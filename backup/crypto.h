// The repository's cryptography (backup/FORMAT.md, sections 2-3), over OpenSSL and libargon2:
// the master key, keyed blob ids, per-file subkeys (HKDF-SHA-256 of a random salt), AEAD with
// counter nonces, the envelope every metadata file is wrapped in, and key files (the master key
// wrapped by a password through argon2id).
//
// Errors: a failed authentication (a wrong key, or a flipped bit) is DataLoss naming what was
// being opened; a wrong password is Unauthenticated; a malformed file is DataLoss too.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace steadfast::backup {

using Bytes = std::vector<uint8_t>;
using Key32 = std::array<uint8_t, 32>;
using BlobId = std::array<uint8_t, 32>;

std::string Hex(std::span<const uint8_t> bytes);
// 64 hex digits -> id; InvalidArgument otherwise.
StatusOr<BlobId> ParseId(std::string_view hex);
// From OpenSSL's CSPRNG (aborts if it has no entropy: nothing would be safe).
void FillRandom(std::span<uint8_t> out);
// SHA-256 of `data`: file names (FORMAT.md 1).
BlobId Sha256(std::span<const uint8_t> data);

enum class Cipher { kAes256Gcm, kChaCha20Poly1305 };
std::string_view CipherName(Cipher c);  // "aes-256-gcm", "chacha20-poly1305"
StatusOr<Cipher> ParseCipher(std::string_view name);

inline constexpr size_t kTagSize = 16;
inline constexpr size_t kSaltSize = 32;

struct MasterKey {
  Key32 enc{};
  Key32 id{};
  Key32 chunker{};
  Cipher cipher = Cipher::kAes256Gcm;

  static MasterKey Generate(Cipher cipher);  // from OpenSSL's CSPRNG
  Bytes Serialize() const;                   // the 96 bytes, in FORMAT.md's order
  static StatusOr<MasterKey> Parse(std::span<const uint8_t> bytes, Cipher cipher);
};

// HMAC-SHA-256(id_key, data), reusing one keyed context (the hot path: once per chunk).
class BlobHasher {
 public:
  explicit BlobHasher(const Key32& id_key);
  ~BlobHasher();
  BlobHasher(const BlobHasher&) = delete;
  BlobHasher& operator=(const BlobHasher&) = delete;
  BlobId Id(std::span<const uint8_t> data) const;

 private:
  friend class StreamHasher;
  void* ctx_ = nullptr;  // EVP_MAC_CTX, duplicated per call
};

// The same keyed hash over a stream (FileDigest in snapshot.h).
class StreamHasher {
 public:
  explicit StreamHasher(const Key32& id_key);
  ~StreamHasher();
  StreamHasher(const StreamHasher&) = delete;
  StreamHasher& operator=(const StreamHasher&) = delete;
  void Update(std::span<const uint8_t> data);
  BlobId Final();  // once

 private:
  void* ctx_ = nullptr;  // EVP_MAC_CTX
};

// The AEAD key of one pack or envelope: HKDF-SHA-256(enc_key, salt, "steadfast-backup v1 " + kind).
Key32 DeriveSubkey(const Key32& enc_key, std::span<const uint8_t, kSaltSize> salt, std::string_view kind);

// 96-bit little-endian counter nonce.
std::array<uint8_t, 12> CounterNonce(uint64_t n);

// ciphertext || tag.
Bytes Seal(Cipher cipher, const Key32& key, const std::array<uint8_t, 12>& nonce, std::span<const uint8_t> aad,
           std::span<const uint8_t> plaintext);
// The same in place: encrypts data[0, n) and writes the tag at data[n, n + 16).
void SealInPlace(Cipher cipher, const Key32& key, const std::array<uint8_t, 12>& nonce, std::span<const uint8_t> aad,
                 uint8_t* data, size_t n);
// DataLoss "<what>: authentication failed" when the key, nonce, aad or bytes are wrong.
StatusOr<Bytes> Open(Cipher cipher, const Key32& key, const std::array<uint8_t, 12>& nonce,
                     std::span<const uint8_t> aad, std::span<const uint8_t> sealed, std::string_view what);

// The same in place: data[0, sealed_length) is ciphertext || tag; on success data[0, n) is the
// plaintext. On failure the bytes are undefined.
Status OpenInPlace(Cipher cipher, const Key32& key, const std::array<uint8_t, 12>& nonce, std::span<const uint8_t> aad,
                   uint8_t* data, size_t sealed_length, std::string_view what);

// Envelope kinds (FORMAT.md 2).
enum class EnvelopeKind : uint8_t { kConfig = 1, kIndex = 2, kSnapshot = 3, kEvidence = 4, kLock = 5 };
std::string_view EnvelopeKindName(EnvelopeKind k);  // "config", "index", ...

// magic || kind || salt || AEAD(subkey, 0, magic || kind, plaintext). The plaintext is what the
// caller gives (FORMAT.md has it zstd-compressed CBOR; that is the caller's business).
Bytes SealEnvelope(const MasterKey& key, EnvelopeKind kind, std::span<const uint8_t> plaintext);
// `what` names the file in errors. DataLoss for a bad magic, another kind, or a failed tag.
StatusOr<Bytes> OpenEnvelope(const MasterKey& key, EnvelopeKind kind, std::span<const uint8_t> file,
                             std::string_view what);

// Key files (FORMAT.md 3).
// FORMAT.md 3: written with at least 64 MiB and 3 passes; readers accept up to 1 GiB, 20
// passes and 16 lanes (a planted key file cannot make a client spend more).
struct KdfParams {
  uint32_t m_kib = 65536;
  uint32_t t = 3;
  uint32_t p = 2;  // two lanes: two threads on a two-core machine, half the wait
  bool allow_weak = false;  // tests only: below the minimums, so that they run fast
};
struct KeyFileInfo {
  std::string created;  // RFC 3339
  std::string host;
  std::string username;
};
// The key file's JSON text.
StatusOr<std::string> WrapMasterKey(const MasterKey& key, std::string_view password, const KdfParams& kdf,
                                    const KeyFileInfo& info);
// Unauthenticated for a wrong password; DataLoss (naming `what` and the field) for a malformed file.
StatusOr<MasterKey> UnwrapMasterKey(std::string_view key_file_json, std::string_view password, std::string_view what);

}  // namespace steadfast::backup
