// Writes the seed corpus of the fuzz targets (backup/fuzz/corpus/<target>/): valid trees,
// documents, envelopes and packs made with the fuzz key, small enough to mutate quickly.
//   backup_fuzz_make_corpus backup/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "backup/document.h"
#include "backup/drill.h"
#include "backup/fuzz/fuzz_key.h"
#include "backup/index.h"
#include "backup/pack.h"
#include "backup/snapshot.h"

namespace {

using namespace steadfast::backup;

template <typename Buffer>
void Put(const std::string& dir, const std::string& name, const Buffer& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/" + name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

BlobId Id(uint8_t seed) {
  BlobId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(seed + i);
  return id;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  // Trees.
  Node file;
  file.name = "report.txt";
  file.type = NodeType::kFile;
  file.mode = 0644;
  file.size = 12;
  file.content = {Id(1), Id(2)};
  file.digest = Id(3);
  file.user = "clerk";
  file.xattrs = {{"user.note", "x"}};
  Node dir;
  dir.name = "forms";
  dir.type = NodeType::kDir;
  dir.mode = 0755;
  dir.subtree = Id(4);
  Node link;
  link.name = "current";
  link.type = NodeType::kSymlink;
  link.target = "forms/report.txt";
  Node dev;
  dev.name = "sda";
  dev.type = NodeType::kDev;
  dev.rdev = 2048;
  Put(root + "/tree", "three-nodes", EncodeTree({file, dir, link}).value());
  Put(root + "/tree", "device", EncodeTree({dev}).value());
  Put(root + "/tree", "empty", EncodeTree({}).value());

  // Documents: an index, a snapshot, an evidence record.
  PackEntry e;
  e.id = Id(5);
  e.offset = kPackPrefix;
  e.stored_length = 40;
  e.raw_length = 24;
  const nlohmann::json index = IndexDocument({{std::string(64, 'a'), {e}}}, {std::string(64, 'b')});
  Snapshot s;
  s.time = "2026-11-30T02:00:00.000Z";
  s.host = "nas1";
  s.paths = {"/srv/records"};
  s.tags = {"nightly"};
  s.tree = Id(6);
  s.parent = std::string(64, 'c');
  Evidence ev;
  ev.time = "2026-11-30T03:00:00.000Z";
  ev.snapshot = std::string(64, 'd');
  ev.result = "failed";
  ev.mismatches = {{"/srv/records/a", "bytes 0..10 differ from the backup"}};
  Put(root + "/document", "index", EncodeDocument(index));
  Put(root + "/document", "snapshot", EncodeDocument(SnapshotDocument(s)));
  Put(root + "/document", "evidence", EncodeDocument(EvidenceDocument(ev)));

  // Envelopes: the first byte picks the kind the target expects (kind = byte % 5 + 1).
  const auto envelope = [&](EnvelopeKind kind, const nlohmann::json& doc) {
    Bytes out{static_cast<uint8_t>(static_cast<int>(kind) - 1)};
    const Bytes sealed = SealEnvelope(fuzz::Key(), kind, EncodeDocument(doc));
    out.insert(out.end(), sealed.begin(), sealed.end());
    return out;
  };
  Put(root + "/envelope", "index", envelope(EnvelopeKind::kIndex, index));
  Put(root + "/envelope", "snapshot", envelope(EnvelopeKind::kSnapshot, SnapshotDocument(s)));

  // Packs: a data blob stored raw, one compressed, a tree blob.
  PackWriter w(fuzz::Key(), 3);
  const BlobHasher hasher(fuzz::Key().id);
  const std::string text(3000, 'r');
  const Bytes random = [] {
    Bytes b(700);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    return b;
  }();
  const Bytes tree = EncodeTree({file, link}).value();
  const std::span<const uint8_t> text_span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  (void)w.Add(BlobType::kData, hasher.Id(text_span), text_span);
  (void)w.Add(BlobType::kData, hasher.Id(random), random);
  (void)w.Add(BlobType::kTree, hasher.Id(tree), tree);
  Put(root + "/pack", "three-blobs", w.Finish().bytes);
  (void)w.Add(BlobType::kData, hasher.Id(random), random);
  Put(root + "/pack", "one-blob", w.Finish().bytes);
  std::printf("corpus written to %s\n", root.c_str());
  return 0;
}
