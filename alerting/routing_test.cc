#include "alerting/routing.h"

#include <gtest/gtest.h>

namespace steadfast::alerting {
namespace {

StatusOr<Route> Parse(const std::string& yaml) {
  auto doc = config::ConfigDocument::Parse(yaml, "collector.yaml");
  if (!doc.ok()) return doc.status();
  return ParseRoute(doc->root()["route"]);
}

constexpr char kTree[] = R"(route:
  receiver: duty-email
  group_by: [alertname, unit]
  group_wait: 10s
  routes:
    - match: ['category="equipment"', 'severity=~"critical|major"']
      receiver: server-room-dingtalk
      group_wait: 0s
      continue: true
    - match: ['unit="finance"']
      receiver: finance-wecom
      group_by: ['...']
      routes:
        - match: ['severity="info"']
          receiver: finance-digest
          repeat_interval: 24h
)";

std::vector<std::string> Receivers(const Route& root, const Labels& labels) {
  std::vector<std::string> out;
  for (const RouteMatch& m : MatchRoutes(root, labels)) out.push_back(m.route->receiver);
  return out;
}

TEST(RoutingTest, AlertsGoDownTheTreeWithContinueAndInheritance) {
  auto root = Parse(kTree);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  // No child matches: the root takes it.
  EXPECT_EQ(Receivers(*root, {{"alertname", "x"}, {"unit", "hr"}}), std::vector<std::string>{"duty-email"});
  // Equipment and finance: the first child continues, so the second takes it too.
  const Labels both = {{"alertname", "disk"}, {"category", "equipment"}, {"severity", "critical"},
                       {"unit", "finance"}, {"host", "db1"}};
  EXPECT_EQ(Receivers(*root, both), (std::vector<std::string>{"server-room-dingtalk", "finance-wecom"}));
  // A grandchild inherits group_by '...' and group_wait, and sets its own repeat_interval.
  const Labels info = {{"alertname", "report"}, {"unit", "finance"}, {"severity", "info"}};
  auto m = MatchRoutes(*root, info);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].route->receiver, "finance-digest");
  EXPECT_EQ(m[0].route->group_wait_ms, 10'000);
  EXPECT_EQ(m[0].route->repeat_interval_ms, 24 * 3'600'000);
  EXPECT_EQ(m[0].group_labels, info);  // '...': every label
  EXPECT_EQ(ReceiversOf(*root), (std::vector<std::string>{"duty-email", "server-room-dingtalk",
                                                          "finance-wecom", "finance-digest"}));
}

TEST(RoutingTest, GroupKeysJoinAlertsThatShareTheGroupByLabels) {
  auto root = Parse(kTree);
  ASSERT_TRUE(root.ok());
  auto a = MatchRoutes(*root, {{"alertname", "probe"}, {"unit", "hr"}, {"host", "h1"}});
  auto b = MatchRoutes(*root, {{"alertname", "probe"}, {"unit", "hr"}, {"host", "h2"}});
  auto c = MatchRoutes(*root, {{"alertname", "probe"}, {"unit", "it"}, {"host", "h1"}});
  EXPECT_EQ(a[0].group_key, b[0].group_key);
  EXPECT_NE(a[0].group_key, c[0].group_key);
  EXPECT_EQ(a[0].group_labels, (Labels{{"alertname", "probe"}, {"unit", "hr"}}));
  // The same labels on another node form another group.
  auto d = MatchRoutes(*root, {{"alertname", "probe"}, {"unit", "hr"}, {"category", "equipment"},
                               {"severity", "major"}});
  EXPECT_NE(a[0].group_key, d[0].group_key);
}

TEST(RoutingTest, ConfigErrorsNameTheKey) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const Case cases[] = {
      {"route: {group_by: [a]}\n", "route.receiver: required"},
      {"route: {receiver: r, match: ['a=b']}\n", "route.match: the root route takes every alert"},
      {"route:\n  receiver: r\n  routes:\n    - {receiver: s}\n", "collector.yaml:4: route.routes[0]: a child route needs match"},
      {"route:\n  receiver: r\n  routes:\n    - {match: ['a~b'], receiver: s}\n", "route.routes[0].match[0]"},
      {"route: {receiver: r, group_by: ['...', a]}\n", "'...' (every label) stands alone"},
      {"route: {receiver: r, group_wait: soon}\n", "route.group_wait"},
      {"route: {receiver: r, grup_by: [a]}\n", "grup_by"},
  };
  for (const Case& c : cases) {
    auto r = Parse(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << c.yaml << " -> " << r.status().ToString();
  }
}

}  // namespace
}  // namespace steadfast::alerting
