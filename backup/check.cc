#include "backup/check.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "backup/lock.h"
#include "backup/reader.h"
#include "backup/workers.h"
#include "common/clock.h"

namespace steadfast::backup {
namespace {

struct IdHash {
  size_t operator()(const BlobId& id) const {
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
  }
};
using IdSet = std::unordered_set<BlobId, IdHash>;

constexpr size_t kMaxAffected = 1000;

bool SameEntry(const PackEntry& a, const PackEntry& b) {
  return a.type == b.type && a.id == b.id && a.offset == b.offset && a.stored_length == b.stored_length &&
         a.raw_length == b.raw_length && a.raw == b.raw && a.index == b.index;
}

class Checker {
 public:
  Checker(Repository& repo, IndexCache& cache, const CheckOptions& options)
      : repo_(repo), cache_(cache), options_(options), reader_(repo, cache) {}

  Status Run() {
    SF_RETURN_IF_ERROR(Indexes());
    SF_RETURN_IF_ERROR(Packs());
    SF_RETURN_IF_ERROR(Snapshots());
    SF_RETURN_IF_ERROR(Affected());
    Locks();
    return OkStatus();
  }

  CheckReport& report() { return report_; }

 private:
  void Error(std::string e) {
    std::lock_guard<std::mutex> l(mu_);
    report_.errors.push_back(std::move(e));
  }

  Status Indexes() {
    std::vector<std::string> damaged;
    SF_RETURN_IF_ERROR(cache_.Sync(repo_, &damaged).status());
    std::set<std::string> reported;
    for (std::string& d : damaged) {
      reported.insert(d.substr(0, d.find(':')));
      Error(std::move(d));
    }
    // Files the cache read in an earlier run are opened again: damage since then counts.
    SF_ASSIGN_OR_RETURN(std::vector<FileInfo> listed, repo_.backend().List(FileType::kIndex));
    for (const FileInfo& f : listed) {
      if (reported.count("index/" + f.name)) continue;
      StatusOr<nlohmann::json> doc = repo_.LoadDocument(FileType::kIndex, EnvelopeKind::kIndex, f.name);
      if (!doc.ok()) {
        Error(doc.status().message());
      }
    }
    return OkStatus();
  }

  Status Packs() {
    SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, repo_.backend().List(FileType::kData));
    std::map<std::string, uint64_t> present;
    for (const FileInfo& f : files) present.emplace(f.name, f.size);
    SF_ASSIGN_OR_RETURN(auto indexed, cache_.Packs());
    std::vector<std::string> todo;
    std::set<std::string> known;
    for (const auto& [pack, count] : indexed) {
      known.insert(pack);
      if (!present.count(pack)) {
        Error("data/" + pack + ": missing; the index lists " + std::to_string(count) + " blobs in it");
        bad_packs_.insert(pack);
        continue;
      }
      todo.push_back(pack);
    }
    report_.packs = todo.size();
    uint64_t unreferenced = 0;
    for (const auto& [name, size] : present) {
      if (!known.count(name)) ++unreferenced;
    }
    if (unreferenced > 0) {
      report_.notes.push_back(std::to_string(unreferenced) +
                              " pack(s) no index refers to (left by an interrupted operation; prune removes them)");
    }
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> done{0};
    const auto work = [&] {
      BlobHasher hasher(repo_.key().id);
      Bytes scratch;  // decompressed blobs, reused
      Bytes pack_bytes;  // the pack, reused (LoadInto)
      while (true) {
        const size_t i = next.fetch_add(1);
        if (i >= todo.size()) break;
        const std::string& pack = todo[i];
        const bool read = options_.read_data && (options_.subset_m == 0 || InSubset(pack, options_.subset_n, options_.subset_m));
        Status s = read ? ReadPack(pack, present.at(pack), hasher, pack_bytes, scratch) : PackHeader(pack, present.at(pack));
        if (!s.ok()) {
          Error(s.message());
          std::lock_guard<std::mutex> l(mu_);
          bad_packs_.insert(pack);
        }
        ++done;
      }
    };
    std::vector<std::thread> threads;
    const int n = std::min<int>(WorkerCount(options_.workers), static_cast<int>(std::max<size_t>(todo.size(), 1)));
    for (int i = 1; i < n; ++i) threads.emplace_back(work);
    std::thread progress;
    std::atomic<bool> over{false};
    if (options_.progress) {
      progress = std::thread([&] {
        const auto start = std::chrono::steady_clock::now();
        while (!over) {
          Progress p;
          p.files = done;
          p.files_total = todo.size();
          p.bytes = bytes_read_;
          p.totals_final = true;
          p.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
          options_.progress(p);
          for (int k = 0; k < 10 && !over; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(kProgressEveryMs / 10));
        }
      });
    }
    work();
    for (std::thread& t : threads) t.join();
    over = true;
    if (progress.joinable()) progress.join();
    report_.bytes_read = bytes_read_;
    report_.blobs_read = blobs_read_;
    report_.packs_read = packs_read_;
    return OkStatus();
  }

