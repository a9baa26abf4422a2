// Agent actions through the API (docs/ACTIONS.md; the agent side is PROTOCOL.md, "Actions"):
//
//   POST /api/v1/hosts/{id}/actions        {action, params?, reason, expires_in?} -> 202 {action}
//                                          queues it for the host's agent; `operate` permission
//                                          and the host in the caller's units; audited
//                                          (hosts.action) with the reason
//   GET  /api/v1/hosts/{id}/actions        ?limit= -> {items: [...]} newest first; `read`
//   GET  /api/v1/hosts/{id}/actions/{action}  one action, with its state and the agent's report
//
// Known actions and their parameters:
//   emergency_backup  {"job": NAME} optional: the host's backup jobs now (or the one named),
//                     tagged "emergency", nothing forgotten ("preserve the data")
// `expires_in` (seconds, 60..86400, default 3600): an agent that has not started it by then
// refuses it. The agent runs only what its own config allows (actions.allowed); a refusal comes
// back as the action's state with the reason.
#pragma once

#include <nlohmann/json.hpp>

#include "collector/actions/action_store.h"
#include "collector/api/route_table.h"
#include "collector/store/storage.h"
#include "common/clock.h"

namespace steadfast::collector::api {

// The JSON shape of an action in the API.
nlohmann::json ActionJson(const actions::AgentAction& a);

class ActionHandlers {
 public:
  ActionHandlers(actions::ActionStore& store, const Clock& clock) : store_(store), clock_(clock) {}
  void AddRoutes(RouteTable& table);

 private:
  http::HttpResponse Create(const RequestContext& ctx) const;
  http::HttpResponse List(const RequestContext& ctx) const;
  http::HttpResponse Get(const RequestContext& ctx) const;

  actions::ActionStore& store_;
  const Clock& clock_;
};

}  // namespace steadfast::collector::api
