// Backup and restore end to end on a real directory tree: what is restored (with --verify) is
// byte for byte what was backed up, with modes, times and symlinks; a second backup of the same
// data adds nothing; a small change adds little; a damaged pack is named with the file it hurts.
#include "backup/archiver.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace steadfast::backup {
namespace {

namespace fs = std::filesystem;

std::string RandomText(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

void Write(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ArchiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-archiver-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    src_ = dir_ + "/data";
    fs::create_directories(src_ + "/logs/old");
    Write(src_ + "/logs/app.log", std::string(3 << 20, 'x') + "tail");
    Write(src_ + "/logs/old/empty.log", "");
    Write(src_ + "/db.bin", RandomText(5 << 20, 1));
    Write(src_ + "/notes.txt", "hello");
    ::chmod((src_ + "/notes.txt").c_str(), 0640);
    fs::create_symlink("logs/app.log", src_ + "/current.log");
    InitOptions o;
    o.kdf = {64, 1, 1, true};
    o.chunker = {64 << 10, 256 << 10, 1 << 20};  // small chunks: several per file
    auto repo = Repository::Init(NewLocalBackend(dir_ + "/repo"), "pw", o);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    repo_ = std::move(repo).value();
    auto cache = IndexCache::Open(dir_ + "/cache.sqlite");
    ASSERT_TRUE(cache.ok());
    cache_ = std::move(cache).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_, src_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<IndexCache> cache_;
};

TEST_F(ArchiverTest, WhatIsRestoredIsWhatWasBackedUp) {
  auto b = Backup(*repo_, *cache_, {{src_}, {"nightly"}, "nas1", nullptr});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->snapshot.summary.files_new, 4u);
  EXPECT_EQ(b->snapshot.summary.bytes_read, (3u << 20) + 4 + (5u << 20) + 5);
  EXPECT_LT(b->snapshot.summary.bytes_added_stored, (5u << 20) + (1u << 20)) << "the log compresses, the random file not";

  auto r = Restore(*repo_, *cache_, {b->snapshot_id, dir_ + "/restored", true});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->mismatches.empty());
  EXPECT_EQ(r->files, 4u);
  const std::string out = dir_ + "/restored/data";
  for (const char* f : {"/logs/app.log", "/logs/old/empty.log", "/db.bin", "/notes.txt"}) {
    EXPECT_EQ(Read(out + f), Read(src_ + f)) << f;
  }
  EXPECT_EQ(fs::read_symlink(out + "/current.log"), "logs/app.log");
  struct stat a {}, b2 {};
  ASSERT_EQ(::stat((src_ + "/notes.txt").c_str(), &a), 0);
  ASSERT_EQ(::stat((out + "/notes.txt").c_str(), &b2), 0);
  EXPECT_EQ(b2.st_mode & 07777, 0640u);
  EXPECT_EQ(b2.st_mtim.tv_sec, a.st_mtim.tv_sec);
  EXPECT_EQ(b2.st_mtim.tv_nsec, a.st_mtim.tv_nsec);
}

TEST_F(ArchiverTest, UnchangedDataAddsNothingAndASmallChangeLittle) {
  auto first = Backup(*repo_, *cache_, {{src_}, {}, "nas1", nullptr});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = Backup(*repo_, *cache_, {{src_}, {}, "nas1", nullptr});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->snapshot.summary.blobs_added, 0u);
  EXPECT_EQ(again->snapshot.summary.bytes_added_stored, 0u);
  EXPECT_EQ(again->snapshot.tree, first->snapshot.tree);

  // 100 bytes changed in the middle of the 5 MiB file: a chunk or two, and the trees above it.
  std::string db = Read(src_ + "/db.bin");
  for (size_t i = 0; i < 100; ++i) db[(2 << 20) + i] ^= 0x5a;
  Write(src_ + "/db.bin", db);
  auto changed = Backup(*repo_, *cache_, {{src_}, {}, "nas1", nullptr});
  ASSERT_TRUE(changed.ok());
  EXPECT_LE(changed->snapshot.summary.blobs_added, 4u);
  EXPECT_LT(changed->snapshot.summary.bytes_added_stored, 1u << 20);
  auto r = Restore(*repo_, *cache_, {changed->snapshot_id, dir_ + "/r2", true});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Read(dir_ + "/r2/data/db.bin"), db);
}

TEST_F(ArchiverTest, ADamagedPackIsNamedWithTheFileItHolds) {
  auto b = Backup(*repo_, *cache_, {{src_ + "/notes.txt"}, {}, "nas1", nullptr});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto packs = repo_->backend().List(FileType::kData);
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 1u);
  auto bytes = repo_->backend().Load(FileType::kData, (*packs)[0].name);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[kPackPrefix + 2] ^= 1;  // inside the first blob: the file's data
  ASSERT_TRUE(repo_->backend().Save(FileType::kData, (*packs)[0].name, *bytes).ok());
  auto r = Restore(*repo_, *cache_, {b->snapshot_id, dir_ + "/r3", false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("/notes.txt"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find((*packs)[0].name), std::string::npos) << r.status().ToString();
}

TEST_F(ArchiverTest, BadRequestsAreRefusedBeforeAnythingIsWritten) {
  EXPECT_EQ(Backup(*repo_, *cache_, {{"relative/path"}, {}, "", nullptr}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup(*repo_, *cache_, {{src_ + "/logs", dir_ + "/logs"}, {}, "", nullptr}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup(*repo_, *cache_, {{}, {}, "", nullptr}).status().code(), StatusCode::kInvalidArgument);
  auto missing = Backup(*repo_, *cache_, {{dir_ + "/nope"}, {}, "", nullptr});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir_ + "/nope"), std::string::npos);
  EXPECT_TRUE(repo_->backend().List(FileType::kSnapshot)->empty());
}

}  // namespace
}  // namespace steadfast::backup
