// Restore (archiver.h): the calling thread walks the snapshot's trees and creates what they
// list; workers load neighbouring chunks together, check them and write them in parallel (pwrite
// at their offsets).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <thread>

#include "backup/archiver.h"
#include "backup/reader.h"
#include "backup/workers.h"
#include "common/fs/posix.h"

namespace steadfast::backup {

namespace {
Status Errno(const std::string& what, int err) { return ErrnoStatus(err, what); }
}  // namespace

std::string CompareFile(const std::string& path, const Node& node, const std::vector<uint32_t>& lengths,
                        const BlobHasher& hasher) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::string("cannot open: ") + std::strerror(errno);
  UniqueFd closer(fd);
  Bytes buf;
  uint64_t offset = 0;
  for (size_t i = 0; i < node.content.size(); ++i) {
    buf.resize(i < lengths.size() ? lengths[i] : 0);
    size_t got = 0;
    while (got < buf.size()) {
      const ssize_t r = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return std::string("cannot read: ") + std::strerror(errno);
      if (r == 0) return "shorter than recorded (" + std::to_string(offset + got) + " of " + std::to_string(node.size) + " bytes)";
      got += static_cast<size_t>(r);
    }
    if (hasher.Id(buf) != node.content[i]) {
      return "bytes " + std::to_string(offset) + ".." + std::to_string(offset + buf.size()) + " differ from the backup";
    }
    offset += buf.size();
  }
  uint8_t extra;
  const ssize_t r = ::pread(fd, &extra, 1, static_cast<off_t>(offset));
  if (r > 0) return "longer than recorded (" + std::to_string(node.size) + " bytes)";
  return std::string();
}

namespace {

struct RestoreFile {
  ~RestoreFile() {
    if (fd >= 0) ::close(fd);  // an error left it open
  }
  int fd = -1;
  std::string path, rel;
  Node node;
  std::vector<uint32_t> lengths;
  std::vector<uint64_t> offsets;
  std::vector<BlobLocation> locations;
  size_t left = 0;  // chunks not yet written (under the queue mutex)
  // One worker writes the file at a time (Restorer::WriteOrHandOff); the chunks others loaded
  // meanwhile wait here for it (under the queue mutex).
  bool writing = false;
  std::deque<std::pair<size_t, Bytes>> ready;
};

// Loaded chunks waiting for a file's writer, at most; a worker with one more waits.
constexpr size_t kReadyPerFile = 4;

// A worker takes the chunk at the queue's head and those queued behind it that lie near it in the
// same pack (kBatchBytes from the first byte to the last, on average at most kBatchGap unused
// between two, kBatchChunks chunks): one read for them all, where a tree of small files cost an
// open and a read per chunk. Memory: a worker holds one batch's sealed bytes (kBatchBytes, or one
// larger chunk) and one decompressed chunk, and each file being written at most kReadyPerFile
// chunks handed over.
constexpr uint64_t kBatchBytes = uint64_t{8} << 20;
constexpr uint64_t kBatchGap = uint64_t{64} << 10;
constexpr size_t kBatchChunks = 256;

struct RestoreTask {
  std::shared_ptr<RestoreFile> file;
  size_t index = 0;
};

class Restorer {
 public:
  Restorer(Repository& repo, IndexCache& cache, const RestoreRequest& request)
      : repo_(repo), cache_(cache), request_(request), reader_(repo, cache), as_root_(::geteuid() == 0) {
    for (std::string inc : request.include) {
      while (inc.size() > 1 && inc.back() == '/') inc.pop_back();
      if (inc.empty() || inc.front() != '/') inc = "/" + inc;
      includes_.emplace(inc, false);
    }
  }
  ~Restorer() { Stop(); }

