#include "collector/store/sqlite_storage.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <set>
#include <thread>

#include "collector/testing/test_util.h"
#include "common/random.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector {
namespace {

using protocol::CheckStatus;
using testutil::Batch;
using testutil::TempDir;

class SqliteStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { storage_ = OpenStorage(); }

  std::unique_ptr<SqliteStorage> OpenStorage(SqliteStorageOptions options = {}) {
    options.path = dir_.path() + "/collector.db";
    auto s = SqliteStorage::Open(options, clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  static AgentRecord Agent(const std::string& id, const std::string& hostname = "srv-01") {
    AgentRecord a;
    a.agent_id = id;
    a.token_sha256 = Sha256Hex("token-of-" + id);
    a.host = testutil::Host(hostname);
    a.enrolled_at_ms = 1'790'000'000'000;
    return a;
  }

  std::vector<uint64_t> StoredSeqs(const std::string& agent_id, Storage* storage = nullptr) {
    HistoryQuery q;
    q.agent_id = agent_id;
    q.limit = 1'000'000;
    auto rows = (storage != nullptr ? storage : storage_.get())->History(q);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<uint64_t> seqs;
    if (rows.ok()) {
      for (const auto& r : *rows) seqs.push_back(r.seq);
    }
    return seqs;
  }

  TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<SqliteStorage> storage_;
};

TEST_F(SqliteStorageTest, CreatesAndFindsAgentsByTokenHash) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  auto found = storage_->FindAgentByTokenHash(Sha256Hex("token-of-a-1"));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->agent_id, "a-1");
  EXPECT_EQ(found->host.hostname, "srv-01");
  EXPECT_EQ(found->last_seen_ms, 0);
  EXPECT_EQ(storage_->FindAgentByTokenHash(Sha256Hex("other")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->CreateAgent(Agent("a-1")).code(), StatusCode::kAlreadyExists);
  AgentRecord same_token = Agent("a-2");
  same_token.token_sha256 = Sha256Hex("token-of-a-1");
  EXPECT_EQ(storage_->CreateAgent(same_token).code(), StatusCode::kAlreadyExists);
}

TEST_F(SqliteStorageTest, IngestAcksAndStores) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  auto ack = storage_->IngestBatch(Batch("a-1", {10, 11, 12}), 1'790'000'001'000);
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->acked_through, 12u);
  EXPECT_EQ(ack->accepted, 3);
  EXPECT_EQ(ack->duplicates, 0);
  HistoryQuery q;
  q.agent_id = "a-1";
  auto rows = storage_->History(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  const StoredResult& r = (*rows)[0];
  EXPECT_EQ(r.seq, 10u);
  EXPECT_EQ(r.check, "root-fs");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.observed_at_ms, 1'790'000'000'010);
  EXPECT_EQ(r.received_at_ms, 1'790'000'001'000);
  EXPECT_EQ(r.duration_ms, 3);
  EXPECT_EQ(r.details_json, R"({"fstype":"ext4"})");
  EXPECT_NE(r.metrics_json.find("\"filesystem_used_ratio\""), std::string::npos) << r.metrics_json;
  EXPECT_NE(r.metrics_json.find("\"mountpoint\":\"/\""), std::string::npos) << r.metrics_json;
}

