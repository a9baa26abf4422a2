#include "agent/checks/disk_health_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "agent/command_runner.h"

namespace steadfast::agent {
namespace {

using nlohmann::json;
using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

constexpr std::chrono::seconds kDeviceTimeout{30};
constexpr size_t kMaxOutputBytes = 4 << 20;

// smartctl exit status bits (smartctl(8), RETURN VALUES).
constexpr int kBitCommandLine = 1 << 0;
constexpr int kBitOpenFailed = 1 << 1;
constexpr int kBitSmartCommandFailed = 1 << 2;
constexpr int kBitDiskFailing = 1 << 3;
constexpr int kBitPrefailNow = 1 << 4;
constexpr int kBitFailedInPast = 1 << 5;
constexpr int kBitSelfTestErrors = 1 << 7;

// ATA attribute ids the check grades.
constexpr int kReallocated = 5;
constexpr int kPending = 197;
constexpr int kUncorrectable = 198;

std::optional<int64_t> Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<int64_t>();
}

const json& Child(const json& j, const char* key) {
  static const json kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Metric M(std::string name, double value, std::string unit, const std::string& device,
         std::map<std::string, std::string> extra = {}) {
  extra["device"] = device;
  return MakeMetric(std::move(name), value, std::move(unit), std::move(extra));
}

std::string Joined(const std::vector<std::string>& v, const char* sep) {
  return fmt::format("{}", fmt::join(v, sep));
}

bool Mentions(const std::vector<std::string>& messages, const char* needle) {
  return std::any_of(messages.begin(), messages.end(),
                     [&](const std::string& m) { return m.find(needle) != std::string::npos; });
}

// NVMe critical warning bits (NVMe base specification, SMART / Health Information log).
std::vector<std::string> DecodeCriticalWarning(int64_t bits) {
  static const std::pair<int64_t, const char*> kBits[] = {
      {0x01, "available spare below threshold"},
      {0x02, "temperature outside its thresholds"},
      {0x04, "reliability degraded by media or internal errors"},
      {0x08, "media placed in read-only mode"},
      {0x10, "volatile memory backup failed"},
      {0x20, "persistent memory region read-only"}};
  std::vector<std::string> out;
  for (const auto& [bit, text] : kBits) {
    if ((bits & bit) != 0) out.push_back(text);
  }
  return out;
}

}  // namespace

StatusOr<SmartReport> ParseSmartctlJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("smartctl")) {
    return InvalidArgumentError("not smartctl JSON output");
  }
  SmartReport r;
  const json& sc = Child(j, "smartctl");
  r.exit_status = static_cast<int>(Int(sc, "exit_status").value_or(0));
  for (const json& m : Child(sc, "messages").is_array() ? Child(sc, "messages") : json::array()) {
    if (Str(m, "severity") == "error" || Str(m, "severity").empty())
      r.errors.push_back(Str(m, "string"));
  }
  r.protocol = Str(Child(j, "device"), "protocol");
  r.model = Str(j, "model_name");
  if (r.model.empty()) r.model = Str(j, "scsi_model_name");
  r.serial = Str(j, "serial_number");
  r.firmware = Str(j, "firmware_version");
  if (r.firmware.empty()) r.firmware = Str(j, "scsi_revision");
  r.capacity_bytes = static_cast<uint64_t>(Int(Child(j, "user_capacity"), "bytes").value_or(0));
  const json& status = Child(j, "smart_status");
  if (status.is_object() && status.contains("passed") && status["passed"].is_boolean()) {
    r.passed = status["passed"].get<bool>();
  }
  if (auto t = Int(Child(j, "temperature"), "current")) r.temperature = static_cast<double>(*t);
  r.power_on_hours = Int(Child(j, "power_on_time"), "hours");
  const json& table = Child(Child(j, "ata_smart_attributes"), "table");
  if (table.is_array()) {
    for (const json& a : table) {
      AtaAttribute attr;
      attr.id = static_cast<int>(Int(a, "id").value_or(0));
      attr.name = Str(a, "name");
      attr.value = static_cast<int>(Int(a, "value").value_or(0));
      attr.worst = static_cast<int>(Int(a, "worst").value_or(0));
      attr.thresh = static_cast<int>(Int(a, "thresh").value_or(0));
      attr.raw = Int(Child(a, "raw"), "value").value_or(0);
      attr.when_failed = Str(a, "when_failed");
      if (attr.id > 0) r.attributes[attr.id] = attr;
    }
  }
  r.error_log_count = Int(Child(Child(j, "ata_smart_error_log"), "summary"), "count");
  const json& nvme = Child(j, "nvme_smart_health_information_log");
  if (nvme.is_object()) {
    r.critical_warning = Int(nvme, "critical_warning");
    r.available_spare = Int(nvme, "available_spare");
    r.available_spare_threshold = Int(nvme, "available_spare_threshold");
    r.percentage_used = Int(nvme, "percentage_used");
    r.media_errors = Int(nvme, "media_errors");
    r.num_err_log_entries = Int(nvme, "num_err_log_entries");
    if (!r.temperature) {
      if (auto t = Int(nvme, "temperature")) r.temperature = static_cast<double>(*t);
    }
    if (!r.power_on_hours) r.power_on_hours = Int(nvme, "power_on_hours");
  }
  r.grown_defects = Int(j, "scsi_grown_defect_list");
  const json& counters = Child(j, "scsi_error_counter_log");
  if (counters.is_object()) {
    auto read = Int(Child(counters, "read"), "total_uncorrected_errors");
    auto write = Int(Child(counters, "write"), "total_uncorrected_errors");
    if (read || write) r.uncorrected_errors = read.value_or(0) + write.value_or(0);
  }
  return r;
}

