#include "collector/audit/sqlite_audit_log.h"

#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/logging.h"

namespace steadfast::collector::audit {

namespace {

using sqlite::SqliteDb;
using sqlite::SqliteStatement;

const std::vector<sqlite::Migration>& AuditMigrations() {
  static const std::vector<sqlite::Migration> kMigrations = {
      {1, R"sql(
CREATE TABLE audit_records (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  actor_type TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  roles TEXT NOT NULL,
  unit_id INTEGER,
  source_address TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  result TEXT NOT NULL,
  result_code TEXT NOT NULL,
  message TEXT NOT NULL,
  prev_mac TEXT NOT NULL,
  mac TEXT NOT NULL
);
CREATE INDEX audit_records_time ON audit_records(time_ms);
CREATE INDEX audit_records_actor_name ON audit_records(actor_name);
CREATE INDEX audit_records_actor_id ON audit_records(actor_id);
CREATE INDEX audit_records_object ON audit_records(object_type, object_id);
CREATE INDEX audit_records_action ON audit_records(action);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  mac TEXT NOT NULL,
  seal TEXT NOT NULL
);
CREATE TABLE audit_checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  mac TEXT NOT NULL,
  seal TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN
  SELECT RAISE(ABORT, 'audit records are append-only');
END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
  WHEN OLD.seq > (SELECT seq FROM audit_checkpoint WHERE id = 1)
BEGIN
  SELECT RAISE(ABORT, 'audit records are append-only; retention deletes only up to the checkpoint');
END;
)sql"},
  };
  return kMigrations;
}

constexpr std::string_view kRecordColumns =
    "seq, time_ms, actor_type, actor_id, actor_name, roles, unit_id, source_address, action, "
    "object_type, "
    "object_id, summary, result, result_code, message, prev_mac, mac";

// Reads a row selected with kRecordColumns. Returns "" or why the row is not a well-formed
// record (then `out` holds a best effort and its MAC cannot verify).
std::string ReadRecord(const SqliteStatement& s, AuditRecord* out) {
  std::string problem;
  out->seq = s.ColumnInt(0);
  AuditEvent& e = out->event;
  e.time_ms = s.ColumnInt(1);
  e.actor_type = s.ColumnText(2);
  e.actor_id = s.ColumnText(3);
  e.actor_name = s.ColumnText(4);
  const std::string roles_text = s.ColumnText(5);
  e.roles.clear();
  const nlohmann::json roles =
      nlohmann::json::parse(roles_text, nullptr, /*allow_exceptions=*/false);
  bool roles_ok = roles.is_array();
  if (roles_ok) {
    for (const nlohmann::json& role : roles) {
      if (!role.is_string()) {
        roles_ok = false;
        break;
      }
      e.roles.push_back(role.get<std::string>());
    }
  }
  if (!roles_ok) {
    e.roles = {roles_text};
    problem = "its roles column is not a JSON list of strings";
  }
  e.unit_id = s.IsNull(6) ? std::nullopt : std::optional<int64_t>(s.ColumnInt(6));
  e.source_address = s.ColumnText(7);
  e.action = s.ColumnText(8);
  e.object_type = s.ColumnText(9);
  e.object_id = s.ColumnText(10);
  e.summary_json = s.ColumnText(11);
  const std::string result = s.ColumnText(12);
  std::optional<AuditResult> parsed = ParseAuditResult(result);
  e.result = parsed.value_or(AuditResult::kError);
  if (!parsed) problem = "its result column holds the unknown value '" + result.substr(0, 40) + "'";
  e.result_code = s.ColumnText(13);
  e.message = s.ColumnText(14);
  out->prev_mac_hex = s.ColumnText(15);
  out->mac_hex = s.ColumnText(16);
  return problem;
}

// A read transaction that always ends (ROLLBACK; nothing was written).
class ReadTransaction {
 public:
  explicit ReadTransaction(SqliteDb& db) : db_(db) {}
  ~ReadTransaction() {
    // Ending a read-only transaction cannot lose anything; a failure here leaves nothing to undo.
    if (open_) db_.Exec("ROLLBACK").IgnoreError();
  }
  Status Begin() {
    SF_RETURN_IF_ERROR(db_.Exec("BEGIN"));
    open_ = true;
    return OkStatus();
  }

