#include "agent/checks/backup_check.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;

constexpr double kHour = 3600.0;
constexpr double kDay = 86400.0;

// The status files are a line or a small JSON object; anything bigger is not one.
constexpr size_t kMaxStatusFileBytes = 64 * 1024;

int64_t NowSeconds(const CheckContext& ctx) { return ctx.clock.NowMillis() / 1000; }

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "26h" for a threshold in seconds.
std::string ThresholdText(double seconds) {
  const auto s = static_cast<int64_t>(seconds);
  if (s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

// Grades an age and says which threshold it passed: "(critical after 50h)".
CheckStatus GradeAge(const Thresholds& t, int64_t age_s, std::string* why) {
  const CheckStatus s = t.Grade(static_cast<double>(age_s));
  if (s == CheckStatus::kCritical)
    *why = fmt::format(" (critical after {})", ThresholdText(*t.critical));
  if (s == CheckStatus::kWarning)
    *why = fmt::format(" (warning after {})", ThresholdText(*t.warning));
  return s;
}

// The part of a glob pattern before its first wildcard, cut back to a directory.
std::string FixedDirectory(const std::string& pattern) {
  const size_t wild = pattern.find_first_of("*?[");
  const std::string fixed = wild == std::string::npos ? pattern : pattern.substr(0, wild);
  const size_t slash = fixed.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : fixed.substr(0, slash);
}

// A size like "1GiB", "500MB" or a number of bytes, up to 2^60.
StatusOr<int64_t> ReadSize(const config::ConfigNode& n, int64_t fallback) {
  return ReadByteSize(n, fallback, 0, int64_t{1} << 60);
}

// An optional age threshold pair in seconds ("26h"; 0 turns one off).
// `<prefix>max_age_warning` / `<prefix>max_age_critical`.
StatusOr<Thresholds> ReadAgeThresholds(const config::ConfigNode& n, double default_warning_s,
                                       double default_critical_s, const std::string& prefix = "") {
  Thresholds t{default_warning_s, default_critical_s};
  constexpr int64_t kMaxMs = int64_t{366} * 86400 * 1000;
  const std::string warning = prefix + "max_age_warning", critical = prefix + "max_age_critical";
  if (n[warning].present()) {
    SF_ASSIGN_OR_RETURN(int64_t ms, n[warning].DurationMillis(0, 0, kMaxMs));
    t.warning = ms == 0 ? std::nullopt : std::optional<double>(static_cast<double>(ms / 1000));
  }
  if (n[critical].present()) {
    SF_ASSIGN_OR_RETURN(int64_t ms, n[critical].DurationMillis(0, 0, kMaxMs));
    t.critical = ms == 0 ? std::nullopt : std::optional<double>(static_cast<double>(ms / 1000));
  }
  if (t.warning && t.critical && *t.warning > *t.critical) {
    return n[warning].Error("the warning age is above the critical age");
  }
  return t;
}

// An aspect may be given as a mapping or as its path alone. `path` receives the path; the
// returned node is the mapping (absent for the short form, so every other key takes its default).
StatusOr<config::ConfigNode> AspectNode(const config::ConfigNode& n, std::vector<std::string> keys,
                                        std::string* path) {
  if (!n.IsMap()) {
    SF_ASSIGN_OR_RETURN(*path, n.RequiredString());
    if (path->empty()) return n.Error("expected a path");
    return config::ConfigNode();
  }
  keys.push_back("path");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(keys));
  if (!n["path"].present()) return n["path"].Error("required key is missing");
  SF_ASSIGN_OR_RETURN(*path, n["path"].RequiredString());
  if (path->empty()) return n["path"].Error("expected a path");
  return n;
}

void AddMetric(CheckResult& r, std::string name, double value, std::string unit) {
  r.metrics.push_back({std::move(name), {}, value, std::move(unit)});
}

}  // namespace

