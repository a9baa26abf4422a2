// DingTalk group robot: markdown, signed in the URL when the robot has a signing secret
// (robot_payload.h). DingTalk takes 20000 bytes of markdown.
#include "alerting/notify/chat_notifier.h"
#include "alerting/notify/robot_payload.h"

namespace steadfast::alerting {

ChatRequest BuildDingTalkRequest(const ChatConfig& c, const RenderedMessage& m, int64_t now_ms) {
  const std::string url = c.secret.empty() ? c.url : DingTalkSignedUrl(c.url, c.secret, now_ms);
  return {url, DingTalkBody(m.subject, FitText("### " + m.subject + "\n\n" + m.text, 19'000))};
}

}  // namespace steadfast::alerting
