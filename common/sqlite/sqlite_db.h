// Thin RAII helpers over SQLite: WAL mode, prepared statements only, schema migrations by
// version number, busy handling. sqlite3.h stays in sqlite_db.cc.
//
// A SqliteDb is one connection; it is not thread-safe (SQLite's serialized mode is not relied
// on): give each thread its own connection or guard it with a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace steadfast::sqlite {

struct OpenOptions {
  bool read_only = false;
  int busy_timeout_ms = 5000;
  // "FULL" makes each commit durable against power loss; "NORMAL" in WAL mode is durable
  // against process crashes (SIGKILL) but may lose the last commits on power loss.
  std::string synchronous = "FULL";
};

class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameters are 1-based, as in SQLite.
  SqliteStatement& Bind(int index, int64_t value);
  SqliteStatement& Bind(int index, double value);
  SqliteStatement& Bind(int index, std::string_view text);
  SqliteStatement& BindBlob(int index, std::string_view bytes);
  SqliteStatement& BindNull(int index);
  SqliteStatement& Bind(int index, const std::optional<int64_t>& value);

  // true: a row is ready; false: done. Errors: Aborted (busy/locked), DataLoss (corrupt),
  // ResourceExhausted (disk full), AlreadyExists (constraint), Internal (other).
  StatusOr<bool> Step();
  // Runs to completion ignoring rows.
  Status Run();
  // Clears bindings and resets for the next execution.
  void Reset();

  bool IsNull(int col) const;
  int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  std::string ColumnBlob(int col) const;

 private:
  friend class SqliteDb;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Status bind_error_;
};

struct Migration {
  int version;      // 1, 2, 3, ... applied in order, each in its own transaction
  std::string sql;  // may hold several statements
};

class SqliteDb {
 public:
  // Opens (creating if needed, unless read_only) the database at `path`, in WAL mode with
  // foreign keys on. ":memory:" works for tests.
  static StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path, const OpenOptions& options = {});
  ~SqliteDb();

  // For statements without parameters (DDL, PRAGMA, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  StatusOr<SqliteStatement> Prepare(std::string_view sql);
  // Applies migrations with version > PRAGMA user_version. A database newer than the code
  // knows is FailedPrecondition (we refuse to run against a schema we do not understand).
  Status Migrate(const std::vector<Migration>& migrations);
  // Same, for one named component sharing the database with others (collector.db holds the
  // ingest tables under user_version and, e.g., "accounts" and "audit" here): the applied
  // version is kept per component in the table schema_migrations(component, version).
  // Concurrent callers on several connections are safe: each step runs under BEGIN
  // IMMEDIATE and re-reads the version inside the transaction.
  Status MigrateComponent(std::string_view component, const std::vector<Migration>& migrations);
  int64_t LastInsertRowId() const;
  int Changes() const;
  const std::string& path() const { return path_; }
  sqlite3* raw() { return db_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// Maps a SQLite result code and message to our Status.
Status StatusFromSqlite(int rc, std::string_view context, sqlite3* db);

// RAII transaction: BEGIN IMMEDIATE on Begin(), ROLLBACK on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(SqliteDb* db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  SqliteDb* db_;
  bool open_ = false;
};

}  // namespace steadfast::sqlite
