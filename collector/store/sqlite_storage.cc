#include "collector/store/sqlite_storage.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "common/logging.h"

namespace steadfast::collector {

namespace {

using sqlite::SqliteDb;
using sqlite::SqliteStatement;

// Version 1: agents, results (history), latest_state. Agents get an integer key so that the
// history indexes hold 8-byte integers rather than the public id string. Results are appended
// in the order they are received, so `id` order is received order: retention deletes id
// ranges and needs no index on received_at_ms (one index less to update per result).
std::vector<sqlite::Migration> Migrations() {
  return {{1, R"sql(
CREATE TABLE agents (
  agent_key      INTEGER PRIMARY KEY,
  agent_id       TEXT NOT NULL UNIQUE,
  token_sha256   TEXT NOT NULL UNIQUE,
  hostname       TEXT NOT NULL,
  os             TEXT NOT NULL DEFAULT '',
  kernel         TEXT NOT NULL DEFAULT '',
  arch           TEXT NOT NULL DEFAULT '',
  agent_version  TEXT NOT NULL DEFAULT '',
  enrolled_at_ms INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX agents_by_hostname ON agents (hostname, agent_id);

CREATE TABLE results (
  id             INTEGER PRIMARY KEY,
  agent_key      INTEGER NOT NULL REFERENCES agents (agent_key),
  seq            INTEGER NOT NULL,
  check_name     TEXT NOT NULL,
  target         TEXT NOT NULL,
  status         INTEGER NOT NULL,
  summary        TEXT NOT NULL,
  observed_at_ms INTEGER NOT NULL,
  duration_ms    INTEGER NOT NULL,
  metrics_json   TEXT NOT NULL,
  details_json   TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  UNIQUE (agent_key, seq)
);
CREATE INDEX results_by_check ON results (agent_key, check_name, target, seq);

CREATE TABLE latest_state (
  agent_key      INTEGER NOT NULL REFERENCES agents (agent_key),
  check_name     TEXT NOT NULL,
  target         TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  status         INTEGER NOT NULL,
  summary        TEXT NOT NULL,
  observed_at_ms INTEGER NOT NULL,
  duration_ms    INTEGER NOT NULL,
  metrics_json   TEXT NOT NULL,
  details_json   TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  PRIMARY KEY (agent_key, check_name, target)
);
)sql"}};
}

constexpr char kAgentColumns[] =
    "agent_id, token_sha256, hostname, os, kernel, arch, agent_version, enrolled_at_ms, "
    "last_seen_ms";

constexpr char kResultColumns[] =
    "seq, check_name, target, status, summary, observed_at_ms, duration_ms, metrics_json, "
    "details_json, received_at_ms";

constexpr char kInsertResultSql[] =
    "INSERT INTO results (agent_key, seq, check_name, target, status, summary, observed_at_ms, "
    "duration_ms, metrics_json, details_json, received_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (agent_key, seq) DO NOTHING";

// The latest state moves only forward in seq: a late retry of an old result leaves it alone.
constexpr char kUpsertLatestSql[] =
    "INSERT INTO latest_state (agent_key, check_name, target, seq, status, summary, "
    "observed_at_ms, duration_ms, metrics_json, details_json, received_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (agent_key, check_name, target) DO UPDATE SET "
    "seq = excluded.seq, status = excluded.status, summary = excluded.summary, "
    "observed_at_ms = excluded.observed_at_ms, duration_ms = excluded.duration_ms, "
    "metrics_json = excluded.metrics_json, details_json = excluded.details_json, "
    "received_at_ms = excluded.received_at_ms "
    "WHERE excluded.seq > latest_state.seq";

constexpr char kUpdateAgentSql[] =
    "UPDATE agents SET hostname = ?1, os = ?2, kernel = ?3, arch = ?4, agent_version = ?5, "
    "last_seen_ms = CASE WHEN last_seen_ms > ?6 THEN last_seen_ms ELSE ?6 END "
    "WHERE agent_key = ?7";

constexpr char kInsertAgentSql[] =
    "INSERT INTO agents (agent_id, token_sha256, hostname, os, kernel, arch, agent_version, "
    "enrolled_at_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

constexpr char kFindAgentKeySql[] = "SELECT agent_key FROM agents WHERE agent_id = ?1";

// The first id that is too new to prune. A scan in id order stops at the first row received
// at or after the cut-off, so it reads only rows that are about to be deleted anyway.
constexpr char kPruneBoundarySql[] =
    "SELECT COALESCE((SELECT id FROM results WHERE received_at_ms >= ?1 ORDER BY id LIMIT 1), "
    "(SELECT COALESCE(MAX(id), 0) + 1 FROM results))";

constexpr char kPruneChunkSql[] =
    "DELETE FROM results WHERE id IN (SELECT id FROM results WHERE id < ?1 ORDER BY id LIMIT ?2)";

// Anything that goes wrong inside SQLite while ingesting is, to the agent, "try again later":
// disk full, I/O errors, a busy or damaged file. The cause goes into the message and the log.
Status AsUnavailable(const Status& st, std::string_view what) {
  if (st.ok() || st.code() == StatusCode::kUnavailable) return st;
  return UnavailableError(std::string(what) + ": " + st.ToString());
}

// Read paths: NotFound and InvalidArgument are answers; anything else means the store is not
// answering properly.
Status ReadFailure(const Status& st) {
  if (st.ok() || st.code() == StatusCode::kNotFound || st.code() == StatusCode::kInvalidArgument ||
      st.code() == StatusCode::kUnavailable) {
    return st;
  }
  return UnavailableError("storage read: " + st.ToString());
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out->append(fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c))));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// The metrics of a result as a JSON array of {name, labels, value, unit}. Written by hand
// because it runs for every stored result and a JSON DOM per metric costs more than the
// database insert; api_handlers parses it back with nlohmann (tests cover the round trip).
std::string MetricsToJson(const std::vector<protocol::Metric>& metrics) {
  if (metrics.empty()) return "[]";
  std::string out;
  out.reserve(metrics.size() * 96);
  out.push_back('[');
  for (size_t i = 0; i < metrics.size(); ++i) {
    const protocol::Metric& m = metrics[i];
    if (i > 0) out.push_back(',');
    out.append("{\"name\":");
    AppendJsonString(&out, m.name);
    if (!m.labels.empty()) {
      out.append(",\"labels\":{");
      bool first = true;
      for (const auto& [k, v] : m.labels) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(&out, k);
        out.push_back(':');
        AppendJsonString(&out, v);
      }
      out.push_back('}');
    }
    out.append(",\"value\":");
    // Shortest representation that reads back as the same double; the protocol guarantees
    // finite values, "null" keeps the JSON valid if one slips through.
    if (std::isfinite(m.value)) {
      fmt::format_to(std::back_inserter(out), "{}", m.value);
    } else {
      out.append("null");
    }
    if (!m.unit.empty()) {
      out.append(",\"unit\":");
      AppendJsonString(&out, m.unit);
    }
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

protocol::CheckStatus StatusFromInt(int64_t v) {
  if (v < 0 || v > 3) return protocol::CheckStatus::kUnknown;
  return static_cast<protocol::CheckStatus>(v);
}

AgentRecord ReadAgentRow(const SqliteStatement& q) {
  AgentRecord a;
  a.agent_id = q.ColumnText(0);
  a.token_sha256 = q.ColumnText(1);
  a.host.hostname = q.ColumnText(2);
  a.host.os = q.ColumnText(3);
  a.host.kernel = q.ColumnText(4);
  a.host.arch = q.ColumnText(5);
  a.host.agent_version = q.ColumnText(6);
  a.enrolled_at_ms = q.ColumnInt(7);
  a.last_seen_ms = q.ColumnInt(8);
  return a;
}

// Columns in kResultColumns order starting at `first`.
StoredResult ReadResultRow(const SqliteStatement& q, int first, const std::string& agent_id) {
  StoredResult r;
  r.agent_id = agent_id;
  r.seq = static_cast<uint64_t>(q.ColumnInt(first + 0));
  r.check = q.ColumnText(first + 1);
  r.target = q.ColumnText(first + 2);
  r.status = StatusFromInt(q.ColumnInt(first + 3));
  r.summary = q.ColumnText(first + 4);
  r.observed_at_ms = q.ColumnInt(first + 5);
  r.duration_ms = q.ColumnInt(first + 6);
  r.metrics_json = q.ColumnText(first + 7);
  r.details_json = q.ColumnText(first + 8);
  r.received_at_ms = q.ColumnInt(first + 9);
  return r;
}

void FillWorst(HostSummary* h) {
  h->worst_status.reset();
  for (int s = 0; s < 4; ++s) {
    if (h->status_counts[static_cast<size_t>(s)] == 0) continue;
    auto status = static_cast<protocol::CheckStatus>(s);
    h->worst_status = h->worst_status ? protocol::WorseStatus(*h->worst_status, status) : status;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct SqliteStorage::IngestJob {
  const protocol::ReportBatch* batch = nullptr;  // the caller blocks until the job completes
  int64_t received_at_ms = 0;
  std::vector<std::string> metrics_json;  // per result, serialised on the caller's thread
  // Outcome, written by the writer thread before the promise is fulfilled.
  Status status;
  protocol::ReportAck ack;
  std::promise<StatusOr<protocol::ReportAck>> promise;
};

struct SqliteStorage::WriteJob {
  std::function<StatusOr<int64_t>(Writer&)> fn;
  std::promise<StatusOr<int64_t>> promise;
};

// The read-write connection and its statements, prepared once.
struct SqliteStorage::Writer {
  std::unique_ptr<SqliteDb> db;
  SqliteStatement find_agent_key;
  SqliteStatement insert_agent;
  SqliteStatement insert_result;
  SqliteStatement upsert_latest;
  SqliteStatement update_agent;
  SqliteStatement prune_chunk;

  static StatusOr<std::unique_ptr<Writer>> Create(std::unique_ptr<SqliteDb> db) {
    SF_ASSIGN_OR_RETURN(SqliteStatement find, db->Prepare(kFindAgentKeySql));
    SF_ASSIGN_OR_RETURN(SqliteStatement insert_agent, db->Prepare(kInsertAgentSql));
    SF_ASSIGN_OR_RETURN(SqliteStatement insert_result, db->Prepare(kInsertResultSql));
    SF_ASSIGN_OR_RETURN(SqliteStatement upsert, db->Prepare(kUpsertLatestSql));
    SF_ASSIGN_OR_RETURN(SqliteStatement update, db->Prepare(kUpdateAgentSql));
    SF_ASSIGN_OR_RETURN(SqliteStatement prune, db->Prepare(kPruneChunkSql));
    return std::unique_ptr<Writer>(new Writer{std::move(db), std::move(find), std::move(insert_agent),
                                              std::move(insert_result), std::move(upsert),
                                              std::move(update), std::move(prune)});
  }
};

// A read-only connection with its prepared statements cached by SQL text.
struct SqliteStorage::Reader {
  std::unique_ptr<SqliteDb> db;
  std::map<std::string, SqliteStatement, std::less<>> statements;

  StatusOr<SqliteStatement*> Get(std::string_view sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      SF_ASSIGN_OR_RETURN(SqliteStatement st, db->Prepare(sql));
      it = statements.emplace(std::string(sql), std::move(st)).first;
    }
    it->second.Reset();
    return &it->second;
  }
  // Statements left mid-result would pin an old snapshot and stop WAL checkpoints; reset all.
  void ResetAll() {
    for (auto& [sql, st] : statements) st.Reset();
  }
};

class SqliteStorage::ReaderLease {
 public:
  ReaderLease(SqliteStorage* owner, std::unique_ptr<Reader> reader)
      : owner_(owner), reader_(std::move(reader)) {}
  ReaderLease(ReaderLease&& other) noexcept
      : owner_(other.owner_), reader_(std::move(other.reader_)), healthy_(other.healthy_) {}
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (reader_) owner_->ReleaseReader(std::move(reader_), healthy_);
  }
  Reader& operator*() { return *reader_; }
  Reader* operator->() { return reader_.get(); }
  // Marks the connection as suspect so it is closed instead of reused.
  Status Check(const Status& st) {
    if (!st.ok() && st.code() != StatusCode::kNotFound && st.code() != StatusCode::kInvalidArgument) {
      healthy_ = false;
    }
    return ReadFailure(st);
  }

 private:
  SqliteStorage* owner_;
  std::unique_ptr<Reader> reader_;
  bool healthy_ = true;
};

// ---------------------------------------------------------------------------------------------

SqliteStorage::SqliteStorage(SqliteStorageOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

SqliteStorage::~SqliteStorage() { Close(); }

StatusOr<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(const SqliteStorageOptions& options,
                                                             Clock& clock) {
  if (options.path.empty() || options.path == ":memory:") {
    return InvalidArgumentError("storage: a database file path is required (readers use their own connections)");
  }
  if (options.synchronous != "FULL" && options.synchronous != "NORMAL") {
    return InvalidArgumentError("storage: synchronous must be FULL or NORMAL, got '" + options.synchronous + "'");
  }
  std::unique_ptr<SqliteStorage> storage(new SqliteStorage(options, clock));
  SF_RETURN_IF_ERROR(storage->Init());
  return storage;
}

Status SqliteStorage::Init() {
  sqlite::OpenOptions open;
  open.synchronous = options_.synchronous;
  SF_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(options_.path, open));
  SF_RETURN_IF_ERROR(db->Migrate(Migrations()).WithContext(options_.path));
  SF_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-" + std::to_string(std::max<int64_t>(options_.writer_cache_kib, 256))));
  SF_RETURN_IF_ERROR(db->Exec("PRAGMA temp_store=MEMORY"));
  // Checkpoints: with background_checkpoints the writer's automatic checkpoint is only the
  // backstop described in sqlite_storage.h; otherwise SQLite's default (every ~4 MB of WAL)
  // stays, as larger intervals stalled the writer for 50+ ms per checkpoint
  // (bench/ingest_bench). Keep the WAL file from staying huge after a burst has been
  // checkpointed.
  if (options_.background_checkpoints) {
    SF_RETURN_IF_ERROR(db->Exec("PRAGMA wal_autocheckpoint=" +
                                std::to_string(std::max<int64_t>(options_.writer_checkpoint_pages, 1))));
  }
  SF_RETURN_IF_ERROR(db->Exec("PRAGMA journal_size_limit=67108864"));
  if (options_.max_db_bytes > 0) {
    SF_ASSIGN_OR_RETURN(SqliteStatement ps, db->Prepare("PRAGMA page_size"));
    SF_ASSIGN_OR_RETURN(bool row, ps.Step());
    int64_t page_size = row ? ps.ColumnInt(0) : 4096;
    int64_t pages = std::max<int64_t>(1, options_.max_db_bytes / std::max<int64_t>(page_size, 512));
    SF_RETURN_IF_ERROR(db->Exec("PRAGMA max_page_count=" + std::to_string(pages)));
  }
  SF_ASSIGN_OR_RETURN(writer_, Writer::Create(std::move(db)));

  if (options_.registry != nullptr) {
    commit_duration_ = &prometheus::BuildHistogram()
                            .Name("steadfast_collector_storage_commit_duration_seconds")
                            .Help("Time to write and commit one group of report batches")
                            .Register(*options_.registry)
                            .Add({}, prometheus::Histogram::BucketBoundaries{
                                         0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25, 0.5, 1, 2.5});
    commits_total_ = &prometheus::BuildCounter()
                          .Name("steadfast_collector_storage_commits_total")
                          .Help("Group commits of report batches")
                          .Register(*options_.registry)
                          .Add({});
    queue_depth_ = &prometheus::BuildGauge()
                        .Name("steadfast_collector_storage_queue_batches")
                        .Help("Report batches waiting for the storage writer")
                        .Register(*options_.registry)
                        .Add({});
  }
  if (options_.background_checkpoints) {
    sqlite::OpenOptions ck;
    ck.synchronous = options_.synchronous;
    SF_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> ck_db, SqliteDb::Open(options_.path, ck));
    // It never checkpoints on commit (it does not commit); only when asked.
    SF_RETURN_IF_ERROR(ck_db->Exec("PRAGMA wal_autocheckpoint=0"));
    checkpointer_thread_ = std::thread([this, db = std::move(ck_db)]() mutable { CheckpointerLoop(std::move(db)); });
  }
  writer_thread_ = std::thread([this] { WriterLoop(); });
  return OkStatus();
}

void SqliteStorage::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    checkpointer_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_thread_.joinable()) checkpointer_thread_.join();
  writer_.reset();
  std::lock_guard<std::mutex> lock(readers_mu_);
  readers_closed_ = true;
  idle_readers_.clear();
}

