#include "alerting/rules.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "common/config/config_node.h"

namespace steadfast::alerting {
namespace {

using config::ConfigNode;

constexpr int64_t kDay = 86'400'000;

const std::vector<std::string> kKinds = {"check_status", "metric_threshold", "absence",
                                         "rate_of_change", "flapping"};
const std::vector<std::string> kSeverities = {"critical", "major", "warning", "info"};
const std::vector<std::string> kCategories = {"equipment", "network",     "security",
                                              "backup",    "application", "dataentry"};

StatusOr<std::vector<Matcher>> ReadMatchers(const ConfigNode& node) {
  std::vector<Matcher> out;
  if (!node.present()) return out;
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> items, node.Items());
  for (const ConfigNode& item : items) {
    SF_ASSIGN_OR_RETURN(std::string text, item.RequiredString());
    auto m = Matcher::Parse(text);
    if (!m.ok()) return item.Error(m.status().message());
    out.push_back(std::move(m).value());
  }
  return out;
}

StatusOr<Labels> ReadLabels(const ConfigNode& node, bool names_only_identifiers) {
  Labels out;
  if (!node.present()) return out;
  if (!node.IsMap()) return node.Error("expected a mapping of names to text");
  SF_ASSIGN_OR_RETURN(std::vector<std::string> keys, node.Keys());
  for (const std::string& k : keys) {
    if (names_only_identifiers && !IsLabelName(k)) {
      return node[k].Error("a label name is letters, digits and _, not starting with a digit");
    }
    SF_ASSIGN_OR_RETURN(std::string v, node[k].RequiredString());
    out[k] = v;
  }
  return out;
}

// One of `allowed`, or "" when the key is absent.
StatusOr<std::string> OptionalEnum(const ConfigNode& node, const std::vector<std::string>& allowed) {
  if (!node.present()) return std::string();
  return node.Enum(allowed, allowed.front());
}

StatusOr<Comparison> ReadComparison(const ConfigNode& node) {
  SF_ASSIGN_OR_RETURN(std::string op, node.Enum({">", ">=", "<", "<="}, ">"));
  if (op == ">") return Comparison::kGreater;
  if (op == ">=") return Comparison::kGreaterOrEqual;
  if (op == "<") return Comparison::kLess;
  return Comparison::kLessOrEqual;
}

StatusOr<Rule> ReadRule(const ConfigNode& n, const std::string& file) {
  Rule r;
  r.source = fmt::format("{}:{}", file, n.line());
  if (!n.IsMap()) return n.Error("expected a rule (a mapping with name and kind)");
  SF_ASSIGN_OR_RETURN(r.name, n["name"].RequiredString());
  for (char c : r.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return n["name"].Error("a rule name is letters, digits, '-', '_' and '.'");
    }
  }
  SF_ASSIGN_OR_RETURN(std::string kind, OptionalEnum(n["kind"], kKinds));
  if (kind.empty()) return n["kind"].Error("required: one of " + fmt::format("{}", fmt::join(kKinds, ", ")));
  std::vector<std::string> known = {"name", "kind", "match", "severity", "category", "labels",
                                    "annotations"};
  SF_ASSIGN_OR_RETURN(r.match, ReadMatchers(n["match"]));
  SF_ASSIGN_OR_RETURN(std::string severity, OptionalEnum(n["severity"], kSeverities));
  if (!severity.empty()) {
    r.severity = static_cast<Severity>(
        std::find(kSeverities.begin(), kSeverities.end(), severity) - kSeverities.begin());
  }
  SF_ASSIGN_OR_RETURN(r.category, OptionalEnum(n["category"], kCategories));
  SF_ASSIGN_OR_RETURN(r.labels, ReadLabels(n["labels"], true));
  SF_ASSIGN_OR_RETURN(r.annotations, ReadLabels(n["annotations"], false));
  for (const char* reserved : {"alertname", "severity", "category"}) {
    if (r.labels.count(reserved)) {
      return n["labels"][reserved].Error(fmt::format("'{}' is set by the rule's own key", reserved));
    }
  }
  auto read_metric = [&]() -> Status {
    known.insert(known.end(), {"metric", "metric_match", "op", "threshold"});
    SF_ASSIGN_OR_RETURN(r.metric, n["metric"].RequiredString());
    SF_ASSIGN_OR_RETURN(r.metric_match, ReadMatchers(n["metric_match"]));
    SF_ASSIGN_OR_RETURN(r.op, ReadComparison(n["op"]));
    if (!n["threshold"].present()) return n["threshold"].Error("required for a " + kind + " rule");
    SF_ASSIGN_OR_RETURN(r.threshold, n["threshold"].Double(0));
    return OkStatus();
  };
  auto read_for = [&]() -> Status {
    known.push_back("for");
    SF_ASSIGN_OR_RETURN(r.for_ms, n["for"].DurationMillis(0, 0, 30 * kDay));
    return OkStatus();
  };
  if (kind == "check_status") {
    r.kind = RuleKind::kCheckStatus;
    known.push_back("statuses");
    SF_RETURN_IF_ERROR(read_for());
    if (n["statuses"].present()) {
      SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> items, n["statuses"].Items());
      for (const ConfigNode& item : items) {
        SF_ASSIGN_OR_RETURN(std::string s, item.Enum({"warning", "critical", "unknown"}, "warning"));
        r.statuses.push_back(*protocol::ParseCheckStatus(s));
      }
      if (r.statuses.empty()) return n["statuses"].Error("at least one status");
    } else {
      r.statuses = {protocol::CheckStatus::kWarning, protocol::CheckStatus::kCritical};
    }
  } else if (kind == "metric_threshold") {
    r.kind = RuleKind::kMetricThreshold;
    SF_RETURN_IF_ERROR(read_metric());
    SF_RETURN_IF_ERROR(read_for());
    known.push_back("recover");
    SF_ASSIGN_OR_RETURN(r.recover, n["recover"].Double(r.threshold));
    const bool upward = r.op == Comparison::kGreater || r.op == Comparison::kGreaterOrEqual;
    if (upward ? r.recover > r.threshold : r.recover < r.threshold) {
      return n["recover"].Error(fmt::format(
          "must be on the healthy side of the threshold ({} {}), or the alert could never resolve",
          upward ? "at most" : "at least", r.threshold));
    }
  } else if (kind == "absence") {
    r.kind = RuleKind::kAbsence;
    known.insert(known.end(), {"after", "scope"});
    if (!n["after"].present()) return n["after"].Error("required: how long a silence is an alert, like 10m");
    SF_ASSIGN_OR_RETURN(r.after_ms, n["after"].DurationMillis(0, 1'000, 30 * kDay));
    SF_ASSIGN_OR_RETURN(std::string scope, n["scope"].Enum({"check", "host"}, "check"));
    r.host_scope = scope == "host";
  } else if (kind == "rate_of_change") {
    r.kind = RuleKind::kRateOfChange;
    SF_RETURN_IF_ERROR(read_metric());
    SF_RETURN_IF_ERROR(read_for());
    known.push_back("per");
    SF_ASSIGN_OR_RETURN(r.per_ms, n["per"].DurationMillis(1'000, 1, 365 * kDay));
  } else {
    r.kind = RuleKind::kFlapping;
    known.insert(known.end(), {"changes", "within"});
    SF_ASSIGN_OR_RETURN(r.changes, n["changes"].Int(5, 2, 1000));
    SF_ASSIGN_OR_RETURN(r.within_ms, n["within"].DurationMillis(600'000, 1'000, kDay));
  }
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  return r;
}

}  // namespace

std::string_view RuleKindName(RuleKind k) {
  return kKinds[static_cast<size_t>(k)];
}

std::string_view SeverityName(Severity s) { return kSeverities[static_cast<size_t>(s)]; }

Severity RaiseSeverity(Severity s) {
  return s == Severity::kCritical ? s : static_cast<Severity>(static_cast<int>(s) - 1);
}

bool Compare(double value, Comparison op, double threshold) {
  switch (op) {
    case Comparison::kGreater:
      return value > threshold;
    case Comparison::kGreaterOrEqual:
      return value >= threshold;
    case Comparison::kLess:
      return value < threshold;
    case Comparison::kLessOrEqual:
      return value <= threshold;
  }
  return false;
}

StatusOr<RuleSet> ParseRules(const std::string& text, const std::string& file_name) {
  SF_ASSIGN_OR_RETURN(config::ConfigDocument doc, config::ConfigDocument::Parse(text, file_name));
  const ConfigNode& root = doc.root();
  RuleSet set;
  if (!root.present()) return set;  // an empty file: no rules
  if (!root.IsMap()) return root.Error("expected a mapping with a 'rules' list");
  SF_RETURN_IF_ERROR(root.CheckNoUnknownKeys({"rules", "inhibit"}));
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> inhibits, root["inhibit"].Items());
  for (const ConfigNode& item : inhibits) {
    if (!item.IsMap()) return item.Error("expected source, target and equal");
    SF_RETURN_IF_ERROR(item.CheckNoUnknownKeys({"source", "target", "equal"}));
    InhibitRule ir;
    SF_ASSIGN_OR_RETURN(ir.source, ReadMatchers(item["source"]));
    SF_ASSIGN_OR_RETURN(ir.target, ReadMatchers(item["target"]));
    SF_ASSIGN_OR_RETURN(ir.equal, item["equal"].StringList());
    if (ir.source.empty()) return item["source"].Error("required: matchers for the inhibiting alert");
    if (ir.target.empty()) return item["target"].Error("required: matchers for the inhibited alerts");
    set.inhibit.push_back(std::move(ir));
  }
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> items, root["rules"].Items());
  std::set<std::string> names;
  for (const ConfigNode& item : items) {
    SF_ASSIGN_OR_RETURN(Rule r, ReadRule(item, file_name));
    if (!names.insert(r.name).second) {
      return item["name"].Error("another rule in this file is named '" + r.name + "'");
    }
    set.rules.push_back(std::move(r));
  }
  return set;
}

StatusOr<RuleSet> LoadRuleFiles(const std::vector<std::string>& paths) {
  RuleSet all;
  std::map<std::string, std::string> where;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFoundError(path + ": cannot open the rule file");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SF_ASSIGN_OR_RETURN(RuleSet one, ParseRules(text, path));
    for (Rule& r : one.rules) {
      auto [it, fresh] = where.emplace(r.name, r.source);
      if (!fresh) {
        return InvalidArgumentError(fmt::format("{}: rule '{}' is also defined at {}", r.source,
                                                r.name, it->second));
      }
      all.rules.push_back(std::move(r));
    }
    for (InhibitRule& ir : one.inhibit) all.inhibit.push_back(std::move(ir));
  }
  return all;
}

}  // namespace steadfast::alerting
