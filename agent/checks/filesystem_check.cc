#include "agent/checks/filesystem_check.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

constexpr size_t kMaxMountsBytes = 4 << 20;

// node_exporter's labels for filesystem metrics, so exported series look the same.
Metric M(std::string name, double value, std::string unit, const MountEntry& mount) {
  return MakeMetric(
      std::move(name), value, std::move(unit),
      {{"mountpoint", mount.mount_point}, {"device", mount.device}, {"fstype", mount.fs_type}});
}

// fstab escapes space, tab, newline and backslash as \ooo octal.
std::string DecodeOctalEscapes(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 3 < in.size()) {
      const char a = in[i + 1], b = in[i + 2], c = in[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool AnyMatches(const std::vector<std::string>& patterns, const std::string& mount_point) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return MountPointMatches(p, mount_point); });
}

bool IsPattern(const std::string& p) {
  return p.size() >= 2 && p.compare(p.size() - 2, 2, "/*") == 0;
}

double Ratio(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

// "5.2 hours", "9.6 days".
std::string FormatDays(double days) {
  if (days < 1.0) return fmt::format("{:.1f} hours", days * 24.0);
  return fmt::format("{:.1f} days", days);
}

}  // namespace

std::optional<double> AvailSlope(const std::deque<SpaceSample>& samples) {
  if (samples.size() < 2) return std::nullopt;
  // x in seconds from the first sample keeps the sums small enough for doubles.
  const int64_t t0 = samples.front().at_ms;
  double mean_x = 0, mean_y = 0;
  for (const SpaceSample& p : samples) {
    mean_x += static_cast<double>(p.at_ms - t0) / 1000.0;
    mean_y += p.avail_bytes;
  }
  const double n = static_cast<double>(samples.size());
  mean_x /= n;
  mean_y /= n;
  double sxy = 0, sxx = 0;
  for (const SpaceSample& p : samples) {
    const double dx = static_cast<double>(p.at_ms - t0) / 1000.0 - mean_x;
    sxy += dx * (p.avail_bytes - mean_y);
    sxx += dx * dx;
  }
  if (sxx <= 0) return std::nullopt;
  return sxy / sxx;
}

std::vector<MountEntry> ParseMounts(const std::string& text) {
  std::vector<MountEntry> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string device, mount_point, fs_type, options;
    if (!(fields >> device >> mount_point >> fs_type >> options)) continue;
    MountEntry m;
    m.device = DecodeOctalEscapes(device);
    m.mount_point = DecodeOctalEscapes(mount_point);
    m.fs_type = fs_type;
    std::istringstream opts(options);
    std::string opt;
    while (std::getline(opts, opt, ',')) {
      if (opt == "ro") m.read_only = true;
      m.options.push_back(opt);
    }
    out.push_back(std::move(m));
  }
  return out;
}

StatusOr<FsUsage> PosixStatFs(const std::string& mount_point) {
  struct statvfs st;
  if (::statvfs(mount_point.c_str(), &st) != 0) {
    int err = errno;
    std::string msg = "statvfs " + mount_point + ": " + std::strerror(err);
    if (err == ENOENT) return NotFoundError(msg);
    if (err == EACCES || err == EPERM) return PermissionDeniedError(msg);
    return UnavailableError(msg);
  }
  FsUsage u;
  const uint64_t frsize = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
  u.size_bytes = static_cast<uint64_t>(st.f_blocks) * frsize;
  u.free_bytes = static_cast<uint64_t>(st.f_bfree) * frsize;
  u.avail_bytes = static_cast<uint64_t>(st.f_bavail) * frsize;
  u.files = st.f_files;
  u.files_free = st.f_ffree;
  u.read_only = (st.f_flag & ST_RDONLY) != 0;
  return u;
}

bool MountPointMatches(const std::string& pattern, const std::string& mount_point) {
  if (IsPattern(pattern)) {
    // "/var/lib/docker/*" -> prefix "/var/lib/docker/"; "/*" -> "/" (everything but "/").
    std::string prefix = pattern.substr(0, pattern.size() - 1);
    return mount_point.size() > prefix.size() && mount_point.compare(0, prefix.size(), prefix) == 0;
  }
  return pattern == mount_point;
}

