#include "collector/auth/ldap_directory_conformance.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "collector/auth/fake_ldap_directory.h"

namespace steadfast::collector::auth::testing {

const std::vector<ConformanceUser>& ConformanceUsers() {
  static const std::vector<ConformanceUser> users = {
      {"alice",
       "Alice-Secret-1",
       "uid=alice,ou=people,dc=example,dc=org",
       "Alice Example",
       "alice@example.org",
       {kAdminsGroup, kCountyOpsGroup}},
      {"bob", "Bob-Secret-2", "uid=bob,ou=people,dc=example,dc=org", "Bob Builder", "", {}},
      {"a*",
       "Star-Secret-3",
       "uid=a*,ou=people,dc=example,dc=org",
       "Star Name",
       "star@example.org",
       {kCountyOpsGroup}},
      {"x,y",
       "Comma-Secret-4",
       "uid=x\\2Cy,ou=people,dc=example,dc=org",
       "Comma Name",
       "",
       {kViewersGroup}},
  };
  return users;
}

const ConformanceUser& ConformanceUserNamed(const std::string& uid) {
  for (const ConformanceUser& u : ConformanceUsers()) {
    if (u.uid == uid) return u;
  }
  ADD_FAILURE() << "no conformance user " << uid;
  return ConformanceUsers().front();
}

LdapConfig ConformanceLdapConfig(const std::string& url, bool search_mode,
                                 const std::string& bind_dn) {
  LdapConfig c;
  c.url = url;
  c.timeout_ms = 3'000;
  if (search_mode) {
    c.bind_dn = bind_dn;
    c.user_base = "ou=people,dc=example,dc=org";
    c.user_filter = "(&(objectClass=inetOrgPerson)(uid={username}))";
  } else {
    c.user_dn_template = "uid={username},ou=people,dc=example,dc=org";
  }
  c.group_base = "ou=groups,dc=example,dc=org";
  c.group_filter = "(&(objectClass=groupOfNames)(member={dn}))";
  c.group_mappings = {{kAdminsGroup, {"admin"}, "centre"}};
  return c;
}

namespace {

class FakeLdapHarness final : public LdapDirectoryHarness {
 public:
  FakeLdapHarness() {
    for (const ConformanceUser& u : ConformanceUsers()) {
      fake_.SetUser(u.uid, u.password, LdapIdentity{u.dn, u.cn, u.mail, u.groups});
    }
  }
  LdapDirectory& directory() override { return fake_; }
  void TakeDown() override { fake_.SetAvailable(false); }
  std::string url() const override { return "ldap://fake-directory.invalid"; }

 private:
  FakeLdapDirectory fake_;
};

bool SameGroups(std::vector<std::string> got, std::vector<std::string> want) {
  if (got.size() != want.size()) return false;
  return std::all_of(want.begin(), want.end(), [&](const std::string& w) {
    return std::any_of(got.begin(), got.end(),
                       [&](const std::string& g) { return SameLdapDn(g, w); });
  });
}

::testing::AssertionResult Refused(const StatusOr<LdapIdentity>& r, StatusCode code) {
  if (r.ok()) return ::testing::AssertionFailure() << "accepted, as " << r->dn;
  if (r.status().code() != code) return ::testing::AssertionFailure() << r.status().ToString();
  return ::testing::AssertionSuccess();
}

}  // namespace

StatusOr<std::unique_ptr<LdapDirectoryHarness>> NewFakeLdapHarness() {
  return std::unique_ptr<LdapDirectoryHarness>(std::make_unique<FakeLdapHarness>());
}

void LdapDirectoryConformanceTest::SetUp() {
  StatusOr<std::unique_ptr<LdapDirectoryHarness>> made = GetParam().make();
  if (!made.ok() && made.status().code() == StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << made.status().message();
  }
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  harness_ = std::move(made).value();
}

TEST_P(LdapDirectoryConformanceTest, RightPasswordGivesTheEntryItsNameMailAndGroups) {
  const ConformanceUser& alice = ConformanceUserNamed("alice");
  StatusOr<LdapIdentity> id = directory().Authenticate("alice", alice.password);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(SameLdapDn(id->dn, alice.dn)) << id->dn;
  EXPECT_EQ(id->display_name, "Alice Example");
  EXPECT_EQ(id->email, "alice@example.org");
  EXPECT_TRUE(SameGroups(id->groups, alice.groups)) << ::testing::PrintToString(id->groups);
}

TEST_P(LdapDirectoryConformanceTest, UserWithoutGroupsOrMailAuthenticatesWithNone) {
  StatusOr<LdapIdentity> id = directory().Authenticate("bob", ConformanceUserNamed("bob").password);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->display_name, "Bob Builder");
  EXPECT_EQ(id->email, "");
  EXPECT_TRUE(id->groups.empty()) << ::testing::PrintToString(id->groups);
}

TEST_P(LdapDirectoryConformanceTest, UsernameMatchesIgnoringCase) {
  StatusOr<LdapIdentity> id =
      directory().Authenticate("ALICE", ConformanceUserNamed("alice").password);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->display_name, "Alice Example");
}

