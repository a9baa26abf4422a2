#include "agent/uplink.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/compression.h"
#include "common/logging.h"

namespace steadfast::agent {
namespace {

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The message of a JSON error body ({"error":{"message":..,"field":..}}), or the start of the
// body as it is.
std::string ErrorMessageOf(const std::string& body) {
  if (body.empty()) return "(empty body)";
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    std::string msg = e.value("message", std::string());
    std::string field = e.value("field", std::string());
    if (!field.empty()) msg += " (field " + field + ")";
    if (!msg.empty()) return msg;
  }
  constexpr size_t kMaxShown = 200;
  return body.size() > kMaxShown ? body.substr(0, kMaxShown) + "..." : body;
}

// Retry-After in delta-seconds form; HTTP dates are not worth the parsing here.
Millis RetryAfterOf(const http::HttpResponse& resp) {
  auto v = resp.headers.Get("Retry-After");
  if (!v || v->empty() || v->size() > 9) return Millis(0);
  if (!std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Millis(0);
  }
  return Millis(std::stoll(*v) * 1000);
}

}  // namespace

std::string_view UplinkOutcomeName(UplinkOutcome outcome) {
  switch (outcome) {
    case UplinkOutcome::kIdle:
      return "idle";
    case UplinkOutcome::kSent:
      return "sent";
    case UplinkOutcome::kRetryLater:
      return "retry";
    case UplinkOutcome::kBatchSplit:
      return "split";
    case UplinkOutcome::kRejected:
      return "rejected";
    case UplinkOutcome::kUnauthorized:
      return "unauthorized";
  }
  return "unknown";
}

Millis BackoffDelay(int failures, Millis initial, Millis max, Random& random) {
  if (failures < 1) failures = 1;
  int64_t cap = std::max<int64_t>(initial.count(), 0);
  // Double (failures - 1) times, stopping at max so the shift cannot overflow.
  for (int i = 1; i < failures && cap < max.count(); ++i) cap *= 2;
  cap = std::min<int64_t>(cap, max.count());
  if (cap <= 0) return Millis(0);
  return Millis(static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(cap) + 1)));
}

Uplink::Uplink(Spool& spool, http::HttpClient& client, Clock& clock, Random& random,
               UplinkOptions options)
    : spool_(spool),
      client_(client),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      url_(TrimSlash(options_.collector_url) + "/api/v1/reports"),
      batch_size_(std::max<size_t>(options_.batch_size, 1)) {}

UplinkResult Uplink::Fail(UplinkResult result, Millis retry_after_hint) {
  ++failures_;
  Millis delay = BackoffDelay(failures_, options_.initial_backoff, options_.max_backoff, random_);
  delay = std::max(delay, std::min(retry_after_hint, options_.max_backoff));
  next_attempt_ = clock_.Monotonic() + delay;
  result.outcome = UplinkOutcome::kRetryLater;
  result.retry_after = delay;
  SF_LOG_WARN("uplink: {}; retrying in {} ms (failure {} in a row, {} results spooled)",
              result.message, delay.count(), failures_, spool_.Count());
  return result;
}