TEST_F(SqliteStorageTest, MetricsRoundTripThroughStoredJson) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  protocol::ReportBatch b = Batch("a-1", {1});
  std::string nasty = std::string("q\"b\\n\nt\tc") + '\x01' + "\u00e9\u4e2d";
  b.results[0].result.metrics = {
      {"plain", {}, 3, ""},
      {"with_labels", {{"k", nasty}, {nasty, "v"}}, 0.1 + 0.2, "ratio"},
      {"big", {}, 1.5e300, "bytes"},
      {"negative", {}, -42.125, nasty},
  };
  ASSERT_TRUE(storage_->IngestBatch(b, 1000).ok());
  auto checks = storage_->ListHostChecks("a-1");
  ASSERT_TRUE(checks.ok());
  nlohmann::json j = nlohmann::json::parse((*checks)[0].metrics_json, nullptr, false);
  ASSERT_TRUE(j.is_array()) << (*checks)[0].metrics_json;
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[0]["name"], "plain");
  EXPECT_FALSE(j[0].contains("labels"));
  EXPECT_FALSE(j[0].contains("unit"));
  EXPECT_EQ(j[0]["value"].get<double>(), 3.0);
  EXPECT_EQ(j[1]["labels"]["k"], nasty);
  EXPECT_EQ(j[1]["labels"][nasty], "v");
  EXPECT_EQ(j[1]["value"].get<double>(), 0.1 + 0.2);  // exact round trip
  EXPECT_EQ(j[2]["value"].get<double>(), 1.5e300);
  EXPECT_EQ(j[3]["value"].get<double>(), -42.125);
  EXPECT_EQ(j[3]["unit"], nasty);
  HistoryQuery q;
  q.agent_id = "a-1";
  EXPECT_EQ(storage_->History(q)->at(0).metrics_json, (*checks)[0].metrics_json);
}

TEST_F(SqliteStorageTest, IngestIsIdempotentOnAgentAndSeq) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-2")).ok());
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {1, 2, 3, 4, 5}), 1000).ok());
  // A retry of the same batch: all duplicates.
  auto again = storage_->IngestBatch(Batch("a-1", {1, 2, 3, 4, 5}), 2000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->accepted, 0);
  EXPECT_EQ(again->duplicates, 5);
  EXPECT_EQ(again->acked_through, 5u);
  // An overlapping batch: only the new part is stored.
  auto overlap = storage_->IngestBatch(Batch("a-1", {4, 5, 6, 7}), 3000);
  ASSERT_TRUE(overlap.ok());
  EXPECT_EQ(overlap->accepted, 2);
  EXPECT_EQ(overlap->duplicates, 2);
  // The same seqs from another agent are different results.
  auto other = storage_->IngestBatch(Batch("a-2", {1, 2}), 3000);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->accepted, 2);
  EXPECT_EQ(StoredSeqs("a-1"), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(StoredSeqs("a-2"), (std::vector<uint64_t>{1, 2}));
}

