#include "alerting/notify/robot_payload.h"

#include <nlohmann/json.hpp>

#include "alerting/notify/hmac.h"
#include "common/http/http_types.h"

namespace steadfast::alerting {
namespace {

using nlohmann::json;

std::string HmacSha256Base64(const std::string& key, const std::string& message) {
  return Base64(HmacSha256(key, message));
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string DingTalkSignedUrl(const std::string& webhook_url, const std::string& secret,
                              int64_t timestamp_ms) {
  const std::string ts = std::to_string(timestamp_ms);
  const std::string sign = HmacSha256Base64(secret, ts + "\n" + secret);
  const char sep = webhook_url.find('?') == std::string::npos ? '?' : '&';
  return webhook_url + sep + "timestamp=" + ts + "&sign=" + http::PercentEncode(sign);
}

std::string DingTalkBody(const std::string& title, const std::string& markdown) {
  return Dump({{"msgtype", "markdown"}, {"markdown", {{"title", title}, {"text", markdown}}}});
}

std::string WeComBody(const std::string& markdown) {
  return Dump({{"msgtype", "markdown"}, {"markdown", {{"content", markdown}}}});
}

std::string FeishuBody(const std::string& text, const std::string& secret, int64_t timestamp_s) {
  json body = {{"msg_type", "text"}, {"content", {{"text", text}}}};
  if (!secret.empty()) {
    const std::string ts = std::to_string(timestamp_s);
    body["timestamp"] = ts;
    body["sign"] = HmacSha256Base64(ts + "\n" + secret, "");
  }
  return Dump(body);
}

}  // namespace steadfast::alerting
