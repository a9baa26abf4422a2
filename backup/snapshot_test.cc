// Trees and snapshots (FORMAT.md 7): they encode and decode to the same thing, nodes come out
// sorted, and a damaged or hostile tree (a name like "../etc", nodes out of order, a directory
// without a subtree, wrong types) is refused and named rather than handed to a restore.
#include "backup/snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <random>

namespace steadfast::backup {
namespace {

using nlohmann::json;

BlobId Id(uint8_t v) {
  BlobId id;
  id.fill(v);
  return id;
}

std::vector<Node> Sample() {
  Node file;
  file.name = "z-report.db";
  file.type = NodeType::kFile;
  file.mode = 0100640;
  file.uid = 1000;
  file.user = "backup";
  file.mtime_ns = 1'790'000'000'123'456'789;
  file.size = 3 << 20;
  file.content = {Id(1), Id(2), Id(3)};
  file.digest = Id(9);
  file.xattrs = {{"user.origin", "db1"}};
  Node dir;
  dir.name = "logs";
  dir.type = NodeType::kDir;
  dir.subtree = Id(7);
  Node link;
  link.name = std::string("l\xff\xfe-not-utf8");
  link.type = NodeType::kSymlink;
  link.target = "../shared/data";
  Node dev;
  dev.name = "sda";
  dev.type = NodeType::kDev;
  dev.rdev = 0x0800;
  return {file, dir, link, dev};
}

TEST(SnapshotTest, TreesRoundTripSorted) {
  auto bytes = EncodeTree(Sample());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto nodes = DecodeTree(*bytes, "tree ab");
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 4u);
  std::vector<std::string> names;
  for (const Node& n : *nodes) names.push_back(n.name);
  // Bytewise order: 0xff sorts after 'o'.
  EXPECT_EQ(names, (std::vector<std::string>{"logs", "l\xff\xfe-not-utf8", "sda", "z-report.db"}));
  const Node& f = (*nodes)[3];
  EXPECT_EQ(f.type, NodeType::kFile);
  EXPECT_EQ(f.content, (std::vector<BlobId>{Id(1), Id(2), Id(3)}));
  EXPECT_EQ(f.digest, Id(9));
  EXPECT_EQ(f.mtime_ns, 1'790'000'000'123'456'789);
  EXPECT_EQ(f.mode, 0100640u);
  EXPECT_EQ(f.user, "backup");
  EXPECT_EQ(f.xattrs, (std::vector<std::pair<std::string, std::string>>{{"user.origin", "db1"}}));
  EXPECT_EQ((*nodes)[0].subtree, Id(7));
  EXPECT_EQ((*nodes)[1].target, "../shared/data") << "a symlink's target is data, not a path we follow";
  EXPECT_EQ((*nodes)[2].rdev, 0x0800u);
}

TEST(SnapshotTest, UnsafeOrInconsistentTreesAreRefused) {
  for (const std::string& bad : std::vector<std::string>{std::string("../etc"), std::string(".."), std::string("."), std::string("a/b"), std::string(),
                                std::string("a\0b", 3)}) {
    Node n;
    n.name = bad;
    EXPECT_EQ(EncodeTree({n}).status().code(), StatusCode::kInvalidArgument) << bad;
    // The same name written by someone else's encoder.
    json doc = {{"nodes", {{{"name", json::binary(std::vector<uint8_t>(bad.begin(), bad.end()))},
                            {"type", "file"},
                            {"content", json::array()}}}}};
    const std::vector<uint8_t> cbor = json::to_cbor(doc);
    auto r = DecodeTree(cbor, "tree cd");
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << bad;
    EXPECT_NE(r.status().message().find("tree cd node 0"), std::string::npos) << r.status().ToString();
  }
  Node a, b;
  a.name = b.name = "same";
  EXPECT_FALSE(EncodeTree({a, b}).ok());
  Node dir;
  dir.name = "d";
  dir.type = NodeType::kDir;
  EXPECT_FALSE(EncodeTree({dir}).ok()) << "a directory needs its subtree";

  auto decode = [](const json& nodes) {
    const std::vector<uint8_t> cbor = json::to_cbor(json{{"nodes", nodes}});
    return DecodeTree(cbor, "t").status();
  };
  auto name = [](const char* s) { return json::binary(std::vector<uint8_t>(s, s + std::strlen(s))); };
  EXPECT_FALSE(decode({{{"name", name("b")}, {"type", "fifo"}}, {{"name", name("a")}, {"type", "fifo"}}}).ok())
      << "out of order";
  EXPECT_FALSE(decode({{{"name", name("a")}, {"type", "dir"}}}).ok());
  EXPECT_FALSE(decode({{{"name", name("a")}, {"type", "teleporter"}}}).ok());
  EXPECT_FALSE(decode({{{"name", name("a")}, {"type", 7}}}).ok()) << "a type of the wrong kind is refused, not thrown";
  EXPECT_FALSE(decode({{{"name", name("a")}, {"type", "fifo"}, {"mode", "rwx"}}}).ok());
  EXPECT_FALSE(decode({{{"name", name("a")}, {"type", "file"}, {"content", {json::binary({1, 2})}}}}).ok());
  EXPECT_TRUE(decode({{{"name", name("a")}, {"type", "fifo"}, {"user", 5}}}).ok()) << "a bad optional text is dropped";
  const std::vector<uint8_t> junk = {0xff, 0x00, 0x13};
  EXPECT_EQ(DecodeTree(junk, "t").status().code(), StatusCode::kDataLoss);
}

// The tree encoder as it was written through nlohmann's json (FORMAT.md 7.1): EncodeTree writes
// CBOR itself now and must give exactly these bytes, so trees of older versions deduplicate.
std::vector<uint8_t> ReferenceEncodeTree(std::vector<Node> nodes) {
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  auto bin = [](std::string_view v) { return json::binary(std::vector<uint8_t>(v.begin(), v.end())); };
  auto id = [](const BlobId& v) { return json::binary(std::vector<uint8_t>(v.begin(), v.end())); };
  json list = json::array();
  for (const Node& n : nodes) {
    json j = {{"name", bin(n.name)}, {"type", NodeTypeName(n.type)}, {"mode", n.mode},    {"uid", n.uid},
              {"gid", n.gid},        {"user", n.user},                {"group", n.group}, {"mtime", n.mtime_ns},
              {"ctime", n.ctime_ns}, {"inode", n.inode},              {"device", n.device}, {"links", n.links}};
    if (n.type == NodeType::kFile) {
      j["size"] = n.size;
      json content = json::array();
      for (const BlobId& c : n.content) content.push_back(id(c));
      j["content"] = std::move(content);
      if (n.digest) j["digest"] = id(*n.digest);
    } else if (n.type == NodeType::kDir) {
      j["subtree"] = id(*n.subtree);
    } else if (n.type == NodeType::kSymlink) {
      j["target"] = bin(n.target);
    } else if (n.type == NodeType::kDev || n.type == NodeType::kCharDev) {
      j["rdev"] = n.rdev;
    }
    if (!n.xattrs.empty()) {
      json x = json::array();
      for (const auto& [k, v] : n.xattrs) x.push_back({bin(k), bin(v)});
      j["xattrs"] = std::move(x);
    }
    list.push_back(std::move(j));
  }
  return json::to_cbor(json{{"nodes", std::move(list)}});
}

// Random trees with every node type and values at every CBOR length boundary.
std::vector<Node> RandomTree(std::mt19937_64& rng, size_t count) {
  static constexpr uint64_t kEdges[] = {0, 1, 23, 24, 255, 256, 65535, 65536, 0xffffffffull, 0x100000000ull,
                                        0x7fffffffffffffffull, 0xffffffffffffffffull};
  auto pick = [&] { return rng() % 3 == 0 ? kEdges[rng() % std::size(kEdges)] : rng() >> (rng() % 64); };
  auto text = [&](size_t max) {
    std::string t(rng() % (max + 1), 'x');
    for (char& c : t) c = static_cast<char>('a' + rng() % 26);
    return t;
  };
  std::vector<Node> nodes;
  for (size_t i = 0; i < count; ++i) {
    Node n;
    n.name = text(300) + "-" + std::to_string(i);
    n.type = static_cast<NodeType>(rng() % 7);
    n.mode = static_cast<uint32_t>(pick());
    n.uid = static_cast<uint32_t>(pick());
    n.gid = static_cast<uint32_t>(pick());
    n.user = text(30);
    n.group = text(300);
    n.mtime_ns = static_cast<int64_t>(pick());  // negative ones too
    n.ctime_ns = -static_cast<int64_t>(pick() >> 1);
    n.inode = pick();
    n.device = pick();
    n.links = pick();
    if (n.type == NodeType::kFile) {
      n.size = pick();
      n.content.resize(rng() % 30);
      for (BlobId& c : n.content) c = Id(static_cast<uint8_t>(rng()));
      if (rng() % 2) n.digest = Id(static_cast<uint8_t>(rng()));
    } else if (n.type == NodeType::kDir) {
      n.subtree = Id(static_cast<uint8_t>(rng()));
    } else if (n.type == NodeType::kSymlink) {
      n.target = text(70000 * (rng() % 50 == 0));
    } else {
      n.rdev = pick();
    }
    if (rng() % 4 == 0) n.xattrs = {{"user.a", text(5)}, {"user.b", std::string(1, '\0')}};
    nodes.push_back(std::move(n));
  }
  return nodes;
}

TEST(SnapshotTest, TreeBytesAreThoseTheJsonEncoderWrote) {
  std::mt19937_64 rng(20261130);
  for (size_t round = 0; round < 60; ++round) {
    const std::vector<Node> nodes = RandomTree(rng, round == 0 ? 0 : 1 + rng() % 40);
    auto ours = EncodeTree(nodes);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    ASSERT_EQ(*ours, ReferenceEncodeTree(nodes)) << "round " << round;
    auto back = DecodeTree(*ours, "t");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    auto again = EncodeTree(*back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *ours) << "round " << round;
  }
  // A tree of 24 nodes crosses the short array form; 256 the one-byte length.
  for (size_t count : {23, 24, 255, 256}) {
    const std::vector<Node> nodes = RandomTree(rng, count);
    EXPECT_EQ(*EncodeTree(nodes), ReferenceEncodeTree(nodes)) << count;
  }
}

// Other encoders' well-formed CBOR reads the same: keys in any order, unknown keys, indefinite
// lengths, and tags on values we skip.
TEST(SnapshotTest, TreesFromOtherEncodersDecode) {
  // {"nodes": [_ {"type": "fifo", "x-new": [_ 1, {"a": h'00'}], "name": h'61'}]} with
  // indefinite arrays and maps, and a tagged unknown value.
  const std::vector<uint8_t> cbor = {
      0xa1, 0x65, 'n', 'o', 'd', 'e', 's', 0x9f,                      // {"nodes": [_
      0xbf, 0x64, 't', 'y', 'p', 'e', 0x64, 'f', 'i', 'f', 'o',       // {_ "type": "fifo",
      0x65, 'x', '-', 'n', 'e', 'w', 0x9f, 0x01, 0xa1, 0x61, 'a',     // "x-new": [_ 1, {"a":
      0x41, 0x00, 0xff,                                               // h'00'}]
      0x64, 'u', 's', 'e', 'r', 0xc1, 0x1a, 0, 0, 0, 5,               // "user": 1(5),
      0x64, 'n', 'a', 'm', 'e', 0x41, 'a', 0xff,                      // "name": h'61'}
      0xff};                                                          // ]}
  auto nodes = DecodeTree(cbor, "t");
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].name, "a");
  EXPECT_EQ((*nodes)[0].type, NodeType::kFifo);
  EXPECT_EQ((*nodes)[0].user, "") << "a bad optional text is dropped";
}