uint64_t SqliteStorage::CommitCount() const { return commit_count_.load(); }

uint64_t SqliteStorage::BackgroundCheckpointCount() const { return background_checkpoints_.load(); }

size_t SqliteStorage::QueueDepth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ingest_queue_.size();
}

// ---------------------------------------------------------------------------------------------
// Writer thread

void SqliteStorage::WriterLoop() {
  while (true) {
    std::shared_ptr<WriteJob> write;
    std::vector<std::shared_ptr<IngestJob>> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !ingest_queue_.empty() || !write_queue_.empty(); });
      if (ingest_queue_.empty() && write_queue_.empty()) return;  // stopping, and drained
    }
    if (options_.before_group_for_test) options_.before_group_for_test();
    {
      // Only this thread takes from the queues, so they are still non-empty here.
      std::lock_guard<std::mutex> lock(mu_);
      // At most one other write per round, so a long prune interleaves with ingestion.
      if (!write_queue_.empty()) {
        write = std::move(write_queue_.front());
        write_queue_.pop_front();
      }
      size_t results = 0;
      while (!ingest_queue_.empty()) {
        size_t n = ingest_queue_.front()->batch->results.size();
        if (!group.empty() && results + n > options_.max_group_results) break;
        results += n;
        group.push_back(std::move(ingest_queue_.front()));
        ingest_queue_.pop_front();
      }
      if (queue_depth_ != nullptr) queue_depth_->Set(static_cast<double>(ingest_queue_.size()));
    }

    if (write) {
      sqlite::Transaction tx(writer_->db.get());
      Status begun = tx.Begin();
      StatusOr<int64_t> result = begun.ok() ? write->fn(*writer_) : StatusOr<int64_t>(begun);
      if (result.ok()) {
        Status committed = tx.Commit();
        if (!committed.ok()) result = committed;
      }
      write->promise.set_value(std::move(result));
    }

    if (write) NotifyCheckpointer();
    if (group.empty()) continue;
    auto started = clock_.Monotonic();
    Status st = WriteGroup(group);
    if (st.ok()) {
      double seconds = std::chrono::duration<double>(clock_.Monotonic() - started).count();
      if (commit_duration_ != nullptr) commit_duration_->Observe(seconds);
      if (commits_total_ != nullptr) commits_total_->Increment();
      commit_count_++;
    } else if (group.size() == 1) {
      SF_LOG_ERROR("storage: writing a report batch failed: {}", st.ToString());
      group.front()->status = AsUnavailable(st, "storage");
    } else {
      // One batch may be what failed the transaction; give each its own chance so the
      // others are not held hostage. A real disk problem fails them all again.
      SF_LOG_WARN("storage: group commit of {} batches failed ({}); retrying one by one", group.size(),
                  st.ToString());
      for (const auto& job : group) {
        Status one = WriteGroup({job});
        if (one.ok()) {
          commit_count_++;
          if (commits_total_ != nullptr) commits_total_->Increment();
        } else {
          SF_LOG_ERROR("storage: writing a report batch failed: {}", one.ToString());
          job->status = AsUnavailable(one, "storage");
        }
      }
    }
    CompleteGroup(group);
    NotifyCheckpointer();
  }
}

