// Small helpers shared by the built-in checks: threshold grading, human-readable sizes and
// reading a threshold pair from a check's config.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/check.h"
#include "common/config/config_node.h"
#include "common/fs/file_system.h"
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

// A size from the config: "268435456", "256MiB", "1GiB", "500MB" -> bytes (KiB/MiB/GiB/TiB are
// powers of 1024, kB/KB/MB/GB/TB of 1000). An absent key is `fallback`; the value must lie in
// [min, max] (the error names file:line:key).
StatusOr<int64_t> ReadByteSize(const config::ConfigNode& node, int64_t fallback, int64_t min,
                               int64_t max);

// A metric sample; labels name the thing measured (device, mountpoint, ...).
inline protocol::Metric MakeMetric(std::string name, double value, std::string unit,
                                   std::map<std::string, std::string> labels = {}) {
  return protocol::Metric{std::move(name), std::move(labels), value, std::move(unit)};
}

// The parts separated by `sep` ("a, b, c").
std::string JoinText(const std::vector<std::string>& parts, std::string_view sep);

// A socket error as a person reads it in a summary: "connection refused", "no route to host",
// "connection timed out", ... (strerror for the rest).
std::string SocketErrorText(int err);

// "512 B", "1.5 KiB", "7.8 GiB".
std::string HumanBytes(double bytes);

// "3d 4h 12m", "4h 2m", "12m 5s".
std::string HumanDuration(int64_t seconds);

// The timeout to give a command or a network wait of this run: `limit`, cut to what is left
// before ctx.deadline (no deadline: `limit`). At least 1 ms, so a request made after the
// deadline is still valid (and times out at once).
Millis TimeLeft(const CheckContext& ctx, Millis limit);

// "10 s", "1.5 s", "250 ms": a timeout as summaries show it.
std::string ShortDuration(Millis d);

// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, so program
// output and device strings can go into results (the protocol's JSON must be UTF-8).
std::string SanitizeUtf8(std::string_view s);

// A small procfs/sysfs attribute file with trailing whitespace (the kernel's newline) removed.
// The FileSystem's errors (NotFound, ...) pass through.
StatusOr<std::string> ReadTrimmed(FileSystem& fs, const std::string& path);

}  // namespace steadfast::agent