 private:
  SqliteDb& db_;
  bool open_ = false;
};

StatusOr<std::optional<ChainPoint>> ReadPoint(SqliteDb& db, std::string_view table) {
  SF_ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare("SELECT seq, mac, seal FROM " +
                                                    std::string(table) + " WHERE id = 1"));
  SF_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<ChainPoint>();
  ChainPoint p;
  p.seq = s.ColumnInt(0);
  p.mac_hex = s.ColumnText(1);
  p.seal_hex = s.ColumnText(2);
  return std::optional<ChainPoint>(std::move(p));
}

StatusOr<bool> TableExists(SqliteDb& db, std::string_view name) {
  SF_ASSIGN_OR_RETURN(SqliteStatement s,
                      db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1"));
  s.Bind(1, name);
  return s.Step();
}

std::string RolesJson(const std::vector<std::string>& roles) {
  // NormalizeEvent made every role valid UTF-8; `replace` only keeps dump() from throwing.
  return nlohmann::json(roles).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status InsertRecord(SqliteDb& db, const AuditRecord& r) {
  SF_ASSIGN_OR_RETURN(
      SqliteStatement s,
      db.Prepare(
          "INSERT INTO audit_records(" + std::string(kRecordColumns) +
          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"));
  const AuditEvent& e = r.event;
  s.Bind(1, r.seq)
      .Bind(2, e.time_ms)
      .Bind(3, e.actor_type)
      .Bind(4, e.actor_id)
      .Bind(5, e.actor_name)
      .Bind(6, RolesJson(e.roles))
      .Bind(7, e.unit_id)
      .Bind(8, e.source_address)
      .Bind(9, e.action)
      .Bind(10, e.object_type)
      .Bind(11, e.object_id)
      .Bind(12, e.summary_json)
      .Bind(13, AuditResultName(e.result))
      .Bind(14, e.result_code)
      .Bind(15, e.message)
      .Bind(16, r.prev_mac_hex)
      .Bind(17, r.mac_hex);
  return s.Run();
}

}  // namespace

// ---- read paths

StatusOr<VerifyReport> VerifyAuditDb(SqliteDb& db, const AuditKey& key, ChainPoint* head_out) {
  ReadTransaction tx(db);
  SF_RETURN_IF_ERROR(tx.Begin());
  SF_ASSIGN_OR_RETURN(bool has_records, TableExists(db, "audit_records"));
  SF_ASSIGN_OR_RETURN(bool has_head, TableExists(db, "audit_head"));
  SF_ASSIGN_OR_RETURN(bool has_checkpoint, TableExists(db, "audit_checkpoint"));
  SF_ASSIGN_OR_RETURN(bool has_migrations, TableExists(db, "schema_migrations"));
  bool registered = false;
  if (has_migrations) {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        db.Prepare("SELECT 1 FROM schema_migrations WHERE component = 'audit'"));
    SF_ASSIGN_OR_RETURN(registered, s.Step());
  }
  if (!registered && !has_records && !has_head && !has_checkpoint) {
    return FailedPreconditionError(
        db.path() + " holds no audit log (has the collector run with this database?)");
  }
  std::optional<ChainPoint> checkpoint;
  std::optional<ChainPoint> head;
  if (has_checkpoint) {
    SF_ASSIGN_OR_RETURN(checkpoint, ReadPoint(db, "audit_checkpoint"));
  }
  if (has_head) {
    SF_ASSIGN_OR_RETURN(head, ReadPoint(db, "audit_head"));
  }
  if (head && head_out != nullptr) *head_out = *head;
  ChainVerifier verifier(key, checkpoint, head);
  if (!has_records) {
    VerifyReport report = verifier.Finish();
    if (report.ok || report.problem == kProblemTruncated) {
      report.ok = false;
      report.bad_seq = checkpoint ? checkpoint->seq + 1 : 1;
      report.problem = std::string(kProblemRemoved);
      report.detail = "the audit_records table is missing: every record was removed";
    }
    return report;
  }
  // One statement stepped row by row: memory stays flat however long the log is.
  SF_ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare("SELECT " + std::string(kRecordColumns) +
                                                    " FROM audit_records ORDER BY seq"));
  AuditRecord record;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    const std::string problem = ReadRecord(s, &record);
    if (!verifier.Add(record, problem)) break;
  }
  return verifier.Finish();
}

