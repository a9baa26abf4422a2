#include "collector/auth/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "collector/auth/fake_secure_random.h"

namespace steadfast::collector::auth {
namespace {

// RFC 4648 §10 test vectors.
const std::vector<std::pair<std::string, std::string>> kBase32Vectors = {
    {"", ""},           {"f", "MY======"},     {"fo", "MZXQ===="},         {"foo", "MZXW6==="},
    {"foob", "MZXW6YQ="}, {"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI======"},
};
const std::vector<std::pair<std::string, std::string>> kBase64Vectors = {
    {"", ""},         {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

TEST(Base32Test, Rfc4648VectorsEncode) {
  for (const auto& [plain, encoded] : kBase32Vectors) {
    EXPECT_EQ(Base32Encode(plain), encoded) << plain;
    std::string unpadded = encoded.substr(0, encoded.find('='));
    EXPECT_EQ(Base32Encode(plain, /*pad=*/false), unpadded) << plain;
  }
}

TEST(Base32Test, DecodesPaddedUnpaddedAndLowercase) {
  for (const auto& [plain, encoded] : kBase32Vectors) {
    std::string unpadded = encoded.substr(0, encoded.find('='));
    std::string lower;
    for (char c : encoded) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (const std::string& text : {encoded, unpadded, lower}) {
      auto d = Base32Decode(text);
      ASSERT_TRUE(d.ok()) << text << ": " << d.status().ToString();
      EXPECT_EQ(*d, plain) << text;
    }
  }
}

TEST(Base32Test, RoundTripsRandomBytes) {
  testing::FakeSecureRandom random(7);
  for (size_t n = 0; n < 64; ++n) {
    std::string data = random.Bytes(n);
    for (bool pad : {true, false}) {
      auto d = Base32Decode(Base32Encode(data, pad));
      ASSERT_TRUE(d.ok()) << n;
      EXPECT_EQ(*d, data) << n;
    }
  }
}

TEST(Base32Test, RejectsBadInput) {
  for (const char* bad : {"M", "MZX", "MZXW6Y", "MY=====",  // impossible lengths / short padding
                          "MY=======",                       // too much padding
                          "MY==MY==",                        // padding inside
                          "MZXW6YT1",                        // '1' is not in the alphabet
                          "MZXW 6YTB", "=", "========"}) {
    auto d = Base32Decode(bad);
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Base64Test, Rfc4648VectorsWithoutPadding) {
  for (const auto& [plain, encoded] : kBase64Vectors) {
    EXPECT_EQ(Base64Encode(plain, Base64Alphabet::kStandard), encoded);
    auto d = Base64Decode(encoded, Base64Alphabet::kStandard);
    ASSERT_TRUE(d.ok()) << encoded;
    EXPECT_EQ(*d, plain);
  }
}

TEST(Base64Test, AlphabetsDifferInTheLastTwoCharacters) {
  const std::string data("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(data, Base64Alphabet::kStandard), "+/+/");
  EXPECT_EQ(Base64Encode(data, Base64Alphabet::kUrlSafe), "-_-_");
  EXPECT_EQ(*Base64Decode("-_-_", Base64Alphabet::kUrlSafe), data);
  EXPECT_FALSE(Base64Decode("-_-_", Base64Alphabet::kStandard).ok());
  EXPECT_FALSE(Base64Decode("+/+/", Base64Alphabet::kUrlSafe).ok());
}

TEST(Base64Test, RoundTripsRandomBytes) {
  testing::FakeSecureRandom random(9);
  for (size_t n = 0; n < 70; ++n) {
    std::string data = random.Bytes(n);
    for (auto alphabet : {Base64Alphabet::kStandard, Base64Alphabet::kUrlSafe}) {
      auto d = Base64Decode(Base64Encode(data, alphabet), alphabet);
      ASSERT_TRUE(d.ok()) << n;
      EXPECT_EQ(*d, data);
    }
  }
}

TEST(Base64Test, IsStrict) {
  for (const char* bad : {"Zg==", "Z", "Zm9vY", "Zh", "Zm9=", "Zm 9v", "Zm9v\n"}) {
    EXPECT_EQ(Base64Decode(bad, Base64Alphabet::kStandard).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace steadfast::collector::auth