void SqliteStorage::NotifyCheckpointer() {
  if (!options_.background_checkpoints) return;
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    commits_to_checkpoint_++;
  }
  checkpoint_cv_.notify_one();
}

// ---------------------------------------------------------------------------------------------
// Checkpointer thread

void SqliteStorage::CheckpointerLoop(std::unique_ptr<SqliteDb> db) {
  // A throttle, not logic: real time is right here whatever clock_ is.
  using SteadyClock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(options_.checkpoint_interval_ms, 1));
  SteadyClock::time_point last = SteadyClock::now() - interval;
  uint64_t failures = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(checkpoint_mu_);
      checkpoint_cv_.wait(lock, [&] { return checkpointer_stopping_ || commits_to_checkpoint_ > 0; });
      // Let the commits of the next few milliseconds join this checkpoint.
      if (checkpoint_cv_.wait_until(lock, last + interval, [&] { return checkpointer_stopping_; })) return;
      commits_to_checkpoint_ = 0;
    }
    last = SteadyClock::now();
    // PASSIVE: copies what no reader still needs, without waiting for readers or the writer.
    Status st = db->Exec("PRAGMA wal_checkpoint(PASSIVE)");
    if (st.ok()) {
      background_checkpoints_++;
    } else if (st.code() != StatusCode::kAborted && failures++ % 1000 == 0) {
      // Busy (the writer's own checkpoint is running) is expected; anything else is logged,
      // not repeated per attempt. The writer's backstop checkpoint keeps the WAL bounded.
      SF_LOG_WARN("storage: background checkpoint failed ({} so far): {}", failures, st.ToString());
    }
  }
}

