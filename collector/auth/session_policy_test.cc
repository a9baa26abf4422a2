#include "collector/auth/session_policy.h"

#include <gtest/gtest.h>

#include "collector/auth/fake_secure_random.h"
#include "collector/auth/tokens.h"
#include "common/config/config_node.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::auth {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using steadfast::testing::FakeClock;

constexpr int64_t kMin = 60'000;

TEST(SessionPolicyTest, DefaultsAre30MinutesIdleAnd12HoursAbsolute) {
  SessionPolicy p;
  EXPECT_EQ(p.idle_timeout_ms, 30 * kMin);
  EXPECT_EQ(p.absolute_lifetime_ms, 12 * 60 * kMin);
  EXPECT_TRUE(p.Validate().ok());
}

TEST(SessionPolicyTest, IdleTimeoutEndsExactlyAtTheLimit) {
  SessionPolicy p;
  FakeClock clock;
  const int64_t created = clock.NowMillis();
  int64_t last_seen = created;
  clock.Advance(minutes(30) - milliseconds(1));
  EXPECT_EQ(p.Evaluate(created, last_seen, clock.NowMillis()), SessionState::kActive);
  last_seen = clock.NowMillis();  // a request keeps it alive
  clock.Advance(minutes(30) - milliseconds(1));
  EXPECT_EQ(p.Evaluate(created, last_seen, clock.NowMillis()), SessionState::kActive);
  EXPECT_EQ(p.ExpiresAtMs(created, last_seen), last_seen + 30 * kMin);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(p.Evaluate(created, last_seen, clock.NowMillis()), SessionState::kIdleExpired);
  EXPECT_EQ(SessionStateName(SessionState::kIdleExpired), "idle_expired");
}

TEST(SessionPolicyTest, AbsoluteLifetimeWinsOverActivity) {
  SessionPolicy p;
  FakeClock clock;
  const int64_t created = clock.NowMillis();
  int64_t last_seen = created;
  // Busy all day: a request every 10 minutes.
  while (clock.NowMillis() + 10 * kMin < created + 12 * 60 * kMin) {
    clock.Advance(minutes(10));
    ASSERT_EQ(p.Evaluate(created, last_seen, clock.NowMillis()), SessionState::kActive);
    last_seen = clock.NowMillis();
  }
  EXPECT_EQ(p.ExpiresAtMs(created, last_seen), created + 12 * 60 * kMin);
  clock.SetMillis(created + 12 * 60 * kMin - 1);
  EXPECT_EQ(p.Evaluate(created, last_seen, clock.NowMillis()), SessionState::kActive);
  clock.SetMillis(created + 12 * 60 * kMin);
  EXPECT_EQ(p.Evaluate(created, last_seen, clock.NowMillis()), SessionState::kLifetimeExpired);
  // Both limits passed: the lifetime is reported.
  clock.Advance(hours(1));
  EXPECT_EQ(p.Evaluate(created, last_seen, clock.NowMillis()), SessionState::kLifetimeExpired);
  EXPECT_EQ(SessionStateName(SessionState::kLifetimeExpired), "lifetime_expired");
}

