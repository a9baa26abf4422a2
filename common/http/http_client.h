// HttpClient: outgoing HTTP. CurlHttpClient is the real one (libcurl); tests may pass a fake.
// Proxies come from the environment (http_proxy, https_proxy, no_proxy) as libcurl reads them.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/http/http_types.h"
#include "common/status.h"

namespace steadfast::http {

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{30'000};
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  bool verify_tls = true;
  std::string ca_file;           // extra CA bundle (PEM); empty: the system store
  std::string client_cert_file;  // optional client certificate (PEM)
  std::string client_key_file;
  std::string user_agent = "steadfast";
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Any HTTP status is a successful exchange (check response.status). Errors: Unavailable
  // (connect failed, reset), DeadlineExceeded (timeout), InvalidArgument (bad URL),
  // FailedPrecondition (TLS verification failed). Thread-safe.
  virtual StatusOr<HttpResponse> Do(const HttpClientRequest& request) = 0;
};

std::unique_ptr<HttpClient> NewCurlHttpClient(const HttpClientOptions& options);

}  // namespace steadfast::http
