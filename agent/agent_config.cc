#include "agent/agent_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "agent/checks/check_util.h"
#include "agent/host_port.h"
#include "agent/uplink_monitor.h"

namespace steadfast::agent {
namespace {

constexpr int64_t kSecond = 1'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

bool ValidCheckName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

Status ParseUplink(const config::ConfigNode& n, UplinkConfig* u) {
  SF_RETURN_IF_ERROR(
      n.CheckNoUnknownKeys({"batch_size", "interval", "timeout", "max_backoff", "spool_max_rows", "poll_interval"}));
  SF_ASSIGN_OR_RETURN(u->batch_size, n["batch_size"].Int(500, 1, 10'000));
  SF_ASSIGN_OR_RETURN(u->interval_ms, n["interval"].DurationMillis(5 * kSecond, 100, kHour));
  SF_ASSIGN_OR_RETURN(u->timeout_ms, n["timeout"].DurationMillis(10 * kSecond, kSecond, kMinute));
  SF_ASSIGN_OR_RETURN(u->max_backoff_ms, n["max_backoff"].DurationMillis(kMinute, kSecond, kDay));
  SF_ASSIGN_OR_RETURN(u->spool_max_rows, n["spool_max_rows"].Int(100'000, 100, 100'000'000));
  SF_ASSIGN_OR_RETURN(u->poll_interval_ms, n["poll_interval"].DurationMillis(15 * kSecond, kSecond, kHour));
  return OkStatus();
}

Status ParseActions(const config::ConfigNode& n, const std::vector<BackupJobConfig>& jobs, ActionsConfig* a) {
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"allowed"}));
  SF_ASSIGN_OR_RETURN(a->allowed, n["allowed"].StringList());
  for (const std::string& name : a->allowed) {
    if (std::find(std::begin(kKnownActions), std::end(kKnownActions), name) == std::end(kKnownActions)) {
      return n["allowed"].Error("unknown action '" + name + "' (known: emergency_backup)");
    }
    if (name == "emergency_backup" && jobs.empty()) {
      return n["allowed"].Error("emergency_backup needs backup_jobs to run");
    }
  }
  return OkStatus();
}

Status ParseSpool(const config::ConfigNode& n, const config::ConfigNode& uplink_rows,
                  SpoolConfig* s) {
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"max_rows", "max_bytes", "max_age"}));
  if (n["max_rows"].present() && uplink_rows.present()) {
    return uplink_rows.Error("set spool.max_rows only (uplink.spool_max_rows is its older name)");
  }
  const config::ConfigNode rows = n["max_rows"].present() ? n["max_rows"] : uplink_rows;
  SF_ASSIGN_OR_RETURN(s->max_rows, rows.Int(100'000, 100, 100'000'000));
  SF_ASSIGN_OR_RETURN(s->max_bytes, ReadByteSize(n["max_bytes"], int64_t{256} << 20, int64_t{1} << 20,
                                               int64_t{1} << 40));
  SF_ASSIGN_OR_RETURN(s->max_age_ms, n["max_age"].DurationMillis(7 * kDay, kMinute, 365 * kDay));
  return OkStatus();
}

Status ReadRoot(const config::ConfigNode& root, const std::string& key, std::string* value) {
  SF_ASSIGN_OR_RETURN(*value, root[key].String(*value));
  if (value->empty() || value->front() != '/') {
    return root[key].Error("expected an absolute directory path");
  }
  return OkStatus();
}

Status ParseChecks(const config::ConfigNode& list, const CheckRegistry& registry,
                   std::vector<CheckSpec>* out) {
  if (list.present() && !list.IsList()) return list.Error("expected a list of checks");
  SF_ASSIGN_OR_RETURN(std::vector<config::ConfigNode> items, list.Items());
  std::set<std::string> names;
  for (const config::ConfigNode& item : items) {
    if (!item.IsMap()) return item.Error("expected a mapping with name, type and settings");
    CheckSpec spec;
    spec.node = item;
    SF_ASSIGN_OR_RETURN(spec.name, item["name"].RequiredString());
    if (!ValidCheckName(spec.name)) {
      return item["name"].Error("check names use letters, digits, '-', '_' and '.' (at most 64)");
    }
    if (spec.name == kUplinkCheckName) {
      return item["name"].Error(fmt::format(
          "the name '{}' is reserved for the agent's report on its link to the collector",
          spec.name));
    }
    if (!names.insert(spec.name).second) {
      return item["name"].Error(fmt::format("duplicate check name '{}'", spec.name));
    }
    SF_ASSIGN_OR_RETURN(spec.type, item["type"].RequiredString());
    if (!registry.Has(spec.type)) {
      return item["type"].Error(fmt::format("unknown check type '{}' (known: {})", spec.type,
                                            fmt::join(registry.Types(), ", ")));
    }
    SF_ASSIGN_OR_RETURN(spec.interval_ms, item["interval"].DurationMillis(kMinute, kSecond, kDay));
    // A run still going when the next is due would only be skipped; so the default leaves at
    // least half the interval.
    SF_ASSIGN_OR_RETURN(spec.timeout_ms,
                        item["timeout"].DurationMillis(std::min(10 * kSecond, spec.interval_ms / 2),
                                                       10, kHour));
    if (spec.timeout_ms >= spec.interval_ms) {
      return item["timeout"].Error(fmt::format("must be shorter than the interval ({} ms), got {} ms",
                                               spec.interval_ms, spec.timeout_ms));
    }
    // Build once to validate the type-specific keys; the agent builds its own instance later.
    auto check = registry.Create(spec);
    if (!check.ok()) return check.status();
    out->push_back(std::move(spec));
  }
  return OkStatus();
}

}  // namespace

StatusOr<AgentConfig> ParseAgentConfig(const config::ConfigDocument& doc,
                                       const CheckRegistry& registry) {
  const config::ConfigNode& root = doc.root();
  SF_RETURN_IF_ERROR(root.CheckNoUnknownKeys(
      {"collector_url", "enrollment_token", "enrollment_token_file", "state_dir", "metrics_listen",
       "proc_root", "sys_root", "dev_root", "etc_root", "var_root", "check_workers", "log",
       "uplink", "spool", "tls", "checks", "backup_jobs", "backup_program", "actions"}));
  AgentConfig c;
  SF_ASSIGN_OR_RETURN(c.collector_url, root["collector_url"].RequiredString());
  if (c.collector_url.rfind("http://", 0) != 0 && c.collector_url.rfind("https://", 0) != 0) {
    return root["collector_url"].Error("expected an http:// or https:// URL, got '" +
                                       c.collector_url + "'");
  }
  while (c.collector_url.back() == '/') c.collector_url.pop_back();
  if (c.collector_url == "http:" || c.collector_url == "https:" ||
      c.collector_url.find("://") + 3 >= c.collector_url.size()) {
    return root["collector_url"].Error("the URL has no host");
  }

  SF_ASSIGN_OR_RETURN(c.enrollment_token, root["enrollment_token"].String());
  SF_ASSIGN_OR_RETURN(c.enrollment_token_file, root["enrollment_token_file"].String());
  if (!c.enrollment_token.empty() && !c.enrollment_token_file.empty()) {
    return root["enrollment_token_file"].Error(
        "set enrollment_token or enrollment_token_file, not both");
  }
  if (!c.enrollment_token_file.empty() && c.enrollment_token_file.front() != '/') {
    return root["enrollment_token_file"].Error("expected an absolute path");
  }

  SF_ASSIGN_OR_RETURN(c.state_dir, root["state_dir"].String(c.state_dir));
  if (c.state_dir.empty() || c.state_dir.front() != '/') {
    return root["state_dir"].Error("expected an absolute directory path");
  }
  SF_RETURN_IF_ERROR(ReadRoot(root, "proc_root", &c.proc_root));
  SF_RETURN_IF_ERROR(ReadRoot(root, "sys_root", &c.sys_root));
  SF_RETURN_IF_ERROR(ReadRoot(root, "dev_root", &c.dev_root));
  SF_RETURN_IF_ERROR(ReadRoot(root, "etc_root", &c.etc_root));
  SF_RETURN_IF_ERROR(ReadRoot(root, "var_root", &c.var_root));
  SF_ASSIGN_OR_RETURN(c.check_workers, root["check_workers"].Int(4, 1, 64));
  SF_ASSIGN_OR_RETURN(c.backup_jobs, ParseBackupJobs(root["backup_jobs"]));
  SF_ASSIGN_OR_RETURN(c.backup_program, root["backup_program"].String());
  if (!c.backup_program.empty() && c.backup_program.front() != '/') {
    return root["backup_program"].Error("expected an absolute path");
  }

  SF_ASSIGN_OR_RETURN(c.metrics_listen, root["metrics_listen"].String());
  if (!c.metrics_listen.empty()) {
    std::string host;
    uint16_t port = 0;
    Status st = SplitHostPort(c.metrics_listen, &host, &port);
    if (!st.ok()) return root["metrics_listen"].Error(st.message());
  }

  const config::ConfigNode log = root["log"];
  SF_RETURN_IF_ERROR(log.CheckNoUnknownKeys({"format", "level"}));
  SF_ASSIGN_OR_RETURN(std::string format, log["format"].Enum({"text", "json"}, "text"));
  c.log.format = format == "json" ? LogFormat::kJson : LogFormat::kText;
  SF_ASSIGN_OR_RETURN(
      c.log.level, log["level"].Enum({"trace", "debug", "info", "warn", "error", "off"}, "info"));
  c.log.component = "steadfast-agent";

  SF_RETURN_IF_ERROR(ParseUplink(root["uplink"], &c.uplink));
  SF_RETURN_IF_ERROR(ParseActions(root["actions"], c.backup_jobs, &c.actions));
  SF_RETURN_IF_ERROR(ParseSpool(root["spool"], root["uplink"]["spool_max_rows"], &c.spool));
  c.uplink.spool_max_rows = c.spool.max_rows;

  const config::ConfigNode tls = root["tls"];
  SF_RETURN_IF_ERROR(tls.CheckNoUnknownKeys({"ca_file", "insecure_skip_verify"}));
  SF_ASSIGN_OR_RETURN(c.tls.ca_file, tls["ca_file"].String());
  SF_ASSIGN_OR_RETURN(c.tls.insecure_skip_verify, tls["insecure_skip_verify"].Bool(false));

  SF_RETURN_IF_ERROR(ParseChecks(root["checks"], registry, &c.checks));
  return c;
}

StatusOr<AgentConfig> LoadAgentConfig(const std::string& path, const CheckRegistry& registry) {
  SF_ASSIGN_OR_RETURN(config::ConfigDocument doc, config::ConfigDocument::Load(path));
  SF_ASSIGN_OR_RETURN(AgentConfig c, ParseAgentConfig(doc, registry));
  c.source = path;
  return c;
}

StatusOr<AgentConfig> ParseAgentConfigText(const std::string& yaml, const std::string& file_name,
                                           const CheckRegistry& registry) {
  SF_ASSIGN_OR_RETURN(config::ConfigDocument doc, config::ConfigDocument::Parse(yaml, file_name));
  SF_ASSIGN_OR_RETURN(AgentConfig c, ParseAgentConfig(doc, registry));
  c.source = file_name;
  return c;
}

}  // namespace steadfast::agent