Status SqliteStorage::WriteGroup(const std::vector<std::shared_ptr<IngestJob>>& jobs) {
  Writer& w = *writer_;
  sqlite::Transaction tx(w.db.get());
  SF_RETURN_IF_ERROR(tx.Begin());

  struct LatestPick {
    const protocol::ReportEntry* entry;
    const std::string* metrics_json;
    int64_t received_at_ms;
  };
  // Only the newest result per (agent, check, target) of the whole group needs to reach
  // latest_state; the upsert's WHERE keeps it from moving backwards against what is stored.
  std::map<std::tuple<int64_t, std::string_view, std::string_view>, LatestPick> latest;
  // The newest batch per agent carries the host info and last-seen time to record.
  std::unordered_map<int64_t, const IngestJob*> agent_updates;

  for (const auto& job : jobs) {
    job->status = OkStatus();
    job->ack = protocol::ReportAck{};
    const protocol::ReportBatch& batch = *job->batch;

    w.find_agent_key.Reset();
    w.find_agent_key.Bind(1, std::string_view(batch.agent_id));
    SF_ASSIGN_OR_RETURN(bool found, w.find_agent_key.Step());
    if (!found) {
      job->status = NotFoundError("unknown agent '" + batch.agent_id + "'");
      continue;
    }
    const int64_t agent_key = w.find_agent_key.ColumnInt(0);
    w.find_agent_key.Reset();

    for (size_t i = 0; i < batch.results.size(); ++i) {
      const protocol::ReportEntry& e = batch.results[i];
      const protocol::CheckResult& r = e.result;
      SqliteStatement& ins = w.insert_result;
      ins.Reset();
      ins.Bind(1, agent_key)
          .Bind(2, static_cast<int64_t>(e.seq))
          .Bind(3, std::string_view(r.check))
          .Bind(4, std::string_view(r.target))
          .Bind(5, static_cast<int64_t>(r.status))
          .Bind(6, std::string_view(r.summary))
          .Bind(7, r.observed_at_ms)
          .Bind(8, r.duration_ms)
          .Bind(9, std::string_view(job->metrics_json[i]))
          .Bind(10, std::string_view(r.details_json))
          .Bind(11, job->received_at_ms);
      SF_RETURN_IF_ERROR(ins.Run());
      if (w.db->Changes() > 0) {
        job->ack.accepted++;
      } else {
        job->ack.duplicates++;
      }
      auto key = std::make_tuple(agent_key, std::string_view(r.check), std::string_view(r.target));
      auto it = latest.find(key);
      if (it == latest.end()) {
        latest.emplace(key, LatestPick{&e, &job->metrics_json[i], job->received_at_ms});
      } else if (e.seq > it->second.entry->seq) {
        it->second = LatestPick{&e, &job->metrics_json[i], job->received_at_ms};
      }
    }
    job->ack.acked_through = batch.results.empty() ? 0 : batch.results.back().seq;
    agent_updates[agent_key] = job.get();
  }

  for (const auto& [agent_key, job] : agent_updates) {
    const protocol::HostInfo& h = job->batch->host;
    SqliteStatement& up = w.update_agent;
    up.Reset();
    up.Bind(1, std::string_view(h.hostname))
        .Bind(2, std::string_view(h.os))
        .Bind(3, std::string_view(h.kernel))
        .Bind(4, std::string_view(h.arch))
        .Bind(5, std::string_view(h.agent_version))
        .Bind(6, job->received_at_ms)
        .Bind(7, agent_key);
    SF_RETURN_IF_ERROR(up.Run());
  }

  for (const auto& [key, pick] : latest) {
    const protocol::CheckResult& r = pick.entry->result;
    SqliteStatement& up = w.upsert_latest;
    up.Reset();
    up.Bind(1, std::get<0>(key))
        .Bind(2, std::string_view(r.check))
        .Bind(3, std::string_view(r.target))
        .Bind(4, static_cast<int64_t>(pick.entry->seq))
        .Bind(5, static_cast<int64_t>(r.status))
        .Bind(6, std::string_view(r.summary))
        .Bind(7, r.observed_at_ms)
        .Bind(8, r.duration_ms)
        .Bind(9, std::string_view(*pick.metrics_json))
        .Bind(10, std::string_view(r.details_json))
        .Bind(11, pick.received_at_ms);
    SF_RETURN_IF_ERROR(up.Run());
  }

  return tx.Commit();
}

