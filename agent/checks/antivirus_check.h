// AntivirusCheck (type "antivirus"): is the antivirus engine running, and how old are its
// signatures. One result per check.
//
// product: clamav (default) talks to clamd over its socket with the NUL-terminated command
// forms (one connection per command, as clamd closes after each reply):
//   zPING      -> "PONG": the engine is up
//   zVERSION   -> "ClamAV 1.4.6/27123/Wed Nov 18 16:14:19 2026": engine version, signature
//                 database version and build time (ctime in clamd's local time zone, read here
//                 in the agent's: run the check on the clamd host or keep the zones equal)
//   zINSTREAM  -> optional self-test (self_test: true): streams the 68-byte EICAR test file in
//                 4-byte big-endian length-prefixed chunks and a zero-length terminator, and
//                 requires "stream: <signature> FOUND". A clamd that does not detect EICAR is
//                 CRITICAL. (Each self-test leaves a "FOUND" line in clamd's log; off by default.)
//   Keys: socket (unix socket path, default /run/clamav/clamd.ctl — Debian's LocalSocket) or
//   address (host:port for clamd's TCPSocket), self_test (false).
//
// product: generic, for other engines: a systemd unit (`unit`, through `systemctl is-active`
// via the CommandRunner) and/or a process (`process`, matched against /proc/<pid>/comm) must be
// running, and `definitions` (a file, or a directory whose newest file counts) must be recent.
//   Keys: unit, process (at least one), definitions (required), display_name (default: the unit
//   or process name).
//
// Both: signature_warning_days / signature_critical_days (3 / 7) grade the signature age.
// Statuses: engine not reachable (refused, missing socket, timeout) -> unknown with the reason;
// generic service/process not running -> critical; signatures at/over the thresholds -> warning
// / critical; clamd reporting no database version (only local .hdb/.ndb signatures loaded, so
// nothing keeps them current) -> warning. All clamd I/O ends by the check's deadline
// (CheckContext::deadline, or 10 s when none is set).
//
// Metrics: antivirus_engine_up (0/1), antivirus_signature_age_seconds,
// antivirus_signature_version (clamav), antivirus_selftest_detected (0/1, with self_test).
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/check_util.h"

namespace steadfast::agent {

// What zVERSION said.
struct ClamdVersion {
  std::string engine;                 // "1.4.6"
  std::optional<int64_t> db_version;  // 27123; unset when clamd loaded no versioned database
  std::string db_time_text;           // "Wed Nov 18 16:14:19 2026"
  std::optional<std::tm> db_time;     // the same, broken down (clamd's local time)
};

// Parses a VERSION reply (the trailing NUL or newline already removed or not). DataLoss when it
// does not start with "ClamAV ".
StatusOr<ClamdVersion> ParseClamdVersion(std::string_view reply);

// Parses a scan reply ("stream: Eicar-Test-Signature FOUND", "stream: OK",
// "INSTREAM size limit exceeded. ERROR"): the signature name when something was found, an
// empty string when the stream is clean, FailedPrecondition with the reply on ERROR, DataLoss
// on anything else.
StatusOr<std::string> ParseClamdScanReply(std::string_view reply);

// The 68-byte EICAR anti-malware test file. Kept out of the binary in plain form so that a
// scanner on the host does not flag the agent itself.
std::string EicarTestFile();

// zINSTREAM request bytes for `data`: "zINSTREAM\0", chunks of at most `chunk_bytes` each
// prefixed by its length (4 bytes, big-endian), then a zero length.
std::string ClamdInstreamRequest(std::string_view data, size_t chunk_bytes = 8192);

// The modification time (unix seconds) of `path`, or for a directory the newest of the regular
// files below it (at most 3 levels down, at most 100000 entries). NotFound when absent,
// FailedPrecondition for a directory with no file in it.
using ModifiedTimeFunction = std::function<StatusOr<int64_t>(const std::string& path)>;
StatusOr<int64_t> NewestModifiedTime(const std::string& path);

struct AntivirusCheckOptions {
  enum class Product { kClamav, kGeneric };
  Product product = Product::kClamav;
  // clamav
  std::string socket_path = "/run/clamav/clamd.ctl";  // used when tcp_host is empty
  std::string tcp_host;
  uint16_t tcp_port = 0;
  bool self_test = false;
  // generic
  std::string unit;
  std::string process;
  std::string definitions;
  std::string display_name;
  // both: days
  Thresholds signature_age_days{3.0, 7.0};
};

class AntivirusCheck final : public Check {
 public:
  AntivirusCheck(std::string name, AntivirusCheckOptions options,
                 ModifiedTimeFunction mtime = &NewestModifiedTime)
      : Check(std::move(name)), options_(std::move(options)), mtime_(std::move(mtime)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

  // The result's target: the clamd socket path or host:port, or the generic product's name.
  std::string Target() const;

 private:
  protocol::CheckResult RunClamav(const CheckContext& ctx);
  protocol::CheckResult RunGeneric(const CheckContext& ctx);

  AntivirusCheckOptions options_;
  ModifiedTimeFunction mtime_;
};

// Factory for type "antivirus".
StatusOr<std::unique_ptr<Check>> NewAntivirusCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
