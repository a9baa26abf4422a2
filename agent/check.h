// Check: one configured probe (a check family instance from the agent config). Run() returns
// one result per thing it looked at (a filesystem check yields one result per mount), so a
// single Check may produce several CheckResults.
//
// Thread-safety: the agent never runs one Check twice at the same time, so a Check may keep
// state between runs (CPU counters, mounts seen read-write) without locking. Successive runs
// may happen on different worker threads (the runtime orders them: check_runtime.h).
//
// Time limit: each run has a deadline (ctx.deadline, the check's `timeout`). A run still going
// shortly after it is reported `unknown` ("timed out after 10 s") and what it returns later is
// discarded.
// Commands run through ctx.commands are killed at the deadline when the request's timeout is
// bounded by it (TimeLeft in checks/check_util.h); an in-process check must bound its own
// waits (sockets, polls) by ctx.deadline, because its thread cannot be stopped from outside.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "agent/command_runner.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "common/protocol/protocol.h"

namespace steadfast::agent {

// What a check may touch. Everything is borrowed; it outlives the Run() call.
struct CheckContext {
  Clock& clock;
  FileSystem& fs;
  // Where procfs is mounted: "/proc" normally, a fixture directory in tests, "/host/proc" when
  // the agent runs in a container that sees the host's procfs there.
  std::string proc_root = "/proc";
  // Where sysfs is mounted: hwmon, md, net and block devices ("/host/sys" in a container).
  std::string sys_root = "/sys";
  // Where device nodes are: disks for smartctl, serial UPS lines ("/host/dev" in a container).
  std::string dev_root = "/dev";
  // Configuration files a check reads: os-release, apt sources, chrony/ntp, ClamAV configs.
  std::string etc_root = "/etc";
  // State files a check reads: apt lists, dpkg status, run/reboot-required, ClamAV databases.
  std::string var_root = "/var";
  // The agent's own state directory (backup jobs' state files).
  std::string state_dir = "/var/lib/steadfast-agent";
  // Runs external programs (no shell, minimal environment, killed at its timeout). Null in
  // contexts without one: a check that needs it reports unknown.
  CommandRunner* commands = nullptr;
  // When this run's time is up (start + the check's timeout); time_point{} = no deadline.
  // Network I/O and commands must not outlive it.
  std::chrono::steady_clock::time_point deadline{};
};

class Check {
 public:
  explicit Check(std::string name) : name_(std::move(name)) {}
  virtual ~Check() = default;
  Check(const Check&) = delete;
  Check& operator=(const Check&) = delete;

  // The instance name from the config ("root-fs"); it becomes CheckResult::check.
  const std::string& name() const { return name_; }

  // Runs the probe once. Never fails as a whole: a probe that cannot look reports a result
  // with status unknown and a summary saying why. Each result has check, target, status,
  // summary and observed_at_ms set; the caller fills duration_ms when it is 0.
  virtual std::vector<protocol::CheckResult> Run(const CheckContext& ctx) = 0;

 protected:
  // A result with check name, target and observed_at_ms filled in.
  protocol::CheckResult NewResult(const CheckContext& ctx, std::string target) const {
    protocol::CheckResult r;
    r.check = name_;
    r.target = std::move(target);
    r.observed_at_ms = ctx.clock.NowMillis();
    return r;
  }

 private:
  std::string name_;
};

}  // namespace steadfast::agent
