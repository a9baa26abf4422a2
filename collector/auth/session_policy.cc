#include "collector/auth/session_policy.h"

#include <algorithm>

#include "collector/auth/tokens.h"

namespace steadfast::collector::auth {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kMaxLifetimeMs = 30LL * 24 * 3600 * 1000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 6265 §4.1.1 cookie-octet: printable US-ASCII except space, '"', ',', ';' and '\'.
bool IsCookieOctet(char c) {
  return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

std::string Attributes(bool secure) { return secure ? "; HttpOnly; SameSite=Strict; Secure" : "; HttpOnly; SameSite=Strict"; }

}  // namespace

std::string_view SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kActive:
      return "active";
    case SessionState::kIdleExpired:
      return "idle_expired";
    case SessionState::kLifetimeExpired:
      return "lifetime_expired";
  }
  return "?";
}

Status SessionPolicy::Validate() const {
  if (idle_timeout_ms < kMinuteMs) return InvalidArgumentError("idle_timeout must be at least 1m");
  if (absolute_lifetime_ms < idle_timeout_ms) {
    return InvalidArgumentError("absolute_lifetime must not be shorter than idle_timeout");
  }
  if (absolute_lifetime_ms > kMaxLifetimeMs) return InvalidArgumentError("absolute_lifetime must be at most 30d");
  return OkStatus();
}

SessionState SessionPolicy::Evaluate(int64_t created_ms, int64_t last_seen_ms, int64_t now_ms) const {
  if (now_ms - created_ms >= absolute_lifetime_ms) return SessionState::kLifetimeExpired;
  if (now_ms - std::max(last_seen_ms, created_ms) >= idle_timeout_ms) return SessionState::kIdleExpired;
  return SessionState::kActive;
}

int64_t SessionPolicy::ExpiresAtMs(int64_t created_ms, int64_t last_seen_ms) const {
  return std::min(std::max(last_seen_ms, created_ms) + idle_timeout_ms, created_ms + absolute_lifetime_ms);
}

int64_t SessionPolicy::CookieMaxAgeSeconds(int64_t created_ms, int64_t now_ms) const {
  int64_t left_ms = created_ms + absolute_lifetime_ms - now_ms;
  return std::max<int64_t>(1, (left_ms + 999) / 1000);
}

bool SessionPolicy::NeedsTouch(int64_t last_seen_ms, int64_t now_ms) const {
  return now_ms - last_seen_ms >= std::min<int64_t>(kMinuteMs, idle_timeout_ms / 10);
}

StatusOr<SessionPolicy> ParseSessionPolicy(const config::ConfigNode& node) {
  SF_RETURN_IF_ERROR(node.CheckNoUnknownKeys({"idle_timeout", "absolute_lifetime"}));
  SessionPolicy p;
  SF_ASSIGN_OR_RETURN(p.idle_timeout_ms, node["idle_timeout"].DurationMillis(p.idle_timeout_ms, kMinuteMs,
                                                                              kMaxLifetimeMs));
  SF_ASSIGN_OR_RETURN(p.absolute_lifetime_ms, node["absolute_lifetime"].DurationMillis(
                                                  p.absolute_lifetime_ms, kMinuteMs, kMaxLifetimeMs));
  if (p.absolute_lifetime_ms < p.idle_timeout_ms) {
    config::ConfigNode at = node["absolute_lifetime"].present() ? node["absolute_lifetime"] : node["idle_timeout"];
    return at.Error("absolute_lifetime must not be shorter than idle_timeout");
  }
  return p;
}

std::string SessionCookie(std::string_view token, bool secure, int64_t max_age_seconds) {
  // Tokens come from NewToken; a ';' or newline here would let a value inject attributes.
  SF_CHECK(!token.empty() && std::all_of(token.begin(), token.end(), IsCookieOctet));
  std::string out = std::string(kSessionCookieName) + "=" + std::string(token) + "; Path=/";
  if (max_age_seconds > 0) out += "; Max-Age=" + std::to_string(max_age_seconds);
  return out + Attributes(secure);
}

std::string ClearSessionCookie(bool secure) {
  return std::string(kSessionCookieName) + "=; Path=/; Max-Age=0" + Attributes(secure);
}

std::vector<std::string> CookieValues(std::string_view header, std::string_view name) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= header.size()) {
    size_t end = header.find(';', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(start, end - start);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && Trim(pair.substr(0, eq)) == name) {
      std::string_view value = Trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      out.emplace_back(value);
    }
    start = end + 1;
  }
  return out;
}

std::vector<std::string> AllSessionTokensFromCookies(std::string_view cookie_header) {
  std::vector<std::string> out;
  for (std::string& value : CookieValues(cookie_header, kSessionCookieName)) {
    if (TokenKindOf(value) == TokenKind::kSession) out.push_back(std::move(value));
  }
  return out;
}

std::optional<std::string> SessionTokenFromCookies(std::string_view cookie_header) {
  std::vector<std::string> all = AllSessionTokensFromCookies(cookie_header);
  if (all.empty()) return std::nullopt;
  return all.front();
}

}  // namespace steadfast::collector::auth