UplinkResult Uplink::SendOnce() {
  UplinkResult result;
  if (unauthorized_) {
    result.outcome = UplinkOutcome::kUnauthorized;
    result.message = "stopped: the collector refused this agent's token";
    return result;
  }
  const auto now = clock_.Monotonic();
  if (now < next_attempt_) {
    result.outcome = UplinkOutcome::kRetryLater;
    result.retry_after = std::chrono::duration_cast<Millis>(next_attempt_ - now);
    result.message = "backing off";
    return result;
  }
  auto entries = spool_.PeekRawBatch(batch_size_);
  if (!entries.ok()) {
    result.message = "cannot read the spool: " + entries.status().ToString();
    return Fail(std::move(result));
  }
  std::vector<PendingActionResult> pending;
  if (options_.actions != nullptr) {
    auto unreported = options_.actions->Unreported(protocol::kMaxActionResultsPerBatch);
    if (!unreported.ok()) {
      result.message = "cannot read the action log: " + unreported.status().ToString();
      return Fail(std::move(result));
    }
    pending = std::move(unreported).value();
  }
  if (entries->empty() && pending.empty()) {
    // Nothing to send; an empty report once a poll is due (the answer brings actions).
    const bool poll_due = options_.on_actions && (last_exchange_ == std::chrono::steady_clock::time_point{} ||
                                                  now - last_exchange_ >= options_.poll_interval);
    if (!poll_due) {
      result.outcome = UplinkOutcome::kIdle;
      return result;
    }
  }
  if (actions_alone_ && pending.empty()) actions_alone_ = false;
  if (actions_alone_) entries->clear();  // the last batch with both was refused: find out which
  const uint64_t first_seq = entries->empty() ? 0 : entries->front().seq;
  const uint64_t last_seq = entries->empty() ? 0 : entries->back().seq;
  result.entries = entries->size();
  result.action_results = pending.size();

  protocol::ReportBatch envelope;
  envelope.agent_id = options_.agent_id;
  envelope.sent_at_ms = clock_.NowMillis();
  envelope.host = options_.host;
  for (const PendingActionResult& p : pending) envelope.action_results.push_back(p.result);
  // After the collector has them (or refused them for good): not sent again.
  const auto mark_reported = [&]() -> Status {
    std::vector<std::pair<std::string, int64_t>> versions;
    for (const PendingActionResult& p : pending) versions.emplace_back(p.result.id, p.version);
    return options_.actions->MarkReported(versions);
  };

  http::HttpClientRequest req;
  req.method = "POST";
  req.url = url_;
  req.timeout = options_.request_timeout;
  req.headers.Set("Authorization", "Bearer " + options_.agent_token);
  req.headers.Set("Content-Type", "application/json");
  std::string json = protocol::EncodeReportBatchRaw(envelope, *entries);
  entries->clear();
  entries->shrink_to_fit();
  if (compress_) {
    req.headers.Set("Content-Encoding", "zstd");
    req.body = ZstdCompress(json);
  } else {
    req.body = std::move(json);
  }
  json.clear();
  json.shrink_to_fit();

  result.attempted = true;
  auto resp = client_.Do(req);
  if (!resp.ok()) {
    result.message = fmt::format("sending {} results to {} failed: {}", result.entries, url_,
                                 resp.status().ToString());
    return Fail(std::move(result));
  }
  const int code = resp->status;
  result.http_status = code;

  if (code == 200) {
    auto ack = protocol::DecodeReportAck(resp->body);
    if (!ack.ok()) {
      result.message = "collector answered 200 with an unreadable ack: " + ack.status().message();
      return Fail(std::move(result));
    }
    if (result.entries > 0 && ack->acked_through < first_seq) {
      result.message = fmt::format("collector acknowledged through {}, before this batch ({}-{})",
                                   ack->acked_through, first_seq, last_seq);
      return Fail(std::move(result));
    }
    // Never delete past this batch: later rows were not sent.
    const uint64_t through = std::min(ack->acked_through, last_seq);
    if (result.entries > 0) {
      auto deleted = spool_.Ack(through);
      if (!deleted.ok()) {
        result.message = "cannot delete acknowledged results: " + deleted.status().ToString();
        return Fail(std::move(result));
      }
    }
    if (!pending.empty()) {
      Status marked = mark_reported();
      // Not fatal: they are sent again, and the collector takes a state it has as a no-op.
      if (!marked.ok()) SF_LOG_WARN("uplink: cannot mark action results reported: {}", marked.ToString());
    }
    last_exchange_ = clock_.Monotonic();
    actions_alone_ = false;
    if (!ack->actions.empty() && options_.on_actions) options_.on_actions(ack->actions);
    failures_ = 0;
    next_attempt_ = {};
    last_success_ms_ = clock_.NowMillis();
    batch_size_ = std::min(std::max<size_t>(options_.batch_size, 1), batch_size_ * 2);
    result.outcome = UplinkOutcome::kSent;
    result.acked_through = through;
    result.message = fmt::format("{} results delivered ({} new, {} duplicates){}", result.entries,
                                 ack->accepted, ack->duplicates,
                                 result.action_results > 0
                                     ? fmt::format(", {} action states", result.action_results)
                                     : std::string());
    SF_LOG_DEBUG("uplink: {}", result.message);
    return result;
  }
  if (code == 401 || code == 403) {
    unauthorized_ = true;
    result.outcome = UplinkOutcome::kUnauthorized;
    result.message = fmt::format("collector answered {}: {}", code, ErrorMessageOf(resp->body));
    SF_LOG_ERROR(
        "uplink: the collector refused this agent's token ({}). Sending has stopped; results stay "
        "in the spool. Re-enrol the agent: stop it, delete agent.token in its state directory, "
        "set enrollment_token in its config and start it again.",
        result.message);
    return result;
  }
  if (code == 415 && compress_) {
    compress_ = false;
    result.outcome = UplinkOutcome::kRetryLater;
    result.message = "collector does not accept zstd bodies; sending uncompressed";
    SF_LOG_WARN("uplink: {}", result.message);
    return result;
  }
  // 415 after the fallback to identity: treated as malformed, as PROTOCOL.md says.
  if (code == 400 || code == 413 || code == 415 || code == 422) {
    const std::string why = fmt::format("HTTP {}: {}", code, ErrorMessageOf(resp->body));
    if (!pending.empty() && result.entries > 0) {
      // Results and action states together: send the action states alone next, to see which.
      actions_alone_ = true;
      failures_ = 0;
      result.outcome = UplinkOutcome::kBatchSplit;
      result.message = fmt::format("collector refused a batch with action states ({}); sending those alone", why);
      SF_LOG_WARN("uplink: {}", result.message);
      return result;
    }
    if (!pending.empty()) {
      // The action states alone are refused: they can never be delivered. Marked reported, so
      // that they do not block everything after them.
      Status marked = mark_reported();
      if (!marked.ok()) SF_LOG_WARN("uplink: cannot mark refused action states: {}", marked.ToString());
      actions_alone_ = false;
      failures_ = 0;
      result.outcome = UplinkOutcome::kRejected;
      result.message = fmt::format("collector refused {} action states ({}); dropped them", pending.size(), why);
      SF_LOG_ERROR("uplink: {}", result.message);
      return result;
    }
    if (result.entries == 0) {
      // An empty poll refused: nothing to split or move aside; try again later.
      result.message = fmt::format("collector refused an empty report ({})", why);
      return Fail(std::move(result));
    }
    failures_ = 0;
    if (result.entries > 1) {
      batch_size_ = std::max<size_t>(result.entries / 2, 1);
      result.outcome = UplinkOutcome::kBatchSplit;
      result.message = fmt::format("collector refused a batch of {} ({}); retrying with {}",
                                   result.entries, why, batch_size_);
      SF_LOG_WARN("uplink: {}", result.message);
      return result;
    }
    Status moved = spool_.MoveToRejected({first_seq}, why);
    if (!moved.ok()) {
      result.message = "cannot move a refused result aside: " + moved.ToString();
      return Fail(std::move(result));
    }
    result.outcome = UplinkOutcome::kRejected;
    result.message = fmt::format(
        "collector refused result seq {} ({}); moved it to the rejected "
        "table of the spool",
        first_seq, why);
    SF_LOG_ERROR("uplink: {}", result.message);
    return result;
  }
  // 408, 429, 5xx and anything unexpected (404 from a wrong URL, a proxy's 3xx): nothing here
  // says the entries are bad, so keep them and retry.
  result.message = fmt::format("collector answered {}: {}", code, ErrorMessageOf(resp->body));
  return Fail(std::move(result), RetryAfterOf(*resp));
}

}  // namespace steadfast::agent
