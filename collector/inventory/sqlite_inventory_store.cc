#include "collector/inventory/sqlite_inventory_store.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <variant>

#include "collector/accounts/audit_summary.h"
#include "common/sqlite/store_sql.h"
#include "common/utf8.h"

namespace steadfast::collector::inventory {

namespace {

using accounts::FieldError;
using Json = nlohmann::json;
using sqlite::SqliteDb;
using sqlite::SqliteStatement;

constexpr size_t kMaxSearchBytes = 200;

// Version 1. Portable SQL on purpose (a PostgreSQL store follows), as in the accounts store.
// - host_inventory keeps the whole document (inventory_json, the protocol's encoding) and,
//   beside it, the columns lists filter and sort on; disk_serials holds every disk's serial and
//   wwid so "which host has disk X" is one search.
// - host_inventory_history: one row per report that changed something (or the first one); the
//   store keeps the newest kMaxHistoryPerHost per host.
// - equipment.serial is unique among the non-empty ones (partial index); an empty serial means
//   "unknown" and may repeat.
// - equipment_allocations is append-only: one row per change of owner unit, the first made at
//   registration (from_unit_id NULL).
// - units and host_units belong to the accounts component (opened first on the same database).
std::vector<sqlite::Migration> Migrations() {
  return {{1, R"sql(
CREATE TABLE host_inventory (
  agent_id        TEXT PRIMARY KEY,
  hostname        TEXT NOT NULL,
  os              TEXT NOT NULL,
  kernel          TEXT NOT NULL,
  arch            TEXT NOT NULL,
  cpu_model       TEXT NOT NULL,
  cpu_count       INTEGER NOT NULL,
  memory_bytes    INTEGER NOT NULL,
  vendor          TEXT NOT NULL,
  product         TEXT NOT NULL,
  serial          TEXT NOT NULL,
  disk_count      INTEGER NOT NULL,
  disk_bytes      INTEGER NOT NULL,
  disk_serials    TEXT NOT NULL,
  inventory_json  TEXT NOT NULL,
  collected_at_ms INTEGER NOT NULL,
  reported_at_ms  INTEGER NOT NULL,
  changed_at_ms   INTEGER NOT NULL
);
CREATE INDEX host_inventory_by_hostname ON host_inventory (hostname, agent_id);
CREATE INDEX host_inventory_by_serial ON host_inventory (serial);

CREATE TABLE host_inventory_history (
  id             INTEGER PRIMARY KEY,
  agent_id       TEXT NOT NULL,
  reported_at_ms INTEGER NOT NULL,
  first          INTEGER NOT NULL CHECK (first IN (0, 1)),
  changes_json   TEXT NOT NULL
);
CREATE INDEX host_inventory_history_by_agent ON host_inventory_history (agent_id, id);

CREATE TABLE equipment (
  id            INTEGER PRIMARY KEY,
  type          TEXT NOT NULL CHECK (type IN ('ups', 'air_conditioning', 'switch', 'router', 'firewall', 'pdu',
                                              'environment_sensor', 'storage', 'other')),
  name          TEXT NOT NULL,
  vendor        TEXT NOT NULL DEFAULT '',
  model         TEXT NOT NULL DEFAULT '',
  serial        TEXT NOT NULL DEFAULT '',
  room          TEXT NOT NULL DEFAULT '',
  rack          TEXT NOT NULL DEFAULT '',
  u_position    INTEGER CHECK (u_position IS NULL OR (u_position BETWEEN 1 AND 60)),
  u_height      INTEGER NOT NULL CHECK (u_height BETWEEN 1 AND 60),
  unit_id       INTEGER NOT NULL REFERENCES units (id),
  status        TEXT NOT NULL CHECK (status IN ('in_service', 'spare', 'maintenance', 'faulty', 'retired')),
  notes         TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX equipment_serial ON equipment (serial) WHERE serial <> '';
CREATE INDEX equipment_by_unit ON equipment (unit_id, name);
CREATE INDEX equipment_by_name ON equipment (name, id);

CREATE TABLE equipment_allocations (
  id           INTEGER PRIMARY KEY,
  equipment_id INTEGER NOT NULL REFERENCES equipment (id),
  from_unit_id INTEGER REFERENCES units (id),
  to_unit_id   INTEGER NOT NULL REFERENCES units (id),
  actor_type   TEXT NOT NULL,
  actor_id     TEXT NOT NULL,
  actor_name   TEXT NOT NULL,
  reason       TEXT NOT NULL,
  at_ms        INTEGER NOT NULL
);
CREATE INDEX equipment_allocations_by_equipment ON equipment_allocations (equipment_id, id);
)sql"}};
}

// ---- statements (common/sqlite/store_sql.h)

constexpr sqlite::StoreSql kSql("inventory store");
using Param = sqlite::SqlParam;
using sqlite::InList;
using sqlite::Placeholder;

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "%text%" for LIKE ... ESCAPE '\', lowercased (lower() on both sides: PostgreSQL's LIKE is
// case-sensitive).
std::string LikePattern(std::string_view text) {
  std::string pattern = "%";
  for (char c : AsciiLower(text)) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += '%';
  return pattern;
}

Status CheckPage(int64_t limit, int64_t offset) {
  if (limit < 1 || limit > kMaxPageSize) {
    return FieldError("limit", "must be between 1 and " + std::to_string(kMaxPageSize));
  }
  if (offset < 0) return FieldError("offset", "must not be negative");
  return OkStatus();
}

// ---- validation

enum class Need { kOptional, kRequired };

// UTF-8 text of at most `max_chars` characters; required text must not be blank.
Status CheckText(std::string_view field, std::string_view value, size_t max_chars, Need need,
                 bool multiline = false) {
  const std::optional<size_t> chars = Utf8TextLength(value, multiline);
  if (!chars) {
    return FieldError(field, multiline ? "must be UTF-8 text without control characters other than line breaks"
                                       : "must be UTF-8 text without control characters");
  }
  if (*chars > max_chars) return FieldError(field, "must be at most " + std::to_string(max_chars) + " characters");
  if (need == Need::kRequired) {
    if (value.empty()) return FieldError(field, "must not be empty");
    if (value.find_first_not_of(" \t\r\n") == std::string_view::npos) return FieldError(field, "must not be blank");
  }
  return OkStatus();
}

Status CheckSerial(std::string_view serial) {
  SF_RETURN_IF_ERROR(CheckText("serial", serial, 100, Need::kOptional));
  if (!serial.empty() && (serial.front() == ' ' || serial.back() == ' ')) {
    return FieldError("serial", "must not start or end with a space");
  }
  return OkStatus();
}

bool KnownType(EquipmentType t) {
  return std::find(std::begin(kAllEquipmentTypes), std::end(kAllEquipmentTypes), t) != std::end(kAllEquipmentTypes);
}
bool KnownStatus(EquipmentStatus s) {
  return std::find(std::begin(kAllEquipmentStatuses), std::end(kAllEquipmentStatuses), s) !=
         std::end(kAllEquipmentStatuses);
}

Status CheckLocation(const Location& l) {
  SF_RETURN_IF_ERROR(CheckText("location.room", l.room, 100, Need::kOptional));
  SF_RETURN_IF_ERROR(CheckText("location.rack", l.rack, 50, Need::kOptional));
  const std::string range = "must be between 1 and " + std::to_string(kMaxRackUnits);
  if (l.u_position && (*l.u_position < 1 || *l.u_position > kMaxRackUnits)) {
    return FieldError("location.u_position", range);
  }
  if (l.u_height < 1 || l.u_height > kMaxRackUnits) return FieldError("location.u_height", range);
  if (l.u_position) {
    if (l.rack.empty()) return FieldError("location.rack", "is required when location.u_position is set");
    if (*l.u_position + l.u_height - 1 > kMaxRackUnits) {
      return FieldError("location.u_height", "would reach past U" + std::to_string(kMaxRackUnits) + " from U" +
                                                 std::to_string(*l.u_position));
    }
  }
  return OkStatus();
}

Status CheckEquipment(const Equipment& e) {
  if (!KnownType(e.type)) return FieldError("type", "unknown equipment type");
  SF_RETURN_IF_ERROR(CheckText("name", e.name, 100, Need::kRequired));
  SF_RETURN_IF_ERROR(CheckText("vendor", e.vendor, 100, Need::kOptional));
  SF_RETURN_IF_ERROR(CheckText("model", e.model, 100, Need::kOptional));
  SF_RETURN_IF_ERROR(CheckSerial(e.serial));
  SF_RETURN_IF_ERROR(CheckLocation(e.location));
  if (!KnownStatus(e.status)) return FieldError("status", "unknown status");
  SF_RETURN_IF_ERROR(CheckText("notes", e.notes, 2000, Need::kOptional, /*multiline=*/true));
  return OkStatus();
}

Status CheckActor(const Actor& actor) {
  if (actor.time_ms <= 0) return InternalError("inventory store: Actor.time_ms is not set (a bug in the caller)");
  return OkStatus();
}

Status CheckAgentId(std::string_view agent_id) {
  const bool ok = !agent_id.empty() && agent_id.size() <= 128 &&
                  std::all_of(agent_id.begin(), agent_id.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  return ok ? OkStatus() : FieldError("agent_id", "must be 1 to 128 printable characters without spaces");
}

Status CheckUnitReference(SqliteDb& db, std::string_view field, int64_t unit_id) {
  SF_ASSIGN_OR_RETURN(bool exists, kSql.Exists(db, "SELECT 1 FROM units WHERE id = ?1", unit_id));
  return exists ? OkStatus() : FieldError(field, "no such unit");
}

// AlreadyExists naming "serial" when another piece of equipment has `serial`.
Status CheckSerialFree(SqliteDb& db, const std::string& serial, int64_t except_id) {
  if (serial.empty()) return OkStatus();
  SF_ASSIGN_OR_RETURN(SqliteStatement s,
                      kSql.Bound(db, "SELECT id FROM equipment WHERE serial = ?1 AND id <> ?2", serial, except_id));
  SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
  if (row) return AlreadyExistsError("serial: already registered to equipment " + std::to_string(s.ColumnInt(0)));
  return OkStatus();
}

// ---- rows

constexpr char kEquipmentColumns[] =
    "id, type, name, vendor, model, serial, room, rack, u_position, u_height, unit_id, status, notes, created_at_ms, "
    "updated_at_ms";

StatusOr<Equipment> EquipmentFromRow(const SqliteStatement& s) {
  Equipment e;
  e.id = s.ColumnInt(0);
  std::optional<EquipmentType> type = ParseEquipmentType(s.ColumnText(1));
  std::optional<EquipmentStatus> status = ParseEquipmentStatus(s.ColumnText(11));
  if (!type || !status) {
    return InternalError("inventory store: equipment " + std::to_string(e.id) + " has an unknown type or status");
  }
  e.type = *type;
  e.name = s.ColumnText(2);
  e.vendor = s.ColumnText(3);
  e.model = s.ColumnText(4);
  e.serial = s.ColumnText(5);
  e.location.room = s.ColumnText(6);
  e.location.rack = s.ColumnText(7);
  if (!s.IsNull(8)) e.location.u_position = s.ColumnInt(8);
  e.location.u_height = s.ColumnInt(9);
  e.unit_id = s.ColumnInt(10);
  e.status = *status;
  e.notes = s.ColumnText(12);
  e.created_at_ms = s.ColumnInt(13);
  e.updated_at_ms = s.ColumnInt(14);
  return e;
}

StatusOr<Equipment> LoadEquipment(SqliteDb& db, int64_t id) {
  SF_ASSIGN_OR_RETURN(SqliteStatement s,
                      kSql.Bound(db, std::string("SELECT ") + kEquipmentColumns + " FROM equipment WHERE id = ?1", id));
  SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
  if (!row) return NotFoundError("no equipment " + std::to_string(id));
  return EquipmentFromRow(s);
}

Status InsertAllocation(SqliteDb& db, const Actor& actor, int64_t equipment_id, std::optional<int64_t> from_unit,
                        int64_t to_unit, const std::string& reason, Allocation* out) {
  SF_RETURN_IF_ERROR(kSql.Exec(db,
                          "INSERT INTO equipment_allocations (equipment_id, from_unit_id, to_unit_id, actor_type, "
                          "actor_id, actor_name, reason, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                          equipment_id, from_unit, to_unit, actor.type, actor.id, actor.name, reason, actor.time_ms));
  if (out != nullptr) {
    out->id = db.LastInsertRowId();
    out->equipment_id = equipment_id;
    out->from_unit_id = from_unit;
    out->to_unit_id = to_unit;
    out->actor_type = actor.type;
    out->actor_id = actor.id;
    out->actor_name = actor.name;
    out->reason = reason;
    out->at_ms = actor.time_ms;
  }
  return OkStatus();
}

// ---- audit summaries

Json EquipmentJson(const Equipment& e) {
  return {{"type", std::string(EquipmentTypeName(e.type))},
          {"name", e.name},
          {"vendor", e.vendor},
          {"model", e.model},
          {"serial", e.serial},
          {"location",
           {{"room", e.location.room},
            {"rack", e.location.rack},
            {"u_position", e.location.u_position ? Json(*e.location.u_position) : Json(nullptr)},
            {"u_height", e.location.u_height}}},
          {"unit_id", e.unit_id},
          {"status", std::string(EquipmentStatusName(e.status))},
          {"notes", e.notes}};
}

audit::AuditEvent Event(const Actor& actor, std::string action, int64_t equipment_id, const Json& summary) {
  return accounts::AuditEventWithSummary(actor, std::move(action), "equipment", std::to_string(equipment_id), summary);
}

// ---- host inventory rows

Json ChangesJson(const std::vector<InventoryChange>& changes) {
  Json out = Json::array();
  for (const InventoryChange& c : changes) out.push_back({{"field", c.field}, {"from", c.from}, {"to", c.to}});
  return out;
}

std::vector<InventoryChange> ChangesFromJson(const std::string& text) {
  std::vector<InventoryChange> out;
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const Json& c : j) {
    if (!c.is_object()) continue;
    out.push_back({c.value("field", std::string()), c.value("from", std::string()), c.value("to", std::string())});
  }
  return out;
}

constexpr char kSummaryColumns[] =
    "i.agent_id, COALESCE(h.unit_id, 1), i.hostname, i.os, i.kernel, i.arch, i.cpu_model, i.cpu_count, "
    "i.memory_bytes, i.vendor, i.product, i.serial, i.disk_count, i.disk_bytes, i.collected_at_ms, "
    "i.reported_at_ms, i.changed_at_ms";
// Hosts never assigned to a unit belong to the centre (unit 1, accounts::kCentreUnitId).
constexpr char kHostsFrom[] = " FROM host_inventory i LEFT JOIN host_units h ON h.agent_id = i.agent_id";
static_assert(accounts::kCentreUnitId == 1, "the SQL above writes the centre's id as 1");

HostInventorySummary SummaryFromRow(const SqliteStatement& s) {
  HostInventorySummary h;
  h.agent_id = s.ColumnText(0);
  h.unit_id = s.ColumnInt(1);
  h.hostname = s.ColumnText(2);
  h.os = s.ColumnText(3);
  h.kernel = s.ColumnText(4);
  h.arch = s.ColumnText(5);
  h.cpu_model = s.ColumnText(6);
  h.cpu_count = s.ColumnInt(7);
  h.memory_bytes = s.ColumnInt(8);
  h.vendor = s.ColumnText(9);
  h.product = s.ColumnText(10);
  h.serial = s.ColumnText(11);
  h.disk_count = s.ColumnInt(12);
  h.disk_bytes = s.ColumnInt(13);
  h.collected_at_ms = s.ColumnInt(14);
  h.reported_at_ms = s.ColumnInt(15);
  h.changed_at_ms = s.ColumnInt(16);
  return h;
}

}  // namespace

StatusOr<std::unique_ptr<SqliteInventoryStore>> SqliteInventoryStore::Open(AdminDb& db, AuditAppender append_audit) {
  // Wiring, not input: a store that could not audit must never be built.
  SF_CHECK(append_audit != nullptr);
  SF_RETURN_IF_ERROR(db.Read([](SqliteDb& conn) -> Status {
    SF_ASSIGN_OR_RETURN(bool units,
                        kSql.Exists(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'units'"));
    SF_ASSIGN_OR_RETURN(bool hosts,
                        kSql.Exists(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'host_units'"));
    if (!units || !hosts) {
      return FailedPreconditionError(
          "inventory store: open the accounts store first (units and host_units are missing)");
    }
    return OkStatus();
  }));
  SF_RETURN_IF_ERROR(db.Migrate("inventory", Migrations()));
  return std::unique_ptr<SqliteInventoryStore>(new SqliteInventoryStore(db, std::move(append_audit)));
}

// ---- host inventory

StatusOr<InventoryReportResult> SqliteInventoryStore::ReportHostInventory(const std::string& agent_id,
                                                                          const protocol::HostInventory& inventory,
                                                                          int64_t received_at_ms) {
  SF_RETURN_IF_ERROR(CheckAgentId(agent_id));
  if (inventory.agent_id != agent_id) return FieldError("agent_id", "is not the reporting agent's id");
  if (received_at_ms <= 0) return InternalError("inventory store: received_at_ms is not set (a bug in the caller)");

  const protocol::DmiInfo& dmi = inventory.dmi;
  const std::string serial = !dmi.product_serial.empty() ? dmi.product_serial : dmi.chassis_serial;
  std::string disk_serials;
  int64_t disk_bytes = 0;
  for (const protocol::DiskInfo& d : inventory.disks) {
    for (const std::string* id : {&d.serial, &d.wwid}) {
      if (id->empty()) continue;
      if (!disk_serials.empty()) disk_serials += ' ';
      disk_serials += *id;
    }
    // Saturate rather than overflow: the sum is a listing column, not an accounting figure.
    disk_bytes = d.size_bytes > std::numeric_limits<int64_t>::max() - disk_bytes
                     ? std::numeric_limits<int64_t>::max()
                     : disk_bytes + d.size_bytes;
  }
  const std::string document = protocol::EncodeHostInventory(inventory);

  InventoryReportResult result;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement old,
                        kSql.Bound(db, "SELECT inventory_json, changed_at_ms FROM host_inventory WHERE agent_id = ?1",
                              agent_id));
    SF_ASSIGN_OR_RETURN(bool had, kSql.Step(old));
    int64_t changed_at = received_at_ms;
    result.first = !had;
    if (had) {
      StatusOr<protocol::HostInventory> before = protocol::DecodeHostInventory(old.ColumnText(0));
      if (before.ok()) {
        result.changes = DiffInventories(*before, inventory);
      } else {
        // A stored document this version cannot read (written by a newer one, or damaged):
        // the new one replaces it, and the history says the whole document was replaced.
        result.changes.push_back({"*", "(unreadable: " + before.status().message() + ")", "(replaced)"});
      }
      if (result.changes.empty()) changed_at = old.ColumnInt(1);
    }
    SF_RETURN_IF_ERROR(kSql.Exec(
        db,
        "INSERT INTO host_inventory (agent_id, hostname, os, kernel, arch, cpu_model, cpu_count, memory_bytes, "
        "vendor, product, serial, disk_count, disk_bytes, disk_serials, inventory_json, collected_at_ms, "
        "reported_at_ms, changed_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
        "?16, ?17, ?18) ON CONFLICT (agent_id) DO UPDATE SET hostname = excluded.hostname, os = excluded.os, "
        "kernel = excluded.kernel, arch = excluded.arch, cpu_model = excluded.cpu_model, "
        "cpu_count = excluded.cpu_count, memory_bytes = excluded.memory_bytes, vendor = excluded.vendor, "
        "product = excluded.product, serial = excluded.serial, disk_count = excluded.disk_count, "
        "disk_bytes = excluded.disk_bytes, disk_serials = excluded.disk_serials, "
        "inventory_json = excluded.inventory_json, collected_at_ms = excluded.collected_at_ms, "
        "reported_at_ms = excluded.reported_at_ms, changed_at_ms = excluded.changed_at_ms",
        agent_id, inventory.host.hostname, inventory.host.os, inventory.host.kernel, inventory.host.arch,
        inventory.cpu_model, inventory.cpu_count, inventory.memory_bytes, dmi.sys_vendor, dmi.product_name, serial,
        static_cast<int64_t>(inventory.disks.size()), disk_bytes, disk_serials, document, inventory.collected_at_ms,
        received_at_ms, changed_at));
    if (!result.first && result.changes.empty()) return OkStatus();
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "INSERT INTO host_inventory_history (agent_id, reported_at_ms, first, changes_json) "
                            "VALUES (?1, ?2, ?3, ?4)",
                            agent_id, received_at_ms, result.first,
                            ChangesJson(result.changes).dump(-1, ' ', false, Json::error_handler_t::replace)));
    // Keep the newest kMaxHistoryPerHost rows of this host.
    return kSql.Exec(db,
                "DELETE FROM host_inventory_history WHERE agent_id = ?1 AND id <= (SELECT id FROM "
                "host_inventory_history WHERE agent_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                agent_id, kMaxHistoryPerHost);
  }));
  return result;
}

StatusOr<HostInventoryRecord> SqliteInventoryStore::GetHostInventory(const std::string& agent_id) {
  HostInventoryRecord record;
  std::string document;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.Bound(db,
                              std::string("SELECT i.inventory_json, COALESCE(h.unit_id, 1), i.reported_at_ms, "
                                          "i.changed_at_ms") +
                                  kHostsFrom + " WHERE i.agent_id = ?1",
                              agent_id));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(s));
    if (!row) return NotFoundError("no inventory for host " + agent_id);
    document = s.ColumnText(0);
    record.unit_id = s.ColumnInt(1);
    record.reported_at_ms = s.ColumnInt(2);
    record.changed_at_ms = s.ColumnInt(3);
    return OkStatus();
  }));
  StatusOr<protocol::HostInventory> inventory = protocol::DecodeHostInventory(document);
  if (!inventory.ok()) {
    return InternalError("inventory store: the stored inventory of " + agent_id +
                         " cannot be read: " + inventory.status().message());
  }
  record.agent_id = agent_id;
  record.inventory = std::move(inventory).value();
  return record;
}

