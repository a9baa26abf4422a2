#include "collector/api_handlers.h"

#include <prometheus/collectable.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "collector/api/api_util.h"
#include "common/logging.h"
#include "common/metrics/metrics.h"
#include "common/protocol/protocol.h"

namespace steadfast::collector {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;
using api::BadParam;
using api::IntParam;
using api::JsonResponse;
using api::OptionalParam;
using api::TimeOrNull;
using api::TimeParam;

using api::ErrorResponse;

json HostToJson(const HostSummary& h) {
  json counts = json::object();
  for (int s = 0; s < 4; ++s) {
    counts[std::string(protocol::CheckStatusName(static_cast<protocol::CheckStatus>(s)))] =
        h.status_counts[static_cast<size_t>(s)];
  }
  int64_t checks = 0;
  for (int64_t n : h.status_counts) checks += n;
  return json{{"id", h.agent.agent_id},
              {"hostname", h.agent.host.hostname},
              {"os", h.agent.host.os},
              {"kernel", h.agent.host.kernel},
              {"arch", h.agent.host.arch},
              {"agent_version", h.agent.host.agent_version},
              {"enrolled_at", TimeOrNull(h.agent.enrolled_at_ms)},
              {"last_seen", TimeOrNull(h.agent.last_seen_ms)},
              {"worst_status", h.worst_status ? json(std::string(protocol::CheckStatusName(*h.worst_status)))
                                              : json(nullptr)},
              {"status_counts", std::move(counts)},
              {"check_count", checks}};
}

json ResultToJson(const StoredResult& r) {
  json metrics = json::parse(r.metrics_json, nullptr, /*allow_exceptions=*/false);
  if (metrics.is_discarded() || !metrics.is_array()) metrics = json::array();
  json details = json::parse(r.details_json, nullptr, /*allow_exceptions=*/false);
  if (details.is_discarded() || !details.is_object()) details = json::object();
  return json{{"seq", r.seq},
              {"check", r.check},
              {"target", r.target},
              {"status", std::string(protocol::CheckStatusName(r.status))},
              {"summary", r.summary},
              {"observed_at", FormatRfc3339Millis(r.observed_at_ms)},
              {"received_at", FormatRfc3339Millis(r.received_at_ms)},
              {"duration_ms", r.duration_ms},
              {"metrics", std::move(metrics)},
              {"details", std::move(details)}};
}

std::string HostId(const HttpRequest& request) { return api::PathParam(request, "id"); }

HttpResponse MissingId() { return HttpResponse::Error(404, "not_found", "no host id in the path"); }

}  // namespace

ApiHandlers::ApiHandlers(Storage& storage, const Clock& clock, prometheus::Registry& registry,
                         std::vector<const prometheus::Collectable*> collectables)
    : storage_(storage), clock_(clock), registry_(registry), collectables_(std::move(collectables)) {}

HttpResponse ApiHandlers::ListHosts(const HttpRequest& request,
                                    const std::optional<std::vector<std::string>>& only) const {
  HttpResponse error;
  auto limit = IntParam(request, "limit", kDefaultHostsLimit, 1, kMaxHostsLimit, &error);
  if (!limit) return error;
  auto offset = IntParam(request, "offset", 0, 0, INT64_MAX, &error);
  if (!offset) return error;
  StatusOr<HostPage> page = storage_.ListHosts(*limit, *offset, only);
  if (!page.ok()) return ErrorResponse(page.status());
  json items = json::array();
  for (const HostSummary& h : page->items) items.push_back(HostToJson(h));
  const int64_t next = *offset + static_cast<int64_t>(page->items.size());
  json doc{{"items", std::move(items)},
           {"total", page->total},
           {"next_offset", next < page->total && !page->items.empty() ? json(next) : json(nullptr)},
           {"server_time", FormatRfc3339Millis(clock_.NowMillis())}};
  return JsonResponse(200, doc);
}

