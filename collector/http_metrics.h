// HttpMetrics: request counters and latency histograms for the collector's HTTP handlers,
// registered once in a prometheus-cpp Registry:
//   steadfast_collector_http_requests_total{handler,code}
//   steadfast_collector_http_request_duration_seconds{handler}
// `handler` is a fixed route name ("reports", "hosts", "static", ...), never a raw path, so
// the label stays low-cardinality. Thread-safe.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/http/http_types.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace steadfast::collector {

class HttpMetrics {
 public:
  HttpMetrics(prometheus::Registry& registry, const Clock& clock);

  // A handler that runs `handler`, then counts the response code and observes the duration
  // under `name`. The returned handler refers to this object, which must outlive it.
  http::HttpHandler Instrument(std::string name, http::HttpHandler handler);

 private:
  const Clock& clock_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
};

}  // namespace steadfast::collector
