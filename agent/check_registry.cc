#include "agent/check_registry.h"

#include <fmt/format.h>

#include "agent/checks/filesystem_check.h"
#include "agent/checks/system_check.h"
#include "agent/checks/tcp_check.h"

namespace steadfast::agent {

Status CheckRegistry::Register(std::string type, CheckFactory factory) {
  if (factories_.count(type) != 0) {
    return AlreadyExistsError(fmt::format("check type '{}' registered twice", type));
  }
  factories_.emplace(std::move(type), std::move(factory));
  return OkStatus();
}

StatusOr<std::unique_ptr<Check>> CheckRegistry::Create(const CheckSpec& spec) const {
  auto it = factories_.find(spec.type);
  if (it == factories_.end()) {
    return spec.node["type"].Error(
        fmt::format("unknown check type '{}' (known: {})", spec.type, fmt::join(Types(), ", ")));
  }
  return it->second(spec);
}

std::vector<std::string> CheckRegistry::Types() const {
  std::vector<std::string> types;
  for (const auto& [type, factory] : factories_) types.push_back(type);
  return types;
}

void RegisterBuiltinChecks(CheckRegistry& registry) {
  // A failure here is a duplicate in this list, i.e. a bug, not bad input.
  SF_CHECK_OK(registry.Register("system", &NewSystemCheck));
  SF_CHECK_OK(registry.Register("filesystem", &NewFilesystemCheck));
  SF_CHECK_OK(registry.Register("tcp", &NewTcpCheck));
}

}  // namespace steadfast::agent
