// Logging on spdlog: one line per event to stderr (journald adds its own timestamp and
// captures stderr), either human text or JSON lines. Configured once by main(); library
// code only calls the SF_LOG_* macros. Never log secrets (tokens, passwords).
#pragma once

#include <spdlog/spdlog.h>

#include <string>

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

}  // namespace steadfast

#define SF_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define SF_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define SF_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define SF_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