TEST_F(SqliteStorageTest, HistoryIsOrderedBySeqAndFiltered) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  // Batches arrive out of order (a retry of an older batch after a newer one).
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {20, 21}, "cpu", ""), 1000).ok());
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {5, 6}, "root-fs", "/"), 1000).ok());
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {30}, "root-fs", "/var"), 1000).ok());
  EXPECT_EQ(StoredSeqs("a-1"), (std::vector<uint64_t>{5, 6, 20, 21, 30}));

  HistoryQuery q;
  q.agent_id = "a-1";
  q.check = "root-fs";
  q.target = "/";
  auto rows = storage_->History(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].seq, 5u);
  EXPECT_EQ((*rows)[1].seq, 6u);

  q.check = "cpu";
  q.target = "";  // an empty target is a real value, not "any"
  rows = storage_->History(q);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);

  q.check.reset();
  q.target.reset();
  q.from_ms = 1'790'000'000'006;  // observed = base + seq
  q.to_ms = 1'790'000'000'030;
  rows = storage_->History(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].seq, 6u);
  EXPECT_EQ((*rows)[2].seq, 21u);

  q.from_ms = INT64_MIN;
  q.to_ms = INT64_MAX;
  q.limit = 2;
  q.after_seq = 6;
  rows = storage_->History(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].seq, 20u);
  EXPECT_EQ((*rows)[1].seq, 21u);

  q.agent_id = "a-unknown";
  EXPECT_EQ(storage_->History(q).status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStorageTest, LatestStateMovesOnlyForward) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {10}, "root-fs", "/", CheckStatus::kCritical), 1000).ok());
  // A late retry of an older result must not move the latest state back.
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {5}, "root-fs", "/", CheckStatus::kOk), 2000).ok());
  auto checks = storage_->ListHostChecks("a-1");
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_EQ((*checks)[0].seq, 10u);
  EXPECT_EQ((*checks)[0].status, CheckStatus::kCritical);

  // A newer one does; within a batch the highest seq wins.
  protocol::ReportBatch b = Batch("a-1", {11, 12}, "root-fs", "/", CheckStatus::kWarning);
  b.results[1].result.status = CheckStatus::kOk;
  ASSERT_TRUE(storage_->IngestBatch(b, 3000).ok());
  checks = storage_->ListHostChecks("a-1");
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_EQ((*checks)[0].seq, 12u);
  EXPECT_EQ((*checks)[0].status, CheckStatus::kOk);
  EXPECT_EQ((*checks)[0].received_at_ms, 3000);

  // Separate (check, target) pairs are separate states, ordered by check then target.
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {13}, "cpu", "", CheckStatus::kWarning), 4000).ok());
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {14}, "root-fs", "/boot", CheckStatus::kUnknown), 4000).ok());
  checks = storage_->ListHostChecks("a-1");
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 3u);
  EXPECT_EQ((*checks)[0].check, "cpu");
  EXPECT_EQ((*checks)[1].target, "/");
  EXPECT_EQ((*checks)[2].target, "/boot");
  EXPECT_EQ(storage_->ListHostChecks("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStorageTest, LatestStateWithinOneGroupTakesHighestSeqAcrossBatches) {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  bool open = false;
  SqliteStorageOptions options;
  options.before_group_for_test = [&] {
    std::unique_lock<std::mutex> lock(mu);
    if (hold) cv.wait(lock, [&] { return open; });
  };
  storage_.reset();
  storage_ = OpenStorage(options);
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    hold = true;
  }
  // The newer result is queued first, the older (a retry) second; both land in one group.
  std::thread newer([&] { EXPECT_TRUE(storage_->IngestBatch(Batch("a-1", {20}, "root-fs", "/", CheckStatus::kCritical), 1000).ok()); });
  for (int i = 0; i < 100'000 && storage_->QueueDepth() < 1; ++i) std::this_thread::yield();
  std::thread older([&] { EXPECT_TRUE(storage_->IngestBatch(Batch("a-1", {10}, "root-fs", "/", CheckStatus::kOk), 1000).ok()); });
  for (int i = 0; i < 100'000 && storage_->QueueDepth() < 2; ++i) std::this_thread::yield();
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  newer.join();
  older.join();
  auto checks = storage_->ListHostChecks("a-1");
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_EQ((*checks)[0].seq, 20u);
  EXPECT_EQ((*checks)[0].status, CheckStatus::kCritical);
  EXPECT_EQ(StoredSeqs("a-1"), (std::vector<uint64_t>{10, 20}));
}

TEST_F(SqliteStorageTest, OneBadBatchInAGroupDoesNotFailTheOthers) {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  bool open = false;
  SqliteStorageOptions options;
  options.before_group_for_test = [&] {
    std::unique_lock<std::mutex> lock(mu);
    if (hold) cv.wait(lock, [&] { return open; });
  };
  storage_.reset();
  storage_ = OpenStorage(options);
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    hold = true;
  }
  const uint64_t commits_before = storage_->CommitCount();
  StatusOr<protocol::ReportAck> good = InternalError("not run");
  StatusOr<protocol::ReportAck> ghost = InternalError("not run");
  std::thread t1([&] { good = storage_->IngestBatch(Batch("a-1", {1, 2}), 1000); });
  for (int i = 0; i < 100'000 && storage_->QueueDepth() < 1; ++i) std::this_thread::yield();
  std::thread t2([&] { ghost = storage_->IngestBatch(Batch("a-ghost", {1, 2}), 1000); });
  for (int i = 0; i < 100'000 && storage_->QueueDepth() < 2; ++i) std::this_thread::yield();
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  t1.join();
  t2.join();
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->accepted, 2);
  EXPECT_EQ(ghost.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->CommitCount() - commits_before, 1u);
  EXPECT_EQ(StoredSeqs("a-1"), (std::vector<uint64_t>{1, 2}));
}

TEST_F(SqliteStorageTest, UpdatesHostInfoAndLastSeenMonotonically) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1", "old-name")).ok());
  protocol::ReportBatch b = Batch("a-1", {1});
  b.host.hostname = "new-name";
  b.host.os = "Debian 13";
  ASSERT_TRUE(storage_->IngestBatch(b, 5000).ok());
  auto host = storage_->GetHost("a-1");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->agent.host.hostname, "new-name");
  EXPECT_EQ(host->agent.host.os, "Debian 13");
  EXPECT_EQ(host->agent.last_seen_ms, 5000);
  EXPECT_TRUE(host->agent.token_sha256.empty());
  // An empty batch is still a sign of life; a batch stamped earlier does not move it back.
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {}), 4000).ok());
  host = storage_->GetHost("a-1");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->agent.last_seen_ms, 5000);
  auto ack = storage_->IngestBatch(Batch("a-1", {}), 6000);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->acked_through, 0u);
  EXPECT_EQ(storage_->GetHost("a-1")->agent.last_seen_ms, 6000);
}

