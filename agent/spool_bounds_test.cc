// The spool's bounds (rows, bytes, age) and its drop policy: metrics-only samples go first,
// status changes are never dropped for space, drops are counted by reason and kept until
// reported. Includes a SIGKILL test of the on-disk counters.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "agent/spool.h"
#include "agent/testing/test_util.h"
#include "common/sqlite/sqlite_db.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;

CheckResult Result(const std::string& target, CheckStatus status, int n,
                   const std::string& check = "disks") {
  CheckResult r;
  r.check = check;
  r.target = target;
  r.status = status;
  r.summary = "sample " + std::to_string(n);
  r.observed_at_ms = 1'790'000'000'000 + n;
  r.metrics.push_back({"filesystem_used_ratio", {{"mountpoint", target}}, 0.5, "ratio"});
  return r;
}

class SpoolBoundsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Spool> OpenSpool(SpoolOptions o = {}) {
    auto spool = Spool::Open(path_, clock_, o);
    EXPECT_TRUE(spool.ok()) << spool.status().ToString();
    return spool.ok() ? std::move(spool).value() : nullptr;
  }
  // Summaries of the spooled results, oldest first.
  std::vector<std::string> Summaries(Spool& spool) {
    std::vector<std::string> out;
    auto batch = spool.PeekBatch(100'000);
    EXPECT_TRUE(batch.ok());
    for (const auto& e : *batch) out.push_back(e.result.summary);
    return out;
  }
  int64_t Query(const std::string& sql) {
    auto db = sqlite::SqliteDb::Open(path_);
    EXPECT_TRUE(db.ok());
    auto q = (*db)->Prepare(sql);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_TRUE(*q->Step());
    return q->ColumnInt(0);
  }

  steadfast::testing::FakeClock clock_{1'790'000'000'000};
  testing::TempDir dir_;
  std::string path_ = dir_.path() + "/spool.db";
};

TEST_F(SpoolBoundsTest, FullSpoolDropsTheOldestMetricsOnlySamplesAndKeepsStatusChanges) {
  SpoolOptions o;
  o.max_rows = 4;
  auto spool = OpenSpool(o);
  // 0 ok (first: a change), 1 ok, 2 ok, 3 critical (change), 4 critical, 5 ok (change), 6 ok
  const std::vector<CheckStatus> statuses = {
      CheckStatus::kOk,       CheckStatus::kOk, CheckStatus::kOk, CheckStatus::kCritical,
      CheckStatus::kCritical, CheckStatus::kOk, CheckStatus::kOk};
  for (size_t i = 0; i < statuses.size(); ++i) {
    ASSERT_TRUE(spool->Append(Result("/", statuses[i], static_cast<int>(i))).ok());
  }
  EXPECT_EQ(spool->Count(), 4);
  EXPECT_EQ(Summaries(*spool),
            (std::vector<std::string>{"sample 0", "sample 3", "sample 5", "sample 6"}));
  EXPECT_EQ(spool->DroppedTotal(), 3u);
  EXPECT_EQ(spool->DroppedSinceOpen().full, 3u);
  EXPECT_EQ(spool->UnreportedDrops().full, 3u);
  EXPECT_EQ(Query("SELECT total FROM drops WHERE reason = 'full'"), 3);
}

TEST_F(SpoolBoundsTest, StatusChangesAreTrackedPerCheckAndTarget) {
  SpoolOptions o;
  o.max_rows = 3;
  auto spool = OpenSpool(o);
  ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kOk, 0)).ok());          // change
  ASSERT_TRUE(spool->Append(Result("/var", CheckStatus::kOk, 1)).ok());       // change
  ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kOk, 2, "other")).ok());  // change
  ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kOk, 3)).ok());          // same
  ASSERT_TRUE(spool->Append(Result("/var", CheckStatus::kWarning, 4)).ok());  // change
  // Only status changes left, and a new one arrives: kept, past max_rows.
  EXPECT_EQ(spool->Count(), 4);
  // A metrics-only sample with no older one to make room for is itself dropped.
  auto seq = spool->Append(Result("/var", CheckStatus::kWarning, 5));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 0u);
  EXPECT_EQ(Summaries(*spool),
            (std::vector<std::string>{"sample 0", "sample 1", "sample 2", "sample 4"}));
  EXPECT_EQ(spool->DroppedSinceOpen().full, 2u);
}

