// InventoryStore: the asset register (docs/ACCOUNTS.md, "Asset register") — the inventory each
// agent reports about its host, with a history of what changed, and the registered equipment
// that has no agent (UPS, air conditioning, switches, PDUs, sensors, ...) with the history of
// which unit it was allocated to. SqliteInventoryStore (sqlite_inventory_store.h) is the
// embedded implementation; the interface speaks in domain values so a PostgreSQL one can follow.
//
// Contracts every implementation keeps (those of AccountStore, account_store.h, where they
// apply):
// - Equipment mutations take the Actor doing them and write exactly one audit record (action
//   "equipment.create" / "equipment.update" / "equipment.allocate", object "equipment" <id>, a
//   before/after summary) in the SAME transaction as the change. Authorisation and scope are
//   NOT checked here — the API layer decides who may call what.
// - Agent reports are not user actions: ReportHostInventory writes no audit record. What an
//   agent changed goes into the host's inventory history instead (one row per report that
//   differs from the previous one, naming each changed field), kept to the newest
//   kMaxHistoryPerHost rows per host.
// - Errors: InvalidArgument naming the field ("location.u_position: must be 1..60", see
//   accounts::FieldError); a serial already registered to other equipment is AlreadyExists
//   ("serial: ..."); a unit that does not exist, named in a request, is InvalidArgument
//   ("unit_id: no such unit"); an unknown id acted on is NotFound; a state that forbids the
//   change (allocating retired equipment, or to the unit that already has it) is
//   FailedPrecondition naming the field; storage trouble Unavailable.
// - Time comes from the caller (Actor::time_ms, or received_at_ms for agent reports).
// - Equipment is never deleted: it is retired (status "retired"), so allocation history and
//   audit records keep pointing at something real.
// - Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/accounts/account_store.h"
#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::collector::inventory {

using accounts::Actor;

inline constexpr int64_t kMaxHistoryPerHost = 200;
inline constexpr int64_t kMaxPageSize = 1000;

// ---- host inventory (from agents)

// One changed field of a host's inventory. `field` is a path into the inventory document
// ("dmi.product_serial", "disks[sdb].serial", "memory_bytes"); disks are named by their kernel
// name, not their position, so a disk added in the middle changes nothing else. A disk added
// or removed is one change of "disks[<name>]" whose other side is "". Values are text
// (numbers in decimal, booleans "true"/"false"); "" is absent or empty.
struct InventoryChange {
  std::string field;
  std::string from;
  std::string to;
  friend bool operator==(const InventoryChange&, const InventoryChange&) = default;
};

// "disks[sdb].serial: ABC -> DEF" ("(none)" for an empty side).
std::string ChangeText(const InventoryChange& change);
// What differs between two inventories, in document order; agent_id and collected_at are not
// compared. Pure.
std::vector<InventoryChange> DiffInventories(const protocol::HostInventory& before,
                                             const protocol::HostInventory& after);

// The current inventory of one host, with the columns lists search on.
struct HostInventoryRecord {
  std::string agent_id;
  int64_t unit_id = accounts::kCentreUnitId;  // the host's unit; the centre when never assigned
  protocol::HostInventory inventory;
  int64_t reported_at_ms = 0;  // the last report
  int64_t changed_at_ms = 0;   // the last report that changed something (or the first)
};

// A row of the host list: the searchable columns, not the whole document.
struct HostInventorySummary {
  std::string agent_id;
  int64_t unit_id = accounts::kCentreUnitId;
  std::string hostname;
  std::string os;
  std::string kernel;
  std::string arch;
  std::string cpu_model;
  int64_t cpu_count = 0;
  int64_t memory_bytes = 0;
  std::string vendor;   // dmi.sys_vendor
  std::string product;  // dmi.product_name
  std::string serial;   // dmi.product_serial, else dmi.chassis_serial
  int64_t disk_count = 0;
  int64_t disk_bytes = 0;  // the disks' sizes added up
  int64_t collected_at_ms = 0;
  int64_t reported_at_ms = 0;
  int64_t changed_at_ms = 0;
};

