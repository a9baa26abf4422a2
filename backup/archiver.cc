#include "backup/archiver.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "backup/chunker.h"
#include "backup/reader.h"
#include "backup/workers.h"
#include "common/fs/posix.h"

namespace steadfast::backup {
namespace {

constexpr size_t kInFlightBudget = 8u << 20;   // chunk bytes queued or being processed
constexpr size_t kPacksWaiting = 1;            // finished packs waiting for the writer
constexpr size_t kPacksPerIndex = 64;          // FORMAT.md 6
// Files of at least this size are read on the reader thread, so that the walking thread goes on
// through the small files meanwhile; at most kReadsWaiting of them wait for it (each holds an open
// descriptor). The reader leaves kWalkerShare of the in-flight budget to the walking thread, so
// that a large file does not hold up the small ones.
constexpr uint64_t kReaderBytes = 1u << 20;
constexpr size_t kReadsWaiting = 64;
constexpr size_t kWalkerShare = 2u << 20;
// A directory's entries are stat'ed up to this many ahead of the walk (see Dir).
constexpr size_t kLookAhead = 256;

Status Errno(const std::string& what, int err) { return ErrnoStatus(err, what); }

int64_t Nanos(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }


struct IdHash {
  size_t operator()(const BlobId& id) const {
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
  }
};


// Names of users and groups, looked up once each.
class Names {
 public:
  const std::string& User(uint32_t uid) {
    auto it = users_.find(uid);
    if (it != users_.end()) return it->second;
    struct passwd pw {};
    struct passwd* out = nullptr;
    char buf[4096];
    std::string name;
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &out) == 0 && out != nullptr) name = out->pw_name;
    return users_.emplace(uid, name).first->second;
  }
  const std::string& Group(uint32_t gid) {
    auto it = groups_.find(gid);
    if (it != groups_.end()) return it->second;
    struct group gr {};
    struct group* out = nullptr;
    char buf[4096];
    std::string name;
    if (::getgrgid_r(gid, &gr, buf, sizeof buf, &out) == 0 && out != nullptr) name = out->gr_name;
    return groups_.emplace(gid, name).first->second;
  }

 private:
  std::unordered_map<uint32_t, std::string> users_, groups_;
};

Node NodeOf(const struct stat& st, const std::string& name, Names& names) {
  Node n;
  n.name = name;
  n.mode = st.st_mode & 07777;
  n.uid = st.st_uid;
  n.gid = st.st_gid;
  n.user = names.User(st.st_uid);
  n.group = names.Group(st.st_gid);
  n.mtime_ns = Nanos(st.st_mtim);
  n.ctime_ns = Nanos(st.st_ctim);
  n.inode = st.st_ino;
  n.device = st.st_dev;
  n.links = st.st_nlink;
  if (S_ISREG(st.st_mode)) {
    n.type = NodeType::kFile;
    n.size = static_cast<uint64_t>(st.st_size);  // as found; Read counts what it reads
  }
  else if (S_ISDIR(st.st_mode)) n.type = NodeType::kDir;
  else if (S_ISLNK(st.st_mode)) n.type = NodeType::kSymlink;
  else if (S_ISFIFO(st.st_mode)) n.type = NodeType::kFifo;
  else if (S_ISSOCK(st.st_mode)) n.type = NodeType::kSocket;
  else if (S_ISBLK(st.st_mode)) n.type = NodeType::kDev;
  else n.type = NodeType::kCharDev;
  if (n.type == NodeType::kDev || n.type == NodeType::kCharDev) n.rdev = st.st_rdev;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Backup

struct DirBuild;

// One file being read. The thread reading it (the walking thread or the reader thread) owns
// `node`, `ids`' growth, `skip` and `warning` until it seals the job; the walking thread takes it
// over once it is complete (sealed, and every chunk done), which is decided under the queue mutex.
struct FileJob {
  Node node;
  std::deque<BlobId> ids;  // filled by the workers; references stay valid as it grows
  size_t dispatched = 0;   // under the queue mutex
  size_t done = 0;         // under the queue mutex
  bool sealed = false;     // every chunk dispatched (under the queue mutex)
  bool skip = false;       // could not be read to the end: left out of the snapshot
  std::string warning;     // why it was left out
  // The walking thread's: where the file's node goes (null until the walk reaches a file
  // handed to the reader early), and whether it completed before that.
  DirBuild* dir = nullptr;
  size_t slot = 0;
  bool complete = false;
};

// A directory whose tree is being built. Its nodes are in walk order; a file still being read,
// or a subdirectory not yet finished, holds its slot. Once the walk has closed it and no slot is
// pending, its tree is saved and its node fills its slot in its parent. Siblings finish
// independently: a large file being read holds up its own directory (and those above it), not
// the walk.
struct DirBuild {
  Node node;                                        // the directory's own node (not the root's)
  std::optional<BlobId> before_tree;                // its tree in the parent snapshot
  std::shared_ptr<const std::vector<Node>> before;  // and that tree's nodes
  std::vector<Node> nodes;
  std::vector<size_t> omitted;  // slots of files left out (unreadable)
  std::vector<std::unique_ptr<FileJob>> jobs;
  size_t pending = 0;
  bool closed = false;
  DirBuild* parent = nullptr;  // null: the root
  size_t slot = 0;             // its slot in the parent
  std::list<DirBuild>::iterator self;
};

// A file the walking thread opened for the reader thread.
struct ReadJob {
  UniqueFd fd;
  std::string path;
  FileJob* file = nullptr;
  uint64_t size = 0;  // from lstat
};

// Whether a file's metadata is what the parent snapshot recorded (size, times, inode): then it
// is taken to be unchanged.
bool SameFileMetadata(const Node& old, const Node& n) {
  return old.type == NodeType::kFile && old.digest && old.size == n.size && old.mtime_ns == n.mtime_ns &&
         old.ctime_ns == n.ctime_ns && old.inode == n.inode;
}

// Opens a file to back it up (without updating its access time where the owner allows that).
int OpenToRead(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  return fd;
}

bool SameNode(const Node& a, const Node& b) {
  return a.name == b.name && a.type == b.type && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid &&
         a.user == b.user && a.group == b.group && a.mtime_ns == b.mtime_ns && a.ctime_ns == b.ctime_ns &&
         a.inode == b.inode && a.device == b.device && a.links == b.links && a.size == b.size &&
         a.content == b.content && a.digest == b.digest && a.subtree == b.subtree && a.target == b.target &&
         a.rdev == b.rdev && a.xattrs == b.xattrs;
}

struct ChunkTask {
  FileJob* file = nullptr;
  BlobId* slot = nullptr;
  ByteBuffer data;  // uninitialised growth: read() fills it
};

// Chunk boundaries of the second half of a large file, found on another core while the walking
// thread chunks the first half (the walking thread bounds an incremental backup's wall time).
// Starts at `from` as if a chunk began there and records the end of every chunk it finds
// (absolute offsets). Content-defined cuts depend only on the data since the last cut, so once
// the walking thread makes a cut that this list also has, every later cut of the list is the
// one the walking thread would make: the result is exactly the sequential chunking. Reads with
// pread on the same descriptor; stops at a read error or the end of the file (the walking thread
// then falls back to chunking itself).
class CutAhead {
 public:
  CutAhead(int fd, const Chunker& chunker, uint64_t from)
      : fd_(fd), chunker_(chunker), from_(from), thread_([this] { Run(); }) {}
  ~CutAhead() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    thread_.join();
  }
  CutAhead(const CutAhead&) = delete;
  CutAhead& operator=(const CutAhead&) = delete;

  uint64_t from() const { return from_; }

  // The index of `cut` in the list once the list has reached it, or -1 if it is not there.
  int64_t Find(uint64_t cut) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_ || (!cuts_.empty() && cuts_.back() >= cut); });
    auto it = std::lower_bound(cuts_.begin(), cuts_.end(), cut);
    return it != cuts_.end() && *it == cut ? it - cuts_.begin() : -1;
  }
  // The i-th cut, waiting for it; nullopt once the list is complete without it.
  std::optional<uint64_t> At(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_ || cuts_.size() > i; });
    if (i < cuts_.size()) return cuts_[i];
    return std::nullopt;
  }

 private:
  void Run() {
    constexpr size_t kStep = 1u << 20;
    const size_t max = chunker_.params().max;
    std::vector<uint8_t> ring(max + kStep);
    uint64_t offset = from_;  // file offset of ring[end]
    uint64_t start = from_;   // file offset of ring[begin]
    size_t begin = 0, end = 0;
    Chunker::State state;
    bool eof = false;
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) break;
      }
      if (!eof && end - begin < max) {
        if (ring.size() - end < kStep) {
          std::memmove(ring.data(), ring.data() + begin, end - begin);
          end -= begin;
          begin = 0;
        }
        ssize_t r;
        do {
          r = ::pread(fd_, ring.data() + end, std::min(kStep, ring.size() - end), static_cast<off_t>(offset));
        } while (r < 0 && errno == EINTR);
        if (r < 0) break;  // the walking thread reads the same bytes and reports the error
        if (r == 0) eof = true;
        end += static_cast<size_t>(r);
        offset += static_cast<uint64_t>(r);
      }
      if (begin == end) break;
      const size_t cut = chunker_.Resume(std::span<const uint8_t>(ring.data() + begin, end - begin), state, eof);
      if (cut == 0) continue;
      begin += cut;
      start += cut;
      state = Chunker::State();
      std::lock_guard<std::mutex> lock(mu_);
      cuts_.push_back(start);
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  const int fd_;
  const Chunker& chunker_;
  const uint64_t from_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint64_t> cuts_;  // ascending; guarded by mu_
  bool done_ = false;           // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  std::thread thread_;          // last: starts once the rest is set up
};

