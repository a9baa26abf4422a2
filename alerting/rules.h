// Alert rules: what makes an alert, read from YAML rule files.
//
//   rules:
//     - name: disk-failing                 # the alert's name (label alertname); unique
//       kind: check_status                 # see Kind below
//       match: ['check="disk_health"', 'host=~"db-.*"']   # label matchers on the check series
//       statuses: [critical]               # check_status: which statuses (default warning, critical)
//       for: 2m                            # how long the condition must hold before firing
//       severity: critical                 # critical | major | warning | info
//       category: equipment                # equipment | network | security | backup | application | dataentry
//       labels: {team: infra}              # added to the alert
//       annotations:                       # {{label}} and {{value}} are filled in
//         summary: "Disk {{target}} on {{host}} is failing"
//         runbook_url: https://wiki.example.org/disk
//
// Kinds and their keys:
//   check_status      statuses, for
//   metric_threshold  metric, metric_match, op (> >= < <=), threshold, recover (the value the
//                     metric must get back past before the alert resolves: hysteresis), for
//   absence           after: a check series (scope: check) or every series of a host
//                     (scope: host) not reported for longer than this
//   rate_of_change    metric, metric_match, per (a duration: the rate is change per `per`), op,
//                     threshold, for
//   flapping          changes, within: a series whose status changed at least `changes` times
//                     within the window raises one "unstable" alert, and its check_status alerts
//                     are held as they are until it settles, instead of a storm of them.
//
// Every error names the file, line and key ("rules.yaml:12: rules[3].for: ...").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alerting/labels.h"
#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::alerting {

enum class RuleKind { kCheckStatus, kMetricThreshold, kAbsence, kRateOfChange, kFlapping };
enum class Severity { kCritical = 0, kMajor = 1, kWarning = 2, kInfo = 3 };
enum class Comparison { kGreater, kGreaterOrEqual, kLess, kLessOrEqual };

std::string_view RuleKindName(RuleKind k);
std::string_view SeverityName(Severity s);
// One tier up (info -> warning -> major -> critical); critical stays.
Severity RaiseSeverity(Severity s);
bool Compare(double value, Comparison op, double threshold);

struct Rule {
  std::string name;
  RuleKind kind = RuleKind::kCheckStatus;
  std::vector<Matcher> match;
  std::optional<Severity> severity;  // unset: from the check's status (check_status) or warning
  std::string category;              // empty: the series' category label, else "application"
  Labels labels;
  Labels annotations;
  int64_t for_ms = 0;

  std::vector<protocol::CheckStatus> statuses;  // check_status

  std::string metric;                // metric_threshold, rate_of_change
  std::vector<Matcher> metric_match;
  Comparison op = Comparison::kGreater;
  double threshold = 0;
  double recover = 0;                // metric_threshold; equals threshold without hysteresis
  int64_t per_ms = 1000;             // rate_of_change

  int64_t after_ms = 0;              // absence
  bool host_scope = false;           // absence: scope host

  int changes = 0;                   // flapping
  int64_t within_ms = 0;

  std::string source;                // "rules.yaml:12", for messages
};

// An inhibition rule (rule files' `inhibit:` list; see suppression.h):
//   inhibit:
//     - source: ['alertname="uplink-down"']
//       target: ['category="network"']
//       equal: [site]
struct InhibitRule {
  std::vector<Matcher> source;
  std::vector<Matcher> target;
  std::vector<std::string> equal;
};

struct RuleSet {
  std::vector<Rule> rules;
  std::vector<InhibitRule> inhibit;
};

// Parses rule-file text; `file_name` appears in errors.
StatusOr<RuleSet> ParseRules(const std::string& text, const std::string& file_name);
// Loads and merges rule files (names must be unique across them).
StatusOr<RuleSet> LoadRuleFiles(const std::vector<std::string>& paths);

}  // namespace steadfast::alerting
