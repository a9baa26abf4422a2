// Metrics glue: a prometheus-cpp core Registry serialised as the Prometheus text format and
// served on our own HTTP server's /metrics (we do not link prometheus-cpp's civetweb pull).
#pragma once

#include <prometheus/registry.h>

#include <memory>

#include "common/http/http_types.h"

namespace steadfast::metrics {

// text/plain; version=0.0.4 exposition of everything in `registry`.
http::HttpResponse ServeMetrics(prometheus::Registry& registry);

}  // namespace steadfast::metrics
