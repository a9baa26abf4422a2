#include "common/config/config_node.h"

#include <gtest/gtest.h>

namespace steadfast::config {
namespace {

ConfigDocument MustParse(const std::string& text) {
  auto doc = ConfigDocument::Parse(text, "agent.yaml");
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return *doc;
}

TEST(ConfigNodeTest, ReadsTypedValues) {
  ConfigDocument doc = MustParse(
      "collector_url: http://127.0.0.1:8080\n"
      "uplink:\n"
      "  batch_size: 500\n"
      "  interval: 5s\n"
      "  compress: yes\n"
      "  ratio: 0.5\n"
      "tags: [a, b]\n");
  const ConfigNode& root = doc.root();
  EXPECT_EQ(*root["collector_url"].String(), "http://127.0.0.1:8080");
  EXPECT_EQ(*root["uplink"]["batch_size"].Int(1), 500);
  EXPECT_EQ(*root["uplink"]["interval"].DurationMillis(0), 5000);
  EXPECT_TRUE(*root["uplink"]["compress"].Bool(false));
  EXPECT_DOUBLE_EQ(*root["uplink"]["ratio"].Double(0), 0.5);
  EXPECT_EQ(*root["missing"].Int(42), 42);
  EXPECT_EQ(root["tags"].StringList()->size(), 2u);
  EXPECT_FALSE(root["missing"].present());
}

TEST(ConfigNodeTest, ErrorsNameFileLineAndKey) {
  ConfigDocument doc = MustParse(
      "checks:\n"
      "  - name: disk\n"
      "    interval: often\n");
  auto items = doc.root()["checks"].Items();
  ASSERT_TRUE(items.ok());
  auto d = (*items)[0]["interval"].DurationMillis(1000);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("agent.yaml:3: checks[0].interval:"), std::string::npos)
      << d.status().message();
  EXPECT_NE(d.status().message().find("'often'"), std::string::npos);
}

TEST(ConfigNodeTest, UnknownKeysAreErrors) {
  ConfigDocument doc = MustParse("uplink:\n  batch_size: 5\n  intervall: 5s\n");
  Status s = doc.root()["uplink"].CheckNoUnknownKeys({"batch_size", "interval"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("agent.yaml:3: uplink.intervall: unknown key"), std::string::npos) << s.message();
}

TEST(ConfigNodeTest, RangeAndTypeErrors) {
  ConfigDocument doc = MustParse("a: 5000000\nb: [1]\nc: maybe\nd: x\n");
  EXPECT_NE(doc.root()["a"].Int(0, 1, 100).status().message().find("between 1 and 100"), std::string::npos);
  EXPECT_FALSE(doc.root()["b"].String().ok());
  EXPECT_FALSE(doc.root()["c"].Bool(false).ok());
  EXPECT_FALSE(doc.root()["d"].Enum({"text", "json"}, "text").ok());
  EXPECT_FALSE(doc.root()["missing"].RequiredString().ok());
}

TEST(ConfigNodeTest, SyntaxErrorsNameLineAndColumn) {
  auto doc = ConfigDocument::Parse("a: 1\nb: [unclosed\n", "bad.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().message().rfind("bad.yaml:", 0), 0u) << doc.status().message();
}

TEST(ConfigNodeTest, TopLevelMustBeMapping) {
  EXPECT_FALSE(ConfigDocument::Parse("- a\n- b\n", "x.yaml").ok());
  EXPECT_TRUE(ConfigDocument::Parse("", "empty.yaml").ok());
}

TEST(ConfigNodeTest, LoadMissingFileIsNotFound) {
  EXPECT_EQ(ConfigDocument::Load("/nonexistent/steadfast.yaml").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace steadfast::config
