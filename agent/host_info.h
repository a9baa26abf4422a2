// What the agent tells the collector about its host (enrolment and every report).
#pragma once

#include <string>

#include "common/fs/file_system.h"
#include "common/protocol/protocol.h"

namespace steadfast::agent {

// hostname, kernel and arch from uname(2); os from PRETTY_NAME in <etc_root>/os-release;
// agent_version from steadfast::kVersion. Missing pieces are left empty, never an error.
protocol::HostInfo CollectHostInfo(FileSystem& fs, const std::string& etc_root = "/etc");

// The PRETTY_NAME value of an os-release file (quotes and escapes removed), or "".
std::string ParseOsReleasePrettyName(const std::string& text);

}  // namespace steadfast::agent
