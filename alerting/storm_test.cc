// The storm: 10,000 checks fail at once. The pure pieces together (evaluator, routing,
// grouping, per-receiver rate limits) must give every alert to its receiver, at once for the
// first critical of each group, and never call a rate-limited robot more than it allows.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "alerting/evaluator.h"
#include "alerting/grouping.h"
#include "alerting/ratelimit.h"
#include "alerting/routing.h"

namespace steadfast::alerting {
namespace {

TEST(StormTest, TenThousandFailuresStayWithinTheRobotsLimits) {
  auto rules = ParseRules(R"(rules:
  - {name: probe-failing, kind: check_status, match: ['check="http"'], statuses: [critical]}
)",
                          "rules.yaml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  Evaluator evaluator(std::move(rules).value());
  std::vector<SeriesState> series;
  for (int i = 0; i < 10'000; ++i) {
    SeriesState s;
    s.labels = {{"host", "h" + std::to_string(i)}, {"check", "http"}, {"target", "front"},
                {"unit", "u" + std::to_string(i % 10)}};
    s.status = protocol::CheckStatus::kCritical;
    series.push_back(std::move(s));
  }
  Evaluation e = evaluator.Evaluate(series, {}, 0);
  ASSERT_EQ(e.transitions.size(), 10'000u);

  auto doc = config::ConfigDocument::Parse(R"(route:
  receiver: duty-email
  group_by: [alertname, host]
  routes:
    - match: ['unit=~"u[0-4]"']
      receiver: dingtalk
)",
                                           "collector.yaml");
  ASSERT_TRUE(doc.ok());
  auto route = ParseRoute(doc->root()["route"]);
  ASSERT_TRUE(route.ok()) << route.status().ToString();

  // Groups with their members, as the notifier keeps them.
  struct Group {
    const Route* route = nullptr;
    GroupState state;
    std::vector<GroupMember> members;
  };
  std::map<std::string, Group> groups;
  for (const Transition& t : e.transitions) {
    for (const RouteMatch& m : MatchRoutes(*route, t.alert.labels)) {
      Group& g = groups[m.group_key];
      g.route = m.route;
      g.state.created_ms = 0;
      g.members.push_back({t.alert.fingerprint, true, t.alert.labels.at("severity") == "critical"});
    }
  }
  ASSERT_EQ(groups.size(), 10'000u);

  std::map<std::string, RateLimiter> limiters = {{"dingtalk", RateLimiter(RateLimit{20, 60'000})},
                                                 {"duty-email", RateLimiter(RateLimit{1'000'000, 60'000})}};
  std::map<std::string, std::vector<int64_t>> sends;       // receiver -> send times
  std::map<std::string, std::set<std::string>> delivered;  // receiver -> fingerprints
  std::map<std::string, std::vector<std::string>> firing_of;  // message id -> fingerprints
  auto deliver = [&](const std::string& receiver, const std::vector<std::string>& batch, int64_t at) {
    if (batch.empty()) return;
    sends[receiver].push_back(at);
    for (const std::string& id : batch) {
      for (const std::string& fp : firing_of.at(id)) {
        EXPECT_TRUE(delivered[receiver].insert(fp).second) << fp << " sent twice to " << receiver;
      }
    }
  };
  // Event-driven, as the notifier's loop: each step runs at the earliest time something is due.
  for (int64_t now = 0; now <= 180'000;) {
    for (auto& [key, g] : groups) {
      auto n = Flush(g.state, *g.route, g.members, now);
      if (!n) continue;
      EXPECT_EQ(now, 0) << "the first critical of a group is never held";
      firing_of[key] = n->firing;
      deliver(g.route->receiver, limiters.at(g.route->receiver).Offer(key, now), now);
    }
    for (auto& [receiver, limiter] : limiters) deliver(receiver, limiter.Due(now), now);
    std::optional<int64_t> next;
    auto consider = [&](std::optional<int64_t> t) {
      if (t && (!next || *t < *next)) next = std::max(*t, now + 1);
    };
    for (auto& [key, g] : groups) consider(NextFlush(g.state, *g.route, g.members));
    for (auto& [receiver, limiter] : limiters) consider(limiter.NextDue());
    if (!next) break;
    now = *next;
  }
  EXPECT_EQ(delivered["dingtalk"].size(), 5'000u);
  EXPECT_EQ(delivered["duty-email"].size(), 5'000u);
  EXPECT_EQ(limiters.at("dingtalk").held(), 0u);
  // The robot: 20 messages at once, then the other 4,980 groups in one digest a minute later.
  const auto& ding = sends["dingtalk"];
  EXPECT_EQ(ding.size(), 21u);
  for (size_t i = 0; i < ding.size(); ++i) {
    size_t in_window = 0;
    for (int64_t t : ding) in_window += t >= ding[i] && t < ding[i] + 60'000;
    EXPECT_LE(in_window, 20u) << "window starting at " << ding[i];
  }
  EXPECT_EQ(sends["duty-email"].size(), 5'000u);  // not limited: one message per group
}

TEST(RateLimiterTest, HoldsOverTheLimitAndSendsOneDigest) {
  RateLimiter r(RateLimit{2, 60'000});
  EXPECT_EQ(r.Offer("a", 0), std::vector<std::string>{"a"});
  EXPECT_EQ(r.Offer("b", 1'000), std::vector<std::string>{"b"});
  EXPECT_TRUE(r.Offer("c", 2'000).empty());
  EXPECT_TRUE(r.Offer("d", 3'000).empty());
  EXPECT_EQ(r.NextDue(), 60'000);
  EXPECT_TRUE(r.Due(59'999).empty());
  EXPECT_EQ(r.Due(60'000), (std::vector<std::string>{"c", "d"}));
  // A new message while others are held joins them rather than overtaking them.
  EXPECT_TRUE(r.Offer("e", 60'500).empty());
  EXPECT_EQ(r.Due(61'000), std::vector<std::string>{"e"});
  EXPECT_FALSE(r.NextDue().has_value());
}

}  // namespace
}  // namespace steadfast::alerting
