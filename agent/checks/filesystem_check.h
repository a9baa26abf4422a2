// FilesystemCheck (type "filesystem"): space and inode usage of every mounted filesystem listed
// in <proc_root>/self/mounts, one result per mount (target = mount point).
//
// Which mounts: pseudo filesystems (proc, sysfs, cgroup, tmpfs, overlay, squashfs, ...) are
// skipped by type, and /dev, /proc, /sys and container storage by mount point. Config keys:
//   include_types:        only these types (the default type exclusions then no longer apply)
//   exclude_types:        replaces the default list of skipped types
//   include_mount_points: only these mount points; each exact entry must be mounted (critical
//                         "not mounted" otherwise) and is expected read-write
//   exclude_mount_points: replaces the default list of skipped mount points
//   expect_rw:            mount points that must be read-write (default ["/"])
//   space_warning_percent / space_critical_percent    80 / 90 (used / (used + available))
//   inodes_warning_percent / inodes_critical_percent  80 / 90
//   days_until_full_warning / days_until_full_critical 14 / 3 (0 turns one off)
//   growth_window:        how much history the days-until-full trend uses; 6h
// A mount point pattern is either exact ("/var") or a subtree ("/var/lib/docker/*" matches
// everything below /var/lib/docker, not the directory itself).
//
// Read-only: a mount that is read-only while it is expected read-write, or that is read-only
// after this check saw it read-write at an earlier run (the kernel's errors=remount-ro after an
// I/O error) is critical "remounted read-only". The second rule lasts until the agent restarts.
//
// Days until full: every run keeps (time, available bytes) per mount in memory; a least-squares
// line through the samples of the last `growth_window` gives the rate the space shrinks at, and
// available / rate the days left. No estimate (and no filesystem_days_until_full metric) while
// the space is not shrinking, or before there are 3 samples spanning a quarter of the window —
// a burst of writes in the first minutes must not look like a trend. A resize (a new size) or a
// different device restarts the history. At most kMaxGrowthSamples samples are kept per mount
// (older ones are thinned to that spacing), so a long window costs a few KiB per mount.
//
// statvfs is called through an injectable function so unit tests use fixtures. A hung network
// filesystem blocks statvfs (and so this check) until the kernel gives up.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

struct MountEntry {
  std::string device;
  std::string mount_point;  // octal escapes (\040 for a space) decoded
  std::string fs_type;
  std::vector<std::string> options;
  bool read_only = false;  // "ro" among the options
};

// Parses /proc/self/mounts (fstab format). Malformed lines are skipped.
std::vector<MountEntry> ParseMounts(const std::string& text);

struct FsUsage {
  uint64_t size_bytes = 0;
  uint64_t free_bytes = 0;   // including blocks reserved for root
  uint64_t avail_bytes = 0;  // available to unprivileged users
  uint64_t files = 0;        // 0: the filesystem has no fixed inode count (btrfs, vfat)
  uint64_t files_free = 0;
  bool read_only = false;  // ST_RDONLY
};

// statvfs(2) of a mount point. Errors: NotFound, PermissionDenied, Unavailable.
using StatFsFunction = std::function<StatusOr<FsUsage>(const std::string& mount_point)>;
StatusOr<FsUsage> PosixStatFs(const std::string& mount_point);

// True if `mount_point` matches `pattern` (exact, or "dir/*" for anything below dir).
bool MountPointMatches(const std::string& pattern, const std::string& mount_point);

// One observation of a filesystem's available space.
struct SpaceSample {
  int64_t at_ms = 0;  // unix ms
  double avail_bytes = 0;
};

// The least-squares slope of avail_bytes over time, in bytes per second; nullopt for fewer than
// two samples or samples all taken at the same time.
std::optional<double> AvailSlope(const std::deque<SpaceSample>& samples);

struct FilesystemCheckOptions {
  std::vector<std::string> include_types;
  std::vector<std::string> exclude_types = DefaultExcludedTypes();
  std::vector<std::string> include_mount_points;
  std::vector<std::string> exclude_mount_points = DefaultExcludedMountPoints();
  std::vector<std::string> expect_rw = {"/"};
  Thresholds space_percent{80.0, 90.0};
  Thresholds inodes_percent{80.0, 90.0};
  // Lower is worse: critical at or below `critical` days.
  std::optional<double> days_until_full_warning = 14.0;
  std::optional<double> days_until_full_critical = 3.0;
  std::chrono::milliseconds growth_window{6 * 3600 * 1000};

  static std::vector<std::string> DefaultExcludedTypes();
  static std::vector<std::string> DefaultExcludedMountPoints();
};

class FilesystemCheck final : public Check {
 public:
  FilesystemCheck(std::string name, FilesystemCheckOptions options,
                  StatFsFunction statfs = &PosixStatFs);
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

  // Whether a mount passes the type and mount point filters.
  bool Selected(const MountEntry& mount) const;

 private:
  protocol::CheckResult MountResult(const CheckContext& ctx, const MountEntry& mount);
  // Records this run's sample and returns the estimate, if there is one.
  std::optional<double> DaysUntilFull(const CheckContext& ctx, const MountEntry& mount,
                                      const FsUsage& usage);

  FilesystemCheckOptions options_;
  StatFsFunction statfs_;
  std::set<std::string> expect_rw_;
  std::set<std::string> seen_rw_;  // mount points seen read-write at an earlier run
  struct History {
    std::string device;
    uint64_t size_bytes = 0;
    std::deque<SpaceSample> samples;  // oldest first, within growth_window
  };
  std::map<std::string, History> history_;  // by mount point
};

// Samples kept per mount for the days-until-full trend.
inline constexpr size_t kMaxGrowthSamples = 720;

// Factory for type "filesystem".
StatusOr<std::unique_ptr<Check>> NewFilesystemCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
