#include "alerting/evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_set>

namespace steadfast::alerting {
namespace {

std::string LabelOf(const Labels& labels, const std::string& name) {
  auto it = labels.find(name);
  return it == labels.end() ? std::string() : it->second;
}

std::string SeriesKey(const Labels& labels) {
  return LabelOf(labels, "host") + '\x1f' + LabelOf(labels, "check") + '\x1f' +
         LabelOf(labels, "target");
}

// A rule on a series (host, check, target), as a number: no string is built per lookup.
uint64_t RuleSeriesHash(const std::string& rule, const Labels& labels) {
  uint64_t h = LabelPairHash("alertname", rule);
  for (const char* name : {"host", "check", "target"}) {
    auto it = labels.find(name);
    h = h * 0x9E3779B97F4A7C15ULL + LabelPairHash(name, it == labels.end() ? std::string_view() : std::string_view(it->second));
  }
  return h;
}

// "{{name}}" -> the label's value, "{{value}}" -> the alert's value; anything else is kept.
std::string Fill(const std::string& text, const Labels& labels, double value) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    std::string key = text.substr(open + 2, close - open - 2);
    key.erase(0, key.find_first_not_of(' '));
    key.erase(key.find_last_not_of(' ') + 1);
    if (key == "value") {
      out += fmt::format("{}", value);  // shortest exact form: 1234567, not 1.23457e+06
    } else if (auto it = labels.find(key); it != labels.end()) {
      out += it->second;
    } else {
      out.append(text, open, close + 2 - open);
    }
    i = close + 2;
  }
  out.append(text, i, std::string::npos);
  return out;
}

Severity SeverityFor(const Rule& rule, const Labels& base, const SeriesState* s) {
  Severity sev = rule.severity.value_or(Severity::kWarning);
  if (!rule.severity && rule.kind == RuleKind::kCheckStatus && s != nullptr &&
      s->status == protocol::CheckStatus::kCritical) {
    sev = Severity::kCritical;
  }
  if (LabelOf(base, "service_window") == "true") sev = RaiseSeverity(sev);
  return sev;
}

std::string CategoryFor(const Rule& rule, const Labels& base) {
  if (!rule.category.empty()) return rule.category;
  std::string c = LabelOf(base, "category");
  return c.empty() ? "application" : c;
}

// Within one evaluation a regex matcher's answer for a label value is remembered: series share
// hosts, units and targets, and a hash lookup costs less than RE2 on short strings.
class MatchMemo {
 public:
  bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels) {
    for (const Matcher& m : matchers) {
      if (!Matches(m, labels)) return false;
    }
    return true;
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Answers = std::unordered_map<std::string, bool, Hash, std::equal_to<>>;
  bool Matches(const Matcher& m, const Labels& labels) {
    if (m.op() == Matcher::Op::kEqual || m.op() == Matcher::Op::kNotEqual) return m.Matches(labels);
    auto it = labels.find(m.name());
    const std::string_view v = it == labels.end() ? std::string_view() : std::string_view(it->second);
    Answers& answers = memo_[&m];
    if (auto known = answers.find(v); known != answers.end()) return known->second;
    const bool yes = m.Matches(v);
    answers.emplace(std::string(v), yes);
    return yes;
  }
  std::unordered_map<const Matcher*, Answers> memo_;
};

// Builds the next alert book. `previous` is consumed: an alert that stays active is moved from it
// to the new book; what is left in it at the end was not held this round.
struct Builder {
  AlertBook& previous;
  int64_t now;
  Evaluation* out;
  std::unordered_set<uint64_t> seen;

  // The identity of the alert `rule` raises on labels `base` (whose LabelsHash is base_hash):
  // the base's pairs, the rule's labels over them, then alertname, severity and category.
  static uint64_t AlertHash(const Rule& rule, const Labels& base, uint64_t base_hash,
                            std::string_view severity, const std::string& category) {
    uint64_t h = base_hash;
    auto set = [&](const std::string& k, std::string_view v) {
      if (auto it = base.find(k); it != base.end()) h -= LabelPairHash(k, it->second);
      h += LabelPairHash(k, v);
    };
    for (const auto& [k, v] : rule.labels) set(k, v);
    set("severity", severity);
    set("category", category);
    set("alertname", rule.name);
    return h;
  }

