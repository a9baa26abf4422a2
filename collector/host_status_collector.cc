#include "collector/host_status_collector.h"

#include <map>
#include <tuple>

#include "common/logging.h"

namespace steadfast::collector {

std::vector<prometheus::MetricFamily> HostCheckStatusCollector::Collect() const {
  prometheus::MetricFamily status;
  status.name = "steadfast_host_check_status";
  status.help = "Latest status of each check per host: 0 ok, 1 warning, 2 critical, 3 unknown";
  status.type = prometheus::MetricType::Gauge;

  prometheus::MetricFamily error;
  error.name = "steadfast_collector_host_status_scrape_error";
  error.help = "1 if the latest check states could not be read for this scrape";
  error.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric error_value;

  StatusOr<std::vector<CheckStatusSample>> samples = storage_.AllCheckStatuses();
  if (!samples.ok()) {
    SF_LOG_WARN("metrics: cannot read the latest check states: {}", samples.status().ToString());
    error_value.gauge.value = 1;
  } else {
    // (host, check, target) -> newest sample by the agent's last-seen time.
    std::map<std::tuple<std::string, std::string, std::string>, const CheckStatusSample*> chosen;
    for (const CheckStatusSample& s : *samples) {
      auto key = std::make_tuple(s.hostname, s.check, s.target);
      auto [it, inserted] = chosen.emplace(key, &s);
      if (!inserted && s.last_seen_ms > it->second->last_seen_ms) it->second = &s;
    }
    status.metric.reserve(chosen.size());
    for (const auto& [key, s] : chosen) {
      prometheus::ClientMetric m;
      m.label = {{"check", s->check}, {"host", s->hostname}, {"target", s->target}};
      m.gauge.value = static_cast<double>(static_cast<int>(s->status));
      status.metric.push_back(std::move(m));
    }
  }
  error.metric.push_back(std::move(error_value));
  std::vector<prometheus::MetricFamily> out;
  out.push_back(std::move(status));
  out.push_back(std::move(error));
  return out;
}

}  // namespace steadfast::collector
