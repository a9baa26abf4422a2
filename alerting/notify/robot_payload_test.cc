#include "alerting/notify/robot_payload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace steadfast::alerting {
namespace {

// Runs a Python snippet (the robots' own documentation gives Python samples for signing) and
// returns its output line.
std::string Python(const std::string& code) {
  const std::string cmd = "/usr/bin/python3 -c \"" + code + "\"";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char buf[512] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, p);
  pclose(p);
  std::string out(buf, n);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(RobotPayloadTest, DingTalkSignatureIsTheDocumentedOne) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/python3";
  const std::string secret = "SECd0b7a4c3e2f1";
  const std::string url = DingTalkSignedUrl("https://oapi.dingtalk.com/robot/send?access_token=abc",
                                            secret, 1796000000123);
  // DingTalk's sample: quote_plus(b64encode(hmac(secret, '<ts>\n<secret>', sha256))).
  const std::string want = Python(
      "import hmac,hashlib,base64,urllib.parse; s='" + secret + "'; t='1796000000123'; "
      "print(urllib.parse.quote_plus(base64.b64encode(hmac.new(s.encode(), (t+chr(10)+s).encode(), "
      "hashlib.sha256).digest())))");
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(url, "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1796000000123&sign=" + want);
  auto body = nlohmann::json::parse(DingTalkBody("磁盘故障", "### db1\\n**sda** failing"));
  EXPECT_EQ(body["msgtype"], "markdown");
  EXPECT_EQ(body["markdown"]["title"], "磁盘故障");
}

TEST(RobotPayloadTest, FeishuSignatureIsTheDocumentedOne) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/python3";
  const std::string secret = "fs-secret-42";
  auto body = nlohmann::json::parse(FeishuBody("db1: disk failing", secret, 1796000000));
  // Feishu's sample: b64encode(hmac(key='<ts>\n<secret>', msg=b'', sha256)).
  const std::string want = Python(
      "import hmac,hashlib,base64; s='" + secret + "'; t='1796000000'; "
      "print(base64.b64encode(hmac.new((t+chr(10)+s).encode(), digestmod=hashlib.sha256).digest()).decode())");
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(body["sign"], want);
  EXPECT_EQ(body["timestamp"], "1796000000");
  EXPECT_EQ(body["content"]["text"], "db1: disk failing");
  // Unsigned when the robot has no secret.
  EXPECT_FALSE(nlohmann::json::parse(FeishuBody("x", "", 1))["sign"].is_string());
  EXPECT_EQ(nlohmann::json::parse(WeComBody("**db1**"))["markdown"]["content"], "**db1**");
}

}  // namespace
}  // namespace steadfast::alerting
