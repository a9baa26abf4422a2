#include "collector/audit/sqlite_audit_log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "collector/audit/audit_test_util.h"
#include "collector/testing/test_util.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::audit {
namespace {

using testing::kDropTriggers;
using testing::RawExec;
using testing::RawExecError;
using testing::SampleEvent;
using testing::TestKey;

constexpr int64_t kDay = 24LL * 3600 * 1000;

class SqliteAuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/collector.db";
    Reopen();
  }

  // (Re)opens the admin connection and the log, as a collector restart does.
  void Reopen(SqliteAuditLogOptions options = {}) {
    log_.reset();
    admin_.reset();
    StatusOr<std::unique_ptr<AdminDb>> db = AdminDb::Open(path_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    admin_ = std::move(*db);
    StatusOr<std::unique_ptr<SqliteAuditLog>> log =
        SqliteAuditLog::Open(*admin_, TestKey(), clock_, options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
  }

  void AppendMany(int n, int64_t time_ms = 1'790'000'000'000) {
    for (int i = 1; i <= n; ++i) {
      StatusOr<int64_t> seq = log_->Append(SampleEvent(i, time_ms));
      ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    }
  }

  VerifyReport MustVerify() {
    StatusOr<VerifyReport> r = log_->Verify();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  void ExpectDamage(int64_t seq, std::string_view problem) {
    VerifyReport r = MustVerify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.bad_seq, seq) << r.problem << ": " << r.detail;
    EXPECT_EQ(r.problem, problem) << r.detail;
  }

  std::vector<int64_t> Seqs(AuditQuery q) {
    StatusOr<std::vector<AuditRecord>> records = log_->Query(q);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    std::vector<int64_t> seqs;
    if (records.ok()) {
      for (const AuditRecord& r : *records) seqs.push_back(r.seq);
    }
    return seqs;
  }

  testutil::TempDir dir_;
  std::string path_;
  steadfast::testing::FakeClock clock_{1'790'000'500'000};
  std::unique_ptr<AdminDb> admin_;
  std::unique_ptr<SqliteAuditLog> log_;
};

TEST_F(SqliteAuditLogTest, AppendsGaplessSeqsAndVerifies) {
  for (int i = 1; i <= 5; ++i) {
    StatusOr<int64_t> seq = log_->Append(SampleEvent(i));
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    EXPECT_EQ(*seq, i);
  }
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.records_checked, 5);
  EXPECT_EQ(r.first_seq, 1);
  EXPECT_EQ(r.last_seq, 5);
  StatusOr<ChainPoint> head = log_->Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 5);
  EXPECT_EQ(head->mac_hex, log_->Query(AuditQuery{}).value().back().mac_hex);
}

TEST_F(SqliteAuditLogTest, EmptyLogVerifies) {
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.records_checked, 0);
  EXPECT_EQ(log_->Head()->seq, 0);
}

TEST_F(SqliteAuditLogTest, ChainContinuesAcrossRestarts) {
  AppendMany(3);
  Reopen();
  EXPECT_EQ(log_->Append(SampleEvent(4)).value(), 4);
  EXPECT_TRUE(MustVerify().ok);
}

TEST_F(SqliteAuditLogTest, ReadsBackExactlyWhatWasSealed) {
  AuditEvent e = SampleEvent(1);
  e.actor_name = "张伟";
  e.roles = {"unit_admin"};
  e.unit_id = std::nullopt;
  e.result = AuditResult::kDenied;
  e.result_code = "permission_denied";
  e.summary_json = R"({"after":{"name":"机房, \"A\""}})";
  ASSERT_TRUE(log_->Append(e).ok());
  AuditEvent no_roles = SampleEvent(2);
  no_roles.roles.clear();
  no_roles.actor_type = "anonymous";
  no_roles.actor_id.clear();
  ASSERT_TRUE(log_->Append(no_roles).ok());
  std::vector<AuditRecord> records = log_->Query(AuditQuery{}).value();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(CanonicalRecordEncoding(1, kGenesisMacHex, records[0].event),
            CanonicalRecordEncoding(1, kGenesisMacHex, e));
  EXPECT_EQ(records[0].prev_mac_hex, kGenesisMacHex);
  EXPECT_EQ(records[0].mac_hex, Seal(TestKey(), kGenesisMacHex, 1, e));
  EXPECT_EQ(records[1].prev_mac_hex, records[0].mac_hex);
  EXPECT_TRUE(records[1].event.roles.empty());
  EXPECT_FALSE(records[0].event.unit_id.has_value());
}

