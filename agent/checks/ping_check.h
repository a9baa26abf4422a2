// PingCheck (type "ping"): `count` ICMP (ICMPv6) echo requests per run, `echo_interval` apart, and
// what came back: loss, round-trip times min/avg/max and jitter. Not the single packet of
// blackbox_exporter's icmp prober: one lost packet there is a failed probe; here it is 20 %
// loss, and the RTT spread says how steady the path is.
//
// Sockets: an unprivileged ICMP socket (SOCK_DGRAM/IPPROTO_ICMP[V6]) when
// net.ipv4.ping_group_range admits the agent's group, else a raw socket (needs CAP_NET_RAW).
// When neither opens, the result is unknown and says which permission is missing. Replies are
// matched by identifier, sequence number and a per-run random cookie in the payload
// (checks/icmp.h), so other pings on the host, and other ping checks running at the same
// time in other threads, never count. ICMP errors quoting our echoes (destination
// unreachable, TTL exceeded) are read on raw sockets and named in the summary.
//
// Timing: echo i leaves at start + i*echo_interval; the run ends when every echo is answered (or
// reported lost by an ICMP error), or `wait` after the last one, or at ctx.deadline,
// whichever is first. At start-up (count-1)*echo_interval + wait must fit in the check's
// timeout (default 10 s).
// RTTs are measured on the agent's steady clock from just before sendto to the read.
//
// Config keys (besides name/type/interval/timeout):
//   host (required): a name or an IPv4/IPv6 address (resolved with getaddrinfo each run;
//     the first address of the chosen family is pinged),
//   family: auto | ipv4 | ipv6 (default auto: the resolver's first answer),
//   count (1-100, default 5), echo_interval (10ms-10s, default 200ms) between echoes (the
//     common key `interval` stays the check's schedule),
//   wait (10ms-60s, default 1s): how long to wait for replies after the last echo,
//   packet_size (payload bytes, 8-65000, default 56 as ping(8)),
//   socket: auto | dgram | raw (default auto: dgram, else raw),
//   warning_loss_percent / critical_loss_percent (default 20 / 60),
//   warning_rtt_ms / critical_rtt_ms on the average RTT (default 100 / 500);
//   the loss and RTT defaults are check_ping's documented example (-w 100,20% -c 500,60%).
// Status: the worse of the loss and the average-RTT grades; 100 % loss is critical whatever
// the thresholds say. Cannot resolve -> critical. No socket / nothing could be sent for a
// local reason (EPERM from a firewall) -> unknown.
// Metrics: ping_packets_sent, ping_packets_received, ping_loss_ratio (0-1), and with at
// least one reply ping_rtt_{min,avg,max}_seconds, ping_jitter_seconds (the mean absolute
// difference of successive RTTs in sequence order, as RFC 3550's interarrival jitter
// without its smoothing; 0 with one reply).
#pragma once

#include <memory>
#include <string>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

struct PingCheckOptions {
  enum class Family { kAuto, kIpv4, kIpv6 };
  enum class Socket { kAuto, kDgram, kRaw };
  std::string host;
  Family family = Family::kAuto;
  Socket socket = Socket::kAuto;
  int count = 5;
  Millis interval{200};
  Millis wait{1'000};
  int packet_size = 56;
  Thresholds loss_percent{20.0, 60.0};
  Thresholds rtt_ms{100.0, 500.0};
};

class PingCheck final : public Check {
 public:
  PingCheck(std::string name, PingCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  PingCheckOptions options_;
};

// Factory for type "ping".
StatusOr<std::unique_ptr<Check>> NewPingCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