TEST_F(SpoolBoundsTest, ByteLimitCountsTheStoredText) {
  SpoolOptions o;
  const int64_t one = static_cast<int64_t>(protocol::EncodeCheckResult(Result("/", CheckStatus::kOk, 10)).size());
  o.max_bytes = one * 5 + one / 2;  // room for five
  auto spool = OpenSpool(o);
  for (int i = 10; i < 30; ++i) ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kOk, i)).ok());
  EXPECT_EQ(spool->Count(), 5);
  EXPECT_LE(spool->Bytes(), o.max_bytes);
  EXPECT_EQ(spool->Bytes(), Query("SELECT SUM(length(CAST(result AS BLOB))) FROM spool"));
  // The first (a change) stays; the newest four samples fill the rest.
  EXPECT_EQ(Summaries(*spool), (std::vector<std::string>{"sample 10", "sample 26", "sample 27",
                                                          "sample 28", "sample 29"}));
  auto acked = spool->Ack(spool->PeekBatch(2)->back().seq);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(spool->Bytes(), one * 3);
}

TEST_F(SpoolBoundsTest, ResultsOlderThanMaxAgeExpireStatusChangesIncluded) {
  SpoolOptions o;
  o.max_age = Millis(3'600'000);
  auto spool = OpenSpool(o);
  ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kOk, 0)).ok());
  ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kCritical, 1)).ok());
  clock_.Advance(Millis(1'800'000));
  ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kCritical, 2)).ok());
  clock_.Advance(Millis(1'800'001));  // the first two are now past an hour old
  ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kCritical, 3)).ok());
  EXPECT_EQ(Summaries(*spool), (std::vector<std::string>{"sample 2", "sample 3"}));
  EXPECT_EQ(spool->DroppedSinceOpen().expired, 2u);
  EXPECT_EQ(spool->UnreportedDrops().expired, 2u);
  EXPECT_EQ(spool->OldestAge(), Millis(1'800'001));
}

TEST_F(SpoolBoundsTest, LastStatusAndUnreportedDropsSurviveARestart) {
  SpoolOptions o;
  o.max_rows = 2;
  {
    auto spool = OpenSpool(o);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kOk, i)).ok());
    EXPECT_EQ(spool->UnreportedDrops().full, 2u);
  }
  auto spool = OpenSpool(o);
  EXPECT_EQ(spool->UnreportedDrops().full, 2u);
  EXPECT_EQ(spool->DroppedSinceOpen().full, 0u);
  // Still ok after the restart: not a change, so it may be dropped for space.
  ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kOk, 4)).ok());
  EXPECT_EQ(Summaries(*spool), (std::vector<std::string>{"sample 0", "sample 4"}));

  // The report takes the drops it covers off the unreported count, atomically with its row.
  SpoolDrops covered = spool->UnreportedDrops();
  EXPECT_EQ(covered.full, 3u);
  CheckResult report = Result("http://collector", CheckStatus::kWarning, 99, "uplink");
  auto seq = spool->AppendDropReport(report, covered);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_NE(*seq, 0u);
  // Its own row made room like any other: sample 4 went, and that drop is not reported yet.
  EXPECT_EQ(Summaries(*spool), (std::vector<std::string>{"sample 0", "sample 99"}));
  EXPECT_EQ(spool->UnreportedDrops().full, 1u);
  EXPECT_EQ(Query("SELECT unreported FROM drops WHERE reason = 'full'"), 1);
  EXPECT_EQ(Query("SELECT total FROM drops WHERE reason = 'full'"), 4);
  // The report is never dropped for space; new samples are, having nothing older to replace.
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(spool->Append(Result("/", CheckStatus::kOk, i)).ok());
  EXPECT_EQ(Summaries(*spool), (std::vector<std::string>{"sample 0", "sample 99"}));
  EXPECT_EQ(spool->UnreportedDrops().full, 6u);
}

