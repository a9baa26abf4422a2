// EntrySource: where the dataentry check's freshness query runs — the data-entry system's own
// database, read-only. Two implementations, by mechanism:
//   sqlite_entry_source.cc    SQLite (linked into the agent): sqlite3_open_v2 with
//                             SQLITE_OPEN_READONLY, PRAGMA query_only, one statement only, the
//                             busy timeout and a progress handler bounded by ctx.deadline.
//   postgres_entry_source.cc  PostgreSQL through libpq, loaded with dlopen("libpq.so.5") the first
//                             time a postgres source is created (not when the agent starts: see
//                             agent/CMakeLists.txt for the measured cost). Non-blocking connect and
//                             query, polled until ctx.deadline; the session runs with
//                             default_transaction_read_only=on, statement_timeout = the time left,
//                             TimeZone=UTC; the query goes through the extended protocol, which
//                             allows a single statement (no "SET ...; DELETE ...").
//
// A query returns its first two columns as cells; what they mean (department, last entry time)
// is the check's business. Errors (cannot open/connect, authentication, SQL errors, the
// deadline) come back as a Status whose message is the database's own, without the password.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "agent/check.h"
#include "common/status.h"

namespace steadfast::agent {

struct EntryCell {
  enum class Kind { kNull, kNumber, kText };
  Kind kind = Kind::kNull;
  double number = 0;  // kNumber: an integer or real column (SQLite) / numeric type (PostgreSQL)
  std::string text;   // kText: as the database prints it (timestamptz: "2026-11-28 01:02:03+00")
};

struct EntryRows {
  std::vector<std::pair<EntryCell, EntryCell>> rows;
  bool truncated = false;  // the query returned more than max_rows; the rest was not read
  int columns = 0;
};

class EntrySource {
 public:
  virtual ~EntrySource() = default;
  // Runs `sql` (one statement), reading at most `max_rows` rows. InvalidArgument when the query
  // has fewer than two columns or more than one statement; Unavailable when the database cannot
  // be reached; DeadlineExceeded at ctx.deadline; FailedPrecondition for what the database
  // refused (authentication, SQL errors, read-only violations), with its message.
  virtual StatusOr<EntryRows> Query(const std::string& sql, size_t max_rows,
                                    const CheckContext& ctx) = 0;
};

// `path` is the database file (from sqlite:///path).
std::unique_ptr<EntrySource> NewSqliteEntrySource(std::string path);

// `uri` is a libpq connection URI (postgresql://user@host:port/db?sslmode=...) without a
// password; `password_file` (may be empty) is read at each connection, first line.
// FailedPrecondition "libpq.so.5 not installed (apt install libpq5)" when libpq cannot be loaded.
StatusOr<std::unique_ptr<EntrySource>> NewPostgresEntrySource(std::string uri,
                                                              std::string password_file);

}  // namespace steadfast::agent
