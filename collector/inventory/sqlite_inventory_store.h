// SqliteInventoryStore: the InventoryStore in collector.db, over the shared admin connection.
//
// Tables (component "inventory", see Migrations() in the .cc): host_inventory (the current
// document per agent plus the columns lists search on), host_inventory_history, equipment and
// equipment_allocations. They refer to the accounts component's units and host_units tables
// (owner units; the unit a host is assigned to), so the accounts store is opened first on the
// same AdminDb (OpenAdminStores does); Open refuses a database without them.
//
// Every equipment mutation runs inside one AdminDb::Write transaction together with its audit
// record, appended through the AuditAppender given at construction (in production
// SqliteAuditLog::AppendInTransaction); if the appender fails, the mutation rolls back.
// Validation happens inside the same write transaction (BEGIN IMMEDIATE), so the serial's
// uniqueness cannot race with another writer.
//
// Thread-safe: all state is in the database and AdminDb serialises access to it.
#pragma once

#include <functional>
#include <memory>

#include "collector/audit/audit_log.h"
#include "collector/inventory/inventory_store.h"
#include "collector/store/admin_db.h"
#include "common/sqlite/sqlite_db.h"

namespace steadfast::collector::inventory {

class SqliteInventoryStore final : public InventoryStore {
 public:
  // Appends `event` using `db`, which is inside the caller's open write transaction; must not
  // open or end a transaction itself. An error rolls the mutation back.
  using AuditAppender = std::function<Status(sqlite::SqliteDb&, const audit::AuditEvent&)>;

  // Applies the "inventory" migrations and returns the store. FailedPrecondition when the
  // accounts tables are missing. `db` must outlive the store; `append_audit` must be set.
  static StatusOr<std::unique_ptr<SqliteInventoryStore>> Open(AdminDb& db, AuditAppender append_audit);

  StatusOr<InventoryReportResult> ReportHostInventory(const std::string& agent_id,
                                                      const protocol::HostInventory& inventory,
                                                      int64_t received_at_ms) override;
  StatusOr<HostInventoryRecord> GetHostInventory(const std::string& agent_id) override;
  StatusOr<HostInventoryPage> ListHostInventories(const HostInventoryQuery& query) override;
  StatusOr<InventoryHistoryPage> HostInventoryHistory(const std::string& agent_id, int64_t limit,
                                                      int64_t offset) override;

  StatusOr<Equipment> CreateEquipment(const Actor& actor, const Equipment& equipment) override;
  StatusOr<Equipment> GetEquipment(int64_t id) override;
  StatusOr<EquipmentPage> ListEquipment(const EquipmentQuery& query) override;
  StatusOr<Equipment> UpdateEquipment(const Actor& actor, int64_t id, const EquipmentUpdate& update) override;
  StatusOr<Allocation> AllocateEquipment(const Actor& actor, int64_t id, int64_t to_unit_id,
                                         const std::string& reason) override;
  StatusOr<AllocationPage> ListAllocations(int64_t equipment_id, int64_t limit, int64_t offset) override;

 private:
  SqliteInventoryStore(AdminDb& db, AuditAppender append_audit) : db_(db), append_audit_(std::move(append_audit)) {}

  AdminDb& db_;
  const AuditAppender append_audit_;
};

}  // namespace steadfast::collector::inventory
