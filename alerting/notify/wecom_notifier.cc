// WeCom (企业微信) group robot: markdown content, at most 4096 bytes; the key is in the URL.
#include "alerting/notify/chat_notifier.h"
#include "alerting/notify/robot_payload.h"

namespace steadfast::alerting {

ChatRequest BuildWeComRequest(const ChatConfig& c, const RenderedMessage& m) {
  return {c.url, WeComBody(FitText("**" + m.subject + "**\n" + m.text, 4000))};
}

}  // namespace steadfast::alerting