std::vector<std::string> FilesystemCheckOptions::DefaultExcludedTypes() {
  // node_exporter's default exclusions plus tmpfs/ramfs (memory, not disks) and other pseudo
  // filesystems seen on Debian hosts.
  return {"autofs",      "binfmt_misc", "bpf",        "cgroup",    "cgroup2",  "configfs",
          "debugfs",     "devpts",      "devtmpfs",   "efivarfs",  "erofs",    "fuse.gvfsd-fuse",
          "fuse.portal", "fusectl",     "hugetlbfs",  "iso9660",   "mqueue",   "nfsd",
          "nsfs",        "overlay",     "proc",       "procfs",    "pstore",   "ramfs",
          "rootfs",      "rpc_pipefs",  "securityfs", "selinuxfs", "squashfs", "sysfs",
          "tmpfs",       "tracefs"};
}

std::vector<std::string> FilesystemCheckOptions::DefaultExcludedMountPoints() {
  return {"/dev",
          "/dev/*",
          "/proc",
          "/proc/*",
          "/sys",
          "/sys/*",
          "/run/credentials/*",
          "/var/lib/docker/*",
          "/var/lib/containers/*",
          "/var/lib/kubelet/*",
          "/snap/*"};
}

FilesystemCheck::FilesystemCheck(std::string name, FilesystemCheckOptions options,
                                 StatFsFunction statfs)
    : Check(std::move(name)), options_(std::move(options)), statfs_(std::move(statfs)) {
  expect_rw_.insert(options_.expect_rw.begin(), options_.expect_rw.end());
  for (const std::string& p : options_.include_mount_points) {
    if (!IsPattern(p)) expect_rw_.insert(p);
  }
}

bool FilesystemCheck::Selected(const MountEntry& mount) const {
  if (!options_.include_types.empty() && !Contains(options_.include_types, mount.fs_type)) {
    return false;
  }
  if (Contains(options_.exclude_types, mount.fs_type)) return false;
  if (!options_.include_mount_points.empty() &&
      !AnyMatches(options_.include_mount_points, mount.mount_point)) {
    return false;
  }
  return !AnyMatches(options_.exclude_mount_points, mount.mount_point);
}

std::vector<CheckResult> FilesystemCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> results;
  auto text = ctx.fs.ReadFile(ctx.proc_root + "/self/mounts", kMaxMountsBytes);
  if (!text.ok()) {
    CheckResult r = NewResult(ctx, "mounts");
    r.status = CheckStatus::kUnknown;
    r.summary = "cannot read the mount table: " + text.status().message();
    results.push_back(std::move(r));
    return results;
  }
  // A mount point mounted over keeps only its last (visible) entry, in first-seen order.
  std::vector<MountEntry> mounts;
  std::map<std::string, size_t> index;
  for (MountEntry& m : ParseMounts(*text)) {
    if (!Selected(m)) continue;
    auto [it, inserted] = index.emplace(m.mount_point, mounts.size());
    if (inserted) {
      mounts.push_back(std::move(m));
    } else {
      mounts[it->second] = std::move(m);
    }
  }
  for (const MountEntry& m : mounts) results.push_back(MountResult(ctx, m));
  for (const std::string& p : options_.include_mount_points) {
    if (IsPattern(p) || index.count(p) != 0) continue;
    CheckResult r = NewResult(ctx, p);
    r.status = CheckStatus::kCritical;
    r.summary = p + " is not mounted";
    results.push_back(std::move(r));
  }
  if (results.empty()) {
    CheckResult r = NewResult(ctx, "mounts");
    r.status = CheckStatus::kUnknown;
    r.summary = "no filesystem matched the include/exclude settings";
    results.push_back(std::move(r));
  }
  return results;
}