StatusOr<BackupStatusRecord> ParseBackupStatusFile(const std::string& content, int64_t mtime_s) {
  BackupStatusRecord rec;
  rec.finished_at_s = mtime_s;
  size_t start = content.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) {  // empty: touched
    rec.success = true;
    return rec;
  }
  if (content[start] == '{') {
    nlohmann::json j = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return InvalidArgumentError("not valid JSON");
    if (!j.contains("status") || !j["status"].is_string()) {
      return InvalidArgumentError("JSON without a \"status\" string");
    }
    const std::string status = j["status"].get<std::string>();
    if (status == "ok") {
      rec.success = true;
    } else if (status == "fail") {
      rec.success = false;
    } else {
      return InvalidArgumentError(fmt::format("JSON status '{}' is neither ok nor fail", status));
    }
    if (j.contains("finished_at")) {
      const auto& f = j["finished_at"];
      if (f.is_number()) {
        rec.finished_at_s = static_cast<int64_t>(f.get<double>());
      } else if (f.is_string()) {
        StatusOr<int64_t> ms = ParseRfc3339Millis(f.get<std::string>());
        if (!ms.ok()) return InvalidArgumentError("finished_at is not an RFC 3339 time");
        rec.finished_at_s = *ms / 1000;
      } else {
        return InvalidArgumentError("finished_at is neither a time string nor unix seconds");
      }
    }
    if (j.contains("message") && j["message"].is_string()) {
      rec.message = SanitizeUtf8(j["message"].get<std::string>());
    }
    return rec;
  }
  size_t end = content.find('\n', start);
  std::string line =
      content.substr(start, end == std::string::npos ? std::string::npos : end - start);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  const size_t space = line.find_first_of(" \t");
  const std::string word = line.substr(0, space);
  std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
  const size_t text_start = rest.find_first_not_of(" \t");
  rest = text_start == std::string::npos ? "" : rest.substr(text_start);
  if (word == "ok") {
    rec.success = true;
    return rec;
  }
  if (word == "fail") {
    rec.success = false;
    rec.message = SanitizeUtf8(rest.substr(0, 200));
    return rec;
  }
  return InvalidArgumentError("expected 'ok', 'fail [code] [text]' or a JSON object");
}

std::vector<CheckResult> BackupCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> out;
  if (options_.files) out.push_back(RunFiles(ctx, *options_.files));
  if (options_.heartbeat) out.push_back(RunStatusFile(ctx, "heartbeat", *options_.heartbeat));
  if (options_.verify) out.push_back(RunStatusFile(ctx, "verify", *options_.verify));
  if (options_.storage) out.push_back(RunStorage(ctx, *options_.storage));
  if (options_.job) {
    out.push_back(RunJob(ctx, *options_.job));
    out.push_back(RunDrill(ctx, *options_.job));
  }
  return out;
}

namespace {

// The job's state file (agent/backup_jobs.h), or why there is none.
StatusOr<BackupJobState> JobState(const CheckContext& ctx, const BackupJobOptions& o) {
  const std::string dir = o.state_dir.empty() ? ctx.state_dir : o.state_dir;
  return ReadBackupJobState(BackupJobStatePath(dir, o.name));
}

}  // namespace

