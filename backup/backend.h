// Where a repository's files live (backup/FORMAT.md, section 1), behind one interface: a local
// directory now, an object store later (the interface asks nothing an object store cannot do:
// whole-object writes, ranged reads, listing, deletion; no rename, no append), and memory for
// tests. Every backend passes backend_conformance_test.cc.
//
// Files are immutable and named by the hash of their bytes, so Save of an existing name stores
// the same bytes again and is harmless; Save is atomic: after an error, or a crash, the file is
// either absent or complete.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace steadfast::backup {

enum class FileType { kConfig, kKey, kData, kIndex, kSnapshot, kEvidence, kLock };
inline constexpr FileType kAllFileTypes[] = {FileType::kConfig, FileType::kKey,      FileType::kData, FileType::kIndex,
                                             FileType::kSnapshot, FileType::kEvidence, FileType::kLock};
std::string_view FileTypeDir(FileType t);  // "keys", "data", ... ("" for config)

struct FileInfo {
  std::string name;  // 64 hex digits ("config" for the config)
  uint64_t size = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // For messages: "/srv/backup/repo", "memory".
  virtual std::string Location() const = 0;
  // Makes the layout (directories). AlreadyExists when a repository (its config) is there.
  virtual Status Create() = 0;
  // Errors: ResourceExhausted (no space), PermissionDenied / FailedPrecondition (read-only),
  // InvalidArgument (a name that is not 64 hex digits, or "config" for the config).
  virtual Status Save(FileType type, const std::string& name, std::span<const uint8_t> data) = 0;
  // `length` 0: to the end. NotFound; OutOfRange-like InvalidArgument when past the end.
  virtual StatusOr<std::vector<uint8_t>> Load(FileType type, const std::string& name, uint64_t offset = 0,
                                              uint64_t length = 0) = 0;
  // Load's range into `out` (resized, its capacity reused): for readers of many large files or
  // ranges (check, prune, restore), which then neither allocate nor clear a pack's worth of
  // memory per read. Errors as Load's; `out` is unspecified after one.
  virtual Status LoadInto(FileType type, const std::string& name, std::vector<uint8_t>& out, uint64_t offset = 0,
                          uint64_t length = 0);
  virtual StatusOr<uint64_t> Size(FileType type, const std::string& name) = 0;  // NotFound
  virtual Status Remove(FileType type, const std::string& name) = 0;           // NotFound
  // Every complete file of a type (never a half-written one), sorted by name.
  virtual StatusOr<std::vector<FileInfo>> List(FileType type) = 0;
};

// A directory on a local filesystem. Save: a temporary file beside the target, fsync, rename,
// fsync of the directory. data/ fans out into 256 directories by the name's first two digits.
std::unique_ptr<Backend> NewLocalBackend(std::string root);
std::unique_ptr<Backend> NewMemoryBackend();

// Whether `name` may name a file of `type` (64 lowercase hex digits; "config" for the config).
bool ValidFileName(FileType type, std::string_view name);

}  // namespace steadfast::backup
