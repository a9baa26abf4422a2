// CurlHttpClient: HttpClient over libcurl's easy interface.
//
// Each call takes an easy handle from a small pool (or makes one), so concurrent calls
// never share a handle while a finished handle keeps its connection cache for the next
// call (keep-alive). Handles are reset before they go back to the pool.
#include "common/http/http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <ctime>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace steadfast::http {
namespace {

constexpr size_t kMaxPooledHandles = 8;

// curl_global_init is not thread-safe and must run once before any other libcurl call.
// The once_flag is the one process-wide static this needs.
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

// "Nov 29 13:30:12 2026 GMT" (OpenSSL's ASN1_TIME_print, which libcurl's certinfo uses) ->
// seconds since the epoch.
std::optional<int64_t> ParseCertTime(const std::string& text) {
  struct tm tm {};
  const char* end = strptime(text.c_str(), "%b %d %H:%M:%S %Y", &tm);
  if (end == nullptr) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

// The leaf certificate from CURLINFO_CERTINFO ("Expire date:...", "Subject:..." entries).
// libcurl collects it at the TLS handshake only; a transfer on a reused connection has none
// and leaves the field unset.
std::optional<PeerCertificate> CertInfo(CURL* h) {
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &info) != CURLE_OK || info == nullptr ||
      info->num_of_certs < 1) {
    return std::nullopt;
  }
  PeerCertificate cert;
  bool have_start = false, have_expire = false;
  for (curl_slist* item = info->certinfo[0]; item != nullptr; item = item->next) {
    std::string_view line(item->data);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(line.substr(0, colon));
    std::string value(line.substr(colon + 1));
    if (key == "Start date") {
      if (auto t = ParseCertTime(value)) cert.not_before_unix = *t, have_start = true;
    } else if (key == "Expire date") {
      if (auto t = ParseCertTime(value)) cert.not_after_unix = *t, have_expire = true;
    } else if (key == "Subject") {
      cert.subject = value;
    } else if (key == "Issuer") {
      cert.issuer = value;
    }
  }
  if (!have_start || !have_expire) return std::nullopt;
  return cert;
}

struct Transfer {
  size_t max_body_bytes = 0;
  std::string body;
  Headers headers;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->body.size() + n > t->max_body_bytes) {
    t->too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  t->body.append(data, n);
  return n;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new status line: an interim response (100 Continue) or a proxy's CONNECT reply
    // came before; keep only the headers of the final response.
    t->headers = Headers();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the blank line that ends the headers
  std::string_view name = Trim(line.substr(0, colon));
  if (name.empty()) return n;
  t->headers.Add(std::string(name), std::string(Trim(line.substr(colon + 1))));
  return n;
}

