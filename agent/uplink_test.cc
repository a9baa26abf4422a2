#include "agent/uplink.h"

#include <gtest/gtest.h>

#include "agent/testing/fake_http_client.h"
#include "common/compression.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using testing::FakeCollector;
using testing::FakeHttpClient;
using testing::FixedRandom;
using testing::MaxRandom;

CheckResult Result(int i) {
  CheckResult r;
  r.check = "ping";
  r.target = "t" + std::to_string(i);
  r.status = CheckStatus::kOk;
  r.summary = "fine";
  r.observed_at_ms = 1'790'000'000'000 + i;
  return r;
}

class UplinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spool = Spool::Open(":memory:", clock_);
    ASSERT_TRUE(spool.ok()) << spool.status().ToString();
    spool_ = std::move(spool).value();
    options_.collector_url = "https://collector.test:8443/";
    options_.agent_id = "a-test";
    options_.agent_token = "agent-secret-token";
    options_.host.hostname = "srv-01";
    options_.host.agent_version = "0.1.0";
    options_.batch_size = 500;
    options_.max_backoff = Millis(60'000);
  }
  std::vector<uint64_t> Spool(int n) {
    std::vector<CheckResult> results;
    for (int i = 0; i < n; ++i) results.push_back(Result(next_++));
    auto seqs = spool_->AppendAll(results);
    EXPECT_TRUE(seqs.ok());
    return seqs.ok() ? *seqs : std::vector<uint64_t>{};
  }
  std::unique_ptr<Uplink> MakeUplink(Random& random) {
    return std::make_unique<Uplink>(*spool_, client_, clock_, random, options_);
  }
  // Drives SendOnce, advancing the fake clock through backoffs, until idle or `max_steps`.
  std::vector<UplinkResult> Drain(Uplink& uplink, int max_steps = 100) {
    std::vector<UplinkResult> steps;
    for (int i = 0; i < max_steps; ++i) {
      UplinkResult r = uplink.SendOnce();
      steps.push_back(r);
      if (r.outcome == UplinkOutcome::kIdle || r.outcome == UplinkOutcome::kUnauthorized) break;
      if (r.outcome == UplinkOutcome::kRetryLater) clock_.Advance(r.retry_after);
    }
    return steps;
  }

  steadfast::testing::FakeClock clock_;
  std::unique_ptr<agent::Spool> spool_;
  FakeHttpClient client_;
  FakeCollector collector_;
  UplinkOptions options_;
  int next_ = 0;
};

