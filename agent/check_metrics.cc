#include "agent/check_metrics.h"

#include <algorithm>
#include <cctype>

namespace steadfast::agent {
namespace {

constexpr const char* kStatus = "steadfast_check_status";
constexpr const char* kDuration = "steadfast_check_duration_seconds";
constexpr const char* kObserved = "steadfast_check_observed_timestamp_seconds";

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, [a-zA-Z_][a-zA-Z0-9_]* for label names.
std::string SafeName(const std::string& in, bool allow_colon) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (allow_colon && c == ':');
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(0, "_");
  return out;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

using Labels = std::vector<prometheus::ClientMetric::Label>;

// Families built during one Collect, in name order, with each series once.
class FamilySet {
 public:
  void Add(const std::string& name, const std::string& help, Labels labels, double value) {
    std::sort(labels.begin(), labels.end());
    // Two names that became the same once made safe: keep one, a series cannot repeat a label.
    labels.erase(std::unique(labels.begin(), labels.end(),
                             [](const auto& a, const auto& b) { return a.name == b.name; }),
                 labels.end());
    std::string key;
    for (const auto& l : labels) key += l.name + '\x1f' + l.value + '\x1e';
    if (!seen_[name].insert(key).second) return;  // the first check to report it wins
    auto [it, inserted] = families_.try_emplace(name);
    prometheus::MetricFamily& f = it->second;
    if (inserted) {
      f.name = name;
      f.help = help;
      f.type = EndsWith(name, "_total") ? prometheus::MetricType::Counter
                                        : prometheus::MetricType::Gauge;
    }
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    if (f.type == prometheus::MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
  }
  // Whether `name` has a family already (its help text is then not needed again).
  bool Knows(const std::string& name) const { return families_.count(name) != 0; }
  std::vector<prometheus::MetricFamily> Take() {
    std::vector<prometheus::MetricFamily> out;
    out.reserve(families_.size());
    for (auto& [name, f] : families_) out.push_back(std::move(f));
    return out;
  }

 private:
  std::map<std::string, prometheus::MetricFamily> families_;
  std::map<std::string, std::set<std::string>> seen_;
};

}  // namespace

const std::set<std::string>& NodeExporterNames() {
  // node_exporter 1.5 (Debian 12's prometheus-node-exporter), default and common collectors.
  static const std::set<std::string> kNames = {
      // loadavg, meminfo, stat, time
      "load1", "load5", "load15", "boot_time_seconds", "time_seconds", "memory_MemTotal_bytes",
      "memory_MemFree_bytes", "memory_MemAvailable_bytes", "memory_Buffers_bytes",
      "memory_Cached_bytes", "memory_SwapTotal_bytes", "memory_SwapFree_bytes",
      // filesystem
      "filesystem_size_bytes", "filesystem_free_bytes", "filesystem_avail_bytes",
      "filesystem_files", "filesystem_files_free", "filesystem_readonly",
      "filesystem_device_error",
      // hwmon
      "hwmon_temp_celsius", "hwmon_temp_max_celsius", "hwmon_temp_crit_celsius",
      "hwmon_temp_crit_alarm_celsius", "hwmon_fan_rpm", "hwmon_fan_min_rpm", "hwmon_fan_alarm",
      "hwmon_in_volts", "hwmon_in_min_volts", "hwmon_in_max_volts", "hwmon_in_alarm",
      // mdadm
      "md_disks", "md_disks_required", "md_state", "md_blocks", "md_blocks_synced",
      // netclass, netdev
      "network_up", "network_carrier", "network_speed_bytes", "network_mtu_bytes",
      "network_carrier_changes_total", "network_receive_bytes_total",
      "network_transmit_bytes_total", "network_receive_packets_total",
      "network_transmit_packets_total", "network_receive_errs_total",
      "network_transmit_errs_total", "network_receive_drop_total", "network_transmit_drop_total",
      // timex
      "timex_offset_seconds", "timex_sync_status", "timex_maxerror_seconds",
      "timex_estimated_error_seconds",
      // systemd
      "systemd_unit_state",
  };
  return kNames;
}

std::optional<std::string> ExporterName(const std::string& name) {
  if (name.rfind("node_", 0) == 0 || name.rfind("smartctl_", 0) == 0) return name;
  if (NodeExporterNames().count(name) != 0) return "node_" + name;
  return std::nullopt;
}

void CheckMetrics::Update(const std::string& check,
                          const std::vector<protocol::CheckResult>& results) {
  std::vector<Sample> samples;
  samples.reserve(results.size());
  for (const protocol::CheckResult& r : results) {
    samples.push_back(Sample{r.target, r.status, r.duration_ms, r.observed_at_ms, r.metrics});
  }
  std::lock_guard<std::mutex> lock(mu_);
  latest_[check] = std::move(samples);
}

std::vector<prometheus::MetricFamily> CheckMetrics::Collect() const {
  FamilySet set;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [check, samples] : latest_) {
    for (const Sample& s : samples) {
      const Labels id = {{"check", check}, {"target", s.target}};
      set.Add(kStatus, "Latest status of each check: 0 ok, 1 warning, 2 critical, 3 unknown.", id,
              static_cast<double>(static_cast<int>(s.status)));
      set.Add(kDuration, "How long the check's latest run took.", id,
              static_cast<double>(s.duration_ms) / 1000.0);
      set.Add(kObserved, "Unix time the check's latest result was taken.", id,
              static_cast<double>(s.observed_at_ms) / 1000.0);
      for (const protocol::Metric& m : s.metrics) {
        Labels labels;
        std::string family;
        std::string help;
        if (std::optional<std::string> exporter = ExporterName(m.name)) {
          family = SafeName(*exporter, true);
          if (!set.Knows(family)) {
            help = "As the exporter that names it (" + family + "), measured by a steadfast check.";
          }
          for (const auto& [k, v] : m.labels) labels.push_back({SafeName(k, false), v});
        } else {
          family = "steadfast_check_" + SafeName(m.name, true);
          if (family == kStatus || family == kDuration || family == kObserved) {
            family = "steadfast_check_metric_" + SafeName(m.name, true);
          }
          if (!set.Knows(family)) {
            help = "Check result metric " + m.name + (m.unit.empty() ? "" : " (" + m.unit + ")") + ".";
          }
          labels = id;
          for (const auto& [k, v] : m.labels) {
            std::string name = SafeName(k, false);
            if (name == "check" || name == "target") name = "exported_" + name;
            labels.push_back({name, v});
          }
        }
        // "__" starts the labels Prometheus reserves for itself.
        for (auto& l : labels) {
          if (l.name.rfind("__", 0) == 0) l.name = "x" + l.name;
        }
        set.Add(family, help, std::move(labels), m.value);
      }
    }
  }
  return set.Take();
}

}  // namespace steadfast::agent
