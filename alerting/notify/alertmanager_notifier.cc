// Forwarding to a Prometheus Alertmanager: POST <url>/api/v2/alerts with the group's alerts in
// Alertmanager's own format (as Prometheus sends them). Alertmanager resolves an alert whose
// endsAt has passed, so a firing alert is sent with endsAt five minutes ahead and the alert
// engine re-sends the active ones every minute; a resolved one carries its real end.
#include <nlohmann/json.hpp>

#include "alerting/notify/chat_notifier.h"
#include "common/clock.h"

namespace steadfast::alerting {

ChatRequest BuildAlertmanagerRequest(const ChatConfig& c, const std::string& body_json, int64_t now_ms) {
  using nlohmann::json;
  constexpr int64_t kAliveMs = 5 * 60'000;
  json n = json::parse(body_json, nullptr, false);
  json out = json::array();
  if (n.is_object() && n.contains("alerts")) {
    for (const json& a : n["alerts"]) {
      const bool resolved = a.value("status", std::string()) == "resolved";
      json item = {{"labels", a.value("labels", json::object())},
                   {"annotations", a.value("annotations", json::object())},
                   {"startsAt", a.value("startsAt", FormatRfc3339Millis(now_ms))},
                   {"endsAt", resolved ? a.value("endsAt", FormatRfc3339Millis(now_ms))
                                       : FormatRfc3339Millis(now_ms + kAliveMs)}};
      const std::string url = a.value("generatorURL", std::string());
      if (!url.empty()) item["generatorURL"] = url;
      out.push_back(std::move(item));
    }
  }
  std::string base = c.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return {base + "/api/v2/alerts", out.dump(-1, ' ', false, json::error_handler_t::replace)};
}

}  // namespace steadfast::alerting
