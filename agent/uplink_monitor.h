// UplinkMonitor: the agent's own link to the collector, measured like the links it checks.
// The uplink thread records every exchange; the monitor keeps consecutive failures, when the
// current outage started, the last error and the last success, and reports an outage when the
// link comes back. The agent turns that into a result of the built-in check "uplink" (target:
// the collector URL) with the outage's duration and the backlog it left in the spool, and
// exports the state on /metrics (steadfast_agent_uplink_*).
//
// An exchange counts as a success when the collector answered and took the batch or judged it
// (200; 400/413/422 that split or reject a batch); as a failure when no answer came or the
// answer was 5xx/408/429/another unexpected status or 401/403 (the token was refused: nothing
// gets through). Waits during a backoff and idle turns are not exchanges.
//
// Thread-safe: Record from the uplink thread, Snapshot from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "agent/spool.h"
#include "agent/uplink.h"
#include "common/protocol/protocol.h"

namespace steadfast::agent {

// The built-in check's name; configured checks may not use it.
inline constexpr const char* kUplinkCheckName = "uplink";

struct UplinkOutage {
  int64_t started_ms = 0;  // unix ms of the first failed exchange
  int64_t ended_ms = 0;    // unix ms of the success that ended it
  int64_t failures = 0;    // failed exchanges in between
  std::string last_error;
};

struct UplinkState {
  bool up = false;  // the last exchange succeeded (false before the first one)
  int64_t consecutive_failures = 0;
  int64_t outage_started_ms = 0;  // 0 when up
  int64_t last_success_ms = 0;
  int64_t last_failure_ms = 0;
  std::string last_error;
  int64_t outages_total = 0;               // outages that began since start
  int64_t last_outage_duration_ms = 0;     // of the last outage that ended
};

class UplinkMonitor {
 public:
  // Records one SendOnce outcome at `now_ms`. Returns the outage this success ended, if any.
  std::optional<UplinkOutage> Record(const UplinkResult& result, int64_t now_ms);
  UplinkState Snapshot() const;

 private:
  mutable std::mutex mu_;
  UplinkState state_;
};

// The "uplink" result reported when an outage ends (`outage` set) or when the spool dropped
// results since the last report (`drops` non-zero): ok, or warning when results were dropped.
protocol::CheckResult UplinkReport(const std::string& collector_url, const UplinkOutage* outage,
                                   int64_t backlog_rows, const SpoolDrops& drops,
                                   int64_t now_ms);

// The "uplink" result once the backlog after a warning report is delivered: ok.
protocol::CheckResult UplinkCaughtUpReport(const std::string& collector_url, int64_t now_ms);

}  // namespace steadfast::agent
