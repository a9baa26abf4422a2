#include "agent/spool.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

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
      // Bounds by size and age, and the drop policy that keeps status changes.
      {2, R"sql(
ALTER TABLE spool ADD COLUMN status_change INTEGER NOT NULL DEFAULT 1;
ALTER TABLE spool ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE spool SET bytes = length(CAST(result AS BLOB));
CREATE INDEX spool_metrics_only ON spool(seq) WHERE status_change = 0;
CREATE TABLE last_status (
  check_name TEXT NOT NULL,
  target     TEXT NOT NULL,
  status     INTEGER NOT NULL,
  PRIMARY KEY (check_name, target)
) WITHOUT ROWID;
CREATE TABLE drops (
  reason     TEXT PRIMARY KEY,
  unreported INTEGER NOT NULL DEFAULT 0,
  total      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO drops(reason) VALUES ('full'), ('expired');
)sql"},
  };
}

StatusOr<int64_t> QueryInt(sqlite::SqliteDb& db, std::string_view sql) {
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q, db.Prepare(sql));
  SF_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return int64_t{0};
  return q.ColumnInt(0);
}

std::string Size(int64_t bytes) {
  if (bytes >= (int64_t{1} << 20))
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  return fmt::format("{} bytes", bytes);
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
  {
    std::lock_guard<std::mutex> lock(spool->mu_);
    SF_RETURN_IF_ERROR(spool->LoadLocked().WithContext(path));
  }
  return spool;
}

Status Spool::LoadLocked() {
  SF_ASSIGN_OR_RETURN(count_, QueryInt(*db_, "SELECT count(*) FROM spool"));
  SF_ASSIGN_OR_RETURN(bytes_, QueryInt(*db_, "SELECT COALESCE(SUM(bytes), 0) FROM spool"));
  SF_ASSIGN_OR_RETURN(rejected_count_, QueryInt(*db_, "SELECT count(*) FROM rejected"));
  {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q,
                        db_->Prepare("SELECT check_name, target, status FROM last_status"));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      last_status_[{q.ColumnText(0), q.ColumnText(1)}] = static_cast<int>(q.ColumnInt(2));
    }
  }
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement q,
                      db_->Prepare("SELECT reason, unreported FROM drops"));
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const std::string reason = q.ColumnText(0);
    const uint64_t n = static_cast<uint64_t>(std::max<int64_t>(0, q.ColumnInt(1)));
    if (reason == "full") unreported_.full = n;
    if (reason == "expired") unreported_.expired = n;
  }
  return OkStatus();
}

StatusOr<Spool::StmtLease> Spool::StmtLocked(std::string_view sql) const {
  auto it = stmts_.find(sql);
  if (it == stmts_.end()) {
    SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement stmt, db_->Prepare(sql));
    it = stmts_.emplace(std::string(sql), std::move(stmt)).first;
  }
  it->second.Reset();
  return StmtLease(&it->second);
}

StatusOr<Spool::Freed> Spool::DeleteReturningLocked(sqlite::SqliteStatement& del) {
  Freed freed;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, del.Step());
    if (!row) break;
    ++freed.rows;
    freed.bytes += del.ColumnInt(0);
  }
  return freed;
}

StatusOr<Spool::Freed> Spool::ExpireLocked(int64_t now_ms) {
  if (options_.max_age.count() <= 0) return Freed{};
  const int64_t cutoff = now_ms - options_.max_age.count();
  int64_t last = 0;
  {
    // Rows are appended in time order, so the expired ones are a prefix by seq; a row left
    // behind by a clock step backwards goes once it reaches the front.
    SF_ASSIGN_OR_RETURN(StmtLease q_lease,
                        StmtLocked("SELECT seq, created_ms FROM spool ORDER BY seq"));
    sqlite::SqliteStatement& q = *q_lease;
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row || q.ColumnInt(1) >= cutoff) break;
      last = q.ColumnInt(0);
    }
  }
  if (last == 0) return Freed{};
  SF_ASSIGN_OR_RETURN(StmtLease del_lease,
                      StmtLocked("DELETE FROM spool WHERE seq <= ? RETURNING bytes"));
  sqlite::SqliteStatement& del = *del_lease;
  del.Bind(1, last);
  return DeleteReturningLocked(del);
}

