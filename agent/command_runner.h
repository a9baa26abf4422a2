// CommandRunner: how checks run external programs (smartctl, apt-get -s, Nagios plugins, ...).
//
// Contract every implementation keeps (held by agent/testing/command_runner_conformance.*):
// - No shell: argv[0] is an absolute path or a name looked up in a fixed PATH
//   ("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), never the agent's $PATH.
// - A minimal environment: PATH as above, LANG=C.UTF-8, LC_ALL=C.UTF-8, plus `env` of the
//   request; nothing inherited from the agent (no tokens, no proxies).
// - stdin is /dev/null unless `stdin_data` is given; stdout and stderr are captured separately,
//   each cut at `max_output_bytes` (truncated flags set; the child is not blocked by a full pipe).
// - At `timeout` the whole process group is killed (SIGTERM, then SIGKILL after 1 s) and the
//   result has timed_out = true. Run() never returns before the child is reaped.
// - Errors (Status) are only for "could not run at all": NotFound for a missing program,
//   PermissionDenied for one not executable, Internal for fork/pipe failures. A program that ran
//   and failed is a CommandResult with its exit code or signal.
// - Thread-safe: several checks may run commands at the same time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace steadfast::agent {

struct CommandRequest {
  std::vector<std::string> argv;  // argv[0]: the program; at least one element
  std::map<std::string, std::string> env;  // added to the minimal environment
  std::optional<std::string> stdin_data;
  std::chrono::milliseconds timeout{10'000};
  size_t max_output_bytes = 1 << 20;  // per stream
  std::string working_dir = "/";
};

struct CommandResult {
  int exit_code = -1;    // 0..255 when the program exited; -1 when killed by a signal
  int term_signal = 0;   // the signal that ended it, 0 when it exited
  bool timed_out = false;
  std::string out;
  std::string err;
  bool out_truncated = false;
  bool err_truncated = false;
  int64_t duration_ms = 0;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual StatusOr<CommandResult> Run(const CommandRequest& request) = 0;
};

}  // namespace steadfast::agent