TEST_F(SqliteAuditLogTest, TimeZeroMeansNow) {
  AuditEvent e = SampleEvent(1);
  e.time_ms = 0;
  ASSERT_TRUE(log_->Append(e).ok());
  EXPECT_EQ(log_->Query(AuditQuery{}).value()[0].event.time_ms, clock_.NowMillis());
}

TEST_F(SqliteAuditLogTest, InvalidUtf8IsRecordedCleanedAndVerifies) {
  AuditEvent e = SampleEvent(1);
  e.action = "auth.login";
  e.result = AuditResult::kDenied;
  e.actor_name = std::string("root\xff\xfe", 6);
  ASSERT_TRUE(log_->Append(e).ok());
  EXPECT_EQ(log_->Query(AuditQuery{}).value()[0].event.actor_name, "root\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(MustVerify().ok);
}

TEST_F(SqliteAuditLogTest, RefusesABadSummaryAndWritesNothing) {
  AuditEvent e = SampleEvent(1);
  e.summary_json = "not json";
  EXPECT_EQ(log_->Append(e).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Head()->seq, 0);
}

TEST_F(SqliteAuditLogTest, QueryFilters) {
  const int64_t t0 = 1'790'000'000'000;
  auto add = [&](int64_t t, const std::string& actor, const std::string& actor_id,
                 const std::string& action, const std::string& type, const std::string& id,
                 AuditResult result, std::optional<int64_t> unit) {
    AuditEvent e = SampleEvent(0);
    e.time_ms = t;
    e.actor_name = actor;
    e.actor_id = actor_id;
    e.action = action;
    e.object_type = type;
    e.object_id = id;
    e.result = result;
    e.unit_id = unit;
    ASSERT_TRUE(log_->Append(e).ok());
  };
  add(t0 + 1, "alice", "1", "auth.login", "session", "", AuditResult::kOk, 1);                  // 1
  add(t0 + 2, "bob", "2", "users.create", "user", "42", AuditResult::kOk, 2);                   // 2
  add(t0 + 3, "alice", "1", "users.update", "user", "42", AuditResult::kError, 1);              // 3
  add(t0 + 4, "mallory", "", "auth.login", "session", "", AuditResult::kDenied, std::nullopt);  // 4
  add(t0 + 5, "bob", "2", "units.create", "unit", "9", AuditResult::kOk, 3);                    // 5
  add(t0 + 6, "alice", "1", "users_extra.x", "user", "43", AuditResult::kOk, 2);                // 6

  AuditQuery q;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  q.actor_name = "alice";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{1, 3, 6}));
  q = {};
  q.actor_id = "2";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{2, 5}));
  q = {};
  q.object_type = "user";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{2, 3, 6}));
  q.object_id = "42";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{2, 3}));
  q = {};
  q.action = "auth.login";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{1, 4}));
  q.action = "users.";  // a prefix: not users_extra.x
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{2, 3}));
  q.action = "users";  // not a prefix without the dot
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{}));
  q = {};
  q.result = AuditResult::kDenied;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{4}));
  q.result = AuditResult::kError;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{3}));
  q = {};
  q.unit_ids = std::vector<int64_t>{1, 3};
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{1, 3, 5}));
  q.unit_ids = std::vector<int64_t>{};  // an empty scope sees nothing
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{}));
  q = {};
  q.from_ms = t0 + 2;
  q.to_ms = t0 + 5;  // exclusive
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{2, 3, 4}));
  q = {};
  q.actor_name = "alice";
  q.result = AuditResult::kOk;
  q.from_ms = t0 + 2;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{6}));
  // A value that looks like SQL is just a value.
  q = {};
  q.actor_name = "alice' OR '1'='1";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{}));
}

