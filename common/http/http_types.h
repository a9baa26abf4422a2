// Plain HTTP request/response values shared by our server (Beast) and client (libcurl).
// Handlers are pure functions HttpRequest -> HttpResponse so they are tested without sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace steadfast::http {

// Ordered header list; lookups are case-insensitive.
class Headers {
 public:
  void Add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every header of that name.
  void Set(std::string name, std::string value);
  std::optional<std::string> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target: "/api/v1/hosts?limit=10"
  std::string path;    // percent-decoded path without the query: "/api/v1/hosts"
  std::map<std::string, std::string> query;        // decoded query parameters
  std::map<std::string, std::string> path_params;  // filled by Router: "{id}" -> value
  Headers headers;
  std::string body;  // as received (still compressed if Content-Encoding says so)
  std::string remote_address;
};

// The server's (leaf) certificate as an https client saw it. Client side only: HttpServer
// never reads it, and plain http leaves HttpResponse::peer_certificate unset.
struct PeerCertificate {
  int64_t not_before_unix = 0;  // notBefore, seconds since the epoch (UTC)
  int64_t not_after_unix = 0;   // notAfter, seconds since the epoch (UTC)
  std::string subject;          // for display only; the format differs between clients
  std::string issuer;           // for display only
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  // Set by the HttpClients on https responses (also with verify_tls off); see PeerCertificate.
  std::optional<PeerCertificate> peer_certificate;

  static HttpResponse Text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static HttpResponse Json(int status, std::string json_body);
  // {"error":{"code":"...","message":"...","field":"..."}} with the HTTP status matching `code`.
  static HttpResponse Error(const Status& status, std::string_view field = {});
  static HttpResponse Error(int http_status, std::string_view code, std::string_view message,
                            std::string_view field = {});
};

// HTTP status for a Status code (invalid_argument -> 400, unauthenticated -> 401, ...).
int HttpStatusFor(StatusCode code);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Splits a request target into decoded path and query. Returns InvalidArgument for bad
// percent-encoding or a target that is not origin-form ("/...").
Status ParseTarget(std::string_view target, std::string* path, std::map<std::string, std::string>* query);
std::string PercentDecode(std::string_view in, bool plus_is_space, bool* ok);
// RFC 3986 percent-encoding of everything but the unreserved A-Z a-z 0-9 - . _ ~ (uppercase
// hex), for path segments and query values.
std::string PercentEncode(std::string_view text);

// Routes (method, path pattern) to handlers. Patterns are literal segments and "{name}"
// captures of one segment; a pattern ending in "/*" matches any rest (captured as "*").
// Unknown path -> 404 JSON error; known path, wrong method -> 405 with Allow.
class Router {
 public:
  void Handle(std::string method, std::string pattern, HttpHandler handler);
  HttpResponse Dispatch(const HttpRequest& request) const;
  HttpHandler AsHandler() const {
    return [this](const HttpRequest& r) { return Dispatch(r); };
  }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    bool wildcard = false;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace steadfast::http
