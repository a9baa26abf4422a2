// OutboxSender: sends the notifications the alert engine wrote to the outbox, with retries.
//
// Workers take due entries (pending, next attempt reached) oldest first, each entry held by one
// worker at a time, and deliver them through the receiver's integration. A delivered entry is
// marked sent; a failure worth retrying is tried again after a backoff (1 s, 2 s, 4 s ... up to
// delivery.max_backoff); an entry refused for good (a 4xx answer), or still failing after
// delivery.retry_for, is marked failed with the reason. Entries survive restarts: a collector
// killed while sending sends them after it starts again. Chat robots with a rate limit
// (DingTalk, WeCom, Telegram: 20 a minute) never get more: what is over waits in the outbox and
// goes out as one digest (every alert of the held notifications, cut to the robot's size) when
// the window has room. "user:<name>" entries (escalation
// steps to people) are emailed to the account's address with alerting.user_email. A kill between the receiver's answer
// and marking the entry sent makes the entry go out once more, with the same Idempotency-Key.
#pragma once

#include <prometheus/registry.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "alerting/alerting_config.h"
#include "collector/alerts/live_config.h"
#include "collector/alerts/alert_store.h"
#include "common/clock.h"
#include "common/http/http_client.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace steadfast::collector::alerts {

// A person's email address by username: NotFound for an unknown user, FailedPrecondition for a
// deactivated one or one without an address.
using UserEmailLookup = std::function<StatusOr<std::string>(const std::string& username)>;

struct OutboxSenderOptions {
  int workers = 4;
  // How long a worker sleeps at most before looking at the outbox again, when nothing woke it.
  int64_t poll_ms = 1'000;
  // For "user:<name>" entries (escalation); unset: they fail.
  UserEmailLookup user_email;
};

class OutboxSender {
 public:
  // `config` must outlive the sender; each delivery uses the snapshot in force when it starts.
  OutboxSender(const LiveAlertingConfig& config, SqliteAlertStore& store, http::HttpClient& client,
               const Clock& clock, prometheus::Registry* registry, OutboxSenderOptions options = {});
  ~OutboxSender();

  void Start();
  void Wake();
  void Shutdown();  // in-flight sends finish; idempotent

  // Sends every entry due now on the caller's thread (tests). Returns how many were attempted.
  StatusOr<int> SendDueOnce();

 private:
  void Worker();
  // Takes one due entry not held by another worker.
  StatusOr<std::optional<OutboxEntry>> Take();
  void Deliver(const OutboxEntry& e);
  // A chat integration with a rate limit: sends `e` with every other due entry of the same
  // integration as one digest, or holds it back (Defer) while the window is full.
  void DeliverLimited(const alerting::AlertingConfig& config, const OutboxEntry& e, const alerting::ChatConfig& chat);
  // Marks the entries (one message: an entry, or a digest's) sent, to retry (with backoff) or
  // failed, by `st`, in one transaction.
  void Record(const alerting::AlertingConfig& config, const std::vector<OutboxEntry>& entries, const Status& st);
  void Release(int64_t id);

  const LiveAlertingConfig& config_;
  SqliteAlertStore& store_;
  http::HttpClient& client_;
  const Clock& clock_;
  const OutboxSenderOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int64_t> in_flight_;  // guarded by mu_
  uint64_t wakes_ = 0;           // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  std::vector<std::thread> threads_;
  // Send times within the window, per receiver/integration with a rate limit. In memory: after
  // a restart a robot may get up to one extra window's worth.
  std::mutex limits_mu_;
  std::map<std::string, std::deque<int64_t>> windows_;  // guarded by limits_mu_

  prometheus::Family<prometheus::Counter>* sent_ = nullptr;
};

}  // namespace steadfast::collector::alerts
