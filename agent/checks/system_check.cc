#include "agent/checks/system_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

// procfs files are small; this cap only guards against a fixture pointing somewhere odd.
constexpr size_t kMaxProcFileBytes = 1 << 20;

void SetUnknown(CheckResult& r, const std::string& summary) {
  r.status = CheckStatus::kUnknown;
  r.summary = summary;
}

std::string Percent(double ratio) { return fmt::format("{:.1f}%", ratio * 100.0); }

}  // namespace

StatusOr<CpuTimes> ParseProcStat(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  CpuTimes t;
  bool have_total = false;
  while (std::getline(in, line)) {
    if (line.rfind("cpu", 0) != 0) continue;
    if (line.size() > 3 && std::isdigit(static_cast<unsigned char>(line[3]))) {
      ++t.cpus;
      continue;
    }
    if (line.size() > 3 && line[3] != ' ') continue;
    std::istringstream fields(line.substr(3));
    uint64_t v[8] = {};
    int n = 0;
    while (n < 8 && (fields >> v[n])) ++n;
    // Kernels since 2.6.11 have at least 8 columns; older formats are not supported.
    if (n < 4) return InvalidArgumentError("stat: the 'cpu' line has too few fields");
    t.user = v[0];
    t.nice = v[1];
    t.system = v[2];
    t.idle = v[3];
    t.iowait = v[4];
    t.irq = v[5];
    t.softirq = v[6];
    t.steal = v[7];
    have_total = true;
  }
  if (!have_total) return InvalidArgumentError("stat: no 'cpu' line");
  if (t.cpus == 0) t.cpus = 1;
  return t;
}

StatusOr<std::map<std::string, uint64_t>> ParseMeminfo(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream rest(line.substr(colon + 1));
    uint64_t value = 0;
    std::string unit;
    if (!(rest >> value)) continue;
    rest >> unit;
    out[line.substr(0, colon)] = unit == "kB" ? value * 1024 : value;
  }
  if (out.count("MemTotal") == 0) return InvalidArgumentError("meminfo: no MemTotal line");
  return out;
}

StatusOr<LoadAverages> ParseLoadavg(const std::string& text) {
  std::istringstream in(text);
  LoadAverages l;
  if (!(in >> l.load1 >> l.load5 >> l.load15)) {
    return InvalidArgumentError("loadavg: expected three numbers");
  }
  return l;
}

StatusOr<double> ParseUptime(const std::string& text) {
  std::istringstream in(text);
  double up = 0;
  if (!(in >> up) || up < 0) return InvalidArgumentError("uptime: expected seconds since boot");
  return up;
}

std::vector<CheckResult> SystemCheck::Run(const CheckContext& ctx) {
  auto read = [&ctx](const char* file) {
    return ctx.fs.ReadFile(ctx.proc_root + "/" + file, kMaxProcFileBytes);
  };
  StatusOr<CpuTimes> cpu = NotFoundError("not read");
  if (auto text = read("stat"); text.ok()) {
    cpu = ParseProcStat(*text);
  } else {
    cpu = text.status();
  }
  StatusOr<std::map<std::string, uint64_t>> mem = NotFoundError("not read");
  if (auto text = read("meminfo"); text.ok()) {
    mem = ParseMeminfo(*text);
  } else {
    mem = text.status();
  }
  std::vector<CheckResult> results;
  results.push_back(CpuResult(ctx, cpu));
  results.push_back(LoadResult(ctx, cpu));
  results.push_back(MemoryResult(ctx, mem));
  results.push_back(SwapResult(ctx, mem));
  results.push_back(UptimeResult(ctx));
  return results;
}

