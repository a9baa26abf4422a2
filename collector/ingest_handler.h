// IngestHandler: the agent-facing endpoints, as pure HttpRequest -> HttpResponse functions.
//
//   POST /api/v1/enroll   EnrollRequest -> 200 EnrollResponse; 401 unknown enrolment token
//   POST /api/v1/reports  ReportBatch (zstd or identity) -> 200 ReportAck once durable;
//                         401 bad/missing token, 403 agent_id not the token's agent,
//                         400 malformed (field named), 413 too large, 415 unknown
//                         Content-Encoding, 503 storage unavailable (with Retry-After)
//
// The wire contract is common/protocol/PROTOCOL.md. Only the SHA-256 of an agent token is
// stored. Metrics (registered in the given registry):
//   steadfast_collector_ingest_results_total             results newly stored
//   steadfast_collector_ingest_duplicate_results_total   results that were already stored
//   steadfast_collector_ingest_batches_total{result}     batches by outcome (ok, unauthenticated,
//       forbidden, invalid, too_large, unsupported_encoding, unavailable, error)
//   steadfast_collector_ingest_batch_duration_seconds    handling time of a report batch
//   steadfast_collector_enrollments_total{result}        enrolments by outcome
// Thread-safe; handlers may block while storage commits.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "collector/store/storage.h"
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

struct IngestOptions {
  // Tokens that allow an agent to enrol (from the config). Empty: enrolment is closed.
  std::vector<std::string> enrollment_tokens;
  size_t max_body_bytes = 16u << 20;          // request body as received (compressed)
  size_t max_decompressed_bytes = 64u << 20;  // after zstd decompression
  // Called with every batch once it is durable (before the answer), with its received time:
  // the alert engine's feed. Must not block.
  std::function<void(const protocol::ReportBatch&, int64_t received_at_ms)> after_store;
  // Actions (PROTOCOL.md, "Actions"): the states an agent reported, stored durably before the
  // answer (an error answers 503 and the agent retries); and the actions to list in the answer
  // (an error there only leaves them for the next report).
  std::function<Status(const std::string& agent_id, const std::vector<protocol::ActionResult>&, int64_t now_ms)>
      record_actions;
  std::function<StatusOr<std::vector<protocol::ActionRequest>>(const std::string& agent_id, int64_t now_ms)>
      deliver_actions;
};

class IngestHandler {
 public:
  IngestHandler(Storage& storage, const Clock& clock, prometheus::Registry& registry,
                IngestOptions options);

  http::HttpResponse Enroll(const http::HttpRequest& request);
  http::HttpResponse Reports(const http::HttpRequest& request);

 private:
  bool EnrollmentTokenValid(const std::string& token) const;
  http::HttpResponse Finish(const char* result, std::chrono::steady_clock::time_point started,
                            http::HttpResponse response);

  Storage& storage_;
  const Clock& clock_;
  const IngestOptions options_;
  std::vector<std::string> enrollment_token_hashes_;  // SHA-256 hex of each enrolment token

  prometheus::Counter& results_total_;
  prometheus::Counter& duplicate_results_total_;
  prometheus::Family<prometheus::Counter>& batches_total_;
  prometheus::Histogram& batch_duration_;
  prometheus::Family<prometheus::Counter>& enrollments_total_;
};

}  // namespace steadfast::collector
