// StoreSql: the statement helpers every SQLite-backed domain store (accounts, inventory, ...)
// uses, with SQLite's failures mapped to the store contracts: conditions of the moment (busy,
// disk full, I/O, a damaged file) are Unavailable; a constraint violation is Internal, since
// the stores check every constraint first inside the same BEGIN IMMEDIATE transaction, so
// reaching one is a bug, not a conflict to report to a user. Messages start with the store's
// name ("accounts store: ...").
//
// Parameters bind in order to ?1, ?2, ...: int64_t, int and bool as integers, double as a real,
// strings as text, std::optional<int64_t> as an integer or NULL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/sqlite/sqlite_db.h"
#include "common/status.h"

namespace steadfast::sqlite {

// A value for a statement whose parameter list is built at run time (IN lists, optional filters).
using SqlParam = std::variant<int64_t, std::string>;

inline void BindOne(SqliteStatement& s, int i, int64_t v) { s.Bind(i, v); }
inline void BindOne(SqliteStatement& s, int i, int v) { s.Bind(i, static_cast<int64_t>(v)); }
inline void BindOne(SqliteStatement& s, int i, bool v) { s.Bind(i, static_cast<int64_t>(v ? 1 : 0)); }
inline void BindOne(SqliteStatement& s, int i, double v) { s.Bind(i, v); }
inline void BindOne(SqliteStatement& s, int i, std::string_view v) { s.Bind(i, v); }
// Without this a string literal would bind as bool (pointer-to-bool beats the conversions).
inline void BindOne(SqliteStatement& s, int i, const char* v) { s.Bind(i, std::string_view(v)); }
inline void BindOne(SqliteStatement& s, int i, const std::string& v) { s.Bind(i, std::string_view(v)); }
inline void BindOne(SqliteStatement& s, int i, const std::optional<int64_t>& v) { s.Bind(i, v); }
void BindOne(SqliteStatement& s, int i, const SqlParam& v);

class StoreSql {
 public:
  explicit constexpr StoreSql(std::string_view store_name) : store_name_(store_name) {}

  // `st` with its code mapped as above (OK stays OK).
  Status Error(const Status& st) const;
  StatusOr<SqliteStatement> Prepare(SqliteDb& db, std::string_view sql) const;
  StatusOr<bool> Step(SqliteStatement& stmt) const;

  // Prepares `sql` and binds `args` to ?1, ?2, ... in order.
  template <typename... Args>
  StatusOr<SqliteStatement> Bound(SqliteDb& db, std::string_view sql, const Args&... args) const {
    StatusOr<SqliteStatement> stmt = Prepare(db, sql);
    if (!stmt.ok()) return stmt;
    int i = 0;
    (BindOne(*stmt, ++i, args), ...);
    return stmt;
  }
  template <typename... Args>
  Status Exec(SqliteDb& db, std::string_view sql, const Args&... args) const {
    StatusOr<SqliteStatement> stmt = Bound(db, sql, args...);
    if (!stmt.ok()) return stmt.status();
    return Error(stmt->Run());
  }
  // Whether `sql` (bound to `args`) returns at least one row.
  template <typename... Args>
  StatusOr<bool> Exists(SqliteDb& db, std::string_view sql, const Args&... args) const {
    StatusOr<SqliteStatement> stmt = Bound(db, sql, args...);
    if (!stmt.ok()) return stmt.status();
    return Step(*stmt);
  }
  StatusOr<SqliteStatement> BoundParams(SqliteDb& db, std::string_view sql, const std::vector<SqlParam>& params) const;
  // The integer in the first column of the first row `sql` returns (COUNT(*) and the like); 0
  // when it returns no row.
  template <typename... Args>
  StatusOr<int64_t> Int(SqliteDb& db, std::string_view sql, const Args&... args) const {
    StatusOr<SqliteStatement> stmt = Bound(db, sql, args...);
    if (!stmt.ok()) return stmt.status();
    StatusOr<bool> row = Step(*stmt);
    if (!row.ok()) return row.status();
    return *row ? stmt->ColumnInt(0) : 0;
  }
  // Calls `on_row(stmt)` for every row `sql` (bound to `args`) returns, in order.
  template <typename OnRow, typename... Args>
  Status ForEachRow(SqliteDb& db, std::string_view sql, OnRow&& on_row, const Args&... args) const {
    StatusOr<SqliteStatement> stmt = Bound(db, sql, args...);
    if (!stmt.ok()) return stmt.status();
    while (true) {
      StatusOr<bool> more = Step(*stmt);
      if (!more.ok()) return more.status();
      if (!*more) return OkStatus();
      on_row(*stmt);
    }
  }

 private:
  std::string_view store_name_;
};

// "?3, ?4, ?5" for an IN list of `ids`, appending the ids to `params` (numbered after what
// `params` already holds).
std::string InList(const std::vector<int64_t>& ids, std::vector<SqlParam>* params);
// The placeholder ("?4") of `value`, appended to `params`.
std::string Placeholder(SqlParam value, std::vector<SqlParam>* params);

}  // namespace steadfast::sqlite
