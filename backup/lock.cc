#include "backup/lock.h"

#include "backup/workers.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace steadfast::backup {

using nlohmann::json;

namespace {

bool ProcessGone(int64_t pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

json LockDoc(const LockInfo& l) {
  return {{"time", FormatRfc3339Millis(l.time_ms)}, {"refreshed", FormatRfc3339Millis(l.refreshed_ms)},
          {"host", l.host},  {"pid", l.pid},
          {"username", l.username}, {"exclusive", l.exclusive},
          {"operation", l.operation}};
}

std::optional<LockInfo> ParseLock(const json& doc, const std::string& name, int64_t now_ms) {
  LockInfo l;
  l.name = name;
  auto text = [&](const char* key) { return doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : std::string(); };
  StatusOr<int64_t> time = ParseRfc3339Millis(text("time"));
  StatusOr<int64_t> refreshed = ParseRfc3339Millis(text("refreshed"));
  if (!time.ok() || !refreshed.ok() || !doc.contains("pid") || !doc["pid"].is_number_integer() ||
      !doc.contains("exclusive") || !doc["exclusive"].is_boolean()) {
    return std::nullopt;
  }
  l.time_ms = *time;
  l.refreshed_ms = *refreshed;
  l.host = text("host");
  l.username = text("username");
  l.operation = text("operation");
  l.pid = doc["pid"].get<int64_t>();
  l.exclusive = doc["exclusive"].get<bool>();
  l.stale = now_ms - l.refreshed_ms > kLockStaleMs || (l.host == ThisHost() && ProcessGone(l.pid));
  return l;
}

}  // namespace

StatusOr<std::vector<LockInfo>> ListLocks(Repository& repo, const Clock& clock) {
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, repo.backend().List(FileType::kLock));
  std::vector<LockInfo> out;
  const int64_t now = clock.NowMillis();
  for (const FileInfo& f : files) {
    StatusOr<json> doc = repo.LoadDocument(FileType::kLock, EnvelopeKind::kLock, f.name);
    if (!doc.ok()) continue;  // gone meanwhile, or damaged
    if (std::optional<LockInfo> l = ParseLock(*doc, f.name, now)) out.push_back(std::move(*l));
  }
  return out;
}

StatusOr<std::unique_ptr<RepositoryLock>> RepositoryLock::Acquire(Repository& repo, bool exclusive,
                                                                  std::string operation, const Clock& clock) {
  LockInfo mine;
  mine.time_ms = mine.refreshed_ms = clock.NowMillis();
  mine.host = ThisHost();
  mine.username = ThisUser();
  mine.pid = ::getpid();
  mine.exclusive = exclusive;
  mine.operation = std::move(operation);
  SF_ASSIGN_OR_RETURN(std::string name, repo.SaveDocument(FileType::kLock, EnvelopeKind::kLock, LockDoc(mine)));
  mine.name = name;
  StatusOr<std::vector<LockInfo>> all = ListLocks(repo, clock);
  if (!all.ok()) {
    (void)repo.backend().Remove(FileType::kLock, name);
    return all.status();
  }
  for (const LockInfo& other : *all) {
    if (other.name == name || other.stale) continue;
    if (exclusive || other.exclusive) {
      (void)repo.backend().Remove(FileType::kLock, name);
      return FailedPreconditionError("repository is locked by " + other.host + " pid " + std::to_string(other.pid) +
                                     " since " + FormatRfc3339Millis(other.time_ms) + " (" + other.operation +
                                     (other.exclusive ? ", exclusive" : "") + ")");
    }
  }
  return std::unique_ptr<RepositoryLock>(new RepositoryLock(repo, std::move(mine), name, clock));
}

RepositoryLock::~RepositoryLock() { (void)Release(); }

Status RepositoryLock::Refresh() {
  if (name_.empty()) return FailedPreconditionError("the lock was released");
  info_.refreshed_ms = clock_.NowMillis();
  SF_ASSIGN_OR_RETURN(std::string fresh, repo_.SaveDocument(FileType::kLock, EnvelopeKind::kLock, LockDoc(info_)));
  if (fresh != name_) (void)repo_.backend().Remove(FileType::kLock, name_);
  name_ = fresh;
  return OkStatus();
}

Status RepositoryLock::Release() {
  if (name_.empty()) return OkStatus();
  Status st = repo_.backend().Remove(FileType::kLock, name_);
  name_.clear();
  return st.code() == StatusCode::kNotFound ? OkStatus() : st;
}

StatusOr<std::vector<LockInfo>> RemoveLocks(Repository& repo, const Clock& clock, bool all) {
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, repo.backend().List(FileType::kLock));
  std::vector<LockInfo> removed;
  const int64_t now = clock.NowMillis();
  for (const FileInfo& f : files) {
    StatusOr<json> doc = repo.LoadDocument(FileType::kLock, EnvelopeKind::kLock, f.name);
    std::optional<LockInfo> l = doc.ok() ? ParseLock(*doc, f.name, now) : std::nullopt;
    const bool damaged = !l.has_value();
    if (!all && !damaged && !l->stale) continue;
    Status st = repo.backend().Remove(FileType::kLock, f.name);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    LockInfo info = damaged ? LockInfo{} : *l;
    info.name = f.name;
    if (damaged) info.operation = "(damaged lock file)";
    removed.push_back(std::move(info));
  }
  return removed;
}

}  // namespace steadfast::backup
