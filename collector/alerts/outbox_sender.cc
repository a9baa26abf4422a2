#include "collector/alerts/outbox_sender.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include <algorithm>
#include <chrono>

#include "alerting/notify/chat_notifier.h"
#include "alerting/notify/email_notifier.h"
#include "alerting/notify/webhook_notifier.h"
#include "common/logging.h"

namespace steadfast::collector::alerts {
OutboxSender::OutboxSender(const LiveAlertingConfig& config, SqliteAlertStore& store, http::HttpClient& client,
                           const Clock& clock, prometheus::Registry* registry, OutboxSenderOptions options)
    : config_(config), store_(store), client_(client), clock_(clock), options_(options) {
  if (registry != nullptr) {
    sent_ = &prometheus::BuildCounter()
                 .Name("steadfast_notifications_total")
                 .Help("Notification delivery attempts by receiver and result (sent, retry, failed)")
                 .Register(*registry);
  }
}

OutboxSender::~OutboxSender() { Shutdown(); }

void OutboxSender::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!threads_.empty() || stopping_) return;
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { Worker(); });
}

void OutboxSender::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

void OutboxSender::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (std::thread& t : threads) t.join();
}

StatusOr<std::optional<OutboxEntry>> OutboxSender::Take() {
  // Enough rows that every worker finds one the others do not hold.
  SF_ASSIGN_OR_RETURN(std::vector<OutboxEntry> due,
                      store_.DueOutbox(clock_.NowMillis(), static_cast<int64_t>(options_.workers) * 2 + 8));
  std::lock_guard<std::mutex> lock(mu_);
  for (OutboxEntry& e : due) {
    if (in_flight_.insert(e.id).second) return std::optional<OutboxEntry>(std::move(e));
  }
  return std::optional<OutboxEntry>();
}

void OutboxSender::Release(int64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(id);
    ++wakes_;
  }
  cv_.notify_all();
}

void OutboxSender::Deliver(const OutboxEntry& e) {
  const int64_t now = clock_.NowMillis();
  const std::shared_ptr<const alerting::AlertingConfig> config = config_.Get();
  Status st;
  const alerting::ReceiverConfig* receiver = config->FindReceiver(e.receiver);
  const std::optional<alerting::IntegrationRef> integration =
      receiver != nullptr ? receiver->FindIntegration(e.integration) : std::nullopt;
  if (e.integration.rfind("user:", 0) == 0) {
    const std::string user = e.integration.substr(5);
    StatusOr<std::string> address =
        options_.user_email ? options_.user_email(user) : StatusOr<std::string>(FailedPreconditionError("no directory"));
    if (!address.ok()) {
      st = FailedPreconditionError("user '" + user + "': " + address.status().message());
    } else if (!config->user_email) {
      st = FailedPreconditionError("alerting.user_email is not configured");
    } else {
      alerting::EmailConfig c = *config->user_email;
      c.to = {*address};
      st = alerting::SendEmailNotification(c, e.body, e.dedup_key, now);
    }
  } else if (receiver == nullptr) {
    st = FailedPreconditionError("receiver '" + e.receiver + "' is no longer configured");
  } else if (!integration) {
    st = FailedPreconditionError("receiver '" + e.receiver + "' has no integration " + e.integration);
  } else if (integration->webhook != nullptr) {
    st = alerting::SendWebhook(client_, *integration->webhook, e.body, e.dedup_key, now);
  } else if (integration->email != nullptr) {
    st = alerting::SendEmailNotification(*integration->email, e.body, e.dedup_key, now);
  } else if (integration->chat->rate_limit_messages > 0) {
    DeliverLimited(*config, e, *integration->chat);
    return;
  } else {
    st = alerting::SendChat(client_, *integration->chat, e.body, now);
  }
  Record(*config, {e}, st);
}

