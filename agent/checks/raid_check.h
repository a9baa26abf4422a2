// RaidCheck (type "raid"): Linux software RAID (md) arrays from <proc_root>/mdstat, refined by
// /sys/block/<md>/md/{array_state,degraded,sync_action,sync_completed,sync_speed,mismatch_cnt}
// (<sys_root>) where those exist. One result per array (target "md0").
//
// Grading:
//   critical  the array is inactive (assembled but not started) or broken, or degraded (fewer
//             working members than raid disks) — also while it rebuilds: redundancy is gone
//             until the rebuild ends; an `arrays:` entry that does not exist
//   warning   a failed member (F) still in an array that is not degraded (a spare took over;
//             the dead disk still needs replacing); resync, recovery, reshape or repair running
//             or pending (DELAYED/PENDING); mismatch_cnt at or above `mismatch_warning`
//   ok        otherwise, including a running "check" (Debian's checkarray scrubs every array
//             once a month; that is routine, so it is reported with its progress but not graded)
// Progress reads "rebuilding 45.2%, ETA 1h 12m" (ETA from mdstat's finish=, or from
// sync_completed and sync_speed).
//
// No arrays at all (no mdstat: md driver not loaded; or an mdstat listing none): `required: true`
// (the default: you configured a RAID check, so arrays are expected) gives one result "md"
// with status unknown "no md arrays"; `required: false` makes that ok, for a config shared by
// machines with and without RAID.
//
// Config keys (besides the common ones):
//   arrays:            names ("md0") that must exist; default: every array in mdstat
//   required:          true (see above)
//   mismatch_warning:  mismatch_cnt (sectors) that makes a warning; default off (RAID1 with swap
//                      legitimately shows mismatches)
//
// Metrics (node_exporter's mdadm collector names, label device): node_md_disks{state=active|
// failed|spare}, node_md_disks_required, node_md_state{state=active|inactive|recovering|resync|
// check} (one-hot), node_md_blocks, node_md_blocks_synced; plus md_degraded_disks,
// md_sync_progress_ratio and md_sync_remaining_seconds while a sync runs, md_mismatch_sectors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"

namespace steadfast::agent {

struct MdMember {
  std::string device;         // "sdb1"
  int role = -1;              // the number in brackets
  bool failed = false;        // (F)
  bool spare = false;         // (S)
  bool write_mostly = false;  // (W)
  bool journal = false;       // (J)
  bool replacement = false;   // (R)
};

struct MdSync {
  std::string action;  // "recovery", "resync", "check", "reshape", "repair"
  double percent = 0;
  std::optional<int64_t> done;  // blocks (mdstat) or sectors (sysfs); same unit as total
  std::optional<int64_t> total;
  std::optional<double> remaining_seconds;  // finish= from mdstat
  std::optional<double> speed_kib_s;        // speed= from mdstat
};

struct MdArray {
  std::string name;  // "md0"
  bool active = false;
  std::string read_only;  // "", "read-only" or "auto-read-only"
  std::string level;      // "raid1"; empty for an inactive array that does not say
  std::vector<MdMember> members;
  int64_t blocks = 0;      // 1 KiB blocks
  int raid_disks = 0;      // [n/m]: n; 0 when mdstat has no such field (raid0, linear)
  int working_disks = 0;   // m
  std::string member_map;  // "UU_"
  std::optional<MdSync> sync;
  std::string sync_waiting;  // "DELAYED" or "PENDING" from "resync=DELAYED"
};

// Parses /proc/mdstat. Lines it does not understand are skipped; an array line without a
// usable header is InvalidArgument.
StatusOr<std::vector<MdArray>> ParseMdstat(const std::string& text);

struct RaidCheckOptions {
  std::vector<std::string> arrays;
  bool required = true;
  std::optional<int64_t> mismatch_warning;
};

class RaidCheck final : public Check {
 public:
  RaidCheck(std::string name, RaidCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  protocol::CheckResult ArrayResult(const CheckContext& ctx, const MdArray& array) const;

  RaidCheckOptions options_;
};

// Factory for type "raid".
StatusOr<std::unique_ptr<Check>> NewRaidCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
