// HttpProbe: one HTTP(S) request as a monitoring probe, with everything an operator asks of a
// web endpoint graded in one place: the status code, redirects (followed here, hop by hop,
// because the HttpClient does not follow them), a keyword in the body or its absence, a JSON
// field's value, the latency, and the TLS certificate's days left. The http check
// (http_check.h) is a thin wrapper; other checks that need to look at a web page (the
// dataentry check's login page) embed an HttpProbe with their own options and read the
// outcome, including the final response itself.
//
// Transport: the agent's Beast HttpClient (common/http/beast_http_client.h), one per probe,
// with the probe's TLS settings. Each request carries "Connection: close" (unless the options
// set a Connection header), so every run measures a fresh connect and TLS handshake and reads
// the certificate the server presents now. Every request's timeout is what is left of
// ctx.deadline (capped by options.timeout), so a run with redirects still ends by then.
//
// Grading (the worst of these wins):
//   - no response (refused, reset, timed out, TLS handshake or verification failed, bad
//     redirect target): critical, the client's reason in the summary;
//   - final status not in expected_status: critical;
//   - more than max_redirects redirects: critical;
//   - body_contains missing / body_not_contains present: critical;
//   - json_pointer absent, body not JSON, or json_equals not matching: critical;
//   - total time (all hops) >= warning_ms / critical_ms: warning / critical;
//   - certificate days left < cert_warning_days / cert_critical_days: warning / critical
//     (the smallest over all https hops; an expired certificate has negative days left and
//     fails verification first unless verify_tls is off).
// Unknown only when the probe cannot judge: the CA file vanished after start-up, or the
// client reported an internal error.
//
// Thread-safe: Probe() may run concurrently (the client is thread-safe; the probe keeps no
// state between runs).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/check.h"
#include "agent/checks/check_util.h"
#include "common/config/config_node.h"
#include "common/http/http_client.h"
#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::agent {

struct HttpProbeOptions {
  std::string url;  // http:// or https://
  std::string method = "GET";
  http::Headers headers;
  std::string body;
  // Accepted final status codes as inclusive ranges. Empty: 200-399 when redirects are not
  // followed (a redirect is a healthy answer), 200-299 when they are.
  std::vector<std::pair<int, int>> expected_status;
  bool follow_redirects = false;
  int max_redirects = 5;
  std::vector<std::string> body_contains;      // each must occur (case-sensitive)
  std::vector<std::string> body_not_contains;  // none may occur
  std::string json_pointer;                    // RFC 6901, e.g. "/status"; empty: no JSON check
  // The value json_pointer must have: a string field compares with this text as it is; any
  // other field compares with this text parsed as JSON (true, 3, null, {"a":1}). Unset: the
  // field must merely exist.
  std::optional<std::string> json_equals;
  Millis timeout{10'000};  // per run, cut to ctx.deadline
  bool verify_tls = true;
  std::string ca_file;  // extra CA bundle (PEM) besides the system store
  Thresholds latency_ms{1'000.0, 5'000.0};
  std::optional<double> cert_warning_days = 21;  // days left below this: warning
  std::optional<double> cert_critical_days = 7;  // below this: critical
  // Response bodies up to this size are read; a larger one fails the probe (critical).
  size_t max_body_bytes = 8 * 1024 * 1024;
  // Metric names start with this ("http" -> http_status_code, http_duration_seconds, ...).
  std::string metric_prefix = "http";
};

// One request/response of a probe, in order.
struct HttpHop {
  std::string method;
  std::string url;
  int status = 0;
  double seconds = 0;
  std::string location;  // the Location header of a redirect, as sent
};

struct HttpProbeOutcome {
  protocol::CheckStatus status = protocol::CheckStatus::kUnknown;
  std::string summary;                  // one line, the problems first
  std::vector<std::string> problems;    // what made it warning/critical/unknown, one phrase each
  bool responded = false;               // a final HTTP response arrived
  std::optional<http::HttpResponse> response;  // that response (headers, body, certificate)
  std::string final_url;
  int redirects = 0;
  double total_seconds = 0;
  std::vector<HttpHop> hops;
  std::optional<double> cert_days_left;  // smallest over the https hops
  std::string cert_subject;              // of that certificate
  std::string cert_url;                  // the hop that presented it
  std::vector<protocol::Metric> metrics;
  std::string details_json = "{}";
};

class HttpProbe {
 public:
  // `client`: null makes a Beast client with the options' TLS settings (tests pass others).
  explicit HttpProbe(HttpProbeOptions options, std::unique_ptr<http::HttpClient> client = nullptr);
  HttpProbeOutcome Probe(const CheckContext& ctx) const;
  const HttpProbeOptions& options() const { return options_; }

 private:
  HttpProbeOptions options_;
  std::unique_ptr<http::HttpClient> client_;
};

// One probe through `client` (what HttpProbe::Probe does with its own client): for callers that
// keep their client elsewhere, like the dataentry check's login probe. Timed by ctx.clock.
HttpProbeOutcome RunHttpProbe(http::HttpClient& client, const HttpProbeOptions& options,
                              const CheckContext& ctx);

// The config keys ReadHttpProbeOptions reads (for CheckNoUnknownKeys):
//   url (required), method, headers (mapping), body, expected_status (one or a list of 200,
//   "2xx", "200-299"), follow_redirects, max_redirects (0-20), body_contains, body_not_contains
//   (a string or a list), json_pointer, json_equals, verify_tls, ca_file, warning_ms,
//   critical_ms, cert_warning_days, cert_critical_days. The run's limit is the check's
//   `timeout` (a common key): ReadHttpProbeOptions sets options.timeout from `timeout_ms`.
const std::vector<std::string>& HttpProbeKeys();
// Reads and validates those keys of `node` (errors name file:line:key; ca_file must be
// readable).
StatusOr<HttpProbeOptions> ReadHttpProbeOptions(const config::ConfigNode& node,
                                                int64_t timeout_ms);

// Parses one expected_status item: "200", "2xx", "200-299" -> inclusive range.
StatusOr<std::pair<int, int>> ParseStatusRange(const std::string& text);

// The absolute URL a redirect's Location points to from `base` (RFC 3986 section 5.2:
// absolute, scheme-relative "//host/p", absolute-path "/p", query-only "?q", or a relative
// path with ./ and ../ resolved). The fragment is dropped.
StatusOr<std::string> ResolveUrl(const std::string& base, const std::string& location);

}  // namespace steadfast::agent