TEST_F(SqliteAuditLogTest, QueryByActorNameFindsTheirApiTokensToo) {
  for (const char* actor : {"alice", "alice (token nightly)", "ali (token x)", "alice2", "alice_token"}) {
    AuditEvent e = SampleEvent(0);
    e.actor_name = actor;
    ASSERT_TRUE(log_->Append(e).ok());
  }
  AuditQuery q;
  q.actor_name = "alice";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{1, 2}));
  q.actor_name = "ali";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{3}));
  q.actor_name = "alice_";  // '_' is no wildcard
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{}));
}

TEST_F(SqliteAuditLogTest, QueryPagesBySeq) {
  AppendMany(7);
  AuditQuery q;
  q.limit = 3;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{1, 2, 3}));
  q.after_seq = 3;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{4, 5, 6}));
  q.after_seq = 6;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{7}));
  q.after_seq = 7;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{}));
  q.limit = 0;
  EXPECT_EQ(log_->Query(q).status().code(), StatusCode::kInvalidArgument);
  q.limit = kMaxAuditQueryLimit + 1;
  EXPECT_EQ(log_->Query(q).status().code(), StatusCode::kInvalidArgument);
  q.limit = kMaxAuditQueryLimit;
  EXPECT_TRUE(log_->Query(q).ok());
}

TEST_F(SqliteAuditLogTest, QueriesUseTheIndexes) {
  auto plan = [&](const std::string& where) {
    std::string out;
    EXPECT_TRUE(admin_
                    ->Read([&](sqlite::SqliteDb& db) -> Status {
                      SF_ASSIGN_OR_RETURN(
                          sqlite::SqliteStatement s,
                          db.Prepare("EXPLAIN QUERY PLAN SELECT seq FROM audit_records WHERE " +
                                     where + " ORDER BY seq LIMIT 10"));
                      while (true) {
                        SF_ASSIGN_OR_RETURN(bool row, s.Step());
                        if (!row) break;
                        out += s.ColumnText(3) + "\n";
                      }
                      return OkStatus();
                    })
                    .ok());
    return out;
  };
  EXPECT_NE(plan("seq > 0 AND actor_name = 'a'").find("audit_records_actor_name"),
            std::string::npos);
  EXPECT_NE(plan("seq > 0 AND object_type = 'u' AND object_id = '1'").find("audit_records_object"),
            std::string::npos);
  EXPECT_NE(plan("seq > 0 AND time_ms >= 1 AND time_ms < 2").find("audit_records_time"),
            std::string::npos);
}

// ---- transactions shared with a store

