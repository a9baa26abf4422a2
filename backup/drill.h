// Proving backups: restore drills with evidence records (backup/FORMAT.md 8), comparing a
// snapshot with the live files it came from, and comparing two snapshots.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup/archiver.h"
#include "backup/index.h"
#include "backup/reader.h"
#include "backup/repository.h"
#include "common/clock.h"

namespace steadfast::backup {

struct DrillRequest {
  std::string snapshot = "latest";  // "latest", an id or a prefix
  std::string host;                 // with "latest": this host's latest
  std::string scratch;              // where to restore (a fresh directory is made under it); "": $TMPDIR
  uint64_t sample = 0;              // files drawn at random; 0: every file
  uint64_t seed = 0;                // 0: random
  bool keep = false;                // leave the restored copy (for a person to look at)
  int workers = 0;
  const Clock* clock = nullptr;
  ProgressFn progress;
};

struct Mismatch {
  std::string path, reason;
};

struct Evidence {
  std::string time, host, snapshot, snapshot_time, snapshot_host;
  std::string sample = "all";  // or the number of files drawn
  uint64_t files = 0, bytes = 0;
  std::vector<Mismatch> mismatches;
  std::string result;  // passed | failed
  int64_t duration_ms = 0;
  std::string program = "steadfast-backup 0.1.0";
};

nlohmann::json EvidenceDocument(const Evidence& e);
StatusOr<Evidence> ParseEvidenceDocument(const nlohmann::json& doc, std::string_view what);

struct DrillResult {
  std::string evidence_id;
  Evidence evidence;
  std::string restored_to;  // with keep
};

// Restores (a sample of) the snapshot into scratch space, re-hashes every restored chunk against
// the ids recorded at backup time, checks sizes and file counts, and writes an evidence record
// whatever the result: a failed drill is evidence too. Errors: only when no evidence can be
// written (no snapshot, the repository cannot be written).
StatusOr<DrillResult> Drill(Repository& repo, IndexCache& cache, const DrillRequest& request);

// Evidence records, oldest first (damaged ones are named in `damaged`).
StatusOr<std::vector<std::pair<std::string, Evidence>>> ListEvidence(Repository& repo, std::vector<std::string>* damaged);

// One difference: '+' only in the second, '-' only in the first, 'M' content or type differs,
// 'm' metadata only (mode, owner, times).
struct Change {
  char kind = 'M';
  std::string path, detail;
};

// Two snapshots' trees, skipping equal subtrees without reading them.
StatusOr<std::vector<Change>> DiffSnapshots(BlobReader& reader, const Snapshot& a, const Snapshot& b);

// The snapshot against the live files at its paths: '-' gone from disk, '+' new on disk, 'M'
// content differs (the first differing byte range), 'm' metadata only.
StatusOr<std::vector<Change>> VerifySource(BlobReader& reader, const MasterKey& key, const Snapshot& snapshot,
                                           const ProgressFn& progress = nullptr);

}  // namespace steadfast::backup
