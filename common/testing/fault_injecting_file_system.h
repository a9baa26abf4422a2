// FaultInjectingFileSystem: forwards to a target FileSystem and fails chosen operations, so
// tests can prove that a failed write loses nothing already stored. Thread-safe.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "common/fs/file_system.h"

namespace steadfast::testing {

class FaultInjectingFileSystem : public FileSystem {
 public:
  explicit FaultInjectingFileSystem(FileSystem* target) : target_(target) {}

  // The next `count` writes (WriteFileAtomic) fail with `error`; writes before that pass.
  void FailWrites(int count, Status error = UnavailableError("injected write failure"));
  // Writes whose path contains `substring` fail until cleared with an empty substring.
  void FailWritesMatching(std::string substring, Status error = ResourceExhaustedError("injected: disk full"));
  // Reads fail while set.
  void FailReads(bool on, Status error = UnavailableError("injected read failure"));
  int injected_failures() const { return injected_.load(); }

  StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = 64 << 20) override;
  Status WriteFileAtomic(const std::string& path, const std::string& data, uint32_t mode = 0644) override;
  bool Exists(const std::string& path) override { return target_->Exists(path); }
  Status CreateDirectories(const std::string& path, uint32_t mode = 0755) override {
    return target_->CreateDirectories(path, mode);
  }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  StatusOr<std::vector<std::string>> ListDirectory(const std::string& path) override {
    return target_->ListDirectory(path);
  }
  StatusOr<uint32_t> FileMode(const std::string& path) override { return target_->FileMode(path); }

 private:
  FileSystem* target_;  // not owned
  std::mutex mu_;
  int fail_writes_ = 0;          // guarded by mu_
  std::string fail_matching_;    // guarded by mu_
  Status write_error_;           // guarded by mu_
  Status match_error_;           // guarded by mu_
  bool fail_reads_ = false;      // guarded by mu_
  Status read_error_;            // guarded by mu_
  std::atomic<int> injected_{0};
};

}  // namespace steadfast::testing
