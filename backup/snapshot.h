// Trees and snapshots (backup/FORMAT.md, section 7): a directory listing is a tree blob, a
// snapshot file names the root tree with when, where and what was backed up. Encoding and
// decoding only; the archiver and restorer build on these.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backup/crypto.h"
#include "common/status.h"

namespace steadfast::backup {

enum class NodeType { kFile, kDir, kSymlink, kDev, kCharDev, kFifo, kSocket };
std::string_view NodeTypeName(NodeType t);  // "file", "dir", ...

struct Node {
  std::string name;  // bytes: file names are not necessarily UTF-8
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  std::string user, group;
  int64_t mtime_ns = 0, ctime_ns = 0;
  uint64_t inode = 0, device = 0, links = 1;
  // file
  uint64_t size = 0;
  std::vector<BlobId> content;
  std::optional<BlobId> digest;  // FileDigest of its size and content
  // dir
  std::optional<BlobId> subtree;
  // symlink
  std::string target;
  // dev, chardev
  uint64_t rdev = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// The tree blob's plaintext: CBOR {"nodes": [...]} with the nodes sorted by name. Node names
// must be unique, non-empty, and neither "." nor ".." nor contain '/' or NUL.
StatusOr<Bytes> EncodeTree(std::vector<Node> nodes);
// DataLoss naming `what` and the node when it does not parse or breaks those rules (a tree is
// read from a repository someone else may have damaged: a name like "../x" must never reach a
// restore).
StatusOr<std::vector<Node>> DecodeTree(std::span<const uint8_t> plaintext, std::string_view what);

struct SnapshotSummary {
  uint64_t files_new = 0, files_changed = 0, files_unmodified = 0;
  uint64_t bytes_read = 0, blobs_added = 0, bytes_added_stored = 0;
  int64_t duration_ms = 0;
};

struct Snapshot {
  std::string time;  // RFC 3339
  std::string host, username;
  std::vector<std::string> paths, tags, excludes;
  BlobId tree{};
  std::optional<std::string> parent;  // snapshot id
  std::string program;
  std::string source = "paths";  // paths | stdin | sqlite
  SnapshotSummary summary;
};

// A file's digest (FORMAT.md 7.1): HMAC-SHA-256(id_key, "steadfast-backup file v1" || le64(size)
// || the content ids in order). The content ids are keyed hashes of every byte, so equal digests
// mean equal files, and checking a file against it costs one pass over its chunks.
BlobId FileDigest(const Key32& id_key, uint64_t size, std::span<const BlobId> content);

nlohmann::json SnapshotDocument(const Snapshot& s);
StatusOr<Snapshot> ParseSnapshotDocument(const nlohmann::json& doc, std::string_view what);

}  // namespace steadfast::backup
