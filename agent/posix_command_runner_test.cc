#include "agent/posix_command_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/testing/command_runner_conformance.h"
#include "agent/testing/test_util.h"

namespace steadfast::agent {
namespace {

using std::chrono::milliseconds;
using testing::CommandRunnerConformance;
using testing::TempDir;

INSTANTIATE_TEST_SUITE_P(Posix, CommandRunnerConformance,
                         ::testing::Values(&testing::NewPosixRunnerHarness));

CommandRequest Request(std::vector<std::string> argv, milliseconds timeout = milliseconds(10'000)) {
  CommandRequest r;
  r.argv = std::move(argv);
  r.timeout = timeout;
  return r;
}

// Every descriptor the child has, from its own /proc/self/fd, as "N -> target" lines.
TEST(PosixCommandRunnerTest, NoAgentDescriptorReachesTheChild) {
  TempDir dir;
  // Opened the careless way (no O_CLOEXEC), like a library might.
  const std::string canary = dir.path() + "/leak-canary";
  int file = ::open(canary.c_str(), O_CREAT | O_RDWR, 0600);
  ASSERT_GE(file, 0);
  int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);

  PosixCommandRunner runner;
  auto r = runner.Run(Request({"/bin/ls", "-l", "/proc/self/fd"}));
  ::close(file);
  ::close(sock);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->exit_code, 0) << r->err;
  std::istringstream in(r->out);
  std::set<int> fds;
  for (std::string line; std::getline(in, line);) {
    auto arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;  // "total 0"
    const std::string target = line.substr(arrow + 4);
    std::string before = line.substr(0, arrow);
    const int fd = std::stoi(before.substr(before.rfind(' ') + 1));
    fds.insert(fd);
    if (fd == 0) {
      EXPECT_EQ(target, "/dev/null");
    } else if (fd <= 2) {
      EXPECT_EQ(target.rfind("pipe:", 0), 0u) << line;
    } else {
      // ls's own handle on the directory it lists; nothing of ours.
      EXPECT_NE(target.find("/fd"), std::string::npos) << "leaked: " << line;
    }
    EXPECT_EQ(target.find("leak-canary"), std::string::npos) << line;
    EXPECT_EQ(target.find("socket:"), std::string::npos) << line;
  }
  EXPECT_TRUE(fds.count(0) && fds.count(1) && fds.count(2)) << r->out;
  EXPECT_LE(fds.size(), 4u) << r->out;
}

TEST(PosixCommandRunnerTest, ManyConcurrentRunsKeepTheirOutputsApart) {
  PosixCommandRunner runner;
  constexpr int kThreads = 16;
  constexpr int kRunsEach = 8;
  std::atomic<int> good{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRunsEach; ++i) {
        const std::string tag = "run-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = runner.Run(Request(
            {"/bin/sh", "-c", "echo \"$0\"; head -c 70000 /dev/zero >&2; exit " +
                                  std::to_string(i), tag}));
        if (!r.ok()) {
          failures[t] = r.status().ToString();
        } else if (r->out != tag + "\n" || r->err.size() != 70'000 || r->exit_code != i) {
          failures[t] = tag + ": got '" + r->out + "' exit " + std::to_string(r->exit_code);
        } else {
          ++good;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
  EXPECT_EQ(good.load(), kThreads * kRunsEach);
}

// The agent blocks SIGTERM in every thread (for sigwait); the child must not inherit that.
TEST(PosixCommandRunnerTest, ChildDoesNotInheritTheAgentsBlockedSignals) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  PosixCommandRunner runner;
  auto r = runner.Run(Request({"/bin/sleep", "30"}, milliseconds(200)));
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGTERM);  // not SIGKILL a second later
  EXPECT_LT(r->duration_ms, 1'000);
}

TEST(PosixCommandRunnerTest, MissingWorkingDirectoryIsInvalidNotAMissingProgram) {
  PosixCommandRunner runner;
  CommandRequest req = Request({"/bin/pwd"});
  req.working_dir = "/nonexistent-steadfast-dir";
  auto r = runner.Run(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
}

TEST(PosixCommandRunnerTest, FileTheKernelCannotRunIsFailedPrecondition) {
  TempDir dir;
  const std::string path = dir.path() + "/no-shebang";
  {
    std::ofstream f(path);
    f << "echo this would need a shell\n";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  PosixCommandRunner runner;
  auto r = runner.Run(Request({path}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
}

TEST(PosixCommandRunnerTest, DirectoryIsPermissionDenied) {
  PosixCommandRunner runner;
  auto r = runner.Run(Request({"/tmp"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
}

TEST(PosixCommandRunnerTest, GrandchildHoldingThePipeAfterTheChildExitsIsKilledAtTheTimeout) {
  PosixCommandRunner runner;
  const auto before = std::chrono::steady_clock::now();
  // The shell exits at once; its background sleep keeps stdout open.
  auto r = runner.Run(Request({"/bin/sh", "-c", "sleep 30 & echo $!; exit 0"}, milliseconds(300)));
  const auto took = std::chrono::steady_clock::now() - before;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);  // the child itself exited normally
  EXPECT_TRUE(r->timed_out);   // but the command did not finish in time
  EXPECT_LT(took, milliseconds(1'300));
  const std::string pid = r->out.substr(0, r->out.find('\n'));
  ASSERT_FALSE(pid.empty());
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string line;
    gone = !stat || !std::getline(stat, line) || line[line.rfind(')') + 2] == 'Z';
    if (!gone) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(gone) << "sleep " << pid << " still running";
}

}  // namespace
}  // namespace steadfast::agent
