#include "backup/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace steadfast::backup {

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, kUnits[u]);
  }
  return buf;
}

std::string HumanDuration(int64_t ms) {
  const int64_t s = ms / 1000;
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  }
  return buf;
}

ProgressMode ProgressBar::ModeFor(bool json, bool quiet) {
  if (json) return ProgressMode::kJson;
  if (quiet || ::isatty(STDERR_FILENO) == 0) return ProgressMode::kNone;
  return ProgressMode::kBar;
}

ProgressBar::ProgressBar(ProgressMode mode, std::string verb, std::string unit)
    : mode_(mode), verb_(std::move(verb)), unit_(std::move(unit)) {}

ProgressBar::~ProgressBar() { Done(); }

void ProgressBar::Update(const Progress& p) {
  if (mode_ == ProgressMode::kNone) return;
  const double secs = static_cast<double>(p.elapsed_ms) / 1000.0;
  const double rate = secs > 0 ? static_cast<double>(p.bytes) / secs : 0;
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json j = {{"message_type", "status"}, {"operation", verb_},   {"seconds_elapsed", p.elapsed_ms / 1000},
                        {unit_ + "_done", p.files},  {"bytes_done", p.bytes}};
    if (p.files_total > 0) j[unit_ + "_total"] = p.files_total;
    if (p.bytes_total > 0) {
      j["bytes_total"] = p.bytes_total;
      j["percent_done"] = static_cast<double>(p.bytes) / static_cast<double>(p.bytes_total);
    }
    std::fputs((j.dump() + "\n").c_str(), stdout);
    std::fflush(stdout);
    return;
  }
  int width = 80;
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) width = ws.ws_col;
  std::string counts = std::to_string(p.files) + (p.files_total > 0 ? "/" + std::to_string(p.files_total) : "") + " " + unit_;
  std::string bytes = HumanBytes(p.bytes) + (p.bytes_total > 0 ? "/" + HumanBytes(p.bytes_total) : "");
  std::string tail = HumanDuration(p.elapsed_ms) + " " + counts + " " + bytes + " " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  double fraction = -1;
  if (p.bytes_total > 0) fraction = static_cast<double>(p.bytes) / static_cast<double>(p.bytes_total);
  else if (p.files_total > 0) fraction = static_cast<double>(p.files) / static_cast<double>(p.files_total);
  if (fraction >= 0 && p.totals_final && fraction > 0.001 && fraction < 1) {
    const int64_t eta = static_cast<int64_t>(static_cast<double>(p.elapsed_ms) * (1 - fraction) / fraction);
    tail += " ETA " + HumanDuration(eta);
  }
  std::string line = verb_ + " ";
  const int bar = width - static_cast<int>(line.size() + tail.size()) - 10;
  if (fraction >= 0 && bar >= 10) {
    const int full = static_cast<int>(std::min(1.0, fraction) * bar);
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%% ", static_cast<int>(std::min(1.0, fraction) * 100));
    line += "[" + std::string(static_cast<size_t>(full), '=') + std::string(static_cast<size_t>(bar - full), ' ') + "] " + pct;
  }
  line += tail;
  if (static_cast<int>(line.size()) >= width) line.resize(static_cast<size_t>(width - 1));
  std::fputs(("\r" + line + "\033[K").c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Done() {
  if (drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace steadfast::backup