CheckResult FilesystemCheck::MountResult(const CheckContext& ctx, const MountEntry& mount) {
  CheckResult r = NewResult(ctx, mount.mount_point);
  nlohmann::json details = {{"device", mount.device}, {"fstype", mount.fs_type}};
  auto usage = statfs_(mount.mount_point);
  bool read_only = mount.read_only || (usage.ok() && usage->read_only);
  details["read_only"] = read_only;
  r.details_json = details.dump();

  std::string ro_problem;
  if (read_only) {
    if (seen_rw_.count(mount.mount_point) != 0) {
      ro_problem = "remounted read-only";
    } else if (expect_rw_.count(mount.mount_point) != 0) {
      ro_problem = "remounted read-only (expected read-write)";
    }
  } else {
    seen_rw_.insert(mount.mount_point);
  }

  if (!usage.ok()) {
    r.status = ro_problem.empty() ? CheckStatus::kUnknown : CheckStatus::kCritical;
    r.summary = (ro_problem.empty() ? "" : ro_problem + "; ") +
                "cannot read usage: " + usage.status().message();
    return r;
  }
  const double size = static_cast<double>(usage->size_bytes);
  const double free = static_cast<double>(usage->free_bytes);
  const double avail = static_cast<double>(usage->avail_bytes);
  // Like df: the share of the space users can have that is used (root's reserve excluded).
  const double used = size - free;
  const double used_ratio = Ratio(used, used + avail);
  r.metrics.push_back(M("filesystem_size_bytes", size, "bytes", mount));
  r.metrics.push_back(M("filesystem_free_bytes", free, "bytes", mount));
  r.metrics.push_back(M("filesystem_avail_bytes", avail, "bytes", mount));
  r.metrics.push_back(M("filesystem_used_ratio", used_ratio, "ratio", mount));
  r.metrics.push_back(M("filesystem_readonly", read_only ? 1 : 0, "", mount));
  CheckStatus status = options_.space_percent.Grade(used_ratio * 100.0);
  std::string summary = fmt::format("{:.1f}% used ({} available of {})", used_ratio * 100.0,
                                    HumanBytes(avail), HumanBytes(size));
  if (usage->files > 0) {
    const double files = static_cast<double>(usage->files);
    const double files_used_ratio = Ratio(files - static_cast<double>(usage->files_free), files);
    r.metrics.push_back(M("filesystem_files", files, "", mount));
    r.metrics.push_back(
        M("filesystem_files_free", static_cast<double>(usage->files_free), "", mount));
    r.metrics.push_back(M("filesystem_files_used_ratio", files_used_ratio, "ratio", mount));
    status = protocol::WorseStatus(status, options_.inodes_percent.Grade(files_used_ratio * 100.0));
    summary += fmt::format(", inodes {:.1f}% used", files_used_ratio * 100.0);
  }
  if (auto days = DaysUntilFull(ctx, mount, *usage)) {
    r.metrics.push_back(M("filesystem_days_until_full", *days, "days", mount));
    if (options_.days_until_full_critical && *days <= *options_.days_until_full_critical) {
      status = CheckStatus::kCritical;
    } else if (options_.days_until_full_warning && *days <= *options_.days_until_full_warning) {
      status = protocol::WorseStatus(status, CheckStatus::kWarning);
    }
    // Beyond a year the estimate says nothing a person needs to read; the metric keeps it.
    if (*days <= 365) {
      summary += ", full in " + FormatDays(*days) + " at the current rate";
    }
  }
  if (!ro_problem.empty()) {
    status = CheckStatus::kCritical;
    summary = ro_problem + "; " + summary;
  } else if (read_only) {
    summary += ", read-only";
  }
  r.status = status;
  r.summary = std::move(summary);
  return r;
}

std::optional<double> FilesystemCheck::DaysUntilFull(const CheckContext& ctx,
                                                     const MountEntry& mount,
                                                     const FsUsage& usage) {
  History& h = history_[mount.mount_point];
  const int64_t now = ctx.clock.NowMillis();
  // A resized or replaced filesystem, or a clock that went back, starts a new history.
  if (h.device != mount.device || h.size_bytes != usage.size_bytes ||
      (!h.samples.empty() && now < h.samples.back().at_ms)) {
    h = History{mount.device, usage.size_bytes, {}};
  }
  const int64_t window = options_.growth_window.count();
  const int64_t spacing = window / static_cast<int64_t>(kMaxGrowthSamples);
  const SpaceSample sample{now, static_cast<double>(usage.avail_bytes)};
  // Thinning: runs closer together than the spacing replace the newest sample.
  if (h.samples.size() >= 2 && now - h.samples[h.samples.size() - 2].at_ms < spacing) {
    h.samples.back() = sample;
  } else {
    h.samples.push_back(sample);
  }
  while (!h.samples.empty() && h.samples.front().at_ms < now - window) h.samples.pop_front();
  while (h.samples.size() > kMaxGrowthSamples + 1) h.samples.pop_front();

  if (h.samples.size() < 3 || h.samples.back().at_ms - h.samples.front().at_ms < window / 4) {
    return std::nullopt;
  }
  auto slope = AvailSlope(h.samples);
  if (!slope || *slope >= 0) return std::nullopt;  // not filling up
  return static_cast<double>(usage.avail_bytes) / -*slope / 86400.0;
}

