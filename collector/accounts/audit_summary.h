// Audit summaries as the stores write them (summary_json of an AuditEvent): what an object was
// and became, holding only the fields that changed. Shared by the account and inventory stores
// so every "*.update" record reads the same way.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "collector/accounts/account_store.h"
#include "collector/audit/audit_log.h"

namespace steadfast::collector::accounts {

// {"before": {...}, "after": {...}} holding only the keys of `after` whose values differ from
// `before` (a key `before` lacks shows as null there).
nlohmann::json AuditDiff(const nlohmann::json& before, const nlohmann::json& after);

// AuditEventFor(actor, action, object_type, object_id) with `summary` as its summary_json.
// Names are validated UTF-8 but a user agent string may not be: bad bytes are replaced rather
// than thrown on.
audit::AuditEvent AuditEventWithSummary(const Actor& actor, std::string action, std::string object_type,
                                        std::string object_id, const nlohmann::json& summary);

}  // namespace steadfast::collector::accounts
