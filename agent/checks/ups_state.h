// UpsState: what a UPS says about itself, in one shape whether it came from NUT's upsd
// (ups check) or from RFC 1628 UPS-MIB over SNMP (snmp check, profile ups-mib), and the one
// grading both use, so a UPS on battery looks the same whichever way the agent reads it.
//
// Grading (GradeUps):
//   on battery (NUT OB, UPS-MIB upsOutputSource=battery)  at least WARNING; the summary starts
//       "ON BATTERY —" and metric ups_on_battery is 1. A UPS on battery is the start of a
//       power-loss emergency.
//   CRITICAL: low battery (NUT LB, UPS-MIB batteryLow/batteryDepleted), forced shutdown (FSD),
//       output off (OFF, UPS-MIB output source none), overload (OVER), or, while on battery, a
//       charge or runtime at/below its critical threshold; load at/above its critical threshold.
//   WARNING: replace battery (RB), on bypass (BYPASS: the load is not protected), an alarm
//       (ALARM), load at/above warning, input voltage outside the configured range (on line only);
//       charge or runtime at/below a threshold while on line (recharging after an outage: the
//       protection is reduced, the load is not at risk yet, so critical is capped to warning).
//   OK with a note: TRIM/BOOST (voltage regulation), CHRG (charging), CAL (calibrating),
//       DISCHRG while on line, HB.
//   UNKNOWN: NUT WAIT (upsd has no data from the driver yet), or no power source known at all.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/checks/check_util.h"
#include "common/config/config_node.h"
#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::agent {

struct UpsState {
  enum class Source { kUnknown, kOnline, kBattery, kBypass, kOff };
  Source source = Source::kUnknown;
  bool low_battery = false;
  bool replace_battery = false;
  bool forced_shutdown = false;
  bool overload = false;
  bool alarm = false;
  bool waiting = false;            // NUT WAIT: upsd has not had data from the driver yet
  std::vector<std::string> notes;  // "trimming high input voltage", "charging", ...
  std::string raw_status;          // "OB DISCHRG LB" or "upsOutputSource=battery(5)"
  std::string alarm_text;          // NUT ups.alarm, when present

  std::optional<double> charge_percent;
  std::optional<double> runtime_seconds;
  std::optional<double> load_percent;
  std::optional<double> input_voltage;
  std::optional<double> output_voltage;
  std::optional<double> temperature_celsius;
  std::optional<double> seconds_on_battery;
};

// Parses NUT's ups.status flags ("OL CHRG", "OB DISCHRG LB", "OL RB", "FSD OB LB") into
// `state` (source, flags, notes); unknown flags are ignored, "WAIT" sets `waiting`.
void ApplyNutStatusFlags(const std::string& status, UpsState* state);

// Thresholds of the UPS grading. Charge and runtime are graded from below (value <= threshold),
// load from above, input voltage against an optional [min, max] range.
struct UpsThresholds {
  double charge_warning_percent = 50;
  double charge_critical_percent = 20;
  double runtime_warning_seconds = 600;
  double runtime_critical_seconds = 300;
  Thresholds load_percent{80.0, 95.0};
  std::optional<double> input_voltage_min;
  std::optional<double> input_voltage_max;
};

// The config keys ReadUpsThresholds reads, for CheckNoUnknownKeys.
const std::vector<std::string>& UpsThresholdKeys();

// Reads charge_warning_percent / charge_critical_percent (50 / 20), runtime_warning /
// runtime_critical (durations, 10m / 5m), load_warning_percent / load_critical_percent (80 / 95),
// input_voltage_min / input_voltage_max (volts, optional) from `node`.
StatusOr<UpsThresholds> ReadUpsThresholds(const config::ConfigNode& node);

struct UpsGrade {
  protocol::CheckStatus status = protocol::CheckStatus::kUnknown;
  std::string summary;
  std::vector<protocol::Metric> metrics;
};

// Grades `state` (see the file comment). Metrics (labels `labels` on each): ups_on_battery,
// ups_low_battery, ups_replace_battery (0/1), and where known ups_battery_charge_ratio (0-1),
// ups_battery_runtime_seconds, ups_load_ratio (0-1), ups_input_voltage_volts,
// ups_output_voltage_volts, ups_temperature_celsius, ups_seconds_on_battery.
UpsGrade GradeUps(const UpsState& state, const UpsThresholds& thresholds,
                  const std::map<std::string, std::string>& labels = {});

}  // namespace steadfast::agent