class Backupper {
 public:
  Backupper(Repository& repo, IndexCache& cache, const BackupRequest& request, const Clock& clock)
      : repo_(repo),
        cache_(cache),
        request_(request),
        clock_(clock),
        reader_(repo, cache),
        hasher_(repo.key().id),
        chunker_(MakeGearTable(repo.key().chunker), repo.config().chunker),
        trees_(repo.key(), repo.config().compression),
        started_ms_(clock.NowMillis()),
        data_(repo.key(), repo.config().compression, &pool_,
              // a full pack: the pack size, the largest blob compressed (zstd's bound), its header
              repo.config().pack_size + repo.config().chunker.max + repo.config().chunker.max / 128 + (1u << 20)) {
    root_ = &dirs_.emplace_back();  // the root tree's nodes
    root_->self = dirs_.begin();
    cur_ = root_;
  }

  ~Backupper() { Stop(); }

  void Start() {
    const int n = WorkerCount(request_.workers);
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { Work(); });
    // Two writers when there are two cores: one pack's fsync waits while the next is written.
    for (int i = 0; i < std::min(n, 2); ++i) writers_.emplace_back([this] { Write(); });
    if (n > 1) file_reader_ = std::thread([this] { ReadFiles(); });
    if (request_.progress) scanner_ = std::thread([this] { Scan(); });
  }

  // Joins every thread; after an error, whatever was in flight is dropped.
  void Stop() {
    stop_scan_ = true;
    if (scanner_.joinable()) scanner_.join();
    if (file_reader_.joinable()) {
      // Normally nothing is left to read here; after an error the rest is dropped.
      {
        std::lock_guard<std::mutex> l(q_mu_);
        reader_closing_ = true;
      }
      r_cv_.notify_all();
      main_cv_.notify_all();
      file_reader_.join();
      reads_.clear();
    }
    {
      std::lock_guard<std::mutex> l(q_mu_);
      closing_ = true;
    }
    q_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    if (!writers_.empty()) {
      if (!failed_ && data_.count() > 0) SubmitPack(data_.Finish(false));
      if (!failed_ && trees_.count() > 0) SubmitPack(trees_.Finish());
      {
        std::lock_guard<std::mutex> l(pack_mu_);
        writer_closing_ = true;
      }
      pack_cv_.notify_all();
      for (std::thread& t : writers_) t.join();
      writers_.clear();
      if (!failed_) {
        std::lock_guard<std::mutex> l(index_mu_);
        Status s = FlushIndex(pending_);
        if (!s.ok()) Fail(s);
      }
    }
  }

  Status error() {
    std::lock_guard<std::mutex> l(err_mu_);
    return error_;
  }

  // The node of `path` (and everything under it) into the current directory's list.
  Status Entry(const std::string& path, const std::string& name, const Node* old, bool top, dev_t root_dev,
               const struct stat* given = nullptr) {
    SF_RETURN_IF_ERROR(Failed());
    struct stat st {};
    if (given != nullptr) {
      st = *given;
    } else if (::lstat(path.c_str(), &st) != 0) {
      if (!top && errno == ENOENT) {
        warnings_.push_back(path + ": vanished during the backup");
        return OkStatus();
      }
      return Errno("cannot stat " + path, errno);
    }
    Node n = NodeOf(st, name, names_);
    switch (n.type) {
      case NodeType::kFile:
        return File(path, std::move(n), old, top);
      case NodeType::kDir:
        return Dir(path, std::move(n), old, top ? st.st_dev : root_dev);
      case NodeType::kSymlink: {
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        const ssize_t len = ::readlink(path.c_str(), target.data(), target.size());
        if (len < 0) return Errno("cannot read the link " + path, errno);
        target.resize(static_cast<size_t>(len));
        n.target = target;
        break;
      }
      default:
        break;
    }
    cur_->nodes.push_back(std::move(n));
    return OkStatus();
  }

  // A file that is not in the filesystem tree: the dump stream of `--stdin`.
  Status Stream(int fd, Node n) {
    FileJob* f = NewFileJob(std::move(n));
    SetCurrent("<stdin>");
    return Read(fd, "<stdin>", f, 0, ring_, true);
  }

  // Waits for everything dispatched, then saves the root tree.
  StatusOr<BlobId> FinishRoot() {
    while (true) {
      SF_RETURN_IF_ERROR(Pump());
      if (root_->pending == 0) break;
      std::unique_lock<std::mutex> l(q_mu_);
      main_cv_.wait(l, [&] { return !completed_.empty() || failed_; });
    }
    SF_RETURN_IF_ERROR(Failed());
    return SaveTree(Completed(*root_));
  }

  SnapshotSummary summary() {
    SnapshotSummary s = summary_;
    s.bytes_read = bytes_read_.load();
    s.blobs_added = blobs_added_.load();
    s.bytes_added_stored = bytes_added_stored_.load();
    return s;
  }
  uint64_t bytes_added_raw() const { return bytes_added_raw_.load(); }
  std::vector<std::string>& warnings() { return warnings_; }
  void FinalProgress() { Report(true); }


 private:
  Status Failed() {
    if (!failed_) return OkStatus();
    return error();
  }

  void Fail(Status s) {
    {
      std::lock_guard<std::mutex> l(err_mu_);
      if (error_.ok()) error_ = std::move(s);
    }
    failed_ = true;
    pool_.Open();
    q_cv_.notify_all();
    main_cv_.notify_all();
    pack_cv_.notify_all();
  }


  // Whether the repository or this run already has the blob.
  StatusOr<bool> Known(const BlobId& id) {
    {
      std::lock_guard<std::mutex> l(claim_mu_);
      if (added_.count(id)) return true;
    }
    SF_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache_.Find(id));
    return loc.has_value();
  }

  // True when the caller is the first to store the blob.
  StatusOr<bool> Claim(const BlobId& id) {
    std::lock_guard<std::mutex> l(claim_mu_);
    if (added_.count(id)) return false;
    SF_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache_.Find(id));
    if (loc) return false;
    added_.insert(id);
    return true;
  }

  Status File(const std::string& path, Node n, const Node* old, bool top) {
    const bool had_old = old != nullptr && old->type == NodeType::kFile;
    if (auto early = early_.find(path); early != early_.end()) {
      // Handed to the reader thread when Dir looked ahead.
      ++(had_old ? summary_.files_changed : summary_.files_new);
      FileJob* f = Place(std::move(early->second));
      early_.erase(early);
      return f->complete ? Finalise(f) : OkStatus();
    }
    // Unchanged since the parent snapshot (size, times, inode): its chunks are taken as they
    // were, once each is confirmed to be in the index.
    if (had_old && SameFileMetadata(*old, n)) {
      bool all = true;
      for (const BlobId& id : old->content) {
        SF_ASSIGN_OR_RETURN(bool known, Known(id));
        if (!known) {
          all = false;
          break;
        }
      }
      if (all) {
        n.size = old->size;
        n.content = old->content;
        n.digest = old->digest;
        ++summary_.files_unmodified;
        ++files_done_;
        bytes_done_ += n.size;
        cur_->nodes.push_back(std::move(n));
        Report(false);
        return OkStatus();
      }
    }
    const int fd = OpenToRead(path);
    if (fd < 0) {
      if (top) return Errno("cannot open " + path, errno);
      warnings_.push_back(path + ": " + std::strerror(errno) + "; left out");
      return OkStatus();
    }
    UniqueFd closer(fd);
    if (had_old) {
      ++summary_.files_changed;
    } else {
      ++summary_.files_new;
    }
    const uint64_t expected_size = n.size;  // from lstat; the file may change while read
    FileJob* f = NewFileJob(std::move(n));
    if (file_reader_.joinable() && expected_size >= kReaderBytes) {
      return QueueRead(ReadJob{std::move(closer), path, f, expected_size});
    }
    SetCurrent(path);
    return Read(fd, path, f, expected_size, ring_, true);
  }

  // A new file job, in the current directory's next slot.
  FileJob* NewFileJob(Node n) {
    auto job = std::make_unique<FileJob>();
    job->node = std::move(n);
    job->node.size = 0;
    return Place(std::move(job));
  }

  // Gives a file job the current directory's next slot.
  FileJob* Place(std::unique_ptr<FileJob> job) {
    FileJob* f = job.get();
    f->dir = cur_;
    f->slot = cur_->nodes.size();
    cur_->nodes.emplace_back();
    ++cur_->pending;
    cur_->jobs.push_back(std::move(job));
    return f;
  }

  // Dir's look-ahead: a large file that must be read (new, or its metadata changed) goes to the
  // reader thread now, while there is room in its queue; File takes the job when the walk
  // reaches it. Anything else (and a file that cannot be opened here) is left to File.
  void ReadEarly(const std::string& path, const std::string& name, const struct stat& st, const Node* old) {
    if (!file_reader_.joinable() || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) < kReaderBytes) return;
    Node n = NodeOf(st, name, names_);
    if (old != nullptr && SameFileMetadata(*old, n)) return;
    {
      std::lock_guard<std::mutex> l(q_mu_);
      if (reads_.size() >= kReadsWaiting) return;
    }
    UniqueFd fd(OpenToRead(path));
    if (fd.get() < 0) return;
    auto job = std::make_unique<FileJob>();
    job->node = std::move(n);
    job->node.size = 0;
    {
      std::lock_guard<std::mutex> l(q_mu_);
      reads_.push_back(ReadJob{std::move(fd), path, job.get(), static_cast<uint64_t>(st.st_size)});
    }
    r_cv_.notify_one();
    early_.emplace(path, std::move(job));
  }

  // Hands an opened file to the reader thread; waits (completing what is done meanwhile) while
  // kReadsWaiting files wait for it.
  Status QueueRead(ReadJob job) {
    std::unique_lock<std::mutex> l(q_mu_);
    while (reads_.size() >= kReadsWaiting && !failed_) {
      l.unlock();
      SF_RETURN_IF_ERROR(Pump());
      Report(false);
      l.lock();
      if (reads_.size() >= kReadsWaiting && !failed_) main_cv_.wait_for(l, std::chrono::milliseconds(50));
    }
    if (failed_) {
      l.unlock();
      return error();
    }
    reads_.push_back(std::move(job));
    l.unlock();
    r_cv_.notify_one();
    return OkStatus();
  }

  // The reader thread: the large files, one after the other, in the order they were walked.
  void ReadFiles() {
    ByteBuffer ring;
    while (true) {
      ReadJob job;
      {
        std::unique_lock<std::mutex> l(q_mu_);
        r_cv_.wait(l, [&] { return !reads_.empty() || reader_closing_ || failed_; });
        if (reads_.empty() || reader_closing_ || failed_) break;
        job = std::move(reads_.front());
        reads_.pop_front();
      }
      main_cv_.notify_all();  // room in the queue
      SetCurrent(job.path);
      const Status s = Read(job.fd.get(), job.path, job.file, job.size, ring, false);
      if (!s.ok()) {
        Fail(s);
        break;
      }
    }
  }

  void SetCurrent(const std::string& path) {
    if (!request_.progress) return;
    std::lock_guard<std::mutex> l(current_mu_);
    current_ = path;
  }

  // Files at least this large have their second half chunked ahead on another core.
  // (8 times the largest chunk: 64 MiB with the default parameters.)
  uint64_t CutAheadBytes() const { return 8 * static_cast<uint64_t>(chunker_.params().max); }

  // Reads and chunks one file into `f` on the calling thread (`walking`: the walking thread, which
  // completes finished entries while it waits for the workers; or the reader thread).
  Status Read(int fd, const std::string& path, FileJob* f, uint64_t expected_size, ByteBuffer& ring, bool walking) {
    // The file is read in steps of 1 MiB into a ring of at most max + 1 MiB (smaller while the
    // files are small); the chunker resumes where it stopped, so nothing is scanned twice; each
    // chunk is copied out at its exact size. When the ring's end is reached, the chunk under way
    // (usually a fraction of max) moves to the front.
    constexpr size_t kStep = 1u << 20;
    const size_t max = chunker_.params().max;
    const size_t full = max + kStep;
    if (ring.size() < full) ring.resize(static_cast<size_t>(std::min<uint64_t>(full, expected_size + kStep)));
    size_t begin = 0, end = 0;
    Chunker::State state;
    bool eof = false;
    // A large file's second half is chunked ahead on another core (CutAhead).
    std::unique_ptr<CutAhead> ahead;
    if (expected_size >= CutAheadBytes() && WorkerCount(request_.workers) > 1) {
      ahead = std::make_unique<CutAhead>(fd, chunker_, expected_size / 2);
    }
    uint64_t pos = 0;          // file offset of ring_[begin]
    int64_t next_ahead = -1;   // once in step with `ahead`: the index of its next cut
    while (true) {
      if (!eof && end - begin < max) {
        if (ring.size() - end < kStep) {
          std::memmove(ring.data(), ring.data() + begin, end - begin);
          end -= begin;
          begin = 0;
          if (ring.size() - end < kStep) ring.resize(std::min(full, std::max(2 * ring.size(), end + kStep)));
        }
        ssize_t r;
        do {
          r = ::read(fd, ring.data() + end, std::min(kStep, ring.size() - end));
        } while (r < 0 && errno == EINTR);
        if (r < 0) return ReadFailed(f, path, walking);
        if (r == 0) eof = true;
        end += static_cast<size_t>(r);
      }
      if (begin == end) break;
      size_t cut = 0;
      if (next_ahead >= 0) {
        const std::optional<uint64_t> c = ahead->At(static_cast<size_t>(next_ahead));
        if (c && *c - pos <= end - begin) {
          cut = static_cast<size_t>(*c - pos);
          ++next_ahead;
        } else if (c && !eof) {
          continue;  // at most max bytes ahead: the next read brings them
        } else {
          // Its list ended (the file grew, or its read failed) or the file ended first: the
          // rest is chunked here.
          next_ahead = -1;
          ahead.reset();
          state = Chunker::State();
        }
      }
      if (cut == 0) {
        cut = chunker_.Resume(std::span<const uint8_t>(ring.data() + begin, end - begin), state, eof);
        if (cut == 0) continue;
        if (ahead && pos + cut > ahead->from()) {
          const int64_t at = ahead->Find(pos + cut);
          if (at >= 0) {
            next_ahead = at + 1;
          } else if (pos + cut > ahead->from() + 4 * max) {
            ahead.reset();  // never in step (very unlikely): stop it, chunk on alone
          }
        }
      }
      pos += cut;
      ByteBuffer chunk(ring.begin() + static_cast<std::ptrdiff_t>(begin),
                       ring.begin() + static_cast<std::ptrdiff_t>(begin + cut));
      begin += cut;
      state = Chunker::State();
      f->node.size += cut;
      bytes_done_ += cut;
      bytes_read_ += cut;
      SF_RETURN_IF_ERROR(Dispatch(f, std::move(chunk), walking));
    }
    return Sealed(f, walking);
  }

  Status ReadFailed(FileJob* f, const std::string& path, bool walking) {
    f->warning = path + ": " + std::strerror(errno) + " while reading; left out";
    f->skip = true;
    return Sealed(f, walking);
  }

  Status Sealed(FileJob* f, bool walking) {
    {
      std::lock_guard<std::mutex> l(q_mu_);
      f->sealed = true;
      if (f->done == f->dispatched) completed_.push_back(f);
    }
    ++files_done_;
    if (walking) {
      Report(false);
    } else {
      main_cv_.notify_all();
    }
    return OkStatus();
  }

  Status Dir(const std::string& path, Node n, const Node* old, dev_t root_dev) {
    // The parent snapshot's nodes of this directory: unchanged files take their chunks from
    // them, and a directory whose nodes all come out the same keeps its tree (no encoding).
    std::shared_ptr<std::vector<Node>> before_nodes;
    std::map<std::string_view, const Node*> before;
    DirBuild& d = dirs_.emplace_back();
    d.self = std::prev(dirs_.end());
    if (old != nullptr && old->type == NodeType::kDir && old->subtree) {
      SF_ASSIGN_OR_RETURN(std::vector<Node> nodes, reader_.LoadTree(*old->subtree, "parent snapshot " + path));
      before_nodes = std::make_shared<std::vector<Node>>(std::move(nodes));
      for (const Node& o : *before_nodes) before.emplace(o.name, &o);
      d.before_tree = *old->subtree;
      d.before = before_nodes;
    }
    const dev_t dev = n.device;
    d.node = std::move(n);
    d.parent = cur_;
    d.slot = cur_->nodes.size();
    cur_->nodes.emplace_back();
    ++cur_->pending;
    cur_ = &d;
    if (!request_.one_file_system || dev == root_dev) {
      const std::optional<std::vector<std::string>> names = ListDir(path);
      if (!names) {
        warnings_.push_back(path + ": cannot list: " + std::strerror(errno));
      } else {
        // Entries are stat'ed up to kLookAhead ahead of the walk, and a large file among them
        // that must be read goes to the reader thread at once (ReadEarly): it is read while the
        // walk goes through the entries before it, such as directories of small files.
        struct Ahead {
          const std::string* name;
          struct stat st;
        };
        std::deque<Ahead> ahead;
        size_t next = 0;
        while (true) {
          while (next < names->size() && ahead.size() < kLookAhead) {
            const std::string& name = (*names)[next++];
            const std::string child = path + "/" + name;
            if (Excluded(request_.excludes, child, name)) continue;
            Ahead a{&name, {}};
            if (::lstat(child.c_str(), &a.st) != 0) {
              warnings_.push_back(child + ": vanished during the backup");
              continue;
            }
            auto it = before.find(name);
            ReadEarly(child, name, a.st, it == before.end() ? nullptr : it->second);
            ahead.push_back(a);
          }
          if (ahead.empty()) break;
          const Ahead a = ahead.front();
          ahead.pop_front();
          const std::string& name = *a.name;
          auto it = before.find(name);
          SF_RETURN_IF_ERROR(Entry(path + "/" + name, name, it == before.end() ? nullptr : it->second, false, root_dev, &a.st));
        }
      }
    }
    d.closed = true;
    cur_ = d.parent;
    if (d.pending == 0) SF_RETURN_IF_ERROR(FinishDir(&d));
    return Pump();
  }

  // Queues one chunk for the workers, waiting while kInFlightBudget bytes are queued; the walking
  // thread completes finished entries meanwhile.
  Status Dispatch(FileJob* f, ByteBuffer data, bool walking) {
    f->ids.emplace_back();
    BlobId* slot = &f->ids.back();
    const size_t size = data.size();
    const size_t budget = walking ? kInFlightBudget : kInFlightBudget - kWalkerShare;
    std::unique_lock<std::mutex> l(q_mu_);
    const auto stopped = [&] { return failed_ || (!walking && reader_closing_); };
    while (in_flight_ > 0 && in_flight_ + size > budget) {
      if (stopped()) break;
      if (walking) {
        l.unlock();
        SF_RETURN_IF_ERROR(Pump());
        Report(false);
        l.lock();
      }
      if (in_flight_ > 0 && in_flight_ + size > budget && !stopped()) {
        main_cv_.wait_for(l, std::chrono::milliseconds(50));
      }
    }
    if (failed_) {
      l.unlock();
      return error();
    }
    if (stopped()) return AbortedError("the backup stopped");
    ++f->dispatched;
    in_flight_ += size;
    queue_.push_back(ChunkTask{f, slot, std::move(data)});
    l.unlock();
    q_cv_.notify_one();
    return OkStatus();
  }

  // Takes in the files whose chunks are all done: their nodes fill their slots, and the
  // directories they complete are saved (never waits).
  Status Pump() {
    std::vector<FileJob*> done;
    {
      std::lock_guard<std::mutex> l(q_mu_);
      done.swap(completed_);
    }
    for (FileJob* f : done) {
      if (f->dir == nullptr) {
        f->complete = true;  // handed to the reader early; File places it when the walk gets there
        continue;
      }
      SF_RETURN_IF_ERROR(Finalise(f));
    }
    return Failed();
  }

  Status Finalise(FileJob* f) {
    SF_RETURN_IF_ERROR(Failed());
    DirBuild* d = f->dir;
    if (!f->warning.empty()) warnings_.push_back(std::move(f->warning));
    if (f->skip) {
      d->omitted.push_back(f->slot);
    } else {
      f->node.content.assign(f->ids.begin(), f->ids.end());
      f->node.digest = FileDigest(repo_.key().id, f->node.size, f->node.content);
      d->nodes[f->slot] = std::move(f->node);
    }
    std::deque<BlobId>().swap(f->ids);
    --d->pending;
    if (d->closed && d->pending == 0 && d != root_) return FinishDir(d);
    return OkStatus();
  }

  // A directory's nodes without the slots of files left out.
  static std::vector<Node> Completed(DirBuild& d) {
    std::vector<Node> nodes = std::move(d.nodes);
    if (d.omitted.empty()) return nodes;
    std::sort(d.omitted.begin(), d.omitted.end());
    std::vector<Node> kept;
    kept.reserve(nodes.size() - d.omitted.size());
    size_t next = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (next < d.omitted.size() && d.omitted[next] == i) {
        ++next;
      } else {
        kept.push_back(std::move(nodes[i]));
      }
    }
    return kept;
  }

  // Saves a closed directory with no pending slot (unless it is as it was: then the parent's
  // tree is kept, not encoded again), fills its slot in its parent, and goes on up while that
  // completes the parent too.
  Status FinishDir(DirBuild* d) {
    while (d != root_) {
      std::vector<Node> nodes = Completed(*d);
      std::optional<BlobId> tree;
      if (d->before && d->before->size() == nodes.size() &&
          std::equal(nodes.begin(), nodes.end(), d->before->begin(), SameNode)) {
        SF_ASSIGN_OR_RETURN(bool known, Known(*d->before_tree));
        if (known) tree = d->before_tree;
      }
      if (!tree) {
        SF_ASSIGN_OR_RETURN(BlobId saved, SaveTree(std::move(nodes)));
        tree = saved;
      }
      DirBuild* parent = d->parent;
      d->node.subtree = *tree;
      parent->nodes[d->slot] = std::move(d->node);
      --parent->pending;
      dirs_.erase(d->self);
      if (!parent->closed || parent->pending > 0) break;
      d = parent;
    }
    return OkStatus();
  }

  StatusOr<BlobId> SaveTree(std::vector<Node> nodes) {
    SF_ASSIGN_OR_RETURN(Bytes tree, EncodeTree(std::move(nodes)));
    const BlobId id = hasher_.Id(tree);
    SF_ASSIGN_OR_RETURN(bool fresh, Claim(id));
    if (fresh) {
      SF_RETURN_IF_ERROR(trees_.Add(BlobType::kTree, id, tree));
      ++blobs_added_;
      bytes_added_raw_ += tree.size();
      if (trees_.size() >= repo_.config().pack_size) SubmitPack(trees_.Finish());
    }
    return id;
  }

  void Work() {
    BlobHasher hasher(repo_.key().id);
    BlobCompressor compressor(repo_.config().compression);
    while (true) {
      ChunkTask t;
      {
        std::unique_lock<std::mutex> l(q_mu_);
        q_cv_.wait(l, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) break;
        t = std::move(queue_.front());
        queue_.pop_front();
      }
      if (!failed_) {
        const BlobId id = hasher.Id(t.data);
        *t.slot = id;
        StatusOr<bool> fresh = Claim(id);
        if (!fresh.ok()) {
          Fail(fresh.status());
        } else if (*fresh) {
          // Compression outside the lock; the copy into the one shared pack and its sealing
          // (AES-GCM at several GB/s) inside.
          const BlobCompressor::Result r = compressor.Compress(t.data);
          std::optional<PackWriter::Pack> full;
          Status s;
          {
            std::lock_guard<std::mutex> l(data_mu_);
            s = data_.AddPayload(BlobType::kData, id, t.data.size(), r);
            if (s.ok() && data_.size() >= repo_.config().pack_size) full = data_.Finish(false);
          }
          if (!s.ok()) {
            Fail(s);
          } else {
            ++blobs_added_;
            bytes_added_raw_ += t.data.size();
            if (full) SubmitPack(std::move(*full));
          }
        }
      }
      const size_t size = t.data.size();
      t.data = ByteBuffer();
      {
        std::lock_guard<std::mutex> l(q_mu_);
        in_flight_ -= size;
        ++t.file->done;
        if (t.file->sealed && t.file->done == t.file->dispatched) completed_.push_back(t.file);
      }
      main_cv_.notify_all();
    }
  }

  void SubmitPack(PackWriter::Pack p) {
    std::unique_lock<std::mutex> l(pack_mu_);
    pack_cv_.wait(l, [&] { return packs_.size() < kPacksWaiting || failed_; });
    if (failed_) {
      l.unlock();
      pool_.Give(std::move(p.bytes));
      return;
    }
    packs_.push_back(std::move(p));
    l.unlock();
    pack_cv_.notify_all();
  }

  // A writer thread: packs, then (every kPacksPerIndex packs written, whichever writer completes
  // them) the index file that covers them. Stop writes the last index file.
  void Write() {
    while (true) {
      PackWriter::Pack p;
      {
        std::unique_lock<std::mutex> l(pack_mu_);
        pack_cv_.wait(l, [&] { return !packs_.empty() || writer_closing_ || failed_; });
        if (packs_.empty() || failed_) break;
        p = std::move(packs_.front());
        packs_.pop_front();
      }
      pack_cv_.notify_all();
      if (p.name.empty()) p.name = Hex(Sha256(p.bytes));  // hashed here, not under the pack's lock
      Status s = repo_.backend().Save(FileType::kData, p.name, p.bytes);
      if (!s.ok()) {
        pool_.Give(std::move(p.bytes));
        Fail(s);
        break;
      }
      bytes_added_stored_ += p.bytes.size();
      pool_.Give(std::move(p.bytes));
      std::lock_guard<std::mutex> l(index_mu_);
      pending_.push_back({p.name, std::move(p.entries)});
      if (pending_.size() >= kPacksPerIndex) {
        s = FlushIndex(pending_);
        if (!s.ok()) {
          Fail(s);
          break;
        }
      }
    }
    std::lock_guard<std::mutex> l(pack_mu_);
    for (PackWriter::Pack& left : packs_) pool_.Give(std::move(left.bytes));  // after a failure
    packs_.clear();
  }

  Status FlushIndex(std::vector<IndexedPack>& pending) {
    if (pending.empty()) return OkStatus();
    SF_ASSIGN_OR_RETURN(std::string name, repo_.SaveDocument(FileType::kIndex, EnvelopeKind::kIndex, IndexDocument(pending, {})));
    SF_RETURN_IF_ERROR(cache_.Add(name, pending, {}));
    {
      // Now in the cache: the run's own set keeps only blobs not yet in an index file.
      std::lock_guard<std::mutex> l(claim_mu_);
      for (const IndexedPack& p : pending) {
        for (const PackEntry& e : p.blobs) added_.erase(e.id);
      }
    }
    pending.clear();
    return OkStatus();
  }

  // Counts what the backup will read, for the progress totals.
  void Scan() {
    std::vector<std::string> stack(request_.paths.rbegin(), request_.paths.rend());
    for (const std::string& db : request_.sqlite_databases) stack.push_back(db);
    while (!stack.empty() && !stop_scan_) {
      const std::string path = stack.back();
      stack.pop_back();
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) continue;
      if (S_ISREG(st.st_mode)) {
        ++files_total_;
        bytes_total_ += static_cast<uint64_t>(st.st_size);
      } else if (S_ISDIR(st.st_mode)) {
        DIR* d = ::opendir(path.c_str());
        if (d == nullptr) continue;
        while (dirent* e = ::readdir(d)) {
          const std::string name = e->d_name;
          if (name == "." || name == "..") continue;
          const std::string child = path + "/" + name;
          if (!Excluded(request_.excludes, child, name)) stack.push_back(child);
        }
        ::closedir(d);
      }
    }
    scan_done_ = !stop_scan_;
  }

  void Report(bool final) {
    if (!request_.progress) return;
    const int64_t now = clock_.NowMillis();
    if (!final && now - last_report_ms_ < kProgressEveryMs) return;
    last_report_ms_ = now;
    Progress p;
    p.files = files_done_;
    p.bytes = bytes_done_;
    p.files_total = std::max<uint64_t>(files_total_.load(), p.files);
    p.bytes_total = std::max<uint64_t>(bytes_total_.load(), p.bytes);
    p.totals_final = scan_done_.load() || final;
    p.elapsed_ms = now - started_ms_;
    {
      std::lock_guard<std::mutex> l(current_mu_);
      p.current = current_;
    }
    request_.progress(p);
  }

  Repository& repo_;
  IndexCache& cache_;
  const BackupRequest& request_;
  const Clock& clock_;
  BlobReader reader_;
  BlobHasher hasher_;  // the calling thread's (trees)
  Chunker chunker_;
  PackWriter trees_;  // tree blobs go to their own packs: check and restore find them together
  Names names_;
  const int64_t started_ms_;

  // Calling thread only.
  std::list<DirBuild> dirs_;  // the root, the directories open on the walk's path, and those
                              // closed with files still being read
  DirBuild* root_ = nullptr;
  DirBuild* cur_ = nullptr;   // the directory the walk is in
  std::vector<std::string> warnings_;
  SnapshotSummary summary_;
  int64_t last_report_ms_ = 0;
  ByteBuffer ring_;  // the walking thread's read buffer (at most chunker max + 1 MiB)
  std::atomic<uint64_t> files_done_{0}, bytes_done_{0}, bytes_read_{0};  // both reading threads
  std::unordered_map<std::string, std::unique_ptr<FileJob>> early_;  // ReadEarly's, by path
  std::mutex current_mu_;
  std::string current_;  // the file being read, for the progress line

  // Chunk queue and the flow control of the calling thread.
  std::mutex q_mu_;
  std::condition_variable q_cv_, main_cv_;
  std::deque<ChunkTask> queue_;
  size_t in_flight_ = 0;
  bool closing_ = false;
  std::vector<FileJob*> completed_;  // files whose chunks are all done, for Pump
  // The reader thread's queue (under q_mu_).
  std::condition_variable r_cv_;
  std::deque<ReadJob> reads_;
  bool reader_closing_ = false;

  std::mutex claim_mu_;
  std::unordered_set<BlobId, IdHash> added_;  // stored this run, not yet in an index file

  // The data pack all workers fill, one at a time; its buffers: one filling, one waiting for
  // the writer, one being written.
  BufferPool pool_{3};
  std::mutex data_mu_;
  PackWriter data_;
  std::mutex pack_mu_;
  std::condition_variable pack_cv_;
  std::deque<PackWriter::Pack> packs_;
  bool writer_closing_ = false;
  std::mutex index_mu_;
  std::vector<IndexedPack> pending_;  // written packs no index file covers yet (under index_mu_)

  std::mutex err_mu_;
  Status error_;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> blobs_added_{0}, bytes_added_stored_{0}, bytes_added_raw_{0};
  std::atomic<uint64_t> files_total_{0}, bytes_total_{0};
  std::atomic<bool> stop_scan_{false}, scan_done_{false};

  std::vector<std::thread> workers_;
  std::vector<std::thread> writers_;
  std::thread scanner_, file_reader_;
};

