// One-click acknowledgement links: an escalation message to a person carries, per alert, a URL
// that acknowledges it as that person, so an engineer can acknowledge from a phone without
// logging in. The link is signed (HMAC-SHA256 with a key kept in the data directory, 0600) over
// the alert's fingerprint, the username and an expiry (24 hours), so it cannot be forged or
// changed to another person or alert, and stops working after a day:
//
//   {external_url}/api/v1/alert-links/ack?f=<fingerprint>&u=<username>&e=<unix seconds>&s=<hex>
//
// Opening it (GET) shows a confirmation page with one button; only the POST from that page
// acknowledges (mail scanners and link previews fetch links, and must not acknowledge).
#pragma once

#include <cstdint>
#include <string>

#include "collector/auth/secure_random.h"
#include "common/fs/file_system.h"
#include "common/status.h"

namespace steadfast::collector::alerts {

inline constexpr int64_t kAckLinkLifetimeMs = 24LL * 3'600'000;

class AckLinks {
 public:
  // Reads the key at `path`, creating it (32 random bytes, mode 0600) when missing.
  static StatusOr<AckLinks> LoadOrCreate(FileSystem& fs, const std::string& path, auth::SecureRandom& random);
  explicit AckLinks(std::string key) : key_(std::move(key)) {}

  // The link; "" when external_url is empty (no address to link to).
  std::string Url(const std::string& external_url, const std::string& fingerprint, const std::string& user,
                  int64_t now_ms) const;
  // PermissionDenied for a bad signature, FailedPrecondition for an expired link.
  Status Verify(const std::string& fingerprint, const std::string& user, int64_t expires_s,
                const std::string& signature_hex, int64_t now_ms) const;

 private:
  std::string Sign(const std::string& fingerprint, const std::string& user, int64_t expires_s) const;
  std::string key_;
};

}  // namespace steadfast::collector::alerts
