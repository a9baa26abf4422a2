#include "backup/archiver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "backup/chunker.h"
#include "common/fs/posix.h"

namespace steadfast::backup {
namespace {

Status Errno(const std::string& what, int err) { return ErrnoStatus(err, what); }

std::string ThisHost() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

int64_t Nanos(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

// One backup run: the pack being filled, packs not yet in an index file, blobs added this run.
class Run {
 public:
  Run(Repository& repo, IndexCache& cache)
      : repo_(repo),
        cache_(cache),
        hasher_(repo.key().id),
        chunker_(MakeGearTable(repo.key().chunker), repo.config().chunker),
        writer_(repo.key(), repo.config().compression) {}

  StatusOr<BlobId> SaveBlob(BlobType type, std::span<const uint8_t> data) {
    const BlobId id = hasher_.Id(data);
    if (added_.count(id)) return id;
    SF_ASSIGN_OR_RETURN(std::optional<BlobLocation> known, cache_.Find(id));
    if (known) return id;
    SF_RETURN_IF_ERROR(writer_.Add(type, id, data));
    added_.insert(id);
    ++summary_.blobs_added;
    if (writer_.size() >= repo_.config().pack_size) SF_RETURN_IF_ERROR(FlushPack());
    return id;
  }

  Status FlushPack() {
    if (writer_.count() == 0) return OkStatus();
    PackWriter::Pack p = writer_.Finish();
    SF_RETURN_IF_ERROR(repo_.backend().Save(FileType::kData, p.name, p.bytes));
    summary_.bytes_added_stored += p.bytes.size();
    pending_.push_back({p.name, std::move(p.entries)});
    if (pending_.size() >= 64) SF_RETURN_IF_ERROR(FlushIndex());
    return OkStatus();
  }

  // Packs before their index, the index before the snapshot (FORMAT.md 10).
  Status FlushIndex() {
    if (pending_.empty()) return OkStatus();
    SF_RETURN_IF_ERROR(repo_.SaveDocument(FileType::kIndex, EnvelopeKind::kIndex, IndexDocument(pending_, {})).status());
    pending_.clear();
    return OkStatus();
  }

  StatusOr<Node> File(const std::string& path, const struct stat& st, Node n) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return Errno("cannot open " + path, errno);
    StreamHasher whole(repo_.key().id);
    Bytes buffer;
    const size_t max = repo_.config().chunker.max;
    buffer.reserve(2 * max);
    bool eof = false;
    Status st_read;
    while (true) {
      while (!eof && buffer.size() < max) {
        const size_t at = buffer.size();
        buffer.resize(at + max);
        const ssize_t r = ::read(fd, buffer.data() + at, max);
        if (r < 0 && errno == EINTR) {
          buffer.resize(at);
          continue;
        }
        if (r < 0) {
          st_read = Errno("cannot read " + path, errno);
          buffer.resize(at);
          eof = true;
          break;
        }
        buffer.resize(at + static_cast<size_t>(r));
        if (r == 0) eof = true;
      }
      if (!st_read.ok() || buffer.empty()) break;
      const size_t cut = chunker_.Cut(buffer);
      std::span<const uint8_t> chunk(buffer.data(), cut);
      whole.Update(chunk);
      StatusOr<BlobId> id = SaveBlob(BlobType::kData, chunk);
      if (!id.ok()) {
        st_read = id.status();
        break;
      }
      n.content.push_back(*id);
      n.size += cut;
      summary_.bytes_read += cut;
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(cut));
    }
    ::close(fd);
    SF_RETURN_IF_ERROR(st_read);
    n.sha256 = whole.Final();
    (void)st;
    ++summary_.files_new;
    return n;
  }

  // The node of `path` (lstat'ed), saving its data or subtree.
  StatusOr<Node> Entry(const std::string& path, const std::string& name) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return Errno("cannot stat " + path, errno);
    Node n;
    n.name = name;
    n.mode = st.st_mode & 07777;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    n.mtime_ns = Nanos(st.st_mtim);
    n.ctime_ns = Nanos(st.st_ctim);
    n.inode = st.st_ino;
    n.device = st.st_dev;
    n.links = st.st_nlink;
    if (S_ISREG(st.st_mode)) {
      n.type = NodeType::kFile;
      return File(path, st, std::move(n));
    }
    if (S_ISDIR(st.st_mode)) {
      n.type = NodeType::kDir;
      SF_ASSIGN_OR_RETURN(BlobId tree, Dir(path));
      n.subtree = tree;
      return n;
    }
    if (S_ISLNK(st.st_mode)) {
      n.type = NodeType::kSymlink;
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      const ssize_t len = ::readlink(path.c_str(), target.data(), target.size());
      if (len < 0) return Errno("cannot read the link " + path, errno);
      target.resize(static_cast<size_t>(len));
      n.target = target;
      return n;
    }
    n.type = S_ISFIFO(st.st_mode) ? NodeType::kFifo : S_ISSOCK(st.st_mode) ? NodeType::kSocket
             : S_ISBLK(st.st_mode) ? NodeType::kDev : NodeType::kCharDev;
    n.rdev = st.st_rdev;
    return n;
  }

