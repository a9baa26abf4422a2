#include "collector/auth/lockout.h"

#include <arpa/inet.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

namespace steadfast::collector::auth {
namespace {

// Far beyond any threshold; stops the counter from overflowing under a years-long attack.
constexpr int kMaxCountedFailures = 1'000'000;

}  // namespace

Status LockoutPolicy::Validate() const {
  if (threshold < 1 || threshold > 1000) {
    return InvalidArgumentError("threshold must be between 1 and 1000, got " + std::to_string(threshold));
  }
  if (first_delay_ms <= 0) return InvalidArgumentError("first_delay must be positive");
  if (!(growth_factor >= 1.0 && growth_factor <= 100.0)) {
    return InvalidArgumentError("growth_factor must be between 1 and 100");
  }
  if (max_delay_ms < first_delay_ms) return InvalidArgumentError("max_delay must not be shorter than first_delay");
  if (reset_after_ms <= 0) return InvalidArgumentError("reset_after must be positive");
  return OkStatus();
}

int64_t LockoutPolicy::DelayForFailures(int failures) const {
  if (failures < threshold) return 0;
  // pow of a large exponent is +inf, which the cap below absorbs.
  double delay = static_cast<double>(first_delay_ms) * std::pow(growth_factor, failures - threshold);
  if (!(delay < static_cast<double>(max_delay_ms))) return max_delay_ms;
  return static_cast<int64_t>(delay);
}

bool LockoutPolicy::IsQuiet(const LockoutState& state, int64_t now_ms) const {
  if (state.failures == 0 && state.locked_until_ms <= now_ms) return true;
  if (now_ms < state.locked_until_ms) return false;
  int64_t since = std::max(state.last_failure_ms, state.locked_until_ms);
  return now_ms - since >= reset_after_ms;
}

LockoutDecision LockoutPolicy::Check(const LockoutState& state, int64_t now_ms) const {
  if (now_ms < state.locked_until_ms) return LockoutDecision{false, state.locked_until_ms - now_ms};
  return LockoutDecision{true, 0};
}

LockoutState LockoutPolicy::OnFailure(const LockoutState& state, int64_t now_ms) const {
  LockoutState next = IsQuiet(state, now_ms) ? LockoutState{} : state;
  next.failures = std::min(next.failures + 1, kMaxCountedFailures);
  next.last_failure_ms = now_ms;
  int64_t delay = DelayForFailures(next.failures);
  if (delay > 0) next.locked_until_ms = std::max(next.locked_until_ms, now_ms + delay);
  return next;
}

LockoutState LockoutPolicy::OnSuccess(const LockoutState&) { return LockoutState{}; }

LockoutPolicy DefaultAccountLockout() { return LockoutPolicy{}; }

LockoutPolicy DefaultAddressLockout() {
  LockoutPolicy p;
  p.threshold = 20;
  p.first_delay_ms = 60'000;
  p.growth_factor = 2.0;
  p.max_delay_ms = 15 * 60'000;
  p.reset_after_ms = 15 * 60'000;
  return p;
}

StatusOr<LockoutPolicy> ParseLockoutPolicy(const config::ConfigNode& node, const LockoutPolicy& defaults,
                                           const std::vector<std::string>& extra_keys) {
  std::vector<std::string> known = {"threshold", "first_delay", "growth_factor", "max_delay", "reset_after"};
  known.insert(known.end(), extra_keys.begin(), extra_keys.end());
  SF_RETURN_IF_ERROR(node.CheckNoUnknownKeys(known));
  constexpr int64_t kDayMs = 24LL * 3600 * 1000;
  LockoutPolicy p = defaults;
  SF_ASSIGN_OR_RETURN(int64_t threshold, node["threshold"].Int(p.threshold, 1, 1000));
  p.threshold = static_cast<int>(threshold);
  SF_ASSIGN_OR_RETURN(p.first_delay_ms, node["first_delay"].DurationMillis(p.first_delay_ms, 1000, kDayMs));
  SF_ASSIGN_OR_RETURN(p.growth_factor, node["growth_factor"].Double(p.growth_factor, 1.0, 100.0));
  SF_ASSIGN_OR_RETURN(p.max_delay_ms, node["max_delay"].DurationMillis(p.max_delay_ms, 1000, 7 * kDayMs));
  SF_ASSIGN_OR_RETURN(p.reset_after_ms, node["reset_after"].DurationMillis(p.reset_after_ms, 1000, 30 * kDayMs));
  if (p.max_delay_ms < p.first_delay_ms) {
    config::ConfigNode at = node["max_delay"].present() ? node["max_delay"] : node["first_delay"];
    return at.Error("max_delay must not be shorter than first_delay");
  }
  Status valid = p.Validate();
  if (!valid.ok()) return node.Error(valid.message());
  return p;
}

std::string AddressKey(std::string_view address) {
  std::string host(address);
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string::npos) host = host.substr(1, close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));  // "a.b.c.d:port"
  }
  size_t zone = host.find('%');
  if (zone != std::string::npos) host.resize(zone);

  unsigned char v4[4];
  if (inet_pton(AF_INET, host.c_str(), v4) == 1) {
    char text[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, v4, text, sizeof text) ? std::string(text) : host;
  }
  unsigned char v6[16];
  if (inet_pton(AF_INET6, host.c_str(), v6) == 1) {
    static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char text[INET6_ADDRSTRLEN];
    if (std::memcmp(v6, kMappedPrefix, sizeof kMappedPrefix) == 0) {
      return inet_ntop(AF_INET, v6 + 12, text, sizeof text) ? std::string(text) : host;
    }
    std::memset(v6 + 8, 0, 8);
    return inet_ntop(AF_INET6, v6, text, sizeof text) ? std::string(text) + "/64" : host;
  }
  return std::string(address);
}

AddressThrottle::AddressThrottle(const LockoutPolicy& policy, size_t max_entries)
    : policy_(policy), max_entries_(max_entries) {
  // Both come from ParseAuthConfig, which validates them, or from code with fixed values.
  SF_CHECK_OK(policy_.Validate());
  SF_CHECK(max_entries_ >= 1);
}

void AddressThrottle::Touch(Entry& entry) { lru_.splice(lru_.begin(), lru_, entry.lru_pos); }

LockoutDecision AddressThrottle::Check(std::string_view address, int64_t now_ms) {
  std::string key = AddressKey(address);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return LockoutDecision{};
  if (policy_.IsQuiet(it->second.state, now_ms)) {
    lru_.erase(it->second.lru_pos);
    entries_.erase(it);
    return LockoutDecision{};
  }
  Touch(it->second);
  return policy_.Check(it->second.state, now_ms);
}

void AddressThrottle::OnFailure(std::string_view address, int64_t now_ms) {
  std::string key = AddressKey(address);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_entries_) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = entries_.emplace(key, Entry{LockoutState{}, lru_.begin()}).first;
  } else {
    Touch(it->second);
  }
  it->second.state = policy_.OnFailure(it->second.state, now_ms);
}

size_t AddressThrottle::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace steadfast::collector::auth