StatusOr<Spool::Freed> Spool::MakeRoomLocked(int64_t count, int64_t bytes_now, int64_t rows,
                                             int64_t bytes) {
  const int64_t need_rows = count + rows - options_.max_rows;
  const int64_t need_bytes = bytes_now + bytes - options_.max_bytes;
  if (need_rows <= 0 && need_bytes <= 0) return Freed{};
  int64_t last = 0, got_rows = 0, got_bytes = 0;
  {
    SF_ASSIGN_OR_RETURN(
        StmtLease q_lease,
        StmtLocked("SELECT seq, bytes FROM spool WHERE status_change = 0 ORDER BY seq"));
    sqlite::SqliteStatement& q = *q_lease;
    while (got_rows < need_rows || got_bytes < need_bytes) {
      SF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      last = q.ColumnInt(0);
      ++got_rows;
      got_bytes += q.ColumnInt(1);
    }
  }
  if (last == 0) return Freed{};
  SF_ASSIGN_OR_RETURN(
      StmtLease del_lease,
      StmtLocked("DELETE FROM spool WHERE status_change = 0 AND seq <= ? RETURNING bytes"));
  sqlite::SqliteStatement& del = *del_lease;
  del.Bind(1, last);
  return DeleteReturningLocked(del);
}

Status Spool::AddDropsLocked(const SpoolDrops& added, const SpoolDrops& reported) {
  if (added.total() == 0 && reported.total() == 0) return OkStatus();
  SF_ASSIGN_OR_RETURN(StmtLease up_lease,
                      StmtLocked("UPDATE drops SET unreported = max(0, unreported + ? - ?), "
                                 "total = total + ? WHERE reason = ?"));
  sqlite::SqliteStatement& up = *up_lease;
  for (const auto& [reason, add, sub] : {std::tuple{"full", added.full, reported.full},
                                         std::tuple{"expired", added.expired, reported.expired}}) {
    up.Reset();
    up.Bind(1, static_cast<int64_t>(add))
        .Bind(2, static_cast<int64_t>(sub))
        .Bind(3, static_cast<int64_t>(add))
        .Bind(4, std::string_view(reason));
    SF_RETURN_IF_ERROR(up.Run());
  }
  return OkStatus();
}