CheckResult BackupCheck::RunJob(const CheckContext& ctx, const BackupJobOptions& o) {
  CheckResult r = NewResult(ctx, "job");
  StatusOr<BackupJobState> s = JobState(ctx, o);
  nlohmann::json details{{"job", o.name}};
  if (!s.ok()) {
    r.status = s.status().code() == StatusCode::kNotFound ? CheckStatus::kCritical : CheckStatus::kUnknown;
    r.summary = s.status().code() == StatusCode::kNotFound ? fmt::format("backup job {} has never run", o.name)
                                                           : fmt::format("backup job {}: {}", o.name, s.status().message());
    r.details_json = details.dump();
    return r;
  }
  const int64_t now_s = NowSeconds(ctx);
  AddMetric(r, "backup_job_last_run_success", s->last_ok ? 1 : 0, "");
  details["last_reason"] = s->last_reason;
  if (s->last_success_ms > 0) {
    const int64_t age_s = std::max<int64_t>(0, now_s - s->last_success_ms / 1000);
    AddMetric(r, "backup_job_last_success_timestamp_seconds", static_cast<double>(s->last_success_ms / 1000), "seconds");
    AddMetric(r, "backup_job_last_success_age_seconds", static_cast<double>(age_s), "seconds");
    AddMetric(r, "backup_job_duration_seconds", static_cast<double>(s->duration_ms) / 1000.0, "seconds");
    AddMetric(r, "backup_job_read_bytes", static_cast<double>(s->bytes_read), "bytes");
    AddMetric(r, "backup_job_added_bytes", static_cast<double>(s->bytes_added), "bytes");
    AddMetric(r, "backup_job_added_stored_bytes", static_cast<double>(s->bytes_added_stored), "bytes");
    // The share of what was read that the repository already had (or that was skipped as
    // unchanged since the parent snapshot).
    const double dedup = s->bytes_read > 0 ? 1.0 - static_cast<double>(s->bytes_added) / static_cast<double>(s->bytes_read) : 1.0;
    AddMetric(r, "backup_job_dedup_ratio", std::max(0.0, dedup), "ratio");
    details["snapshot"] = s->snapshot;
  }
  r.details_json = details.dump();
  const std::string last_good =
      s->last_success_ms > 0
          ? fmt::format("last success {} ago (snapshot {}, {} read, {} added, {:.1f} s)",
                        HumanDuration(std::max<int64_t>(0, now_s - s->last_success_ms / 1000)), s->snapshot.substr(0, 8),
                        HumanBytes(static_cast<double>(s->bytes_read)), HumanBytes(static_cast<double>(s->bytes_added)),
                        static_cast<double>(s->duration_ms) / 1000.0)
          : std::string("never succeeded");
  if (!s->last_ok) {
    r.status = CheckStatus::kCritical;
    r.summary = fmt::format("backup job {} failed {} ago: {}; {}", o.name,
                            HumanDuration(std::max<int64_t>(0, now_s - s->last_run_ms / 1000)), s->last_error, last_good);
    return r;
  }
  std::string why;
  r.status = GradeAge(o.age_s, std::max<int64_t>(0, now_s - s->last_success_ms / 1000), &why);
  r.summary = fmt::format("backup job {}: {}{}", o.name, last_good, why);
  return r;
}

CheckResult BackupCheck::RunDrill(const CheckContext& ctx, const BackupJobOptions& o) {
  CheckResult r = NewResult(ctx, "drill");
  StatusOr<BackupJobState> s = JobState(ctx, o);
  if (!s.ok() || s->last_drill_ms == 0) {
    r.status = CheckStatus::kWarning;
    r.summary = fmt::format("backup job {} has no restore drill yet", o.name);
    return r;
  }
  const int64_t now_s = NowSeconds(ctx);
  const int64_t age_s = std::max<int64_t>(0, now_s - s->last_drill_ms / 1000);
  AddMetric(r, "backup_drill_timestamp_seconds", static_cast<double>(s->last_drill_ms / 1000), "seconds");
  AddMetric(r, "backup_drill_age_seconds", static_cast<double>(age_s), "seconds");
  AddMetric(r, "backup_drill_success", s->drill_result == "passed" ? 1 : 0, "");
  AddMetric(r, "backup_drill_files", static_cast<double>(s->drill_files), "");
  AddMetric(r, "backup_drill_bytes", static_cast<double>(s->drill_bytes), "bytes");
  r.details_json = nlohmann::json{{"job", o.name}, {"evidence", s->drill_evidence}, {"result", s->drill_result}}.dump();
  if (s->drill_result != "passed") {
    r.status = CheckStatus::kCritical;
    r.summary = fmt::format("restore drill of {} {} {} ago{}", o.name, s->drill_result == "failed" ? "FAILED" : "could not run",
                            HumanDuration(age_s), s->drill_message.empty() ? "" : ": " + s->drill_message);
    return r;
  }
  std::string why;
  r.status = GradeAge(o.drill_age_s, age_s, &why);
  r.summary = fmt::format("restore drill of {} passed {} ago: {} files, {} restored and compared (evidence {}){}", o.name,
                          HumanDuration(age_s), s->drill_files, HumanBytes(static_cast<double>(s->drill_bytes)),
                          s->drill_evidence.substr(0, 8), why);
  return r;
}

