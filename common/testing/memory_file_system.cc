#include "common/testing/memory_file_system.h"

#include <algorithm>

namespace steadfast::testing {
namespace {
std::string Parent(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos || pos == 0) return "/";
  return path.substr(0, pos);
}
}  // namespace

StatusOr<std::string> MemoryFileSystem::ReadFile(const std::string& path, size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFoundError("open " + path + ": No such file or directory");
  if (it->second.data.size() > max_bytes) return InvalidArgumentError(path + ": file too large");
  return it->second.data;
}

Status MemoryFileSystem::WriteFileAtomic(const std::string& path, const std::string& data, uint32_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string parent = Parent(path);
  if (parent != "/" && dirs_.count(parent) == 0) return NotFoundError("create " + path + ": no such directory");
  files_[path] = File{data, mode};
  return OkStatus();
}

bool MemoryFileSystem::Exists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(path) > 0 || dirs_.count(path) > 0;
}

Status MemoryFileSystem::CreateDirectories(const std::string& path, uint32_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.count(path)) return FailedPreconditionError(path + " exists and is not a directory");
  std::string cur = path;
  while (cur != "/" && !cur.empty()) {
    dirs_.insert(cur);
    cur = Parent(cur);
  }
  return OkStatus();
}

Status MemoryFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.erase(path) == 0) return NotFoundError("remove " + path + ": No such file or directory");
  return OkStatus();
}

StatusOr<std::vector<std::string>> MemoryFileSystem::ListDirectory(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dirs_.count(path) == 0) return NotFoundError("list " + path + ": No such file or directory");
  std::vector<std::string> out;
  std::string prefix = path == "/" ? "/" : path + "/";
  auto add = [&](const std::string& p) {
    if (p.rfind(prefix, 0) == 0 && p.find('/', prefix.size()) == std::string::npos && p.size() > prefix.size()) {
      out.push_back(p.substr(prefix.size()));
    }
  };
  for (const auto& [p, f] : files_) add(p);
  for (const auto& d : dirs_) add(d);
  std::sort(out.begin(), out.end());
  return out;
}

StatusOr<uint32_t> MemoryFileSystem::FileMode(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (dirs_.count(path)) return 0755u;
    return NotFoundError("stat " + path + ": No such file or directory");
  }
  return it->second.mode;
}

}  // namespace steadfast::testing
