// Notification grouping: when a group of alerts (one routing node and its group_by values, see
// routing.h) is notified. Pure; the notifier calls Flush for each group it holds, with the
// group's current members, and sends what it returns through the outbox.
//
// - A new group's first notification waits `group_wait` to batch alerts that fire together,
//   except that a group whose members include a firing critical alert is notified at once: the
//   first critical of a group is never held.
// - After that, a change (an alert newly firing, critical ones included, or one that was
//   notified firing and has resolved) is notified at most every `group_interval`.
// - A group still firing without changes is notified again every `repeat_interval`.
// - A resolution is notified only for an alert that was notified firing; an alert that fired
//   and resolved between two notifications is never sent.
#pragma once

#include <cstdint>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "alerting/labels.h"
#include "alerting/routing.h"

namespace steadfast::alerting {

struct GroupMember {
  std::string fingerprint;
  bool firing = true;     // false: resolved (kept until its resolution is notified)
  bool critical = false;  // severity critical
};

struct GroupState {
  int64_t created_ms = 0;     // when the group got its first member
  int64_t last_sent_ms = -1;  // -1: never notified
  std::set<std::string> sent_firing;  // fingerprints notified as firing, still firing
};

struct GroupNotification {
  std::vector<std::string> firing;
  std::vector<std::string> resolved;
  bool repeat = false;  // nothing changed; the repeat_interval reminder
  int64_t at_ms = 0;
};

// The notification due for the group now, if any, updating `state` as sent.
std::optional<GroupNotification> Flush(GroupState& state, const Route& route,
                                       const std::vector<GroupMember>& members, int64_t now_ms);

// When Flush may next have something to send for these members (nullopt: nothing will come
// until the members change).
std::optional<int64_t> NextFlush(const GroupState& state, const Route& route,
                                 const std::vector<GroupMember>& members);

// True when the group has nothing firing and no resolution left to send: the caller drops it,
// so that an alert joining later starts a new group (with its group_wait), as in Alertmanager.
bool Finished(const GroupState& state, const std::vector<GroupMember>& members);

}  // namespace steadfast::alerting
