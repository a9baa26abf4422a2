// TcpCheck (type "tcp"): can we open a TCP connection to host:port, and how long does the
// handshake take. The host is resolved with getaddrinfo on every run; each address is tried in
// turn (non-blocking connect + poll) until one connects or the timeout is used up. The
// connection is closed at once; nothing is sent.
//
// Config keys (besides name/type/interval):
//   target: "host:port" ("[v6-address]:port"), or host and port (1-65535) as two keys;
//   timeout (duration, default 5s; also the run's deadline, as for every check: the connect
//   timeout is cut to what is left of ctx.deadline),
//   warning_ms / critical_ms: connect-time thresholds in milliseconds (default 500 / 2000).
// Refused, unreachable, timed out or unresolvable -> critical, with the reason in the summary.
//
// Note: getaddrinfo itself has no timeout; a dead resolver delays the run by the resolver's
// own timeout (resolv.conf).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

struct TcpCheckOptions {
  std::string host;
  uint16_t port = 0;
  Millis timeout{5'000};
  Thresholds latency_ms{500.0, 2'000.0};
};

class TcpCheck final : public Check {
 public:
  TcpCheck(std::string name, TcpCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

  // "host:port", with brackets around an IPv6 literal.
  std::string Target() const;

 private:
  TcpCheckOptions options_;
};

// Factory for type "tcp".
StatusOr<std::unique_ptr<Check>> NewTcpCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
