#include "alerting/rules.h"

#include <gtest/gtest.h>

#include "alerting/evaluator.h"
#include "alerting/labels.h"

namespace steadfast::alerting {
namespace {

TEST(MatcherTest, TheFourOperatorsAndAbsentLabels) {
  Labels l = {{"host", "db-01"}, {"check", "disk_health"}};
  auto eq = Matcher::Parse("check=\"disk_health\"");
  ASSERT_TRUE(eq.ok()) << eq.status().ToString();
  EXPECT_TRUE(eq->Matches(l));
  auto ne = Matcher::Parse("check != disk_health");
  ASSERT_TRUE(ne.ok()) << ne.status().ToString();
  EXPECT_FALSE(ne->Matches(l));
  auto re = Matcher::Parse("host=~\"db-.*\"");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(re->Matches(l));
  EXPECT_FALSE(Matcher::Parse("host=~\"db\"")->Matches(l));  // anchored, as in Prometheus
  EXPECT_TRUE(Matcher::Parse("host!~\"web-.*\"")->Matches(l));
  // An absent label is "": unit="" selects series without a unit.
  EXPECT_TRUE(Matcher::Parse("unit=\"\"")->Matches(l));
  EXPECT_FALSE(Matcher::Parse("unit=~\".+\"")->Matches(l));
  EXPECT_EQ(re->ToString(), "host=~\"db-.*\"");
}

TEST(MatcherTest, ErrorsSayWhatIsWrong) {
  EXPECT_NE(Matcher::Parse("=x").status().message().find("expected a label name"), std::string::npos);
  EXPECT_NE(Matcher::Parse("host~x").status().message().find("expected =, !=, =~ or !~"),
            std::string::npos);
  EXPECT_NE(Matcher::Parse("host=\"x").status().message().find("missing closing quote"),
            std::string::npos);
  EXPECT_NE(Matcher::Parse("host=~\"(\"").status().message().find("bad regular expression"),
            std::string::npos);
}

TEST(LabelsTest, FingerprintIsStableAndOrderFree) {
  Labels a = {{"alertname", "x"}, {"host", "h"}};
  Labels b;
  b["host"] = "h";
  b["alertname"] = "x";
  EXPECT_EQ(Fingerprint(a), Fingerprint(b));
  EXPECT_EQ(Fingerprint(a).size(), 16u);
  // The separators keep ("ab","c") and ("a","bc") apart.
  EXPECT_NE(Fingerprint({{"ab", "c"}}), Fingerprint({{"a", "bc"}}));
  EXPECT_EQ(Fingerprint({}), "0000000000000000");
  // A sum of pair hashes: adding a pair to a set adds its hash.
  EXPECT_EQ(LabelsHash(a) + LabelPairHash("team", "db"), LabelsHash({{"alertname", "x"}, {"host", "h"}, {"team", "db"}}));
}

TEST(LabelsTest, TextEscapesSoDistinctSetsNeverReadTheSame) {
  const Labels a = {{"a", "x\", b=\"y"}};
  const Labels b = {{"a", "x"}, {"b", "y"}};
  EXPECT_NE(LabelsText(a), LabelsText(b));
  EXPECT_EQ(LabelsText(b), "{a=\"x\", b=\"y\"}");
  EXPECT_EQ(LabelsText({{"m", "line\nback\\slash"}}), "{m=\"line\\nback\\\\slash\"}");
}

TEST(LabelsTest, LabelNames) {
  EXPECT_TRUE(IsLabelName("team_2"));
  EXPECT_TRUE(IsLabelName("_x"));
  EXPECT_FALSE(IsLabelName("2team"));
  EXPECT_FALSE(IsLabelName("team-a"));
  EXPECT_FALSE(IsLabelName(""));
}

TEST(EvaluatorTest, HostAbsenceTakesItsLabelsFromTheNewestSeries) {
  auto set = ParseRules("rules:\n  - {name: host-silent, kind: absence, scope: host, after: 5m}\n", "r.yaml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  Evaluator ev(std::move(set).value());
  SeriesState newer, older;
  newer.labels = {{"host", "h1"}, {"check", "system"}, {"target", "load"}, {"unit", "finance"}};
  newer.last_seen_ms = 60'000;
  older.labels = {{"host", "h1"}, {"check", "disk"}, {"target", "sda"}, {"unit", "old-unit"}};
  older.last_seen_ms = 0;
  for (const auto& order : {std::vector<SeriesState>{newer, older}, std::vector<SeriesState>{older, newer}}) {
    Evaluation e = ev.Evaluate(order, {}, 60'000 + 300'001);
    ASSERT_EQ(e.transitions.size(), 1u);
    EXPECT_EQ(e.transitions[0].alert.labels.at("unit"), "finance");
  }
}

TEST(RulesTest, ParsesEveryKind) {
  auto set = ParseRules(R"(rules:
  - {name: a, kind: check_status, match: ['check="x"'], for: 5m, severity: major}
  - {name: b, kind: metric_threshold, metric: m, op: "<", threshold: 10, recover: 15}
  - {name: c, kind: absence, after: 10m, scope: host}
  - {name: d, kind: rate_of_change, metric: m, per: 1h, threshold: 3}
  - {name: e, kind: flapping, changes: 6, within: 15m}
)",
                        "rules.yaml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->rules.size(), 5u);
  EXPECT_EQ(set->rules[0].for_ms, 300'000);
  EXPECT_EQ(set->rules[0].severity, Severity::kMajor);
  EXPECT_EQ(set->rules[0].statuses.size(), 2u);  // warning and critical by default
  EXPECT_EQ(set->rules[0].source, "rules.yaml:2");
  EXPECT_EQ(set->rules[1].op, Comparison::kLess);
  EXPECT_EQ(set->rules[1].recover, 15);
  EXPECT_TRUE(set->rules[2].host_scope);
  EXPECT_EQ(set->rules[3].per_ms, 3'600'000);
  EXPECT_EQ(set->rules[4].changes, 6);
}

TEST(RulesTest, ParsesInhibitionRules) {
  auto set = ParseRules(R"(inhibit:
  - source: ['alertname="ups-on-battery"']
    target: ['category="equipment"', 'alertname!="ups-on-battery"']
    equal: [room]
rules: []
)",
                        "rules.yaml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->inhibit.size(), 1u);
  EXPECT_EQ(set->inhibit[0].target.size(), 2u);
  EXPECT_EQ(set->inhibit[0].equal, std::vector<std::string>{"room"});
  auto bad = ParseRules("inhibit:\n  - {target: ['a=b']}\n", "rules.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rules.yaml:2: inhibit[0].source: required"), std::string::npos)
      << bad.status().ToString();
}

TEST(RulesTest, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const Case cases[] = {
      {"rules:\n  - {name: a, kind: sometimes}\n", "rules.yaml:2: rules[0].kind"},
      {"rules:\n  - {name: a, kind: check_status, for: soon}\n", "rules.yaml:2: rules[0].for"},
      {"rules:\n  - {name: a, kind: check_status, match: ['host~x']}\n", "rules[0].match[0]"},
      {"rules:\n  - {name: a, kind: metric_threshold, metric: m}\n", "rules[0].threshold: required"},
      {"rules:\n  - {name: a, kind: metric_threshold, metric: m, threshold: 0.9, recover: 0.95}\n",
       "rules[0].recover: must be on the healthy side"},
      {"rules:\n  - {name: a, kind: absence}\n", "rules[0].after: required"},
      {"rules:\n  - {name: a, kind: check_status, intervall: 5m}\n", "intervall"},
      {"rules:\n  - {name: a, kind: check_status}\n  - {name: a, kind: absence, after: 1m}\n",
       "rules.yaml:3: rules[1].name: another rule in this file is named 'a'"},
      {"rules:\n  - {name: a, kind: check_status, labels: {severity: x}}\n", "set by the rule's own key"},
      {"rules:\n  - {name: 'a b', kind: check_status}\n", "rules[0].name"},
  };
  for (const Case& c : cases) {
    auto set = ParseRules(c.yaml, "rules.yaml");
    ASSERT_FALSE(set.ok()) << c.yaml;
    EXPECT_NE(set.status().message().find(c.want), std::string::npos)
        << c.yaml << " -> " << set.status().ToString();
  }
}

TEST(EvaluatorTest, AnnotationsAreFilledAndAlertsCarryTheirLabels) {
  auto set = ParseRules(R"y(rules:
  - name: disk-failing
    kind: check_status
    match: ['check="disk_health"']
    labels: {team: storage}
    annotations: {summary: "Disk {{target}} on {{host}} is {{ value }} ({{nope}})"}
)y",
                        "r.yaml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  Evaluator ev(std::move(set).value());
  SeriesState s;
  s.labels = {{"host", "db1"}, {"check", "disk_health"}, {"target", "sda"}, {"unit", "finance"}};
  s.status = protocol::CheckStatus::kCritical;
  Evaluation e = ev.Evaluate({s}, {}, 1'000);
  ASSERT_EQ(e.transitions.size(), 1u);
  const Alert& a = e.transitions[0].alert;
  EXPECT_EQ(a.annotations.at("summary"), "Disk sda on db1 is 2 ({{nope}})");
  EXPECT_EQ(a.labels.at("team"), "storage");
  EXPECT_EQ(a.labels.at("unit"), "finance");
  EXPECT_EQ(a.labels.at("alertname"), "disk-failing");
  EXPECT_EQ(a.labels.at("category"), "application");
  EXPECT_EQ(a.fingerprint, Fingerprint(a.labels));
  // Evaluating again with the book: still firing, no new transition, same identity.
  Evaluation again = ev.Evaluate({s}, e.book, 61'000);
  EXPECT_TRUE(again.transitions.empty());
  EXPECT_EQ(again.book.active.at(LabelsHash(a.labels)).firing_since_ms, 1'000);
}

}  // namespace
}  // namespace steadfast::alerting
