#include "alerting/escalation.h"

#include <fmt/format.h>

#include <algorithm>

namespace steadfast::alerting {

Status ValidateEscalationPolicy(const EscalationPolicy& p, const std::vector<Schedule>& schedules) {
  if (p.tiers.empty()) return InvalidArgumentError(fmt::format("escalation policy {}: no tiers", p.name));
  for (size_t i = 0; i < p.tiers.size(); ++i) {
    const EscalationTier& t = p.tiers[i];
    if (t.schedules.empty() && t.users.empty() && t.receivers.empty()) {
      return InvalidArgumentError(
          fmt::format("escalation policy {}: tier {} notifies nobody", p.name, i + 1));
    }
    for (const std::string& name : t.schedules) {
      if (std::none_of(schedules.begin(), schedules.end(),
                       [&](const Schedule& s) { return s.name == name; })) {
        return InvalidArgumentError(
            fmt::format("escalation policy {}: tier {} names no schedule '{}'", p.name, i + 1, name));
      }
    }
    if (t.after_ms < 0 || (i > 0 && t.after_ms == 0)) {
      return InvalidArgumentError(fmt::format(
          "escalation policy {}: tier {} needs a positive delay after the tier before", p.name, i + 1));
    }
  }
  if (p.repeat < 0 || (p.repeat > 0 && p.repeat_after_ms <= 0)) {
    return InvalidArgumentError(fmt::format(
        "escalation policy {}: repeat is a count of extra rounds, with a positive repeat_after", p.name));
  }
  return OkStatus();
}

StatusOr<std::vector<EscalationStep>> StepsDue(const EscalationPolicy& policy, int64_t start_ms,
                                               std::optional<int64_t> acked_ms, int64_t after_ms,
                                               int64_t now_ms,
                                               const std::vector<Schedule>& schedules) {
  std::vector<EscalationStep> out;
  int64_t due = start_ms;
  for (int round = 0; round <= policy.repeat; ++round) {
    for (size_t tier = 0; tier < policy.tiers.size(); ++tier) {
      const EscalationTier& t = policy.tiers[tier];
      if (round > 0 && tier == 0) {
        due += policy.repeat_after_ms;
      } else {
        due += t.after_ms;
      }
      if (due > now_ms || (acked_ms && *acked_ms <= due)) return out;
      if (due <= after_ms) continue;
      EscalationStep step;
      step.round = round;
      step.tier = tier;
      step.due_ms = due;
      step.users = t.users;
      step.receivers = t.receivers;
      for (const std::string& name : t.schedules) {
        auto s = std::find_if(schedules.begin(), schedules.end(),
                              [&](const Schedule& x) { return x.name == name; });
        if (s == schedules.end()) {
          return NotFoundError(fmt::format("escalation policy {}: no schedule named '{}'", policy.name, name));
        }
        auto who = OnCallAt(*s, due);
        if (!who.ok()) return who.status().WithContext("schedule " + name);
        if (std::find(step.users.begin(), step.users.end(), who->user) == step.users.end()) {
          step.users.push_back(who->user);
        }
      }
      out.push_back(std::move(step));
    }
  }
  return out;
}

}  // namespace steadfast::alerting