CheckResult BackupCheck::RunFiles(const CheckContext& ctx, const BackupFilesOptions& o) {
  CheckResult r = NewResult(ctx, "files");
  // glob(3) reports unreadable directories through a plain C callback without a user pointer,
  // so the first error reaches this run through a thread_local set around the call.
  struct GlobError {
    std::string path;
    int err = 0;
  };
  thread_local GlobError* current_error = nullptr;
  GlobError glob_error;
  current_error = &glob_error;
  glob_t g{};
  const int rc = ::glob(
      o.pattern.c_str(), 0,
      [](const char* path, int err) -> int {
        if (current_error != nullptr && current_error->err == 0) {
          current_error->path = path;
          current_error->err = err;
        }
        return 0;  // go on with the other directories
      },
      &g);
  current_error = nullptr;
  std::vector<SeenFile> files;
  int stat_errno = 0;
  std::string stat_path;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      struct stat st {};
      if (::stat(g.gl_pathv[i], &st) != 0) {
        // Gone between glob and stat (a job rotating files): skip it, remember other errors.
        if (errno != ENOENT && stat_errno == 0) {
          stat_errno = errno;
          stat_path = g.gl_pathv[i];
        }
        continue;
      }
      if (!S_ISREG(st.st_mode)) continue;
      files.push_back({g.gl_pathv[i], MtimeNs(st), static_cast<int64_t>(st.st_size)});
    }
  }
  ::globfree(&g);
  nlohmann::json details{{"pattern", o.pattern}};

  if (files.empty()) {
    if (glob_error.err != 0 && glob_error.err != ENOENT) {
      r.status = CheckStatus::kUnknown;
      r.summary = fmt::format("cannot read {}: {}", glob_error.path, std::strerror(glob_error.err));
    } else if (stat_errno != 0) {
      r.status = CheckStatus::kUnknown;
      r.summary = fmt::format("cannot stat {}: {}", stat_path, std::strerror(stat_errno));
    } else if (rc == GLOB_NOSPACE) {
      r.status = CheckStatus::kUnknown;
      r.summary = fmt::format("glob {} ran out of memory", o.pattern);
    } else {
      r.status = CheckStatus::kCritical;
      const std::string dir = FixedDirectory(o.pattern);
      struct stat st {};
      if (::stat(dir.c_str(), &st) != 0 && errno == ENOENT) {
        r.summary = fmt::format("no backup file: directory {} does not exist", dir);
      } else {
        r.summary = fmt::format("no backup file matches {}", o.pattern);
      }
    }
    AddMetric(r, "backup_files", 0, "");
    r.details_json = details.dump();
    return r;
  }

  std::sort(files.begin(), files.end(), [](const SeenFile& a, const SeenFile& b) {
    if (a.mtime_ns != b.mtime_ns) return a.mtime_ns > b.mtime_ns;
    return a.path > b.path;
  });
  const SeenFile& newest = files[0];
  // The previous backup: the second-newest match, or (one path rewritten in place) the newest
  // file as this check saw it before it last changed.
  if (last_newest_ &&
      (last_newest_->path != newest.path || last_newest_->mtime_ns != newest.mtime_ns)) {
    remembered_previous_ = last_newest_;
  }
  last_newest_ = newest;
  std::optional<SeenFile> previous;
  if (files.size() >= 2) {
    previous = files[1];
  } else if (remembered_previous_ && remembered_previous_->path == newest.path) {
    previous = remembered_previous_;
  }

  const int64_t now_s = NowSeconds(ctx);
  const int64_t mtime_s = newest.mtime_ns / 1'000'000'000;
  const int64_t age_s = std::max<int64_t>(0, now_s - mtime_s);
  AddMetric(r, "backup_files", static_cast<double>(files.size()), "");
  AddMetric(r, "backup_last_timestamp_seconds", static_cast<double>(mtime_s), "seconds");
  AddMetric(r, "backup_last_age_seconds", static_cast<double>(age_s), "seconds");
  AddMetric(r, "backup_last_size_bytes", static_cast<double>(newest.size), "bytes");

  std::vector<std::string> problems;
  CheckStatus status = CheckStatus::kOk;
  std::string why;
  const CheckStatus age_status = GradeAge(o.age_s, age_s, &why);
  if (age_status != CheckStatus::kOk) {
    problems.push_back(fmt::format("last backup is {} old{}", HumanDuration(age_s), why));
    status = protocol::WorseStatus(status, age_status);
  }
  if (newest.size == 0) {
    problems.push_back("newest backup file is empty (0 bytes)");
    status = CheckStatus::kCritical;
  } else if (newest.size < o.min_size_bytes) {
    problems.push_back(fmt::format("newest backup is only {}, below the minimum {}",
                                   HumanBytes(static_cast<double>(newest.size)),
                                   HumanBytes(static_cast<double>(o.min_size_bytes))));
    status = CheckStatus::kCritical;
  }
  std::string change;
  if (previous) {
    details["previous"] = BaseName(previous->path);
    AddMetric(r, "backup_previous_size_bytes", static_cast<double>(previous->size), "bytes");
    if (previous->size > 0) {
      const double ratio =
          (static_cast<double>(newest.size) - static_cast<double>(previous->size)) /
          static_cast<double>(previous->size);
      AddMetric(r, "backup_size_change_ratio", ratio, "ratio");
      change = fmt::format(" ({:+.1f}% vs previous {})", ratio * 100.0,
                           HumanBytes(static_cast<double>(previous->size)));
      const double shrink = -ratio * 100.0;
      const CheckStatus shrink_status =
          shrink > 0 && newest.size > 0 ? o.shrink_percent.Grade(shrink) : CheckStatus::kOk;
      if (shrink_status != CheckStatus::kOk) {
        const double limit = shrink_status == CheckStatus::kCritical ? *o.shrink_percent.critical
                                                                     : *o.shrink_percent.warning;
        problems.push_back(fmt::format("backup shrank by {:.0f}% ({} at {:g}%)", shrink,
                                       protocol::CheckStatusName(shrink_status), limit));
        status = protocol::WorseStatus(status, shrink_status);
      }
    }
  }
  details["newest"] = newest.path;
  r.details_json = details.dump();
  r.status = status;
  const std::string facts =
      fmt::format("{} {} ago, {}{}", BaseName(newest.path), HumanDuration(age_s),
                  HumanBytes(static_cast<double>(newest.size)), change);
  r.summary = problems.empty() ? "last backup " + facts
                               : fmt::format("{}: {}", fmt::join(problems, "; "), facts);
  return r;
}

