// "host:port" strings, as used by metrics_listen and the tcp check's `target`.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace steadfast::agent {

// Splits "host:port" or "[v6-address]:port". Port 0..65535 (0 means "pick a free port" where
// the caller allows it). InvalidArgument naming the problem when malformed.
Status SplitHostPort(const std::string& host_port, std::string* host, uint16_t* port);

}  // namespace steadfast::agent