StatusOr<std::vector<SmartDeviceSpec>> ParseSmartctlScan(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("smartctl")) {
    return InvalidArgumentError("not smartctl JSON output");
  }
  std::vector<SmartDeviceSpec> out;
  const json& devices = Child(j, "devices");
  if (!devices.is_array()) return out;
  for (const json& d : devices) {
    SmartDeviceSpec s;
    s.name = Str(d, "name");
    s.type = Str(d, "type");
    // On Linux "scsi" also covers SATA disks behind libata: autodetection finds SAT there,
    // while an explicit -d scsi would read them as plain SCSI.
    if (s.type == "scsi") s.type.clear();
    if (!s.name.empty()) out.push_back(std::move(s));
  }
  return out;
}

std::vector<CheckResult> DiskHealthCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> results;
  auto single = [&](CheckStatus status, std::string summary) {
    CheckResult r = NewResult(ctx, "disks");
    r.status = status;
    r.summary = std::move(summary);
    results.push_back(std::move(r));
    return results;
  };
  if (ctx.commands == nullptr)
    return single(CheckStatus::kUnknown, "no command runner to run smartctl");

  std::vector<SmartDeviceSpec> devices = options_.devices;
  if (devices.empty()) {
    CommandRequest req;
    req.argv = options_.smartctl;
    req.argv.insert(req.argv.end(), {"--scan", "--json"});
    req.timeout = TimeLeft(ctx, std::chrono::seconds(10));
    req.max_output_bytes = kMaxOutputBytes;
    auto res = ctx.commands->Run(req);
    if (!res.ok()) {
      return single(CheckStatus::kUnknown,
                    res.status().code() == StatusCode::kNotFound
                        ? "smartctl is not installed (Debian package smartmontools)"
                        : "cannot run smartctl: " + res.status().message());
    }
    if (res->timed_out) return single(CheckStatus::kUnknown, "smartctl --scan timed out");
    auto scanned = ParseSmartctlScan(res->out);
    if (!scanned.ok()) {
      return single(CheckStatus::kUnknown,
                    fmt::format("smartctl --scan failed (exit {}): {}", res->exit_code,
                                res->err.substr(0, res->err.find('\n'))));
    }
    for (SmartDeviceSpec& d : *scanned) {
      if (std::find(options_.exclude.begin(), options_.exclude.end(), d.name) ==
          options_.exclude.end()) {
        devices.push_back(std::move(d));
      }
    }
    if (devices.empty()) {
      return single(options_.required ? CheckStatus::kUnknown : CheckStatus::kOk,
                    "no SMART-capable devices (smartctl --scan found none; virtual disks have "
                    "no SMART)");
    }
  }
  for (const SmartDeviceSpec& d : devices) results.push_back(DeviceResult(ctx, d));
  return results;
}

