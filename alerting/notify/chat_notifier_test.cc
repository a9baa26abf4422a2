// Each chat/incident service's request, the cut to its size limit, and how its answers are read
// (several answer 200 with an error code in the body).
#include "alerting/notify/chat_notifier.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alerting/notify/webhook_payload.h"

namespace steadfast::alerting {
namespace {

using nlohmann::json;

std::string Body(int alerts, bool resolved = false) {
  WebhookGroup g;
  g.receiver = "ops";
  g.group_key = "route:{host=\"db-1\"}";
  g.group_labels = {{"host", "db-1"}};
  g.external_url = "https://sf.example";
  for (int i = 0; i < alerts; ++i) {
    WebhookAlert a;
    a.alert.fingerprint = FingerprintText(static_cast<uint64_t>(i + 1));
    a.alert.labels = {{"alertname", "disk-failing"}, {"host", "db-1"}, {"severity", i == 0 ? "major" : "warning"},
                      {"target", "/dev/sd" + std::to_string(i)}};
    a.alert.annotations = {{"summary", "磁盘 /dev/sd" + std::to_string(i) + " 即将故障"}};
    a.alert.firing_since_ms = 1'790'000'000'000;
    a.resolved = resolved;
    a.ends_ms = resolved ? 1'790'000'060'000 : 0;
    g.alerts.push_back(a);
  }
  return WebhookBody(g);
}

RenderedMessage Render(const std::string& body, const std::string& language = "en") {
  auto m = RenderMessage(body, {}, language);
  EXPECT_TRUE(m.ok());
  return m.ok() ? *m : RenderedMessage{};
}

TEST(ChatNotifierTest, EachServiceGetsItsOwnShape) {
  ChatConfig c;
  c.url = "https://hooks.example/x";
  const RenderedMessage m = Render(Body(2));
  json slack = json::parse(BuildSlackRequest(c, m).body);
  EXPECT_EQ(slack["text"], "[FIRING:2] db-1");
  EXPECT_EQ(slack["blocks"][1]["text"]["type"], "mrkdwn");
  json teams = json::parse(BuildTeamsRequest(c, m).body);
  EXPECT_EQ(teams["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
  EXPECT_EQ(teams["attachments"][0]["content"]["type"], "AdaptiveCard");
  EXPECT_EQ(teams["attachments"][0]["content"]["body"][0]["text"], "[FIRING:2] db-1");

  ChatConfig tg;
  tg.kind = ChatKind::kTelegram;
  tg.secret = "123:ABC";
  tg.chat_id = "-100500";
  ChatRequest t = BuildTelegramRequest(tg, m);
  EXPECT_EQ(t.url, "https://api.telegram.org/bot123:ABC/sendMessage");
  EXPECT_EQ(json::parse(t.body)["chat_id"], "-100500");

  ChatConfig ding;
  ding.url = "https://oapi.dingtalk.com/robot/send?access_token=abc";
  ding.secret = "SECd0b7a4c3e2f1";
  ChatRequest d = BuildDingTalkRequest(ding, Render(Body(1), "zh-CN"), 1796000000123);
  EXPECT_EQ(d.url.rfind(ding.url + "&timestamp=1796000000123&sign=", 0), 0u) << d.url;
  EXPECT_EQ(json::parse(d.body)["markdown"]["title"], "[告警 1 条] db-1");

  ChatConfig feishu;
  feishu.url = "https://open.feishu.cn/open-apis/bot/v2/hook/x";
  feishu.secret = "s";
  json f = json::parse(BuildFeishuRequest(feishu, m, 1796000000123).body);
  EXPECT_EQ(f["timestamp"], "1796000000");
  EXPECT_TRUE(f.contains("sign"));
}

TEST(ChatNotifierTest, PagerDutyTriggersAndResolvesOneIncidentPerGroup) {
  ChatConfig pd;
  pd.kind = ChatKind::kPagerDuty;
  pd.secret = "R0UTINGKEY";
  json trigger = json::parse(BuildPagerDutyRequest(pd, Render(Body(2)), Body(2)).body);
  EXPECT_EQ(trigger["routing_key"], "R0UTINGKEY");
  EXPECT_EQ(trigger["event_action"], "trigger");
  EXPECT_EQ(trigger["payload"]["severity"], "error") << "major is PagerDuty's error";
  EXPECT_EQ(trigger["payload"]["source"], "db-1");
  EXPECT_EQ(trigger["links"][0]["href"], "https://sf.example");
  json resolve = json::parse(BuildPagerDutyRequest(pd, Render(Body(2, true)), Body(2, true)).body);
  EXPECT_EQ(resolve["event_action"], "resolve");
  EXPECT_EQ(resolve["dedup_key"], trigger["dedup_key"]);
  EXPECT_FALSE(resolve.contains("payload"));
  EXPECT_EQ(BuildPagerDutyRequest(pd, Render(Body(1)), Body(1)).url, "https://events.pagerduty.com/v2/enqueue");
}

TEST(ChatNotifierTest, LongMessagesAreCutAtALineWithANote) {
  ChatConfig wecom;
  wecom.url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k";
  const RenderedMessage m = Render(Body(300), "zh-CN");
  ASSERT_GT(m.text.size(), 20'000u);
  json body = json::parse(BuildWeComRequest(wecom, m).body);
  const std::string content = body["markdown"]["content"];
  EXPECT_LE(content.size(), 4096u);
  EXPECT_NE(content.find("more lines: see the console"), std::string::npos);
  EXPECT_NE(content.find("磁盘 /dev/sd0 即将故障"), std::string::npos) << "the first alerts stay";
  // A single long line is cut between characters, not inside one.
  std::string line;
  for (int i = 0; i < 2000; ++i) line += "故";
  const std::string cut = FitText(line, 1000);
  EXPECT_LE(cut.size(), 1000u);
  EXPECT_EQ(json(cut).dump(-1, ' ', false, json::error_handler_t::replace).find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(FitText("short", 100), "short");
}

class AnsweringClient : public http::HttpClient {
 public:
  StatusOr<http::HttpResponse> Do(const http::HttpClientRequest& request) override {
    last = request;
    http::HttpResponse r;
    r.status = status;
    r.body = body;
    return r;
  }
  int status = 200;
  std::string body;
  http::HttpClientRequest last;
};

TEST(ChatNotifierTest, AnswersAreReadAsEachServiceMeansThem) {
  AnsweringClient client;
  ChatConfig ding;
  ding.kind = ChatKind::kDingTalk;
  ding.url = "https://oapi.dingtalk.com/robot/send?access_token=secret-token";
  const std::string body = Body(1);
  client.body = R"({"errcode":0,"errmsg":"ok"})";
  EXPECT_TRUE(SendChat(client, ding, body, 1).ok());
  client.body = R"({"errcode":130101,"errmsg":"send too fast"})";
  EXPECT_EQ(SendChat(client, ding, body, 1).code(), StatusCode::kUnavailable);
  client.body = R"({"errcode":310000,"errmsg":"sign not match"})";
  Status refused = SendChat(client, ding, body, 1);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message().find("secret-token"), std::string::npos) << "the URL's key is never in messages";
  ChatConfig wecom;
  wecom.kind = ChatKind::kWeCom;
  wecom.url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k";
  client.body = R"({"errcode":45009,"errmsg":"api freq out of limit"})";
  EXPECT_EQ(SendChat(client, wecom, body, 1).code(), StatusCode::kUnavailable);
  ChatConfig slack;
  slack.url = "https://hooks.slack.com/services/x";
  client.status = 404;
  client.body = "no_service";
  EXPECT_EQ(SendChat(client, slack, body, 1).code(), StatusCode::kFailedPrecondition);
  client.status = 429;
  EXPECT_EQ(SendChat(client, slack, body, 1).code(), StatusCode::kUnavailable);
  ChatConfig feishu;
  feishu.kind = ChatKind::kFeishu;
  feishu.url = "https://open.feishu.cn/x";
  client.status = 200;
  client.body = R"({"code":19021,"msg":"sign match fail"})";
  EXPECT_EQ(SendChat(client, feishu, body, 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.last.headers.Get("Content-Type").value_or(""), "application/json; charset=utf-8");
}

}  // namespace
}  // namespace steadfast::alerting
