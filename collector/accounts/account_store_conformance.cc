#include "collector/accounts/account_store_conformance.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/random.h"

namespace steadfast::collector::accounts::testing {

Actor AdminActor(int64_t time_ms) {
  Actor a;
  a.type = "user";
  a.id = "1";
  a.name = "root";
  a.roles = {"admin"};
  a.unit_id = kCentreUnitId;
  a.source_address = "192.0.2.10";
  a.time_ms = time_ms;
  return a;
}

NewUser UserSpec(const std::string& username, int64_t unit_id, std::vector<Role> roles,
                 const std::string& password_hash) {
  NewUser u;
  u.username = username;
  u.display_name = "User " + username;
  u.unit_id = unit_id;
  u.roles = std::move(roles);
  u.password_hash = password_hash;
  return u;
}

Session SessionSpec(int64_t user_id, const std::string& public_id, const std::string& token) {
  Session s;
  s.public_id = public_id;
  s.token_sha256 = Sha256Hex(token);
  s.csrf_token = "csrf-" + token;
  s.user_id = user_id;
  s.source_address = "198.51.100.7";
  s.user_agent = "Mozilla/5.0 (test)";
  return s;
}

ApiToken TokenSpec(int64_t creator, const std::string& name, const std::string& secret, int64_t unit_id) {
  ApiToken t;
  t.name = name;
  t.token_sha256 = Sha256Hex(secret);
  t.role = Role::kViewer;
  t.unit_id = unit_id;
  t.created_by_user_id = creator;
  t.expires_at_ms = kT0 + 86'400'000;
  return t;
}

Unit UnitSpec(const std::string& name, const std::string& code, int64_t parent_id) {
  Unit u;
  u.name = name;
  u.code = code;
  u.kind = UnitKind::kUnit;
  u.parent_id = parent_id;
  return u;
}

void AccountStoreConformanceTest::SetUp() {
  harness_ = GetParam().make();
  ASSERT_NE(harness_, nullptr);
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// The value of `s`, or a recorded failure and a default value (so a test goes on to report
// more without touching an invalid StatusOr).
template <typename T>
T Must(StatusOr<T> s, const char* what) {
  if (!s.ok()) {
    ADD_FAILURE() << what << ": " << s.status().ToString();
    return T{};
  }
  return std::move(s).value();
}
#define MUST(expr) Must((expr), #expr)

#define EXPECT_OK(expr)                                \
  do {                                                 \
    const ::steadfast::Status sf_st_ = (expr);         \
    EXPECT_TRUE(sf_st_.ok()) << #expr << ": " << sf_st_.ToString(); \
  } while (0)

void ExpectFieldError(const Status& st, StatusCode code, const std::string& field) {
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_EQ(FieldOfError(st), field) << st.ToString();
}

nlohmann::json Summary(const audit::AuditEvent& e) { return nlohmann::json::parse(e.summary_json); }

std::vector<std::string> Actions(const std::vector<audit::AuditEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.action);
  return out;
}

TEST_P(AccountStoreConformanceTest, TheCentreIsTheRoot) {
  Unit centre = MUST(store().GetUnit(kCentreUnitId));
  EXPECT_EQ(centre.name, "Centre");
  EXPECT_EQ(centre.code, "centre");
  EXPECT_EQ(centre.kind, UnitKind::kCentre);
  EXPECT_FALSE(centre.parent_id.has_value());
  EXPECT_EQ(MUST(store().ListUnits()).size(), 1u);
  EXPECT_THAT(MUST(store().SubtreeUnitIds(kCentreUnitId)), ElementsAre(kCentreUnitId));
  EXPECT_EQ(store().GetUnit(999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().SubtreeUnitIds(999).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(Events(), IsEmpty());
}

TEST_P(AccountStoreConformanceTest, UnitsFormATreeListedParentsFirst) {
  const Unit beta = MUST(store().CreateUnit(AdminActor(), UnitSpec("Beta", "beta")));
  const Unit alpha = MUST(store().CreateUnit(AdminActor(), UnitSpec("Alpha", "alpha")));
  Unit dept = UnitSpec("Alpha Two", "alpha-2", alpha.id);
  dept.kind = UnitKind::kDepartment;
  const Unit a2 = MUST(store().CreateUnit(AdminActor(), dept));
  const Unit a1 = MUST(store().CreateUnit(AdminActor(), UnitSpec("Alpha One", "alpha-1", alpha.id)));
  const Unit a1x = MUST(store().CreateUnit(AdminActor(kT0 + 5), UnitSpec("Room 101", "room_101", a1.id)));

  EXPECT_EQ(a2.kind, UnitKind::kDepartment);
  EXPECT_EQ(a1x.parent_id, a1.id);
  EXPECT_EQ(a1x.created_at_ms, kT0 + 5);
  Unit got = MUST(store().GetUnit(a1x.id));
  EXPECT_EQ(got.name, "Room 101");
  EXPECT_EQ(got.code, "room_101");
  EXPECT_EQ(got.created_at_ms, kT0 + 5);

  std::vector<std::string> order;
  for (const Unit& u : MUST(store().ListUnits())) order.push_back(u.code);
  EXPECT_THAT(order, ElementsAre("centre", "alpha", "alpha-1", "room_101", "alpha-2", "beta"));

  EXPECT_THAT(MUST(store().SubtreeUnitIds(alpha.id)), UnorderedElementsAre(alpha.id, a1.id, a2.id, a1x.id));
  EXPECT_THAT(MUST(store().SubtreeUnitIds(a1.id)), UnorderedElementsAre(a1.id, a1x.id));
  EXPECT_THAT(MUST(store().SubtreeUnitIds(beta.id)), ElementsAre(beta.id));
  EXPECT_EQ(MUST(store().SubtreeUnitIds(kCentreUnitId)).size(), 6u);

  const auto events = Events();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[4].action, "units.create");
  EXPECT_EQ(events[4].object_type, "unit");
  EXPECT_EQ(events[4].object_id, std::to_string(a1x.id));
  EXPECT_EQ(Summary(events[4])["after"]["code"], "room_101");
  EXPECT_EQ(Summary(events[4])["after"]["parent_id"], a1.id);
}

TEST_P(AccountStoreConformanceTest, UnitsAreRenamedAndMovedButNeverIntoTheirOwnSubtree) {
  const Unit a = MUST(store().CreateUnit(AdminActor(), UnitSpec("A", "a")));
  const Unit b = MUST(store().CreateUnit(AdminActor(), UnitSpec("B", "b")));
  const Unit a1 = MUST(store().CreateUnit(AdminActor(), UnitSpec("A1", "a1", a.id)));
  const Unit a11 = MUST(store().CreateUnit(AdminActor(), UnitSpec("A11", "a11", a1.id)));

  ExpectFieldError(store().UpdateUnit(AdminActor(), a.id, std::nullopt, a.id).status(), StatusCode::kInvalidArgument,
                   "parent_id");
  ExpectFieldError(store().UpdateUnit(AdminActor(), a.id, std::nullopt, a11.id).status(),
                   StatusCode::kInvalidArgument, "parent_id");
  ExpectFieldError(store().UpdateUnit(AdminActor(), a.id, "A renamed", a1.id).status(), StatusCode::kInvalidArgument,
                   "parent_id");
  ExpectFieldError(store().UpdateUnit(AdminActor(), kCentreUnitId, std::nullopt, a.id).status(),
                   StatusCode::kInvalidArgument, "parent_id");
  ExpectFieldError(store().UpdateUnit(AdminActor(), a.id, std::nullopt, 999).status(), StatusCode::kInvalidArgument,
                   "parent_id");
  ExpectFieldError(store().UpdateUnit(AdminActor(), a.id, std::string(""), std::nullopt).status(),
                   StatusCode::kInvalidArgument, "name");
  EXPECT_EQ(store().UpdateUnit(AdminActor(), 999, std::string("x"), std::nullopt).status().code(),
            StatusCode::kNotFound);
  // Refusals changed nothing.
  EXPECT_EQ(MUST(store().GetUnit(a.id)).name, "A");
  EXPECT_EQ(MUST(store().GetUnit(a.id)).parent_id, kCentreUnitId);
  EXPECT_EQ(Events().size(), 4u);

  // Moving a subtree elsewhere carries its descendants along.
  Unit moved = MUST(store().UpdateUnit(AdminActor(), a1.id, std::string("A-one"), b.id));
  EXPECT_EQ(moved.name, "A-one");
  EXPECT_EQ(moved.parent_id, b.id);
  EXPECT_THAT(MUST(store().SubtreeUnitIds(b.id)), UnorderedElementsAre(b.id, a1.id, a11.id));
  EXPECT_THAT(MUST(store().SubtreeUnitIds(a.id)), ElementsAre(a.id));
  // `a` is no longer an ancestor of a1, so it may now go below a1's child.
  EXPECT_OK(store().UpdateUnit(AdminActor(), a.id, std::nullopt, a11.id).status());
  // The centre can be renamed.
  EXPECT_EQ(MUST(store().UpdateUnit(AdminActor(), kCentreUnitId, std::string("总中心"), std::nullopt)).name,
            "总中心");

  const auto events = Events();
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[4].action, "units.update");
  EXPECT_EQ(events[4].object_id, std::to_string(a1.id));
  const nlohmann::json s = Summary(events[4]);
  EXPECT_EQ(s["before"]["name"], "A1");
  EXPECT_EQ(s["after"]["name"], "A-one");
  EXPECT_EQ(s["before"]["parent_id"], a.id);
  EXPECT_EQ(s["after"]["parent_id"], b.id);
  EXPECT_FALSE(s["after"].contains("code"));  // unchanged fields are left out
}

TEST_P(AccountStoreConformanceTest, UnitValidationNamesTheField) {
  struct Case {
    Unit unit;
    StatusCode code;
    std::string field;
  };
  Unit centre_kind = UnitSpec("Second centre", "c2");
  centre_kind.kind = UnitKind::kCentre;
  Unit no_parent = UnitSpec("Orphan", "orphan");
  no_parent.parent_id.reset();
  const std::vector<Case> cases = {
      {UnitSpec("", "x"), StatusCode::kInvalidArgument, "name"},
      {UnitSpec("   ", "x"), StatusCode::kInvalidArgument, "name"},
      {UnitSpec(std::string(101, 'n'), "x"), StatusCode::kInvalidArgument, "name"},
      {UnitSpec("bad\x01name", "x"), StatusCode::kInvalidArgument, "name"},
      {UnitSpec("bad \xff utf8", "x"), StatusCode::kInvalidArgument, "name"},
      {UnitSpec("Upper", "Upper"), StatusCode::kInvalidArgument, "code"},
      {UnitSpec("Empty code", ""), StatusCode::kInvalidArgument, "code"},
      {UnitSpec("Long code", std::string(33, 'c')), StatusCode::kInvalidArgument, "code"},
      {UnitSpec("Spaces", "a b"), StatusCode::kInvalidArgument, "code"},
      {UnitSpec("No parent", "np", 999), StatusCode::kInvalidArgument, "parent_id"},
      {centre_kind, StatusCode::kInvalidArgument, "kind"},
      {no_parent, StatusCode::kInvalidArgument, "parent_id"},
      {UnitSpec("Taken", "centre"), StatusCode::kAlreadyExists, "code"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.unit.name + " / " + c.unit.code);
    ExpectFieldError(store().CreateUnit(AdminActor(), c.unit).status(), c.code, c.field);
  }
  // 100 characters are fine even when each takes three bytes.
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "中";
  EXPECT_OK(store().CreateUnit(AdminActor(), UnitSpec(hundred, "wide")).status());
  EXPECT_EQ(MUST(store().ListUnits()).size(), 2u);
  EXPECT_EQ(Events().size(), 1u);
}

TEST_P(AccountStoreConformanceTest, UsersAreCreatedAndFoundCaseInsensitively) {
  const Unit ops = MUST(store().CreateUnit(AdminActor(), UnitSpec("Operations", "ops")));
  NewUser spec = UserSpec("Alice.Li", ops.id, {Role::kViewer, Role::kOperator, Role::kViewer}, "$argon2id$h0");
  spec.display_name = "李爱丽";
  spec.contacts.email = "alice@example.cn";
  spec.contacts.phone = "+86 138-0000-0000";
  spec.contacts.wecom = "alice_wecom";
  spec.language = "zh-CN";
  spec.must_change_password = false;
  const User created = MUST(store().CreateUser(AdminActor(kT0 + 7), spec));
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.username, "alice.li");
  EXPECT_EQ(created.display_name, "李爱丽");
  EXPECT_EQ(created.unit_id, ops.id);
  EXPECT_THAT(created.roles, ElementsAre(Role::kOperator, Role::kViewer));  // deduplicated, table order
  EXPECT_EQ(created.contacts.email, "alice@example.cn");
  EXPECT_EQ(created.contacts.phone, "+86 138-0000-0000");
  EXPECT_EQ(created.contacts.wecom, "alice_wecom");
  EXPECT_EQ(created.language, "zh-CN");
  EXPECT_TRUE(created.active);
  EXPECT_EQ(created.source, "local");
  EXPECT_FALSE(created.must_change_password);
  EXPECT_EQ(created.password_changed_at_ms, kT0 + 7);
  EXPECT_FALSE(created.totp_enabled);
  EXPECT_EQ(created.created_at_ms, kT0 + 7);
  EXPECT_EQ(created.updated_at_ms, kT0 + 7);

