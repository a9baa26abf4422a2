#include "agent/inventory_reporter.h"

#include <gtest/gtest.h>

#include "agent/testing/fake_http_client.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using testing::FakeHttpClient;

class InventoryReporterTest : public ::testing::Test {
 protected:
  InventoryReporterTest() {
    EXPECT_TRUE(fs_.CreateDirectories("/p").ok());
    SetMemory(1024);
  }

  void SetMemory(int64_t kib) {
    ASSERT_TRUE(
        fs_.WriteFileAtomic("/p/meminfo", "MemTotal: " + std::to_string(kib) + " kB\n").ok());
  }

  InventoryReporter Make() {
    InventoryReporterOptions o;
    o.collector_url = "http://collector.test/";
    o.agent_id = "a-1";
    o.agent_token = "agent-secret";
    o.host_info = [this] { return host_; };
    o.roots = {"/p", "/s"};
    o.collect_interval = Millis(60'000);
    o.resend_interval = Millis(86'400'000);
    o.retry_interval = Millis(5'000);
    o.max_backoff = Millis(20'000);
    return InventoryReporter(fs_, client_, clock_, o);
  }

  // The inventory of the last request sent.
  protocol::HostInventory LastSent() {
    auto requests = client_.requests();
    EXPECT_FALSE(requests.empty());
    if (requests.empty()) return {};
    auto inv = protocol::DecodeHostInventory(requests.back().body);
    EXPECT_TRUE(inv.ok()) << inv.status().ToString();
    return inv.ok() ? *inv : protocol::HostInventory{};
  }

  steadfast::testing::MemoryFileSystem fs_;
  protocol::HostInfo host_{"srv-01", "Test OS 1", "6.1", "x86_64", "0.1.0"};
  FakeHttpClient client_;
  steadfast::testing::FakeClock clock_;
};

TEST_F(InventoryReporterTest, SendsAtStartThenOnlyWhenChangedOrADayOld) {
  InventoryReporter r = Make();
  client_.PushStatus(200, "{}");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kSent);
  ASSERT_EQ(client_.request_count(), 1u);
  const http::HttpClientRequest first = client_.requests()[0];
  EXPECT_EQ(first.method, "PUT");
  EXPECT_EQ(first.url, "http://collector.test/api/v1/inventory");
  EXPECT_EQ(first.headers.Get("Authorization").value_or(""), "Bearer agent-secret");
  protocol::HostInventory sent = LastSent();
  EXPECT_EQ(sent.agent_id, "a-1");
  EXPECT_EQ(sent.collected_at_ms, clock_.NowMillis());
  EXPECT_EQ(sent.memory_bytes, 1024 * 1024);
  EXPECT_EQ(sent.host.hostname, "srv-01");

  // Unchanged: nothing to send, even after a re-collection.
  clock_.Advance(Millis(61'000));
  EXPECT_EQ(r.Tick(), InventoryOutcome::kNotDue);
  EXPECT_EQ(client_.request_count(), 1u);

  // A change is seen at the next collection and sent then.
  SetMemory(2048);
  clock_.Advance(Millis(30'000));
  EXPECT_EQ(r.Tick(), InventoryOutcome::kNotDue);  // not re-read yet
  clock_.Advance(Millis(31'000));
  client_.PushStatus(200, "{}");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kSent);
  EXPECT_EQ(LastSent().memory_bytes, 2048 * 1024);

  // A day without change: sent again all the same.
  clock_.Advance(Millis(86'400'000 - 1));
  EXPECT_EQ(r.Tick(), InventoryOutcome::kNotDue);
  clock_.Advance(Millis(1));
  client_.PushStatus(200, "{}");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kSent);
  EXPECT_EQ(client_.request_count(), 3u);
}

TEST_F(InventoryReporterTest, AnOsUpgradeWithoutRestartIsSent) {
  InventoryReporter r = Make();
  client_.PushStatus(200, "{}");
  ASSERT_EQ(r.Tick(), InventoryOutcome::kSent);
  EXPECT_EQ(LastSent().host.os, "Test OS 1");
  host_.os = "Test OS 2";
  clock_.Advance(Millis(60'000));
  client_.PushStatus(200, "{}");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kSent);
  EXPECT_EQ(LastSent().host.os, "Test OS 2");
}

TEST_F(InventoryReporterTest, FailuresAreRetriedLaterWithBackoff) {
  InventoryReporter r = Make();
  client_.Push(UnavailableError("connection refused"));
  EXPECT_EQ(r.Tick(), InventoryOutcome::kFailed);
  EXPECT_FALSE(r.last_accepted().has_value());
  // Not again before the retry interval, whatever the report cycle does.
  clock_.Advance(Millis(4'999));
  EXPECT_EQ(r.Tick(), InventoryOutcome::kNotDue);
  EXPECT_EQ(client_.request_count(), 1u);
  clock_.Advance(Millis(1));
  client_.PushStatus(503, R"({"error":{"code":"unavailable","message":"busy"}})");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kFailed);
  EXPECT_EQ(r.consecutive_failures(), 2);
  // The second failure doubles the wait (10 s), the fourth hits the cap (20 s).
  clock_.Advance(Millis(9'999));
  EXPECT_EQ(r.Tick(), InventoryOutcome::kNotDue);
  clock_.Advance(Millis(1));
  client_.PushStatus(401, "");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kFailed);
  clock_.Advance(Millis(20'000));
  client_.PushStatus(500, "");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kFailed);
  clock_.Advance(Millis(20'000));
  client_.PushStatus(204, "");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kSent);
  EXPECT_EQ(r.consecutive_failures(), 0);
  EXPECT_TRUE(r.last_accepted().has_value());
  EXPECT_EQ(client_.request_count(), 5u);
}

TEST_F(InventoryReporterTest, ARefusedDocumentIsNotResentUntilItChanges) {
  InventoryReporter r = Make();
  client_.PushStatus(
      400,
      R"({"error":{"code":"invalid_argument","message":"disks[0].name: bad","field":"disks[0].name"}})");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kRefused);
  clock_.Advance(Millis(3'600'000));
  EXPECT_EQ(r.Tick(), InventoryOutcome::kNotDue);
  EXPECT_EQ(client_.request_count(), 1u);
  SetMemory(4096);
  clock_.Advance(Millis(60'000));
  client_.PushStatus(200, "{}");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kSent);
  EXPECT_EQ(client_.request_count(), 2u);
}

TEST_F(InventoryReporterTest, AnOlderCollectorWithoutTheEndpointIsNotHammered) {
  InventoryReporter r = Make();
  client_.PushStatus(404, R"({"error":{"code":"not_found","message":"no route"}})");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kRefused);
  for (int i = 0; i < 100; ++i) {
    clock_.Advance(Millis(5'000));
    r.Tick();
  }
  EXPECT_EQ(client_.request_count(), 1u);
  // A day later it tries once more (the collector may have been upgraded).
  clock_.Advance(Millis(86'400'000));
  client_.PushStatus(200, "{}");
  EXPECT_EQ(r.Tick(), InventoryOutcome::kSent);
}

}  // namespace
}  // namespace steadfast::agent