  // The header against the index entries.
  Status Compare(const std::string& pack, const std::vector<PackEntry>& header) {
    SF_ASSIGN_OR_RETURN(std::vector<PackEntry> indexed, cache_.PackBlobs(pack));
    for (const PackEntry& e : indexed) {
      if (e.index >= header.size() || !SameEntry(header[e.index], e)) {
        return DataLossError("data/" + pack + ": blob " + Hex(e.id).substr(0, 16) + " is not where the index says");
      }
    }
    return OkStatus();
  }

  Status PackHeader(const std::string& pack, uint64_t size) {
    if (size < kPackPrefix + 4) return DataLossError("data/" + pack + ": too short for a pack (" + std::to_string(size) + " bytes)");
    SF_ASSIGN_OR_RETURN(Bytes prefix, repo_.backend().Load(FileType::kData, pack, 0, kPackPrefix));
    SF_ASSIGN_OR_RETURN(Bytes len, repo_.backend().Load(FileType::kData, pack, size - 4, 4));
    const uint64_t hlen = uint64_t{len[0]} | uint64_t{len[1]} << 8 | uint64_t{len[2]} << 16 | uint64_t{len[3]} << 24;
    const uint64_t tail = std::min<uint64_t>(size, hlen + 4);
    SF_ASSIGN_OR_RETURN(Bytes bytes, repo_.backend().Load(FileType::kData, pack, size - tail, tail));
    SF_ASSIGN_OR_RETURN(std::vector<PackEntry> header, ReadPackHeader(repo_.key(), prefix, bytes, size, "data/" + pack));
    return Compare(pack, header);
  }

  // Every byte of a pack is covered by an authentication tag or a structural check: the magic,
  // the salt (it derives the key of every tag), each blob (its tag, with its type and id bound
  // in), the header (its tag) and the header's length (it must land on the header). So the
  // blobs are opened in place in the pack as read, without re-hashing the whole file.
  Status ReadPack(const std::string& pack, uint64_t size, const BlobHasher& hasher, Bytes& bytes, Bytes& scratch) {
    SF_RETURN_IF_ERROR(repo_.backend().LoadInto(FileType::kData, pack, bytes));
    bytes_read_ += bytes.size();
    ++packs_read_;
    if (bytes.size() != size) return DataLossError("data/" + pack + ": changed size while being read");
    SF_ASSIGN_OR_RETURN(std::vector<PackEntry> header, ReadPackHeader(repo_.key(), bytes, bytes, size, "data/" + pack));
    SF_RETURN_IF_ERROR(Compare(pack, header));
    SF_ASSIGN_OR_RETURN(Key32 subkey, PackSubkey(repo_.key(), bytes, "data/" + pack));
    for (const PackEntry& e : header) {
      SF_RETURN_IF_ERROR(
          OpenBlobSpan(repo_.key().cipher, subkey, hasher, e, bytes.data() + e.offset, scratch, "data/" + pack).status());
      ++blobs_read_;
    }
    return OkStatus();
  }

  Status Snapshots() {
    std::vector<std::string> damaged;
    SF_ASSIGN_OR_RETURN(snapshots_, ListSnapshots(repo_, &damaged));
    for (std::string& d : damaged) Error("snapshots/" + std::move(d));
    report_.snapshots = snapshots_.size();
    IdSet visited;
    for (const SnapshotRef& s : snapshots_) Walk(s, s.snapshot.tree, "", visited);
    report_.trees = visited.size();
    return OkStatus();
  }

  static std::string Name(const SnapshotRef& s) {
    return "snapshot " + s.id.substr(0, 8) + " (" + s.snapshot.host + " " + s.snapshot.time + ")";
  }

