// SqliteAuditLog: the audit trail in collector.db, on the shared admin connection (AdminDb), so a
// store can commit a mutation and its audit record in one transaction (AppendInTransaction).
//
// Tables (component "audit", see AUDIT_FORMAT.md "Storage"):
//   audit_records    one row per record: seq INTEGER PRIMARY KEY, every event field in its own
//                    column (roles as a JSON array), prev_mac, mac; indexed by time, actor,
//                    object and action. Triggers refuse UPDATE, and DELETE of anything after
//                    the checkpoint, so only retention can remove records (a guard against
//                    mistakes; an attacker with the file can drop triggers — the chain is what
//                    catches that).
//   audit_head       one row: the last seq and MAC, sealed. Updated by every append.
//   audit_checkpoint one row: the last pruned seq and MAC, sealed. Verification starts here.
//
// Thread-safe (all access goes through AdminDb). Errors: Unavailable when the database is busy
// or cannot be written; DataLoss when the head row is missing (the log was tampered with);
// InvalidArgument for events NormalizeEvent refuses.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collector/audit/audit_chain.h"
#include "collector/audit/audit_key.h"
#include "collector/audit/audit_log.h"
#include "collector/store/admin_db.h"
#include "common/clock.h"
#include "common/sqlite/sqlite_db.h"
#include "common/status.h"

namespace steadfast::collector::audit {

struct SqliteAuditLogOptions {
  // When set (the path of the AdminDb's database file), Verify() walks the chain on its own
  // read-only connection in one read transaction (a WAL snapshot), so a walk over millions of
  // records neither holds the shared admin connection nor blocks writers. Empty: Verify() runs on
  // the admin connection (":memory:" databases, tests).
  std::string verify_db_path;
  // Records deleted per Prune transaction.
  int64_t prune_chunk = 1000;
};

class SqliteAuditLog final : public AuditLog {
 public:
  // Applies the "audit" migrations, seals the genesis head and checkpoint of a new log, and
  // checks that `key` is the key the log was sealed with: FailedPrecondition when neither the
  // head nor the checkpoint seal verifies under it (audit.key replaced or lost). A log damaged in
  // only one of them opens (appends go on; Verify reports the damage). `db` and `clock` must
  // outlive the log.
  static StatusOr<std::unique_ptr<SqliteAuditLog>> Open(AdminDb& db, AuditKey key,
                                                        const Clock& clock,
                                                        SqliteAuditLogOptions options = {});

  // Write + AppendInTransaction. time_ms 0 means now.
  StatusOr<int64_t> Append(const AuditEvent& event) override;
  // For stores that already hold an AdminDb::Write transaction on `db` (the admin connection):
  // reads the head, seals the record after it, inserts it and moves the head, all inside the
  // caller's transaction, so the record commits or rolls back with the caller's change.
  // FailedPrecondition when `db` is not inside a transaction. time_ms 0 means now.
  StatusOr<int64_t> AppendInTransaction(sqlite::SqliteDb& db, const AuditEvent& event);
  // Every filter of AuditQuery; seq ascending from after_seq; limit 1..kMaxAuditQueryLimit.
  StatusOr<std::vector<AuditRecord>> Query(const AuditQuery& query) override;
  StatusOr<VerifyReport> Verify() override;
  // Deletes, in chunks of options.prune_chunk per transaction, the oldest records up to (not
  // including) the first one with time_ms >= older_than_ms, moving the sealed checkpoint with
  // each chunk, then appends an `audit.prune` record. Refuses (DataLoss, nothing deleted in the
  // chunk) when a record it would delete does not verify, so retention never erases evidence of
  // tampering. Returns the number deleted (0: nothing old enough, and no record appended).
  StatusOr<int64_t> Prune(int64_t older_than_ms) override;
  // The current head (seq and MAC of the last record, sealed); the server logs it periodically so
  // that a log cut short and its head row rewritten together is still caught.
  StatusOr<ChainPoint> Head();

 private:
  SqliteAuditLog(AdminDb& db, AuditKey key, const Clock& clock, SqliteAuditLogOptions options)
      : db_(db), key_(std::move(key)), clock_(clock), options_(std::move(options)) {}
  Status Initialise();

  AdminDb& db_;
  const AuditKey key_;
  const Clock& clock_;
  const SqliteAuditLogOptions options_;
};

inline constexpr int64_t kMaxAuditQueryLimit = 10'000;

// Read paths over any connection to collector.db, for tools that open it themselves
// (`steadfast-collector audit verify|export`, on a read-only connection while the collector
// runs). `db` must not be inside a transaction.
//
// Verification reads checkpoint, head and records in one read transaction (a consistent snapshot
// even while the collector appends), streaming records in seq order. FailedPrecondition when the
// database holds no audit log at all. `head`, when given, receives the head row of that snapshot
// (left unchanged when the row is missing), so a caller can compare it with a head logged earlier.
StatusOr<VerifyReport> VerifyAuditDb(sqlite::SqliteDb& db, const AuditKey& key,
                                     ChainPoint* head = nullptr);
StatusOr<std::vector<AuditRecord>> QueryAuditDb(sqlite::SqliteDb& db, const AuditQuery& query);

}  // namespace steadfast::collector::audit