CheckResult BackupCheck::RunStatusFile(const CheckContext& ctx, const std::string& aspect,
                                       const BackupStatusFileOptions& o) {
  CheckResult r = NewResult(ctx, aspect);
  const std::string what = aspect == "verify" ? "verification" : "backup run";
  nlohmann::json details{{"path", o.path}};
  struct stat st {};
  if (::stat(o.path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      r.status = CheckStatus::kCritical;
      r.summary = fmt::format("no {} ever reported: {} does not exist", what, o.path);
    } else {
      r.status = CheckStatus::kUnknown;
      r.summary = fmt::format("cannot stat {}: {}", o.path, std::strerror(err));
    }
    r.details_json = details.dump();
    return r;
  }
  StatusOr<std::string> content = ctx.fs.ReadFile(o.path, kMaxStatusFileBytes);
  if (!content.ok()) {
    r.status = CheckStatus::kUnknown;
    r.summary = fmt::format("cannot read {}: {}", o.path, content.status().message());
    r.details_json = details.dump();
    return r;
  }
  StatusOr<BackupStatusRecord> rec = ParseBackupStatusFile(*content, st.st_mtim.tv_sec);
  if (!rec.ok()) {
    std::string first = content->substr(0, std::min<size_t>(content->find('\n'), 60));
    r.status = CheckStatus::kUnknown;
    r.summary = fmt::format("{}: unrecognised content '{}' ({})", o.path, SanitizeUtf8(first),
                            rec.status().message());
    r.details_json = details.dump();
    return r;
  }
  const int64_t age_s = std::max<int64_t>(0, NowSeconds(ctx) - rec->finished_at_s);
  AddMetric(r, fmt::format("backup_{}_timestamp_seconds", aspect),
            static_cast<double>(rec->finished_at_s), "seconds");
  AddMetric(r, fmt::format("backup_{}_age_seconds", aspect), static_cast<double>(age_s), "seconds");
  AddMetric(r, fmt::format("backup_{}_success", aspect), rec->success ? 1 : 0, "");
  details["success"] = rec->success;
  if (!rec->message.empty()) details["message"] = rec->message;
  r.details_json = details.dump();
  if (!rec->success) {
    r.status = CheckStatus::kCritical;
    r.summary =
        fmt::format("last {} failed{} {} ago", what,
                    rec->message.empty() ? "" : " (" + rec->message + ")", HumanDuration(age_s));
    return r;
  }
  std::string why;
  r.status = GradeAge(o.age_s, age_s, &why);
  r.summary = fmt::format("last {} succeeded {} ago{}", what, HumanDuration(age_s), why);
  return r;
}

