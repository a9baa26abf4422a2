// AuditHandlers: reading the audit trail over the API.
//
//   GET /api/v1/audit?actor=&object_type=&object_id=&action=&result=&from=&to=&after_seq=&limit=&format=
//       read_audit. Records in seq order; a caller who is not centre-wide sees only records of
//       actors in their units. format=json (default) -> {"items":[...],"next_after_seq":S|null};
//       format=csv -> text/csv (one page, same cursor in the X-Next-After-Seq header).
//       action accepts a prefix ending in '.' ("users.").
//   GET /api/v1/audit/verify
//       verify_audit. Walks the whole chain: {"ok":..., "records_checked":..., "bad_seq":...,
//       "problem":"altered|removed|inserted|truncated|head_altered|checkpoint_altered", "detail":...}. Always 200 when the walk
//       ran; the verdict is in the body.
#pragma once

#include "collector/api/route_table.h"
#include "collector/audit/audit_log.h"

namespace steadfast::collector::api {

class AuditHandlers {
 public:
  explicit AuditHandlers(audit::AuditLog& log) : log_(log) {}
  void AddRoutes(RouteTable& table);

  http::HttpResponse Query(const RequestContext& ctx) const;
  http::HttpResponse Verify(const RequestContext& ctx) const;

 private:
  audit::AuditLog& log_;
};

}  // namespace steadfast::collector::api
