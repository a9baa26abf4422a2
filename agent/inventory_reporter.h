// InventoryReporter: keeps the collector's copy of this host's inventory current
// (PUT {collector_url}/api/v1/inventory, bearer agent token; PROTOCOL.md "Inventory").
//
// The uplink thread calls Tick() once per report cycle. A Tick re-reads the hardware when
// collect_interval has passed (it is cheap but not free: sysfs and cpuinfo) and sends the
// inventory when it differs from the last one the collector accepted (compared in memory, so a
// restart sends it again), when none was accepted yet, or when resend_interval has passed since
// the last acceptance (so a collector that lost it gets it back within a day).
//
// Inventory is never spooled and never holds up reports: a failure (transport error, 5xx, 429,
// 401/403) is retried at a later Tick, no sooner than retry_interval, doubling up to
// max_backoff while failures continue. A 4xx refusal of the document itself (400, 404 from an
// older collector, 413, 415, 422) is logged once and not retried until the inventory changes or
// resend_interval passes: resending the same bytes would be refused again.
//
// Not thread-safe: one thread (the uplink's) drives it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "agent/inventory.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "common/http/http_client.h"
#include "common/protocol/protocol.h"

namespace steadfast::agent {

struct InventoryReporterOptions {
  std::string collector_url;
  std::string agent_id;
  std::string agent_token;
  // Hostname, OS, kernel, arch and agent version, read again at every collection (an OS
  // upgrade changes os-release without a restart). The agent passes CollectHostInfo.
  std::function<protocol::HostInfo()> host_info;
  InventoryRoots roots;
  Millis collect_interval{3'600'000};
  Millis resend_interval{86'400'000};
  Millis retry_interval{5'000};
  Millis max_backoff{3'600'000};
  Millis request_timeout{10'000};
};

enum class InventoryOutcome {
  kNotDue,   // nothing to send (unchanged and recently accepted, or waiting to retry)
  kSent,     // the collector accepted it (2xx)
  kFailed,   // transient failure; retried at a later Tick
  kRefused,  // the collector refused the document (4xx); not resent until it changes
};
// "not_due", "sent", "failed", "refused".
std::string_view InventoryOutcomeName(InventoryOutcome outcome);

class InventoryReporter {
 public:
  // Borrows everything; all must outlive the reporter.
  InventoryReporter(FileSystem& fs, http::HttpClient& client, const Clock& clock,
                    InventoryReporterOptions options);

  InventoryOutcome Tick();

  // The inventory the collector last accepted, if any.
  const std::optional<protocol::HostInventory>& last_accepted() const { return last_accepted_; }
  int consecutive_failures() const { return failures_; }

 private:
  InventoryOutcome Send(const protocol::HostInventory& inventory,
                        std::chrono::steady_clock::time_point now);

  FileSystem& fs_;
  http::HttpClient& client_;
  const Clock& clock_;
  const InventoryReporterOptions options_;
  const std::string url_;

  std::optional<protocol::HostInventory> current_;  // last collected
  std::chrono::steady_clock::time_point collected_at_{};
  std::optional<protocol::HostInventory> last_accepted_;
  std::chrono::steady_clock::time_point accepted_at_{};
  // A refused document: not sent again before it changes or resend_interval passes.
  std::optional<protocol::HostInventory> refused_;
  std::chrono::steady_clock::time_point refused_at_{};
  int failures_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
};

}  // namespace steadfast::agent