  const User by_id = MUST(store().GetUser(created.id));
  EXPECT_EQ(by_id.username, "alice.li");
  EXPECT_EQ(by_id.roles, created.roles);
  EXPECT_EQ(MUST(store().FindUserByUsername("ALICE.LI")).id, created.id);
  EXPECT_EQ(MUST(store().FindUserByUsername("alice.li")).id, created.id);
  EXPECT_EQ(store().FindUserByUsername("bob").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().FindUserByUsername("not a name; DROP TABLE users").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().GetUser(created.id + 100).status().code(), StatusCode::kNotFound);

  const UserCredentials creds = MUST(store().GetCredentials(created.id));
  EXPECT_EQ(creds.password_hash, "$argon2id$h0");
  EXPECT_EQ(creds.totp_secret_base32, "");
  EXPECT_EQ(creds.failed_logins, 0);
  EXPECT_EQ(store().GetCredentials(created.id + 100).status().code(), StatusCode::kNotFound);

  // A user without a password has never set one.
  const User ldap = MUST(store().CreateUser(AdminActor(), [] {
    NewUser u = UserSpec("carol");
    u.source = "ldap";
    return u;
  }()));
  EXPECT_EQ(ldap.password_changed_at_ms, 0);
  EXPECT_TRUE(ldap.must_change_password);
  EXPECT_EQ(ldap.source, "ldap");

