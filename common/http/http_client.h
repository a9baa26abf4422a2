// HttpClient: outgoing HTTP/1.1. Two real implementations share this interface and one
// conformance suite (http_client_test.cc): the Beast/OpenSSL one (beast_http_client.h, in
// steadfast::common; what the agent uses) and the libcurl one below (target
// steadfast::http_curl, for tests and tools that already link libcurl). Tests may pass a fake.
// Both take proxies from the environment (http_proxy, https_proxy, all_proxy, no_proxy) as
// libcurl reads them; the rules are spelled out in http_client_proxy.h.
#pragma once

#include <chrono>
#include <cstddef>
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
  // A response body larger than this fails the request (ResourceExhausted) instead of being
  // buffered without bound.
  size_t max_response_bytes = 64 * 1024 * 1024;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Any HTTP status is a successful exchange (check response.status). Errors: Unavailable
  // (connect failed, reset, no or malformed answer, proxy refused), DeadlineExceeded
  // (request.timeout or the connect timeout ran out), InvalidArgument (bad URL, method, header
  // or proxy setting), FailedPrecondition (TLS verification failed, unusable CA/cert/key file),
  // ResourceExhausted (body over max_response_bytes). Thread-safe.
  // https responses carry the server certificate in response.peer_certificate: Beast sets it
  // on every response (a reused connection keeps its handshake's), libcurl on responses of a
  // new connection only (CURLINFO_CERTINFO); callers that need it send "Connection: close".
  virtual StatusOr<HttpResponse> Do(const HttpClientRequest& request) = 0;
};

// Defined in steadfast::http_curl (http_client.cc): link that target to use it. Binaries that
// must stay small (the agent) use NewBeastHttpClient instead and do not link libcurl at all.
std::unique_ptr<HttpClient> NewCurlHttpClient(const HttpClientOptions& options);

}  // namespace steadfast::http