  StatusOr<BlobId> Dir(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return Errno("cannot list " + path, errno);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    std::vector<Node> nodes;
    for (const std::string& name : names) {
      SF_ASSIGN_OR_RETURN(Node n, Entry(path + "/" + name, name));
      nodes.push_back(std::move(n));
    }
    return SaveTree(std::move(nodes));
  }

  StatusOr<BlobId> SaveTree(std::vector<Node> nodes) {
    SF_ASSIGN_OR_RETURN(Bytes tree, EncodeTree(std::move(nodes)));
    return SaveBlob(BlobType::kTree, tree);
  }

  SnapshotSummary& summary() { return summary_; }

 private:
  Repository& repo_;
  IndexCache& cache_;
  BlobHasher hasher_;
  Chunker chunker_;
  PackWriter writer_;
  std::set<BlobId> added_;
  std::vector<IndexedPack> pending_;
  SnapshotSummary summary_;
};

std::string LastComponent(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

StatusOr<BackupResult> Backup(Repository& repo, IndexCache& cache, const BackupRequest& request) {
  RealClock real;
  const Clock& clock = request.clock != nullptr ? *request.clock : real;
  const int64_t started = clock.NowMillis();
  if (request.paths.empty()) return InvalidArgumentError("nothing to back up: no paths");
  std::set<std::string> names;
  for (const std::string& p : request.paths) {
    if (p.empty() || p.front() != '/') return InvalidArgumentError("'" + p + "' is not an absolute path");
    const std::string name = LastComponent(p);
    if (name == "/" || name.empty()) return InvalidArgumentError("back up '/' by naming its directories");
    if (!names.insert(name).second) return InvalidArgumentError("two paths end in '" + name + "'; back them up separately");
  }
  SF_RETURN_IF_ERROR(cache.Sync(repo).status());
  Run run(repo, cache);
  std::vector<Node> roots;
  for (const std::string& p : request.paths) {
    SF_ASSIGN_OR_RETURN(Node n, run.Entry(p, LastComponent(p)));
    roots.push_back(std::move(n));
  }
  SF_ASSIGN_OR_RETURN(BlobId root, run.SaveTree(std::move(roots)));
  SF_RETURN_IF_ERROR(run.FlushPack());
  SF_RETURN_IF_ERROR(run.FlushIndex());
  Snapshot s;
  s.time = FormatRfc3339Millis(started);
  s.host = request.host.empty() ? ThisHost() : request.host;
  s.paths = request.paths;
  s.tags = request.tags;
  s.tree = root;
  s.program = "steadfast-backup 0.1.0";
  s.summary = run.summary();
  s.summary.duration_ms = clock.NowMillis() - started;
  SF_ASSIGN_OR_RETURN(std::string id, repo.SaveDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, SnapshotDocument(s)));
  return BackupResult{id, s};
}

namespace {

class Restorer {
 public:
  Restorer(Repository& repo, IndexCache& cache, bool verify)
      : repo_(repo), cache_(cache), hasher_(repo.key().id), verify_(verify) {}

  StatusOr<Bytes> LoadBlob(const BlobId& id, const std::string& for_path) {
    SF_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache_.Find(id));
    if (!loc) return DataLossError(for_path + ": blob " + Hex(id).substr(0, 16) + " is in no index");
    // A pack's first bytes (magic and salt) are read once, not once per blob.
    auto prefix_it = prefixes_.find(loc->pack);
    if (prefix_it == prefixes_.end()) {
      SF_ASSIGN_OR_RETURN(Bytes fresh, repo_.backend().Load(FileType::kData, loc->pack, 0, kPackPrefix));
      prefix_it = prefixes_.emplace(loc->pack, std::move(fresh)).first;
    }
    const Bytes& prefix = prefix_it->second;
    SF_ASSIGN_OR_RETURN(Bytes sealed, repo_.backend().Load(FileType::kData, loc->pack, loc->entry.offset, loc->entry.stored_length));
    StatusOr<Bytes> plain = OpenBlob(repo_.key(), hasher_, prefix, loc->entry, sealed, "data/" + loc->pack);
    if (!plain.ok()) return DataLossError(for_path + ": " + plain.status().message());
    return plain;
  }

