#include "backup/forget.h"

#include <ctime>
#include <map>
#include <set>
#include <unordered_set>

#include "backup/pack.h"
#include "common/clock.h"

namespace steadfast::backup {
namespace {

std::string Bucket(const std::string& time, const char* format) {
  StatusOr<int64_t> ms = ParseRfc3339Millis(time);
  const std::time_t t = ms.ok() ? static_cast<std::time_t>(*ms / 1000) : 0;
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string GroupKey(const Snapshot& s) {
  std::vector<std::string> paths = s.paths;
  std::sort(paths.begin(), paths.end());
  std::string key = s.host;
  for (const std::string& p : paths) key += "\n" + p;
  return key;
}

}  // namespace

std::vector<ForgetDecision> ApplyPolicy(std::vector<SnapshotRef> snapshots, const KeepPolicy& policy) {
  std::stable_sort(snapshots.begin(), snapshots.end(),
                   [](const SnapshotRef& a, const SnapshotRef& b) { return a.snapshot.time > b.snapshot.time; });
  std::vector<std::string> order;
  std::map<std::string, std::vector<SnapshotRef>> groups;
  for (SnapshotRef& s : snapshots) {
    const std::string key = GroupKey(s.snapshot);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(std::move(s));
  }
  struct Rule {
    const char* name;
    int count;
    const char* format;
  };
  std::vector<ForgetDecision> out;
  for (const std::string& key : order) {
    Rule rules[] = {{"hourly", policy.hourly, "%Y-%m-%d %H:00"}, {"daily", policy.daily, "%Y-%m-%d"},
                    {"weekly", policy.weekly, "%G-W%V"},          {"monthly", policy.monthly, "%Y-%m"},
                    {"yearly", policy.yearly, "%Y"}};
    std::string last_bucket[5];
    int last = policy.last;
    for (SnapshotRef& s : groups[key]) {
      ForgetDecision d;
      if (last > 0) {
        d.reasons.push_back("last");
        --last;
      }
      for (int i = 0; i < 5; ++i) {
        if (rules[i].count <= 0) continue;
        const std::string b = Bucket(s.snapshot.time, rules[i].format);
        if (b == last_bucket[i]) continue;
        last_bucket[i] = b;
        d.reasons.push_back(std::string(rules[i].name) + " " + b);
        --rules[i].count;
      }
      for (const std::string& t : policy.tags) {
        if (std::find(s.snapshot.tags.begin(), s.snapshot.tags.end(), t) != s.snapshot.tags.end()) d.reasons.push_back("tag " + t);
      }
      d.keep = policy.empty() || !d.reasons.empty();
      d.snapshot = std::move(s);
      out.push_back(std::move(d));
    }
  }
  return out;
}

namespace {

class Pruner {
 public:
  Pruner(Repository& repo, IndexCache& cache, const PruneOptions& options)
      : repo_(repo), cache_(cache), options_(options), reader_(repo, cache), hasher_(repo.key().id) {}

  StatusOr<PruneResult> Run() {
    SF_RETURN_IF_ERROR(cache_.Sync(repo_).status());
    SF_ASSIGN_OR_RETURN(std::vector<SnapshotRef> snapshots, ListSnapshots(repo_));
    result_.snapshots = snapshots.size();
    // 1. Mark.
    SF_RETURN_IF_ERROR(cache_.BeginMarking());
    Status marked = OkStatus();
    for (const SnapshotRef& s : snapshots) {
      marked = Mark(s.snapshot.tree, "snapshot " + s.id.substr(0, 8) + " /");
      if (!marked.ok()) break;
    }
    SF_RETURN_IF_ERROR(cache_.EndMarking());
    SF_RETURN_IF_ERROR(marked);

    // 2. Decide.
    SF_ASSIGN_OR_RETURN(std::vector<IndexCache::PackUsage> usage, cache_.Usage());
    SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, repo_.backend().List(FileType::kData));
    std::map<std::string, uint64_t> present;
    for (const FileInfo& f : files) {
      present.emplace(f.name, f.size);
      result_.bytes_before += f.size;
    }
    std::set<std::string> indexed;
    for (const IndexCache::PackUsage& u : usage) {
      indexed.insert(u.pack);
      if (!present.count(u.pack)) {
        return FailedPreconditionError("data/" + u.pack + " is indexed but missing; prune changes nothing until `check` has "
                                       "named what it held");
      }
      const int64_t unused_bytes = u.bytes - u.used_bytes;
      if (u.used == 0) {
        remove_.push_back(u.pack);
        ++result_.packs_deleted;
        result_.bytes_freed += present[u.pack];
      } else if (u.used < u.blobs &&
                 static_cast<double>(unused_bytes) >= options_.repack_unused_fraction * static_cast<double>(u.bytes)) {
        repack_.push_back(u.pack);
        ++result_.packs_repacked;
        repack_unused_ += static_cast<uint64_t>(unused_bytes);
      } else {
        keep_.push_back(u.pack);
      }
    }
    result_.packs_total = present.size();
    for (const auto& [name, size] : present) {
      if (indexed.count(name)) continue;
      remove_.push_back(name);
      ++result_.unreferenced_packs;
      result_.bytes_freed += size;
    }
    if (options_.dry_run) {
      result_.bytes_freed += repack_unused_;  // about: the copies are compressed and sealed alike
      return result_;
    }
    if (repack_.empty() && remove_.empty()) return result_;

