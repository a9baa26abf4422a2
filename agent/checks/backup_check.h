// BackupCheck (type "backup"): are a backup job's results there, recent, plausible and verified,
// and is the place they go to healthy. Generic: it looks at files a job leaves behind, so it
// works with any tool (a dump script, rsync, tar, borg/restic wrappers). Each configured aspect
// is one result, target = the aspect's name, so an alert says what is wrong ("verify: last
// verification failed 2h ago") and the aspects change status independently:
//
//   files      the backup files themselves: `path` is a file or a glob(3) pattern; the newest
//              matching regular file (by mtime; directories are skipped) is the last backup.
//              Graded: its age (`max_age_warning` 26h / `max_age_critical` 50h), empty (0
//              bytes: always critical), below `min_size` (critical, default 1 byte), and how
//              much smaller it is than the previous backup (`shrink_warning_percent` 25 /
//              `shrink_critical_percent` 50: "critical if smaller than half the previous one").
//              The previous backup is the second-newest match; with a single file (a path
//              overwritten every night) it is the size this check saw the last time the file
//              changed (kept in memory, so none until the first change after a start).
//              No match is critical (the directory missing is named); an unreadable directory
//              is unknown.
//   heartbeat  a dead-man's switch: a file the job writes (or touches) when it finishes.
//              Graded on its age (`max_age_warning` 26h / `max_age_critical` 50h) and content.
//   verify     a file the verification job writes, in the same format: the last verification's
//              result and age (`max_age_warning` 8d / `max_age_critical` 15d).
//   storage    the backup target directory: exists and is a directory, not on a read-only mount
//              (statvfs ST_RDONLY), writable (`write_probe: true` creates a file with mkostemp,
//              writes, fsyncs and unlinks it), and its free space (statvfs f_bavail, what an
//              unprivileged job may use): `free_warning_percent` 10 / `free_critical_percent` 5,
//              `free_warning_bytes` / `free_critical_bytes` (off; sizes like 50GiB).
//
// Status file format (heartbeat and verify), chosen so one shell line writes it:
//   (empty)               success, finished at the file's mtime      touch FILE
//   ok [anything]         success, finished at the file's mtime      echo ok > FILE
//   fail [code] [text]    failure, finished at the file's mtime      echo "fail $?" > FILE
//   {"status": "ok"|"fail", "finished_at": RFC 3339 or unix seconds, "message": "..."}
//                         JSON; finished_at defaults to the mtime, message is shown on failure
// Only the first line counts for the text forms. A failure is critical; content in none of these
// forms is unknown (quoted). A missing heartbeat/verify file is critical ("never reported").
//   if /usr/local/bin/nightly-dump; then echo ok; else echo "fail $?"; fi > /var/lib/backup/ok
//
// Each aspect is a mapping, or just the path as a string (defaults for everything else):
//   files: /srv/backup/db-*.sql.gz
//   storage: {path: /srv/backup, write_probe: true}
// At least one aspect is required. Duration thresholds take "26h", "8d"; 0 turns one off.
//   job        a backup job this agent runs (config backup_jobs; agent/backup_jobs.h), from its
//              state file: two results. "job": the last run's outcome (a failure is critical,
//              with the error), the last success's age (`max_age_warning` 26h / `max_age_critical`
//              50h), snapshot, duration, bytes read and added, dedup. "drill": the last restore
//              drill's result (failed: critical, naming the first mismatch) and age
//              (`drill_max_age_warning` 8d / `drill_max_age_critical` 15d); none yet: warning.
//              `job: NAME` or {name, state_dir (default the agent's), the thresholds}.
//
// Metrics: files: backup_last_timestamp_seconds, backup_last_age_seconds, backup_last_size_bytes,
// backup_previous_size_bytes and backup_size_change_ratio ((new - previous) / previous; when a
// previous backup is known), backup_files; heartbeat/verify: backup_{heartbeat,verify}_{timestamp,
// age}_seconds, backup_{heartbeat,verify}_success (1/0); storage:
// backup_storage_{size,avail}_bytes, backup_storage_avail_ratio, backup_storage_writable
// (1/0/absent when not probed), backup_storage_readonly (1/0); job: backup_job_last_run_success,
// backup_job_last_success_{timestamp,age}_seconds, backup_job_duration_seconds,
// backup_job_{read,added,added_stored}_bytes, backup_job_dedup_ratio; drill:
// backup_drill_{timestamp,age}_seconds, backup_drill_success, backup_drill_files,
// backup_drill_bytes.
//
// File system calls (glob, stat, statvfs, the write probe) go to the real file system (the
// FileSystem interface has no mtime, size or statvfs); the status files are read through ctx.fs.
// A hung network mount blocks them until the kernel gives up; the runtime then reports the run
// as timed out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/backup_jobs.h"
#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

