#include "agent/checks/check_util.h"

#include <fmt/format.h>

#include <array>

namespace steadfast::agent {

StatusOr<Thresholds> ReadThresholds(const config::ConfigNode& node, const std::string& warning_key,
                                    const std::string& critical_key,
                                    std::optional<double> default_warning,
                                    std::optional<double> default_critical, double min,
                                    double max) {
  Thresholds t{default_warning, default_critical};
  const config::ConfigNode w = node[warning_key];
  const config::ConfigNode c = node[critical_key];
  if (w.present()) {
    SF_ASSIGN_OR_RETURN(double v, w.Double(0, min, max));
    t.warning = v;
  }
  if (c.present()) {
    SF_ASSIGN_OR_RETURN(double v, c.Double(0, min, max));
    t.critical = v;
  }
  if (t.warning && t.critical && *t.warning > *t.critical) {
    return (w.present() ? w : c)
        .Error(fmt::format("warning threshold {} is above the critical threshold {}", *t.warning,
                           *t.critical));
  }
  return t;
}

std::string HumanBytes(double bytes) {
  static constexpr std::array<const char*, 7> kUnits = {"B",   "KiB", "MiB", "GiB",
                                                        "TiB", "PiB", "EiB"};
  size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < kUnits.size()) {
    bytes /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f} B", bytes);
  return fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string HumanDuration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
          s = seconds % 60;
  if (d > 0) return fmt::format("{}d {}h {}m", d, h, m);
  if (h > 0) return fmt::format("{}h {}m", h, m);
  return fmt::format("{}m {}s", m, s);
}

}  // namespace steadfast::agent
