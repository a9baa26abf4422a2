// CollectorServer: the running collector — config, storage, accounts, audit log, the route
// table with its guard, HTTP server and the retention thread, wired together. main() builds the real dependencies and calls Start();
// tests and the benchmark start one in-process on 127.0.0.1 port 0.
//
// Shutdown order: stop the HTTP server (in-flight requests finish, including their durable
// commits), stop the retention thread, close storage (the writer drains its queue) and the
// admin database.
#pragma once

#include <prometheus/registry.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "collector/accounts/sqlite_account_store.h"
#include "collector/actions/action_store.h"
#include "collector/alerts/alert_engine.h"
#include "collector/alerts/alert_store.h"
#include "collector/alerts/config_manager.h"
#include "collector/alerts/outbox_sender.h"
#include "collector/api/action_handlers.h"
#include "collector/api/alert_handlers.h"
#include "collector/api/audit_handlers.h"
#include "collector/api/auth_handlers.h"
#include "collector/api/inventory_handlers.h"
#include "collector/api/oncall_handlers.h"
#include "collector/api/org_handlers.h"
#include "collector/api/passwords.h"
#include "collector/api/route_table.h"
#include "collector/api/session_authenticator.h"
#include "collector/api_handlers.h"
#include "collector/audit/sqlite_audit_log.h"
#include "collector/auth/secure_random.h"
#include "collector/store/admin_db.h"
#include "collector/collector_config.h"
#include "collector/host_status_collector.h"
#include "collector/http_metrics.h"
#include "collector/inventory/sqlite_inventory_store.h"
#include "collector/ingest_handler.h"
#include "collector/static_files.h"
#include "collector/store/sqlite_storage.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "common/http/http_client.h"
#include "common/http/http_server.h"

namespace steadfast::collector {

struct CollectorDeps {
  Clock& clock;
  FileSystem& fs;
  // Secrets (salts, session and API tokens, TOTP secrets). Null: the server uses OpenSSL's.
  auth::SecureRandom* random = nullptr;
  // The directory for auth.ldap logins (tests pass a fake). Null: an OpenLdapDirectory built
  // from config.auth.ldap when that is set. Unused without config.auth.ldap.
  auth::LdapDirectory* ldap = nullptr;
  // Outgoing HTTP for notifications. Null: libcurl.
  http::HttpClient* notify_client = nullptr;
};

class CollectorServer {
 public:
  // Creates data_dir (0700), opens storage, binds the listener and starts serving. Errors:
  // those of SqliteStorage::Open and HttpServer::Start (Unavailable when the port is taken).
  static StatusOr<std::unique_ptr<CollectorServer>> Start(const CollectorConfig& config, CollectorDeps deps);
  ~CollectorServer();
  CollectorServer(const CollectorServer&) = delete;
  CollectorServer& operator=(const CollectorServer&) = delete;

  uint16_t port() const;
  // "http://host:port" (https when TLS is on), with the port actually bound.
  std::string url() const;
  // Graceful stop; idempotent, blocks until every thread has ended.
  void Shutdown();

  Storage& storage() { return *storage_; }
  prometheus::Registry& registry() { return *registry_; }
  accounts::AccountStore& accounts() { return *accounts_; }
  inventory::InventoryStore& inventory() { return *inventory_; }
  audit::SqliteAuditLog& audit_log() { return *audit_; }
  alerts::SqliteAlertStore& alert_store() { return *alert_store_; }
  actions::ActionStore& action_store() { return *action_store_; }
  // Null when the config has no `alerting:` section.
  alerts::AlertEngine* alert_engine() { return alert_engine_.get(); }
  alerts::OutboxSender* outbox_sender() { return outbox_sender_.get(); }
  alerts::AlertingConfigManager& alerting_config() { return *alerting_config_; }
  // Reads the config file's `alerting:` section again and puts it in force (SIGHUP); audited
  // as done by "system" (`by` says how it was asked for). The error says why it was refused.
  StatusOr<alerts::ReloadSummary> ReloadAlerting(const std::string& by);
  const api::RouteTable& routes() const { return *routes_; }
  // The router the HTTP server dispatches to (tests dispatch to it without sockets).
  const http::Router& router() const { return router_; }
  const api::Passwords& passwords() const { return *passwords_; }

 private:
  CollectorServer(const CollectorConfig& config, CollectorDeps deps);
  void RetentionLoop();
  // One retention pass: history, audit records, and a log line with the audit chain's head.
  void RetainOnce();

  const CollectorConfig config_;
  CollectorDeps deps_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<HttpMetrics> http_metrics_;
  std::unique_ptr<IngestHandler> ingest_;
  std::unique_ptr<HostCheckStatusCollector> status_collector_;
  std::unique_ptr<ApiHandlers> api_;
  std::unique_ptr<StaticFiles> static_files_;
  std::unique_ptr<auth::SecureRandom> owned_random_;
  std::unique_ptr<auth::LdapDirectory> owned_ldap_;
  auth::SecureRandom* random_ = nullptr;
  std::unique_ptr<AdminDb> admin_db_;
  std::unique_ptr<audit::SqliteAuditLog> audit_;
  std::unique_ptr<accounts::SqliteAccountStore> accounts_;
  std::unique_ptr<inventory::SqliteInventoryStore> inventory_;
  std::unique_ptr<api::Passwords> passwords_;
  std::unique_ptr<api::SessionAuthenticator> authenticator_;
  std::unique_ptr<api::RouteTable> routes_;
  std::unique_ptr<api::OrgHandlers> org_handlers_;
  std::unique_ptr<api::AuthHandlers> auth_handlers_;
  std::unique_ptr<api::AuditHandlers> audit_handlers_;
  std::unique_ptr<api::InventoryHandlers> inventory_handlers_;
  std::unique_ptr<alerts::SqliteAlertStore> alert_store_;
  std::unique_ptr<alerts::AlertingConfigManager> alerting_config_;
  std::optional<alerts::AckLinks> ack_links_;
  std::unique_ptr<api::AlertHandlers> alert_handlers_;
  std::unique_ptr<actions::ActionStore> action_store_;
  std::unique_ptr<api::ActionHandlers> action_handlers_;
  std::unique_ptr<api::OncallHandlers> oncall_handlers_;
  std::unique_ptr<http::HttpClient> owned_notify_client_;
  std::unique_ptr<alerts::AlertEngine> alert_engine_;
  std::unique_ptr<alerts::OutboxSender> outbox_sender_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> http_;

  std::mutex retention_mu_;
  std::condition_variable retention_cv_;
  bool stopping_ = false;  // guarded by retention_mu_
  std::thread retention_thread_;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_
};

}  // namespace steadfast::collector
