#include "backup/drill.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "backup/workers.h"
#include "common/fs/posix.h"

namespace steadfast::backup {

using nlohmann::json;

namespace {

std::string TextOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t NumberOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

}  // namespace

json EvidenceDocument(const Evidence& e) {
  json mismatches = json::array();
  for (const Mismatch& m : e.mismatches) mismatches.push_back({{"path", m.path}, {"reason", m.reason}});
  return {{"time", e.time},
          {"host", e.host},
          {"snapshot", e.snapshot},
          {"snapshot_time", e.snapshot_time},
          {"snapshot_host", e.snapshot_host},
          {"sample", e.sample},
          {"files", e.files},
          {"bytes", e.bytes},
          {"mismatches", mismatches},
          {"result", e.result},
          {"duration_ms", e.duration_ms},
          {"program", e.program}};
}

StatusOr<Evidence> ParseEvidenceDocument(const json& doc, std::string_view what) {
  if (!doc.is_object()) return DataLossError(std::string(what) + ": not an evidence record");
  Evidence e;
  e.time = TextOr(doc, "time");
  e.host = TextOr(doc, "host");
  e.snapshot = TextOr(doc, "snapshot");
  e.snapshot_time = TextOr(doc, "snapshot_time");
  e.snapshot_host = TextOr(doc, "snapshot_host");
  e.sample = TextOr(doc, "sample");
  e.files = NumberOr(doc, "files");
  e.bytes = NumberOr(doc, "bytes");
  e.result = TextOr(doc, "result");
  e.program = TextOr(doc, "program");
  auto d = doc.find("duration_ms");
  if (d != doc.end() && d->is_number_integer()) e.duration_ms = d->get<int64_t>();
  if (e.time.empty() || e.snapshot.empty() || (e.result != "passed" && e.result != "failed")) {
    return DataLossError(std::string(what) + ": time, snapshot or result missing");
  }
  auto m = doc.find("mismatches");
  if (m != doc.end() && m->is_array()) {
    for (const json& x : *m) {
      if (x.is_object()) e.mismatches.push_back({TextOr(x, "path"), TextOr(x, "reason")});
    }
  }
  return e;
}

StatusOr<DrillResult> Drill(Repository& repo, IndexCache& cache, const DrillRequest& request) {
  RealClock real;
  const Clock& clock = request.clock != nullptr ? *request.clock : real;
  const int64_t started = clock.NowMillis();
  SF_RETURN_IF_ERROR(cache.Sync(repo).status());
  SF_ASSIGN_OR_RETURN(SnapshotRef snap, FindSnapshot(repo, request.snapshot, request.host));
  BlobReader reader(repo, cache);
  Evidence ev;
  ev.time = FormatRfc3339Millis(started);
  ev.host = ThisHost();
  ev.snapshot = snap.id;
  ev.snapshot_time = snap.snapshot.time;
  ev.snapshot_host = snap.snapshot.host;

  // The files to restore: all, or a uniform random sample (reservoir sampling: memory for the
  // sample only).
  std::vector<std::string> chosen;
  if (request.sample > 0) {
    std::mt19937_64 rng(request.seed != 0 ? request.seed : std::random_device{}());
    uint64_t seen = 0;
    Status walked = WalkTree(reader, snap.snapshot.tree, "", [&](const std::string& path, const Node& n) {
      if (n.type != NodeType::kFile) return true;
      ++seen;
      if (chosen.size() < request.sample) {
        chosen.push_back(path);
      } else {
        const uint64_t k = std::uniform_int_distribution<uint64_t>(0, seen - 1)(rng);
        if (k < request.sample) chosen[k] = path;
      }
      return true;
    });
    if (!walked.ok()) ev.mismatches.push_back({"/", walked.message()});
    ev.sample = std::to_string(chosen.size());
  }

  std::string base = request.scratch;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string dir = base + "/steadfast-drill-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return ErrnoStatus(errno, "cannot make a scratch directory under " + base);

  if (ev.mismatches.empty() && (request.sample == 0 || !chosen.empty())) {
    RestoreRequest rr;
    rr.snapshot_id = snap.id;
    rr.target = dir;
    rr.include = chosen;
    rr.verify = true;
    rr.ownership = false;  // a drill proves content; the scratch copy belongs to whoever runs it
    rr.workers = request.workers;
    rr.progress = request.progress;
    StatusOr<RestoreResult> r = Restore(repo, cache, rr);
    if (!r.ok()) {
      ev.mismatches.push_back({"(restore)", r.status().message()});
    } else {
      ev.files = r->files;
      ev.bytes = r->bytes;
      for (const std::string& m : r->mismatches) {
        const size_t colon = m.find(": ");
        ev.mismatches.push_back({m.substr(0, colon), colon == std::string::npos ? "differs" : m.substr(colon + 2)});
      }
    }
  }
  ev.result = ev.mismatches.empty() ? "passed" : "failed";
  DrillResult out;
  if (request.keep) {
    out.restored_to = dir;
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // does not follow symlinks
  }
  ev.duration_ms = clock.NowMillis() - started;
  SF_ASSIGN_OR_RETURN(out.evidence_id, repo.SaveDocument(FileType::kEvidence, EnvelopeKind::kEvidence, EvidenceDocument(ev)));
  out.evidence = std::move(ev);
  return out;
}

StatusOr<std::vector<std::pair<std::string, Evidence>>> ListEvidence(Repository& repo, std::vector<std::string>* damaged) {
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, repo.backend().List(FileType::kEvidence));
  std::vector<std::pair<std::string, Evidence>> out;
  for (const FileInfo& f : files) {
    StatusOr<json> doc = repo.LoadDocument(FileType::kEvidence, EnvelopeKind::kEvidence, f.name);
    StatusOr<Evidence> e = doc.ok() ? ParseEvidenceDocument(*doc, "evidence/" + f.name) : StatusOr<Evidence>(doc.status());
    if (!e.ok()) {
      if (damaged != nullptr) damaged->push_back(e.status().message());
      continue;
    }
    out.emplace_back(f.name, std::move(*e));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second.time < b.second.time; });
  return out;
}

