#include "agent/inventory_reporter.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/logging.h"

namespace steadfast::agent {
namespace {

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// "message (field f)" of a JSON error body, or the start of the body.
std::string DescribeError(const http::HttpResponse& resp) {
  auto j = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    std::string msg = e.value("message", std::string());
    const std::string field = e.value("field", std::string());
    if (!field.empty()) msg += " (field " + field + ")";
    if (!msg.empty()) return msg;
  }
  constexpr size_t kMaxShown = 200;
  return resp.body.size() > kMaxShown ? resp.body.substr(0, kMaxShown) + "..." : resp.body;
}

// Answers that refuse the document itself: sending the same one again cannot help.
bool RefusesDocument(int status) {
  return status == 400 || status == 404 || status == 405 || status == 413 || status == 415 ||
         status == 422;
}

}  // namespace

std::string_view InventoryOutcomeName(InventoryOutcome outcome) {
  switch (outcome) {
    case InventoryOutcome::kNotDue:
      return "not_due";
    case InventoryOutcome::kSent:
      return "sent";
    case InventoryOutcome::kFailed:
      return "failed";
    case InventoryOutcome::kRefused:
      return "refused";
  }
  return "unknown";
}

InventoryReporter::InventoryReporter(FileSystem& fs, http::HttpClient& client, const Clock& clock,
                                     InventoryReporterOptions options)
    : fs_(fs),
      client_(client),
      clock_(clock),
      options_(std::move(options)),
      url_(TrimSlash(options_.collector_url) + "/api/v1/inventory") {
  SF_CHECK(options_.host_info != nullptr);  // wiring: the agent always passes CollectHostInfo
}

InventoryOutcome InventoryReporter::Tick() {
  const auto now = clock_.Monotonic();
  if (!current_ || now - collected_at_ >= options_.collect_interval) {
    protocol::HostInventory inventory = CollectInventory(fs_, options_.host_info(), options_.roots);
    inventory.agent_id = options_.agent_id;
    inventory.collected_at_ms = clock_.NowMillis();
    current_ = std::move(inventory);
    collected_at_ = now;
  }
  if (now < next_attempt_) return InventoryOutcome::kNotDue;
  if (last_accepted_ && SameInventory(*last_accepted_, *current_) &&
      now - accepted_at_ < options_.resend_interval) {
    return InventoryOutcome::kNotDue;
  }
  if (refused_ && SameInventory(*refused_, *current_) &&
      now - refused_at_ < options_.resend_interval) {
    return InventoryOutcome::kNotDue;
  }
  return Send(*current_, now);
}

InventoryOutcome InventoryReporter::Send(const protocol::HostInventory& inventory,
                                         std::chrono::steady_clock::time_point now) {
  http::HttpClientRequest req;
  req.method = "PUT";
  req.url = url_;
  req.timeout = options_.request_timeout;
  req.headers.Set("Authorization", "Bearer " + options_.agent_token);
  req.headers.Set("Content-Type", "application/json");
  req.body = protocol::EncodeHostInventory(inventory);

  std::string failure;
  StatusOr<http::HttpResponse> resp = client_.Do(req);
  if (!resp.ok()) {
    failure = "sending the inventory to " + url_ + " failed: " + resp.status().ToString();
  } else if (resp->status >= 200 && resp->status < 300) {
    const bool first = !last_accepted_.has_value();
    last_accepted_ = inventory;
    accepted_at_ = now;
    refused_.reset();
    failures_ = 0;
    next_attempt_ = {};
    if (first) {
      SF_LOG_INFO("inventory: sent to the collector ({} CPUs, {} bytes of memory, {} disks)",
                  inventory.cpu_count, inventory.memory_bytes, inventory.disks.size());
    } else {
      SF_LOG_DEBUG("inventory: sent to the collector");
    }
    return InventoryOutcome::kSent;
  } else if (RefusesDocument(resp->status)) {
    refused_ = inventory;
    refused_at_ = now;
    failures_ = 0;
    next_attempt_ = {};
    SF_LOG_WARN(
        "inventory: the collector refused it ({} {}); not sending it again until it changes",
        resp->status, DescribeError(*resp));
    return InventoryOutcome::kRefused;
  } else {
    failure =
        "the collector answered " + std::to_string(resp->status) + ": " + DescribeError(*resp);
  }

  ++failures_;
  Millis delay = options_.retry_interval;
  for (int i = 1; i < failures_ && delay < options_.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, options_.max_backoff);
  next_attempt_ = now + delay;
  SF_LOG_WARN("inventory: {}; retrying in {} ms", failure, delay.count());
  return InventoryOutcome::kFailed;
}

}  // namespace steadfast::agent