void SqliteStorage::CompleteGroup(const std::vector<std::shared_ptr<IngestJob>>& jobs) {
  for (const auto& job : jobs) {
    if (job->status.ok()) {
      job->promise.set_value(job->ack);
    } else {
      job->promise.set_value(job->status);
    }
  }
}

StatusOr<int64_t> SqliteStorage::RunOnWriter(std::function<StatusOr<int64_t>(Writer&)> fn) {
  auto job = std::make_shared<WriteJob>();
  job->fn = std::move(fn);
  std::future<StatusOr<int64_t>> done = job->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return UnavailableError("storage is shutting down");
    write_queue_.push_back(job);
  }
  work_cv_.notify_one();
  return done.get();
}

// ---------------------------------------------------------------------------------------------
// Writes

Status SqliteStorage::CreateAgent(const AgentRecord& agent) {
  if (agent.agent_id.empty() || agent.token_sha256.empty() || agent.host.hostname.empty()) {
    return InvalidArgumentError("agent id, token hash and hostname are required");
  }
  StatusOr<int64_t> r = RunOnWriter([&agent](Writer& w) -> StatusOr<int64_t> {
    SqliteStatement& ins = w.insert_agent;
    ins.Reset();
    ins.Bind(1, std::string_view(agent.agent_id))
        .Bind(2, std::string_view(agent.token_sha256))
        .Bind(3, std::string_view(agent.host.hostname))
        .Bind(4, std::string_view(agent.host.os))
        .Bind(5, std::string_view(agent.host.kernel))
        .Bind(6, std::string_view(agent.host.arch))
        .Bind(7, std::string_view(agent.host.agent_version))
        .Bind(8, agent.enrolled_at_ms)
        .Bind(9, agent.last_seen_ms);
    Status st = ins.Run();
    ins.Reset();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("an agent with this id or token already exists");
    }
    SF_RETURN_IF_ERROR(st);
    return 1;
  });
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kAlreadyExists) return r.status();
    return AsUnavailable(r.status(), "storage: create agent");
  }
  return OkStatus();
}

