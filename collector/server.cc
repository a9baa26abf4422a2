#include "collector/server.h"

#include <prometheus/gauge.h>

#include <utility>

#include "common/logging.h"
#include "steadfast/version.h"

namespace steadfast::collector {

namespace {

http::HttpHandler Wrap(HttpMetrics* metrics, std::string name, http::HttpHandler handler) {
  return metrics != nullptr ? metrics->Instrument(std::move(name), std::move(handler)) : handler;
}

}  // namespace

void RegisterCollectorRoutes(http::Router& router, IngestHandler& ingest, const ApiHandlers& api,
                             const StaticFiles& static_files, HttpMetrics* metrics) {
  using http::HttpRequest;
  router.Handle("POST", "/api/v1/enroll",
                Wrap(metrics, "enroll", [&ingest](const HttpRequest& r) { return ingest.Enroll(r); }));
  router.Handle("POST", "/api/v1/reports",
                Wrap(metrics, "reports", [&ingest](const HttpRequest& r) { return ingest.Reports(r); }));
  router.Handle("GET", "/api/v1/hosts",
                Wrap(metrics, "hosts", [&api](const HttpRequest& r) { return api.ListHosts(r); }));
  router.Handle("GET", "/api/v1/hosts/{id}",
                Wrap(metrics, "host", [&api](const HttpRequest& r) { return api.GetHost(r); }));
  router.Handle("GET", "/api/v1/hosts/{id}/checks",
                Wrap(metrics, "host_checks", [&api](const HttpRequest& r) { return api.ListHostChecks(r); }));
  router.Handle("GET", "/api/v1/hosts/{id}/checks/history",
                Wrap(metrics, "history", [&api](const HttpRequest& r) { return api.History(r); }));
  router.Handle("GET", "/healthz", Wrap(metrics, "healthz", [&api](const HttpRequest& r) { return api.Healthz(r); }));
  router.Handle("GET", "/readyz", Wrap(metrics, "readyz", [&api](const HttpRequest& r) { return api.Readyz(r); }));
  router.Handle("GET", "/metrics", Wrap(metrics, "metrics", [&api](const HttpRequest& r) { return api.Metrics(r); }));
  router.Handle("GET", "/*",
                Wrap(metrics, "static", [&static_files](const HttpRequest& r) { return static_files.Serve(r); }));
}

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
  s->ingest_ = std::make_unique<IngestHandler>(*s->storage_, deps.clock, *s->registry_, std::move(ingest_options));
  s->status_collector_ = std::make_unique<HostCheckStatusCollector>(*s->storage_);
  s->api_ = std::make_unique<ApiHandlers>(*s->storage_, deps.clock, *s->registry_,
                                          std::vector<const prometheus::Collectable*>{s->status_collector_.get()});
  s->static_files_ = std::make_unique<StaticFiles>(config.web_root);
  RegisterCollectorRoutes(s->router_, *s->ingest_, *s->api_, *s->static_files_, s->http_metrics_.get());

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
  {
    std::lock_guard<std::mutex> lock(retention_mu_);
    stopping_ = true;
  }
  retention_cv_.notify_all();
  // Closing storage first makes a prune in progress give up at its next chunk.
  if (storage_) storage_->Close();
  if (retention_thread_.joinable()) retention_thread_.join();
}

void CollectorServer::RetentionLoop() {
  while (true) {
    const int64_t cutoff = deps_.clock.NowMillis() - config_.history_retention_ms;
    StatusOr<int64_t> deleted = storage_->PruneHistory(cutoff);
    if (!deleted.ok()) {
      std::lock_guard<std::mutex> lock(retention_mu_);
      if (!stopping_) SF_LOG_WARN("retention: pruning history failed: {}", deleted.status().ToString());
    } else if (*deleted > 0) {
      SF_LOG_INFO("retention: deleted {} history rows received before {}", *deleted, FormatRfc3339Millis(cutoff));
    }
    std::unique_lock<std::mutex> lock(retention_mu_);
    if (retention_cv_.wait_for(lock, std::chrono::milliseconds(config_.prune_interval_ms), [this] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace steadfast::collector
