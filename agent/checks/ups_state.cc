#include "agent/checks/ups_state.h"

#include <fmt/format.h>

#include <sstream>

namespace steadfast::agent {
namespace {

using protocol::CheckStatus;
using protocol::Metric;

bool HasNote(const UpsState& s, const std::string& note) {
  for (const std::string& n : s.notes) {
    if (n == note) return true;
  }
  return false;
}

void AddNote(UpsState* s, std::string note) {
  if (!HasNote(*s, note)) s->notes.push_back(std::move(note));
}

}  // namespace

void ApplyNutStatusFlags(const std::string& status, UpsState* state) {
  state->raw_status = status;
  bool ol = false, ob = false, bypass = false, off = false, discharging = false;
  std::istringstream in(status);
  std::string flag;
  while (in >> flag) {
    if (flag == "OL") {
      ol = true;
    } else if (flag == "OB") {
      ob = true;
    } else if (flag == "LB") {
      state->low_battery = true;
    } else if (flag == "RB") {
      state->replace_battery = true;
    } else if (flag == "FSD") {
      state->forced_shutdown = true;
    } else if (flag == "OVER") {
      state->overload = true;
    } else if (flag == "ALARM") {
      state->alarm = true;
    } else if (flag == "WAIT") {
      state->waiting = true;
    } else if (flag == "BYPASS") {
      bypass = true;
    } else if (flag == "OFF") {
      off = true;
    } else if (flag == "CHRG") {
      AddNote(state, "charging");
    } else if (flag == "DISCHRG") {
      discharging = true;
    } else if (flag == "TRIM") {
      AddNote(state, "trimming high input voltage");
    } else if (flag == "BOOST") {
      AddNote(state, "boosting low input voltage");
    } else if (flag == "CAL") {
      AddNote(state, "calibrating");
    } else if (flag == "HB") {
      AddNote(state, "high battery");
    } else if (flag == "TEST") {
      AddNote(state, "self-test running");
    }
  }
  // The most alarming source wins when a UPS reports several at once.
  if (off) {
    state->source = UpsState::Source::kOff;
  } else if (ob) {
    state->source = UpsState::Source::kBattery;
  } else if (bypass) {
    state->source = UpsState::Source::kBypass;
  } else if (ol) {
    state->source = UpsState::Source::kOnline;
  }
  // Discharging is implied on battery; on line it is worth saying (a calibration, a bad charger).
  if (discharging && !ob) AddNote(state, "discharging");
}

const std::vector<std::string>& UpsThresholdKeys() {
  static const std::vector<std::string> kKeys = {
      "charge_warning_percent", "charge_critical_percent", "runtime_warning",
      "runtime_critical",       "load_warning_percent",    "load_critical_percent",
      "input_voltage_min",      "input_voltage_max"};
  return kKeys;
}

StatusOr<UpsThresholds> ReadUpsThresholds(const config::ConfigNode& n) {
  UpsThresholds t;
  SF_ASSIGN_OR_RETURN(t.charge_warning_percent, n["charge_warning_percent"].Double(50, 0, 100));
  SF_ASSIGN_OR_RETURN(t.charge_critical_percent, n["charge_critical_percent"].Double(20, 0, 100));
  if (t.charge_critical_percent > t.charge_warning_percent) {
    const config::ConfigNode& k = n["charge_critical_percent"].present()
                                      ? n["charge_critical_percent"]
                                      : n["charge_warning_percent"];
    return k.Error(fmt::format(
        "charge is graded from below: the critical level {}% must not be above the warning "
        "level {}%",
        t.charge_critical_percent, t.charge_warning_percent));
  }
  const int64_t kDay = 86'400'000;
  SF_ASSIGN_OR_RETURN(int64_t rw, n["runtime_warning"].DurationMillis(600'000, 0, kDay));
  SF_ASSIGN_OR_RETURN(int64_t rc, n["runtime_critical"].DurationMillis(300'000, 0, kDay));
  if (rc > rw) {
    const config::ConfigNode& k =
        n["runtime_critical"].present() ? n["runtime_critical"] : n["runtime_warning"];
    return k.Error(fmt::format(
        "runtime is graded from below: the critical level {} s must not be above the warning "
        "level {} s",
        rc / 1000, rw / 1000));
  }
  t.runtime_warning_seconds = static_cast<double>(rw) / 1000.0;
  t.runtime_critical_seconds = static_cast<double>(rc) / 1000.0;
  SF_ASSIGN_OR_RETURN(t.load_percent, ReadThresholds(n, "load_warning_percent",
                                                     "load_critical_percent", 80.0, 95.0, 0, 1000));
  if (n["input_voltage_min"].present()) {
    SF_ASSIGN_OR_RETURN(double v, n["input_voltage_min"].Double(0, 0, 1000));
    t.input_voltage_min = v;
  }
  if (n["input_voltage_max"].present()) {
    SF_ASSIGN_OR_RETURN(double v, n["input_voltage_max"].Double(0, 0, 1000));
    t.input_voltage_max = v;
  }
  if (t.input_voltage_min && t.input_voltage_max && *t.input_voltage_min >= *t.input_voltage_max) {
    return n["input_voltage_max"].Error(
        fmt::format("must be above input_voltage_min ({})", *t.input_voltage_min));
  }
  return t;
}

UpsGrade GradeUps(const UpsState& s, const UpsThresholds& t,
                  const std::map<std::string, std::string>& labels) {
  UpsGrade g;
  auto metric = [&](const char* name, double value, const char* unit) {
    g.metrics.push_back(Metric{name, labels, value, unit});
  };
  if (s.waiting) {
    g.status = CheckStatus::kUnknown;
    g.summary = "no data from the UPS driver yet (upsd reports WAIT)";
    return g;
  }
  const bool on_battery = s.source == UpsState::Source::kBattery;
  metric("ups_on_battery", on_battery ? 1 : 0, "");
  metric("ups_low_battery", s.low_battery ? 1 : 0, "");
  metric("ups_replace_battery", s.replace_battery ? 1 : 0, "");
  if (s.charge_percent) metric("ups_battery_charge_ratio", *s.charge_percent / 100.0, "ratio");
  if (s.runtime_seconds) metric("ups_battery_runtime_seconds", *s.runtime_seconds, "seconds");
  if (s.load_percent) metric("ups_load_ratio", *s.load_percent / 100.0, "ratio");
  if (s.input_voltage) metric("ups_input_voltage_volts", *s.input_voltage, "volts");
  if (s.output_voltage) metric("ups_output_voltage_volts", *s.output_voltage, "volts");
  if (s.temperature_celsius) metric("ups_temperature_celsius", *s.temperature_celsius, "celsius");
  if (s.seconds_on_battery) metric("ups_seconds_on_battery", *s.seconds_on_battery, "seconds");

  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> flags;  // shouted: the things a person must act on
  auto raise = [&](CheckStatus st) { status = protocol::WorseStatus(status, st); };

  std::string head;
  switch (s.source) {
    case UpsState::Source::kBattery:
      head = "ON BATTERY";
      raise(CheckStatus::kWarning);
      break;
    case UpsState::Source::kOnline:
      head = "on line";
      break;
    case UpsState::Source::kBypass:
      head = "ON BYPASS (the load is not protected by the battery)";
      raise(CheckStatus::kWarning);
      break;
    case UpsState::Source::kOff:
      head = "UPS OUTPUT OFF (the load has no power)";
      raise(CheckStatus::kCritical);
      break;
    case UpsState::Source::kUnknown:
      head = s.raw_status.empty() ? "power source unknown (no status reported)"
                                  : fmt::format("power source unknown (status '{}')", s.raw_status);
      raise(CheckStatus::kUnknown);
      break;
  }
  if (s.forced_shutdown) {
    flags.push_back("FORCED SHUTDOWN");
    raise(CheckStatus::kCritical);
  }
  if (s.low_battery) {
    flags.push_back("LOW BATTERY");
    raise(CheckStatus::kCritical);
  }
  if (s.overload) {
    flags.push_back("OVERLOAD");
    raise(CheckStatus::kCritical);
  }
  if (s.replace_battery) {
    flags.push_back("REPLACE BATTERY");
    raise(CheckStatus::kWarning);
  }
  if (s.alarm) {
    flags.push_back(s.alarm_text.empty() ? "ALARM" : "ALARM: " + s.alarm_text);
    raise(CheckStatus::kWarning);
  }

  // Charge and runtime below a threshold: critical on battery, at most warning on line.
  const CheckStatus low_critical = on_battery ? CheckStatus::kCritical : CheckStatus::kWarning;
  std::vector<std::string> facts;
  if (s.charge_percent) {
    std::string f = fmt::format("charge {:.0f}%", *s.charge_percent);
    if (*s.charge_percent <= t.charge_critical_percent) {
      f += fmt::format(" (critical at {:.0f}%)", t.charge_critical_percent);
      raise(low_critical);
    } else if (*s.charge_percent <= t.charge_warning_percent) {
      f += fmt::format(" (warning at {:.0f}%)", t.charge_warning_percent);
      raise(CheckStatus::kWarning);
    }
    facts.push_back(std::move(f));
  }
  if (s.runtime_seconds) {
    std::string f =
        fmt::format("runtime left {}", HumanDuration(static_cast<int64_t>(*s.runtime_seconds)));
    if (*s.runtime_seconds <= t.runtime_critical_seconds) {
      f += fmt::format(" (critical at {})",
                       HumanDuration(static_cast<int64_t>(t.runtime_critical_seconds)));
      raise(low_critical);
    } else if (*s.runtime_seconds <= t.runtime_warning_seconds) {
      f += fmt::format(" (warning at {})",
                       HumanDuration(static_cast<int64_t>(t.runtime_warning_seconds)));
      raise(CheckStatus::kWarning);
    }
    facts.push_back(std::move(f));
  }
  if (s.load_percent) {
    std::string f = fmt::format("load {:.0f}%", *s.load_percent);
    CheckStatus ls = t.load_percent.Grade(*s.load_percent);
    if (ls == CheckStatus::kCritical) {
      f += fmt::format(" (critical at {:.0f}%)", *t.load_percent.critical);
    } else if (ls == CheckStatus::kWarning) {
      f += fmt::format(" (warning at {:.0f}%)", *t.load_percent.warning);
    }
    raise(ls);
    facts.push_back(std::move(f));
  }
  if (s.seconds_on_battery && on_battery && *s.seconds_on_battery > 0) {
    facts.push_back(fmt::format("on battery for {}",
                                HumanDuration(static_cast<int64_t>(*s.seconds_on_battery))));
  }
  if (s.input_voltage) {
    std::string f = fmt::format("input {:.1f} V", *s.input_voltage);
    // On battery the input is expected to be gone; the range only says something on line.
    const bool low = t.input_voltage_min && *s.input_voltage < *t.input_voltage_min;
    const bool high = t.input_voltage_max && *s.input_voltage > *t.input_voltage_max;
    if (s.source == UpsState::Source::kOnline && (low || high)) {
      if (t.input_voltage_min && t.input_voltage_max) {
        f += fmt::format(" (outside {:.0f}-{:.0f} V)", *t.input_voltage_min, *t.input_voltage_max);
      } else if (low) {
        f += fmt::format(" (below {:.0f} V)", *t.input_voltage_min);
      } else {
        f += fmt::format(" (above {:.0f} V)", *t.input_voltage_max);
      }
      raise(CheckStatus::kWarning);
    }
    facts.push_back(std::move(f));
  }
  if (s.output_voltage) facts.push_back(fmt::format("output {:.1f} V", *s.output_voltage));
  if (s.temperature_celsius) {
    facts.push_back(fmt::format("temperature {:.1f} °C", *s.temperature_celsius));
  }

  std::string body = JoinText(facts, ", ");
  if (!s.notes.empty()) {
    body += (body.empty() ? "" : "; ") + JoinText(s.notes, ", ");
  }
  std::string summary;
  if (on_battery) {
    // The emergency comes first and looks the same every time: "ON BATTERY — ...".
    summary = "ON BATTERY — ";
    if (!flags.empty()) summary += JoinText(flags, ", ") + (body.empty() ? "" : ": ");
    summary += flags.empty() && body.empty() ? "the UPS reports no charge or runtime" : body;
  } else {
    if (!flags.empty()) summary = JoinText(flags, ", ") + " — ";
    summary += head;
    if (!body.empty()) summary += ": " + body;
  }
  g.status = status;
  g.summary = std::move(summary);
  return g;
}

}  // namespace steadfast::agent