StatusOr<HostInventoryPage> SqliteInventoryStore::ListHostInventories(const HostInventoryQuery& query) {
  SF_RETURN_IF_ERROR(CheckPage(query.limit, query.offset));
  if (query.text.size() > kMaxSearchBytes) return FieldError("q", "must be at most 200 bytes");
  if (query.os.size() > kMaxSearchBytes) return FieldError("os", "must be at most 200 bytes");
  HostInventoryPage page;
  if (query.unit_ids && query.unit_ids->empty()) return page;

  std::vector<Param> params;
  std::string where = " WHERE 1 = 1";
  if (query.unit_ids) where += " AND COALESCE(h.unit_id, 1) IN (" + InList(*query.unit_ids, &params) + ")";
  if (!query.text.empty()) {
    const std::string p = Placeholder(LikePattern(query.text), &params);
    where += " AND (lower(i.agent_id) LIKE " + p + " ESCAPE '\\' OR lower(i.hostname) LIKE " + p +
             " ESCAPE '\\' OR lower(i.serial) LIKE " + p + " ESCAPE '\\' OR lower(i.vendor) LIKE " + p +
             " ESCAPE '\\' OR lower(i.product) LIKE " + p + " ESCAPE '\\' OR lower(i.cpu_model) LIKE " + p +
             " ESCAPE '\\' OR lower(i.disk_serials) LIKE " + p + " ESCAPE '\\')";
  }
  if (!query.os.empty()) {
    where += " AND lower(i.os) LIKE " + Placeholder(LikePattern(query.os), &params) + " ESCAPE '\\'";
  }
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement count,
                        kSql.BoundParams(db, std::string("SELECT COUNT(*)") + kHostsFrom + where, params));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(count));
    page.total = row ? count.ColumnInt(0) : 0;
    std::vector<Param> page_params = params;
    const std::string limit = Placeholder(query.limit, &page_params);
    const std::string offset = Placeholder(query.offset, &page_params);
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.BoundParams(db,
                                    std::string("SELECT ") + kSummaryColumns + kHostsFrom + where +
                                        " ORDER BY i.hostname, i.agent_id LIMIT " + limit + " OFFSET " + offset,
                                    page_params));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool more, kSql.Step(s));
      if (!more) return OkStatus();
      page.items.push_back(SummaryFromRow(s));
    }
  }));
  return page;
}

