// Chat and incident-service notifiers: Slack, Microsoft Teams (Workflows, Adaptive Card),
// Telegram, DingTalk, WeCom and Feishu group robots, PagerDuty Events v2, and forwarding to a
// Prometheus Alertmanager (its API v2; the alert engine re-sends active alerts every minute, as
// Alertmanager expects of its clients). Each service's
// request lives in its own file (<service>_notifier.cc); they share this configuration, the
// message (rendered by templates.h from the notification body) and SendChat, which posts the
// request and reads the service's answer (several answer 200 with an error code in the body).
//
// Messages longer than a service accepts (WeCom 4096 bytes of markdown, Telegram 4096
// characters, Slack 3000 per block, DingTalk 20000 bytes) are cut at a line and end with a note
// of how many lines were left out, so the alert names at the top always arrive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/notify/templates.h"
#include "common/http/http_client.h"
#include "common/status.h"

namespace steadfast::alerting {

enum class ChatKind { kSlack, kTeams, kTelegram, kDingTalk, kWeCom, kFeishu, kPagerDuty, kAlertmanager };
inline constexpr ChatKind kAllChatKinds[] = {ChatKind::kSlack,    ChatKind::kTeams,     ChatKind::kTelegram,
                                             ChatKind::kDingTalk, ChatKind::kWeCom,     ChatKind::kFeishu,
                                             ChatKind::kPagerDuty, ChatKind::kAlertmanager};
// "slack", "teams", ... (the config key is "<name>_configs", the outbox integration "<name>[i]").
std::string_view ChatKindName(ChatKind k);

struct ChatConfig {
  ChatKind kind = ChatKind::kSlack;
  // The webhook URL (Slack, Teams, DingTalk, WeCom, Feishu); Telegram's API base
  // (https://api.telegram.org); PagerDuty's events URL (https://events.pagerduty.com/v2/enqueue);
  // Alertmanager's base URL (http://alertmanager:9093).
  std::string url;
  // DingTalk / Feishu: the robot's signing secret (optional); Telegram: the bot token;
  // PagerDuty: the integration's routing key. Read from secret_file.
  std::string secret;
  std::string secret_file;
  std::string chat_id;  // Telegram
  bool send_resolved = true;
  int64_t timeout_ms = 10'000;
  std::string language = "en";
  MessageTemplates templates;
  // At most this many messages per window; 0: no limit. Defaults: DingTalk, WeCom and Telegram
  // group chats 20 a minute (their documented limits). Over it, notifications wait in the
  // outbox and go out together as one digest when the window has room.
  int rate_limit_messages = 0;
  int64_t rate_limit_window_ms = 60'000;
};

// The default rate limit of a service (messages per minute; 0: none).
int DefaultRateLimit(ChatKind kind);

// Several notification bodies (webhook_payload.h) as one: every alert of all of them, status
// firing if any fires, groupKey "digest". For rate-limited robots.
std::string MergeNotifications(const std::vector<std::string>& bodies);

struct ChatRequest {
  std::string url;
  std::string body;  // JSON
};

// The request for one notification. `body_json` is the notification (webhook_payload.h),
// `message` its rendering, `dedup_key` the outbox entry's.
ChatRequest BuildSlackRequest(const ChatConfig& c, const RenderedMessage& m);
ChatRequest BuildTeamsRequest(const ChatConfig& c, const RenderedMessage& m);
ChatRequest BuildTelegramRequest(const ChatConfig& c, const RenderedMessage& m);
ChatRequest BuildDingTalkRequest(const ChatConfig& c, const RenderedMessage& m, int64_t now_ms);
ChatRequest BuildWeComRequest(const ChatConfig& c, const RenderedMessage& m);
ChatRequest BuildFeishuRequest(const ChatConfig& c, const RenderedMessage& m, int64_t now_ms);
ChatRequest BuildPagerDutyRequest(const ChatConfig& c, const RenderedMessage& m, const std::string& body_json);
// Firing alerts get endsAt = now + 5 minutes (kept alive by the engine's re-sends), resolved ones
// their end.
ChatRequest BuildAlertmanagerRequest(const ChatConfig& c, const std::string& body_json, int64_t now_ms);

// `text` cut to at most `max_bytes` at a line end (never inside a UTF-8 character), with a
// last line saying how many lines were left out; unchanged when it fits.
std::string FitText(const std::string& text, size_t max_bytes);

// Renders, builds and posts; OK when the service took the message. FailedPrecondition when
// retrying cannot help (a 4xx other than 408/429, a signature or key the service refuses);
// Unavailable otherwise (5xx, 429, the service's own rate-limit codes, no answer).
Status SendChat(http::HttpClient& client, const ChatConfig& c, const std::string& body_json, int64_t now_ms);

}  // namespace steadfast::alerting
