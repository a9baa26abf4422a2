#include "agent/host_port.h"

#include <algorithm>

namespace steadfast::agent {

Status SplitHostPort(const std::string& host_port, std::string* host, uint16_t* port) {
  std::string h, p;
  if (!host_port.empty() && host_port.front() == '[') {
    auto close = host_port.find(']');
    if (close == std::string::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      return InvalidArgumentError("expected [address]:port, got '" + host_port + "'");
    }
    h = host_port.substr(1, close - 1);
    p = host_port.substr(close + 2);
  } else {
    auto colon = host_port.rfind(':');
    if (colon == std::string::npos || host_port.find(':') != colon) {
      return InvalidArgumentError("expected host:port, got '" + host_port + "'");
    }
    h = host_port.substr(0, colon);
    p = host_port.substr(colon + 1);
  }
  if (h.empty()) return InvalidArgumentError("missing host in '" + host_port + "'");
  const bool digits = std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (p.empty() || p.size() > 5 || !digits) {
    return InvalidArgumentError("bad port in '" + host_port + "'");
  }
  int value = std::stoi(p);
  if (value > 65535) return InvalidArgumentError("port out of range in '" + host_port + "'");
  *host = h;
  *port = static_cast<uint16_t>(value);
  return OkStatus();
}

}  // namespace steadfast::agent
