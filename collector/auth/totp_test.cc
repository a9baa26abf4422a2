#include "collector/auth/totp.h"

#include <gtest/gtest.h>

#include "collector/auth/encoding.h"
#include "collector/auth/fake_secure_random.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::auth {
namespace {

using std::chrono::seconds;

// RFC 4226 Appendix D and RFC 6238 Appendix B use this ASCII key for HMAC-SHA1.
const std::string kRfcKey = "12345678901234567890";

TEST(TotpTest, Rfc4226HotpVectors) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t counter = 0; counter < 10; ++counter) {
    EXPECT_EQ(HotpCode(kRfcKey, counter, 6), expected[counter]) << counter;
  }
}

TEST(TotpTest, Rfc6238AppendixBSha1Vectors) {
  struct Vector {
    int64_t unix_seconds;
    const char* totp8;
  };
  const Vector vectors[] = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
  };
  for (const Vector& v : vectors) {
    const int64_t ms = v.unix_seconds * 1000;
    EXPECT_EQ(TotpCode(kRfcKey, ms, 8), v.totp8) << v.unix_seconds;
    // 6 digits: the same truncated value mod 10^6, i.e. the last six digits.
    EXPECT_EQ(TotpCode(kRfcKey, ms), std::string(v.totp8).substr(2)) << v.unix_seconds;
  }
}

TEST(TotpTest, StepsAreThirtySecondsFromTheEpoch) {
  EXPECT_EQ(TotpStep(0), 0);
  EXPECT_EQ(TotpStep(29'999), 0);
  EXPECT_EQ(TotpStep(30'000), 1);
  EXPECT_EQ(TotpStep(59'000), 1);
  EXPECT_EQ(TotpStep(1111111109'000), 37037036);  // RFC 6238 Appendix B: 0x00000000023523EC
  EXPECT_EQ(TotpStep(20000000000'000), 666666666);
  EXPECT_EQ(TotpStep(-1), -1);
}

class VerifyTotpTest : public ::testing::Test {
 protected:
  std::string Code(int64_t unix_ms) const { return TotpCode(*Base32Decode(secret_), unix_ms); }
  int64_t Now() const { return clock_.NowMillis(); }

  steadfast::testing::FakeClock clock_{1'790'000'010'000};  // 10 s into a step
  testing::FakeSecureRandom random_{5};
  std::string secret_ = GenerateTotpSecret(random_);
};

TEST_F(VerifyTotpTest, AcceptsTheCurrentCodeAndReturnsItsStep) {
  auto step = VerifyTotp(secret_, Code(Now()), Now());
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_EQ(*step, TotpStep(Now()));
}

TEST_F(VerifyTotpTest, WindowAllowsClockSkewOfWholeSteps) {
  const int64_t now_step = TotpStep(Now());
  EXPECT_EQ(VerifyTotp(secret_, Code(Now() - 30'000), Now()).value(), now_step - 1);
  EXPECT_EQ(VerifyTotp(secret_, Code(Now() + 30'000), Now()).value(), now_step + 1);
  auto too_old = VerifyTotp(secret_, Code(Now() - 60'000), Now());
  EXPECT_EQ(too_old.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(too_old.status().message(), "totp code does not match");
  EXPECT_EQ(VerifyTotp(secret_, Code(Now() - 60'000), Now(), /*window=*/2).value(), now_step - 2);
  EXPECT_EQ(VerifyTotp(secret_, Code(Now() - 30'000), Now(), /*window=*/0).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(VerifyTotpTest, RefusesReplayOfAUsedStep) {
  const std::string code = Code(Now());
  int64_t used = VerifyTotp(secret_, code, Now()).value();

  // The same code again, at once or 20 s later (still inside the window).
  for (int i = 0; i < 2; ++i) {
    auto again = VerifyTotp(secret_, code, Now(), 1, used);
    EXPECT_EQ(again.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(again.status().message(), "totp code already used");
    clock_.Advance(seconds(20));
  }
  // The next step's code is fine and moves the mark on.
  int64_t next = VerifyTotp(secret_, Code(Now()), Now(), 1, used).value();
  EXPECT_EQ(next, used + 1);
  // An unused earlier step's code is refused once a later one was used.
  EXPECT_EQ(VerifyTotp(secret_, Code(Now() - 30'000), Now(), 1, next).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(VerifyTotpTest, InputErrors) {
  const std::string code = Code(Now());
  EXPECT_TRUE(VerifyTotp(secret_, code.substr(0, 3) + " " + code.substr(3), Now()).ok());
  for (const std::string& bad : {std::string("12345"), std::string("1234567"), std::string("12345a"),
                                 std::string(""), std::string("١٢٣٤٥٦")}) {
    EXPECT_EQ(VerifyTotp(secret_, bad, Now()).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(VerifyTotp(secret_, code, Now(), kTotpMaxWindow + 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyTotp(secret_, code, Now(), -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyTotp("not base32!", code, Now()).status().code(), StatusCode::kDataLoss);
  // 10 bytes (80 bits): below RFC 4226's 128-bit minimum.
  EXPECT_EQ(VerifyTotp(Base32Encode("0123456789"), code, Now()).status().code(), StatusCode::kDataLoss);
  // Lower case and padding are accepted in the stored secret.
  std::string lower;
  for (char c : secret_) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  EXPECT_TRUE(VerifyTotp(lower, code, Now()).ok());
}

TEST(TotpSecretTest, IsTwentyRandomBytesInUnpaddedBase32) {
  OpenSslRandom random;
  std::string a = GenerateTotpSecret(random);
  std::string b = GenerateTotpSecret(random);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(Base32Decode(a)->size(), 20u);
  EXPECT_EQ(Base32Encode(*Base32Decode(a), /*pad=*/false), a);
}

TEST(OtpauthUriTest, PercentEncodesIssuerAndAccount) {
  EXPECT_EQ(OtpauthUri("Steadfast", "zhangsan", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Steadfast:zhangsan?secret=JBSWY3DPEHPK3PXP&issuer=Steadfast&algorithm=SHA1&digits=6&"
            "period=30");
  EXPECT_EQ(OtpauthUri("Mine Ops & IT", "li.si@example.cn", "MZXW6YQ="),
            "otpauth://totp/Mine%20Ops%20%26%20IT:li.si%40example.cn?secret=MZXW6YQ&issuer=Mine%20Ops%20%26%20IT&"
            "algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(OtpauthUri("矿", "a:b/c?d", "AAAA"),
            "otpauth://totp/%E7%9F%BF:a%3Ab%2Fc%3Fd?secret=AAAA&issuer=%E7%9F%BF&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace steadfast::collector::auth
