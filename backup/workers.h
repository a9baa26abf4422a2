// Small things the backup engine's threaded operations share.
#pragma once

#include <dirent.h>
#include <fnmatch.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace steadfast::backup {

// Worker threads for `requested` (0: one per core, at most 8).
inline int WorkerCount(int requested) {
  if (requested > 0) return requested;
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : static_cast<int>(std::min(n, 8u));
}

// This machine's name, as snapshots, locks and evidence record it.
inline std::string ThisHost() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// The name of the user this process runs as (its uid when it has none).
inline std::string ThisUser() {
  struct passwd pw {};
  struct passwd* out = nullptr;
  char buf[4096];
  if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &out) == 0 && out != nullptr) return out->pw_name;
  return std::to_string(::geteuid());
}

// A directory's entries but . and .., sorted bytewise; nullopt (errno set) when it cannot be read.
inline std::optional<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return std::nullopt;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// The name a backed-up path has in a snapshot's root tree: its last component ("/srv/data/"
// -> "data").
inline std::string LastComponent(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Whether a backup's exclude patterns leave `path` (named `name`) out: fnmatch(3) patterns, those
// with a '/' against the whole path, the others against the name.
inline bool Excluded(const std::vector<std::string>& patterns, const std::string& path, const std::string& name) {
  for (const std::string& p : patterns) {
    if (p.find('/') != std::string::npos ? ::fnmatch(p.c_str(), path.c_str(), FNM_PATHNAME) == 0
                                         : ::fnmatch(p.c_str(), name.c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

inline constexpr int64_t kProgressEveryMs = 100;  // progress callbacks at most this often

}  // namespace steadfast::backup
