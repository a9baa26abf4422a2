#include "agent/spool.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "agent/testing/test_util.h"
#include "common/sqlite/sqlite_db.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;

CheckResult Result(const std::string& target, CheckStatus status = CheckStatus::kOk) {
  CheckResult r;
  r.check = "disks";
  r.target = target;
  r.status = status;
  r.summary = target + " is fine";
  r.observed_at_ms = 1'790'000'000'123;
  r.duration_ms = 3;
  r.metrics.push_back({"filesystem_used_ratio", {{"mountpoint", target}}, 0.5, "ratio"});
  r.details_json = R"({"fstype":"ext4"})";
  return r;
}

class SpoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<Spool> OpenSpool(SpoolOptions o = {}) {
    auto spool = Spool::Open(path_, clock_, o);
    EXPECT_TRUE(spool.ok()) << spool.status().ToString();
    return spool.ok() ? std::move(spool).value() : nullptr;
  }
  int64_t RowsSeenByAnotherConnection(const std::string& table) {
    auto db = sqlite::SqliteDb::Open(path_);
    EXPECT_TRUE(db.ok());
    auto q = (*db)->Prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(q.ok());
    EXPECT_TRUE(*q->Step());
    return q->ColumnInt(0);
  }

  steadfast::testing::FakeClock clock_{1'790'000'000'000};
  testing::TempDir dir_;
  std::string path_ = dir_.path() + "/spool.db";
};

TEST_F(SpoolTest, NewSpoolSeedsTheSequenceFromTheClock) {
  auto spool = OpenSpool();
  auto seq = spool->Append(Result("/"));
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 1'790'000'000'000'000u + 1);
  EXPECT_EQ(*spool->Append(Result("/var")), *seq + 1);
  EXPECT_EQ(spool->Count(), 2);
}

TEST_F(SpoolTest, AppendedResultIsOnDiskWhenAppendReturns) {
  auto spool = OpenSpool();
  ASSERT_TRUE(spool->Append(Result("/")).ok());
  EXPECT_EQ(RowsSeenByAnotherConnection("spool"), 1);
}

TEST_F(SpoolTest, PeekReturnsOldestFirstAndAckDeletesThroughSeq) {
  auto spool = OpenSpool();
  auto seqs = spool->AppendAll({Result("/a"), Result("/b"), Result("/c"), Result("/d")});
  ASSERT_TRUE(seqs.ok());
  ASSERT_EQ(seqs->size(), 4u);
  auto batch = spool->PeekBatch(3);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ((*batch)[0].seq, (*seqs)[0]);
  EXPECT_EQ((*batch)[2].seq, (*seqs)[2]);
  EXPECT_EQ((*batch)[1].result, Result("/b"));  // round-trips through the protocol JSON
  // Peeking does not remove.
  EXPECT_EQ(spool->Count(), 4);
  auto deleted = spool->Ack((*seqs)[1]);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(spool->Count(), 2);
  batch = spool->PeekBatch(10);
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].result.target, "/c");
}

