// forget's keep policies (per host and paths, newest first, calendar buckets in local time) and
// prune: what no snapshot uses goes, partly used packs are repacked, every remaining snapshot
// still restores and check --read-data passes; a dry run changes nothing.
#include "backup/forget.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "backup/check.h"

namespace steadfast::backup {
namespace {

namespace fs = std::filesystem;

SnapshotRef Snap(const std::string& id, const std::string& time, const std::string& host = "nas1",
                 std::vector<std::string> tags = {}) {
  SnapshotRef s;
  s.id = id;
  s.snapshot.time = time;
  s.snapshot.host = host;
  s.snapshot.paths = {"/data"};
  s.snapshot.tags = std::move(tags);
  return s;
}

std::vector<std::string> Kept(const std::vector<ForgetDecision>& d) {
  std::vector<std::string> out;
  for (const ForgetDecision& x : d) {
    if (x.keep) out.push_back(x.snapshot.id);
  }
  return out;
}

TEST(ForgetPolicyTest, LastDailyWeeklyAndTagsPerGroup) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  std::vector<SnapshotRef> s = {
      Snap("a", "2026-11-02T01:00:00.000Z"),  // Monday, ISO week 45
      Snap("b", "2026-11-09T01:00:00.000Z"),  // week 46
      Snap("c", "2026-11-10T01:00:00.000Z"),
      Snap("d", "2026-11-10T13:00:00.000Z"),  // same day as c, newer
      Snap("e", "2026-11-11T01:00:00.000Z", "nas1", {"monthly"}),
      Snap("f", "2026-11-12T01:00:00.000Z"),
      Snap("x", "2026-11-01T01:00:00.000Z", "other"),  // another host: its own group
  };
  KeepPolicy last2;
  last2.last = 2;
  EXPECT_EQ(Kept(ApplyPolicy(s, last2)), (std::vector<std::string>{"f", "e", "x"}));
  KeepPolicy daily;
  daily.daily = 3;
  EXPECT_EQ(Kept(ApplyPolicy(s, daily)), (std::vector<std::string>{"f", "e", "d", "x"})) << "the newest of each of 3 days";
  KeepPolicy weekly;
  weekly.weekly = 2;
  EXPECT_EQ(Kept(ApplyPolicy(s, weekly)), (std::vector<std::string>{"f", "a", "x"}));
  KeepPolicy tag;
  tag.last = 1;
  tag.tags = {"monthly"};
  auto d = ApplyPolicy(s, tag);
  EXPECT_EQ(Kept(d), (std::vector<std::string>{"f", "e", "x"}));
  EXPECT_EQ(d[1].reasons, (std::vector<std::string>{"tag monthly"}));
  EXPECT_EQ(Kept(ApplyPolicy(s, KeepPolicy())).size(), s.size()) << "an empty policy keeps everything";
}

class PruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-prune-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/data");
    InitOptions o;
    o.kdf = {64, 1, 1, true};
    o.chunker = {64 << 10, 128 << 10, 256 << 10};
    o.pack_size = 1 << 20;
    repo_ = std::move(Repository::Init(NewLocalBackend(dir_ + "/repo"), "pw", o)).value();
    cache_ = std::move(IndexCache::Open(dir_ + "/cache.sqlite")).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string BackupNow(uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string bytes(1500 << 10, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    std::ofstream(dir_ + "/data/f" + std::to_string(seed), std::ios::binary) << bytes;
    BackupRequest r;
    r.paths = {dir_ + "/data"};
    r.host = "nas1";
    auto b = Backup(*repo_, *cache_, r);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? b->snapshot_id : "";
  }

  uint64_t RepoBytes() {
    uint64_t n = 0;
    auto files = repo_->backend().List(FileType::kData);
    if (!files.ok()) return 0;
    for (const FileInfo& f : files.value()) n += f.size;
    return n;
  }

  std::string dir_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<IndexCache> cache_;
};

TEST_F(PruneTest, ForgottenDataGoesAndWhatRemainsIsWhole) {
  const std::string first = BackupNow(1);
  BackupNow(2);
  fs::remove(dir_ + "/data/f1");
  fs::remove(dir_ + "/data/f2");
  const std::string last = BackupNow(3);
  const uint64_t before = RepoBytes();

  PruneOptions dry;
  dry.dry_run = true;
  auto nothing = Prune(*repo_, *cache_, dry);
  ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
  EXPECT_EQ(nothing->packs_deleted + nothing->packs_repacked, 0u) << "every snapshot still uses its data";
  EXPECT_EQ(RepoBytes(), before);

  // Forget the first two: f1 and f2 are no longer used by anyone.
  auto all = ListSnapshots(*repo_);
  ASSERT_TRUE(all.ok());
  for (const SnapshotRef& s : all.value()) {
    if (s.id != last) {
      ASSERT_TRUE(repo_->backend().Remove(FileType::kSnapshot, s.id).ok());
    }
  }
  auto would = Prune(*repo_, *cache_, dry);
  ASSERT_TRUE(would.ok());
  EXPECT_GT(would->bytes_freed, 2u << 20);
  EXPECT_EQ(RepoBytes(), before) << "a dry run deletes nothing";

  auto done = Prune(*repo_, *cache_, PruneOptions());
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_GT(done->packs_deleted + done->packs_repacked, 0u);
  EXPECT_LT(RepoBytes(), before - (2u << 20));
  EXPECT_EQ(repo_->backend().List(FileType::kIndex)->size(), 1u) << "one index file supersedes the old ones";

  CheckOptions c;
  c.read_data = true;
  auto report = Check(*repo_, *cache_, c);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->errors[0];
  RestoreRequest r;
  r.snapshot_id = last;
  r.target = dir_ + "/out";
  r.verify = true;
  auto restored = Restore(*repo_, *cache_, r);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE(restored->mismatches.empty());
  EXPECT_EQ(restored->files, 1u);
  (void)first;
}

}  // namespace
}  // namespace steadfast::backup
