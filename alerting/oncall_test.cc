#include "alerting/oncall.h"

#include <gtest/gtest.h>

namespace steadfast::alerting {
namespace {

std::string Who(const Schedule& s, int64_t at) {
  auto oc = OnCallAt(s, at);
  return oc.ok() ? oc->user : oc.status().ToString();
}

TEST(OnCallTest, DailyRotationHandsOffAtTheLocalTime) {
  Schedule s;
  s.name = "server-room";
  s.time_zone = "Asia/Shanghai";
  s.working = Rotation{{"li", "wang", "zhang"}, false, 1, 9 * 60, "2026-11-30"};
  ASSERT_TRUE(ValidateSchedule(s).ok()) << ValidateSchedule(s).ToString();
  EXPECT_EQ(Who(s, 1796000400000), "li");     // 2026-11-30 09:00 CST
  EXPECT_EQ(Who(s, 1796000340000), "zhang");  // 08:59: still the shift before the start
  EXPECT_EQ(Who(s, 1796083200000), "li");     // 12-01 08:00: li's night
  EXPECT_EQ(Who(s, 1796086800000), "wang");   // 12-01 09:00
  EXPECT_EQ(Who(s, 1796263200000), "li");     // 12-03 10:00: round again
  EXPECT_EQ(OnCallAt(s, 1796083200000)->shift_start_ms, 1796000400000);
}

TEST(OnCallTest, HandoffStaysAtNineLocalAcrossTheDstChange) {
  Schedule s;
  s.name = "ny";
  s.time_zone = "America/New_York";
  s.working = Rotation{{"a", "b"}, false, 1, 9 * 60, "2026-03-07"};
  // 2026-03-07 09:00 EST is 14:00 UTC; after the change on 03-08 09:00 EDT is 13:00 UTC.
  EXPECT_EQ(OnCallAt(s, 1772892000000)->user, "a");
  EXPECT_EQ(Who(s, 1772974740000), "a");  // 03-08 08:59 EDT
  auto b = OnCallAt(s, 1772974800000);    // 03-08 09:00 EDT
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->user, "b");
  EXPECT_EQ(b->shift_start_ms, 1772974800000);
}

TEST(OnCallTest, WeeklyRotationChangesOnTheHandoffWeekday) {
  Schedule s;
  s.name = "weekly";
  s.time_zone = "Asia/Shanghai";
  s.working = Rotation{{"x", "y"}, true, 1, 9 * 60, "2026-12-02"};  // a Wednesday: its week's Monday counts
  ASSERT_TRUE(ValidateSchedule(s).ok());
  EXPECT_EQ(Who(s, 1796558400000), "x");  // Sunday 12-06 20:00
  EXPECT_EQ(Who(s, 1796605140000), "x");  // Monday 12-07 08:59
  EXPECT_EQ(Who(s, 1796605200000), "y");  // Monday 12-07 09:00
}

TEST(OnCallTest, HolidaysAndMakeUpWorkingDaysPickTheRotation) {
  Schedule s;
  s.name = "national-day";
  s.time_zone = "Asia/Shanghai";
  s.working = Rotation{{"w1", "w2"}, false, 1, 9 * 60, "2026-09-28"};
  s.days_off = Rotation{{"o1", "o2"}, false, 1, 9 * 60, "2026-09-28"};
  for (const char* d : {"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05",
                        "2026-10-06", "2026-10-07"}) {
    s.calendar.days_off.insert(d);
  }
  s.calendar.working_days.insert("2026-10-10");  // a Saturday worked to make up the holiday
  ASSERT_TRUE(ValidateSchedule(s).ok()) << ValidateSchedule(s).ToString();
  // Each rotation counts only its own days: working days 09-28, 09-29, 09-30, 10-08, 10-09,
  // 10-10; days off 10-01 ... 10-07, 10-11.
  EXPECT_EQ(Who(s, 1790740800000), "w1");  // Wednesday 09-30 12:00, the 3rd working day
  EXPECT_EQ(Who(s, 1790827200000), "o1");  // Thursday 10-01 12:00, the 1st day off
  EXPECT_EQ(Who(s, 1790812800000), "w1");  // 10-01 08:00: the night of 09-30, a working day
  EXPECT_EQ(Who(s, 1791604800000), "w2");  // Saturday 10-10 12:00, make-up working day, the 6th
  EXPECT_EQ(Who(s, 1791691200000), "o2");  // Sunday 10-11 12:00, the 8th day off
}

TEST(OnCallTest, SevenMembersAllGetWorkingDays) {
  // Counting calendar days, the 6th and 7th members would always land on Saturday and Sunday.
  Schedule s;
  s.name = "seven";
  s.time_zone = "Asia/Shanghai";
  s.working = Rotation{{"m1", "m2", "m3", "m4", "m5", "m6", "m7"}, false, 1, 9 * 60, "2026-11-30"};
  s.days_off = Rotation{{"weekend"}, false, 1, 9 * 60, "2026-11-30"};
  ASSERT_TRUE(ValidateSchedule(s).ok());
  // Working days from Monday 11-30: m1..m5 that week, m6 and m7 the next Monday and Tuesday.
  EXPECT_EQ(Who(s, 1796000400000 + 7 * 86'400'000LL), "m6");
  EXPECT_EQ(Who(s, 1796000400000 + 8 * 86'400'000LL), "m7");
  EXPECT_EQ(Who(s, 1796000400000 + 9 * 86'400'000LL), "m1");
  EXPECT_EQ(Who(s, 1796000400000 + 5 * 86'400'000LL), "weekend");  // Saturday
  s.days_off->handoff_minute = 8 * 60;
  EXPECT_NE(ValidateSchedule(s).message().find("must hand over at the working-day rotation's time"),
            std::string::npos);
}

TEST(OnCallTest, OverridesWinAndTheLatestOneCovers) {
  Schedule s;
  s.name = "o";
  s.time_zone = "UTC";
  s.working = Rotation{{"a"}, false, 1, 0, "2026-01-01"};
  s.overrides = {{"chen", 1796090400000, 1796104800000}, {"zhou", 1796094000000, 1796097600000}};
  ASSERT_TRUE(ValidateSchedule(s).ok());
  auto at = OnCallAt(s, 1796092200000);  // 02:30 UTC
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->user, "chen");
  EXPECT_TRUE(at->overridden);
  EXPECT_EQ(at->shift_start_ms, 1796090400000);
  EXPECT_EQ(Who(s, 1796094000000), "zhou");  // 03:00, covering chen
  EXPECT_EQ(Who(s, 1796104800000), "a");     // 06:00, over
}

TEST(OnCallTest, InvalidSchedulesSayWhy) {
  Schedule s;
  s.name = "bad";
  s.time_zone = "Asia/Beijing";  // not an IANA name
  s.working = Rotation{{"a"}, false, 1, 0, "2026-01-01"};
  EXPECT_NE(ValidateSchedule(s).message().find("unknown time zone 'Asia/Beijing'"), std::string::npos);
  s.time_zone = "UTC";
  s.working.members.clear();
  EXPECT_NE(ValidateSchedule(s).message().find("no members"), std::string::npos);
  s.working.members = {"a"};
  s.working.start_date = "2026-02-30";
  EXPECT_NE(ValidateSchedule(s).message().find("does not exist"), std::string::npos);
  s.working.start_date = "2026-02-01";
  s.calendar.days_off.insert("1 Oct");
  EXPECT_NE(ValidateSchedule(s).message().find("expected YYYY-MM-DD"), std::string::npos);
}

}  // namespace
}  // namespace steadfast::alerting
