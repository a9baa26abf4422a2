// Backup and restore (backup/FORMAT.md 10): a pipeline over both cores with bounded memory.
//
// Backup: the calling thread walks the paths in order, reads and cuts files into chunks (or
// takes an unchanged file's chunks from the parent snapshot without reading it); a pool of
// workers (one per core) hashes each chunk with the keyed id, skips those the repository or
// this run already has, compresses and encrypts the rest into its own pack; a writer thread
// stores finished packs and, every 64 packs and at the end, an index file; the snapshot comes
// last. A crash at any point leaves only unreferenced files.
//
// Memory (independent of the repository's size; docs/BACKUP.md gives the whole bound): chunks in
// flight at most 8 MiB (plus one chunk of up to `max`), one data pack being filled and one for
// trees, at most three pack buffers, the index cache's 8 MiB, the blobs added since the last
// index file, and the nodes of the directories open or waiting for a file still being read.
//
// The root tree holds one node per backed-up path, named by the path's last component (two
// paths with the same last component are refused).
#pragma once

#include <cstdint>
#include <functional>
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

struct Progress {
  uint64_t files = 0, bytes = 0;              // done
  uint64_t files_total = 0, bytes_total = 0;  // found so far by the scan
  bool totals_final = false;                  // the scan is over: the totals are the totals
  int64_t elapsed_ms = 0;
  std::string current;  // the path being read
};
using ProgressFn = std::function<void(const Progress&)>;

struct BackupRequest {
  std::vector<std::string> paths;  // absolute
  // Copied online through SQLite's backup API (a consistent copy of a database in use) and
  // stored under their own names; absolute.
  std::vector<std::string> sqlite_databases;
  // Instead of paths: one file read from this descriptor (`backup --stdin`), named so.
  int stdin_fd = -1;
  std::string stdin_filename = "stdin";
  std::vector<std::string> excludes;  // fnmatch(3) patterns: with a '/' against the whole path, else the name
  bool one_file_system = false;
  std::vector<std::string> tags;
  std::string host;  // empty: this machine's name
  // "": the latest snapshot of this host with the same paths; "none": read every file; or an id.
  std::string parent;
  int workers = 0;  // 0: one per core
  const Clock* clock = nullptr;  // null: the real clock
  ProgressFn progress;  // called from the calling thread, at most every 100 ms and at the end
};

struct BackupResult {
  std::string snapshot_id;
  Snapshot snapshot;
  uint64_t bytes_added_raw = 0;  // plaintext of the new blobs
  std::vector<std::string> warnings;  // files that vanished or could not be read (not fatal)
};

// Errors: NotFound (a path), InvalidArgument (duplicate names, relative paths), what the
// backend says (full disk: ResourceExhausted), DataLoss from the index or the parent. After an
// error nothing new is referenced: the files written are garbage for prune.
StatusOr<BackupResult> Backup(Repository& repo, IndexCache& cache, const BackupRequest& request);

struct RestoreRequest {
  std::string snapshot_id;  // a full id
  std::string target;  // a directory (created); every path is restored under it
  // Paths inside the snapshot ("/etc/hosts", "/data"): only these and what is under them. Empty: all.
  std::vector<std::string> include;
  bool verify = false;  // re-read every file written and check each chunk against its id
  bool ownership = true;  // chown to the recorded uid/gid (only when running as root)
  int workers = 0;
  ProgressFn progress;
};

struct RestoreResult {
  uint64_t files = 0, dirs = 0, links = 0, bytes = 0;
  std::vector<std::string> mismatches;  // with `verify`: "<path>: <why>"
};

// Restores files, directories, symlinks, hard links, fifos and (as root) devices, with permission
// bits, times and (as root) ownership; never follows a symlink out of the target.
// Errors: NotFound (snapshot, include path), DataLoss naming the pack and the path whose data is
// damaged, what the filesystem says.
StatusOr<RestoreResult> Restore(Repository& repo, IndexCache& cache, const RestoreRequest& request);

// Reads `path` (a restored or live file) and compares it chunk by chunk with `node`'s content;
// empty when equal, else why not. `lengths` of the content chunks (from the index).
std::string CompareFile(const std::string& path, const Node& node, const std::vector<uint32_t>& lengths,
                        const BlobHasher& hasher);

}  // namespace steadfast::backup