StatusOr<std::vector<AuditRecord>> QueryAuditDb(SqliteDb& db, const AuditQuery& q) {
  if (q.limit < 1 || q.limit > kMaxAuditQueryLimit) {
    return InvalidArgumentError("limit must be between 1 and " +
                                std::to_string(kMaxAuditQueryLimit));
  }
  if (q.action && q.action->empty()) return InvalidArgumentError("action filter must not be empty");
  // The statement is assembled from fixed fragments only (so each filter can use its index);
  // every value is bound as a parameter.
  std::string sql = "SELECT " + std::string(kRecordColumns) + " FROM audit_records WHERE seq > ?1";
  if (q.from_ms != INT64_MIN) sql += " AND time_ms >= ?2";
  if (q.to_ms != INT64_MAX) sql += " AND time_ms < ?3";
  // The person, and the API tokens acting for them ("li.wei (token nightly)").
  if (q.actor_name) sql += " AND (actor_name = ?4 OR substr(actor_name, 1, length(?4) + 8) = ?4 || ' (token ')";
  if (q.actor_id) sql += " AND actor_id = ?5";
  if (q.object_type) sql += " AND object_type = ?6";
  if (q.object_id) sql += " AND object_id = ?7";
  const bool action_prefix = q.action && q.action->back() == '.';
  if (q.action) sql += action_prefix ? " AND action >= ?8 AND action < ?9" : " AND action = ?8";
  if (q.result) sql += " AND result = ?10";
  if (q.unit_ids) sql += " AND unit_id IN (SELECT value FROM json_each(?11))";
  sql += " ORDER BY seq LIMIT ?12";
  SF_ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(sql));
  s.Bind(1, q.after_seq);
  if (q.from_ms != INT64_MIN) s.Bind(2, q.from_ms);
  if (q.to_ms != INT64_MAX) s.Bind(3, q.to_ms);
  if (q.actor_name) s.Bind(4, *q.actor_name);
  if (q.actor_id) s.Bind(5, *q.actor_id);
  if (q.object_type) s.Bind(6, *q.object_type);
  if (q.object_id) s.Bind(7, *q.object_id);
  if (q.action) {
    s.Bind(8, *q.action);
    if (action_prefix) {
      // "users." .. "users/": every action starting with "users." in binary collation.
      std::string upper = *q.action;
      upper.back() = static_cast<char>(upper.back() + 1);
      s.Bind(9, upper);
    }
  }
  if (q.result) s.Bind(10, AuditResultName(*q.result));
  if (q.unit_ids) {
    std::string ids = "[";
    for (size_t i = 0; i < q.unit_ids->size(); ++i) {
      if (i > 0) ids += ",";
      ids += std::to_string((*q.unit_ids)[i]);
    }
    ids += "]";
    s.Bind(11, ids);
  }
  s.Bind(12, q.limit);
  std::vector<AuditRecord> out;
  while (true) {
    SF_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    AuditRecord r;
    // A malformed row is still returned as read; judging it is Verify's job.
    ReadRecord(s, &r);
    out.push_back(std::move(r));
  }
  return out;
}

// ---- SqliteAuditLog

StatusOr<std::unique_ptr<SqliteAuditLog>> SqliteAuditLog::Open(AdminDb& db, AuditKey key,
                                                               const Clock& clock,
                                                               SqliteAuditLogOptions options) {
  if (options.prune_chunk < 1) return InvalidArgumentError("prune_chunk must be at least 1");
  SF_RETURN_IF_ERROR(db.Migrate("audit", AuditMigrations()));
  std::unique_ptr<SqliteAuditLog> log(
      new SqliteAuditLog(db, std::move(key), clock, std::move(options)));
  SF_RETURN_IF_ERROR(log->Initialise());
  return log;
}

