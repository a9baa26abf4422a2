#include "collector/http_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <utility>

namespace steadfast::collector {

HttpMetrics::HttpMetrics(prometheus::Registry& registry, const Clock& clock)
    : clock_(clock),
      requests_(prometheus::BuildCounter()
                    .Name("steadfast_collector_http_requests_total")
                    .Help("HTTP requests answered, by handler and status code")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("steadfast_collector_http_request_duration_seconds")
                     .Help("Time from a request reaching its handler to the response, by handler")
                     .Register(registry)) {}

http::HttpHandler HttpMetrics::Instrument(std::string name, http::HttpHandler handler) {
  // The histogram of a handler is created once; the counters per code on first use (Add
  // returns the existing child for known labels).
  prometheus::Histogram* duration = &durations_.Add(
      {{"handler", name}}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                                    5, 10});
  return [this, name = std::move(name), duration,
          handler = std::move(handler)](const http::HttpRequest& request) {
    auto started = clock_.Monotonic();
    http::HttpResponse response = handler(request);
    duration->Observe(std::chrono::duration<double>(clock_.Monotonic() - started).count());
    requests_.Add({{"handler", name}, {"code", std::to_string(response.status)}}).Increment();
    return response;
  };
}

}  // namespace steadfast::collector