StatusOr<InventoryHistoryPage> SqliteInventoryStore::HostInventoryHistory(const std::string& agent_id, int64_t limit,
                                                                          int64_t offset) {
  SF_RETURN_IF_ERROR(CheckPage(limit, offset));
  InventoryHistoryPage page;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(bool known, kSql.Exists(db, "SELECT 1 FROM host_inventory WHERE agent_id = ?1", agent_id));
    if (!known) return NotFoundError("no inventory for host " + agent_id);
    SF_ASSIGN_OR_RETURN(page.total,
                        kSql.Int(db, "SELECT COUNT(*) FROM host_inventory_history WHERE agent_id = ?1", agent_id));
    return kSql.ForEachRow(
        db,
        "SELECT id, reported_at_ms, first, changes_json FROM host_inventory_history WHERE agent_id = ?1 "
        "ORDER BY id DESC LIMIT ?2 OFFSET ?3",
        [&](SqliteStatement& s) {
          page.items.push_back({.id = s.ColumnInt(0),
                                .agent_id = agent_id,
                                .reported_at_ms = s.ColumnInt(1),
                                .first = s.ColumnInt(2) != 0,
                                .changes = ChangesFromJson(s.ColumnText(3))});
        },
        agent_id, limit, offset);
  }));
  return page;
}

