#include "alerting/notify/webhook_payload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace steadfast::alerting {
namespace {

WebhookGroup Sample() {
  WebhookGroup g;
  g.receiver = "ops-webhook";
  g.group_key = "route{alertname=\"disk-failing\"}";
  g.group_labels = {{"alertname", "disk-failing"}};
  g.external_url = "https://steadfast.example.org";
  Alert a;
  a.labels = {{"alertname", "disk-failing"}, {"host", "db1"}, {"severity", "critical"}, {"unit", "it"}};
  a.annotations = {{"summary", "Disk sda on db1 is failing"}};
  a.fingerprint = Fingerprint(a.labels);
  a.active_since_ms = 1'796'000'000'000;
  a.firing_since_ms = 1'796'000'120'000;
  Alert b = a;
  b.labels["host"] = "db2";
  b.annotations["summary"] = "Disk sda on db2 is failing";
  b.fingerprint = Fingerprint(b.labels);
  g.alerts = {{a, false, 0}, {b, true, 1'796'000'300'000}};
  return g;
}

TEST(WebhookPayloadTest, IsAlertmanagersWebhookFormat) {
  auto j = nlohmann::json::parse(WebhookBody(Sample()));
  EXPECT_EQ(j["version"], "4");
  EXPECT_EQ(j["status"], "firing");  // one alert still fires
  EXPECT_EQ(j["receiver"], "ops-webhook");
  EXPECT_EQ(j["groupLabels"], (nlohmann::json{{"alertname", "disk-failing"}}));
  EXPECT_EQ(j["commonLabels"],
            (nlohmann::json{{"alertname", "disk-failing"}, {"severity", "critical"}, {"unit", "it"}}));
  EXPECT_TRUE(j["commonAnnotations"].empty());  // the summaries differ
  ASSERT_EQ(j["alerts"].size(), 2u);
  EXPECT_EQ(j["alerts"][0]["status"], "firing");
  EXPECT_EQ(j["alerts"][0]["startsAt"], "2026-11-30T00:55:20.000Z");
  EXPECT_EQ(j["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["alerts"][1]["status"], "resolved");
  EXPECT_EQ(j["alerts"][1]["endsAt"], "2026-11-30T00:58:20.000Z");
  EXPECT_EQ(j["alerts"][0]["fingerprint"], Fingerprint(Sample().alerts[0].alert.labels));
  EXPECT_EQ(j["alerts"][0]["generatorURL"],
            "https://steadfast.example.org/#/alerts/" + Sample().alerts[0].alert.fingerprint);
  WebhookGroup resolved = Sample();
  resolved.alerts.erase(resolved.alerts.begin());
  EXPECT_EQ(nlohmann::json::parse(WebhookBody(resolved))["status"], "resolved");
}

TEST(WebhookPayloadTest, SignatureIsWhatPythonsHmacComputes) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/python3";
  const std::string body = WebhookBody(Sample());
  const std::string secret = "s3cr\xc3\xa9t with spaces";
  char dir[] = "/tmp/sf-webhook-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string d = dir;
  std::ofstream(d + "/body", std::ios::binary) << body;
  std::ofstream(d + "/secret", std::ios::binary) << secret;
  const std::string cmd =
      "/usr/bin/python3 -c \"import hmac,hashlib,sys; d=sys.argv[1]; "
      "b=open(d+'/body','rb').read(); k=open(d+'/secret','rb').read(); "
      "print('sha256='+hmac.new(k, b'1796000000.'+b, hashlib.sha256).hexdigest())\" " + d;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[200] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, p);
  EXPECT_EQ(pclose(p), 0);
  std::string expected(buf, n);
  while (!expected.empty() && expected.back() == '\n') expected.pop_back();
  EXPECT_EQ(WebhookSignature(secret, 1'796'000'000, body), expected);
  EXPECT_NE(WebhookSignature(secret, 1'796'000'001, body), expected);  // the timestamp is signed
  std::remove((d + "/body").c_str());
  std::remove((d + "/secret").c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace steadfast::alerting
