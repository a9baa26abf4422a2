// The http check against a real HTTP(S) server on loopback (the project's HttpServer, in
// process), and the probe's pure helpers. Certificates are made at test time with openssl(1):
// one valid for 5 days (critical: fewer than 7 days left), one for 15 (warning), one for 90.
#include "agent/checks/http_check.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/testing/test_util.h"
#include "common/http/http_server.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using protocol::CheckResult;
using protocol::CheckStatus;
using testing::MetricValue;
using testing::SpecFromYaml;

TEST(HttpProbeHelpersTest, ParseStatusRange) {
  EXPECT_EQ(*ParseStatusRange("200"), std::make_pair(200, 200));
  EXPECT_EQ(*ParseStatusRange("2xx"), std::make_pair(200, 299));
  EXPECT_EQ(*ParseStatusRange("3XX"), std::make_pair(300, 399));
  EXPECT_EQ(*ParseStatusRange("200-204"), std::make_pair(200, 204));
  for (const char* bad : {"", "20", "2000", "6xx", "abc", "300-200", "200-", "99"}) {
    EXPECT_FALSE(ParseStatusRange(bad).ok()) << bad;
  }
}

TEST(HttpProbeHelpersTest, ResolveUrl) {
  const std::string base = "https://h.example:8443/a/b/c?x=1";
  EXPECT_EQ(*ResolveUrl(base, "http://other/x"), "http://other/x");
  EXPECT_EQ(*ResolveUrl(base, "//cdn.example/y"), "https://cdn.example/y");
  EXPECT_EQ(*ResolveUrl(base, "/login?next=%2F"), "https://h.example:8443/login?next=%2F");
  EXPECT_EQ(*ResolveUrl(base, "d"), "https://h.example:8443/a/b/d");
  EXPECT_EQ(*ResolveUrl(base, "./d/"), "https://h.example:8443/a/b/d/");
  EXPECT_EQ(*ResolveUrl(base, "../d"), "https://h.example:8443/a/d");
  EXPECT_EQ(*ResolveUrl(base, "../../../../d"), "https://h.example:8443/d");
  EXPECT_EQ(*ResolveUrl(base, "?y=2"), "https://h.example:8443/a/b/c?y=2");
  EXPECT_EQ(*ResolveUrl(base, "e#frag"), "https://h.example:8443/a/b/e");
  EXPECT_EQ(*ResolveUrl("http://h", "x"), "http://h/x");
  EXPECT_EQ(*ResolveUrl("http://h?q", "/p/../"), "http://h/");
}

