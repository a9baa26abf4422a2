#include "agent/posix_command_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace steadfast::agent {
namespace {

using Steady = std::chrono::steady_clock;

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(o.Release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.Release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string Errno(int err) { return std::strerror(err); }

// Moves `fd` to a number >= 3 (keeping O_CLOEXEC). If the agent runs with stdin, stdout or
// stderr closed, pipe() may hand out 0..2, and the child's dup2 onto 0..2 would then clobber
// one pipe end with another.
Status AboveStdio(Fd* fd) {
  if (fd->get() >= 3) return OkStatus();
  int moved = ::fcntl(fd->get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return InternalError("fcntl(F_DUPFD_CLOEXEC): " + Errno(errno));
  *fd = Fd(moved);
  return OkStatus();
}

struct Pipe {
  Fd read;
  Fd write;
};

StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return InternalError("pipe2: " + Errno(errno));
  Pipe p{Fd(fds[0]), Fd(fds[1])};
  SF_RETURN_IF_ERROR(AboveStdio(&p.read));
  SF_RETURN_IF_ERROR(AboveStdio(&p.write));
  return p;
}

bool IsExecutableFile(const std::string& path, int* err) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *err = errno;
    return false;
  }
  if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) {
    *err = EACCES;
    return false;
  }
  return true;
}

// The absolute path of argv[0]: itself when absolute, else the first executable file of that
// name in kCommandPath (like execvp, a non-executable match is remembered and the search goes
// on; PermissionDenied only if nothing executable was found).
StatusOr<std::string> ResolveProgram(const std::string& name) {
  int err = 0;
  if (name.front() == '/') {
    if (IsExecutableFile(name, &err)) return name;
    if (err == ENOENT || err == ENOTDIR) return NotFoundError(name + ": no such program");
    if (err == EACCES) return PermissionDeniedError(name + ": not an executable file");
    return InternalError(name + ": " + Errno(err));
  }
  bool denied = false;
  std::string_view dirs(kCommandPath);
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    std::string path = std::string(dir) + "/" + name;
    if (IsExecutableFile(path, &err)) return path;
    if (err == EACCES) denied = true;
  }
  if (denied) return PermissionDeniedError(name + ": found in " + kCommandPath + " but not executable");
  return NotFoundError(fmt::format("{}: not found in {}", name, kCommandPath));
}

// RAII for the spawn attribute and file-action objects.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Blocks SIGPIPE in the calling thread while it writes a child's stdin: a child that exits
// without reading would otherwise kill the agent. A SIGPIPE raised by our write is consumed
// before the old mask comes back.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (raised_ && !was_pending_) {
      timespec zero{0, 0};
      while (::sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  void NoteEpipe() { raised_ = true; }

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
  bool raised_ = false;
};

// Appends what fits under `max` to `out`, setting *truncated when something did not fit.
void Capture(std::string* out, bool* truncated, const char* data, size_t n, size_t max) {
  size_t room = out->size() < max ? max - out->size() : 0;
  out->append(data, std::min(room, n));
  if (n > room) *truncated = true;
}

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

// True once the child has exited; leaves it a zombie (WNOWAIT) so its pid, which is also the
// process group id we signal, cannot be reused before we reap it at the end.
bool HasExited(pid_t pid) {
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  while (true) {
    int rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0) return info.si_pid == pid;
    if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
  }
}

int MillisUntil(Steady::time_point t, Steady::time_point now) {
  if (t <= now) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

}  // namespace

std::map<std::string, std::string> CommandEnvironment(const CommandRequest& request) {
  std::map<std::string, std::string> env = {
      {"PATH", kCommandPath}, {"LANG", "C.UTF-8"}, {"LC_ALL", "C.UTF-8"}};
  for (const auto& [k, v] : request.env) env[k] = v;
  return env;
}

