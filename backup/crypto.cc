#include "backup/crypto.h"

#include <argon2.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>

namespace steadfast::backup {
namespace {

using nlohmann::json;

constexpr char kEnvelopeMagic[] = "SFBKENV1";  // 8 bytes without the NUL
constexpr size_t kMagicSize = 8;
constexpr char kKeyAad[] = "steadfast-backup key v1";

const EVP_CIPHER* EvpCipher(Cipher c) {
  return c == Cipher::kAes256Gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

std::string Base64(std::span<const uint8_t> in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), in.data(), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<Bytes> Unbase64(const std::string& in) {
  if (in.size() % 4 != 0) return std::nullopt;
  Bytes out(in.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  if (!in.empty() && in.back() == '=') --len;
  if (in.size() > 1 && in[in.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

}  // namespace

void FillRandom(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

std::string Hex(std::span<const uint8_t> bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

StatusOr<BlobId> ParseId(std::string_view hex) {
  BlobId id{};
  if (hex.size() != 64) return InvalidArgumentError("expected 64 hex digits, got '" + std::string(hex) + "'");
  for (size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char c = hex[2 * i + j];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return InvalidArgumentError("expected 64 lowercase hex digits, got '" + std::string(hex) + "'");
      v = v * 16 + d;
    }
    id[i] = static_cast<uint8_t>(v);
  }
  return id;
}

BlobId Sha256(std::span<const uint8_t> data) {
  BlobId out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

std::string_view CipherName(Cipher c) { return c == Cipher::kAes256Gcm ? "aes-256-gcm" : "chacha20-poly1305"; }

StatusOr<Cipher> ParseCipher(std::string_view name) {
  if (name == "aes-256-gcm") return Cipher::kAes256Gcm;
  if (name == "chacha20-poly1305") return Cipher::kChaCha20Poly1305;
  return InvalidArgumentError("unknown cipher '" + std::string(name) + "': expected aes-256-gcm or chacha20-poly1305");
}

MasterKey MasterKey::Generate(Cipher cipher) {
  MasterKey k;
  FillRandom(k.enc);
  FillRandom(k.id);
  FillRandom(k.chunker);
  k.cipher = cipher;
  return k;
}

Bytes MasterKey::Serialize() const {
  Bytes out;
  out.reserve(96);
  out.insert(out.end(), enc.begin(), enc.end());
  out.insert(out.end(), id.begin(), id.end());
  out.insert(out.end(), chunker.begin(), chunker.end());
  return out;
}

StatusOr<MasterKey> MasterKey::Parse(std::span<const uint8_t> bytes, Cipher cipher) {
  if (bytes.size() != 96) return DataLossError("master key: expected 96 bytes, got " + std::to_string(bytes.size()));
  MasterKey k;
  std::memcpy(k.enc.data(), bytes.data(), 32);
  std::memcpy(k.id.data(), bytes.data() + 32, 32);
  std::memcpy(k.chunker.data(), bytes.data() + 64, 32);
  k.cipher = cipher;
  return k;
}

BlobHasher::BlobHasher(const Key32& id_key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (ctx == nullptr || EVP_MAC_init(ctx, id_key.data(), id_key.size(), params) != 1) std::abort();
  ctx_ = ctx;
}

BlobHasher::~BlobHasher() { EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(ctx_)); }

BlobId BlobHasher::Id(std::span<const uint8_t> data) const {
  EVP_MAC_CTX* c = EVP_MAC_CTX_dup(static_cast<EVP_MAC_CTX*>(ctx_));
  BlobId out{};
  size_t len = 0;
  if (c == nullptr || EVP_MAC_update(c, data.data(), data.size()) != 1 || EVP_MAC_final(c, out.data(), &len, out.size()) != 1) {
    std::abort();
  }
  EVP_MAC_CTX_free(c);
  return out;
}

StreamHasher::StreamHasher(const Key32& id_key) {
  BlobHasher keyed(id_key);
  ctx_ = EVP_MAC_CTX_dup(static_cast<EVP_MAC_CTX*>(keyed.ctx_));
  if (ctx_ == nullptr) std::abort();
}

StreamHasher::~StreamHasher() { EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(ctx_)); }

void StreamHasher::Update(std::span<const uint8_t> data) {
  if (EVP_MAC_update(static_cast<EVP_MAC_CTX*>(ctx_), data.data(), data.size()) != 1) std::abort();
}

BlobId StreamHasher::Final() {
  BlobId out{};
  size_t len = 0;
  if (EVP_MAC_final(static_cast<EVP_MAC_CTX*>(ctx_), out.data(), &len, out.size()) != 1) std::abort();
  return out;
}

Key32 DeriveSubkey(const Key32& enc_key, std::span<const uint8_t, kSaltSize> salt, std::string_view kind) {
  std::string info = "steadfast-backup v1 " + std::string(kind);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(enc_key.data()), enc_key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  Key32 out{};
  if (ctx == nullptr || EVP_KDF_derive(ctx, out.data(), out.size(), params) != 1) std::abort();
  EVP_KDF_CTX_free(ctx);
  return out;
}

std::array<uint8_t, 12> CounterNonce(uint64_t n) {
  std::array<uint8_t, 12> nonce{};
  for (size_t i = 0; i < 8; ++i) nonce[i] = static_cast<uint8_t>(n >> (8 * i));
  return nonce;
}

void SealInPlace(Cipher cipher, const Key32& key, const std::array<uint8_t, 12>& nonce, std::span<const uint8_t> aad,
                 uint8_t* data, size_t n) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EvpCipher(cipher), nullptr, key.data(), nonce.data()) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), data, &len, data, static_cast<int>(n)) != 1) {
    std::abort();
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), data + total, &len) != 1) std::abort();
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, data + total) != 1) std::abort();
}