TEST_F(SqliteStorageTest, UnknownAgentIsNotFoundAndStoresNothing) {
  auto ack = storage_->IngestBatch(Batch("a-ghost", {1, 2}), 1000);
  EXPECT_EQ(ack.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-ghost")).ok());
  EXPECT_TRUE(StoredSeqs("a-ghost").empty());
}

TEST_F(SqliteStorageTest, RejectsSeqsThatDoNotIncrease) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  EXPECT_EQ(storage_->IngestBatch(Batch("a-1", {3, 2}), 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(storage_->IngestBatch(Batch("a-1", {0}), 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(storage_->IngestBatch(Batch("a-1", {uint64_t{1} << 63}), 1000).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(StoredSeqs("a-1").empty());
}

TEST_F(SqliteStorageTest, ListHostsPaginatesWithWorstStatusAndCounts) {
  for (const char* name : {"delta", "alpha", "charlie", "bravo"}) {
    ASSERT_TRUE(storage_->CreateAgent(Agent(std::string("a-") + name, name)).ok());
  }
  protocol::ReportBatch b = Batch("a-alpha", {1, 2, 3});
  b.host.hostname = "alpha";
  b.results[0].result.target = "/";
  b.results[1].result.target = "/var";
  b.results[1].result.status = CheckStatus::kCritical;
  b.results[2].result.target = "/home";
  b.results[2].result.status = CheckStatus::kUnknown;
  ASSERT_TRUE(storage_->IngestBatch(b, 1000).ok());
  protocol::ReportBatch c = Batch("a-bravo", {1}, "root-fs", "/", CheckStatus::kUnknown);
  c.host.hostname = "bravo";
  ASSERT_TRUE(storage_->IngestBatch(c, 1000).ok());

  auto page = storage_->ListHosts(2, 0);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 4);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].agent.host.hostname, "alpha");
  EXPECT_EQ(page->items[0].status_counts, (std::array<int64_t, 4>{1, 0, 1, 1}));
  EXPECT_EQ(page->items[0].worst_status, CheckStatus::kCritical);
  EXPECT_EQ(page->items[0].agent.last_seen_ms, 1000);
  EXPECT_EQ(page->items[1].agent.host.hostname, "bravo");
  EXPECT_EQ(page->items[1].worst_status, CheckStatus::kUnknown);

  page = storage_->ListHosts(2, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].agent.host.hostname, "charlie");
  EXPECT_FALSE(page->items[0].worst_status.has_value());
  EXPECT_EQ(page->items[0].agent.last_seen_ms, 0);
  EXPECT_EQ(page->items[1].agent.host.hostname, "delta");

  page = storage_->ListHosts(10, 4);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->total, 4);
  EXPECT_EQ(storage_->ListHosts(0, 0).status().code(), StatusCode::kInvalidArgument);

  auto host = storage_->GetHost("a-alpha");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->status_counts, (std::array<int64_t, 4>{1, 0, 1, 1}));
  EXPECT_EQ(host->worst_status, CheckStatus::kCritical);
  EXPECT_EQ(storage_->GetHost("a-nope").status().code(), StatusCode::kNotFound);

  auto statuses = storage_->AllCheckStatuses();
  ASSERT_TRUE(statuses.ok());
  EXPECT_EQ(statuses->size(), 4u);
}

