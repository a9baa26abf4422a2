#include "agent/spool.h"

#include <fmt/format.h>

#include "common/logging.h"

namespace steadfast::agent {
namespace {

// The sequence seed is written by the first migration with the creation time baked in, so it
// happens exactly once per spool file (Migrate runs a migration only on a fresh file).
std::vector<sqlite::Migration> Migrations(int64_t now_ms) {
  return {
      {1, fmt::format(R"sql(
CREATE TABLE spool (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  created_ms INTEGER NOT NULL,
  result     TEXT NOT NULL
);
CREATE TABLE rejected (
  seq         INTEGER PRIMARY KEY,
  created_ms  INTEGER NOT NULL,
  rejected_ms INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  result      TEXT NOT NULL
);
INSERT INTO sqlite_sequence(name, seq) VALUES ('spool', {});
)sql",
                      now_ms * 1000)},
  };
}

StatusOr<int64_t> QueryInt(sqlite::SqliteDb& db, std::string_view sql) {
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db.Prepare(sql));
  SF_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return int64_t{0};
  return q.ColumnInt(0);
}

}  // namespace

StatusOr<std::unique_ptr<Spool>> Spool::Open(const std::string& path, Clock& clock,
                                             SpoolOptions options) {
  sqlite::OpenOptions open;
  open.synchronous = "FULL";
  SF_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::SqliteDb> db, sqlite::SqliteDb::Open(path, open));
  SF_RETURN_IF_ERROR(db->Exec(fmt::format("PRAGMA cache_size=-{}", options.cache_kib)));
  // Keep the WAL file from growing past a few MiB after a burst; it is reused, not re-grown.
  SF_RETURN_IF_ERROR(db->Exec("PRAGMA journal_size_limit=4194304"));
  SF_RETURN_IF_ERROR(db->Migrate(Migrations(clock.NowMillis())).WithContext(path));
  std::unique_ptr<Spool> spool(new Spool(std::move(db), clock, options));
  SF_ASSIGN_OR_RETURN(spool->count_, QueryInt(*spool->db_, "SELECT count(*) FROM spool"));
  SF_ASSIGN_OR_RETURN(spool->rejected_count_,
                      QueryInt(*spool->db_, "SELECT count(*) FROM rejected"));
  return spool;
}

StatusOr<uint64_t> Spool::InsertLocked(const protocol::CheckResult& result, int64_t now_ms) {
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement insert,
                      db_->Prepare("INSERT INTO spool(created_ms, result) VALUES (?, ?)"));
  insert.Bind(1, now_ms).Bind(2, protocol::EncodeCheckResult(result));
  SF_RETURN_IF_ERROR(insert.Run());
  return static_cast<uint64_t>(db_->LastInsertRowId());
}

StatusOr<int64_t> Spool::MakeRoomLocked(int64_t incoming) {
  int64_t excess = count_ + incoming - options_.max_rows;
  if (excess <= 0) {
    overflowing_ = false;
    return int64_t{0};
  }
  int64_t drop = std::min(excess, count_);
  if (drop <= 0) return int64_t{0};
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement del,
                      db_->Prepare("DELETE FROM spool WHERE seq IN "
                                   "(SELECT seq FROM spool ORDER BY seq LIMIT ?)"));
  del.Bind(1, drop);
  SF_RETURN_IF_ERROR(del.Run());
  if (!overflowing_) {
    SF_LOG_WARN(
        "spool is full ({} results): dropping the oldest results until the collector catches up",
        options_.max_rows);
  }
  overflowing_ = true;
  return static_cast<int64_t>(db_->Changes());
}

StatusOr<uint64_t> Spool::Append(const protocol::CheckResult& result) {
  SF_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, AppendAll({result}));
  return seqs.front();
}

StatusOr<std::vector<uint64_t>> Spool::AppendAll(
    const std::vector<protocol::CheckResult>& results) {
  std::vector<uint64_t> seqs;
  if (results.empty()) return seqs;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now_ms = clock_.NowMillis();
  const int64_t incoming = static_cast<int64_t>(results.size());
  const int64_t before = count_;
  const bool was_overflowing = overflowing_;
  sqlite::Transaction tx(db_.get());
  SF_RETURN_IF_ERROR(tx.Begin());
  auto room = MakeRoomLocked(incoming);
  Status st = room.status();
  const int64_t dropped = room.ok() ? *room : 0;
  for (size_t i = 0; st.ok() && i < results.size(); ++i) {
    auto seq = InsertLocked(results[i], now_ms);
    if (!seq.ok()) {
      st = seq.status();
    } else {
      seqs.push_back(*seq);
    }
  }
  if (st.ok()) st = tx.Commit();
  if (!st.ok()) {
    overflowing_ = was_overflowing;
    return st.WithContext("spool append");
  }
  count_ = before - dropped + incoming;
  dropped_total_ += static_cast<uint64_t>(dropped);
  return seqs;
}

