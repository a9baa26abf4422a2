// HttpServer: an asynchronous HTTP/1.1 server on Boost.Beast. Beast stays inside
// http_server.cc; users see only this interface.
//
// Connections are served by `io_threads` Asio threads; handlers run on a separate pool of
// `handler_threads` so a handler may block (e.g. waiting for a durable commit) without
// stalling I/O. Keep-alive, a request body limit (413), a read timeout for a request in
// progress, an idle timeout between requests, TLS when cert and key files are set.
// Shutdown() stops accepting, lets in-flight requests finish (up to the grace period) and
// joins every thread. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/http/http_types.h"
#include "common/status.h"

namespace steadfast::http {

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port; read it back with port()
  int io_threads = 2;
  int handler_threads = 16;
  size_t max_body_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{75'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  std::string tls_cert_file;  // PEM; TLS is on when both are set
  std::string tls_key_file;
  std::string server_name = "steadfast";
};

class HttpServer {
 public:
  // Binds and starts serving. Errors: InvalidArgument (bad address, TLS files unreadable),
  // Unavailable (port in use).
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, HttpHandler handler);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  virtual bool tls() const = 0;
  // Idempotent; blocks until every thread has stopped.
  virtual void Shutdown() = 0;
};

}  // namespace steadfast::http
