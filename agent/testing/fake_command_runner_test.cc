#include "agent/testing/fake_command_runner.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "agent/testing/command_runner_conformance.h"

namespace steadfast::agent::testing {
namespace {

using std::chrono::milliseconds;

INSTANTIATE_TEST_SUITE_P(Fake, CommandRunnerConformance, ::testing::Values(&NewFakeRunnerHarness));

CommandRequest Request(std::vector<std::string> argv) {
  CommandRequest r;
  r.argv = std::move(argv);
  return r;
}

TEST(FakeCommandRunnerTest, RecordsEveryCallIncludingFailedOnes) {
  FakeCommandRunner fake;
  fake.Script({"/usr/sbin/smartctl", "--scan"}, {0, 0, "/dev/sda -d sat\n", "", {}, false});
  ASSERT_TRUE(fake.Run(Request({"smartctl", "--scan"})).ok());
  EXPECT_FALSE(fake.Run(Request({"apt-get", "-s", "upgrade"})).ok());
  EXPECT_EQ(fake.call_count(), 2u);
  EXPECT_EQ(fake.call_lines(),
            (std::vector<std::string>{"smartctl --scan", "apt-get -s upgrade"}));
  EXPECT_EQ(fake.calls()[0].timeout, milliseconds(10'000));
}

TEST(FakeCommandRunnerTest, ExactArgvWinsOverTheProgramsBehaviour) {
  FakeCommandRunner fake;
  fake.AddProgram("/bin/echo", [](const CommandRequest&, const auto&) {
    return FakeOutcome{0, 0, "generic\n", "", {}, false};
  });
  fake.Script({"/bin/echo", "special"}, {0, 0, "scripted\n", "", {}, false});
  EXPECT_EQ(fake.Run(Request({"/bin/echo", "special"}))->out, "scripted\n");
  EXPECT_EQ(fake.Run(Request({"/bin/echo", "other"}))->out, "generic\n");
}

TEST(FakeCommandRunnerTest, ScriptedForOtherArgumentsOnlyIsAGapNotAMissingProgram) {
  FakeCommandRunner fake;
  fake.Script({"/usr/sbin/smartctl", "--scan"}, {});
  auto r = fake.Run(Request({"/usr/sbin/smartctl", "-a", "/dev/sda"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("smartctl -a /dev/sda"), std::string::npos);
}

TEST(FakeCommandRunnerTest, ScriptedErrorsAreReturned) {
  FakeCommandRunner fake;
  fake.ScriptError({"/bin/ps"}, InternalError("fork: out of memory"));
  auto r = fake.Run(Request({"ps"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(FakeCommandRunnerTest, NonExecutableEarlierInThePathIsSkippedLikeExecvp) {
  FakeCommandRunner fake;
  fake.AddNonExecutable("/usr/local/bin/tool");
  fake.AddProgram("/usr/bin/tool", [](const CommandRequest&, const auto&) {
    return FakeOutcome{0, 0, "usr-bin\n", "", {}, false};
  });
  EXPECT_EQ(fake.Run(Request({"tool"}))->out, "usr-bin\n");
  FakeCommandRunner only_denied;
  only_denied.AddNonExecutable("/usr/bin/tool");
  EXPECT_EQ(only_denied.Run(Request({"tool"})).status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace steadfast::agent::testing