// A consistent copy of a live SQLite database (its backup API), into `dest`.
Status CopySqlite(const std::string& source, const std::string& dest) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  const auto close = [&] {
    if (src != nullptr) sqlite3_close(src);
    if (dst != nullptr) sqlite3_close(dst);
  };
  if (sqlite3_open_v2(source.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string msg = src != nullptr ? sqlite3_errmsg(src) : "out of memory";
    close();
    return NotFoundError("cannot open the SQLite database " + source + ": " + msg);
  }
  sqlite3_busy_timeout(src, 10'000);
  if (sqlite3_open_v2(dest.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    close();
    return InternalError("cannot create the copy " + dest);
  }
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (b == nullptr) {
    const std::string msg = sqlite3_errmsg(dst);
    close();
    return InternalError("cannot copy " + source + ": " + msg);
  }
  int rc = SQLITE_OK;
  for (int tries = 0; tries < 600; ++tries) {  // up to a minute of a writer holding it
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  sqlite3_backup_finish(b);
  const std::string msg = sqlite3_errmsg(dst);
  close();
  if (rc != SQLITE_DONE) {
    return FailedPreconditionError("cannot copy the SQLite database " + source + ": " +
                                   (rc == SQLITE_NOTADB ? std::string("not a database") : msg));
  }
  return OkStatus();
}

StatusOr<std::optional<SnapshotRef>> ChooseParent(Repository& repo, const BackupRequest& request, const std::string& host,
                                                  const std::vector<std::string>& paths) {
  if (request.parent == "none") return std::optional<SnapshotRef>();
  if (!request.parent.empty()) {
    SF_ASSIGN_OR_RETURN(SnapshotRef s, FindSnapshot(repo, request.parent));
    return std::optional<SnapshotRef>(std::move(s));
  }
  std::vector<std::string> damaged;  // a damaged snapshot is simply not a candidate
  SF_ASSIGN_OR_RETURN(std::vector<SnapshotRef> all, ListSnapshots(repo, &damaged));
  std::vector<std::string> want = paths;
  std::sort(want.begin(), want.end());
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    std::vector<std::string> have = it->snapshot.paths;
    std::sort(have.begin(), have.end());
    if (it->snapshot.host == host && have == want) return std::optional<SnapshotRef>(*it);
  }
  return std::optional<SnapshotRef>();
}

}  // namespace

StatusOr<BackupResult> Backup(Repository& repo, IndexCache& cache, const BackupRequest& request) {
  RealClock real;
  const Clock& clock = request.clock != nullptr ? *request.clock : real;
  const int64_t started = clock.NowMillis();
  const bool from_stdin = request.stdin_fd >= 0;
  std::vector<std::string> all_paths = request.paths;
  all_paths.insert(all_paths.end(), request.sqlite_databases.begin(), request.sqlite_databases.end());
  if (from_stdin && !all_paths.empty()) return InvalidArgumentError("--stdin backs up one stream: give no paths with it");
  if (!from_stdin && all_paths.empty()) return InvalidArgumentError("nothing to back up: no paths");
  std::set<std::string> names;
  if (from_stdin) {
    const std::string& n = request.stdin_filename;
    if (n.empty() || n == "." || n == ".." || n.find('/') != std::string::npos) {
      return InvalidArgumentError("--stdin-filename '" + n + "' must be a plain file name");
    }
  }
  for (const std::string& p : all_paths) {
    if (p.empty() || p.front() != '/') return InvalidArgumentError("'" + p + "' is not an absolute path");
    const std::string name = LastComponent(p);
    if (name == "/" || name.empty()) return InvalidArgumentError("back up '/' by naming its directories");
    if (!names.insert(name).second) return InvalidArgumentError("two paths end in '" + name + "'; back them up separately");
  }
  for (const std::string& p : request.paths) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return Errno("cannot back up " + p, errno);
  }
  SF_RETURN_IF_ERROR(cache.Sync(repo).status());
  const std::string host = request.host.empty() ? ThisHost() : request.host;
  const std::vector<std::string> snapshot_paths =
      from_stdin ? std::vector<std::string>{"/" + request.stdin_filename} : all_paths;
  SF_ASSIGN_OR_RETURN(std::optional<SnapshotRef> parent, ChooseParent(repo, request, host, snapshot_paths));

  Backupper b(repo, cache, request, clock);
  BlobReader reader(repo, cache);
  std::map<std::string, Node> old_roots;
  if (parent) {
    SF_ASSIGN_OR_RETURN(std::vector<Node> nodes, reader.LoadTree(parent->snapshot.tree, "parent snapshot " + parent->id.substr(0, 8)));
    for (Node& n : nodes) old_roots.emplace(n.name, std::move(n));
  }
  const auto old_root = [&](const std::string& name) -> const Node* {
    auto it = old_roots.find(name);
    return it == old_roots.end() ? nullptr : &it->second;
  };
  b.Start();
  Status st;
  if (from_stdin) {
    Node n;
    n.name = request.stdin_filename;
    n.type = NodeType::kFile;
    n.mode = 0644;
    n.uid = ::geteuid();
    n.gid = ::getegid();
    n.user = ThisUser();
    n.mtime_ns = n.ctime_ns = started * 1'000'000;
    st = b.Stream(request.stdin_fd, std::move(n));
  }
  for (const std::string& p : request.paths) {
    if (!st.ok()) break;
    st = b.Entry(p, LastComponent(p), old_root(LastComponent(p)), true, 0);
  }
  std::string scratch;
  for (const std::string& db : request.sqlite_databases) {
    if (!st.ok()) break;
    struct stat orig {};
    if (::lstat(db.c_str(), &orig) != 0 || !S_ISREG(orig.st_mode)) {
      st = NotFoundError("cannot back up the SQLite database " + db + ": " +
                         (errno != 0 ? std::strerror(errno) : "not a regular file"));
      break;
    }
    if (scratch.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/steadfast-backup-XXXXXX";
      if (::mkdtemp(templ.data()) == nullptr) {
        st = Errno("cannot make a scratch directory for the SQLite copy", errno);
        break;
      }
      scratch = templ;
    }
    const std::string copy = scratch + "/" + LastComponent(db);
    st = CopySqlite(db, copy);
    if (st.ok()) {
      struct stat cst {};
      ::lstat(copy.c_str(), &cst);
      // The copy carries the original's identity, so a restore gives back the database's file.
      cst.st_mode = orig.st_mode;
      cst.st_uid = orig.st_uid;
      cst.st_gid = orig.st_gid;
      cst.st_mtim = orig.st_mtim;
      st = b.Entry(copy, LastComponent(db), nullptr, true, 0, &cst);
    }
    ::unlink(copy.c_str());
  }
  if (!scratch.empty()) ::rmdir(scratch.c_str());
  StatusOr<BlobId> root = st.ok() ? b.FinishRoot() : StatusOr<BlobId>(st);
  b.Stop();
  if (!root.ok()) return root.status();
  SF_RETURN_IF_ERROR(b.error());
  b.FinalProgress();

  Snapshot s;
  s.time = FormatRfc3339Millis(started);
  s.host = host;
  s.username = ThisUser();
  s.paths = snapshot_paths;
  s.tags = request.tags;
  s.excludes = request.excludes;
  s.tree = *root;
  if (parent) s.parent = parent->id;
  s.program = "steadfast-backup 0.1.0";
  s.source = from_stdin ? "stdin" : request.paths.empty() ? "sqlite" : "paths";
  s.summary = b.summary();
  s.summary.duration_ms = clock.NowMillis() - started;
  SF_ASSIGN_OR_RETURN(std::string id, repo.SaveDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, SnapshotDocument(s)));
  BackupResult result{id, s, b.bytes_added_raw(), std::move(b.warnings())};
  return result;
}

}  // namespace steadfast::backup
