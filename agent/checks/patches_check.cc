#include "agent/checks/patches_check.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "agent/command_runner.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

constexpr size_t kMaxOutputBytes = 8 << 20;

bool IsSecurityOrigin(const std::string& origins) {
  return origins.find("-security") != std::string::npos ||
         origins.find("Debian-Security") != std::string::npos;
}

// The first "E: ..." line of apt's stderr, else its first line.
std::string AptError(const std::string& err) {
  std::istringstream in(err);
  std::string line, first;
  while (std::getline(in, line)) {
    if (first.empty() && !line.empty()) first = line;
    if (line.rfind("E: ", 0) == 0) return line;
  }
  return first;
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string Plural(size_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

std::vector<PendingUpdate> ParseAptSimulation(const std::string& text) {
  std::vector<PendingUpdate> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Inst ", 0) != 0) continue;
    PendingUpdate u;
    size_t p = 5;
    size_t sp = line.find(' ', p);
    u.package = line.substr(p, sp == std::string::npos ? std::string::npos : sp - p);
    if (u.package.empty()) continue;
    if (sp == std::string::npos) {
      out.push_back(std::move(u));
      continue;
    }
    p = sp + 1;
    if (p < line.size() && line[p] == '[') {
      size_t close = line.find(']', p);
      if (close == std::string::npos) continue;
      u.current_version = line.substr(p + 1, close - p - 1);
      p = close + 2;
    }
    if (p < line.size() && line[p] == '(') {
      // "(2.36-9+deb12u4 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])"
      size_t close = line.find(')', p);
      std::string inner =
          line.substr(p + 1, close == std::string::npos ? std::string::npos : close - p - 1);
      size_t vsp = inner.find(' ');
      u.new_version = inner.substr(0, vsp);
      if (vsp != std::string::npos) {
        std::string rest = inner.substr(vsp + 1);
        size_t arch = rest.rfind(" [");
        u.origins = arch == std::string::npos ? rest : rest.substr(0, arch);
      }
    }
    u.security = IsSecurityOrigin(u.origins);
    out.push_back(std::move(u));
  }
  return out;
}

std::vector<PendingUpdate> ParseDnfCheckUpdate(const std::string& text, bool security) {
  std::vector<PendingUpdate> out;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> pending;  // tokens of a record dnf wrapped over two lines
  while (std::getline(in, line)) {
    if (line.rfind("Obsoleting Packages", 0) == 0) break;
    std::istringstream fields(line);
    std::vector<std::string> f;
    std::string t;
    while (fields >> t) f.push_back(t);
    if (f.empty()) continue;
    if (pending.empty() && (f[0].back() == ':' || f[0].find('.') == std::string::npos)) {
      continue;  // "Security: ...", "Last metadata expiration check: ..."
    }
    pending.insert(pending.end(), f.begin(), f.end());
    if (pending.size() < 3) continue;
    PendingUpdate u;
    u.package = pending[0];
    u.new_version = pending[1];
    u.origins = pending[2];
    u.security = security;
    out.push_back(std::move(u));
    pending.clear();
  }
  return out;
}

StatusOr<int64_t> PosixMtimeMillis(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return NotFoundError(path + ": no such file");
    return UnavailableError("stat " + path + ": " + std::strerror(err));
  }
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

std::optional<int64_t> PatchesCheck::NewestListsMtime(const CheckContext& ctx) const {
  std::optional<int64_t> newest;
  auto consider = [&](const std::string& path) {
    auto m = mtime_(path);
    if (m.ok() && (!newest || *m > *newest)) newest = *m;
  };
  const std::string lists = ctx.var_root + "/lib/apt/lists";
  if (auto names = ctx.fs.ListDirectory(lists); names.ok()) {
    for (const std::string& n : *names) {
      if (n.size() >= 7 && n.compare(n.size() - 7, 7, "Release") == 0) consider(lists + "/" + n);
    }
    consider(lists + "/partial");
  }
  consider(ctx.var_root + "/lib/apt/periodic/update-success-stamp");
  return newest;
}

StatusOr<PatchesCheck::Scan> PatchesCheck::ScanApt(const CheckContext& ctx) {
  // The simulation depends only on the installed packages and the lists: skip it while
  // neither changed.
  auto status_mtime = mtime_(ctx.var_root + "/lib/dpkg/status");
  const std::string key = fmt::format("apt:{}:{}", status_mtime.ok() ? *status_mtime : -1,
                                      NewestListsMtime(ctx).value_or(-1));
  const int64_t now = ctx.clock.NowMillis();
  if (cached_ && cached_->manager == "apt" && key == cache_key_ &&
      now - cached_at_ms_ < options_.recheck_interval.count()) {
    return *cached_;
  }
  CommandRequest req;
  req.argv = {options_.apt_get,
              "--simulate",
              "--quiet=2",
              "-o",
              "Debug::NoLocking=1",
              "-o",
              "APT::Get::Show-User-Simulation-Note=false",
              "dist-upgrade"};
  req.timeout = TimeLeft(ctx, std::chrono::minutes(2));
  req.max_output_bytes = kMaxOutputBytes;
  SF_ASSIGN_OR_RETURN(CommandResult res, ctx.commands->Run(req));
  if (res.timed_out) return DeadlineExceededError("apt-get --simulate timed out");
  if (res.exit_code != 0) {
    return UnavailableError(fmt::format("apt-get --simulate failed (exit {}): {}", res.exit_code,
                                        AptError(res.err.empty() ? res.out : res.err)));
  }
  if (res.out_truncated) return UnavailableError("apt-get --simulate printed too much");
  Scan scan;
  scan.manager = "apt";
  scan.updates = ParseAptSimulation(res.out);
  cached_ = scan;
  cache_key_ = key;
  cached_at_ms_ = now;
  return scan;
}

StatusOr<PatchesCheck::Scan> PatchesCheck::ScanDnf(const CheckContext& ctx) {
  auto rpmdb = mtime_(ctx.var_root + "/lib/rpm");
  const std::string key = fmt::format("dnf:{}", rpmdb.ok() ? *rpmdb : -1);
  const int64_t now = ctx.clock.NowMillis();
  if (cached_ && cached_->manager == "dnf" && key == cache_key_ &&
      now - cached_at_ms_ < options_.recheck_interval.count()) {
    return *cached_;
  }
  auto run = [&](std::vector<std::string> args) -> StatusOr<CommandResult> {
    CommandRequest req;
    req.argv = {options_.dnf, "-q"};
    req.argv.insert(req.argv.end(), args.begin(), args.end());
    req.timeout = TimeLeft(ctx, std::chrono::minutes(2));
    req.max_output_bytes = kMaxOutputBytes;
    SF_ASSIGN_OR_RETURN(CommandResult res, ctx.commands->Run(req));
    if (res.timed_out) return DeadlineExceededError("dnf timed out");
    return res;
  };
  Scan scan;
  scan.manager = "dnf";
  std::set<std::string> security;
  for (bool sec : {true, false}) {
    std::vector<std::string> args = {"check-update"};
    if (sec) args.push_back("--security");
    SF_ASSIGN_OR_RETURN(CommandResult res, run(args));
    // 100: updates available; 0: none; anything else is an error.
    if (res.exit_code != 0 && res.exit_code != 100) {
      return UnavailableError(fmt::format("dnf check-update failed (exit {}): {}", res.exit_code,
                                          FirstLine(res.err.empty() ? res.out : res.err)));
    }
    for (PendingUpdate& u : ParseDnfCheckUpdate(res.out, sec)) {
      if (sec) {
        security.insert(u.package);
      } else {
        u.security = security.count(u.package) != 0;
        scan.updates.push_back(std::move(u));
      }
    }
  }
  auto restart = run({"needs-restarting", "-r"});
  if (restart.ok() && restart->err.find("No such command") == std::string::npos) {
    if (restart->exit_code == 1) scan.reboot_required = true;
    if (restart->exit_code == 0) scan.reboot_required = false;
  }
  cached_ = scan;
  cache_key_ = key;
  cached_at_ms_ = now;
  return scan;
}

void PatchesCheck::UpdateFirstSeen(const CheckContext& ctx,
                                   const std::vector<PendingUpdate>& updates,
                                   std::string* state_problem) {
  if (!state_loaded_) {
    state_loaded_ = true;
    if (!options_.state_file.empty()) {
      auto text = ctx.fs.ReadFile(options_.state_file, 4 << 20);
      if (text.ok()) {
        nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
        if (j.is_object() && j["security_first_seen_ms"].is_object()) {
          for (const auto& [pkg, ms] : j["security_first_seen_ms"].items()) {
            if (ms.is_number_integer()) first_seen_ms_[pkg] = ms.get<int64_t>();
          }
        } else {
          *state_problem = "state file " + options_.state_file + " is damaged; starting afresh";
        }
      } else if (text.status().code() != StatusCode::kNotFound) {
        *state_problem = "cannot read " + options_.state_file + ": " + text.status().message();
      }
    }
  }
  const int64_t now = ctx.clock.NowMillis();
  std::set<std::string> pending;
  bool changed = false;
  for (const PendingUpdate& u : updates) {
    if (!u.security) continue;
    pending.insert(u.package);
    if (first_seen_ms_.emplace(u.package, now).second) changed = true;
  }
  for (auto it = first_seen_ms_.begin(); it != first_seen_ms_.end();) {
    if (pending.count(it->first) == 0) {
      it = first_seen_ms_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) dirty_ = true;
  // Not at the first run: `steadfast-agent --once` runs each check once and promises to leave
  // the state directory alone. A daemon saves at its second run.
  if (dirty_ && runs_ >= 2 && !options_.state_file.empty()) {
    nlohmann::json j = {{"security_first_seen_ms", first_seen_ms_}};
    Status st = ctx.fs.WriteFileAtomic(options_.state_file, j.dump() + "\n", 0644);
    if (st.ok()) {
      dirty_ = false;
    } else {
      *state_problem = "cannot save " + options_.state_file + ": " + st.message();
    }
  }
}

std::vector<CheckResult> PatchesCheck::Run(const CheckContext& ctx) {
  ++runs_;
  CheckResult r = NewResult(ctx, "packages");
  std::vector<CheckResult> results;
  auto fail = [&](const std::string& why) {
    r.status = CheckStatus::kUnknown;
    r.summary = why;
    results.push_back(std::move(r));
    return results;
  };
  if (ctx.commands == nullptr) return fail("no command runner to ask the package manager");

  StatusOr<Scan> scan = NotFoundError("no package manager tried");
  if (options_.package_manager == "dnf") {
    scan = ScanDnf(ctx);
  } else {
    scan = ScanApt(ctx);
    if (!scan.ok() && scan.status().code() == StatusCode::kNotFound &&
        options_.package_manager == "auto") {
      scan = ScanDnf(ctx);
      if (!scan.ok() && scan.status().code() == StatusCode::kNotFound) {
        return fail("neither apt-get nor dnf is installed");
      }
    }
  }
  if (!scan.ok()) return fail(scan.status().message());

  std::string state_problem;
  UpdateFirstSeen(ctx, scan->updates, &state_problem);
  const int64_t now = ctx.clock.NowMillis();
  std::vector<std::string> security;
  int64_t oldest_ms = 0;
  std::string oldest_pkg;
  for (const PendingUpdate& u : scan->updates) {
    if (!u.security) continue;
    security.push_back(u.package);
    auto it = first_seen_ms_.find(u.package);
    const int64_t waited = it == first_seen_ms_.end() ? 0 : std::max<int64_t>(0, now - it->second);
    if (waited > oldest_ms || oldest_pkg.empty()) {
      oldest_ms = std::max(oldest_ms, waited);
      oldest_pkg = u.package;
    }
  }
  const size_t total = scan->updates.size();
  r.metrics.push_back(MakeMetric("patches_pending", static_cast<double>(total), ""));
  r.metrics.push_back(
      MakeMetric("patches_security_pending", static_cast<double>(security.size()), ""));
  r.metrics.push_back(MakeMetric("patches_security_oldest_pending_seconds",
                                 static_cast<double>(oldest_ms) / 1000.0, "seconds"));

  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> parts;
  if (total == 0) {
    parts.push_back("no updates pending");
  } else if (security.empty()) {
    parts.push_back(Plural(total, "update") + " pending, none for security");
  } else {
    // Waiting times count from when this agent first saw each update: on the first run (and
    // in --once, which keeps no state) that is now, so say so rather than "0m 0s".
    const std::string waiting = oldest_ms < 60'000
                                    ? fmt::format("first seen now, e.g. {}", oldest_pkg)
                                    : fmt::format("oldest waiting {}: {}",
                                                  HumanDuration(oldest_ms / 1000), oldest_pkg);
    parts.push_back(fmt::format("{} pending ({}), {} in total",
                                Plural(security.size(), "security update"), waiting, total));
  }
  if (options_.security_warning &&
      static_cast<int64_t>(security.size()) >= *options_.security_warning) {
    status = protocol::WorseStatus(status, CheckStatus::kWarning);
  }
  if (options_.security_critical_days && !security.empty() &&
      static_cast<double>(oldest_ms) >= *options_.security_critical_days * 86'400'000.0) {
    status = protocol::WorseStatus(status, CheckStatus::kCritical);
  }
  if (options_.updates_warning && static_cast<int64_t>(total) >= *options_.updates_warning) {
    status = protocol::WorseStatus(status, CheckStatus::kWarning);
  }

  nlohmann::json details = {
      {"manager", scan->manager}, {"pending", total}, {"security_packages", security}};
  if (scan->manager == "apt") {
    auto newest = NewestListsMtime(ctx);
    if (newest) {
      const int64_t age_ms = std::max<int64_t>(0, now - *newest);
      r.metrics.push_back(MakeMetric("patches_package_lists_age_seconds",
                                     static_cast<double>(age_ms) / 1000.0, "seconds"));
      parts.push_back("package lists " + HumanDuration(age_ms / 1000) + " old");
      if (options_.lists_warning_days &&
          static_cast<double>(age_ms) >= *options_.lists_warning_days * 86'400'000.0) {
        status = protocol::WorseStatus(status, CheckStatus::kWarning);
      }
    } else {
      parts.push_back("package lists never downloaded (apt-get update has not run)");
      if (options_.lists_warning_days)
        status = protocol::WorseStatus(status, CheckStatus::kWarning);
    }
  }

  bool reboot = false;
  std::vector<std::string> reboot_pkgs;
  if (scan->manager == "apt") {
    reboot = ctx.fs.Exists(options_.reboot_required_file);
    if (reboot) {
      auto pkgs = ctx.fs.ReadFile(options_.reboot_required_file + ".pkgs", 1 << 20);
      if (pkgs.ok()) {
        std::istringstream in(*pkgs);
        std::string p;
        std::set<std::string> seen;
        while (in >> p) {
          if (seen.insert(p).second) reboot_pkgs.push_back(p);
        }
      }
    }
  } else {
    reboot = scan->reboot_required.value_or(false);
  }
  r.metrics.push_back(MakeMetric("node_reboot_required", reboot ? 1 : 0, ""));
  if (reboot) {
    parts.push_back(reboot_pkgs.empty()
                        ? std::string("reboot required")
                        : fmt::format("reboot required ({})", fmt::join(reboot_pkgs, ", ")));
    status = protocol::WorseStatus(status, options_.reboot_required);
    details["reboot_required_packages"] = reboot_pkgs;
  }
  if (!state_problem.empty()) details["state_problem"] = state_problem;
  r.status = status;
  r.summary = fmt::format("{}", fmt::join(parts, "; "));
  r.details_json = details.dump();
  results.push_back(std::move(r));
  return results;
}

StatusOr<std::unique_ptr<Check>> NewPatchesCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"package_manager", "apt_get", "dnf", "security_warning", "security_critical_days",
                "updates_warning", "lists_warning_days", "reboot_required", "reboot_required_file",
                "state_file", "recheck_interval"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  PatchesCheckOptions o;
  SF_ASSIGN_OR_RETURN(o.package_manager, n["package_manager"].Enum({"auto", "apt", "dnf"}, "auto"));
  for (const char* key : {"apt_get", "dnf"}) {
    SF_ASSIGN_OR_RETURN(std::string v,
                        n[key].String(key == std::string("dnf") ? "dnf" : "apt-get"));
    if (v.empty() || (v.find('/') != std::string::npos && v[0] != '/')) {
      return n[key].Error("expected a program name or an absolute path");
    }
    (key == std::string("dnf") ? o.dnf : o.apt_get) = v;
  }
  // A count or day threshold of 0 disables it.
  auto optional_int = [&](const char* key, std::optional<int64_t> fallback,
                          std::optional<int64_t>* out) -> Status {
    if (!n[key].present()) {
      *out = fallback;
      return OkStatus();
    }
    SF_ASSIGN_OR_RETURN(int64_t v, n[key].Int(0, 0, 1'000'000));
    *out = v == 0 ? std::nullopt : std::optional<int64_t>(v);
    return OkStatus();
  };
  auto optional_days = [&](const char* key, std::optional<double> fallback,
                           std::optional<double>* out) -> Status {
    if (!n[key].present()) {
      *out = fallback;
      return OkStatus();
    }
    SF_ASSIGN_OR_RETURN(double v, n[key].Double(0, 0, 3650));
    *out = v == 0 ? std::nullopt : std::optional<double>(v);
    return OkStatus();
  };
  SF_RETURN_IF_ERROR(optional_int("security_warning", 1, &o.security_warning));
  SF_RETURN_IF_ERROR(optional_int("updates_warning", std::nullopt, &o.updates_warning));
  SF_RETURN_IF_ERROR(optional_days("security_critical_days", 7.0, &o.security_critical_days));
  SF_RETURN_IF_ERROR(optional_days("lists_warning_days", 7.0, &o.lists_warning_days));
  SF_ASSIGN_OR_RETURN(std::string reboot,
                      n["reboot_required"].Enum({"ok", "warning", "critical"}, "warning"));
  o.reboot_required = reboot == "ok"         ? CheckStatus::kOk
                      : reboot == "critical" ? CheckStatus::kCritical
                                             : CheckStatus::kWarning;
  SF_ASSIGN_OR_RETURN(o.reboot_required_file,
                      n["reboot_required_file"].String(o.reboot_required_file));
  if (o.reboot_required_file.empty() || o.reboot_required_file[0] != '/') {
    return n["reboot_required_file"].Error("expected an absolute path");
  }
  SF_ASSIGN_OR_RETURN(o.state_file, n["state_file"].String(o.state_file));
  if (!o.state_file.empty() && o.state_file[0] != '/') {
    return n["state_file"].Error("expected an absolute path (or \"\" to keep state in memory)");
  }
  SF_ASSIGN_OR_RETURN(int64_t recheck, n["recheck_interval"].DurationMillis(
                                           o.recheck_interval.count(), 60'000, 7LL * 86'400'000));
  o.recheck_interval = std::chrono::milliseconds(recheck);
  return std::unique_ptr<Check>(std::make_unique<PatchesCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