// ---- equipment

StatusOr<Equipment> SqliteInventoryStore::CreateEquipment(const Actor& actor, const Equipment& equipment) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  SF_RETURN_IF_ERROR(CheckEquipment(equipment));
  Equipment created = equipment;
  created.created_at_ms = actor.time_ms;
  created.updated_at_ms = actor.time_ms;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_RETURN_IF_ERROR(CheckUnitReference(db, "unit_id", equipment.unit_id));
    SF_RETURN_IF_ERROR(CheckSerialFree(db, equipment.serial, 0));
    const Location& l = equipment.location;
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "INSERT INTO equipment (type, name, vendor, model, serial, room, rack, u_position, "
                            "u_height, unit_id, status, notes, created_at_ms, updated_at_ms) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                            EquipmentTypeName(equipment.type), equipment.name, equipment.vendor, equipment.model,
                            equipment.serial, l.room, l.rack, l.u_position, l.u_height, equipment.unit_id,
                            EquipmentStatusName(equipment.status), equipment.notes, created.created_at_ms,
                            created.updated_at_ms));
    created.id = db.LastInsertRowId();
    SF_RETURN_IF_ERROR(InsertAllocation(db, actor, created.id, std::nullopt, created.unit_id, kRegistrationReason,
                                        nullptr));
    return append_audit_(db, Event(actor, "equipment.create", created.id, Json{{"after", EquipmentJson(created)}}));
  }));
  return created;
}

