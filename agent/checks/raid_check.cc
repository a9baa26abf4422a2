#include "agent/checks/raid_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/checks/check_util.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

constexpr size_t kMaxMdstatBytes = 1 << 20;

Metric M(std::string name, double value, std::string unit, const std::string& device,
         std::map<std::string, std::string> extra = {}) {
  extra["device"] = device;
  return MakeMetric(std::move(name), value, std::move(unit), std::move(extra));
}

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string f;
  while (in >> f) out.push_back(f);
  return out;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// "sdb1[1](F)(W)".
std::optional<MdMember> ParseMember(const std::string& token) {
  auto open = token.find('[');
  auto close = token.find(']', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos || open == 0) return std::nullopt;
  MdMember m;
  m.device = token.substr(0, open);
  m.role = std::atoi(token.substr(open + 1, close - open - 1).c_str());
  for (size_t i = close + 1; i + 2 < token.size(); ++i) {
    if (token[i] != '(' || token[i + 2] != ')') continue;
    switch (token[i + 1]) {
      case 'F':
        m.failed = true;
        break;
      case 'S':
        m.spare = true;
        break;
      case 'W':
        m.write_mostly = true;
        break;
      case 'J':
        m.journal = true;
        break;
      case 'R':
        m.replacement = true;
        break;
      default:
        break;
    }
  }
  return m;
}

// "[4/3]" -> (4, 3).
bool ParseDiskCounts(const std::string& token, int* raid, int* working) {
  if (token.size() < 5 || token.front() != '[' || token.back() != ']') return false;
  auto slash = token.find('/');
  if (slash == std::string::npos) return false;
  char* end = nullptr;
  long r = std::strtol(token.c_str() + 1, &end, 10);
  if (end != token.c_str() + slash) return false;
  long w = std::strtol(token.c_str() + slash + 1, &end, 10);
  if (*end != ']') return false;
  *raid = static_cast<int>(r);
  *working = static_cast<int>(w);
  return true;
}

constexpr const char* kSyncActions[] = {"recovery", "resync", "check", "reshape", "repair"};

// A progress line ("[==>...]  recovery = 45.2% (883040256/1953423360) finish=72.4min
// speed=246348K/sec") or a waiting one ("resync=DELAYED"). False if `line` is neither.
bool ParseSyncLine(const std::string& line, MdArray& array) {
  for (const char* action : kSyncActions) {
    size_t at = line.find(action);
    while (at != std::string::npos) {
      // A whole word: "resync" must not match inside another word.
      bool word_start = at == 0 || !std::isalpha(static_cast<unsigned char>(line[at - 1]));
      size_t p = at + std::string(action).size();
      while (p < line.size() && line[p] == ' ') ++p;
      if (word_start && p < line.size() && line[p] == '=') {
        ++p;
        while (p < line.size() && line[p] == ' ') ++p;
        if (p < line.size() && std::isalpha(static_cast<unsigned char>(line[p]))) {
          size_t e = p;
          while (e < line.size() && std::isalpha(static_cast<unsigned char>(line[e]))) ++e;
          array.sync_waiting = line.substr(p, e - p);
          return true;
        }
        MdSync s;
        s.action = action;
        char* end = nullptr;
        s.percent = std::strtod(line.c_str() + p, &end);
        if (end == line.c_str() + p) return false;
        if (auto paren = line.find('(', p); paren != std::string::npos) {
          long long done = 0, total = 0;
          if (std::sscanf(line.c_str() + paren, "(%lld/%lld)", &done, &total) == 2) {
            s.done = done;
            s.total = total;
          }
        }
        if (auto f = line.find("finish=", p); f != std::string::npos) {
          s.remaining_seconds = std::strtod(line.c_str() + f + 7, nullptr) * 60.0;
        }
        if (auto sp = line.find("speed=", p); sp != std::string::npos) {
          s.speed_kib_s = std::strtod(line.c_str() + sp + 6, nullptr);
        }
        array.sync = s;
        return true;
      }
      at = line.find(action, at + 1);
    }
  }
  return false;
}

std::string Verb(const std::string& action) {
  if (action == "recovery" || action == "recover") return "rebuilding";
  if (action == "resync") return "resyncing";
  if (action == "check") return "checking";
  if (action == "reshape") return "reshaping";
  if (action == "repair") return "repairing";
  return action;
}

