#include "alerting/escalation.h"

#include <gtest/gtest.h>

namespace steadfast::alerting {
namespace {

constexpr int64_t kMin = 60'000;
constexpr int64_t kT = 1796002200000;  // 2026-11-30 09:30 Asia/Shanghai: li's shift

std::vector<Schedule> Schedules() {
  Schedule s;
  s.name = "server-room";
  s.time_zone = "Asia/Shanghai";
  s.working = Rotation{{"li", "wang"}, false, 1, 9 * 60, "2026-11-30"};
  return {s};
}

EscalationPolicy Policy() {
  EscalationPolicy p;
  p.name = "equipment";
  p.tiers = {{0, {"server-room"}, {}, {}},
             {10 * kMin, {}, {"chief"}, {}},
             {20 * kMin, {"server-room"}, {"chief"}, {"command-centre"}}};
  p.repeat = 1;
  p.repeat_after_ms = 30 * kMin;
  return p;
}

std::vector<std::string> Describe(const std::vector<EscalationStep>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) {
    std::string d = "r" + std::to_string(s.round) + "t" + std::to_string(s.tier) + "@" +
                    std::to_string((s.due_ms - kT) / kMin) + "m";
    for (const auto& u : s.users) d += " " + u;
    for (const auto& r : s.receivers) d += " #" + r;
    out.push_back(d);
  }
  return out;
}

TEST(EscalationTest, TiersComeDueInTurnAndRepeat) {
  const auto p = Policy();
  ASSERT_TRUE(ValidateEscalationPolicy(p, Schedules()).ok());
  const auto sched = Schedules();
  auto at = [&](int64_t after, int64_t now) {
    auto steps = StepsDue(p, kT, std::nullopt, after, now, sched);
    EXPECT_TRUE(steps.ok()) << steps.status().ToString();
    return steps.ok() ? Describe(*steps) : std::vector<std::string>{};
  };
  EXPECT_EQ(at(kT - 1, kT), std::vector<std::string>{"r0t0@0m li"});
  EXPECT_TRUE(at(kT, kT + 9 * kMin).empty());
  EXPECT_EQ(at(kT + 9 * kMin, kT + 10 * kMin), std::vector<std::string>{"r0t1@10m chief"});
  EXPECT_EQ(at(kT + 10 * kMin, kT + 30 * kMin),
            std::vector<std::string>{"r0t2@30m chief li #command-centre"});
  // Everything at once (a collector that was down), and nothing after the last round.
  EXPECT_EQ(at(kT - 1, kT + 500 * kMin),
            (std::vector<std::string>{"r0t0@0m li", "r0t1@10m chief", "r0t2@30m chief li #command-centre",
                                      "r1t0@60m li", "r1t1@70m chief",
                                      "r1t2@90m chief li #command-centre"}));
  EXPECT_TRUE(at(kT + 90 * kMin, kT + 500 * kMin).empty());
}

TEST(EscalationTest, AcknowledgingStopsIt) {
  const auto p = Policy();
  auto steps = StepsDue(p, kT, kT + 15 * kMin, kT - 1, kT + 500 * kMin, Schedules());
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Describe(*steps), (std::vector<std::string>{"r0t0@0m li", "r0t1@10m chief"}));
  // Acknowledged exactly when a tier comes due: that tier is not sent.
  steps = StepsDue(p, kT, kT + 10 * kMin, kT - 1, kT + 500 * kMin, Schedules());
  EXPECT_EQ(Describe(*steps), std::vector<std::string>{"r0t0@0m li"});
}

TEST(EscalationTest, ScheduleResolvedAtEachStepsTime) {
  EscalationPolicy p;
  p.name = "night";
  p.tiers = {{0, {"server-room"}, {}, {}}};
  p.repeat = 1;
  p.repeat_after_ms = 24 * 60 * kMin;  // the next day: wang's shift
  auto steps = StepsDue(p, kT, std::nullopt, kT - 1, kT + 2 * 24 * 60 * kMin, Schedules());
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Describe(*steps), (std::vector<std::string>{"r0t0@0m li", "r1t0@1440m wang"}));
}

TEST(EscalationTest, ErrorsNameThePolicyAndWhatIsWrong) {
  EscalationPolicy p = Policy();
  p.tiers[1].after_ms = 0;
  EXPECT_NE(ValidateEscalationPolicy(p, Schedules()).message().find("tier 2 needs a positive delay"), std::string::npos);
  p = Policy();
  p.tiers[2] = EscalationTier{5 * kMin, {}, {}, {}};
  EXPECT_NE(ValidateEscalationPolicy(p, Schedules()).message().find("tier 3 notifies nobody"), std::string::npos);
  p = Policy();
  p.repeat_after_ms = 0;
  EXPECT_NE(ValidateEscalationPolicy(p, Schedules()).message().find("positive repeat_after"), std::string::npos);
  p = Policy();
  p.tiers[0].schedules = {"nobody-made-this"};
  EXPECT_NE(ValidateEscalationPolicy(p, Schedules()).message().find("tier 1 names no schedule 'nobody-made-this'"),
            std::string::npos);
  auto steps = StepsDue(p, kT, std::nullopt, kT - 1, kT, Schedules());
  ASSERT_FALSE(steps.ok());
  EXPECT_NE(steps.status().message().find("no schedule named 'nobody-made-this'"), std::string::npos);
}

}  // namespace
}  // namespace steadfast::alerting
