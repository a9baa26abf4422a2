// Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
// received"): a message with one Adaptive Card (version 1.4) holding the subject and the text.
#include <nlohmann/json.hpp>

#include "alerting/notify/chat_notifier.h"

namespace steadfast::alerting {

ChatRequest BuildTeamsRequest(const ChatConfig& c, const RenderedMessage& m) {
  nlohmann::json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                         {"type", "AdaptiveCard"},
                         {"version", "1.4"},
                         {"body",
                          {{{"type", "TextBlock"}, {"text", m.subject}, {"weight", "Bolder"}, {"size", "Medium"},
                            {"wrap", true}},
                           {{"type", "TextBlock"}, {"text", FitText(m.text, 20'000)}, {"wrap", true}}}}};
  nlohmann::json body = {
      {"type", "message"},
      {"attachments", {{{"contentType", "application/vnd.microsoft.card.adaptive"}, {"content", card}}}}};
  return {c.url, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace steadfast::alerting