StatusOr<std::vector<uint64_t>> Spool::AppendRowsLocked(std::vector<Row> rows,
                                                        const SpoolDrops& covered) {
  const int64_t now_ms = clock_.NowMillis();
  // Whether each result changes its check+target's status, against the stored last status
  // and the results before it in this batch.
  std::map<Key, int> changed;
  for (Row& r : rows) {
    auto pending = changed.find(r.key);
    if (pending != changed.end()) {
      r.status_change = pending->second != r.status;
    } else {
      auto stored = last_status_.find(r.key);
      r.status_change = stored == last_status_.end() || stored->second != r.status;
    }
    if (r.status_change) changed[r.key] = r.status;
  }

  sqlite::Transaction tx(db_.get());
  SF_RETURN_IF_ERROR(tx.Begin());
  int64_t count = count_, bytes = bytes_;
  SpoolDrops added;
  SF_ASSIGN_OR_RETURN(Freed expired, ExpireLocked(now_ms));
  count -= expired.rows;
  bytes -= expired.bytes;
  added.expired = static_cast<uint64_t>(expired.rows);

  int64_t in_rows = static_cast<int64_t>(rows.size()), in_bytes = 0;
  for (const Row& r : rows) in_bytes += static_cast<int64_t>(r.text.size());
  SF_ASSIGN_OR_RETURN(Freed room, MakeRoomLocked(count, bytes, in_rows, in_bytes));
  count -= room.rows;
  bytes -= room.bytes;
  added.full = static_cast<uint64_t>(room.rows);
  // Nothing old left to drop: the incoming metrics-only samples go, oldest first.
  std::vector<bool> dropped(rows.size(), false);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (count + in_rows <= options_.max_rows && bytes + in_bytes <= options_.max_bytes) break;
    if (rows[i].status_change || rows[i].keep) continue;
    dropped[i] = true;
    --in_rows;
    in_bytes -= static_cast<int64_t>(rows[i].text.size());
    ++added.full;
  }
  const bool over = count + in_rows > options_.max_rows || bytes + in_bytes > options_.max_bytes;

  std::vector<uint64_t> seqs(rows.size(), 0);
  {
    SF_ASSIGN_OR_RETURN(
        StmtLease insert_lease,
        StmtLocked(
            "INSERT INTO spool(created_ms, result, status_change, bytes) VALUES (?, ?, ?, ?)"));
    sqlite::SqliteStatement& insert = *insert_lease;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (dropped[i]) continue;
      insert.Reset();
      insert.Bind(1, now_ms)
          .Bind(2, std::string_view(rows[i].text))
          .Bind(3, int64_t{rows[i].status_change || rows[i].keep ? 1 : 0})
          .Bind(4, static_cast<int64_t>(rows[i].text.size()));
      SF_RETURN_IF_ERROR(insert.Run());
      seqs[i] = static_cast<uint64_t>(db_->LastInsertRowId());
    }
  }
  if (!changed.empty()) {
    SF_ASSIGN_OR_RETURN(StmtLease upsert_lease,
                        StmtLocked("INSERT INTO last_status(check_name, target, status) "
                                   "VALUES (?, ?, ?) ON CONFLICT(check_name, target) "
                                   "DO UPDATE SET status = excluded.status"));
    sqlite::SqliteStatement& upsert = *upsert_lease;
    for (const auto& [key, status] : changed) {
      upsert.Reset();
      upsert.Bind(1, std::string_view(key.first))
          .Bind(2, std::string_view(key.second))
          .Bind(3, int64_t{status});
      SF_RETURN_IF_ERROR(upsert.Run());
    }
  }
  SF_RETURN_IF_ERROR(AddDropsLocked(added, covered));
  SF_RETURN_IF_ERROR(tx.Commit());

  // Committed: the mirror follows.
  count_ = count + in_rows;
  bytes_ = bytes + in_bytes;
  for (auto& [key, status] : changed) last_status_[key] = status;
  auto sub = [](uint64_t have, uint64_t add, uint64_t take) {
    return have + add > take ? have + add - take : 0;
  };
  unreported_.full = sub(unreported_.full, added.full, covered.full);
  unreported_.expired = sub(unreported_.expired, added.expired, covered.expired);
  since_open_.full += added.full;
  since_open_.expired += added.expired;

  if (added.expired > 0) {
    SF_LOG_WARN("spool: dropped {} results older than {} s (max_age) that the collector never got",
                added.expired, options_.max_age.count() / 1000);
  }
  if (added.full > 0 && !overflowing_) {
    SF_LOG_WARN(
        "spool is full ({} results, {}; limits {} results, {}): dropping the oldest metrics-only "
        "samples until the collector catches up; status changes are kept",
        count_, Size(bytes_), options_.max_rows, Size(options_.max_bytes));
  }
  if (added.full > 0) overflowing_ = true;
  if (over && !over_with_changes_) {
    SF_LOG_WARN(
        "spool holds only status changes and is over its limits ({} results, {}); it "
        "keeps them, up to max_age",
        count_, Size(bytes_));
  }
  over_with_changes_ = over;
  if (!over && added.full == 0) overflowing_ = false;
  return seqs;
}

