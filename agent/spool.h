// Spool: the agent's on-disk queue of check results waiting for the collector, in SQLite.
//
// Every result gets a sequence number (SQLite AUTOINCREMENT) that is never reused: a new spool
// file seeds its sequence at now_ms * 1000, so a spool that was deleted and recreated still
// numbers above anything the collector has seen (the collector deduplicates on (agent, seq)).
// Results are stored as the protocol JSON (EncodeCheckResult).
//
// Durability: synchronous=FULL in WAL mode, so a result is on disk when Append returns and a
// row is gone only after Ack (the collector's 200 covering it) or MoveToRejected (the collector
// refused it as malformed; it is kept in the `rejected` table for a person to look at).
//
// Size cap: when the spool holds max_rows results, appending drops the oldest ones (counted in
// DroppedTotal, logged once per overflow episode). The rejected table keeps its newest
// max_rejected_rows rows.
//
// Thread-safety: all methods are thread-safe (one connection behind a mutex); the check thread
// appends while the uplink thread peeks and acks.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/protocol/protocol.h"
#include "common/sqlite/sqlite_db.h"
#include "common/status.h"

namespace steadfast::agent {

struct SpoolOptions {
  int64_t max_rows = 100'000;
  int64_t max_rejected_rows = 10'000;
  // SQLite page cache per connection, in KiB; kept small for the agent's memory budget.
  int cache_kib = 512;
};

class Spool {
 public:
  // Opens or creates the spool at `path` (":memory:" in tests). Errors: those of SqliteDb::Open
  // (DataLoss for a damaged file, FailedPrecondition for a newer schema).
  static StatusOr<std::unique_ptr<Spool>> Open(const std::string& path, Clock& clock,
                                               SpoolOptions options = {});

  // Stores one result durably and returns its seq.
  StatusOr<uint64_t> Append(const protocol::CheckResult& result);
  // Stores several results in one transaction (one fsync); seqs in the same order.
  StatusOr<std::vector<uint64_t>> AppendAll(const std::vector<protocol::CheckResult>& results);

  // Up to `max` oldest entries, ordered by seq. Rows that no longer decode (a damaged or
  // hand-edited spool) are moved to the rejected table instead of being returned.
  StatusOr<std::vector<protocol::ReportEntry>> PeekBatch(size_t max);
  // Deletes every row with seq <= through_seq; returns how many were deleted.
  StatusOr<int64_t> Ack(uint64_t through_seq);
  // Moves the given rows to the rejected table with `reason` (unknown seqs are ignored).
  Status MoveToRejected(const std::vector<uint64_t>& seqs, const std::string& reason);

  int64_t Count() const;
  int64_t RejectedCount() const;
  // Results dropped because the spool was full, since Open.
  uint64_t DroppedTotal() const { return dropped_total_.load(); }
  // Age of the oldest spooled result by its append time (0 when empty).
  Millis OldestAge() const;

 private:
  Spool(std::unique_ptr<sqlite::SqliteDb> db, Clock& clock, SpoolOptions options)
      : db_(std::move(db)), clock_(clock), options_(options) {}
  // Inserts one row inside an open transaction; caller holds mu_.
  StatusOr<uint64_t> InsertLocked(const protocol::CheckResult& result, int64_t now_ms);
  // Drops the oldest rows so that `incoming` more fit under max_rows and returns how many it
  // dropped; caller holds mu_ and has a transaction open.
  StatusOr<int64_t> MakeRoomLocked(int64_t incoming);
  Status MoveToRejectedLocked(const std::vector<uint64_t>& seqs, const std::string& reason);

  mutable std::mutex mu_;
  std::unique_ptr<sqlite::SqliteDb> db_;  // guarded by mu_
  Clock& clock_;
  const SpoolOptions options_;
  int64_t count_ = 0;           // rows in `spool`; guarded by mu_
  int64_t rejected_count_ = 0;  // rows in `rejected`; guarded by mu_
  bool overflowing_ = false;    // dropping since the last time there was room; guarded by mu_
  std::atomic<uint64_t> dropped_total_{0};
};

}  // namespace steadfast::agent
