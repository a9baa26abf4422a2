#include "collector/server.h"

#include <prometheus/gauge.h>

#include <utility>

#include "collector/api/core_routes.h"
#include "collector/admin_stores.h"
#include "collector/auth/open_ldap_directory.h"
#include "common/logging.h"
#include "steadfast/version.h"

namespace steadfast::collector {

CollectorServer::CollectorServer(const CollectorConfig& config, CollectorDeps deps)
    : config_(config), deps_(deps), registry_(std::make_shared<prometheus::Registry>()) {}

StatusOr<std::unique_ptr<CollectorServer>> CollectorServer::Start(const CollectorConfig& config, CollectorDeps deps) {
  std::unique_ptr<CollectorServer> s(new CollectorServer(config, deps));
  SF_RETURN_IF_ERROR(deps.fs.CreateDirectories(config.data_dir, 0700).WithContext("data_dir " + config.data_dir));

  SqliteStorageOptions storage_options;
  storage_options.path = config.DatabasePath();
  storage_options.synchronous = config.storage_synchronous;
  storage_options.registry = s->registry_.get();
  SF_ASSIGN_OR_RETURN(s->storage_, SqliteStorage::Open(storage_options, deps.clock));

  prometheus::BuildGauge()
      .Name("steadfast_collector_build_info")
      .Help("Always 1; the version label says which build is running")
      .Register(*s->registry_)
      .Add({{"version", kVersion}})
      .Set(1);

  s->http_metrics_ = std::make_unique<HttpMetrics>(*s->registry_, deps.clock);
  IngestOptions ingest_options;
  ingest_options.enrollment_tokens = config.enrollment_tokens;
  ingest_options.max_body_bytes = static_cast<size_t>(config.max_body_bytes);
  ingest_options.max_decompressed_bytes = static_cast<size_t>(config.max_decompressed_bytes);
  // Set before the listener starts; the engine exists from then on (when alerting is on).
  ingest_options.after_store = [raw = s.get()](const protocol::ReportBatch& batch, int64_t received_at_ms) {
    if (raw->alert_engine_) raw->alert_engine_->Observe(batch, received_at_ms);
  };
  // The action store exists before the listener starts (it is opened with the admin stores).
  ingest_options.record_actions = [raw = s.get()](const std::string& agent_id,
                                                  const std::vector<protocol::ActionResult>& results,
                                                  int64_t now_ms) -> Status {
    return raw->action_store_->Record(agent_id, results, now_ms).status();
  };
  ingest_options.deliver_actions = [raw = s.get()](const std::string& agent_id, int64_t now_ms) {
    return raw->action_store_->Deliver(agent_id, now_ms);
  };
  s->ingest_ = std::make_unique<IngestHandler>(*s->storage_, deps.clock, *s->registry_, std::move(ingest_options));
  s->status_collector_ = std::make_unique<HostCheckStatusCollector>(*s->storage_);
  s->api_ = std::make_unique<ApiHandlers>(*s->storage_, deps.clock, *s->registry_,
                                          std::vector<const prometheus::Collectable*>{s->status_collector_.get()});
  s->static_files_ = std::make_unique<StaticFiles>(config.web_root);

  // Accounts and the audit trail share one admin connection to collector.db, so a change and
  // its audit record commit together.
  if (deps.random == nullptr) s->owned_random_ = std::make_unique<auth::OpenSslRandom>();
  s->random_ = deps.random != nullptr ? deps.random : s->owned_random_.get();
  SF_ASSIGN_OR_RETURN(AdminStores admin, OpenAdminStores(config, deps.fs, deps.clock));
  s->admin_db_ = std::move(admin.db);
  s->audit_ = std::move(admin.audit);
  s->accounts_ = std::move(admin.accounts);
  s->inventory_ = std::move(admin.inventory);
  s->passwords_ = std::make_unique<api::Passwords>(s->config_.auth, *s->random_);
  s->authenticator_ =
      std::make_unique<api::SessionAuthenticator>(*s->accounts_, s->config_.auth, *s->passwords_, deps.clock);
  s->routes_ = std::make_unique<api::RouteTable>(*s->authenticator_, *s->accounts_, s->audit_.get(), deps.clock);
  // A host id names a host the ingest store knows; its unit comes from the accounts.
  s->routes_->SetResolver(api::ObjectKind::kHost, [raw = s.get()](const std::string& id) -> StatusOr<int64_t> {
    SF_RETURN_IF_ERROR(raw->storage_->GetHost(id).status());
    return raw->accounts_->HostUnit(id);
  });
  api::AddCoreRoutes(*s->routes_, *s->ingest_, *s->api_, *s->static_files_, *s->accounts_);
  s->org_handlers_ = std::make_unique<api::OrgHandlers>(*s->accounts_, *s->passwords_, *s->random_);
  s->org_handlers_->AddRoutes(*s->routes_);
  auth::LdapDirectory* ldap = nullptr;
  if (config.auth.ldap) {
    if (deps.ldap == nullptr) {
      SF_ASSIGN_OR_RETURN(s->owned_ldap_, auth::OpenLdapDirectory::Create(*config.auth.ldap, deps.fs));
    }
    ldap = deps.ldap != nullptr ? deps.ldap : s->owned_ldap_.get();
  }
  s->auth_handlers_ = std::make_unique<api::AuthHandlers>(api::AuthHandlerDeps{
      *s->accounts_, s->config_.auth, *s->passwords_, *s->authenticator_, *s->audit_, deps.clock, *s->random_,
      /*secure_cookies=*/!config.tls_cert_file.empty(), ldap});
  s->auth_handlers_->AddRoutes(*s->routes_);
  s->audit_handlers_ = std::make_unique<api::AuditHandlers>(*s->audit_);
  s->audit_handlers_->AddRoutes(*s->routes_);
  s->inventory_handlers_ =
      std::make_unique<api::InventoryHandlers>(*s->inventory_, *s->accounts_, *s->storage_, deps.clock);
  s->inventory_handlers_->AddRoutes(*s->routes_);
  {
    audit::SqliteAuditLog* log = s->audit_.get();
    SF_ASSIGN_OR_RETURN(s->alert_store_,
                        alerts::SqliteAlertStore::Open(*s->admin_db_, [log](sqlite::SqliteDb& db, const audit::AuditEvent& e) {
                          return log->AppendInTransaction(db, e).status();
                        }));
  }
  {
    // Reloads read the config file again (a collector started from text has none to read).
    alerts::AlertingFileReader reader;
    if (!config.source.empty()) {
      reader = [path = config.source, fs = &deps.fs]() -> StatusOr<alerting::AlertingConfig> {
        SF_ASSIGN_OR_RETURN(CollectorConfig c, LoadCollectorConfig(path, *fs));
        return std::move(c.alerting);
      };
    }
    SF_ASSIGN_OR_RETURN(s->alerting_config_,
                        alerts::AlertingConfigManager::Create(s->config_.alerting, *s->alert_store_, std::move(reader),
                                                              deps.clock, s->registry_.get()));
  }
  s->alert_handlers_ = std::make_unique<api::AlertHandlers>(*s->alert_store_, *s->accounts_, deps.clock,
                                                            s->alerting_config_->live());
  s->alert_handlers_->AddRoutes(*s->routes_);
  {
    audit::SqliteAuditLog* log = s->audit_.get();
    SF_ASSIGN_OR_RETURN(s->action_store_,
                        actions::ActionStore::Open(*s->admin_db_, [log](sqlite::SqliteDb& db, const audit::AuditEvent& e) {
                          return log->AppendInTransaction(db, e).status();
                        }));
  }
  s->action_handlers_ = std::make_unique<api::ActionHandlers>(*s->action_store_, deps.clock);
  s->action_handlers_->AddRoutes(*s->routes_);
  s->oncall_handlers_ = std::make_unique<api::OncallHandlers>(*s->alerting_config_, deps.clock, [raw = s.get()] {
    if (raw->alert_engine_) raw->alert_engine_->Wake();
  });
  s->oncall_handlers_->AddRoutes(*s->routes_);
  {
    SF_ASSIGN_OR_RETURN(alerts::AckLinks links,
                        alerts::AckLinks::LoadOrCreate(deps.fs, config.data_dir + "/ack-links.key", *s->random_));
    s->ack_links_.emplace(std::move(links));
    s->alert_handlers_->SetAckLinks(&*s->ack_links_);
  }
  if (s->config_.alerting.enabled) {
    http::HttpClient* client = deps.notify_client;
    if (client == nullptr) {
      http::HttpClientOptions client_options;
      client_options.user_agent = std::string("steadfast-collector/") + kVersion;
      s->owned_notify_client_ = http::NewCurlHttpClient(client_options);
      client = s->owned_notify_client_.get();
    }
    alerts::OutboxSenderOptions sender_options;
    sender_options.user_email = [accounts = s->accounts_.get()](const std::string& username) -> StatusOr<std::string> {
      SF_ASSIGN_OR_RETURN(accounts::User user, accounts->FindUserByUsername(username));
      if (!user.active) return FailedPreconditionError("the account is deactivated");
      if (user.contacts.email.empty()) return FailedPreconditionError("the account has no email address");
      return user.contacts.email;
    };
    s->outbox_sender_ = std::make_unique<alerts::OutboxSender>(s->alerting_config_->live(), *s->alert_store_, *client,
                                                               deps.clock, s->registry_.get(), sender_options);
    SF_ASSIGN_OR_RETURN(s->alert_engine_, alerts::AlertEngine::Create(s->alerting_config_->live(), *s->alert_store_,
                                                                      *s->storage_, deps.clock, s->registry_.get()));
    s->alert_engine_->SetOnNotifications([sender = s->outbox_sender_.get()] { sender->Wake(); });
    s->alert_handlers_->SetEngine(s->alert_engine_.get());
    s->alert_handlers_->SetSender(s->outbox_sender_.get());
    s->alert_engine_->SetAckLinks(&*s->ack_links_);
    s->outbox_sender_->Start();
    s->alert_engine_->Start();
    SF_LOG_INFO("alerting: {} rules from {} file(s), {} receivers, {} series loaded",
                s->config_.alerting.rules.rules.size(), s->config_.alerting.rule_files.size(),
                s->config_.alerting.receivers.size(), s->alert_engine_->SeriesCount());
  } else {
    SF_LOG_WARN("no `alerting:` section in the config: no alerts are raised or sent");
  }
  s->routes_->RegisterOn(s->router_, s->http_metrics_.get());

  accounts::UserQuery any_user;
  any_user.limit = 1;
  StatusOr<accounts::UserPage> users = s->accounts_->ListUsers(any_user);
  if (users.ok() && users->total == 0) {
    SF_LOG_WARN("no user accounts yet: create the first admin with "
                "`steadfast-collector admin create-admin --config FILE --username NAME`");
  }

  if (config.enrollment_tokens.empty()) {
    SF_LOG_WARN("no enrollment_tokens configured: new agents cannot enrol (enrolled agents still report)");
  }

  s->retention_thread_ = std::thread([raw = s.get()] { raw->RetentionLoop(); });

  http::HttpServerOptions http_options;
  http_options.bind_address = config.listen_host;
  http_options.port = config.listen_port;
  http_options.io_threads = config.io_threads;
  http_options.handler_threads = config.handler_threads;
  http_options.max_body_bytes = static_cast<size_t>(config.max_body_bytes);
  http_options.tls_cert_file = config.tls_cert_file;
  http_options.tls_key_file = config.tls_key_file;
  http_options.server_name = "steadfast-collector";
  StatusOr<std::unique_ptr<http::HttpServer>> http = http::HttpServer::Start(http_options, s->router_.AsHandler());
  if (!http.ok()) {
    s->Shutdown();
    return http.status().WithContext("listen " + config.listen_host + ":" + std::to_string(config.listen_port));
  }
  s->http_ = std::move(http).value();
  return s;
}

CollectorServer::~CollectorServer() { Shutdown(); }

StatusOr<alerts::ReloadSummary> CollectorServer::ReloadAlerting(const std::string& by) {
  alerts::AlertActor actor;
  actor.name = by;
  actor.audit.actor_type = "system";
  actor.audit.actor_name = by;
  actor.audit.action = "alerting.reload";
  StatusOr<alerts::ReloadSummary> summary = alerting_config_->Reload(actor);
  if (summary.ok() && alert_engine_) alert_engine_->Wake();
  return summary;
}

uint16_t CollectorServer::port() const { return http_ ? http_->port() : 0; }

std::string CollectorServer::url() const {
  std::string host = config_.listen_host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(http_ && http_->tls() ? "https" : "http") + "://" + host + ":" + std::to_string(port());
}

void CollectorServer::Shutdown() {
  std::lock_guard<std::mutex> once(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (http_) http_->Shutdown();
  // The engine's last round may queue notifications; the sender stops after it.
  if (alert_engine_) alert_engine_->Shutdown();
  if (outbox_sender_) outbox_sender_->Shutdown();
  {
    std::lock_guard<std::mutex> lock(retention_mu_);
    stopping_ = true;
  }
  retention_cv_.notify_all();
  // Closing storage first makes a prune in progress give up at its next chunk.
  if (storage_) storage_->Close();
  if (retention_thread_.joinable()) retention_thread_.join();
  if (admin_db_) admin_db_->Close();
}

void CollectorServer::RetentionLoop() {
  while (true) {
    RetainOnce();
    std::unique_lock<std::mutex> lock(retention_mu_);
    if (retention_cv_.wait_for(lock, std::chrono::milliseconds(config_.prune_interval_ms), [this] { return stopping_; })) {
      return;
    }
  }
}

void CollectorServer::RetainOnce() {
  auto stopping = [this] {
    std::lock_guard<std::mutex> lock(retention_mu_);
    return stopping_;
  };
  const int64_t now = deps_.clock.NowMillis();
  StatusOr<int64_t> deleted = storage_->PruneHistory(now - config_.history_retention_ms);
  if (!deleted.ok()) {
    if (!stopping()) SF_LOG_WARN("retention: pruning history failed: {}", deleted.status().ToString());
  } else if (*deleted > 0) {
    SF_LOG_INFO("retention: deleted {} history rows received before {}", *deleted,
                FormatRfc3339Millis(now - config_.history_retention_ms));
  }
  if (audit_ == nullptr) return;
  StatusOr<int64_t> pruned = audit_->Prune(now - config_.audit_retention_ms);
  if (!pruned.ok()) {
    if (!stopping()) SF_LOG_ERROR("retention: pruning the audit log failed: {}", pruned.status().ToString());
  } else if (*pruned > 0) {
    SF_LOG_INFO("retention: deleted {} audit records older than {}", *pruned,
                FormatRfc3339Millis(now - config_.audit_retention_ms));
  }
  // An outside witness of the chain's head: a log cut short together with its head row is
  // caught by comparing with these lines.
  StatusOr<audit::ChainPoint> head = audit_->Head();
  if (head.ok()) {
    SF_LOG_INFO("audit: chain head seq={} mac={}", head->seq, head->mac_hex);
  } else if (!stopping()) {
    SF_LOG_WARN("audit: cannot read the chain head: {}", head.status().ToString());
  }
}

}  // namespace steadfast::collector
