#include "collector/auth/secure_random.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

#include "collector/auth/fake_secure_random.h"

namespace steadfast::collector::auth {
namespace {

TEST(SecureRandomTest, OpenSslBytesDiffer) {
  OpenSslRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random.Bytes(16));
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(random.Bytes(0), "");
  EXPECT_EQ(random.Bytes(33).size(), 33u);
}

TEST(SecureRandomTest, UniformStaysInRangeAndCoversIt) {
  OpenSslRandom random;
  std::array<int, 7> counts{};
  for (int i = 0; i < 7000; ++i) {
    uint64_t v = random.Uniform(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  // Expected 1000 each; 700 is more than 9 standard deviations away.
  for (int c : counts) EXPECT_GT(c, 700);
  EXPECT_EQ(random.Uniform(0), 0u);
  EXPECT_EQ(random.Uniform(1), 0u);
  EXPECT_LT(random.Uniform(UINT64_MAX), UINT64_MAX);
}

TEST(SecureRandomTest, FakeIsDeterministicPerSeed) {
  testing::FakeSecureRandom a(5), b(5), c(6);
  std::string first = a.Bytes(20);
  EXPECT_EQ(first, b.Bytes(20));
  EXPECT_NE(first, c.Bytes(20));
  EXPECT_NE(first, a.Bytes(20));  // the stream moves on
}

}  // namespace
}  // namespace steadfast::collector::auth
