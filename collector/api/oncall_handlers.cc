#include "collector/api/oncall_handlers.h"

#include <utility>

#include "alerting/oncall.h"
#include "collector/api/alert_handlers.h"
#include "collector/api/api_util.h"

namespace steadfast::collector::api {

using accounts::Permission;
using http::HttpResponse;
using nlohmann::json;

json OncallHandlers::EntryJson(const alerts::OncallEntry& e) const {
  json j = {{"name", e.name},
            {"source", e.source},
            {"definition", json::parse(e.body_json, nullptr, false)},
            {"created_by", e.created_by.empty() ? json(nullptr) : json(e.created_by)},
            {"created_at", TimeOrNull(e.created_ms)},
            {"updated_by", e.updated_by.empty() ? json(nullptr) : json(e.updated_by)},
            {"updated_at", TimeOrNull(e.updated_ms)}};
  if (e.kind == alerts::kScheduleKind) {
    // Who is on call now, from the configuration in force.
    json now = nullptr;
    const auto config = manager_.live().Get();
    for (const alerting::Schedule& s : config->schedules) {
      if (s.name != e.name) continue;
      StatusOr<alerting::OnCall> who = alerting::OnCallAt(s, clock_.NowMillis());
      if (who.ok()) now = {{"user", who->user}, {"overridden", who->overridden}, {"shift_start", TimeOrNull(who->shift_start_ms)}};
    }
    j["on_call_now"] = std::move(now);
  }
  return j;
}

void OncallHandlers::AddRoutes(RouteTable& t) {
  using P = Permission;
  t.Add({"POST", "/api/v1/alerting/reload", "alerting.reload", P::kManageAlerting, false, ObjectKind::kNone,
         [this](const RequestContext& ctx) { return Reload(ctx); }});
  struct Kind {
    const char* path;
    const char* kind;
    const char* action;
  };
  for (const Kind& k : {Kind{"/api/v1/schedules", alerts::kScheduleKind, "schedules"},
                        Kind{"/api/v1/escalation-policies", alerts::kPolicyKind, "escalation_policies"}}) {
    const std::string kind = k.kind;
    const std::string path = k.path;
    const std::string action = k.action;
    t.Add({"GET", path, action + ".list", P::kRead, false, ObjectKind::kNone,
           [this, kind](const RequestContext& ctx) { return List(ctx, kind); }});
    t.Add({"GET", path + "/{id}", action + ".get", P::kRead, false, ObjectKind::kNone,
           [this, kind](const RequestContext& ctx) { return Get(ctx, kind); }});
    t.Add({"POST", path, action + ".create", P::kManageAlerting, false, ObjectKind::kNone,
           [this, kind](const RequestContext& ctx) { return Put(ctx, kind, true); }});
    t.Add({"PUT", path + "/{id}", action + ".replace", P::kManageAlerting, false, ObjectKind::kNone,
           [this, kind](const RequestContext& ctx) { return Put(ctx, kind, false); }});
    t.Add({"DELETE", path + "/{id}", action + ".delete", P::kManageAlerting, false, ObjectKind::kNone,
           [this, kind](const RequestContext& ctx) { return Delete(ctx, kind); }});
  }
}

HttpResponse OncallHandlers::Reload(const RequestContext& ctx) const {
  StatusOr<alerts::ReloadSummary> s = manager_.Reload(AlertActorFor(ctx, "alerting.reload"));
  if (!s.ok()) {
    // Whatever is wrong in the files (bad, missing or unreadable), the request itself was fine:
    // 422 with the reason.
    return ErrorResponse(s.status().code() == StatusCode::kInternal ? s.status()
                                                                     : FailedPreconditionError(s.status().message()));
  }
  if (after_change_) after_change_();
  return JsonResponse(200, json{{"version", s->version},
                                {"rule_files", s->rule_files},
                                {"rules", s->rules},
                                {"receivers", s->receivers},
                                {"schedules", s->schedules},
                                {"escalation_policies", s->escalation_policies},
                                {"heartbeats", s->heartbeats}});
}

HttpResponse OncallHandlers::List(const RequestContext&, const std::string& kind) const {
  json items = json::array();
  for (const alerts::OncallEntry& e : manager_.List(kind)) items.push_back(EntryJson(e));
  return JsonResponse(200, json{{"items", std::move(items)}});
}

HttpResponse OncallHandlers::Get(const RequestContext& ctx, const std::string& kind) const {
  StatusOr<alerts::OncallEntry> e = manager_.Find(kind, PathParam(ctx.request, "id"));
  if (!e.ok()) return ErrorResponse(e.status());
  return JsonResponse(200, EntryJson(*e));
}

HttpResponse OncallHandlers::Put(const RequestContext& ctx, const std::string& kind, bool create) const {
  const std::string name = create ? std::string() : PathParam(ctx.request, "id");
  const std::string action = std::string(kind == alerts::kScheduleKind ? "schedules" : "escalation_policies") +
                             (create ? ".create" : ".replace");
  StatusOr<alerts::OncallEntry> e = manager_.Put(kind, name, ctx.request.body, create, AlertActorFor(ctx, action));
  if (!e.ok()) return ErrorResponse(e.status());
  if (after_change_) after_change_();
  return JsonResponse(create ? 201 : 200, EntryJson(*e));
}

HttpResponse OncallHandlers::Delete(const RequestContext& ctx, const std::string& kind) const {
  const std::string action = std::string(kind == alerts::kScheduleKind ? "schedules" : "escalation_policies") + ".delete";
  Status st = manager_.Delete(kind, PathParam(ctx.request, "id"), AlertActorFor(ctx, action));
  if (!st.ok()) return ErrorResponse(st);
  if (after_change_) after_change_();
  return NoContent();
}

}  // namespace steadfast::collector::api