Status SqliteAuditLog::Initialise() {
  return db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(std::optional<ChainPoint> head, ReadPoint(db, "audit_head"));
    SF_ASSIGN_OR_RETURN(std::optional<ChainPoint> checkpoint, ReadPoint(db, "audit_checkpoint"));
    SF_ASSIGN_OR_RETURN(SqliteStatement any, db.Prepare("SELECT 1 FROM audit_records LIMIT 1"));
    SF_ASSIGN_OR_RETURN(bool has_records, any.Step());
    if (!head && !checkpoint && !has_records) {
      // A new log: seal its starting point under this key.
      const ChainPoint h = GenesisHead(key_);
      const ChainPoint c = GenesisCheckpoint(key_);
      SF_ASSIGN_OR_RETURN(
          SqliteStatement ih,
          db.Prepare("INSERT INTO audit_head(id, seq, mac, seal) VALUES (1, ?1, ?2, ?3)"));
      ih.Bind(1, h.seq).Bind(2, h.mac_hex).Bind(3, h.seal_hex);
      SF_RETURN_IF_ERROR(ih.Run());
      SF_ASSIGN_OR_RETURN(SqliteStatement ic,
                          db.Prepare("INSERT INTO audit_checkpoint(id, seq, mac, seal, updated_ms) "
                                     "VALUES (1, ?1, ?2, ?3, ?4)"));
      ic.Bind(1, c.seq).Bind(2, c.mac_hex).Bind(3, c.seal_hex).Bind(4, clock_.NowMillis());
      return ic.Run();
    }
    const bool head_ok = head && SealHead(key_, head->seq, head->mac_hex) == head->seal_hex;
    const bool checkpoint_ok =
        checkpoint &&
        SealCheckpoint(key_, checkpoint->seq, checkpoint->mac_hex) == checkpoint->seal_hex;
    if (head && checkpoint && !head_ok && !checkpoint_ok) {
      return FailedPreconditionError("the audit key does not match the audit log in " + db.path() +
                                     ": neither the head nor the checkpoint seal verifies under "
                                     "it. Restore the original audit.key (a new "
                                     "key would start a chain that cannot be told from a forged "
                                     "one); `steadfast-collector audit verify` "
                                     "shows the state of the log");
    }
    if (!head_ok || !checkpoint_ok) {
      SF_LOG_ERROR(
          "audit: the {} row of the audit log does not verify; run `steadfast-collector audit "
          "verify`",
          head_ok ? "checkpoint" : "head");
    }
    return OkStatus();
  });
}

StatusOr<int64_t> SqliteAuditLog::Append(const AuditEvent& event) {
  int64_t seq = 0;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(seq, AppendInTransaction(db, event));
    return OkStatus();
  }));
  return seq;
}

StatusOr<int64_t> SqliteAuditLog::AppendInTransaction(SqliteDb& db, const AuditEvent& event) {
  if (sqlite3_get_autocommit(db.raw()) != 0) {
    return FailedPreconditionError(
        "AppendInTransaction needs the caller's open transaction (AdminDb::Write)");
  }
  AuditRecord r;
  SF_ASSIGN_OR_RETURN(r.event, NormalizeEvent(event));
  if (r.event.time_ms == 0) r.event.time_ms = clock_.NowMillis();
  SF_ASSIGN_OR_RETURN(std::optional<ChainPoint> head, ReadPoint(db, "audit_head"));
  if (!head) {
    return DataLossError(
        "the audit log's head row is missing (the database was tampered with); run "
        "`steadfast-collector audit verify`");
  }
  r.seq = head->seq + 1;
  r.prev_mac_hex = head->mac_hex;
  r.mac_hex = Seal(key_, r.prev_mac_hex, r.seq, r.event);
  SF_RETURN_IF_ERROR(InsertRecord(db, r).WithContext("audit record " + std::to_string(r.seq)));
  SF_ASSIGN_OR_RETURN(
      SqliteStatement u,
      db.Prepare("UPDATE audit_head SET seq = ?1, mac = ?2, seal = ?3 WHERE id = 1"));
  u.Bind(1, r.seq).Bind(2, r.mac_hex).Bind(3, SealHead(key_, r.seq, r.mac_hex));
  SF_RETURN_IF_ERROR(u.Run());
  return r.seq;
}

StatusOr<std::vector<AuditRecord>> SqliteAuditLog::Query(const AuditQuery& query) {
  std::vector<AuditRecord> out;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(out, QueryAuditDb(db, query));
    return OkStatus();
  }));
  return out;
}

StatusOr<VerifyReport> SqliteAuditLog::Verify() {
  if (!options_.verify_db_path.empty()) {
    sqlite::OpenOptions open;
    open.read_only = true;
    SF_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db,
                        SqliteDb::Open(options_.verify_db_path, open));
    return VerifyAuditDb(*db, key_);
  }
  VerifyReport report;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(report, VerifyAuditDb(db, key_));
    return OkStatus();
  }));
  return report;
}

