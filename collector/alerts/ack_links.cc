#include "collector/alerts/ack_links.h"

#include "alerting/notify/hmac.h"
#include "collector/auth/tokens.h"
#include "common/http/http_types.h"
#include "common/random.h"

namespace steadfast::collector::alerts {

namespace {
constexpr size_t kKeyBytes = 32;
}

StatusOr<AckLinks> AckLinks::LoadOrCreate(FileSystem& fs, const std::string& path, auth::SecureRandom& random) {
  if (fs.Exists(path)) {
    SF_ASSIGN_OR_RETURN(std::string key, fs.ReadFile(path, 1024));
    if (key.size() != kKeyBytes) {
      return DataLossError("acknowledgement link key " + path + ": expected " + std::to_string(kKeyBytes) +
                           " bytes, found " + std::to_string(key.size()) + " (remove it to make a new one)");
    }
    return AckLinks(std::move(key));
  }
  std::string key = random.Bytes(kKeyBytes);
  SF_RETURN_IF_ERROR(fs.WriteFileAtomic(path, key, 0600).WithContext("creating acknowledgement link key " + path));
  return AckLinks(std::move(key));
}

std::string AckLinks::Sign(const std::string& fingerprint, const std::string& user, int64_t expires_s) const {
  return HexEncode(alerting::HmacSha256(key_, "ack\n" + fingerprint + "\n" + user + "\n" + std::to_string(expires_s)));
}

std::string AckLinks::Url(const std::string& external_url, const std::string& fingerprint, const std::string& user,
                          int64_t now_ms) const {
  if (external_url.empty()) return "";
  const int64_t expires_s = (now_ms + kAckLinkLifetimeMs) / 1000;
  std::string base = external_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/api/v1/alert-links/ack?f=" + http::PercentEncode(fingerprint) + "&u=" + http::PercentEncode(user) +
         "&e=" + std::to_string(expires_s) + "&s=" + Sign(fingerprint, user, expires_s);
}

Status AckLinks::Verify(const std::string& fingerprint, const std::string& user, int64_t expires_s,
                        const std::string& signature_hex, int64_t now_ms) const {
  if (!auth::ConstantTimeEquals(Sign(fingerprint, user, expires_s), signature_hex)) {
    return PermissionDeniedError("this link is not valid (its signature does not match)");
  }
  if (now_ms / 1000 > expires_s) return FailedPreconditionError("this link has expired; acknowledge in the console");
  return OkStatus();
}

}  // namespace steadfast::collector::alerts