TEST_F(SpoolBoundsTest, VersionOneSpoolIsMigratedInPlace) {
  {
    auto db = sqlite::SqliteDb::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(R"sql(
CREATE TABLE spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL,
                    result TEXT NOT NULL);
CREATE TABLE rejected (seq INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL,
                       rejected_ms INTEGER NOT NULL, reason TEXT NOT NULL, result TEXT NOT NULL);
INSERT INTO sqlite_sequence(name, seq) VALUES ('spool', 5000);
PRAGMA user_version=1;
)sql").ok());
    for (int i = 0; i < 3; ++i) {
      auto ins = (*db)->Prepare("INSERT INTO spool(created_ms, result) VALUES (?, ?)");
      ins->Bind(1, clock_.NowMillis())
          .Bind(2, std::string_view(protocol::EncodeCheckResult(Result("/", CheckStatus::kOk, i))));
      ASSERT_TRUE(ins->Run().ok());
    }
  }
  SpoolOptions o;
  o.max_rows = 3;
  auto spool = OpenSpool(o);
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->Count(), 3);
  EXPECT_EQ(spool->Bytes(), Query("SELECT SUM(length(CAST(result AS BLOB))) FROM spool"));
  EXPECT_EQ(Query("PRAGMA user_version"), 2);
  // The old rows are kept as status changes (nothing is known about them) ...
  EXPECT_EQ(Query("SELECT count(*) FROM spool WHERE status_change = 1"), 3);
  // ... the sequence goes on ...
  auto seq = spool->Append(Result("/", CheckStatus::kOk, 3));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 5004u);
  // ... and the next sample of an unchanged status is droppable again (here at once: the
  // spool holds nothing but status changes).
  EXPECT_EQ(*spool->Append(Result("/", CheckStatus::kOk, 4)), 0u);
  EXPECT_EQ(Summaries(*spool),
            (std::vector<std::string>{"sample 0", "sample 1", "sample 2", "sample 3"}));
}

// A child process appends (with the bounds dropping rows all the time) and is SIGKILLed at a
// random moment. Reopened, the counters must agree with the rows: every committed append is
// either a row or counted as a drop, the byte total matches, and every status change the
// child saw committed is there.
TEST_F(SpoolBoundsTest, CountersStayConsistentAcrossSigkill) {
  SpoolOptions o;
  o.max_rows = 40;
  // The status each append carries: a change every 7th append on target /t(i % 3).
  auto status_of = [](int i) {
    return (i / 21) % 2 == 0 ? CheckStatus::kOk : CheckStatus::kWarning;
  };
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto spool = Spool::Open(path_, clock_, o);
    if (!spool.ok()) ::_exit(3);
    for (int i = 0;; ++i) {
      if (!(*spool)->Append(Result("/t" + std::to_string(i % 3), status_of(i), i)).ok()) ::_exit(4);
      if (::write(fds[1], &i, sizeof(i)) != sizeof(i)) ::_exit(5);
    }
  }
  ::close(fds[1]);
  int acked = -1;
  const int kill_after = 150 + static_cast<int>(::getpid() % 200);
  while (acked < kill_after) {
    int i = 0;
    ASSERT_EQ(::read(fds[0], &i, sizeof(i)), static_cast<ssize_t>(sizeof(i)));
    acked = i;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  // The child may have run ahead of the reads above: what it wrote before dying is acknowledged
  // too. Its end of the pipe is closed now, so this ends.
  for (int i = 0; ::read(fds[0], &i, sizeof(i)) == static_cast<ssize_t>(sizeof(i));) acked = i;
  ::close(fds[0]);

  auto spool = OpenSpool(o);
  ASSERT_NE(spool, nullptr);
  const int64_t rows = Query("SELECT count(*) FROM spool");
  const int64_t dropped = Query("SELECT SUM(total) FROM drops");
  EXPECT_EQ(spool->Count(), rows);
  EXPECT_EQ(spool->Bytes(), Query("SELECT COALESCE(SUM(bytes), 0) FROM spool"));
  EXPECT_EQ(spool->Bytes(), Query("SELECT SUM(length(CAST(result AS BLOB))) FROM spool"));
  EXPECT_EQ(Query("SELECT SUM(unreported) FROM drops"), dropped);
  // acked + 1 appends were acknowledged; one more may have committed before the kill.
  EXPECT_GE(rows + dropped, acked + 1);
  EXPECT_LE(rows + dropped, acked + 2);
  std::set<std::string> kept;
  for (const std::string& s : Summaries(*spool)) kept.insert(s);
  std::map<std::string, CheckStatus> last;
  for (int i = 0; i <= acked; ++i) {
    const std::string target = "/t" + std::to_string(i % 3);
    auto it = last.find(target);
    if (it == last.end() || it->second != status_of(i)) {
      EXPECT_TRUE(kept.count("sample " + std::to_string(i))) << "status change " << i << " lost";
    }
    last[target] = status_of(i);
  }
}

}  // namespace
}  // namespace steadfast::agent
