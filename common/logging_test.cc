#include "common/logging.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace steadfast {
namespace {

// Logging is process-wide: every test restores the default (text, info).
class LoggingTest : public ::testing::Test {
 protected:
  void TearDown() override { ASSERT_TRUE(InitLogging(LogOptions{}).ok()); }
};

TEST_F(LoggingTest, RejectsUnknownLevelsAndFormats) {
  Status st = InitLogging(LogOptions{.level = "verbose"});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("unknown log level 'verbose'"), std::string::npos);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
}

TEST_F(LoggingTest, TextLineHasTimestampLevelComponentAndMessage) {
  ASSERT_TRUE(InitLogging(LogOptions{.level = "info", .component = "steadfast-test"}).ok());
  ::testing::internal::CaptureStderr();
  SF_LOG_WARN("disk {} is {}% full", "/var", 93);
  SF_LOG_DEBUG("not shown at level info");
  std::string out = ::testing::internal::GetCapturedStderr();
  // "2026-11-29T14:07:35.661Z warning steadfast-test: ..." (std::regex trips GCC 12's
  // -Wmaybe-uninitialized under ASan, hence the character classes by hand).
  const std::string pattern = "dddd-dd-ddTdd:dd:dd.dddZ";
  ASSERT_GT(out.size(), pattern.size()) << out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == 'd') {
      EXPECT_TRUE(out[i] >= '0' && out[i] <= '9') << out;
    } else {
      EXPECT_EQ(out[i], pattern[i]) << out;
    }
  }
  EXPECT_EQ(out.substr(pattern.size()), " warning steadfast-test: disk /var is 93% full\n");
}

TEST_F(LoggingTest, TextLineBreaksInMessagesAreEscaped) {
  ::testing::internal::CaptureStderr();
  SF_LOG_INFO("plugin said: {}", "line one\n2026-01-01T00:00:00.000Z error forged: line two");
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  EXPECT_NE(out.find("line one\\n2026"), std::string::npos) << out;
}

TEST_F(LoggingTest, LevelFiltersAndOffSilences) {
  ASSERT_TRUE(InitLogging(LogOptions{.level = "error"}).ok());
  ::testing::internal::CaptureStderr();
  SF_LOG_INFO("hidden");
  SF_LOG_WARN("hidden");
  SF_LOG_ERROR("shown");
  EXPECT_EQ(::testing::internal::GetCapturedStderr().find("hidden"), std::string::npos);
  ASSERT_TRUE(InitLogging(LogOptions{.level = "off"}).ok());
  ::testing::internal::CaptureStderr();
  SF_LOG_ERROR("nothing at all");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(InitLogging(LogOptions{.level = "debug"}).ok());
  ::testing::internal::CaptureStderr();
  SF_LOG_DEBUG("now shown");
  EXPECT_NE(::testing::internal::GetCapturedStderr().find(" debug "), std::string::npos);
}

TEST_F(LoggingTest, JsonLinesAreValidJsonEvenForInvalidUtf8) {
  ASSERT_TRUE(
      InitLogging(LogOptions{.format = LogFormat::kJson, .component = "steadfast-agent"}).ok());
  ::testing::internal::CaptureStderr();
  SF_LOG_INFO("device said \"{}\"", std::string("bad \xff byte\nand a newline"));
  std::string out = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "one event, one line";
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["component"], "steadfast-agent");
  EXPECT_NE(j["msg"].get<std::string>().find("and a newline"), std::string::npos);
  EXPECT_TRUE(j["ts"].is_string());
}

}  // namespace
}  // namespace steadfast