TEST(SessionPolicyTest, CookieMaxAgeAndTouchInterval) {
  SessionPolicy p;
  const int64_t created = 1'790'000'000'000;
  EXPECT_EQ(p.CookieMaxAgeSeconds(created, created), 12 * 3600);
  EXPECT_EQ(p.CookieMaxAgeSeconds(created, created + 1), 12 * 3600);  // rounded up
  EXPECT_EQ(p.CookieMaxAgeSeconds(created, created + 12 * 60 * kMin), 1);
  EXPECT_FALSE(p.NeedsTouch(created, created + kMin - 1));
  EXPECT_TRUE(p.NeedsTouch(created, created + kMin));
  p.idle_timeout_ms = 5 * kMin;  // interval: a tenth of the idle timeout
  EXPECT_FALSE(p.NeedsTouch(created, created + 29'999));
  EXPECT_TRUE(p.NeedsTouch(created, created + 30'000));
}

StatusOr<SessionPolicy> ParseYaml(const std::string& yaml) {
  SF_ASSIGN_OR_RETURN(auto doc, config::ConfigDocument::Parse(yaml, "collector.yaml"));
  return ParseSessionPolicy(doc.root()["session"]);
}

TEST(SessionPolicyConfigTest, ReadsAndValidates) {
  auto p = ParseYaml("session:\n  idle_timeout: 15m\n  absolute_lifetime: 8h\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->idle_timeout_ms, 15 * kMin);
  EXPECT_EQ(p->absolute_lifetime_ms, 8 * 60 * kMin);
  EXPECT_TRUE(ParseYaml("x: 1\n").ok());

  EXPECT_EQ(ParseYaml("session:\n  idle: 15m\n").status().message(),
            "collector.yaml:2: session.idle: unknown key (known keys here: idle_timeout, absolute_lifetime)");
  EXPECT_EQ(ParseYaml("session:\n  idle_timeout: 30s\n").status().message(),
            "collector.yaml:2: session.idle_timeout: duration must be between 60000ms and 2592000000ms, got '30s'");
  EXPECT_EQ(ParseYaml("session:\n  idle_timeout: 2h\n  absolute_lifetime: 1h\n").status().message(),
            "collector.yaml:3: session.absolute_lifetime: absolute_lifetime must not be shorter than idle_timeout");
  EXPECT_EQ(ParseYaml("session:\n  idle_timeout: 13h\n").status().message(),
            "collector.yaml:2: session.idle_timeout: absolute_lifetime must not be shorter than idle_timeout");
}

TEST(SessionCookieTest, BuildsTheDocumentedAttributes) {
  testing::FakeSecureRandom random;
  std::string token = NewToken(TokenKind::kSession, random);
  EXPECT_EQ(SessionCookie(token, /*secure=*/false, 43200),
            "sf_session=" + token + "; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionCookie(token, /*secure=*/true, 60),
            "sf_session=" + token + "; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(SessionCookie(token, /*secure=*/true, 0),
            "sf_session=" + token + "; Path=/; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(ClearSessionCookie(false), "sf_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  EXPECT_EQ(ClearSessionCookie(true), "sf_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
}

TEST(SessionCookieDeathTest, RefusesValuesThatCouldInjectAttributes) {
  EXPECT_DEATH((void)SessionCookie("abc; Domain=evil.example", false, 60), "");
  EXPECT_DEATH((void)SessionCookie("abc\r\nSet-Cookie: x=y", false, 60), "");
  EXPECT_DEATH((void)SessionCookie("", false, 60), "");
}

TEST(CookieParseTest, FindsTheSessionTokenAmongOtherCookies) {
  testing::FakeSecureRandom random;
  const std::string t1 = NewToken(TokenKind::kSession, random);
  const std::string t2 = NewToken(TokenKind::kSession, random);
  EXPECT_EQ(SessionTokenFromCookies("sf_session=" + t1), t1);
  EXPECT_EQ(SessionTokenFromCookies("lang=zh-CN; sf_session=" + t1 + "; theme=dark"), t1);
  EXPECT_EQ(SessionTokenFromCookies("lang=zh-CN;sf_session=" + t1 + ";theme=dark"), t1);
  EXPECT_EQ(SessionTokenFromCookies("  lang=zh-CN ;  sf_session = " + t1 + "  "), t1);
  EXPECT_EQ(SessionTokenFromCookies("\tsf_session=\"" + t1 + "\"; a=b"), t1);
  EXPECT_EQ(SessionTokenFromCookies("flag; sf_session=" + t1), t1);  // a pair without '='
  // Similar names are not the session cookie; names are case-sensitive.
  EXPECT_EQ(SessionTokenFromCookies("xsf_session=" + t1 + "; sf_session2=" + t1 + "; SF_SESSION=" + t1),
            std::nullopt);
  // Malformed values are skipped; several valid ones are all offered, in order.
  EXPECT_EQ(SessionTokenFromCookies("sf_session=garbage; sf_session=" + t2), t2);
  EXPECT_EQ(AllSessionTokensFromCookies("sf_session=" + t1 + "; sf_session=" + t2),
            (std::vector<std::string>{t1, t2}));
  // An API token in the cookie is not a session.
  EXPECT_EQ(SessionTokenFromCookies("sf_session=sfa_" + t1.substr(4)), std::nullopt);
  EXPECT_EQ(SessionTokenFromCookies(""), std::nullopt);
  EXPECT_EQ(SessionTokenFromCookies("sf_session="), std::nullopt);
  EXPECT_EQ(SessionTokenFromCookies(";;;"), std::nullopt);
}

TEST(CookieParseTest, CookieValuesKeepsEveryValueInOrder) {
  EXPECT_EQ(CookieValues("a=1; b=2; a=\"3\"; a=", "a"), (std::vector<std::string>{"1", "3", ""}));
  EXPECT_EQ(CookieValues("a=x=y", "a"), (std::vector<std::string>{"x=y"}));
  EXPECT_TRUE(CookieValues("b=1", "a").empty());
}

}  // namespace
}  // namespace steadfast::collector::auth
