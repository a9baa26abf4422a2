#include "common/sqlite/store_sql.h"

#include <utility>

namespace steadfast::sqlite {

void BindOne(SqliteStatement& s, int i, const SqlParam& v) {
  if (const int64_t* n = std::get_if<int64_t>(&v)) {
    s.Bind(i, *n);
  } else {
    s.Bind(i, std::string_view(std::get<std::string>(v)));
  }
}

Status StoreSql::Error(const Status& st) const {
  if (st.ok()) return st;
  const std::string message = std::string(store_name_) + ": " + st.message();
  if (st.code() == StatusCode::kAlreadyExists || st.code() == StatusCode::kInternal) {
    return InternalError(message);
  }
  return UnavailableError(message);
}

StatusOr<SqliteStatement> StoreSql::Prepare(SqliteDb& db, std::string_view sql) const {
  StatusOr<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return Error(stmt.status());
  return stmt;
}

StatusOr<bool> StoreSql::Step(SqliteStatement& stmt) const {
  StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return Error(row.status());
  return row;
}

StatusOr<SqliteStatement> StoreSql::BoundParams(SqliteDb& db, std::string_view sql,
                                                const std::vector<SqlParam>& params) const {
  StatusOr<SqliteStatement> stmt = Prepare(db, sql);
  if (!stmt.ok()) return stmt;
  int i = 0;
  for (const SqlParam& p : params) BindOne(*stmt, ++i, p);
  return stmt;
}

std::string InList(const std::vector<int64_t>& ids, std::vector<SqlParam>* params) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ", ";
    out += Placeholder(ids[i], params);
  }
  return out;
}

std::string Placeholder(SqlParam value, std::vector<SqlParam>* params) {
  params->push_back(std::move(value));
  return "?" + std::to_string(params->size());
}

}  // namespace steadfast::sqlite
