#include "common/testing/fault_injecting_file_system.h"

namespace steadfast::testing {

void FaultInjectingFileSystem::FailWrites(int count, Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_writes_ = count;
  write_error_ = std::move(error);
}

void FaultInjectingFileSystem::FailWritesMatching(std::string substring, Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_matching_ = std::move(substring);
  match_error_ = std::move(error);
}

void FaultInjectingFileSystem::FailReads(bool on, Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_reads_ = on;
  read_error_ = std::move(error);
}

StatusOr<std::string> FaultInjectingFileSystem::ReadFile(const std::string& path, size_t max_bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_reads_) {
      ++injected_;
      return read_error_;
    }
  }
  return target_->ReadFile(path, max_bytes);
}

Status FaultInjectingFileSystem::WriteFileAtomic(const std::string& path, const std::string& data,
                                                 uint32_t mode) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_writes_ > 0) {
      --fail_writes_;
      ++injected_;
      return write_error_;
    }
    if (!fail_matching_.empty() && path.find(fail_matching_) != std::string::npos) {
      ++injected_;
      return match_error_;
    }
  }
  return target_->WriteFileAtomic(path, data, mode);
}

}  // namespace steadfast::testing
