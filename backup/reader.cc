#include "backup/reader.h"

#include <algorithm>

namespace steadfast::backup {

BlobReader::BlobReader(Repository& repo, IndexCache& cache) : repo_(repo), cache_(cache) {}
BlobReader::~BlobReader() = default;

StatusOr<Key32> BlobReader::Subkey(const std::string& pack) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = subkeys_.find(pack);
    if (it != subkeys_.end()) return it->second;
  }
  SF_ASSIGN_OR_RETURN(Bytes prefix, repo_.backend().Load(FileType::kData, pack, 0, kPackPrefix));
  SF_ASSIGN_OR_RETURN(Key32 key, PackSubkey(repo_.key(), prefix, "data/" + pack));
  std::lock_guard<std::mutex> lock(mu_);
  if (subkeys_.size() >= 4096) subkeys_.clear();
  subkeys_.emplace(pack, key);
  return key;
}

StatusOr<BlobLocation> BlobReader::Locate(const BlobId& id, std::string_view for_what) {
  SF_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache_.Find(id));
  if (!loc) return DataLossError(std::string(for_what) + ": blob " + Hex(id).substr(0, 16) + " is in no index");
  return *loc;
}

StatusOr<Bytes> BlobReader::Load(const BlobId& id, std::string_view for_what) {
  SF_ASSIGN_OR_RETURN(BlobLocation loc, Locate(id, for_what));
  return LoadAt(loc, for_what);
}

StatusOr<Bytes> BlobReader::LoadAt(const BlobLocation& loc, std::string_view for_what) {
  StatusOr<Key32> subkey = Subkey(loc.pack);
  if (!subkey.ok()) return DataLossError(std::string(for_what) + ": data/" + loc.pack + ": " + subkey.status().message());
  StatusOr<Bytes> sealed = repo_.backend().Load(FileType::kData, loc.pack, loc.entry.offset, loc.entry.stored_length);
  if (!sealed.ok()) return DataLossError(std::string(for_what) + ": data/" + loc.pack + ": " + sealed.status().message());
  std::unique_ptr<BlobHasher> hasher;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!hashers_.empty()) {
      hasher = std::move(hashers_.back());
      hashers_.pop_back();
    }
  }
  if (!hasher) hasher = std::make_unique<BlobHasher>(repo_.key().id);
  StatusOr<Bytes> plain = OpenBlobInPlace(repo_.key().cipher, *subkey, *hasher, loc.entry, std::move(*sealed), "data/" + loc.pack);
  {
    std::lock_guard<std::mutex> lock(mu_);
    hashers_.push_back(std::move(hasher));
  }
  if (!plain.ok()) return DataLossError(std::string(for_what) + ": " + plain.status().message());
  return plain;
}

StatusOr<std::span<const uint8_t>> BlobReader::OpenSealed(const BlobLocation& loc, uint8_t* sealed, Bytes& scratch,
                                                          const BlobHasher& hasher, std::string_view for_what) {
  StatusOr<Key32> subkey = Subkey(loc.pack);
  if (!subkey.ok()) return DataLossError(std::string(for_what) + ": data/" + loc.pack + ": " + subkey.status().message());
  StatusOr<std::span<const uint8_t>> plain =
      OpenBlobSpan(repo_.key().cipher, *subkey, hasher, loc.entry, sealed, scratch, "data/" + loc.pack);
  if (!plain.ok()) return DataLossError(std::string(for_what) + ": " + plain.status().message());
  return plain;
}

StatusOr<std::vector<Node>> BlobReader::LoadTree(const BlobId& id, std::string_view for_what) {
  SF_ASSIGN_OR_RETURN(Bytes bytes, Load(id, for_what));
  return DecodeTree(bytes, std::string(for_what) + " (tree " + Hex(id).substr(0, 16) + ")");
}

StatusOr<uint32_t> BlobReader::Length(const BlobId& id) {
  SF_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache_.Find(id));
  if (!loc) return NotFoundError("blob " + Hex(id).substr(0, 16) + " is in no index");
  return loc->entry.raw_length;
}

Status WalkTree(BlobReader& reader, const BlobId& tree, const std::string& path,
                const std::function<bool(const std::string& path, const Node& node)>& visit) {
  SF_ASSIGN_OR_RETURN(std::vector<Node> nodes, reader.LoadTree(tree, path.empty() ? "/" : path));
  for (const Node& n : nodes) {
    const std::string p = path + "/" + n.name;
    const bool enter = visit(p, n);
    if (enter && n.type == NodeType::kDir && n.subtree) SF_RETURN_IF_ERROR(WalkTree(reader, *n.subtree, p, visit));
  }
  return OkStatus();
}

StatusOr<std::vector<SnapshotRef>> ListSnapshots(Repository& repo, std::vector<std::string>* damaged) {
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, repo.backend().List(FileType::kSnapshot));
  std::vector<SnapshotRef> out;
  for (const FileInfo& f : files) {
    StatusOr<nlohmann::json> doc = repo.LoadDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, f.name);
    StatusOr<Snapshot> s = doc.ok() ? ParseSnapshotDocument(*doc, "snapshots/" + f.name) : StatusOr<Snapshot>(doc.status());
    if (!s.ok()) {
      if (damaged == nullptr) return s.status();
      damaged->push_back(f.name + ": " + s.status().message());
      continue;
    }
    out.push_back({f.name, std::move(*s)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const SnapshotRef& a, const SnapshotRef& b) { return a.snapshot.time < b.snapshot.time; });
  return out;
}

StatusOr<SnapshotRef> FindSnapshot(Repository& repo, const std::string& which, const std::string& host) {
  if (which == "latest") {
    std::vector<std::string> damaged;
    SF_ASSIGN_OR_RETURN(std::vector<SnapshotRef> all, ListSnapshots(repo, &damaged));
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (host.empty() || it->snapshot.host == host) return *it;
    }
    return NotFoundError(host.empty() ? "the repository has no snapshot" : "no snapshot of host " + host);
  }
  if (which.size() < 4 || which.size() > 64 || which.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return InvalidArgumentError("'" + which + "' is not a snapshot id (hex digits, at least 4) nor 'latest'");
  }
  SF_ASSIGN_OR_RETURN(std::vector<FileInfo> files, repo.backend().List(FileType::kSnapshot));
  std::string found;
  for (const FileInfo& f : files) {
    if (f.name.compare(0, which.size(), which) != 0) continue;
    if (!found.empty()) return InvalidArgumentError("'" + which + "' matches several snapshots; give more digits");
    found = f.name;
  }
  if (found.empty()) return NotFoundError("no snapshot " + which);
  SF_ASSIGN_OR_RETURN(nlohmann::json doc, repo.LoadDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, found));
  SF_ASSIGN_OR_RETURN(Snapshot s, ParseSnapshotDocument(doc, "snapshots/" + found));
  return SnapshotRef{found, std::move(s)};
}

}  // namespace steadfast::backup