std::optional<int64_t> ParseInt64(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str()) return std::nullopt;
  return v;
}

// The kernel's sysfs view of one array; fields absent when the file is.
struct MdSysfs {
  std::string array_state;
  std::optional<int64_t> degraded;
  std::string sync_action;
  std::optional<int64_t> completed, total;  // sectors
  std::optional<int64_t> sync_speed;        // KiB/s
  std::optional<int64_t> mismatch_cnt;
};

MdSysfs ReadSysfs(const CheckContext& ctx, const std::string& name) {
  MdSysfs s;
  const std::string dir = ctx.sys_root + "/block/" + name + "/md/";
  auto read = [&](const char* file) -> std::string {
    auto v = ReadTrimmed(ctx.fs, dir + file);
    return v.ok() ? *v : std::string();
  };
  s.array_state = read("array_state");
  s.degraded = ParseInt64(read("degraded"));
  s.sync_action = read("sync_action");
  // "883040256 / 3906846720", or "none" when idle.
  std::string completed = read("sync_completed");
  if (auto slash = completed.find('/'); slash != std::string::npos) {
    s.completed = ParseInt64(completed.substr(0, slash));
    s.total = ParseInt64(completed.substr(completed.find_first_not_of(' ', slash + 1)));
  }
  s.sync_speed = ParseInt64(read("sync_speed"));
  s.mismatch_cnt = ParseInt64(read("mismatch_cnt"));
  return s;
}

}  // namespace

StatusOr<std::vector<MdArray>> ParseMdstat(const std::string& text) {
  std::vector<MdArray> arrays;
  std::istringstream in(text);
  std::string line;
  MdArray* current = nullptr;
  while (std::getline(in, line)) {
    std::vector<std::string> f = Fields(line);
    if (f.empty()) continue;
    if (f.size() >= 3 && f[1] == ":" && StartsWith(f[0], "md")) {
      MdArray a;
      a.name = f[0];
      if (f[2] != "active" && f[2] != "inactive") {
        return InvalidArgumentError(
            fmt::format("mdstat: {}: expected active or inactive, got '{}'", a.name, f[2]));
      }
      a.active = f[2] == "active";
      for (size_t i = 3; i < f.size(); ++i) {
        const std::string& t = f[i];
        if (t.size() > 2 && t.front() == '(' && t.back() == ')') {
          a.read_only = t.substr(1, t.size() - 2);
        } else if (t.find('[') != std::string::npos) {
          if (auto m = ParseMember(t)) a.members.push_back(std::move(*m));
        } else if (a.level.empty()) {
          a.level = t;
        }
      }
      arrays.push_back(std::move(a));
      current = &arrays.back();
      continue;
    }
    if (f[0] == "Personalities" || f[0] == "unused") {
      current = nullptr;
      continue;
    }
    if (current == nullptr) continue;
    if (f.size() >= 2 && f[1] == "blocks") {
      current->blocks = ParseInt64(f[0]).value_or(0);
      for (size_t i = 2; i < f.size(); ++i) {
        if (ParseDiskCounts(f[i], &current->raid_disks, &current->working_disks) &&
            i + 1 < f.size() && f[i + 1].size() > 2 && f[i + 1].front() == '[') {
          current->member_map = f[i + 1].substr(1, f[i + 1].size() - 2);
        }
      }
      continue;
    }
    ParseSyncLine(line, *current);
  }
  return arrays;
}

