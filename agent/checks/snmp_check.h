// SnmpCheck (type "snmp"): SNMP v2c / v3 GET and WALK of configured OIDs with thresholds, plus
// ready profiles, for switches, PDUs, air conditioning units, environment sensors and UPSes that
// only speak SNMP. Uses the net-snmp library through SnmpClient (snmp_client.h).
//
// Config keys (besides the common ones):
//   host (required), port (161)
//   version: "2c" (default) or "3"
//   v2c: community_file (first line is the community; absent: "public")
//   v3:  username (required), security_level (authPriv | authNoPriv | noAuthNoPriv; authPriv),
//        auth_protocol (MD5 | SHA | SHA-224 | SHA-256 | SHA-384 | SHA-512; SHA),
//        auth_password_file, priv_protocol (DES | AES | AES-192 | AES-256 | AES-192-C |
//        AES-256-C; AES), priv_password_file, context ("")
//   Secret files are read at every run through the FileSystem and never logged or reported.
//   retries (1): resends per request; each try gets (time left) / (retries + 1).
//   profile: ups-mib | if-mib (optional)
//     ups-mib: RFC 1628 UPS-MIB (upsOutputSource, upsBatteryStatus, upsEstimatedChargeRemaining,
//              upsEstimatedMinutesRemaining, upsOutputPercentLoad, voltages, temperature, alarms),
//              graded exactly like the ups check (GradeUps: on battery is unmistakable) with the
//              same threshold keys (charge_warning_percent, runtime_warning, ...). One result,
//              target "<host>/ups".
//     if-mib:  IF-MIB interface table, one result per interface (target "<host>/<ifName>"):
//              admin up but oper down (or lowerLayerDown / notPresent) is CRITICAL, testing is
//              WARNING, admin down is OK; counters ifHCInOctets / ifHCOutOctets / ifInErrors /
//              ifOutErrors as metrics. `interfaces`: only these names (exact, or "prefix*").
//   oids: list of
//     oid (numeric, required), name (default: the oid), walk (false: GET of exactly this oid;
//     true: every object below it), scale (multiplies numeric values, e.g. 0.1), unit,
//     warning_above / critical_above / warning_below / critical_below (numeric thresholds; a value
//     at or beyond the threshold trips it), expect (a string or list of strings: the value must
//     be one of them, compared as text), expect_status (critical | warning; critical).
//     One result per entry, target "<host>/<name>".
// A profile or oids (or both) must be given. <host> is written "host" for port 161 and
// "host:port" otherwise.
//
// Unreachable agents, timeouts (which is what a wrong community looks like), authentication
// failures and missing objects are unknown with the reason; every result carries snmp_up (0/1).
// Metrics: custom oids snmp_value{oid,name[,index]}; ups-mib the ups_* metrics of GradeUps;
// if-mib snmp_if_up, snmp_if_admin_up, snmp_if_receive_bytes_total, snmp_if_transmit_bytes_total,
// snmp_if_receive_errs_total, snmp_if_transmit_errs_total, snmp_if_speed_bytes (labels device,
// ifIndex): node_exporter's network_* names with an snmp_if_ prefix instead of node_, so a
// switch's ports never pass for the agent host's own interfaces in /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/snmp_client.h"
#include "agent/checks/ups_state.h"

