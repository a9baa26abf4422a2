#include "collector/auth/password_hasher.h"

#include <argon2.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "collector/auth/encoding.h"
#include "collector/auth/fake_secure_random.h"

namespace steadfast::collector::auth {
namespace {

// Small parameters keep the suite fast, also under ASan; the published vector below covers the
// real costs.
Argon2Options Fast() {
  Argon2Options o;
  o.memory_kib = 64;
  o.iterations = 1;
  o.parallelism = 1;
  return o;
}

class PasswordHasherTest : public ::testing::Test {
 protected:
  testing::FakeSecureRandom random_{42};
  PasswordHasher hasher_{Fast(), random_};
};

TEST(Argon2OptionsTest, DefaultsAreRfc9106SecondRecommendation) {
  Argon2Options o;
  EXPECT_EQ(o.memory_kib, 65536u);
  EXPECT_EQ(o.iterations, 3u);
  EXPECT_EQ(o.parallelism, 4u);
  EXPECT_EQ(o.salt_bytes, 16u);
  EXPECT_EQ(o.hash_bytes, 32u);
  EXPECT_TRUE(ValidateArgon2Options(o).ok());
}

TEST(Argon2OptionsTest, ValidationNamesTheField) {
  auto with = [](auto change) {
    Argon2Options o = Fast();
    change(o);
    return ValidateArgon2Options(o);
  };
  EXPECT_NE(with([](Argon2Options& o) { o.parallelism = 0; }).message().find("parallelism"), std::string::npos);
  EXPECT_NE(with([](Argon2Options& o) { o.parallelism = 65; }).message().find("parallelism"), std::string::npos);
  EXPECT_NE(with([](Argon2Options& o) { o.memory_kib = 7; }).message().find("memory"), std::string::npos);
  EXPECT_NE(with([](Argon2Options& o) { o.parallelism = 4; o.memory_kib = 31; }).message().find("memory"),
            std::string::npos);
  EXPECT_TRUE(with([](Argon2Options& o) { o.parallelism = 4; o.memory_kib = 32; }).ok());
  EXPECT_NE(with([](Argon2Options& o) { o.iterations = 0; }).message().find("iterations"), std::string::npos);
  EXPECT_NE(with([](Argon2Options& o) { o.salt_bytes = 7; }).message().find("salt"), std::string::npos);
  EXPECT_NE(with([](Argon2Options& o) { o.hash_bytes = 15; }).message().find("hash"), std::string::npos);
  EXPECT_NE(with([](Argon2Options& o) { o.max_concurrent = 0; }).message().find("max_concurrent"),
            std::string::npos);
}

TEST_F(PasswordHasherTest, HashHasPhcFormatAndVerifies) {
  auto h = hasher_.Hash("correct horse battery staple");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << *h;
  auto parsed = ParseArgon2Encoded(*h);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->salt.size(), 16u);
  EXPECT_EQ(parsed->hash.size(), 32u);
  EXPECT_EQ(FormatArgon2Encoded(*parsed), *h);

