#include "common/clock.h"

#include <gtest/gtest.h>

#include "common/testing/fake_clock.h"

namespace steadfast {
namespace {

TEST(ClockTest, FormatsRfc3339Utc) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(1'796'870'674'123), "2026-12-10T02:44:34.123Z");
}

TEST(ClockTest, ParsesWhatItFormats) {
  for (int64_t ms : {int64_t{0}, int64_t{1'796'870'674'123}, int64_t{951'782'400'999}}) {
    auto parsed = ParseRfc3339Millis(FormatRfc3339Millis(ms));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, ms);
  }
}

TEST(ClockTest, ParsesOffsetsAndFractions) {
  EXPECT_EQ(*ParseRfc3339Millis("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*ParseRfc3339Millis("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(*ParseRfc3339Millis("1970-01-01T00:00:00.123456789Z"), 123);
}

TEST(ClockTest, RejectsBadTimestamps) {
  for (const char* bad : {"", "yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00",
                          "2026-01-01T00:00:00Zjunk", "2026-01-01T00:00:00.Z", "2026-01-01 00:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339Millis(bad).ok()) << bad;
  }
}

TEST(ClockTest, ParsesDurations) {
  EXPECT_EQ(*ParseDurationMillis("250ms"), 250);
  EXPECT_EQ(*ParseDurationMillis("30s"), 30'000);
  EXPECT_EQ(*ParseDurationMillis("30"), 30'000);
  EXPECT_EQ(*ParseDurationMillis("5m"), 300'000);
  EXPECT_EQ(*ParseDurationMillis("1.5h"), 5'400'000);
  EXPECT_EQ(*ParseDurationMillis("2d"), 172'800'000);
  EXPECT_FALSE(ParseDurationMillis("often").ok());
  EXPECT_FALSE(ParseDurationMillis("5 minutes").ok());
  EXPECT_FALSE(ParseDurationMillis("").ok());
}

TEST(FakeClockTest, MovesOnlyWhenTold) {
  testing::FakeClock clock(1000);
  EXPECT_EQ(clock.NowMillis(), 1000);
  clock.Advance(Millis(500));
  EXPECT_EQ(clock.NowMillis(), 1500);
  auto m0 = clock.Monotonic();
  clock.Advance(Millis(10));
  EXPECT_EQ(std::chrono::duration_cast<Millis>(clock.Monotonic() - m0).count(), 10);
}

}  // namespace
}  // namespace steadfast
