#include "agent/inventory.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::DiskInfo;

// An in-memory tree where chosen files exist but cannot be read, as DMI serials are for a
// non-root agent.
class DenyingFileSystem : public steadfast::testing::MemoryFileSystem {
 public:
  void Deny(const std::string& path) { denied_.insert(path); }
  StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes) override {
    if (denied_.count(path) > 0)
      return PermissionDeniedError("open " + path + ": Permission denied");
    return MemoryFileSystem::ReadFile(path, max_bytes);
  }

  // Creates the parent directories too.
  void Put(const std::string& path, const std::string& data) {
    ASSERT_TRUE(CreateDirectories(path.substr(0, path.find_last_of('/'))).ok());
    ASSERT_TRUE(WriteFileAtomic(path, data).ok());
  }

 private:
  std::set<std::string> denied_;
};

protocol::HostInfo TestHost() {
  return protocol::HostInfo{"srv-01", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "x86_64",
                            "0.1.0"};
}

TEST(InventoryTest, ReadsAServerFixtureTree) {
  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  const std::string root = std::string(SF_AGENT_INVENTORY_TESTDATA) + "/server1";
  protocol::HostInventory inv = CollectInventory(*fs, TestHost(), {root + "/proc", root + "/sys"});
  EXPECT_EQ(inv.host, TestHost());
  EXPECT_EQ(inv.cpu_model, "Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz");
  EXPECT_EQ(inv.cpu_count, 4);
  EXPECT_EQ(inv.memory_bytes, int64_t{65842248} * 1024);

  // loop0, dm-0, md127 and zram0 are virtual; the two physical disks remain, by name.
  ASSERT_EQ(inv.disks.size(), 2u);
  const DiskInfo& nvme = inv.disks[0];
  EXPECT_EQ(nvme.name, "nvme0n1");
  EXPECT_EQ(nvme.size_bytes, int64_t{1953525168} * 512);
  EXPECT_EQ(nvme.model, "Samsung SSD 980 PRO 1TB");
  EXPECT_EQ(nvme.vendor, "");
  EXPECT_EQ(nvme.serial, "S5GXNX0T123456A");
  EXPECT_EQ(nvme.wwid, "eui.002538b111b2c3d4");
  EXPECT_FALSE(nvme.rotational);
  const DiskInfo& sata = inv.disks[1];
  EXPECT_EQ(sata.name, "sda");
  EXPECT_EQ(sata.size_bytes, int64_t{7814037168} * 512);
  EXPECT_EQ(sata.model, "ST4000NM0035-1V4");
  EXPECT_EQ(sata.vendor, "ATA");
  EXPECT_EQ(sata.serial, "ZC1ABCDE");  // from the VPD page: SATA disks have no serial file
  EXPECT_EQ(sata.wwid, "naa.5000c500a1b2c3d4");
  EXPECT_TRUE(sata.rotational);

  EXPECT_EQ(inv.dmi.sys_vendor, "Dell Inc.");
  EXPECT_EQ(inv.dmi.product_name, "PowerEdge R740");
  EXPECT_EQ(inv.dmi.product_version, "");  // "Not Specified"
  EXPECT_EQ(inv.dmi.product_serial, "7XK9Q23");
  EXPECT_EQ(inv.dmi.product_uuid, "4c4c4544-0058-4b10-8039-b7c04f513233");
  EXPECT_EQ(inv.dmi.board_serial, ".7XK9Q23.CNFCP0092N00BE.");
  EXPECT_EQ(inv.dmi.bios_version, "2.12.2");
  EXPECT_EQ(inv.dmi.bios_date, "07/09/2021");
  EXPECT_EQ(inv.dmi.chassis_type, "23");
  EXPECT_EQ(inv.dmi.chassis_asset_tag, "");  // "To Be Filled By O.E.M."
  // The agent id and time are the caller's to stamp.
  EXPECT_EQ(inv.agent_id, "");
  EXPECT_EQ(inv.collected_at_ms, 0);
}

TEST(InventoryTest, MissingTreesGiveEmptyFieldsNotErrors) {
  steadfast::testing::MemoryFileSystem fs;
  protocol::HostInventory inv = CollectInventory(fs, TestHost(), {"/nowhere/proc", "/nowhere/sys"});
  EXPECT_EQ(inv.host, TestHost());
  EXPECT_EQ(inv.cpu_model, "");
  EXPECT_EQ(inv.cpu_count, 0);
  EXPECT_EQ(inv.memory_bytes, 0);
  EXPECT_TRUE(inv.disks.empty());
  EXPECT_EQ(inv.dmi, protocol::DmiInfo{});
}