TEST_F(SpoolTest, ReopeningKeepsRowsAndContinuesTheSequence) {
  uint64_t last = 0;
  {
    auto spool = OpenSpool();
    last = *spool->Append(Result("/"));
  }
  clock_.Advance(Millis(5'000));
  auto spool = OpenSpool();
  EXPECT_EQ(spool->Count(), 1);
  EXPECT_EQ(*spool->Append(Result("/")), last + 1);
}

TEST_F(SpoolTest, RecreatedSpoolNeverReusesNumbers) {
  uint64_t last = 0;
  {
    auto spool = OpenSpool();
    for (int i = 0; i < 5; ++i) last = *spool->Append(Result("/"));
  }
  std::filesystem::remove(path_);
  std::filesystem::remove(path_ + "-wal");
  std::filesystem::remove(path_ + "-shm");
  clock_.Advance(Millis(1'000));
  auto spool = OpenSpool();
  EXPECT_EQ(spool->Count(), 0);
  EXPECT_GT(*spool->Append(Result("/")), last);
}

TEST_F(SpoolTest, FullSpoolDropsTheOldestAndCountsThem) {
  SpoolOptions o;
  o.max_rows = 3;
  auto spool = OpenSpool(o);
  // One check+target, one status: the first result is its status change and stays; the
  // others are metrics-only samples, dropped oldest first (spool_bounds_test.cc has the rest).
  auto sample = [](const char* name) {
    CheckResult r = Result("/");
    r.summary = name;
    return r;
  };
  for (const char* t : {"1", "2", "3", "4", "5"}) ASSERT_TRUE(spool->Append(sample(t)).ok());
  EXPECT_EQ(spool->Count(), 3);
  EXPECT_EQ(spool->DroppedTotal(), 2u);
  auto batch = spool->PeekBatch(10);
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ((*batch)[0].result.summary, "1");
  EXPECT_EQ((*batch)[1].result.summary, "4");
  EXPECT_EQ((*batch)[2].result.summary, "5");
  // A batch bigger than the room left drops enough old rows for all of it.
  ASSERT_TRUE(spool->AppendAll({sample("6"), sample("7")}).ok());
  EXPECT_EQ(spool->Count(), 3);
  EXPECT_EQ(spool->DroppedTotal(), 4u);
  batch = spool->PeekBatch(10);
  EXPECT_EQ((*batch)[1].result.summary, "6");
  EXPECT_EQ(RowsSeenByAnotherConnection("spool"), 3);
}

TEST_F(SpoolTest, MoveToRejectedKeepsTheResultAside) {
  auto spool = OpenSpool();
  auto seqs = *spool->AppendAll({Result("/a"), Result("/b"), Result("/c")});
  ASSERT_TRUE(spool->MoveToRejected({seqs[1], 12345}, "HTTP 400: bad status").ok());
  EXPECT_EQ(spool->Count(), 2);
  EXPECT_EQ(spool->RejectedCount(), 1);
  auto batch = spool->PeekBatch(10);
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[1].result.target, "/c");
  auto db = sqlite::SqliteDb::Open(path_);
  auto q = (*db)->Prepare("SELECT seq, reason, result FROM rejected");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(static_cast<uint64_t>(q->ColumnInt(0)), seqs[1]);
  EXPECT_EQ(q->ColumnText(1), "HTTP 400: bad status");
  EXPECT_EQ(*protocol::DecodeCheckResult(q->ColumnText(2)), Result("/b"));
}

TEST_F(SpoolTest, RejectedTableKeepsOnlyTheNewestRows) {
  SpoolOptions o;
  o.max_rejected_rows = 2;
  auto spool = OpenSpool(o);
  auto seqs = *spool->AppendAll({Result("/a"), Result("/b"), Result("/c")});
  for (uint64_t s : seqs) ASSERT_TRUE(spool->MoveToRejected({s}, "bad").ok());
  EXPECT_EQ(spool->RejectedCount(), 2);
  EXPECT_EQ(spool->Count(), 0);
}

TEST_F(SpoolTest, UndecodableRowsAreMovedAsideOnPeek) {
  auto spool = OpenSpool();
  ASSERT_TRUE(spool->Append(Result("/a")).ok());
  {
    auto db = sqlite::SqliteDb::Open(path_);
    ASSERT_TRUE((*db)->Exec("INSERT INTO spool(created_ms, result) VALUES (1, 'not json')").ok());
  }
  ASSERT_TRUE(spool->Append(Result("/b")).ok());
  // The spool's cached count does not know about the row written behind its back; the
  // decode check is what matters here.
  auto batch = spool->PeekBatch(10);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].result.target, "/a");
  EXPECT_EQ((*batch)[1].result.target, "/b");
  EXPECT_EQ(spool->RejectedCount(), 1);
  EXPECT_EQ(RowsSeenByAnotherConnection("spool"), 2);
}

TEST_F(SpoolTest, RawPeekReturnsStoredJsonAndSetsDamagedRowsAside) {
  auto spool = OpenSpool();
  ASSERT_TRUE(spool->Append(Result("/a")).ok());
  {
    auto db = sqlite::SqliteDb::Open(path_);
    ASSERT_TRUE((*db)->Exec("INSERT INTO spool(created_ms, result) VALUES (1, '[1,2]')").ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO spool(created_ms, result) VALUES (1, '{\"check\":')").ok());
    // Valid JSON, not a valid result: the raw path sends it (the collector refuses it and the
    // uplink sets it aside); the decoding path sets it aside itself.
    ASSERT_TRUE((*db)->Exec("INSERT INTO spool(created_ms, result) VALUES (1, '{\"x\":1}')").ok());
  }
  ASSERT_TRUE(spool->Append(Result("/b")).ok());
  auto raw = spool->PeekRawBatch(10);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_EQ(raw->size(), 3u);
  auto first = protocol::DecodeCheckResult((*raw)[0].result_json);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->target, "/a");
  EXPECT_EQ((*raw)[1].result_json, "{\"x\":1}");
  EXPECT_EQ(spool->RejectedCount(), 2);
  auto batch = spool->PeekBatch(10);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[1].result.target, "/b");
  EXPECT_EQ(spool->RejectedCount(), 3);
  EXPECT_EQ(RowsSeenByAnotherConnection("spool"), 2);
}

TEST_F(SpoolTest, OldestAgeFollowsTheClock) {
  auto spool = OpenSpool();
  EXPECT_EQ(spool->OldestAge(), Millis(0));
  ASSERT_TRUE(spool->Append(Result("/")).ok());
  clock_.Advance(Millis(5'000));
  ASSERT_TRUE(spool->Append(Result("/")).ok());
  EXPECT_EQ(spool->OldestAge(), Millis(5'000));
}

TEST_F(SpoolTest, DamagedFileIsDataLoss) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    std::fputs("this is not a database, just text that is long enough to have a header......", f);
    std::fclose(f);
  }
  auto spool = Spool::Open(path_, clock_);
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.status().code(), StatusCode::kDataLoss) << spool.status().ToString();
}

}  // namespace
}  // namespace steadfast::agent
