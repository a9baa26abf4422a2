#include "agent/backup_jobs.h"

#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/fs/file_system.h"
#include "common/logging.h"

namespace steadfast::agent {

using nlohmann::json;

namespace {

constexpr int64_t kDayMs = 24 * 3'600'000LL;

StatusOr<int> ParseAt(const config::ConfigNode& n) {
  SF_ASSIGN_OR_RETURN(std::string text, n.RequiredString());
  int h = -1, m = -1;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%d:%d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 || m > 59) {
    return n.Error("expected a time of day as HH:MM (\"02:30\"), got '" + text + "'");
  }
  return h * 60 + m;
}

StatusOr<BackupJobConfig> ParseJob(const config::ConfigNode& n) {
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"name", "repository", "password_file", "paths", "sqlite", "exclude", "tags",
                                           "every", "at", "retention", "drill", "timeout"}));
  BackupJobConfig j;
  SF_ASSIGN_OR_RETURN(j.name, n["name"].RequiredString());
  if (j.name.empty() || j.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
                            std::string::npos || j.name[0] == '.') {
    return n["name"].Error("a job name is letters, digits, '-', '_' and '.' (it names a state file)");
  }
  SF_ASSIGN_OR_RETURN(j.repository, n["repository"].RequiredString());
  if (j.repository.empty() || j.repository[0] != '/') return n["repository"].Error("must be an absolute path");
  SF_ASSIGN_OR_RETURN(j.password_file, n["password_file"].RequiredString());
  if (j.password_file.empty() || j.password_file[0] != '/') return n["password_file"].Error("must be an absolute path");
  if (n["paths"].present()) {
    SF_ASSIGN_OR_RETURN(j.paths, n["paths"].StringList());
  }
  if (n["sqlite"].present()) {
    SF_ASSIGN_OR_RETURN(j.sqlite, n["sqlite"].StringList());
  }
  if (n["exclude"].present()) {
    SF_ASSIGN_OR_RETURN(j.excludes, n["exclude"].StringList());
  }
  if (n["tags"].present()) {
    SF_ASSIGN_OR_RETURN(j.tags, n["tags"].StringList());
  }
  if (j.paths.empty() && j.sqlite.empty()) return n.Error("a backup job needs `paths` or `sqlite`");
  for (const auto& [key, list] : {std::pair<const char*, const std::vector<std::string>*>{"paths", &j.paths},
                                  {"sqlite", &j.sqlite}}) {
    for (const std::string& p : *list) {
      if (p.empty() || p[0] != '/') return n[key].Error("'" + p + "' is not an absolute path");
    }
  }
  SF_ASSIGN_OR_RETURN(j.every_ms, n["every"].DurationMillis(kDayMs, 60'000));
  if (n["at"].present()) {
    if (j.every_ms % kDayMs != 0) return n["at"].Error("`at` needs `every` in whole days (1d, 7d)");
    SF_ASSIGN_OR_RETURN(int at, ParseAt(n["at"]));
    j.at_minute = at;
  }
  SF_ASSIGN_OR_RETURN(j.timeout_ms, n["timeout"].DurationMillis(6 * 3'600'000LL, 60'000));
  if (const config::ConfigNode r = n["retention"]; r.present()) {
    SF_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"keep_last", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly", "prune"}));
    SF_ASSIGN_OR_RETURN(j.retention.last, r["keep_last"].Int(0, 0, 100000));
    SF_ASSIGN_OR_RETURN(j.retention.daily, r["keep_daily"].Int(0, 0, 100000));
    SF_ASSIGN_OR_RETURN(j.retention.weekly, r["keep_weekly"].Int(0, 0, 100000));
    SF_ASSIGN_OR_RETURN(j.retention.monthly, r["keep_monthly"].Int(0, 0, 100000));
    SF_ASSIGN_OR_RETURN(j.retention.yearly, r["keep_yearly"].Int(0, 0, 100000));
    SF_ASSIGN_OR_RETURN(j.retention.prune, r["prune"].Bool(true));
    if (j.retention.empty()) return r.Error("keeps nothing: give at least one keep_* (or leave retention out to keep every snapshot)");
  }
  if (const config::ConfigNode d = n["drill"]; d.present()) {
    SF_RETURN_IF_ERROR(d.CheckNoUnknownKeys({"every", "sample"}));
    SF_ASSIGN_OR_RETURN(j.drill_every_ms, d["every"].DurationMillis(7 * kDayMs, 0));
    SF_ASSIGN_OR_RETURN(j.drill_sample, d["sample"].Int(20, 0, 1'000'000));
  }
  return j;
}

json StateJson(const BackupJobState& s) {
  return {{"last_run_ms", s.last_run_ms},       {"last_ok", s.last_ok},
          {"last_error", s.last_error},         {"last_reason", s.last_reason},
          {"last_success_ms", s.last_success_ms}, {"snapshot", s.snapshot},
          {"duration_ms", s.duration_ms},       {"files_new", s.files_new},
          {"files_changed", s.files_changed},   {"files_unmodified", s.files_unmodified},
          {"bytes_read", s.bytes_read},         {"bytes_added", s.bytes_added},
          {"bytes_added_stored", s.bytes_added_stored}, {"last_drill_ms", s.last_drill_ms},
          {"drill_result", s.drill_result},     {"drill_message", s.drill_message},
          {"drill_evidence", s.drill_evidence}, {"drill_files", s.drill_files},
          {"drill_bytes", s.drill_bytes},       {"last_drill_success_ms", s.last_drill_success_ms}};
}

template <typename T>
void Get(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if constexpr (std::is_same_v<T, std::string>) {
    if (it->is_string()) out = it->get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (it->is_boolean()) out = it->get<bool>();
  } else {
    if (it->is_number_integer()) out = it->get<T>();
  }
}

// What a backup's summary says, as kept in the state file and in `steadfast-backup --json`'s
// summary line alike.
void GetSummary(const json& j, BackupJobState& s) {
  Get(j, "duration_ms", s.duration_ms);
  Get(j, "files_new", s.files_new);
  Get(j, "files_changed", s.files_changed);
  Get(j, "files_unmodified", s.files_unmodified);
  Get(j, "bytes_read", s.bytes_read);
  Get(j, "bytes_added", s.bytes_added);
  Get(j, "bytes_added_stored", s.bytes_added_stored);
}

// The last line of `out` that is a JSON object with "message_type": `type`.
std::optional<json> Message(const std::string& out, const std::string& type) {
  std::istringstream in(out);
  std::string line;
  std::optional<json> found;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("message_type") && j["message_type"] == type) found = std::move(j);
  }
  return found;
}

std::string Failure(const CommandResult& r) {
  if (r.timed_out) return "timed out after " + std::to_string(r.duration_ms / 1000) + " s";
  if (std::optional<json> e = Message(r.out, "error"); e && (*e)["message"].is_string()) {
    return (*e)["message"].get<std::string>();
  }
  std::string err = r.err;
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  const size_t nl = err.rfind('\n');
  if (nl != std::string::npos) err = err.substr(nl + 1);
  if (r.term_signal != 0) return "killed by signal " + std::to_string(r.term_signal);
  return err.empty() ? "exit code " + std::to_string(r.exit_code) : err;
}

}  // namespace