CheckResult DiskHealthCheck::DeviceResult(const CheckContext& ctx, const SmartDeviceSpec& device) {
  const std::string target = device.type.find(',') != std::string::npos
                                 ? device.name + " [" + device.type + "]"
                                 : device.name;
  auto unknown = [&](std::string why) {
    CheckResult r = NewResult(ctx, target);
    r.status = CheckStatus::kUnknown;
    r.summary = std::move(why);
    return r;
  };
  std::string type = device.type;
  if (type.empty() && needs_sat_.count(device.name) != 0) type = "sat";
  for (int attempt = 0; attempt < 2; ++attempt) {
    CommandRequest req;
    req.argv = options_.smartctl;
    req.argv.insert(req.argv.end(), {"--json", "-a"});
    if (!type.empty()) req.argv.insert(req.argv.end(), {"-d", type});
    req.argv.push_back(device.name);
    req.timeout = TimeLeft(ctx, kDeviceTimeout);
    req.max_output_bytes = kMaxOutputBytes;
    auto res = ctx.commands->Run(req);
    if (!res.ok()) {
      return unknown(res.status().code() == StatusCode::kNotFound
                         ? "smartctl is not installed (Debian package smartmontools)"
                         : "cannot run smartctl: " + res.status().message());
    }
    if (res->timed_out) return unknown("smartctl timed out (a disk that does not answer?)");
    if (res->exit_code < 0)
      return unknown(fmt::format("smartctl killed by signal {}", res->term_signal));
    auto report = ParseSmartctlJson(res->out);
    if (!report.ok()) {
      return unknown(fmt::format("smartctl printed no JSON (exit {}): {}", res->exit_code,
                                 res->err.substr(0, res->err.find('\n'))));
    }
    // The process exit status is the authority; the JSON copy says the same.
    report->exit_status = res->exit_code;
    if ((report->exit_status & (kBitCommandLine | kBitOpenFailed)) == 0) {
      return Grade(ctx, {device.name, type}, *report);
    }
    if (attempt == 0 && type.empty() && Mentions(report->errors, "Unknown USB bridge")) {
      type = "sat";  // most USB-SATA bridges pass SAT commands through
      continue;
    }
    std::string why =
        report->errors.empty() ? std::string("no message") : Joined(report->errors, " ");
    if (Mentions(report->errors, "Permission denied") ||
        Mentions(report->errors, "Operation not permitted")) {
      why +=
          " (smartctl needs root, or CAP_SYS_RAWIO and CAP_SYS_ADMIN: see the privileges "
          "section of agent/README.md)";
    }
    return unknown(
        fmt::format("cannot read SMART data (smartctl exit {}): {}", report->exit_status, why));
  }
  return unknown("cannot read SMART data");
}

