#include "backup/backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "common/fs/posix.h"

namespace steadfast::backup {

namespace {

// Fault injection for the kill-point test (backup/kill_points_test.sh): with
// STEADFAST_BACKUP_CRASH_AT=N in the environment, the process SIGKILLs itself at the Nth point
// where the repository's files change (half-way through writing a file, after a file is durable,
// after a removal). Unset, nothing happens.
void CrashPoint() {
  static const long at = [] {
    const char* e = std::getenv("STEADFAST_BACKUP_CRASH_AT");
    return e != nullptr ? std::atol(e) : 0L;
  }();
  static std::atomic<long> seen{0};
  if (at > 0 && ++seen == at) ::raise(SIGKILL);
}

}  // namespace

std::string_view FileTypeDir(FileType t) {
  switch (t) {
    case FileType::kConfig: return "";
    case FileType::kKey: return "keys";
    case FileType::kData: return "data";
    case FileType::kIndex: return "index";
    case FileType::kSnapshot: return "snapshots";
    case FileType::kEvidence: return "evidence";
    case FileType::kLock: return "locks";
  }
  return "";
}

bool ValidFileName(FileType type, std::string_view name) {
  if (type == FileType::kConfig) return name == "config";
  return name.size() == 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

namespace {

Status CheckName(FileType type, const std::string& name) {
  if (ValidFileName(type, name)) return OkStatus();
  return InvalidArgumentError("'" + name + "' is not a valid name for a file in " +
                              (type == FileType::kConfig ? std::string("the repository root") : std::string(FileTypeDir(type)) + "/"));
}

// ---- local directory ---------------------------------------------------------------------

// ErrnoStatus, saying which target is full or read-only.
Status Errno(const std::string& what, int err) {
  if (err == ENOSPC || err == EDQUOT) return ErrnoStatus(err, what + " (the backup target is full)");
  if (err == EROFS) return ErrnoStatus(err, what + " (the backup target is read-only)");
  return ErrnoStatus(err, what);
}

using Fd = UniqueFd;

constexpr size_t kDirectAlign = 4096;
constexpr size_t kDirectMin = size_t{1} << 20;

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  std::string Location() const override { return root_; }

  Status Create() override {
    if (::access(Path(FileType::kConfig, "config").c_str(), F_OK) == 0) {
      return AlreadyExistsError(root_ + " already holds a repository (it has a config)");
    }
    SF_RETURN_IF_ERROR(MakeDir(root_));
    for (FileType t : kAllFileTypes) {
      if (t != FileType::kConfig) SF_RETURN_IF_ERROR(MakeDir(root_ + "/" + std::string(FileTypeDir(t))));
    }
    for (int i = 0; i < 256; ++i) {
      char sub[3];
      std::snprintf(sub, sizeof sub, "%02x", i);
      SF_RETURN_IF_ERROR(MakeDir(root_ + "/data/" + sub));
    }
    // Every new directory entry made durable, so a power cut cannot lose a directory that a
    // later save needs.
    SF_RETURN_IF_ERROR(SyncDir(root_ + "/data"));
    SF_RETURN_IF_ERROR(SyncDir(root_));
    const std::string parent = root_.find('/') == std::string::npos ? "." : root_.substr(0, std::max<size_t>(1, root_.rfind('/')));
    return SyncDir(parent);
  }

  Status Save(FileType type, const std::string& name, std::span<const uint8_t> data) override {
    SF_RETURN_IF_ERROR(CheckName(type, name));
    const std::string path = Path(type, name);
    const std::string dir = path.substr(0, path.rfind('/'));
    const std::string tmp = dir + "/.tmp-" + RandomSuffix();
    const bool direct = type == FileType::kData && data.size() >= kDirectMin &&
                        reinterpret_cast<uintptr_t>(data.data()) % kDirectAlign == 0;
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0600));
    if (fd.get() < 0 && direct && errno == EINVAL) fd = Fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) return Errno("cannot create " + tmp, errno);
    Status st = WriteFile(fd.get(), data, tmp);
    if (st.ok() && ::fsync(fd.get()) != 0) st = Errno("cannot flush " + tmp, errno);
    if (st.ok() && ::close(fd.release()) != 0) st = Errno("cannot close " + tmp, errno);
    if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("cannot rename " + tmp + " to " + path, errno);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
    st = SyncDir(dir);
    CrashPoint();  // the file is complete and durable
    return st;
  }

  StatusOr<std::vector<uint8_t>> Load(FileType type, const std::string& name, uint64_t offset,
                                      uint64_t length) override {
    std::vector<uint8_t> out;
    SF_RETURN_IF_ERROR(Read(type, name, offset, length, out));
    return out;
  }

  Status LoadInto(FileType type, const std::string& name, std::vector<uint8_t>& out, uint64_t offset,
                  uint64_t length) override {
    return Read(type, name, offset, length, out);
  }

  // Load's range (`length` 0: to the end) into `out`, resized (only what grows is cleared).
  Status Read(FileType type, const std::string& name, uint64_t offset, uint64_t length, std::vector<uint8_t>& out) {
    SF_RETURN_IF_ERROR(CheckName(type, name));
    const std::string path = Path(type, name);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return Errno("cannot open " + path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat " + path, errno);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (offset > size || length > size - offset) {
      return InvalidArgumentError(path + ": range " + std::to_string(offset) + "+" + std::to_string(length) +
                                  " is past its end (" + std::to_string(size) + " bytes)");
    }
    const uint64_t n = length > 0 ? length : size - offset;
    out.resize(n);
    uint64_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd.get(), out.data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Errno("cannot read " + path, errno);
      if (r == 0) return DataLossError(path + ": shorter than it was a moment ago");
      done += static_cast<uint64_t>(r);
    }
    return OkStatus();
  }

  StatusOr<uint64_t> Size(FileType type, const std::string& name) override {
    SF_RETURN_IF_ERROR(CheckName(type, name));
    struct stat st {};
    const std::string path = Path(type, name);
    if (::stat(path.c_str(), &st) != 0) return Errno("cannot stat " + path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Remove(FileType type, const std::string& name) override {
    SF_RETURN_IF_ERROR(CheckName(type, name));
    const std::string path = Path(type, name);
    if (::unlink(path.c_str()) != 0) return Errno("cannot remove " + path, errno);
    const Status st = SyncDir(path.substr(0, path.rfind('/')));
    CrashPoint();
    return st;
  }

  StatusOr<std::vector<FileInfo>> List(FileType type) override {
    std::vector<FileInfo> out;
    if (type == FileType::kConfig) {
      StatusOr<uint64_t> size = Size(type, "config");
      if (size.ok()) out.push_back({"config", *size});
      if (!size.ok() && size.status().code() != StatusCode::kNotFound) return size.status();
      return out;
    }
    const std::string dir = root_ + "/" + std::string(FileTypeDir(type));
    if (type == FileType::kData) {
      for (int i = 0; i < 256; ++i) {
        char sub[3];
        std::snprintf(sub, sizeof sub, "%02x", i);
        SF_RETURN_IF_ERROR(ListInto(dir + "/" + sub, type, &out));
      }
    } else {
      SF_RETURN_IF_ERROR(ListInto(dir, type, &out));
    }
    std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    return out;
  }

 private:
  std::string Path(FileType type, const std::string& name) const {
    if (type == FileType::kConfig) return root_ + "/config";
    if (type == FileType::kData) return root_ + "/data/" + name.substr(0, 2) + "/" + name;
    return root_ + "/" + std::string(FileTypeDir(type)) + "/" + name;
  }

  static Status MakeDir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Errno("cannot create " + path, errno);
    return OkStatus();
  }

  static Status SyncDir(const std::string& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return Errno("cannot open " + dir, errno);
    if (::fsync(fd.get()) != 0) return Errno("cannot flush " + dir, errno);
    return OkStatus();
  }

  // The body of `data`, then the rest, with a crash point in between. A file opened with
  // O_DIRECT has its whole aligned blocks written straight from `data` (no copy into the page
  // cache, and a backup does not push the machine's cache out); the tail, and everything when
  // the filesystem refuses direct writes, goes through the cache. fsync follows either way.
  static Status WriteFile(int fd, std::span<const uint8_t> data, const std::string& path) {
    const int flags = ::fcntl(fd, F_GETFL);
    size_t body = 0;
    if (flags >= 0 && (flags & O_DIRECT) != 0) body = data.size() / kDirectAlign * kDirectAlign;
    const size_t half = body > 0 ? body / 2 / kDirectAlign * kDirectAlign : data.size() / 2;
    Status st = WriteAll(fd, data.first(half), path);
    CrashPoint();  // half a temporary file, not renamed
    if (st.ok()) st = WriteAll(fd, data.subspan(half, body > half ? body - half : 0), path);
    if (body > 0 && ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0) return Errno("cannot write " + path, errno);
    if (st.ok()) st = WriteAll(fd, data.subspan(std::max(half, body)), path);
    return st;
  }

  static Status WriteAll(int fd, std::span<const uint8_t> data, const std::string& path) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EINVAL) {  // a filesystem that takes O_DIRECT at open but not here
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags >= 0 && (flags & O_DIRECT) != 0 && ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0) continue;
      }
      if (w < 0) return Errno("cannot write " + path, errno);
      done += static_cast<size_t>(w);
    }
    return OkStatus();
  }

  static Status ListInto(const std::string& dir, FileType type, std::vector<FileInfo>* out) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Errno("cannot list " + dir, errno);
    Status st;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (!ValidFileName(type, name)) continue;  // ".", "..", ".tmp-*" of an interrupted write
      struct stat s {};
      if (::fstatat(::dirfd(d), e->d_name, &s, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile
        st = Errno("cannot stat " + dir + "/" + name, errno);
        break;
      }
      if (!S_ISREG(s.st_mode)) continue;
      out->push_back({name, static_cast<uint64_t>(s.st_size)});
    }
    ::closedir(d);
    return st;
  }

  static std::string RandomSuffix() {
    static thread_local std::mt19937_64 rng(std::random_device{}());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
  }

  std::string root_;
};