void OutboxSender::DeliverLimited(const alerting::AlertingConfig& config, const OutboxEntry& e,
                                  const alerting::ChatConfig& chat) {
  const int64_t now = clock_.NowMillis();
  const std::string key = e.receiver + "/" + e.integration;
  bool last_slot = false;
  {
    std::lock_guard<std::mutex> lock(limits_mu_);
    std::deque<int64_t>& sent = windows_[key];
    while (!sent.empty() && sent.front() <= now - chat.rate_limit_window_ms) sent.pop_front();
    if (static_cast<int>(sent.size()) >= chat.rate_limit_messages) {
      // Held in the outbox until the window has room (with everything else due for this
      // integration, in one statement: a storm holds back thousands); then the window's last
      // message is a digest of what was held.
      Status deferred = store_.DeferIntegration(e.receiver, e.integration, sent.front() + chat.rate_limit_window_ms);
      if (!deferred.ok()) SF_LOG_WARN("notification {}: cannot hold it back: {}", e.id, deferred.ToString());
      return;
    }
    sent.push_back(now);
    last_slot = static_cast<int>(sent.size()) == chat.rate_limit_messages;
  }
  // Under the limit each notification goes by itself; the window's last message carries, as one
  // digest, everything due for this integration, so nothing waits longer than a window.
  std::vector<OutboxEntry> batch = {e};
  StatusOr<std::vector<OutboxEntry>> due =
      last_slot ? store_.DueFor(e.receiver, e.integration, now, 1000) : StatusOr<std::vector<OutboxEntry>>(std::vector<OutboxEntry>{});
  if (due.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (OutboxEntry& d : *due) {
      if (d.id != e.id && in_flight_.insert(d.id).second) batch.push_back(std::move(d));
    }
  }
  std::string body = e.body;
  if (batch.size() > 1) {
    std::vector<std::string> bodies;
    for (const OutboxEntry& b : batch) bodies.push_back(b.body);
    body = alerting::MergeNotifications(bodies);
  }
  const Status st = alerting::SendChat(client_, chat, body, now);
  Record(config, batch, st);
  for (size_t i = 1; i < batch.size(); ++i) Release(batch[i].id);
}

void OutboxSender::Record(const alerting::AlertingConfig& config, const std::vector<OutboxEntry>& entries,
                          const Status& st) {
  const int64_t done = clock_.NowMillis();
  std::vector<SqliteAlertStore::OutboxOutcome> outcomes;
  std::vector<std::string> results;
  for (const OutboxEntry& e : entries) {
    SqliteAlertStore::OutboxOutcome o;
    o.id = e.id;
    if (st.ok()) {
      o.kind = SqliteAlertStore::OutboxOutcome::Kind::kSent;
      o.at_ms = done;
      results.push_back("sent");
    } else if (st.code() == StatusCode::kFailedPrecondition || done - e.created_ms >= config.retry_for_ms) {
      SF_LOG_ERROR("notification {} to {} given up after {} attempts: {}", e.id, e.receiver, e.attempts + 1,
                   st.message());
      o.kind = SqliteAlertStore::OutboxOutcome::Kind::kFailed;
      o.at_ms = done;
      o.error = st.message();
      results.push_back("failed");
    } else {
      const int shift = std::min(e.attempts, 20);
      const int64_t backoff = std::min<int64_t>(config.max_backoff_ms, 1000LL << shift);
      SF_LOG_WARN("notification {} to {} failed (attempt {}), retrying in {} ms: {}", e.id, e.receiver, e.attempts + 1,
                  backoff, st.message());
      o.kind = SqliteAlertStore::OutboxOutcome::Kind::kRetry;
      o.at_ms = done + backoff;
      o.error = st.message();
      results.push_back("retry");
    }
    outcomes.push_back(std::move(o));
  }
  if (Status marked = store_.RecordOutcomes(outcomes); !marked.ok()) {
    SF_LOG_ERROR("notifications {}..: cannot record the outcome: {}", entries.empty() ? 0 : entries.front().id,
                 marked.ToString());
  }
  if (sent_ != nullptr) {
    for (size_t i = 0; i < entries.size(); ++i) {
      sent_->Add({{"receiver", entries[i].receiver}, {"result", results[i]}}).Increment();
    }
  }
}

StatusOr<int> OutboxSender::SendDueOnce() {
  int n = 0;
  while (true) {
    SF_ASSIGN_OR_RETURN(std::optional<OutboxEntry> e, Take());
    if (!e) return n;
    Deliver(*e);
    Release(e->id);
    ++n;
  }
}

void OutboxSender::Worker() {
  while (true) {
    uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      seen = wakes_;
    }
    StatusOr<std::optional<OutboxEntry>> e = Take();
    if (e.ok() && e->has_value()) {
      Deliver(**e);
      Release((*e)->id);
      continue;
    }
    if (!e.ok()) SF_LOG_WARN("outbox: cannot read due notifications: {}", e.status().ToString());
    int64_t wait_ms = options_.poll_ms;
    if (e.ok()) {
      StatusOr<std::optional<int64_t>> next = store_.NextOutboxAttempt();
      // A due entry another worker holds wakes this one when released (Release).
      const int64_t now = clock_.NowMillis();
      if (next.ok() && next->has_value() && **next > now) wait_ms = std::min(**next - now, options_.poll_ms);
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping_ || wakes_ != seen; });
  }
}

}  // namespace steadfast::collector::alerts