Bytes Seal(Cipher cipher, const Key32& key, const std::array<uint8_t, 12>& nonce, std::span<const uint8_t> aad,
           std::span<const uint8_t> plaintext) {
  Bytes out(plaintext.size() + kTagSize);
  if (!plaintext.empty()) std::memcpy(out.data(), plaintext.data(), plaintext.size());
  SealInPlace(cipher, key, nonce, aad, out.data(), plaintext.size());
  return out;
}

Status OpenInPlace(Cipher cipher, const Key32& key, const std::array<uint8_t, 12>& nonce, std::span<const uint8_t> aad,
                   uint8_t* data, size_t sealed_length, std::string_view what) {
  if (sealed_length < kTagSize) return DataLossError(std::string(what) + ": too short to hold an authentication tag");
  const size_t n = sealed_length - kTagSize;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EvpCipher(cipher), nullptr, key.data(), nonce.data()) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), data, &len, data, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, data + n) != 1) {
    return DataLossError(std::string(what) + ": cannot be decrypted");
  }
  int final_len = 0;
  uint8_t unused[16];
  if (EVP_DecryptFinal_ex(ctx.get(), unused, &final_len) != 1) {
    return DataLossError(std::string(what) + ": authentication failed (damaged, or not written with this key)");
  }
  return OkStatus();
}

StatusOr<Bytes> Open(Cipher cipher, const Key32& key, const std::array<uint8_t, 12>& nonce,
                     std::span<const uint8_t> aad, std::span<const uint8_t> sealed, std::string_view what) {
  if (sealed.size() < kTagSize) return DataLossError(std::string(what) + ": too short to hold an authentication tag");
  Bytes out(sealed.begin(), sealed.end());
  SF_RETURN_IF_ERROR(OpenInPlace(cipher, key, nonce, aad, out.data(), out.size(), what));
  out.resize(out.size() - kTagSize);
  return out;
}

std::string_view EnvelopeKindName(EnvelopeKind k) {
  switch (k) {
    case EnvelopeKind::kConfig: return "config";
    case EnvelopeKind::kIndex: return "index";
    case EnvelopeKind::kSnapshot: return "snapshot";
    case EnvelopeKind::kEvidence: return "evidence";
    case EnvelopeKind::kLock: return "lock";
  }
  return "?";
}

Bytes SealEnvelope(const MasterKey& key, EnvelopeKind kind, std::span<const uint8_t> plaintext) {
  Bytes out(kMagicSize + 1 + kSaltSize);
  std::memcpy(out.data(), kEnvelopeMagic, kMagicSize);
  out[kMagicSize] = static_cast<uint8_t>(kind);
  std::span<uint8_t, kSaltSize> salt(out.data() + kMagicSize + 1, kSaltSize);
  FillRandom(salt);
  const Key32 subkey = DeriveSubkey(key.enc, salt, EnvelopeKindName(kind));
  const Bytes body = Seal(key.cipher, subkey, CounterNonce(0), std::span<const uint8_t>(out.data(), kMagicSize + 1), plaintext);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

StatusOr<Bytes> OpenEnvelope(const MasterKey& key, EnvelopeKind kind, std::span<const uint8_t> file,
                             std::string_view what) {
  if (file.size() < kMagicSize + 1 + kSaltSize + kTagSize || std::memcmp(file.data(), kEnvelopeMagic, kMagicSize) != 0) {
    return DataLossError(std::string(what) + ": not a steadfast-backup file (bad magic or too short)");
  }
  if (file[kMagicSize] != static_cast<uint8_t>(kind)) {
    return DataLossError(std::string(what) + ": holds a file of kind " + std::to_string(file[kMagicSize]) + ", expected " +
                         std::string(EnvelopeKindName(kind)));
  }
  std::span<const uint8_t, kSaltSize> salt(file.data() + kMagicSize + 1, kSaltSize);
  const Key32 subkey = DeriveSubkey(key.enc, salt, EnvelopeKindName(kind));
  return Open(key.cipher, subkey, CounterNonce(0), file.subspan(0, kMagicSize + 1),
              file.subspan(kMagicSize + 1 + kSaltSize), what);
}

namespace {

StatusOr<Key32> Kek(std::string_view password, std::span<const uint8_t> salt, const KdfParams& kdf) {
  Key32 out{};
  const int rc = argon2id_hash_raw(kdf.t, kdf.m_kib, kdf.p, password.data(), password.size(), salt.data(), salt.size(),
                                   out.data(), out.size());
  if (rc != ARGON2_OK) return InvalidArgumentError(std::string("argon2id: ") + argon2_error_message(rc));
  return out;
}

}  // namespace

StatusOr<std::string> WrapMasterKey(const MasterKey& key, std::string_view password, const KdfParams& kdf,
                                    const KeyFileInfo& info) {
  if (password.empty()) return InvalidArgumentError("the password is empty");
  if (!kdf.allow_weak && (kdf.m_kib < 65536 || kdf.t < 3)) {
    return InvalidArgumentError("argon2id parameters below FORMAT.md's minimum (64 MiB, 3 passes)");
  }
  if (kdf.m_kib > (1u << 20) || kdf.t > 20 || kdf.p < 1 || kdf.p > 16) {
    return InvalidArgumentError("argon2id parameters above what readers accept (1 GiB, 20 passes, 16 lanes)");
  }
  std::array<uint8_t, 16> salt{};
  FillRandom(salt);
  std::array<uint8_t, 12> nonce{};
  FillRandom(nonce);
  SF_ASSIGN_OR_RETURN(Key32 kek, Kek(password, salt, kdf));
  const Bytes master = key.Serialize();
  const std::string_view aad(kKeyAad);
  const Bytes wrapped = Seal(key.cipher, kek, nonce, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(aad.data()), aad.size()), master);
  json j = {{"version", 1},
            {"created", info.created},
            {"host", info.host},
            {"username", info.username},
            {"kdf", "argon2id"},
            {"m_kib", kdf.m_kib},
            {"t", kdf.t},
            {"p", kdf.p},
            {"salt", Base64(salt)},
            {"cipher", CipherName(key.cipher)},
            {"nonce", Base64(nonce)},
            {"wrapped", Base64(wrapped)}};
  return j.dump(1);
}