// ---- memory -----------------------------------------------------------------------------

class MemoryBackend : public Backend {
 public:
  std::string Location() const override { return "memory"; }

  Status Create() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.count({FileType::kConfig, "config"})) return AlreadyExistsError("memory already holds a repository");
    return OkStatus();
  }

  Status Save(FileType type, const std::string& name, std::span<const uint8_t> data) override {
    SF_RETURN_IF_ERROR(CheckName(type, name));
    std::lock_guard<std::mutex> lock(mu_);
    files_[{type, name}] = std::vector<uint8_t>(data.begin(), data.end());
    return OkStatus();
  }

  StatusOr<std::vector<uint8_t>> Load(FileType type, const std::string& name, uint64_t offset,
                                      uint64_t length) override {
    SF_RETURN_IF_ERROR(CheckName(type, name));
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find({type, name});
    if (it == files_.end()) return NotFoundError("memory: no " + std::string(FileTypeDir(type)) + "/" + name);
    const uint64_t size = it->second.size();
    if (offset > size || length > size - offset) {
      return InvalidArgumentError(name + ": range " + std::to_string(offset) + "+" + std::to_string(length) +
                                  " is past its end (" + std::to_string(size) + " bytes)");
    }
    const uint64_t n = length > 0 ? length : size - offset;
    return std::vector<uint8_t>(it->second.begin() + static_cast<std::ptrdiff_t>(offset),
                                it->second.begin() + static_cast<std::ptrdiff_t>(offset + n));
  }

  StatusOr<uint64_t> Size(FileType type, const std::string& name) override {
    SF_RETURN_IF_ERROR(CheckName(type, name));
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find({type, name});
    if (it == files_.end()) return NotFoundError("memory: no " + std::string(FileTypeDir(type)) + "/" + name);
    return static_cast<uint64_t>(it->second.size());
  }

  Status Remove(FileType type, const std::string& name) override {
    SF_RETURN_IF_ERROR(CheckName(type, name));
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.erase({type, name}) == 0) return NotFoundError("memory: no " + std::string(FileTypeDir(type)) + "/" + name);
    return OkStatus();
  }

  StatusOr<std::vector<FileInfo>> List(FileType type) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<FileInfo> out;
    for (auto it = files_.lower_bound({type, ""}); it != files_.end() && it->first.first == type; ++it) {
      out.push_back({it->first.second, it->second.size()});
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::map<std::pair<FileType, std::string>, std::vector<uint8_t>> files_;  // guarded by mu_
};

}  // namespace

Status Backend::LoadInto(FileType type, const std::string& name, std::vector<uint8_t>& out, uint64_t offset,
                         uint64_t length) {
  SF_ASSIGN_OR_RETURN(out, Load(type, name, offset, length));
  return OkStatus();
}

std::unique_ptr<Backend> NewLocalBackend(std::string root) { return std::make_unique<LocalBackend>(std::move(root)); }
std::unique_ptr<Backend> NewMemoryBackend() { return std::make_unique<MemoryBackend>(); }

}  // namespace steadfast::backup
