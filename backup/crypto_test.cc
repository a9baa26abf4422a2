// The repository's cryptography: keyed ids, subkeys and the gear table against values computed
// independently (Python's hmac and hashlib, FORMAT.md's definitions), AEAD and envelopes that
// refuse every flipped bit, and key files that tell a wrong password from a damaged file.
#include "backup/crypto.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "backup/chunker.h"

namespace steadfast::backup {
namespace {

std::span<const uint8_t> AsBytes(std::string_view s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Expected values from Python 3: hmac.new(key, msg, hashlib.sha256), and HKDF (RFC 5869) built
// from it: prk = HMAC(salt, ikm); okm = HMAC(prk, info || 0x01).
TEST(BackupCryptoTest, KeyedIdsSubkeysAndTheGearTableMatchAnIndependentComputation) {
  Key32 id_key{};
  for (size_t i = 0; i < 32; ++i) id_key[i] = static_cast<uint8_t>(i);
  BlobHasher hasher(id_key);
  EXPECT_EQ(Hex(hasher.Id(AsBytes("steadfast chunk"))), "b1e29e15643257c75758eaf09a45e3cc52affe70e9d423cb68b10c094ad1dec9");
  EXPECT_EQ(hasher.Id(AsBytes("a")), hasher.Id(AsBytes("a"))) << "the keyed context is reusable";

  Key32 enc{};
  enc.fill(0xA5);
  std::array<uint8_t, kSaltSize> salt{};
  for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(100 + i);
  EXPECT_EQ(Hex(DeriveSubkey(enc, salt, "pack")), "aebad2e2d603b7e7e43a73a57401156f6a3a82c8c9edcf4b39aee1f2fb9b8dc3");

  Key32 chunker_key{};
  chunker_key.fill(7);
  const GearTable gear = MakeGearTable(chunker_key);
  EXPECT_EQ(gear[0], 8723979527836711338ULL);
  EXPECT_EQ(gear[255], 6272088810352551142ULL);
}

TEST(BackupCryptoTest, IdsPrintAndParseAsHex) {
  const BlobId id = Sha256(AsBytes("abc"));
  EXPECT_EQ(Hex(id), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  auto parsed = ParseId(Hex(id));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, id);
  EXPECT_FALSE(ParseId("xyz").ok());
  EXPECT_FALSE(ParseId(std::string(64, 'G')).ok());
}

TEST(BackupCryptoTest, AeadRefusesAnyChangeWithBothCiphers) {
  for (Cipher c : {Cipher::kAes256Gcm, Cipher::kChaCha20Poly1305}) {
    Key32 key{};
    key.fill(3);
    const auto nonce = CounterNonce(41);
    const Bytes sealed = Seal(c, key, nonce, AsBytes("aad"), AsBytes("the plaintext"));
    ASSERT_EQ(sealed.size(), 13 + kTagSize);
    auto opened = Open(c, key, nonce, AsBytes("aad"), sealed, "blob");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(std::string(opened->begin(), opened->end()), "the plaintext");
    for (size_t i = 0; i < sealed.size(); ++i) {
      Bytes bad = sealed;
      bad[i] ^= 0x01;
      auto r = Open(c, key, nonce, AsBytes("aad"), bad, "blob 7");
      ASSERT_FALSE(r.ok()) << CipherName(c) << " byte " << i;
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
      EXPECT_NE(r.status().message().find("blob 7"), std::string::npos);
    }
    EXPECT_FALSE(Open(c, key, nonce, AsBytes("aae"), sealed, "blob").ok()) << "another aad";
    EXPECT_FALSE(Open(c, key, CounterNonce(42), AsBytes("aad"), sealed, "blob").ok()) << "another nonce";
    key[0] ^= 1;
    EXPECT_FALSE(Open(c, key, nonce, AsBytes("aad"), sealed, "blob").ok()) << "another key";
  }
}

TEST(BackupCryptoTest, EnvelopesAreFreshlySaltedAndRefuseAnotherKindAKeyOrABitFlip) {
  const MasterKey key = MasterKey::Generate(Cipher::kAes256Gcm);
  const Bytes a = SealEnvelope(key, EnvelopeKind::kSnapshot, AsBytes("snapshot document"));
  const Bytes b = SealEnvelope(key, EnvelopeKind::kSnapshot, AsBytes("snapshot document"));
  EXPECT_NE(a, b) << "a new salt, so a new subkey, every time";
  EXPECT_EQ(std::string(a.begin(), a.begin() + 8), "SFBKENV1");
  auto opened = OpenEnvelope(key, EnvelopeKind::kSnapshot, a, "snapshots/ab12");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "snapshot document");

  auto wrong_kind = OpenEnvelope(key, EnvelopeKind::kIndex, a, "index/ab12");
  EXPECT_EQ(wrong_kind.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(wrong_kind.status().message().find("expected index"), std::string::npos) << wrong_kind.status().ToString();
  EXPECT_FALSE(OpenEnvelope(MasterKey::Generate(Cipher::kAes256Gcm), EnvelopeKind::kSnapshot, a, "s").ok());
  for (size_t i = 0; i < a.size(); ++i) {
    Bytes bad = a;
    bad[i] ^= 0x80;
    EXPECT_FALSE(OpenEnvelope(key, EnvelopeKind::kSnapshot, bad, "s").ok()) << "byte " << i;
  }
  EXPECT_FALSE(OpenEnvelope(key, EnvelopeKind::kSnapshot, std::span<const uint8_t>(a.data(), 20), "s").ok());
}

TEST(BackupCryptoTest, KeyFilesOpenWithTheirPasswordAndTellAWrongOneFromDamage) {
  const MasterKey key = MasterKey::Generate(Cipher::kChaCha20Poly1305);
  const KdfParams fast{64, 1, 1, true};  // the test's; the default is 64 MiB, 3 passes
  auto file = WrapMasterKey(key, "correct horse", fast, {"2026-11-29T10:00:00Z", "nas1", "backup"});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto opened = UnwrapMasterKey(*file, "correct horse", "keys/1");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->Serialize(), key.Serialize());
  EXPECT_EQ(opened->cipher, Cipher::kChaCha20Poly1305);

  auto wrong = UnwrapMasterKey(*file, "wrong horse", "keys/1");
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(wrong.status().message().find("wrong password"), std::string::npos);

  nlohmann::json j = nlohmann::json::parse(*file);
  j.erase("salt");
  auto damaged = UnwrapMasterKey(j.dump(), "correct horse", "keys/1");
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("'salt'"), std::string::npos) << damaged.status().ToString();
  j = nlohmann::json::parse(*file);
  j["kdf"] = "md5";
  EXPECT_EQ(UnwrapMasterKey(j.dump(), "correct horse", "keys/1").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(UnwrapMasterKey("not json", "correct horse", "keys/1").status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(WrapMasterKey(key, "", fast, {}).ok());
  // Weak parameters only when asked for (tests); too costly ones never.
  auto weak = WrapMasterKey(key, "pw", {64, 1, 1}, {});
  EXPECT_EQ(weak.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(weak.status().message().find("minimum"), std::string::npos);
  EXPECT_FALSE(WrapMasterKey(key, "pw", {4u << 20, 3, 1}, {}).ok());
  j = nlohmann::json::parse(*file);
  j["m_kib"] = 4u << 20;
  EXPECT_EQ(UnwrapMasterKey(j.dump(), "correct horse", "keys/1").status().code(), StatusCode::kDataLoss)
      << "a planted key file cannot ask for 4 GiB";
}

}  // namespace
}  // namespace steadfast::backup
