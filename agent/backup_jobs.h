// Backup jobs the agent runs (config `backup_jobs:`): steadfast-backup into a repository on a
// schedule, the retention policy after each success, and restore drills on their own schedule.
// Each run's outcome is kept in <state_dir>/backup-jobs/<name>.json (written atomically), which
// the `backup` check's `job:` aspect reports: last success and its age, duration, bytes added,
// deduplication, last drill's result and age. The emergency_backup action runs every job (or one)
// now, tagged "emergency", without forgetting anything.
//
// The jobs run the steadfast-backup program as a child (through the CommandRunner: no shell, a
// minimal environment, killed at the job's timeout) and read its --json summary, rather than
// linking the backup engine into the agent: a backup's working set (about 100 MB) and its
// cryptography stay out of the always-running agent's footprint, and a backup that crashes or
// hangs cannot take the agent with it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/command_runner.h"
#include "common/clock.h"
#include "common/config/config_node.h"
#include "common/status.h"

namespace steadfast::agent {

struct BackupRetention {
  int64_t last = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  bool prune = true;  // prune after forgetting
  bool empty() const { return last == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0; }
};

struct BackupJobConfig {
  std::string name;
  std::string repository;
  std::string password_file;
  std::vector<std::string> paths;   // absolute
  std::vector<std::string> sqlite;  // SQLite databases copied online
  std::vector<std::string> excludes;
  std::vector<std::string> tags;
  int64_t every_ms = 24 * 3'600'000LL;
  std::optional<int> at_minute;  // minutes after local midnight ("02:30"); with every >= 1 day
  BackupRetention retention;
  int64_t drill_every_ms = 7 * 24 * 3'600'000LL;  // 0: no drills
  int64_t drill_sample = 20;                       // files drawn; 0: every file
  int64_t timeout_ms = 6 * 3'600'000LL;
};

// `backup_jobs:` (a list); every error names file:line:key.
StatusOr<std::vector<BackupJobConfig>> ParseBackupJobs(const config::ConfigNode& node);

// What the state file holds.
struct BackupJobState {
  // Last run of the backup itself.
  int64_t last_run_ms = 0;  // when it started
  bool last_ok = false;
  std::string last_error;
  std::string last_reason;  // schedule | manual | emergency
  // Last success.
  int64_t last_success_ms = 0;
  std::string snapshot;
  int64_t duration_ms = 0;
  uint64_t files_new = 0, files_changed = 0, files_unmodified = 0;
  uint64_t bytes_read = 0, bytes_added = 0, bytes_added_stored = 0;
  // Last drill.
  int64_t last_drill_ms = 0;
  std::string drill_result;  // passed | failed | error
  std::string drill_message;
  std::string drill_evidence;
  uint64_t drill_files = 0, drill_bytes = 0;
  int64_t last_drill_success_ms = 0;
};

std::string BackupJobStatePath(const std::string& state_dir, const std::string& job);
StatusOr<BackupJobState> ReadBackupJobState(const std::string& path);  // NotFound: never ran
Status WriteBackupJobState(const std::string& path, const BackupJobState& state);

class BackupJobRunner {
 public:
  // `program`: the steadfast-backup executable.
  BackupJobRunner(std::vector<BackupJobConfig> jobs, std::string state_dir, std::string program, CommandRunner& runner,
                  Clock& clock);
  ~BackupJobRunner();

  // Runs one job now: the backup, then (on success, unless `emergency`) the retention policy;
  // `reason` is recorded. Returns the new state; the error of a failed backup is in it.
  StatusOr<BackupJobState> RunBackup(const std::string& job, const std::string& reason);
  StatusOr<BackupJobState> RunDrill(const std::string& job);
  // emergency_backup: every job (or the one named), one after the other.
  std::vector<std::pair<std::string, BackupJobState>> Emergency(const std::string& only = "");

  // The schedule: a thread that runs what is due (one job at a time), checking every minute.
  void Start();
  void Stop();

  const std::vector<BackupJobConfig>& jobs() const { return jobs_; }
  // When the job's next backup is due, after `last_ms` (its last run; 0 = never: now).
  static int64_t NextDue(const BackupJobConfig& job, int64_t last_ms, int64_t now_ms);

 private:
  const BackupJobConfig* Find(const std::string& name) const;
  std::vector<std::string> Base(const BackupJobConfig& job) const;
  StatusOr<CommandResult> Run(const BackupJobConfig& job, std::vector<std::string> argv);
  void Loop();

  std::vector<BackupJobConfig> jobs_;
  std::string state_dir_;
  std::string program_;
  CommandRunner& runner_;
  Clock& clock_;
  std::mutex run_mu_;  // one job at a time (the schedule and an emergency run alike)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace steadfast::agent
