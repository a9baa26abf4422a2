// CheckMetrics: the latest check results as Prometheus metrics, for the agent's /metrics.
// Computed at scrape time from the results of each check's last run (a run replaces all of
// that check's earlier series, so a mount that went away stops being exported).
//
// Mapping (documented in agent/README.md, "Metrics"):
//   steadfast_check_status{check,target}                     0 ok, 1 warning, 2 critical, 3 unknown
//   steadfast_check_duration_seconds{check,target}           how long the run took
//   steadfast_check_observed_timestamp_seconds{check,target} when the result was taken
//   each result metric <name> with labels L:
//     - under the name an existing exporter gives the signal, with the result's own labels
//       only, so that exporter's dashboards and alert rules work as they are (ExporterName):
//         <name>{L}       when <name> already is one: node_* (node_exporter; the raid, sensors,
//                         interface, service and time_sync checks name theirs so) or
//                         smartctl_* (smartctl_exporter; disk_health);
//         node_<name>{L}  when node_exporter 1.5 calls the signal node_<name> (NodeExporterNames:
//                         the system and filesystem checks' load1, memory_MemAvailable_bytes,
//                         filesystem_avail_bytes, ...).
//       The first check reporting a series wins if two report the same one.
//     - steadfast_check_<name>{check,target,L} otherwise. A label of L called check or target
//       is exported as exported_check / exported_target; names and label names are made
//       Prometheus-safe (other characters become '_'). A name that would collide with the
//       three families above is exported as steadfast_check_metric_<name>.
//   Names ending in _total are counters, everything else gauges. Samples carry no timestamp
//   (Prometheus stamps them at scrape time, as it does node_exporter's).
//
// Thread-safety: Update and Collect may be called from any thread.
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/protocol/protocol.h"

namespace steadfast::agent {

// The metric names (without "node_") node_exporter 1.5 uses for signals checks measure.
const std::set<std::string>& NodeExporterNames();
// The exporter's name a result metric is exported under, or nullopt for steadfast_check_<name>.
std::optional<std::string> ExporterName(const std::string& name);

class CheckMetrics final {
 public:
  // Replaces what `check` reported before with the results of its latest run.
  void Update(const std::string& check, const std::vector<protocol::CheckResult>& results);
  std::vector<prometheus::MetricFamily> Collect() const;

 private:
  // What a scrape needs of a result (no summary or details: they are not metrics).
  struct Sample {
    std::string target;
    protocol::CheckStatus status;
    int64_t duration_ms;
    int64_t observed_at_ms;
    std::vector<protocol::Metric> metrics;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Sample>> latest_;  // by check name
};

}  // namespace steadfast::agent
