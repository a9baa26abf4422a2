// Golden rule scenarios: each testdata/*.yaml file holds rules and a list of steps; a step
// reports check results at a time, evaluates, and names the transitions that must happen then,
// exactly (none when `expect` is empty or absent). Transitions are written
// "<kind> <alertname> <host>/<target> <severity>".
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "alerting/evaluator.h"
#include "common/config/config_node.h"

namespace steadfast::alerting {
namespace {

using config::ConfigNode;

std::string Describe(const Transition& t) {
  const Labels& l = t.alert.labels;
  auto get = [&](const char* k) {
    auto it = l.find(k);
    return it == l.end() ? std::string() : it->second;
  };
  return std::string(TransitionKindName(t.kind)) + " " + get("alertname") + " " + get("host") +
         "/" + get("target") + " " + get("severity");
}

class Scenario {
 public:
  // Applies one report entry: {host, check, target, status, labels, metrics: [{name, value, labels}]}.
  Status Report(const ConfigNode& n, int64_t at) {
    SF_ASSIGN_OR_RETURN(std::string host, n["host"].RequiredString());
    SF_ASSIGN_OR_RETURN(std::string check, n["check"].RequiredString());
    SF_ASSIGN_OR_RETURN(std::string target, n["target"].String(""));
    SF_ASSIGN_OR_RETURN(std::string status_name, n["status"].String("ok"));
    auto status = protocol::ParseCheckStatus(status_name);
    if (!status.ok()) return n["status"].Error(status.status().message());
    SeriesState& s = series_[host + "/" + check + "/" + target];
    const bool fresh = s.labels.empty();
    s.labels = {{"host", host}, {"check", check}, {"target", target}};
    if (n["labels"].present()) {
      SF_ASSIGN_OR_RETURN(std::vector<std::string> keys, n["labels"].Keys());
      for (const auto& k : keys) {
        SF_ASSIGN_OR_RETURN(s.labels[k], n["labels"][k].RequiredString());
      }
    }
    if (fresh || s.status != *status) {
      if (!fresh) s.changes_ms.push_back(at);
      s.status = *status;
      s.status_since_ms = at;
    }
    s.last_seen_ms = at;
    if (n["metrics"].present()) {
      SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> items, n["metrics"].Items());
      for (const ConfigNode& m : items) {
        MetricSample sample;
        SF_ASSIGN_OR_RETURN(sample.name, m["name"].RequiredString());
        SF_ASSIGN_OR_RETURN(sample.value, m["value"].Double(0));
        if (m["labels"].present()) {
          SF_ASSIGN_OR_RETURN(std::vector<std::string> keys, m["labels"].Keys());
          for (const auto& k : keys) {
            SF_ASSIGN_OR_RETURN(sample.labels[k], m["labels"][k].RequiredString());
          }
        }
        sample.at_ms = at;
        auto it = std::find_if(s.metrics.begin(), s.metrics.end(), [&](const MetricSample& x) {
          return x.name == sample.name && x.labels == sample.labels;
        });
        if (it != s.metrics.end()) {
          sample.previous = it->value;
          sample.previous_at_ms = it->at_ms;
          *it = sample;
        } else {
          s.metrics.push_back(sample);
        }
      }
    }
    return OkStatus();
  }
  std::vector<SeriesState> Series() const {
    std::vector<SeriesState> out;
    for (const auto& [k, s] : series_) out.push_back(s);
    return out;
  }

 private:
  std::map<std::string, SeriesState> series_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class GoldenScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenScenario, TransitionsAreExactlyTheExpectedOnes) {
  const std::string path = std::string(SF_ALERTING_TESTDATA_DIR) + "/" + GetParam();
  const std::string text = ReadFile(path);
  auto doc = config::ConfigDocument::Parse(text, GetParam());
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  // The rules are the file's `rules` key, parsed by the real rule parser.
  auto rules = ParseRules(text.substr(0, text.find("\nsteps:")) + "\n", GetParam());
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  Evaluator evaluator(std::move(rules).value());
  Scenario scenario;
  AlertBook book;
  auto steps = doc->root()["steps"].Items();
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  ASSERT_FALSE(steps->empty());
  for (const ConfigNode& step : *steps) {
    auto at = step["at"].DurationMillis(-1);
    ASSERT_TRUE(at.ok() && *at >= 0) << step.path() << ": every step needs at:";
    if (step["report"].present()) {
      auto reports = step["report"].Items();
      ASSERT_TRUE(reports.ok()) << reports.status().ToString();
      for (const ConfigNode& r : *reports) ASSERT_TRUE(scenario.Report(r, *at).ok()) << r.path();
    }
    Evaluation e = evaluator.Evaluate(scenario.Series(), std::move(book), *at);
    std::vector<std::string> got;
    for (const Transition& t : e.transitions) got.push_back(Describe(t));
    std::vector<std::string> want;
    if (step["expect"].present()) {
      auto list = step["expect"].StringList();
      ASSERT_TRUE(list.ok()) << list.status().ToString();
      want = *list;
    }
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << GetParam() << ":" << step.line() << " (at " << *at << " ms)";
    if (step["active"].present()) {
      auto active = step["active"].Int(-1);
      ASSERT_TRUE(active.ok());
      EXPECT_EQ(static_cast<int64_t>(e.book.active.size()), *active) << GetParam() << ":" << step.line();
    }
    book = std::move(e.book);
  }
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(SF_ALERTING_TESTDATA_DIR)) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Alerting, GoldenScenario, ::testing::ValuesIn(ScenarioFiles()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace steadfast::alerting