StatusOr<protocol::ReportAck> SqliteStorage::IngestBatch(const protocol::ReportBatch& batch,
                                                         int64_t received_at_ms) {
  uint64_t prev = 0;
  for (size_t i = 0; i < batch.results.size(); ++i) {
    uint64_t seq = batch.results[i].seq;
    if (seq <= prev || seq > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgumentError("results[" + std::to_string(i) +
                                  "].seq: sequence numbers must increase and fit in 63 bits");
    }
    prev = seq;
  }
  auto job = std::make_shared<IngestJob>();
  job->batch = &batch;
  job->received_at_ms = received_at_ms;
  job->metrics_json.reserve(batch.results.size());
  for (const auto& e : batch.results) job->metrics_json.push_back(MetricsToJson(e.result.metrics));
  std::future<StatusOr<protocol::ReportAck>> done = job->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return UnavailableError("storage is shutting down");
    ingest_queue_.push_back(job);
    if (queue_depth_ != nullptr) queue_depth_->Set(static_cast<double>(ingest_queue_.size()));
  }
  work_cv_.notify_one();
  return done.get();
}

StatusOr<int64_t> SqliteStorage::PruneHistory(int64_t older_than_ms) {
  // Where to stop, found on a reader so the writer is not held up by the scan. If the clock
  // was stepped back, rows received after the step wait until the rows before them age out:
  // retention is never shorter than configured, at most late by the size of the step.
  int64_t boundary = 0;
  {
    SF_ASSIGN_OR_RETURN(ReaderLease r, AcquireReader());
    auto q = r->Get(kPruneBoundarySql);
    if (!q.ok()) return r.Check(q.status());
    (*q)->Bind(1, older_than_ms);
    auto row = (*q)->Step();
    if (!row.ok()) return r.Check(row.status());
    boundary = *row ? (*q)->ColumnInt(0) : 0;
  }
  const int64_t chunk = std::max<int64_t>(options_.prune_chunk_rows, 1);
  int64_t total = 0;
  // Each chunk is its own transaction on the writer thread, so ingestion interleaves. The
  // loop ends when a chunk comes back short: no rows below the boundary are ever added.
  for (int round = 0; round < 100'000'000; ++round) {
    StatusOr<int64_t> n = RunOnWriter([boundary, chunk](Writer& w) -> StatusOr<int64_t> {
      SqliteStatement& del = w.prune_chunk;
      del.Reset();
      del.Bind(1, boundary).Bind(2, chunk);
      SF_RETURN_IF_ERROR(del.Run());
      del.Reset();
      return static_cast<int64_t>(w.db->Changes());
    });
    if (!n.ok()) return AsUnavailable(n.status(), "storage: prune history");
    total += *n;
    if (*n < chunk) break;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Reads

StatusOr<SqliteStorage::ReaderLease> SqliteStorage::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (readers_closed_) return UnavailableError("storage is closed");
    if (!idle_readers_.empty()) {
      std::unique_ptr<Reader> r = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(r));
    }
  }
  sqlite::OpenOptions open;
  open.read_only = true;
  open.synchronous = "NORMAL";
  auto db = SqliteDb::Open(options_.path, open);
  if (!db.ok()) return ReadFailure(db.status());
  auto reader = std::make_unique<Reader>();
  reader->db = std::move(db).value();
  return ReaderLease(this, std::move(reader));
}

void SqliteStorage::ReleaseReader(std::unique_ptr<Reader> reader, bool healthy) {
  reader->ResetAll();
  std::lock_guard<std::mutex> lock(readers_mu_);
  if (healthy && !readers_closed_ && idle_readers_.size() < options_.reader_pool_size) {
    idle_readers_.push_back(std::move(reader));
  }
}