CheckResult BackupCheck::RunStorage(const CheckContext& ctx, const BackupStorageOptions& o) {
  CheckResult r = NewResult(ctx, "storage");
  nlohmann::json details{{"path", o.path}};
  r.details_json = details.dump();
  struct stat st {};
  if (::stat(o.path.c_str(), &st) != 0) {
    const int err = errno;
    r.status = err == ENOENT ? CheckStatus::kCritical : CheckStatus::kUnknown;
    r.summary = err == ENOENT ? fmt::format("backup storage {} does not exist", o.path)
                              : fmt::format("cannot stat {}: {}", o.path, std::strerror(err));
    return r;
  }
  if (!S_ISDIR(st.st_mode)) {
    r.status = CheckStatus::kCritical;
    r.summary = fmt::format("backup storage {} is not a directory", o.path);
    return r;
  }
  struct statvfs vfs {};
  if (::statvfs(o.path.c_str(), &vfs) != 0) {
    r.status = CheckStatus::kUnknown;
    r.summary = fmt::format("statvfs {}: {}", o.path, std::strerror(errno));
    return r;
  }
  const double size = static_cast<double>(vfs.f_blocks) * static_cast<double>(vfs.f_frsize);
  const double avail = static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize);
  const double ratio = size > 0 ? avail / size : 0;
  const bool read_only = (vfs.f_flag & ST_RDONLY) != 0;
  AddMetric(r, "backup_storage_size_bytes", size, "bytes");
  AddMetric(r, "backup_storage_avail_bytes", avail, "bytes");
  AddMetric(r, "backup_storage_avail_ratio", ratio, "ratio");
  AddMetric(r, "backup_storage_readonly", read_only ? 1 : 0, "");

  std::vector<std::string> problems;
  CheckStatus status = CheckStatus::kOk;
  if (read_only) {
    problems.push_back("on a read-only mount");
    status = CheckStatus::kCritical;
  }
  std::string probe_text;
  if (o.write_probe && !read_only) {
    std::string tmpl = o.path + (o.path.back() == '/' ? "" : "/") + ".steadfast-write-probe-XXXXXX";
    std::string failed_step;
    int err = 0;
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) {
      err = errno;
      failed_step = "create";
    } else {
      static constexpr char kProbe[] = "steadfast write probe\n";
      if (::write(fd, kProbe, sizeof(kProbe) - 1) != static_cast<ssize_t>(sizeof(kProbe) - 1)) {
        err = errno == 0 ? ENOSPC : errno;
        failed_step = "write";
      } else if (::fsync(fd) != 0) {
        err = errno;
        failed_step = "fsync";
      }
      ::close(fd);
      if (::unlink(tmpl.c_str()) != 0 && failed_step.empty()) {
        err = errno;
        failed_step = "unlink";
      }
    }
    AddMetric(r, "backup_storage_writable", failed_step.empty() ? 1 : 0, "");
    if (!failed_step.empty()) {
      problems.push_back(
          fmt::format("not writable ({} of a probe file: {})", failed_step, std::strerror(err)));
      status = CheckStatus::kCritical;
    } else {
      probe_text = ", writable";
    }
  }
  // Free space, graded from below on both the percentage and the byte thresholds.
  const double percent = ratio * 100.0;
  auto below = [](const std::optional<double>& limit, double v) { return limit && v <= *limit; };
  CheckStatus space = CheckStatus::kOk;
  if (below(o.free_critical_percent, percent) ||
      (o.free_critical_bytes && avail <= static_cast<double>(*o.free_critical_bytes))) {
    space = CheckStatus::kCritical;
  } else if (below(o.free_warning_percent, percent) ||
             (o.free_warning_bytes && avail <= static_cast<double>(*o.free_warning_bytes))) {
    space = CheckStatus::kWarning;
  }
  if (space != CheckStatus::kOk) {
    problems.push_back(fmt::format("low free space ({})", protocol::CheckStatusName(space)));
    status = protocol::WorseStatus(status, space);
  }
  r.status = status;
  const std::string facts = fmt::format("{}: {} free of {} ({:.1f}%){}", o.path, HumanBytes(avail),
                                        HumanBytes(size), percent, probe_text);
  r.summary = problems.empty() ? facts : fmt::format("{} — {}", fmt::join(problems, ", "), facts);
  return r;
}

