// The agent <-> collector protocol: C++ types and their JSON mapping. The wire format is
// specified in common/protocol/PROTOCOL.md; keep the two in step.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace steadfast::protocol {

inline constexpr int kProtocolVersion = 1;
// Limits enforced on decode (a report over them is rejected, not truncated).
inline constexpr size_t kMaxResultsPerBatch = 10'000;
inline constexpr size_t kMaxMetricsPerResult = 1'000;
inline constexpr size_t kMaxStringBytes = 4'096;

// Nagios plugin meaning: 0 ok, 1 warning, 2 critical, 3 unknown.
enum class CheckStatus { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };
std::string_view CheckStatusName(CheckStatus s);  // "ok", "warning", "critical", "unknown"
StatusOr<CheckStatus> ParseCheckStatus(std::string_view name);
// The worse of two statuses (critical > warning > unknown > ok).
CheckStatus WorseStatus(CheckStatus a, CheckStatus b);

struct Metric {
  std::string name;  // e.g. "filesystem_used_ratio"
  std::map<std::string, std::string> labels;
  double value = 0;
  std::string unit;  // "bytes", "seconds", "ratio", "" ...
  friend bool operator==(const Metric&, const Metric&) = default;
};

struct CheckResult {
  std::string check;   // check family/instance name from the agent config, e.g. "root-fs"
  std::string target;  // what was checked, e.g. "/" or "10.0.0.1:443"
  CheckStatus status = CheckStatus::kUnknown;
  std::string summary;  // one line
  int64_t observed_at_ms = 0;  // unix ms, UTC
  int64_t duration_ms = 0;
  std::vector<Metric> metrics;
  std::string details_json = "{}";  // a JSON object, structured details
  friend bool operator==(const CheckResult&, const CheckResult&) = default;
};

struct HostInfo {
  std::string hostname;
  std::string os;  // PRETTY_NAME of /etc/os-release
  std::string kernel;
  std::string arch;
  std::string agent_version;
  friend bool operator==(const HostInfo&, const HostInfo&) = default;
};

struct ReportEntry {
  uint64_t seq = 0;  // per agent, strictly increasing, never reused
  CheckResult result;
  friend bool operator==(const ReportEntry&, const ReportEntry&) = default;
};

// A report entry as the agent's spool keeps it: the result already encoded (one JSON object,
// EncodeCheckResult's output), sent as it is rather than decoded and encoded again.
struct RawReportEntry {
  uint64_t seq = 0;
  std::string result_json;
};

// Actions (PROTOCOL.md, "Actions"): the collector asks an agent to run an allow-listed action
// in its answer to a report; the agent reports how it went in later reports.
inline constexpr size_t kMaxActionsPerAck = 100;
inline constexpr size_t kMaxActionResultsPerBatch = 100;
inline constexpr size_t kMaxActionIdBytes = 64;
inline constexpr size_t kMaxActionParamsBytes = 4'096;

struct ActionRequest {
  std::string id;      // "act-" and hex; unique, the key of every report about it
  std::string action;  // e.g. "emergency_backup"
  std::string params_json = "{}";  // a JSON object, at most kMaxActionParamsBytes
  int64_t requested_at_ms = 0;
  std::string requested_by;  // the person (or plan) who asked
  int64_t expires_at_ms = 0;  // the agent refuses to start it after this
  friend bool operator==(const ActionRequest&, const ActionRequest&) = default;
};

enum class ActionState { kRunning, kSucceeded, kFailed, kRefused };
std::string_view ActionStateName(ActionState s);  // "running", "succeeded", "failed", "refused"
StatusOr<ActionState> ParseActionState(std::string_view name);

struct ActionResult {
  std::string id;
  ActionState state = ActionState::kRunning;
  std::string summary;  // one line
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;  // 0 while running
  std::string details_json = "{}";  // a JSON object, at most 64 KiB
  friend bool operator==(const ActionResult&, const ActionResult&) = default;
};

// POST /api/v1/reports body.
struct ReportBatch {
  int version = kProtocolVersion;
  std::string agent_id;
  int64_t sent_at_ms = 0;
  HostInfo host;
  std::vector<ReportEntry> results;
  std::vector<ActionResult> action_results;  // omitted when none
  friend bool operator==(const ReportBatch&, const ReportBatch&) = default;
};

// 200 response to a report: every entry of the batch is durable (new or duplicate), and so are
// its action results.
struct ReportAck {
  uint64_t acked_through = 0;  // highest seq of the batch
  int accepted = 0;            // newly stored
  int duplicates = 0;          // already stored before (a retry)
  std::vector<ActionRequest> actions;  // actions waiting for this agent (omitted when none)
};

