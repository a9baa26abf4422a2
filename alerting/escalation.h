// Escalation policies: who is notified when about a firing alert nobody has acknowledged. Pure:
// the collector asks which steps came due since it last asked, notifies their targets through
// the outbox (dedup key: fingerprint, round, tier) and stops asking once the alert is
// acknowledged or resolved.
//
// A policy is tiers; tier 0 comes due when the escalation starts (the alert fires, or an
// acknowledgement expires without the alert resolving), each later tier `after` the one before.
// With `repeat` > 0 the whole list runs again, `repeat_after` after the last tier, that many
// more times. A tier names on-call schedules (whoever is on call when the tier comes due),
// users and receivers (a channel such as the command centre's group). The last tier is usually
// the emergency command centre.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alerting/oncall.h"
#include "common/status.h"

namespace steadfast::alerting {

struct EscalationTier {
  int64_t after_ms = 0;  // after the previous tier (tier 0: after the escalation starts)
  std::vector<std::string> schedules;
  std::vector<std::string> users;
  std::vector<std::string> receivers;
};

struct EscalationPolicy {
  std::string name;
  std::vector<EscalationTier> tiers;
  int repeat = 0;               // extra rounds through the tiers
  int64_t repeat_after_ms = 0;  // between the last tier of a round and tier 0 of the next
};

// Checks tiers and delays and that every schedule a tier names is in `schedules` (so that
// StepsDue cannot fail on a name later).
Status ValidateEscalationPolicy(const EscalationPolicy& p, const std::vector<Schedule>& schedules);

struct EscalationStep {
  int round = 0;
  size_t tier = 0;
  int64_t due_ms = 0;
  std::vector<std::string> users;      // the tier's users and who its schedules had on call
  std::vector<std::string> receivers;
};

// The steps that came due in (after_ms, now_ms] for an escalation that started at `start_ms`,
// unless acknowledged at or before their time (`acked_ms`). Schedules are resolved by name in
// `schedules` at each step's due time; a schedule that is missing or fails is an error naming it.
StatusOr<std::vector<EscalationStep>> StepsDue(const EscalationPolicy& policy, int64_t start_ms,
                                               std::optional<int64_t> acked_ms, int64_t after_ms,
                                               int64_t now_ms,
                                               const std::vector<Schedule>& schedules);

}  // namespace steadfast::alerting