  Status Tree(const BlobId& tree, const std::string& dir, const std::string& shown) {
    SF_ASSIGN_OR_RETURN(Bytes bytes, LoadBlob(tree, shown.empty() ? "/" : shown));
    SF_ASSIGN_OR_RETURN(std::vector<Node> nodes, DecodeTree(bytes, "tree " + Hex(tree).substr(0, 16)));
    for (const Node& n : nodes) {
      const std::string path = dir + "/" + n.name;
      const std::string rel = shown + "/" + n.name;
      switch (n.type) {
        case NodeType::kDir: {
          if (::mkdir(path.c_str(), 0700) != 0) {
            // Only an existing real directory is entered: never a symlink that leads elsewhere.
            struct stat st {};
            if (errno != EEXIST || ::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
              return Errno("cannot create the directory " + path, errno == EEXIST ? EEXIST : errno);
            }
          }
          SF_RETURN_IF_ERROR(Tree(*n.subtree, path, rel));
          break;
        }
        case NodeType::kFile:
          SF_RETURN_IF_ERROR(File(n, path, rel));
          break;
        case NodeType::kSymlink:
          if (::symlink(n.target.c_str(), path.c_str()) != 0) return Errno("cannot create the link " + path, errno);
          break;
        default:
          continue;  // devices, fifos and sockets are recorded, not recreated (yet)
      }
      if (n.type != NodeType::kSymlink) {
        if (::chmod(path.c_str(), n.mode) != 0) return Errno("cannot set the mode of " + path, errno);
      }
      const timespec times[2] = {{n.mtime_ns / 1'000'000'000, n.mtime_ns % 1'000'000'000},
                                 {n.mtime_ns / 1'000'000'000, n.mtime_ns % 1'000'000'000}};
      if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        return Errno("cannot set the times of " + path, errno);
      }
    }
    return OkStatus();
  }

  Status File(const Node& n, const std::string& path, const std::string& rel) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Errno("cannot create " + path, errno);
    Status st;
    for (const BlobId& id : n.content) {
      StatusOr<Bytes> data = LoadBlob(id, rel);
      if (!data.ok()) {
        st = data.status();
        break;
      }
      size_t done = 0;
      while (done < data->size()) {
        const ssize_t w = ::write(fd, data->data() + done, data->size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          st = Errno("cannot write " + path, errno);
          break;
        }
        done += static_cast<size_t>(w);
      }
      if (!st.ok()) break;
      result_.bytes += data->size();
    }
    if (::close(fd) != 0 && st.ok()) st = Errno("cannot close " + path, errno);
    SF_RETURN_IF_ERROR(st);
    ++result_.files;
    if (verify_ && n.sha256 && Rehash(path) != *n.sha256) result_.mismatches.push_back(rel);
    return OkStatus();
  }

  // The keyed hash of what is now on disk.
  BlobId Rehash(const std::string& path) {
    StreamHasher h(repo_.key().id);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return BlobId{};
    Bytes buf(1 << 20);
    while (true) {
      const ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r <= 0) break;
      h.Update(std::span<const uint8_t>(buf.data(), static_cast<size_t>(r)));
    }
    ::close(fd);
    return h.Final();
  }

  RestoreResult& result() { return result_; }

 private:
  Repository& repo_;
  IndexCache& cache_;
  BlobHasher hasher_;
  bool verify_;
  RestoreResult result_;
  std::map<std::string, Bytes> prefixes_;  // by pack: 40 bytes each
};

}  // namespace

StatusOr<RestoreResult> Restore(Repository& repo, IndexCache& cache, const RestoreRequest& request) {
  SF_ASSIGN_OR_RETURN(nlohmann::json doc, repo.LoadDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, request.snapshot_id));
  SF_ASSIGN_OR_RETURN(Snapshot s, ParseSnapshotDocument(doc, "snapshots/" + request.snapshot_id));
  SF_RETURN_IF_ERROR(cache.Sync(repo).status());
  if (::mkdir(request.target.c_str(), 0700) != 0 && errno != EEXIST) return Errno("cannot create " + request.target, errno);
  Restorer r(repo, cache, request.verify);
  SF_RETURN_IF_ERROR(r.Tree(s.tree, request.target, ""));
  return r.result();
}

}  // namespace steadfast::backup
