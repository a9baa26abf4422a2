#include "alerting/grouping.h"

#include <algorithm>

namespace steadfast::alerting {
namespace {

struct Pending {
  std::vector<std::string> new_firing;  // firing, not yet notified as firing
  std::vector<std::string> resolved;    // notified firing, now resolved
  std::vector<std::string> firing;      // every firing member
  bool critical = false;                // a firing member is critical
};

Pending Look(const GroupState& state, const std::vector<GroupMember>& members) {
  Pending p;
  for (const GroupMember& m : members) {
    const bool sent = state.sent_firing.count(m.fingerprint) != 0;
    if (m.firing) {
      p.firing.push_back(m.fingerprint);
      if (!sent) p.new_firing.push_back(m.fingerprint);
      if (m.critical) p.critical = true;
    } else if (sent) {
      p.resolved.push_back(m.fingerprint);
    }
  }
  return p;
}

// When the group may send, for what `p` holds; nullopt when there is nothing to send.
std::optional<int64_t> DueAt(const GroupState& state, const Route& route, const Pending& p) {
  const bool changed = !p.new_firing.empty() || !p.resolved.empty();
  if (state.last_sent_ms < 0) {
    if (p.firing.empty()) return std::nullopt;  // all resolved before the first notification
    return p.critical ? state.created_ms : state.created_ms + route.group_wait_ms;
  }
  if (changed) return state.last_sent_ms + route.group_interval_ms;
  if (!p.firing.empty()) return state.last_sent_ms + route.repeat_interval_ms;
  return std::nullopt;
}

}  // namespace

std::optional<GroupNotification> Flush(GroupState& state, const Route& route,
                                       const std::vector<GroupMember>& members, int64_t now_ms) {
  const Pending p = Look(state, members);
  const std::optional<int64_t> due = DueAt(state, route, p);
  if (!due || *due > now_ms) return std::nullopt;
  GroupNotification n;
  n.firing = p.firing;
  n.resolved = p.resolved;
  n.repeat = state.last_sent_ms >= 0 && p.new_firing.empty() && p.resolved.empty();
  n.at_ms = now_ms;
  state.last_sent_ms = now_ms;
  for (const std::string& fp : p.resolved) state.sent_firing.erase(fp);
  state.sent_firing.insert(p.firing.begin(), p.firing.end());
  return n;
}

std::optional<int64_t> NextFlush(const GroupState& state, const Route& route,
                                 const std::vector<GroupMember>& members) {
  return DueAt(state, route, Look(state, members));
}

bool Finished(const GroupState& state, const std::vector<GroupMember>& members) {
  const Pending p = Look(state, members);
  return p.firing.empty() && p.resolved.empty();
}

}  // namespace steadfast::alerting