StatusOr<uint64_t> Spool::Append(const protocol::CheckResult& result) {
  SF_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, AppendAll({result}));
  return seqs.front();
}

StatusOr<std::vector<uint64_t>> Spool::AppendAll(
    const std::vector<protocol::CheckResult>& results) {
  if (results.empty()) return std::vector<uint64_t>();
  std::vector<Row> rows;
  rows.reserve(results.size());
  for (const protocol::CheckResult& r : results) {
    Row row;
    row.text = protocol::EncodeCheckResult(r);
    row.key = {r.check, r.target};
    row.status = static_cast<int>(r.status);
    rows.push_back(std::move(row));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto seqs = AppendRowsLocked(std::move(rows), SpoolDrops{});
  if (!seqs.ok()) return seqs.status().WithContext("spool append");
  return seqs;
}

StatusOr<uint64_t> Spool::AppendDropReport(const protocol::CheckResult& report,
                                           const SpoolDrops& covered) {
  std::vector<Row> rows(1);
  rows[0].text = protocol::EncodeCheckResult(report);
  rows[0].key = {report.check, report.target};
  rows[0].status = static_cast<int>(report.status);
  rows[0].keep = true;
  std::lock_guard<std::mutex> lock(mu_);
  auto seqs = AppendRowsLocked(std::move(rows), covered);
  if (!seqs.ok()) return seqs.status().WithContext("spool append drop report");
  return seqs->front();
}

StatusOr<std::vector<protocol::RawReportEntry>> Spool::PeekRawBatch(size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<protocol::RawReportEntry> out;
  std::vector<uint64_t> bad;
  {
    SF_ASSIGN_OR_RETURN(StmtLease q_lease,
                        StmtLocked("SELECT seq, result FROM spool ORDER BY seq LIMIT ?"));
    sqlite::SqliteStatement& q = *q_lease;
    q.Bind(1, static_cast<int64_t>(max));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      const uint64_t seq = static_cast<uint64_t>(q.ColumnInt(0));
      std::string text = q.ColumnText(1);
      // A syntax check without building the document: the rows are our own encoder's output,
      // and the collector validates every field anyway (a refused one is isolated by the
      // uplink's batch splitting and set aside).
      if (text.empty() || text.front() != '{' || !nlohmann::json::accept(text)) {
        bad.push_back(seq);
        continue;
      }
      out.push_back(protocol::RawReportEntry{seq, std::move(text)});
    }
  }
  if (!bad.empty()) {
    const std::string reason = "stored result is not a JSON object";
    SF_LOG_ERROR("spool: {} stored results are damaged; moved to the rejected table ({})",
                 bad.size(), reason);
    SF_RETURN_IF_ERROR(MoveToRejectedLocked(bad, reason));
  }
  return out;
}

StatusOr<std::vector<protocol::ReportEntry>> Spool::PeekBatch(size_t max) {
  SF_ASSIGN_OR_RETURN(std::vector<protocol::RawReportEntry> raw, PeekRawBatch(max));
  std::vector<protocol::ReportEntry> out;
  for (auto& e : raw) {
    auto result = protocol::DecodeCheckResult(e.result_json);
    if (!result.ok()) {
      const std::string reason = "stored result does not decode: " + result.status().message();
      SF_LOG_ERROR("spool: result seq {} moved to the rejected table ({})", e.seq, reason);
      SF_RETURN_IF_ERROR(MoveToRejected({e.seq}, reason));
      continue;
    }
    out.push_back(protocol::ReportEntry{e.seq, std::move(result).value()});
  }
  return out;
}

