// ApiHandlers: the read side of the REST API, health endpoints and /metrics, as pure
// HttpRequest -> HttpResponse functions.
//
//   GET /api/v1/hosts?limit=&offset=        {"items":[host...],"total":N,"next_offset":M|null,
//                                            "server_time":"..."}; limit 1..1000 (default 100)
//   GET /api/v1/hosts/{id}                  host, or 404
//   GET /api/v1/hosts/{id}/checks           {"items":[check...],"server_time":"..."}, or 404
//   GET /api/v1/hosts/{id}/checks/history?check=&target=&from=&to=&after_seq=&limit=
//                                           {"items":[result...],"next_after_seq":S|null}
//                                           ordered by seq; from/to RFC 3339 (observed time,
//                                           from inclusive, to exclusive); limit 1..100000
//                                           (default 1000); a present `target` filters even
//                                           when empty ("" is a valid target)
//   GET /healthz                            200 while the process runs
//   GET /readyz                             200 when storage answers a query, else 503
//   GET /metrics                            Prometheus text: the registry plus `collectables`
//
// Timestamps in JSON are RFC 3339 UTC with milliseconds. A bad query parameter is a 400 whose
// error names the parameter in "field". Who may call what is decided by the route table
// (collector/api/route_table.h) before these run. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "collector/store/storage.h"
#include "common/clock.h"
#include "common/http/http_types.h"

namespace prometheus {
class Registry;
class Collectable;
}  // namespace prometheus

namespace steadfast::collector {

inline constexpr int64_t kDefaultHostsLimit = 100;
inline constexpr int64_t kMaxHostsLimit = 1000;
inline constexpr int64_t kDefaultHistoryLimit = 1000;
inline constexpr int64_t kMaxHistoryLimit = 100'000;

class ApiHandlers {
 public:
  // `collectables` are exported on /metrics after the registry; they must outlive this.
  ApiHandlers(Storage& storage, const Clock& clock, prometheus::Registry& registry,
              std::vector<const prometheus::Collectable*> collectables = {});

  // `only`: the agent ids the caller may see (unset: every host).
  http::HttpResponse ListHosts(const http::HttpRequest& request,
                               const std::optional<std::vector<std::string>>& only = std::nullopt) const;
  http::HttpResponse GetHost(const http::HttpRequest& request) const;
  http::HttpResponse ListHostChecks(const http::HttpRequest& request) const;
  http::HttpResponse History(const http::HttpRequest& request) const;
  http::HttpResponse Healthz(const http::HttpRequest& request) const;
  http::HttpResponse Readyz(const http::HttpRequest& request) const;
  http::HttpResponse Metrics(const http::HttpRequest& request) const;

 private:
  Storage& storage_;
  const Clock& clock_;
  prometheus::Registry& registry_;
  std::vector<const prometheus::Collectable*> collectables_;
};

}  // namespace steadfast::collector