StatusOr<std::vector<BackupJobConfig>> ParseBackupJobs(const config::ConfigNode& node) {
  std::vector<BackupJobConfig> out;
  if (!node.present()) return out;
  SF_ASSIGN_OR_RETURN(std::vector<config::ConfigNode> items, node.Items());
  std::set<std::string> names;
  for (const config::ConfigNode& item : items) {
    SF_ASSIGN_OR_RETURN(BackupJobConfig j, ParseJob(item));
    if (!names.insert(j.name).second) return item["name"].Error("two backup jobs named '" + j.name + "'");
    out.push_back(std::move(j));
  }
  return out;
}

std::string BackupJobStatePath(const std::string& state_dir, const std::string& job) {
  return state_dir + "/backup-jobs/" + job + ".json";
}

StatusOr<BackupJobState> ReadBackupJobState(const std::string& path) {
  auto fs = NewPosixFileSystem();
  SF_ASSIGN_OR_RETURN(std::string text, fs->ReadFile(path, 1 << 20));
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return InvalidArgumentError(path + ": not a backup job state (JSON object)");
  BackupJobState s;
  Get(j, "last_run_ms", s.last_run_ms);
  Get(j, "last_ok", s.last_ok);
  Get(j, "last_error", s.last_error);
  Get(j, "last_reason", s.last_reason);
  Get(j, "last_success_ms", s.last_success_ms);
  Get(j, "snapshot", s.snapshot);
  GetSummary(j, s);
  Get(j, "last_drill_ms", s.last_drill_ms);
  Get(j, "drill_result", s.drill_result);
  Get(j, "drill_message", s.drill_message);
  Get(j, "drill_evidence", s.drill_evidence);
  Get(j, "drill_files", s.drill_files);
  Get(j, "drill_bytes", s.drill_bytes);
  Get(j, "last_drill_success_ms", s.last_drill_success_ms);
  return s;
}

