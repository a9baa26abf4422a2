#include "agent/uplink_monitor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/testing/test_util.h"

namespace steadfast::agent {
namespace {

using protocol::CheckStatus;

UplinkResult Outcome(UplinkOutcome outcome, int http_status = 0, std::string message = "") {
  UplinkResult r;
  r.outcome = outcome;
  r.http_status = http_status;
  r.attempted = true;
  r.message = std::move(message);
  return r;
}

constexpr int64_t kT0 = 1'790'000'000'000;

TEST(UplinkMonitorTest, AnOutageStartsAtTheFirstFailureAndEndsAtTheNextSuccess) {
  UplinkMonitor m;
  EXPECT_FALSE(m.Snapshot().up);
  EXPECT_FALSE(m.Record(Outcome(UplinkOutcome::kSent, 200), kT0).has_value());
  EXPECT_TRUE(m.Snapshot().up);

  EXPECT_FALSE(m.Record(Outcome(UplinkOutcome::kRetryLater, 0, "connection refused"), kT0 + 1'000));
  EXPECT_FALSE(m.Record(Outcome(UplinkOutcome::kRetryLater, 503, "collector answered 503"),
                        kT0 + 5'000));
  // Waiting out a backoff is not an exchange.
  UplinkResult waiting;
  waiting.outcome = UplinkOutcome::kRetryLater;
  EXPECT_FALSE(m.Record(waiting, kT0 + 6'000));
  UplinkState s = m.Snapshot();
  EXPECT_FALSE(s.up);
  EXPECT_EQ(s.consecutive_failures, 2);
  EXPECT_EQ(s.outage_started_ms, kT0 + 1'000);
  EXPECT_EQ(s.last_error, "collector answered 503");
  EXPECT_EQ(s.outages_total, 1);

  auto ended = m.Record(Outcome(UplinkOutcome::kSent, 200), kT0 + 61'000);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->started_ms, kT0 + 1'000);
  EXPECT_EQ(ended->ended_ms, kT0 + 61'000);
  EXPECT_EQ(ended->failures, 2);
  EXPECT_EQ(ended->last_error, "collector answered 503");
  s = m.Snapshot();
  EXPECT_TRUE(s.up);
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_EQ(s.outage_started_ms, 0);
  EXPECT_EQ(s.last_outage_duration_ms, 60'000);
  EXPECT_EQ(s.last_success_ms, kT0 + 61'000);
}

TEST(UplinkMonitorTest, WhatCountsAsSuccessAndFailure) {
  UplinkMonitor m;
  m.Record(Outcome(UplinkOutcome::kRetryLater, 415), kT0);  // only switches compression off
  EXPECT_EQ(m.Snapshot().consecutive_failures, 0);
  m.Record(Outcome(UplinkOutcome::kBatchSplit, 413), kT0);  // the collector judged the batch
  EXPECT_TRUE(m.Snapshot().up);
  m.Record(Outcome(UplinkOutcome::kUnauthorized, 401, "token refused"), kT0);
  EXPECT_FALSE(m.Snapshot().up);
  EXPECT_EQ(m.Snapshot().last_error, "token refused");
}

TEST(UplinkMonitorTest, ReportAfterAnOutage) {
  UplinkOutage outage{kT0, kT0 + 2 * 3'600'000 + 3 * 60'000, 57, "connection refused"};
  protocol::CheckResult r =
      UplinkReport("https://collector:8443", &outage, 1234, SpoolDrops{}, kT0 + 7'400'000);
  EXPECT_EQ(r.check, "uplink");
  EXPECT_EQ(r.target, "https://collector:8443");
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.summary,
            "collector reachable again after 2h 3m without delivery (57 failed attempts since "
            "2026-09-21T14:13:20.000Z, last error: connection refused); 1234 results waiting in "
            "the spool");
  EXPECT_EQ(testing::MetricValue(r, "uplink_outage_seconds"), 7380);
  EXPECT_EQ(testing::MetricValue(r, "spool_backlog_results"), 1234);
  auto d = nlohmann::json::parse(r.details_json);
  EXPECT_EQ(d["failed_attempts"], 57);
  EXPECT_NO_THROW(protocol::EncodeCheckResult(r));
}

TEST(UplinkMonitorTest, ReportOfDropsIsAWarning) {
  SpoolDrops drops;
  drops.full = 120;
  drops.expired = 3;
  protocol::CheckResult r = UplinkReport("http://c", nullptr, 10, drops, kT0);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary,
            "the spool dropped 123 results (120 metrics-only samples because it was full, 3 older "
            "than its max_age); 10 results waiting in the spool");
  EXPECT_EQ(UplinkCaughtUpReport("http://c", kT0).status, CheckStatus::kOk);
}

}  // namespace
}  // namespace steadfast::agent