HttpResponse ApiHandlers::GetHost(const HttpRequest& request) const {
  const std::string id = HostId(request);
  if (id.empty()) return MissingId();
  StatusOr<HostSummary> host = storage_.GetHost(id);
  if (!host.ok()) return ErrorResponse(host.status());
  json doc = HostToJson(*host);
  doc["server_time"] = FormatRfc3339Millis(clock_.NowMillis());
  return JsonResponse(200, doc);
}

HttpResponse ApiHandlers::ListHostChecks(const HttpRequest& request) const {
  const std::string id = HostId(request);
  if (id.empty()) return MissingId();
  StatusOr<std::vector<StoredResult>> checks = storage_.ListHostChecks(id);
  if (!checks.ok()) return ErrorResponse(checks.status());
  json items = json::array();
  for (const StoredResult& r : *checks) items.push_back(ResultToJson(r));
  return JsonResponse(200, json{{"items", std::move(items)}, {"server_time", FormatRfc3339Millis(clock_.NowMillis())}});
}

HttpResponse ApiHandlers::History(const HttpRequest& request) const {
  const std::string id = HostId(request);
  if (id.empty()) return MissingId();
  HttpResponse error;
  HistoryQuery q;
  q.agent_id = id;
  q.check = OptionalParam(request, "check");
  q.target = OptionalParam(request, "target");
  if (q.check && q.check->empty()) q.check.reset();  // "check=" means "any check"
  auto from = TimeParam(request, "from", INT64_MIN, &error);
  if (!from) return error;
  auto to = TimeParam(request, "to", INT64_MAX, &error);
  if (!to) return error;
  if (*from > *to) return BadParam("from", "must not be after 'to'");
  auto limit = IntParam(request, "limit", kDefaultHistoryLimit, 1, kMaxHistoryLimit, &error);
  if (!limit) return error;
  auto after = IntParam(request, "after_seq", 0, 0, INT64_MAX, &error);
  if (!after) return error;
  q.from_ms = *from;
  q.to_ms = *to;
  q.limit = *limit;
  q.after_seq = static_cast<uint64_t>(*after);
  StatusOr<std::vector<StoredResult>> rows = storage_.History(q);
  if (!rows.ok()) return ErrorResponse(rows.status());
  json items = json::array();
  for (const StoredResult& r : *rows) items.push_back(ResultToJson(r));
  json next = static_cast<int64_t>(rows->size()) == *limit ? json(rows->back().seq) : json(nullptr);
  return JsonResponse(200, json{{"items", std::move(items)}, {"next_after_seq", std::move(next)}});
}

HttpResponse ApiHandlers::Healthz(const HttpRequest&) const {
  return JsonResponse(200, json{{"status", "ok"}});
}

HttpResponse ApiHandlers::Readyz(const HttpRequest&) const {
  Status st = storage_.Ping();
  if (!st.ok()) {
    HttpResponse r = HttpResponse::Error(503, "unavailable", "storage is not answering: " + st.message());
    r.headers.Set("Cache-Control", "no-store");
    return r;
  }
  return JsonResponse(200, json{{"status", "ready"}});
}

HttpResponse ApiHandlers::Metrics(const HttpRequest&) const {
  HttpResponse r = metrics::ServeMetrics(registry_);
  if (r.status != 200 || collectables_.empty()) return r;
  // prometheus-cpp reports problems by throwing; a scrape must not take the server down.
  try {
    std::vector<prometheus::MetricFamily> families;
    for (const prometheus::Collectable* c : collectables_) {
      std::vector<prometheus::MetricFamily> more = c->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    r.body += prometheus::TextSerializer().Serialize(families);
  } catch (const std::exception& e) {
    SF_LOG_ERROR("metrics: cannot serialise: {}", e.what());
    return HttpResponse::Error(500, "internal", "cannot serialise metrics");
  }
  return r;
}

}  // namespace steadfast::collector
