#include "common/sqlite/sqlite_db.h"

#include <sqlite3.h>

#include <algorithm>

namespace steadfast::sqlite {

Status StatusFromSqlite(int rc, std::string_view context, sqlite3* db) {
  std::string msg(context);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return OkStatus();
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return AbortedError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return DataLossError(msg);
    case SQLITE_FULL: return ResourceExhaustedError(msg);
    case SQLITE_CONSTRAINT: return AlreadyExistsError(msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: return UnavailableError(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM: return PermissionDeniedError(msg);
    case SQLITE_MISUSE:
    case SQLITE_RANGE: return InternalError(msg);
    default: return InternalError(msg);
  }
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), bind_error_(std::move(other.bind_error_)) {
  other.stmt_ = nullptr;
}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    bind_error_ = std::move(other.bind_error_);
    other.stmt_ = nullptr;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

namespace {
void Remember(Status* slot, int rc, sqlite3* db) {
  if (rc != SQLITE_OK && slot->ok()) *slot = StatusFromSqlite(rc, "bind", db);
}
}  // namespace

SqliteStatement& SqliteStatement::Bind(int index, int64_t value) {
  Remember(&bind_error_, sqlite3_bind_int64(stmt_, index, value), db_);
  return *this;
}
SqliteStatement& SqliteStatement::Bind(int index, double value) {
  Remember(&bind_error_, sqlite3_bind_double(stmt_, index, value), db_);
  return *this;
}
SqliteStatement& SqliteStatement::Bind(int index, std::string_view text) {
  Remember(&bind_error_,
           sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), db_);
  return *this;
}
SqliteStatement& SqliteStatement::BindBlob(int index, std::string_view bytes) {
  Remember(&bind_error_, sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT), db_);
  return *this;
}
SqliteStatement& SqliteStatement::BindNull(int index) {
  Remember(&bind_error_, sqlite3_bind_null(stmt_, index), db_);
  return *this;
}
SqliteStatement& SqliteStatement::Bind(int index, const std::optional<int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

StatusOr<bool> SqliteStatement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = StatusFromSqlite(rc, "step", db_);
  // Leave the statement reusable after an error.
  sqlite3_reset(stmt_);
  return st;
}

Status SqliteStatement::Run() {
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return OkStatus();
  }
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = OkStatus();
}

bool SqliteStatement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t SqliteStatement::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
double SqliteStatement::ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }
std::string SqliteStatement::ColumnText(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}
std::string SqliteStatement::ColumnBlob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, const OpenOptions& options) {
  sqlite3* raw = nullptr;
  int flags = options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = StatusFromSqlite(rc, "open " + path, raw);
    sqlite3_close(raw);
    return st;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw, path));
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  if (!options.read_only && path != ":memory:") {
    SF_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL").WithContext(path));
  }
  if (options.synchronous != "FULL" && options.synchronous != "NORMAL" && options.synchronous != "OFF") {
    return InvalidArgumentError("sqlite synchronous must be FULL, NORMAL or OFF, got '" + options.synchronous + "'");
  }
  SF_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=" + options.synchronous));
  SF_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  // Make sure the file really is a database now, so corruption surfaces at open, not later.
  SF_RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_master").WithContext(path));
  return db;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Status SqliteDb::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status st = StatusFromSqlite(rc, "exec", db_);
    sqlite3_free(err);
    return st;
  }
  return OkStatus();
}

StatusOr<SqliteStatement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) return StatusFromSqlite(rc, "prepare '" + std::string(sql.substr(0, 60)) + "'", db_);
  return SqliteStatement(db_, stmt);
}

Status SqliteDb::Migrate(const std::vector<Migration>& migrations) {
  SF_ASSIGN_OR_RETURN(SqliteStatement q, Prepare("PRAGMA user_version"));
  SF_ASSIGN_OR_RETURN(bool row, q.Step());
  int current = row ? static_cast<int>(q.ColumnInt(0)) : 0;
  q.Reset();  // no statement may be running while a migration drops a table
  int newest = 0;
  for (const auto& m : migrations) newest = std::max(newest, m.version);
  if (current > newest) {
    return FailedPreconditionError(path_ + ": database schema version " + std::to_string(current) +
                                   " is newer than this program knows (" + std::to_string(newest) +
                                   "); upgrade the program");
  }
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    Transaction tx(this);
    SF_RETURN_IF_ERROR(tx.Begin());
    SF_RETURN_IF_ERROR(Exec(m.sql).WithContext("migration " + std::to_string(m.version)));
    SF_RETURN_IF_ERROR(Exec("PRAGMA user_version=" + std::to_string(m.version)));
    SF_RETURN_IF_ERROR(tx.Commit());
    current = m.version;
  }
  return OkStatus();
}

Status SqliteDb::MigrateComponent(std::string_view component, const std::vector<Migration>& migrations) {
  const std::string name(component);
  SF_RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                          "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
  int newest = 0;
  for (const auto& m : migrations) newest = std::max(newest, m.version);
  for (const auto& m : migrations) {
    Transaction tx(this);
    SF_RETURN_IF_ERROR(tx.Begin());
    SF_ASSIGN_OR_RETURN(SqliteStatement q, Prepare("SELECT version FROM schema_migrations WHERE component = ?1"));
    q.Bind(1, name);
    SF_ASSIGN_OR_RETURN(bool row, q.Step());
    const int current = row ? static_cast<int>(q.ColumnInt(0)) : 0;
    q.Reset();  // as in Migrate: a running statement would make a DROP TABLE fail
    if (current > newest) {
      return FailedPreconditionError(path_ + ": schema of " + name + " is version " + std::to_string(current) +
                                     ", newer than this program knows (" + std::to_string(newest) +
                                     "); upgrade the program");
    }
    if (m.version <= current) continue;
    SF_RETURN_IF_ERROR(Exec(m.sql).WithContext(name + " migration " + std::to_string(m.version)));
    SF_ASSIGN_OR_RETURN(SqliteStatement set, Prepare("INSERT INTO schema_migrations(component, version) VALUES(?1, ?2) "
                                                     "ON CONFLICT(component) DO UPDATE SET version = excluded.version"));
    set.Bind(1, name).Bind(2, static_cast<int64_t>(m.version));
    SF_RETURN_IF_ERROR(set.Run());
    SF_RETURN_IF_ERROR(tx.Commit());
  }
  return OkStatus();
}

int64_t SqliteDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int SqliteDb::Changes() const { return sqlite3_changes(db_); }

Transaction::~Transaction() {
  if (open_) {
    // Rollback can only fail if the connection is gone; nothing more can be done here.
    db_->Exec("ROLLBACK").IgnoreError();
  }
}

Status Transaction::Begin() {
  SF_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  open_ = true;
  return OkStatus();
}

Status Transaction::Commit() {
  SF_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  open_ = false;
  return OkStatus();
}

}  // namespace steadfast::sqlite
