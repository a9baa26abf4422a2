// Host inventory: what the machine is made of, read from procfs and sysfs through the
// FileSystem seam, so tests read fixture trees (agent/testdata/inventory) instead of the host.
// The wire format is "Inventory" in common/protocol/PROTOCOL.md.
//
// Everything here is best effort by contract: a file that is missing, unreadable (DMI serials
// are readable by root only) or malformed leaves its field empty or 0, never an error, so an
// agent running unprivileged still reports what it can.
//
// What is read:
//   cpu        <proc>/cpuinfo: the first "model name" (x86), else "Processor", "cpu model" or
//              "cpu" (other architectures); the number of "processor" entries, else the CPUs
//              in <sys>/devices/system/cpu/online.
//   memory     MemTotal of <proc>/meminfo, in bytes.
//   disks      every <sys>/block/X that has a backing device (<sys>/block/X/device). Virtual
//              block devices — loop, ram, zram, device-mapper (dm-*), md RAID, nbd, zvols
//              (zd*), rbd — are skipped, by name and because they have no device: an array's
//              or volume group's physical members are what an asset register tracks.
//              size = <X>/size * 512 (the kernel counts 512-byte sectors whatever the
//              device's block size); model and vendor from <X>/device/{model,vendor}; serial
//              from <X>/device/serial (NVMe, virtio, MMC), else the unit serial number VPD
//              page <X>/device/vpd_pg80 (SCSI/SATA; root-only on most systems); wwid from
//              <X>/wwid or <X>/device/wwid; rotational from <X>/queue/rotational.
//   dmi        <sys>/class/dmi/id/{sys_vendor, product_name, ...} (see protocol::DmiInfo),
//              with firmware placeholders ("To Be Filled By O.E.M.", "Default string",
//              "System Serial Number", an all-zero UUID, ...) blanked: they would make every
//              unconfigured board look like the same machine.
// Every string is trimmed (sysfs pads SCSI strings with spaces), stripped of control
// characters and bytes that are not UTF-8, and cut to protocol::kMaxInventoryStringBytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/fs/file_system.h"
#include "common/protocol/protocol.h"

namespace steadfast::agent {

struct InventoryRoots {
  std::string proc = "/proc";
  std::string sys = "/sys";
};

struct CpuSummary {
  std::string model;
  int64_t count = 0;  // logical CPUs ("processor" entries); 0 when none are listed
};

// Pure parsers, exposed for tests.
CpuSummary ParseCpuInfo(std::string_view cpuinfo);
// MemTotal in bytes, or 0 when absent or malformed.
int64_t ParseMemTotalBytes(std::string_view meminfo);
// The number of CPUs in a kernel CPU list ("0-3,8,10-11" -> 7), or 0 when malformed.
int64_t CountCpuList(std::string_view list);
// The serial number of a SCSI "Unit Serial Number" VPD page (0x80), or "" when it is not one.
std::string ParseVpdSerial(std::string_view page);
// A sysfs value as text: trimmed, control characters and non-UTF-8 bytes removed, cut to
// protocol::kMaxInventoryStringBytes without splitting a character.
std::string CleanSysfsValue(std::string_view raw);
// CleanSysfsValue, and "" for the placeholders firmware writes into unset DMI fields.
std::string CleanDmiValue(std::string_view raw);
// Whether a /sys/block entry is a virtual device by its name (loop0, dm-1, md127, ...).
bool IsVirtualBlockDevice(std::string_view name);

std::vector<protocol::DiskInfo> CollectDisks(FileSystem& fs, const std::string& sys_root);
protocol::DmiInfo CollectDmi(FileSystem& fs, const std::string& sys_root);

// The whole inventory of the host described by `host` (hostname, OS, kernel, arch from
// CollectHostInfo). agent_id and collected_at_ms are left for the caller to stamp.
protocol::HostInventory CollectInventory(FileSystem& fs, const protocol::HostInfo& host,
                                         const InventoryRoots& roots);

}  // namespace steadfast::agent
