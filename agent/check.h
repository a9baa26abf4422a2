// Check: one configured probe (a check family instance from the agent config). Run() returns
// one result per thing it looked at (a filesystem check yields one result per mount), so a
// single Check may produce several CheckResults.
//
// Thread-safety: the agent calls Run() from one thread at a time; a Check may keep state
// between runs (CPU counters, mounts seen read-write) without locking.
#pragma once

#include <string>
#include <utility>
#include <vector>

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
