// DiskHealthCheck (type "disk_health"): SMART health of SATA, SAS and NVMe disks through
// smartmontools' `smartctl --json` (7.0+; recorded against 7.3), run through the CommandRunner.
// One result per disk (target = device, e.g. "/dev/sda"; "/dev/bus/0 [megaraid,3]" for disks
// behind a RAID controller).
//
// Discovery: `smartctl --scan --json` unless `devices` lists them. A scanned device of type
// "scsi" is read without -d (smartctl then detects SATA disks behind libata's SCSI layer as
// SAT itself); other scanned types (nvme, megaraid,N, ...) are passed with -d. A USB disk whose
// bridge smartctl does not know ("Unknown USB bridge") is retried once with -d sat, which
// most USB-SATA bridges speak; the check remembers that for the device.
//
// smartctl's exit status is a bitmask and its JSON is printed whatever it says:
//   bits 0-1  the command line or opening the device failed -> unknown (with smartctl's message;
//             "Permission denied"/"Operation not permitted" means the agent lacks the privilege,
//             see agent/README.md for the sudoers/capabilities recipe)
//   bit 2     some SMART command failed: graded on what was read, noted in the summary
//   bit 3     SMART overall-health "FAILED" -> critical
//   bit 4     a pre-failure attribute is at or below its threshold now -> critical (named)
//   bit 5     an attribute was at or below its threshold in the past -> warning
//   bit 6     the device error log has entries -> reported; warning only when the ATA error
//             log count grows (NVMe's num_err_log_entries is only a metric: many controllers
//             log an entry for every smartctl run)
//   bit 7     the self-test log has errors -> warning
//
// Thresholds (>= is graded; a key set to 0 disables it):
//   reallocated_warning / _critical        ATA attribute 5 raw (SAS: grown defect list); 1 / 100
//   pending_warning / _critical            ATA 197 Current_Pending_Sector; 1 / 10
//   uncorrectable_warning / _critical      ATA 198 Offline_Uncorrectable (SAS: uncorrected read
//                                          and write errors); 1 / 10
//   media_errors_warning / _critical       NVMe media_errors; 1 / off
//   percentage_used_warning / _critical    NVMe percentage_used (rated endurance used); 80 / 95
//   temperature_warning_celsius / _critical_celsius            ATA/SAS; 55 / 65
//   nvme_temperature_warning_celsius / _critical_celsius      NVMe; 70 / 80
// Always: growth of 5/197/198, grown defects, media_errors or the error log count since the
// previous run (remembered in memory per serial number) -> warning, saying from what to what;
// NVMe critical_warning != 0 -> critical with its bits decoded; NVMe available_spare at or below
// available_spare_threshold -> critical.
//
// No devices: `required: true` (default) gives unknown "no SMART-capable devices" (what a
// virtual machine shows); `required: false` gives ok.
//
// Config keys (besides the common ones and the thresholds above):
//   devices:   list of "/dev/sda" or {device: /dev/sdc, type: sat}; default: smartctl --scan
//   exclude:   devices to leave out of the scan
//   smartctl:  the command, a string or a list (["/usr/bin/sudo", "-n", "/usr/sbin/smartctl"]);
//              default "smartctl"
//   required:  true
//
// Metrics (smartctl_exporter names, label device): smartctl_device_smart_status,
// smartctl_device_smartctl_exit_status, smartctl_device_temperature{temperature_type=current},
// smartctl_device_power_on_seconds, smartctl_device_attribute{attribute_id,attribute_name,
// attribute_value_type=raw} for 5/197/198, smartctl_device_error_log_count, and for NVMe
// smartctl_device_percentage_used, smartctl_device_media_errors,
// smartctl_device_critical_warning, smartctl_device_available_spare,
// smartctl_device_available_spare_threshold, smartctl_device_num_err_log_entries; for SAS
// smartctl_device_scsi_grown_defect_list.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

struct SmartDeviceSpec {
  std::string name;  // "/dev/sda"
  std::string type;  // -d value; empty: let smartctl detect it
};

struct AtaAttribute {
  int id = 0;
  std::string name;
  int value = 0, worst = 0, thresh = 0;
  int64_t raw = 0;
  std::string when_failed;  // "", "now", "past"
};

// The parts of `smartctl --json -a` the check grades.
struct SmartReport {
  int exit_status = 0;
  std::vector<std::string> errors;  // smartctl.messages with severity "error"
  std::string protocol;             // "ATA", "SCSI", "NVMe"
  std::string model, serial, firmware;
  uint64_t capacity_bytes = 0;
  std::optional<bool> passed;
  std::optional<double> temperature;
  std::optional<int64_t> power_on_hours;
  std::map<int, AtaAttribute> attributes;  // ATA only
  std::optional<int64_t> error_log_count;  // ATA summary error count
  // NVMe health log.
  std::optional<int64_t> critical_warning, available_spare, available_spare_threshold,
      percentage_used, media_errors, num_err_log_entries;
  // SAS.
  std::optional<int64_t> grown_defects, uncorrected_errors;
};

// InvalidArgument when the text is not smartctl JSON.
StatusOr<SmartReport> ParseSmartctlJson(const std::string& text);
// The "devices" of `smartctl --scan --json` (none when the key is absent).
StatusOr<std::vector<SmartDeviceSpec>> ParseSmartctlScan(const std::string& text);

struct DiskHealthCheckOptions {
  std::vector<SmartDeviceSpec> devices;
  std::vector<std::string> exclude;
  std::vector<std::string> smartctl = {"smartctl"};
  bool required = true;
  Thresholds reallocated{1.0, 100.0};
  Thresholds pending{1.0, 10.0};
  Thresholds uncorrectable{1.0, 10.0};
  Thresholds media_errors{1.0, std::nullopt};
  Thresholds percentage_used{80.0, 95.0};
  Thresholds temperature{55.0, 65.0};
  Thresholds nvme_temperature{70.0, 80.0};
};

class DiskHealthCheck final : public Check {
 public:
  DiskHealthCheck(std::string name, DiskHealthCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  // Counters whose growth between runs is a warning, per disk serial number.
  struct Counters {
    std::optional<int64_t> reallocated, pending, uncorrectable, media_errors, error_log;
  };
  protocol::CheckResult DeviceResult(const CheckContext& ctx, const SmartDeviceSpec& device);
  protocol::CheckResult Grade(const CheckContext& ctx, const SmartDeviceSpec& device,
                              const SmartReport& report);

  DiskHealthCheckOptions options_;
  std::map<std::string, Counters> previous_;  // serial -> counters at the previous run
  std::set<std::string> needs_sat_;           // devices whose USB bridge needs -d sat
};

// Factory for type "disk_health".
StatusOr<std::unique_ptr<Check>> NewDiskHealthCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
