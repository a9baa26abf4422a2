// SensorsCheck (type "sensors"): temperatures, fans and voltages from the kernel's hwmon
// drivers, <sys_root>/class/hwmon/hwmon*/{name, temp*_input, temp*_max, temp*_crit,
// temp*_crit_alarm, temp*_fault, temp*_label, fan*_input, fan*_min, in*_input, in*_min, in*_max}
// — what lm-sensors shows, without lm-sensors. One result per chip (a chip is one driver
// instance: coretemp, nct6798, acpitz, nvme, ...), graded by its worst sensor; the summary names
// every sensor out of range, or the hottest one and the fan/voltage ranges when all is well.
// One result per chip rather than per sensor keeps a board with 40 sensors at a handful of
// results while still saying which sensor is wrong.
//
// Target and the `chip` label: stable across reboots (hwmonN numbering is not): built from the
// chip's device path like node_exporter does ("platform_coretemp_0", "pci0000_00_0000_00_18_3"),
// or the chip name when there is no device link (virtual chips such as acpitz).
//
// Grading per sensor:
//   temperature  >= temp*_crit (or temperature_critical_celsius) or crit_alarm -> critical;
//                >= temp*_max (or temperature_warning_celsius) -> warning. Configured values
//                replace the kernel's; kernel limits <= 0 °C are treated as unset. A sensor
//                with temp*_fault = 1 (open circuit) is skipped.
//   fan          0 RPM while a minimum is set (fan*_min > 0 or fan_min_rpm) -> critical
//                (stopped); below the minimum -> warning. Fans without a minimum are reported
//                only: an unconnected header reads 0 RPM.
//   voltage      outside [in*_min, in*_max] -> warning; limits are used only when max > min
//                (an unprogrammed Super-I/O reports 0/0). `voltage_limits: false` ignores them.
//
// No hwmon chips (virtual machines): `required: true` (default) gives unknown "no hwmon
// sensors"; `required: false` gives ok.
//
// Config keys (besides the common ones):
//   chips:             only these chips (name like "coretemp" or id like "platform_coretemp_0")
//   exclude_sensors:   "chip/sensor" (chip = name or id, sensor = "temp3" or its label), or a
//                      bare sensor label/name matched on every chip ("AUXTIN0")
//   temperature_warning_celsius / temperature_critical_celsius   replace temp*_max / temp*_crit
//   fan_min_rpm:       replaces fan*_min for every fan (exclude unconnected fans then)
//   voltage_limits:    true
//   required:          true
//
// Metrics (node_exporter names, labels chip and sensor): node_hwmon_temp_celsius,
// node_hwmon_temp_max_celsius, node_hwmon_temp_crit_celsius, node_hwmon_fan_rpm,
// node_hwmon_fan_min_rpm, node_hwmon_in_volts, node_hwmon_in_min_volts, node_hwmon_in_max_volts,
// and node_hwmon_chip_names{chip,chip_name} = 1.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"

namespace steadfast::agent {

enum class HwmonKind { kTemperature, kFan, kVoltage };

struct HwmonSensor {
  HwmonKind kind = HwmonKind::kTemperature;
  std::string sensor;                    // "temp1", "fan2", "in0"
  std::string label;                     // temp1_label, or empty
  double value = 0;                      // °C, RPM or V
  std::optional<double> min, max, crit;  // same unit; absent when the file is
  bool crit_alarm = false;
  bool fault = false;
};

struct HwmonChip {
  std::string dir;                   // "hwmon2"
  std::string id;                    // "platform_nct6775_656"
  std::string name;                  // "nct6798"
  std::vector<HwmonSensor> sensors;  // sorted by kind, then number
};

// Reads every chip under <sys_root>/class/hwmon. A missing directory is NotFound.
StatusOr<std::vector<HwmonChip>> ReadHwmonChips(FileSystem& fs, const std::string& sys_root);

struct SensorsCheckOptions {
  std::vector<std::string> chips;
  std::vector<std::string> exclude_sensors;
  std::optional<double> temperature_warning;
  std::optional<double> temperature_critical;
  std::optional<double> fan_min_rpm;
  bool voltage_limits = true;
  bool required = true;
};

class SensorsCheck final : public Check {
 public:
  SensorsCheck(std::string name, SensorsCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

  bool Excluded(const HwmonChip& chip, const HwmonSensor& sensor) const;

 private:
  protocol::CheckResult ChipResult(const CheckContext& ctx, const HwmonChip& chip) const;

  SensorsCheckOptions options_;
};

// Factory for type "sensors".
StatusOr<std::unique_ptr<Check>> NewSensorsCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
