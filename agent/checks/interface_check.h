// InterfaceCheck (type "interface"): network links from <sys_root>/class/net/<if>/{operstate,
// carrier, speed, duplex, mtu, flags, statistics/{rx,tx}_{bytes,packets,errors,dropped}}. One
// result per interface (target = interface name).
//
// Which interfaces: those matching `interfaces` (fnmatch patterns like "eno*"; default: all)
// minus `exclude` (default: lo and virtual plumbing — veth*, docker*, br-*, virbr*, vnet*, tap*,
// tun*, ifb*, dummy*, cali*, flannel*, cni*, kube-*; an explicit `interfaces` list replaces the
// default exclusions), plus every name in `required`.
//
// Grading:
//   critical  a `required` interface that is missing, administratively down (IFF_UP clear) or
//             without carrier
//   warning   an interface that had carrier at an earlier run and lost it (until the agent
//             restarts, like the filesystem check's read-only rule); speed below
//             `min_speed_mbps`; half duplex with carrier (a classic autonegotiation mismatch)
//             unless `expect_full_duplex: false`; error or drop rates at their thresholds
//   ok        anything else, including an unplugged port that was never up and is not required
// Rates (errors/s, drops/s, bytes/s) are deltas since the previous run divided by the elapsed
// monotonic time; the first run has none, and a counter that went backwards (driver reload)
// restarts the baseline.
//
// Config keys (besides the common ones):
//   interfaces / exclude / required      see above
//   min_speed_mbps:                      off unless set
//   expect_full_duplex:                  true
//   errors_per_second_warning / _critical   rx_errors + tx_errors per second; 1 / 10
//   drops_per_second_warning / _critical    rx_dropped + tx_dropped per second; 100 / off (the
//                                           kernel counts benign drops too: unknown protocols)
//
// Metrics (node_exporter names, label device): node_network_up (operstate "up"),
// node_network_carrier, node_network_speed_bytes, node_network_mtu_bytes,
// node_network_{receive,transmit}_{bytes,packets,errs,drop}_total; plus
// network_errors_per_second, network_drops_per_second, network_receive_bytes_per_second and
// network_transmit_bytes_per_second from the second run on.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

struct InterfaceCounters {
  uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0;
  uint64_t rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0;
};

struct InterfaceState {
  std::string name;
  std::string operstate;              // "up", "down", "unknown", "dormant", "lowerlayerdown", ...
  bool admin_up = false;              // IFF_UP in flags
  std::optional<bool> carrier;        // absent while admin down (the kernel answers EINVAL)
  std::optional<int64_t> speed_mbps;  // absent or -1 when unknown
  std::string duplex;                 // "full", "half", "unknown" or ""
  std::optional<int64_t> mtu;
  std::optional<InterfaceCounters> counters;
};

// Reads one interface. NotFound when <sys_root>/class/net/<name> does not exist.
StatusOr<InterfaceState> ReadInterface(FileSystem& fs, const std::string& sys_root,
                                       const std::string& name);

struct InterfaceCheckOptions {
  std::vector<std::string> interfaces;
  std::vector<std::string> exclude = DefaultExcluded();
  std::vector<std::string> required;
  std::optional<int64_t> min_speed_mbps;
  bool expect_full_duplex = true;
  Thresholds errors_per_second{1.0, 10.0};
  Thresholds drops_per_second{100.0, std::nullopt};

  static std::vector<std::string> DefaultExcluded();
};

class InterfaceCheck final : public Check {
 public:
  InterfaceCheck(std::string name, InterfaceCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

  bool Selected(const std::string& name) const;

 private:
  struct Sample {
    std::chrono::steady_clock::time_point at;
    InterfaceCounters counters;
  };
  protocol::CheckResult InterfaceResult(const CheckContext& ctx, const InterfaceState& s,
                                        bool required);

  InterfaceCheckOptions options_;
  std::map<std::string, Sample> previous_;
  std::set<std::string> seen_carrier_;
};

// Factory for type "interface".
StatusOr<std::unique_ptr<Check>> NewInterfaceCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
