#include "agent/checks/sensors_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "agent/checks/check_util.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

std::optional<double> ReadNumber(FileSystem& fs, const std::string& path) {
  auto text = ReadTrimmed(fs, path);
  if (!text.ok() || text->empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text->c_str(), &end);
  if (end == text->c_str()) return std::nullopt;
  return v;
}

// Like node_exporter: anything but [a-zA-Z0-9_] becomes '_'.
std::string CleanName(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

// "<bus>_<device>" from where the chip's `device` link points, e.g. /sys/devices/platform/
// coretemp.0 -> "platform_coretemp_0". hwmonN numbers follow driver load order, so they are not
// stable across reboots; device paths are. Symlinks are resolved on the real filesystem
// (FileSystem has no readlink); fixture trees carry real links.
std::string ChipId(const std::string& chip_dir, const std::string& name) {
  std::error_code ec;
  std::filesystem::path dev = std::filesystem::canonical(chip_dir + "/device", ec);
  if (!ec) {
    std::string dev_name = CleanName(dev.filename().string());
    std::string bus = CleanName(dev.parent_path().filename().string());
    if (!dev_name.empty() && !bus.empty()) return bus + "_" + dev_name;
    if (!dev_name.empty()) return dev_name;
  }
  return CleanName(name);
}

// "temp12_input" -> (kind, "temp12", 12).
bool ParseInputFile(const std::string& file, HwmonKind* kind, std::string* sensor, int* index) {
  static const std::pair<const char*, HwmonKind> kPrefixes[] = {
      {"temp", HwmonKind::kTemperature}, {"fan", HwmonKind::kFan}, {"in", HwmonKind::kVoltage}};
  const std::string suffix = "_input";
  if (file.size() <= suffix.size() ||
      file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  std::string base = file.substr(0, file.size() - suffix.size());
  for (const auto& [prefix, k] : kPrefixes) {
    std::string p = prefix;
    if (base.size() <= p.size() || base.compare(0, p.size(), p) != 0) continue;
    std::string digits = base.substr(p.size());
    if (!std::all_of(digits.begin(), digits.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      continue;
    }
    *kind = k;
    *sensor = base;
    *index = std::atoi(digits.c_str());
    return true;
  }
  return false;
}

Metric M(std::string name, double value, std::string unit, const std::string& chip,
         const std::string& sensor) {
  return MakeMetric(std::move(name), value, std::move(unit), {{"chip", chip}, {"sensor", sensor}});
}

std::string Display(const HwmonSensor& s) { return s.label.empty() ? s.sensor : s.label; }

// "846–1024 RPM", or "900 RPM" when all fans agree.
std::string RpmRange(double lo, double hi) {
  if (lo == hi) return fmt::format("{:.0f} RPM", lo);
  return fmt::format("{:.0f}–{:.0f} RPM", lo, hi);
}

}  // namespace

StatusOr<std::vector<HwmonChip>> ReadHwmonChips(FileSystem& fs, const std::string& sys_root) {
  const std::string base = sys_root + "/class/hwmon";
  SF_ASSIGN_OR_RETURN(std::vector<std::string> dirs, fs.ListDirectory(base));
  std::vector<HwmonChip> chips;
  for (const std::string& d : dirs) {
    if (d.compare(0, 5, "hwmon") != 0) continue;
    const std::string dir = base + "/" + d;
    auto files = fs.ListDirectory(dir);
    if (!files.ok()) continue;
    HwmonChip chip;
    chip.dir = d;
    auto name = ReadTrimmed(fs, dir + "/name");
    chip.name = name.ok() && !name->empty() ? *name : d;
    chip.id = ChipId(dir, chip.name);
    std::vector<std::pair<std::pair<int, int>, HwmonSensor>> found;
    for (const std::string& f : *files) {
      HwmonSensor s;
      int index = 0;
      if (!ParseInputFile(f, &s.kind, &s.sensor, &index)) continue;
      const std::string prefix = dir + "/" + s.sensor;
      // A sensor whose input cannot be read (EIO/ENODATA from a disabled channel) is skipped.
      auto value = ReadNumber(fs, prefix + "_input");
      if (!value) continue;
      // sysfs units: millidegrees Celsius, RPM, millivolts.
      const double scale = s.kind == HwmonKind::kFan ? 1.0 : 1000.0;
      s.value = *value / scale;
      auto scaled = [&](const char* suffix) -> std::optional<double> {
        auto v = ReadNumber(fs, prefix + suffix);
        if (!v) return std::nullopt;
        return *v / scale;
      };
      s.min = scaled("_min");
      s.max = scaled("_max");
      s.crit = scaled("_crit");
      s.crit_alarm = ReadNumber(fs, prefix + "_crit_alarm").value_or(0) != 0;
      s.fault = ReadNumber(fs, prefix + "_fault").value_or(0) != 0;
      auto label = ReadTrimmed(fs, prefix + "_label");
      if (label.ok()) s.label = *label;
      found.push_back({{static_cast<int>(s.kind), index}, std::move(s)});
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [key, s] : found) chip.sensors.push_back(std::move(s));
    chips.push_back(std::move(chip));
  }
  return chips;
}

bool SensorsCheck::Excluded(const HwmonChip& chip, const HwmonSensor& sensor) const {
  for (const std::string& e : options_.exclude_sensors) {
    auto slash = e.find('/');
    std::string chip_part = slash == std::string::npos ? "" : e.substr(0, slash);
    std::string sensor_part = slash == std::string::npos ? e : e.substr(slash + 1);
    if (!chip_part.empty() && chip_part != chip.name && chip_part != chip.id) continue;
    if (sensor_part == sensor.sensor || (!sensor.label.empty() && sensor_part == sensor.label)) {
      return true;
    }
  }
  return false;
}

std::vector<CheckResult> SensorsCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> results;
  auto chips = ReadHwmonChips(ctx.fs, ctx.sys_root);
  if (!chips.ok() && chips.status().code() != StatusCode::kNotFound) {
    CheckResult r = NewResult(ctx, "hwmon");
    r.status = CheckStatus::kUnknown;
    r.summary = "cannot list hwmon chips: " + chips.status().message();
    results.push_back(std::move(r));
    return results;
  }
  if (chips.ok()) {
    for (const HwmonChip& chip : *chips) {
      if (!options_.chips.empty() &&
          std::none_of(options_.chips.begin(), options_.chips.end(),
                       [&](const std::string& c) { return c == chip.name || c == chip.id; })) {
        continue;
      }
      results.push_back(ChipResult(ctx, chip));
    }
  }
  if (results.empty()) {
    CheckResult r = NewResult(ctx, "hwmon");
    r.status = options_.required ? CheckStatus::kUnknown : CheckStatus::kOk;
    if (!chips.ok()) {
      r.summary = "no hwmon sensors (" + ctx.sys_root +
                  "/class/hwmon does not exist: no hardware monitoring driver, e.g. a virtual "
                  "machine)";
    } else if (chips->empty()) {
      r.summary = "no hwmon sensors";
    } else {
      r.summary = "no hwmon chip matched `chips`";
    }
    results.push_back(std::move(r));
  }
  return results;
}

CheckResult SensorsCheck::ChipResult(const CheckContext& ctx, const HwmonChip& chip) const {
  CheckResult r = NewResult(ctx, chip.id);
  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> problems;
  auto problem = [&](CheckStatus s, std::string text) {
    status = protocol::WorseStatus(status, s);
    problems.push_back(std::move(text));
  };
  Metric names;
  names.name = "node_hwmon_chip_names";
  names.labels = {{"chip", chip.id}, {"chip_name", chip.name}};
  names.value = 1;
  r.metrics.push_back(std::move(names));

  const HwmonSensor* hottest = nullptr;
  int temps = 0, fans = 0, volts = 0, faults = 0;
  double fan_lo = 0, fan_hi = 0;
  nlohmann::json sensors = nlohmann::json::array();
  for (const HwmonSensor& s : chip.sensors) {
    if (Excluded(chip, s)) continue;
    nlohmann::json js = {{"sensor", s.sensor}, {"value", s.value}};
    if (!s.label.empty()) js["label"] = s.label;
    const std::string name = Display(s);
    switch (s.kind) {
      case HwmonKind::kTemperature: {
        if (s.fault) {
          ++faults;
          js["fault"] = true;
          break;
        }
        ++temps;
        // Kernel limits of 0 °C or below are unprogrammed registers, not real limits.
        std::optional<double> warn = options_.temperature_warning;
        if (!warn && s.max && *s.max > 0) warn = s.max;
        std::optional<double> crit = options_.temperature_critical;
        if (!crit && s.crit && *s.crit > 0) crit = s.crit;
        r.metrics.push_back(M("node_hwmon_temp_celsius", s.value, "celsius", chip.id, s.sensor));
        if (s.max) {
          r.metrics.push_back(
              M("node_hwmon_temp_max_celsius", *s.max, "celsius", chip.id, s.sensor));
        }
        if (s.crit) {
          r.metrics.push_back(
              M("node_hwmon_temp_crit_celsius", *s.crit, "celsius", chip.id, s.sensor));
        }
        if ((crit && s.value >= *crit) || s.crit_alarm) {
          problem(CheckStatus::kCritical,
                  crit ? fmt::format("{} {:.1f}°C >= critical {:.1f}°C", name, s.value, *crit)
                       : fmt::format("{} {:.1f}°C, critical alarm", name, s.value));
        } else if (warn && s.value >= *warn) {
          problem(CheckStatus::kWarning,
                  fmt::format("{} {:.1f}°C >= high {:.1f}°C", name, s.value, *warn));
        }
        if (hottest == nullptr || s.value > hottest->value) hottest = &s;
        break;
      }
      case HwmonKind::kFan: {
        std::optional<double> min = options_.fan_min_rpm;
        if (!min && s.min && *s.min > 0) min = s.min;
        r.metrics.push_back(M("node_hwmon_fan_rpm", s.value, "rpm", chip.id, s.sensor));
        if (s.min)
          r.metrics.push_back(M("node_hwmon_fan_min_rpm", *s.min, "rpm", chip.id, s.sensor));
        if (min && s.value <= 0) {
          problem(CheckStatus::kCritical,
                  fmt::format("{} stopped (0 RPM, minimum {:.0f})", name, *min));
        } else if (min && s.value < *min) {
          problem(CheckStatus::kWarning,
                  fmt::format("{} {:.0f} RPM < minimum {:.0f}", name, s.value, *min));
        }
        if (s.value > 0) {
          fan_lo = fans == 0 ? s.value : std::min(fan_lo, s.value);
          fan_hi = fans == 0 ? s.value : std::max(fan_hi, s.value);
          ++fans;
        }
        break;
      }
      case HwmonKind::kVoltage: {
        ++volts;
        r.metrics.push_back(M("node_hwmon_in_volts", s.value, "volts", chip.id, s.sensor));
        if (s.min)
          r.metrics.push_back(M("node_hwmon_in_min_volts", *s.min, "volts", chip.id, s.sensor));
        if (s.max)
          r.metrics.push_back(M("node_hwmon_in_max_volts", *s.max, "volts", chip.id, s.sensor));
        if (options_.voltage_limits && s.min && s.max && *s.max > *s.min &&
            (s.value < *s.min || s.value > *s.max)) {
          problem(CheckStatus::kWarning, fmt::format("{} {:.3f} V outside {:.3f}–{:.3f} V", name,
                                                     s.value, *s.min, *s.max));
        }
        break;
      }
    }
    sensors.push_back(std::move(js));
  }

  std::vector<std::string> parts;
  if (hottest != nullptr) {
    parts.push_back(fmt::format("{} temperature{}, hottest {} {:.1f}°C", temps,
                                temps == 1 ? "" : "s", Display(*hottest), hottest->value));
  }
  if (fans > 0) {
    parts.push_back(
        fmt::format("{} fan{} {}", fans, fans == 1 ? "" : "s", RpmRange(fan_lo, fan_hi)));
  }
  if (volts > 0) parts.push_back(fmt::format("{} voltage{}", volts, volts == 1 ? "" : "s"));
  if (faults > 0)
    parts.push_back(fmt::format("{} faulty sensor{} skipped", faults, faults == 1 ? "" : "s"));
  std::string overview = fmt::format("{}", fmt::join(parts, ", "));
  if (overview.empty()) overview = "no readable sensors";
  r.status = status;
  if (problems.empty()) {
    r.summary = chip.name + ": " + overview;
  } else {
    r.summary = chip.name + ": " + fmt::format("{}", fmt::join(problems, "; "));
  }
  r.details_json = nlohmann::json{
      {"chip_name", chip.name},
      {"hwmon", chip.dir},
      {"overview", overview},
      {"sensors",
       sensors}}.dump();
  return r;
}

StatusOr<std::unique_ptr<Check>> NewSensorsCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"chips", "exclude_sensors", "temperature_warning_celsius",
                "temperature_critical_celsius", "fan_min_rpm", "voltage_limits", "required"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  SensorsCheckOptions o;
  SF_ASSIGN_OR_RETURN(o.chips, n["chips"].StringList());
  SF_ASSIGN_OR_RETURN(o.exclude_sensors, n["exclude_sensors"].StringList());
  SF_ASSIGN_OR_RETURN(
      Thresholds t, ReadThresholds(n, "temperature_warning_celsius", "temperature_critical_celsius",
                                   std::nullopt, std::nullopt, -50, 250));
  o.temperature_warning = t.warning;
  o.temperature_critical = t.critical;
  if (n["fan_min_rpm"].present()) {
    SF_ASSIGN_OR_RETURN(double v, n["fan_min_rpm"].Double(0, 1, 100000));
    o.fan_min_rpm = v;
  }
  SF_ASSIGN_OR_RETURN(o.voltage_limits, n["voltage_limits"].Bool(true));
  SF_ASSIGN_OR_RETURN(o.required, n["required"].Bool(true));
  return std::unique_ptr<Check>(std::make_unique<SensorsCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
