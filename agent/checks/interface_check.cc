#include "agent/checks/interface_check.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <nlohmann/json.hpp>

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

constexpr unsigned long kIffUp = 0x1;  // IFF_UP from <net/if.h>

std::optional<int64_t> ReadInt(FileSystem& fs, const std::string& path, int base = 10) {
  auto text = ReadTrimmed(fs, path);
  if (!text.ok() || text->empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(text->c_str(), &end, base);
  if (end == text->c_str()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ReadCounter(FileSystem& fs, const std::string& path) {
  auto text = ReadTrimmed(fs, path);
  if (!text.ok() || text->empty()) return std::nullopt;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text->c_str(), &end, 10);
  if (end == text->c_str()) return std::nullopt;
  return v;
}

Metric M(std::string name, double value, std::string unit, const std::string& device) {
  return MakeMetric(std::move(name), value, std::move(unit), {{"device", device}});
}

// The statistics the check reads from /sys/class/net/<dev>/statistics and exports under
// node_exporter's names.
struct CounterField {
  const char* sysfs_file;
  uint64_t InterfaceCounters::*member;
  const char* metric;
  const char* unit;
};
constexpr CounterField kCounterFields[] = {
    {"rx_bytes", &InterfaceCounters::rx_bytes, "node_network_receive_bytes_total", "bytes"},
    {"tx_bytes", &InterfaceCounters::tx_bytes, "node_network_transmit_bytes_total", "bytes"},
    {"rx_packets", &InterfaceCounters::rx_packets, "node_network_receive_packets_total", ""},
    {"tx_packets", &InterfaceCounters::tx_packets, "node_network_transmit_packets_total", ""},
    {"rx_errors", &InterfaceCounters::rx_errors, "node_network_receive_errs_total", ""},
    {"tx_errors", &InterfaceCounters::tx_errors, "node_network_transmit_errs_total", ""},
    {"rx_dropped", &InterfaceCounters::rx_dropped, "node_network_receive_drop_total", ""},
    {"tx_dropped", &InterfaceCounters::tx_dropped, "node_network_transmit_drop_total", ""},
};

bool Matches(const std::vector<std::string>& patterns, const std::string& name) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
    return ::fnmatch(p.c_str(), name.c_str(), 0) == 0;
  });
}

double Delta(uint64_t now, uint64_t before) {
  return static_cast<double>(now) - static_cast<double>(before);
}

}  // namespace

StatusOr<InterfaceState> ReadInterface(FileSystem& fs, const std::string& sys_root,
                                       const std::string& name) {
  const std::string dir = sys_root + "/class/net/" + name;
  auto operstate = ReadTrimmed(fs, dir + "/operstate");
  if (!operstate.ok()) {
    if (operstate.status().code() == StatusCode::kNotFound) {
      return NotFoundError("interface " + name + " does not exist");
    }
    return operstate.status();
  }
  InterfaceState s;
  s.name = name;
  s.operstate = *operstate;
  s.admin_up =
      (static_cast<unsigned long>(ReadInt(fs, dir + "/flags", 16).value_or(0)) & kIffUp) != 0;
  if (auto c = ReadInt(fs, dir + "/carrier")) s.carrier = *c != 0;
  s.speed_mbps = ReadInt(fs, dir + "/speed");
  if (auto d = ReadTrimmed(fs, dir + "/duplex"); d.ok()) s.duplex = *d;
  s.mtu = ReadInt(fs, dir + "/mtu");
  const std::string st = dir + "/statistics/";
  // No rx_bytes: the device has no statistics directory, and no counters at all.
  if (ReadCounter(fs, st + "rx_bytes")) {
    InterfaceCounters c;
    for (const CounterField& f : kCounterFields) {
      c.*f.member = ReadCounter(fs, st + f.sysfs_file).value_or(0);
    }
    s.counters = c;
  }
  return s;
}

std::vector<std::string> InterfaceCheckOptions::DefaultExcluded() {
  return {"lo",   "veth*", "docker*", "br-*",  "virbr*",   "vnet*", "tap*",
          "tun*", "ifb*",  "dummy*",  "cali*", "flannel*", "cni*",  "kube-*"};
}

bool InterfaceCheck::Selected(const std::string& name) const {
  if (std::find(options_.required.begin(), options_.required.end(), name) !=
      options_.required.end()) {
    return true;
  }
  if (!options_.interfaces.empty() && !Matches(options_.interfaces, name)) return false;
  return !Matches(options_.exclude, name);
}

