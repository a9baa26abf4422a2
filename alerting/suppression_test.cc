#include "alerting/suppression.h"

#include <gtest/gtest.h>

namespace steadfast::alerting {
namespace {

std::vector<Matcher> M(std::initializer_list<const char*> texts) {
  std::vector<Matcher> out;
  for (const char* t : texts) out.push_back(*Matcher::Parse(t));
  return out;
}

TEST(SilenceTest, WeekdaysAndTimesParseOrSayWhatIsWrong) {
  EXPECT_EQ(*ParseWeekdays("mon-fri"), 0x1fu);
  EXPECT_EQ(*ParseWeekdays("sat-mon"), (1u << 5) | (1u << 6) | 1u);  // over the weekend
  EXPECT_EQ(*ParseWeekdays("tue, thu"), (1u << 1) | (1u << 3));
  EXPECT_EQ(*ParseWeekdays("daily"), 0x7fu);
  EXPECT_NE(ParseWeekdays("monday").status().message().find("mon-fri"), std::string::npos);
  EXPECT_EQ(*ParseTimeOfDay("02:30"), 150);
  EXPECT_FALSE(ParseTimeOfDay("2:30").ok());
  EXPECT_FALSE(ParseTimeOfDay("24:00").ok());
  EXPECT_FALSE(ParseTimeOfDay("12:00x").ok());
}

TEST(SilenceTest, OneOffWindow) {
  Silence s;
  s.matchers = M({"host=\"db1\""});
  s.starts_ms = 1'000;
  s.ends_ms = 2'000;
  ASSERT_TRUE(ValidateSilence(s).ok());
  EXPECT_FALSE(SilenceActiveAt(s, 999));
  EXPECT_TRUE(SilenceActiveAt(s, 1'000));
  EXPECT_TRUE(SilenceActiveAt(s, 1'999));
  EXPECT_FALSE(SilenceActiveAt(s, 2'000));
}

TEST(SilenceTest, WeeklyWindowFollowsLocalTimeAcrossDst) {
  // Sundays 02:30 for 2 h, Berlin time (the Sunday backup window).
  Silence s;
  s.matchers = M({"category=\"backup\""});
  s.weekly = WeeklyRecurrence{1u << 6, 150, 2 * 3'600'000, "Europe/Berlin"};
  ASSERT_TRUE(ValidateSilence(s).ok()) << ValidateSilence(s).ToString();
  // 2026-03-22, winter time (UTC+1): 02:30 local is 01:30 UTC.
  EXPECT_FALSE(SilenceActiveAt(s, 1774142940000));  // 01:29 UTC
  EXPECT_TRUE(SilenceActiveAt(s, 1774143000000));   // 01:30 UTC
  EXPECT_TRUE(SilenceActiveAt(s, 1774150140000));   // 03:29 UTC
  EXPECT_FALSE(SilenceActiveAt(s, 1774150200000));  // 03:30 UTC
  EXPECT_FALSE(SilenceActiveAt(s, 1774229400000));  // Monday 01:30 UTC
  // 2026-03-29: clocks jump from 02:00 to 03:00, so 02:30 does not exist; the window opens at
  // the jump (01:00 UTC) and lasts its 2 hours.
  EXPECT_FALSE(SilenceActiveAt(s, 1774745940000));  // 00:59 UTC
  EXPECT_TRUE(SilenceActiveAt(s, 1774746000000));   // 01:00 UTC
  EXPECT_TRUE(SilenceActiveAt(s, 1774753140000));   // 02:59 UTC
  EXPECT_FALSE(SilenceActiveAt(s, 1774753200000));  // 03:00 UTC
}

TEST(SilenceTest, WeeklyWindowPastMidnightAndBounds) {
  // Daily 23:00 for 2 h, Shanghai time (UTC+8): 15:00-17:00 UTC.
  Silence s;
  s.matchers = M({"host=~\"counter.*\""});
  s.weekly = WeeklyRecurrence{0x7f, 23 * 60, 2 * 3'600'000, "Asia/Shanghai"};
  EXPECT_FALSE(SilenceActiveAt(s, 1796050740000));  // 2026-11-30 14:59 UTC
  EXPECT_TRUE(SilenceActiveAt(s, 1796050800000));   // 15:00 UTC, 23:00 local
  EXPECT_TRUE(SilenceActiveAt(s, 1796056200000));   // 16:30 UTC, 00:30 local the next day
  EXPECT_FALSE(SilenceActiveAt(s, 1796058000000));  // 17:00 UTC
  s.ends_ms = 1796056200000;                        // ended: a bounded recurrence
  EXPECT_FALSE(SilenceActiveAt(s, 1796056200000));
  EXPECT_EQ(SilencedBy({s}, {{"host", "counter1"}}, 1796050800000), std::vector<std::string>{""});
  EXPECT_TRUE(SilencedBy({s}, {{"host", "db1"}}, 1796050800000).empty());
}

TEST(SilenceTest, InvalidSilencesAreRefusedWithTheReason) {
  Silence s;
  s.ends_ms = 10;
  EXPECT_NE(ValidateSilence(s).message().find("at least one matcher"), std::string::npos);
  s.matchers = M({"host=\"a\""});
  s.starts_ms = 20;
  EXPECT_NE(ValidateSilence(s).message().find("end after it starts"), std::string::npos);
  s.starts_ms = 0;
  s.ends_ms = 0;
  EXPECT_NE(ValidateSilence(s).message().find("needs an end"), std::string::npos);
  s.weekly = WeeklyRecurrence{1, 60, 3'600'000, "Mars/Olympus"};
  EXPECT_NE(ValidateSilence(s).message().find("unknown time zone 'Mars/Olympus'"), std::string::npos);
}

Alert MakeAlert(const std::string& name, Labels labels, AlertPhase phase) {
  Alert a;
  labels["alertname"] = name;
  a.labels = std::move(labels);
  a.fingerprint = Fingerprint(a.labels);
  a.phase = phase;
  return a;
}

TEST(InhibitTest, AFiringSourceInhibitsTargetsWithTheSameEqualLabels) {
  AlertBook book;
  auto add = [&](Alert a) { book.active.emplace(LabelsHash(a.labels), a); };
  Alert uplink = MakeAlert("uplink-down", {{"site", "north"}}, AlertPhase::kFiring);
  Alert north = MakeAlert("host-silent", {{"site", "north"}, {"host", "n1"}}, AlertPhase::kFiring);
  Alert south = MakeAlert("host-silent", {{"site", "south"}, {"host", "s1"}}, AlertPhase::kFiring);
  Alert ups = MakeAlert("ups-on-battery", {{"room", "r1"}}, AlertPhase::kPending);
  Alert power = MakeAlert("pdu-voltage", {{"room", "r1"}}, AlertPhase::kFiring);
  for (const Alert& a : {uplink, north, south, ups, power}) add(a);
  std::vector<InhibitRule> rules = {
      {M({"alertname=\"uplink-down\""}), M({"alertname=\"host-silent\""}), {"site"}},
      {M({"alertname=\"ups-on-battery\""}), M({"alertname=\"pdu-voltage\""}), {"room"}},
      // Source and target both match: an alert does not inhibit itself.
      {M({"alertname=\"uplink-down\""}), M({"alertname=~\".*\""}), {"site"}},
  };
  std::set<std::string> got = Inhibited(book, rules);
  EXPECT_TRUE(got.count(north.fingerprint));
  EXPECT_FALSE(got.count(south.fingerprint));  // another site
  EXPECT_FALSE(got.count(power.fingerprint));  // the UPS alert is only pending
  EXPECT_FALSE(got.count(uplink.fingerprint));
  book.active.at(LabelsHash(ups.labels)).phase = AlertPhase::kFiring;
  EXPECT_TRUE(Inhibited(book, rules).count(power.fingerprint));
  // Two alerts matching both sides do not silence each other.
  Alert uplink2 = MakeAlert("uplink-down", {{"site", "north"}, {"link", "b"}}, AlertPhase::kFiring);
  add(uplink2);
  std::set<std::string> again = Inhibited(book, rules);
  EXPECT_FALSE(again.count(uplink.fingerprint));
  EXPECT_FALSE(again.count(uplink2.fingerprint));
  EXPECT_TRUE(again.count(north.fingerprint));
}

}  // namespace
}  // namespace steadfast::alerting