StatusOr<MasterKey> UnwrapMasterKey(std::string_view key_file_json, std::string_view password, std::string_view what) {
  const std::string w(what);
  json j = json::parse(key_file_json, nullptr, false);
  if (!j.is_object()) return DataLossError(w + ": not a JSON object");
  auto text = [&](const char* field) -> StatusOr<std::string> {
    if (!j.contains(field) || !j[field].is_string()) return DataLossError(w + ": missing or bad '" + field + "'");
    return j[field].get<std::string>();
  };
  auto number = [&](const char* field, uint32_t lo, uint32_t hi) -> StatusOr<uint32_t> {
    if (!j.contains(field) || !j[field].is_number_unsigned() || j[field].get<uint64_t>() < lo || j[field].get<uint64_t>() > hi) {
      return DataLossError(w + ": missing or out-of-range '" + field + "'");
    }
    return static_cast<uint32_t>(j[field].get<uint64_t>());
  };
  SF_ASSIGN_OR_RETURN(uint32_t version, number("version", 1, 1'000'000));
  if (version != 1) return FailedPreconditionError(w + ": key file version " + std::to_string(version) + " is newer than this program knows");
  SF_ASSIGN_OR_RETURN(std::string kdf_name, text("kdf"));
  if (kdf_name != "argon2id") return DataLossError(w + ": unknown kdf '" + kdf_name + "'");
  KdfParams kdf;
  SF_ASSIGN_OR_RETURN(kdf.m_kib, number("m_kib", 8, 1u << 20));
  SF_ASSIGN_OR_RETURN(kdf.t, number("t", 1, 20));
  SF_ASSIGN_OR_RETURN(kdf.p, number("p", 1, 16));
  SF_ASSIGN_OR_RETURN(std::string cipher_name, text("cipher"));
  StatusOr<Cipher> cipher = ParseCipher(cipher_name);
  if (!cipher.ok()) return DataLossError(w + ": " + cipher.status().message());
  std::optional<Bytes> salt, nonce, wrapped;
  for (auto [field, out] : {std::pair{"salt", &salt}, std::pair{"nonce", &nonce}, std::pair{"wrapped", &wrapped}}) {
    SF_ASSIGN_OR_RETURN(std::string b64, text(field));
    *out = Unbase64(b64);
    if (!*out) return DataLossError(w + ": '" + field + "' is not base64");
  }
  if (salt->size() < 16 || nonce->size() != 12) return DataLossError(w + ": bad salt or nonce length");
  SF_ASSIGN_OR_RETURN(Key32 kek, Kek(password, *salt, kdf));
  std::array<uint8_t, 12> n{};
  std::memcpy(n.data(), nonce->data(), 12);
  const std::string_view aad(kKeyAad);
  StatusOr<Bytes> master = Open(*cipher, kek, n, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(aad.data()), aad.size()),
                                *wrapped, what);
  if (!master.ok()) return UnauthenticatedError(w + ": wrong password (or a damaged key file)");
  return MasterKey::Parse(*master, *cipher);
}

}  // namespace steadfast::backup