class HttpCheckTest : public ::testing::Test {
 protected:
  void Serve(http::HttpHandler handler, http::HttpServerOptions options = {}) {
    auto server = http::HttpServer::Start(options, std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  std::string Url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return std::string(server_->tls() ? "https" : "http") + "://" + host + ":" +
           std::to_string(server_->port()) + path;
  }
  CheckResult Run(HttpProbeOptions o, Clock& clock, Millis budget = Millis(5'000)) {
    HttpCheck check("web", std::move(o));
    CheckContext ctx{clock, fs_};
    ctx.deadline = clock.Monotonic() + budget;
    auto results = check.Run(ctx);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? CheckResult{} : results[0];
  }
  CheckResult Run(HttpProbeOptions o, Millis budget = Millis(5'000)) {
    RealClock clock;
    return Run(std::move(o), clock, budget);
  }
  HttpProbeOptions Options(const std::string& path) const {
    HttpProbeOptions o;
    o.url = Url(path);
    return o;
  }

  // The test site: a page, JSON health, redirects, an error and a slow page.
  static HttpResponse Site(const HttpRequest& r) {
    if (r.path == "/") return HttpResponse::Text(200, "<html><title>Welcome</title></html>");
    if (r.path == "/health") {
      return HttpResponse::Json(200, R"({"status":"ok","db":{"up":true,"lag":3}})");
    }
    if (r.path == "/degraded") return HttpResponse::Json(200, R"({"status":"degraded"})");
    if (r.path == "/old") {
      HttpResponse resp = HttpResponse::Text(301, "");
      resp.headers.Set("Location", "/older");
      return resp;
    }
    if (r.path == "/older") {
      HttpResponse resp = HttpResponse::Text(302, "");
      resp.headers.Set("Location", "../");  // relative: back to /
      return resp;
    }
    if (r.path == "/loop") {
      HttpResponse resp = HttpResponse::Text(302, "");
      resp.headers.Set("Location", "/loop");
      return resp;
    }
    if (r.path == "/form" && r.method == "POST") {
      HttpResponse resp = HttpResponse::Text(303, "");
      resp.headers.Set("Location", "/posted");
      return resp;
    }
    if (r.path == "/posted") return HttpResponse::Text(200, "method " + r.method);
    if (r.path == "/error") return HttpResponse::Text(503, "Service Unavailable: maintenance");
    if (r.path == "/slow") {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return HttpResponse::Text(200, "slow");
    }
    if (r.path == "/stall") {  // far past any deadline the tests set
      std::this_thread::sleep_for(std::chrono::milliseconds(2'000));
      return HttpResponse::Text(200, "late");
    }
    return HttpResponse::Text(404, "not found");
  }

  steadfast::testing::MemoryFileSystem fs_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(HttpCheckTest, HealthyPage) {
  Serve(Site);
  HttpProbeOptions o = Options("/");
  o.body_contains = {"Welcome"};
  o.body_not_contains = {"Exception"};
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.target, Url("/"));
  EXPECT_EQ(r.summary.rfind("HTTP 200 in ", 0), 0u) << r.summary;
  EXPECT_NE(r.summary.find(", keyword found"), std::string::npos) << r.summary;
  EXPECT_EQ(*MetricValue(r, "http_up"), 1);
  EXPECT_EQ(*MetricValue(r, "http_status_code"), 200);
  EXPECT_EQ(*MetricValue(r, "http_redirects"), 0);
  EXPECT_GT(*MetricValue(r, "http_duration_seconds"), 0);
  EXPECT_LT(*MetricValue(r, "http_duration_seconds"), 1);
  EXPECT_EQ(*MetricValue(r, "http_content_length_bytes"), 35);
  EXPECT_FALSE(MetricValue(r, "http_tls_cert_days_left").has_value()) << "plain http";
}

TEST_F(HttpCheckTest, UnexpectedStatusIsCritical) {
  Serve(Site);
  CheckResult r = Run(Options("/error"));
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("status 503, expected 200-399 (HTTP 503 in ", 0), 0u) << r.summary;
  HttpProbeOptions o = Options("/error");
  o.expected_status = {{503, 503}};  // a maintenance page that must be up
  o.body_contains = {"maintenance"};
  EXPECT_EQ(Run(o).status, CheckStatus::kOk);
  o = Options("/nope");
  o.expected_status = {{200, 299}, {404, 404}};
  EXPECT_EQ(Run(o).status, CheckStatus::kOk);
}

TEST_F(HttpCheckTest, RedirectNotFollowedIsHealthyByDefaultButNamed) {
  Serve(Site);
  CheckResult r = Run(Options("/old"));
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(*MetricValue(r, "http_status_code"), 301);
  HttpProbeOptions o = Options("/old");
  o.expected_status = {{200, 200}};
  r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("status 301, expected 200 (redirect to /older; set follow_redirects?)",
                            0),
            0u)
      << r.summary;
}

TEST_F(HttpCheckTest, FollowsRedirectsCountingThem) {
  Serve(Site);
  HttpProbeOptions o = Options("/old");
  o.follow_redirects = true;
  o.body_contains = {"Welcome"};
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(*MetricValue(r, "http_redirects"), 2);
  EXPECT_EQ(*MetricValue(r, "http_status_code"), 200);
  EXPECT_NE(r.summary.find(" after 2 redirects to " + Url("/")), std::string::npos) << r.summary;
  auto details = nlohmann::json::parse(r.details_json);
  EXPECT_EQ(details["final_url"], Url("/"));
  ASSERT_EQ(details["hops"].size(), 3u);
  EXPECT_EQ(details["hops"][0]["status"], 301);
  EXPECT_EQ(details["hops"][0]["location"], "/older");
  EXPECT_EQ(details["hops"][1]["url"], Url("/older"));
}

TEST_F(HttpCheckTest, TooManyRedirectsIsCritical) {
  Serve(Site);
  HttpProbeOptions o = Options("/loop");
  o.follow_redirects = true;
  o.max_redirects = 3;
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("more than 3 redirects; status 302, expected 2xx", 0), 0u)
      << r.summary;
  EXPECT_EQ(*MetricValue(r, "http_redirects"), 3);
}

TEST_F(HttpCheckTest, SeeOtherTurnsAPostIntoAGet) {
  Serve(Site);
  HttpProbeOptions o = Options("/form");
  o.method = "POST";
  o.body = "user=a";
  o.follow_redirects = true;
  o.body_contains = {"method GET"};
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
}

TEST_F(HttpCheckTest, KeywordChecks) {
  Serve(Site);
  HttpProbeOptions o = Options("/");
  o.body_contains = {"Welcome", "Goodbye"};
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("body does not contain \"Goodbye\" (HTTP 200 in ", 0), 0u)
      << r.summary;
  o.body_contains.clear();
  o.body_not_contains = {"title"};
  r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("body contains \"title\"", 0), 0u) << r.summary;
}

