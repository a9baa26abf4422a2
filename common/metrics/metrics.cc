#include "common/metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <exception>
#include <string>

#include "common/logging.h"

namespace steadfast::metrics {

namespace {
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
}  // namespace

http::HttpResponse ServeMetrics(prometheus::Registry& registry) {
  // prometheus-cpp reports problems by throwing (e.g. std::bad_alloc while serialising);
  // a scrape must not take the server down.
  try {
    std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
    return http::HttpResponse::Text(200, std::move(text), kContentType);
  } catch (const std::exception& e) {
    SF_LOG_ERROR("metrics: cannot serialise the registry: {}", e.what());
  }
  return http::HttpResponse::Error(500, "internal", "cannot serialise metrics");
}

}  // namespace steadfast::metrics