  const auto events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].action, "users.create");
  EXPECT_EQ(events[1].object_type, "user");
  EXPECT_EQ(events[1].object_id, std::to_string(created.id));
  const nlohmann::json s = Summary(events[1]);
  EXPECT_EQ(s["after"]["username"], "alice.li");
  EXPECT_EQ(s["after"]["roles"], nlohmann::json::array({"operator", "viewer"}));
  EXPECT_EQ(s["after"]["contacts"]["email"], "alice@example.cn");
}

TEST_P(AccountStoreConformanceTest, UsernamesAreUniqueWhateverTheCase) {
  EXPECT_OK(store().CreateUser(AdminActor(), UserSpec("Bob")).status());
  ExpectFieldError(store().CreateUser(AdminActor(), UserSpec("bOB")).status(), StatusCode::kAlreadyExists,
                   "username");
  ExpectFieldError(store().CreateUser(AdminActor(), UserSpec("bob")).status(), StatusCode::kAlreadyExists,
                   "username");
  UserQuery all;
  EXPECT_EQ(MUST(store().ListUsers(all)).total, 1);
  EXPECT_EQ(Events().size(), 1u);
}

TEST_P(AccountStoreConformanceTest, UserValidationNamesTheField) {
  struct Case {
    std::string label;
    std::function<void(NewUser&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"short username", [](NewUser& u) { u.username = "a"; }, "username"},
      {"long username", [](NewUser& u) { u.username = std::string(65, 'a'); }, "username"},
      {"space in username", [](NewUser& u) { u.username = "al ice"; }, "username"},
      {"non-ascii username", [](NewUser& u) { u.username = "李爱丽"; }, "username"},
      {"empty display name", [](NewUser& u) { u.display_name = ""; }, "display_name"},
      {"long display name", [](NewUser& u) { u.display_name = std::string(101, 'd'); }, "display_name"},
      {"control in display name", [](NewUser& u) { u.display_name = "a\nb"; }, "display_name"},
      {"unknown unit", [](NewUser& u) { u.unit_id = 999; }, "unit_id"},
      {"no roles", [](NewUser& u) { u.roles.clear(); }, "roles"},
      {"unknown role", [](NewUser& u) { u.roles = {static_cast<Role>(42)}; }, "roles"},
      {"language", [](NewUser& u) { u.language = "fr"; }, "language"},
      {"language case", [](NewUser& u) { u.language = "zh-cn"; }, "language"},
      {"email without at", [](NewUser& u) { u.contacts.email = "alice.example.cn"; }, "contacts.email"},
      {"email without domain dot", [](NewUser& u) { u.contacts.email = "alice@localhost"; }, "contacts.email"},
      {"email two ats", [](NewUser& u) { u.contacts.email = "a@b@example.cn"; }, "contacts.email"},
      {"email space", [](NewUser& u) { u.contacts.email = "al ice@example.cn"; }, "contacts.email"},
      {"phone letters", [](NewUser& u) { u.contacts.phone = "call me"; }, "contacts.phone"},
      {"phone plus inside", [](NewUser& u) { u.contacts.phone = "86+138"; }, "contacts.phone"},
      {"phone too long", [](NewUser& u) { u.contacts.phone = std::string(33, '1'); }, "contacts.phone"},
      {"dingtalk too long", [](NewUser& u) { u.contacts.dingtalk = std::string(257, 'x'); }, "contacts.dingtalk"},
      {"slack control", [](NewUser& u) { u.contacts.slack = "a\tb"; }, "contacts.slack"},
      {"telegram bad utf8", [](NewUser& u) { u.contacts.telegram = "\xc3"; }, "contacts.telegram"},
      {"source", [](NewUser& u) { u.source = "saml"; }, "source"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    NewUser u = UserSpec("valid.user");
    c.mutate(u);
    ExpectFieldError(store().CreateUser(AdminActor(), u).status(), StatusCode::kInvalidArgument, c.field);
  }
  EXPECT_EQ(MUST(store().ListUsers(UserQuery{})).total, 0);
  EXPECT_THAT(Events(), IsEmpty());

  // The same checks guard updates.
  const User u = MUST(store().CreateUser(AdminActor(), UserSpec("valid.user")));
  UserUpdate bad_roles;
  bad_roles.roles = std::vector<Role>{};
  ExpectFieldError(store().UpdateUser(AdminActor(), u.id, bad_roles).status(), StatusCode::kInvalidArgument, "roles");
  UserUpdate bad_unit;
  bad_unit.unit_id = 999;
  ExpectFieldError(store().UpdateUser(AdminActor(), u.id, bad_unit).status(), StatusCode::kInvalidArgument,
                   "unit_id");
  UserUpdate bad_email;
  bad_email.contacts = Contacts{};
  bad_email.contacts->email = "nope";
  ExpectFieldError(store().UpdateUser(AdminActor(), u.id, bad_email).status(), StatusCode::kInvalidArgument,
                   "contacts.email");
  UserUpdate bad_language;
  bad_language.language = "de";
  ExpectFieldError(store().UpdateUser(AdminActor(), u.id, bad_language).status(), StatusCode::kInvalidArgument,
                   "language");
  UserUpdate bad_name;
  bad_name.display_name = "";
  ExpectFieldError(store().UpdateUser(AdminActor(), u.id, bad_name).status(), StatusCode::kInvalidArgument,
                   "display_name");
  EXPECT_EQ(store().UpdateUser(AdminActor(), u.id + 100, UserUpdate{}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Events().size(), 1u);
}

TEST_P(AccountStoreConformanceTest, ListUsersFiltersCountsAndPages) {
  const Unit a = MUST(store().CreateUnit(AdminActor(), UnitSpec("A", "a")));
  const Unit b = MUST(store().CreateUnit(AdminActor(), UnitSpec("B", "b")));
  NewUser zhang = UserSpec("zhang", a.id, {Role::kInspector});
  zhang.display_name = "Zhang Wei 张伟";
  EXPECT_OK(store().CreateUser(AdminActor(), zhang).status());
  EXPECT_OK(store().CreateUser(AdminActor(), UserSpec("amy", a.id, {Role::kOperator, Role::kInspector})).status());
  EXPECT_OK(store().CreateUser(AdminActor(), UserSpec("ben", b.id, {Role::kViewer})).status());
  NewUser dan = UserSpec("dan_x", b.id, {Role::kInspector});
  dan.display_name = "Dan 50% off";
  const User off = MUST(store().CreateUser(AdminActor(), dan));
  UserUpdate disable;
  disable.active = false;
  EXPECT_OK(store().UpdateUser(AdminActor(), off.id, disable).status());

  auto names = [](const UserPage& page) {
    std::vector<std::string> out;
    for (const User& u : page.items) out.push_back(u.username);
    return out;
  };
  UserQuery q;
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("amy", "ben", "dan_x", "zhang"));

  q = {};
  q.unit_ids = std::vector<int64_t>{a.id};
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("amy", "zhang"));
  q.unit_ids = std::vector<int64_t>{};
  EXPECT_THAT(names(MUST(store().ListUsers(q))), IsEmpty());

  q = {};
  q.role = Role::kInspector;
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("amy", "dan_x", "zhang"));
  q.active = true;
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("amy", "zhang"));
  q.active = false;
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("dan_x"));

  q = {};
  q.text = "WEI";  // display name, any case
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("zhang"));
  q.text = "张";
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("zhang"));
  q.text = "Be";  // username
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("ben"));
  q.text = "50% o";
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("dan_x"));
  q.text = "n%o";  // LIKE wildcards are literal: as a wildcard this would match "Dan 50% off"
  EXPECT_THAT(names(MUST(store().ListUsers(q))), IsEmpty());
  q.text = "_";  // as a wildcard this would match everyone
  EXPECT_THAT(names(MUST(store().ListUsers(q))), ElementsAre("dan_x"));

  q = {};
  q.limit = 2;
  q.offset = 1;
  const UserPage page = MUST(store().ListUsers(q));
  EXPECT_THAT(names(page), ElementsAre("ben", "dan_x"));
  EXPECT_EQ(page.total, 4);
  q.offset = 10;
  EXPECT_THAT(names(MUST(store().ListUsers(q))), IsEmpty());
  EXPECT_EQ(MUST(store().ListUsers(q)).total, 4);

  q = {};
  q.limit = 0;
  ExpectFieldError(store().ListUsers(q).status(), StatusCode::kInvalidArgument, "limit");
  q.limit = 1001;
  ExpectFieldError(store().ListUsers(q).status(), StatusCode::kInvalidArgument, "limit");
  q.limit = 10;
  q.offset = -1;
  ExpectFieldError(store().ListUsers(q).status(), StatusCode::kInvalidArgument, "offset");
}

