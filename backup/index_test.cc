// Index files and the local index cache (FORMAT.md 6): blobs are found through the cache after
// a sync, files gone from the repository are forgotten, a superseding file (prune) hides the
// files it replaces even while both exist, a damaged index file is named, and a cache of an
// earlier schema is rebuilt from the repository.
#include "backup/index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/sqlite/sqlite_db.h"

namespace steadfast::backup {
namespace {

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions o;
    o.kdf = {64, 1, 1, true};
    auto repo = Repository::Init(NewMemoryBackend(), "pw", o);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    repo_ = std::move(repo).value();
    auto cache = IndexCache::Open(":memory:");
    ASSERT_TRUE(cache.ok()) << cache.status().ToString();
    cache_ = std::move(cache).value();
  }

  static PackEntry Entry(uint8_t tag, uint32_t position) {
    PackEntry e;
    e.id.fill(tag);
    e.index = position;
    e.offset = kPackPrefix + 100 * position;
    e.stored_length = 100;
    e.raw_length = 90;
    return e;
  }

  std::string WriteIndex(const std::vector<IndexedPack>& packs, const std::vector<std::string>& supersedes = {}) {
    auto name = repo_->SaveDocument(FileType::kIndex, EnvelopeKind::kIndex, IndexDocument(packs, supersedes));
    EXPECT_TRUE(name.ok()) << name.status().ToString();
    return name.ok() ? *name : "";
  }

  std::optional<BlobLocation> Find(uint8_t tag) {
    BlobId id;
    id.fill(tag);
    auto r = cache_->Find(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  }

  std::unique_ptr<Repository> repo_;
  std::unique_ptr<IndexCache> cache_;
  const std::string pack_a_ = std::string(64, 'a');
  const std::string pack_b_ = std::string(64, 'b');
  const std::string pack_c_ = std::string(64, 'c');
};

TEST_F(IndexTest, BlobsAreFoundAfterASyncAndOnlyNewFilesAreRead) {
  WriteIndex({{pack_a_, {Entry(1, 0), Entry(2, 1)}}, {pack_b_, {Entry(3, 0)}}});
  auto read = cache_->Sync(*repo_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, 1u);
  auto two = Find(2);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->pack, pack_a_);
  EXPECT_EQ(two->entry.index, 1u);
  EXPECT_EQ(two->entry.offset, kPackPrefix + 100);
  EXPECT_EQ(two->entry.raw_length, 90u);
  EXPECT_FALSE(Find(9).has_value());
  EXPECT_EQ(*cache_->BlobCount(), 3);

  WriteIndex({{pack_c_, {Entry(4, 0)}}});
  EXPECT_EQ(*cache_->Sync(*repo_), 1u) << "the first file is not read again";
  EXPECT_EQ(*cache_->BlobCount(), 4);
  EXPECT_EQ(*cache_->Sync(*repo_), 0u);
}

TEST_F(IndexTest, FilesGoneAreForgottenAndASupersedingFileHidesTheOld) {
  const std::string first = WriteIndex({{pack_a_, {Entry(1, 0), Entry(2, 1)}}});
  const std::string second = WriteIndex({{pack_b_, {Entry(3, 0)}}});
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  // Prune repacked blob 2 into pack c and wrote an index superseding both; it crashed before
  // deleting the old files, so all three exist.
  const std::string pruned = WriteIndex({{pack_c_, {Entry(2, 0)}}, {pack_b_, {Entry(3, 0)}}}, {first, second});
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  EXPECT_FALSE(Find(1).has_value()) << "blob 1 was pruned";
  ASSERT_TRUE(Find(2).has_value());
  EXPECT_EQ(Find(2)->pack, pack_c_) << "the new copy, not the old pack prune will delete";
  EXPECT_EQ(*cache_->BlobCount(), 2);

  ASSERT_TRUE(repo_->backend().Remove(FileType::kIndex, first).ok());
  ASSERT_TRUE(repo_->backend().Remove(FileType::kIndex, second).ok());
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  EXPECT_EQ(*cache_->BlobCount(), 2);
  ASSERT_TRUE(repo_->backend().Remove(FileType::kIndex, pruned).ok());
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  EXPECT_EQ(*cache_->BlobCount(), 0) << "nothing indexes anything any more";
}