struct BackupFilesOptions {
  std::string pattern;                         // a path or a glob(3) pattern
  Thresholds age_s{26 * 3600.0, 50 * 3600.0};  // seconds since the newest file's mtime
  int64_t min_size_bytes = 1;
  Thresholds shrink_percent{25.0, 50.0};  // percent smaller than the previous backup
};

// A heartbeat or verify file.
struct BackupStatusFileOptions {
  std::string path;
  Thresholds age_s;
};

struct BackupStorageOptions {
  std::string path;
  // Graded from below (less free is worse); nullopt disables.
  std::optional<double> free_warning_percent = 10.0;
  std::optional<double> free_critical_percent = 5.0;
  std::optional<int64_t> free_warning_bytes;
  std::optional<int64_t> free_critical_bytes;
  bool write_probe = false;
};

// A steadfast-backup job the agent runs (agent/backup_jobs.h), from its state file.
struct BackupJobOptions {
  std::string name;
  std::string state_dir;  // "": the agent's
  Thresholds age_s{26 * 3600.0, 50 * 3600.0};           // since the last success
  Thresholds drill_age_s{8 * 86400.0, 15 * 86400.0};    // since the last drill
};

struct BackupCheckOptions {
  std::optional<BackupJobOptions> job;
  std::optional<BackupFilesOptions> files;
  std::optional<BackupStatusFileOptions> heartbeat;
  std::optional<BackupStatusFileOptions> verify;
  std::optional<BackupStorageOptions> storage;
};

// What a heartbeat/verify file says.
struct BackupStatusRecord {
  bool success = false;
  int64_t finished_at_s = 0;  // unix seconds
  std::string message;        // for a failure: "3" or "3 disk full" or the JSON message
};

// Parses a status file's content (format above). `mtime_s` is the file's mtime, the finish time
// unless the JSON says otherwise. InvalidArgument (with a short reason) for anything else.
StatusOr<BackupStatusRecord> ParseBackupStatusFile(const std::string& content, int64_t mtime_s);

class BackupCheck final : public Check {
 public:
  BackupCheck(std::string name, BackupCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  struct SeenFile {
    std::string path;
    int64_t mtime_ns = 0;
    int64_t size = 0;
  };
  protocol::CheckResult RunFiles(const CheckContext& ctx, const BackupFilesOptions& o);
  protocol::CheckResult RunStatusFile(const CheckContext& ctx, const std::string& aspect,
                                      const BackupStatusFileOptions& o);
  protocol::CheckResult RunStorage(const CheckContext& ctx, const BackupStorageOptions& o);
  protocol::CheckResult RunJob(const CheckContext& ctx, const BackupJobOptions& o);
  protocol::CheckResult RunDrill(const CheckContext& ctx, const BackupJobOptions& o);

  BackupCheckOptions options_;
  // The newest file of the last run, and the one before it when a single path is rewritten.
  std::optional<SeenFile> last_newest_;
  std::optional<SeenFile> remembered_previous_;
};

// Factory for type "backup".
StatusOr<std::unique_ptr<Check>> NewBackupCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