StatusOr<int64_t> Spool::Ack(uint64_t through_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  SF_ASSIGN_OR_RETURN(StmtLease del_lease,
                      StmtLocked("DELETE FROM spool WHERE seq <= ? RETURNING bytes"));
  sqlite::SqliteStatement& del = *del_lease;
  del.Bind(1, static_cast<int64_t>(through_seq));
  // Deleting what the collector has is committed without an fsync (synchronous=NORMAL, for this
  // commit only). A process crash cannot undo it (the WAL is in the page cache); a power loss
  // can undo it, and only if no later commit was synced (the next append's fsync covers it), and
  // then the collector is sent those results again and drops them by seq (AUTOINCREMENT never
  // reissues one). An append's commit stays synchronous=FULL. One fsync less per report sent.
  SF_RETURN_IF_ERROR(db_->Exec("PRAGMA synchronous=NORMAL").WithContext("spool ack"));
  auto freed = DeleteReturningLocked(del);
  Status restored = db_->Exec("PRAGMA synchronous=FULL");
  if (!freed.ok()) return freed.status().WithContext("spool ack");
  SF_RETURN_IF_ERROR(restored.WithContext("spool ack"));
  count_ -= freed->rows;
  bytes_ -= freed->bytes;
  if (count_ < options_.max_rows && bytes_ < options_.max_bytes) overflowing_ = false;
  return freed->rows;
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
  SF_ASSIGN_OR_RETURN(StmtLease copy_lease,
                      StmtLocked("INSERT OR REPLACE INTO rejected(seq, created_ms, rejected_ms, "
                                 "reason, result) SELECT seq, created_ms, ?, ?, result FROM "
                                 "spool WHERE seq = ?"));
  sqlite::SqliteStatement& copy = *copy_lease;
  SF_ASSIGN_OR_RETURN(StmtLease del_lease,
                      StmtLocked("DELETE FROM spool WHERE seq = ? RETURNING bytes"));
  sqlite::SqliteStatement& del = *del_lease;
  Freed moved;
  for (uint64_t seq : seqs) {
    copy.Reset();
    copy.Bind(1, now_ms).Bind(2, std::string_view(reason)).Bind(3, static_cast<int64_t>(seq));
    SF_RETURN_IF_ERROR(copy.Run());
    del.Reset();
    del.Bind(1, static_cast<int64_t>(seq));
    SF_ASSIGN_OR_RETURN(Freed one, DeleteReturningLocked(del));
    moved.rows += one.rows;
    moved.bytes += one.bytes;
  }
  SF_ASSIGN_OR_RETURN(StmtLease trim_lease,
                      StmtLocked("DELETE FROM rejected WHERE seq NOT IN "
                                 "(SELECT seq FROM rejected ORDER BY seq DESC LIMIT ?)"));
  sqlite::SqliteStatement& trim = *trim_lease;
  trim.Bind(1, options_.max_rejected_rows);
  SF_RETURN_IF_ERROR(trim.Run());
  SF_RETURN_IF_ERROR(tx.Commit());
  count_ -= moved.rows;
  bytes_ -= moved.bytes;
  SF_ASSIGN_OR_RETURN(rejected_count_, QueryInt(*db_, "SELECT count(*) FROM rejected"));
  return OkStatus();
}

int64_t Spool::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

int64_t Spool::Bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

int64_t Spool::RejectedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_count_;
}

uint64_t Spool::DroppedTotal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return since_open_.total();
}

SpoolDrops Spool::DroppedSinceOpen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return since_open_;
}

SpoolDrops Spool::UnreportedDrops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unreported_;
}

Millis Spool::OldestAge() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0) return Millis(0);
  auto lease = StmtLocked("SELECT created_ms FROM spool ORDER BY seq LIMIT 1");
  if (!lease.ok()) return Millis(0);
  auto row = (**lease).Step();
  if (!row.ok() || !*row) return Millis(0);
  const int64_t oldest = (**lease).ColumnInt(0);
  if (oldest == 0) return Millis(0);
  return Millis(std::max<int64_t>(0, clock_.NowMillis() - oldest));
}

}  // namespace steadfast::agent
