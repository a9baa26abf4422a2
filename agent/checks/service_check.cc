#include "agent/checks/service_check.h"

#include <fmt/format.h>
#include <regex.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/checks/check_util.h"
#include "agent/command_runner.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

constexpr size_t kMaxCmdlineBytes = 64 << 10;
constexpr const char* kUnitProperties =
    "--property=LoadState,ActiveState,SubState,Result,NRestarts,ActiveEnterTimestampMonotonic";

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::optional<int64_t> ToInt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str()) return std::nullopt;
  return v;
}

// regcomp's message for `pattern`, or OK.
Status CompileRegex(const std::string& pattern, regex_t* out) {
  int rc = ::regcomp(out, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc == 0) return OkStatus();
  char buf[256];
  ::regerror(rc, out, buf, sizeof(buf));
  return InvalidArgumentError(std::string("not a valid extended regular expression: ") + buf);
}

std::string Basename(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

struct ServiceCheck::CompiledRule {
  ProcessRule rule;
  regex_t re{};
  bool compiled = false;
  ~CompiledRule() {
    if (compiled) ::regfree(&re);
  }
};

std::vector<UnitProperties> ParseSystemctlShow(const std::string& text) {
  std::vector<UnitProperties> blocks;
  std::istringstream in(text);
  std::string line;
  UnitProperties current;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (!current.empty()) blocks.push_back(std::move(current));
      current.clear();
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    current[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (!current.empty()) blocks.push_back(std::move(current));
  return blocks;
}

std::vector<ProcessInfo> ScanProcesses(FileSystem& fs, const std::string& proc_root) {
  std::vector<ProcessInfo> out;
  auto entries = fs.ListDirectory(proc_root);
  if (!entries.ok()) return out;
  for (const std::string& e : *entries) {
    if (e.empty() || !std::all_of(e.begin(), e.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      continue;
    }
    const std::string dir = proc_root + "/" + e;
    auto comm = fs.ReadFile(dir + "/comm", 4096);
    if (!comm.ok()) continue;  // exited meanwhile
    ProcessInfo p;
    p.pid = std::atoi(e.c_str());
    p.comm = FirstLine(*comm);
    auto cmdline = fs.ReadFile(dir + "/cmdline", kMaxCmdlineBytes);
    if (cmdline.ok()) {
      std::string c = *cmdline;
      while (!c.empty() && c.back() == '\0') c.pop_back();
      std::replace(c.begin(), c.end(), '\0', ' ');
      p.cmdline = std::move(c);
    }
    out.push_back(std::move(p));
  }
  return out;
}

StatusOr<std::unique_ptr<ServiceCheck>> ServiceCheck::Create(std::string name,
                                                             ServiceCheckOptions options) {
  std::unique_ptr<ServiceCheck> check(new ServiceCheck(std::move(name), std::move(options)));
  for (const ProcessRule& rule : check->options_.processes) {
    auto compiled = std::make_unique<CompiledRule>();
    compiled->rule = rule;
    if (!rule.cmdline.empty()) {
      SF_RETURN_IF_ERROR(CompileRegex(rule.cmdline, &compiled->re));
      compiled->compiled = true;
    }
    check->rules_.push_back(std::move(compiled));
  }
  return check;
}

ServiceCheck::ServiceCheck(std::string name, ServiceCheckOptions options)
    : Check(std::move(name)), options_(std::move(options)) {}

ServiceCheck::~ServiceCheck() = default;

std::vector<CheckResult> ServiceCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> results;
  UnitResults(ctx, results);
  ProcessResults(ctx, results);
  return results;
}

void ServiceCheck::UnitResults(const CheckContext& ctx, std::vector<CheckResult>& out) {
  if (options_.units.empty()) return;
  auto all_unknown = [&](const std::string& why) {
    for (const std::string& unit : options_.units) {
      CheckResult r = NewResult(ctx, unit);
      r.status = CheckStatus::kUnknown;
      r.summary = why;
      out.push_back(std::move(r));
    }
  };
  if (ctx.commands == nullptr) {
    all_unknown("no command runner to ask systemctl");
    return;
  }
  CommandRequest req;
  req.argv = {options_.systemctl, "show", "--no-pager", kUnitProperties};
  req.argv.insert(req.argv.end(), options_.units.begin(), options_.units.end());
  req.timeout = TimeLeft(ctx, std::chrono::seconds(10));
  auto res = ctx.commands->Run(req);
  if (!res.ok()) {
    all_unknown(res.status().code() == StatusCode::kNotFound
                    ? "systemctl not found: this machine does not run systemd"
                    : "cannot run systemctl: " + res.status().message());
    return;
  }
  if (res->timed_out) {
    all_unknown("systemctl timed out");
    return;
  }
  if (res->exit_code != 0) {
    const std::string err = res->err.empty() ? res->out : res->err;
    if (err.find("not been booted with systemd") != std::string::npos ||
        err.find("Failed to connect to bus") != std::string::npos) {
      auto pid1 = ctx.fs.ReadFile(ctx.proc_root + "/1/comm", 4096);
      std::string init = pid1.ok() ? FirstLine(*pid1) : "unknown";
      all_unknown(
          fmt::format("systemd is not running here (PID 1 is {}): {}", init, FirstLine(err)));
    } else {
      all_unknown(
          fmt::format("systemctl show failed (exit {}): {}", res->exit_code, FirstLine(err)));
    }
    return;
  }
  std::vector<UnitProperties> blocks = ParseSystemctlShow(res->out);
  if (blocks.size() != options_.units.size()) {
    all_unknown(fmt::format("systemctl show printed {} blocks for {} units", blocks.size(),
                            options_.units.size()));
    return;
  }
  std::optional<double> uptime;
  if (auto text = ctx.fs.ReadFile(ctx.proc_root + "/uptime", 4096); text.ok()) {
    uptime = std::strtod(text->c_str(), nullptr);
  }

  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string& unit = options_.units[i];
    UnitProperties& p = blocks[i];
    CheckResult r = NewResult(ctx, unit);
    const std::string load = p["LoadState"];
    const std::string active = p["ActiveState"];
    const std::string sub = p["SubState"];
    const std::string result = p["Result"];
    CheckStatus status = CheckStatus::kOk;
    std::string summary;
    if (load == "not-found") {
      status = CheckStatus::kCritical;
      summary = "not found (not installed?)";
    } else if (load == "masked") {
      status = CheckStatus::kCritical;
      summary = "masked";
    } else if (active == "active") {
      summary = "active (" + sub + ")";
      auto entered = ToInt(p["ActiveEnterTimestampMonotonic"]);
      if (uptime && entered && *entered > 0) {
        double seconds = *uptime - static_cast<double>(*entered) / 1e6;
        if (seconds >= 0) {
          summary += " for " + HumanDuration(static_cast<int64_t>(seconds));
          r.metrics.push_back(
              {"systemd_unit_active_seconds", {{"name", unit}}, seconds, "seconds"});
        }
      }
    } else if (active == "failed") {
      status = CheckStatus::kCritical;
      summary = "failed (" + (result.empty() ? sub : result) + ")";
    } else if (active == "inactive") {
      status = CheckStatus::kCritical;
      summary = "inactive (" + sub + ")";
    } else if (active.empty()) {
      status = CheckStatus::kUnknown;
      summary = "systemctl did not report an ActiveState";
    } else {
      status = CheckStatus::kWarning;  // activating, deactivating, reloading
      summary = active + " (" + sub + ")";
    }
    if (auto restarts = ToInt(p["NRestarts"])) {
      r.metrics.push_back({"node_systemd_service_restart_total",
                           {{"name", unit}},
                           static_cast<double>(*restarts),
                           ""});
      auto prev = restarts_.find(unit);
      if (prev != restarts_.end() && *restarts > prev->second) {
        const int64_t n = *restarts - prev->second;
        status = protocol::WorseStatus(status, CheckStatus::kWarning);
        summary += fmt::format(", restarted {} time{} since the last check ({} in total)", n,
                               n == 1 ? "" : "s", *restarts);
      }
      restarts_[unit] = *restarts;
    }
    for (const char* s : {"active", "activating", "deactivating", "inactive", "failed"}) {
      r.metrics.push_back(
          {"node_systemd_unit_state", {{"name", unit}, {"state", s}}, active == s ? 1.0 : 0.0, ""});
    }
    r.status = status;
    r.summary = std::move(summary);
    r.details_json = nlohmann::json{
        {"load_state", load},
        {"active_state", active},
        {"sub_state", sub},
        {"result",
         result}}.dump();
    out.push_back(std::move(r));
  }
}

void ServiceCheck::ProcessResults(const CheckContext& ctx, std::vector<CheckResult>& out) {
  if (rules_.empty()) return;
  std::vector<ProcessInfo> procs = ScanProcesses(ctx.fs, ctx.proc_root);
  for (const auto& compiled : rules_) {
    const ProcessRule& rule = compiled->rule;
    CheckResult r = NewResult(ctx, "process " + rule.label);
    if (procs.empty()) {
      r.status = CheckStatus::kUnknown;
      r.summary = "cannot list processes under " + ctx.proc_root;
      out.push_back(std::move(r));
      continue;
    }
    std::vector<int> pids;
    for (const ProcessInfo& p : procs) {
      bool match = false;
      if (compiled->compiled) {
        match =
            !p.cmdline.empty() && ::regexec(&compiled->re, p.cmdline.c_str(), 0, nullptr, 0) == 0;
      } else {
        // comm holds at most 15 characters (TASK_COMM_LEN - 1).
        const std::string argv0 = p.cmdline.substr(0, p.cmdline.find(' '));
        match =
            p.comm == rule.name.substr(0, 15) || (!argv0.empty() && Basename(argv0) == rule.name);
      }
      if (match) pids.push_back(p.pid);
    }
    const int64_t count = static_cast<int64_t>(pids.size());
    r.metrics.push_back({"namedprocess_namegroup_num_procs",
                         {{"groupname", rule.label}},
                         static_cast<double>(count),
                         ""});
    std::vector<int> shown(pids.begin(), pids.begin() + std::min<size_t>(pids.size(), 5));
    std::string pid_text = shown.empty() ? ""
                                         : fmt::format(" (pid {}{})", fmt::join(shown, ", "),
                                                       pids.size() > shown.size() ? ", ..." : "");
    std::string summary =
        fmt::format("{} process{} running{}", count, count == 1 ? "" : "es", pid_text);
    CheckStatus status = CheckStatus::kOk;
    if (count < rule.min) {
      status = CheckStatus::kCritical;
      summary += fmt::format(", minimum {}", rule.min);
    } else if (rule.max && count > *rule.max) {
      status = CheckStatus::kWarning;
      summary += fmt::format(", maximum {}", *rule.max);
    }
    r.status = status;
    r.summary = std::move(summary);
    out.push_back(std::move(r));
  }
}

StatusOr<std::unique_ptr<Check>> NewServiceCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(), {"units", "processes", "systemctl"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  ServiceCheckOptions o;
  SF_ASSIGN_OR_RETURN(auto units, n["units"].Items());
  for (const config::ConfigNode& item : units) {
    SF_ASSIGN_OR_RETURN(std::string u, item.String());
    if (u.empty() || u[0] == '-' || std::any_of(u.begin(), u.end(), [](char c) {
          return std::isspace(static_cast<unsigned char>(c)) || c == '/';
        })) {
      return item.Error("expected a systemd unit name like nginx.service");
    }
    if (u.find('.') == std::string::npos) u += ".service";
    o.units.push_back(std::move(u));
  }
  SF_ASSIGN_OR_RETURN(auto procs, n["processes"].Items());
  for (const config::ConfigNode& item : procs) {
    if (!item.IsMap()) return item.Error("expected a mapping like {name: sshd, min: 1}");
    SF_RETURN_IF_ERROR(item.CheckNoUnknownKeys({"name", "cmdline", "min", "max", "label"}));
    ProcessRule rule;
    SF_ASSIGN_OR_RETURN(rule.name, item["name"].String());
    SF_ASSIGN_OR_RETURN(rule.cmdline, item["cmdline"].String());
    if (rule.name.empty() == rule.cmdline.empty()) {
      return item.Error("give exactly one of name (process name) or cmdline (regex)");
    }
    if (!rule.cmdline.empty()) {
      regex_t re;
      Status st = CompileRegex(rule.cmdline, &re);
      if (!st.ok()) return item["cmdline"].Error(st.message());
      ::regfree(&re);
    }
    SF_ASSIGN_OR_RETURN(rule.min, item["min"].Int(1, 0, 1'000'000));
    if (item["max"].present()) {
      SF_ASSIGN_OR_RETURN(int64_t max, item["max"].Int(0, 0, 1'000'000));
      if (max < rule.min) return item["max"].Error("max is below min");
      rule.max = max;
    }
    SF_ASSIGN_OR_RETURN(rule.label,
                        item["label"].String(rule.name.empty() ? rule.cmdline : rule.name));
    o.processes.push_back(std::move(rule));
  }
  if (o.units.empty() && o.processes.empty()) {
    return n.Error("a service check needs at least one of units or processes");
  }
  SF_ASSIGN_OR_RETURN(o.systemctl, n["systemctl"].String("systemctl"));
  if (o.systemctl.empty() ||
      (o.systemctl.find('/') != std::string::npos && o.systemctl[0] != '/')) {
    return n["systemctl"].Error("expected a program name or an absolute path");
  }
  SF_ASSIGN_OR_RETURN(auto check, ServiceCheck::Create(spec.name, std::move(o)));
  return std::unique_ptr<Check>(std::move(check));
}

}  // namespace steadfast::agent
