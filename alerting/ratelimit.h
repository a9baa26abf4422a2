// Per-receiver rate limits with digests. Chat robots limit how often they may be called
// (DingTalk and WeCom group robots: 20 messages a minute); a message over the limit is refused
// and lost. So the notifier passes each receiver's messages through a RateLimiter: under the
// limit a message goes at once; over it, messages are held and go out together as one digest
// when the window has room again. Nothing is dropped and the limit is never exceeded. Pure: the
// caller passes the time and sends what it is handed. A digest of many groups must still fit the
// robot's message size (DingTalk about 20 KB, WeCom markdown 4,096 bytes): the chat notifiers
// cut it to fit (notify/chat_notifier.h). The collector's outbox sender applies the same policy
// to the persistent outbox (collector/alerts/outbox_sender.h).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace steadfast::alerting {

struct RateLimit {
  int max_messages = 20;
  int64_t window_ms = 60'000;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit) : limit_(limit) {}

  // A message (the caller's id for it) to send at `now_ms`. Returns the batch to send now: just
  // this one, or nothing (held for a digest).
  std::vector<std::string> Offer(std::string message, int64_t now_ms);
  // The held messages as one digest, if the window has room at `now_ms`.
  std::vector<std::string> Due(int64_t now_ms);
  // When Due may hand out a digest (nullopt: nothing held).
  std::optional<int64_t> NextDue() const;
  size_t held() const { return held_.size(); }

 private:
  bool Room(int64_t now_ms);
  RateLimit limit_;
  std::deque<int64_t> sent_;  // send times within the window, oldest first
  std::vector<std::string> held_;
};

}  // namespace steadfast::alerting