  static Labels AlertLabels(const Rule& rule, const Labels& base, std::string_view severity,
                            const std::string& category) {
    Labels l = base;
    for (const auto& [k, v] : rule.labels) l[k] = v;
    l["severity"] = std::string(severity);
    l["category"] = category;
    l["alertname"] = rule.name;
    return l;
  }

  // Whether the alert was active before this round (held by an earlier sample of this round
  // counts too).
  bool WasActive(const Rule& rule, const Labels& base, uint64_t base_hash, const SeriesState* s) const {
    const uint64_t h = AlertHash(rule, base, base_hash, SeverityName(SeverityFor(rule, base, s)),
                                 CategoryFor(rule, base));
    return seen.count(h) != 0 || previous.active.count(h) != 0;
  }

  // The condition of `rule` holds on `base` (labels of a series, or of a series and a metric),
  // since `since` if it was not already active, with `value`.
  void Hold(const Rule& rule, const Labels& base, uint64_t base_hash, const SeriesState* s,
            int64_t since, double value) {
    const std::string_view severity = SeverityName(SeverityFor(rule, base, s));
    const std::string category = CategoryFor(rule, base);
    const uint64_t h = AlertHash(rule, base, base_hash, severity, category);
    if (!seen.insert(h).second) return;  // two samples made the same alert
    Alert a;
    auto node = previous.active.extract(h);
    const bool existed = !node.empty();
    const AlertPhase before = existed ? node.mapped().phase : AlertPhase::kPending;
    if (existed) {
      a = std::move(node.mapped());
      if (a.value != value) {
        a.value = value;
        for (const auto& [k, v] : rule.annotations) a.annotations[k] = Fill(v, a.labels, value);
      }
    } else {
      a.fingerprint = FingerprintText(h);
      a.rule = rule.name;
      a.labels = AlertLabels(rule, base, severity, category);
      a.active_since_ms = std::min(since, now);
      a.value = value;
      for (const auto& [k, v] : rule.annotations) a.annotations[k] = Fill(v, a.labels, value);
    }
    const bool firing = now - a.active_since_ms >= rule.for_ms;
    a.phase = firing ? AlertPhase::kFiring : AlertPhase::kPending;
    if (firing && !(existed && before == AlertPhase::kFiring)) a.firing_since_ms = now;
    if (!existed) {
      out->transitions.push_back({firing ? TransitionKind::kFiring : TransitionKind::kPending, a, now});
    } else if (firing && before == AlertPhase::kPending) {
      out->transitions.push_back({TransitionKind::kFiring, a, now});
    }
    out->book.active.emplace(h, std::move(a));
  }

  // Keeps an active alert as it is (a flapping series' check_status alerts).
  void Keep(uint64_t key) {
    auto node = previous.active.extract(key);
    if (node.empty()) return;
    seen.insert(key);
    out->book.active.insert(std::move(node));
  }
};

}  // namespace

std::string_view AlertPhaseName(AlertPhase p) { return p == AlertPhase::kPending ? "pending" : "firing"; }

std::string_view TransitionKindName(TransitionKind k) {
  switch (k) {
    case TransitionKind::kPending:
      return "pending";
    case TransitionKind::kFiring:
      return "firing";
    case TransitionKind::kResolved:
      return "resolved";
    case TransitionKind::kCleared:
      return "cleared";
  }
  return "?";
}

Evaluator::Evaluator(RuleSet rules) : rules_(std::move(rules)) {
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    const Rule& r = rules_.rules[i];
    rule_by_name_.emplace(r.name, i);
    const Matcher* by_name = nullptr;
    for (const Matcher& m : r.match) {
      if (m.name() == "check" && m.op() == Matcher::Op::kEqual) by_name = &m;
    }
    std::vector<Matcher> others;
    for (const Matcher& m : r.match) {
      if (&m != by_name) others.push_back(m);
    }
    other_matchers_.push_back(std::move(others));
    if (by_name != nullptr) {
      by_check_[by_name->value()].push_back(i);
    } else {
      any_check_.push_back(i);
    }
  }
  for (auto& [name, list] : by_check_) {
    list.insert(list.end(), any_check_.begin(), any_check_.end());
    std::sort(list.begin(), list.end());
  }
}