// Every truncation of a valid tree, and trailing bytes, are refused as damage.
TEST(SnapshotTest, TruncatedTreesAreDataLoss) {
  std::mt19937_64 rng(7);
  auto bytes = EncodeTree(RandomTree(rng, 5));
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); ++n) {
    std::vector<uint8_t> cut(bytes->begin(), bytes->begin() + static_cast<ptrdiff_t>(n));
    EXPECT_EQ(DecodeTree(cut, "t").status().code(), StatusCode::kDataLoss) << n;
  }
  std::vector<uint8_t> longer = *bytes;
  longer.push_back(0x00);
  EXPECT_EQ(DecodeTree(longer, "t").status().code(), StatusCode::kDataLoss);
  // A length far beyond the input, and nesting deeper than any tree has.
  const std::vector<uint8_t> huge = {0xa1, 0x65, 'n', 'o', 'd', 'e', 's', 0x9b, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(DecodeTree(huge, "t").status().code(), StatusCode::kDataLoss);
  std::vector<uint8_t> deep = {0xa1, 0x61, 'z'};
  deep.insert(deep.end(), 100000, 0x81);
  deep.push_back(0x00);
  EXPECT_EQ(DecodeTree(deep, "t").status().code(), StatusCode::kDataLoss);
}

TEST(SnapshotTest, SnapshotsRoundTripAndNameWhatIsMissing) {
  Snapshot s;
  s.time = "2026-11-29T10:00:00Z";
  s.host = "nas1";
  s.username = "backup";
  s.paths = {"/srv/data", "/etc"};
  s.tags = {"nightly"};
  s.tree = Id(5);
  s.parent = std::string(64, 'e');
  s.program = "steadfast-backup 0.1.0";
  s.summary.files_new = 12;
  s.summary.bytes_added_stored = 4096;
  s.summary.duration_ms = 1500;
  auto back = ParseSnapshotDocument(SnapshotDocument(s), "snapshots/ab");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->paths, s.paths);
  EXPECT_EQ(back->tree, s.tree);
  EXPECT_EQ(back->parent, s.parent);
  EXPECT_EQ(back->summary.files_new, 12u);
  EXPECT_EQ(back->summary.duration_ms, 1500);
  EXPECT_EQ(back->source, "paths");

  json doc = SnapshotDocument(s);
  doc.erase("tree");
  auto missing = ParseSnapshotDocument(doc, "snapshots/ab");
  EXPECT_EQ(missing.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(missing.status().message().find("snapshots/ab: missing or bad 'tree'"), std::string::npos);
  doc = SnapshotDocument(s);
  doc["parent"] = "../../x";
  EXPECT_FALSE(ParseSnapshotDocument(doc, "s").ok());
  doc = SnapshotDocument(s);
  doc["summary"]["files_new"] = "many";
  auto odd = ParseSnapshotDocument(doc, "s");
  ASSERT_TRUE(odd.ok()) << "a bad summary figure is dropped, not thrown";
  EXPECT_EQ(odd->summary.files_new, 0u);
  doc = SnapshotDocument(s);
  doc["paths"] = {1, 2};
  EXPECT_FALSE(ParseSnapshotDocument(doc, "s").ok());
}

}  // namespace
}  // namespace steadfast::backup
