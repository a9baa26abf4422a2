// TimeSyncCheck (type "time_sync"): is the clock synchronised, and how far off is it. One result,
// target "clock".
//
// Sources:
//   - the kernel, through ntp_adjtime(2) (adjtimex, read-only: modes = 0, no privilege needed):
//     STA_UNSYNC / TIME_ERROR say whether a time daemon (chronyd, ntpd, systemd-timesyncd)
//     considers the clock synchronised; offset, maxerror and esterror come with it. No external
//     command. The call is injected so tests run on recorded values.
//   - chrony, when present: `chronyc -c tracking` through the CommandRunner gives chronyd's own
//     view (reference, stratum, system time offset, leap status). When chrony answers, its
//     verdict and offset win over the kernel's (chronyd is the authority; the kernel's offset is
//     0 while chronyd slews the clock itself). `chrony: auto` (default) uses it when chronyc is
//     installed and says so in the summary when chronyd does not answer; `always` makes a
//     missing or silent chronyd unknown; `never` skips it.
//
// Grading: |offset| >= offset_critical_ms (default 1000) critical, >= offset_warning_ms
// (default 100) warning; not synchronised = `unsynchronised` (default warning; "critical" for
// machines whose logs and Kerberos must agree). The kernel call failing is unknown.
//
// Config keys (besides the common ones): offset_warning_ms, offset_critical_ms, unsynchronised
// (warning|critical), chrony (auto|always|never), chronyc (program, default "chronyc").
//
// Metrics: node_timex_offset_seconds, node_timex_sync_status, node_timex_maxerror_seconds,
// node_timex_estimated_error_seconds (node_exporter names); with chrony also
// chrony_tracking_system_time_seconds, chrony_tracking_last_offset_seconds,
// chrony_tracking_stratum, chrony_tracking_root_delay_seconds and
// chrony_tracking_root_dispersion_seconds (chrony_exporter names); time_sync_offset_seconds is
// the offset that was graded.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

// What ntp_adjtime(2) reports, in seconds.
struct KernelTimex {
  int state = 0;      // the return value: TIME_OK (0) ... TIME_ERROR (5)
  int status = 0;     // STA_* bits
  double offset = 0;  // remaining offset the kernel is slewing away
  double maxerror = 0;
  double esterror = 0;

  bool Synchronised() const;
};

using AdjtimexFunction = std::function<StatusOr<KernelTimex>()>;
// The real call (ntp_adjtime with modes = 0). Internal on failure.
StatusOr<KernelTimex> SystemAdjtimex();

// One line of `chronyc -c tracking`.
struct ChronyTracking {
  std::string reference_id;    // hex, "A29FC87B"
  std::string reference_name;  // address or name
  int stratum = 0;
  double system_time = 0;  // seconds; chronyd's correction still to apply
  double last_offset = 0;
  double rms_offset = 0;
  double root_delay = 0;
  double root_dispersion = 0;
  std::string leap_status;  // "Normal", "Insert second", "Delete second", "Not synchronised"

  bool Synchronised() const { return leap_status != "Not synchronised"; }
};

// InvalidArgument unless the text has the 14 comma-separated fields chronyc prints.
StatusOr<ChronyTracking> ParseChronyTracking(const std::string& text);

struct TimeSyncCheckOptions {
  Thresholds offset_ms{100.0, 1000.0};
  protocol::CheckStatus unsynchronised = protocol::CheckStatus::kWarning;
  std::string chrony = "auto";  // auto | always | never
  std::string chronyc = "chronyc";
};

class TimeSyncCheck final : public Check {
 public:
  TimeSyncCheck(std::string name, TimeSyncCheckOptions options,
                AdjtimexFunction adjtimex = &SystemAdjtimex)
      : Check(std::move(name)), options_(std::move(options)), adjtimex_(std::move(adjtimex)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  TimeSyncCheckOptions options_;
  AdjtimexFunction adjtimex_;
};

// Factory for type "time_sync".
StatusOr<std::unique_ptr<Check>> NewTimeSyncCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
