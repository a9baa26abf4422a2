#include "collector/audit/audit_log.h"

namespace steadfast::collector::audit {

std::string_view AuditResultName(AuditResult result) {
  switch (result) {
    case AuditResult::kOk:
      return "ok";
    case AuditResult::kDenied:
      return "denied";
    case AuditResult::kError:
      return "error";
  }
  return "error";
}

std::optional<AuditResult> ParseAuditResult(std::string_view name) {
  if (name == "ok") return AuditResult::kOk;
  if (name == "denied") return AuditResult::kDenied;
  if (name == "error") return AuditResult::kError;
  return std::nullopt;
}

}  // namespace steadfast::collector::audit
