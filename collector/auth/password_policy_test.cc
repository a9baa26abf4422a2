#include "collector/auth/password_policy.h"

#include <gtest/gtest.h>

#include <set>

#include "collector/auth/fake_secure_random.h"
#include "common/config/config_node.h"

namespace steadfast::collector::auth {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;

std::vector<std::string> Rules(const std::vector<PasswordViolation>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.rule);
  return out;
}

using Strings = std::vector<std::string>;

TEST(PasswordPresetTest, NumbersMatchTheDocumentedTable) {
  PasswordPolicy basic = PasswordPolicy::FromPreset(PasswordPreset::kBasic);
  EXPECT_EQ(basic.min_length, 8);
  EXPECT_EQ(basic.min_classes, 1);
  EXPECT_EQ(basic.history, 1);
  EXPECT_EQ(basic.max_age_ms, 0);
  PasswordPolicy mlps2 = PasswordPolicy::FromPreset(PasswordPreset::kMlps2);
  EXPECT_EQ(mlps2.min_length, 8);
  EXPECT_EQ(mlps2.min_classes, 3);
  EXPECT_EQ(mlps2.history, 3);
  EXPECT_EQ(mlps2.max_age_ms, 90 * kDay);
  PasswordPolicy mlps3 = PasswordPolicy::FromPreset(PasswordPreset::kMlps3);
  EXPECT_EQ(mlps3.min_length, 10);
  EXPECT_EQ(mlps3.min_classes, 3);
  EXPECT_EQ(mlps3.history, 5);
  EXPECT_EQ(mlps3.max_age_ms, 90 * kDay);
  for (auto p : {basic, mlps2, mlps3}) EXPECT_TRUE(p.Validate().ok()) << PasswordPresetName(p.preset);
  EXPECT_EQ(ParsePasswordPreset("mlps3"), PasswordPreset::kMlps3);
  EXPECT_EQ(ParsePasswordPreset("MLPS3"), std::nullopt);
}

TEST(PasswordPolicyTest, AcceptsGoodPasswords) {
  PasswordPolicy mlps3 = PasswordPolicy::FromPreset(PasswordPreset::kMlps3);
  EXPECT_TRUE(mlps3.Validate("Tr0ub4dor&3x", "zhangsan", "Zhang San").ok());
  EXPECT_TRUE(mlps3.Validate("correct horse 9 Battery", "zhangsan", "").ok());
  PasswordPolicy basic = PasswordPolicy::FromPreset(PasswordPreset::kBasic);
  EXPECT_TRUE(basic.Validate("correcthorsebatterystaple", "", "").ok());
}

TEST(PasswordPolicyTest, LengthCountsCodePointsNotBytes) {
  PasswordPolicy basic = PasswordPolicy::FromPreset(PasswordPreset::kBasic);
  // 7 Chinese characters are 21 bytes but 7 characters: too short.
  auto v = basic.Check("安全生产信息系", "", "");
  EXPECT_EQ(Rules(v), Strings{"min_length"});
  EXPECT_EQ(v[0].message, "must be at least 8 characters long (has 7)");
  EXPECT_TRUE(basic.Validate("安全生产信息系统", "", "").ok());
}

TEST(PasswordPolicyTest, CharacterClasses) {
  PasswordPolicy p = PasswordPolicy::FromPreset(PasswordPreset::kMlps2);
  EXPECT_EQ(Rules(p.Check("abcdefghij", "", "")), Strings{"classes"});
  EXPECT_EQ(Rules(p.Check("abcdeFGHIJ", "", "")), Strings{"classes"});
  EXPECT_TRUE(p.Check("abcdeFGH12", "", "").empty());
  EXPECT_TRUE(p.Check("abcdefgh1!", "", "").empty());
  EXPECT_TRUE(p.Check("ABCDEFGH1 ", "", "").empty());  // a space is a symbol
  // Non-ASCII characters count as symbols.
  EXPECT_TRUE(p.Check("密码abcd1234", "", "").empty());
  p.min_classes = 4;
  auto v = p.Check("abcdeFGH12", "", "");
  ASSERT_EQ(Rules(v), Strings{"classes"});
  EXPECT_EQ(v[0].message,
            "must contain at least 4 of: lowercase letters, uppercase letters, digits, symbols (has 3)");
  EXPECT_TRUE(p.Check("abcdeFGH1#", "", "").empty());
}

