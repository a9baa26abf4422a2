// One conformance suite run against the POSIX file system and the in-memory double, so the
// double cannot drift from the real thing.
#include "common/fs/file_system.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <functional>

#include "common/testing/fault_injecting_file_system.h"
#include "common/testing/memory_file_system.h"

namespace steadfast {
namespace {

struct FsFactory {
  std::string name;
  std::function<std::unique_ptr<FileSystem>()> make;
  std::function<std::string()> root;
};

class FileSystemConformance : public ::testing::TestWithParam<FsFactory> {
 protected:
  void SetUp() override {
    fs_ = GetParam().make();
    root_ = GetParam().root();
    ASSERT_TRUE(fs_->CreateDirectories(root_).ok());
  }
  std::unique_ptr<FileSystem> fs_;
  std::string root_;
};

TEST_P(FileSystemConformance, WriteReadReplace) {
  std::string p = root_ + "/a.txt";
  EXPECT_FALSE(fs_->Exists(p));
  EXPECT_EQ(fs_->ReadFile(p).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs_->WriteFileAtomic(p, "one").ok());
  EXPECT_EQ(*fs_->ReadFile(p), "one");
  ASSERT_TRUE(fs_->WriteFileAtomic(p, "two").ok());
  EXPECT_EQ(*fs_->ReadFile(p), "two");
  EXPECT_EQ(fs_->ReadFile(p, 2).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(FileSystemConformance, ModeIsExact) {
  std::string p = root_ + "/secret";
  ASSERT_TRUE(fs_->WriteFileAtomic(p, "token", 0600).ok());
  EXPECT_EQ(*fs_->FileMode(p), 0600u);
}

TEST_P(FileSystemConformance, ListAndRemove) {
  ASSERT_TRUE(fs_->WriteFileAtomic(root_ + "/b", "").ok());
  ASSERT_TRUE(fs_->WriteFileAtomic(root_ + "/a", "").ok());
  ASSERT_TRUE(fs_->CreateDirectories(root_ + "/sub/deeper").ok());
  auto names = fs_->ListDirectory(root_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "sub"}));
  ASSERT_TRUE(fs_->RemoveFile(root_ + "/a").ok());
  EXPECT_EQ(fs_->RemoveFile(root_ + "/a").code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->ListDirectory(root_ + "/nope").status().code(), StatusCode::kNotFound);
}

TEST_P(FileSystemConformance, WriteIntoMissingDirectoryFails) {
  EXPECT_EQ(fs_->WriteFileAtomic(root_ + "/missing/x", "data").code(), StatusCode::kNotFound);
}

std::string MakeTempDir() {
  char tmpl[] = "/tmp/sf-fs-XXXXXX";
  char* d = mkdtemp(tmpl);
  return d ? std::string(d) : std::string("/tmp");
}

INSTANTIATE_TEST_SUITE_P(
    All, FileSystemConformance,
    ::testing::Values(FsFactory{"posix", [] { return NewPosixFileSystem(); }, [] { return MakeTempDir(); }},
                      FsFactory{"memory", [] { return std::make_unique<testing::MemoryFileSystem>(); },
                                [] { return std::string("/state"); }}),
    [](const auto& info) { return info.param.name; });

TEST(FaultInjectingFileSystemTest, FailedWriteKeepsOldContent) {
  testing::MemoryFileSystem mem;
  testing::FaultInjectingFileSystem fs(&mem);
  ASSERT_TRUE(fs.CreateDirectories("/s").ok());
  ASSERT_TRUE(fs.WriteFileAtomic("/s/f", "old").ok());
  fs.FailWrites(1);
  EXPECT_EQ(fs.WriteFileAtomic("/s/f", "new").code(), StatusCode::kUnavailable);
  EXPECT_EQ(*fs.ReadFile("/s/f"), "old");
  EXPECT_TRUE(fs.WriteFileAtomic("/s/f", "new").ok());
  EXPECT_EQ(*fs.ReadFile("/s/f"), "new");
  fs.FailWritesMatching("token");
  EXPECT_EQ(fs.WriteFileAtomic("/s/agent.token", "x").code(), StatusCode::kResourceExhausted);
  fs.FailReads(true);
  EXPECT_FALSE(fs.ReadFile("/s/f").ok());
  EXPECT_EQ(fs.injected_failures(), 3);
}

}  // namespace
}  // namespace steadfast
