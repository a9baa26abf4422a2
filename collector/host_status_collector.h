// HostCheckStatusCollector: the gauge steadfast_host_check_status{host,check,target} (0 ok,
// 1 warning, 2 critical, 3 unknown — the Nagios values), computed at scrape time from the
// latest state in Storage, so it is always what the API shows and survives restarts.
//
// `host` is the hostname. If two agents report the same hostname (a re-enrolled machine), the
// one seen most recently wins each (check, target), so every series is exported once.
// A storage error exports no samples and sets steadfast_collector_host_status_scrape_error 1.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "collector/store/storage.h"

namespace steadfast::collector {

class HostCheckStatusCollector final : public prometheus::Collectable {
 public:
  explicit HostCheckStatusCollector(Storage& storage) : storage_(storage) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Storage& storage_;
};

}  // namespace steadfast::collector
