#include "alerting/grouping.h"

#include <gtest/gtest.h>

namespace steadfast::alerting {
namespace {

constexpr int64_t kS = 1'000;

Route Timings() {
  Route r;
  r.receiver = "duty";
  r.group_wait_ms = 10 * kS;
  r.group_interval_ms = 60 * kS;
  r.repeat_interval_ms = 4 * 3600 * kS;
  return r;
}

std::string Text(const std::optional<GroupNotification>& n) {
  if (!n) return "-";
  std::string out = n->repeat ? "repeat" : "send";
  for (const auto& f : n->firing) out += " +" + f;
  for (const auto& r : n->resolved) out += " -" + r;
  return out;
}

TEST(GroupingTest, WaitThenIntervalThenRepeat) {
  const Route r = Timings();
  GroupState g;
  g.created_ms = 0;
  std::vector<GroupMember> m = {{"A", true, false}};
  EXPECT_EQ(Text(Flush(g, r, m, 0)), "-");  // group_wait
  EXPECT_EQ(NextFlush(g, r, m), 10 * kS);
  EXPECT_EQ(Text(Flush(g, r, m, 10 * kS)), "send +A");
  EXPECT_EQ(Text(Flush(g, r, m, 11 * kS)), "-");
  m.push_back({"B", true, false});  // a change: at most every group_interval
  EXPECT_EQ(Text(Flush(g, r, m, 20 * kS)), "-");
  EXPECT_EQ(NextFlush(g, r, m), 70 * kS);
  EXPECT_EQ(Text(Flush(g, r, m, 70 * kS)), "send +A +B");
  m[0].firing = false;  // A resolves
  EXPECT_EQ(Text(Flush(g, r, m, 100 * kS)), "-");
  EXPECT_EQ(Text(Flush(g, r, m, 130 * kS)), "send +B -A");
  // Unchanged and still firing: reminded every repeat_interval.
  m.erase(m.begin());
  EXPECT_EQ(NextFlush(g, r, m), 130 * kS + 4 * 3600 * kS);
  EXPECT_EQ(Text(Flush(g, r, m, 130 * kS + 4 * 3600 * kS)), "repeat +B");
  // B resolves: its resolution is sent once, then the group has nothing more to say.
  m[0].firing = false;
  EXPECT_FALSE(Finished(g, m));  // B's resolution is still to be sent
  EXPECT_EQ(Text(Flush(g, r, m, 130 * kS + 4 * 3600 * kS + 60 * kS)), "send -B");
  EXPECT_FALSE(NextFlush(g, r, m).has_value());
  EXPECT_TRUE(Finished(g, m));  // the caller drops it; a later alert waits group_wait again
}

TEST(GroupingTest, TheFirstCriticalOfAGroupIsNeverHeld) {
  const Route r = Timings();
  GroupState g;
  g.created_ms = 5 * kS;
  std::vector<GroupMember> m = {{"C", true, true}};
  EXPECT_EQ(Text(Flush(g, r, m, 5 * kS)), "send +C");
  // Follow-ups are grouped as usual.
  m.push_back({"D", true, true});
  EXPECT_EQ(Text(Flush(g, r, m, 6 * kS)), "-");
  EXPECT_EQ(Text(Flush(g, r, m, 65 * kS)), "send +C +D");
  // A critical joining a group still in its group_wait makes it go at once.
  GroupState h;
  h.created_ms = 0;
  std::vector<GroupMember> n = {{"W", true, false}};
  EXPECT_EQ(Text(Flush(h, r, n, 3 * kS)), "-");
  n.push_back({"X", true, true});
  EXPECT_EQ(Text(Flush(h, r, n, 4 * kS)), "send +W +X");
}

TEST(GroupingTest, AnAlertThatResolvedBeforeBeingSentIsNeverSent) {
  const Route r = Timings();
  GroupState g;
  std::vector<GroupMember> m = {{"A", false, false}};  // fired at 0, resolved at 5 s
  EXPECT_EQ(Text(Flush(g, r, m, 10 * kS)), "-");
  EXPECT_FALSE(NextFlush(g, r, m).has_value());
  // Within an existing group too.
  GroupState h;
  std::vector<GroupMember> n = {{"B", true, false}};
  EXPECT_EQ(Text(Flush(h, r, n, 10 * kS)), "send +B");
  n.push_back({"E", false, false});
  EXPECT_EQ(Text(Flush(h, r, n, 70 * kS)), "-");  // nothing changed that was ever sent
}

}  // namespace
}  // namespace steadfast::alerting
