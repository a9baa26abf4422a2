// SqliteStorage: Storage on one SQLite file (WAL mode).
//
// Writes: ONE writer thread owns the only read-write connection. IngestBatch enqueues its batch
// and blocks on a future; the writer takes everything queued (up to max_group_results results),
// writes it in one transaction, commits (one fsync with synchronous=FULL) and then completes
// every future of the group — group commit, so the cost of a commit is shared by all the
// batches that arrived meanwhile. If the group's transaction fails it is rolled back and each
// batch is retried in a transaction of its own, so one failing batch cannot fail the others;
// a batch whose own transaction fails gets Unavailable and nothing of it is stored.
// CreateAgent and PruneHistory run on the same writer thread (PruneHistory in chunks, so
// ingestion is not held up behind a large delete). WAL checkpoints run on a thread and
// connection of their own (SqliteStorageOptions::background_checkpoints), so a group commit
// does not wait for pages to be copied into the database file.
//
// Reads use a small pool of read-only connections, each with its prepared statements cached;
// a WAL reader sees the last committed state and never blocks the writer.
//
// Schema (migrations by version, see sqlite_storage.cc): agents (integer agent_key plus the
// public agent_id), results (history, unique on (agent_key, seq)), latest_state (primary key
// (agent_key, check_name, target)). SQL is kept to what PostgreSQL also accepts
// (ON CONFLICT ... DO NOTHING / DO UPDATE, CASE, LIMIT/OFFSET) except the DDL.
//
// Thread-safety: all methods are thread-safe. Close() (or the destructor) drains the queue,
// stops the writer and makes later calls return Unavailable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/store/storage.h"
#include "common/clock.h"
#include "common/sqlite/sqlite_db.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace steadfast::collector {

struct SqliteStorageOptions {
  std::string path;                 // the database file (created if missing)
  std::string synchronous = "FULL"; // FULL (survives power loss) or NORMAL (survives crashes)
  // Most results written in one group commit (a single batch larger than this is still
  // written whole, alone).
  size_t max_group_results = 20'000;
  // Idle read-only connections kept for reuse. Every report looks its agent up on one, so
  // this is sized for the HTTP handler threads that run at once: a pool smaller than that
  // made bursts of reports open and close connections (bench/ingest_bench).
  size_t reader_pool_size = 16;
  // Rows deleted per transaction by PruneHistory.
  int64_t prune_chunk_rows = 5'000;
  // Refuse to grow the database file beyond this many bytes (0 = no limit); writes past it
  // fail as if the disk were full. For quotas, and for tests of the disk-full path.
  int64_t max_db_bytes = 0;
  // SQLite page cache of the writer connection, KiB.
  int64_t writer_cache_kib = 64 * 1024;
  // WAL checkpoints (copying committed pages from the WAL into the database file, and its
  // fsync) run on a thread and connection of their own, at most every checkpoint_interval_ms
  // while there are commits, so a group commit does not wait for them. The writer still
  // checkpoints by itself once the WAL holds writer_checkpoint_pages pages — normally only
  // the few frames the background checkpoint has not reached yet, which lets the WAL wrap
  // to its start instead of growing. false: the writer does every checkpoint itself, every
  // 1000 pages (SQLite's default).
  bool background_checkpoints = true;
  int64_t checkpoint_interval_ms = 20;
  int64_t writer_checkpoint_pages = 4096;
  // When set, storage_commit_duration_seconds, storage_commits_total and
  // storage_queue_batches are registered here.
  prometheus::Registry* registry = nullptr;
  // Test hook: runs on the writer thread when it has work, before it takes a group. Lets a
  // test hold the writer while several batches queue up.
  std::function<void()> before_group_for_test;
};

class SqliteStorage final : public Storage {
 public:
  // Opens or creates the database, applies migrations and starts the writer. Errors:
  // InvalidArgument (bad options), DataLoss (not a database / corrupt), FailedPrecondition
  // (schema newer than this program), Unavailable (cannot open).
  static StatusOr<std::unique_ptr<SqliteStorage>> Open(const SqliteStorageOptions& options,
                                                       Clock& clock);
  ~SqliteStorage() override;

  // Completes everything queued, stops the writer, closes the connections. Idempotent.
  void Close();

  Status CreateAgent(const AgentRecord& agent) override;
  StatusOr<AgentRecord> FindAgentByTokenHash(const std::string& token_sha256) override;
  StatusOr<protocol::ReportAck> IngestBatch(const protocol::ReportBatch& batch,
                                            int64_t received_at_ms) override;
  StatusOr<HostPage> ListHosts(int64_t limit, int64_t offset,
                              const std::optional<std::vector<std::string>>& only = std::nullopt) override;
  StatusOr<HostSummary> GetHost(const std::string& agent_id) override;
  StatusOr<std::vector<StoredResult>> ListHostChecks(const std::string& agent_id) override;
  StatusOr<std::vector<StoredResult>> History(const HistoryQuery& query) override;
  StatusOr<std::vector<CheckStatusSample>> AllCheckStatuses() override;
  StatusOr<int64_t> PruneHistory(int64_t older_than_ms) override;
  Status Ping() override;

  // Number of group commits so far.
  uint64_t CommitCount() const;
  // Checkpoints run by the background checkpointer so far.
  uint64_t BackgroundCheckpointCount() const;
  // Report batches waiting for the writer.
  size_t QueueDepth() const;

 private:
  struct IngestJob;
  struct WriteJob;
  struct Writer;
  struct Reader;
  class ReaderLease;

  SqliteStorage(SqliteStorageOptions options, Clock& clock);
  Status Init();
  void WriterLoop();
  void NotifyCheckpointer();
  void CheckpointerLoop(std::unique_ptr<sqlite::SqliteDb> db);
  // Writes `jobs` in one transaction; on OK fills each job's outcome (not yet delivered).
  Status WriteGroup(const std::vector<std::shared_ptr<IngestJob>>& jobs);
  void CompleteGroup(const std::vector<std::shared_ptr<IngestJob>>& jobs);
  // Runs `fn` on the writer thread inside a transaction and returns its status.
  StatusOr<int64_t> RunOnWriter(std::function<StatusOr<int64_t>(Writer&)> fn);
  StatusOr<ReaderLease> AcquireReader();
  void ReleaseReader(std::unique_ptr<Reader> reader, bool healthy);
  StatusOr<HostSummary> GetHostLocked(Reader& reader, const std::string& agent_id);

  const SqliteStorageOptions options_;
  Clock& clock_;

  std::unique_ptr<Writer> writer_;  // touched only by the writer thread after Init()

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<std::shared_ptr<IngestJob>> ingest_queue_;  // guarded by mu_
  std::deque<std::shared_ptr<WriteJob>> write_queue_;    // guarded by mu_
  bool stopping_ = false;                                // guarded by mu_
  std::thread writer_thread_;

  // Background checkpoints: the writer counts commits, the checkpointer wakes for them.
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  uint64_t commits_to_checkpoint_ = 0;  // guarded by checkpoint_mu_
  bool checkpointer_stopping_ = false;  // guarded by checkpoint_mu_
  std::thread checkpointer_thread_;
  std::atomic<uint64_t> background_checkpoints_{0};

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> idle_readers_;  // guarded by readers_mu_
  bool readers_closed_ = false;                         // guarded by readers_mu_

  std::mutex close_mu_;  // serialises Close()

  prometheus::Histogram* commit_duration_ = nullptr;
  prometheus::Counter* commits_total_ = nullptr;
  prometheus::Gauge* queue_depth_ = nullptr;
  std::atomic<uint64_t> commit_count_{0};
};

}  // namespace steadfast::collector
