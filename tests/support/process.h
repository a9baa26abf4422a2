// Test support: start a real binary as a child process, signal it, wait for it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace steadfast::testsupport {

class Process {
 public:
  // Starts `argv[0]` with `argv`; stdout and stderr go to `log_path` (appended).
  Process(std::vector<std::string> argv, std::string log_path);
  ~Process();  // SIGKILLs the child if it still runs
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int sig);
  // Waits up to `timeout`; returns the exit code, 128+signal if killed, -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
};

// Stops `p` if set: SIGTERM, then SIGKILL when it has not exited within `grace`; resets it.
void StopProcess(std::unique_ptr<Process>& p,
                 std::chrono::milliseconds grace = std::chrono::milliseconds(5'000));

// A directory under /tmp removed (recursively) on destruction unless SF_KEEP_TEMP is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A free TCP port on 127.0.0.1 (bound, read back, released).
int FreeLoopbackPort();

// Keeps a stopped server's port on 127.0.0.1 bound (not listening) so that connections to it are
// refused and FreeLoopbackPort cannot hand it to a server another test starts meanwhile: without
// it, a test that takes its server down may find a parallel test's server answering there.
class HeldPort {
 public:
  explicit HeldPort(int port);
  ~HeldPort();
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};
void WriteTextFile(const std::string& path, const std::string& text);
std::string ReadTextFile(const std::string& path);

}  // namespace steadfast::testsupport
