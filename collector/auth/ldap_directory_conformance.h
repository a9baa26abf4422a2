// The behaviour every LdapDirectory must show, written against the interface only, so that
// FakeLdapDirectory (which the login handler tests use) is held to OpenLdapDirectory talking to
// a real slapd (test targets only).
//
// Every harness serves the same directory, kConformanceUsers: people under
// ou=people,dc=example,dc=org (uid, userPassword, cn, mail) and groupOfNames entries under
// ou=groups,dc=example,dc=org whose `member` values name them. To run the suite, compile
// ldap_directory_conformance.cc into a test binary and instantiate it:
//
//   INSTANTIATE_TEST_SUITE_P(Fake, LdapDirectoryConformanceTest,
//                            ::testing::Values(LdapDirectoryImplementation{"Fake",
//                            &NewFakeHarness}), LdapDirectoryImplementationName);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "collector/auth/ldap_config.h"
#include "collector/auth/ldap_directory.h"
#include "common/status.h"

namespace steadfast::collector::auth::testing {

struct ConformanceUser {
  std::string uid;
  std::string password;
  std::string dn;  // as slapd spells it (special characters as \XX)
  std::string cn;
  std::string mail;                 // "" = no mail attribute
  std::vector<std::string> groups;  // group DNs
};

inline constexpr char kConformanceSuffix[] = "dc=example,dc=org";
inline constexpr char kAdminsGroup[] = "cn=sf-admins,ou=groups,dc=example,dc=org";
inline constexpr char kCountyOpsGroup[] = "cn=county-ops,ou=groups,dc=example,dc=org";
inline constexpr char kViewersGroup[] = "cn=sf-viewers,ou=groups,dc=example,dc=org";
// Groups that exist in the directory, each with at least one member (groupOfNames needs one).
inline const std::vector<std::string> kConformanceGroups = {kAdminsGroup, kCountyOpsGroup,
                                                            kViewersGroup};

// alice: two groups; bob: none and no mail; "a*" and "x,y": names with filter and DN
// metacharacters, real entries of their own.
const std::vector<ConformanceUser>& ConformanceUsers();
const ConformanceUser& ConformanceUserNamed(const std::string& uid);

// A config for the conformance directory at `url`: template mode, or search mode as the
// service account `bind_dn` (its password file is the harness's business).
LdapConfig ConformanceLdapConfig(const std::string& url, bool search_mode,
                                 const std::string& bind_dn = "");

// One directory serving the conformance entries.
class LdapDirectoryHarness {
 public:
  virtual ~LdapDirectoryHarness() = default;
  virtual LdapDirectory& directory() = 0;
  // The server goes away: from now on Authenticate is Unavailable.
  virtual void TakeDown() = 0;
  // What an Unavailable message must name.
  virtual std::string url() const = 0;
};

// FailedPrecondition means "this environment cannot run it" (slapd is not installed): the test
// is skipped with that reason. Any other error fails it.
using LdapDirectoryHarnessFactory =
    std::function<StatusOr<std::unique_ptr<LdapDirectoryHarness>>()>;

struct LdapDirectoryImplementation {
  std::string name;
  LdapDirectoryHarnessFactory make;
};
inline void PrintTo(const LdapDirectoryImplementation& impl, std::ostream* os) { *os << impl.name; }
inline std::string LdapDirectoryImplementationName(
    const ::testing::TestParamInfo<LdapDirectoryImplementation>& info) {
  return info.param.name;
}

// The in-memory harness (FakeLdapDirectory filled with ConformanceUsers()).
StatusOr<std::unique_ptr<LdapDirectoryHarness>> NewFakeLdapHarness();

class LdapDirectoryConformanceTest : public ::testing::TestWithParam<LdapDirectoryImplementation> {
 protected:
  void SetUp() override;

  LdapDirectory& directory() { return harness_->directory(); }

  std::unique_ptr<LdapDirectoryHarness> harness_;
};

}  // namespace steadfast::collector::auth::testing