StatusOr<std::unique_ptr<Check>> NewFilesystemCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"include_types", "exclude_types", "include_mount_points", "exclude_mount_points",
                "expect_rw", "space_warning_percent", "space_critical_percent",
                "inodes_warning_percent", "inodes_critical_percent", "days_until_full_warning",
                "days_until_full_critical", "growth_window"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  FilesystemCheckOptions o;
  SF_ASSIGN_OR_RETURN(o.include_types, n["include_types"].StringList());
  if (n["exclude_types"].present()) {
    SF_ASSIGN_OR_RETURN(o.exclude_types, n["exclude_types"].StringList());
  } else if (!o.include_types.empty()) {
    o.exclude_types.clear();  // an explicit include list says exactly which types to check
  }
  SF_ASSIGN_OR_RETURN(o.include_mount_points, n["include_mount_points"].StringList());
  if (n["exclude_mount_points"].present()) {
    SF_ASSIGN_OR_RETURN(o.exclude_mount_points, n["exclude_mount_points"].StringList());
  }
  if (n["expect_rw"].present()) {
    SF_ASSIGN_OR_RETURN(o.expect_rw, n["expect_rw"].StringList());
  }
  for (const char* key : {"include_mount_points", "exclude_mount_points", "expect_rw"}) {
    SF_ASSIGN_OR_RETURN(auto items, n[key].Items());
    for (const config::ConfigNode& item : items) {
      SF_ASSIGN_OR_RETURN(std::string p, item.String());
      if (p.empty() || p[0] != '/') return item.Error("expected an absolute mount point like /var");
      if (std::string(key) == "expect_rw" && IsPattern(p)) {
        return item.Error("expect_rw takes exact mount points, not patterns");
      }
    }
  }
  SF_ASSIGN_OR_RETURN(
      o.space_percent,
      ReadThresholds(n, "space_warning_percent", "space_critical_percent", 80.0, 90.0, 0, 100));
  SF_ASSIGN_OR_RETURN(
      o.inodes_percent,
      ReadThresholds(n, "inodes_warning_percent", "inodes_critical_percent", 80.0, 90.0, 0, 100));
  // Lower is worse here: warning must not be below critical. 0 turns a threshold off.
  for (const char* key : {"days_until_full_warning", "days_until_full_critical"}) {
    if (!n[key].present()) continue;
    SF_ASSIGN_OR_RETURN(double v, n[key].Double(0, 0, 36500));
    (std::string(key) == "days_until_full_warning" ? o.days_until_full_warning
                                                   : o.days_until_full_critical) =
        v == 0 ? std::nullopt : std::optional<double>(v);
  }
  if (o.days_until_full_warning && o.days_until_full_critical &&
      *o.days_until_full_critical > *o.days_until_full_warning) {
    const config::ConfigNode& k = n["days_until_full_critical"].present()
                                      ? n["days_until_full_critical"]
                                      : n["days_until_full_warning"];
    return k.Error(
        fmt::format("days_until_full_critical {} is above days_until_full_warning {} "
                    "(fewer days left is worse)",
                    *o.days_until_full_critical, *o.days_until_full_warning));
  }
  SF_ASSIGN_OR_RETURN(int64_t window, n["growth_window"].DurationMillis(
                                          o.growth_window.count(), 10 * 60'000, 30LL * 86'400'000));
  o.growth_window = std::chrono::milliseconds(window);
  return std::unique_ptr<Check>(std::make_unique<FilesystemCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