  void Start() {
    const int n = WorkerCount(request_.workers);
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { Work(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  Status error() {
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

  Status Tree(const BlobId& tree, const std::string& dir, const std::string& shown) {
    SF_ASSIGN_OR_RETURN(std::vector<Node> nodes, reader_.LoadTree(tree, shown.empty() ? "/" : shown));
    for (Node& n : nodes) {
      SF_RETURN_IF_ERROR(Failed());
      const std::string path = dir + "/" + n.name;
      const std::string rel = shown + "/" + n.name;
      const bool selected = Selected(rel);
      if (!selected && !(n.type == NodeType::kDir && Leads(rel))) continue;
      if (n.type == NodeType::kDir) {
        if (::mkdir(path.c_str(), 0700) != 0) {
          // Only an existing real directory is entered: never a symlink that leads elsewhere.
          const int err = errno;
          struct stat st {};
          if (err != EEXIST || ::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            return Errno("cannot create the directory " + path, err);
          }
        }
        if (!n.subtree) return DataLossError(rel + ": a directory without its tree");
        SF_RETURN_IF_ERROR(Tree(*n.subtree, path, rel));
        if (selected) {
          n.subtree.reset();
          dirs_.emplace_back(path, std::move(n));
          ++result_.dirs;
        }
        continue;
      }
      SF_RETURN_IF_ERROR(Other(std::move(n), path, rel));
      Report();
    }
    return OkStatus();
  }

  // Directories' modes, owners and times last, deepest first (writing into them changes their
  // times).
  Status FinishDirs() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) SF_RETURN_IF_ERROR(Meta(it->first, it->second, -1));
    return OkStatus();
  }

  Status Wait() {
    std::unique_lock<std::mutex> l(mu_);
    done_cv_.wait(l, [&] { return (queue_.empty() && busy_ == 0) || !error_.ok(); });
    return error_;
  }

  Status Unmatched() {
    for (const auto& [inc, matched] : includes_) {
      if (!matched) return NotFoundError("the snapshot has no " + inc);
    }
    return OkStatus();
  }

  RestoreResult& result() { return result_; }
  void FinalProgress() { Report(true); }

 private:
  bool Selected(const std::string& rel) {
    if (includes_.empty()) return true;
    for (auto& [inc, matched] : includes_) {
      if (inc == "/" || rel == inc) {
        matched = true;
        return true;
      }
      if (rel.size() > inc.size() && rel.compare(0, inc.size(), inc) == 0 && rel[inc.size()] == '/') return true;
    }
    return false;
  }
  bool Leads(const std::string& rel) {
    for (const auto& [inc, matched] : includes_) {
      if (inc.size() > rel.size() && inc.compare(0, rel.size(), rel) == 0 && inc[rel.size()] == '/') return true;
    }
    return false;
  }

  Status Failed() {
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

  void Fail(Status s) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (error_.ok()) error_ = std::move(s);
    }
    cv_.notify_all();
    done_cv_.notify_all();
    write_cv_.notify_all();
  }

  // Everything but directories.
  Status Other(Node n, const std::string& path, const std::string& rel) {
    if (n.type == NodeType::kFile && n.links > 1) {
      const auto key = std::make_pair(n.device, n.inode);
      auto it = hardlinks_.find(key);
      if (it != hardlinks_.end()) {
        ::unlink(path.c_str());
        if (::link(it->second.c_str(), path.c_str()) != 0) return Errno("cannot link " + path + " to " + it->second, errno);
        ++result_.links;
        return OkStatus();
      }
      hardlinks_.emplace(key, path);
    }
    switch (n.type) {
      case NodeType::kFile:
        return File(std::move(n), path, rel);
      case NodeType::kSymlink:
        ::unlink(path.c_str());
        if (::symlink(n.target.c_str(), path.c_str()) != 0) return Errno("cannot create the link " + path, errno);
        ++result_.files;
        return Meta(path, n, -1);
      case NodeType::kFifo:
        ::unlink(path.c_str());
        if (::mkfifo(path.c_str(), n.mode & 07777) != 0) return Errno("cannot create the fifo " + path, errno);
        ++result_.files;
        return Meta(path, n, -1);
      case NodeType::kDev:
      case NodeType::kCharDev:
        if (!as_root_) return OkStatus();  // only root may make device nodes
        ::unlink(path.c_str());
        if (::mknod(path.c_str(), (n.type == NodeType::kDev ? S_IFBLK : S_IFCHR) | (n.mode & 07777),
                    static_cast<dev_t>(n.rdev)) != 0) {
          return Errno("cannot create the device " + path, errno);
        }
        ++result_.files;
        return Meta(path, n, -1);
      default:
        return OkStatus();  // sockets belong to the process that made them
    }
  }

  Status File(Node n, const std::string& path, const std::string& rel) {
    auto f = std::make_shared<RestoreFile>();
    f->path = path;
    f->rel = rel;
    f->lengths.reserve(n.content.size());
    f->locations.reserve(n.content.size());
    uint64_t offset = 0;
    for (const BlobId& id : n.content) {
      SF_ASSIGN_OR_RETURN(BlobLocation loc, reader_.Locate(id, rel));
      f->lengths.push_back(loc.entry.raw_length);
      f->offsets.push_back(offset);
      offset += loc.entry.raw_length;
      f->locations.push_back(std::move(loc));
    }
    if (offset != n.size) {
      return DataLossError(rel + ": its chunks add up to " + std::to_string(offset) + " bytes, the snapshot says " +
                           std::to_string(n.size));
    }
    f->left = n.content.size();
    const size_t chunks = n.content.size();
    f->node = std::move(n);
    // Files are created here, one thread: creating many in one directory from several threads
    // only makes them queue on the directory's lock (and spin on it).
    SF_RETURN_IF_ERROR(Create(*f));
    if (chunks == 0) return Complete(*f);
    for (size_t i = 0; i < chunks; ++i) {
      std::unique_lock<std::mutex> l(mu_);
      room_cv_.wait(l, [&] { return queue_.size() < 256 || !error_.ok(); });
      if (!error_.ok()) return error_;
      queue_.push_back(RestoreTask{f, i});
      l.unlock();
      cv_.notify_one();
    }
    return OkStatus();
  }

  Status Create(RestoreFile& f) {
    int fd = ::open(f.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {
      // Restoring over an earlier restore: the old entry (never what a symlink points to) goes.
      ::unlink(f.path.c_str());
      fd = ::open(f.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0) return Errno("cannot create " + f.path, errno);
    f.fd = fd;
    return OkStatus();
  }

  void Work() {
    BlobHasher hasher(repo_.key().id);
    Bytes sealed, scratch;  // this worker's, reused: a batch's sealed bytes, a decompressed chunk
    std::vector<RestoreTask> batch;
    while (true) {
      batch.clear();
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) break;
        TakeBatch(batch);
        ++busy_;
      }
      room_cv_.notify_one();
      Status s = Failed();
      if (s.ok()) s = RestoreBatch(batch, sealed, scratch, hasher);
      if (!s.ok()) Fail(s);
      {
        std::lock_guard<std::mutex> l(mu_);
        --busy_;
      }
      done_cv_.notify_all();
    }
  }

  static const BlobLocation& Where(const RestoreTask& t) { return t.file->locations[t.index]; }

  // The task at the queue's head, and those queued behind it (up to the first of another pack)
  // whose chunks lie near it in the same pack, in any order: a backup on several cores stores
  // neighbouring small files' chunks in the order they were done (under the queue mutex). Never
  // two overlapping ranges (a chunk twice): each is decrypted where it lies.
  void TakeBatch(std::vector<RestoreTask>& batch) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
    const BlobLocation& first = Where(batch.front());
    uint64_t lo = first.entry.offset, hi = lo + first.entry.stored_length, needed = first.entry.stored_length;
    for (size_t i = 0; i < queue_.size() && batch.size() < kBatchChunks;) {
      const BlobLocation& next = Where(queue_[i]);
      if (next.pack != first.pack) break;
      const uint64_t begin = next.entry.offset, end = begin + next.entry.stored_length;
      const uint64_t span = std::max(hi, end) - std::min(lo, begin);
      const bool overlaps = std::any_of(batch.begin(), batch.end(), [&](const RestoreTask& t) {
        const PackEntry& e = Where(t).entry;
        return begin < e.offset + e.stored_length && e.offset < end;
      });
      if (overlaps || span > kBatchBytes || span - (needed + (end - begin)) > kBatchGap * (batch.size() + 1)) {
        ++i;
        continue;
      }
      lo = std::min(lo, begin);
      hi = std::max(hi, end);
      needed += end - begin;
      batch.push_back(std::move(queue_[i]));
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  // One read for the batch's range of its pack, then each chunk opened where it lies and written.
  Status RestoreBatch(std::vector<RestoreTask>& batch, Bytes& sealed, Bytes& scratch, const BlobHasher& hasher) {
    const BlobLocation& first = Where(batch.front());
    uint64_t start = first.entry.offset, end = start;
    for (const RestoreTask& t : batch) {
      start = std::min(start, Where(t).entry.offset);
      end = std::max(end, Where(t).entry.offset + Where(t).entry.stored_length);
    }
    if (!repo_.backend().LoadInto(FileType::kData, first.pack, sealed, start, end - start).ok()) {
      // Chunk by chunk, so that the error names the first file whose chunk cannot be read.
      for (RestoreTask& t : batch) {
        SF_RETURN_IF_ERROR(Failed());
        SF_ASSIGN_OR_RETURN(Bytes data, reader_.LoadAt(Where(t), t.file->rel));
        SF_RETURN_IF_ERROR(Written(*t.file, t.index, data, data, hasher));
      }
      return OkStatus();
    }
    for (RestoreTask& t : batch) {
      SF_RETURN_IF_ERROR(Failed());
      const BlobLocation& loc = Where(t);
      SF_ASSIGN_OR_RETURN(std::span<const uint8_t> plain,
                          reader_.OpenSealed(loc, sealed.data() + (loc.entry.offset - start), scratch, hasher, t.file->rel));
      SF_RETURN_IF_ERROR(Written(*t.file, t.index, plain, scratch, hasher));
    }
    return OkStatus();
  }

  // Chunk `i` of `f`, `plain`, checked against the file's list and written (or handed over).
  // `owner` holds `plain` when they start at the same byte: a hand-over may then take it.
  Status Written(RestoreFile& f, size_t i, std::span<const uint8_t> plain, Bytes& owner, const BlobHasher& hasher) {
    if (plain.size() != f.lengths[i]) return DataLossError(f.rel + ": a chunk's size differs from its index entry");
    return WriteOrHandOff(f, i, plain, owner, hasher);
  }

  // Writes chunk `i` of `f`, and the chunks other workers hand over meanwhile, unless another
  // worker is writing `f`: then hands it over and returns. Two threads writing one file queue
  // on its inode lock, and the kernel spins the waiting one (15 % of a restore's CPU, measured
  // with perf, when page allocation was slow), where this worker can load the next chunk.
  Status WriteOrHandOff(RestoreFile& f, size_t i, std::span<const uint8_t> plain, Bytes& owner,
                        const BlobHasher& hasher) {
    {
      std::unique_lock<std::mutex> l(mu_);
      write_cv_.wait(l, [&] { return !f.writing || f.ready.size() < kReadyPerFile || !error_.ok(); });
      if (!error_.ok()) return OkStatus();  // the restore has failed already
      if (f.writing) {
        if (plain.data() == owner.data() && plain.size() == owner.size()) {
          f.ready.emplace_back(i, std::move(owner));
          owner = Bytes();
        } else {
          f.ready.emplace_back(i, Bytes(plain.begin(), plain.end()));
        }
        return OkStatus();
      }
      f.writing = true;
    }
    Bytes handed;
    while (true) {
      const Status s = WriteAt(f, i, plain);
      bool last = false, more = false;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (s.ok()) last = --f.left == 0;
        more = s.ok() && !f.ready.empty();
        if (more) {
          i = f.ready.front().first;
          handed = std::move(f.ready.front().second);
          plain = handed;
          f.ready.pop_front();
        } else {
          f.writing = false;
          f.ready.clear();
        }
      }
      write_cv_.notify_all();
      if (!s.ok()) return s;
      if (last) return Complete(f, &hasher);
      if (!more) return OkStatus();
    }
  }

  Status WriteAt(RestoreFile& f, size_t i, std::span<const uint8_t> data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t w = ::pwrite(f.fd, data.data() + done, data.size() - done, static_cast<off_t>(f.offsets[i] + done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno("cannot write " + f.path, errno);
      done += static_cast<size_t>(w);
    }
    bytes_ += data.size();
    return OkStatus();
  }

  // The file's last chunk is written: metadata, close, and with `verify` a re-read.
  Status Complete(RestoreFile& f, const BlobHasher* hasher = nullptr) {
    Status s = Meta(f.path, f.node, f.fd);
    if (::close(f.fd) != 0 && s.ok()) s = Errno("cannot close " + f.path, errno);
    f.fd = -1;
    SF_RETURN_IF_ERROR(s);
    ++files_;
    if (request_.verify) {
      std::unique_ptr<BlobHasher> own;
      if (hasher == nullptr) {
        own = std::make_unique<BlobHasher>(repo_.key().id);
        hasher = own.get();
      }
      const std::string why = CompareFile(f.path, f.node, f.lengths, *hasher);
      if (!why.empty()) {
        std::lock_guard<std::mutex> l(mu_);
        result_.mismatches.push_back(f.rel + ": " + why);
      }
    }
    return OkStatus();
  }

  // Owner (as root), mode, times; through `fd` when there is one.
  Status Meta(const std::string& path, const Node& n, int fd) {
    if (as_root_ && request_.ownership) {
      const int r = fd >= 0 ? ::fchown(fd, n.uid, n.gid) : ::lchown(path.c_str(), n.uid, n.gid);
      if (r != 0) return Errno("cannot set the owner of " + path, errno);
    }
    if (n.type != NodeType::kSymlink) {
      const int r = fd >= 0 ? ::fchmod(fd, n.mode & 07777) : ::chmod(path.c_str(), n.mode & 07777);
      if (r != 0) return Errno("cannot set the mode of " + path, errno);
    }
    const timespec times[2] = {{n.mtime_ns / 1'000'000'000, n.mtime_ns % 1'000'000'000},
                               {n.mtime_ns / 1'000'000'000, n.mtime_ns % 1'000'000'000}};
    const int r = fd >= 0 ? ::futimens(fd, times) : ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
    if (r != 0) return Errno("cannot set the times of " + path, errno);
    return OkStatus();
  }

  void Report(bool final = false) {
    if (!request_.progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (!final && now - last_report_ < std::chrono::milliseconds(kProgressEveryMs)) return;
    last_report_ = now;
    Progress p;
    p.files = files_;
    p.bytes = bytes_;
    p.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - started_).count();
    request_.progress(p);
  }

 public:
  void Collect() {
    result_.files += files_;
    result_.bytes = bytes_;
    std::sort(result_.mismatches.begin(), result_.mismatches.end());
  }

 private:
  Repository& repo_;
  IndexCache& cache_;
  const RestoreRequest& request_;
  BlobReader reader_;
  const bool as_root_;
  std::map<std::string, bool> includes_;  // path -> matched
  std::map<std::pair<uint64_t, uint64_t>, std::string> hardlinks_;
  std::vector<std::pair<std::string, Node>> dirs_;
  RestoreResult result_;
  std::atomic<uint64_t> files_{0}, bytes_{0};
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_report_{};

  std::mutex mu_;
  std::condition_variable cv_, room_cv_, done_cv_, write_cv_;
  std::deque<RestoreTask> queue_;
  int busy_ = 0;
  bool closing_ = false;
  Status error_;
  std::vector<std::thread> workers_;
};

}  // namespace

StatusOr<RestoreResult> Restore(Repository& repo, IndexCache& cache, const RestoreRequest& request) {
  SF_ASSIGN_OR_RETURN(nlohmann::json doc, repo.LoadDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, request.snapshot_id));
  SF_ASSIGN_OR_RETURN(Snapshot s, ParseSnapshotDocument(doc, "snapshots/" + request.snapshot_id));
  SF_RETURN_IF_ERROR(cache.Sync(repo).status());
  if (::mkdir(request.target.c_str(), 0700) != 0 && errno != EEXIST) return Errno("cannot create " + request.target, errno);
  Restorer r(repo, cache, request);
  r.Start();
  Status st = r.Tree(s.tree, request.target, "");
  const Status waited = r.Wait();
  if (st.ok()) st = waited;
  r.Stop();
  SF_RETURN_IF_ERROR(st);
  SF_RETURN_IF_ERROR(r.error());
  SF_RETURN_IF_ERROR(r.FinishDirs());
  SF_RETURN_IF_ERROR(r.Unmatched());
  r.Collect();
  r.FinalProgress();
  return r.result();
}

}  // namespace steadfast::backup
