// FakeCommandRunner (test targets only): a CommandRunner that starts nothing. Tests describe
// the programs that "exist" and what each does; the fake then applies the same runner
// semantics as PosixCommandRunner, and the shared conformance suite
// (command_runner_conformance.h) holds it to the real one:
//   - the request is validated like the real runner (ValidateCommandRequest);
//   - argv[0] resolves like the real runner: an absolute path as is, a bare name through
//     kCommandPath (first directory with a described program wins); nothing described is
//     NotFound, a path marked non-executable is PermissionDenied; a program described by
//     Script() for other arguments only is Unimplemented (a gap in the test's script);
//   - a program that runs longer than the request's timeout comes back timed_out with
//     exit_code -1 and term_signal SIGTERM (SIGKILL, 1 s later, if it ignores SIGTERM), keeping
//     the output it wrote; output is cut at max_output_bytes with the truncated flags set;
//   - behaviours see the environment the real child would get (CommandEnvironment).
// No time passes: duration_ms is the described run time (or the kill time).
//
// Thread-safe; every Run is recorded (also those that fail) for calls().
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/command_runner.h"

namespace steadfast::agent::testing {

// What a described program does when it runs.
struct FakeOutcome {
  int exit_code = 0;
  int term_signal = 0;  // killed by this signal instead of exiting (exit_code is then ignored)
  std::string out;
  std::string err;
  std::chrono::milliseconds runs_for{0};  // longer than the request's timeout: it is killed
  bool ignores_sigterm = false;           // then only the SIGKILL after the grace ends it
};

// Computes an outcome from the request (stdin_data, working_dir, argv) and the environment
// the child would see.
using FakeBehaviour = std::function<FakeOutcome(const CommandRequest& request,
                                                const std::map<std::string, std::string>& env)>;

class FakeCommandRunner final : public CommandRunner {
 public:
  // The outcome for exactly this argv (argv[0] as given, or as it resolves). Takes precedence
  // over AddProgram. A later call for the same argv replaces the earlier one.
  void Script(std::vector<std::string> argv, FakeOutcome outcome);
  // Same, but Run returns `error` (e.g. InternalError to imitate a fork failure).
  void ScriptError(std::vector<std::string> argv, Status error);
  // An executable at absolute `path` that behaves like `behaviour` for any arguments.
  void AddProgram(std::string path, FakeBehaviour behaviour);
  // A file at absolute `path` without execute permission.
  void AddNonExecutable(std::string path);

  StatusOr<CommandResult> Run(const CommandRequest& request) override;

  std::vector<CommandRequest> calls() const;
  size_t call_count() const;
  // The argv of every call, each joined with spaces (for compact assertions).
  std::vector<std::string> call_lines() const;

 private:
  // The absolute path argv[0] resolves to, or "" when nothing is described under that name.
  std::string ResolveLocked(const std::string& program) const;
  bool KnownLocked(const std::string& path) const;

  mutable std::mutex mu_;
  std::map<std::vector<std::string>, StatusOr<FakeOutcome>> scripted_;
  std::map<std::string, FakeBehaviour> programs_;
  std::set<std::string> non_executable_;
  std::vector<CommandRequest> calls_;
};

}  // namespace steadfast::agent::testing