StatusOr<Equipment> SqliteInventoryStore::GetEquipment(int64_t id) {
  Equipment e;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(e, LoadEquipment(db, id));
    return OkStatus();
  }));
  return e;
}

StatusOr<EquipmentPage> SqliteInventoryStore::ListEquipment(const EquipmentQuery& query) {
  SF_RETURN_IF_ERROR(CheckPage(query.limit, query.offset));
  if (query.text.size() > kMaxSearchBytes) return FieldError("q", "must be at most 200 bytes");
  if (query.room.size() > kMaxSearchBytes) return FieldError("room", "must be at most 200 bytes");
  if (query.type && !KnownType(*query.type)) return FieldError("type", "unknown equipment type");
  if (query.status && !KnownStatus(*query.status)) return FieldError("status", "unknown status");
  EquipmentPage page;
  if (query.unit_ids && query.unit_ids->empty()) return page;

  std::vector<Param> params;
  std::string where = " WHERE 1 = 1";
  if (query.unit_ids) where += " AND unit_id IN (" + InList(*query.unit_ids, &params) + ")";
  if (query.type) where += " AND type = " + Placeholder(std::string(EquipmentTypeName(*query.type)), &params);
  if (query.status) where += " AND status = " + Placeholder(std::string(EquipmentStatusName(*query.status)), &params);
  if (!query.room.empty()) where += " AND room = " + Placeholder(query.room, &params);
  if (!query.text.empty()) {
    const std::string p = Placeholder(LikePattern(query.text), &params);
    where += " AND (lower(name) LIKE " + p + " ESCAPE '\\' OR lower(vendor) LIKE " + p +
             " ESCAPE '\\' OR lower(model) LIKE " + p + " ESCAPE '\\' OR lower(serial) LIKE " + p +
             " ESCAPE '\\' OR lower(rack) LIKE " + p + " ESCAPE '\\')";
  }
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(SqliteStatement count, kSql.BoundParams(db, "SELECT COUNT(*) FROM equipment" + where, params));
    SF_ASSIGN_OR_RETURN(bool row, kSql.Step(count));
    page.total = row ? count.ColumnInt(0) : 0;
    std::vector<Param> page_params = params;
    const std::string limit = Placeholder(query.limit, &page_params);
    const std::string offset = Placeholder(query.offset, &page_params);
    SF_ASSIGN_OR_RETURN(SqliteStatement s,
                        kSql.BoundParams(db,
                                    std::string("SELECT ") + kEquipmentColumns + " FROM equipment" + where +
                                        " ORDER BY name, id LIMIT " + limit + " OFFSET " + offset,
                                    page_params));
    while (true) {
      SF_ASSIGN_OR_RETURN(bool more, kSql.Step(s));
      if (!more) return OkStatus();
      SF_ASSIGN_OR_RETURN(Equipment e, EquipmentFromRow(s));
      page.items.push_back(std::move(e));
    }
  }));
  return page;
}