TEST(InventoryTest, UnreadableFilesAreJustEmpty) {
  DenyingFileSystem fs;
  fs.Put("/s/class/dmi/id/sys_vendor", "Lenovo\n");
  fs.Put("/s/class/dmi/id/product_serial", "J30ABCDE\n");
  fs.Put("/s/class/dmi/id/board_serial", "L1HF0000000\n");
  fs.Deny("/s/class/dmi/id/product_serial");
  fs.Deny("/s/class/dmi/id/board_serial");
  fs.Put("/s/block/sda/size", "100\n");
  fs.Put("/s/block/sda/device/model", "Disk\n");
  fs.Put("/s/block/sda/device/vpd_pg80", std::string("\0\x80\0\x04SN01", 8));
  fs.Deny("/s/block/sda/device/vpd_pg80");
  fs.Deny("/s/block/sda/size");
  fs.Put("/p/cpuinfo", "processor : 0\n");
  fs.Deny("/p/meminfo");
  protocol::HostInventory inv = CollectInventory(fs, TestHost(), {"/p", "/s"});
  EXPECT_EQ(inv.dmi.sys_vendor, "Lenovo");
  EXPECT_EQ(inv.dmi.product_serial, "");
  EXPECT_EQ(inv.dmi.board_serial, "");
  ASSERT_EQ(inv.disks.size(), 1u);
  EXPECT_EQ(inv.disks[0].model, "Disk");
  EXPECT_EQ(inv.disks[0].size_bytes, 0);
  EXPECT_EQ(inv.disks[0].serial, "");
  EXPECT_EQ(inv.cpu_count, 1);
  EXPECT_EQ(inv.memory_bytes, 0);
}

TEST(InventoryTest, BlockDevicesWithoutADeviceAreSkipped) {
  DenyingFileSystem fs;
  fs.Put("/s/block/vda/size", "2048\n");
  ASSERT_TRUE(fs.CreateDirectories("/s/block/vda/device").ok());
  fs.Put("/s/block/vdb/size", "2048\n");  // no device: some virtual driver we do not know by name
  fs.Put("/s/block/md0/device/model", "odd\n");  // named like md RAID: skipped even with a device
  std::vector<DiskInfo> disks = CollectDisks(fs, "/s");
  ASSERT_EQ(disks.size(), 1u);
  EXPECT_EQ(disks[0].name, "vda");
  EXPECT_EQ(disks[0].size_bytes, 2048 * 512);
  EXPECT_EQ(disks[0].model, "");
  EXPECT_FALSE(disks[0].rotational);
}

TEST(InventoryTest, ParsesCpuInfoOfSeveralArchitectures) {
  CpuSummary x86 = ParseCpuInfo(
      "processor\t: 0\nmodel name\t:   AMD EPYC 7313   16-Core Processor  \n\n"
      "processor\t: 1\nmodel name\t: AMD EPYC 7313   16-Core Processor\n");
  EXPECT_EQ(x86.model, "AMD EPYC 7313   16-Core Processor");
  EXPECT_EQ(x86.count, 2);
  // arm64 has no model name; older ARM kernels have "Processor".
  CpuSummary arm = ParseCpuInfo(
      "Processor : ARMv7 Processor rev 4 (v7l)\nprocessor : 0\nBogoMIPS : 38.40\n"
      "processor : 1\nHardware : BCM2835\n");
  EXPECT_EQ(arm.model, "ARMv7 Processor rev 4 (v7l)");
  EXPECT_EQ(arm.count, 2);
  CpuSummary ppc = ParseCpuInfo("processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n");
  EXPECT_EQ(ppc.model, "POWER9 (raw), altivec supported");
  EXPECT_EQ(ppc.count, 1);
  // "model name" wins over "cpu" whatever the order.
  EXPECT_EQ(ParseCpuInfo("cpu : other\nmodel name : best\n").model, "best");
  // s390x numbers processors differently: no count here (the caller falls back to sysfs).
  EXPECT_EQ(ParseCpuInfo("processor 0: version = FF\nprocessor 1: version = FF\n").count, 0);
  EXPECT_EQ(ParseCpuInfo("").count, 0);
  EXPECT_EQ(ParseCpuInfo("processor : x\n").count, 0);
  EXPECT_EQ(ParseCpuInfo("garbage without colons\n\n\n").model, "");
}