struct HostInventoryQuery {
  // Hosts of these units only (a host never assigned counts as the centre's); unset = all.
  std::optional<std::vector<int64_t>> unit_ids;
  // Substring, case-insensitive, of the agent id, hostname, serial, vendor, product, CPU model
  // or any disk's serial or wwid; "" = any.
  std::string text;
  std::string os;  // substring of the OS name, case-insensitive; "" = any
  int64_t limit = 100;
  int64_t offset = 0;
};

struct HostInventoryPage {
  std::vector<HostInventorySummary> items;  // ordered by hostname, then agent id
  int64_t total = 0;
};

struct InventoryHistoryEntry {
  int64_t id = 0;
  std::string agent_id;
  int64_t reported_at_ms = 0;
  bool first = false;  // the host's first inventory (changes is then empty)
  std::vector<InventoryChange> changes;
};

struct InventoryHistoryPage {
  std::vector<InventoryHistoryEntry> items;  // newest first
  int64_t total = 0;
};

// What a report did.
struct InventoryReportResult {
  bool first = false;                    // no inventory was stored for the host before
  std::vector<InventoryChange> changes;  // empty and !first: unchanged (only reported_at moved)
};

// ---- registered equipment

enum class EquipmentType {
  kUps,
  kAirConditioning,
  kSwitch,
  kRouter,
  kFirewall,
  kPdu,
  kEnvironmentSensor,
  kStorage,
  kOther,
};
inline constexpr EquipmentType kAllEquipmentTypes[] = {
    EquipmentType::kUps,      EquipmentType::kAirConditioning,   EquipmentType::kSwitch,
    EquipmentType::kRouter,   EquipmentType::kFirewall,          EquipmentType::kPdu,
    EquipmentType::kEnvironmentSensor, EquipmentType::kStorage, EquipmentType::kOther};
// "ups", "air_conditioning", "switch", "router", "firewall", "pdu", "environment_sensor",
// "storage", "other".
std::string_view EquipmentTypeName(EquipmentType type);
std::optional<EquipmentType> ParseEquipmentType(std::string_view name);

enum class EquipmentStatus { kInService, kSpare, kMaintenance, kFaulty, kRetired };
inline constexpr EquipmentStatus kAllEquipmentStatuses[] = {EquipmentStatus::kInService, EquipmentStatus::kSpare,
                                                            EquipmentStatus::kMaintenance, EquipmentStatus::kFaulty,
                                                            EquipmentStatus::kRetired};
// "in_service", "spare", "maintenance", "faulty", "retired".
std::string_view EquipmentStatusName(EquipmentStatus status);
std::optional<EquipmentStatus> ParseEquipmentStatus(std::string_view name);

inline constexpr int64_t kMaxRackUnits = 60;

struct Location {
  std::string room;                   // 0..100 characters
  std::string rack;                   // 0..50 characters; required when u_position is set
  std::optional<int64_t> u_position;  // lowest rack unit occupied, 1..60
  int64_t u_height = 1;               // rack units occupied, 1..60; u_position + u_height - 1 <= 60
  friend bool operator==(const Location&, const Location&) = default;
};

