#include "collector/audit/audit_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "collector/testing/test_util.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::collector::audit {
namespace {

TEST(AuditKeyTest, FromBytesNeedsExactly32Bytes) {
  EXPECT_TRUE(AuditKey::FromBytes(std::string(32, 'k')).ok());
  EXPECT_EQ(AuditKey::FromBytes(std::string(31, 'k')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AuditKey::FromBytes(std::string(33, 'k')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(AuditKeyTest, CreatedOnceWithMode0600) {
  testing::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/data").ok());
  StatusOr<AuditKey> first = LoadOrCreateAuditKey(fs, "/data/audit.key");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->bytes().size(), kAuditKeyBytes);
  EXPECT_EQ(fs.FileMode("/data/audit.key").value(), 0600u);
  EXPECT_EQ(fs.ReadFile("/data/audit.key").value(), first->bytes());
  StatusOr<AuditKey> second = LoadOrCreateAuditKey(fs, "/data/audit.key");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->bytes(), first->bytes());
  StatusOr<AuditKey> loaded = LoadAuditKey(fs, "/data/audit.key");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->bytes(), first->bytes());
}

TEST(AuditKeyTest, TwoNewKeysDiffer) {
  testing::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/data").ok());
  StatusOr<AuditKey> a = LoadOrCreateAuditKey(fs, "/data/a.key");
  StatusOr<AuditKey> b = LoadOrCreateAuditKey(fs, "/data/b.key");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->bytes(), b->bytes());
  EXPECT_NE(a->bytes(), std::string(32, '\0'));
}

TEST(AuditKeyTest, LoadDoesNotCreate) {
  testing::MemoryFileSystem fs;
  StatusOr<AuditKey> key = LoadAuditKey(fs, "/data/audit.key");
  EXPECT_EQ(key.status().code(), StatusCode::kNotFound);
  EXPECT_NE(key.status().message().find("/data/audit.key"), std::string::npos);
  EXPECT_FALSE(fs.Exists("/data/audit.key"));
}

TEST(AuditKeyTest, RefusesAWrongSizedFileWithoutShowingIt) {
  testing::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/data").ok());
  const std::string secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t";
  ASSERT_TRUE(fs.WriteFileAtomic("/data/audit.key", secret, 0600).ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    StatusOr<AuditKey> key = attempt == 0 ? LoadAuditKey(fs, "/data/audit.key")
                                          : LoadOrCreateAuditKey(fs, "/data/audit.key");
    ASSERT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(key.status().message().find("/data/audit.key"), std::string::npos);
    EXPECT_NE(key.status().message().find("27 bytes, not 32"), std::string::npos)
        << key.status().message();
    EXPECT_EQ(key.status().message().find(secret), std::string::npos);
  }
  // Not replaced by a new key.
  EXPECT_EQ(fs.ReadFile("/data/audit.key").value(), secret);
  ASSERT_TRUE(fs.WriteFileAtomic("/data/big.key", std::string(10000, 'k'), 0600).ok());
  EXPECT_EQ(LoadAuditKey(fs, "/data/big.key").status().code(), StatusCode::kFailedPrecondition);
}

TEST(AuditKeyTest, RefusesAKeyOthersCanRead) {
  testing::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/data").ok());
  for (uint32_t mode : {0640u, 0604u, 0644u, 0620u}) {
    ASSERT_TRUE(fs.WriteFileAtomic("/data/audit.key", std::string(32, 'k'), mode).ok());
    StatusOr<AuditKey> key = LoadOrCreateAuditKey(fs, "/data/audit.key");
    ASSERT_EQ(key.status().code(), StatusCode::kFailedPrecondition) << std::oct << mode;
    EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos)
        << key.status().message();
  }
  ASSERT_TRUE(fs.WriteFileAtomic("/data/audit.key", std::string(32, 'k'), 0400).ok());
  EXPECT_TRUE(LoadAuditKey(fs, "/data/audit.key").ok());
}

TEST(AuditKeyTest, RealFileIs0600WhateverTheUmask) {
  testutil::TempDir dir;
  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  const mode_t old = ::umask(0);
  StatusOr<AuditKey> key = LoadOrCreateAuditKey(*fs, dir.path() + "/audit.key");
  ::umask(old);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/audit.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  EXPECT_EQ(LoadAuditKey(*fs, dir.path() + "/audit.key")->bytes(), key->bytes());
}

}  // namespace
}  // namespace steadfast::collector::audit
