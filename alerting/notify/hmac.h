// HMAC-SHA256 for the notifiers' signatures (webhook, DingTalk, Feishu).
#pragma once

#include <string>

namespace steadfast::alerting {

// The raw 32-byte MAC of `message` keyed by `key`.
std::string HmacSha256(const std::string& key, const std::string& message);
std::string Base64(const std::string& bytes);

}  // namespace steadfast::alerting
