#include "collector/api/core_routes.h"

#include "collector/api/api_util.h"

namespace steadfast::collector::api {

void AddCoreRoutes(RouteTable& t, IngestHandler& ingest, const ApiHandlers& hosts, const StaticFiles& static_files,
                   accounts::AccountStore& accounts) {
  using accounts::Permission;
  // Agents authenticate with enrolment and agent tokens, checked by IngestHandler itself.
  t.Add({"POST", "/api/v1/enroll", "enroll", std::nullopt, false, ObjectKind::kNone,
         [&ingest](const RequestContext& ctx) { return ingest.Enroll(ctx.request); }, /*agent_credentials=*/true});
  t.Add({"POST", "/api/v1/reports", "reports", std::nullopt, false, ObjectKind::kNone,
         [&ingest](const RequestContext& ctx) { return ingest.Reports(ctx.request); }, /*agent_credentials=*/true});
  // Probes and scrapes carry no credentials.
  t.Add({"GET", "/healthz", "healthz", std::nullopt, false, ObjectKind::kNone,
         [&hosts](const RequestContext& ctx) { return hosts.Healthz(ctx.request); }});
  t.Add({"GET", "/readyz", "readyz", std::nullopt, false, ObjectKind::kNone,
         [&hosts](const RequestContext& ctx) { return hosts.Readyz(ctx.request); }});
  t.Add({"GET", "/metrics", "metrics", std::nullopt, false, ObjectKind::kNone,
         [&hosts](const RequestContext& ctx) { return hosts.Metrics(ctx.request); }});

  t.Add({"GET", "/api/v1/hosts", "hosts.list", Permission::kRead, false, ObjectKind::kNone,
         [&hosts, &accounts](const RequestContext& ctx) {
           if (ctx.principal->centre_wide) return hosts.ListHosts(ctx.request);
           StatusOr<std::vector<std::string>> mine = accounts.HostsInUnits(ctx.principal->scope_unit_ids);
           if (!mine.ok()) return ErrorResponse(mine.status());
           return hosts.ListHosts(ctx.request, *mine);
         }});
  t.Add({"GET", "/api/v1/hosts/{id}", "hosts.get", Permission::kRead, false, ObjectKind::kHost,
         [&hosts](const RequestContext& ctx) { return hosts.GetHost(ctx.request); }});
  t.Add({"GET", "/api/v1/hosts/{id}/checks", "hosts.checks", Permission::kRead, false, ObjectKind::kHost,
         [&hosts](const RequestContext& ctx) { return hosts.ListHostChecks(ctx.request); }});
  t.Add({"GET", "/api/v1/hosts/{id}/checks/history", "hosts.history", Permission::kRead, false, ObjectKind::kHost,
         [&hosts](const RequestContext& ctx) { return hosts.History(ctx.request); }});

  // The console's files are public: the page itself asks the user to log in.
  t.Add({"GET", "/*", "static", std::nullopt, false, ObjectKind::kNone,
         [&static_files](const RequestContext& ctx) { return static_files.Serve(ctx.request); }});
}

}  // namespace steadfast::collector::api