Status WriteBackupJobState(const std::string& path, const BackupJobState& state) {
  auto fs = NewPosixFileSystem();
  SF_RETURN_IF_ERROR(fs->CreateDirectories(path.substr(0, path.rfind('/')), 0700));
  return fs->WriteFileAtomic(path, StateJson(state).dump(2) + "\n", 0600);
}

BackupJobRunner::BackupJobRunner(std::vector<BackupJobConfig> jobs, std::string state_dir, std::string program,
                                 CommandRunner& runner, Clock& clock)
    : jobs_(std::move(jobs)), state_dir_(std::move(state_dir)), program_(std::move(program)), runner_(runner), clock_(clock) {}

BackupJobRunner::~BackupJobRunner() { Stop(); }

const BackupJobConfig* BackupJobRunner::Find(const std::string& name) const {
  for (const BackupJobConfig& j : jobs_) {
    if (j.name == name) return &j;
  }
  return nullptr;
}

std::vector<std::string> BackupJobRunner::Base(const BackupJobConfig& job) const {
  return {program_, "--repo", job.repository, "--password-file", job.password_file, "--cache-dir",
          state_dir_ + "/backup-cache", "--json"};
}

StatusOr<CommandResult> BackupJobRunner::Run(const BackupJobConfig& job, std::vector<std::string> argv) {
  CommandRequest req;
  req.argv = std::move(argv);
  req.timeout = std::chrono::milliseconds(job.timeout_ms);
  req.max_output_bytes = 4 << 20;
  return runner_.Run(req);
}

StatusOr<BackupJobState> BackupJobRunner::RunBackup(const std::string& name, const std::string& reason) {
  const BackupJobConfig* job = Find(name);
  if (job == nullptr) return NotFoundError("no backup job named '" + name + "'");
  std::lock_guard<std::mutex> one_at_a_time(run_mu_);
  const std::string path = BackupJobStatePath(state_dir_, name);
  StatusOr<BackupJobState> old = ReadBackupJobState(path);
  BackupJobState s = old.ok() ? *old : BackupJobState();
  s.last_run_ms = clock_.NowMillis();
  s.last_reason = reason;
  std::vector<std::string> argv = Base(*job);
  argv.push_back("backup");
  argv.insert(argv.end(), job->paths.begin(), job->paths.end());
  for (const std::string& db : job->sqlite) argv.insert(argv.end(), {"--sqlite", db});
  for (const std::string& e : job->excludes) argv.insert(argv.end(), {"--exclude", e});
  for (const std::string& t : job->tags) argv.insert(argv.end(), {"--tag", t});
  argv.insert(argv.end(), {"--tag", "job:" + name});
  if (reason == "emergency") argv.insert(argv.end(), {"--tag", "emergency"});
  StatusOr<CommandResult> r = Run(*job, argv);
  std::optional<json> summary = r.ok() ? Message(r->out, "summary") : std::nullopt;
  if (!r.ok() || !summary) {
    s.last_ok = false;
    s.last_error = r.ok() ? Failure(*r) : r.status().message();
    SF_LOG_WARN("backup job {} failed: {}", name, s.last_error);
  } else {
    const json& j = *summary;
    s.last_ok = r->exit_code == 0;
    s.last_error = s.last_ok ? "" : "some files could not be read (exit " + std::to_string(r->exit_code) + ")";
    s.last_success_ms = s.last_run_ms;
    Get(j, "snapshot_id", s.snapshot);
    GetSummary(j, s);
    SF_LOG_INFO("backup job {}: snapshot {} ({} bytes read, {} added)", name, s.snapshot.substr(0, 8), s.bytes_read,
                s.bytes_added);
    // Retention after a good backup; an emergency run forgets nothing.
    if (reason != "emergency" && !job->retention.empty()) {
      std::vector<std::string> f = Base(*job);
      f.insert(f.end(), {"forget", "--tag", "job:" + name});
      const BackupRetention& k = job->retention;
      for (const auto& [flag, n] : {std::pair<const char*, int64_t>{"--keep-last", k.last}, {"--keep-daily", k.daily},
                                    {"--keep-weekly", k.weekly}, {"--keep-monthly", k.monthly},
                                    {"--keep-yearly", k.yearly}}) {
        if (n > 0) f.insert(f.end(), {flag, std::to_string(n)});
      }
      f.insert(f.end(), {"--keep-tag", "emergency"});
      if (k.prune) f.push_back("--prune");
      StatusOr<CommandResult> fr = Run(*job, f);
      if (!fr.ok() || fr->exit_code != 0) {
        SF_LOG_WARN("backup job {}: retention failed: {}", name, fr.ok() ? Failure(*fr) : fr.status().message());
      }
    }
  }
  SF_RETURN_IF_ERROR(WriteBackupJobState(path, s));
  return s;
}