TEST_F(HttpCheckTest, JsonFieldChecks) {
  Serve(Site);
  HttpProbeOptions o = Options("/health");
  o.json_pointer = "/status";
  o.json_equals = "ok";
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_NE(r.summary.find(", /status ok"), std::string::npos) << r.summary;
  o.json_pointer = "/db/up";
  o.json_equals = "true";
  EXPECT_EQ(Run(o).status, CheckStatus::kOk);
  o.json_pointer = "/db/lag";
  o.json_equals = "3";
  EXPECT_EQ(Run(o).status, CheckStatus::kOk);
  o.json_equals = "4";
  r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("JSON /db/lag is \"3\", expected \"4\"", 0), 0u) << r.summary;
  o.json_pointer = "/db/missing";
  o.json_equals.reset();
  r = Run(o);
  EXPECT_EQ(r.summary.rfind("JSON has no /db/missing", 0), 0u) << r.summary;

  o = Options("/degraded");
  o.json_pointer = "/status";
  o.json_equals = "ok";
  r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("JSON /status is \"degraded\", expected \"ok\"", 0), 0u) << r.summary;

  o = Options("/");
  o.json_pointer = "/status";
  r = Run(o);
  EXPECT_EQ(r.summary.rfind("body is not JSON", 0), 0u) << r.summary;
}

TEST_F(HttpCheckTest, LatencyThresholds) {
  Serve(Site);
  HttpProbeOptions o = Options("/slow");
  o.latency_ms = Thresholds{100.0, 10'000.0};
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kWarning) << r.summary;
  EXPECT_NE(r.summary.find("took 3"), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find("(limit 100 ms)"), std::string::npos) << r.summary;
  o.latency_ms = Thresholds{100.0, 200.0};
  EXPECT_EQ(Run(o).status, CheckStatus::kCritical);
}

TEST_F(HttpCheckTest, DeadlineBoundsTheRun) {
  Serve(Site);
  const auto start = std::chrono::steady_clock::now();
  CheckResult r = Run(Options("/stall"), Millis(100));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_NE(r.summary.find("timed out"), std::string::npos) << r.summary;
  // Cut at the 100 ms deadline, not at the server's 2 s; room left for a busy machine.
  EXPECT_LT(took, std::chrono::milliseconds(1'000));
  EXPECT_EQ(*MetricValue(r, "http_up"), 0);
}

TEST_F(HttpCheckTest, ConnectionRefusedIsCritical) {
  Serve(Site);
  const std::string url = Url("/");
  server_.reset();
  HttpProbeOptions o;
  o.url = url;
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_NE(r.summary.find("Connection refused"), std::string::npos) << r.summary;
}

// --- TLS -------------------------------------------------------------------------------------

class HttpCheckTlsTest : public HttpCheckTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const std::string d = dir_->path();
    auto make = [&](const std::string& name, int days) {
      std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                        "-nodes -days " + std::to_string(days) +
                        " -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout " + d +
                        "/" + name + ".key -out " + d + "/" + name + ".pem >/dev/null 2>&1";
      return std::system(cmd.c_str()) == 0;
    };
    ok_ = make("d5", 5) && make("d15", 15) && make("d90", 90);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!ok_) GTEST_SKIP() << "openssl could not make the test certificates";
  }
  void ServeTls(const std::string& cert) {
    http::HttpServerOptions so;
    so.tls_cert_file = Path(cert + ".pem");
    so.tls_key_file = Path(cert + ".key");
    Serve(Site, so);
  }
  static std::string Path(const std::string& name) { return dir_->path() + "/" + name; }
  HttpProbeOptions TrustingOptions(const std::string& cert) const {
    HttpProbeOptions o;
    o.url = Url("/", "localhost");
    o.ca_file = Path(cert + ".pem");  // self-signed: the certificate is its own CA
    return o;
  }
  static testing::TempDir* dir_;
  static bool ok_;
};
testing::TempDir* HttpCheckTlsTest::dir_ = nullptr;
bool HttpCheckTlsTest::ok_ = false;

