// OpenLdapDirectory's pure parts (escaping, placeholders, reading the service password), and
// the conformance suite against FakeLdapDirectory. ldap_slapd_test runs the same suite against
// OpenLdapDirectory and a real slapd.
#include "collector/auth/open_ldap_directory.h"

#include <gtest/gtest.h>

#include "collector/auth/ldap_directory_conformance.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::collector::auth {
namespace {

TEST(LdapFilterEscapeTest, EscapesTheRfc4515MetacharactersAndNothingElse) {
  EXPECT_EQ(EscapeLdapFilterValue("alice"), "alice");
  EXPECT_EQ(EscapeLdapFilterValue("a*"), "a\\2A");
  EXPECT_EQ(EscapeLdapFilterValue("x)(uid=*"), "x\\29\\28uid=\\2A");
  EXPECT_EQ(EscapeLdapFilterValue("a\\2a"), "a\\5C2a");
  EXPECT_EQ(EscapeLdapFilterValue(std::string("a\0b", 3)), "a\\00b");
  EXPECT_EQ(EscapeLdapFilterValue("x,y = z"), "x,y = z");
  EXPECT_EQ(EscapeLdapFilterValue(""), "");
  // A DN put into (member={dn}) keeps its own escapes, doubled as filter escapes.
  EXPECT_EQ(EscapeLdapFilterValue("uid=x\\2Cy,dc=org"), "uid=x\\5C2Cy,dc=org");
}

TEST(LdapDnEscapeTest, EscapesTheRfc4514Metacharacters) {
  EXPECT_EQ(EscapeLdapDnValue("alice").value(), "alice");
  EXPECT_EQ(EscapeLdapDnValue("a*").value(), "a*");  // not special in a DN
  EXPECT_EQ(EscapeLdapDnValue("x,y").value(), "x\\2Cy");
  EXPECT_EQ(EscapeLdapDnValue("a+b=c").value(), "a\\2Bb\\3Dc");
  EXPECT_EQ(EscapeLdapDnValue("a\"b\\c").value(), "a\\22b\\5Cc");
  EXPECT_EQ(EscapeLdapDnValue("a<b>c;d").value(), "a\\3Cb\\3Ec\\3Bd");
  EXPECT_EQ(EscapeLdapDnValue("#hash").value(), "\\23hash");
  EXPECT_EQ(EscapeLdapDnValue(" lead").value(), "\\20lead");
  EXPECT_EQ(EscapeLdapDnValue("trail ").value(), "trail\\20");
  EXPECT_EQ(EscapeLdapDnValue(std::string("a\0b", 3)).value(), "a\\00b");
  // The result is a value, never a separator that would end the RDN.
  EXPECT_EQ(EscapeLdapDnValue("alice,ou=admins").value(), "alice\\2Cou\\3Dadmins");
}

TEST(LdapDnEscapeTest, RefusesWhatCannotBeAValue) {
  EXPECT_EQ(EscapeLdapDnValue("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EscapeLdapDnValue("al\xff\xfeice").status().code(), StatusCode::kInvalidArgument);
}

TEST(LdapPlaceholderTest, ReplacesEveryOccurrence) {
  EXPECT_EQ(ExpandLdapPlaceholders("(|(uid={username})(mail={username}))", "a\\2A", ""),
            "(|(uid=a\\2A)(mail=a\\2A))");
  EXPECT_EQ(ExpandLdapPlaceholders("(&(member={dn})(cn=*))", "bob", "uid=bob,dc=org"),
            "(&(member=uid=bob,dc=org)(cn=*))");
  // A value that looks like a placeholder is not expanded again.
  EXPECT_EQ(ExpandLdapPlaceholders("(uid={username})(x={dn})", "{dn}", "D"), "(uid={dn})(x=D)");
}

LdapConfig SearchConfig() {
  LdapConfig c = testing::ConformanceLdapConfig("ldap://127.0.0.1:1", /*search_mode=*/true,
                                                "cn=svc,dc=example,dc=org");
  c.bind_password_file = "/etc/steadfast/ldap.password";
  return c;
}

TEST(OpenLdapDirectoryCreateTest, ReadsTheServicePasswordFile) {
  steadfast::testing::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/etc/steadfast").ok());
  ASSERT_TRUE(fs.WriteFileAtomic("/etc/steadfast/ldap.password", "Service-Secret-9\n", 0600).ok());
  StatusOr<std::unique_ptr<OpenLdapDirectory>> d = OpenLdapDirectory::Create(SearchConfig(), fs);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
}

TEST(OpenLdapDirectoryCreateTest, RefusesAMissingEmptyOrWorldReadablePasswordFile) {
  steadfast::testing::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/etc/steadfast").ok());
  StatusOr<std::unique_ptr<OpenLdapDirectory>> missing =
      OpenLdapDirectory::Create(SearchConfig(), fs);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(
                "auth.ldap.bind_password_file: cannot read '/etc/steadfast/ldap.password'"),
            std::string::npos)
      << missing.status().message();

  ASSERT_TRUE(fs.WriteFileAtomic("/etc/steadfast/ldap.password", "\n", 0600).ok());
  StatusOr<std::unique_ptr<OpenLdapDirectory>> empty =
      OpenLdapDirectory::Create(SearchConfig(), fs);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("is empty"), std::string::npos)
      << empty.status().message();

  ASSERT_TRUE(fs.WriteFileAtomic("/etc/steadfast/ldap.password", "Service-Secret-9", 0644).ok());
  StatusOr<std::unique_ptr<OpenLdapDirectory>> readable =
      OpenLdapDirectory::Create(SearchConfig(), fs);
  ASSERT_FALSE(readable.ok());
  EXPECT_NE(readable.status().message().find("readable by everyone"), std::string::npos)
      << readable.status().message();
  EXPECT_EQ(readable.status().message().find("Service-Secret-9"), std::string::npos);
}

TEST(OpenLdapDirectoryCreateTest, TemplateModeWithoutServiceAccountReadsNoFile) {
  steadfast::testing::MemoryFileSystem fs;
  LdapConfig c = testing::ConformanceLdapConfig("ldap://127.0.0.1:1", /*search_mode=*/false);
  EXPECT_TRUE(OpenLdapDirectory::Create(c, fs).ok());
}

TEST(OpenLdapDirectoryTest, EmptyPasswordIsRefusedWithoutContactingTheServer) {
  // Port 1 on loopback: nothing listens, so reaching the network would be Unavailable.
  OpenLdapDirectory d(testing::ConformanceLdapConfig("ldap://127.0.0.1:1", /*search_mode=*/false),
                      "");
  EXPECT_EQ(d.Authenticate("alice", "").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(d.Authenticate("alice", "Alice-Secret-1").status().code(), StatusCode::kUnavailable);
}

}  // namespace

namespace testing {
INSTANTIATE_TEST_SUITE_P(Fake, LdapDirectoryConformanceTest,
                         ::testing::Values(LdapDirectoryImplementation{"Fake",
                                                                       &NewFakeLdapHarness}),
                         LdapDirectoryImplementationName);
}  // namespace testing

}  // namespace steadfast::collector::auth
