#include "collector/api/action_handlers.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "collector/accounts/audit_summary.h"
#include "collector/api/api_util.h"
#include "common/random.h"

namespace steadfast::collector::api {

using accounts::Permission;
using http::HttpResponse;
using nlohmann::json;

namespace {

constexpr int64_t kDefaultExpiresS = 3'600;

bool JobName(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// The parameters of a known action, checked; an error response otherwise.
std::optional<json> ActionParams(const std::string& action, const json& body, HttpResponse* error) {
  json params = json::object();
  if (body.contains("params") && !body["params"].is_null()) {
    if (!body["params"].is_object()) {
      *error = BadParam("params", "expected an object");
      return std::nullopt;
    }
    params = body["params"];
  }
  if (action == "emergency_backup") {
    for (auto it = params.begin(); it != params.end(); ++it) {
      if (it.key() != "job") {
        *error = BadParam("params." + it.key(), "unknown parameter (emergency_backup takes job)");
        return std::nullopt;
      }
    }
    if (params.contains("job") && (!params["job"].is_string() || !JobName(params["job"].get<std::string>()))) {
      *error = BadParam("params.job", "expected a backup job name (letters, digits, '-', '_', '.'; at most 64)");
      return std::nullopt;
    }
    return params;
  }
  *error = BadParam("action", "unknown action '" + action + "' (known: emergency_backup)");
  return std::nullopt;
}

}  // namespace

json ActionJson(const actions::AgentAction& a) {
  json params = json::parse(a.params_json, nullptr, false);
  json details = json::parse(a.details_json, nullptr, false);
  return json{{"id", a.id},
              {"host_id", a.agent_id},
              {"action", a.action},
              {"params", params.is_object() ? params : json::object()},
              {"reason", a.reason},
              {"requested_by", a.requested_by},
              {"requested_at", TimeOrNull(a.requested_at_ms)},
              {"expires_at", TimeOrNull(a.expires_at_ms)},
              {"state", a.state},
              {"finished", actions::Finished(a.state)},
              {"delivered_at", TimeOrNull(a.delivered_at_ms)},
              {"started_at", TimeOrNull(a.started_at_ms)},
              {"finished_at", TimeOrNull(a.finished_at_ms)},
              {"updated_at", TimeOrNull(a.updated_at_ms)},
              {"summary", a.summary},
              {"details", details.is_object() ? details : json::object()}};
}

void ActionHandlers::AddRoutes(RouteTable& t) {
  using P = Permission;
  t.Add({"POST", "/api/v1/hosts/{id}/actions", "hosts.action", P::kOperate, false, ObjectKind::kHost,
         [this](const RequestContext& ctx) { return Create(ctx); }});
  t.Add({"GET", "/api/v1/hosts/{id}/actions", "hosts.actions", P::kRead, false, ObjectKind::kHost,
         [this](const RequestContext& ctx) { return List(ctx); }});
  t.Add({"GET", "/api/v1/hosts/{id}/actions/{action}", "hosts.action_get", P::kRead, false, ObjectKind::kHost,
         [this](const RequestContext& ctx) { return Get(ctx); }});
}

HttpResponse ActionHandlers::Create(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"action", "params", "reason", "expires_in"}, &error)) return error;
  std::optional<std::string> action, reason;
  std::optional<int64_t> expires_in;
  if (!GetString(*body, "action", &action, &error) || !GetString(*body, "reason", &reason, &error) ||
      !GetInt(*body, "expires_in", &expires_in, &error)) {
    return error;
  }
  if (!action || action->empty()) return BadParam("action", "required (known: emergency_backup)");
  if (!reason || reason->empty()) return BadParam("reason", "required: say why, for the audit trail");
  if (reason->size() > 1000) return BadParam("reason", "at most 1000 bytes");
  const int64_t expires_s = expires_in.value_or(kDefaultExpiresS);
  if (expires_s < 60 || expires_s > 86'400) return BadParam("expires_in", "seconds, from 60 to 86400");
  std::optional<json> params = ActionParams(*action, *body, &error);
  if (!params) return error;

  actions::AgentAction a;
  a.id = "act-" + RandomHexToken(8);
  a.agent_id = PathParam(ctx.request, "id");
  a.action = *action;
  a.params_json = params->dump();
  a.reason = *reason;
  a.requested_by = ctx.actor.name;
  a.requested_at_ms = clock_.NowMillis();
  a.expires_at_ms = a.requested_at_ms + expires_s * 1000;
  audit::AuditEvent event = accounts::AuditEventWithSummary(
      ctx.actor, "hosts.action", "host", a.agent_id,
      json{{"action_id", a.id}, {"action", a.action}, {"params", *params}, {"reason", a.reason},
           {"expires_at", TimeOrNull(a.expires_at_ms)}});
  event.message = a.action + " requested";
  Status st = store_.Queue(a, event);
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(202, json{{"action", ActionJson(a)}});
}

HttpResponse ActionHandlers::List(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<int64_t> limit = IntParam(ctx.request, "limit", 50, 1, 1000, &error);
  if (!limit) return error;
  StatusOr<std::vector<actions::AgentAction>> list =
      store_.List(PathParam(ctx.request, "id"), *limit, clock_.NowMillis());
  if (!list.ok()) return ErrorResponse(list.status());
  json items = json::array();
  for (const actions::AgentAction& a : *list) items.push_back(ActionJson(a));
  return JsonResponse(200, json{{"items", std::move(items)}});
}

HttpResponse ActionHandlers::Get(const RequestContext& ctx) const {
  StatusOr<actions::AgentAction> a =
      store_.Get(PathParam(ctx.request, "id"), PathParam(ctx.request, "action"), clock_.NowMillis());
  if (!a.ok()) return ErrorResponse(a.status());
  return JsonResponse(200, ActionJson(*a));
}

}  // namespace steadfast::collector::api
