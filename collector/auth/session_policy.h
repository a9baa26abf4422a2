// Browser session timing and the sf_session cookie.
//
// A session ends after `idle_timeout` without a request, and in any case `absolute_lifetime`
// after login (docs/ACCOUNTS.md, "Authentication"). Defaults: 30 minutes idle, 12 hours
// absolute — a working day's shift, with the idle logout GB/T 22239-2019 (item b of
// 身份鉴别, "当登录连接超时自动退出") asks for; deployments assessed at level 3 often set
// idle_timeout to 15m or 10m.
//
// All times are unix milliseconds; pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config_node.h"
#include "common/status.h"

namespace steadfast::collector::auth {

enum class SessionState { kActive, kIdleExpired, kLifetimeExpired };
// "active", "idle_expired", "lifetime_expired" (for logs and the audit record).
std::string_view SessionStateName(SessionState state);

struct SessionPolicy {
  int64_t idle_timeout_ms = 30 * 60'000;
  int64_t absolute_lifetime_ms = 12 * 3600'000;

  // InvalidArgument unless 1 minute <= idle_timeout <= absolute_lifetime <= 30 days.
  Status Validate() const;

  // The state at `now_ms` of a session created at `created_ms` and last used at
  // `last_seen_ms`. Ends exactly at the limit (now == created + lifetime is expired); when
  // both limits have passed, kLifetimeExpired.
  SessionState Evaluate(int64_t created_ms, int64_t last_seen_ms, int64_t now_ms) const;
  // When the session will end if no further request comes.
  int64_t ExpiresAtMs(int64_t created_ms, int64_t last_seen_ms) const;
  // Max-Age for the cookie set at `now_ms`: the seconds left of the absolute lifetime,
  // rounded up; at least 1.
  int64_t CookieMaxAgeSeconds(int64_t created_ms, int64_t now_ms) const;
  // Whether a request at `now_ms` should write last_seen back to the store: true once
  // min(60 s, idle_timeout / 10) has passed since `last_seen_ms`. Saves a database write per
  // request; the cost is that a session may end up to that interval early, never late.
  bool NeedsTouch(int64_t last_seen_ms, int64_t now_ms) const;
};

// Reads a `session:` mapping (both keys optional):
//   idle_timeout: 30m
//   absolute_lifetime: 12h
// InvalidArgument "file:line: session.idle_timeout: ..." for an unknown key, a bad duration or
// a broken bound.
StatusOr<SessionPolicy> ParseSessionPolicy(const config::ConfigNode& node);

inline constexpr std::string_view kSessionCookieName = "sf_session";

// Set-Cookie value for a session token:
//   sf_session=<token>; Path=/; Max-Age=<s>; HttpOnly; SameSite=Strict[; Secure]
// `secure` when the collector serves TLS. `max_age_seconds` > 0 adds Max-Age (use
// CookieMaxAgeSeconds); 0 leaves it out, making a cookie that ends with the browser session.
// `token` must be a cookie-safe value such as NewToken's (crashes otherwise: tokens are ours).
std::string SessionCookie(std::string_view token, bool secure, int64_t max_age_seconds);
// Set-Cookie value that makes the browser drop the session cookie (logout, expiry):
//   sf_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict[; Secure]
std::string ClearSessionCookie(bool secure);

// Every value of cookie `name` in a Cookie request header ("a=1; sf_session=x; b=\"q\""), in
// order. Tolerates missing or extra spaces and tabs around ';' and '=', double-quoted values
// (quotes removed) and pairs without '='; names compare case-sensitively (RFC 6265).
std::vector<std::string> CookieValues(std::string_view cookie_header, std::string_view name);
// The session token from a Cookie header: the first sf_session value that is a well-formed
// session token (TokenKindOf == kSession). A browser may send several sf_session cookies (one
// set by a sibling subdomain, say); malformed ones are skipped, and the caller should try the
// rest (AllSessionTokensFromCookies) when the first is unknown to the store.
std::optional<std::string> SessionTokenFromCookies(std::string_view cookie_header);
std::vector<std::string> AllSessionTokensFromCookies(std::string_view cookie_header);

}  // namespace steadfast::collector::auth
