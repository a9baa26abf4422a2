#include "collector/store/admin_db.h"

#include <utility>

namespace steadfast::collector {

namespace {

// Busy, locked, disk-full and I/O failures are conditions of the moment: the caller answers
// 503 and the client retries. Constraint violations, corruption (DataLoss) and SQL errors
// (Internal) keep their own codes.
Status AsStorageError(Status status) {
  switch (status.code()) {
    case StatusCode::kAborted:
    case StatusCode::kResourceExhausted:
      return UnavailableError("database: " + status.message());
    default:
      return status;
  }
}

}  // namespace

StatusOr<std::unique_ptr<AdminDb>> AdminDb::Open(const std::string& path, const std::string& synchronous) {
  sqlite::OpenOptions options;
  options.synchronous = synchronous;
  SF_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::SqliteDb> db, sqlite::SqliteDb::Open(path, options));
  return std::unique_ptr<AdminDb>(new AdminDb(std::move(db)));
}

Status AdminDb::Write(const std::function<Status(sqlite::SqliteDb&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!db_) return UnavailableError("database is closed");
  sqlite::Transaction tx(db_.get());
  Status begun = tx.Begin();
  if (!begun.ok()) return AsStorageError(std::move(begun));
  SF_RETURN_IF_ERROR(fn(*db_));
  return AsStorageError(tx.Commit());
}

Status AdminDb::Read(const std::function<Status(sqlite::SqliteDb&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!db_) return UnavailableError("database is closed");
  return fn(*db_);
}

Status AdminDb::Migrate(std::string_view component, const std::vector<sqlite::Migration>& migrations) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!db_) return UnavailableError("database is closed");
  return db_->MigrateComponent(component, migrations);
}

void AdminDb::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  db_.reset();
}

}  // namespace steadfast::collector
