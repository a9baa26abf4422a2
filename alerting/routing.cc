#include "alerting/routing.h"

#include <fmt/format.h>

#include <algorithm>

namespace steadfast::alerting {
namespace {

using config::ConfigNode;

constexpr int64_t kDay = 86'400'000;

// Reads one node; what it does not set comes from `parent` (the defaults, for the root).
Status ReadRoute(const ConfigNode& n, const Route& parent, bool root, Route* out) {
  if (!n.IsMap()) return n.Error("expected a route: match, receiver, group_by, routes...");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"match", "receiver", "group_by", "group_wait",
                                           "group_interval", "repeat_interval", "continue",
                                           "escalation_policy", "routes"}));
  out->path = n.path();
  if (root && n["match"].present()) return n["match"].Error("the root route takes every alert; no match");
  if (root && n["continue"].present()) return n["continue"].Error("only a child route can continue");
  if (n["match"].present()) {
    SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> items, n["match"].Items());
    for (const ConfigNode& item : items) {
      SF_ASSIGN_OR_RETURN(std::string text, item.RequiredString());
      auto m = Matcher::Parse(text);
      if (!m.ok()) return item.Error(m.status().message());
      out->match.push_back(std::move(m).value());
    }
  }
  SF_ASSIGN_OR_RETURN(out->receiver, n["receiver"].String(parent.receiver));
  if (root && out->receiver.empty()) return n["receiver"].Error("required: where alerts go by default");
  if (n["group_by"].present()) {
    SF_ASSIGN_OR_RETURN(out->group_by, n["group_by"].StringList());
    if (std::find(out->group_by.begin(), out->group_by.end(), "...") != out->group_by.end() &&
        out->group_by.size() > 1) {
      return n["group_by"].Error("'...' (every label) stands alone");
    }
  } else {
    out->group_by = parent.group_by;
  }
  SF_ASSIGN_OR_RETURN(out->group_wait_ms, n["group_wait"].DurationMillis(parent.group_wait_ms, 0, kDay));
  SF_ASSIGN_OR_RETURN(out->group_interval_ms,
                      n["group_interval"].DurationMillis(parent.group_interval_ms, 1'000, kDay));
  SF_ASSIGN_OR_RETURN(out->repeat_interval_ms,
                      n["repeat_interval"].DurationMillis(parent.repeat_interval_ms, 60'000, 30 * kDay));
  SF_ASSIGN_OR_RETURN(out->continue_matching, n["continue"].Bool(false));
  SF_ASSIGN_OR_RETURN(out->escalation_policy, n["escalation_policy"].String(parent.escalation_policy));
  if (n["routes"].present()) {
    SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> children, n["routes"].Items());
    for (const ConfigNode& c : children) {
      Route child;
      SF_RETURN_IF_ERROR(ReadRoute(c, *out, false, &child));
      if (child.match.empty()) {
        return c.Error("a child route needs match (without one it would take every alert)");
      }
      out->routes.push_back(std::move(child));
    }
  }
  return OkStatus();
}

void Walk(const Route& node, const Labels& labels, std::vector<RouteMatch>* out) {
  bool taken = false;
  for (const Route& child : node.routes) {
    if (!MatchesAll(child.match, labels)) continue;
    Walk(child, labels, out);
    taken = true;
    if (!child.continue_matching) break;
  }
  if (taken) return;
  RouteMatch m;
  m.route = &node;
  const bool all = !node.group_by.empty() && node.group_by.front() == "...";
  if (all) {
    m.group_labels = labels;
  } else {
    for (const std::string& name : node.group_by) {
      auto it = labels.find(name);
      if (it != labels.end()) m.group_labels[name] = it->second;
    }
  }
  m.group_key = node.path + LabelsText(m.group_labels);
  out->push_back(std::move(m));
}

void CollectReceivers(const Route& node, std::vector<std::string>* out) {
  if (std::find(out->begin(), out->end(), node.receiver) == out->end()) out->push_back(node.receiver);
  for (const Route& c : node.routes) CollectReceivers(c, out);
}

}  // namespace

StatusOr<Route> ParseRoute(const ConfigNode& node) {
  Route root;
  SF_RETURN_IF_ERROR(ReadRoute(node, Route{}, true, &root));
  return root;
}

std::vector<std::string> ReceiversOf(const Route& root) {
  std::vector<std::string> out;
  CollectReceivers(root, &out);
  return out;
}

std::vector<RouteMatch> MatchRoutes(const Route& root, const Labels& labels) {
  std::vector<RouteMatch> out;
  Walk(root, labels, &out);
  return out;
}

}  // namespace steadfast::alerting
