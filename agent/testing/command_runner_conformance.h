// The CommandRunner conformance suite (test targets only): the contract of command_runner.h as
// tests that every implementation must pass. PosixCommandRunner runs it with real processes;
// FakeCommandRunner runs it with the same programs described as FakeOutcomes, so the fake the
// check tests rely on behaves like the real runner (output, exit codes and signals, NotFound,
// PermissionDenied, timeouts with SIGTERM and the SIGKILL escalation, truncation, stdin, the
// minimal environment, the fixed PATH).
//
// Use: in a test file of the binary,
//   INSTANTIATE_TEST_SUITE_P(Posix, CommandRunnerConformance,
//                            ::testing::Values(&NewPosixRunnerHarness));
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "agent/command_runner.h"

namespace steadfast::agent::testing {

class CommandRunnerHarness {
 public:
  virtual ~CommandRunnerHarness() = default;
  virtual CommandRunner& runner() = 0;
  // True when runner() starts real processes: the suite then also checks what only the system
  // shows (the killed grandchild is gone, wall-clock time).
  virtual bool real_processes() const = 0;
  // The suite created `path` (absolute) as a file without execute permission.
  virtual void NoteNonExecutable(const std::string& path) = 0;
};

using CommandRunnerHarnessFactory = std::unique_ptr<CommandRunnerHarness> (*)();

// PosixCommandRunner on this machine.
std::unique_ptr<CommandRunnerHarness> NewPosixRunnerHarness();
// FakeCommandRunner with every program the suite uses described.
std::unique_ptr<CommandRunnerHarness> NewFakeRunnerHarness();

class CommandRunnerConformance : public ::testing::TestWithParam<CommandRunnerHarnessFactory> {
 protected:
  void SetUp() override { harness_ = GetParam()(); }
  CommandRunner& runner() { return harness_->runner(); }

  std::unique_ptr<CommandRunnerHarness> harness_;
};

}  // namespace steadfast::agent::testing