std::vector<CheckResult> RaidCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> results;
  const std::string path = ctx.proc_root + "/mdstat";
  auto text = ctx.fs.ReadFile(path, kMaxMdstatBytes);
  std::vector<MdArray> arrays;
  std::string none_reason;
  if (!text.ok()) {
    if (text.status().code() != StatusCode::kNotFound) {
      CheckResult r = NewResult(ctx, "md");
      r.status = CheckStatus::kUnknown;
      r.summary = "cannot read " + path + ": " + text.status().message();
      results.push_back(std::move(r));
      return results;
    }
    none_reason = "no md arrays (" + path + " does not exist: the md driver is not loaded)";
  } else {
    auto parsed = ParseMdstat(*text);
    if (!parsed.ok()) {
      CheckResult r = NewResult(ctx, "md");
      r.status = CheckStatus::kUnknown;
      r.summary = "cannot parse " + path + ": " + parsed.status().message();
      results.push_back(std::move(r));
      return results;
    }
    arrays = std::move(parsed).value();
    none_reason = "no md arrays";
  }

  for (const MdArray& a : arrays) {
    if (!options_.arrays.empty() && std::find(options_.arrays.begin(), options_.arrays.end(),
                                              a.name) == options_.arrays.end()) {
      continue;
    }
    results.push_back(ArrayResult(ctx, a));
  }
  for (const std::string& name : options_.arrays) {
    bool found =
        std::any_of(arrays.begin(), arrays.end(), [&](const MdArray& a) { return a.name == name; });
    if (found) continue;
    CheckResult r = NewResult(ctx, name);
    r.status = CheckStatus::kCritical;
    r.summary = name + " does not exist (not assembled?)";
    results.push_back(std::move(r));
  }
  if (results.empty()) {
    CheckResult r = NewResult(ctx, "md");
    r.status = options_.required ? CheckStatus::kUnknown : CheckStatus::kOk;
    r.summary = none_reason;
    results.push_back(std::move(r));
  }
  return results;
}