namespace {

std::string Octal(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

std::string MetaDiff(const Node& a, const Node& b) {
  std::string d;
  if (a.mode != b.mode) d += "mode " + Octal(a.mode) + " -> " + Octal(b.mode) + " ";
  if (a.uid != b.uid || a.gid != b.gid) {
    d += "owner " + std::to_string(a.uid) + ":" + std::to_string(a.gid) + " -> " + std::to_string(b.uid) + ":" +
         std::to_string(b.gid) + " ";
  }
  if (a.mtime_ns != b.mtime_ns) d += "mtime ";
  if (!d.empty()) d.pop_back();
  return d;
}

class Differ {
 public:
  explicit Differ(BlobReader& reader) : reader_(reader) {}

  Status Trees(const std::optional<BlobId>& a, const std::optional<BlobId>& b, const std::string& path) {
    if (a && b && *a == *b) return OkStatus();
    std::vector<Node> na, nb;
    if (a) {
      SF_ASSIGN_OR_RETURN(na, reader_.LoadTree(*a, path.empty() ? "/" : path));
    }
    if (b) {
      SF_ASSIGN_OR_RETURN(nb, reader_.LoadTree(*b, path.empty() ? "/" : path));
    }
    size_t i = 0, j = 0;
    while (i < na.size() || j < nb.size()) {
      if (j == nb.size() || (i < na.size() && na[i].name < nb[j].name)) {
        SF_RETURN_IF_ERROR(Gone(na[i++], path));
      } else if (i == na.size() || nb[j].name < na[i].name) {
        SF_RETURN_IF_ERROR(New(nb[j++], path));
      } else {
        SF_RETURN_IF_ERROR(Both(na[i++], nb[j++], path));
      }
    }
    return OkStatus();
  }

  std::vector<Change>& changes() { return changes_; }

 private:
  Status Gone(const Node& n, const std::string& dir) {
    const std::string p = dir + "/" + n.name;
    changes_.push_back({'-', p + (n.type == NodeType::kDir ? "/" : ""), ""});
    if (n.type == NodeType::kDir && n.subtree) return Trees(n.subtree, std::nullopt, p);
    return OkStatus();
  }
  Status New(const Node& n, const std::string& dir) {
    const std::string p = dir + "/" + n.name;
    changes_.push_back({'+', p + (n.type == NodeType::kDir ? "/" : ""), ""});
    if (n.type == NodeType::kDir && n.subtree) return Trees(std::nullopt, n.subtree, p);
    return OkStatus();
  }
  Status Both(const Node& a, const Node& b, const std::string& dir) {
    const std::string p = dir + "/" + a.name;
    if (a.type != b.type) {
      SF_RETURN_IF_ERROR(Gone(a, dir));
      return New(b, dir);
    }
    if (a.type == NodeType::kDir) {
      const std::string meta = MetaDiff(a, b);
      if (!meta.empty() && meta != "mtime") changes_.push_back({'m', p + "/", meta});
      return Trees(a.subtree, b.subtree, p);
    }
    if (a.type == NodeType::kFile && (a.size != b.size || a.digest != b.digest)) {
      changes_.push_back({'M', p, a.size != b.size ? std::to_string(a.size) + " -> " + std::to_string(b.size) + " bytes" : "content"});
    } else if (a.type == NodeType::kSymlink && a.target != b.target) {
      changes_.push_back({'M', p, "target " + a.target + " -> " + b.target});
    } else if (const std::string meta = MetaDiff(a, b); !meta.empty()) {
      changes_.push_back({'m', p, meta});
    }
    return OkStatus();
  }

  BlobReader& reader_;
  std::vector<Change> changes_;
};

class SourceVerifier {
 public:
  SourceVerifier(BlobReader& reader, const MasterKey& key, const Snapshot& s, const ProgressFn& progress)
      : reader_(reader), hasher_(key.id), snapshot_(s), progress_(progress) {}

  Status Compare(const Node& n, const std::string& live, const std::string& rel) {
    struct stat st {};
    if (::lstat(live.c_str(), &st) != 0) {
      changes_.push_back({'-', rel, "gone from disk"});
      return OkStatus();
    }
    const bool is_dir = S_ISDIR(st.st_mode), is_file = S_ISREG(st.st_mode), is_link = S_ISLNK(st.st_mode);
    if ((n.type == NodeType::kDir) != is_dir || (n.type == NodeType::kFile) != is_file ||
        (n.type == NodeType::kSymlink) != is_link) {
      changes_.push_back({'M', rel, std::string("was a ") + std::string(NodeTypeName(n.type)) + ", is not now"});
      return OkStatus();
    }
    Node live_node;
    live_node.mode = st.st_mode & 07777;
    live_node.uid = st.st_uid;
    live_node.gid = st.st_gid;
    live_node.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    if (is_dir) {
      if (!n.subtree) return DataLossError(rel + ": a directory without its tree");
      SF_ASSIGN_OR_RETURN(std::vector<Node> nodes, reader_.LoadTree(*n.subtree, rel));
      std::map<std::string, const Node*> recorded;
      for (const Node& c : nodes) recorded.emplace(c.name, &c);
      for (const std::string& name : ListDir(live).value_or(std::vector<std::string>{})) {
        if (recorded.count(name) || Excluded(snapshot_.excludes, live + "/" + name, name)) continue;
        changes_.push_back({'+', rel + "/" + name, "new on disk"});
      }
      for (const Node& c : nodes) SF_RETURN_IF_ERROR(Compare(c, live + "/" + c.name, rel + "/" + c.name));
      return OkStatus();
    }
    if (is_link) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      const ssize_t len = ::readlink(live.c_str(), target.data(), target.size());
      target.resize(len > 0 ? static_cast<size_t>(len) : 0);
      if (target != n.target) changes_.push_back({'M', rel, "target " + n.target + " -> " + target});
      return OkStatus();
    }
    if (is_file) {
      ++files_;
      bytes_ += n.size;
      if (static_cast<uint64_t>(st.st_size) != n.size) {
        changes_.push_back({'M', rel, std::to_string(n.size) + " -> " + std::to_string(st.st_size) + " bytes"});
        return OkStatus();
      }
      std::vector<uint32_t> lengths;
      for (const BlobId& id : n.content) {
        SF_ASSIGN_OR_RETURN(uint32_t len, reader_.Length(id));
        lengths.push_back(len);
      }
      const std::string why = CompareFile(live, n, lengths, hasher_);
      if (!why.empty()) {
        changes_.push_back({'M', rel, why});
        return OkStatus();
      }
      if (progress_) {
        Progress p;
        p.files = files_;
        p.bytes = bytes_;
        progress_(p);
      }
    }
    if (const std::string meta = MetaDiff(n, live_node); !meta.empty()) changes_.push_back({'m', rel, meta});
    return OkStatus();
  }

  std::vector<Change>& changes() { return changes_; }

 private:
  BlobReader& reader_;
  BlobHasher hasher_;
  const Snapshot& snapshot_;
  const ProgressFn& progress_;
  std::vector<Change> changes_;
  uint64_t files_ = 0, bytes_ = 0;
};


}  // namespace

StatusOr<std::vector<Change>> DiffSnapshots(BlobReader& reader, const Snapshot& a, const Snapshot& b) {
  Differ d(reader);
  SF_RETURN_IF_ERROR(d.Trees(a.tree, b.tree, ""));
  return std::move(d.changes());
}

StatusOr<std::vector<Change>> VerifySource(BlobReader& reader, const MasterKey& key, const Snapshot& snapshot,
                                           const ProgressFn& progress) {
  if (snapshot.source == "stdin") {
    return FailedPreconditionError("this snapshot was read from standard input: there are no live files to compare");
  }
  SF_ASSIGN_OR_RETURN(std::vector<Node> roots, reader.LoadTree(snapshot.tree, "/"));
  SourceVerifier v(reader, key, snapshot, progress);
  for (const Node& n : roots) {
    std::string live;
    for (const std::string& p : snapshot.paths) {
      if (LastComponent(p) == n.name) live = p;
    }
    if (live.empty()) return DataLossError("the snapshot's root names " + n.name + ", which none of its paths ends in");
    SF_RETURN_IF_ERROR(v.Compare(n, live, live));
  }
  return std::move(v.changes());
}

}  // namespace steadfast::backup
