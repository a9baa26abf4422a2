// Small helpers shared by the built-in checks: threshold grading, human-readable sizes and
// reading a threshold pair from a check's config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/config/config_node.h"
#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::agent {

// A warning/critical pair; a disabled threshold is nullopt. Values are compared with >=.
struct Thresholds {
  std::optional<double> warning;
  std::optional<double> critical;

  protocol::CheckStatus Grade(double value) const {
    if (critical && value >= *critical) return protocol::CheckStatus::kCritical;
    if (warning && value >= *warning) return protocol::CheckStatus::kWarning;
    return protocol::CheckStatus::kOk;
  }
};

// Reads `<prefix>warning<suffix>` / `<prefix>critical<suffix>` style keys (the caller passes
// the full key names). An absent key takes its default (nullopt disables it); values must lie in
// [min, max] and warning must not exceed critical (the error names the warning key).
StatusOr<Thresholds> ReadThresholds(const config::ConfigNode& node, const std::string& warning_key,
                                    const std::string& critical_key,
                                    std::optional<double> default_warning,
                                    std::optional<double> default_critical, double min, double max);

// "512 B", "1.5 KiB", "7.8 GiB".
std::string HumanBytes(double bytes);

// "3d 4h 12m", "4h 2m", "12m 5s".
std::string HumanDuration(int64_t seconds);

}  // namespace steadfast::agent
