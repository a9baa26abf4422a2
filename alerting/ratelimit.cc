#include "alerting/ratelimit.h"

namespace steadfast::alerting {

bool RateLimiter::Room(int64_t now_ms) {
  while (!sent_.empty() && sent_.front() <= now_ms - limit_.window_ms) sent_.pop_front();
  return static_cast<int>(sent_.size()) < limit_.max_messages;
}

std::vector<std::string> RateLimiter::Offer(std::string message, int64_t now_ms) {
  // Held messages go first, together; a new one joins them rather than overtaking them.
  if (held_.empty() && Room(now_ms)) {
    sent_.push_back(now_ms);
    return {std::move(message)};
  }
  held_.push_back(std::move(message));
  return Due(now_ms);
}

std::vector<std::string> RateLimiter::Due(int64_t now_ms) {
  if (held_.empty() || !Room(now_ms)) return {};
  sent_.push_back(now_ms);
  std::vector<std::string> digest;
  digest.swap(held_);
  return digest;
}

std::optional<int64_t> RateLimiter::NextDue() const {
  if (held_.empty()) return std::nullopt;
  if (static_cast<int>(sent_.size()) < limit_.max_messages) return int64_t{0};
  return sent_.front() + limit_.window_ms;
}

}  // namespace steadfast::alerting
