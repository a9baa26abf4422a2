#include "agent/uplink_monitor.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "agent/checks/check_util.h"

namespace steadfast::agent {
namespace {

bool IsSuccess(const UplinkResult& r) {
  return r.outcome == UplinkOutcome::kSent || r.outcome == UplinkOutcome::kBatchSplit ||
         r.outcome == UplinkOutcome::kRejected;
}

bool IsFailure(const UplinkResult& r) {
  if (r.outcome == UplinkOutcome::kUnauthorized) return true;
  // 415 only switches off compression; the collector is there.
  return r.outcome == UplinkOutcome::kRetryLater && r.http_status != 415;
}

std::string DropsText(const SpoolDrops& d) {
  std::vector<std::string> parts;
  if (d.full > 0) parts.push_back(fmt::format("{} metrics-only samples because it was full", d.full));
  if (d.expired > 0) parts.push_back(fmt::format("{} older than its max_age", d.expired));
  return fmt::format("the spool dropped {} results ({})", d.total(), fmt::join(parts, ", "));
}

}  // namespace

std::optional<UplinkOutage> UplinkMonitor::Record(const UplinkResult& r, int64_t now_ms) {
  if (!r.attempted) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  if (IsSuccess(r)) {
    std::optional<UplinkOutage> ended;
    if (state_.consecutive_failures > 0) {
      ended = UplinkOutage{state_.outage_started_ms, now_ms, state_.consecutive_failures,
                           state_.last_error};
      state_.last_outage_duration_ms = now_ms - state_.outage_started_ms;
    }
    state_.up = true;
    state_.consecutive_failures = 0;
    state_.outage_started_ms = 0;
    state_.last_success_ms = now_ms;
    return ended;
  }
  if (IsFailure(r)) {
    if (state_.consecutive_failures == 0) {
      state_.outage_started_ms = now_ms;
      ++state_.outages_total;
    }
    ++state_.consecutive_failures;
    state_.up = false;
    state_.last_failure_ms = now_ms;
    state_.last_error = r.message;
  }
  return std::nullopt;
}

UplinkState UplinkMonitor::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

protocol::CheckResult UplinkReport(const std::string& collector_url, const UplinkOutage* outage,
                                   int64_t backlog_rows, const SpoolDrops& drops,
                                   int64_t now_ms) {
  protocol::CheckResult r;
  r.check = kUplinkCheckName;
  r.target = collector_url;
  r.observed_at_ms = now_ms;
  r.status = drops.total() > 0 ? protocol::CheckStatus::kWarning : protocol::CheckStatus::kOk;
  nlohmann::json details = {{"backlog_results", backlog_rows}};
  std::vector<std::string> parts;
  if (outage != nullptr) {
    const int64_t seconds = (outage->ended_ms - outage->started_ms) / 1000;
    parts.push_back(fmt::format(
        "collector reachable again after {} without delivery ({} failed attempts since {}, last "
        "error: {})",
        HumanDuration(seconds), outage->failures, FormatRfc3339Millis(outage->started_ms),
        outage->last_error));
    r.metrics.push_back({"uplink_outage_seconds", {}, static_cast<double>(outage->ended_ms - outage->started_ms) / 1000.0, "seconds"});
    r.metrics.push_back({"uplink_failed_attempts", {}, static_cast<double>(outage->failures), ""});
    details["outage_started"] = FormatRfc3339Millis(outage->started_ms);
    details["outage_ended"] = FormatRfc3339Millis(outage->ended_ms);
    details["failed_attempts"] = outage->failures;
    details["last_error"] = outage->last_error;
  }
  if (drops.total() > 0) {
    parts.push_back(DropsText(drops));
    details["dropped"] = {{"full", drops.full}, {"expired", drops.expired}};
  }
  parts.push_back(fmt::format("{} results waiting in the spool", backlog_rows));
  r.summary = fmt::format("{}", fmt::join(parts, "; "));
  r.metrics.push_back({"spool_backlog_results", {}, static_cast<double>(backlog_rows), ""});
  r.metrics.push_back({"spool_dropped_results", {{"reason", "full"}}, static_cast<double>(drops.full), ""});
  r.metrics.push_back({"spool_dropped_results", {{"reason", "expired"}}, static_cast<double>(drops.expired), ""});
  r.details_json = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

protocol::CheckResult UplinkCaughtUpReport(const std::string& collector_url, int64_t now_ms) {
  protocol::CheckResult r;
  r.check = kUplinkCheckName;
  r.target = collector_url;
  r.observed_at_ms = now_ms;
  r.status = protocol::CheckStatus::kOk;
  r.summary = "link to the collector is up and the backlog is delivered";
  r.metrics.push_back({"spool_backlog_results", {}, 0, ""});
  return r;
}

}  // namespace steadfast::agent
