// Slack: an incoming webhook; the subject as the notification text, the body as one mrkdwn
// section (Slack takes at most 3000 characters per section).
#include <nlohmann/json.hpp>

#include "alerting/notify/chat_notifier.h"

namespace steadfast::alerting {

ChatRequest BuildSlackRequest(const ChatConfig& c, const RenderedMessage& m) {
  nlohmann::json body = {
      {"text", m.subject},
      {"blocks",
       {{{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", FitText(m.subject, 150)}}}},
        {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", FitText(m.text, 2900)}}}}}}};
  return {c.url, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace steadfast::alerting
