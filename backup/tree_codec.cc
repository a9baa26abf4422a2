// EncodeTree and DecodeTree (backup/snapshot.h; FORMAT.md 7.1), written against CBOR (RFC 8949)
// directly rather than through nlohmann's json trees: a backup encodes a tree per directory and
// an incremental backup decodes the parent snapshot's, and building json trees for them was
// about 45 % of the walking thread's instructions in an incremental backup (callgrind).
//
// The encoder writes exactly the bytes json::to_cbor wrote before (keys in sorted order, every
// integer and length in its shortest form), so trees written by older versions deduplicate
// against new ones; snapshot_test compares the two byte for byte. The decoder reads any
// well-formed CBOR of that shape (keys in any order, unknown keys skipped) and refuses the rest
// with DataLoss; it never reads past the input and never recurses deeper than kMaxDepth.
#include <algorithm>
#include <cstring>

#include "backup/snapshot.h"

namespace steadfast::backup {

namespace {

constexpr int kMaxDepth = 32;

bool ValidName(std::string_view n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string_view::npos &&
         n.find('\0') == std::string_view::npos;
}

// --- writing ---------------------------------------------------------------------------------

class CborWriter {
 public:
  explicit CborWriter(Bytes& out) : out_(out) {}
  // The head of an item: major type and argument, the argument in its shortest form.
  void Head(uint8_t major, uint64_t v) {
    const uint8_t m = static_cast<uint8_t>(major << 5);
    if (v <= 23) {
      out_.push_back(static_cast<uint8_t>(m | v));
    } else if (v <= 0xff) {
      out_.push_back(m | 24);
      Be(v, 1);
    } else if (v <= 0xffff) {
      out_.push_back(m | 25);
      Be(v, 2);
    } else if (v <= 0xffffffffu) {
      out_.push_back(m | 26);
      Be(v, 4);
    } else {
      out_.push_back(m | 27);
      Be(v, 8);
    }
  }
  void Unsigned(uint64_t v) { Head(0, v); }
  void Signed(int64_t v) {
    if (v >= 0) {
      Head(0, static_cast<uint64_t>(v));
    } else {
      Head(1, static_cast<uint64_t>(-1 - v));
    }
  }
  void Binary(const void* p, size_t n) {
    Head(2, n);
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void Binary(std::string_view s) { Binary(s.data(), s.size()); }
  void Binary(const BlobId& id) { Binary(id.data(), id.size()); }
  void Text(std::string_view s) {
    Head(3, s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void Array(size_t n) { Head(4, n); }
  void Map(size_t n) { Head(5, n); }

 private:
  void Be(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  Bytes& out_;
};

// --- reading ---------------------------------------------------------------------------------

struct Item {
  uint8_t major = 0;
  uint64_t arg = 0;          // the value (majors 0, 1, 7) or the length (2 to 5)
  bool indefinite = false;   // majors 2 to 5 only
};

class CborReader {
 public:
  explicit CborReader(std::span<const uint8_t> in) : in_(in) {}
  bool AtEnd() const { return pos_ == in_.size(); }

  // The next item's head; false at the end of the input or on a reserved encoding.
  bool ReadHead(Item& item) {
    if (pos_ >= in_.size()) return false;
    const uint8_t b = in_[pos_++];
    item.major = b >> 5;
    const uint8_t info = b & 0x1f;
    item.indefinite = false;
    if (info < 24) {
      item.arg = info;
    } else if (info <= 27) {
      const size_t n = size_t{1} << (info - 24);
      if (in_.size() - pos_ < n) return false;
      uint64_t v = 0;
      for (size_t i = 0; i < n; ++i) v = (v << 8) | in_[pos_ + i];
      pos_ += n;
      item.arg = v;
    } else if (info == 31 && item.major >= 2 && item.major <= 5) {
      item.indefinite = true;
      item.arg = 0;
    } else if (info == 31 && item.major == 7) {
      return false;  // a "break" where an item belongs
    } else {
      return false;  // 28..30 are reserved
    }
    return true;
  }

  // A definite-length byte or text string's contents, after its head.
  bool ReadBytes(const Item& item, std::string_view& out) {
    if (item.indefinite || item.arg > in_.size() - pos_) return false;
    out = std::string_view(reinterpret_cast<const char*>(in_.data() + pos_), item.arg);
    pos_ += item.arg;
    return true;
  }

  // Whether the next byte is a "break" (ending an indefinite-length item); consumes it if so.
  bool Break() {
    if (pos_ < in_.size() && in_[pos_] == 0xff) {
      ++pos_;
      return true;
    }
    return false;
  }

  // Skips one whole item (for keys a reader does not know).
  bool Skip(int depth) {
    Item item;
    return ReadHead(item) && SkipBody(item, depth);
  }

  // Skips what follows an item's head (its contents, elements or tagged item).
  bool SkipBody(const Item& item, int depth) {
    if (depth > kMaxDepth) return false;
    switch (item.major) {
      case 0:
      case 1:
      case 7:
        return true;
      case 6:  // a tag: its content follows
        return Skip(depth + 1);
      case 2:
      case 3: {
        if (!item.indefinite) {
          std::string_view s;
          return ReadBytes(item, s);
        }
        while (!Break()) {  // chunks, each a definite string of the same major type
          Item chunk;
          std::string_view s;
          if (!ReadHead(chunk) || chunk.major != item.major || !ReadBytes(chunk, s)) return false;
        }
        return true;
      }
      default: {  // 4 array, 5 map
        const uint64_t per = item.major == 5 ? 2 : 1;
        if (item.indefinite) {
          while (!Break()) {
            for (uint64_t k = 0; k < per; ++k) {
              if (!Skip(depth + 1)) return false;
            }
          }
          return true;
        }
        // Each element takes at least one byte: a count beyond the input is damage.
        if (item.arg > (in_.size() - pos_) / per) return false;
        for (uint64_t i = 0; i < item.arg * per; ++i) {
          if (!Skip(depth + 1)) return false;
        }
        return true;
      }
    }
  }

  size_t remaining() const { return in_.size() - pos_; }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

// Iterates a map or array of either length form: Next() is true while elements remain.
class Elements {
 public:
  Elements(CborReader& r, const Item& head) : r_(r), indefinite_(head.indefinite), left_(head.arg) {}
  bool Next() {
    if (indefinite_) return !r_.Break();
    if (left_ == 0) return false;
    --left_;
    return true;
  }

 private:
  CborReader& r_;
  bool indefinite_;
  uint64_t left_;
};

}  // namespace

StatusOr<Bytes> EncodeTree(std::vector<Node> nodes) {
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  Bytes out;
  size_t estimate = 16;
  for (const Node& n : nodes) estimate += 192 + n.name.size() + n.content.size() * 34;
  out.reserve(estimate);
  CborWriter w(out);
  w.Map(1);
  w.Text("nodes");
  w.Array(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (!ValidName(n.name)) return InvalidArgumentError("a tree node may not be named '" + n.name + "'");
    if (i > 0 && nodes[i - 1].name == n.name) return InvalidArgumentError("two tree nodes named '" + n.name + "'");
    if (n.type == NodeType::kDir && !n.subtree) {
      return InvalidArgumentError("directory node '" + n.name + "' has no subtree");
    }
    const bool file = n.type == NodeType::kFile;
    const bool dev = n.type == NodeType::kDev || n.type == NodeType::kCharDev;
    // 12 keys every node has, then the type's own.
    size_t keys = 12;
    if (file) keys += 2 + (n.digest ? 1 : 0);
    if (n.type == NodeType::kDir || n.type == NodeType::kSymlink || dev) keys += 1;
    if (!n.xattrs.empty()) keys += 1;
    w.Map(keys);
    // In key order (bytewise), as json's std::map wrote them.
    if (file) {
      w.Text("content");
      w.Array(n.content.size());
      for (const BlobId& id : n.content) w.Binary(id);
    }
    w.Text("ctime");
    w.Signed(n.ctime_ns);
    w.Text("device");
    w.Unsigned(n.device);
    if (file && n.digest) {
      w.Text("digest");
      w.Binary(*n.digest);
    }
    w.Text("gid");
    w.Unsigned(n.gid);
    w.Text("group");
    w.Text(n.group);
    w.Text("inode");
    w.Unsigned(n.inode);
    w.Text("links");
    w.Unsigned(n.links);
    w.Text("mode");
    w.Unsigned(n.mode);
    w.Text("mtime");
    w.Signed(n.mtime_ns);
    w.Text("name");
    w.Binary(n.name);
    if (dev) {
      w.Text("rdev");
      w.Unsigned(n.rdev);
    }
    if (file) {
      w.Text("size");
      w.Unsigned(n.size);
    }
    if (n.type == NodeType::kDir) {
      w.Text("subtree");
      w.Binary(*n.subtree);
    }
    if (n.type == NodeType::kSymlink) {
      w.Text("target");
      w.Binary(n.target);
    }
    w.Text("type");
    w.Text(NodeTypeName(n.type));
    w.Text("uid");
    w.Unsigned(n.uid);
    w.Text("user");
    w.Text(n.user);
    if (!n.xattrs.empty()) {
      w.Text("xattrs");
      w.Array(n.xattrs.size());
      for (const auto& [k, v] : n.xattrs) {
        w.Array(2);
        w.Binary(k);
        w.Binary(v);
      }
    }
  }
  return out;
}

namespace {

// One node's map, after its head. `where` names it in errors.
Status DecodeNode(CborReader& r, const Item& head, const std::string& where, Node& n) {
  auto bad = [&](const std::string& what) {
    return DataLossError(where + (n.name.empty() ? "" : " ('" + n.name + "')") + ": " + what);
  };
  bool has_name = false, has_content = false, has_subtree = false, has_target = false;
  bool bad_name = false;
  std::string type;
  bool type_is_text = false;
  Elements keys(r, head);
  while (keys.Next()) {
    Item k;
    std::string_view key;
    if (!r.ReadHead(k) || k.major != 3 || !r.ReadBytes(k, key)) return bad("not well-formed CBOR");
    Item v;
    // Integers: any of the two integer majors, cast as json's get<T>() did.
    auto integer = [&](auto* out) -> Status {
      if (!r.ReadHead(v)) return bad("not well-formed CBOR");
      if (v.major == 0) {
        *out = static_cast<std::remove_pointer_t<decltype(out)>>(v.arg);
      } else if (v.major == 1) {
        *out = static_cast<std::remove_pointer_t<decltype(out)>>(-1 - static_cast<int64_t>(v.arg));
      } else {
        return bad("bad '" + std::string(key) + "'");
      }
      return OkStatus();
    };
    // A byte string, or nullopt when the value is of another kind (then skipped).
    auto bytes = [&](std::string_view& out, bool& ok) -> Status {
      if (!r.ReadHead(v)) return bad("not well-formed CBOR");
      if (v.major == 2 && !v.indefinite) {
        if (!r.ReadBytes(v, out)) return bad("not well-formed CBOR");
        ok = true;
        return OkStatus();
      }
      ok = false;
      return r.SkipBody(v, 1) ? OkStatus() : bad("not well-formed CBOR");
    };
    auto text = [&](std::string& out, bool* ok) -> Status {
      if (!r.ReadHead(v)) return bad("not well-formed CBOR");
      if (v.major == 3 && !v.indefinite) {
        std::string_view s;
        if (!r.ReadBytes(v, s)) return bad("not well-formed CBOR");
        out.assign(s);
        if (ok) *ok = true;
        return OkStatus();
      }
      out.clear();
      if (ok) *ok = false;
      return r.SkipBody(v, 1) ? OkStatus() : bad("not well-formed CBOR");
    };
    auto id = [&](BlobId& out) -> Status {
      std::string_view s;
      bool ok = false;
      SF_RETURN_IF_ERROR(bytes(s, ok));
      if (!ok || s.size() != out.size()) return bad("a bad " + std::string(key == "content" ? "content id" : key));
      std::memcpy(out.data(), s.data(), s.size());
      return OkStatus();
    };
    if (key == "name") {
      std::string_view s;
      bool ok = false;
      SF_RETURN_IF_ERROR(bytes(s, ok));
      has_name = ok;
      bad_name = !ok;
      if (ok) n.name.assign(s);
    } else if (key == "type") {
      SF_RETURN_IF_ERROR(text(type, &type_is_text));
    } else if (key == "mode") {
      SF_RETURN_IF_ERROR(integer(&n.mode));
    } else if (key == "uid") {
      SF_RETURN_IF_ERROR(integer(&n.uid));
    } else if (key == "gid") {
      SF_RETURN_IF_ERROR(integer(&n.gid));
    } else if (key == "mtime") {
      SF_RETURN_IF_ERROR(integer(&n.mtime_ns));
    } else if (key == "ctime") {
      SF_RETURN_IF_ERROR(integer(&n.ctime_ns));
    } else if (key == "inode") {
      SF_RETURN_IF_ERROR(integer(&n.inode));
    } else if (key == "device") {
      SF_RETURN_IF_ERROR(integer(&n.device));
    } else if (key == "links") {
      SF_RETURN_IF_ERROR(integer(&n.links));
    } else if (key == "size") {
      SF_RETURN_IF_ERROR(integer(&n.size));
    } else if (key == "rdev") {
      SF_RETURN_IF_ERROR(integer(&n.rdev));
    } else if (key == "user") {
      SF_RETURN_IF_ERROR(text(n.user, nullptr));  // a bad optional text is dropped
    } else if (key == "group") {
      SF_RETURN_IF_ERROR(text(n.group, nullptr));
    } else if (key == "content") {
      if (!r.ReadHead(v)) return bad("not well-formed CBOR");
      if (v.major != 4) {
        if (!r.SkipBody(v, 1)) return bad("not well-formed CBOR");
        has_content = false;
        continue;
      }
      if (!v.indefinite && v.arg > r.remaining()) return bad("not well-formed CBOR");
      n.content.clear();
      if (!v.indefinite) n.content.reserve(v.arg);
      Elements ids(r, v);
      while (ids.Next()) {
        BlobId c{};
        SF_RETURN_IF_ERROR(id(c));
        n.content.push_back(c);
      }
      has_content = true;
    } else if (key == "digest") {
      BlobId d{};
      SF_RETURN_IF_ERROR(id(d));
      n.digest = d;
    } else if (key == "subtree") {
      std::string_view s;
      bool ok = false;
      SF_RETURN_IF_ERROR(bytes(s, ok));
      has_subtree = ok && s.size() == BlobId{}.size();
      if (has_subtree) {
        BlobId t{};
        std::memcpy(t.data(), s.data(), s.size());
        n.subtree = t;
      }
    } else if (key == "target") {
      std::string_view s;
      bool ok = false;
      SF_RETURN_IF_ERROR(bytes(s, ok));
      has_target = ok;
      if (ok) n.target.assign(s);
    } else if (key == "xattrs") {
      if (!r.ReadHead(v) || v.major != 4) return bad("bad xattrs");
      if (!v.indefinite && v.arg > r.remaining()) return bad("not well-formed CBOR");
      n.xattrs.clear();
      Elements pairs(r, v);
      while (pairs.Next()) {
        Item pair;
        if (!r.ReadHead(pair) || pair.major != 4 || pair.indefinite || pair.arg != 2) return bad("bad xattrs");
        Item a, b;
        std::string_view ka, vb;
        if (!r.ReadHead(a) || a.major != 2 || !r.ReadBytes(a, ka) || !r.ReadHead(b) || b.major != 2 ||
            !r.ReadBytes(b, vb)) {
          return bad("bad xattrs");
        }
        n.xattrs.emplace_back(std::string(ka), std::string(vb));
      }
    } else if (!r.Skip(1)) {
      return bad("not well-formed CBOR");
    }
  }
  if (!has_name || bad_name || !ValidName(n.name)) {
    n.name.clear();
    return bad("a missing or unsafe name");
  }
  bool known = false;
  for (NodeType t : {NodeType::kFile, NodeType::kDir, NodeType::kSymlink, NodeType::kDev, NodeType::kCharDev,
                     NodeType::kFifo, NodeType::kSocket}) {
    if (type_is_text && NodeTypeName(t) == type) {
      n.type = t;
      known = true;
    }
  }
  if (!known) return bad("unknown type '" + type + "'");
  if (n.type == NodeType::kFile) {
    if (!has_content) return bad("no content list");
  } else {
    n.content.clear();
    n.digest.reset();
    n.size = 0;
  }
  if (n.type == NodeType::kDir && !has_subtree) return bad("a directory without a subtree");
  if (n.type != NodeType::kDir) n.subtree.reset();
  if (n.type == NodeType::kSymlink && !has_target) return bad("a symlink without a target");
  if (n.type != NodeType::kSymlink) n.target.clear();
  if (n.type != NodeType::kDev && n.type != NodeType::kCharDev) n.rdev = 0;
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<Node>> DecodeTree(std::span<const uint8_t> plaintext, std::string_view what) {
  const std::string w(what);
  CborReader r(plaintext);
  Item top;
  if (!r.ReadHead(top)) return DataLossError(w + ": not well-formed CBOR");
  if (top.major != 5) return DataLossError(w + ": not a tree");
  std::vector<Node> out;
  bool has_nodes = false;
  Elements keys(r, top);
  while (keys.Next()) {
    Item k;
    std::string_view key;
    if (!r.ReadHead(k) || k.major != 3 || !r.ReadBytes(k, key)) return DataLossError(w + ": not well-formed CBOR");
    if (key != "nodes") {
      if (!r.Skip(1)) return DataLossError(w + ": not well-formed CBOR");
      continue;
    }
    Item list;
    if (!r.ReadHead(list)) return DataLossError(w + ": not well-formed CBOR");
    if (list.major != 4) return DataLossError(w + ": not a tree");
    if (!list.indefinite && list.arg > r.remaining()) return DataLossError(w + ": not well-formed CBOR");
    out.clear();
    if (!list.indefinite) out.reserve(list.arg);
    Elements nodes(r, list);
    for (size_t i = 0; nodes.Next(); ++i) {
      const std::string where = w + " node " + std::to_string(i);
      Item head;
      if (!r.ReadHead(head)) return DataLossError(where + ": not well-formed CBOR");
      if (head.major != 5) return DataLossError(where + ": not a map");
      Node n;
      SF_RETURN_IF_ERROR(DecodeNode(r, head, where, n));
      if (!out.empty() && !(out.back().name < n.name)) {
        return DataLossError(where + ": names out of order or repeated");
      }
      out.push_back(std::move(n));
    }
    has_nodes = true;
  }
  if (!r.AtEnd()) return DataLossError(w + ": not well-formed CBOR (bytes after the tree)");
  if (!has_nodes) return DataLossError(w + ": not a tree");
  return out;
}

}  // namespace steadfast::backup
