// The rule evaluator: a pure function of the check series' state, the rules, the alerts it
// produced last time and the time. No clock, no storage, no threads: the collector feeds it,
// stores what it returns, and the golden scenarios under testdata/ drive it directly.
//
// Alert identity is the fingerprint of its labels (the series' labels, the rule's labels,
// alertname, severity and category). An alert is pending while its condition holds for less
// than the rule's `for`, then firing; when the condition no longer holds a firing alert is
// resolved and a pending one cleared (never notified).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "alerting/labels.h"
#include "alerting/rules.h"
#include "common/protocol/protocol.h"

namespace steadfast::alerting {

struct MetricSample {
  std::string name;
  Labels labels;
  double value = 0;
  int64_t at_ms = 0;
  std::optional<double> previous;  // the sample before, for rate_of_change
  int64_t previous_at_ms = 0;
};

// What the collector knows of one check series (host, check, target).
struct SeriesState {
  // host, check and target, plus what the inventory adds: unit, service, category and
  // service_window="true" for a service of the public service window (its alerts are raised a
  // severity tier).
  Labels labels;
  protocol::CheckStatus status = protocol::CheckStatus::kOk;
  int64_t status_since_ms = 0;      // when the current status began
  int64_t last_seen_ms = 0;         // the last report of this series
  std::vector<int64_t> changes_ms;  // times of status changes, oldest first (flapping)
  std::vector<MetricSample> metrics;
};

enum class AlertPhase { kPending, kFiring };
std::string_view AlertPhaseName(AlertPhase p);

struct Alert {
  std::string fingerprint;
  std::string rule;
  Labels labels;
  Labels annotations;
  AlertPhase phase = AlertPhase::kPending;
  int64_t active_since_ms = 0;  // since when the condition holds
  int64_t firing_since_ms = 0;  // 0 while pending
  double value = 0;             // the status number, metric value, rate, silence seconds, changes
};

enum class TransitionKind { kPending, kFiring, kResolved, kCleared };
std::string_view TransitionKindName(TransitionKind k);

struct Transition {
  TransitionKind kind = TransitionKind::kPending;
  Alert alert;  // as it is after the transition (as it was, for resolved and cleared)
  int64_t at_ms = 0;
};

// The evaluator's memory between rounds: the active (pending or firing) alerts, keyed by the
// number their fingerprint spells (LabelsHash of their labels).
struct AlertBook {
  std::unordered_map<uint64_t, Alert> active;
};

struct Evaluation {
  AlertBook book;
  std::vector<Transition> transitions;  // in a stable order: by kind of change, then fingerprint
};

class Evaluator {
 public:
  explicit Evaluator(RuleSet rules);
  const RuleSet& rules() const { return rules_; }
  // `previous` is the book the last round returned (moved in: alerts that stay active are
  // moved on, not copied).
  Evaluation Evaluate(const std::vector<SeriesState>& series, AlertBook previous,
                      int64_t now_ms) const;

 private:
  const std::vector<size_t>& RulesFor(const Labels& series_labels) const;
  RuleSet rules_;
  // Rules with a check="name" matcher, by that name, each list followed by the rules without
  // one: a series is only tried against the rules that can match its check.
  std::unordered_map<std::string, std::vector<size_t>> by_check_;
  std::vector<size_t> any_check_;
  std::unordered_map<std::string, size_t> rule_by_name_;
  std::vector<std::vector<Matcher>> other_matchers_;  // per rule: all but the indexed check=
};

}  // namespace steadfast::alerting
