// A repository: made once, opened only with a password that one of its key files takes, keys
// added and removed (never the last), envelope files addressed by their content, and damage or
// a newer format reported as such.
#include "backup/repository.h"

#include <gtest/gtest.h>

#include "backup/document.h"

namespace steadfast::backup {
namespace {

using nlohmann::json;

// A shared in-memory backend the test can hand to several Repository objects.
class SharedBackend : public Backend {
 public:
  explicit SharedBackend(Backend* b) : b_(b) {}
  std::string Location() const override { return b_->Location(); }
  Status Create() override { return b_->Create(); }
  Status Save(FileType t, const std::string& n, std::span<const uint8_t> d) override { return b_->Save(t, n, d); }
  StatusOr<std::vector<uint8_t>> Load(FileType t, const std::string& n, uint64_t o, uint64_t l) override {
    return b_->Load(t, n, o, l);
  }
  StatusOr<uint64_t> Size(FileType t, const std::string& n) override { return b_->Size(t, n); }
  Status Remove(FileType t, const std::string& n) override { return b_->Remove(t, n); }
  StatusOr<std::vector<FileInfo>> List(FileType t) override { return b_->List(t); }

 private:
  Backend* b_;
};

class RepositoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> Shared() { return std::make_unique<SharedBackend>(store_.get()); }
  InitOptions Options() {
    InitOptions o;
    o.kdf = {64, 1, 1, true};  // fast for tests
    o.info = {"2026-11-29T10:00:00Z", "nas1", "backup"};
    return o;
  }
  std::unique_ptr<Backend> store_ = NewMemoryBackend();
};

TEST_F(RepositoryTest, InitThenOpenWithThePasswordOnly) {
  auto made = Repository::Init(Shared(), "s3cret pass", Options());
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto opened = Repository::Open(Shared(), "s3cret pass");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->config().id, (*made)->config().id);
  EXPECT_EQ((*opened)->key().Serialize(), (*made)->key().Serialize());
  EXPECT_EQ((*opened)->config().chunker.avg, 512u << 10);  // the default
  EXPECT_EQ((*opened)->config().created, "2026-11-29T10:00:00Z");

  auto wrong = Repository::Open(Shared(), "wrong");
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(wrong.status().message().find("opens with this password"), std::string::npos);
  EXPECT_EQ(Repository::Init(Shared(), "other", Options()).status().code(), StatusCode::kAlreadyExists);
  auto none = Repository::Open(NewMemoryBackend(), "s3cret pass");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("no repository at memory"), std::string::npos);
}

TEST_F(RepositoryTest, KeysAreAddedListedAndRemovedButNeverTheLast) {
  auto repo = Repository::Init(Shared(), "first", Options());
  ASSERT_TRUE(repo.ok());
  auto second = (*repo)->AddKey("second", {64, 1, 1, true}, {"", "laptop", "ops"});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(Repository::Open(Shared(), "second").ok());
  auto keys = (*repo)->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  int current = 0;
  for (const KeyInfo& k : *keys) current += k.current ? 1 : 0;
  EXPECT_EQ(current, 1);
  std::string first_id;
  for (const KeyInfo& k : *keys) {
    if (k.current) first_id = k.id;
  }
  ASSERT_TRUE((*repo)->RemoveKey(first_id).ok());
  EXPECT_EQ(Repository::Open(Shared(), "first").status().code(), StatusCode::kUnauthenticated);
  Status last = (*repo)->RemoveKey(*second);
  EXPECT_EQ(last.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(last.message().find("last one"), std::string::npos);
  EXPECT_EQ((*repo)->RemoveKey(std::string(64, 'a')).code(), StatusCode::kNotFound);
}

TEST_F(RepositoryTest, DocumentsAreAddressedByContentAndDamageIsNamed) {
  auto repo = Repository::Init(Shared(), "pw", Options());
  ASSERT_TRUE(repo.ok());
  const json doc = {{"time", "2026-11-29T10:00:00Z"}, {"paths", {"/srv"}}, {"tree", json::binary({1, 2, 3})}};
  auto name = (*repo)->SaveDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, doc);
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  auto back = (*repo)->LoadDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, *name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, doc);

  auto bytes = store_->Load(FileType::kSnapshot, *name);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[bytes->size() / 2] ^= 1;
  ASSERT_TRUE(store_->Save(FileType::kSnapshot, *name, *bytes).ok());
  auto damaged = (*repo)->LoadDocument(FileType::kSnapshot, EnvelopeKind::kSnapshot, *name);
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("snapshots/" + *name), std::string::npos) << damaged.status().ToString();
  EXPECT_NE(damaged.status().message().find("do not match its name"), std::string::npos);
  EXPECT_EQ((*repo)->LoadDocument(FileType::kIndex, EnvelopeKind::kIndex, *name).status().code(), StatusCode::kNotFound);
}

TEST_F(RepositoryTest, ADamagedConfigOrANewerFormatIsReportedNotMisread) {
  auto repo = Repository::Init(Shared(), "pw", Options());
  ASSERT_TRUE(repo.ok());
  auto config = store_->Load(FileType::kConfig, "config");
  ASSERT_TRUE(config.ok());
  Bytes bad = *config;
  bad.back() ^= 1;
  ASSERT_TRUE(store_->Save(FileType::kConfig, "config", bad).ok());
  auto damaged = Repository::Open(Shared(), "pw");
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("config"), std::string::npos) << damaged.status().ToString();

  // A config of format 2, sealed with the right key.
  json doc = {{"version", 2}};
  const Bytes newer = SealEnvelope((*repo)->key(), EnvelopeKind::kConfig, EncodeDocument(doc));
  ASSERT_TRUE(store_->Save(FileType::kConfig, "config", newer).ok());
  auto future = Repository::Open(Shared(), "pw");
  EXPECT_EQ(future.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(future.status().message().find("newer steadfast-backup"), std::string::npos);
}

TEST_F(RepositoryTest, BadOptionsAreRefusedBeforeAnythingIsWritten) {
  InitOptions o = Options();
  o.chunker.avg = 3 << 20;
  EXPECT_EQ(Repository::Init(Shared(), "pw", o).status().code(), StatusCode::kInvalidArgument);
  o = Options();
  o.compression = 30;
  EXPECT_EQ(Repository::Init(Shared(), "pw", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Repository::Init(Shared(), "", Options()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->List(FileType::kKey)->empty());
  EXPECT_TRUE(store_->List(FileType::kConfig)->empty());
}

}  // namespace
}  // namespace steadfast::backup
