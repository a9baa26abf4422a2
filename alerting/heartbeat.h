// Heartbeats: a dead-man's switch for cron jobs and backup scripts. A job pings when it starts,
// when it succeeds, when it fails, or with its exit code; the collector turns the pings into a
// check status (a series check="heartbeat", target=<name>), so the same rules, routing and
// escalation apply. Pure.
//
// - The last completion (success, fail, or an exit code: 0 is success) decides, unless a start
//   came after it: then the job is running, and past `max_runtime` that is critical. Running
//   does not excuse lateness: past period and grace without a success it is critical too.
// - A failure is critical until the next success.
// - A success is due again `period` after the last one; `grace` later without one, the job is
//   late: critical, "no success since ...". A heartbeat never pinged is late once `period` and
//   `grace` have passed since it was created.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol/protocol.h"

namespace steadfast::alerting {

struct HeartbeatConfig {
  std::string name;
  int64_t period_ms = 86'400'000;
  int64_t grace_ms = 3'600'000;
  std::optional<int64_t> max_runtime_ms;
};

enum class PingKind { kStart, kSuccess, kFail, kExitCode };

struct Ping {
  PingKind kind = PingKind::kSuccess;
  int64_t at_ms = 0;
  int exit_code = 0;  // kExitCode
};

struct HeartbeatState {
  protocol::CheckStatus status = protocol::CheckStatus::kOk;
  std::string summary;
  int64_t since_ms = 0;  // since when this status holds
};

// `pings` in time order (the newest last is enough: start, and the last completion).
HeartbeatState EvaluateHeartbeat(const HeartbeatConfig& c, const std::vector<Ping>& pings,
                                 int64_t created_ms, int64_t now_ms);

}  // namespace steadfast::alerting
