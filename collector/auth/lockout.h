// Lockout: a growing delay after repeated login failures, as a pure state machine, plus an
// in-memory per-source-address table built on it.
//
// Timeline for one key (an account, or a source address), with threshold 5, first delay 10m,
// growth 2, max delay 60m:
//
//   failures 1..4      -> allowed at once
//   failure 5          -> locked for 10m      (the threshold-th failure locks)
//   failure 6 (after)  -> locked for 20m      (each failure past the threshold multiplies)
//   failure 7          -> 40m, then 60m, 60m, ... (capped at max_delay)
//   reset_after without a failure, counted from the later of the last failure and the end of
//   the last lock -> the count starts again from zero. A success resets it at once (accounts
//   only; see AddressThrottle).
//
// A caller checks BEFORE verifying the password and, while locked, refuses even the right
// password (HTTP 429 with Retry-After), so the lock cannot be used as an oracle. Attempts
// refused by Check are not failures: do not call OnFailure for them — the delay then depends
// only on password guesses actually tried, and a locked account cannot be locked for longer
// by hammering it.
//
// All times are unix milliseconds (Clock::NowMillis()); durations are milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/config/config_node.h"
#include "common/status.h"

namespace steadfast::collector::auth {

// Per-key state; the account store persists it per user (UserCredentials).
struct LockoutState {
  int failures = 0;              // consecutive failures not yet forgotten
  int64_t locked_until_ms = 0;   // 0 or a time; locked while now < locked_until_ms
  int64_t last_failure_ms = 0;   // 0 = none
  friend bool operator==(const LockoutState&, const LockoutState&) = default;
};

struct LockoutDecision {
  bool allowed = true;
  int64_t retry_after_ms = 0;  // > 0 exactly when !allowed: time left until the lock ends
  // Whole seconds for an HTTP Retry-After header, rounded up (at least 1 when locked).
  int64_t RetryAfterSeconds() const { return (retry_after_ms + 999) / 1000; }
};

struct LockoutPolicy {
  int threshold = 5;                    // consecutive failures that cause the first lock (>= 1)
  int64_t first_delay_ms = 10 * 60'000;  // length of the first lock (> 0)
  double growth_factor = 2.0;           // each later lock is this much longer (>= 1)
  int64_t max_delay_ms = 60 * 60'000;    // cap on one lock (>= first_delay_ms)
  int64_t reset_after_ms = 30 * 60'000;  // quiet time after which failures are forgotten (> 0)

  // InvalidArgument naming the field when a bound above is broken.
  Status Validate() const;

  // Whether an attempt may go ahead at `now_ms`. Pure.
  LockoutDecision Check(const LockoutState& state, int64_t now_ms) const;
  // The state after a failed attempt at `now_ms` (one that Check allowed). Pure.
  LockoutState OnFailure(const LockoutState& state, int64_t now_ms) const;
  // The state after a successful login: everything forgotten.
  static LockoutState OnSuccess(const LockoutState& state);
  // The lock length the n-th consecutive failure causes (0 below the threshold).
  int64_t DelayForFailures(int failures) const;
  // True when `state` is forgotten at `now_ms` (quiet for reset_after_ms and not locked): the
  // next failure counts as the first. A store may then drop or zero the state.
  bool IsQuiet(const LockoutState& state, int64_t now_ms) const;
};

// Defaults for accounts: 5 failures (the usual MLPS assessment figure, see password_policy.h)
// lock for 10 minutes, doubling up to an hour; forgotten after 30 quiet minutes.
LockoutPolicy DefaultAccountLockout();
// Defaults for source addresses: more tolerant, since one address may be a whole office
// behind NAT, but it also catches one client spraying guesses over many accounts: 20 failures
// lock for 1 minute, doubling up to 15 minutes; forgotten after 15 quiet minutes.
LockoutPolicy DefaultAddressLockout();

// Reads a lockout mapping (each key optional, defaults from `defaults`):
//   threshold: 5
//   first_delay: 10m
//   growth_factor: 2
//   max_delay: 1h
//   reset_after: 30m
// `extra_keys` are allowed too (read by the caller, e.g. AddressThrottle's table_size).
// InvalidArgument "file:line: key: ..." for an unknown key, wrong type or broken bound.
StatusOr<LockoutPolicy> ParseLockoutPolicy(const config::ConfigNode& node, const LockoutPolicy& defaults,
                                           const std::vector<std::string>& extra_keys = {});

// The key under which an address is throttled. Accepts what HttpRequest::remote_address holds
// ("192.0.2.1:51234", "[2001:db8::1]:51234") as well as bare addresses, and drops the port —
// every connection has a new one. An IPv4 address is the key as is (also when written as
// IPv4-mapped IPv6, "::ffff:192.0.2.1"); an IPv6 address is keyed by its /64 prefix
// ("2001:db8:1:2::/64"), since one client normally holds a whole /64. Anything that does not
// parse as an IP address is used verbatim.
std::string AddressKey(std::string_view address);

// AddressThrottle: LockoutPolicy per source address, kept in memory (lost on restart, which
// only forgets delays). Bounded: at most `max_entries` addresses; when full, the least
// recently used entry is dropped. Entries that have gone quiet are dropped when touched.
// Unlike accounts there is no OnSuccess: one valid account would otherwise let its holder
// clear their address's count between guesses at other accounts. Thread-safe (one mutex).
class AddressThrottle {
 public:
  // `policy` must pass Validate() and max_entries must be >= 1 (crashes otherwise; both come
  // from ParseAuthConfig or code).
  AddressThrottle(const LockoutPolicy& policy, size_t max_entries);

  // Addresses are normalised with AddressKey.
  LockoutDecision Check(std::string_view address, int64_t now_ms);
  void OnFailure(std::string_view address, int64_t now_ms);

  size_t size() const;
  const LockoutPolicy& policy() const { return policy_; }

 private:
  struct Entry {
    LockoutState state;
    std::list<std::string>::iterator lru_pos;
  };
  void Touch(Entry& entry);  // requires mu_

  const LockoutPolicy policy_;
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // most recently used first; guarded by mu_
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
};

}  // namespace steadfast::collector::auth