    // 3. Repack the used blobs of partly used packs.
    SF_RETURN_IF_ERROR(Repack());
    uint64_t after = written_bytes_;
    for (const std::string& p : keep_) after += present[p];
    result_.bytes_freed = result_.bytes_before > after ? result_.bytes_before - after : 0;

    // 4. Index files covering the kept and the new packs; the last supersedes every old one.
    SF_ASSIGN_OR_RETURN(std::vector<std::string> old_index, cache_.Files());
    std::vector<IndexedPack> batch;
    std::vector<std::string> new_index;
    const auto flush = [&](bool last) -> Status {
      if (batch.empty() && !last) return OkStatus();
      SF_ASSIGN_OR_RETURN(std::string name, repo_.SaveDocument(FileType::kIndex, EnvelopeKind::kIndex,
                                                               IndexDocument(batch, last ? old_index : std::vector<std::string>{})));
      new_index.push_back(name);
      batch.clear();
      return OkStatus();
    };
    for (const std::string& p : keep_) {
      SF_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, cache_.PackBlobs(p));
      batch.push_back({p, std::move(entries)});
      if (batch.size() >= 64) SF_RETURN_IF_ERROR(flush(false));
    }
    for (IndexedPack& p : written_) {
      batch.push_back(std::move(p));
      if (batch.size() >= 64) SF_RETURN_IF_ERROR(flush(false));
    }
    SF_RETURN_IF_ERROR(flush(true));

    // 5. The old index files, then 6. the packs nothing indexes any more.
    for (const std::string& name : old_index) {
      Status s = repo_.backend().Remove(FileType::kIndex, name);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      ++result_.index_files_removed;
    }
    SF_RETURN_IF_ERROR(cache_.Sync(repo_).status());
    for (const std::vector<std::string>* list : {&repack_, &remove_}) {
      for (const std::string& p : *list) {
        Status s = repo_.backend().Remove(FileType::kData, p);
        if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      }
    }
    return result_;
  }

 private:
  Status Mark(const BlobId& tree, const std::string& where) {
    SF_ASSIGN_OR_RETURN(bool fresh, cache_.MarkUsed(tree));
    if (!fresh) return OkStatus();  // this subtree is marked already
    ++result_.used_blobs;
    SF_ASSIGN_OR_RETURN(std::vector<Node> nodes, reader_.LoadTree(tree, where));
    for (const Node& n : nodes) {
      if (n.type == NodeType::kDir && n.subtree) {
        SF_RETURN_IF_ERROR(Mark(*n.subtree, where + (where.back() == '/' ? "" : "/") + n.name));
      } else {
        for (const BlobId& id : n.content) {
          SF_ASSIGN_OR_RETURN(bool f, cache_.MarkUsed(id));
          if (f) ++result_.used_blobs;
        }
      }
    }
    return OkStatus();
  }

  Status Repack() {
    PackWriter data(repo_.key(), repo_.config().compression);
    PackWriter trees(repo_.key(), repo_.config().compression);
    std::unordered_set<std::string> copied;
    const auto save = [&](PackWriter& w) -> Status {
      if (w.count() == 0) return OkStatus();
      PackWriter::Pack p = w.Finish();
      SF_RETURN_IF_ERROR(repo_.backend().Save(FileType::kData, p.name, p.bytes));
      written_bytes_ += p.bytes.size();
      written_.push_back({p.name, std::move(p.entries)});
      ++result_.packs_written;
      return OkStatus();
    };
    uint64_t done = 0;
    Bytes bytes;  // each pack in turn (LoadInto reuses it)
    for (const std::string& pack : repack_) {
      SF_RETURN_IF_ERROR(repo_.backend().LoadInto(FileType::kData, pack, bytes));
      if (Hex(Sha256(bytes)) != pack) {
        return DataLossError("data/" + pack + ": its bytes do not match its name; prune stops before deleting anything "
                             "(run check --read-data)");
      }
      SF_ASSIGN_OR_RETURN(std::vector<PackEntry> header, ReadPackHeader(repo_.key(), bytes, bytes, bytes.size(), "data/" + pack));
      const std::span<const uint8_t> all(bytes);
      for (const PackEntry& e : header) {
        SF_ASSIGN_OR_RETURN(bool used, cache_.IsUsed(e.id));
        if (!used || !copied.insert(std::string(e.id.begin(), e.id.end())).second) continue;
        SF_ASSIGN_OR_RETURN(Bytes plain, OpenBlob(repo_.key(), hasher_, all.first(kPackPrefix), e,
                                                  all.subspan(e.offset, e.stored_length), "data/" + pack));
        PackWriter& w = e.type == BlobType::kTree ? trees : data;
        SF_RETURN_IF_ERROR(w.Add(e.type, e.id, plain));
        if (w.size() >= repo_.config().pack_size) SF_RETURN_IF_ERROR(save(w));
      }
      ++done;
      if (options_.progress) {
        Progress p;
        p.files = done;
        p.files_total = repack_.size();
        p.totals_final = true;
        options_.progress(p);
      }
    }
    SF_RETURN_IF_ERROR(save(data));
    return save(trees);
  }

  Repository& repo_;
  IndexCache& cache_;
  const PruneOptions& options_;
  BlobReader reader_;
  BlobHasher hasher_;
  PruneResult result_;
  std::vector<std::string> keep_, repack_, remove_;
  std::vector<IndexedPack> written_;
  uint64_t written_bytes_ = 0, repack_unused_ = 0;
};

}  // namespace

StatusOr<PruneResult> Prune(Repository& repo, IndexCache& cache, const PruneOptions& options) {
  Pruner p(repo, cache, options);
  return p.Run();
}

}  // namespace steadfast::backup
