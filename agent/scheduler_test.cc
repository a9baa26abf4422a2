#include "agent/scheduler.h"

#include <gtest/gtest.h>

#include <set>

#include "agent/testing/fake_http_client.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using std::chrono::seconds;
using testing::FixedRandom;

class SchedulerTest : public ::testing::Test {
 protected:
  MonoTime Now() const { return clock_.Monotonic(); }
  steadfast::testing::FakeClock clock_;
};

TEST_F(SchedulerTest, EmptySchedulerHasNothingDue) {
  FixedRandom random(0);
  Scheduler s(random);
  EXPECT_FALSE(s.NextDue().has_value());
  EXPECT_TRUE(s.DueChecks(Now()).empty());
}

TEST_F(SchedulerTest, FirstRunIsDelayedByTheJitter) {
  FixedRandom random(12'345);
  Scheduler s(random);
  size_t i = s.Add("cpu", seconds(60), Now());
  EXPECT_EQ(s.due(i), Now() + Millis(12'345));
  EXPECT_TRUE(s.DueChecks(Now()).empty());
  clock_.Advance(Millis(12'344));
  EXPECT_TRUE(s.DueChecks(Now()).empty());
  clock_.Advance(Millis(1));
  EXPECT_EQ(s.DueChecks(Now()), std::vector<size_t>{i});
}

TEST_F(SchedulerTest, JitterStaysInsideTheInterval) {
  FixedRandom random(1'000'000);  // larger than the interval: clamped by the Random contract
  Scheduler s(random);
  size_t i = s.Add("disk", seconds(10), Now());
  EXPECT_LT(s.due(i), Now() + seconds(10));
  SystemRandom real(42);
  Scheduler spread(real);
  for (int k = 0; k < 100; ++k) {
    size_t j = spread.Add("c" + std::to_string(k), seconds(30), Now());
    EXPECT_GE(spread.due(j), Now());
    EXPECT_LT(spread.due(j), Now() + seconds(30));
  }
}

TEST_F(SchedulerTest, JitterIsDeterministicForAGivenRandom) {
  SystemRandom a(7), b(7);
  Scheduler sa(a), sb(b);
  for (int k = 0; k < 10; ++k) {
    sa.Add("c", seconds(60), Now());
    sb.Add("c", seconds(60), Now());
    EXPECT_EQ(sa.due(static_cast<size_t>(k)), sb.due(static_cast<size_t>(k)));
  }
}

TEST_F(SchedulerTest, RunsEveryIntervalOnAFixedGrid) {
  FixedRandom random(0);
  Scheduler s(random);
  const MonoTime start = Now();
  size_t fast = s.Add("fast", seconds(10), start);
  size_t slow = s.Add("slow", seconds(30), start);
  EXPECT_EQ(s.DueChecks(Now()), (std::vector<size_t>{fast, slow}));
  // The run takes 2 s; the next slot is still start + 10 s, not finish + 10 s.
  clock_.Advance(seconds(2));
  s.MarkRun(fast, Now());
  s.MarkRun(slow, Now());
  EXPECT_EQ(s.due(fast), start + seconds(10));
  EXPECT_EQ(s.due(slow), start + seconds(30));
  EXPECT_EQ(s.NextDue(), start + seconds(10));

  clock_.SetMillis(clock_.NowMillis() + 8'000);  // start + 10 s
  EXPECT_EQ(s.DueChecks(Now()), std::vector<size_t>{fast});
  s.MarkRun(fast, Now());
  EXPECT_EQ(s.due(fast), start + seconds(20));
}

TEST_F(SchedulerTest, MissedSlotsAreSkippedNotReplayed) {
  FixedRandom random(0);
  Scheduler s(random);
  const MonoTime start = Now();
  size_t i = s.Add("cpu", seconds(10), start);
  // The host was suspended for 35 s: one run now, then back on the grid at start + 40 s.
  clock_.Advance(seconds(35));
  EXPECT_EQ(s.DueChecks(Now()), std::vector<size_t>{i});
  s.MarkRun(i, Now());
  EXPECT_EQ(s.due(i), start + seconds(40));
  EXPECT_TRUE(s.DueChecks(Now()).empty());
}

TEST_F(SchedulerTest, ExactlyOnTheSlotMovesToTheNextOne) {
  FixedRandom random(0);
  Scheduler s(random);
  const MonoTime start = Now();
  size_t i = s.Add("cpu", seconds(10), start);
  clock_.Advance(seconds(10));
  s.MarkRun(i, Now());
  EXPECT_EQ(s.due(i), start + seconds(20));
}

TEST_F(SchedulerTest, DueChecksAreOrderedByDueTime) {
  FixedRandom random(5'000);
  Scheduler s(random);
  size_t a = s.Add("a", seconds(60), Now());  // due +5 s
  size_t b = s.Add("b", seconds(4), Now());   // due +1 s (5 s modulo 4 s)
  clock_.Advance(seconds(6));
  EXPECT_EQ(s.DueChecks(Now()), (std::vector<size_t>{b, a}));
}

TEST_F(SchedulerTest, OneOffsetPerAgentSoChecksOfOneIntervalRunTogether) {
  SystemRandom real(11);
  Scheduler s(real);
  const MonoTime start = Now();
  size_t a = s.Add("a", seconds(30), start);
  size_t b = s.Add("b", seconds(30), start);
  size_t slow = s.Add("slow", seconds(90), start);
  EXPECT_EQ(s.due(a), s.due(b));
  // 90 s is a multiple of 30 s: every run of `slow` falls on a slot of `a`.
  const auto phase = [&](size_t i) { return (s.due(i) - start) % seconds(30); };
  EXPECT_EQ(phase(slow), phase(a));
  // The offset is drawn once: a random source that changes later does not move new checks.
  FixedRandom fixed(7'000);
  Scheduler t(fixed);
  size_t c = t.Add("c", seconds(10), start);
  fixed.set(2'000);
  size_t d = t.Add("d", seconds(10), start);
  EXPECT_EQ(t.due(c), start + Millis(7'000));
  EXPECT_EQ(t.due(d), start + Millis(7'000));
}

TEST_F(SchedulerTest, AgentsDrawDifferentOffsets) {
  // Many agents restarted together must not all report in the same second.
  std::set<MonoTime> dues;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SystemRandom r(seed);
    Scheduler s(r);
    dues.insert(s.due(s.Add("cpu", seconds(60), Now())));
  }
  EXPECT_GE(dues.size(), 15u);
}

TEST_F(SchedulerTest, MarkRunBeforeDueKeepsTheSlot) {
  FixedRandom random(5'000);
  Scheduler s(random);
  size_t i = s.Add("a", seconds(60), Now());
  MonoTime due = s.due(i);
  s.MarkRun(i, Now());
  EXPECT_EQ(s.due(i), due);
}

}  // namespace
}  // namespace steadfast::agent