  void Walk(const SnapshotRef& s, const BlobId& tree, const std::string& path, IdSet& visited) {
    if (!visited.insert(tree).second) return;
    StatusOr<std::vector<Node>> nodes = reader_.LoadTree(tree, path.empty() ? "/" : path);
    if (!nodes.ok()) {
      Error(Name(s) + ": " + nodes.status().message());
      bad_blobs_.insert(tree);
      return;
    }
    for (const Node& n : *nodes) {
      const std::string p = path + "/" + n.name;
      if (n.type == NodeType::kDir && n.subtree) {
        Walk(s, *n.subtree, p, visited);
      } else if (n.type == NodeType::kFile) {
        for (const BlobId& id : n.content) {
          StatusOr<std::optional<BlobLocation>> loc = cache_.Find(id);
          if (loc.ok() && loc->has_value()) continue;
          Error(Name(s) + ": " + p + ": blob " + Hex(id).substr(0, 16) + " is in no index");
          bad_blobs_.insert(id);
          break;
        }
      }
    }
  }

  // Which snapshots and paths hold damaged data.
  Status Affected() {
    if (bad_packs_.empty() && bad_blobs_.empty()) return OkStatus();
    for (const std::string& pack : bad_packs_) {
      SF_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, cache_.PackBlobs(pack));
      for (const PackEntry& e : entries) {
        // A blob with an intact copy in another pack is not lost.
        bool elsewhere = false;
        SF_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache_.Find(e.id));
        if (loc && loc->pack != pack && !bad_packs_.count(loc->pack)) elsewhere = true;
        if (!elsewhere) bad_blobs_.insert(e.id);
      }
    }
    for (const SnapshotRef& s : snapshots_) MarkAffected(s, s.snapshot.tree, "");
    if (affected_total_ > report_.affected.size()) {
      report_.affected.push_back("... and " + std::to_string(affected_total_ - report_.affected.size()) + " more");
    }
    return OkStatus();
  }

  void MarkAffected(const SnapshotRef& s, const BlobId& tree, const std::string& path) {
    const auto add = [&](const std::string& p) {
      ++affected_total_;
      if (report_.affected.size() < kMaxAffected) report_.affected.push_back(Name(s) + ": " + (p.empty() ? "/" : p));
    };
    if (bad_blobs_.count(tree)) {
      add(path + " (its listing)");
      return;
    }
    StatusOr<std::vector<Node>> nodes = reader_.LoadTree(tree, path);
    if (!nodes.ok()) return;
    for (const Node& n : *nodes) {
      const std::string p = path + "/" + n.name;
      if (n.type == NodeType::kDir && n.subtree) {
        MarkAffected(s, *n.subtree, p);
      } else if (n.type == NodeType::kFile) {
        for (const BlobId& id : n.content) {
          if (bad_blobs_.count(id)) {
            add(p);
            break;
          }
        }
      }
    }
  }

  void Locks() {
    RealClock clock;
    StatusOr<std::vector<LockInfo>> locks = ListLocks(repo_, clock);
    if (!locks.ok()) return;
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    for (const LockInfo& l : *locks) {
      if (l.host == host && l.pid == ::getpid()) continue;  // this check's own
      report_.notes.push_back(std::string(l.stale ? "stale " : "") + (l.exclusive ? "exclusive" : "shared") + " lock of " +
                              l.host + " pid " + std::to_string(l.pid) + " (" + l.operation + ")");
    }
  }

  Repository& repo_;
  IndexCache& cache_;
  const CheckOptions& options_;
  BlobReader reader_;
  CheckReport report_;
  std::mutex mu_;
  std::set<std::string> bad_packs_;
  IdSet bad_blobs_;
  std::vector<SnapshotRef> snapshots_;
  size_t affected_total_ = 0;
  std::atomic<uint64_t> bytes_read_{0}, blobs_read_{0}, packs_read_{0};
};

}  // namespace

Status ParseSubset(const std::string& text, int* n, int* m) {
  const size_t slash = text.find('/');
  const auto bad = [&] { return InvalidArgumentError("--read-data-subset '" + text + "': expected n/m with 1 <= n <= m, as 3/7"); };
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return bad();
  const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
  if (a.find_first_not_of("0123456789") != std::string::npos || b.find_first_not_of("0123456789") != std::string::npos ||
      a.size() > 5 || b.size() > 5) {
    return bad();
  }
  *n = std::stoi(a);
  *m = std::stoi(b);
  if (*n < 1 || *m < 1 || *n > *m || *m > 65536) return bad();
  return OkStatus();
}

bool InSubset(const std::string& pack, int n, int m) {
  if (pack.size() < 16) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 16; ++i) {
    const char c = pack[i];
    v = v << 4 | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v % static_cast<uint64_t>(m) == static_cast<uint64_t>(n - 1);
}

StatusOr<CheckReport> Check(Repository& repo, IndexCache& cache, const CheckOptions& options) {
  Checker c(repo, cache, options);
  SF_RETURN_IF_ERROR(c.Run());
  return std::move(c.report());
}

}  // namespace steadfast::backup