TEST(InventoryTest, FallsBackToTheOnlineCpuList) {
  DenyingFileSystem fs;
  fs.Put("/p/cpuinfo", "processor 0: version = FF\n");
  fs.Put("/s/devices/system/cpu/online", "0-7,16-23\n");
  EXPECT_EQ(CollectInventory(fs, TestHost(), {"/p", "/s"}).cpu_count, 16);
  EXPECT_EQ(CountCpuList("0"), 1);
  EXPECT_EQ(CountCpuList(" 0-3,5 \n"), 5);
  EXPECT_EQ(CountCpuList(""), 0);
  EXPECT_EQ(CountCpuList("3-1"), 0);
  EXPECT_EQ(CountCpuList("0-"), 0);
  EXPECT_EQ(CountCpuList("a"), 0);
  EXPECT_EQ(CountCpuList("0-99999999999"), 0);
}

TEST(InventoryTest, ParsesMemTotal) {
  EXPECT_EQ(ParseMemTotalBytes("MemTotal:        2048 kB\nMemFree: 1 kB\n"), 2048 * 1024);
  EXPECT_EQ(ParseMemTotalBytes("MemFree: 1 kB\r\nMemTotal:\t4 kB\r\n"), 4 * 1024);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: 12\n"), 12);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: 12 MB\n"), 0);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: -5 kB\n"), 0);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: 99999999999999999999 kB\n"), 0);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: 9000000000000000000 kB\n"), 0);  // would overflow
  EXPECT_EQ(ParseMemTotalBytes(""), 0);
}

TEST(InventoryTest, CleansSysfsValues) {
  EXPECT_EQ(CleanSysfsValue("  ATA     \n"), "ATA");
  EXPECT_EQ(CleanSysfsValue(std::string("SN\0\0", 4)), "SN");
  EXPECT_EQ(CleanSysfsValue("a\tb\x01"
                            "c\x7f"),
            "a bc");
  EXPECT_EQ(CleanSysfsValue("bad \xff\xfe utf8 \xc3\xa9"), "bad  utf8 \xc3\xa9");
  EXPECT_EQ(CleanSysfsValue("\xc2\x85"
                            "c1"),
            "c1");  // U+0085 is a C1 control
  EXPECT_EQ(CleanSysfsValue("\xe4\xb8\xad\xe6\x96\x87"), "\xe4\xb8\xad\xe6\x96\x87");
  const std::string long_value(300, 'x');
  EXPECT_EQ(CleanSysfsValue(long_value).size(), protocol::kMaxInventoryStringBytes);
  // A cut never splits a character.
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "\xe4\xb8\xad";
  EXPECT_EQ(CleanSysfsValue(wide).size(), 255u);
}

TEST(InventoryTest, BlanksDmiPlaceholders) {
  for (const char* placeholder :
       {"To Be Filled By O.E.M.", "Default string", "  Not Specified\n", "System Serial Number",
        "0123456789", "00000000-0000-0000-0000-000000000000",
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "None", "0"}) {
    EXPECT_EQ(CleanDmiValue(placeholder), "") << placeholder;
  }
  EXPECT_EQ(CleanDmiValue("PowerEdge R740\n"), "PowerEdge R740");
  EXPECT_EQ(CleanDmiValue("CZ20380ABC"), "CZ20380ABC");
}

TEST(InventoryTest, ParsesVpdSerialPages) {
  EXPECT_EQ(ParseVpdSerial(std::string("\0\x80\0\x0b  WD-123456", 15)), "WD-123456");
  EXPECT_EQ(ParseVpdSerial(std::string("\0\x83\0\x04"
                                       "abcd",
                                       8)),
            "");                                                       // another page
  EXPECT_EQ(ParseVpdSerial(std::string("\0\x80\0\x09short", 9)), "");  // length past the end
  EXPECT_EQ(ParseVpdSerial(std::string("\0\x80\0\0", 4)), "");
  EXPECT_EQ(ParseVpdSerial("xy"), "");
}

}  // namespace
}  // namespace steadfast::agent
