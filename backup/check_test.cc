// check and check --read-data: a clean repository passes; a flipped bit in a pack, an index file
// or a snapshot, and a missing pack, are each found, named, and traced to the snapshots and
// paths they hurt; the rolling subsets read every pack exactly once between them.
#include "backup/check.h"

#include <gtest/gtest.h>

#include "backup/test_util.h"
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace steadfast::backup {
namespace {

namespace fs = std::filesystem;

using testing::RandomText;

bool Mentions(const std::vector<std::string>& lines, const std::string& what) {
  for (const std::string& l : lines) {
    if (l.find(what) != std::string::npos) return true;
  }
  return false;
}

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-check-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/src/sub");
    std::ofstream(dir_ + "/src/a.bin", std::ios::binary) << RandomText(700 << 10, 1);
    std::ofstream(dir_ + "/src/sub/b.txt", std::ios::binary) << std::string(300 << 10, 'b');
    for (int i = 0; i < 20; ++i) std::ofstream(dir_ + "/src/sub/s" + std::to_string(i)) << RandomText(5000, 10 + i);
    InitOptions o;
    o.kdf = {64, 1, 1, true};
    o.chunker = {64 << 10, 128 << 10, 256 << 10};
    auto repo = Repository::Init(NewLocalBackend(dir_ + "/repo"), "pw", o);
    ASSERT_TRUE(repo.ok());
    repo_ = std::move(repo).value();
    cache_ = std::move(IndexCache::Open(dir_ + "/cache.sqlite")).value();
    BackupRequest r;
    r.paths = {dir_ + "/src"};
    r.host = "nas1";
    auto b = Backup(*repo_, *cache_, r);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    snapshot_ = b->snapshot_id;
  }
  void TearDown() override { fs::remove_all(dir_); }

  CheckReport Run(bool read_data, int n = 0, int m = 0) {
    CheckOptions o;
    o.read_data = read_data;
    o.subset_n = n;
    o.subset_m = m;
    auto r = Check(*repo_, *cache_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CheckReport{};
  }

  // The pack holding the data of a.bin (the largest data pack).
  std::string DataPack() {
    std::string best;
    uint64_t size = 0;
    auto packs = cache_->Packs();
    if (!packs.ok()) return best;
    for (const auto& [pack, count] : packs.value()) {
      auto entries = cache_->PackBlobs(pack);
      if ((*entries)[0].type != BlobType::kData) continue;
      const uint64_t s = *repo_->backend().Size(FileType::kData, pack);
      if (s > size) {
        size = s;
        best = pack;
      }
    }
    return best;
  }

  void Flip(FileType type, const std::string& name, uint64_t at) {
    auto bytes = repo_->backend().Load(type, name);
    ASSERT_TRUE(bytes.ok());
    (*bytes)[at] ^= 0x10;
    // Written in place, as a failing disk would: the name no longer matches the bytes.
    std::string path = dir_ + "/repo/" + std::string(FileTypeDir(type)) + "/" +
                       (type == FileType::kData ? name.substr(0, 2) + "/" : "") + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  }

  std::string dir_, snapshot_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<IndexCache> cache_;
};

TEST_F(CheckTest, ACleanRepositoryPassesAndEveryByteIsRead) {
  CheckReport r = Run(true);
  EXPECT_TRUE(r.ok()) << r.errors[0];
  EXPECT_EQ(r.snapshots, 1u);
  EXPECT_EQ(r.trees, 3u) << "root, src, sub";
  EXPECT_EQ(r.packs_read, r.packs);
  EXPECT_GE(r.blobs_read, 25u);
  CheckReport s = Run(false);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.packs_read, 0u);
}

TEST_F(CheckTest, AFlippedBitInAPackIsNamedWithTheFilesItHolds) {
  const std::string pack = DataPack();
  ASSERT_FALSE(pack.empty());
  Flip(FileType::kData, pack, kPackPrefix + 100);
  CheckReport structure = Run(false);
  EXPECT_TRUE(structure.ok()) << "a blob's body is only read by --read-data";
  CheckReport r = Run(true);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.errors, "data/" + pack)) << r.errors[0];
  EXPECT_TRUE(Mentions(r.affected, "snapshot " + snapshot_.substr(0, 8))) << (r.affected.empty() ? "" : r.affected[0]);
  EXPECT_TRUE(Mentions(r.affected, "/src/a.bin"));
}

TEST_F(CheckTest, ADamagedPackHeaderIsFoundWithoutReadingData) {
  const std::string pack = DataPack();
  const uint64_t size = *repo_->backend().Size(FileType::kData, pack);
  Flip(FileType::kData, pack, size - 10);
  CheckReport r = Run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.errors, "data/" + pack));
  EXPECT_TRUE(Mentions(r.affected, "/src/a.bin"));
}

TEST_F(CheckTest, AMissingPackIsDamage) {
  const std::string pack = DataPack();
  ASSERT_TRUE(repo_->backend().Remove(FileType::kData, pack).ok());
  CheckReport r = Run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.errors, "data/" + pack + ": missing"));
  EXPECT_TRUE(Mentions(r.affected, "/src/a.bin"));
}

TEST_F(CheckTest, DamagedIndexAndSnapshotFilesAreNamed) {
  auto index = repo_->backend().List(FileType::kIndex);
  ASSERT_EQ(index->size(), 1u);
  Flip(FileType::kIndex, (*index)[0].name, 60);
  Flip(FileType::kSnapshot, snapshot_, 60);
  // A fresh cache: the damaged index is read for the first time.
  cache_ = std::move(IndexCache::Open(":memory:")).value();
  CheckReport r = Run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.errors, "index/" + (*index)[0].name));
  EXPECT_TRUE(Mentions(r.errors, "snapshots/" + snapshot_));
}

TEST_F(CheckTest, SubsetsReadEveryPackExactlyOnce) {
  uint64_t total = 0;
  for (int n = 1; n <= 3; ++n) total += Run(true, n, 3).packs_read;
  EXPECT_EQ(total, Run(false).packs);
  int n = 0, m = 0;
  EXPECT_TRUE(ParseSubset("2/7", &n, &m).ok());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(m, 7);
  for (const char* bad : {"0/7", "8/7", "x/7", "7", "/7", "3/", "1/0"}) EXPECT_FALSE(ParseSubset(bad, &n, &m).ok()) << bad;
}

}  // namespace
}  // namespace steadfast::backup
