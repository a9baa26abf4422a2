// Index files (backup/FORMAT.md, section 6) and the local cache that answers "which pack holds
// blob X, where" without the repository's index in memory: an SQLite database per repository
// with an 8 MiB page cache, brought up to the repository's index/ listing at the start of an
// operation. The cache is derived data: deleted or damaged, it is rebuilt from the repository.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backup/pack.h"
#include "backup/repository.h"
#include "common/sqlite/sqlite_db.h"
#include "common/status.h"

namespace steadfast::backup {

struct IndexedPack {
  std::string pack;  // the pack's name
  std::vector<PackEntry> blobs;
};

// The document of one index file; `supersedes`: index files it replaces (prune).
nlohmann::json IndexDocument(const std::vector<IndexedPack>& packs, const std::vector<std::string>& supersedes);
// DataLoss naming `what` and the field when it does not parse.
StatusOr<std::vector<IndexedPack>> ParseIndexDocument(const nlohmann::json& doc, std::string_view what,
                                                      std::vector<std::string>* supersedes);

struct BlobLocation {
  std::string pack;
  PackEntry entry;
};

class IndexCache {
 public:
  // `path`: the cache database (":memory:" in tests); created when missing.
  static StatusOr<std::unique_ptr<IndexCache>> Open(const std::string& path);

  // Reads the index files the cache has not seen, forgets those that are gone, and drops the
  // entries of files a present file supersedes. Returns how many files it read.
  // With `damaged`, an index file that does not open or parse is recorded there ("<name>: why")
  // and skipped instead of failing the whole Sync (check goes on to name everything it finds).
  StatusOr<size_t> Sync(Repository& repo, std::vector<std::string>* damaged = nullptr);
  // One location of the blob (any, when several packs hold it); nullopt when no index has it.
  // Find, Add, Packs and PackBlobs may be called from several threads.
  StatusOr<std::optional<BlobLocation>> Find(const BlobId& id);
  StatusOr<int64_t> BlobCount();
  struct Totals {
    int64_t blobs = 0, raw_bytes = 0, stored_bytes = 0;  // distinct blobs
  };
  StatusOr<Totals> Sizes();
  // Records an index file this client has just written (so that it need not read it back).
  Status Add(const std::string& name, const std::vector<IndexedPack>& packs, const std::vector<std::string>& supersedes);
  // Every pack some index names, with its number of entries; the entries of one pack in file order.
  StatusOr<std::vector<std::pair<std::string, int64_t>>> Packs();
  StatusOr<std::vector<PackEntry>> PackBlobs(const std::string& pack);
  // prune's mark phase: a temporary table of used blob ids, on disk in SQLite's temporary
  // storage rather than in memory. MarkUsed is true when the id was not marked yet.
  Status BeginMarking();
  StatusOr<bool> MarkUsed(const BlobId& id);
  Status EndMarking();
  StatusOr<bool> IsUsed(const BlobId& id);
  struct PackUsage {
    std::string pack;
    int64_t blobs = 0, used = 0, bytes = 0, used_bytes = 0;  // bytes: stored (sealed) sizes
  };
  StatusOr<std::vector<PackUsage>> Usage();
  // The index files the cache holds (after Sync: those of the repository).
  StatusOr<std::vector<std::string>> Files();

 private:
  explicit IndexCache(std::unique_ptr<sqlite::SqliteDb> db) : db_(std::move(db)) {}
  Status AddFile(const std::string& name, const std::vector<IndexedPack>& packs, const std::vector<std::string>& supersedes);
  // Lookups share one read transaction for up to 200 ms (a transaction per lookup costs two
  // file-lock system calls); anything else ends it first. Under mu_.
  Status BeginRead();
  void EndRead();
  bool reading_ = false;
  bool marking_ = false;
  std::chrono::steady_clock::time_point read_since_;
  std::mutex mu_;
  std::unique_ptr<sqlite::SqliteDb> db_;
  std::optional<sqlite::SqliteStatement> find_, mark_, used_;
};

}  // namespace steadfast::backup