std::vector<CheckResult> InterfaceCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> results;
  const std::string base = ctx.sys_root + "/class/net";
  auto names = ctx.fs.ListDirectory(base);
  if (!names.ok()) {
    CheckResult r = NewResult(ctx, "interfaces");
    r.status = CheckStatus::kUnknown;
    r.summary = "cannot list " + base + ": " + names.status().message();
    results.push_back(std::move(r));
    return results;
  }
  std::set<std::string> present(names->begin(), names->end());
  for (const std::string& name : *names) {
    if (!Selected(name)) continue;
    const bool required = std::find(options_.required.begin(), options_.required.end(), name) !=
                          options_.required.end();
    auto state = ReadInterface(ctx.fs, ctx.sys_root, name);
    if (!state.ok()) {
      CheckResult r = NewResult(ctx, name);
      r.status = CheckStatus::kUnknown;
      r.summary = "cannot read " + name + ": " + state.status().message();
      results.push_back(std::move(r));
      continue;
    }
    results.push_back(InterfaceResult(ctx, *state, required));
  }
  for (const std::string& name : options_.required) {
    if (present.count(name) != 0) continue;
    CheckResult r = NewResult(ctx, name);
    r.status = CheckStatus::kCritical;
    r.summary = name + " does not exist";
    r.metrics.push_back(M("node_network_up", 0, "", name));
    results.push_back(std::move(r));
  }
  if (results.empty()) {
    CheckResult r = NewResult(ctx, "interfaces");
    r.status = CheckStatus::kUnknown;
    r.summary = "no network interface matched the interfaces/exclude settings";
    results.push_back(std::move(r));
  }
  return results;
}

CheckResult InterfaceCheck::InterfaceResult(const CheckContext& ctx, const InterfaceState& s,
                                            bool required) {
  CheckResult r = NewResult(ctx, s.name);
  const std::string& dev = s.name;
  // Loopback and some virtual devices report operstate "unknown" with carrier 1: carrier is
  // what says whether the link works.
  const bool carrier = s.admin_up && s.carrier.value_or(s.operstate == "up");
  r.metrics.push_back(M("node_network_up", s.operstate == "up" ? 1 : 0, "", dev));
  r.metrics.push_back(M("node_network_carrier", carrier ? 1 : 0, "", dev));
  if (s.speed_mbps && *s.speed_mbps > 0) {
    // node_exporter: speed in bytes per second (Mb/s * 10^6 / 8).
    r.metrics.push_back(
        M("node_network_speed_bytes", static_cast<double>(*s.speed_mbps) * 125000.0, "bytes", dev));
  }
  if (s.mtu)
    r.metrics.push_back(M("node_network_mtu_bytes", static_cast<double>(*s.mtu), "bytes", dev));

  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> parts;
  if (!s.admin_up) {
    status = required ? CheckStatus::kCritical : CheckStatus::kOk;
    parts.push_back("administratively down");
  } else if (!carrier) {
    if (required) {
      status = CheckStatus::kCritical;
      parts.push_back("no carrier (link down)");
    } else if (seen_carrier_.count(dev) != 0) {
      status = CheckStatus::kWarning;
      parts.push_back("link lost (no carrier; it had one earlier)");
    } else {
      parts.push_back("no carrier (not required)");
    }
  } else {
    seen_carrier_.insert(dev);
    std::string link = "up";
    if (s.speed_mbps && *s.speed_mbps > 0) {
      link += fmt::format(", {} Mb/s", *s.speed_mbps);
      if (s.duplex == "full" || s.duplex == "half") link += " " + s.duplex + " duplex";
    }
    parts.push_back(link);
    if (options_.min_speed_mbps && s.speed_mbps && *s.speed_mbps > 0 &&
        *s.speed_mbps < *options_.min_speed_mbps) {
      status = protocol::WorseStatus(status, CheckStatus::kWarning);
      parts.push_back(fmt::format("speed {} Mb/s below the expected {} Mb/s", *s.speed_mbps,
                                  *options_.min_speed_mbps));
    }
    if (options_.expect_full_duplex && s.duplex == "half") {
      status = protocol::WorseStatus(status, CheckStatus::kWarning);
      parts.push_back("half duplex (autonegotiation mismatch?)");
    }
  }

  if (s.counters) {
    const InterfaceCounters& c = *s.counters;
    for (const CounterField& f : kCounterFields) {
      r.metrics.push_back(M(f.metric, static_cast<double>(c.*f.member), f.unit, dev));
    }

    const auto now = ctx.clock.Monotonic();
    auto prev = previous_.find(dev);
    if (prev != previous_.end()) {
      const InterfaceCounters& p = prev->second.counters;
      const double seconds = std::chrono::duration<double>(now - prev->second.at).count();
      // A counter that went back: the driver was reloaded or the counters reset; no rates.
      const bool went_back =
          std::any_of(std::begin(kCounterFields), std::end(kCounterFields),
                      [&](const CounterField& f) { return c.*f.member < p.*f.member; });
      if (seconds > 0 && !went_back) {
        const double errors =
            (Delta(c.rx_errors, p.rx_errors) + Delta(c.tx_errors, p.tx_errors)) / seconds;
        const double drops =
            (Delta(c.rx_dropped, p.rx_dropped) + Delta(c.tx_dropped, p.tx_dropped)) / seconds;
        const double rx = Delta(c.rx_bytes, p.rx_bytes) / seconds;
        const double tx = Delta(c.tx_bytes, p.tx_bytes) / seconds;
        r.metrics.push_back(M("network_errors_per_second", errors, "", dev));
        r.metrics.push_back(M("network_drops_per_second", drops, "", dev));
        r.metrics.push_back(M("network_receive_bytes_per_second", rx, "bytes", dev));
        r.metrics.push_back(M("network_transmit_bytes_per_second", tx, "bytes", dev));
        if (carrier) {
          parts.push_back(fmt::format("rx {}/s, tx {}/s", HumanBytes(rx), HumanBytes(tx)));
        }
        CheckStatus e = options_.errors_per_second.Grade(errors);
        CheckStatus d = options_.drops_per_second.Grade(drops);
        if (e != CheckStatus::kOk || errors > 0) {
          parts.push_back(fmt::format("{:.2f} errors/s", errors));
        }
        if (d != CheckStatus::kOk || drops > 0)
          parts.push_back(fmt::format("{:.2f} drops/s", drops));
        status = protocol::WorseStatus(status, protocol::WorseStatus(e, d));
      }
    }
    previous_[dev] = Sample{now, c};
  }
  r.status = status;
  r.summary = fmt::format("{}", fmt::join(parts, ", "));
  nlohmann::json details = {
      {"operstate", s.operstate}, {"admin_up", s.admin_up}, {"required", required}};
  if (s.carrier) details["carrier"] = *s.carrier;
  if (s.speed_mbps) details["speed_mbps"] = *s.speed_mbps;
  if (!s.duplex.empty()) details["duplex"] = s.duplex;
  if (s.mtu) details["mtu"] = *s.mtu;
  r.details_json = details.dump();
  return r;
}

