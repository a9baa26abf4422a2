// Checking a repository (backup/FORMAT.md 11).
//
// Structure: every index file and snapshot opens (name = hash, authentication, parse); every
// indexed pack exists, its header opens and lists the blobs its index entries say, where they
// say; every tree of every snapshot opens and every blob it references is indexed.
// With read_data: every pack (or the subset n/m) is read whole, its name re-hashed, and every
// blob decrypted, decompressed and re-hashed to its keyed id, by one worker per core.
//
// Damage is reported with what it affects: the snapshots and the paths whose data or listing
// was in a damaged file. Unreferenced packs, duplicate blobs and locks are notes, not damage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup/archiver.h"
#include "backup/index.h"
#include "backup/repository.h"

namespace steadfast::backup {

struct CheckOptions {
  bool read_data = false;
  int subset_n = 0, subset_m = 0;  // read_data of the packs whose id's first 8 bytes % m == n - 1
  int workers = 0;
  ProgressFn progress;  // files = packs done, bytes = bytes read
};

struct CheckReport {
  std::vector<std::string> errors;    // damage, each naming the file
  std::vector<std::string> affected;  // "snapshot <id8> (<host> <time>): <path>"
  std::vector<std::string> notes;
  uint64_t snapshots = 0, trees = 0, packs = 0, packs_read = 0, bytes_read = 0, blobs_read = 0;
  bool ok() const { return errors.empty(); }
};

// Parses "n/m" (1 <= n <= m <= 65536); InvalidArgument saying what is wrong.
Status ParseSubset(const std::string& text, int* n, int* m);
// Whether `pack` (its hex name) is in subset n/m.
bool InSubset(const std::string& pack, int n, int m);

// Errors: only what stops the check itself (the repository cannot be listed); damage is in the
// report.
StatusOr<CheckReport> Check(Repository& repo, IndexCache& cache, const CheckOptions& options);

}  // namespace steadfast::backup