TEST(PasswordPolicyTest, ListsEveryBrokenRuleInTheMessage) {
  PasswordPolicy p = PasswordPolicy::FromPreset(PasswordPreset::kMlps3);
  Status st = p.Validate("wangwu1", "wangwu", "Wang Wu");
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "password: must be at least 10 characters long (has 7); must contain at least 3 of: lowercase "
            "letters, uppercase letters, digits, symbols (has 2); must not contain the username; must not "
            "contain the user's name");
  EXPECT_EQ(Rules(p.Check("wangwu1", "wangwu", "Wang Wu")),
            (Strings{"min_length", "classes", "username", "display_name"}));
}

TEST(PasswordPolicyTest, NamesAreComparedCaseInsensitively) {
  PasswordPolicy p = PasswordPolicy::FromPreset(PasswordPreset::kMlps2);
  EXPECT_EQ(Rules(p.Check("xxZHANGSANxx1!", "zhangsan", "")), Strings{"username"});
  EXPECT_EQ(Rules(p.Check("Li#2024abcdef", "li", "")), Strings{});  // names under 3 bytes are not checked
  EXPECT_EQ(Rules(p.Check("Qiang#2024xy", "wq", "Wang Qiang")), Strings{"display_name"});
  EXPECT_EQ(Rules(p.Check("Wang.Qiang#1", "", "")), Strings{});
  EXPECT_EQ(Rules(p.Check("我是张三Abc1", "", "张三")), Strings{"display_name"});
}

TEST(PasswordPolicyTest, EncodingAndLengthLimits) {
  PasswordPolicy p = PasswordPolicy::FromPreset(PasswordPreset::kBasic);
  EXPECT_EQ(Rules(p.Check("abc\xff" "defgh", "", "")), Strings{"encoding"});
  EXPECT_EQ(Rules(p.Check("abc\xc0\xaf" "defgh", "", "")), Strings{"encoding"});          // overlong '/'
  EXPECT_EQ(Rules(p.Check("abc\xed\xa0\x80" "defgh", "", "")), Strings{"encoding"});      // surrogate
  EXPECT_EQ(Rules(p.Check("abcdefgh\xe5\xaf", "", "")), Strings{"encoding"});              // truncated
  EXPECT_EQ(Rules(p.Check("abcd\nefgh", "", "")), Strings{"encoding"});
  EXPECT_EQ(Rules(p.Check(std::string("abcd\0efgh", 9), "", "")), Strings{"encoding"});
  EXPECT_EQ(Rules(p.Check(std::string(128, 'a'), "", "")), Strings{});
  EXPECT_EQ(Rules(p.Check(std::string(129, 'a'), "", "")), Strings{"max_length"});
}

TEST(PasswordPolicyTest, ExpiryIsExactAtMaxAge) {
  PasswordPolicy p = PasswordPolicy::FromPreset(PasswordPreset::kMlps2);
  const int64_t changed = 1'790'000'000'000;
  EXPECT_EQ(p.ExpiresAtMs(changed), changed + 90 * kDay);
  EXPECT_FALSE(p.IsExpired(changed, changed));
  EXPECT_FALSE(p.IsExpired(changed, changed + 90 * kDay - 1));
  EXPECT_TRUE(p.IsExpired(changed, changed + 90 * kDay));
  EXPECT_TRUE(p.IsExpired(0, changed));  // never set
  PasswordPolicy basic = PasswordPolicy::FromPreset(PasswordPreset::kBasic);
  EXPECT_EQ(basic.ExpiresAtMs(changed), std::nullopt);
  EXPECT_FALSE(basic.IsExpired(0, changed + 10000 * kDay));
}

