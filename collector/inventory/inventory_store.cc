#include "collector/inventory/inventory_store.h"

#include <map>
#include <utility>

namespace steadfast::collector::inventory {

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// The comparable fields of an inventory, in document order (disks apart: they are keyed by
// name).
Fields Flatten(const protocol::HostInventory& inv) {
  const protocol::HostInfo& h = inv.host;
  const protocol::DmiInfo& d = inv.dmi;
  return {{"host.hostname", h.hostname},
          {"host.os", h.os},
          {"host.kernel", h.kernel},
          {"host.arch", h.arch},
          {"host.agent_version", h.agent_version},
          {"cpu.model", inv.cpu_model},
          {"cpu.count", std::to_string(inv.cpu_count)},
          {"memory_bytes", std::to_string(inv.memory_bytes)},
          {"dmi.sys_vendor", d.sys_vendor},
          {"dmi.product_name", d.product_name},
          {"dmi.product_version", d.product_version},
          {"dmi.product_serial", d.product_serial},
          {"dmi.product_uuid", d.product_uuid},
          {"dmi.board_vendor", d.board_vendor},
          {"dmi.board_name", d.board_name},
          {"dmi.board_serial", d.board_serial},
          {"dmi.bios_vendor", d.bios_vendor},
          {"dmi.bios_version", d.bios_version},
          {"dmi.bios_date", d.bios_date},
          {"dmi.chassis_type", d.chassis_type},
          {"dmi.chassis_serial", d.chassis_serial},
          {"dmi.chassis_asset_tag", d.chassis_asset_tag}};
}

Fields DiskFields(const protocol::DiskInfo& d) {
  return {{"size_bytes", std::to_string(d.size_bytes)},
          {"model", d.model},
          {"vendor", d.vendor},
          {"serial", d.serial},
          {"wwid", d.wwid},
          {"rotational", d.rotational ? "true" : "false"}};
}

// A one-line description of a whole disk, for one added or removed.
std::string DescribeDisk(const protocol::DiskInfo& d) {
  std::string out = d.model.empty() ? "disk" : d.model;
  if (!d.serial.empty()) out += ", serial " + d.serial;
  out += ", " + std::to_string(d.size_bytes) + " bytes";
  return out;
}

}  // namespace

std::string ChangeText(const InventoryChange& c) {
  auto side = [](const std::string& v) { return v.empty() ? std::string("(none)") : v; };
  return c.field + ": " + side(c.from) + " -> " + side(c.to);
}

std::vector<InventoryChange> DiffInventories(const protocol::HostInventory& before,
                                             const protocol::HostInventory& after) {
  std::vector<InventoryChange> changes;
  const Fields a = Flatten(before);
  const Fields b = Flatten(after);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].second != b[i].second) changes.push_back({a[i].first, a[i].second, b[i].second});
  }
  std::map<std::string, const protocol::DiskInfo*> old_disks, new_disks;
  for (const protocol::DiskInfo& d : before.disks) old_disks[d.name] = &d;
  for (const protocol::DiskInfo& d : after.disks) new_disks[d.name] = &d;
  for (const auto& [name, old_disk] : old_disks) {
    const std::string path = "disks[" + name + "]";
    auto it = new_disks.find(name);
    if (it == new_disks.end()) {
      changes.push_back({path, DescribeDisk(*old_disk), ""});
      continue;
    }
    const Fields fa = DiskFields(*old_disk);
    const Fields fb = DiskFields(*it->second);
    for (size_t i = 0; i < fa.size(); ++i) {
      if (fa[i].second != fb[i].second) changes.push_back({path + "." + fa[i].first, fa[i].second, fb[i].second});
    }
  }
  for (const auto& [name, new_disk] : new_disks) {
    if (old_disks.count(name) == 0) changes.push_back({"disks[" + name + "]", "", DescribeDisk(*new_disk)});
  }
  return changes;
}

std::string_view EquipmentTypeName(EquipmentType type) {
  switch (type) {
    case EquipmentType::kUps: return "ups";
    case EquipmentType::kAirConditioning: return "air_conditioning";
    case EquipmentType::kSwitch: return "switch";
    case EquipmentType::kRouter: return "router";
    case EquipmentType::kFirewall: return "firewall";
    case EquipmentType::kPdu: return "pdu";
    case EquipmentType::kEnvironmentSensor: return "environment_sensor";
    case EquipmentType::kStorage: return "storage";
    case EquipmentType::kOther: return "other";
  }
  return "other";
}

std::optional<EquipmentType> ParseEquipmentType(std::string_view name) {
  for (EquipmentType t : kAllEquipmentTypes) {
    if (EquipmentTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view EquipmentStatusName(EquipmentStatus status) {
  switch (status) {
    case EquipmentStatus::kInService: return "in_service";
    case EquipmentStatus::kSpare: return "spare";
    case EquipmentStatus::kMaintenance: return "maintenance";
    case EquipmentStatus::kFaulty: return "faulty";
    case EquipmentStatus::kRetired: return "retired";
  }
  return "in_service";
}

std::optional<EquipmentStatus> ParseEquipmentStatus(std::string_view name) {
  for (EquipmentStatus s : kAllEquipmentStatuses) {
    if (EquipmentStatusName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace steadfast::collector::inventory