namespace steadfast::agent {

// One configured OID and how to judge it.
struct SnmpOidSpec {
  Oid oid;
  std::string name;
  bool walk = false;
  double scale = 1.0;
  std::string unit;
  std::optional<double> warning_above;
  std::optional<double> critical_above;
  std::optional<double> warning_below;
  std::optional<double> critical_below;
  std::vector<std::string> expect;
  protocol::CheckStatus expect_status = protocol::CheckStatus::kCritical;
};

struct SnmpValueGrade {
  protocol::CheckStatus status = protocol::CheckStatus::kOk;
  std::string text;  // "23.5 celsius", "85 (critical above 80)", "'down' (expected 'up')"
  std::optional<double> number;  // the scaled numeric value, when there is one
};

// Grades one value against `spec`: missing objects are unknown; thresholds need a number
// (numeric types, or an octet string that parses as one, e.g. UCD laLoad "0.15").
SnmpValueGrade GradeSnmpValue(const SnmpOidSpec& spec, const SnmpValue& value);

// UPS-MIB (RFC 1628) objects the ups-mib profile reads.
namespace upsmib {
inline const Oid kIdentModel = {1, 3, 6, 1, 2, 1, 33, 1, 1, 2, 0};
inline const Oid kIdentName = {1, 3, 6, 1, 2, 1, 33, 1, 1, 5, 0};
inline const Oid kBatteryStatus = {1, 3, 6, 1, 2, 1, 33, 1, 2, 1, 0};
inline const Oid kSecondsOnBattery = {1, 3, 6, 1, 2, 1, 33, 1, 2, 2, 0};
inline const Oid kEstimatedMinutesRemaining = {1, 3, 6, 1, 2, 1, 33, 1, 2, 3, 0};
inline const Oid kEstimatedChargeRemaining = {1, 3, 6, 1, 2, 1, 33, 1, 2, 4, 0};
inline const Oid kBatteryTemperature = {1, 3, 6, 1, 2, 1, 33, 1, 2, 7, 0};
inline const Oid kOutputSource = {1, 3, 6, 1, 2, 1, 33, 1, 4, 1, 0};
inline const Oid kAlarmsPresent = {1, 3, 6, 1, 2, 1, 33, 1, 6, 1, 0};
// Table columns, one row per input / output line.
inline const Oid kInputVoltage = {1, 3, 6, 1, 2, 1, 33, 1, 3, 3, 1, 3};
inline const Oid kOutputVoltage = {1, 3, 6, 1, 2, 1, 33, 1, 4, 4, 1, 2};
inline const Oid kOutputPercentLoad = {1, 3, 6, 1, 2, 1, 33, 1, 4, 4, 1, 5};
}  // namespace upsmib

// What the ups-mib profile read: scalars by OID, and the rows of the three line columns.
struct UpsMibReading {
  std::map<Oid, SnmpValue> scalars;
  std::vector<SnmpVarBind> input_voltage;
  std::vector<SnmpVarBind> output_voltage;
  std::vector<SnmpVarBind> output_load;
};

// The UpsState of a UPS-MIB reading: upsOutputSource none(2) -> off, normal(3) -> on line,
// bypass(4), battery(5), booster(6) / reducer(7) -> on line boosting / trimming;
// upsBatteryStatus batteryLow(3) / batteryDepleted(4) -> low battery; minutes -> seconds; the
// highest output load of all lines; the first input and output line's voltage; alarms present.
// NotFound when the agent implements neither upsOutputSource nor upsBatteryStatus.
StatusOr<UpsState> UpsStateFromUpsMib(const UpsMibReading& reading);

// IF-MIB columns the if-mib profile walks.
namespace ifmib {
inline const Oid kIfDescr = {1, 3, 6, 1, 2, 1, 2, 2, 1, 2};
inline const Oid kIfAdminStatus = {1, 3, 6, 1, 2, 1, 2, 2, 1, 7};
inline const Oid kIfOperStatus = {1, 3, 6, 1, 2, 1, 2, 2, 1, 8};
inline const Oid kIfInErrors = {1, 3, 6, 1, 2, 1, 2, 2, 1, 14};
inline const Oid kIfOutErrors = {1, 3, 6, 1, 2, 1, 2, 2, 1, 20};
inline const Oid kIfName = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1};
inline const Oid kIfHCInOctets = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6};
inline const Oid kIfHCOutOctets = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10};
inline const Oid kIfHighSpeed = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15};
inline const Oid kIfAlias = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18};
}  // namespace ifmib

// One row of the interface table, joined on ifIndex.
struct IfMibRow {
  uint32_t index = 0;
  std::string name;                     // ifName, or ifDescr when the agent has no ifXTable
  std::string descr;                    // ifDescr
  std::string alias;                    // ifAlias
  std::optional<int64_t> admin_status;  // up(1) down(2) testing(3)
  std::optional<int64_t> oper_status;   // up(1) down(2) testing(3) unknown(4) dormant(5)
                                        // notPresent(6) lowerLayerDown(7)
  std::optional<double> in_octets, out_octets, in_errors, out_errors, speed_mbps;
};

// Joins walked columns (keyed by column OID) into rows, ordered by ifIndex.
std::vector<IfMibRow> BuildIfMibRows(const std::map<Oid, std::vector<SnmpVarBind>>& columns);

// Status and summary of one interface (see the profile's rules above).
struct IfGrade {
  protocol::CheckStatus status = protocol::CheckStatus::kOk;
  std::string summary;
};
IfGrade GradeIfMibRow(const IfMibRow& row);

struct SnmpCheckOptions {
  SnmpTarget target;  // community / passwords filled from the files at each run
  std::string community_file;
  std::string auth_password_file;
  std::string priv_password_file;
  std::string profile;  // "", "ups-mib", "if-mib"
  std::vector<std::string> interfaces;
  UpsThresholds ups_thresholds;
  std::vector<SnmpOidSpec> oids;
};

class SnmpCheck final : public Check {
 public:
  SnmpCheck(std::string name, SnmpCheckOptions options, std::shared_ptr<SnmpClient> client);
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

  // "host" for port 161, "host:port" otherwise (brackets around an IPv6 literal).
  std::string Host() const;

 private:
  void RunOids(const CheckContext& ctx, SnmpSession& session,
               std::vector<protocol::CheckResult>* results);
  void RunUpsMib(const CheckContext& ctx, SnmpSession& session,
                 std::vector<protocol::CheckResult>* results);
  void RunIfMib(const CheckContext& ctx, SnmpSession& session,
                std::vector<protocol::CheckResult>* results);
  // Every target this check reports on when it cannot reach the agent at all.
  std::vector<std::string> FallbackTargets() const;
  protocol::CheckResult Unknown(const CheckContext& ctx, const std::string& target,
                                const std::string& why) const;

  SnmpCheckOptions options_;
  std::shared_ptr<SnmpClient> client_;
};

// Factory for type "snmp" (uses NewNetSnmpClient()).
StatusOr<std::unique_ptr<Check>> NewSnmpCheck(const CheckSpec& spec);
// The same with an injected client (tests).
StatusOr<std::unique_ptr<Check>> NewSnmpCheckWithClient(const CheckSpec& spec,
                                                        std::shared_ptr<SnmpClient> client);

}  // namespace steadfast::agent