TEST_F(HttpCheckTlsTest, CertificateDaysLeftAreGraded) {
  struct Case {
    const char* cert;
    CheckStatus status;
    double days;
  };
  for (const Case& c : {Case{"d90", CheckStatus::kOk, 90}, Case{"d15", CheckStatus::kWarning, 15},
                        Case{"d5", CheckStatus::kCritical, 5}}) {
    ServeTls(c.cert);
    CheckResult r = Run(TrustingOptions(c.cert));
    EXPECT_EQ(r.status, c.status) << c.cert << ": " << r.summary;
    ASSERT_TRUE(MetricValue(r, "http_tls_cert_days_left").has_value()) << c.cert;
    EXPECT_NEAR(*MetricValue(r, "http_tls_cert_days_left"), c.days, 0.01) << c.cert;
    if (c.status == CheckStatus::kCritical) {
      EXPECT_EQ(r.summary.rfind("certificate expires in 5.0 days (< 7) (HTTP 200 in ", 0), 0u)
          << r.summary;
      EXPECT_NE(r.summary.find(", certificate valid "), std::string::npos) << r.summary;
    }
    if (c.status == CheckStatus::kOk) {
      // 90 days from the certificate's making, floored: 89 or (within its second) 90.
      EXPECT_TRUE(r.summary.find(", certificate valid 89 more days") != std::string::npos ||
                  r.summary.find(", certificate valid 90 more days") != std::string::npos)
          << r.summary;
    }
    auto details = nlohmann::json::parse(r.details_json);
    EXPECT_EQ(details["certificate"]["subject"], "CN=localhost");
  }
}

TEST_F(HttpCheckTlsTest, DaysLeftFollowTheAgentsClock) {
  ServeTls("d90");
  // The agent's wall clock says 100 days from now.
  steadfast::testing::FakeClock clock(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch() + std::chrono::hours(24 * 100))
          .count());
  HttpProbeOptions o = TrustingOptions("d90");
  o.verify_tls = false;  // verification uses the real time; days left use the agent's clock
  CheckResult r = Run(o, clock);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_EQ(r.summary.rfind("certificate expired 10.0 days ago", 0), 0u) << r.summary;
}

TEST_F(HttpCheckTlsTest, UntrustedCertificateIsCriticalWithTheReason) {
  ServeTls("d90");
  HttpProbeOptions o;
  o.url = Url("/", "localhost");  // no ca_file: the system store does not know it
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_NE(r.summary.find("certificate of localhost:" + std::to_string(server_->port()) +
                           " not accepted: self-signed certificate"),
            std::string::npos)
      << r.summary;
  o.verify_tls = false;
  r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_TRUE(MetricValue(r, "http_tls_cert_days_left").has_value());
}

TEST_F(HttpCheckTlsTest, WrongHostNameIsCritical) {
  ServeTls("d90");
  HttpProbeOptions o = TrustingOptions("d90");
  o.url = Url("/");  // 127.0.0.1: not in the certificate
  CheckResult r = Run(o);
  EXPECT_EQ(r.status, CheckStatus::kCritical);
  EXPECT_NE(r.summary.find("not accepted"), std::string::npos) << r.summary;
}

// --- config ----------------------------------------------------------------------------------

TEST(HttpCheckFactoryTest, ValidatesItsKeys) {
  auto ok = NewHttpCheck(SpecFromYaml(R"(
name: api
type: http
url: https://api.example/health
method: POST
headers: {Authorization: "Bearer x", Accept: application/json}
body: '{"ping":1}'
expected_status: [200, 2xx, "300-302"]
follow_redirects: true
max_redirects: 3
body_contains: [ok]
body_not_contains: error
json_pointer: /status
json_equals: ok
verify_tls: true
warning_ms: 500
critical_ms: 2000
cert_warning_days: 30
cert_critical_days: 10
)"));
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();

  auto expect_error = [](const std::string& yaml, const std::string& text) {
    auto r = NewHttpCheck(SpecFromYaml(yaml));
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
  };
  const std::string head = "name: w\ntype: http\n";
  expect_error(head, "url: required key is missing");
  expect_error(head + "url: ftp://x/\n", "agent.yaml:3: url: must start with http:// or https://");
  expect_error(head + "url: http://x/\nmethod: get\n", "agent.yaml:4: method");
  expect_error(head + "url: http://x/\nexpected_status: 2000\n",
               "agent.yaml:4: expected_status: '2000' is not a status code");
  expect_error(head + "url: http://x/\nmax_redirects: 3\n",
               "max_redirects: has no effect without follow_redirects: true");
  expect_error(head + "url: http://x/\njson_pointer: status\n", "agent.yaml:4: json_pointer");
  expect_error(head + "url: http://x/\njson_equals: ok\n", "json_equals: needs json_pointer");
  expect_error(head + "url: http://x/\nca_file: /nonexistent/ca.pem\n",
               "agent.yaml:4: ca_file: cannot read /nonexistent/ca.pem");
  expect_error(head + "url: http://x/\ncert_warning_days: 5\ncert_critical_days: 10\n",
               "agent.yaml:5: cert_critical_days");
  expect_error(head + "url: http://x/\nbody_contains: ''\n", "body_contains: must not be empty");
  expect_error(head + "url: http://x/\nfollow: true\n", "follow");
}

}  // namespace
}  // namespace steadfast::agent