StatusOr<std::unique_ptr<Check>> NewBackupCheck(const CheckSpec& spec) {
  const config::ConfigNode& n = spec.node;
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(), {"files", "heartbeat", "verify", "storage", "job"});
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  BackupCheckOptions o;
  if (const config::ConfigNode j = n["job"]; j.present()) {
    BackupJobOptions b;
    config::ConfigNode m;
    if (!j.IsMap()) {
      SF_ASSIGN_OR_RETURN(b.name, j.RequiredString());
    } else {
      SF_RETURN_IF_ERROR(j.CheckNoUnknownKeys({"name", "state_dir", "max_age_warning", "max_age_critical",
                                               "drill_max_age_warning", "drill_max_age_critical"}));
      SF_ASSIGN_OR_RETURN(b.name, j["name"].RequiredString());
      SF_ASSIGN_OR_RETURN(b.state_dir, j["state_dir"].String());
      m = j;
    }
    if (b.name.empty()) return j.Error("expected the name of a backup job (agent config backup_jobs)");
    SF_ASSIGN_OR_RETURN(b.age_s, ReadAgeThresholds(m, 26 * kHour, 50 * kHour));
    SF_ASSIGN_OR_RETURN(b.drill_age_s, ReadAgeThresholds(m, 8 * kDay, 15 * kDay, "drill_"));
    o.job = std::move(b);
  }
  if (n["files"].present()) {
    BackupFilesOptions f;
    SF_ASSIGN_OR_RETURN(config::ConfigNode m,
                        AspectNode(n["files"],
                                   {"max_age_warning", "max_age_critical", "min_size",
                                    "shrink_warning_percent", "shrink_critical_percent"},
                                   &f.pattern));
    SF_ASSIGN_OR_RETURN(f.age_s, ReadAgeThresholds(m, 26 * kHour, 50 * kHour));
    SF_ASSIGN_OR_RETURN(f.min_size_bytes, ReadSize(m["min_size"], 1));
    SF_ASSIGN_OR_RETURN(
        f.shrink_percent,
        ReadThresholds(m, "shrink_warning_percent", "shrink_critical_percent", 25.0, 50.0, 0, 100));
    // 0 turns a shrink threshold off (a backup 0% smaller is no finding).
    if (f.shrink_percent.warning == 0.0) f.shrink_percent.warning.reset();
    if (f.shrink_percent.critical == 0.0) f.shrink_percent.critical.reset();
    o.files = std::move(f);
  }
  for (const std::string aspect : {"heartbeat", "verify"}) {
    if (!n[aspect].present()) continue;
    BackupStatusFileOptions s;
    SF_ASSIGN_OR_RETURN(config::ConfigNode m,
                        AspectNode(n[aspect], {"max_age_warning", "max_age_critical"}, &s.path));
    if (aspect == "heartbeat") {
      SF_ASSIGN_OR_RETURN(s.age_s, ReadAgeThresholds(m, 26 * kHour, 50 * kHour));
      o.heartbeat = std::move(s);
    } else {
      SF_ASSIGN_OR_RETURN(s.age_s, ReadAgeThresholds(m, 8 * kDay, 15 * kDay));
      o.verify = std::move(s);
    }
  }
  if (n["storage"].present()) {
    BackupStorageOptions s;
    SF_ASSIGN_OR_RETURN(config::ConfigNode m,
                        AspectNode(n["storage"],
                                   {"free_warning_percent", "free_critical_percent",
                                    "free_warning_bytes", "free_critical_bytes", "write_probe"},
                                   &s.path));
    if (s.path.front() != '/') return n["storage"].Error("expected an absolute directory path");
    // Graded from below: warning must not be under critical.
    for (const auto& [key, field] :
         {std::pair{"free_warning_percent", &s.free_warning_percent},
          std::pair{"free_critical_percent", &s.free_critical_percent}}) {
      if (!m[key].present()) continue;
      SF_ASSIGN_OR_RETURN(double v, m[key].Double(0, 0, 100));
      *field = v == 0 ? std::nullopt : std::optional<double>(v);
    }
    if (s.free_warning_percent && s.free_critical_percent &&
        *s.free_warning_percent < *s.free_critical_percent) {
      return m["free_warning_percent"].Error(
          "the warning free space is below the critical one (less free is worse)");
    }
    for (const auto& [key, field] : {std::pair{"free_warning_bytes", &s.free_warning_bytes},
                                     std::pair{"free_critical_bytes", &s.free_critical_bytes}}) {
      if (!m[key].present()) continue;
      SF_ASSIGN_OR_RETURN(int64_t v, ReadSize(m[key], 0));
      *field = v == 0 ? std::nullopt : std::optional<int64_t>(v);
    }
    if (s.free_warning_bytes && s.free_critical_bytes &&
        *s.free_warning_bytes < *s.free_critical_bytes) {
      return m["free_warning_bytes"].Error(
          "the warning free space is below the critical one (less free is worse)");
    }
    SF_ASSIGN_OR_RETURN(s.write_probe, m["write_probe"].Bool(false));
    o.storage = std::move(s);
  }
  if (!o.files && !o.heartbeat && !o.verify && !o.storage && !o.job) {
    return n["files"].Error(
        "a backup check needs at least one of job, files, heartbeat, verify, storage");
  }
  return std::unique_ptr<Check>(std::make_unique<BackupCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
