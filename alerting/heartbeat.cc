#include "alerting/heartbeat.h"

#include <fmt/format.h>

#include "common/clock.h"

namespace steadfast::alerting {
namespace {

std::string Ago(int64_t ms) {
  const int64_t s = ms / 1000;
  if (s < 120) return fmt::format("{} s", s);
  if (s < 7200) return fmt::format("{} min", s / 60);
  if (s < 172800) return fmt::format("{} h", s / 3600);
  return fmt::format("{} d", s / 86400);
}

bool Succeeded(const Ping& p) {
  return p.kind == PingKind::kSuccess || (p.kind == PingKind::kExitCode && p.exit_code == 0);
}

}  // namespace

HeartbeatState EvaluateHeartbeat(const HeartbeatConfig& c, const std::vector<Ping>& pings,
                                 int64_t created_ms, int64_t now_ms) {
  const Ping* completion = nullptr;
  const Ping* start = nullptr;
  const Ping* last_success = nullptr;
  for (const Ping& p : pings) {
    if (p.kind == PingKind::kStart) {
      start = &p;
    } else {
      completion = &p;
      if (Succeeded(p)) last_success = &p;
    }
  }
  HeartbeatState st;
  if (start != nullptr && (completion == nullptr || start->at_ms > completion->at_ms)) {
    const int64_t running = now_ms - start->at_ms;
    if (c.max_runtime_ms && running > *c.max_runtime_ms) {
      st.status = protocol::CheckStatus::kCritical;
      st.since_ms = start->at_ms + *c.max_runtime_ms;
      st.summary = fmt::format("{} started {} ago and has not finished (max runtime {})", c.name,
                               Ago(running), Ago(*c.max_runtime_ms));
      return st;
    }
    const int64_t base = last_success != nullptr ? last_success->at_ms : created_ms;
    if (now_ms > base + c.period_ms + c.grace_ms && (completion == nullptr || Succeeded(*completion))) {
      // Running does not excuse lateness: a job that hangs after starting must still alert.
      st.status = protocol::CheckStatus::kCritical;
      st.since_ms = base + c.period_ms + c.grace_ms;
      st.summary = fmt::format("{} started {} ago and has not succeeded within its period and grace",
                               c.name, Ago(running));
      return st;
    }
    if (completion == nullptr || Succeeded(*completion)) {
      st.status = protocol::CheckStatus::kOk;
      st.since_ms = start->at_ms;
      st.summary = fmt::format("{} running for {}", c.name, Ago(running));
      return st;
    }
  }
  if (completion != nullptr && !Succeeded(*completion)) {
    st.status = protocol::CheckStatus::kCritical;
    st.since_ms = completion->at_ms;
    st.summary = completion->kind == PingKind::kExitCode
                     ? fmt::format("{} failed with exit code {} {} ago", c.name, completion->exit_code,
                                   Ago(now_ms - completion->at_ms))
                     : fmt::format("{} reported failure {} ago", c.name, Ago(now_ms - completion->at_ms));
    return st;
  }
  const int64_t base = last_success != nullptr ? last_success->at_ms : created_ms;
  const int64_t late_at = base + c.period_ms + c.grace_ms;
  if (now_ms > late_at) {
    st.status = protocol::CheckStatus::kCritical;
    st.since_ms = late_at;
    st.summary = last_success != nullptr
                     ? fmt::format("{}: no success since {} ({} ago; expected every {})", c.name,
                                   FormatRfc3339Millis(last_success->at_ms),
                                   Ago(now_ms - last_success->at_ms), Ago(c.period_ms))
                     : fmt::format("{}: never pinged since it was set up {} ago", c.name,
                                   Ago(now_ms - created_ms));
    return st;
  }
  st.status = protocol::CheckStatus::kOk;
  st.since_ms = base;
  st.summary = last_success != nullptr
                   ? fmt::format("{} succeeded {} ago", c.name, Ago(now_ms - last_success->at_ms))
                   : fmt::format("{}: waiting for its first ping", c.name);
  return st;
}

}  // namespace steadfast::alerting
