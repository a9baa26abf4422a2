// PatchesCheck (type "patches"): pending package updates, how many are security updates and how
// long they have waited, how fresh the package lists are, and whether a reboot is required. It
// changes nothing on the machine. One result, target "packages".
//
// Debian/Ubuntu: `apt-get --simulate --quiet=2 -o Debug::NoLocking=1
// -o APT::Get::Show-User-Simulation-Note=false dist-upgrade` through the CommandRunner, parsing
// its "Inst" lines: "Inst libc6 [2.36-9] (2.36-9+deb12u4 Debian:12.5/stable,
// Debian-Security:12/stable-security [amd64])". apt-get's output is a stable interface;
// `apt list --upgradable` warns that its CLI is not ("WARNING: apt does not have a stable CLI
// interface"), and it shows neither new packages a dist-upgrade pulls in (a new kernel) nor
// which origins an update comes from as reliably. An update is a security update when one of
// its origins is a -security suite ("Debian-Security:12/stable-security",
// "Ubuntu:22.04/jammy-security"). Debug::NoLocking lets it run unprivileged and beside a
// running apt. The simulation is cached: it is re-run only when /var/lib/dpkg/status or the
// package lists change, or after `recheck_interval` (default 6h), so a 1-minute interval costs
// a few stat() calls, not a 3-second apt run.
//
// Package lists age: the newest mtime among <var_root>/lib/apt/lists/*Release,
// <var_root>/lib/apt/lists/partial (apt touches it on every update, even when nothing changed)
// and <var_root>/lib/apt/periodic/update-success-stamp (apt.systemd.daily).
//
// Oldest pending security update: apt keeps no such date and Debian's changelogs of not-yet-
// installed versions are not on the machine, so the check remembers when it first saw each
// package with a pending security update, in `state_file` (JSON; default
// /var/lib/steadfast-agent/patches-first-seen.json — put it in the agent's state_dir if that
// moved; "" keeps it in memory only). A package leaves the file once it is no longer pending.
// The first run after installation therefore reports 0 days for everything. The file is read
// at the first run but written only from the second run of the check on, so that
// `steadfast-agent --once` (one run of each check) leaves the state directory untouched.
//
// Reboot required: `reboot_required_file` (default /run/reboot-required, written by Debian's
// and Ubuntu's package hooks; /run is not under var_root) and its ".pkgs" companion naming the
// packages.
//
// RPM systems (package_manager dnf, or auto when apt-get is absent): `dnf -q check-update` and
// `dnf -q check-update --security` (exit 100 = updates pending), and `dnf -q needs-restarting
// -r` (exit 1 = reboot needed). The package lists age is not reported for dnf (it refreshes its
// metadata itself).
//
// Grading:
//   critical  the oldest pending security update has waited security_critical_days (7)
//   warning   security updates pending >= security_warning (1); package lists older than
//             lists_warning_days (7) or never downloaded; reboot required (`reboot_required`:
//             ok|warning|critical, default warning); pending updates >= updates_warning (off)
//   unknown   the package manager failed (its error message is the summary)
//
// Metrics: patches_pending, patches_security_pending, patches_security_oldest_pending_seconds,
// patches_package_lists_age_seconds (apt), node_reboot_required (the name the node_exporter
// textfile scripts use).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

struct PendingUpdate {
  std::string package;
  std::string current_version;  // empty for a package the upgrade would newly install
  std::string new_version;
  std::string origins;  // "Debian:12.5/stable, Debian-Security:12/stable-security"
  bool security = false;
};

// "Inst" lines of `apt-get --simulate` output; other lines are ignored.
std::vector<PendingUpdate> ParseAptSimulation(const std::string& text);
// Package lines of `dnf check-update` output ("name.arch version repo"), up to the
// "Obsoleting Packages" section; `security` is copied into every entry.
std::vector<PendingUpdate> ParseDnfCheckUpdate(const std::string& text, bool security);

// Unix milliseconds of a file's last modification. NotFound when absent.
using MtimeFunction = std::function<StatusOr<int64_t>(const std::string& path)>;
StatusOr<int64_t> PosixMtimeMillis(const std::string& path);

struct PatchesCheckOptions {
  std::string package_manager = "auto";  // auto | apt | dnf
  std::string apt_get = "apt-get";
  std::string dnf = "dnf";
  std::optional<int64_t> security_warning = 1;
  std::optional<double> security_critical_days = 7;
  std::optional<int64_t> updates_warning;
  std::optional<double> lists_warning_days = 7;
  protocol::CheckStatus reboot_required = protocol::CheckStatus::kWarning;
  std::string reboot_required_file = "/run/reboot-required";
  std::string state_file = "/var/lib/steadfast-agent/patches-first-seen.json";
  std::chrono::milliseconds recheck_interval{6 * 3600 * 1000};
};

class PatchesCheck final : public Check {
 public:
  PatchesCheck(std::string name, PatchesCheckOptions options,
               MtimeFunction mtime = &PosixMtimeMillis)
      : Check(std::move(name)), options_(std::move(options)), mtime_(std::move(mtime)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  struct Scan {
    std::vector<PendingUpdate> updates;
    std::optional<bool> reboot_required;  // dnf needs-restarting
    std::string manager;                  // "apt" or "dnf"
  };
  StatusOr<Scan> ScanApt(const CheckContext& ctx);
  StatusOr<Scan> ScanDnf(const CheckContext& ctx);
  std::optional<int64_t> NewestListsMtime(const CheckContext& ctx) const;
  void UpdateFirstSeen(const CheckContext& ctx, const std::vector<PendingUpdate>& updates,
                       std::string* state_problem);

  PatchesCheckOptions options_;
  MtimeFunction mtime_;
  // The cached apt simulation and what it was computed from.
  std::optional<Scan> cached_;
  std::string cache_key_;
  int64_t cached_at_ms_ = 0;
  bool state_loaded_ = false;
  bool dirty_ = false;  // first_seen_ms_ differs from the state file
  int64_t runs_ = 0;
  std::map<std::string, int64_t> first_seen_ms_;  // package -> when its security update appeared
};

// Factory for type "patches".
StatusOr<std::unique_ptr<Check>> NewPatchesCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
