#include "backup/snapshot.h"

#include <algorithm>
#include <set>

#include "backup/backend.h"
#include "backup/document.h"

namespace steadfast::backup {

using nlohmann::json;

namespace {

constexpr const char* kTypeNames[] = {"file", "dir", "symlink", "dev", "chardev", "fifo", "socket"};

json Bin(std::string_view s) { return json::binary(std::vector<uint8_t>(s.begin(), s.end())); }
json Bin(const BlobId& id) { return json::binary(std::vector<uint8_t>(id.begin(), id.end())); }

bool ValidName(std::string_view n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string_view::npos &&
         n.find('\0') == std::string_view::npos;
}

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

std::optional<std::string> BytesOf(const json& j) {
  if (!j.is_binary()) return std::nullopt;
  return std::string(j.get_binary().begin(), j.get_binary().end());
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

StatusOr<Bytes> EncodeTree(std::vector<Node> nodes) {
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  json list = json::array();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (!ValidName(n.name)) return InvalidArgumentError("a tree node may not be named '" + n.name + "'");
    if (i > 0 && nodes[i - 1].name == n.name) return InvalidArgumentError("two tree nodes named '" + n.name + "'");
    json j = {{"name", Bin(n.name)}, {"type", NodeTypeName(n.type)}, {"mode", n.mode},   {"uid", n.uid},
              {"gid", n.gid},        {"user", n.user},                {"group", n.group}, {"mtime", n.mtime_ns},
              {"ctime", n.ctime_ns}, {"inode", n.inode},              {"device", n.device}, {"links", n.links}};
    if (n.type == NodeType::kFile) {
      j["size"] = n.size;
      json content = json::array();
      for (const BlobId& id : n.content) content.push_back(Bin(id));
      j["content"] = std::move(content);
      if (n.digest) j["digest"] = Bin(*n.digest);
    } else if (n.type == NodeType::kDir) {
      if (!n.subtree) return InvalidArgumentError("directory node '" + n.name + "' has no subtree");
      j["subtree"] = Bin(*n.subtree);
    } else if (n.type == NodeType::kSymlink) {
      j["target"] = Bin(n.target);
    } else if (n.type == NodeType::kDev || n.type == NodeType::kCharDev) {
      j["rdev"] = n.rdev;
    }
    if (!n.xattrs.empty()) {
      json x = json::array();
      for (const auto& [k, v] : n.xattrs) x.push_back({Bin(k), Bin(v)});
      j["xattrs"] = std::move(x);
    }
    list.push_back(std::move(j));
  }
  const std::vector<uint8_t> cbor = json::to_cbor(json{{"nodes", std::move(list)}});
  return Bytes(cbor.begin(), cbor.end());
}

StatusOr<std::vector<Node>> DecodeTree(std::span<const uint8_t> plaintext, std::string_view what) {
  const std::string w(what);
  StatusOr<json> parsed = ParseCbor(plaintext, w);
  if (!parsed.ok()) return parsed.status();
  const json& doc = *parsed;
  if (!doc.is_object() || !doc.contains("nodes") || !doc["nodes"].is_array()) {
    return DataLossError(w + ": not a tree");
  }
  std::vector<Node> out;
  for (size_t i = 0; i < doc["nodes"].size(); ++i) {
    const json& j = doc["nodes"][i];
    const std::string where = w + " node " + std::to_string(i);
    if (!j.is_object()) return DataLossError(where + ": not a map");
    Node n;
    std::optional<std::string> name = j.contains("name") ? BytesOf(j["name"]) : std::nullopt;
    if (!name || !ValidName(*name)) return DataLossError(where + ": a missing or unsafe name");
    n.name = *name;
    if (!out.empty() && !(out.back().name < n.name)) return DataLossError(where + ": names out of order or repeated");
    const std::string type = TextOr(j, "type");
    auto t = std::find(std::begin(kTypeNames), std::end(kTypeNames), type);
    if (t == std::end(kTypeNames)) return DataLossError(where + " ('" + n.name + "'): unknown type '" + type + "'");
    n.type = static_cast<NodeType>(t - std::begin(kTypeNames));
    auto num = [&](const char* key, auto* out_value) -> Status {
      if (!j.contains(key)) return OkStatus();
      if (!j[key].is_number_integer()) return DataLossError(where + " ('" + n.name + "'): bad '" + key + "'");
      *out_value = j[key].get<std::remove_pointer_t<decltype(out_value)>>();
      return OkStatus();
    };
    SF_RETURN_IF_ERROR(num("mode", &n.mode));
    SF_RETURN_IF_ERROR(num("uid", &n.uid));
    SF_RETURN_IF_ERROR(num("gid", &n.gid));
    SF_RETURN_IF_ERROR(num("mtime", &n.mtime_ns));
    SF_RETURN_IF_ERROR(num("ctime", &n.ctime_ns));
    SF_RETURN_IF_ERROR(num("inode", &n.inode));
    SF_RETURN_IF_ERROR(num("device", &n.device));
    SF_RETURN_IF_ERROR(num("links", &n.links));
    n.user = TextOr(j, "user");
    n.group = TextOr(j, "group");
    if (n.type == NodeType::kFile) {
      SF_RETURN_IF_ERROR(num("size", &n.size));
      if (!j.contains("content") || !j["content"].is_array()) return DataLossError(where + " ('" + n.name + "'): no content list");
      for (const json& c : j["content"]) {
        std::optional<BlobId> id = IdOf(c);
        if (!id) return DataLossError(where + " ('" + n.name + "'): a bad content id");
        n.content.push_back(*id);
      }
      if (j.contains("digest")) {
        n.digest = IdOf(j["digest"]);
        if (!n.digest) return DataLossError(where + " ('" + n.name + "'): a bad digest");
      }
    } else if (n.type == NodeType::kDir) {
      n.subtree = j.contains("subtree") ? IdOf(j["subtree"]) : std::nullopt;
      if (!n.subtree) return DataLossError(where + " ('" + n.name + "'): a directory without a subtree");
    } else if (n.type == NodeType::kSymlink) {
      std::optional<std::string> target = j.contains("target") ? BytesOf(j["target"]) : std::nullopt;
      if (!target) return DataLossError(where + " ('" + n.name + "'): a symlink without a target");
      n.target = *target;
    } else if (n.type == NodeType::kDev || n.type == NodeType::kCharDev) {
      SF_RETURN_IF_ERROR(num("rdev", &n.rdev));
    }
    if (j.contains("xattrs")) {
      if (!j["xattrs"].is_array()) return DataLossError(where + " ('" + n.name + "'): bad xattrs");
      for (const json& x : j["xattrs"]) {
        if (!x.is_array() || x.size() != 2 || !BytesOf(x[0]) || !BytesOf(x[1])) {
          return DataLossError(where + " ('" + n.name + "'): bad xattrs");
        }
        n.xattrs.emplace_back(*BytesOf(x[0]), *BytesOf(x[1]));
      }
    }
    out.push_back(std::move(n));
  }
  return out;
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