CheckResult SystemCheck::CpuResult(const CheckContext& ctx, const StatusOr<CpuTimes>& cpu) {
  CheckResult r = NewResult(ctx, "cpu");
  if (!cpu.ok()) {
    SetUnknown(r, "cannot read CPU times: " + cpu.status().message());
    return r;
  }
  bool since_boot = !previous_cpu_ || cpu->Total() < previous_cpu_->Total();
  CpuTimes base = since_boot ? CpuTimes{} : *previous_cpu_;
  previous_cpu_ = *cpu;
  // Deltas in double: iowait is known to go backwards on some kernels, so no unsigned math.
  auto delta = [](uint64_t now, uint64_t before) {
    return static_cast<double>(now) - static_cast<double>(before);
  };
  double total = delta(cpu->Total(), base.Total());
  if (total <= 0) {
    // Two runs inside one clock tick: nothing to measure yet.
    SetUnknown(r, "no CPU time elapsed since the previous run");
    return r;
  }
  double usage = std::clamp(1.0 - delta(cpu->Idle(), base.Idle()) / total, 0.0, 1.0);
  double iowait = std::clamp(delta(cpu->iowait, base.iowait) / total, 0.0, 1.0);
  double steal = std::clamp(delta(cpu->steal, base.steal) / total, 0.0, 1.0);
  r.metrics.push_back(MakeMetric("cpu_usage_ratio", usage, "ratio"));
  r.metrics.push_back(MakeMetric("cpu_iowait_ratio", iowait, "ratio"));
  r.metrics.push_back(MakeMetric("cpu_steal_ratio", steal, "ratio"));
  r.metrics.push_back(MakeMetric("cpus", cpu->cpus, ""));
  r.status = options_.cpu_percent.Grade(usage * 100.0);
  r.summary = fmt::format("CPU {} used{} ({} CPUs, iowait {})", Percent(usage),
                          since_boot ? " since boot" : "", cpu->cpus, Percent(iowait));
  r.details_json = nlohmann::json{{"since_boot", since_boot}}.dump();
  return r;
}

CheckResult SystemCheck::LoadResult(const CheckContext& ctx, const StatusOr<CpuTimes>& cpu) {
  CheckResult r = NewResult(ctx, "load");
  auto text = ctx.fs.ReadFile(ctx.proc_root + "/loadavg", kMaxProcFileBytes);
  if (!text.ok()) {
    SetUnknown(r, "cannot read load averages: " + text.status().message());
    return r;
  }
  auto load = ParseLoadavg(*text);
  if (!load.ok()) {
    SetUnknown(r, "cannot read load averages: " + load.status().message());
    return r;
  }
  r.metrics.push_back(MakeMetric("load1", load->load1, ""));
  r.metrics.push_back(MakeMetric("load5", load->load5, ""));
  r.metrics.push_back(MakeMetric("load15", load->load15, ""));
  std::string averages =
      fmt::format("load {:.2f} {:.2f} {:.2f}", load->load1, load->load5, load->load15);
  if (!cpu.ok()) {
    SetUnknown(r, averages + " (cannot count CPUs: " + cpu.status().message() + ")");
    return r;
  }
  double per_core = load->load5 / cpu->cpus;
  r.metrics.push_back(MakeMetric("load5_per_cpu", per_core, ""));
  r.status = options_.load_per_core.Grade(per_core);
  r.summary = fmt::format("{} ({:.2f} per CPU over 5m, {} CPUs)", averages, per_core, cpu->cpus);
  return r;
}

CheckResult SystemCheck::MemoryResult(const CheckContext& ctx,
                                      const StatusOr<std::map<std::string, uint64_t>>& mem) {
  CheckResult r = NewResult(ctx, "memory");
  if (!mem.ok()) {
    SetUnknown(r, "cannot read memory usage: " + mem.status().message());
    return r;
  }
  double total = static_cast<double>(mem->at("MemTotal"));
  auto avail_it = mem->find("MemAvailable");
  if (avail_it == mem->end() || total <= 0) {
    // MemAvailable exists since Linux 3.14; without it "used" would be a guess.
    SetUnknown(r, "meminfo has no MemAvailable (kernel older than 3.14?)");
    return r;
  }
  double avail = static_cast<double>(avail_it->second);
  double used = std::clamp(1.0 - avail / total, 0.0, 1.0);
  r.metrics.push_back(MakeMetric("memory_MemTotal_bytes", total, "bytes"));
  r.metrics.push_back(MakeMetric("memory_MemAvailable_bytes", avail, "bytes"));
  r.metrics.push_back(MakeMetric("memory_used_ratio", used, "ratio"));
  r.status = options_.memory_percent.Grade(used * 100.0);
  r.summary = fmt::format("memory {} used ({} available of {})", Percent(used), HumanBytes(avail),
                          HumanBytes(total));
  return r;
}

