#include "agent/checks/time_sync_check.h"

#include <fmt/format.h>
#include <sys/timex.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/command_runner.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

// "+0.012 ms", "-1.500 s".
std::string FormatOffset(double seconds) {
  if (std::fabs(seconds) < 1.0) return fmt::format("{:+.3f} ms", seconds * 1000.0);
  return fmt::format("{:+.3f} s", seconds);
}

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

struct ChronyAnswer {
  std::optional<ChronyTracking> tracking;
  bool absent = false;  // chronyc is not installed
  std::string problem;  // why there is no tracking although chronyc exists
};

}  // namespace

bool KernelTimex::Synchronised() const { return (status & STA_UNSYNC) == 0 && state != TIME_ERROR; }

StatusOr<KernelTimex> SystemAdjtimex() {
  struct timex tx;
  std::memset(&tx, 0, sizeof(tx));
  tx.modes = 0;  // read only
  int state = ::ntp_adjtime(&tx);
  if (state < 0) return InternalError(std::string("ntp_adjtime: ") + std::strerror(errno));
  KernelTimex k;
  k.state = state;
  k.status = tx.status;
  // offset is in microseconds, or nanoseconds with STA_NANO; the error fields in microseconds.
  const double offset_unit = (tx.status & STA_NANO) != 0 ? 1e-9 : 1e-6;
  k.offset = static_cast<double>(tx.offset) * offset_unit;
  k.maxerror = static_cast<double>(tx.maxerror) * 1e-6;
  k.esterror = static_cast<double>(tx.esterror) * 1e-6;
  return k;
}

StatusOr<ChronyTracking> ParseChronyTracking(const std::string& text) {
  std::vector<std::string> f;
  std::istringstream in(FirstLine(text));
  std::string field;
  while (std::getline(in, field, ',')) f.push_back(field);
  if (f.size() != 14) {
    return InvalidArgumentError(
        fmt::format("chronyc tracking: expected 14 comma-separated fields, got {}", f.size()));
  }
  ChronyTracking t;
  auto number = [&](size_t i, double* out) -> Status {
    char* end = nullptr;
    *out = std::strtod(f[i].c_str(), &end);
    if (f[i].empty() || *end != '\0') {
      return InvalidArgumentError(
          fmt::format("chronyc tracking: field {} is not a number: '{}'", i + 1, f[i]));
    }
    return OkStatus();
  };
  t.reference_id = f[0];
  t.reference_name = f[1];
  double stratum = 0;
  SF_RETURN_IF_ERROR(number(2, &stratum));
  t.stratum = static_cast<int>(stratum);
  SF_RETURN_IF_ERROR(number(4, &t.system_time));
  SF_RETURN_IF_ERROR(number(5, &t.last_offset));
  SF_RETURN_IF_ERROR(number(6, &t.rms_offset));
  SF_RETURN_IF_ERROR(number(10, &t.root_delay));
  SF_RETURN_IF_ERROR(number(11, &t.root_dispersion));
  t.leap_status = f[13];
  return t;
}

