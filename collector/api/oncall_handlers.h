// The alerting configuration through the API: reload, on-call schedules and escalation policies.
//
//   POST   /api/v1/alerting/reload              reads the config file's alerting: section again
//                                               (as SIGHUP does) -> 200 {version, rules, ...};
//                                               422 with the reason (file:line:key) when refused
//   GET    /api/v1/schedules                    every schedule: source "config" (the file,
//                                               read-only here) or "api", its definition, who
//                                               is on call now
//   GET    /api/v1/schedules/{name}
//   POST   /api/v1/schedules                    {name, time_zone, working, days_off, holidays,
//                                               overrides} (the config file's fields) -> 201
//   PUT    /api/v1/schedules/{name}             replaces an API schedule -> 200
//   DELETE /api/v1/schedules/{name}             -> 204; 422 while a policy uses it
//   GET|POST /api/v1/escalation-policies, GET|PUT|DELETE /api/v1/escalation-policies/{name}
//                                               the same for {name, tiers, repeat, repeat_after};
//                                               DELETE is 422 while a route uses it
//
// Reading needs `read`; reloading and changing need `manage_alerting` (admin). A change is
// checked against the whole configuration before it is stored (alerts/config_manager.h), takes
// effect at the next alerting round and is audited.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>

#include "collector/alerts/config_manager.h"
#include "collector/api/route_table.h"
#include "common/clock.h"

namespace steadfast::collector::api {

class OncallHandlers {
 public:
  // `reload` wakes the engine after a reload (null: nothing to wake).
  OncallHandlers(alerts::AlertingConfigManager& manager, const Clock& clock, std::function<void()> after_change)
      : manager_(manager), clock_(clock), after_change_(std::move(after_change)) {}
  void AddRoutes(RouteTable& table);

 private:
  http::HttpResponse Reload(const RequestContext& ctx) const;
  http::HttpResponse List(const RequestContext& ctx, const std::string& kind) const;
  http::HttpResponse Get(const RequestContext& ctx, const std::string& kind) const;
  http::HttpResponse Put(const RequestContext& ctx, const std::string& kind, bool create) const;
  http::HttpResponse Delete(const RequestContext& ctx, const std::string& kind) const;
  nlohmann::json EntryJson(const alerts::OncallEntry& e) const;

  alerts::AlertingConfigManager& manager_;
  const Clock& clock_;
  std::function<void()> after_change_;
};

}  // namespace steadfast::collector::api
