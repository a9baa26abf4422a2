// forget and prune (backup/FORMAT.md 10).
//
// forget deletes snapshot files: those a keep policy does not keep, or those named. Policies
// apply per group of snapshots with the same host and paths, newest first, as restic's do:
// keep-last N keeps the N newest; keep-hourly/daily/weekly/monthly/yearly N keep the newest
// snapshot of each of the N most recent hours/days/ISO weeks/months/years that have one
// (calendar in local time); keep-tag keeps every snapshot with that tag.
//
// prune (under the exclusive lock, taken by the caller) removes what no snapshot uses: it marks
// every blob the snapshots reach in a temporary table of the index cache (on disk, not in
// memory), repacks packs that hold some unused blobs, writes index files that supersede all the
// old ones, then deletes the old index files, then the packs nothing indexes. A crash at any
// step leaves every snapshot readable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup/archiver.h"
#include "backup/index.h"
#include "backup/reader.h"
#include "backup/repository.h"

namespace steadfast::backup {

struct KeepPolicy {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  std::vector<std::string> tags;
  bool empty() const { return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && tags.empty(); }
};

struct ForgetDecision {
  SnapshotRef snapshot;
  bool keep = false;
  std::vector<std::string> reasons;  // "last", "daily 2026-11-30", "tag monthly"
};

// `snapshots` in any order; the result is newest first per group, groups in order of their
// newest snapshot. An empty policy keeps everything.
std::vector<ForgetDecision> ApplyPolicy(std::vector<SnapshotRef> snapshots, const KeepPolicy& policy);

struct PruneOptions {
  bool dry_run = false;
  // A pack is repacked when at least this fraction of its bytes is unused (0: any unused blob).
  double repack_unused_fraction = 0.0;
  ProgressFn progress;  // files = packs repacked
};

struct PruneResult {
  uint64_t snapshots = 0, used_blobs = 0;
  uint64_t packs_total = 0, packs_deleted = 0, packs_repacked = 0, packs_written = 0;
  uint64_t unreferenced_packs = 0;  // no index named them (an interrupted backup's)
  uint64_t bytes_before = 0, bytes_freed = 0;
  uint64_t index_files_removed = 0;
};

// Errors: a snapshot or tree that does not open stops prune (it would otherwise free blobs that
// snapshot still needs): DataLoss naming it; run check first.
StatusOr<PruneResult> Prune(Repository& repo, IndexCache& cache, const PruneOptions& options);

}  // namespace steadfast::backup
