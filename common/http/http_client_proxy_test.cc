#include "common/http/http_client_proxy.h"

#include <gtest/gtest.h>

#include <map>

namespace steadfast::http {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(NoProxyMatchesTest, HostNamesMatchThemselvesAndSubdomains) {
  EXPECT_TRUE(NoProxyMatches("example.com", "example.com"));
  EXPECT_TRUE(NoProxyMatches("example.com", "www.Example.COM"));
  EXPECT_TRUE(NoProxyMatches(".example.com", "example.com"));
  EXPECT_TRUE(NoProxyMatches(".example.com", "a.b.example.com"));
  EXPECT_TRUE(NoProxyMatches("example.com.", "example.com"));
  EXPECT_TRUE(NoProxyMatches("example.com", "example.com."));
  EXPECT_FALSE(NoProxyMatches("example.com", "nonexample.com"));
  EXPECT_FALSE(NoProxyMatches("www.example.com", "example.com"));
  EXPECT_FALSE(NoProxyMatches("example.com", "example.com.evil"));
}

TEST(NoProxyMatchesTest, ListsSeparatedByCommasAndBlanks) {
  EXPECT_TRUE(NoProxyMatches("a.org, b.org", "b.org"));
  EXPECT_TRUE(NoProxyMatches("a.org b.org\tc.org", "x.c.org"));
  EXPECT_TRUE(NoProxyMatches(",,a.org,,", "a.org"));
  EXPECT_FALSE(NoProxyMatches("a.org,b.org", "c.org"));
  EXPECT_FALSE(NoProxyMatches("", "a.org"));
  EXPECT_FALSE(NoProxyMatches(" , ", "a.org"));
}

TEST(NoProxyMatchesTest, AsteriskAloneMatchesEverything) {
  EXPECT_TRUE(NoProxyMatches("*", "anything.example"));
  EXPECT_TRUE(NoProxyMatches("*", "10.1.2.3"));
  // As in libcurl, "*" is special only as the whole value.
  EXPECT_FALSE(NoProxyMatches("a.org,*", "b.org"));
}

TEST(NoProxyMatchesTest, IpAddressesAndPrefixes) {
  EXPECT_TRUE(NoProxyMatches("10.0.0.5", "10.0.0.5"));
  EXPECT_FALSE(NoProxyMatches("10.0.0.5", "10.0.0.6"));
  EXPECT_TRUE(NoProxyMatches("192.168.0.0/16", "192.168.7.9"));
  EXPECT_FALSE(NoProxyMatches("192.168.0.0/16", "192.169.0.1"));
  EXPECT_TRUE(NoProxyMatches("10.0.0.0/9", "10.127.255.255"));
  EXPECT_FALSE(NoProxyMatches("10.0.0.0/9", "10.128.0.0"));
  EXPECT_FALSE(NoProxyMatches("10.0.0.0/33", "10.0.0.0"));
  EXPECT_TRUE(NoProxyMatches("::1", "[::1]"));
  EXPECT_TRUE(NoProxyMatches("fd00::/8", "fd12:3456::1"));
  EXPECT_FALSE(NoProxyMatches("fd00::/8", "fe80::1"));
  // Names never match IPs and the other way round: nothing is resolved.
  EXPECT_FALSE(NoProxyMatches("localhost", "127.0.0.1"));
  EXPECT_FALSE(NoProxyMatches("127.0.0.1", "localhost"));
  EXPECT_FALSE(NoProxyMatches("0.0.1", "10.0.0.1"));
}

TEST(ProxyForUrlTest, SchemeVariablesAndPrecedence) {
  auto env =
      FakeEnv({{"http_proxy", "http://p1:3128"}, {"HTTPS_PROXY", "p2:8443"}, {"ALL_PROXY", "p3"}});
  auto http = ProxyForUrl("http", "collector.lan", env);
  ASSERT_TRUE(http.ok()) << http.status().ToString();
  ASSERT_TRUE(http->has_value());
  EXPECT_EQ((*http)->host, "p1");
  EXPECT_EQ((*http)->port, 3128);
  EXPECT_EQ((*http)->source, "http_proxy");
  EXPECT_FALSE((*http)->user.has_value());

  auto https = ProxyForUrl("https", "collector.lan", env);
  ASSERT_TRUE(https.ok() && https->has_value());
  EXPECT_EQ((*https)->host, "p2");
  EXPECT_EQ((*https)->port, 8443);
  EXPECT_EQ((*https)->source, "HTTPS_PROXY");

  // all_proxy is the fallback; the port defaults to 1080 like libcurl's.
  auto fallback = ProxyForUrl("https", "x", FakeEnv({{"ALL_PROXY", "p3"}}));
  ASSERT_TRUE(fallback.ok() && fallback->has_value());
  EXPECT_EQ((*fallback)->host, "p3");
  EXPECT_EQ((*fallback)->port, 1080);
  auto lower_first =
      ProxyForUrl("https", "x", FakeEnv({{"https_proxy", "a:1"}, {"HTTPS_PROXY", "b:2"}}));
  ASSERT_TRUE(lower_first.ok() && lower_first->has_value());
  EXPECT_EQ((*lower_first)->host, "a");
}

TEST(ProxyForUrlTest, UppercaseHttpProxyIsIgnored) {
  auto none = ProxyForUrl("http", "x", FakeEnv({{"HTTP_PROXY", "http://evil:80"}}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(ProxyForUrlTest, EmptyVariableMeansNoProxyAndStopsTheSearch) {
  auto none = ProxyForUrl(
      "https", "x", FakeEnv({{"https_proxy", ""}, {"HTTPS_PROXY", "b:2"}, {"all_proxy", "c"}}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(ProxyForUrlTest, NoProxyLowercaseFirst) {
  auto env = FakeEnv({{"http_proxy", "p:1"}, {"no_proxy", "a.lan"}, {"NO_PROXY", "b.lan"}});
  auto a = ProxyForUrl("http", "x.a.lan", env);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());
  auto b = ProxyForUrl("http", "b.lan", env);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->has_value());
  auto upper =
      ProxyForUrl("http", "b.lan", FakeEnv({{"http_proxy", "p:1"}, {"NO_PROXY", "b.lan"}}));
  ASSERT_TRUE(upper.ok());
  EXPECT_FALSE(upper->has_value());
}

TEST(ProxyForUrlTest, CredentialsAreDecoded) {
  auto p = ProxyForUrl("http", "x",
                       FakeEnv({{"http_proxy", "http://us%65r:p%40ss:w@[::1]:3128/ignored"}}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->has_value());
  EXPECT_EQ((*p)->host, "::1");
  EXPECT_EQ((*p)->port, 3128);
  EXPECT_EQ((*p)->user, "user");
  EXPECT_EQ((*p)->password, "p@ss:w");
}

TEST(ProxyForUrlTest, UnusableValuesAreInvalidArgument) {
  for (const char* value :
       {"socks5://p:1080", "https://p:443", "http://:3128", "p:99999", "p:12ab", "[::1"}) {
    auto p = ProxyForUrl("http", "x", FakeEnv({{"http_proxy", value}}));
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << value;
  }
  // A bypassed host never looks at the proxy value.
  auto bypassed =
      ProxyForUrl("http", "x", FakeEnv({{"http_proxy", "socks5://p"}, {"no_proxy", "*"}}));
  ASSERT_TRUE(bypassed.ok());
  EXPECT_FALSE(bypassed->has_value());
}

}  // namespace
}  // namespace steadfast::http