TEST(PasswordPolicyTest, ReusesHistoryChecksTheConfiguredDepthOnly) {
  testing::FakeSecureRandom random(3);
  Argon2Options fast;
  fast.memory_kib = 64;
  fast.iterations = 1;
  fast.parallelism = 1;
  PasswordHasher hasher(fast, random);
  // Newest first: current, then older ones.
  std::vector<std::string> history;
  for (const char* pw : {"Current#1", "Older#2", "", "Oldest#4"}) history.push_back(*pw ? hasher.Hash(pw).value() : "");
  PasswordPolicy p = PasswordPolicy::FromPreset(PasswordPreset::kMlps2);  // history 3
  EXPECT_TRUE(p.ReusesHistory("Current#1", history, hasher).value());
  EXPECT_TRUE(p.ReusesHistory("Older#2", history, hasher).value());
  EXPECT_FALSE(p.ReusesHistory("Oldest#4", history, hasher).value());  // 4th entry: beyond depth 3
  EXPECT_FALSE(p.ReusesHistory("Brand#New5", history, hasher).value());
  p.history = 4;
  EXPECT_TRUE(p.ReusesHistory("Oldest#4", history, hasher).value());
  p.history = 0;
  EXPECT_FALSE(p.ReusesHistory("Current#1", history, hasher).value());

  p.history = 3;
  history[1] = "$argon2id$damaged";
  auto st = p.ReusesHistory("Anything#9", history, hasher).status();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("entry 1"), std::string::npos) << st.message();
  // A match before the damaged entry is still found.
  EXPECT_TRUE(p.ReusesHistory("Current#1", history, hasher).value());
}

