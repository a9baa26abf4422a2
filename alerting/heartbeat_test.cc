#include "alerting/heartbeat.h"

#include <gtest/gtest.h>

namespace steadfast::alerting {
namespace {

using protocol::CheckStatus;
constexpr int64_t kMin = 60'000;
constexpr int64_t kHour = 60 * kMin;

HeartbeatConfig Nightly() {
  HeartbeatConfig c;
  c.name = "nightly-backup";
  c.period_ms = 24 * kHour;
  c.grace_ms = 1 * kHour;
  c.max_runtime_ms = 3 * kHour;
  return c;
}

TEST(HeartbeatTest, LateAfterPeriodAndGraceWithoutASuccess) {
  const auto c = Nightly();
  std::vector<Ping> pings = {{PingKind::kSuccess, 0, 0}};
  EXPECT_EQ(EvaluateHeartbeat(c, pings, 0, 24 * kHour).status, CheckStatus::kOk);
  EXPECT_EQ(EvaluateHeartbeat(c, pings, 0, 25 * kHour).status, CheckStatus::kOk);  // within grace
  auto late = EvaluateHeartbeat(c, pings, 0, 25 * kHour + 1);
  EXPECT_EQ(late.status, CheckStatus::kCritical);
  EXPECT_EQ(late.since_ms, 25 * kHour);
  EXPECT_NE(late.summary.find("no success since 1970-01-01T00:00:00.000Z"), std::string::npos) << late.summary;
  // Never pinged: late once period and grace have passed since it was set up.
  EXPECT_EQ(EvaluateHeartbeat(c, {}, 10 * kHour, 30 * kHour).status, CheckStatus::kOk);
  auto never = EvaluateHeartbeat(c, {}, 10 * kHour, 36 * kHour);
  EXPECT_EQ(never.status, CheckStatus::kCritical);
  EXPECT_NE(never.summary.find("never pinged"), std::string::npos);
}

TEST(HeartbeatTest, FailuresAndExitCodes) {
  const auto c = Nightly();
  auto failed = EvaluateHeartbeat(c, {{PingKind::kSuccess, 0, 0}, {PingKind::kExitCode, 24 * kHour, 2}}, 0,
                                  24 * kHour + 5 * kMin);
  EXPECT_EQ(failed.status, CheckStatus::kCritical);
  EXPECT_EQ(failed.summary, "nightly-backup failed with exit code 2 5 min ago");
  EXPECT_EQ(EvaluateHeartbeat(c, {{PingKind::kFail, 0, 0}}, 0, kMin).status, CheckStatus::kCritical);
  // The next success clears it; exit code 0 is a success.
  EXPECT_EQ(EvaluateHeartbeat(c, {{PingKind::kFail, 0, 0}, {PingKind::kExitCode, kHour, 0}}, 0, 2 * kHour).status,
            CheckStatus::kOk);
}

TEST(HeartbeatTest, RunningAndRunningTooLong) {
  const auto c = Nightly();
  std::vector<Ping> pings = {{PingKind::kSuccess, 0, 0}, {PingKind::kStart, 24 * kHour, 0}};
  auto running = EvaluateHeartbeat(c, pings, 0, 24 * kHour + 50 * kMin);
  EXPECT_EQ(running.status, CheckStatus::kOk);
  EXPECT_EQ(running.summary, "nightly-backup running for 50 min");
  // Still running past period and grace: late, whatever max_runtime says.
  auto late = EvaluateHeartbeat(c, pings, 0, 25 * kHour + kMin);
  EXPECT_EQ(late.status, CheckStatus::kCritical);
  EXPECT_EQ(late.since_ms, 25 * kHour);
  // Past max_runtime (a job started 20 h after its last success).
  std::vector<Ping> early = {{PingKind::kSuccess, 0, 0}, {PingKind::kStart, 20 * kHour, 0}};
  auto stuck = EvaluateHeartbeat(c, early, 0, 23 * kHour + kMin);
  EXPECT_EQ(stuck.status, CheckStatus::kCritical);
  EXPECT_EQ(stuck.since_ms, 23 * kHour);
  EXPECT_NE(stuck.summary.find("has not finished (max runtime 3 h)"), std::string::npos) << stuck.summary;
  // A start after a failure does not hide the failure.
  EXPECT_EQ(EvaluateHeartbeat(c, {{PingKind::kFail, 0, 0}, {PingKind::kStart, kHour, 0}}, 0, kHour + kMin).status,
            CheckStatus::kCritical);
}

}  // namespace
}  // namespace steadfast::alerting
