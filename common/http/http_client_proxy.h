// Which proxy an outgoing request uses, read from the environment the way libcurl 7.88 reads
// it, so HttpClient implementations agree with each other and with curl(1) on the same host.
//
//   <scheme>_proxy      lower case first; for https also HTTPS_PROXY. HTTP_PROXY (upper case)
//                       is ignored, as libcurl does: CGI servers put the request's "Proxy:"
//                       header there (httpoxy).
//   all_proxy, ALL_PROXY  when no scheme variable is set.
//   no_proxy, NO_PROXY  hosts that go direct: "*" alone; or a list separated by commas and/or
//                       blanks of host names (a name also matches its subdomains; leading and
//                       trailing dots are ignored; case-insensitive) and, for hosts given as IP
//                       addresses, IPs with an optional /prefix-length. Names never match IP
//                       hosts and IPs never match names (nothing is resolved).
// A variable that is set but empty stops the search and means "no proxy".
// Proxy values: [http://][user[:password]@]host[:port][/...]; the port defaults to 1080 as in
// libcurl; user and password are percent-decoded. Other proxy schemes (https, socks*) are
// refused.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace steadfast::http {

struct ProxyEndpoint {
  std::string host;  // name or IP; IPv6 without brackets
  uint16_t port = 1080;
  std::optional<std::string> user;  // set when the proxy value carried credentials
  std::string password;
  std::string source;  // the variable it came from, for messages: "https_proxy"
};

// Returns the value of an environment variable, nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment (getenv). Reads happen on every call, like libcurl's.
EnvLookup ProcessEnvironment();

// The proxy for a request to `scheme`://`host` ("http" or "https"; `host` as written in the
// URL, IPv6 with or without brackets), or nullopt to connect directly. InvalidArgument when
// the chosen variable holds something unusable (bad port, unsupported scheme, no host).
StatusOr<std::optional<ProxyEndpoint>> ProxyForUrl(std::string_view scheme, std::string_view host,
                                                   const EnvLookup& env);

// A URL authority without userinfo — "host", "host:port", "[v6]" or "[v6]:port" — split into
// the host (IPv6 without brackets) and the port if one is given (1..65535). InvalidArgument
// with the bare reason ("no host", "bad port", "unterminated IPv6 address", ...) for callers to
// put in their own message. Shared by the URL and the proxy-value parsers.
struct HostPort {
  std::string host;
  bool bracketed = false;  // written as [IPv6]
  std::optional<uint16_t> port;
};
StatusOr<HostPort> SplitHostPort(std::string_view authority);

// True when `host` is excluded from proxying by the no_proxy value `no_proxy` (rules above).
bool NoProxyMatches(std::string_view no_proxy, std::string_view host);

}  // namespace steadfast::http
