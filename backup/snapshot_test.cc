// Trees and snapshots (FORMAT.md 7): they encode and decode to the same thing, nodes come out
// sorted, and a damaged or hostile tree (a name like "../etc", nodes out of order, a directory
// without a subtree, wrong types) is refused and named rather than handed to a restore.
#include "backup/snapshot.h"

#include <gtest/gtest.h>

#include <cstring>

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