StatusOr<std::vector<protocol::ReportEntry>> Spool::PeekBatch(size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<protocol::ReportEntry> out;
  std::vector<uint64_t> bad;
  std::string bad_reason;
  {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q,
                        db_->Prepare("SELECT seq, result FROM spool ORDER BY seq LIMIT ?"));
    q.Bind(1, static_cast<int64_t>(max));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      const uint64_t seq = static_cast<uint64_t>(q.ColumnInt(0));
      auto result = protocol::DecodeCheckResult(q.ColumnText(1));
      if (!result.ok()) {
        bad.push_back(seq);
        bad_reason = "stored result does not decode: " + result.status().message();
        continue;
      }
      out.push_back(protocol::ReportEntry{seq, std::move(result).value()});
    }
  }
  if (!bad.empty()) {
    SF_LOG_ERROR("spool: {} stored results do not decode; moved to the rejected table ({})",
                 bad.size(), bad_reason);
    SF_RETURN_IF_ERROR(MoveToRejectedLocked(bad, bad_reason));
  }
  return out;
}

StatusOr<int64_t> Spool::Ack(uint64_t through_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement del,
                      db_->Prepare("DELETE FROM spool WHERE seq <= ?"));
  del.Bind(1, static_cast<int64_t>(through_seq));
  SF_RETURN_IF_ERROR(del.Run().WithContext("spool ack"));
  const int64_t deleted = db_->Changes();
  count_ -= deleted;
  if (count_ < options_.max_rows) overflowing_ = false;
  return deleted;
}

Status Spool::MoveToRejected(const std::vector<uint64_t>& seqs, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  return MoveToRejectedLocked(seqs, reason);
}

Status Spool::MoveToRejectedLocked(const std::vector<uint64_t>& seqs, const std::string& reason) {
  if (seqs.empty()) return OkStatus();
  const int64_t now_ms = clock_.NowMillis();
  sqlite::Transaction tx(db_.get());
  SF_RETURN_IF_ERROR(tx.Begin());
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement copy,
                      db_->Prepare("INSERT OR REPLACE INTO rejected(seq, created_ms, rejected_ms, "
                                   "reason, result) SELECT seq, created_ms, ?, ?, result FROM "
                                   "spool WHERE seq = ?"));
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement del, db_->Prepare("DELETE FROM spool WHERE seq = ?"));
  int64_t moved = 0;
  for (uint64_t seq : seqs) {
    copy.Reset();
    copy.Bind(1, now_ms).Bind(2, std::string_view(reason)).Bind(3, static_cast<int64_t>(seq));
    SF_RETURN_IF_ERROR(copy.Run());
    del.Reset();
    del.Bind(1, static_cast<int64_t>(seq));
    SF_RETURN_IF_ERROR(del.Run());
    moved += db_->Changes();
  }
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement trim,
                      db_->Prepare("DELETE FROM rejected WHERE seq NOT IN "
                                   "(SELECT seq FROM rejected ORDER BY seq DESC LIMIT ?)"));
  trim.Bind(1, options_.max_rejected_rows);
  SF_RETURN_IF_ERROR(trim.Run());
  SF_RETURN_IF_ERROR(tx.Commit());
  count_ -= moved;
  SF_ASSIGN_OR_RETURN(rejected_count_, QueryInt(*db_, "SELECT count(*) FROM rejected"));
  return OkStatus();
}

int64_t Spool::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

int64_t Spool::RejectedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_count_;
}

Millis Spool::OldestAge() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0) return Millis(0);
  auto oldest = QueryInt(*db_, "SELECT created_ms FROM spool ORDER BY seq LIMIT 1");
  if (!oldest.ok() || *oldest == 0) return Millis(0);
  return Millis(std::max<int64_t>(0, clock_.NowMillis() - *oldest));
}

}  // namespace steadfast::agent