StatusOr<std::unique_ptr<Check>> NewInterfaceCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"interfaces", "exclude", "required", "min_speed_mbps", "expect_full_duplex",
                "errors_per_second_warning", "errors_per_second_critical",
                "drops_per_second_warning", "drops_per_second_critical"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  InterfaceCheckOptions o;
  SF_ASSIGN_OR_RETURN(o.interfaces, n["interfaces"].StringList());
  if (n["exclude"].present()) {
    SF_ASSIGN_OR_RETURN(o.exclude, n["exclude"].StringList());
  } else if (!o.interfaces.empty()) {
    o.exclude.clear();  // an explicit list says exactly which interfaces to watch
  }
  SF_ASSIGN_OR_RETURN(o.required, n["required"].StringList());
  for (const char* key : {"interfaces", "exclude", "required"}) {
    SF_ASSIGN_OR_RETURN(auto items, n[key].Items());
    for (const config::ConfigNode& item : items) {
      SF_ASSIGN_OR_RETURN(std::string v, item.String());
      if (v.empty() || v.find('/') != std::string::npos) {
        return item.Error("expected an interface name like eth0");
      }
      if (std::string(key) == "required" && v.find_first_of("*?[") != std::string::npos) {
        return item.Error("required takes exact interface names, not patterns");
      }
    }
  }
  if (n["min_speed_mbps"].present()) {
    SF_ASSIGN_OR_RETURN(int64_t v, n["min_speed_mbps"].Int(0, 1, 10'000'000));
    o.min_speed_mbps = v;
  }
  SF_ASSIGN_OR_RETURN(o.expect_full_duplex, n["expect_full_duplex"].Bool(true));
  SF_ASSIGN_OR_RETURN(o.errors_per_second,
                      ReadThresholds(n, "errors_per_second_warning", "errors_per_second_critical",
                                     1.0, 10.0, 0, 1e12));
  SF_ASSIGN_OR_RETURN(o.drops_per_second,
                      ReadThresholds(n, "drops_per_second_warning", "drops_per_second_critical",
                                     100.0, std::nullopt, 0, 1e12));
  return std::unique_ptr<Check>(std::make_unique<InterfaceCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
