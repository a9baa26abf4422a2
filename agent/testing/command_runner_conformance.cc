#include "agent/testing/command_runner_conformance.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "agent/posix_command_runner.h"
#include "agent/testing/fake_command_runner.h"
#include "agent/testing/test_util.h"

namespace steadfast::agent::testing {
namespace {

using std::chrono::milliseconds;
using Argv = std::vector<std::string>;

// The shell programs the suite runs. The fake harness describes each one as a FakeOutcome;
// the real runner runs them.
const Argv kExitThree = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
const Argv kSelfKill = {"/bin/sh", "-c", "echo dying; kill -KILL $$"};
const Argv kFlood = {"/bin/sh", "-c",
                     "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2; exit 7"};
// A grandchild in the group keeps stdout open; the shell waits for it.
const Argv kSleepyGroup = {"/bin/sh", "-c", "sleep 30 & echo $!; wait"};
// The same, but the shell and (inherited) its sleep ignore SIGTERM: only SIGKILL ends them.
const Argv kStubbornGroup = {"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"};
const Argv kStartedThenSleeps = {"/bin/sh", "-c", "echo started; exec sleep 30"};

std::string JoinArgs(const CommandRequest& r) {
  std::string s;
  for (size_t i = 1; i < r.argv.size(); ++i) s += (i > 1 ? " " : "") + r.argv[i];
  return s;
}

class PosixHarness final : public CommandRunnerHarness {
 public:
  CommandRunner& runner() override { return runner_; }
  bool real_processes() const override { return true; }
  void NoteNonExecutable(const std::string&) override {}