StatusOr<AgentRecord> SqliteStorage::FindAgentByTokenHash(const std::string& token_sha256) {
  SF_ASSIGN_OR_RETURN(ReaderLease r, AcquireReader());
  auto q = r->Get(std::string("SELECT ") + kAgentColumns + " FROM agents WHERE token_sha256 = ?1");
  if (!q.ok()) return r.Check(q.status());
  (*q)->Bind(1, std::string_view(token_sha256));
  auto row = (*q)->Step();
  if (!row.ok()) return r.Check(row.status());
  if (!*row) return NotFoundError("no agent has this token");
  return ReadAgentRow(**q);
}

StatusOr<HostSummary> SqliteStorage::GetHostLocked(Reader& reader, const std::string& agent_id) {
  SF_ASSIGN_OR_RETURN(SqliteStatement * q,
                      reader.Get(std::string("SELECT ") + kAgentColumns + ", agent_key FROM agents WHERE agent_id = ?1"));
  q->Bind(1, std::string_view(agent_id));
  SF_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return NotFoundError("no host with id '" + agent_id + "'");
  HostSummary h;
  h.agent = ReadAgentRow(*q);
  h.agent.token_sha256.clear();
  int64_t agent_key = q->ColumnInt(9);
  q->Reset();
  SF_ASSIGN_OR_RETURN(SqliteStatement * c,
                      reader.Get("SELECT status, COUNT(*) FROM latest_state WHERE agent_key = ?1 GROUP BY status"));
  c->Bind(1, agent_key);
  while (true) {
    SF_ASSIGN_OR_RETURN(bool more, c->Step());
    if (!more) break;
    int64_t s = c->ColumnInt(0);
    if (s >= 0 && s <= 3) h.status_counts[static_cast<size_t>(s)] += c->ColumnInt(1);
  }
  FillWorst(&h);
  return h;
}

StatusOr<HostSummary> SqliteStorage::GetHost(const std::string& agent_id) {
  SF_ASSIGN_OR_RETURN(ReaderLease r, AcquireReader());
  auto h = GetHostLocked(*r, agent_id);
  if (!h.ok()) return r.Check(h.status());
  return h;
}

StatusOr<HostPage> SqliteStorage::ListHosts(int64_t limit, int64_t offset,
                                            const std::optional<std::vector<std::string>>& only) {
  if (limit < 1 || offset < 0) return InvalidArgumentError("limit must be >= 1 and offset >= 0");
  SF_ASSIGN_OR_RETURN(ReaderLease r, AcquireReader());
  // One read transaction, so the page and the total come from the same snapshot.
  Status begun = r->db->Exec("BEGIN");
  if (!begun.ok()) return r.Check(begun);
  auto run = [&]() -> StatusOr<HostPage> {
    HostPage page;
    // The scope filter is one bound parameter, a JSON array of agent ids (json_each); NULL
    // means every host.
    std::optional<std::string> only_json;
    if (only) only_json = nlohmann::json(*only).dump();
    auto bind_only = [&](SqliteStatement* st, int index) {
      if (only_json) {
        st->Bind(index, std::string_view(*only_json));
      } else {
        st->BindNull(index);
      }
    };
    SF_ASSIGN_OR_RETURN(SqliteStatement * t,
                        r->Get("SELECT COUNT(*) FROM agents WHERE ?1 IS NULL OR agent_id IN "
                               "(SELECT value FROM json_each(?1))"));
    bind_only(t, 1);
    SF_ASSIGN_OR_RETURN(bool row, t->Step());
    page.total = row ? t->ColumnInt(0) : 0;
    t->Reset();
    SF_ASSIGN_OR_RETURN(
        SqliteStatement * q,
        r->Get("SELECT a.agent_id, a.token_sha256, a.hostname, a.os, a.kernel, a.arch, a.agent_version, "
               "a.enrolled_at_ms, a.last_seen_ms, "
               "COALESCE(c.n0, 0), COALESCE(c.n1, 0), COALESCE(c.n2, 0), COALESCE(c.n3, 0) "
               "FROM (SELECT * FROM agents WHERE ?3 IS NULL OR agent_id IN (SELECT value FROM json_each(?3)) "
               "ORDER BY hostname, agent_id LIMIT ?1 OFFSET ?2) a "
               "LEFT JOIN (SELECT agent_key, "
               "SUM(CASE WHEN status = 0 THEN 1 ELSE 0 END) AS n0, "
               "SUM(CASE WHEN status = 1 THEN 1 ELSE 0 END) AS n1, "
               "SUM(CASE WHEN status = 2 THEN 1 ELSE 0 END) AS n2, "
               "SUM(CASE WHEN status = 3 THEN 1 ELSE 0 END) AS n3 "
               "FROM latest_state GROUP BY agent_key) c ON c.agent_key = a.agent_key "
               "ORDER BY a.hostname, a.agent_id"));
    q->Bind(1, limit).Bind(2, offset);
    bind_only(q, 3);
    while (true) {
      SF_ASSIGN_OR_RETURN(bool more, q->Step());
      if (!more) break;
      HostSummary h;
      h.agent = ReadAgentRow(*q);
      h.agent.token_sha256.clear();
      for (int s = 0; s < 4; ++s) h.status_counts[static_cast<size_t>(s)] = q->ColumnInt(9 + s);
      FillWorst(&h);
      page.items.push_back(std::move(h));
    }
    q->Reset();
    return page;
  };
  StatusOr<HostPage> page = run();
  r->ResetAll();
  Status ended = r->db->Exec("COMMIT");
  if (!page.ok()) return r.Check(page.status());
  if (!ended.ok()) return r.Check(ended);
  return page;
}

