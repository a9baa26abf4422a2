// The collector's administrative stores, opened and wired together: the admin connection to
// collector.db, the audit log (with its key, created once beside the database), the account
// store and the inventory store (asset register), whose every change appends its audit record
// in the same transaction. The daemon and
// `steadfast-collector admin` open them the same way, through here.
#pragma once

#include <memory>

#include "collector/accounts/sqlite_account_store.h"
#include "collector/audit/sqlite_audit_log.h"
#include "collector/collector_config.h"
#include "collector/inventory/sqlite_inventory_store.h"
#include "collector/store/admin_db.h"
#include "common/clock.h"
#include "common/fs/file_system.h"

namespace steadfast::collector {

struct AdminStores {
  // Declared in dependency order, so they are destroyed users-first.
  std::unique_ptr<AdminDb> db;
  std::unique_ptr<audit::SqliteAuditLog> audit;
  std::unique_ptr<accounts::SqliteAccountStore> accounts;
  std::unique_ptr<inventory::SqliteInventoryStore> inventory;  // after accounts: it uses their units
};

// Creates data_dir (0700) if needed. Errors: those of AdminDb::Open, LoadOrCreateAuditKey
// (a key file with the wrong size or mode), SqliteAuditLog::Open (FailedPrecondition for a key
// that did not seal this log) and the migrations.
StatusOr<AdminStores> OpenAdminStores(const CollectorConfig& config, FileSystem& fs, const Clock& clock);

}  // namespace steadfast::collector