StatusOr<Equipment> SqliteInventoryStore::UpdateEquipment(const Actor& actor, int64_t id,
                                                          const EquipmentUpdate& update) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  Equipment result;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(Equipment before, LoadEquipment(db, id));
    Equipment after = before;
    if (update.type) after.type = *update.type;
    if (update.name) after.name = *update.name;
    if (update.vendor) after.vendor = *update.vendor;
    if (update.model) after.model = *update.model;
    if (update.serial) after.serial = *update.serial;
    if (update.room) after.location.room = *update.room;
    if (update.rack) after.location.rack = *update.rack;
    if (update.u_position) after.location.u_position = *update.u_position;
    if (update.u_height) after.location.u_height = *update.u_height;
    if (update.status) after.status = *update.status;
    if (update.notes) after.notes = *update.notes;
    SF_RETURN_IF_ERROR(CheckEquipment(after));
    if (after.serial != before.serial) SF_RETURN_IF_ERROR(CheckSerialFree(db, after.serial, id));
    after.updated_at_ms = actor.time_ms;
    const Location& l = after.location;
    SF_RETURN_IF_ERROR(kSql.Exec(db,
                            "UPDATE equipment SET type = ?1, name = ?2, vendor = ?3, model = ?4, serial = ?5, "
                            "room = ?6, rack = ?7, u_position = ?8, u_height = ?9, status = ?10, notes = ?11, "
                            "updated_at_ms = ?12 WHERE id = ?13",
                            EquipmentTypeName(after.type), after.name, after.vendor, after.model, after.serial, l.room,
                            l.rack, l.u_position, l.u_height, EquipmentStatusName(after.status), after.notes,
                            after.updated_at_ms, id));
    result = after;
    return append_audit_(db, Event(actor, "equipment.update", id, accounts::AuditDiff(EquipmentJson(before), EquipmentJson(after))));
  }));
  return result;
}