StatusOr<std::vector<StoredResult>> SqliteStorage::ListHostChecks(const std::string& agent_id) {
  SF_ASSIGN_OR_RETURN(ReaderLease r, AcquireReader());
  auto run = [&]() -> StatusOr<std::vector<StoredResult>> {
    SF_ASSIGN_OR_RETURN(SqliteStatement * k, r->Get(kFindAgentKeySql));
    k->Bind(1, std::string_view(agent_id));
    SF_ASSIGN_OR_RETURN(bool found, k->Step());
    if (!found) return NotFoundError("no host with id '" + agent_id + "'");
    int64_t agent_key = k->ColumnInt(0);
    k->Reset();
    SF_ASSIGN_OR_RETURN(SqliteStatement * q,
                        r->Get(std::string("SELECT ") + kResultColumns +
                               " FROM latest_state WHERE agent_key = ?1 ORDER BY check_name, target"));
    q->Bind(1, agent_key);
    std::vector<StoredResult> out;
    while (true) {
      SF_ASSIGN_OR_RETURN(bool more, q->Step());
      if (!more) break;
      out.push_back(ReadResultRow(*q, 0, agent_id));
    }
    return out;
  };
  auto out = run();
  if (!out.ok()) return r.Check(out.status());
  return out;
}

StatusOr<std::vector<StoredResult>> SqliteStorage::History(const HistoryQuery& query) {
  if (query.limit < 1) return InvalidArgumentError("limit must be >= 1");
  if (query.after_seq > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::vector<StoredResult>{};
  }
  SF_ASSIGN_OR_RETURN(ReaderLease r, AcquireReader());
  auto run = [&]() -> StatusOr<std::vector<StoredResult>> {
    SF_ASSIGN_OR_RETURN(SqliteStatement * k, r->Get(kFindAgentKeySql));
    k->Bind(1, std::string_view(query.agent_id));
    SF_ASSIGN_OR_RETURN(bool found, k->Step());
    if (!found) return NotFoundError("no host with id '" + query.agent_id + "'");
    int64_t agent_key = k->ColumnInt(0);
    k->Reset();
    // Four statement shapes rather than "?3 IS NULL OR check_name = ?3", so that the
    // (agent_key, check_name, target, seq) index is usable.
    std::string sql = std::string("SELECT ") + kResultColumns +
                      " FROM results WHERE agent_key = ?1 AND seq > ?2 AND observed_at_ms >= ?3 "
                      "AND observed_at_ms < ?4";
    if (query.check) sql += " AND check_name = ?5";
    if (query.target) sql += " AND target = ?6";
    sql += " ORDER BY seq LIMIT ?7";
    SF_ASSIGN_OR_RETURN(SqliteStatement * q, r->Get(sql));
    q->Bind(1, agent_key)
        .Bind(2, static_cast<int64_t>(query.after_seq))
        .Bind(3, query.from_ms)
        .Bind(4, query.to_ms)
        .Bind(7, query.limit);
    if (query.check) q->Bind(5, std::string_view(*query.check));
    if (query.target) q->Bind(6, std::string_view(*query.target));
    std::vector<StoredResult> out;
    while (true) {
      SF_ASSIGN_OR_RETURN(bool more, q->Step());
      if (!more) break;
      out.push_back(ReadResultRow(*q, 0, query.agent_id));
    }
    return out;
  };
  auto out = run();
  if (!out.ok()) return r.Check(out.status());
  return out;
}

StatusOr<std::vector<CheckStatusSample>> SqliteStorage::AllCheckStatuses() {
  SF_ASSIGN_OR_RETURN(ReaderLease r, AcquireReader());
  auto run = [&]() -> StatusOr<std::vector<CheckStatusSample>> {
    SF_ASSIGN_OR_RETURN(SqliteStatement * q,
                        r->Get("SELECT a.hostname, a.agent_id, a.last_seen_ms, l.check_name, l.target, l.status "
                               "FROM latest_state l JOIN agents a ON a.agent_key = l.agent_key "
                               "ORDER BY a.hostname, l.check_name, l.target, a.last_seen_ms DESC"));
    std::vector<CheckStatusSample> out;
    while (true) {
      SF_ASSIGN_OR_RETURN(bool more, q->Step());
      if (!more) break;
      CheckStatusSample s;
      s.hostname = q->ColumnText(0);
      s.agent_id = q->ColumnText(1);
      s.last_seen_ms = q->ColumnInt(2);
      s.check = q->ColumnText(3);
      s.target = q->ColumnText(4);
      s.status = StatusFromInt(q->ColumnInt(5));
      out.push_back(std::move(s));
    }
    return out;
  };
  auto out = run();
  if (!out.ok()) return r.Check(out.status());
  return out;
}

Status SqliteStorage::Ping() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return UnavailableError("storage is shutting down");
  }
  SF_ASSIGN_OR_RETURN(ReaderLease r, AcquireReader());
  auto q = r->Get("SELECT MAX(agent_key) FROM agents");
  if (!q.ok()) return r.Check(q.status());
  auto row = (*q)->Step();
  if (!row.ok()) return r.Check(row.status());
  return OkStatus();
}

}  // namespace steadfast::collector