CheckResult DiskHealthCheck::Grade(const CheckContext& ctx, const SmartDeviceSpec& device,
                                   const SmartReport& s) {
  if (device.type == "sat" && device.name.rfind("/dev/", 0) == 0) needs_sat_.insert(device.name);
  const std::string target = device.type.find(',') != std::string::npos
                                 ? device.name + " [" + device.type + "]"
                                 : device.name;
  CheckResult r = NewResult(ctx, target);
  const bool nvme = s.protocol == "NVMe" || s.critical_warning.has_value();
  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> problems;
  auto flag = [&](CheckStatus st, std::string text) {
    status = protocol::WorseStatus(status, st);
    problems.push_back(std::move(text));
  };

  if (s.passed == std::optional<bool>(false) || (s.exit_status & kBitDiskFailing) != 0) {
    flag(CheckStatus::kCritical, "SMART overall-health FAILED");
  }
  for (const auto& [id, a] : s.attributes) {
    if (a.when_failed == "now") {
      flag(CheckStatus::kCritical,
           fmt::format("{} at or below its threshold ({} <= {})", a.name, a.value, a.thresh));
    } else if (a.when_failed == "past") {
      flag(CheckStatus::kWarning,
           fmt::format("{} was at or below its threshold in the past", a.name));
    }
  }
  if ((s.exit_status & kBitPrefailNow) != 0 &&
      std::none_of(s.attributes.begin(), s.attributes.end(),
                   [](const auto& kv) { return kv.second.when_failed == "now"; })) {
    flag(CheckStatus::kCritical, "a pre-failure attribute is at or below its threshold");
  }
  if ((s.exit_status & kBitFailedInPast) != 0 &&
      std::none_of(s.attributes.begin(), s.attributes.end(),
                   [](const auto& kv) { return !kv.second.when_failed.empty(); })) {
    flag(CheckStatus::kWarning, "an attribute was at or below its threshold in the past");
  }

  Counters now;
  auto raw = [&](int id) -> std::optional<int64_t> {
    auto it = s.attributes.find(id);
    if (it == s.attributes.end()) return std::nullopt;
    return it->second.raw;
  };
  now.reallocated = s.grown_defects ? s.grown_defects : raw(kReallocated);
  now.pending = raw(kPending);
  now.uncorrectable = s.uncorrected_errors ? s.uncorrected_errors : raw(kUncorrectable);
  now.media_errors = s.media_errors;
  // ATA's error log only: many NVMe controllers add an error-log entry for every smartctl run
  // (a log page they do not support), so num_err_log_entries growth means nothing.
  now.error_log = s.error_log_count;
  const std::string key = s.serial.empty() ? device.name : s.serial;
  auto prev_it = previous_.find(key);
  const Counters* prev = prev_it == previous_.end() ? nullptr : &prev_it->second;

  // Grades a counter against its thresholds and its value at the previous run.
  auto counter = [&](const std::optional<int64_t>& value,
                     const std::optional<int64_t> Counters::*field, const Thresholds& t,
                     const std::string& what) {
    if (!value) return;
    CheckStatus st = t.Grade(static_cast<double>(*value));
    std::string text = fmt::format("{} {}", *value, what);
    const std::optional<int64_t>* before = prev ? &(prev->*field) : nullptr;
    if (before && before->has_value() && *value > **before) {
      st = protocol::WorseStatus(st, CheckStatus::kWarning);
      text += fmt::format(" (grew from {} since the last check)", **before);
    }
    if (st != CheckStatus::kOk) flag(st, text);
  };
  const bool sas = s.grown_defects.has_value();
  counter(now.reallocated, &Counters::reallocated, options_.reallocated,
          sas ? "grown defects" : "reallocated sectors");
  counter(now.pending, &Counters::pending, options_.pending, "pending sectors");
  counter(now.uncorrectable, &Counters::uncorrectable, options_.uncorrectable,
          sas ? "uncorrected errors" : "offline uncorrectable sectors");
  counter(now.media_errors, &Counters::media_errors, options_.media_errors, "media errors");
  if (now.error_log && prev && prev->error_log && *now.error_log > *prev->error_log) {
    flag(CheckStatus::kWarning,
         fmt::format("error log grew from {} to {} entries", *prev->error_log, *now.error_log));
  }
  if ((s.exit_status & kBitSelfTestErrors) != 0)
    flag(CheckStatus::kWarning, "self-test log shows errors");

  if (nvme) {
    if (s.critical_warning && *s.critical_warning != 0) {
      flag(CheckStatus::kCritical,
           fmt::format("critical warning 0x{:02x}: {}", *s.critical_warning,
                       Joined(DecodeCriticalWarning(*s.critical_warning), ", ")));
    }
    if (s.available_spare && s.available_spare_threshold &&
        *s.available_spare <= *s.available_spare_threshold) {
      flag(CheckStatus::kCritical, fmt::format("available spare {}% <= threshold {}%",
                                               *s.available_spare, *s.available_spare_threshold));
    }
    if (s.percentage_used) {
      CheckStatus st = options_.percentage_used.Grade(static_cast<double>(*s.percentage_used));
      if (st != CheckStatus::kOk) {
        flag(st, fmt::format("{}% of rated endurance used", *s.percentage_used));
      }
    }
  }
  if (s.temperature) {
    CheckStatus st =
        (nvme ? options_.nvme_temperature : options_.temperature).Grade(*s.temperature);
    if (st != CheckStatus::kOk) flag(st, fmt::format("temperature {:.0f}°C", *s.temperature));
  }
  previous_[key] = now;

  std::vector<std::string> info;
  if (s.temperature) info.push_back(fmt::format("{:.0f}°C", *s.temperature));
  if (s.power_on_hours) info.push_back(fmt::format("{} h powered on", *s.power_on_hours));
  if (nvme && s.percentage_used && problems.empty()) {
    info.push_back(fmt::format("{}% used", *s.percentage_used));
  }
  if ((s.exit_status & kBitSmartCommandFailed) != 0) info.push_back("some SMART commands failed");
  std::string who = s.model.empty() ? device.name : s.model;
  if (!s.serial.empty()) who += " (" + s.serial + ")";
  std::string head =
      problems.empty() ? (s.passed ? "SMART passed" : "no SMART verdict") : Joined(problems, "; ");
  r.status = status;
  r.summary = who + ": " + head + (info.empty() ? "" : ", " + Joined(info, ", "));

  r.metrics.push_back(M("smartctl_device_smartctl_exit_status", s.exit_status, "", target));
  if (s.passed)
    r.metrics.push_back(M("smartctl_device_smart_status", *s.passed ? 1 : 0, "", target));
  if (s.temperature) {
    r.metrics.push_back(M("smartctl_device_temperature", *s.temperature, "celsius", target,
                          {{"temperature_type", "current"}}));
  }
  if (s.power_on_hours) {
    r.metrics.push_back(M("smartctl_device_power_on_seconds",
                          static_cast<double>(*s.power_on_hours) * 3600.0, "seconds", target));
  }
  for (int id : {kReallocated, kPending, kUncorrectable}) {
    auto it = s.attributes.find(id);
    if (it == s.attributes.end()) continue;
    r.metrics.push_back(M("smartctl_device_attribute", static_cast<double>(it->second.raw), "",
                          target,
                          {{"attribute_id", std::to_string(id)},
                           {"attribute_name", it->second.name},
                           {"attribute_value_type", "raw"}}));
  }
  if (s.error_log_count) {
    r.metrics.push_back(M("smartctl_device_error_log_count",
                          static_cast<double>(*s.error_log_count), "", target,
                          {{"error_log_type", "summary"}}));
  }
  auto opt_metric = [&](const char* name, const std::optional<int64_t>& v, const char* unit) {
    if (v) r.metrics.push_back(M(name, static_cast<double>(*v), unit, target));
  };
  opt_metric("smartctl_device_percentage_used", s.percentage_used, "percent");
  opt_metric("smartctl_device_media_errors", s.media_errors, "");
  opt_metric("smartctl_device_critical_warning", s.critical_warning, "");
  opt_metric("smartctl_device_available_spare", s.available_spare, "percent");
  opt_metric("smartctl_device_available_spare_threshold", s.available_spare_threshold, "percent");
  opt_metric("smartctl_device_num_err_log_entries", s.num_err_log_entries, "");
  opt_metric("smartctl_device_scsi_grown_defect_list", s.grown_defects, "");

  json details = {{"model", s.model},
                  {"serial", s.serial},
                  {"firmware", s.firmware},
                  {"protocol", s.protocol},
                  {"capacity_bytes", s.capacity_bytes},
                  {"smartctl_exit_status", s.exit_status}};
  if (!device.type.empty()) details["device_type"] = device.type;
  r.details_json = details.dump();
  return r;
}