TEST_P(LdapDirectoryConformanceTest, WrongPasswordIsUnauthenticated) {
  EXPECT_TRUE(
      Refused(directory().Authenticate("alice", "Bob-Secret-2"), StatusCode::kUnauthenticated));
  EXPECT_TRUE(
      Refused(directory().Authenticate("alice", "alice-secret-1"), StatusCode::kUnauthenticated));
  EXPECT_TRUE(
      Refused(directory().Authenticate("alice", "Alice-Secret-1 "), StatusCode::kUnauthenticated));
  // A refused attempt leaves nothing behind: the right password still works.
  EXPECT_TRUE(directory().Authenticate("alice", "Alice-Secret-1").ok());
}

TEST_P(LdapDirectoryConformanceTest, UnknownUserIsUnauthenticated) {
  EXPECT_TRUE(
      Refused(directory().Authenticate("mallory", "Alice-Secret-1"), StatusCode::kUnauthenticated));
  EXPECT_TRUE(
      Refused(directory().Authenticate("", "Alice-Secret-1"), StatusCode::kUnauthenticated));
}

// A simple bind with a DN and no password is an anonymous bind, which servers may answer with
// success (the slapd harness is configured to, with `allow bind_anon_dn`).
TEST_P(LdapDirectoryConformanceTest, EmptyPasswordIsUnauthenticatedForEveryone) {
  for (const ConformanceUser& u : ConformanceUsers()) {
    EXPECT_TRUE(Refused(directory().Authenticate(u.uid, ""), StatusCode::kUnauthenticated))
        << u.uid;
  }
  EXPECT_TRUE(Refused(directory().Authenticate("mallory", ""), StatusCode::kUnauthenticated));
}

// Filter metacharacters in a name are literal: "a*" is the user named a-star, not every name
// starting with a; "x)(uid=*" matches nobody.
TEST_P(LdapDirectoryConformanceTest, FilterMetacharactersInTheNameAreLiteral) {
  const std::string alice_password = ConformanceUserNamed("alice").password;
  for (const std::string name :
       {"a*", "*", "x)(uid=*", "alice)(|(uid=*", "*)(uid=alice", "a\\2a", "al*ce"}) {
    EXPECT_TRUE(
        Refused(directory().Authenticate(name, alice_password), StatusCode::kUnauthenticated))
        << name;
  }
  const ConformanceUser& star = ConformanceUserNamed("a*");
  StatusOr<LdapIdentity> id = directory().Authenticate("a*", star.password);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->display_name, "Star Name");
  EXPECT_TRUE(SameGroups(id->groups, star.groups)) << ::testing::PrintToString(id->groups);
  EXPECT_TRUE(
      Refused(directory().Authenticate("a\\2a", star.password), StatusCode::kUnauthenticated));
}

// DN metacharacters too: "x,y" is one RDN value, and the group search finds its groups by a DN
// that itself holds an escape.
TEST_P(LdapDirectoryConformanceTest, DnMetacharactersInTheNameAreLiteral) {
  const ConformanceUser& comma = ConformanceUserNamed("x,y");
  StatusOr<LdapIdentity> id = directory().Authenticate("x,y", comma.password);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->display_name, "Comma Name");
  EXPECT_TRUE(SameLdapDn(id->dn, comma.dn)) << id->dn;
  EXPECT_TRUE(SameGroups(id->groups, comma.groups)) << ::testing::PrintToString(id->groups);
  EXPECT_TRUE(
      Refused(directory().Authenticate("x,y", "Alice-Secret-1"), StatusCode::kUnauthenticated));
  for (const std::string name : {"x", "y", "x\\,y", "alice,ou=people", "alice+cn=Alice Example"}) {
    EXPECT_TRUE(
        Refused(directory().Authenticate(name, comma.password), StatusCode::kUnauthenticated))
        << name;
  }
}

TEST_P(LdapDirectoryConformanceTest, NameThatIsNotUtf8IsUnauthenticated) {
  EXPECT_TRUE(Refused(directory().Authenticate("al\xff\xfeice", "Alice-Secret-1"),
                      StatusCode::kUnauthenticated));
  EXPECT_TRUE(Refused(directory().Authenticate(std::string("alice\0", 6), "Alice-Secret-1"),
                      StatusCode::kUnauthenticated));
}

TEST_P(LdapDirectoryConformanceTest, ServerDownIsUnavailableNamingTheUrlNotThePassword) {
  harness_->TakeDown();
  const std::string password = ConformanceUserNamed("alice").password;
  StatusOr<LdapIdentity> id = directory().Authenticate("alice", password);
  ASSERT_TRUE(Refused(id, StatusCode::kUnavailable));
  EXPECT_NE(id.status().message().find(harness_->url()), std::string::npos)
      << id.status().message();
  EXPECT_EQ(id.status().message().find(password), std::string::npos) << id.status().message();
  // Still a refusal up front for an empty password, whatever the server's state.
  EXPECT_TRUE(Refused(directory().Authenticate("alice", ""), StatusCode::kUnauthenticated));
}

TEST_P(LdapDirectoryConformanceTest, ConcurrentLoginsEachGetTheirOwnAnswer) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const ConformanceUser& u = ConformanceUsers()[t % 2 == 0 ? 0 : 1];
      for (int i = 0; i < 3; ++i) {
        StatusOr<LdapIdentity> ok = directory().Authenticate(u.uid, u.password);
        if (!ok.ok() || ok->display_name != u.cn) ++wrong;
        if (directory().Authenticate(u.uid, "not-" + u.password).ok()) ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace steadfast::collector::auth::testing