CheckResult RaidCheck::ArrayResult(const CheckContext& ctx, const MdArray& array) const {
  CheckResult r = NewResult(ctx, array.name);
  const MdSysfs sys = ReadSysfs(ctx, array.name);
  const std::string& dev = array.name;

  bool active = array.active && sys.array_state != "inactive" && sys.array_state != "clear";
  const bool broken = sys.array_state == "broken";
  int raid_disks = array.raid_disks;
  int missing = raid_disks > 0 ? std::max(0, raid_disks - array.working_disks) : 0;
  if (sys.degraded) missing = static_cast<int>(*sys.degraded);

  std::optional<MdSync> sync = array.sync;
  if (!sync && !sys.sync_action.empty() && sys.sync_action != "idle" &&
      sys.sync_action != "frozen") {
    MdSync s;
    s.action = sys.sync_action == "recover" ? "recovery" : sys.sync_action;
    if (sys.completed && sys.total && *sys.total > 0) {
      s.done = sys.completed;
      s.total = sys.total;
      s.percent = 100.0 * static_cast<double>(*sys.completed) / static_cast<double>(*sys.total);
    }
    if (sys.sync_speed && *sys.sync_speed > 0 && s.done && s.total) {
      s.speed_kib_s = static_cast<double>(*sys.sync_speed);
      // Sectors are 512 bytes; the speed is in KiB/s.
      s.remaining_seconds = static_cast<double>(*s.total - *s.done) / 2.0 / *s.speed_kib_s;
    }
    sync = s;
  }

  std::vector<std::string> failed, spares, members;
  for (const MdMember& m : array.members) {
    if (m.failed) {
      failed.push_back(m.device);
    } else if (m.spare) {
      spares.push_back(m.device);
    } else {
      members.push_back(m.device);
    }
  }

  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> parts;
  const std::string level = array.level.empty() ? "md" : array.level;
  std::string counts;
  if (raid_disks > 0) {
    counts = fmt::format(" [{}/{}] [{}]", raid_disks, raid_disks - missing, array.member_map);
  }
  if (!active) {
    status = CheckStatus::kCritical;
    std::vector<std::string> all = members;
    all.insert(all.end(), spares.begin(), spares.end());
    parts.push_back(
        fmt::format("{} inactive (assembled from {} but not started)", level,
                    all.empty() ? "no members" : fmt::format("{}", fmt::join(all, ", "))));
  } else if (broken) {
    status = CheckStatus::kCritical;
    parts.push_back(level + " broken (a member is missing)" + counts);
  } else if (missing > 0) {
    status = CheckStatus::kCritical;
    parts.push_back(fmt::format("{} degraded{} ({} of {} members missing)", level, counts, missing,
                                raid_disks));
  } else {
    parts.push_back(level + " healthy" + counts);
  }
  if (!failed.empty()) {
    status = protocol::WorseStatus(status, CheckStatus::kWarning);
    parts.push_back(fmt::format("failed: {}", fmt::join(failed, ", ")));
  }
  if (sync && active) {
    std::string text = fmt::format("{} {:.1f}%", Verb(sync->action), sync->percent);
    if (sync->remaining_seconds) {
      text += ", ETA " + HumanDuration(static_cast<int64_t>(*sync->remaining_seconds));
    }
    parts.push_back(text);
    if (sync->action != "check") status = protocol::WorseStatus(status, CheckStatus::kWarning);
  }
  if (!array.sync_waiting.empty()) {
    parts.push_back("resync pending (" + array.sync_waiting + ")");
    status = protocol::WorseStatus(status, CheckStatus::kWarning);
  }
  if (sys.mismatch_cnt && *sys.mismatch_cnt > 0) {
    parts.push_back(fmt::format("{} mismatched sectors", *sys.mismatch_cnt));
    if (options_.mismatch_warning && *sys.mismatch_cnt >= *options_.mismatch_warning) {
      status = protocol::WorseStatus(status, CheckStatus::kWarning);
    }
  }
  if (!spares.empty() && active) {
    parts.push_back(fmt::format("{} spare{}", spares.size(), spares.size() == 1 ? "" : "s"));
  }
  if (!array.read_only.empty()) parts.push_back(array.read_only);
  r.status = status;
  r.summary = fmt::format("{}", fmt::join(parts, ", "));

  const double active_disks = static_cast<double>(members.size());
  r.metrics.push_back(M("node_md_disks", active_disks, "", dev, {{"state", "active"}}));
  r.metrics.push_back(
      M("node_md_disks", static_cast<double>(failed.size()), "", dev, {{"state", "failed"}}));
  r.metrics.push_back(
      M("node_md_disks", static_cast<double>(spares.size()), "", dev, {{"state", "spare"}}));
  if (raid_disks > 0) r.metrics.push_back(M("node_md_disks_required", raid_disks, "", dev));
  r.metrics.push_back(M("md_degraded_disks", missing, "", dev));
  const std::string action = sync && active ? sync->action : "";
  const std::string state = !active                ? "inactive"
                            : action == "recovery" ? "recovering"
                            : action == "resync"   ? "resync"
                            : action == "check"    ? "check"
                                                   : "active";
  for (const char* s : {"active", "inactive", "recovering", "resync", "check"}) {
    r.metrics.push_back(M("node_md_state", state == s ? 1 : 0, "", dev, {{"state", s}}));
  }
  r.metrics.push_back(M("node_md_blocks", static_cast<double>(array.blocks), "", dev));
  if (sync && active) {
    if (sync->done && array.sync) {
      r.metrics.push_back(M("node_md_blocks_synced", static_cast<double>(*sync->done), "", dev));
    }
    r.metrics.push_back(M("md_sync_progress_ratio", sync->percent / 100.0, "ratio", dev));
    if (sync->remaining_seconds) {
      r.metrics.push_back(M("md_sync_remaining_seconds", *sync->remaining_seconds, "seconds", dev));
    }
  }
  if (sys.mismatch_cnt) {
    r.metrics.push_back(
        M("md_mismatch_sectors", static_cast<double>(*sys.mismatch_cnt), "sectors", dev));
  }

  nlohmann::json details = {{"level", array.level},
                            {"active", active},
                            {"members", members},
                            {"failed", failed},
                            {"spares", spares}};
  if (!sys.array_state.empty()) details["array_state"] = sys.array_state;
  if (sync && active) details["sync_action"] = sync->action;
  r.details_json = details.dump();
  return r;
}

StatusOr<std::unique_ptr<Check>> NewRaidCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(), {"arrays", "required", "mismatch_warning"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  RaidCheckOptions o;
  SF_ASSIGN_OR_RETURN(o.arrays, n["arrays"].StringList());
  SF_ASSIGN_OR_RETURN(auto items, n["arrays"].Items());
  for (const config::ConfigNode& item : items) {
    SF_ASSIGN_OR_RETURN(std::string a, item.String());
    if (a.size() < 3 || a.compare(0, 2, "md") != 0 || a.find('/') != std::string::npos) {
      return item.Error("expected an md array name like md0 (without /dev/)");
    }
  }
  SF_ASSIGN_OR_RETURN(o.required, n["required"].Bool(true));
  if (n["mismatch_warning"].present()) {
    SF_ASSIGN_OR_RETURN(int64_t v, n["mismatch_warning"].Int(0, 1, INT64_MAX));
    o.mismatch_warning = v;
  }
  return std::unique_ptr<Check>(std::make_unique<RaidCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
