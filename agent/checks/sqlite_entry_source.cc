// SQLite EntrySource (see entry_source.h). SQLite is linked into the agent anyway (the spool);
// the data-entry database is someone else's file, so it is opened read-only and never
// configured (no WAL switch, no schema): only PRAGMA query_only, which makes even a writable
// handle refuse changes.
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>

#include "agent/checks/entry_source.h"

namespace steadfast::agent {
namespace {

EntryCell Cell(sqlite3_stmt* stmt, int col) {
  EntryCell c;
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      c.kind = EntryCell::Kind::kNumber;
      c.number = static_cast<double>(sqlite3_column_int64(stmt, col));
      break;
    case SQLITE_FLOAT:
      c.kind = EntryCell::Kind::kNumber;
      c.number = sqlite3_column_double(stmt, col);
      break;
    case SQLITE_NULL:
      break;
    default: {  // TEXT, or a BLOB read as text
      c.kind = EntryCell::Kind::kText;
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      c.text.assign(p != nullptr ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
      break;
    }
  }
  return c;
}

class SqliteEntrySource final : public EntrySource {
 public:
  explicit SqliteEntrySource(std::string path) : path_(std::move(path)) {}

  StatusOr<EntryRows> Query(const std::string& sql, size_t max_rows,
                            const CheckContext& ctx) override {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    // The handle is closed on every path below (sqlite3_open_v2 returns one even on failure).
    struct Closer {
      sqlite3* db;
      ~Closer() { sqlite3_close_v2(db); }
    } closer{db};
    if (rc != SQLITE_OK) {
      return UnavailableError(fmt::format("cannot open {}: {}", path_,
                                          db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
    }
    // Time left before the deadline: waiting for a writer's lock, and the query itself (the
    // progress handler interrupts it).
    const auto left = ctx.deadline == std::chrono::steady_clock::time_point{}
                          ? std::chrono::milliseconds(10'000)
                          : std::chrono::duration_cast<std::chrono::milliseconds>(
                                ctx.deadline - ctx.clock.Monotonic());
    if (left.count() <= 0) return DeadlineExceededError("no time left before the deadline");
    sqlite3_busy_timeout(db, static_cast<int>(left.count()));
    struct Deadline {
      const CheckContext* ctx;
    } deadline{&ctx};
    if (ctx.deadline != std::chrono::steady_clock::time_point{}) {
      sqlite3_progress_handler(
          db, 1000,
          [](void* p) -> int {
            const auto* d = static_cast<Deadline*>(p);
            return d->ctx->clock.Monotonic() >= d->ctx->deadline ? 1 : 0;
          },
          &deadline);
    }
    char* err = nullptr;
    if (sqlite3_exec(db, "PRAGMA query_only = 1", nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "?";
      sqlite3_free(err);
      return UnavailableError(fmt::format("cannot read {}: {}", path_, msg));
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail);
    struct Finalizer {
      sqlite3_stmt* stmt;
      ~Finalizer() { sqlite3_finalize(stmt); }
    } finalizer{stmt};
    if (rc != SQLITE_OK) {
      return FailedPreconditionError(fmt::format("query failed: {}", sqlite3_errmsg(db)));
    }
    if (stmt == nullptr) return InvalidArgumentError("the query is empty");
    if (tail != nullptr &&
        std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      return InvalidArgumentError("the query must be a single SQL statement");
    }
    EntryRows out;
    out.columns = sqlite3_column_count(stmt);
    if (out.columns < 2) {
      return InvalidArgumentError(fmt::format(
          "the query must return two columns (department, last entry time), it returns {}",
          out.columns));
    }
    while (true) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        if (rc == SQLITE_INTERRUPT) {
          return DeadlineExceededError("query interrupted at the check's deadline");
        }
        return FailedPreconditionError(fmt::format("query failed: {}", sqlite3_errmsg(db)));
      }
      if (out.rows.size() == max_rows) {
        out.truncated = true;
        break;
      }
      out.rows.emplace_back(Cell(stmt, 0), Cell(stmt, 1));
    }
    return out;
  }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<EntrySource> NewSqliteEntrySource(std::string path) {
  return std::make_unique<SqliteEntrySource>(std::move(path));
}

}  // namespace steadfast::agent
