#include "alerting/notify/robot_payload.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "common/http/http_types.h"
#include "common/status.h"

namespace steadfast::alerting {
namespace {

using nlohmann::json;

std::string HmacSha256Base64(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // HMAC-SHA256 over in-memory data cannot fail short of a broken OpenSSL.
  SF_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len) != nullptr);
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
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
