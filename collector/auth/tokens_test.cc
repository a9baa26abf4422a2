#include "collector/auth/tokens.h"

#include <gtest/gtest.h>

#include <set>

#include "collector/auth/fake_secure_random.h"

namespace steadfast::collector::auth {
namespace {

TEST(TokensTest, NewTokensCarryTheirKindAnd256RandomBits) {
  OpenSslRandom random;
  std::set<std::string> seen;
  for (TokenKind kind : {TokenKind::kSession, TokenKind::kApi}) {
    for (int i = 0; i < 50; ++i) {
      std::string token = NewToken(kind, random);
      EXPECT_EQ(token.size(), 4u + 43u);
      EXPECT_EQ(token.substr(0, 4), kind == TokenKind::kSession ? "sfs_" : "sfa_");
      EXPECT_EQ(TokenKindOf(token), kind);
      EXPECT_TRUE(seen.insert(token).second) << "duplicate token";
    }
  }
}

TEST(TokensTest, KindOfRefusesMalformedTokens) {
  testing::FakeSecureRandom random;
  const std::string body = NewToken(TokenKind::kApi, random).substr(4);
  EXPECT_EQ(TokenKindOf("sfa_" + body), TokenKind::kApi);
  EXPECT_EQ(TokenKindOf("sfs_" + body), TokenKind::kSession);
  EXPECT_EQ(TokenKindOf("sfx_" + body), std::nullopt);
  EXPECT_EQ(TokenKindOf("SFA_" + body), std::nullopt);
  EXPECT_EQ(TokenKindOf(body), std::nullopt);
  EXPECT_EQ(TokenKindOf("sfa_" + body.substr(1)), std::nullopt);
  EXPECT_EQ(TokenKindOf("sfa_" + body + "A"), std::nullopt);
  EXPECT_EQ(TokenKindOf("sfa_" + body.substr(1) + "+"), std::nullopt);
  EXPECT_EQ(TokenKindOf("sfa_" + body.substr(1) + "="), std::nullopt);
  EXPECT_EQ(TokenKindOf("sfa_"), std::nullopt);
  EXPECT_EQ(TokenKindOf(""), std::nullopt);
}

TEST(TokensTest, ASessionTokenIsNotAnApiToken) {
  // Scope by prefix: the API layer accepts only kApi from a bearer header and only kSession
  // from the cookie, so a stolen cookie cannot be replayed as an API token or vice versa.
  testing::FakeSecureRandom random;
  std::string session = NewToken(TokenKind::kSession, random);
  auto presented = BearerToken("Bearer " + session);
  ASSERT_TRUE(presented.has_value());
  EXPECT_NE(TokenKindOf(*presented), TokenKind::kApi);
  EXPECT_NE(HashToken(session), HashToken("sfa_" + session.substr(4)));
}

TEST(TokensTest, HashIsSha256HexOfTheWholeToken) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  testing::FakeSecureRandom random;
  std::string token = NewToken(TokenKind::kApi, random);
  EXPECT_EQ(HashToken(token).size(), 64u);
  EXPECT_EQ(HashToken(token), HashToken(std::string(token)));
  EXPECT_NE(HashToken(token), HashToken(token.substr(4)));
}

TEST(TokensTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("same-value", "same-value"));
  EXPECT_FALSE(ConstantTimeEquals("same-value", "Same-value"));
  EXPECT_FALSE(ConstantTimeEquals("same-value", "same-valuE"));
  EXPECT_FALSE(ConstantTimeEquals("same-value", "same-valu"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(TokensTest, BearerTokenFromAuthorizationHeader) {
  EXPECT_EQ(BearerToken("Bearer sfa_abc"), "sfa_abc");
  EXPECT_EQ(BearerToken("bearer sfa_abc"), "sfa_abc");
  EXPECT_EQ(BearerToken("BEARER   sfa_abc  "), "sfa_abc");
  EXPECT_EQ(BearerToken("  Bearer\tsfa_abc"), "sfa_abc");
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer   "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearersfa_abc"), std::nullopt);
  EXPECT_EQ(BearerToken(""), std::nullopt);
}

TEST(CsrfTest, TokensAreRandomAndVerifiedExactly) {
  OpenSslRandom random;
  std::string a = NewCsrfToken(random);
  std::string b = NewCsrfToken(random);
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_TRUE(VerifyCsrfToken(a, a));
  EXPECT_FALSE(VerifyCsrfToken(b, a));
  EXPECT_FALSE(VerifyCsrfToken(a.substr(0, 42), a));
  EXPECT_FALSE(VerifyCsrfToken(a + "x", a));
  EXPECT_FALSE(VerifyCsrfToken("", a));
  EXPECT_FALSE(VerifyCsrfToken("", ""));  // a session without a CSRF token never verifies
  EXPECT_FALSE(VerifyCsrfToken(a, ""));
}

}  // namespace
}  // namespace steadfast::collector::auth
