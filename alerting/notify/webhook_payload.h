// What the generic webhook receiver is sent: the body and its signature.
//
// The body is Alertmanager's webhook format (version "4"), so receivers written for Alertmanager
// (chat bridges, ticket systems) work unchanged:
//   {"version":"4","groupKey":...,"status":"firing"|"resolved","receiver":...,
//    "groupLabels":{...},"commonLabels":{...},"commonAnnotations":{...},"externalURL":...,
//    "truncatedAlerts":0,"alerts":[{"status","labels","annotations","startsAt","endsAt",
//    "generatorURL","fingerprint"}]}
// A group is "firing" while any of its alerts fires.
//
// The signature lets the receiver check that the body came from us and is fresh:
//   X-Steadfast-Timestamp: <unix seconds>
//   X-Steadfast-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<body>" with the secret>
// (the scheme Stripe and GitHub use; the timestamp inside the MAC stops replays of old bodies).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/evaluator.h"

namespace steadfast::alerting {

struct WebhookAlert {
  Alert alert;
  bool resolved = false;
  int64_t ends_ms = 0;  // when it resolved; 0 while firing
};

struct WebhookGroup {
  std::string receiver;
  std::string group_key;
  Labels group_labels;
  std::string external_url;  // the console, for links
  std::vector<WebhookAlert> alerts;
};

std::string WebhookBody(const WebhookGroup& group);

// "sha256=<hex>" over "<timestamp_s>.<body>".
std::string WebhookSignature(const std::string& secret, int64_t timestamp_s, const std::string& body);

}  // namespace steadfast::alerting
