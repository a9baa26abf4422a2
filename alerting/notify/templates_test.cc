#include "alerting/notify/templates.h"

#include <gtest/gtest.h>

#include "alerting/notify/webhook_payload.h"

namespace steadfast::alerting {
namespace {

std::string Body(bool resolved) {
  WebhookGroup g;
  g.receiver = "duty";
  g.group_key = "route:{alertname=\"disk-failing\",host=\"db-1\"}";
  g.group_labels = {{"alertname", "disk-failing"}, {"host", "db-1"}};
  g.external_url = "https://sf.example";
  WebhookAlert a;
  a.alert.fingerprint = "00000000000000aa";
  a.alert.labels = {{"alertname", "disk-failing"}, {"host", "db-1"}, {"severity", "critical"}, {"target", "/dev/sda"}};
  a.alert.annotations = {{"summary", "Disk /dev/sda <failing> & hot"}, {"runbook_url", "https://wiki/disk"}};
  a.alert.firing_since_ms = 1'790'000'000'000;
  a.resolved = resolved;
  a.ends_ms = resolved ? 1'790'000'600'000 : 0;
  g.alerts.push_back(a);
  return WebhookBody(g);
}

TEST(TemplatesTest, EnglishDefaultsCarryWhatAPersonNeeds) {
  auto m = RenderMessage(Body(false), {}, "en");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->subject, "[FIRING:1] disk-failing db-1");
  EXPECT_NE(m->text.find("[FIRING] critical disk-failing on db-1"), std::string::npos) << m->text;
  EXPECT_NE(m->text.find("Disk /dev/sda <failing> & hot"), std::string::npos) << "text is not HTML-escaped";
  EXPECT_NE(m->text.find("runbook: https://wiki/disk"), std::string::npos);
  EXPECT_NE(m->text.find("details: https://sf.example/#/alerts/00000000000000aa"), std::string::npos);
  EXPECT_NE(m->html.find("Disk /dev/sda &lt;failing&gt; &amp; hot"), std::string::npos) << "HTML is escaped";
  auto r = RenderMessage(Body(true), {}, "en");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->subject, "[RESOLVED] disk-failing db-1");
  EXPECT_NE(r->text.find("resolved 2026-"), std::string::npos) << r->text;
}

TEST(TemplatesTest, ChineseDefaults) {
  auto m = RenderMessage(Body(false), {}, "zh-CN");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->subject, "[告警 1 条] disk-failing db-1");
  EXPECT_NE(m->text.find("【告警】critical disk-failing（主机 db-1）"), std::string::npos) << m->text;
  EXPECT_NE(m->text.find("处置手册：https://wiki/disk"), std::string::npos);
  auto r = RenderMessage(Body(true), {}, "zh-CN");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->subject, "[已恢复] disk-failing db-1");
}

TEST(TemplatesTest, OwnTemplatesAndTheirErrors) {
  MessageTemplates t;
  t.subject = "{{count_firing}} down: {{#alerts}}{{host}} {{/alerts}}\nsecond line";
  auto m = RenderMessage(Body(false), t, "en");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->subject, "1 down: db-1  second line");
  EXPECT_TRUE(ValidateTemplates(t, "en").ok());
  t.text = "{{#alerts}}unclosed";
  Status st = ValidateTemplates(t, "en");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("text: ", 0), 0u) << st.message();
  EXPECT_FALSE(ValidateTemplates({}, "fr").ok());
  EXPECT_FALSE(RenderMessage("[]", {}, "en").ok());
}

}  // namespace
}  // namespace steadfast::alerting
