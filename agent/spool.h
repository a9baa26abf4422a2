// Spool: the agent's on-disk queue of check results waiting for the collector, in SQLite.
//
// Every result gets a sequence number (SQLite AUTOINCREMENT) that is never reused: a new spool
// file seeds its sequence at now_ms * 1000, so a spool that was deleted and recreated still
// numbers above anything the collector has seen (the collector deduplicates on (agent, seq)).
// Results are stored as the protocol JSON (EncodeCheckResult).
//
// Durability: synchronous=FULL in WAL mode, so a result is on disk when Append returns and a
// row is gone only after Ack (the collector's 200 covering it), MoveToRejected (the collector
// refused it as malformed; it is kept in the `rejected` table for a person to look at) or the
// bounds below. Every change, with the counters that describe it, is one transaction.
//
// Bounds (SpoolOptions): max_rows results, max_bytes of stored result text, max_age since a
// result was appended.
//   - Each row records whether its status differs from the previous result of the same check
//     and target (the last status per check+target is kept in the file, so this holds across
//     restarts; the first result of a check+target counts as a change).
//   - When an append would pass max_rows or max_bytes, the oldest rows whose status did NOT
//     change (metrics-only samples) are dropped first, then the incoming metrics-only results
//     themselves. A status change is never dropped for space: while the spool holds nothing
//     but status changes it may grow past max_rows/max_bytes (bounded by max_age).
//   - Results older than max_age are dropped, status changes included: that is what max_age
//     means (0 = no age bound).
//   Drops are counted by reason ("full", "expired"): since Open (DroppedSinceOpen, for
//   /metrics) and durably as "unreported" (UnreportedDrops) until AppendDropReport puts a
//   result telling the collector about them into the spool. The rejected table keeps its
//   newest max_rejected_rows rows.
//
// Schema: version 1 (spool, rejected) and 2 (status_change and bytes columns, last_status and
// drops tables). A version-1 file is migrated in place at Open; its rows count as status
// changes (nothing is known about them).
//
// Thread-safety: all methods are thread-safe (one connection behind a mutex); the check thread
// appends while the uplink thread peeks and acks.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/protocol/protocol.h"
#include "common/sqlite/sqlite_db.h"
#include "common/status.h"

namespace steadfast::agent {

struct SpoolOptions {
  int64_t max_rows = 100'000;
  int64_t max_bytes = int64_t{256} << 20;
  Millis max_age{7LL * 24 * 3'600'000};  // 0: no age bound
  int64_t max_rejected_rows = 10'000;
  // SQLite page cache per connection, in KiB; kept small for the agent's memory budget.
  int cache_kib = 512;
};

// Results dropped, by reason.
struct SpoolDrops {
  uint64_t full = 0;     // metrics-only samples dropped to stay under max_rows / max_bytes
  uint64_t expired = 0;  // results older than max_age
  uint64_t total() const { return full + expired; }
};

class Spool {
 public:
  // Opens or creates the spool at `path` (":memory:" in tests), migrating an older schema.
  // Errors: those of SqliteDb::Open (DataLoss for a damaged file, FailedPrecondition for a
  // newer schema).
  static StatusOr<std::unique_ptr<Spool>> Open(const std::string& path, Clock& clock,
                                               SpoolOptions options = {});

  // Stores one result durably and returns its seq (0 when the spool was full of status
  // changes and this metrics-only result was dropped at once).
  StatusOr<uint64_t> Append(const protocol::CheckResult& result);
  // Stores several results in one transaction (one fsync); seqs in the same order (0 for a
  // result dropped at once, as for Append).
  StatusOr<std::vector<uint64_t>> AppendAll(const std::vector<protocol::CheckResult>& results);
  // Appends `report` (never dropped for space) and takes `covered` off the unreported drop
  // counts, in one transaction. Returns its seq.
  StatusOr<uint64_t> AppendDropReport(const protocol::CheckResult& report,
                                      const SpoolDrops& covered);

  // Up to `max` oldest entries, ordered by seq, as stored: each result one JSON object, which
  // the uplink sends as it is (protocol::EncodeReportBatchRaw) rather than decoding and encoding
  // it again. Rows that are not a JSON object (a damaged or hand-edited spool) are moved to the
  // rejected table instead of being returned.
  StatusOr<std::vector<protocol::RawReportEntry>> PeekRawBatch(size_t max);
  // The same entries decoded. A row that does not decode is moved to the rejected table.
  StatusOr<std::vector<protocol::ReportEntry>> PeekBatch(size_t max);
  // Deletes every row with seq <= through_seq; returns how many were deleted.
  StatusOr<int64_t> Ack(uint64_t through_seq);
  // Moves the given rows to the rejected table with `reason` (unknown seqs are ignored).
  Status MoveToRejected(const std::vector<uint64_t>& seqs, const std::string& reason);