std::vector<CheckResult> TimeSyncCheck::Run(const CheckContext& ctx) {
  CheckResult r = NewResult(ctx, "clock");
  std::vector<CheckResult> results;

  ChronyAnswer chrony;
  if (options_.chrony != "never") {
    if (ctx.commands == nullptr) {
      chrony.problem = "no command runner to ask chronyc";
    } else {
      CommandRequest req;
      // -n: no DNS lookups for the reference name; -c: comma-separated values.
      req.argv = {options_.chronyc, "-n", "-c", "tracking"};
      req.timeout = TimeLeft(ctx, std::chrono::seconds(5));
      req.max_output_bytes = 64 << 10;
      auto res = ctx.commands->Run(req);
      if (!res.ok()) {
        if (res.status().code() == StatusCode::kNotFound) {
          chrony.absent = true;
        } else {
          chrony.problem = "cannot run chronyc: " + res.status().message();
        }
      } else if (res->timed_out) {
        chrony.problem = "chronyc timed out";
      } else if (res->exit_code != 0) {
        std::string why = FirstLine(res->err.empty() ? res->out : res->err);
        chrony.problem = "chronyd does not answer" + (why.empty() ? "" : ": " + why);
      } else {
        auto t = ParseChronyTracking(res->out);
        if (t.ok()) {
          chrony.tracking = *t;
        } else {
          chrony.problem = t.status().message();
        }
      }
    }
    if (options_.chrony == "always" && !chrony.tracking) {
      r.status = CheckStatus::kUnknown;
      r.summary = chrony.absent ? "chronyc is not installed (chrony: always)" : chrony.problem;
      results.push_back(std::move(r));
      return results;
    }
  }

  auto kernel = adjtimex_();
  if (!kernel.ok() && !chrony.tracking) {
    r.status = CheckStatus::kUnknown;
    r.summary = "cannot read the kernel clock state: " + kernel.status().message();
    results.push_back(std::move(r));
    return results;
  }
  nlohmann::json details = nlohmann::json::object();
  if (kernel.ok()) {
    r.metrics.push_back(MakeMetric("node_timex_offset_seconds", kernel->offset, "seconds"));
    r.metrics.push_back(MakeMetric("node_timex_sync_status", kernel->Synchronised() ? 1 : 0, ""));
    r.metrics.push_back(MakeMetric("node_timex_maxerror_seconds", kernel->maxerror, "seconds"));
    r.metrics.push_back(
        MakeMetric("node_timex_estimated_error_seconds", kernel->esterror, "seconds"));
    details["kernel"] = {{"state", kernel->state},
                         {"status", kernel->status},
                         {"unsync", (kernel->status & STA_UNSYNC) != 0},
                         {"offset_seconds", kernel->offset},
                         {"maxerror_seconds", kernel->maxerror}};
  } else {
    details["kernel_error"] = kernel.status().message();
  }

  bool synced = false;
  double offset = 0;
  std::string source_text;
  if (chrony.tracking) {
    const ChronyTracking& t = *chrony.tracking;
    r.metrics.push_back(
        MakeMetric("chrony_tracking_system_time_seconds", t.system_time, "seconds"));
    r.metrics.push_back(
        MakeMetric("chrony_tracking_last_offset_seconds", t.last_offset, "seconds"));
    r.metrics.push_back(MakeMetric("chrony_tracking_stratum", t.stratum, ""));
    r.metrics.push_back(MakeMetric("chrony_tracking_root_delay_seconds", t.root_delay, "seconds"));
    r.metrics.push_back(
        MakeMetric("chrony_tracking_root_dispersion_seconds", t.root_dispersion, "seconds"));
    details["chrony"] = {{"reference_id", t.reference_id},
                         {"reference", t.reference_name},
                         {"stratum", t.stratum},
                         {"leap_status", t.leap_status}};
    synced = t.Synchronised();
    offset = t.system_time;
    source_text =
        synced ? fmt::format("synchronised to {} (stratum {}, chrony)", t.reference_name, t.stratum)
               : "not synchronised (chrony: Not synchronised)";
  } else {
    synced = kernel->Synchronised();
    offset = kernel->offset;
    if (synced) {
      source_text = "synchronised (kernel)";
    } else {
      source_text = fmt::format("not synchronised (kernel {}, max error {})",
                                (kernel->status & STA_UNSYNC) != 0 ? "STA_UNSYNC" : "TIME_ERROR",
                                FormatOffset(kernel->maxerror).substr(1));
    }
  }
  r.metrics.push_back(MakeMetric("time_sync_offset_seconds", offset, "seconds"));

  CheckStatus status = synced ? CheckStatus::kOk : options_.unsynchronised;
  const CheckStatus offset_status = options_.offset_ms.Grade(std::fabs(offset) * 1000.0);
  status = protocol::WorseStatus(status, offset_status);
  std::string summary = source_text + ", offset " + FormatOffset(offset);
  if (offset_status != CheckStatus::kOk) {
    const double limit = offset_status == CheckStatus::kCritical ? *options_.offset_ms.critical
                                                                 : *options_.offset_ms.warning;
    summary += fmt::format(" (limit {:.0f} ms)", limit);
  }
  if (!chrony.tracking && !chrony.absent && !chrony.problem.empty()) {
    summary += "; " + chrony.problem;
  }
  r.status = status;
  r.summary = std::move(summary);
  r.details_json = details.dump();
  results.push_back(std::move(r));
  return results;
}

StatusOr<std::unique_ptr<Check>> NewTimeSyncCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"offset_warning_ms", "offset_critical_ms", "unsynchronised", "chrony", "chronyc"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  TimeSyncCheckOptions o;
  SF_ASSIGN_OR_RETURN(o.offset_ms, ReadThresholds(n, "offset_warning_ms", "offset_critical_ms",
                                                  100.0, 1000.0, 0, 86'400'000));
  SF_ASSIGN_OR_RETURN(std::string unsync,
                      n["unsynchronised"].Enum({"warning", "critical"}, "warning"));
  o.unsynchronised = unsync == "critical" ? CheckStatus::kCritical : CheckStatus::kWarning;
  SF_ASSIGN_OR_RETURN(o.chrony, n["chrony"].Enum({"auto", "always", "never"}, "auto"));
  SF_ASSIGN_OR_RETURN(o.chronyc, n["chronyc"].String("chronyc"));
  if (o.chronyc.empty() || (o.chronyc.find('/') != std::string::npos && o.chronyc[0] != '/')) {
    return n["chronyc"].Error("expected a program name or an absolute path");
  }
  return std::unique_ptr<Check>(std::make_unique<TimeSyncCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
