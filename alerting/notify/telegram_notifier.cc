// Telegram: the Bot API's sendMessage, plain text (no parse mode: alert text is not escaped for
// Markdown), at most 4096 characters.
#include <nlohmann/json.hpp>

#include "alerting/notify/chat_notifier.h"

namespace steadfast::alerting {

ChatRequest BuildTelegramRequest(const ChatConfig& c, const RenderedMessage& m) {
  std::string base = c.url.empty() ? "https://api.telegram.org" : c.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  nlohmann::json body = {{"chat_id", c.chat_id},
                         {"text", FitText(m.subject + "\n\n" + m.text, 4000)},
                         {"disable_web_page_preview", true}};
  return {base + "/bot" + c.secret + "/sendMessage", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace steadfast::alerting
