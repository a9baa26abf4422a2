// Proxy selection from the environment; mirrors libcurl 7.88's detect_proxy(), parse_proxy()
// and Curl_check_noproxy() (lib/url.c, lib/noproxy.c) for the parts HttpClient supports.
#include "common/http/http_client_proxy.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <strings.h>

#include <array>
#include <cstdlib>
#include <cstring>

#include "common/http/http_types.h"

namespace steadfast::http {
namespace {

constexpr uint16_t kDefaultProxyPort = 1080;  // libcurl's CURL_DEFAULT_PROXY_PORT

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// An IP address in network byte order; family 0 when `text` is not one.
struct IpAddress {
  int family = 0;
  std::array<unsigned char, 16> bytes{};
};

IpAddress ParseIp(std::string_view text, int family) {
  IpAddress ip;
  std::string s(text);
  if (inet_pton(family, s.c_str(), ip.bytes.data()) == 1) ip.family = family;
  return ip;
}

// `host` (an IP of `family`) lies in `token` = "ip[/bits]"; bits 0 or absent means all bits,
// as in libcurl's Curl_cidr4_match / Curl_cidr6_match.
bool CidrMatches(const IpAddress& host, std::string_view token) {
  unsigned bits = 0;
  size_t slash = token.find('/');
  if (slash != std::string_view::npos) {
    bits = static_cast<unsigned>(std::atoi(std::string(token.substr(slash + 1)).c_str()));
    token = token.substr(0, slash);
  }
  IpAddress check = ParseIp(token, host.family);
  if (check.family == 0) return false;
  const unsigned max_bits = host.family == AF_INET ? 32 : 128;
  if (bits == 0) bits = max_bits;
  if (bits > max_bits) return false;
  const unsigned whole = bits / 8;
  if (std::memcmp(host.bytes.data(), check.bytes.data(), whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (host.bytes[whole] & mask) == (check.bytes[whole] & mask);
}

// First set variable among `names`; a set-but-empty one counts as set.
std::optional<std::pair<std::string, const char*>> FirstSet(
    const EnvLookup& env, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (std::optional<std::string> value = env(name))
      return std::make_pair(std::move(*value), name);
  }
  return std::nullopt;
}

StatusOr<ProxyEndpoint> ParseProxy(std::string_view value, const char* source) {
  ProxyEndpoint proxy;
  proxy.source = source;
  auto invalid = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("proxy from {} '{}': {}", source, value, why));
  };
  std::string_view rest = value;
  if (size_t sep = rest.find("://"); sep != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, sep);
    if (!IEquals(scheme, "http")) {
      return invalid(fmt::format("proxy scheme '{}' is not supported (only http://)", scheme));
    }
    rest = rest.substr(sep + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    bool user_ok = true, password_ok = true;
    proxy.user = PercentDecode(userinfo.substr(0, colon), /*plus_is_space=*/false, &user_ok);
    if (colon != std::string_view::npos) {
      proxy.password =
          PercentDecode(userinfo.substr(colon + 1), /*plus_is_space=*/false, &password_ok);
    }
    if (!user_ok || !password_ok) return invalid("bad percent-encoding in the credentials");
  }
  StatusOr<HostPort> split = SplitHostPort(rest);
  if (!split.ok()) return invalid(split.status().message());
  proxy.host = std::move(split->host);
  proxy.port = split->port.value_or(kDefaultProxyPort);
  return proxy;
}

}  // namespace

StatusOr<HostPort> SplitHostPort(std::string_view authority) {
  HostPort out;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("unterminated IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    out.bracketed = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgumentError("junk after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return InvalidArgumentError("no host");
  if (!port_text.empty()) {
    unsigned long port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) return InvalidArgumentError("bad port");
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) return InvalidArgumentError("bad port");
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

EnvLookup ProcessEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

bool NoProxyMatches(std::string_view no_proxy, std::string_view host) {
  if (host.empty() || no_proxy.empty()) return false;
  if (no_proxy == "*") return true;

  enum class Type { kName, kIpv4, kIpv6 } type = Type::kName;
  IpAddress host_ip;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
  }
  if ((host_ip = ParseIp(host, AF_INET)).family != 0) {
    type = Type::kIpv4;
  } else if ((host_ip = ParseIp(host, AF_INET6)).family != 0) {
    type = Type::kIpv6;
  } else if (host.back() == '.') {
    host.remove_suffix(1);  // "example.com." is "example.com"
  }

  size_t i = 0;
  while (i < no_proxy.size()) {
    while (i < no_proxy.size() && (IsBlank(no_proxy[i]) || no_proxy[i] == ',')) ++i;
    size_t start = i;
    while (i < no_proxy.size() && !IsBlank(no_proxy[i]) && no_proxy[i] != ',') ++i;
    std::string_view token = no_proxy.substr(start, i - start);
    if (token.empty()) continue;
    if (type == Type::kName) {
      if (token.back() == '.') token.remove_suffix(1);
      if (!token.empty() && token.front() == '.') token.remove_prefix(1);
      if (token.empty()) continue;
      if (token.size() == host.size()) {
        if (IEquals(token, host)) return true;
      } else if (token.size() < host.size()) {
        // "www.example.com" matches "example.com"; "nonexample.com" does not.
        if (host[host.size() - token.size() - 1] == '.' &&
            IEquals(token, host.substr(host.size() - token.size()))) {
          return true;
        }
      }
    } else if (CidrMatches(host_ip, token)) {
      return true;
    }
  }
  return false;
}

StatusOr<std::optional<ProxyEndpoint>> ProxyForUrl(std::string_view scheme, std::string_view host,
                                                   const EnvLookup& env) {
  std::optional<std::pair<std::string, const char*>> chosen;
  if (IEquals(scheme, "https")) {
    chosen = FirstSet(env, {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
  } else if (IEquals(scheme, "http")) {
    chosen = FirstSet(env, {"http_proxy", "all_proxy", "ALL_PROXY"});
  } else {
    return InvalidArgumentError(fmt::format("no proxy rules for scheme '{}'", scheme));
  }
  if (!chosen || chosen->first.empty()) return std::optional<ProxyEndpoint>();
  std::optional<std::pair<std::string, const char*>> no_proxy =
      FirstSet(env, {"no_proxy", "NO_PROXY"});
  if (no_proxy && NoProxyMatches(no_proxy->first, host)) return std::optional<ProxyEndpoint>();
  SF_ASSIGN_OR_RETURN(ProxyEndpoint proxy, ParseProxy(chosen->first, chosen->second));
  return std::optional<ProxyEndpoint>(std::move(proxy));
}

}  // namespace steadfast::http