TEST_P(AccountStoreConformanceTest, UpdateUserChangesOnlyWhatIsGiven) {
  const Unit a = MUST(store().CreateUnit(AdminActor(), UnitSpec("A", "a")));
  NewUser spec = UserSpec("erin");
  spec.contacts.email = "erin@example.org";
  const User before = MUST(store().CreateUser(AdminActor(), spec));

  UserUpdate upd;
  upd.display_name = "Erin Wang";
  upd.unit_id = a.id;
  upd.roles = std::vector<Role>{Role::kManager, Role::kUnitAdmin};
  upd.language = "zh-CN";
  const User after = MUST(store().UpdateUser(AdminActor(kT0 + 60'000), before.id, upd));
  EXPECT_EQ(after.display_name, "Erin Wang");
  EXPECT_EQ(after.unit_id, a.id);
  EXPECT_THAT(after.roles, ElementsAre(Role::kUnitAdmin, Role::kManager));
  EXPECT_EQ(after.language, "zh-CN");
  EXPECT_EQ(after.contacts.email, "erin@example.org");  // not given: kept
  EXPECT_TRUE(after.active);
  EXPECT_EQ(after.updated_at_ms, kT0 + 60'000);
  EXPECT_EQ(after.created_at_ms, before.created_at_ms);
  const User reread = MUST(store().GetUser(before.id));
  EXPECT_THAT(reread.roles, ElementsAre(Role::kUnitAdmin, Role::kManager));
  EXPECT_EQ(reread.unit_id, a.id);

  const auto events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].action, "users.update");
  EXPECT_EQ(events[2].time_ms, kT0 + 60'000);
  const nlohmann::json s = Summary(events[2]);
  EXPECT_EQ(s["before"]["display_name"], "User erin");
  EXPECT_EQ(s["after"]["display_name"], "Erin Wang");
  EXPECT_EQ(s["before"]["roles"], nlohmann::json::array({"operator"}));
  EXPECT_EQ(s["after"]["roles"], nlohmann::json::array({"unit_admin", "manager"}));
  EXPECT_FALSE(s["after"].contains("contacts"));
  EXPECT_FALSE(s["after"].contains("username"));
}

TEST_P(AccountStoreConformanceTest, DisablingAUserEndsTheirSessionsAndTokens) {
  const User u = MUST(store().CreateUser(AdminActor(), UserSpec("frank")));
  const User other = MUST(store().CreateUser(AdminActor(), UserSpec("grace")));
  EXPECT_OK(store().CreateSession(AdminActor(), SessionSpec(u.id, "sess-frank-1", "tok-f1")));
  EXPECT_OK(store().CreateSession(AdminActor(), SessionSpec(u.id, "sess-frank-2", "tok-f2")));
  EXPECT_OK(store().CreateSession(AdminActor(), SessionSpec(other.id, "sess-grace-1", "tok-g1")));
  const ApiToken t1 = MUST(store().CreateApiToken(AdminActor(), TokenSpec(u.id, "ci", "sfa_frank_1")));
  EXPECT_OK(store().CreateApiToken(AdminActor(), TokenSpec(u.id, "backup", "sfa_frank_2")).status());
  EXPECT_OK(store().CreateApiToken(AdminActor(), TokenSpec(other.id, "ci", "sfa_grace_1")).status());

  UserUpdate disable;
  disable.active = false;
  const User disabled = MUST(store().UpdateUser(AdminActor(kT0 + 1000), u.id, disable));
  EXPECT_FALSE(disabled.active);
  EXPECT_EQ(store().FindSessionByTokenHash(Sha256Hex("tok-f1")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().FindSessionByTokenHash(Sha256Hex("tok-f2")).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(MUST(store().ListSessions(u.id)), IsEmpty());
  EXPECT_EQ(store().FindApiTokenByHash(Sha256Hex("sfa_frank_1")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().FindApiTokenByHash(Sha256Hex("sfa_frank_2")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MUST(store().GetApiToken(t1.id)).revoked_at_ms, kT0 + 1000);
  // Someone else's are untouched.
  EXPECT_EQ(MUST(store().FindSessionByTokenHash(Sha256Hex("tok-g1"))).user_id, other.id);
  EXPECT_EQ(MUST(store().FindApiTokenByHash(Sha256Hex("sfa_grace_1"))).created_by_user_id, other.id);
  // A disabled user cannot be given a new session or token.
  EXPECT_EQ(store().CreateSession(AdminActor(), SessionSpec(u.id, "sess-frank-3", "tok-f3")).code(),
            StatusCode::kFailedPrecondition);
  ExpectFieldError(store().CreateApiToken(AdminActor(), TokenSpec(u.id, "new", "sfa_frank_3")).status(),
                   StatusCode::kFailedPrecondition, "created_by_user_id");

  auto events = Events();
  ASSERT_FALSE(events.empty());
  const audit::AuditEvent& e = events.back();
  EXPECT_EQ(e.action, "users.disable");
  EXPECT_EQ(e.object_id, std::to_string(u.id));
  const nlohmann::json s = Summary(e);
  EXPECT_EQ(s["before"]["active"], true);
  EXPECT_EQ(s["after"]["active"], false);
  EXPECT_EQ(s["after"]["sessions_revoked"], 2);
  EXPECT_EQ(s["after"]["tokens_revoked"], 2);

  // Enabling again is an ordinary update; what was revoked stays revoked.
  UserUpdate enable;
  enable.active = true;
  EXPECT_TRUE(MUST(store().UpdateUser(AdminActor(), u.id, enable)).active);
  EXPECT_EQ(Events().back().action, "users.update");
  EXPECT_EQ(store().FindSessionByTokenHash(Sha256Hex("tok-f1")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().FindApiTokenByHash(Sha256Hex("sfa_frank_1")).status().code(), StatusCode::kNotFound);
}

TEST_P(AccountStoreConformanceTest, SetPasswordKeepsHistoryToDepthAndEndsOtherSessions) {
  const User u = MUST(store().CreateUser(AdminActor(), UserSpec("hana", kCentreUnitId, {Role::kViewer}, "hash-0")));
  EXPECT_OK(store().CreateSession(AdminActor(), SessionSpec(u.id, "s-1", "t-1")));
  EXPECT_OK(store().CreateSession(AdminActor(), SessionSpec(u.id, "s-2", "t-2")));
  EXPECT_OK(store().CreateSession(AdminActor(), SessionSpec(u.id, "s-3", "t-3")));

  EXPECT_OK(store().SetPassword(AdminActor(kT0 + 10), u.id, "hash-1", false, 3, "auth.change_password", "s-2"));
  EXPECT_THAT(MUST(store().PasswordHistory(u.id)), ElementsAre("hash-0"));
  std::vector<std::string> live;
  for (const Session& s : MUST(store().ListSessions(u.id))) live.push_back(s.public_id);
  EXPECT_THAT(live, ElementsAre("s-2"));
  EXPECT_EQ(store().FindSessionByTokenHash(Sha256Hex("t-1")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MUST(store().FindSessionByTokenHash(Sha256Hex("t-2"))).public_id, "s-2");
  const User changed = MUST(store().GetUser(u.id));
  EXPECT_FALSE(changed.must_change_password);
  EXPECT_EQ(changed.password_changed_at_ms, kT0 + 10);
  EXPECT_EQ(MUST(store().GetCredentials(u.id)).password_hash, "hash-1");

  EXPECT_OK(store().SetPassword(AdminActor(), u.id, "hash-2", false, 3, "auth.change_password", "s-2"));
  EXPECT_OK(store().SetPassword(AdminActor(), u.id, "hash-3", false, 3, "auth.change_password", "s-2"));
  EXPECT_OK(store().SetPassword(AdminActor(), u.id, "hash-4", false, 3, "auth.change_password", "s-2"));
  EXPECT_THAT(MUST(store().PasswordHistory(u.id)), ElementsAre("hash-3", "hash-2", "hash-1"));
  // A shallower depth trims at the next change.
  EXPECT_OK(store().SetPassword(AdminActor(kT0 + 20), u.id, "hash-5", true, 1, "users.reset_password", ""));
  EXPECT_THAT(MUST(store().PasswordHistory(u.id)), ElementsAre("hash-4"));
  EXPECT_THAT(MUST(store().ListSessions(u.id)), IsEmpty());  // a reset keeps no session
  EXPECT_TRUE(MUST(store().GetUser(u.id)).must_change_password);
  EXPECT_OK(store().SetPassword(AdminActor(), u.id, "hash-6", false, 0, "auth.change_password", ""));
  EXPECT_THAT(MUST(store().PasswordHistory(u.id)), IsEmpty());

  ExpectFieldError(store().SetPassword(AdminActor(), u.id, "hash-7", false, 3, "users.update", ""),
                   StatusCode::kInvalidArgument, "action");
  ExpectFieldError(store().SetPassword(AdminActor(), u.id, "", false, 3, "auth.change_password", ""),
                   StatusCode::kInvalidArgument, "password_hash");
  ExpectFieldError(store().SetPassword(AdminActor(), u.id, "hash-7", false, -1, "auth.change_password", ""),
                   StatusCode::kInvalidArgument, "history_depth");
  EXPECT_EQ(store().SetPassword(AdminActor(), u.id + 100, "h", false, 3, "auth.change_password", "").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().PasswordHistory(u.id + 100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MUST(store().GetCredentials(u.id)).password_hash, "hash-6");

  std::vector<audit::AuditEvent> pw;
  for (const auto& e : Events()) {
    if (e.object_type == "user" && e.action != "users.create") pw.push_back(e);
  }
  ASSERT_EQ(pw.size(), 6u);
  EXPECT_EQ(pw[0].action, "auth.change_password");
  EXPECT_EQ(Summary(pw[0])["after"]["sessions_revoked"], 2);
  EXPECT_EQ(pw[4].action, "users.reset_password");
  EXPECT_EQ(Summary(pw[4])["after"]["must_change_password"], true);
  EXPECT_EQ(Summary(pw[4])["after"]["sessions_revoked"], 1);
}

TEST_P(AccountStoreConformanceTest, LoginStateAndTotpAreKept) {
  const User u = MUST(store().CreateUser(AdminActor(), UserSpec("ivan", kCentreUnitId, {Role::kAdmin}, "h")));
  EXPECT_OK(store().SaveLoginState(u.id, 3, kT0 + 5000, kT0 + 100));
  UserCredentials c = MUST(store().GetCredentials(u.id));
  EXPECT_EQ(c.failed_logins, 3);
  EXPECT_EQ(c.locked_until_ms, kT0 + 5000);
  EXPECT_EQ(c.last_failure_ms, kT0 + 100);
  EXPECT_EQ(store().SaveLoginState(u.id + 100, 1, 0, 0).code(), StatusCode::kNotFound);
  ExpectFieldError(store().SaveLoginState(u.id, -1, 0, 0), StatusCode::kInvalidArgument, "failed_logins");

  EXPECT_OK(store().SetTotp(AdminActor(), u.id, "JBSWY3DPEHPK3PXP", false));
  c = MUST(store().GetCredentials(u.id));
  EXPECT_EQ(c.totp_secret_base32, "JBSWY3DPEHPK3PXP");
  EXPECT_FALSE(MUST(store().GetUser(u.id)).totp_enabled);
  EXPECT_OK(store().SetTotp(AdminActor(), u.id, "JBSWY3DPEHPK3PXP", true));
  EXPECT_TRUE(MUST(store().GetUser(u.id)).totp_enabled);

  EXPECT_OK(store().SaveTotpStep(u.id, 100));
  EXPECT_EQ(MUST(store().GetCredentials(u.id)).totp_last_step, 100);
  ExpectFieldError(store().SaveTotpStep(u.id, 100), StatusCode::kFailedPrecondition, "totp");  // replay
  EXPECT_EQ(store().SaveTotpStep(u.id, 99).code(), StatusCode::kFailedPrecondition);
  EXPECT_OK(store().SaveTotpStep(u.id, 101));
  EXPECT_EQ(store().SaveTotpStep(u.id + 100, 5).code(), StatusCode::kNotFound);

  // A new secret starts over; clearing disables.
  EXPECT_OK(store().SetTotp(AdminActor(), u.id, "KRSXG5CTMVRXEZLU", false));
  EXPECT_EQ(MUST(store().GetCredentials(u.id)).totp_last_step, 0);
  EXPECT_OK(store().SetTotp(AdminActor(), u.id, "", false));
  EXPECT_EQ(MUST(store().GetCredentials(u.id)).totp_secret_base32, "");
  EXPECT_FALSE(MUST(store().GetUser(u.id)).totp_enabled);
  ExpectFieldError(store().SetTotp(AdminActor(), u.id, "", true), StatusCode::kInvalidArgument, "totp_secret");
  ExpectFieldError(store().SetTotp(AdminActor(), u.id, "not base32!", false), StatusCode::kInvalidArgument,
                   "totp_secret");
  EXPECT_EQ(store().SetTotp(AdminActor(), u.id + 100, "JBSWY3DPEHPK3PXP", false).code(), StatusCode::kNotFound);

  const auto events = Events();
  ASSERT_EQ(events.size(), 5u);  // create + four SetTotp; login state and steps are not audited
  EXPECT_EQ(events[2].action, "users.totp");
  EXPECT_EQ(Summary(events[2])["before"]["totp_enabled"], false);
  EXPECT_EQ(Summary(events[2])["after"]["totp_enabled"], true);
}

TEST_P(AccountStoreConformanceTest, SessionsAreCreatedFoundTouchedListedAndRevoked) {
  const User u = MUST(store().CreateUser(AdminActor(), UserSpec("jun")));
  Session spec = SessionSpec(u.id, "pub-1", "cookie-1");
  spec.user_agent = std::string(600, 'a');
  EXPECT_OK(store().CreateSession(AdminActor(kT0), spec));
  EXPECT_OK(store().CreateSession(AdminActor(kT0 + 1), SessionSpec(u.id, "pub-2", "cookie-2")));

  Session found = MUST(store().FindSessionByTokenHash(Sha256Hex("cookie-1")));
  EXPECT_EQ(found.public_id, "pub-1");
  EXPECT_EQ(found.user_id, u.id);
  EXPECT_EQ(found.csrf_token, "csrf-cookie-1");
  EXPECT_EQ(found.created_at_ms, kT0);
  EXPECT_EQ(found.last_seen_ms, kT0);
  EXPECT_EQ(found.source_address, "198.51.100.7");
  EXPECT_EQ(found.user_agent.size(), 512u);  // cut, not refused
  EXPECT_EQ(store().FindSessionByTokenHash(Sha256Hex("unknown")).status().code(), StatusCode::kNotFound);

  std::vector<std::string> ids;
  for (const Session& s : MUST(store().ListSessions(u.id))) ids.push_back(s.public_id);
  EXPECT_THAT(ids, ElementsAre("pub-2", "pub-1"));  // newest first
  EXPECT_EQ(store().ListSessions(u.id + 100).status().code(), StatusCode::kNotFound);

  // Touches within a minute are not written; later ones are.
  EXPECT_OK(store().TouchSession("pub-1", kT0 + 59'999));
  EXPECT_EQ(MUST(store().FindSessionByTokenHash(Sha256Hex("cookie-1"))).last_seen_ms, kT0);
  EXPECT_OK(store().TouchSession("pub-1", kT0 + 60'000));
  EXPECT_EQ(MUST(store().FindSessionByTokenHash(Sha256Hex("cookie-1"))).last_seen_ms, kT0 + 60'000);
  EXPECT_OK(store().TouchSession("pub-1", kT0 + 90'000));
  EXPECT_EQ(MUST(store().FindSessionByTokenHash(Sha256Hex("cookie-1"))).last_seen_ms, kT0 + 60'000);
  EXPECT_EQ(store().TouchSession("nope", kT0).code(), StatusCode::kNotFound);

  ExpectFieldError(store().RevokeSession(AdminActor(), "pub-1", "users.update"), StatusCode::kInvalidArgument,
                   "action");
  EXPECT_OK(store().RevokeSession(AdminActor(kT0 + 100'000), "pub-1", "auth.logout"));
  EXPECT_EQ(store().FindSessionByTokenHash(Sha256Hex("cookie-1")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().RevokeSession(AdminActor(), "pub-1", "auth.logout").code(), StatusCode::kNotFound);
  EXPECT_EQ(store().TouchSession("pub-1", kT0 + 200'000).code(), StatusCode::kNotFound);
  EXPECT_EQ(store().RevokeSession(AdminActor(), "nope", "sessions.revoke").code(), StatusCode::kNotFound);
  EXPECT_OK(store().RevokeSession(AdminActor(), "pub-2", "sessions.expire"));
  EXPECT_THAT(MUST(store().ListSessions(u.id)), IsEmpty());

  // Conflicts and validation.
  ExpectFieldError(store().CreateSession(AdminActor(), SessionSpec(u.id, "pub-1", "cookie-9")),
                   StatusCode::kAlreadyExists, "public_id");
  ExpectFieldError(store().CreateSession(AdminActor(), SessionSpec(u.id, "pub-9", "cookie-1")),
                   StatusCode::kAlreadyExists, "token_sha256");
  ExpectFieldError(store().CreateSession(AdminActor(), SessionSpec(u.id + 100, "pub-9", "cookie-9")),
                   StatusCode::kInvalidArgument, "user_id");
  Session bad = SessionSpec(u.id, "pub-9", "cookie-9");
  bad.token_sha256 = "cookie-9";  // not a hash: a caller passing the raw token by mistake
  ExpectFieldError(store().CreateSession(AdminActor(), bad), StatusCode::kInvalidArgument, "token_sha256");
  bad = SessionSpec(u.id, "", "cookie-9");
  ExpectFieldError(store().CreateSession(AdminActor(), bad), StatusCode::kInvalidArgument, "public_id");
  bad = SessionSpec(u.id, "pub-9", "cookie-9");
  bad.csrf_token = "";
  ExpectFieldError(store().CreateSession(AdminActor(), bad), StatusCode::kInvalidArgument, "csrf_token");

  const auto events = Events();
  EXPECT_THAT(Actions(events), ElementsAre("users.create", "auth.login", "auth.login", "auth.logout",
                                           "sessions.expire"));
  EXPECT_EQ(events[1].object_type, "session");
  EXPECT_EQ(events[1].object_id, "pub-1");
  EXPECT_EQ(Summary(events[1])["after"]["user_id"], u.id);
  EXPECT_EQ(events[3].object_id, "pub-1");
  EXPECT_EQ(Summary(events[3])["after"]["revoked_at_ms"], kT0 + 100'000);
}

TEST_P(AccountStoreConformanceTest, ApiTokensAreCreatedFoundListedAndRevoked) {
  const Unit a = MUST(store().CreateUnit(AdminActor(), UnitSpec("A", "a")));
  const User u = MUST(store().CreateUser(AdminActor(), UserSpec("kai", a.id, {Role::kUnitAdmin})));
  ApiToken spec = TokenSpec(u.id, "ci", "sfa_one", a.id);
  spec.role = Role::kOperator;
  spec.revoked_at_ms = 5;  // ignored
  const ApiToken t1 = MUST(store().CreateApiToken(AdminActor(kT0 + 1), spec));
  EXPECT_GT(t1.id, 0);
  EXPECT_EQ(t1.created_at_ms, kT0 + 1);
  EXPECT_FALSE(t1.revoked_at_ms.has_value());
  EXPECT_FALSE(t1.last_used_ms.has_value());
  const ApiToken t2 = MUST(store().CreateApiToken(AdminActor(kT0 + 2), TokenSpec(u.id, "backup", "sfa_two")));

  const ApiToken found = MUST(store().FindApiTokenByHash(Sha256Hex("sfa_one")));
  EXPECT_EQ(found.id, t1.id);
  EXPECT_EQ(found.name, "ci");
  EXPECT_EQ(found.role, Role::kOperator);
  EXPECT_EQ(found.unit_id, a.id);
  EXPECT_EQ(found.created_by_user_id, u.id);
  EXPECT_EQ(found.expires_at_ms, kT0 + 86'400'000);
  EXPECT_EQ(store().FindApiTokenByHash(Sha256Hex("sfa_unknown")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MUST(store().GetApiToken(t2.id)).name, "backup");
  EXPECT_EQ(store().GetApiToken(t2.id + 100).status().code(), StatusCode::kNotFound);

  auto ids = [](const std::vector<ApiToken>& tokens) {
    std::vector<int64_t> out;
    for (const ApiToken& t : tokens) out.push_back(t.id);
    return out;
  };
  EXPECT_THAT(ids(MUST(store().ListApiTokens(std::nullopt))), ElementsAre(t2.id, t1.id));
  EXPECT_THAT(ids(MUST(store().ListApiTokens(std::vector<int64_t>{a.id}))), ElementsAre(t1.id));
  EXPECT_THAT(ids(MUST(store().ListApiTokens(std::vector<int64_t>{}))), IsEmpty());

  EXPECT_OK(store().TouchApiToken(t1.id, kT0 + 10));
  EXPECT_EQ(MUST(store().GetApiToken(t1.id)).last_used_ms, kT0 + 10);
  EXPECT_OK(store().TouchApiToken(t1.id, kT0 + 30'000));
  EXPECT_EQ(MUST(store().GetApiToken(t1.id)).last_used_ms, kT0 + 10);
  EXPECT_OK(store().TouchApiToken(t1.id, kT0 + 70'000));
  EXPECT_EQ(MUST(store().GetApiToken(t1.id)).last_used_ms, kT0 + 70'000);
  EXPECT_EQ(store().TouchApiToken(t2.id + 100, kT0).code(), StatusCode::kNotFound);

  // One name per creator among live tokens; free again once revoked.
  ExpectFieldError(store().CreateApiToken(AdminActor(), TokenSpec(u.id, "ci", "sfa_three")).status(),
                   StatusCode::kAlreadyExists, "name");
  ExpectFieldError(store().CreateApiToken(AdminActor(), TokenSpec(u.id, "other", "sfa_one")).status(),
                   StatusCode::kAlreadyExists, "token_sha256");
  EXPECT_OK(store().RevokeApiToken(AdminActor(kT0 + 500), t1.id));
  EXPECT_EQ(store().RevokeApiToken(AdminActor(), t1.id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store().RevokeApiToken(AdminActor(), t2.id + 100).code(), StatusCode::kNotFound);
  EXPECT_EQ(store().FindApiTokenByHash(Sha256Hex("sfa_one")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MUST(store().GetApiToken(t1.id)).revoked_at_ms, kT0 + 500);
  EXPECT_EQ(MUST(store().ListApiTokens(std::nullopt)).size(), 2u);  // revoked ones are listed
  EXPECT_OK(store().CreateApiToken(AdminActor(), TokenSpec(u.id, "ci", "sfa_four")).status());

  const auto events = Events();
  EXPECT_THAT(Actions(events), ElementsAre("units.create", "users.create", "tokens.create", "tokens.create",
                                           "tokens.revoke", "tokens.create"));
  EXPECT_EQ(events[2].object_type, "token");
  EXPECT_EQ(events[2].object_id, std::to_string(t1.id));
  EXPECT_EQ(Summary(events[2])["after"]["role"], "operator");
  EXPECT_EQ(events[4].object_id, std::to_string(t1.id));
}

TEST_P(AccountStoreConformanceTest, ApiTokenValidationNamesTheField) {
  const User u = MUST(store().CreateUser(AdminActor(), UserSpec("lena")));
  struct Case {
    std::string label;
    std::function<void(ApiToken&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"empty name", [](ApiToken& t) { t.name = ""; }, "name"},
      {"long name", [](ApiToken& t) { t.name = std::string(101, 'n'); }, "name"},
      {"raw token as hash", [](ApiToken& t) { t.token_sha256 = "sfa_raw"; }, "token_sha256"},
      {"unknown role", [](ApiToken& t) { t.role = static_cast<Role>(17); }, "role"},
      {"expired", [](ApiToken& t) { t.expires_at_ms = kT0; }, "expires_at_ms"},
      {"no expiry", [](ApiToken& t) { t.expires_at_ms = 0; }, "expires_at_ms"},
      {"unknown unit", [](ApiToken& t) { t.unit_id = 999; }, "unit_id"},
      {"unknown creator", [&u](ApiToken& t) { t.created_by_user_id = u.id + 100; }, "created_by_user_id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    ApiToken t = TokenSpec(u.id, "tok", "sfa_secret");
    c.mutate(t);
    ExpectFieldError(store().CreateApiToken(AdminActor(), t).status(), StatusCode::kInvalidArgument, c.field);
  }
  EXPECT_THAT(MUST(store().ListApiTokens(std::nullopt)), IsEmpty());
}

TEST_P(AccountStoreConformanceTest, HostsBelongToTheCentreUntilAssigned) {
  const Unit a = MUST(store().CreateUnit(AdminActor(), UnitSpec("A", "a")));
  const Unit b = MUST(store().CreateUnit(AdminActor(), UnitSpec("B", "b")));
  EXPECT_EQ(MUST(store().HostUnit("a-0001")), kCentreUnitId);
  EXPECT_OK(store().AssignHost(AdminActor(), "a-0001", a.id));
  EXPECT_OK(store().AssignHost(AdminActor(), "a-0002", a.id));
  EXPECT_OK(store().AssignHost(AdminActor(), "a-0003", b.id));
  EXPECT_EQ(MUST(store().HostUnit("a-0001")), a.id);
  EXPECT_THAT(MUST(store().HostsInUnits({a.id})), ElementsAre("a-0001", "a-0002"));
  EXPECT_THAT(MUST(store().HostsInUnits({a.id, b.id})), ElementsAre("a-0001", "a-0002", "a-0003"));
  EXPECT_THAT(MUST(store().HostsInUnits({})), IsEmpty());
  EXPECT_OK(store().AssignHost(AdminActor(), "a-0001", b.id));
  EXPECT_EQ(MUST(store().HostUnit("a-0001")), b.id);
  EXPECT_THAT(MUST(store().HostsInUnits({a.id})), ElementsAre("a-0002"));

  ExpectFieldError(store().AssignHost(AdminActor(), "a-0004", 999), StatusCode::kInvalidArgument, "unit_id");
  ExpectFieldError(store().AssignHost(AdminActor(), "", a.id), StatusCode::kInvalidArgument, "agent_id");
  ExpectFieldError(store().AssignHost(AdminActor(), "has space", a.id), StatusCode::kInvalidArgument, "agent_id");
  EXPECT_EQ(MUST(store().HostUnit("a-0004")), kCentreUnitId);

  const auto events = Events();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[5].action, "hosts.assign");
  EXPECT_EQ(events[5].object_type, "host");
  EXPECT_EQ(events[5].object_id, "a-0001");
  EXPECT_EQ(Summary(events[5])["before"]["unit_id"], a.id);
  EXPECT_EQ(Summary(events[5])["after"]["unit_id"], b.id);
  EXPECT_EQ(Summary(events[2])["before"]["unit_id"], kCentreUnitId);
}

TEST_P(AccountStoreConformanceTest, EveryMutationIsAuditedOnceWithTheActorAndNoSecret) {
  Actor actor;
  actor.type = "token";
  actor.id = "42";
  actor.name = "automation";
  actor.roles = {"unit_admin"};
  actor.unit_id = kCentreUnitId;
  actor.source_address = "203.0.113.5";
  actor.time_ms = kT0 + 3;

  const std::string pw0 = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$first-hash";
  const std::string pw1 = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$second-hash";
  const std::string totp = "JBSWY3DPEHPK3PXPGEZDGNBV";
  const Unit unit = MUST(store().CreateUnit(actor, UnitSpec("Audit", "audit")));
  EXPECT_OK(store().UpdateUnit(actor, unit.id, std::string("Audited"), std::nullopt).status());
  const User u = MUST(store().CreateUser(actor, UserSpec("mia", unit.id, {Role::kOperator}, pw0)));
  UserUpdate upd;
  upd.display_name = "Mia";
  EXPECT_OK(store().UpdateUser(actor, u.id, upd).status());
  const Session s = SessionSpec(u.id, "pub-mia", "cookie-secret-mia");
  EXPECT_OK(store().CreateSession(actor, s));
  EXPECT_OK(store().SetPassword(actor, u.id, pw1, false, 5, "auth.change_password", "pub-mia"));
  EXPECT_OK(store().SetTotp(actor, u.id, totp, true));
  const ApiToken t = TokenSpec(u.id, "ci", "sfa_secret_mia");
  const ApiToken created = MUST(store().CreateApiToken(actor, t));
  EXPECT_OK(store().RevokeApiToken(actor, created.id));
  EXPECT_OK(store().AssignHost(actor, "a-mia", unit.id));
  EXPECT_OK(store().RevokeSession(actor, "pub-mia", "auth.logout"));
  UserUpdate disable;
  disable.active = false;
  EXPECT_OK(store().UpdateUser(actor, u.id, disable).status());
  // Not audited:
  EXPECT_OK(store().SaveLoginState(u.id, 1, 0, kT0));
  EXPECT_OK(store().SaveTotpStep(u.id, 7));
  EXPECT_OK(store().TouchApiToken(created.id, kT0 + 100'000));

  const auto events = Events();
  EXPECT_THAT(Actions(events),
              ElementsAre("units.create", "units.update", "users.create", "users.update", "auth.login",
                          "auth.change_password", "users.totp", "tokens.create", "tokens.revoke", "hosts.assign",
                          "auth.logout", "users.disable"));
  const std::vector<std::string> secrets = {pw0,
                                            pw1,
                                            "first-hash",
                                            "second-hash",
                                            totp,
                                            s.token_sha256,
                                            "cookie-secret-mia",
                                            s.csrf_token,
                                            t.token_sha256,
                                            "sfa_secret_mia"};
  for (const audit::AuditEvent& e : events) {
    SCOPED_TRACE(e.action);
    EXPECT_EQ(e.time_ms, kT0 + 3);
    EXPECT_EQ(e.actor_type, "token");
    EXPECT_EQ(e.actor_id, "42");
    EXPECT_EQ(e.actor_name, "automation");
    EXPECT_THAT(e.roles, ElementsAre("unit_admin"));
    EXPECT_EQ(e.unit_id, kCentreUnitId);
    EXPECT_EQ(e.source_address, "203.0.113.5");
    EXPECT_EQ(e.result, audit::AuditResult::kOk);
    EXPECT_FALSE(e.object_type.empty());
    EXPECT_FALSE(e.object_id.empty());
    const nlohmann::json summary = nlohmann::json::parse(e.summary_json, nullptr, false);
    ASSERT_TRUE(summary.is_object()) << e.summary_json;
    EXPECT_TRUE(summary.contains("after")) << e.summary_json;
    for (const std::string& secret : secrets) {
      EXPECT_EQ(e.summary_json.find(secret), std::string::npos) << "summary leaks a secret: " << e.summary_json;
      EXPECT_EQ(e.object_id.find(secret), std::string::npos);
    }
    EXPECT_EQ(e.summary_json.find("hash"), std::string::npos) << e.summary_json;
  }
}

TEST_P(AccountStoreConformanceTest, MutationsNeedTheActorsTime) {
  Actor no_time = AdminActor(0);
  EXPECT_EQ(store().CreateUnit(no_time, UnitSpec("A", "a")).status().code(), StatusCode::kInternal);
  EXPECT_EQ(store().CreateUser(no_time, UserSpec("nora")).status().code(), StatusCode::kInternal);
  EXPECT_EQ(MUST(store().ListUnits()).size(), 1u);
  EXPECT_THAT(Events(), IsEmpty());
}

}  // namespace
}  // namespace steadfast::collector::accounts::testing
