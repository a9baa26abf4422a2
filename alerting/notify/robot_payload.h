// Chat robots' request bodies and signatures: DingTalk, WeCom (企业微信) and Feishu (飞书) group
// robots. The message text is rendered by the receiver's template; these wrap it as each robot
// expects and sign it where the robot's security setting asks for it (a "sign" secret):
//
// - DingTalk: POST <webhook>&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256 of
//   "<ms>\n<secret>" keyed by the secret>; body {"msgtype":"markdown","markdown":{title,text}}.
// - WeCom: no signature (the key is in the webhook URL); body
//   {"msgtype":"markdown","markdown":{"content":...}}.
// - Feishu: body {"timestamp":"<s>","sign":<base64 HMAC-SHA256 of nothing, keyed by
//   "<s>\n<secret>">,"msg_type":"text","content":{"text":...}}.
#pragma once

#include <cstdint>
#include <string>

namespace steadfast::alerting {

std::string DingTalkSignedUrl(const std::string& webhook_url, const std::string& secret,
                              int64_t timestamp_ms);
std::string DingTalkBody(const std::string& title, const std::string& markdown);
std::string WeComBody(const std::string& markdown);
// `secret` empty: unsigned.
std::string FeishuBody(const std::string& text, const std::string& secret, int64_t timestamp_s);

}  // namespace steadfast::alerting