  EXPECT_EQ(hasher_.Verify("correct horse battery staple", *h).value(), true);
  EXPECT_EQ(hasher_.Verify("correct horse battery stapler", *h).value(), false);
  EXPECT_EQ(hasher_.Verify("", *h).value(), false);
  EXPECT_EQ(hasher_.Verify("Correct horse battery staple", *h).value(), false);
}

TEST_F(PasswordHasherTest, SaltsDifferSoHashesDiffer) {
  auto a = hasher_.Hash("same");
  auto b = hasher_.Hash("same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(hasher_.Verify("same", *a).value());
  EXPECT_TRUE(hasher_.Verify("same", *b).value());
}

TEST_F(PasswordHasherTest, EmptyPasswordAndEmbeddedNulBytes) {
  auto empty = hasher_.Hash("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(hasher_.Verify("", *empty).value());
  EXPECT_FALSE(hasher_.Verify(std::string(1, '\0'), *empty).value());

  const std::string with_nul("ab\0cd", 5);
  auto h = hasher_.Hash(with_nul);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(hasher_.Verify(with_nul, *h).value());
  EXPECT_FALSE(hasher_.Verify("ab", *h).value());
}

TEST_F(PasswordHasherTest, InteroperatesWithLibargon2EncodedFunctions) {
  // Ours verified by libargon2's own decoder...
  auto ours = hasher_.Hash("interop");
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(argon2id_verify(ours->c_str(), "interop", 7), ARGON2_OK);
  EXPECT_NE(argon2id_verify(ours->c_str(), "interoq", 7), ARGON2_OK);

  // ...and libargon2's encoder read by ours.
  char encoded[256];
  const char salt[] = "0123456789abcdef";
  ASSERT_EQ(argon2id_hash_encoded(2, 128, 2, "theirs", 6, salt, 16, 32, encoded, sizeof encoded), ARGON2_OK);
  EXPECT_TRUE(hasher_.Verify("theirs", encoded).value());
  EXPECT_FALSE(hasher_.Verify("theirs!", encoded).value());
}

TEST_F(PasswordHasherTest, VerifiesThePublishedReferenceVector) {
  // phc-winner-argon2 src/test.c, Argon2id v=19: t=2, m=2^16, p=1, "password", "somesalt".
  const char* kVector = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
  EXPECT_TRUE(hasher_.Verify("password", kVector).value());
  EXPECT_FALSE(hasher_.Verify("passwore", kVector).value());
  // The 8-byte salt is below our 16 for new hashes: re-hash at next login.
  EXPECT_TRUE(hasher_.NeedsRehash(kVector).value());
}

TEST_F(PasswordHasherTest, RejectsMalformedEncodedStrings) {
  auto good = hasher_.Hash("x");
  ASSERT_TRUE(good.ok());
  auto parsed = ParseArgon2Encoded(*good).value();
  const std::string salt = Base64Encode(parsed.salt, Base64Alphabet::kStandard);
  const std::string hash = Base64Encode(parsed.hash, Base64Alphabet::kStandard);
  const std::vector<std::string> bad = {
      "",
      "not a hash",
      "$2b$12$abcdefghijklmnopqrstuv",                         // bcrypt
      "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + hash,       // other variant
      "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + hash,
      "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + hash,      // old version
      "$argon2id$m=64,t=1,p=1$" + salt + "$" + hash,           // no version
      "$argon2id$v=19$m=64,t=1$" + salt + "$" + hash,          // missing p
      "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + hash,      // wrong order
      "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + hash,     // leading zero
      "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + hash,
      "$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + hash,       // below 8*p KiB
      "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + hash,
      "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + hash,
      "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + hash,
      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + hash,    // padded base64
      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash + "$", // trailing field
      "$argon2id$v=19$m=64,t=1,p=1$" + salt,                    // no hash
      "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + hash,             // 4-byte salt
      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAAAAAAAAAAAAAA",  // 15-byte hash
      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash.substr(0, hash.size() - 1) + "!",
      " " + *good,
      *good + " ",
  };
  for (const std::string& encoded : bad) {
    EXPECT_EQ(hasher_.Verify("x", encoded).status().code(), StatusCode::kInvalidArgument) << encoded;
    EXPECT_EQ(hasher_.NeedsRehash(encoded).status().code(), StatusCode::kInvalidArgument) << encoded;
  }
  // The message never echoes the hash.
  auto st = hasher_.Verify("x", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash + "$").status();
  EXPECT_EQ(st.message().find(hash), std::string::npos) << st.message();
}

TEST_F(PasswordHasherTest, NeedsRehashWhenParametersChange) {
  auto h = hasher_.Hash("pw");
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(hasher_.NeedsRehash(*h).value());

  auto needs = [&](auto change) {
    Argon2Options o = Fast();
    change(o);
    PasswordHasher other(o, random_);
    return other.NeedsRehash(*h).value();
  };
  EXPECT_TRUE(needs([](Argon2Options& o) { o.memory_kib = 128; }));
  EXPECT_TRUE(needs([](Argon2Options& o) { o.iterations = 2; }));
  EXPECT_TRUE(needs([](Argon2Options& o) { o.parallelism = 2; }));
  EXPECT_TRUE(needs([](Argon2Options& o) { o.hash_bytes = 64; }));
  EXPECT_TRUE(needs([](Argon2Options& o) { o.salt_bytes = 32; }));
  EXPECT_FALSE(needs([](Argon2Options& o) { o.salt_bytes = 8; }));  // a longer salt is fine
  EXPECT_FALSE(needs([](Argon2Options& o) { o.max_concurrent = 1; }));  // not a hash parameter
  // An old hash still verifies under a hasher with new parameters.
  Argon2Options stronger = Fast();
  stronger.iterations = 2;
  PasswordHasher upgraded(stronger, random_);
  EXPECT_TRUE(upgraded.Verify("pw", *h).value());
}

TEST_F(PasswordHasherTest, ParallelCallsAreCorrectUnderTheConcurrencyLimit) {
  Argon2Options o = Fast();
  o.max_concurrent = 1;
  PasswordHasher limited(o, random_);
  auto h = limited.Hash("shared");
  ASSERT_TRUE(h.ok());
  std::atomic<int> right{0};
  std::atomic<int> wrong_rejected{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) {
        if (limited.Verify("shared", *h).value_or(false)) ++right;
        if (!limited.Verify("shared" + std::to_string(i), *h).value_or(true)) ++wrong_rejected;
        limited.DummyVerify("nobody");
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(right.load(), 40);
  EXPECT_EQ(wrong_rejected.load(), 40);
}

TEST(PasswordHasherDeathTest, InvalidOptionsAreAProgrammingError) {
  testing::FakeSecureRandom random;
  Argon2Options o = Fast();
  o.iterations = 0;
  EXPECT_DEATH(PasswordHasher(o, random), "iterations");
}

}  // namespace
}  // namespace steadfast::collector::auth