TEST(BackoffDelayTest, FullJitterUnderAnExponentialCap) {
  MaxRandom max;
  const Millis initial(1'000), cap(60'000);
  EXPECT_EQ(BackoffDelay(1, initial, cap, max), Millis(1'000));
  EXPECT_EQ(BackoffDelay(2, initial, cap, max), Millis(2'000));
  EXPECT_EQ(BackoffDelay(3, initial, cap, max), Millis(4'000));
  EXPECT_EQ(BackoffDelay(6, initial, cap, max), Millis(32'000));
  EXPECT_EQ(BackoffDelay(7, initial, cap, max), Millis(60'000));
  EXPECT_EQ(BackoffDelay(1'000'000, initial, cap, max), Millis(60'000));  // no overflow
  EXPECT_EQ(BackoffDelay(0, initial, cap, max), Millis(1'000));
  FixedRandom zero(0);
  EXPECT_EQ(BackoffDelay(5, initial, cap, zero), Millis(0));
  FixedRandom some(1'234);
  EXPECT_EQ(BackoffDelay(5, initial, cap, some), Millis(1'234));
  SystemRandom real(99);
  for (int f = 1; f < 12; ++f) {
    Millis d = BackoffDelay(f, initial, cap, real);
    EXPECT_GE(d.count(), 0);
    EXPECT_LE(d.count(), std::min<int64_t>(1'000LL << (f - 1), 60'000));
  }
}

TEST_F(UplinkTest, IdleWhenTheSpoolIsEmpty) {
  MaxRandom random;
  auto uplink = MakeUplink(random);
  EXPECT_EQ(uplink->SendOnce().outcome, UplinkOutcome::kIdle);
  EXPECT_EQ(client_.request_count(), 0u);
}

TEST_F(UplinkTest, SendsACompressedBatchAndDeletesWhatIsAcked) {
  client_.SetHandler(collector_.AsHandler());
  std::vector<uint64_t> seqs = Spool(3);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kSent) << r.message;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.entries, 3u);
  EXPECT_EQ(r.acked_through, seqs.back());
  EXPECT_EQ(spool_->Count(), 0);
  EXPECT_EQ(uplink->last_success_ms(), clock_.NowMillis());

  auto requests = client_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& req = requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://collector.test:8443/api/v1/reports");
  EXPECT_EQ(req.headers.Get("Authorization"), "Bearer agent-secret-token");
  EXPECT_EQ(req.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(req.headers.Get("Content-Encoding"), "zstd");
  auto plain = ZstdDecompress(req.body, 1 << 20);
  ASSERT_TRUE(plain.ok());
  auto batch = protocol::DecodeReportBatch(*plain);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->agent_id, "a-test");
  EXPECT_EQ(batch->host.hostname, "srv-01");
  EXPECT_EQ(batch->sent_at_ms, clock_.NowMillis());
  ASSERT_EQ(batch->results.size(), 3u);
  EXPECT_EQ(batch->results[0].seq, seqs[0]);
  EXPECT_EQ(batch->results[2].result, Result(2));
  EXPECT_EQ(collector_.stored().size(), 3u);
}

TEST_F(UplinkTest, BatchesAreAtMostBatchSize) {
  client_.SetHandler(collector_.AsHandler());
  options_.batch_size = 2;
  Spool(5);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  Drain(*uplink);
  EXPECT_EQ(collector_.batch_sizes(), (std::vector<size_t>{2, 2, 1}));
  EXPECT_EQ(spool_->Count(), 0);
}

TEST_F(UplinkTest, CollectorDownBacksOffExponentiallyAndKeepsEverything) {
  Spool(4);  // no handler: every request fails with Unavailable (connection refused)
  MaxRandom random;
  auto uplink = MakeUplink(random);
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kRetryLater);
  EXPECT_TRUE(r.attempted);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_EQ(r.retry_after, Millis(1'000));
  EXPECT_NE(r.message.find("unavailable"), std::string::npos) << r.message;

  // While backing off, SendOnce does not touch the network.
  clock_.Advance(Millis(400));
  r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kRetryLater);
  EXPECT_FALSE(r.attempted);
  EXPECT_EQ(r.retry_after, Millis(600));
  EXPECT_EQ(client_.request_count(), 1u);

  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) {
    clock_.Advance(r.retry_after);
    r = uplink->SendOnce();
    ASSERT_TRUE(r.attempted);
    delays.push_back(r.retry_after.count());
  }
  EXPECT_EQ(delays,
            (std::vector<int64_t>{2'000, 4'000, 8'000, 16'000, 32'000, 60'000, 60'000, 60'000}));
  EXPECT_EQ(spool_->Count(), 4);

  // The collector comes back: everything is delivered and the backoff resets.
  client_.SetHandler(collector_.AsHandler());
  clock_.Advance(r.retry_after);
  r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kSent);
  EXPECT_EQ(uplink->consecutive_failures(), 0);
  EXPECT_EQ(spool_->Count(), 0);
}

TEST_F(UplinkTest, ServerErrorsAndThrottlingAreRetried) {
  Spool(2);
  FixedRandom random(10);
  auto uplink = MakeUplink(random);
  for (int status : {500, 502, 503, 429, 408, 404}) {
    client_.PushStatus(status, R"({"error":{"code":"unavailable","message":"storage down"}})");
    UplinkResult r = uplink->SendOnce();
    EXPECT_EQ(r.outcome, UplinkOutcome::kRetryLater) << status;
    EXPECT_EQ(r.http_status, status);
    EXPECT_NE(r.message.find("storage down"), std::string::npos) << r.message;
    clock_.Advance(r.retry_after);
  }
  EXPECT_EQ(spool_->Count(), 2);
  EXPECT_EQ(spool_->RejectedCount(), 0);
}

TEST_F(UplinkTest, RetryAfterIsHonouredUpToMaxBackoff) {
  Spool(1);
  FixedRandom random(0);
  auto uplink = MakeUplink(random);
  http::HttpResponse busy;
  busy.status = 429;
  busy.headers.Set("Retry-After", "30");
  client_.Push(busy);
  EXPECT_EQ(uplink->SendOnce().retry_after, Millis(30'000));
  clock_.Advance(Millis(30'000));
  busy.headers.Set("Retry-After", "86400");
  client_.Push(busy);
  EXPECT_EQ(uplink->SendOnce().retry_after, Millis(60'000));
}

TEST_F(UplinkTest, TimeoutIsRetried) {
  Spool(1);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.Push(DeadlineExceededError("fake: request timed out after 10000 ms"));
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kRetryLater);
  EXPECT_NE(r.message.find("timed out"), std::string::npos);
  EXPECT_EQ(spool_->Count(), 1);
  EXPECT_EQ(client_.requests()[0].timeout, Millis(10'000));
}

TEST_F(UplinkTest, LostResponseCausesAResendThatTheCollectorDeduplicates) {
  // The collector stores the batch durably, then the response is lost (the agent was killed
  // between send and delete, or the connection reset): the entries stay spooled until acked.
  client_.SetHandler(collector_.AsHandler());
  collector_.LoseResponses(1);
  std::vector<uint64_t> seqs = Spool(5);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kRetryLater);
  EXPECT_EQ(collector_.stored().size(), 5u);
  EXPECT_EQ(spool_->Count(), 5);

  // A restarted agent has a fresh uplink over the same spool: the same entries go again.
  auto restarted = MakeUplink(random);
  r = restarted->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kSent) << r.message;
  EXPECT_EQ(r.message, "5 results delivered (0 new, 5 duplicates)");
  EXPECT_EQ(collector_.duplicates(), 5);
  EXPECT_EQ(spool_->Count(), 0);
  auto stored = collector_.stored();
  ASSERT_EQ(stored.size(), 5u);
  EXPECT_EQ(stored.begin()->first, seqs.front());
  EXPECT_EQ(stored.rbegin()->first, seqs.back());
}

TEST_F(UplinkTest, UnauthorizedStopsSendingAndKeepsResults) {
  Spool(3);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.PushStatus(401, R"({"error":{"code":"unauthenticated","message":"unknown token"}})");
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kUnauthorized);
  EXPECT_TRUE(uplink->unauthorized());
  EXPECT_NE(r.message.find("unknown token"), std::string::npos);
  clock_.Advance(Millis(3'600'000));
  EXPECT_EQ(uplink->SendOnce().outcome, UplinkOutcome::kUnauthorized);
  EXPECT_EQ(client_.request_count(), 1u);
  EXPECT_EQ(spool_->Count(), 3);
}

TEST_F(UplinkTest, ForbiddenIsTreatedLikeUnauthorized) {
  Spool(1);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.PushStatus(403);
  EXPECT_EQ(uplink->SendOnce().outcome, UplinkOutcome::kUnauthorized);
  EXPECT_EQ(spool_->Count(), 1);
}

TEST_F(UplinkTest, PoisonEntryIsIsolatedByHalvingAndMovedAside) {
  client_.SetHandler(collector_.AsHandler());
  std::vector<uint64_t> seqs = Spool(8);
  collector_.RejectSeq(seqs[5]);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  std::vector<UplinkResult> steps = Drain(*uplink);
  EXPECT_EQ(steps.back().outcome, UplinkOutcome::kIdle);
  int rejected = 0, splits = 0;
  for (const auto& s : steps) {
    rejected += s.outcome == UplinkOutcome::kRejected;
    splits += s.outcome == UplinkOutcome::kBatchSplit;
    EXPECT_NE(s.outcome, UplinkOutcome::kRetryLater) << s.message;
  }
  EXPECT_EQ(rejected, 1);
  EXPECT_GE(splits, 2);
  EXPECT_EQ(spool_->Count(), 0);
  EXPECT_EQ(spool_->RejectedCount(), 1);
  auto stored = collector_.stored();
  EXPECT_EQ(stored.size(), 7u);
  EXPECT_EQ(stored.count(seqs[5]), 0u);
  // After isolating the bad entry the batch size grows back.
  Spool(20);
  Drain(*uplink);
  EXPECT_GT(uplink->current_batch_size(), 2u);
}

TEST_F(UplinkTest, TooLargeHalvesTheBatch) {
  Spool(10);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.PushStatus(413);
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kBatchSplit);
  EXPECT_EQ(uplink->current_batch_size(), 5u);
  client_.SetHandler(collector_.AsHandler());
  r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kSent);
  EXPECT_EQ(r.entries, 5u);
  EXPECT_EQ(uplink->current_batch_size(), 10u);
}

TEST_F(UplinkTest, SingleEntryRefusedWith422IsRejected) {
  std::vector<uint64_t> seqs = Spool(1);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.PushStatus(
      422, R"({"error":{"code":"invalid_argument","message":"bad","field":"results[0].summary"}})");
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kRejected);
  EXPECT_NE(r.message.find("results[0].summary"), std::string::npos) << r.message;
  EXPECT_EQ(spool_->Count(), 0);
  EXPECT_EQ(spool_->RejectedCount(), 1);
}

TEST_F(UplinkTest, UnsupportedEncodingFallsBackToIdentity) {
  client_.SetHandler(collector_.AsHandler());
  Spool(2);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.PushStatus(415);
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kRetryLater);
  EXPECT_EQ(r.retry_after, Millis(0));
  EXPECT_FALSE(uplink->compressing());
  r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kSent) << r.message;
  EXPECT_EQ(collector_.content_encodings(), std::vector<std::string>{""});
  EXPECT_FALSE(client_.requests().back().headers.Get("Content-Encoding").has_value());
}

TEST_F(UplinkTest, AckNeverDeletesPastTheBatch) {
  options_.batch_size = 2;
  std::vector<uint64_t> seqs = Spool(4);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.PushStatus(200, protocol::EncodeReportAck({seqs.back() + 100, 2, 0, {}}));
  UplinkResult r = uplink->SendOnce();
  EXPECT_EQ(r.outcome, UplinkOutcome::kSent);
  EXPECT_EQ(r.acked_through, seqs[1]);
  EXPECT_EQ(spool_->Count(), 2);
}

TEST_F(UplinkTest, PartialAckKeepsTheRest) {
  std::vector<uint64_t> seqs = Spool(4);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.PushStatus(200, protocol::EncodeReportAck({seqs[1], 2, 0, {}}));
  EXPECT_EQ(uplink->SendOnce().outcome, UplinkOutcome::kSent);
  EXPECT_EQ(spool_->Count(), 2);
}

TEST_F(UplinkTest, AckBeforeTheBatchOrUnreadableIsRetried) {
  std::vector<uint64_t> seqs = Spool(2);
  MaxRandom random;
  auto uplink = MakeUplink(random);
  client_.PushStatus(200, protocol::EncodeReportAck({seqs[0] - 1, 0, 0, {}}));
  EXPECT_EQ(uplink->SendOnce().outcome, UplinkOutcome::kRetryLater);
  clock_.Advance(Millis(60'000));
  client_.PushStatus(200, "<html>proxy login</html>");
  EXPECT_EQ(uplink->SendOnce().outcome, UplinkOutcome::kRetryLater);
  EXPECT_EQ(spool_->Count(), 2);
}

}  // namespace
}  // namespace steadfast::agent
