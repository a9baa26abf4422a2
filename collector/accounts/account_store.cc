#include "collector/accounts/account_store.h"

namespace steadfast::collector::accounts {

namespace {

bool IsFieldStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool IsFieldChar(char c) {
  return IsFieldStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '[' || c == ']';
}

}  // namespace

Actor ActorOf(const Principal& principal, std::string source_address, int64_t time_ms) {
  Actor a;
  a.type = principal.kind == Principal::Kind::kUser ? "user" : "token";
  a.id = std::to_string(principal.id);
  // A token acts for the person who made it: the audit trail names them ("li.wei (token
  // nightly-export)"), so an investigation finds a person behind every record.
  a.name = principal.kind == Principal::Kind::kApiToken && !principal.owner_username.empty()
               ? principal.owner_username + " (token " + principal.name + ")"
               : principal.name;
  a.roles = RoleNames(principal.roles);
  a.unit_id = principal.unit_id;
  a.source_address = std::move(source_address);
  a.time_ms = time_ms;
  return a;
}

audit::AuditEvent AuditEventFor(const Actor& actor, std::string action, std::string object_type,
                                std::string object_id) {
  audit::AuditEvent e;
  e.time_ms = actor.time_ms;
  e.actor_type = actor.type;
  e.actor_id = actor.id;
  e.actor_name = actor.name;
  e.roles = actor.roles;
  e.unit_id = actor.unit_id;
  e.source_address = actor.source_address;
  e.action = std::move(action);
  e.object_type = std::move(object_type);
  e.object_id = std::move(object_id);
  return e;
}

Status FieldError(std::string_view field, std::string_view reason) {
  std::string message(field);
  message += ": ";
  message += reason;
  return InvalidArgumentError(std::move(message));
}

std::string FieldOfError(const Status& status) {
  // Only the codes that the store uses with a field prefix: other codes carry messages of
  // other layers ("database: ...", "step: ...") whose first word is not a field.
  if (status.code() != StatusCode::kInvalidArgument && status.code() != StatusCode::kAlreadyExists &&
      status.code() != StatusCode::kFailedPrecondition) {
    return "";
  }
  const std::string& m = status.message();
  const size_t pos = m.find(": ");
  if (pos == std::string::npos || pos == 0 || !IsFieldStart(m[0])) return "";
  for (size_t i = 1; i < pos; ++i) {
    if (!IsFieldChar(m[i])) return "";
  }
  return m.substr(0, pos);
}

std::string_view UnitKindName(UnitKind kind) {
  switch (kind) {
    case UnitKind::kCentre: return "centre";
    case UnitKind::kUnit: return "unit";
    case UnitKind::kDepartment: return "department";
  }
  return "unit";
}

std::optional<UnitKind> ParseUnitKind(std::string_view name) {
  for (UnitKind k : {UnitKind::kCentre, UnitKind::kUnit, UnitKind::kDepartment}) {
    if (UnitKindName(k) == name) return k;
  }
  return std::nullopt;
}

}  // namespace steadfast::collector::accounts
