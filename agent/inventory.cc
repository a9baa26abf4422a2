#include "agent/inventory.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "common/utf8.h"

namespace steadfast::agent {
namespace {

// cpuinfo grows with the CPU count (about 1.5 KiB per CPU on x86): room for thousands.
constexpr size_t kMaxCpuInfoBytes = 8 << 20;
constexpr size_t kMaxProcFileBytes = 1 << 20;
// Sysfs attributes are at most a page; a VPD page at most 255 + 4 bytes of serial.
constexpr size_t kMaxSysfsBytes = 4096;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsSpace(s.front()) || s.front() == '\0')) s.remove_prefix(1);
  while (!s.empty() && (IsSpace(s.back()) || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 if there is none.
// C1 control characters (U+0080..U+009F) count as invalid: they are dropped like C0 ones.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto ch = DecodeUtf8At(s, i);
  if (!ch || (ch->code_point >= 0x80 && IsControlCodePoint(ch->code_point))) return 0;
  return ch->length;
}

// "key<ws>:<ws>value" -> (key, value), both trimmed; false without a colon.
bool SplitKeyValue(std::string_view line, std::string_view* key, std::string_view* value) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  *key = Trim(line.substr(0, colon));
  *value = Trim(line.substr(colon + 1));
  return true;
}