TEST_F(SqliteStorageTest, ListHostsFiltersToTheGivenAgentIds) {
  for (const char* name : {"delta", "alpha", "charlie", "bravo"}) {
    ASSERT_TRUE(storage_->CreateAgent(Agent(std::string("a-") + name, name)).ok());
  }
  // Ids with JSON-special characters must not break the filter.
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-\"q\\", "echo")).ok());
  auto page = storage_->ListHosts(10, 0, std::vector<std::string>{"a-delta", "a-bravo", "a-\"q\\", "a-unknown"});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].agent.host.hostname, "bravo");
  EXPECT_EQ(page->items[1].agent.host.hostname, "delta");
  EXPECT_EQ(page->items[2].agent.host.hostname, "echo");
  page = storage_->ListHosts(1, 1, std::vector<std::string>{"a-delta", "a-bravo"});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].agent.host.hostname, "delta");
  page = storage_->ListHosts(10, 0, std::vector<std::string>{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 0);
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(storage_->ListHosts(10, 0)->total, 5);
}

TEST_F(SqliteStorageTest, PruneHistoryDeletesOldRowsInChunksAndKeepsLatestState) {
  storage_.reset();
  SqliteStorageOptions options;
  options.prune_chunk_rows = 3;  // several chunks
  storage_ = OpenStorage(options);
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {1, 2, 3, 4, 5, 6, 7}), 1000).ok());
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {8, 9}), 5000).ok());
  auto deleted = storage_->PruneHistory(2000);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 7);
  EXPECT_EQ(StoredSeqs("a-1"), (std::vector<uint64_t>{8, 9}));
  auto checks = storage_->ListHostChecks("a-1");
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_EQ((*checks)[0].seq, 9u);
  // Nothing left to prune.
  deleted = storage_->PruneHistory(2000);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 0);
  // Pruning everything keeps latest state and the agent.
  deleted = storage_->PruneHistory(10'000);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(storage_->ListHostChecks("a-1")->size(), 1u);
}

TEST_F(SqliteStorageTest, ConcurrentIngestIsGroupCommitted) {
  constexpr int kThreads = 8;
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  bool open = false;
  SqliteStorageOptions options;
  options.before_group_for_test = [&] {
    std::unique_lock<std::mutex> lock(mu);
    if (hold) cv.wait(lock, [&] { return open; });
  };
  prometheus::Registry registry;
  options.registry = &registry;
  storage_.reset();
  storage_ = OpenStorage(options);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(storage_->CreateAgent(Agent("a-" + std::to_string(t), "h" + std::to_string(t))).ok());
  }
  const uint64_t commits_before = storage_->CommitCount();
  {
    std::lock_guard<std::mutex> lock(mu);
    hold = true;
  }
  // Every thread enqueues a batch while the writer is held at the gate.
  std::vector<std::thread> threads;
  std::atomic<int> acked{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto ack = storage_->IngestBatch(Batch("a-" + std::to_string(t), {1, 2, 3}), 1000);
      if (ack.ok() && ack->accepted == 3) acked++;
    });
  }
  // Bounded by time, not by a count of yields: under ASan on a loaded machine the threads may
  // need a while to reach the queue.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (storage_->QueueDepth() < kThreads && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // (The writer may have taken the first batch before the gate closed; all others wait.)
  EXPECT_GE(storage_->QueueDepth(), static_cast<size_t>(kThreads - 1));
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  EXPECT_EQ(acked.load(), kThreads);
  EXPECT_LE(storage_->CommitCount() - commits_before, 2u) << "batches were not committed as a group";
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(StoredSeqs("a-" + std::to_string(t)).size(), 3u);
  std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("steadfast_collector_storage_commits_total"), std::string::npos);
  EXPECT_NE(text.find("steadfast_collector_storage_commit_duration_seconds_count"), std::string::npos);
}

