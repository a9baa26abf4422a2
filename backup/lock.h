// Repository locks (backup/FORMAT.md, section 9). backup, check, restore, drill and forget take
// a shared lock, prune an exclusive one. A lock is a file written before the operation reads the
// repository; after writing it the operation lists locks/ and backs off (removing its own) when
// it conflicts with one that is not stale. A lock is stale when not refreshed for 30 minutes,
// or when it is this host's and its process is gone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backup/repository.h"
#include "common/clock.h"
#include "common/status.h"

namespace steadfast::backup {

inline constexpr int64_t kLockStaleMs = 30 * 60'000;
inline constexpr int64_t kLockRefreshMs = 5 * 60'000;

struct LockInfo {
  std::string name;  // its file
  int64_t time_ms = 0;
  int64_t refreshed_ms = 0;
  std::string host, username, operation;
  int64_t pid = 0;
  bool exclusive = false;
  bool stale = false;  // at the time of listing
};

// Every lock that opens (damaged ones are skipped: they block nobody and `unlock` removes them).
StatusOr<std::vector<LockInfo>> ListLocks(Repository& repo, const Clock& clock);

class RepositoryLock {
 public:
  // FailedPrecondition "repository is locked by <host> pid <pid> since <time> (<operation>)"
  // when it conflicts with a lock that is not stale; nothing of this attempt is left behind.
  static StatusOr<std::unique_ptr<RepositoryLock>> Acquire(Repository& repo, bool exclusive, std::string operation,
                                                           const Clock& clock);
  ~RepositoryLock();  // releases (best effort)
  RepositoryLock(const RepositoryLock&) = delete;
  RepositoryLock& operator=(const RepositoryLock&) = delete;

  // Writes a new lock file with a new refresh time, then removes the old one.
  Status Refresh();
  Status Release();
  const std::string& name() const { return name_; }

 private:
  RepositoryLock(Repository& repo, LockInfo info, std::string name, const Clock& clock)
      : repo_(repo), info_(std::move(info)), name_(std::move(name)), clock_(clock) {}
  Repository& repo_;
  LockInfo info_;
  std::string name_;  // empty once released
  const Clock& clock_;
};

// Removes the stale locks (or, with `all`, every lock); returns what it removed, so the caller
// can say whose.
StatusOr<std::vector<LockInfo>> RemoveLocks(Repository& repo, const Clock& clock, bool all);

}  // namespace steadfast::backup
