// AdminDb: the connection the low-rate administrative stores share (accounts, audit,
// inventory) — separate from the ingest writer's connection to the same collector.db.
// Sharing one connection lets a mutation and its audit record commit in one transaction.
//
// Thread-safe: every call holds the connection's mutex for its whole duration, so `fn` must not
// call back into AdminDb. Write() runs `fn` inside BEGIN IMMEDIATE .. COMMIT and rolls back when
// `fn` returns an error; Read() runs `fn` without a write transaction (it sees the last commit).
// Errors: whatever `fn` returns; Unavailable when the database is busy beyond the busy timeout,
// cannot be written (disk full, I/O error) or is closed.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/sqlite/sqlite_db.h"
#include "common/status.h"

namespace steadfast::collector {

class AdminDb {
 public:
  // Opens `path` (":memory:" for tests) in WAL mode. `synchronous` as in sqlite::OpenOptions.
  static StatusOr<std::unique_ptr<AdminDb>> Open(const std::string& path, const std::string& synchronous = "FULL");

  Status Write(const std::function<Status(sqlite::SqliteDb&)>& fn);
  Status Read(const std::function<Status(sqlite::SqliteDb&)>& fn);
  // Applies a component's migrations (see SqliteDb::MigrateComponent).
  Status Migrate(std::string_view component, const std::vector<sqlite::Migration>& migrations);
  // Later calls return Unavailable. Idempotent.
  void Close();

 private:
  explicit AdminDb(std::unique_ptr<sqlite::SqliteDb> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<sqlite::SqliteDb> db_;  // null once closed; guarded by mu_
};

}  // namespace steadfast::collector