StatusOr<Allocation> SqliteInventoryStore::AllocateEquipment(const Actor& actor, int64_t id, int64_t to_unit_id,
                                                             const std::string& reason) {
  SF_RETURN_IF_ERROR(CheckActor(actor));
  SF_RETURN_IF_ERROR(CheckText("reason", reason, 500, Need::kRequired, /*multiline=*/true));
  Allocation allocation;
  SF_RETURN_IF_ERROR(db_.Write([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(Equipment before, LoadEquipment(db, id));
    if (before.status == EquipmentStatus::kRetired) {
      return FailedPreconditionError("status: retired equipment is not allocated; change its status first");
    }
    SF_RETURN_IF_ERROR(CheckUnitReference(db, "unit_id", to_unit_id));
    if (before.unit_id == to_unit_id) {
      return FailedPreconditionError("unit_id: the equipment already belongs to unit " + std::to_string(to_unit_id));
    }
    SF_RETURN_IF_ERROR(
        kSql.Exec(db, "UPDATE equipment SET unit_id = ?1, updated_at_ms = ?2 WHERE id = ?3", to_unit_id, actor.time_ms, id));
    SF_RETURN_IF_ERROR(InsertAllocation(db, actor, id, before.unit_id, to_unit_id, reason, &allocation));
    Json summary = {{"before", {{"unit_id", before.unit_id}}},
                    {"after", {{"unit_id", to_unit_id}}},
                    {"reason", reason},
                    {"allocation_id", allocation.id}};
    return append_audit_(db, Event(actor, "equipment.allocate", id, summary));
  }));
  return allocation;
}

