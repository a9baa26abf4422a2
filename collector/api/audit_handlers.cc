#include "collector/api/audit_handlers.h"

#include <sstream>
#include <utility>

#include "collector/api/api_util.h"
#include "collector/audit/audit_export.h"
#include "common/clock.h"

namespace steadfast::collector::api {

namespace {

using accounts::Permission;
using http::HttpResponse;
using nlohmann::json;

constexpr int64_t kDefaultLimit = 100;
constexpr int64_t kMaxLimit = 10'000;

}  // namespace

void AuditHandlers::AddRoutes(RouteTable& t) {
  t.Add({"GET", "/api/v1/audit", "audit.query", Permission::kReadAudit, false, ObjectKind::kNone,
         [this](const RequestContext& ctx) { return Query(ctx); }});
  t.Add({"GET", "/api/v1/audit/verify", "audit.verify", Permission::kVerifyAudit, false, ObjectKind::kNone,
         [this](const RequestContext& ctx) { return Verify(ctx); }});
}

HttpResponse AuditHandlers::Query(const RequestContext& ctx) const {
  HttpResponse error;
  audit::AuditQuery q;
  auto limit = IntParam(ctx.request, "limit", kDefaultLimit, 1, kMaxLimit, &error);
  if (!limit) return error;
  auto after = IntParam(ctx.request, "after_seq", 0, 0, INT64_MAX, &error);
  if (!after) return error;
  auto from = TimeParam(ctx.request, "from", INT64_MIN, &error);
  if (!from) return error;
  auto to = TimeParam(ctx.request, "to", INT64_MAX, &error);
  if (!to) return error;
  if (*from > *to) return BadParam("from", "must not be after 'to'");
  q.limit = *limit;
  q.after_seq = *after;
  q.from_ms = *from;
  q.to_ms = *to;
  auto non_empty = [&](const char* name) -> std::optional<std::string> {
    std::optional<std::string> v = OptionalParam(ctx.request, name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  q.actor_name = non_empty("actor");
  q.object_type = non_empty("object_type");
  q.object_id = non_empty("object_id");
  q.action = non_empty("action");
  if (std::optional<std::string> result = non_empty("result")) {
    if (*result == "ok") q.result = audit::AuditResult::kOk;
    else if (*result == "denied") q.result = audit::AuditResult::kDenied;
    else if (*result == "error") q.result = audit::AuditResult::kError;
    else return BadParam("result", "expected ok, denied or error");
  }
  if (!ctx.principal->centre_wide) q.unit_ids = ctx.principal->scope_unit_ids;
  const std::string format = non_empty("format").value_or("json");
  if (format != "json" && format != "csv") return BadParam("format", "expected json or csv");

  StatusOr<std::vector<audit::AuditRecord>> records = log_.Query(q);
  if (!records.ok()) return ErrorResponse(records.status());
  const bool full_page = static_cast<int64_t>(records->size()) == q.limit;
  if (format == "csv") {
    std::ostringstream out;
    audit::ExportCsv(*records, out, /*header=*/true);
    HttpResponse r = HttpResponse::Text(200, out.str(), "text/csv; charset=utf-8");
    r.headers.Set("Content-Disposition", "attachment; filename=\"steadfast-audit.csv\"");
    r.headers.Set("Cache-Control", "no-store");
    if (full_page) r.headers.Set("X-Next-After-Seq", std::to_string(records->back().seq));
    return r;
  }
  json items = json::array();
  // One JSON shape for a record, shared with `steadfast-collector audit export`.
  for (const audit::AuditRecord& r : *records) items.push_back(json::parse(audit::AuditRecordJson(r)));
  json next = full_page ? json(records->back().seq) : json(nullptr);
  return JsonResponse(200, json{{"items", std::move(items)}, {"next_after_seq", std::move(next)}});
}

HttpResponse AuditHandlers::Verify(const RequestContext&) const {
  StatusOr<audit::VerifyReport> report = log_.Verify();
  if (!report.ok()) return ErrorResponse(report.status());
  return JsonResponse(200, json{{"ok", report->ok},
                                {"records_checked", report->records_checked},
                                {"first_seq", report->first_seq},
                                {"last_seq", report->last_seq},
                                {"bad_seq", report->ok ? json(nullptr) : json(report->bad_seq)},
                                {"problem", report->ok ? json(nullptr) : json(report->problem)},
                                {"detail", report->detail}});
}

}  // namespace steadfast::collector::api
