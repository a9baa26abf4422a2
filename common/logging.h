// Logging: one line per event to stderr (journald adds its own timestamp and captures stderr),
// either human text or JSON lines. Configured once by main(); library code only calls the
// SF_LOG_* macros, whose arguments are a fmt format string and its values (checked at compile
// time). Never log secrets (tokens, passwords).
//
// Text:  2026-11-29T14:07:35.661Z warning steadfast-agent: uplink: sending ... failed: ...
// JSON:  {"ts":"2026-11-29T14:07:35.661Z","level":"warning","component":"steadfast-agent","msg":"..."}
//
// Written on fmt rather than spdlog on purpose: spdlog cost the agent half a megabyte of
// resident memory (its shared library's pages and start-up) for what is one formatted write().
// Thread-safe: a line is written with one write(2) under a mutex, so lines never interleave.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace steadfast {

enum class LogFormat { kText, kJson };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  std::string level = "info";  // trace, debug, info, warn, error, off
  std::string component = "steadfast";
};

// InvalidArgument for an unknown level.
Status InitLogging(const LogOptions& options);
StatusOr<LogFormat> ParseLogFormat(const std::string& name);

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

namespace logging_internal {

bool Enabled(LogLevel level);
void Write(LogLevel level, std::string_view message);

template <typename... Args>
void Log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (!Enabled(level)) return;
  Write(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace logging_internal
}  // namespace steadfast

#define SF_LOG_DEBUG(...) ::steadfast::logging_internal::Log(::steadfast::LogLevel::kDebug, __VA_ARGS__)
#define SF_LOG_INFO(...) ::steadfast::logging_internal::Log(::steadfast::LogLevel::kInfo, __VA_ARGS__)
#define SF_LOG_WARN(...) ::steadfast::logging_internal::Log(::steadfast::LogLevel::kWarn, __VA_ARGS__)
#define SF_LOG_ERROR(...) ::steadfast::logging_internal::Log(::steadfast::LogLevel::kError, __VA_ARGS__)
