#include "collector/accounts/audit_summary.h"

#include <utility>

namespace steadfast::collector::accounts {

nlohmann::json AuditDiff(const nlohmann::json& before, const nlohmann::json& after) {
  nlohmann::json b = nlohmann::json::object();
  nlohmann::json a = nlohmann::json::object();
  for (const auto& [key, value] : after.items()) {
    auto old = before.find(key);
    if (old != before.end() && *old == value) continue;
    a[key] = value;
    b[key] = old != before.end() ? *old : nlohmann::json(nullptr);
  }
  return {{"before", std::move(b)}, {"after", std::move(a)}};
}

audit::AuditEvent AuditEventWithSummary(const Actor& actor, std::string action, std::string object_type,
                                        std::string object_id, const nlohmann::json& summary) {
  audit::AuditEvent e = AuditEventFor(actor, std::move(action), std::move(object_type), std::move(object_id));
  e.summary_json = summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return e;
}

}  // namespace steadfast::collector::accounts