TEST_F(SqliteStorageTest, ManyThreadsManyBatchesAllStoredExactlyOnce) {
  constexpr int kThreads = 6;
  constexpr int kBatches = 40;
  for (int t = 0; t < kThreads; ++t) ASSERT_TRUE(storage_->CreateAgent(Agent("a-" + std::to_string(t))).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        uint64_t base = static_cast<uint64_t>(b) * 10 + 1;
        std::vector<uint64_t> seqs;
        for (uint64_t i = 0; i < 10; ++i) seqs.push_back(base + i);
        // Every third batch is sent twice, like an agent retrying after a lost ack.
        for (int rep = 0; rep < (b % 3 == 0 ? 2 : 1); ++rep) {
          if (!storage_->IngestBatch(Batch("a-" + std::to_string(t), seqs), 1000 + b).ok()) failures++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    std::vector<uint64_t> seqs = StoredSeqs("a-" + std::to_string(t));
    ASSERT_EQ(seqs.size(), static_cast<size_t>(kBatches * 10));
    EXPECT_EQ(std::set<uint64_t>(seqs.begin(), seqs.end()).size(), seqs.size());
    EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  }
}

// WAL checkpoints run on their own thread while ingestion goes on; with them off the writer
// checkpoints by itself. Either way every acknowledged row is there after a reopen.
TEST_F(SqliteStorageTest, CheckpointsInTheBackgroundOrOnTheWriter) {
  for (bool background : {true, false}) {
    SCOPED_TRACE(background);
    storage_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir_.path() + "/collector.db" + suffix);
    SqliteStorageOptions options;
    options.background_checkpoints = background;
    options.checkpoint_interval_ms = 1;
    options.writer_checkpoint_pages = 64;
    storage_ = OpenStorage(options);
    ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
    uint64_t seq = 1;
    auto ingest_some = [&] {
      for (int b = 0; b < 20; ++b) {
        std::vector<uint64_t> seqs;
        for (int i = 0; i < 50; ++i) seqs.push_back(seq++);
        ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", seqs), 1000).ok());
      }
    };
    ingest_some();
    // Bounded by time: the checkpointer runs when the scheduler lets it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (background && storage_->BackgroundCheckpointCount() == 0 && std::chrono::steady_clock::now() < deadline) {
      ingest_some();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(storage_->BackgroundCheckpointCount() > 0, background);
    const uint64_t stored = seq - 1;
    storage_.reset();
    storage_ = OpenStorage();
    EXPECT_EQ(StoredSeqs("a-1").size(), stored);
  }
}

