#include "agent/check_registry.h"

#include <fmt/format.h>

#include "agent/checks/filesystem_check.h"
#include "agent/checks/system_check.h"
#include "agent/checks/nagios_plugin_check.h"
#include "agent/checks/tcp_check.h"
#include "agent/checks/disk_health_check.h"
#include "agent/checks/interface_check.h"
#include "agent/checks/patches_check.h"
#include "agent/checks/raid_check.h"
#include "agent/checks/sensors_check.h"
#include "agent/checks/service_check.h"
#include "agent/checks/time_sync_check.h"
#include "agent/checks/antivirus_check.h"
#include "agent/checks/snmp_check.h"
#include "agent/checks/ups_check.h"
#include "agent/checks/backup_check.h"
#include "agent/checks/dataentry_check.h"
#include "agent/checks/ping_check.h"
#include "agent/checks/http_check.h"
#include "agent/checks/dns_check.h"

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
  SF_CHECK_OK(registry.Register("nagios_plugin", &NewNagiosPluginCheck));
  SF_CHECK_OK(registry.Register("disk_health", &NewDiskHealthCheck));
  SF_CHECK_OK(registry.Register("raid", &NewRaidCheck));
  SF_CHECK_OK(registry.Register("sensors", &NewSensorsCheck));
  SF_CHECK_OK(registry.Register("interface", &NewInterfaceCheck));
  SF_CHECK_OK(registry.Register("service", &NewServiceCheck));
  SF_CHECK_OK(registry.Register("time_sync", &NewTimeSyncCheck));
  SF_CHECK_OK(registry.Register("patches", &NewPatchesCheck));
  SF_CHECK_OK(registry.Register("ups", &NewUpsCheck));
  SF_CHECK_OK(registry.Register("antivirus", &NewAntivirusCheck));
  SF_CHECK_OK(registry.Register("snmp", &NewSnmpCheck));
  SF_CHECK_OK(registry.Register("backup", &NewBackupCheck));
  SF_CHECK_OK(registry.Register("dataentry", &NewDataEntryCheck));
  SF_CHECK_OK(registry.Register("ping", &NewPingCheck));
  SF_CHECK_OK(registry.Register("http", &NewHttpCheck));
  SF_CHECK_OK(registry.Register("dns", &NewDnsCheck));
}

}  // namespace steadfast::agent
