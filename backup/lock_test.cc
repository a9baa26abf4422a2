// Locks (FORMAT.md 9): shared locks coexist, an exclusive one excludes everything and says who
// holds the repository, a conflicting attempt leaves nothing behind, stale locks (not refreshed,
// or of a process that is gone) block nobody and `unlock` removes them.
#include "backup/lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/testing/fake_clock.h"

namespace steadfast::backup {
namespace {

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions o;
    o.kdf = {64, 1, 1, true};
    auto repo = Repository::Init(NewMemoryBackend(), "pw", o);
    ASSERT_TRUE(repo.ok());
    repo_ = std::move(repo).value();
  }
  size_t LockFiles() { return repo_->backend().List(FileType::kLock)->size(); }

  steadfast::testing::FakeClock clock_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(LockTest, SharedLocksCoexistAndAnExclusiveOneExcludesAndSaysWho) {
  auto a = RepositoryLock::Acquire(*repo_, false, "backup", clock_);
  auto b = RepositoryLock::Acquire(*repo_, false, "check", clock_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(LockFiles(), 2u);

  auto prune = RepositoryLock::Acquire(*repo_, true, "prune", clock_);
  EXPECT_EQ(prune.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(prune.status().message().find("repository is locked by"), std::string::npos);
  EXPECT_NE(prune.status().message().find("pid " + std::to_string(::getpid())), std::string::npos);
  EXPECT_EQ(LockFiles(), 2u) << "the refused attempt left no lock";

  ASSERT_TRUE((*a)->Release().ok());
  b->reset();  // the destructor releases
  EXPECT_EQ(LockFiles(), 0u);
  auto exclusive = RepositoryLock::Acquire(*repo_, true, "prune", clock_);
  ASSERT_TRUE(exclusive.ok());
  auto shared = RepositoryLock::Acquire(*repo_, false, "backup", clock_);
  EXPECT_EQ(shared.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(shared.status().message().find("prune, exclusive"), std::string::npos) << shared.status().ToString();
}

TEST_F(LockTest, StaleLocksBlockNobodyAndUnlockRemovesThem) {
  auto old = RepositoryLock::Acquire(*repo_, false, "backup", clock_);
  ASSERT_TRUE(old.ok());
  const std::string old_name = (*old)->name();
  clock_.Advance(std::chrono::minutes(20));
  ASSERT_TRUE((*old)->Refresh().ok());
  EXPECT_NE((*old)->name(), old_name) << "a refresh is a new file";
  EXPECT_EQ(LockFiles(), 1u) << "and the old one is gone";
  clock_.Advance(std::chrono::minutes(20));
  EXPECT_EQ(RepositoryLock::Acquire(*repo_, true, "prune", clock_).status().code(), StatusCode::kFailedPrecondition)
      << "refreshed 20 minutes ago: not stale";
  clock_.Advance(std::chrono::minutes(11));
  auto locks = ListLocks(*repo_, clock_);
  ASSERT_TRUE(locks.ok());
  ASSERT_EQ(locks->size(), 1u);
  EXPECT_TRUE((*locks)[0].stale);
  {
    auto prune = RepositoryLock::Acquire(*repo_, true, "prune", clock_);
    EXPECT_TRUE(prune.ok()) << prune.status().ToString();
  }
  auto removed = RemoveLocks(*repo_, clock_, /*all=*/false);
  ASSERT_TRUE(removed.ok());
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_EQ((*removed)[0].operation, "backup");
  EXPECT_EQ(LockFiles(), 0u);
  EXPECT_TRUE((*old)->Release().ok()) << "releasing a lock someone removed is fine";
}

TEST_F(LockTest, ALockOfAProcessThatIsGoneOnThisHostIsStale) {
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  const nlohmann::json doc = {{"time", FormatRfc3339Millis(clock_.NowMillis())},
                              {"refreshed", FormatRfc3339Millis(clock_.NowMillis())},
                              {"host", host},
                              {"pid", 999'999'999},
                              {"username", "backup"},
                              {"exclusive", true},
                              {"operation", "prune"}};
  ASSERT_TRUE(repo_->SaveDocument(FileType::kLock, EnvelopeKind::kLock, doc).ok());
  auto backup = RepositoryLock::Acquire(*repo_, false, "backup", clock_);
  EXPECT_TRUE(backup.ok()) << backup.status().ToString();
  backup->reset();
  // The same lock from another host is honoured: its process may be alive there.
  nlohmann::json elsewhere = doc;
  elsewhere["host"] = "another-host";
  ASSERT_TRUE(repo_->SaveDocument(FileType::kLock, EnvelopeKind::kLock, elsewhere).ok());
  EXPECT_FALSE(RepositoryLock::Acquire(*repo_, false, "backup", clock_).ok());
  auto all = RemoveLocks(*repo_, clock_, /*all=*/true);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(LockFiles(), 0u);
}

}  // namespace
}  // namespace steadfast::backup
