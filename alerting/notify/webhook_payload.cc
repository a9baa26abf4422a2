#include "alerting/notify/webhook_payload.h"

#include <nlohmann/json.hpp>

#include "alerting/notify/hmac.h"
#include "common/clock.h"
#include "common/random.h"

namespace steadfast::alerting {
namespace {

using nlohmann::json;

// The labels (or annotations) every alert has with the same value.
Labels Common(const std::vector<WebhookAlert>& alerts, const Labels Alert::*field) {
  if (alerts.empty()) return {};
  Labels common = alerts.front().alert.*field;
  for (const WebhookAlert& a : alerts) {
    const Labels& l = a.alert.*field;
    for (auto it = common.begin(); it != common.end();) {
      auto other = l.find(it->first);
      it = other == l.end() || other->second != it->second ? common.erase(it) : std::next(it);
    }
  }
  return common;
}

}  // namespace

std::string WebhookBody(const WebhookGroup& g) {
  bool firing = false;
  json alerts = json::array();
  for (const WebhookAlert& a : g.alerts) {
    firing = firing || !a.resolved;
    alerts.push_back({{"status", a.resolved ? "resolved" : "firing"},
                      {"labels", a.alert.labels},
                      {"annotations", a.alert.annotations},
                      {"startsAt", FormatRfc3339Millis(a.alert.firing_since_ms != 0 ? a.alert.firing_since_ms
                                                                                   : a.alert.active_since_ms)},
                      // Alertmanager's zero time for "not ended".
                      {"endsAt", a.resolved ? FormatRfc3339Millis(a.ends_ms) : "0001-01-01T00:00:00Z"},
                      {"generatorURL", g.external_url.empty() ? std::string()
                                                              : g.external_url + "/#/alerts/" + a.alert.fingerprint},
                      {"fingerprint", a.alert.fingerprint}});
  }
  json body = {{"version", "4"},
               {"groupKey", g.group_key},
               {"truncatedAlerts", 0},
               {"status", firing ? "firing" : "resolved"},
               {"receiver", g.receiver},
               {"groupLabels", g.group_labels},
               {"commonLabels", Common(g.alerts, &Alert::labels)},
               {"commonAnnotations", Common(g.alerts, &Alert::annotations)},
               {"externalURL", g.external_url},
               {"alerts", std::move(alerts)}};
  // Label values come from checks and may not be UTF-8; replace rather than throw.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string WebhookSignature(const std::string& secret, int64_t timestamp_s, const std::string& body) {
  return "sha256=" + HexEncode(HmacSha256(secret, std::to_string(timestamp_s) + "." + body));
}

}  // namespace steadfast::alerting