StatusOr<BackupJobState> BackupJobRunner::RunDrill(const std::string& name) {
  const BackupJobConfig* job = Find(name);
  if (job == nullptr) return NotFoundError("no backup job named '" + name + "'");
  std::lock_guard<std::mutex> one_at_a_time(run_mu_);
  const std::string path = BackupJobStatePath(state_dir_, name);
  StatusOr<BackupJobState> old = ReadBackupJobState(path);
  BackupJobState s = old.ok() ? *old : BackupJobState();
  s.last_drill_ms = clock_.NowMillis();
  std::vector<std::string> argv = Base(*job);
  argv.push_back("drill");
  argv.push_back(s.snapshot.empty() ? "latest" : s.snapshot);
  if (job->drill_sample > 0) argv.insert(argv.end(), {"--sample", std::to_string(job->drill_sample)});
  StatusOr<CommandResult> r = Run(*job, argv);
  std::optional<json> ev = r.ok() ? Message(r->out, "evidence") : std::nullopt;
  if (!ev) {
    s.drill_result = "error";
    s.drill_message = r.ok() ? Failure(*r) : r.status().message();
  } else {
    Get(*ev, "result", s.drill_result);
    Get(*ev, "evidence_id", s.drill_evidence);
    Get(*ev, "files", s.drill_files);
    Get(*ev, "bytes", s.drill_bytes);
    s.drill_message.clear();
    if (ev->contains("mismatches") && (*ev)["mismatches"].is_array() && !(*ev)["mismatches"].empty()) {
      const json& m = (*ev)["mismatches"][0];
      s.drill_message = (m.contains("path") && m["path"].is_string() ? m["path"].get<std::string>() : "") + ": " +
                        (m.contains("reason") && m["reason"].is_string() ? m["reason"].get<std::string>() : "");
    }
    if (s.drill_result == "passed") s.last_drill_success_ms = s.last_drill_ms;
  }
  SF_LOG_INFO("backup job {}: drill {}", name, s.drill_result);
  SF_RETURN_IF_ERROR(WriteBackupJobState(path, s));
  return s;
}

std::vector<std::pair<std::string, BackupJobState>> BackupJobRunner::Emergency(const std::string& only) {
  std::vector<std::pair<std::string, BackupJobState>> out;
  for (const BackupJobConfig& j : jobs_) {
    if (!only.empty() && j.name != only) continue;
    StatusOr<BackupJobState> s = RunBackup(j.name, "emergency");
    BackupJobState state = s.ok() ? *s : BackupJobState();
    if (!s.ok()) state.last_error = s.status().message();
    out.emplace_back(j.name, state);
  }
  return out;
}

int64_t BackupJobRunner::NextDue(const BackupJobConfig& job, int64_t last_ms, int64_t now_ms) {
  if (last_ms == 0) {
    if (!job.at_minute) return now_ms;
  }
  if (!job.at_minute) return last_ms + job.every_ms;
  // The first HH:MM (local time) at least `every` minus an hour after the last run (a run that
  // started late does not push the next one a day later), and never in the past for a job
  // that never ran.
  const int64_t earliest = last_ms == 0 ? now_ms : last_ms + job.every_ms - 3'600'000;
  std::time_t t = static_cast<std::time_t>(earliest / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  tm.tm_hour = *job.at_minute / 60;
  tm.tm_min = *job.at_minute % 60;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  int64_t candidate = static_cast<int64_t>(std::mktime(&tm)) * 1000;
  while (candidate < earliest) {
    ++tm.tm_mday;
    tm.tm_isdst = -1;
    candidate = static_cast<int64_t>(std::mktime(&tm)) * 1000;
  }
  return candidate;
}

void BackupJobRunner::Start() {
  if (jobs_.empty() || thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void BackupJobRunner::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackupJobRunner::Loop() {
  while (true) {
    for (const BackupJobConfig& j : jobs_) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stop_) return;
      }
      const int64_t now = clock_.NowMillis();
      StatusOr<BackupJobState> s = ReadBackupJobState(BackupJobStatePath(state_dir_, j.name));
      const BackupJobState state = s.ok() ? *s : BackupJobState();
      if (now >= NextDue(j, state.last_run_ms, now)) {
        (void)RunBackup(j.name, "schedule");
        continue;
      }
      if (j.drill_every_ms > 0 && state.last_success_ms > 0 &&
          (state.last_drill_ms == 0 || now >= state.last_drill_ms + j.drill_every_ms)) {
        (void)RunDrill(j.name);
      }
    }
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(60), [&] { return stop_; });
    if (stop_) return;
  }
}

}  // namespace steadfast::agent
