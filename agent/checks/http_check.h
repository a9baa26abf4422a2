// HttpCheck (type "http"): one HttpProbe (http_probe.h) per run against `url`: status code,
// redirects, body keyword, JSON field, latency and TLS certificate days left, graded together;
// the summary leads with what is wrong ("status 503, expected 2xx (HTTP 503 in 12 ms)",
// "certificate expires in 4.9 days (< 7) (HTTP 200 in 8 ms, certificate valid 4 more days)").
//
// Config keys (besides name/type/interval/timeout; the run's time limit is `timeout`,
// default 10 s, for all hops together):
//   url (required), method (GET), headers (mapping), body,
//   expected_status: 200 | "2xx" | "200-299" or a list of them (default 200-399, or 200-299
//     with follow_redirects),
//   follow_redirects (false), max_redirects (5; more is critical),
//   body_contains / body_not_contains: a string or a list (all must / none may occur),
//   json_pointer ("/status") and json_equals ("ok", true, 3): a JSON field that must exist
//     and, with json_equals, have that value,
//   warning_ms / critical_ms: total time of all hops (default 1000 / 5000),
//   verify_tls (true), ca_file (extra CA bundle, checked readable at start-up),
//   cert_warning_days / cert_critical_days: days left on the server certificate below which
//     the check warns / fails (default 21 / 7; 0 disables).
// Metrics: http_up, http_status_code, http_duration_seconds, http_redirects,
// http_content_length_bytes, http_tls_cert_days_left (https only). details_json lists every
// hop (method, url, status, seconds, location) and the certificate's subject.
#pragma once

#include <memory>
#include <string>

#include "agent/check.h"
#include "agent/check_registry.h"
#include "agent/checks/http_probe.h"

namespace steadfast::agent {

class HttpCheck final : public Check {
 public:
  HttpCheck(std::string name, HttpProbeOptions options,
            std::unique_ptr<http::HttpClient> client = nullptr)
      : Check(std::move(name)), probe_(std::move(options), std::move(client)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  HttpProbe probe_;
};

// Factory for type "http".
StatusOr<std::unique_ptr<Check>> NewHttpCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
