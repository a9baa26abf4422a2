#include "collector/accounts/account_store.h"

namespace steadfast::collector::accounts {

namespace {

bool IsFieldStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool IsFieldChar(char c) {
  return IsFieldStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '[' || c == ']';
}

}  // namespace

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