TEST_F(SqliteAuditLogTest, AppendInTransactionCommitsWithTheCallersChange) {
  ASSERT_TRUE(
      admin_->Write([](sqlite::SqliteDb& db) { return db.Exec("CREATE TABLE things (name TEXT)"); })
          .ok());
  int64_t seq = 0;
  Status st = admin_->Write([&](sqlite::SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(db.Exec("INSERT INTO things VALUES ('a')"));
    SF_ASSIGN_OR_RETURN(seq, log_->AppendInTransaction(db, SampleEvent(1)));
    return OkStatus();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seq, 1);
  EXPECT_EQ(log_->Head()->seq, 1);
  EXPECT_TRUE(MustVerify().ok);
}

TEST_F(SqliteAuditLogTest, AppendInTransactionRolledBackLeavesNoRecordAndTheHeadUnchanged) {
  AppendMany(2);
  const ChainPoint before = log_->Head().value();
  ASSERT_TRUE(
      admin_->Write([](sqlite::SqliteDb& db) { return db.Exec("CREATE TABLE things (name TEXT)"); })
          .ok());
  Status st = admin_->Write([&](sqlite::SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(db.Exec("INSERT INTO things VALUES ('a')"));
    StatusOr<int64_t> seq = log_->AppendInTransaction(db, SampleEvent(3));
    EXPECT_TRUE(seq.ok());
    EXPECT_EQ(seq.value_or(0), 3);
    return AlreadyExistsError("username: already taken");  // the store's change fails after all
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  const ChainPoint after = log_->Head().value();
  EXPECT_EQ(after.seq, before.seq);
  EXPECT_EQ(after.mac_hex, before.mac_hex);
  EXPECT_EQ(Seqs(AuditQuery{}), (std::vector<int64_t>{1, 2}));
  // The next record takes seq 3 and the chain is whole.
  EXPECT_EQ(log_->Append(SampleEvent(4)).value(), 3);
  EXPECT_TRUE(MustVerify().ok);
  int64_t things = -1;
  ASSERT_TRUE(admin_
                  ->Read([&](sqlite::SqliteDb& db) -> Status {
                    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s,
                                        db.Prepare("SELECT count(*) FROM things"));
                    SF_ASSIGN_OR_RETURN(bool row, s.Step());
                    things = row ? s.ColumnInt(0) : -1;
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(things, 0);
}

TEST_F(SqliteAuditLogTest, AppendInTransactionOutsideATransactionIsRefused) {
  Status st = admin_->Read([&](sqlite::SqliteDb& db) -> Status {
    return log_->AppendInTransaction(db, SampleEvent(1)).status();
  });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(log_->Head()->seq, 0);
}

TEST_F(SqliteAuditLogTest, TriggersRefuseEditsAndDeletesAfterTheCheckpoint) {
  AppendMany(3);
  EXPECT_NE(RawExecError(path_, "UPDATE audit_records SET actor_name = 'x' WHERE seq = 2")
                .find("append-only"),
            std::string::npos);
  EXPECT_NE(RawExecError(path_, "DELETE FROM audit_records WHERE seq = 2").find("append-only"),
            std::string::npos);
  EXPECT_TRUE(MustVerify().ok);
}

// ---- tampering with the database directly (full write access, no key)

TEST_F(SqliteAuditLogTest, TamperUpdateAFieldIsAltered) {
  AppendMany(10);
  RawExec(path_, std::string(kDropTriggers) +
                     "UPDATE audit_records SET actor_name = 'bob' WHERE seq = 4;");
  ExpectDamage(4, kProblemAltered);
}

TEST_F(SqliteAuditLogTest, TamperUpdateTheSummaryOfTheLastRecordIsAltered) {
  AppendMany(10);
  RawExec(path_,
          std::string(kDropTriggers) + "UPDATE audit_records SET summary = '{}' WHERE seq = 10;");
  ExpectDamage(10, kProblemAltered);
}

TEST_F(SqliteAuditLogTest, TamperUpdateTheResultToNonsenseIsAltered) {
  AppendMany(5);
  RawExec(path_,
          std::string(kDropTriggers) + "UPDATE audit_records SET result = 'fine' WHERE seq = 2;");
  ExpectDamage(2, kProblemAltered);
  RawExec(path_, "UPDATE audit_records SET result = 'ok', roles = 'admin' WHERE seq = 2;");
  ExpectDamage(2, kProblemAltered);
}

TEST_F(SqliteAuditLogTest, TamperUpdateUnitToNullIsAltered) {
  AppendMany(5);
  RawExec(path_,
          std::string(kDropTriggers) + "UPDATE audit_records SET unit_id = NULL WHERE seq = 3;");
  ExpectDamage(3, kProblemAltered);
}

TEST_F(SqliteAuditLogTest, TamperDeleteAMiddleRowIsRemoved) {
  AppendMany(10);
  RawExec(path_, std::string(kDropTriggers) + "DELETE FROM audit_records WHERE seq = 6;");
  ExpectDamage(6, kProblemRemoved);
}

TEST_F(SqliteAuditLogTest, TamperInsertAForgedRowAtTheEndIsInserted) {
  AppendMany(10);
  RawExec(path_,
          "INSERT INTO audit_records SELECT 11, time_ms + 1, actor_type, actor_id, actor_name, "
          "roles, unit_id, "
          "source_address, 'users.delete', object_type, object_id, summary, result, result_code, "
          "message, mac, "
          "mac FROM audit_records WHERE seq = 10;");
  ExpectDamage(11, kProblemInserted);
  // Moving the head along does not help: its seal needs the key.
  RawExec(path_,
          "UPDATE audit_head SET seq = 11, mac = (SELECT mac FROM audit_records WHERE seq = 11);");
  ExpectDamage(11, kProblemInserted);
}

TEST_F(SqliteAuditLogTest, TamperInsertAForgedRowInTheMiddleIsInserted) {
  AppendMany(10);
  // Make room at seq 5 (highest first, so the primary key never collides), then forge it.
  RawExec(path_, std::string(kDropTriggers) +
                     "UPDATE audit_records SET seq = -seq - 1 WHERE seq >= 5;"
                     "UPDATE audit_records SET seq = -seq WHERE seq < 0;"
                     "INSERT INTO audit_records SELECT 5, time_ms, actor_type, actor_id, 'bob', "
                     "roles, unit_id, "
                     "source_address, action, object_type, object_id, summary, result, "
                     "result_code, message, mac, "
                     "mac FROM audit_records WHERE seq = 4;"
                     "UPDATE audit_head SET seq = 11;");
  ExpectDamage(5, kProblemInserted);
}

TEST_F(SqliteAuditLogTest, TamperDeleteTheLastRowsIsTruncated) {
  AppendMany(10);
  RawExec(path_, std::string(kDropTriggers) + "DELETE FROM audit_records WHERE seq > 7;");
  ExpectDamage(8, kProblemTruncated);
}

TEST_F(SqliteAuditLogTest, TamperDeleteTheLastRowsAndRewriteTheHeadIsHeadAltered) {
  AppendMany(10);
  RawExec(
      path_,
      std::string(kDropTriggers) +
          "DELETE FROM audit_records WHERE seq > 7;"
          "UPDATE audit_head SET seq = 7, mac = (SELECT mac FROM audit_records WHERE seq = 7);");
  ExpectDamage(8, kProblemHeadAltered);
}

TEST_F(SqliteAuditLogTest, TamperChangeTheHeadIsHeadAltered) {
  AppendMany(10);
  RawExec(path_, "UPDATE audit_head SET seq = 12;");
  ExpectDamage(11, kProblemHeadAltered);
}

TEST_F(SqliteAuditLogTest, TamperRestoreAnOlderHeadRowIsHeadAltered) {
  AppendMany(4);
  const ChainPoint saved = log_->Head().value();
  AppendMany(3);
  RawExec(path_, "UPDATE audit_head SET seq = " + std::to_string(saved.seq) + ", mac = '" +
                     saved.mac_hex + "', seal = '" + saved.seal_hex + "';");
  ExpectDamage(5, kProblemHeadAltered);
}

TEST_F(SqliteAuditLogTest, TamperDeleteTheHeadRowIsHeadAlteredAndStopsAppends) {
  AppendMany(3);
  RawExec(path_, "DELETE FROM audit_head;");
  ExpectDamage(4, kProblemHeadAltered);
  EXPECT_EQ(log_->Append(SampleEvent(9)).status().code(), StatusCode::kDataLoss);
}

TEST_F(SqliteAuditLogTest, TamperMoveTheCheckpointOverDeletedRowsIsCheckpointAltered) {
  AppendMany(10);
  RawExec(path_, std::string(kDropTriggers) +
                     "UPDATE audit_checkpoint SET seq = 4, mac = (SELECT mac FROM audit_records "
                     "WHERE seq = 4);"
                     "DELETE FROM audit_records WHERE seq <= 4;");
  ExpectDamage(4, kProblemCheckpointAltered);
}

TEST_F(SqliteAuditLogTest, TamperDropTheRecordsTableIsRemoved) {
  AppendMany(3);
  RawExec(path_, "DROP TABLE audit_records;");
  ExpectDamage(1, kProblemRemoved);
}

TEST_F(SqliteAuditLogTest, OpeningWithAnotherKeyIsRefused) {
  AppendMany(2);
  StatusOr<std::unique_ptr<SqliteAuditLog>> other =
      SqliteAuditLog::Open(*admin_, TestKey(50), clock_);
  ASSERT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("audit.key"), std::string::npos);
}

TEST_F(SqliteAuditLogTest, OpeningADamagedLogStillWorksSoTheDamageCanBeShown) {
  AppendMany(3);
  RawExec(path_, "UPDATE audit_head SET seq = 12;");
  Reopen();
  ExpectDamage(4, kProblemHeadAltered);
}

// ---- retention

TEST_F(SqliteAuditLogTest, PruneDeletesOldRecordsKeepsACheckpointAndRecordsItself) {
  AppendMany(6, clock_.NowMillis() - 400 * kDay);  // seq 1..6, old
  AppendMany(2, clock_.NowMillis());               // seq 7..8, recent
  StatusOr<int64_t> deleted = log_->Prune(clock_.NowMillis() - 365 * kDay);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 6);
  EXPECT_EQ(Seqs(AuditQuery{}), (std::vector<int64_t>{7, 8, 9}));
  AuditRecord prune = log_->Query(AuditQuery{}).value().back();
  EXPECT_EQ(prune.event.action, "audit.prune");
  EXPECT_EQ(prune.event.actor_type, "system");
  nlohmann::json summary = nlohmann::json::parse(prune.event.summary_json);
  EXPECT_EQ(summary["deleted"], 6);
  EXPECT_EQ(summary["checkpoint_seq"], 6);
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.first_seq, 7);
  EXPECT_EQ(r.last_seq, 9);
  // Nothing more to do: no new record.
  EXPECT_EQ(log_->Prune(clock_.NowMillis() - 365 * kDay).value(), 0);
  EXPECT_EQ(log_->Head()->seq, 9);
  // Deleting the first remaining record is caught against the checkpoint.
  RawExec(path_, std::string(kDropTriggers) + "DELETE FROM audit_records WHERE seq = 7;");
  ExpectDamage(7, kProblemRemoved);
}

TEST_F(SqliteAuditLogTest, PruneWorksInChunksAndCanEmptyTheLog) {
  Reopen(SqliteAuditLogOptions{.verify_db_path = "", .prune_chunk = 3});
  AppendMany(10, clock_.NowMillis() - 400 * kDay);
  EXPECT_EQ(log_->Prune(clock_.NowMillis()).value(), 10);
  EXPECT_EQ(Seqs(AuditQuery{}), (std::vector<int64_t>{11}));
  EXPECT_TRUE(MustVerify().ok);
}

TEST_F(SqliteAuditLogTest, PruneStopsAtTheFirstRecentRecord) {
  AppendMany(2, clock_.NowMillis() - 400 * kDay);
  AppendMany(1, clock_.NowMillis());               // seq 3: recent
  AppendMany(2, clock_.NowMillis() - 400 * kDay);  // seq 4, 5: old clock times after it
  EXPECT_EQ(log_->Prune(clock_.NowMillis() - 365 * kDay).value(), 2);
  EXPECT_EQ(Seqs(AuditQuery{}), (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_TRUE(MustVerify().ok);
}

TEST_F(SqliteAuditLogTest, PruneRefusesToDeleteTamperedRecords) {
  AppendMany(6, clock_.NowMillis() - 400 * kDay);
  RawExec(path_, std::string(kDropTriggers) +
                     "UPDATE audit_records SET actor_name = 'bob' WHERE seq = 2;");
  EXPECT_EQ(log_->Prune(clock_.NowMillis()).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Seqs(AuditQuery{}).size(), 6u);
  ExpectDamage(2, kProblemAltered);
}

// ---- verifying beside a running collector

TEST_F(SqliteAuditLogTest, VerifyOnItsOwnReadOnlyConnection) {
  Reopen(SqliteAuditLogOptions{.verify_db_path = path_});
  AppendMany(5);
  EXPECT_TRUE(MustVerify().ok);
  RawExec(path_, std::string(kDropTriggers) + "DELETE FROM audit_records WHERE seq = 2;");
  ExpectDamage(2, kProblemRemoved);
}

TEST_F(SqliteAuditLogTest, VerifyWhileAnotherThreadAppendsSeesConsistentSnapshots) {
  Reopen(SqliteAuditLogOptions{.verify_db_path = path_});
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread writer([&] {
    for (int i = 1; !stop && i <= 400; ++i) {
      if (log_->Append(SampleEvent(i)).ok()) ++appended;
    }
  });
  int verified = 0;
  while (appended < 400 && verified < 200) {
    VerifyReport r = MustVerify();
    ++verified;
    if (!r.ok) {
      ADD_FAILURE() << r.problem << " at " << r.bad_seq << ": " << r.detail;
      break;
    }
  }
  stop = true;
  writer.join();
  EXPECT_GT(verified, 0);
  EXPECT_TRUE(MustVerify().ok);
}

TEST_F(SqliteAuditLogTest, LongLogVerifies) {
  // Many records in few transactions, as a busy collector accumulates them.
  for (int batch = 0; batch < 5; ++batch) {
    ASSERT_TRUE(admin_
                    ->Write([&](sqlite::SqliteDb& db) -> Status {
                      for (int i = 0; i < 1000; ++i) {
                        SF_RETURN_IF_ERROR(
                            log_->AppendInTransaction(db, SampleEvent(batch * 1000 + i)).status());
                      }
                      return OkStatus();
                    })
                    .ok());
  }
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.records_checked, 5000);
  RawExec(path_,
          std::string(kDropTriggers) + "UPDATE audit_records SET message = 'x' WHERE seq = 4999;");
  ExpectDamage(4999, kProblemAltered);
}

// ---- a crash while appending

// A child process appends in a loop and reports each seq once Append has returned; it is
// SIGKILLed mid-stream. Every reported record must be there, and the chain must verify.
TEST_F(SqliteAuditLogTest, KilledWhileAppendingLosesNothingAcknowledged) {
  AppendMany(1);
  log_.reset();
  admin_.reset();  // no SQLite connection may cross fork()
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    StatusOr<std::unique_ptr<AdminDb>> db = AdminDb::Open(path_);
    if (!db.ok()) ::_exit(10);
    steadfast::testing::FakeClock clock;
    StatusOr<std::unique_ptr<SqliteAuditLog>> log = SqliteAuditLog::Open(**db, TestKey(), clock);
    if (!log.ok()) ::_exit(11);
    for (int i = 2;; ++i) {
      StatusOr<int64_t> seq = (*log)->Append(SampleEvent(i));
      if (!seq.ok()) ::_exit(12);
      char line[32];
      const int n = std::snprintf(line, sizeof(line), "%lld\n", static_cast<long long>(*seq));
      if (::write(fds[1], line, static_cast<size_t>(n)) != n) ::_exit(13);
    }
  }
  ::close(fds[1]);
  std::string acked;
  char buf[256];
  int lines = 0;
  while (lines < 150) {
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    ASSERT_GT(n, 0) << "the appending child stopped early";
    acked.append(buf, static_cast<size_t>(n));
    lines = static_cast<int>(std::count(acked.begin(), acked.end(), '\n'));
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  // Whatever the child reported after our last read is in the pipe still.
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    acked.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);

  Reopen();
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem << " at " << r.bad_seq << ": " << r.detail;
  std::set<int64_t> present;
  AuditQuery q;
  q.limit = kMaxAuditQueryLimit;
  for (int64_t seq : Seqs(q)) present.insert(seq);
  size_t pos = 0;
  int checked = 0;
  while (pos < acked.size()) {
    const size_t nl = acked.find('\n', pos);
    if (nl == std::string::npos) break;  // a partial last line: its Append returned, but unseen
    const int64_t seq = std::stoll(acked.substr(pos, nl - pos));
    EXPECT_TRUE(present.count(seq)) << "acknowledged record " << seq << " is missing";
    pos = nl + 1;
    ++checked;
  }
  EXPECT_GE(checked, 150);
  // The log goes on after the crash.
  StatusOr<int64_t> next = log_->Append(SampleEvent(1));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, r.last_seq + 1);
  EXPECT_TRUE(MustVerify().ok);
}

}  // namespace
}  // namespace steadfast::collector::audit
