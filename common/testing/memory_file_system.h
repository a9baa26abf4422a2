// MemoryFileSystem: an in-memory FileSystem for unit tests. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <set>

#include "common/fs/file_system.h"

namespace steadfast::testing {

class MemoryFileSystem : public FileSystem {
 public:
  StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = 64 << 20) override;
  Status WriteFileAtomic(const std::string& path, const std::string& data, uint32_t mode = 0644) override;
  bool Exists(const std::string& path) override;
  Status CreateDirectories(const std::string& path, uint32_t mode = 0755) override;
  Status RemoveFile(const std::string& path) override;
  StatusOr<std::vector<std::string>> ListDirectory(const std::string& path) override;
  StatusOr<uint32_t> FileMode(const std::string& path) override;

 private:
  struct File {
    std::string data;
    uint32_t mode;
  };
  std::mutex mu_;
  std::map<std::string, File> files_;  // guarded by mu_
  std::set<std::string> dirs_;         // guarded by mu_
};

}  // namespace steadfast::testing
