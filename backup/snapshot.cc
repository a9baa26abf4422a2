#include "backup/snapshot.h"

#include <algorithm>
#include <set>

#include "backup/backend.h"
#include "backup/document.h"

namespace steadfast::backup {

using nlohmann::json;

namespace {

constexpr const char* kTypeNames[] = {"file", "dir", "symlink", "dev", "chardev", "fifo", "socket"};

json Bin(const BlobId& id) { return json::binary(std::vector<uint8_t>(id.begin(), id.end())); }

std::optional<BlobId> IdOf(const json& j) {
  if (!j.is_binary() || j.get_binary().size() != 32) return std::nullopt;
  BlobId id{};
  std::copy(j.get_binary().begin(), j.get_binary().end(), id.begin());
  return id;
}

// Readers never call json::value(): it throws on a wrong type, and a tree or snapshot comes from
// storage someone may have damaged.
std::string TextOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <typename T>
T NumberOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<T>() : T{};
}

}  // namespace

std::string_view NodeTypeName(NodeType t) { return kTypeNames[static_cast<int>(t)]; }

BlobId FileDigest(const Key32& id_key, uint64_t size, std::span<const BlobId> content) {
  StreamHasher h(id_key);
  static constexpr char kLabel[] = "steadfast-backup file v1";
  h.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kLabel), sizeof kLabel - 1));
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(size >> (8 * i));
  h.Update(le);
  for (const BlobId& id : content) h.Update(id);
  return h.Final();
}

json SnapshotDocument(const Snapshot& s) {
  json j = {{"time", s.time},
            {"host", s.host},
            {"username", s.username},
            {"paths", s.paths},
            {"tags", s.tags},
            {"excludes", s.excludes},
            {"tree", Bin(s.tree)},
            {"program", s.program},
            {"source", s.source},
            {"summary",
             {{"files_new", s.summary.files_new},
              {"files_changed", s.summary.files_changed},
              {"files_unmodified", s.summary.files_unmodified},
              {"bytes_read", s.summary.bytes_read},
              {"blobs_added", s.summary.blobs_added},
              {"bytes_added_stored", s.summary.bytes_added_stored},
              {"duration_ms", s.summary.duration_ms}}}};
  if (s.parent) j["parent"] = *s.parent;
  return j;
}

StatusOr<Snapshot> ParseSnapshotDocument(const json& doc, std::string_view what) {
  const std::string w(what);
  Snapshot s;
  SF_ASSIGN_OR_RETURN(s.time, DocString(doc, "time", what));
  SF_ASSIGN_OR_RETURN(s.host, DocString(doc, "host", what));
  s.username = TextOr(doc, "username");
  s.program = TextOr(doc, "program");
  s.source = TextOr(doc, "source");
  if (s.source.empty()) s.source = "paths";
  for (auto [key, out] : {std::pair{"paths", &s.paths}, std::pair{"tags", &s.tags}, std::pair{"excludes", &s.excludes}}) {
    if (!doc.contains(key)) continue;
    if (!doc[key].is_array()) return DataLossError(w + ": bad '" + key + "'");
    for (const json& v : doc[key]) {
      if (!v.is_string()) return DataLossError(w + ": bad '" + key + "'");
      out->push_back(v.get<std::string>());
    }
  }
  std::optional<BlobId> tree = doc.contains("tree") ? IdOf(doc["tree"]) : std::nullopt;
  if (!tree) return DataLossError(w + ": missing or bad 'tree'");
  s.tree = *tree;
  if (doc.contains("parent")) {
    if (!doc["parent"].is_string() || !ValidFileName(FileType::kSnapshot, doc["parent"].get<std::string>())) {
      return DataLossError(w + ": bad 'parent'");
    }
    s.parent = doc["parent"].get<std::string>();
  }
  if (doc.contains("summary") && doc["summary"].is_object()) {
    const json& m = doc["summary"];
    s.summary.files_new = NumberOr<uint64_t>(m, "files_new");
    s.summary.files_changed = NumberOr<uint64_t>(m, "files_changed");
    s.summary.files_unmodified = NumberOr<uint64_t>(m, "files_unmodified");
    s.summary.bytes_read = NumberOr<uint64_t>(m, "bytes_read");
    s.summary.blobs_added = NumberOr<uint64_t>(m, "blobs_added");
    s.summary.bytes_added_stored = NumberOr<uint64_t>(m, "bytes_added_stored");
    s.summary.duration_ms = NumberOr<int64_t>(m, "duration_ms");
  }
  return s;
}

}  // namespace steadfast::backup