StatusOr<int64_t> SqliteAuditLog::Prune(int64_t older_than_ms) {
  int64_t deleted = 0;
  int64_t checkpoint_seq = 0;
  while (true) {
    bool done = false;
    SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
      SF_ASSIGN_OR_RETURN(std::optional<ChainPoint> checkpoint, ReadPoint(db, "audit_checkpoint"));
      SF_ASSIGN_OR_RETURN(std::optional<ChainPoint> head, ReadPoint(db, "audit_head"));
      if (!checkpoint || !head ||
          SealCheckpoint(key_, checkpoint->seq, checkpoint->mac_hex) != checkpoint->seal_hex) {
        return DataLossError(
            "the audit log's checkpoint or head row is missing or damaged; not pruning (run "
            "`steadfast-collector audit verify`)");
      }
      // Only a prefix can go (the checkpoint is one point): within the next chunk, everything
      // before the first record that is not old enough, and never past the head. The seq range
      // keeps this lookup to one chunk of rows however many young records follow (the unary +
      // keeps the planner off the time index).
      const int64_t chunk_end = std::min(checkpoint->seq + options_.prune_chunk, head->seq);
      SF_ASSIGN_OR_RETURN(SqliteStatement first_young,
                          db.Prepare("SELECT min(seq) FROM audit_records WHERE seq > ?1 AND seq <= "
                                     "?2 AND +time_ms >= ?3"));
      first_young.Bind(1, checkpoint->seq).Bind(2, chunk_end).Bind(3, older_than_ms);
      SF_ASSIGN_OR_RETURN(bool row, first_young.Step());
      const int64_t upto = row && !first_young.IsNull(0) ? first_young.ColumnInt(0) - 1 : chunk_end;
      if (upto <= checkpoint->seq) {
        done = true;
        return OkStatus();
      }
      // Check what is about to go, so retention cannot wash away evidence of tampering.
      SF_ASSIGN_OR_RETURN(
          SqliteStatement s,
          db.Prepare("SELECT " + std::string(kRecordColumns) +
                     " FROM audit_records WHERE seq > ?1 AND seq <= ?2 ORDER BY seq"));
      s.Bind(1, checkpoint->seq).Bind(2, upto);
      int64_t expected = checkpoint->seq + 1;
      std::string prev = checkpoint->mac_hex;
      AuditRecord r;
      while (true) {
        SF_ASSIGN_OR_RETURN(bool more, s.Step());
        if (!more) break;
        const std::string problem = ReadRecord(s, &r);
        if (r.seq != expected || r.prev_mac_hex != prev || !problem.empty() ||
            Seal(key_, r.prev_mac_hex, r.seq, r.event) != r.mac_hex) {
          return DataLossError(
              "audit record " + std::to_string(expected) +
              " does not verify; not pruning (run `steadfast-collector audit verify`)");
        }
        prev = r.mac_hex;
        ++expected;
      }
      if (expected != upto + 1) {
        return DataLossError("audit record " + std::to_string(expected) +
                             " is missing; not pruning (run `steadfast-collector audit verify`)");
      }
      // Move the checkpoint first: the delete trigger allows deleting only up to it.
      SF_ASSIGN_OR_RETURN(SqliteStatement c,
                          db.Prepare("UPDATE audit_checkpoint SET seq = ?1, mac = ?2, seal = ?3, "
                                     "updated_ms = ?4 WHERE id = 1"));
      c.Bind(1, upto)
          .Bind(2, prev)
          .Bind(3, SealCheckpoint(key_, upto, prev))
          .Bind(4, clock_.NowMillis());
      SF_RETURN_IF_ERROR(c.Run());
      SF_ASSIGN_OR_RETURN(SqliteStatement d,
                          db.Prepare("DELETE FROM audit_records WHERE seq <= ?1"));
      d.Bind(1, upto);
      SF_RETURN_IF_ERROR(d.Run());
      deleted += db.Changes();
      checkpoint_seq = upto;
      return OkStatus();
    }));
    if (done) break;
  }
  if (deleted == 0) return deleted;
  AuditEvent e;
  e.time_ms = clock_.NowMillis();
  e.actor_type = "system";
  e.actor_name = "retention";
  e.action = "audit.prune";
  e.object_type = "audit_log";
  e.summary_json = nlohmann::json{{"deleted", deleted},
                                  {"checkpoint_seq", checkpoint_seq},
                                  {"older_than", FormatRfc3339Millis(older_than_ms)}}
                       .dump();
  e.message = "retention deleted " + std::to_string(deleted) + " records up to seq " +
              std::to_string(checkpoint_seq);
  SF_RETURN_IF_ERROR(Append(e).status());
  return deleted;
}

StatusOr<ChainPoint> SqliteAuditLog::Head() {
  std::optional<ChainPoint> head;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(head, ReadPoint(db, "audit_head"));
    return OkStatus();
  }));
  if (!head) return DataLossError("the audit log's head row is missing");
  return *head;
}

}  // namespace steadfast::collector::audit