Status MapCurlError(CURLcode code, const HttpClientRequest& request, const char* detail,
                    const Transfer& transfer) {
  std::string message = fmt::format("{} {}: {}", request.method, request.url, curl_easy_strerror(code));
  if (detail != nullptr && detail[0] != '\0') message += fmt::format(" ({})", detail);
  if (transfer.too_large) {
    return ResourceExhaustedError(fmt::format("{} {}: response body larger than {} bytes", request.method,
                                              request.url, transfer.max_body_bytes));
  }
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(std::move(message));
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return InvalidArgumentError(std::move(message));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return FailedPreconditionError(std::move(message));
    case CURLE_OUT_OF_MEMORY:
      return InternalError(std::move(message));
    default:
      // Resolve/connect failures, resets, an aborted TLS handshake, a peer that closed
      // without answering: all transient from our side.
      return UnavailableError(std::move(message));
  }
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(const HttpClientOptions& options) : options_(options) {}

  ~CurlHttpClient() override {
    for (CURL* handle : pool_) curl_easy_cleanup(handle);
  }

  StatusOr<HttpResponse> Do(const HttpClientRequest& request) override {
    if (GlobalInit() != CURLE_OK) return InternalError("libcurl: global initialisation failed");
    for (const auto& [name, value] : request.headers.items()) {
      if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        return InvalidArgumentError(fmt::format("{} {}: malformed request header '{}'", request.method, request.url,
                                                name));
      }
    }
    if (request.method.empty() || request.method.find_first_of(" \r\n") != std::string::npos) {
      return InvalidArgumentError(fmt::format("bad HTTP method '{}'", request.method));
    }
    // libcurl would guess a scheme for "host:port/path"; we want the caller's mistake reported.
    // Checking here also means CURLE_UNSUPPORTED_PROTOCOL from a transfer can only be the
    // server's answer (e.g. HTTP/0.9), not our URL.
    if (strncasecmp(request.url.c_str(), "http://", 7) != 0 && strncasecmp(request.url.c_str(), "https://", 8) != 0) {
      return InvalidArgumentError(fmt::format("{} {}: only http:// and https:// URLs are supported", request.method,
                                              request.url));
    }
    CURL* handle = Acquire();
    if (handle == nullptr) return InternalError("libcurl: cannot create an easy handle");
    StatusOr<HttpResponse> result = Perform(handle, request);
    Release(handle);
    return result;
  }

 private:
  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pool_.empty()) {
        CURL* handle = pool_.back();
        pool_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* handle) {
    // Drops every option (some point into the finished request) but keeps the
    // connection cache, so the next call may reuse the connection.
    curl_easy_reset(handle);
    std::lock_guard<std::mutex> lock(mu_);
    if (pool_.size() < kMaxPooledHandles) {
      pool_.push_back(handle);
      return;
    }
    curl_easy_cleanup(handle);
  }

  StatusOr<HttpResponse> Perform(CURL* h, const HttpClientRequest& request) {
    Transfer transfer;
    transfer.max_body_bytes = options_.max_response_bytes;
    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_slist* header_list = nullptr;
    bool has_content_type = false;
    bool has_user_agent = false;
    for (const auto& [name, value] : request.headers.items()) {
      // "Name;" is libcurl's way of sending a header with an empty value.
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      header_list = curl_slist_append(header_list, line.c_str());
      if (strcasecmp(name.c_str(), "Content-Type") == 0) has_content_type = true;
      if (strcasecmp(name.c_str(), "User-Agent") == 0) has_user_agent = true;
    }
    // libcurl would otherwise add "Expect: 100-continue" to larger uploads (and wait for
    // the interim response) and a form Content-Type to any body.
    header_list = curl_slist_append(header_list, "Expect:");
    if (!has_content_type) header_list = curl_slist_append(header_list, "Content-Type:");

    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.client_cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, options_.client_cert_file.c_str());
    if (!options_.client_key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, options_.client_key_file.c_str());
    if (!has_user_agent && !options_.user_agent.empty()) {
      curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
    // For HttpResponse::peer_certificate (https only; costs nothing on http).
    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);

    if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (request.method == "GET" && request.body.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
          request.method == "PATCH") {
        // The body is sent from request.body without a copy; it outlives the transfer.
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      }
      if (request.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    CURLcode code = curl_easy_perform(h);
    curl_slist_free_all(header_list);
    if (code != CURLE_OK) return MapCurlError(code, request, error_buffer, transfer);

    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    HttpResponse response;
    response.status = static_cast<int>(status);
    response.headers = std::move(transfer.headers);
    response.body = std::move(transfer.body);
    if (strncasecmp(request.url.c_str(), "https://", 8) == 0) response.peer_certificate = CertInfo(h);
    return response;
  }

  const HttpClientOptions options_;
  std::mutex mu_;
  std::vector<CURL*> pool_;  // idle handles; guarded by mu_
};

}  // namespace

std::unique_ptr<HttpClient> NewCurlHttpClient(const HttpClientOptions& options) {
  return std::make_unique<CurlHttpClient>(options);
}

}  // namespace steadfast::http
