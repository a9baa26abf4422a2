// The collector's foundation routes in the route table: agent ingest (authenticated by agent
// tokens inside IngestHandler, so public here), health, metrics, the host read API and the
// console's static files.
//
//   POST /api/v1/enroll, POST /api/v1/reports       public (enrolment / agent tokens)
//   GET  /healthz, /readyz, /metrics                public
//   GET  /api/v1/hosts                              read; only hosts of the caller's units
//   GET  /api/v1/hosts/{id}, .../checks, .../checks/history   read; host in scope
//   GET  /*                                         public (the console's files)
#pragma once

#include "collector/accounts/account_store.h"
#include "collector/api/route_table.h"
#include "collector/api_handlers.h"
#include "collector/ingest_handler.h"
#include "collector/static_files.h"

namespace steadfast::collector::api {

// `accounts` gives the hosts of the caller's units for the host list. All references must
// outlive the table.
void AddCoreRoutes(RouteTable& table, IngestHandler& ingest, const ApiHandlers& hosts, const StaticFiles& static_files,
                   accounts::AccountStore& accounts);

}  // namespace steadfast::collector::api