TEST_F(SqliteStorageTest, AckedBatchIsDurableAcrossReopen) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  ASSERT_TRUE(storage_->IngestBatch(Batch("a-1", {1, 2, 3}), 1000).ok());
  // Another connection sees the rows as soon as the ack is out (committed, not buffered)...
  {
    sqlite::OpenOptions ro;
    ro.read_only = true;
    auto db = sqlite::SqliteDb::Open(dir_.path() + "/collector.db", ro);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto q = (*db)->Prepare("SELECT COUNT(*) FROM results");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Step().value_or(false));
    EXPECT_EQ(q->ColumnInt(0), 3);
  }
  // ...and a new storage on the same file after the old one is gone.
  storage_.reset();
  storage_ = OpenStorage();
  EXPECT_EQ(StoredSeqs("a-1"), (std::vector<uint64_t>{1, 2, 3}));
  auto found = storage_->FindAgentByTokenHash(Sha256Hex("token-of-a-1"));
  ASSERT_TRUE(found.ok());
  // Idempotency survives the restart too.
  auto again = storage_->IngestBatch(Batch("a-1", {2, 3, 4}), 2000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->accepted, 1);
  EXPECT_EQ(again->duplicates, 2);
}

TEST_F(SqliteStorageTest, DiskFullIsUnavailableAndStoresNothingOfTheBatch) {
  storage_.reset();
  SqliteStorageOptions options;
  options.max_db_bytes = 256 * 1024;
  storage_ = OpenStorage(options);
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  // Fill up until a batch fails.
  std::vector<uint64_t> acked;
  Status failure;
  uint64_t next = 1;
  std::vector<uint64_t> failed_seqs;
  for (int i = 0; i < 200 && failure.ok(); ++i) {
    std::vector<uint64_t> seqs;
    for (int k = 0; k < 50; ++k) seqs.push_back(next++);
    protocol::ReportBatch b = Batch("a-1", seqs);
    for (auto& e : b.results) e.result.summary = std::string(200, 'x');
    auto ack = storage_->IngestBatch(b, 1000);
    if (ack.ok()) {
      acked.insert(acked.end(), seqs.begin(), seqs.end());
    } else {
      failure = ack.status();
      failed_seqs = seqs;
    }
  }
  ASSERT_FALSE(failure.ok()) << "the size limit was never reached";
  EXPECT_EQ(failure.code(), StatusCode::kUnavailable) << failure.ToString();
  // Everything acked is there; nothing of the failed batch is.
  EXPECT_EQ(StoredSeqs("a-1"), acked);
  // Storage still answers reads and keeps working once there is room again.
  EXPECT_TRUE(storage_->Ping().ok());
  ASSERT_TRUE(storage_->PruneHistory(2000).ok());
  auto retry = storage_->IngestBatch(Batch("a-1", failed_seqs), 3000);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->accepted, static_cast<int>(failed_seqs.size()));
}

TEST_F(SqliteStorageTest, ClosedStorageIsUnavailable) {
  ASSERT_TRUE(storage_->CreateAgent(Agent("a-1")).ok());
  storage_->Close();
  storage_->Close();  // idempotent
  EXPECT_EQ(storage_->IngestBatch(Batch("a-1", {1}), 1000).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(storage_->CreateAgent(Agent("a-2")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(storage_->Ping().code(), StatusCode::kUnavailable);
  EXPECT_EQ(storage_->ListHosts(10, 0).status().code(), StatusCode::kUnavailable);
}

TEST_F(SqliteStorageTest, RefusesADatabaseFromANewerVersion) {
  storage_.reset();
  {
    auto db = sqlite::SqliteDb::Open(dir_.path() + "/collector.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version=99").ok());
  }
  SqliteStorageOptions options;
  options.path = dir_.path() + "/collector.db";
  auto s = SqliteStorage::Open(options, clock_);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << s.status().ToString();
}

TEST_F(SqliteStorageTest, RejectsBadOptions) {
  SqliteStorageOptions options;
  options.path = ":memory:";
  EXPECT_EQ(SqliteStorage::Open(options, clock_).status().code(), StatusCode::kInvalidArgument);
  options.path = dir_.path() + "/x.db";
  options.synchronous = "OFF";
  EXPECT_EQ(SqliteStorage::Open(options, clock_).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace steadfast::collector