// POST /api/v1/enroll
struct EnrollRequest {
  int version = kProtocolVersion;
  std::string enrollment_token;
  HostInfo host;
};
struct EnrollResponse {
  std::string agent_id;
  std::string agent_token;
};

// PUT /api/v1/inventory: what the host is made of (PROTOCOL.md, "Inventory"). What the agent
// cannot read (DMI serials are root-only) is "", never an error. Limits enforced on decode:
inline constexpr size_t kMaxInventoryDisks = 256;
inline constexpr size_t kMaxInventoryStringBytes = 256;  // every string but host.* (as HostInfo)
inline constexpr int64_t kMaxInventoryCpuCount = 1 << 20;

struct DiskInfo {
  std::string name;  // kernel name, unique within an inventory: "sda", "nvme0n1"
  int64_t size_bytes = 0;
  std::string model;
  std::string vendor;
  std::string serial;  // the device's serial number where the kernel shows it
  std::string wwid;    // world-wide identifier (naa./eui./t10.), where the device has one
  bool rotational = false;
  friend bool operator==(const DiskInfo&, const DiskInfo&) = default;
};

// SMBIOS/DMI strings as the kernel exports them (/sys/class/dmi/id), placeholders such as
// "To Be Filled By O.E.M." already blanked by the agent.
struct DmiInfo {
  std::string sys_vendor;
  std::string product_name;
  std::string product_version;
  std::string product_serial;
  std::string product_uuid;
  std::string board_vendor;
  std::string board_name;
  std::string board_serial;
  std::string bios_vendor;
  std::string bios_version;
  std::string bios_date;
  std::string chassis_type;  // the SMBIOS code as text: "23" is a rack mount chassis
  std::string chassis_serial;
  std::string chassis_asset_tag;
  friend bool operator==(const DmiInfo&, const DmiInfo&) = default;
};

struct HostInventory {
  int version = kProtocolVersion;
  std::string agent_id;
  int64_t collected_at_ms = 0;  // unix ms, UTC
  HostInfo host;
  std::string cpu_model;
  int64_t cpu_count = 0;     // logical CPUs
  int64_t memory_bytes = 0;  // MemTotal
  std::vector<DiskInfo> disks;
  DmiInfo dmi;
  friend bool operator==(const HostInventory&, const HostInventory&) = default;
};

// Whether two inventories describe the host the same way: everything but collected_at_ms.
bool SameInventory(const HostInventory& a, const HostInventory& b);

// JSON mapping. Decoders validate types, required fields and limits; an error is
// InvalidArgument whose message starts with the JSON path of the bad field
// ("results[3].status: ...") and FieldOf() extracts that path for the API error's "field".
// DecodeReportBatch, on the collector's hot path, reads a well-formed batch in one streaming
// pass without building a JSON DOM; anything else it hands to the DOM-based reference decoder,
// so results and errors are exactly the reference decoder's (protocol_internal.h). Thread-safe.
std::string EncodeReportBatch(const ReportBatch& batch);
// The same document from `envelope` (its `results` are not used) and entries whose results are
// already encoded: each must be a JSON object (EncodeCheckResult's output); its "seq" is added.
std::string EncodeReportBatchRaw(const ReportBatch& envelope,
                                 const std::vector<RawReportEntry>& results);
StatusOr<ReportBatch> DecodeReportBatch(std::string_view json);
std::string EncodeReportAck(const ReportAck& ack);
StatusOr<ReportAck> DecodeReportAck(std::string_view json);
std::string EncodeEnrollRequest(const EnrollRequest& req);
StatusOr<EnrollRequest> DecodeEnrollRequest(std::string_view json);
std::string EncodeEnrollResponse(const EnrollResponse& resp);
StatusOr<EnrollResponse> DecodeEnrollResponse(std::string_view json);
// Never throws: bytes that are not UTF-8 are replaced (U+FFFD) rather than sent.
std::string EncodeHostInventory(const HostInventory& inventory);
StatusOr<HostInventory> DecodeHostInventory(std::string_view json);
std::string EncodeCheckResult(const CheckResult& r);  // one result as a JSON object
StatusOr<CheckResult> DecodeCheckResult(std::string_view json);
// The field path a decode error names ("results[3].status"), or "" if none.
std::string FieldOf(const Status& decode_error);

}  // namespace steadfast::protocol
