#include "collector/auth/ldap_config.h"

#include <gtest/gtest.h>

#include "collector/auth/auth_config.h"
#include "common/config/config_node.h"

namespace steadfast::collector::auth {
namespace {

StatusOr<AuthConfig> ParseYaml(const std::string& yaml) {
  SF_ASSIGN_OR_RETURN(auto doc, config::ConfigDocument::Parse(yaml, "collector.yaml"));
  return ParseAuthConfig(doc.root()["auth"]);
}

// A valid search-mode section; tests replace one line to break it.
const std::string kSearch = R"yaml(auth:
  ldap:
    url: ldap://ldap1.example.org ldaps://ldap2.example.org:636
    ca_file: /etc/ssl/certs/ldap-ca.pem
    timeout: 3s
    bind_dn: "cn=steadfast,dc=example,dc=org"
    bind_password_file: /etc/steadfast/ldap.password
    user_base: "ou=people,dc=example,dc=org"
    user_filter: "(&(objectClass=person)(uid={username}))"
    display_name_attribute: displayName
    email_attribute: mail
    group_base: "ou=groups,dc=example,dc=org"
    group_filter: "(member={dn})"
    group_mappings:
      - {group: "cn=sf-admins,ou=groups,dc=example,dc=org", roles: [admin], unit: centre}
      - {group: "cn=county-ops,ou=groups,dc=example,dc=org", roles: [operator, viewer], unit: county}
      - {group: "cn=auditors,ou=groups,dc=example,dc=org", roles: [manager]}
    default_unit: centre
)yaml";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The error of parsing `yaml`, or "" when it parses.
std::string ErrorOf(const std::string& yaml) {
  StatusOr<AuthConfig> c = ParseYaml(yaml);
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  return c.status().message();
}

TEST(LdapConfigTest, AbsentMeansLocalAccountsOnly) {
  auto c = ParseYaml("auth:\n  totp_window: 1\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->ldap.has_value());
}

TEST(LdapConfigTest, ReadsASearchModeSection) {
  auto c = ParseYaml(kSearch);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->ldap.has_value());
  const LdapConfig& l = *c->ldap;
  EXPECT_TRUE(l.search_mode());
  EXPECT_EQ(l.url, "ldap://ldap1.example.org ldaps://ldap2.example.org:636");
  EXPECT_FALSE(l.start_tls);
  EXPECT_EQ(l.ca_file, "/etc/ssl/certs/ldap-ca.pem");
  EXPECT_EQ(l.timeout_ms, 3000);
  EXPECT_EQ(l.bind_dn, "cn=steadfast,dc=example,dc=org");
  EXPECT_EQ(l.bind_password_file, "/etc/steadfast/ldap.password");
  EXPECT_EQ(l.user_base, "ou=people,dc=example,dc=org");
  EXPECT_EQ(l.user_filter, "(&(objectClass=person)(uid={username}))");
  EXPECT_EQ(l.display_name_attribute, "displayName");
  EXPECT_EQ(l.group_base, "ou=groups,dc=example,dc=org");
  ASSERT_EQ(l.group_mappings.size(), 3u);
  EXPECT_EQ(l.group_mappings[1].group_dn, "cn=county-ops,ou=groups,dc=example,dc=org");
  EXPECT_EQ(l.group_mappings[1].roles, (std::vector<std::string>{"operator", "viewer"}));
  EXPECT_EQ(l.group_mappings[1].unit_code, "county");
  EXPECT_EQ(l.group_mappings[2].unit_code, "");
  EXPECT_EQ(l.default_unit, "centre");
}

TEST(LdapConfigTest, ReadsATemplateModeSectionWithDefaults) {
  auto c = ParseYaml(R"yaml(auth:
  ldap:
    url: ldap://127.0.0.1:389
    start_tls: true
    user_dn_template: "uid={username},ou=people,dc=example,dc=org"
    group_base: "ou=groups,dc=example,dc=org"
    group_mappings:
      - {group: "cn=ops,ou=groups,dc=example,dc=org", roles: [operator], unit: ops}
)yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const LdapConfig& l = *c->ldap;
  EXPECT_FALSE(l.search_mode());
  EXPECT_TRUE(l.start_tls);
  EXPECT_EQ(l.timeout_ms, 5000);
  EXPECT_EQ(l.bind_dn, "");
  EXPECT_EQ(l.display_name_attribute, "cn");
  EXPECT_EQ(l.email_attribute, "mail");
  EXPECT_EQ(l.group_filter, "(member={dn})");
  EXPECT_EQ(l.default_unit, "");
}

TEST(LdapConfigTest, ErrorsNameTheFileLineAndKey) {
  struct Case {
    std::string from, to, expected;
  };
  const std::vector<Case> cases = {
      {"    timeout: 3s\n", "    timeout: 3s\n    bind_pasword: x\n",
       "collector.yaml:6: auth.ldap.bind_pasword: unknown key"},
      {"    timeout: 3s\n", "    timeout: 3s\n    bind_password: hunter2\n",
       "collector.yaml:6: auth.ldap.bind_password: secrets are not written into the config"},
      {"url: ldap://ldap1.example.org ldaps", "url: http://ldap1.example.org ldaps",
       "collector.yaml:3: auth.ldap.url: expected ldap://host[:port]"},
      {"url: ldap://ldap1.example.org ldaps://ldap2.example.org:636", "url: ldap://",
       "collector.yaml:3: auth.ldap.url: 'ldap://' names no host"},
      {"    ca_file:", "    start_tls: true\n    ca_file:",
       "collector.yaml:3: auth.ldap.url: 'ldaps://ldap2.example.org:636' is already TLS"},
      {"timeout: 3s", "timeout: 10ms", "collector.yaml:5: auth.ldap.timeout:"},
      {"timeout: 3s", "timeout: soon", "collector.yaml:5: auth.ldap.timeout:"},
      {"(uid={username}))", "(uid={user}))",
       "collector.yaml:9: auth.ldap.user_filter: unknown placeholder '{user}'"},
      {"(&(objectClass=person)(uid={username}))", "(uid=fixed)",
       "collector.yaml:9: auth.ldap.user_filter: must contain {username}"},
      {"(&(objectClass=person)(uid={username}))", "(uid={username}))(uid=x)",
       "collector.yaml:9: auth.ldap.user_filter: unbalanced"},
      {"(&(objectClass=person)(uid={username}))", "uid={username}",
       "collector.yaml:9: auth.ldap.user_filter: expected an LDAP filter"},
      {"    bind_dn: \"cn=steadfast,dc=example,dc=org\"\n", "",
       "collector.yaml:6: auth.ldap.bind_password_file: bind_dn and bind_password_file go "
       "together"},
      {"    user_base: \"ou=people,dc=example,dc=org\"\n", "",
       "collector.yaml:3: auth.ldap.user_base: required: set user_dn_template, or user_base"},
      {"    timeout: 3s\n",
       "    timeout: 3s\n    user_dn_template: \"uid={username},dc=example,dc=org\"\n",
       "collector.yaml:9: auth.ldap.user_base: either user_dn_template or a search"},
      {"display_name_attribute: displayName", "display_name_attribute: \"display name\"",
       "collector.yaml:10: auth.ldap.display_name_attribute: expected an attribute name"},
      {"    group_base: \"ou=groups,dc=example,dc=org\"\n", "",
       "collector.yaml:3: auth.ldap.group_base: required"},
      {"group_filter: \"(member={dn})\"", "group_filter: \"(member={userdn})\"",
       "collector.yaml:13: auth.ldap.group_filter: unknown placeholder '{userdn}'"},
      {"group_filter: \"(member={dn})\"", "group_filter: \"(objectClass=groupOfNames)\"",
       "collector.yaml:13: auth.ldap.group_filter: must contain {dn} or {username}"},
      {"roles: [operator, viewer]", "roles: [operator, root]",
       "collector.yaml:16: auth.ldap.group_mappings[1].roles[1]: unknown role 'root'"},
      {"roles: [operator, viewer]", "roles: [operator, operator]",
       "collector.yaml:16: auth.ldap.group_mappings[1].roles[1]: role 'operator' is listed twice"},
      {"roles: [operator, viewer]", "roles: []",
       "collector.yaml:16: auth.ldap.group_mappings[1].roles: required"},
      {"unit: county", "unit: County Office",
       "collector.yaml:16: auth.ldap.group_mappings[1].unit: expected a unit code"},
      {"unit: county", "unit: county, colour: red",
       "collector.yaml:16: auth.ldap.group_mappings[1].colour: unknown key"},
      {"cn=county-ops,ou=groups", "CN=SF-Admins, ou=groups",
       "collector.yaml:16: auth.ldap.group_mappings[1].group: group 'CN=SF-Admins, "
       "ou=groups,dc=example,dc=org' is "
       "listed twice"},
      {"group: \"cn=auditors,ou=groups,dc=example,dc=org\"", "group: \"auditors\"",
       "collector.yaml:17: auth.ldap.group_mappings[2].group: expected a DN"},
      {"    default_unit: centre\n", "",
       "collector.yaml:3: auth.ldap.default_unit: required: group_mappings[2] names no unit"},
      {"default_unit: centre", "default_unit: \"\"",
       "collector.yaml:18: auth.ldap.default_unit: expected a unit code"},
      {"default_unit: centre", "default_unit: Centre!",
       "collector.yaml:18: auth.ldap.default_unit: expected a unit code"},
  };
  for (const Case& c : cases) {
    const std::string error = ErrorOf(Replace(kSearch, c.from, c.to));
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "replacing '" << c.from << "': " << error;
  }
  // No mappings at all.
  const std::string no_mappings =
      kSearch.substr(0, kSearch.find("    group_mappings:")) + "    default_unit: centre\n";
  EXPECT_NE(ErrorOf(no_mappings).find("auth.ldap.group_mappings: required"), std::string::npos)
      << ErrorOf(no_mappings);
}

TEST(LdapConfigTest, SearchModeNeedsTheServiceAccount) {
  std::string yaml = Replace(kSearch, "    bind_dn: \"cn=steadfast,dc=example,dc=org\"\n", "");
  yaml = Replace(yaml, "    bind_password_file: /etc/steadfast/ldap.password\n", "");
  EXPECT_NE(ErrorOf(yaml).find("auth.ldap.bind_dn: required when searching"), std::string::npos)
      << ErrorOf(yaml);
}

TEST(LdapConfigTest, ExampleConfigParsesWithTheCommentedLdapSectionEnabled) {
  // deploy/config/collector.yaml documents the section as comments; uncommented, it is valid.
  std::string text;
  {
    FILE* f = std::fopen(SF_COLLECTOR_EXAMPLE_CONFIG, "r");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  const std::string marker = "  # ldap:\n";
  const size_t begin = text.find(marker);
  ASSERT_NE(begin, std::string::npos) << "the example config has no commented ldap: section";
  // The section is the run of lines starting with "  # " right after the marker.
  std::string uncommented;
  size_t pos = begin;
  while (pos < text.size()) {
    const size_t eol = text.find('\n', pos);
    const std::string line = text.substr(pos, eol - pos);
    if (line.rfind("  # ", 0) != 0) break;
    uncommented += "  " + line.substr(4) + "\n";
    pos = eol + 1;
  }
  auto c = ParseYaml("auth:\n" + uncommented);
  ASSERT_TRUE(c.ok()) << c.status().ToString() << "\n" << uncommented;
  ASSERT_TRUE(c->ldap.has_value());
  EXPECT_FALSE(c->ldap->group_mappings.empty());
}

LdapConfig MappingConfig() {
  LdapConfig c;
  c.group_mappings = {
      {"cn=sf-admins,ou=groups,dc=example,dc=org", {"admin"}, "centre"},
      {"cn=county-ops,ou=groups,dc=example,dc=org", {"viewer", "operator"}, "county"},
      {"cn=auditors,ou=groups,dc=example,dc=org", {"manager", "viewer"}, ""},
  };
  c.default_unit = "hq";
  return c;
}

TEST(LdapGroupMappingTest, NoMappedGroupMeansNoAccess) {
  EXPECT_FALSE(MapLdapGroups(MappingConfig(), {}).has_value());
  EXPECT_FALSE(
      MapLdapGroups(MappingConfig(), {"cn=staff,ou=groups,dc=example,dc=org"}).has_value());
  // Not a prefix or suffix match.
  EXPECT_FALSE(MapLdapGroups(MappingConfig(), {"cn=sf-admins,ou=groups,dc=example,dc=org,dc=evil"})
                   .has_value());
  EXPECT_FALSE(
      MapLdapGroups(MappingConfig(), {"cn=sf-admins-not,ou=groups,dc=example,dc=org"}).has_value());
}

TEST(LdapGroupMappingTest, RolesAreUnitedAndTheFirstMappingWithAUnitWins) {
  auto a = MapLdapGroups(MappingConfig(), {"cn=auditors,ou=groups,dc=example,dc=org",
                                           "cn=county-ops,ou=groups,dc=example,dc=org"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->roles,
            (std::vector<std::string>{"operator", "manager", "viewer"}));  // kRoleNames order
  EXPECT_EQ(a->unit_code, "county");  // the auditors entry names none; county-ops comes next

  auto b = MapLdapGroups(MappingConfig(), {"cn=county-ops,ou=groups,dc=example,dc=org",
                                           "cn=sf-admins,ou=groups,dc=example,dc=org"});
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->roles, (std::vector<std::string>{"admin", "operator", "viewer"}));
  EXPECT_EQ(b->unit_code, "centre");  // config order, not the directory's
}

TEST(LdapGroupMappingTest, GroupsNamingNoUnitGetTheDefault) {
  auto a = MapLdapGroups(MappingConfig(),
                         {"cn=auditors,ou=groups,dc=example,dc=org", "cn=other,dc=example,dc=org"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->roles, (std::vector<std::string>{"manager", "viewer"}));
  EXPECT_EQ(a->unit_code, "hq");
}

TEST(LdapGroupMappingTest, DnSpellingDoesNotMatter) {
  auto a = MapLdapGroups(MappingConfig(), {"CN=SF-Admins, OU=Groups, DC=Example, DC=Org"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->roles, (std::vector<std::string>{"admin"}));
}

TEST(LdapGroupMappingTest, SameLdapDnComparesEscapesAndSpacing) {
  EXPECT_TRUE(SameLdapDn("uid=x\\,y,ou=people,dc=example,dc=org",
                         "uid=x\\2Cy,ou=people,dc=example,dc=org"));
  EXPECT_TRUE(SameLdapDn("uid=x\\2cy , ou = people,dc=example,dc=org",
                         "UID=X\\2CY,ou=people,dc=example,dc=org"));
  EXPECT_TRUE(SameLdapDn("cn=Ops Team,dc=org", "cn=ops team,dc=org"));
  EXPECT_TRUE(SameLdapDn("cn=a\\#b,dc=org", "cn=a#b,dc=org"));
  // Spaces inside a value and escaped separators are significant.
  EXPECT_FALSE(SameLdapDn("cn=Ops Team,dc=org", "cn=OpsTeam,dc=org"));
  EXPECT_FALSE(SameLdapDn("uid=x\\,y,dc=org", "uid=x,y,dc=org"));
  EXPECT_FALSE(SameLdapDn("cn=a\\+b,dc=org", "cn=a+b,dc=org"));
  EXPECT_FALSE(SameLdapDn("cn=a,dc=org", "cn=a,dc=org,dc=cn"));
}

}  // namespace
}  // namespace steadfast::collector::auth
