#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace steadfast {
namespace {

struct LoggerState {
  std::mutex mu;
  LogFormat format = LogFormat::kText;  // guarded by mu
  std::string component = "steadfast";  // guarded by mu
};

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

LoggerState& State() {
  static LoggerState* state = new LoggerState();  // never destroyed: logging works at exit
  return *state;
}

// The names spdlog used, which log readers and tests already match.
std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warning";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      break;
  }
  return "off";
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to report a failing stderr
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

StatusOr<LogFormat> ParseLogFormat(const std::string& name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return InvalidArgumentError("unknown log format '" + name + "' (use text or json)");
}

Status InitLogging(const LogOptions& options) {
  static const std::pair<const char*, LogLevel> kLevels[] = {
      {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},   {"warning", LogLevel::kWarn}, {"error", LogLevel::kError},
      {"off", LogLevel::kOff}};
  const LogLevel* level = nullptr;
  for (const auto& [name, l] : kLevels) {
    if (options.level == name) level = &l;
  }
  if (level == nullptr) {
    return InvalidArgumentError("unknown log level '" + options.level +
                                "' (use trace, debug, info, warn, error, off)");
  }
  LoggerState& s = State();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.format = options.format;
    s.component = options.component;
  }
  g_level.store(static_cast<int>(*level), std::memory_order_relaxed);
  return OkStatus();
}

namespace logging_internal {

bool Enabled(LogLevel level) {
  return level != LogLevel::kOff &&
         static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Write(LogLevel level, std::string_view message) {
  const std::string ts = FormatRfc3339Millis(RealClock().NowMillis());
  LoggerState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  std::string line;
  if (s.format == LogFormat::kJson) {
    nlohmann::json j;
    j["ts"] = ts;
    j["level"] = LevelName(level);
    j["component"] = s.component;
    j["msg"] = message;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = fmt::format("{} {:<5} {}: ", ts, LevelName(level), s.component);
    // One event, one line: a line break inside a message (program output, a device's string)
    // must not be able to forge another log line.
    for (char c : message) {
      if (c == '\n') {
        line += "\\n";
      } else if (c == '\r') {
        line += "\\r";
      } else {
        line.push_back(c);
      }
    }
  }
  line.push_back('\n');
  WriteAll(STDERR_FILENO, line);
}

}  // namespace logging_internal
}  // namespace steadfast
