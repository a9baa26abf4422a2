#include "collector/admin_stores.h"

#include <utility>

#include "collector/audit/audit_key.h"

namespace steadfast::collector {

StatusOr<AdminStores> OpenAdminStores(const CollectorConfig& config, FileSystem& fs, const Clock& clock) {
  AdminStores s;
  SF_RETURN_IF_ERROR(fs.CreateDirectories(config.data_dir, 0700).WithContext("data_dir " + config.data_dir));
  SF_ASSIGN_OR_RETURN(s.db, AdminDb::Open(config.DatabasePath(), config.storage_synchronous));
  SF_ASSIGN_OR_RETURN(audit::AuditKey key, audit::LoadOrCreateAuditKey(fs, config.AuditKeyPath()));
  audit::SqliteAuditLogOptions options;
  options.verify_db_path = config.DatabasePath();
  SF_ASSIGN_OR_RETURN(s.audit, audit::SqliteAuditLog::Open(*s.db, std::move(key), clock, options));
  audit::SqliteAuditLog* log = s.audit.get();
  auto append = [log](sqlite::SqliteDb& db, const audit::AuditEvent& e) {
    return log->AppendInTransaction(db, e).status();
  };
  SF_ASSIGN_OR_RETURN(s.accounts, accounts::SqliteAccountStore::Open(*s.db, append));
  SF_ASSIGN_OR_RETURN(s.inventory, inventory::SqliteInventoryStore::Open(*s.db, append));
  return s;
}

}  // namespace steadfast::collector
