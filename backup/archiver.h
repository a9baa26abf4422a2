// Backup and restore, the first version: one thread, files read in order, chunked, deduplicated
// against the index cache and the blobs of this run, packed, and written packs -> index ->
// snapshot (FORMAT.md 10), so a crash leaves only unreferenced files. The pipelined version
// (both cores) replaces the inside of Backup, not its contract.
//
// The root tree holds one node per backed-up path, named by the path's last component (two
// paths with the same last component are refused).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backup/index.h"
#include "backup/pack.h"
#include "backup/repository.h"
#include "backup/snapshot.h"
#include "common/clock.h"

namespace steadfast::backup {

struct BackupRequest {
  std::vector<std::string> paths;  // absolute
  std::vector<std::string> tags;
  std::string host;  // empty: this machine's name
  const Clock* clock = nullptr;  // null: the real clock
};

struct BackupResult {
  std::string snapshot_id;
  Snapshot snapshot;
};

// Errors: NotFound (a path), InvalidArgument (duplicate names, relative paths), what the
// backend says (full disk: ResourceExhausted), DataLoss from the index. After an error nothing
// new is referenced: the files written are garbage for prune.
StatusOr<BackupResult> Backup(Repository& repo, IndexCache& cache, const BackupRequest& request);

struct RestoreRequest {
  std::string snapshot_id;
  std::string target;  // a directory (created); every path is restored under it
  bool verify = false;  // re-hash every file written and compare with the snapshot's record
};

struct RestoreResult {
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> mismatches;  // with `verify`: paths whose content differs
};

// Restores files, directories and symlinks with their permission bits and modification times.
// Errors: NotFound (snapshot), DataLoss naming the pack and the path whose data is damaged.
StatusOr<RestoreResult> Restore(Repository& repo, IndexCache& cache, const RestoreRequest& request);

}  // namespace steadfast::backup