StatusOr<std::unique_ptr<Check>> NewDiskHealthCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(
      known.end(),
      {"devices", "exclude", "smartctl", "required", "reallocated_warning", "reallocated_critical",
       "pending_warning", "pending_critical", "uncorrectable_warning", "uncorrectable_critical",
       "media_errors_warning", "media_errors_critical", "percentage_used_warning",
       "percentage_used_critical", "temperature_warning_celsius", "temperature_critical_celsius",
       "nvme_temperature_warning_celsius", "nvme_temperature_critical_celsius"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  DiskHealthCheckOptions o;
  auto valid_type = [](const std::string& t) {
    return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == ',' || c == '_' || c == '+' ||
             c == '-' || c == '/';
    });
  };
  SF_ASSIGN_OR_RETURN(auto devices, n["devices"].Items());
  for (const config::ConfigNode& item : devices) {
    SmartDeviceSpec d;
    if (item.IsMap()) {
      SF_RETURN_IF_ERROR(item.CheckNoUnknownKeys({"device", "type"}));
      SF_ASSIGN_OR_RETURN(d.name, item["device"].RequiredString());
      SF_ASSIGN_OR_RETURN(d.type, item["type"].String());
      if (item["type"].present() && !valid_type(d.type)) {
        return item["type"].Error("expected a smartctl -d type like sat, nvme or megaraid,0");
      }
      if (d.name.empty() || d.name[0] != '/') {
        return item["device"].Error("expected a device path like /dev/sda");
      }
    } else {
      SF_ASSIGN_OR_RETURN(d.name, item.String());
      if (d.name.empty() || d.name[0] != '/')
        return item.Error("expected a device path like /dev/sda");
    }
    o.devices.push_back(std::move(d));
  }
  SF_ASSIGN_OR_RETURN(o.exclude, n["exclude"].StringList());
  if (n["smartctl"].present()) {
    if (n["smartctl"].IsList()) {
      SF_ASSIGN_OR_RETURN(o.smartctl, n["smartctl"].StringList());
    } else {
      SF_ASSIGN_OR_RETURN(std::string program, n["smartctl"].String());
      o.smartctl = {program};
    }
    if (o.smartctl.empty() || o.smartctl[0].empty() ||
        (o.smartctl[0].find('/') != std::string::npos && o.smartctl[0][0] != '/')) {
      return n["smartctl"].Error("expected a program name or an absolute path (or a list)");
    }
  }
  SF_ASSIGN_OR_RETURN(o.required, n["required"].Bool(true));
  // A threshold set to 0 is switched off (0 would otherwise match every disk).
  auto thresholds = [&](const std::string& prefix, const std::string& suffix, Thresholds fallback,
                        double max, Thresholds* out) -> Status {
    SF_ASSIGN_OR_RETURN(Thresholds t,
                        ReadThresholds(n, prefix + "warning" + suffix, prefix + "critical" + suffix,
                                       fallback.warning, fallback.critical, 0, max));
    if (t.warning == std::optional<double>(0)) t.warning.reset();
    if (t.critical == std::optional<double>(0)) t.critical.reset();
    *out = t;
    return OkStatus();
  };
  SF_RETURN_IF_ERROR(thresholds("reallocated_", "", o.reallocated, 1e12, &o.reallocated));
  SF_RETURN_IF_ERROR(thresholds("pending_", "", o.pending, 1e12, &o.pending));
  SF_RETURN_IF_ERROR(thresholds("uncorrectable_", "", o.uncorrectable, 1e12, &o.uncorrectable));
  SF_RETURN_IF_ERROR(thresholds("media_errors_", "", o.media_errors, 1e12, &o.media_errors));
  SF_RETURN_IF_ERROR(
      thresholds("percentage_used_", "", o.percentage_used, 255, &o.percentage_used));
  SF_RETURN_IF_ERROR(thresholds("temperature_", "_celsius", o.temperature, 150, &o.temperature));
  SF_RETURN_IF_ERROR(
      thresholds("nvme_temperature_", "_celsius", o.nvme_temperature, 150, &o.nvme_temperature));
  return std::unique_ptr<Check>(std::make_unique<DiskHealthCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
