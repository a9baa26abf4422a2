// ServiceCheck (type "service"): required systemd units are active, and required processes
// run. One result per unit (target = unit name) and per process rule (target "process <name>").
//
// Units: one `systemctl show --property=LoadState,ActiveState,SubState,Result,NRestarts,
// ActiveEnterTimestampMonotonic <unit>...` call through the CommandRunner for all units
// (systemctl prints one block per unit, in argument order). Grading:
//   critical  not found, masked, inactive or failed (with systemd's Result: exit-code, signal,
//             timeout, core-dump, ...)
//   warning   activating, deactivating or reloading; restarted by systemd (NRestarts grew)
//             since the previous run — a unit that crash-loops looks "active" at any moment
//   ok        active ("active (running) for 3d 4h 12m")
// Without a running systemd (containers, this kind of VM: PID 1 is something else) systemctl
// fails; every unit is then unknown, saying so and naming PID 1.
//
// Processes: a scan of <proc_root>/<pid>/{comm,cmdline}. A rule matches by `name` (the
// process name: comm, which the kernel cuts at 15 characters, or the basename of argv[0]) or
// by `cmdline` (a POSIX extended regular expression searched in the command line, arguments
// joined by spaces; kernel threads have none). `min` (default 1) and `max` (default none)
// bound the count: below min is critical, above max is warning.
//
// Config keys (besides the common ones):
//   units:      list of unit names ("nginx.service"; a name without a suffix gets ".service")
//   processes:  list of {name | cmdline, min, max, label}; label names the target and metric
//   systemctl:  the program (default "systemctl")
// At least one unit or process is required.
//
// Metrics: node_systemd_unit_state{name,state} one-hot over active, activating, deactivating,
// inactive, failed and node_systemd_service_restart_total{name} (node_exporter's systemd
// collector names), systemd_unit_active_seconds{name}; per process rule
// namedprocess_namegroup_num_procs{groupname} (process-exporter's name).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"

namespace steadfast::agent {

// One block of `systemctl show` output: property -> value.
using UnitProperties = std::map<std::string, std::string>;
// Splits `systemctl show` output for several units into blocks (blank-line separated).
std::vector<UnitProperties> ParseSystemctlShow(const std::string& text);

struct ProcessRule {
  std::string label;    // target and metric label
  std::string name;     // exact process name, or
  std::string cmdline;  // an extended regex on the command line
  int64_t min = 1;
  std::optional<int64_t> max;
};

struct ProcessInfo {
  int pid = 0;
  std::string comm;
  std::string cmdline;  // NULs replaced by spaces; empty for kernel threads
};

// Every process under proc_root (processes that exit while being read are skipped).
std::vector<ProcessInfo> ScanProcesses(FileSystem& fs, const std::string& proc_root);

struct ServiceCheckOptions {
  std::vector<std::string> units;
  std::vector<ProcessRule> processes;
  std::string systemctl = "systemctl";
};

class ServiceCheck final : public Check {
 public:
  // InvalidArgument for a `cmdline` that is not a valid extended regex (the factory reports it
  // against the config line).
  static StatusOr<std::unique_ptr<ServiceCheck>> Create(std::string name,
                                                        ServiceCheckOptions options);
  ~ServiceCheck() override;
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  struct CompiledRule;
  ServiceCheck(std::string name, ServiceCheckOptions options);

  void UnitResults(const CheckContext& ctx, std::vector<protocol::CheckResult>& out);
  void ProcessResults(const CheckContext& ctx, std::vector<protocol::CheckResult>& out);

  ServiceCheckOptions options_;
  std::vector<std::unique_ptr<CompiledRule>> rules_;
  std::map<std::string, int64_t> restarts_;  // NRestarts per unit at the previous run
};

// Factory for type "service".
StatusOr<std::unique_ptr<Check>> NewServiceCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