Status ValidateCommandRequest(const CommandRequest& request) {
  if (request.argv.empty() || request.argv.front().empty()) {
    return InvalidArgumentError("command: argv[0] (the program) is empty");
  }
  const std::string& program = request.argv.front();
  if (program.front() != '/' && program.find('/') != std::string::npos) {
    return InvalidArgumentError("command: '" + program +
                                "' is a relative path; use an absolute path or a bare name");
  }
  for (const std::string& arg : request.argv) {
    if (arg.find('\0') != std::string::npos) {
      return InvalidArgumentError("command: an argument of " + program + " contains a NUL byte");
    }
  }
  for (const auto& [k, v] : request.env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos ||
        v.find('\0') != std::string::npos) {
      return InvalidArgumentError("command: bad environment variable name '" + k + "'");
    }
  }
  if (request.timeout.count() <= 0) return InvalidArgumentError("command: timeout must be positive");
  if (request.max_output_bytes == 0) {
    return InvalidArgumentError("command: max_output_bytes must be positive");
  }
  if (request.working_dir.empty() || request.working_dir.front() != '/') {
    return InvalidArgumentError("command: working_dir must be an absolute path");
  }
  return OkStatus();
}

StatusOr<CommandResult> PosixCommandRunner::Run(const CommandRequest& request) {
  SF_RETURN_IF_ERROR(ValidateCommandRequest(request));
  SF_ASSIGN_OR_RETURN(std::string program, ResolveProgram(request.argv.front()));
  {
    struct stat st;
    if (::stat(request.working_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return InvalidArgumentError("command: working directory " + request.working_dir +
                                  " does not exist");
    }
  }

  SF_ASSIGN_OR_RETURN(Pipe out_pipe, MakePipe());
  SF_ASSIGN_OR_RETURN(Pipe err_pipe, MakePipe());
  Pipe in_pipe;
  if (request.stdin_data) {
    SF_ASSIGN_OR_RETURN(in_pipe, MakePipe());
    if (::fcntl(in_pipe.write.get(), F_SETFL, O_NONBLOCK) != 0) {
      return InternalError("fcntl(O_NONBLOCK): " + Errno(errno));
    }
  }

  SpawnSetup setup;
  short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  int rc = posix_spawnattr_setflags(&setup.attr, flags);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&setup.attr, 0);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&setup.attr, &empty);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&setup.attr, &all);
  if (rc == 0) {
    rc = request.stdin_data
             ? posix_spawn_file_actions_adddup2(&setup.actions, in_pipe.read.get(), 0)
             : posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  }
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup.actions, out_pipe.write.get(), 1);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup.actions, err_pipe.write.get(), 2);
  if (rc == 0) {
    rc = posix_spawn_file_actions_addchdir_np(&setup.actions, request.working_dir.c_str());
  }
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  if (rc != 0) return InternalError("posix_spawn setup: " + Errno(rc));

  std::vector<char*> argv;
  argv.reserve(request.argv.size() + 1);
  for (const std::string& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : CommandEnvironment(request)) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const auto start = Steady::now();
  pid_t pid = -1;
  rc = ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
  if (rc != 0) {
    if (rc == ENOENT) return NotFoundError(program + ": no such program");
    if (rc == EACCES) return PermissionDeniedError(program + ": permission denied");
    if (rc == ENOEXEC) {
      return FailedPreconditionError(program + ": not an executable format (a script without #!?)");
    }
    return InternalError("posix_spawn " + program + ": " + Errno(rc));
  }
  // The child has its copies; ours would keep the pipes open after it exits.
  out_pipe.write.Reset();
  err_pipe.write.Reset();
  in_pipe.read.Reset();

  Fd pidfd(PidfdOpen(pid));
  std::optional<SigpipeGuard> sigpipe;
  if (request.stdin_data) sigpipe.emplace();

  CommandResult result;
  const auto deadline = start + request.timeout;
  enum class Phase { kRunning, kTermSent, kKillSent } phase = Phase::kRunning;
  Steady::time_point kill_at{}, give_up_at{};
  bool exited = false;
  size_t stdin_offset = 0;
  const std::string empty_input;
  const std::string& input = request.stdin_data ? *request.stdin_data : empty_input;
  if (in_pipe.write.valid() && input.empty()) in_pipe.write.Reset();
  std::array<char, 16384> buf;

  while (true) {
    if (!exited) exited = HasExited(pid);
    if (exited && !out_pipe.read.valid() && !err_pipe.read.valid()) break;
    auto now = Steady::now();
    if (phase == Phase::kRunning && now >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGTERM);
      phase = Phase::kTermSent;
      kill_at = now + kCommandKillGrace;
    }
    if (phase == Phase::kTermSent && now >= kill_at) {
      ::kill(-pid, SIGKILL);
      phase = Phase::kKillSent;
      // Whatever still holds the pipes after this is outside the group (it called setsid);
      // drain briefly, then stop listening to it.
      give_up_at = now + std::chrono::milliseconds(200);
    }
    if (phase == Phase::kKillSent && exited && now >= give_up_at) break;

    Steady::time_point next = phase == Phase::kRunning    ? deadline
                              : phase == Phase::kTermSent ? kill_at
                                                          : give_up_at;
    int wait_ms = MillisUntil(next, now);
    // Without a pidfd the child's exit is noticed by polling waitid.
    if (!exited && !pidfd.valid()) wait_ms = std::min(wait_ms, 10);
    if (phase == Phase::kKillSent && !exited) wait_ms = std::min(wait_ms, 10);

    std::array<pollfd, 4> fds;
    size_t n = 0;
    int i_out = -1, i_err = -1, i_in = -1, i_pid = -1;
    if (out_pipe.read.valid()) {
      i_out = static_cast<int>(n);
      fds[n++] = {out_pipe.read.get(), POLLIN, 0};
    }
    if (err_pipe.read.valid()) {
      i_err = static_cast<int>(n);
      fds[n++] = {err_pipe.read.get(), POLLIN, 0};
    }
    if (in_pipe.write.valid()) {
      i_in = static_cast<int>(n);
      fds[n++] = {in_pipe.write.get(), POLLOUT, 0};
    }
    if (!exited && pidfd.valid()) {
      i_pid = static_cast<int>(n);
      fds[n++] = {pidfd.get(), POLLIN, 0};
    }
    int ready = ::poll(fds.data(), n, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      // Cannot happen with valid descriptors; make sure the child does not outlive us.
      ::kill(-pid, SIGKILL);
      phase = Phase::kKillSent;
      give_up_at = Steady::now();
      continue;
    }
    auto drain = [&](int index, Fd* fd, std::string* into, bool* truncated) {
      if (index < 0 || fds[static_cast<size_t>(index)].revents == 0) return;
      ssize_t got = ::read(fd->get(), buf.data(), buf.size());
      if (got > 0) {
        Capture(into, truncated, buf.data(), static_cast<size_t>(got), request.max_output_bytes);
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd->Reset();
      }
    };
    drain(i_out, &out_pipe.read, &result.out, &result.out_truncated);
    drain(i_err, &err_pipe.read, &result.err, &result.err_truncated);
    if (i_in >= 0 && fds[static_cast<size_t>(i_in)].revents != 0) {
      ssize_t put = ::write(in_pipe.write.get(), input.data() + stdin_offset,
                            input.size() - stdin_offset);
      if (put > 0) {
        stdin_offset += static_cast<size_t>(put);
        if (stdin_offset == input.size()) in_pipe.write.Reset();  // EOF for the child
      } else if (put < 0 && errno != EINTR && errno != EAGAIN) {
        if (errno == EPIPE) sigpipe->NoteEpipe();
        in_pipe.write.Reset();  // the child stopped reading; the rest is not wanted
      }
    }
    (void)i_pid;  // its readiness is read by HasExited at the top of the loop
  }
  in_pipe.write.Reset();

  // A timed-out command goes entirely, even the members that ignored SIGTERM but closed their
  // pipes. Sent before the reap: the zombie leader keeps the group id from being reused.
  if (result.timed_out) ::kill(-pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return InternalError("waitpid: " + Errno(errno));
  }
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_code = -1;
    result.term_signal = WTERMSIG(wstatus);
  }
  result.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start).count();
  return result;
}

}  // namespace steadfast::agent