  int64_t Count() const;
  // Bytes of stored result text (what max_bytes bounds; the file is somewhat larger).
  int64_t Bytes() const;
  int64_t RejectedCount() const;
  // Results dropped since Open, all reasons.
  uint64_t DroppedTotal() const;
  // Results dropped since Open, by reason.
  SpoolDrops DroppedSinceOpen() const;
  // Drops not yet reported to the collector (kept in the file across restarts).
  SpoolDrops UnreportedDrops() const;
  // Age of the oldest spooled result by its append time (0 when empty).
  Millis OldestAge() const;

 private:
  using Key = std::pair<std::string, std::string>;  // check, target
  struct Row {
    std::string text;
    Key key;
    int status = 0;
    bool status_change = true;
    bool keep = false;  // dropped for space when full?
  };
  struct Freed {
    int64_t rows = 0;
    int64_t bytes = 0;
  };

  Spool(std::unique_ptr<sqlite::SqliteDb> db, Clock& clock, SpoolOptions options)
      : db_(std::move(db)), clock_(clock), options_(options) {}
  // One of stmts_, reset and unbound; reset again when the lease goes, so no statement keeps a
  // read transaction open between calls.
  class StmtLease {
   public:
    explicit StmtLease(sqlite::SqliteStatement* stmt) : stmt_(stmt) {}
    ~StmtLease() {
      if (stmt_ != nullptr) stmt_->Reset();
    }
    StmtLease(StmtLease&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
    StmtLease& operator=(StmtLease&&) = delete;
    sqlite::SqliteStatement& operator*() const { return *stmt_; }

   private:
    sqlite::SqliteStatement* stmt_;
  };
  // The prepared statement for `sql` (prepared on first use and kept: the append and send
  // paths run the same few statements every few seconds, and preparing them each time was a
  // sixth of the agent's CPU). Caller holds mu_; never two leases of one `sql` at once.
  StatusOr<StmtLease> StmtLocked(std::string_view sql) const;
  Status LoadLocked();
  // The whole append of `rows`, in one transaction; seqs (0 = dropped) in order.
  StatusOr<std::vector<uint64_t>> AppendRowsLocked(std::vector<Row> rows,
                                                   const SpoolDrops& covered);
  // Drops the oldest rows appended before now - max_age (a prefix by seq).
  StatusOr<Freed> ExpireLocked(int64_t now_ms);
  // Drops the oldest metrics-only rows until `rows` more rows of `bytes` fit, or none are
  // left. `count`/`bytes_now` are the spool's size at this point of the transaction.
  StatusOr<Freed> MakeRoomLocked(int64_t count, int64_t bytes_now, int64_t rows, int64_t bytes);
  // Deletes rows with a statement ending in "RETURNING bytes" (bound by the caller).
  StatusOr<Freed> DeleteReturningLocked(sqlite::SqliteStatement& del);
  Status AddDropsLocked(const SpoolDrops& added, const SpoolDrops& reported);
  Status MoveToRejectedLocked(const std::vector<uint64_t>& seqs, const std::string& reason);

  mutable std::mutex mu_;
  std::unique_ptr<sqlite::SqliteDb> db_;  // guarded by mu_
  // Guarded by mu_; declared after db_ so they are finalised before it closes.
  // The cache of prepared statements: filled by const readers too (OldestAge, per scrape).
  mutable std::map<std::string, sqlite::SqliteStatement, std::less<>> stmts_;
  Clock& clock_;
  const SpoolOptions options_;
  // Guarded by mu_; mirror the file, updated after each commit.
  int64_t count_ = 0;           // rows in `spool`
  int64_t bytes_ = 0;           // sum of spool.bytes
  int64_t rejected_count_ = 0;  // rows in `rejected`
  std::map<Key, int> last_status_;
  SpoolDrops unreported_;
  SpoolDrops since_open_;
  bool overflowing_ = false;        // dropping for space since the last time there was room
  bool over_with_changes_ = false;  // over a bound with nothing but status changes left
};

}  // namespace steadfast::agent