template <typename Fn>
void ForEachLine(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    fn(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

bool ParseNonNegative(std::string_view text, int64_t* out) {
  text = Trim(text);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0) return false;
  *out = v;
  return true;
}

// The cleaned content of a small sysfs file, "" when it cannot be read.
std::string ReadValue(FileSystem& fs, const std::string& path) {
  StatusOr<std::string> text = fs.ReadFile(path, kMaxSysfsBytes);
  return text.ok() ? CleanSysfsValue(*text) : std::string();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string CleanSysfsValue(std::string_view raw) {
  raw = Trim(raw);
  std::string out;
  out.reserve(std::min(raw.size(), protocol::kMaxInventoryStringBytes));
  for (size_t i = 0; i < raw.size();) {
    const size_t len = Utf8SequenceLength(raw, i);
    if (len == 0) {
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(raw[i]);
    if (len == 1 && (c < 0x20 || c == 0x7F)) {
      // A tab or newline inside a value separates words; other control bytes are noise.
      if (c == '\t' || c == '\n' || c == '\r') out.push_back(' ');
      ++i;
      continue;
    }
    if (out.size() + len > protocol::kMaxInventoryStringBytes) break;
    out.append(raw.substr(i, len));
    i += len;
  }
  return std::string(Trim(out));
}

std::string CleanDmiValue(std::string_view raw) {
  std::string value = CleanSysfsValue(raw);
  // Placeholders vendors leave in unset SMBIOS strings (compared case-insensitively).
  static constexpr std::string_view kPlaceholders[] = {"to be filled by o.e.m.",
                                                       "to be filled by o.e.m",
                                                       "default string",
                                                       "not specified",
                                                       "not applicable",
                                                       "not available",
                                                       "none",
                                                       "n/a",
                                                       "na",
                                                       "oem",
                                                       "o.e.m.",
                                                       "system serial number",
                                                       "system product name",
                                                       "system manufacturer",
                                                       "system version",
                                                       "chassis serial number",
                                                       "base board serial number",
                                                       "serial number",
                                                       "0123456789",
                                                       "1234567890",
                                                       "00000000",
                                                       "invalid"};
  const std::string lower = AsciiLower(value);
  for (std::string_view p : kPlaceholders) {
    if (lower == p) return "";
  }
  // An all-zero or all-F UUID (and serials of only zeros) mean "not set".
  const bool only_zeros_or_fs =
      !lower.empty() && std::all_of(lower.begin(), lower.end(),
                                    [](char c) { return c == '0' || c == '-' || c == ' '; });
  const bool all_fs = lower.size() == 36 && std::all_of(lower.begin(), lower.end(), [](char c) {
                        return c == 'f' || c == '-';
                      });
  if (only_zeros_or_fs || all_fs) return "";
  return value;
}

CpuSummary ParseCpuInfo(std::string_view cpuinfo) {
  CpuSummary out;
  // Model keys by preference: x86 first, then what other architectures call it.
  static constexpr std::string_view kModelKeys[] = {"model name", "Processor", "cpu model", "cpu"};
  size_t best = std::size(kModelKeys);
  ForEachLine(cpuinfo, [&](std::string_view line) {
    std::string_view key, value;
    if (!SplitKeyValue(line, &key, &value)) return;
    int64_t index = 0;
    if (key == "processor" && ParseNonNegative(value, &index)) {
      ++out.count;
      return;
    }
    for (size_t k = 0; k < best; ++k) {
      if (key == kModelKeys[k] && !value.empty()) {
        out.model = CleanSysfsValue(value);
        best = k;
        break;
      }
    }
  });
  return out;
}

int64_t ParseMemTotalBytes(std::string_view meminfo) {
  int64_t bytes = 0;
  ForEachLine(meminfo, [&](std::string_view line) {
    std::string_view key, value;
    if (bytes != 0 || !SplitKeyValue(line, &key, &value) || key != "MemTotal") return;
    int64_t multiplier = 1;
    const size_t space = value.find(' ');
    if (space != std::string_view::npos) {
      const std::string unit = AsciiLower(Trim(value.substr(space)));
      if (unit == "kb") {
        multiplier = 1024;
      } else {
        return;  // procfs only ever says kB; anything else is not a number we understand
      }
      value = value.substr(0, space);
    }
    int64_t n = 0;
    if (ParseNonNegative(value, &n) && n <= std::numeric_limits<int64_t>::max() / multiplier)
      bytes = n * multiplier;
  });
  return bytes;
}

int64_t CountCpuList(std::string_view list) {
  list = Trim(list);
  if (list.empty()) return 0;
  int64_t total = 0;
  while (true) {
    const size_t comma = list.find(',');
    std::string_view range = list.substr(0, comma);
    const size_t dash = range.find('-');
    int64_t first = 0, last = 0;
    if (dash == std::string_view::npos) {
      if (!ParseNonNegative(range, &first)) return 0;
      last = first;
    } else if (!ParseNonNegative(range.substr(0, dash), &first) ||
               !ParseNonNegative(range.substr(dash + 1), &last) || last < first) {
      return 0;
    }
    total += last - first + 1;
    if (total > protocol::kMaxInventoryCpuCount) return 0;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return total;
}

std::string ParseVpdSerial(std::string_view page) {
  // SPC: byte 1 the page code (0x80), bytes 2-3 the page length, the serial from byte 4.
  if (page.size() < 4 || static_cast<unsigned char>(page[1]) != 0x80) return "";
  const size_t length = (static_cast<size_t>(static_cast<unsigned char>(page[2])) << 8) |
                        static_cast<unsigned char>(page[3]);
  if (length == 0 || 4 + length > page.size()) return "";
  return CleanSysfsValue(page.substr(4, length));
}

bool IsVirtualBlockDevice(std::string_view name) {
  static constexpr std::string_view kVirtualPrefixes[] = {"loop", "ram", "zram", "dm-",
                                                          "md",   "nbd", "zd",   "rbd"};
  return std::any_of(std::begin(kVirtualPrefixes), std::end(kVirtualPrefixes),
                     [name](std::string_view p) { return StartsWith(name, p); });
}

std::vector<protocol::DiskInfo> CollectDisks(FileSystem& fs, const std::string& sys_root) {
  std::vector<protocol::DiskInfo> disks;
  const std::string block = sys_root + "/block";
  StatusOr<std::vector<std::string>> names = fs.ListDirectory(block);
  if (!names.ok()) return disks;
  for (const std::string& name : *names) {
    if (disks.size() >= protocol::kMaxInventoryDisks) break;
    const std::string dir = block + "/" + name;
    if (name.empty() || name.size() > 64 || IsVirtualBlockDevice(name) ||
        !fs.Exists(dir + "/device"))
      continue;
    protocol::DiskInfo d;
    d.name = name;
    int64_t sectors = 0;
    StatusOr<std::string> size = fs.ReadFile(dir + "/size", kMaxSysfsBytes);
    if (size.ok() && ParseNonNegative(*size, &sectors) &&
        sectors <= std::numeric_limits<int64_t>::max() / 512) {
      d.size_bytes = sectors * 512;
    }
    d.model = ReadValue(fs, dir + "/device/model");
    d.vendor = ReadValue(fs, dir + "/device/vendor");
    d.serial = ReadValue(fs, dir + "/device/serial");
    if (d.serial.empty()) {
      StatusOr<std::string> vpd = fs.ReadFile(dir + "/device/vpd_pg80", kMaxSysfsBytes);
      if (vpd.ok()) d.serial = ParseVpdSerial(*vpd);
    }
    d.wwid = ReadValue(fs, dir + "/wwid");
    if (d.wwid.empty()) d.wwid = ReadValue(fs, dir + "/device/wwid");
    d.rotational = ReadValue(fs, dir + "/queue/rotational") == "1";
    disks.push_back(std::move(d));
  }
  return disks;
}

protocol::DmiInfo CollectDmi(FileSystem& fs, const std::string& sys_root) {
  const std::string dir = sys_root + "/class/dmi/id/";
  auto read = [&](const char* name) {
    StatusOr<std::string> text = fs.ReadFile(dir + name, kMaxSysfsBytes);
    return text.ok() ? CleanDmiValue(*text) : std::string();
  };
  protocol::DmiInfo d;
  d.sys_vendor = read("sys_vendor");
  d.product_name = read("product_name");
  d.product_version = read("product_version");
  d.product_serial = read("product_serial");
  d.product_uuid = AsciiLower(read("product_uuid"));
  d.board_vendor = read("board_vendor");
  d.board_name = read("board_name");
  d.board_serial = read("board_serial");
  d.bios_vendor = read("bios_vendor");
  d.bios_version = read("bios_version");
  d.bios_date = read("bios_date");
  d.chassis_type = read("chassis_type");
  d.chassis_serial = read("chassis_serial");
  d.chassis_asset_tag = read("chassis_asset_tag");
  return d;
}

protocol::HostInventory CollectInventory(FileSystem& fs, const protocol::HostInfo& host,
                                         const InventoryRoots& roots) {
  protocol::HostInventory inv;
  inv.host = host;
  if (StatusOr<std::string> cpuinfo = fs.ReadFile(roots.proc + "/cpuinfo", kMaxCpuInfoBytes);
      cpuinfo.ok()) {
    CpuSummary cpu = ParseCpuInfo(*cpuinfo);
    inv.cpu_model = std::move(cpu.model);
    inv.cpu_count = cpu.count;
  }
  if (inv.cpu_count == 0) {
    StatusOr<std::string> online =
        fs.ReadFile(roots.sys + "/devices/system/cpu/online", kMaxSysfsBytes);
    if (online.ok()) inv.cpu_count = CountCpuList(*online);
  }
  if (StatusOr<std::string> meminfo = fs.ReadFile(roots.proc + "/meminfo", kMaxProcFileBytes);
      meminfo.ok()) {
    inv.memory_bytes = ParseMemTotalBytes(*meminfo);
  }
  inv.disks = CollectDisks(fs, roots.sys);
  inv.dmi = CollectDmi(fs, roots.sys);
  return inv;
}

}  // namespace steadfast::agent
