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
// A mount point pattern is either exact ("/var") or a subtree ("/var/lib/docker/*" matches
// everything below /var/lib/docker, not the directory itself).
//
// Read-only: a mount that is read-only while it is expected read-write, or that is read-only
// after this check saw it read-write at an earlier run (the kernel's errors=remount-ro after an
// I/O error) is critical "remounted read-only". The second rule lasts until the agent restarts.
//
// statvfs is called through an injectable function so unit tests use fixtures. A hung network
// filesystem blocks statvfs (and so this check) until the kernel gives up.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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

struct FilesystemCheckOptions {
  std::vector<std::string> include_types;
  std::vector<std::string> exclude_types = DefaultExcludedTypes();
  std::vector<std::string> include_mount_points;
  std::vector<std::string> exclude_mount_points = DefaultExcludedMountPoints();
  std::vector<std::string> expect_rw = {"/"};
  Thresholds space_percent{80.0, 90.0};
  Thresholds inodes_percent{80.0, 90.0};

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

  FilesystemCheckOptions options_;
  StatFsFunction statfs_;
  std::set<std::string> expect_rw_;
  std::set<std::string> seen_rw_;  // mount points seen read-write at an earlier run
};

// Factory for type "filesystem".
StatusOr<std::unique_ptr<Check>> NewFilesystemCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