StatusOr<AllocationPage> SqliteInventoryStore::ListAllocations(int64_t equipment_id, int64_t limit, int64_t offset) {
  SF_RETURN_IF_ERROR(CheckPage(limit, offset));
  AllocationPage page;
  SF_RETURN_IF_ERROR(db_.Read([&](SqliteDb& db) -> Status {
    SF_ASSIGN_OR_RETURN(bool known, kSql.Exists(db, "SELECT 1 FROM equipment WHERE id = ?1", equipment_id));
    if (!known) return NotFoundError("no equipment " + std::to_string(equipment_id));
    SF_ASSIGN_OR_RETURN(page.total, kSql.Int(db, "SELECT COUNT(*) FROM equipment_allocations WHERE equipment_id = ?1",
                                             equipment_id));
    return kSql.ForEachRow(
        db,
        "SELECT id, from_unit_id, to_unit_id, actor_type, actor_id, actor_name, reason, at_ms "
        "FROM equipment_allocations WHERE equipment_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
        [&](SqliteStatement& s) {
          Allocation a;
          a.id = s.ColumnInt(0);
          a.equipment_id = equipment_id;
          if (!s.IsNull(1)) a.from_unit_id = s.ColumnInt(1);
          a.to_unit_id = s.ColumnInt(2);
          a.actor_type = s.ColumnText(3);
          a.actor_id = s.ColumnText(4);
          a.actor_name = s.ColumnText(5);
          a.reason = s.ColumnText(6);
          a.at_ms = s.ColumnInt(7);
          page.items.push_back(std::move(a));
        },
        equipment_id, limit, offset);
  }));
  return page;
}

}  // namespace steadfast::collector::inventory