struct Equipment {
  int64_t id = 0;
  EquipmentType type = EquipmentType::kOther;
  std::string name;    // 1..100 characters
  std::string vendor;  // 0..100
  std::string model;   // 0..100
  std::string serial;  // 0..100 printable characters, no surrounding spaces; unique when not ""
  Location location;
  int64_t unit_id = 0;  // the owner unit
  EquipmentStatus status = EquipmentStatus::kInService;
  std::string notes;  // 0..2000 characters; line breaks allowed
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// Present fields are changed, absent ones kept. The owner unit is not here: moving it is an
// allocation (AllocateEquipment), which records who, when, to whom and why.
struct EquipmentUpdate {
  std::optional<EquipmentType> type;
  std::optional<std::string> name;
  std::optional<std::string> vendor;
  std::optional<std::string> model;
  std::optional<std::string> serial;
  std::optional<std::string> room;
  std::optional<std::string> rack;
  std::optional<std::optional<int64_t>> u_position;  // set to nullopt-inside to clear
  std::optional<int64_t> u_height;
  std::optional<EquipmentStatus> status;
  std::optional<std::string> notes;
};

struct EquipmentQuery {
  std::optional<std::vector<int64_t>> unit_ids;  // unset = all
  std::optional<EquipmentType> type;
  std::optional<EquipmentStatus> status;
  std::string room;  // exact room; "" = any
  // Substring, case-insensitive, of name, vendor, model, serial or rack; "" = any.
  std::string text;
  int64_t limit = 100;
  int64_t offset = 0;
};

struct EquipmentPage {
  std::vector<Equipment> items;  // ordered by name, then id
  int64_t total = 0;
};

// One change of owner unit.
struct Allocation {
  int64_t id = 0;
  int64_t equipment_id = 0;
  std::optional<int64_t> from_unit_id;  // empty for the allocation made at registration
  int64_t to_unit_id = 0;
  std::string actor_type;  // as in the audit record: "user", "token", "system"
  std::string actor_id;
  std::string actor_name;
  std::string reason;  // 1..500 characters
  int64_t at_ms = 0;
};

struct AllocationPage {
  std::vector<Allocation> items;  // newest first
  int64_t total = 0;
};

inline constexpr char kRegistrationReason[] = "registered";

class InventoryStore {
 public:
  virtual ~InventoryStore() = default;

  // Host inventory. ReportHostInventory replaces the host's current inventory with
  // `inventory` (whose agent_id must be `agent_id`, InvalidArgument "agent_id" otherwise),
  // stamps reported_at, and, when it is the first or differs from the stored one, changed_at
  // and a history row; the oldest rows beyond kMaxHistoryPerHost are dropped. Not audited.
  virtual StatusOr<InventoryReportResult> ReportHostInventory(const std::string& agent_id,
                                                              const protocol::HostInventory& inventory,
                                                              int64_t received_at_ms) = 0;
  // NotFound when the host never reported an inventory.
  virtual StatusOr<HostInventoryRecord> GetHostInventory(const std::string& agent_id) = 0;
  // A limit outside 1..kMaxPageSize or a negative offset is InvalidArgument naming it.
  virtual StatusOr<HostInventoryPage> ListHostInventories(const HostInventoryQuery& query) = 0;
  // NotFound when the host never reported an inventory; limit/offset as above.
  virtual StatusOr<InventoryHistoryPage> HostInventoryHistory(const std::string& agent_id, int64_t limit,
                                                              int64_t offset) = 0;

  // Equipment. CreateEquipment assigns id, created_at and updated_at (actor.time_ms; what is in
  // `equipment` is ignored) and records the first allocation (from nobody to its unit, reason
  // kRegistrationReason).
  virtual StatusOr<Equipment> CreateEquipment(const Actor& actor, const Equipment& equipment) = 0;
  virtual StatusOr<Equipment> GetEquipment(int64_t id) = 0;
  virtual StatusOr<EquipmentPage> ListEquipment(const EquipmentQuery& query) = 0;
  virtual StatusOr<Equipment> UpdateEquipment(const Actor& actor, int64_t id, const EquipmentUpdate& update) = 0;
  // Moves the equipment to `to_unit_id` and records the allocation. The unit must exist
  // (InvalidArgument "unit_id") and differ from the current one (FailedPrecondition "unit_id");
  // retired equipment is not allocated (FailedPrecondition "status"); reason 1..500 characters
  // (InvalidArgument "reason").
  virtual StatusOr<Allocation> AllocateEquipment(const Actor& actor, int64_t id, int64_t to_unit_id,
                                                 const std::string& reason) = 0;
  // NotFound for unknown equipment; limit/offset as above.
  virtual StatusOr<AllocationPage> ListAllocations(int64_t equipment_id, int64_t limit, int64_t offset) = 0;
};

}  // namespace steadfast::collector::inventory
