#include "agent/host_info.h"

#include <gtest/gtest.h>

#include "common/testing/memory_file_system.h"
#include "steadfast/version.h"

namespace steadfast::agent {
namespace {

TEST(HostInfoTest, ParsesPrettyName) {
  EXPECT_EQ(ParseOsReleasePrettyName("NAME=\"Debian GNU/Linux\"\n"
                                     "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"),
            "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(ParseOsReleasePrettyName("PRETTY_NAME='Alpine \\\"edge\\\"'\n"), "Alpine \"edge\"");
  EXPECT_EQ(ParseOsReleasePrettyName("PRETTY_NAME=Plain\n"), "Plain");
  EXPECT_EQ(ParseOsReleasePrettyName("NAME=x\n"), "");
}

TEST(HostInfoTest, CollectsFromUnameAndOsRelease) {
  steadfast::testing::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/fixture/etc").ok());
  ASSERT_TRUE(fs.WriteFileAtomic("/fixture/etc/os-release", "PRETTY_NAME=\"Test OS 1\"\n").ok());
  protocol::HostInfo h = CollectHostInfo(fs, "/fixture/etc");
  EXPECT_EQ(h.os, "Test OS 1");
  EXPECT_FALSE(h.hostname.empty());
  EXPECT_FALSE(h.kernel.empty());
  EXPECT_FALSE(h.arch.empty());
  EXPECT_EQ(h.agent_version, kVersion);
  EXPECT_EQ(CollectHostInfo(fs, "/missing").os, "");
}

}  // namespace
}  // namespace steadfast::agent
