// Feishu (飞书) group robot: a text message, signed in the body when the robot has a signing
// secret (robot_payload.h).
#include "alerting/notify/chat_notifier.h"
#include "alerting/notify/robot_payload.h"

namespace steadfast::alerting {

ChatRequest BuildFeishuRequest(const ChatConfig& c, const RenderedMessage& m, int64_t now_ms) {
  return {c.url, FeishuBody(FitText(m.subject + "\n\n" + m.text, 30'000), c.secret, now_ms / 1000)};
}

}  // namespace steadfast::alerting
