#include "alerting/notify/chat_notifier.h"

#include <nlohmann/json.hpp>

namespace steadfast::alerting {
namespace {

using nlohmann::json;

// Reads a service's 200 answer: several report errors in the body.
Status CheckAnswer(ChatKind kind, int status, const std::string& body) {
  const std::string head = body.substr(0, 200);
  if (status == 408 || status == 429 || status >= 500) {
    return UnavailableError("HTTP " + std::to_string(status) + (head.empty() ? "" : " (" + head + ")"));
  }
  if (status < 200 || status >= 300) {
    return FailedPreconditionError("HTTP " + std::to_string(status) + (head.empty() ? "" : " (" + head + ")"));
  }
  json j = json::parse(body, nullptr, false);
  switch (kind) {
    case ChatKind::kDingTalk:
    case ChatKind::kWeCom: {
      if (!j.is_object() || !j.contains("errcode")) return OkStatus();
      const int64_t code = j["errcode"].is_number_integer() ? j["errcode"].get<int64_t>() : 0;
      if (code == 0) return OkStatus();
      // DingTalk 130101 and WeCom 45009: sending too fast; try again later.
      if (code == 130101 || code == 45009) return UnavailableError("rate limited: " + head);
      return FailedPreconditionError("refused: " + head);
    }
    case ChatKind::kFeishu: {
      if (!j.is_object()) return OkStatus();
      const json& code = j.contains("code") ? j["code"] : j.contains("StatusCode") ? j["StatusCode"] : json(0);
      if (!code.is_number_integer() || code.get<int64_t>() == 0) return OkStatus();
      if (code.get<int64_t>() == 9499) return UnavailableError("rate limited: " + head);
      return FailedPreconditionError("refused: " + head);
    }
    case ChatKind::kTelegram:
      if (j.is_object() && j.contains("ok") && j["ok"] == false) return FailedPreconditionError("refused: " + head);
      return OkStatus();
    default:
      return OkStatus();
  }
}

}  // namespace

std::string_view ChatKindName(ChatKind k) {
  switch (k) {
    case ChatKind::kSlack: return "slack";
    case ChatKind::kTeams: return "teams";
    case ChatKind::kTelegram: return "telegram";
    case ChatKind::kDingTalk: return "dingtalk";
    case ChatKind::kWeCom: return "wecom";
    case ChatKind::kFeishu: return "feishu";
    case ChatKind::kPagerDuty: return "pagerduty";
    case ChatKind::kAlertmanager: return "alertmanager";
  }
  return "slack";
}

int DefaultRateLimit(ChatKind kind) {
  switch (kind) {
    case ChatKind::kDingTalk:
    case ChatKind::kWeCom:
    case ChatKind::kTelegram:
      return 20;
    default:
      return 0;
  }
}

std::string MergeNotifications(const std::vector<std::string>& bodies) {
  json merged;
  json alerts = json::array();
  bool firing = false;
  for (const std::string& b : bodies) {
    json j = json::parse(b, nullptr, false);
    if (!j.is_object()) continue;
    if (merged.is_null()) merged = j;
    for (const json& a : j.value("alerts", json::array())) {
      firing = firing || a.value("status", std::string()) == "firing";
      alerts.push_back(a);
    }
  }
  if (merged.is_null()) merged = json::object();
  merged["alerts"] = std::move(alerts);
  merged["status"] = firing ? "firing" : "resolved";
  merged["groupKey"] = "digest";
  merged["groupLabels"] = json::object();
  merged["commonLabels"] = json::object();
  merged["commonAnnotations"] = json::object();
  merged["digestOf"] = bodies.size();
  return merged.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string FitText(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t total_lines = 0;
  for (char c : text) total_lines += c == '\n';
  // Room for the note ("... 12345 more lines: see the console").
  const size_t reserve = 64;
  size_t cut = max_bytes > reserve ? max_bytes - reserve : 0;
  size_t nl = text.rfind('\n', cut);
  if (nl == std::string::npos || nl == 0) {
    // One long line: cut at a character boundary (not inside a UTF-8 sequence).
    nl = cut;
    while (nl > 0 && (static_cast<unsigned char>(text[nl]) & 0xC0) == 0x80) --nl;
  }
  std::string out = text.substr(0, nl);
  size_t kept_lines = 0;
  for (char c : out) kept_lines += c == '\n';
  const size_t left = total_lines > kept_lines ? total_lines - kept_lines : 1;
  out += "\n... " + std::to_string(left) + " more lines: see the console";
  return out;
}

Status SendChat(http::HttpClient& client, const ChatConfig& c, const std::string& body_json, int64_t now_ms) {
  StatusOr<RenderedMessage> m = RenderMessage(body_json, c.templates, c.language);
  if (!m.ok()) return FailedPreconditionError("cannot render the message: " + m.status().message());
  ChatRequest r;
  switch (c.kind) {
    case ChatKind::kSlack: r = BuildSlackRequest(c, *m); break;
    case ChatKind::kTeams: r = BuildTeamsRequest(c, *m); break;
    case ChatKind::kTelegram: r = BuildTelegramRequest(c, *m); break;
    case ChatKind::kDingTalk: r = BuildDingTalkRequest(c, *m, now_ms); break;
    case ChatKind::kWeCom: r = BuildWeComRequest(c, *m); break;
    case ChatKind::kFeishu: r = BuildFeishuRequest(c, *m, now_ms); break;
    case ChatKind::kPagerDuty: r = BuildPagerDutyRequest(c, *m, body_json); break;
    case ChatKind::kAlertmanager: r = BuildAlertmanagerRequest(c, body_json, now_ms); break;
  }
  http::HttpClientRequest req;
  req.method = "POST";
  req.url = r.url;
  req.body = r.body;
  req.timeout = std::chrono::milliseconds(c.timeout_ms);
  req.headers.Set("Content-Type", "application/json; charset=utf-8");
  StatusOr<http::HttpResponse> resp = client.Do(req);
  // The URL may hold a key (WeCom, Slack, Telegram's token): name only the service.
  const std::string what = std::string(ChatKindName(c.kind)) + ": ";
  if (!resp.ok()) return Status(resp.status().code(), what + resp.status().message());
  Status st = CheckAnswer(c.kind, resp->status, resp->body);
  if (!st.ok()) return Status(st.code(), what + st.message());
  return OkStatus();
}

}  // namespace steadfast::alerting
