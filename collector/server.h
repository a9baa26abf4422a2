// CollectorServer: the running collector — config, storage, handlers, router, HTTP server and
// the retention thread, wired together. main() builds the real dependencies and calls Start();
// tests and the benchmark start one in-process on 127.0.0.1 port 0.
//
// Shutdown order: stop the HTTP server (in-flight requests finish, including their durable
// commits), stop the retention thread, close storage (the writer drains its queue).
#pragma once

#include <prometheus/registry.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "collector/api_handlers.h"
#include "collector/collector_config.h"
#include "collector/host_status_collector.h"
#include "collector/http_metrics.h"
#include "collector/ingest_handler.h"
#include "collector/static_files.h"
#include "collector/store/sqlite_storage.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "common/http/http_server.h"

namespace steadfast::collector {

struct CollectorDeps {
  Clock& clock;
  FileSystem& fs;
};

// Routes every endpoint of the collector on `router`; each handler is instrumented through
// `metrics` when it is not null. The handlers must outlive the router.
void RegisterCollectorRoutes(http::Router& router, IngestHandler& ingest, const ApiHandlers& api,
                             const StaticFiles& static_files, HttpMetrics* metrics);

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

 private:
  CollectorServer(const CollectorConfig& config, CollectorDeps deps);
  void RetentionLoop();

  const CollectorConfig config_;
  CollectorDeps deps_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<HttpMetrics> http_metrics_;
  std::unique_ptr<IngestHandler> ingest_;
  std::unique_ptr<HostCheckStatusCollector> status_collector_;
  std::unique_ptr<ApiHandlers> api_;
  std::unique_ptr<StaticFiles> static_files_;
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
