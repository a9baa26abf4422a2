// PagerDuty Events API v2: one incident per notification group (dedup_key from the group key),
// triggered while anything in it fires and resolved when nothing does. Severity maps critical ->
// critical, major -> error, warning -> warning, info -> info (the highest in the group).
#include <nlohmann/json.hpp>

#include "alerting/labels.h"
#include "alerting/notify/chat_notifier.h"

namespace steadfast::alerting {

ChatRequest BuildPagerDutyRequest(const ChatConfig& c, const RenderedMessage& m, const std::string& body_json) {
  using nlohmann::json;
  json n = json::parse(body_json, nullptr, false);
  const std::string group_key = n.is_object() ? n.value("groupKey", std::string()) : std::string();
  const bool firing = n.is_object() && n.value("status", std::string()) == "firing";
  int rank = 4;
  std::string source = "steadfast";
  static const char* kRanks[] = {"critical", "major", "warning", "info"};
  if (n.is_object() && n.contains("alerts")) {
    for (const json& a : n["alerts"]) {
      const json labels = a.value("labels", json::object());
      const std::string sev = labels.value("severity", std::string());
      for (int i = 0; i < 4; ++i) {
        if (sev == kRanks[i] && i < rank) rank = i;
      }
      if (source == "steadfast" && labels.contains("host")) source = labels.value("host", source);
    }
  }
  static const char* kPagerDuty[] = {"critical", "error", "warning", "info", "warning"};
  json body = {{"routing_key", c.secret},
               {"event_action", firing ? "trigger" : "resolve"},
               {"dedup_key", "steadfast-" + FingerprintText(LabelPairHash("group", group_key))}};
  if (firing) {
    body["payload"] = {{"summary", FitText(m.subject, 1000)},
                       {"source", source},
                       {"severity", kPagerDuty[rank]},
                       {"custom_details", {{"alerts", FitText(m.text, 20'000)}}}};
    if (n.is_object() && !n.value("externalURL", std::string()).empty()) {
      body["links"] = {{{"href", n.value("externalURL", std::string())}, {"text", "Steadfast console"}}};
    }
  }
  std::string url = c.url.empty() ? "https://events.pagerduty.com/v2/enqueue" : c.url;
  return {url, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

}  // namespace steadfast::alerting
