// SystemCheck (type "system"): CPU usage, load averages, memory, swap and uptime read from
// procfs (<proc_root>/stat, meminfo, loadavg, uptime). One run yields five results, targets
// "cpu", "load", "memory", "swap" and "uptime", so each can alert on its own.
//
// Metric names follow node_exporter without its "node_" prefix (load1, memory_MemTotal_bytes,
// boot_time_seconds), plus derived ratios (cpu_usage_ratio, memory_used_ratio).
//
// CPU usage is the busy share of CPU time between two runs; the first run after start-up
// reports the share since boot (details.since_boot = true).
//
// Config keys (besides name/type/interval), all optional:
//   memory_warning_percent / memory_critical_percent   used = 1 - MemAvailable/MemTotal; 90 / 95
//   swap_warning_percent / swap_critical_percent       off unless set
//   cpu_warning_percent / cpu_critical_percent         off unless set
//   load_per_core_warning / load_per_core_critical     5-minute load / CPUs; 2 / 4
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

// Cumulative CPU time of all CPUs, in USER_HZ ticks (the first "cpu" line of /proc/stat).
struct CpuTimes {
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  int cpus = 0;  // number of "cpuN" lines

  uint64_t Total() const { return user + nice + system + idle + iowait + irq + softirq + steal; }
  uint64_t Idle() const { return idle + iowait; }
};

struct LoadAverages {
  double load1 = 0, load5 = 0, load15 = 0;
};

// Parsers for procfs text; InvalidArgument when the text does not look as expected.
StatusOr<CpuTimes> ParseProcStat(const std::string& text);
// Field name -> bytes (values in kB are converted; unit-less values are kept as they are).
StatusOr<std::map<std::string, uint64_t>> ParseMeminfo(const std::string& text);
StatusOr<LoadAverages> ParseLoadavg(const std::string& text);
// Seconds since boot (first field of /proc/uptime).
StatusOr<double> ParseUptime(const std::string& text);

struct SystemCheckOptions {
  Thresholds memory_percent{90.0, 95.0};
  Thresholds swap_percent;
  Thresholds cpu_percent;
  Thresholds load_per_core{2.0, 4.0};
};

class SystemCheck final : public Check {
 public:
  SystemCheck(std::string name, SystemCheckOptions options)
      : Check(std::move(name)), options_(options) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  protocol::CheckResult CpuResult(const CheckContext& ctx, const StatusOr<CpuTimes>& cpu);
  protocol::CheckResult LoadResult(const CheckContext& ctx, const StatusOr<CpuTimes>& cpu);
  protocol::CheckResult MemoryResult(const CheckContext& ctx,
                                     const StatusOr<std::map<std::string, uint64_t>>& mem);
  protocol::CheckResult SwapResult(const CheckContext& ctx,
                                   const StatusOr<std::map<std::string, uint64_t>>& mem);
  protocol::CheckResult UptimeResult(const CheckContext& ctx);

  SystemCheckOptions options_;
  std::optional<CpuTimes> previous_cpu_;  // from the previous run, for the usage delta
};

// Factory for type "system".
StatusOr<std::unique_ptr<Check>> NewSystemCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
