// PosixCommandRunner: the CommandRunner that starts real processes (see command_runner.h for
// the contract; agent/testing/command_runner_conformance.* holds it and the fake to it).
//
// Mechanism: posix_spawn (glibc's runs the child on a CLONE_VFORK stack, so a 10 MB agent with
// several threads never copies its page tables) with
//   - POSIX_SPAWN_SETPGROUP: the child leads a new process group, so a timeout kills what it
//     started too (a plugin's `sleep`, a pipeline);
//   - POSIX_SPAWN_SETSIGMASK (empty) and POSIX_SPAWN_SETSIGDEF (all): the agent blocks
//     SIGINT/SIGTERM/SIGHUP in every thread for sigwait(); a child inheriting that mask could not
//     be stopped with SIGTERM;
//   - file actions: stdin from /dev/null or a pipe, stdout and stderr to two pipes, chdir to
//     working_dir, and closefrom(3): no descriptor of the agent (collector socket, spool
//     database, metrics listener, another command's pipes) reaches the child, whether or not
//     it was opened with O_CLOEXEC. Our own pipes are O_CLOEXEC as well.
// The program is resolved here, not by execvp: an absolute path is used as is, a bare name is
// looked up in kCommandPath only. A relative path with a '/' is InvalidArgument (it would
// depend on the agent's working directory).
//
// The parent polls the pipes and a pidfd (the child's exit) with poll(), so neither a chatty
// child nor one that never writes can block it; output beyond max_output_bytes is read and
// thrown away. At the timeout it sends SIGTERM to the group, and SIGKILL to the group 1 s later
// if anything is still running or holding the pipes. After the child exits, the pipes are
// drained until EOF; a grandchild that keeps them open is waited for only until the timeout,
// then killed with the group (the result then has timed_out set and the child's own exit
// code). The child is always reaped before Run returns; a child stuck in the kernel
// (uninterruptible sleep on a dying disk) holds Run until it can be reaped.
//
// Errors, besides those of the contract: InvalidArgument for a request ValidateCommandRequest
// refuses or a working_dir that is not a directory, FailedPrecondition for an executable file
// the kernel cannot run (ENOEXEC: a script without "#!"; there is no fallback to a shell).
//
// Times are measured on std::chrono::steady_clock, not an injected Clock: poll() waits in real
// time, so a fake clock could not drive this class anyway (tests of time-dependent callers use
// FakeCommandRunner).
//
// Thread-safe: Run may be called from several threads at once; it keeps no state.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "agent/command_runner.h"
#include "common/status.h"

namespace steadfast::agent {

// The fixed PATH of every command and of the name lookup.
inline constexpr const char* kCommandPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// How long a process group gets between SIGTERM and SIGKILL.
inline constexpr std::chrono::milliseconds kCommandKillGrace{1'000};

// The environment a command gets: PATH=kCommandPath, LANG and LC_ALL C.UTF-8, then the
// request's env (which may override those three). Shared with FakeCommandRunner.
std::map<std::string, std::string> CommandEnvironment(const CommandRequest& request);

// InvalidArgument for a request no runner may run: empty argv, an empty argv[0], a relative
// path with '/', an env name that is empty or has '=' or NUL, NUL bytes in argv, a
// non-positive timeout or a zero output cap. Shared with FakeCommandRunner.
Status ValidateCommandRequest(const CommandRequest& request);

class PosixCommandRunner final : public CommandRunner {
 public:
  StatusOr<CommandResult> Run(const CommandRequest& request) override;
};

}  // namespace steadfast::agent
