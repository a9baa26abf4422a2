#include "common/random.h"

#include <gtest/gtest.h>

namespace steadfast {
namespace {

bool IsLowerHex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(RandomHexTokenTest, LengthAndAlphabet) {
  for (size_t bytes : {0, 1, 16, 32, 255, 256, 257, 600}) {
    std::string token = RandomHexToken(bytes);
    EXPECT_EQ(token.size(), 2 * bytes) << bytes;
    EXPECT_TRUE(IsLowerHex(token)) << token;
  }
}

TEST(RandomHexTokenTest, FillsEveryByte) {
  // getrandom() hands out at most 256 bytes per call; the tail past that must be random too.
  std::string token = RandomHexToken(600);
  EXPECT_NE(token.substr(2 * 512), std::string(2 * 88, '0'));
  EXPECT_NE(RandomHexToken(32), RandomHexToken(32));
}

TEST(HexEncodeTest, EveryByteValue) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xa5\xff", 4)), "000fa5ff");
}

TEST(Sha256HexTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace steadfast