CheckResult SystemCheck::SwapResult(const CheckContext& ctx,
                                    const StatusOr<std::map<std::string, uint64_t>>& mem) {
  CheckResult r = NewResult(ctx, "swap");
  if (!mem.ok()) {
    SetUnknown(r, "cannot read swap usage: " + mem.status().message());
    return r;
  }
  auto total_it = mem->find("SwapTotal");
  auto free_it = mem->find("SwapFree");
  if (total_it == mem->end() || free_it == mem->end()) {
    SetUnknown(r, "meminfo has no SwapTotal/SwapFree");
    return r;
  }
  double total = static_cast<double>(total_it->second);
  double free = static_cast<double>(free_it->second);
  r.metrics.push_back(MakeMetric("memory_SwapTotal_bytes", total, "bytes"));
  r.metrics.push_back(MakeMetric("memory_SwapFree_bytes", free, "bytes"));
  if (total <= 0) {
    r.status = CheckStatus::kOk;
    r.summary = "no swap configured";
    return r;
  }
  double used = std::clamp(1.0 - free / total, 0.0, 1.0);
  r.metrics.push_back(MakeMetric("swap_used_ratio", used, "ratio"));
  r.status = options_.swap_percent.Grade(used * 100.0);
  r.summary = fmt::format("swap {} used ({} of {})", Percent(used), HumanBytes(total - free),
                          HumanBytes(total));
  return r;
}

CheckResult SystemCheck::UptimeResult(const CheckContext& ctx) {
  CheckResult r = NewResult(ctx, "uptime");
  auto text = ctx.fs.ReadFile(ctx.proc_root + "/uptime", kMaxProcFileBytes);
  StatusOr<double> up = text.ok() ? ParseUptime(*text) : StatusOr<double>(text.status());
  if (!up.ok()) {
    SetUnknown(r, "cannot read uptime: " + up.status().message());
    return r;
  }
  double boot_time = static_cast<double>(r.observed_at_ms) / 1000.0 - *up;
  r.metrics.push_back(MakeMetric("uptime_seconds", *up, "seconds"));
  r.metrics.push_back(MakeMetric("boot_time_seconds", std::floor(boot_time), "seconds"));
  r.status = CheckStatus::kOk;
  r.summary = "up " + HumanDuration(static_cast<int64_t>(*up));
  return r;
}

StatusOr<std::unique_ptr<Check>> NewSystemCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"memory_warning_percent", "memory_critical_percent", "swap_warning_percent",
                "swap_critical_percent", "cpu_warning_percent", "cpu_critical_percent",
                "load_per_core_warning", "load_per_core_critical"});
  SF_RETURN_IF_ERROR(spec.node.CheckNoUnknownKeys(known));
  SystemCheckOptions o;
  SF_ASSIGN_OR_RETURN(o.memory_percent,
                      ReadThresholds(spec.node, "memory_warning_percent", "memory_critical_percent",
                                     90.0, 95.0, 0, 100));
  SF_ASSIGN_OR_RETURN(o.swap_percent,
                      ReadThresholds(spec.node, "swap_warning_percent", "swap_critical_percent",
                                     std::nullopt, std::nullopt, 0, 100));
  SF_ASSIGN_OR_RETURN(o.cpu_percent,
                      ReadThresholds(spec.node, "cpu_warning_percent", "cpu_critical_percent",
                                     std::nullopt, std::nullopt, 0, 100));
  SF_ASSIGN_OR_RETURN(o.load_per_core, ReadThresholds(spec.node, "load_per_core_warning",
                                                      "load_per_core_critical", 2.0, 4.0, 0, 1e6));
  return std::unique_ptr<Check>(std::make_unique<SystemCheck>(spec.name, o));
}

}  // namespace steadfast::agent
