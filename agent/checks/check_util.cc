#include "agent/checks/check_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/utf8.h"

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

StatusOr<std::string> ReadTrimmed(FileSystem& fs, const std::string& path) {
  // sysfs attributes are at most a page; the cap guards against a fixture pointing elsewhere.
  SF_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path, 1 << 16));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t' ||
                           text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

std::string HumanDuration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
          s = seconds % 60;
  if (d > 0) return fmt::format("{}d {}h {}m", d, h, m);
  if (h > 0) return fmt::format("{}h {}m", h, m);
  return fmt::format("{}m {}s", m, s);
}

Millis TimeLeft(const CheckContext& ctx, Millis limit) {
  if (ctx.deadline == std::chrono::steady_clock::time_point{}) return std::max(limit, Millis(1));
  // Rounded up: a timeout that is whole milliseconds reads as itself in summaries.
  const auto left = std::chrono::ceil<Millis>(ctx.deadline - ctx.clock.Monotonic());
  return std::max(std::min(limit, left), Millis(1));
}

std::string ShortDuration(Millis d) {
  const int64_t ms = d.count();
  if (ms < 1'000) return fmt::format("{} ms", ms);
  if (ms % 1'000 == 0) return fmt::format("{} s", ms / 1'000);
  return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
}

StatusOr<int64_t> ReadByteSize(const config::ConfigNode& n, int64_t fallback, int64_t min,
                               int64_t max) {
  if (!n.present()) return fallback;
  SF_ASSIGN_OR_RETURN(std::string text, n.String());
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string unit = text.substr(digits);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  static const std::map<std::string, int64_t> kUnits = {
      {"", 1},           {"B", 1},               {"KiB", 1LL << 10},        {"MiB", 1LL << 20},
      {"GiB", 1LL << 30}, {"TiB", 1LL << 40},     {"kB", 1'000},             {"KB", 1'000},
      {"MB", 1'000'000},  {"GB", 1'000'000'000}, {"TB", 1'000'000'000'000}};
  auto u = kUnits.find(unit);
  if (digits == 0 || digits > 15 || u == kUnits.end()) {
    return n.Error("expected a size like 256MiB, 1GiB, 500MB or a number of bytes, got '" + text +
                   "'");
  }
  const int64_t value = std::stoll(text.substr(0, digits));
  if (value > max / u->second || value * u->second < min || value * u->second > max) {
    return n.Error(fmt::format("size must be between {} and {} bytes", min, max));
  }
  return value * u->second;
}

std::string JoinText(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string SocketErrorText(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "connection refused";
    case ECONNRESET:
      return "connection reset by peer";
    case EHOSTUNREACH:
      return "no route to host";
    case ENETUNREACH:
      return "network unreachable";
    case ETIMEDOUT:
      return "connection timed out";
    case EPIPE:
      return "connection closed by peer";
    default:
      return std::strerror(err);
  }
}

std::string SanitizeUtf8(std::string_view s) {
  static constexpr const char* kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (const auto ch = DecodeUtf8At(s, i)) {
      out.append(s.substr(i, ch->length));
      i += ch->length;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

}  // namespace steadfast::agent