TEST(PasswordPolicyTest, ValidateRefusesValuesLooserThanThePreset) {
  auto check = [](PasswordPreset preset, auto change) {
    PasswordPolicy p = PasswordPolicy::FromPreset(preset);
    change(p);
    return p.Validate();
  };
  Status st = check(PasswordPreset::kMlps3, [](PasswordPolicy& p) { p.min_length = 8; });
  EXPECT_EQ(st.message(), "min_length 8 is below preset mlps3's 10");
  EXPECT_FALSE(check(PasswordPreset::kMlps2, [](PasswordPolicy& p) { p.min_classes = 2; }).ok());
  EXPECT_FALSE(check(PasswordPreset::kMlps3, [](PasswordPolicy& p) { p.history = 4; }).ok());
  EXPECT_FALSE(check(PasswordPreset::kMlps2, [](PasswordPolicy& p) { p.max_age_ms = 0; }).ok());
  EXPECT_FALSE(check(PasswordPreset::kMlps2, [](PasswordPolicy& p) { p.max_age_ms = 91 * kDay; }).ok());
  EXPECT_FALSE(check(PasswordPreset::kBasic, [](PasswordPolicy& p) { p.min_length = 6; }).ok());
  EXPECT_FALSE(check(PasswordPreset::kBasic, [](PasswordPolicy& p) { p.max_age_ms = 3600'000; }).ok());
  EXPECT_FALSE(check(PasswordPreset::kBasic, [](PasswordPolicy& p) { p.max_length = 7; }).ok());
  EXPECT_FALSE(check(PasswordPreset::kBasic, [](PasswordPolicy& p) { p.min_classes = 5; }).ok());
  // Stricter is fine.
  EXPECT_TRUE(check(PasswordPreset::kMlps3, [](PasswordPolicy& p) {
                p.min_length = 14;
                p.min_classes = 4;
                p.history = 10;
                p.max_age_ms = 30 * kDay;
              }).ok());
  EXPECT_TRUE(check(PasswordPreset::kBasic, [](PasswordPolicy& p) { p.max_age_ms = 365 * kDay; }).ok());
}

StatusOr<PasswordPolicy> ParseYaml(const std::string& yaml) {
  SF_ASSIGN_OR_RETURN(auto doc, config::ConfigDocument::Parse(yaml, "collector.yaml"));
  return ParsePasswordPolicy(doc.root()["password_policy"]);
}

TEST(PasswordPolicyConfigTest, PresetWithOverrides) {
  auto p = ParseYaml("password_policy: {preset: mlps3, min_length: 12}\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->preset, PasswordPreset::kMlps3);
  EXPECT_EQ(p->min_length, 12);
  EXPECT_EQ(p->history, 5);
  EXPECT_EQ(p->max_age_ms, 90 * kDay);

  p = ParseYaml(
      "password_policy:\n"
      "  preset: basic\n"
      "  min_classes: 2\n"
      "  max_length: 64\n"
      "  history: 2\n"
      "  max_age: 180d\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->min_classes, 2);
  EXPECT_EQ(p->max_length, 64);
  EXPECT_EQ(p->history, 2);
  EXPECT_EQ(p->max_age_ms, 180 * kDay);
}

TEST(PasswordPolicyConfigTest, AbsentMeansMlps2) {
  auto p = ParseYaml("other: 1\n");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->preset, PasswordPreset::kMlps2);
  EXPECT_EQ(p->min_length, 8);
}

TEST(PasswordPolicyConfigTest, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(ParseYaml("password_policy:\n  preset: mlps3\n  min_lenght: 12\n").status().message(),
            "collector.yaml:3: password_policy.min_lenght: unknown key (known keys here: preset, min_length, "
            "max_length, min_classes, history, max_age)");
  EXPECT_EQ(ParseYaml("password_policy:\n  preset: mlps3\n  min_length: 8\n").status().message(),
            "collector.yaml:3: password_policy.min_length: min_length 8 is below preset mlps3's 10");
  EXPECT_EQ(ParseYaml("password_policy:\n  preset: mlps4\n").status().message(),
            "collector.yaml:2: password_policy.preset: must be one of basic, mlps2, mlps3, got 'mlps4'");
  EXPECT_EQ(ParseYaml("password_policy:\n  preset: mlps2\n\n  max_age: 0\n").status().message(),
            "collector.yaml:4: password_policy.max_age: max_age must be at most preset mlps2's 90d (0, never, is not "
            "allowed)");
  EXPECT_EQ(ParseYaml("password_policy:\n  min_length: eight\n").status().message(),
            "collector.yaml:2: password_policy.min_length: expected an integer, got 'eight'");
  EXPECT_EQ(ParseYaml("password_policy:\n  preset: basic\n  max_age: 2h\n").status().message(),
            "collector.yaml:3: password_policy.max_age: max_age must be 0 (never) or at least 1d");
  EXPECT_EQ(ParseYaml("password_policy: strict\n").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace steadfast::collector::auth

namespace steadfast::collector::auth {
namespace {

TEST(TemporaryPasswordTest, SatisfiesThePolicyIncludingNames) {
  testing::FakeSecureRandom random(11);
  PasswordPolicy p = PasswordPolicy::FromPreset(PasswordPreset::kMlps3);
  p.min_classes = 4;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string pw = GenerateTemporaryPassword(p, "abc", "Xyz Q", random);
    EXPECT_EQ(pw.size(), 16u);
    EXPECT_TRUE(p.Validate(pw, "abc", "Xyz Q").ok()) << pw;
    EXPECT_EQ(pw.find_first_of("0O1lI"), std::string::npos) << pw;
    seen.insert(pw);
  }
  EXPECT_EQ(seen.size(), 200u);
  p.min_length = 24;
  p.max_length = 24;
  EXPECT_EQ(GenerateTemporaryPassword(p, "", "", random).size(), 24u);
}

}  // namespace
}  // namespace steadfast::collector::auth
