// Reading blobs back: found through the index cache, their sealed bytes loaded by range, opened
// and checked (authentication, size, keyed id). Used by restore, the parent snapshot of a
// backup, ls, diff, check and drills. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backup/index.h"
#include "backup/repository.h"
#include "backup/snapshot.h"

namespace steadfast::backup {

class BlobReader {
 public:
  BlobReader(Repository& repo, IndexCache& cache);
  ~BlobReader();

  // DataLoss "<for_what>: ..." naming the pack when the blob is in no index or does not open.
  StatusOr<Bytes> Load(const BlobId& id, std::string_view for_what);
  // The same when the caller has the location already (one index lookup fewer).
  StatusOr<Bytes> LoadAt(const BlobLocation& loc, std::string_view for_what);
  // For readers of many neighbouring blobs that read a pack's range themselves (restore: one
  // Backend::LoadInto for many blobs): the blob at `loc`, its `stored_length` sealed bytes at
  // `sealed`, decrypted in place and checked with the caller's `hasher`; the plaintext is there
  // or, when it was compressed, in `scratch`. Errors as LoadAt's.
  StatusOr<std::span<const uint8_t>> OpenSealed(const BlobLocation& loc, uint8_t* sealed, Bytes& scratch,
                                                const BlobHasher& hasher, std::string_view for_what);
  // Where a blob is; DataLoss naming `for_what` when no index has it.
  StatusOr<BlobLocation> Locate(const BlobId& id, std::string_view for_what);
  StatusOr<std::vector<Node>> LoadTree(const BlobId& id, std::string_view for_what);
  // The plaintext length of a blob (from the index); NotFound when no index has it.
  StatusOr<uint32_t> Length(const BlobId& id);

 private:
  StatusOr<Key32> Subkey(const std::string& pack);
  Repository& repo_;
  IndexCache& cache_;
  std::mutex mu_;
  std::vector<std::unique_ptr<BlobHasher>> hashers_;  // idle ones; one per concurrent Load
  std::map<std::string, Key32> subkeys_;  // by pack (from its magic and salt); at most 4096 kept
};

// Calls `visit` for every node under `tree` in depth-first order with its path ("/a/b"); a
// directory before what it holds. `visit` returns false to skip a directory's contents.
Status WalkTree(BlobReader& reader, const BlobId& tree, const std::string& path,
                const std::function<bool(const std::string& path, const Node& node)>& visit);

// A snapshot and its id.
struct SnapshotRef {
  std::string id;
  Snapshot snapshot;
};

// Every snapshot, oldest first. A snapshot file that does not open is an error naming it (the
// caller decides whether to go on without it: `damaged` collects them when given).
StatusOr<std::vector<SnapshotRef>> ListSnapshots(Repository& repo, std::vector<std::string>* damaged = nullptr);
// "latest", a full id, or a unique prefix of at least 4 hex digits. NotFound / InvalidArgument
// (ambiguous).
StatusOr<SnapshotRef> FindSnapshot(Repository& repo, const std::string& which, const std::string& host = "");

}  // namespace steadfast::backup