const std::vector<size_t>& Evaluator::RulesFor(const Labels& series_labels) const {
  auto check = series_labels.find("check");
  if (check == series_labels.end()) return any_check_;
  auto it = by_check_.find(check->second);
  return it == by_check_.end() ? any_check_ : it->second;
}



Evaluation Evaluator::Evaluate(const std::vector<SeriesState>& series, AlertBook previous,
                               int64_t now_ms) const {
  Evaluation out;
  Builder b{previous, now_ms, &out, {}};
  // Most of last round's alerts are held again: no rehashing while they are.
  b.seen.reserve(previous.active.size() + previous.active.size() / 4 + 64);
  out.book.active.reserve(previous.active.size() + previous.active.size() / 4 + 64);
  // The check="name" matcher a rule is indexed by holds for the series RulesFor hands it; the
  // rule's other matchers are tried.
  MatchMemo memo;
  auto selects = [&](size_t rule, const Labels& labels) {
    return memo.MatchesAll(other_matchers_[rule], labels);
  };

  // Flapping first: a flapping series gets one "unstable" alert, and its check_status alerts
  // stay as they were (neither raised nor resolved) until it settles.
  std::vector<char> series_flapping(series.size(), 0);
  std::unordered_set<std::string> flapping;  // SeriesKey of the flapping series
  for (size_t si = 0; si < series.size(); ++si) {
    const SeriesState& s = series[si];
    if (s.changes_ms.empty()) continue;
    for (size_t i : RulesFor(s.labels)) {
      const Rule& r = rules_.rules[i];
      if (r.kind != RuleKind::kFlapping || !selects(i, s.labels)) continue;
      const int64_t from = now_ms - r.within_ms;
      const auto n = std::count_if(s.changes_ms.begin(), s.changes_ms.end(),
                                   [&](int64_t t) { return t > from && t <= now_ms; });
      if (n < r.changes) continue;
      series_flapping[si] = 1;
      flapping.insert(SeriesKey(s.labels));
      const int64_t first = *std::find_if(s.changes_ms.begin(), s.changes_ms.end(),
                                          [&](int64_t t) { return t > from; });
      b.Hold(r, s.labels, LabelsHash(s.labels), &s, first, static_cast<double>(n));
    }
  }
  if (!flapping.empty()) {
    std::vector<uint64_t> keep;
    for (const auto& [key, a] : previous.active) {
      auto rule = rule_by_name_.find(a.rule);
      if (rule == rule_by_name_.end() || rules_.rules[rule->second].kind != RuleKind::kCheckStatus) {
        continue;
      }
      if (flapping.count(SeriesKey(a.labels))) keep.push_back(key);
    }
    for (uint64_t key : keep) b.Keep(key);
  }

  // When a check_status rule already held on a series, by series and rule: a status that gets
  // worse (warning -> critical) changes the alert's severity and so its identity, and the new
  // alert continues from the old one's start instead of waiting its `for` again.
  // Looked up by a number; the rule and series are kept to confirm a hit, so a hash collision
  // can never hand one series another's start.
  struct Held {
    std::string rule;
    std::string series;  // SeriesKey
    int64_t since_ms = 0;
  };
  std::unordered_multimap<uint64_t, Held> held_since;
  for (const auto& [key, a] : previous.active) {
    auto rule = rule_by_name_.find(a.rule);
    if (rule == rule_by_name_.end() || rules_.rules[rule->second].kind != RuleKind::kCheckStatus) continue;
    const uint64_t h = RuleSeriesHash(a.rule, a.labels);
    const std::string series = SeriesKey(a.labels);
    auto [first, last] = held_since.equal_range(h);
    auto same = std::find_if(first, last, [&](const auto& e) { return e.second.rule == a.rule && e.second.series == series; });
    if (same != last) {
      same->second.since_ms = std::min(same->second.since_ms, a.active_since_ms);
    } else {
      held_since.emplace(h, Held{a.rule, series, a.active_since_ms});
    }
  }

  // Host-scoped absence: the newest report over a host's matching series.
  std::map<std::pair<size_t, std::string>, std::pair<int64_t, const SeriesState*>> host_seen;

  for (size_t si = 0; si < series.size(); ++si) {
    const SeriesState& s = series[si];
    const bool is_flapping = series_flapping[si] != 0;
    // The series' labels hash, computed when a condition first holds on it.
    uint64_t series_hash = 0;
    bool hashed = false;
    auto hash = [&]() {
      if (!hashed) series_hash = LabelsHash(s.labels);
      hashed = true;
      return series_hash;
    };
    for (size_t i : RulesFor(s.labels)) {
      const Rule& r = rules_.rules[i];
      if (r.kind == RuleKind::kFlapping) continue;
      if (!selects(i, s.labels)) continue;
      switch (r.kind) {
        case RuleKind::kCheckStatus: {
          if (is_flapping) break;
          if (std::find(r.statuses.begin(), r.statuses.end(), s.status) == r.statuses.end()) break;
          int64_t since = s.status_since_ms;
          if (!held_since.empty()) {
            auto [first, last] = held_since.equal_range(RuleSeriesHash(r.name, s.labels));
            if (first != last) {
              const std::string series = SeriesKey(s.labels);  // only on a hit: confirm it
              for (auto it = first; it != last; ++it) {
                if (it->second.rule == r.name && it->second.series == series) since = std::min(since, it->second.since_ms);
              }
            }
          }
          b.Hold(r, s.labels, hash(), &s, since, static_cast<double>(s.status));
          break;
        }
        case RuleKind::kMetricThreshold:
        case RuleKind::kRateOfChange: {
          for (const MetricSample& m : s.metrics) {
            if (m.name != r.metric || !MatchesAll(r.metric_match, m.labels)) continue;
            double value = m.value;
            if (r.kind == RuleKind::kRateOfChange) {
              if (!m.previous || m.at_ms <= m.previous_at_ms) continue;
              value = (m.value - *m.previous) / static_cast<double>(m.at_ms - m.previous_at_ms) *
                      static_cast<double>(r.per_ms);
            }
            const bool over = Compare(value, r.op, r.threshold);
            // Between the recovery value and the threshold an active alert stays active.
            const bool held = r.kind == RuleKind::kMetricThreshold && !over && Compare(value, r.op, r.recover);
            if (!over && !held) continue;
            Labels base = s.labels;
            uint64_t base_hash = hash();
            for (const auto& [k, v] : m.labels) {
              if (base.emplace(k, v).second) base_hash += LabelPairHash(k, v);  // the series' names win
            }
            if (held && !b.WasActive(r, base, base_hash, &s)) continue;
            b.Hold(r, base, base_hash, &s, m.at_ms, value);
          }
          break;
        }
        case RuleKind::kAbsence: {
          if (r.host_scope) {
            // The newest series speaks for the host (its unit and category labels).
            auto& [newest, from] = host_seen[{i, LabelOf(s.labels, "host")}];
            if (from == nullptr || s.last_seen_ms > newest) {
              newest = s.last_seen_ms;
              from = &s;
            }
            break;
          }
          if (now_ms - s.last_seen_ms <= r.after_ms) break;
          b.Hold(r, s.labels, hash(), &s, s.last_seen_ms + r.after_ms,
                 static_cast<double>(now_ms - s.last_seen_ms) / 1000.0);
          break;
        }
        case RuleKind::kFlapping:
          break;
      }
    }
  }
  for (const auto& [key, seen] : host_seen) {
    const Rule& r = rules_.rules[key.first];
    const auto& [newest, from] = seen;
    if (now_ms - newest <= r.after_ms) continue;
    Labels base;
    for (const char* keep : {"host", "unit", "category", "service_window"}) {
      if (auto it = from->labels.find(keep); it != from->labels.end()) base[keep] = it->second;
    }
    b.Hold(r, base, LabelsHash(base), nullptr, newest + r.after_ms,
           static_cast<double>(now_ms - newest) / 1000.0);
  }

  // What was active and was not held this round: resolved if it fired, cleared if it was
  // still pending.
  for (auto& [key, a] : previous.active) {
    out.transitions.push_back(
        {a.phase == AlertPhase::kFiring ? TransitionKind::kResolved : TransitionKind::kCleared,
         std::move(a), now_ms});
  }
  std::stable_sort(out.transitions.begin(), out.transitions.end(),
                   [](const Transition& x, const Transition& y) {
                     if (x.kind != y.kind) return x.kind < y.kind;
                     return x.alert.fingerprint < y.alert.fingerprint;
                   });
  return out;
}

}  // namespace steadfast::alerting
