// Message templates (Mustache, kainjow's header-only implementation from Debian's
// libkainjow-mustache-dev): the subject, plain text and HTML of a notification, rendered from
// its body (Alertmanager's webhook JSON, webhook_payload.h). Each receiver integration may set
// its own; otherwise the defaults for its language ("en" or "zh-CN") are used.
//
// What a template sees:
//   status            "firing" | "resolved";   status_text  "FIRING" / "告警", "RESOLVED" / "已恢复"
//   has_firing        true when anything in the group fires
//   count_firing, count_resolved   numbers as text
//   title             the group's label values ("check-critical db-1")
//   receiver, external_url, group_key
//   alerts            list of: status, status_text, resolved (bool), alertname, severity,
//                     host, check, target, summary, description, runbook_url, starts_at,
//                     ends_at (RFC 3339), labels ("k=v, ..."), url (the alert in the console),
//                     fingerprint, ack_url (when the notification carries one-click links)
// {{x}} is HTML-escaped in html templates only; subject and text are sent as written.
#pragma once

#include <string>

#include "common/status.h"

namespace steadfast::alerting {

struct MessageTemplates {
  std::string subject;  // empty: the language's default
  std::string text;
  std::string html;
};

struct RenderedMessage {
  std::string subject;
  std::string text;
  std::string html;
};

// InvalidArgument naming the part ("subject: unclosed section ...") when a template does not
// compile; unknown language -> InvalidArgument.
Status ValidateTemplates(const MessageTemplates& t, const std::string& language);

// Renders the notification body (webhook JSON). `ack_urls` maps an alert fingerprint to its
// one-click acknowledgement link (may be empty). InvalidArgument for a body that is not a
// notification.
StatusOr<RenderedMessage> RenderMessage(const std::string& body_json, const MessageTemplates& t,
                                        const std::string& language);

}  // namespace steadfast::alerting
