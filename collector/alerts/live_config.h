// LiveAlertingConfig: the alerting configuration in force, replaced as a whole on reload
// (SIGHUP, POST /api/v1/alerting/reload) and when schedules or escalation policies are changed
// through the API. Readers take a snapshot (Get) and use it for one unit of work — a round, a
// delivery, a request — so a reload never changes a configuration under its reader.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "alerting/alerting_config.h"

namespace steadfast::collector::alerts {

class LiveAlertingConfig {
 public:
  explicit LiveAlertingConfig(alerting::AlertingConfig initial)
      : config_(std::make_shared<const alerting::AlertingConfig>(std::move(initial))) {}

  std::shared_ptr<const alerting::AlertingConfig> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return config_;
  }
  // The snapshot with its version, read together.
  std::shared_ptr<const alerting::AlertingConfig> Get(int64_t* version) const {
    std::lock_guard<std::mutex> lock(mu_);
    *version = version_;
    return config_;
  }
  // Starts at 1; each Set adds one.
  int64_t version() const {
    std::lock_guard<std::mutex> lock(mu_);
    return version_;
  }
  void Set(alerting::AlertingConfig next) {
    auto p = std::make_shared<const alerting::AlertingConfig>(std::move(next));
    std::lock_guard<std::mutex> lock(mu_);
    config_ = std::move(p);
    ++version_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const alerting::AlertingConfig> config_;  // guarded by mu_
  int64_t version_ = 1;                                      // guarded by mu_
};

}  // namespace steadfast::collector::alerts
