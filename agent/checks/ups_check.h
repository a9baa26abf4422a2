// UpsCheck (type "ups"): reads UPSes from NUT's upsd over the NUT network protocol (TCP, port
// 3493, line-based; see https://networkupstools.org/docs/developer-guide.chunked/net-protocol.html)
// and grades them with GradeUps (ups_state.h): on line / ON BATTERY / low battery, charge,
// runtime left, load, input voltage. One result per UPS, target "<ups>@<host>:<port>".
//
// Config keys (besides the common ones):
//   host (default 127.0.0.1), port (default 3493)
//   ups: the UPS name as upsd knows it; absent or "all": every UPS upsd lists (LIST UPS)
//   username, password_file: sent as USERNAME / PASSWORD when set (the file's first line is the
//       password; it is read at every run and never logged). upsd 2.8 only checks a password at
//       LOGIN/SET/INSTCMD, which this read-only client never sends, so a wrong password is not
//       noticed; reads need no credentials.
//   charge_warning_percent / charge_critical_percent (50 / 20), runtime_warning /
//   runtime_critical (10m / 5m), load_warning_percent / load_critical_percent (80 / 95),
//   input_voltage_min / input_voltage_max (optional): see ups_state.h.
//
// Metrics: ups_up (1 when the UPS's variables were read, 0 otherwise) and GradeUps's ups_*.
// Errors -> unknown with the reason: refused / timed-out / unresolvable connection, and upsd's
// ERR ACCESS-DENIED, UNKNOWN-UPS, DATA-STALE, DRIVER-NOT-CONNECTED (and any other ERR) replies.
// All I/O ends by the check's deadline (CheckContext::deadline, or 10 s when none is set).
// STARTTLS is not supported: run the check on the upsd host or over a trusted network.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/ups_state.h"

namespace steadfast::agent {

// Splits one NUT protocol line into words; a double-quoted word may contain spaces and the
// escapes \" and \\. InvalidArgument on an unterminated quote.
StatusOr<std::vector<std::string>> SplitNutWords(std::string_view line);

// The text of a NUT "ERR <CODE>" reply: "upsd is not connected to the UPS driver
// (ERR DRIVER-NOT-CONNECTED)". `line` is the whole reply line.
std::string NutErrorText(std::string_view line);

// Parses a complete reply to `LIST VAR <ups>`: "BEGIN LIST VAR <ups>", "VAR <ups> <name>
// "<value>"" lines, "END LIST VAR <ups>", newline-separated. A reply that is an "ERR ..." line
// is FailedPrecondition with NutErrorText; anything malformed is DataLoss naming the line.
StatusOr<std::map<std::string, std::string>> ParseNutListVar(std::string_view reply,
                                                             const std::string& ups);

struct NutUps {
  std::string name;
  std::string description;
};
// Parses a complete reply to `LIST UPS` (same shape, "UPS <name> "<description>"" lines).
StatusOr<std::vector<NutUps>> ParseNutListUps(std::string_view reply);

// The UpsState of a UPS from its NUT variables (ups.status, battery.charge, battery.runtime,
// ups.load, input.voltage, output.voltage, ups.temperature, ups.alarm). Unparseable numbers are
// left unset.
UpsState UpsStateFromNutVars(const std::map<std::string, std::string>& vars);

struct UpsCheckOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3493;
  std::string ups;  // empty: all
  std::string username;
  std::string password_file;
  UpsThresholds thresholds;
};

class UpsCheck final : public Check {
 public:
  UpsCheck(std::string name, UpsCheckOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

  // "host:port", brackets around an IPv6 literal.
  std::string Server() const;

 private:
  protocol::CheckResult Unknown(const CheckContext& ctx, const std::string& target,
                                const std::string& why) const;
  protocol::CheckResult Graded(const CheckContext& ctx, const std::string& ups,
                               const std::map<std::string, std::string>& vars) const;

  UpsCheckOptions options_;
};

// Factory for type "ups".
StatusOr<std::unique_ptr<Check>> NewUpsCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
