// FileSystem: the seam between Steadfast and the files it reads and writes, so tests can
// run in memory (testing/memory_file_system.h) or inject faults
// (testing/fault_injecting_file_system.h). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace steadfast {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // NotFound if absent; InvalidArgument if larger than max_bytes.
  virtual StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = 64 << 20) = 0;
  // Writes `data` to a temporary file beside `path`, fsyncs it, renames it over `path` and
  // fsyncs the directory: after OK, a crash leaves either the old or the new content.
  virtual Status WriteFileAtomic(const std::string& path, const std::string& data, uint32_t mode = 0644) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // mkdir -p
  virtual Status CreateDirectories(const std::string& path, uint32_t mode = 0755) = 0;
  // NotFound if absent.
  virtual Status RemoveFile(const std::string& path) = 0;
  // Entry names (not paths), sorted.
  virtual StatusOr<std::vector<std::string>> ListDirectory(const std::string& path) = 0;
  // Permission bits of the file (e.g. 0600). NotFound if absent.
  virtual StatusOr<uint32_t> FileMode(const std::string& path) = 0;
};

std::unique_ptr<FileSystem> NewPosixFileSystem();

}  // namespace steadfast
