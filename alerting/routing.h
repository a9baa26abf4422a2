// The notification routing tree (Alertmanager's model): which receivers an alert goes to and
// how its notifications are grouped.
//
//   route:
//     receiver: duty-email                 # the root's receiver: where everything else goes
//     group_by: [alertname, unit]          # alerts sharing these labels form one notification
//     group_wait: 10s                      # how long a new group's first notification waits
//                                          # to batch more alerts
//     group_interval: 1m                   # between notifications of a group with changes
//     repeat_interval: 4h                  # re-send a group that is still firing unchanged
//     routes:
//       - match: ['category="equipment"', 'severity=~"critical|major"']
//         receiver: server-room-dingtalk
//         continue: true                   # also try the next siblings
//       - match: ['unit="finance"']
//         receiver: finance-wecom
//         escalation_policy: finance-duty      # escalation.h; inherited like the receiver
//         group_by: [...]                  # "..." groups by every label: one alert per group
//
// Children inherit receiver, group_by, the timings and escalation_policy unless they set them
// (filled in when the tree is read). Sending by these timings is the collector's alert engine's
// work (grouping.h). An alert goes down the tree to the first matching child (and its siblings
// after it while `continue` is set), recursively; where no child matches, the node itself takes
// it.
#pragma once

#include <string>
#include <vector>

#include "alerting/labels.h"
#include "common/config/config_node.h"
#include "common/status.h"

namespace steadfast::alerting {

struct Route {
  std::vector<Matcher> match;
  std::string receiver;
  std::vector<std::string> group_by;  // {"..."}: every label
  int64_t group_wait_ms = 10'000;
  int64_t group_interval_ms = 60'000;
  int64_t repeat_interval_ms = 4 * 3'600'000;
  bool continue_matching = false;
  std::string escalation_policy;  // who is paged while its alerts fire unacknowledged ("" none)
  std::vector<Route> routes;
  std::string path;  // "route.routes[1]", for messages and group keys
};

// Reads a route tree (the `route` mapping); the root needs a receiver. Unknown receivers are the
// caller's to check (ReceiversOf lists them).
StatusOr<Route> ParseRoute(const config::ConfigNode& node);
std::vector<std::string> ReceiversOf(const Route& root);

struct RouteMatch {
  const Route* route = nullptr;  // the node that took the alert, with inherited values filled in
  std::string group_key;         // the node's path and the alert's group_by label values
  Labels group_labels;           // those labels
};

// Where an alert with `labels` goes: one match per receiving node, in tree order.
std::vector<RouteMatch> MatchRoutes(const Route& root, const Labels& labels);

}  // namespace steadfast::alerting
