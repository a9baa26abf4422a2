// Uplink: moves spooled results to the collector, one HTTP exchange per SendOnce().
//
// An exchange takes the oldest `batch_size` entries, POSTs them as a ReportBatch
// ({collector_url}/api/v1/reports, JSON body compressed with zstd, bearer token) and acts on
// the answer (wire contract in docs/DEV-BRIEF.md and common/protocol/PROTOCOL.md):
//   200          decode the ReportAck, delete the acknowledged entries of this batch.
//   401, 403     the token is no longer valid for this agent: stop sending (results are kept)
//                and tell the admin to re-enrol. Sending resumes only after a restart.
//   400/413/422  the batch is poison: halve the batch size and retry, so one bad entry ends up
//                alone; a single entry refused this way is moved to the spool's rejected table.
//   415          the collector does not take zstd: resend uncompressed from now on (a 415 to an
//                uncompressed body is treated like 400).
//   408, 429, 5xx, connect errors, timeouts, other answers: back off (exponential with full
//                jitter, honouring Retry-After up to max_backoff) and try again.
// Entries stay in the spool until a 200 covers them, so a response lost after the collector
// stored the batch only causes a resend, which the collector deduplicates on seq.
//
// Actions (PROTOCOL.md, "Actions"): with an ActionLog, each batch also carries the action
// states the collector has not acknowledged (a batch may carry only those), a 200 marks them
// reported, and the actions in the answer go to `on_actions`. With nothing at all to send, an
// empty batch still goes out once `poll_interval` has passed since the last exchange, so that
// actions reach an idle agent.
//
// SendOnce never sleeps: during a backoff it returns kRetryLater at once with the time left,
// and the caller waits (interruptibly). Not thread-safe: one uplink thread drives it.
#pragma once

#include <functional>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/action_log.h"
#include "agent/spool.h"
#include "common/clock.h"
#include "common/http/http_client.h"
#include "common/protocol/protocol.h"
#include "common/random.h"

namespace steadfast::agent {

struct UplinkOptions {
  std::string collector_url;  // "https://collector.example:8443", no trailing slash needed
  std::string agent_id;
  std::string agent_token;
  protocol::HostInfo host;
  size_t batch_size = 500;
  Millis request_timeout{10'000};
  Millis initial_backoff{1'000};
  Millis max_backoff{60'000};
  Millis poll_interval{15'000};
  ActionLog* actions = nullptr;  // optional
  std::function<void(const std::vector<protocol::ActionRequest>&)> on_actions;
};

enum class UplinkOutcome {
  kIdle,          // nothing to send and no poll due: nothing sent
  kSent,          // 200: entries acknowledged and deleted
  kRetryLater,    // transient failure or still backing off; wait retry_after
  kBatchSplit,    // batch refused as malformed; the batch size was halved, retry now
  kRejected,      // a single entry was refused and moved to the rejected table; go on now
  kUnauthorized,  // 401/403: sending stopped until restart (re-enrol)
};
// "idle", "sent", "retry", "split", "rejected", "unauthorized" (metric label values).
std::string_view UplinkOutcomeName(UplinkOutcome outcome);

struct UplinkResult {
  UplinkOutcome outcome = UplinkOutcome::kIdle;
  int http_status = 0;  // 0 when no HTTP answer
  size_t entries = 0;   // entries in the batch sent
  size_t action_results = 0;  // action states in it
  uint64_t acked_through = 0;
  Millis retry_after{0};   // for kRetryLater: how long to wait before the next SendOnce
  bool attempted = false;  // a request went out (false while backing off or idle)
  std::string message;     // for logs and tests
};

// Full-jitter exponential backoff: uniform in [0, min(max, initial * 2^(failures-1))].
// failures is the number of consecutive failed attempts (>= 1). Pure.
Millis BackoffDelay(int failures, Millis initial, Millis max, Random& random);

class Uplink {
 public:
  // Borrows everything; all must outlive the Uplink.
  Uplink(Spool& spool, http::HttpClient& client, Clock& clock, Random& random,
         UplinkOptions options);

  // One exchange (or none while backing off / stopped / idle); see the file comment.
  UplinkResult SendOnce();

  bool unauthorized() const { return unauthorized_; }
  size_t current_batch_size() const { return batch_size_; }
  int consecutive_failures() const { return failures_; }
  bool compressing() const { return compress_; }
  // Unix ms of the last 200, 0 if none yet.
  int64_t last_success_ms() const { return last_success_ms_; }

 private:
  UplinkResult Fail(UplinkResult result, Millis retry_after_hint = Millis(0));

  Spool& spool_;
  http::HttpClient& client_;
  Clock& clock_;
  Random& random_;
  const UplinkOptions options_;
  const std::string url_;
  size_t batch_size_;
  int failures_ = 0;
  bool compress_ = true;
  bool unauthorized_ = false;
  bool actions_alone_ = false;  // send only action states (a batch with both was refused)
  int64_t last_success_ms_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::steady_clock::time_point last_exchange_{};  // of the last 200 (polls are due from it)
};

}  // namespace steadfast::agent