 private:
  PosixCommandRunner runner_;
};

class FakeHarness final : public CommandRunnerHarness {
 public:
  FakeHarness() {
    FakeBehaviour echo = [](const CommandRequest& r, const auto&) {
      return FakeOutcome{0, 0, JoinArgs(r) + "\n", "", {}, false};
    };
    fake_.AddProgram("/bin/echo", echo);
    fake_.AddProgram("/usr/bin/echo", echo);
    fake_.AddProgram("/bin/cat", [](const CommandRequest& r, const auto&) {
      return FakeOutcome{0, 0, r.stdin_data.value_or(""), "", {}, false};
    });
    fake_.AddProgram("/bin/true", [](const CommandRequest&, const auto&) { return FakeOutcome{}; });
    fake_.AddProgram("/bin/pwd", [](const CommandRequest& r, const auto&) {
      return FakeOutcome{0, 0, r.working_dir + "\n", "", {}, false};
    });
    fake_.AddProgram("/usr/bin/env",
                     [](const CommandRequest&, const std::map<std::string, std::string>& env) {
                       std::string out;
                       for (const auto& [k, v] : env) out += k + "=" + v + "\n";
                       return FakeOutcome{0, 0, out, "", {}, false};
                     });
    fake_.Script(kExitThree, {3, 0, "out\n", "err\n", {}, false});
    fake_.Script(kSelfKill, {0, SIGKILL, "dying\n", "", {}, false});
    fake_.Script(kFlood,
                 {7, 0, std::string(3'000'000, '\0'), std::string(3'000'000, '\0'), {}, false});
    fake_.Script(kSleepyGroup, {0, 0, "4242\n", "", milliseconds(30'000), false});
    fake_.Script(kStubbornGroup, {0, 0, "4243\n", "", milliseconds(30'000), true});
    fake_.Script(kStartedThenSleeps, {0, 0, "started\n", "", milliseconds(30'000), false});
  }
  CommandRunner& runner() override { return fake_; }
  bool real_processes() const override { return false; }
  void NoteNonExecutable(const std::string& path) override { fake_.AddNonExecutable(path); }

 private:
  FakeCommandRunner fake_;
};

CommandRequest Request(Argv argv, milliseconds timeout = milliseconds(10'000)) {
  CommandRequest r;
  r.argv = std::move(argv);
  r.timeout = timeout;
  return r;
}

// True once `pid` is gone or a zombie (killed, waiting for init to reap it).
bool ProcessGone(const std::string& pid_text, milliseconds within) {
  const std::string stat_path = "/proc/" + pid_text + "/stat";
  const auto until = std::chrono::steady_clock::now() + within;
  while (true) {
    std::ifstream in(stat_path);
    std::string stat;
    if (!in || !std::getline(in, stat)) return true;
    auto paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z') {
      return true;
    }
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

TEST_P(CommandRunnerConformance, CapturesStdoutOfAnAbsolutePath) {
  auto r = runner().Run(Request({"/bin/echo", "hello", "world"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "hello world\n");
  EXPECT_EQ(r->err, "");
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->out_truncated);
}

TEST_P(CommandRunnerConformance, BareNamesAreLookedUpInTheFixedPathOnly) {
  auto r = runner().Run(Request({"echo", "from", "path"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "from path\n");

  // An executable that only the agent's own $PATH would find is not found.
  TempDir dir;
  const std::string probe = dir.path() + "/steadfast-path-probe";
  {
    std::ofstream f(probe);
    f << "#!/bin/sh\necho found\n";
  }
  ASSERT_EQ(::chmod(probe.c_str(), 0755), 0);
  const char* old_path = std::getenv("PATH");
  const std::string saved = old_path != nullptr ? old_path : "";
  ::setenv("PATH", (dir.path() + ":" + saved).c_str(), 1);
  auto probe_run = runner().Run(Request({"steadfast-path-probe"}));
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_FALSE(probe_run.ok());
  EXPECT_EQ(probe_run.status().code(), StatusCode::kNotFound) << probe_run.status().ToString();
}

TEST_P(CommandRunnerConformance, ReportsExitCodeAndStderrSeparately) {
  auto r = runner().Run(Request(kExitThree));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_FALSE(r->timed_out);
}

TEST_P(CommandRunnerConformance, ReportsTheSignalThatEndedTheProgram) {
  auto r = runner().Run(Request(kSelfKill));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_EQ(r->out, "dying\n");
  EXPECT_FALSE(r->timed_out);
}

TEST_P(CommandRunnerConformance, MissingProgramIsNotFound) {
  for (const Argv& argv : {Argv{"/nonexistent/steadfast-no-such-program", "-x"},
                           Argv{"steadfast-no-such-program"}}) {
    auto r = runner().Run(Request(argv));
    ASSERT_FALSE(r.ok()) << argv[0];
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  }
}

TEST_P(CommandRunnerConformance, NonExecutableFileIsPermissionDenied) {
  TempDir dir;
  const std::string script = dir.path() + "/not-executable";
  {
    std::ofstream f(script);
    f << "#!/bin/sh\necho ran\n";
  }
  ASSERT_EQ(::chmod(script.c_str(), 0644), 0);
  harness_->NoteNonExecutable(script);
  auto r = runner().Run(Request({script}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
}

TEST_P(CommandRunnerConformance, RequestsNoRunnerMayRunAreInvalid) {
  for (const Argv& argv : {Argv{}, Argv{""}, Argv{"bin/echo", "relative"}}) {
    auto r = runner().Run(Request(argv));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  }
  CommandRequest bad_env = Request({"/bin/echo"});
  bad_env.env["A=B"] = "c";
  auto r = runner().Run(bad_env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(CommandRunnerConformance, StdinIsEmptyUnlessDataIsGiven) {
  auto empty = runner().Run(Request({"/bin/cat"}, milliseconds(5'000)));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->out, "");
  EXPECT_EQ(empty->exit_code, 0);
  EXPECT_FALSE(empty->timed_out);  // cat saw EOF at once, it did not wait for input

  // More than a pipe holds: written while the output is read.
  std::string data;
  for (int i = 0; data.size() < 300'000; ++i) data += "line " + std::to_string(i) + "\n";
  CommandRequest req = Request({"/bin/cat"});
  req.stdin_data = data;
  auto r = runner().Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out.size(), data.size());
  EXPECT_TRUE(r->out == data);
  EXPECT_EQ(r->exit_code, 0);
}

TEST_P(CommandRunnerConformance, StdinForAProgramThatDoesNotReadIt) {
  CommandRequest req = Request({"/bin/true"});
  req.stdin_data = std::string(1 << 20, 'x');
  auto r = runner().Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);  // and the agent was not killed by SIGPIPE
}

TEST_P(CommandRunnerConformance, EnvironmentIsMinimal) {
  ::setenv("STEADFAST_TEST_AGENT_TOKEN", "secret-token", 1);
  ::setenv("HOME", "/root", 0);
  ::setenv("http_proxy", "http://proxy.invalid:3128", 1);
  CommandRequest req = Request({"/usr/bin/env"});
  req.env["PLUGIN_OPTION"] = "value with spaces";
  auto r = runner().Run(req);
  ::unsetenv("STEADFAST_TEST_AGENT_TOKEN");
  ::unsetenv("http_proxy");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<std::string> lines;
  std::istringstream in(r->out);
  for (std::string line; std::getline(in, line);) lines.insert(line);
  std::set<std::string> expected = {
      std::string("PATH=") + kCommandPath, "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
      "PLUGIN_OPTION=value with spaces"};
  EXPECT_EQ(lines, expected) << r->out;
}

TEST_P(CommandRunnerConformance, RunsInTheWorkingDirectory) {
  CommandRequest req = Request({"/bin/pwd"});
  auto r = runner().Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "/\n");  // the default
  req.working_dir = "/tmp";
  r = runner().Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "/tmp\n");
}

TEST_P(CommandRunnerConformance, OutputIsCutAtTheCapWithoutBlockingTheChild) {
  CommandRequest req = Request(kFlood);
  req.max_output_bytes = 1000;
  auto r = runner().Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The program wrote 3 MB to each stream and got to its exit: nothing blocked it.
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->out, std::string(1000, '\0'));
  EXPECT_EQ(r->err, std::string(1000, '\0'));
  EXPECT_TRUE(r->out_truncated);
  EXPECT_TRUE(r->err_truncated);
}

TEST_P(CommandRunnerConformance, TimeoutTerminatesTheWholeProcessGroup) {
  const auto before = std::chrono::steady_clock::now();
  auto r = runner().Run(Request(kSleepyGroup, milliseconds(300)));
  const auto took = std::chrono::steady_clock::now() - before;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGTERM);
  EXPECT_GE(r->duration_ms, 300);
  EXPECT_LT(r->duration_ms, 1'300);  // SIGTERM was enough; no SIGKILL escalation
  const std::string grandchild = FirstLine(r->out);
  EXPECT_FALSE(grandchild.empty());
  if (harness_->real_processes()) {
    EXPECT_LT(took, milliseconds(1'300));
    // The shell's `sleep` held stdout open; Run returning means it is gone too.
    EXPECT_TRUE(ProcessGone(grandchild, milliseconds(2'000))) << "sleep " << grandchild;
  }
}

TEST_P(CommandRunnerConformance, TimeoutEscalatesToSigkill) {
  const auto before = std::chrono::steady_clock::now();
  auto r = runner().Run(Request(kStubbornGroup, milliseconds(200)));
  const auto took = std::chrono::steady_clock::now() - before;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_GE(r->duration_ms, 1'200);
  EXPECT_LT(r->duration_ms, 3'000);
  if (harness_->real_processes()) {
    EXPECT_LT(took, milliseconds(3'000));
    EXPECT_TRUE(ProcessGone(FirstLine(r->out), milliseconds(2'000)));
  }
}

TEST_P(CommandRunnerConformance, OutputWrittenBeforeTheTimeoutIsKept) {
  auto r = runner().Run(Request(kStartedThenSleeps, milliseconds(300)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->out, "started\n");
}

}  // namespace

std::unique_ptr<CommandRunnerHarness> NewPosixRunnerHarness() {
  return std::make_unique<PosixHarness>();
}

std::unique_ptr<CommandRunnerHarness> NewFakeRunnerHarness() {
  return std::make_unique<FakeHarness>();
}

}  // namespace steadfast::agent::testing