TEST_F(IndexTest, ADamagedOrMalformedIndexFileIsNamed) {
  const std::string name = WriteIndex({{pack_a_, {Entry(1, 0)}}});
  auto bytes = repo_->backend().Load(FileType::kIndex, name);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[bytes->size() - 1] ^= 1;
  ASSERT_TRUE(repo_->backend().Save(FileType::kIndex, name, *bytes).ok());
  auto st = cache_->Sync(*repo_);
  EXPECT_EQ(st.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(st.status().message().find("index/" + name), std::string::npos) << st.status().ToString();

  std::vector<std::string> supersedes;
  auto bad = ParseIndexDocument(nlohmann::json{{"packs", {{{"id", "not-a-pack"}, {"blobs", nlohmann::json::array()}}}}},
                                "index/x", &supersedes);
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("index/x"), std::string::npos);
  EXPECT_FALSE(ParseIndexDocument(nlohmann::json::object(), "index/x", &supersedes).ok());
}

TEST_F(IndexTest, PacksOfRemovedFilesAreForgottenAndPackBlobsListsAPacksEntries) {
  const std::string first = WriteIndex({{pack_a_, {Entry(1, 0), Entry(2, 1)}}, {pack_b_, {Entry(3, 0)}}});
  const std::string second = WriteIndex({{pack_b_, {Entry(3, 0)}}, {pack_c_, {Entry(4, 0)}}});
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  auto packs = cache_->Packs();
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 3u);
  EXPECT_EQ((*packs)[0], std::make_pair(pack_a_, int64_t{2}));
  EXPECT_EQ((*packs)[1], std::make_pair(pack_b_, int64_t{2})) << "named by both files";
  auto in_a = cache_->PackBlobs(pack_a_);
  ASSERT_TRUE(in_a.ok());
  ASSERT_EQ(in_a->size(), 2u);
  EXPECT_EQ((*in_a)[1].id, Entry(2, 1).id);
  EXPECT_EQ((*in_a)[1].offset, kPackPrefix + 100);
  EXPECT_TRUE(cache_->PackBlobs(std::string(64, 'd'))->empty());

  ASSERT_TRUE(repo_->backend().Remove(FileType::kIndex, first).ok());
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  packs = cache_->Packs();
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 2u);
  EXPECT_EQ((*packs)[0], std::make_pair(pack_b_, int64_t{1}));
  EXPECT_FALSE(Find(1).has_value());
  EXPECT_EQ(Find(4)->pack, pack_c_);
  // A pack named again after it was forgotten is found again.
  WriteIndex({{pack_a_, {Entry(5, 0)}}});
  ASSERT_TRUE(cache_->Sync(*repo_).ok());
  EXPECT_EQ(Find(5)->pack, pack_a_);
  EXPECT_EQ(*cache_->BlobCount(), 3);
  (void)second;
}

TEST_F(IndexTest, ACacheOfTheEarlierSchemaIsReadAgainFromTheRepository) {
  char tmpl[] = "/tmp/sf-index-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/index.sqlite";
  {
    // Version 2: names in every row; a stale row for a file the repository does not have.
    auto db = sqlite::SqliteDb::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(R"sql(
CREATE TABLE index_files (name TEXT PRIMARY KEY);
CREATE TABLE supersedes (file TEXT NOT NULL, superseded TEXT NOT NULL, PRIMARY KEY (file, superseded));
CREATE TABLE blobs (id BLOB NOT NULL, index_file TEXT NOT NULL, type INTEGER NOT NULL, pack TEXT NOT NULL,
  offset INTEGER NOT NULL, stored INTEGER NOT NULL, raw_length INTEGER NOT NULL, flags INTEGER NOT NULL,
  position INTEGER NOT NULL, PRIMARY KEY (id, index_file)) WITHOUT ROWID;
CREATE INDEX blobs_by_file ON blobs (index_file);
CREATE INDEX blobs_by_pack ON blobs (pack, offset);
INSERT INTO index_files VALUES ('stale');
INSERT INTO blobs VALUES (zeroblob(32), 'stale', 0, 'old-pack', 0, 1, 1, 0, 0);
PRAGMA user_version = 2;
)sql").ok());
  }
  WriteIndex({{pack_a_, {Entry(1, 0), Entry(2, 1)}}});
  auto cache = IndexCache::Open(path);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  EXPECT_EQ(*(*cache)->Sync(*repo_), 1u) << "the repository's file read again";
  EXPECT_EQ(*(*cache)->BlobCount(), 2);
  BlobId id;
  id.fill(2);
  auto two = (*cache)->Find(id);
  ASSERT_TRUE(two.ok() && two->has_value());
  EXPECT_EQ((*two)->pack, pack_a_);
  cache->reset();
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace steadfast::backup
