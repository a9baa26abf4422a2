#include "agent/agent_config.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "agent/host_port.h"

namespace steadfast::agent {
namespace {

class AgentConfigTest : public ::testing::Test {
 protected:
  AgentConfigTest() { RegisterBuiltinChecks(registry_); }
  StatusOr<AgentConfig> Parse(const std::string& yaml) {
    return ParseAgentConfigText(yaml, "agent.yaml", registry_);
  }
  // Expects a parse error whose message contains `expected`.
  void ExpectError(const std::string& yaml, const std::string& expected) {
    auto c = Parse(yaml);
    ASSERT_FALSE(c.ok()) << "accepted:\n" << yaml;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(expected), std::string::npos)
        << "message: " << c.status().message() << "\nexpected to contain: " << expected;
  }
  CheckRegistry registry_;
};

constexpr char kMinimal[] = "collector_url: https://collector.example:8443\n";

TEST_F(AgentConfigTest, MinimalConfigGetsDefaults) {
  auto c = Parse(kMinimal);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->collector_url, "https://collector.example:8443");
  EXPECT_EQ(c->state_dir, "/var/lib/steadfast-agent");
  EXPECT_EQ(c->metrics_listen, "");
  EXPECT_EQ(c->proc_root, "/proc");
  EXPECT_EQ(c->sys_root, "/sys");
  EXPECT_EQ(c->log.format, LogFormat::kText);
  EXPECT_EQ(c->log.level, "info");
  EXPECT_EQ(c->uplink.batch_size, 500);
  EXPECT_EQ(c->uplink.interval_ms, 5'000);
  EXPECT_EQ(c->uplink.timeout_ms, 10'000);
  EXPECT_EQ(c->uplink.max_backoff_ms, 60'000);
  EXPECT_EQ(c->uplink.spool_max_rows, 100'000);
  EXPECT_FALSE(c->tls.insecure_skip_verify);
  EXPECT_TRUE(c->checks.empty());
  EXPECT_EQ(c->source, "agent.yaml");
}

TEST_F(AgentConfigTest, FullConfig) {
  auto c = Parse(R"(
collector_url: http://127.0.0.1:8080/
enrollment_token: s3cret
state_dir: /srv/agent
metrics_listen: 127.0.0.1:9101
proc_root: /host/proc
sys_root: /host/sys
log: {format: json, level: debug}
uplink:
  batch_size: 100
  interval: 2s
  timeout: 30s
  max_backoff: 5m
  spool_max_rows: 5000
tls:
  ca_file: /etc/steadfast/ca.pem
  insecure_skip_verify: false
checks:
  - name: system
    type: system
    interval: 30s
    memory_warning_percent: 85
  - name: disks
    type: filesystem
    expect_rw: [/, /var]
  - name: db
    type: tcp
    host: db.internal
    port: 5432
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->collector_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->enrollment_token, "s3cret");
  EXPECT_EQ(c->state_dir, "/srv/agent");
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9101");
  EXPECT_EQ(c->proc_root, "/host/proc");
  EXPECT_EQ(c->sys_root, "/host/sys");
  EXPECT_EQ(c->log.format, LogFormat::kJson);
  EXPECT_EQ(c->log.level, "debug");
  EXPECT_EQ(c->uplink.batch_size, 100);
  EXPECT_EQ(c->uplink.interval_ms, 2'000);
  EXPECT_EQ(c->uplink.timeout_ms, 30'000);
  EXPECT_EQ(c->uplink.max_backoff_ms, 300'000);
  EXPECT_EQ(c->uplink.spool_max_rows, 5'000);
  EXPECT_EQ(c->tls.ca_file, "/etc/steadfast/ca.pem");
  ASSERT_EQ(c->checks.size(), 3u);
  EXPECT_EQ(c->checks[0].name, "system");
  EXPECT_EQ(c->checks[0].type, "system");
  EXPECT_EQ(c->checks[0].interval_ms, 30'000);
  EXPECT_EQ(c->checks[1].interval_ms, 60'000);
  EXPECT_EQ(c->checks[2].type, "tcp");
  EXPECT_EQ(c->checks[2].node["host"].String().value(), "db.internal");
}

TEST_F(AgentConfigTest, TopLevelErrors) {
  ExpectError("enrollment_token: x\n", "agent.yaml:1: collector_url: required key is missing");
  ExpectError("collector_url: collector:8080\n",
              "agent.yaml:1: collector_url: expected an http:// or https:// URL");
  ExpectError("collector_url: https:///\n", "collector_url: the URL has no host");
  ExpectError(std::string(kMinimal) + "colector: x\n", "agent.yaml:2: colector: unknown key");
  ExpectError(std::string(kMinimal) + "enrollment_token: a\nenrollment_token_file: /etc/t\n",
              "agent.yaml:3: enrollment_token_file: set enrollment_token or enrollment_token_file");
  ExpectError(std::string(kMinimal) + "enrollment_token_file: token.txt\n",
              "enrollment_token_file: expected an absolute path");
  ExpectError(std::string(kMinimal) + "state_dir: var/lib\n",
              "agent.yaml:2: state_dir: expected an absolute directory path");
  ExpectError(std::string(kMinimal) + "proc_root: proc\n", "proc_root: expected an absolute");
  ExpectError(std::string(kMinimal) + "sys_root: sys\n", "sys_root: expected an absolute");
  ExpectError(std::string(kMinimal) + "metrics_listen: 9100\n",
              "agent.yaml:2: metrics_listen: expected host:port");
  ExpectError(std::string(kMinimal) + "metrics_listen: 'localhost:99999'\n",
              "metrics_listen: port out of range");
  ExpectError("collector_url: [a, b]\n", "collector_url: expected a string");
  ExpectError("collector_url: [unclosed\n", "agent.yaml:");
  ExpectError("- just\n- a list\n", "top level");
}

TEST_F(AgentConfigTest, SectionErrors) {
  ExpectError(std::string(kMinimal) + "log:\n  level: loud\n",
              "agent.yaml:3: log.level: must be one of trace, debug, info, warn, error, off");
  ExpectError(std::string(kMinimal) + "log:\n  format: xml\n", "log.format: must be one of");
  ExpectError(std::string(kMinimal) + "log:\n  colour: true\n",
              "agent.yaml:3: log.colour: unknown key");
  ExpectError(std::string(kMinimal) + "uplink:\n  interval: often\n",
              "agent.yaml:3: uplink.interval: expected a duration");
  ExpectError(std::string(kMinimal) + "uplink:\n  batch_size: 0\n",
              "uplink.batch_size: must be between 1 and 10000");
  ExpectError(std::string(kMinimal) + "uplink:\n  batch_size: 20000\n", "uplink.batch_size");
  ExpectError(std::string(kMinimal) + "uplink:\n  spool_max_rows: 10\n", "uplink.spool_max_rows");
  ExpectError(std::string(kMinimal) + "uplink:\n  timeout: 10ms\n",
              "uplink.timeout: duration must be");
  ExpectError(std::string(kMinimal) + "uplink:\n  max_backoff: 0s\n", "uplink.max_backoff");
  ExpectError(std::string(kMinimal) + "uplink:\n  retries: 3\n", "uplink.retries: unknown key");
  ExpectError(std::string(kMinimal) + "tls:\n  insecure_skip_verify: maybe\n",
              "agent.yaml:3: tls.insecure_skip_verify: expected true or false");
  ExpectError(std::string(kMinimal) + "tls:\n  cert: /x\n", "tls.cert: unknown key");
}

TEST_F(AgentConfigTest, CheckErrors) {
  const std::string base = std::string(kMinimal) + "checks:\n";
  ExpectError(std::string(kMinimal) + "checks: {name: x}\n",
              "agent.yaml:2: checks: expected a list");
  ExpectError(base + "  - system\n", "agent.yaml:3: checks[0]: expected a mapping");
  ExpectError(base + "  - type: system\n", "checks[0].name: required key is missing");
  ExpectError(base + "  - name: 'my check'\n    type: system\n",
              "agent.yaml:3: checks[0].name: check names use letters");
  ExpectError(base + "  - name: a\n    type: system\n  - name: a\n    type: tcp\n",
              "agent.yaml:5: checks[1].name: duplicate check name 'a'");
  ExpectError(base + "  - name: a\n", "checks[0].type: required key is missing");
  ExpectError(base + "  - name: a\n    type: smart\n",
              "agent.yaml:4: checks[0].type: unknown check type 'smart' (known: ");
  ExpectError(base + "  - name: a\n    type: system\n    interval: 100ms\n",
              "agent.yaml:5: checks[0].interval: duration must be between 1000ms");
  ExpectError(base + "  - name: a\n    type: system\n    memory_warning: 80\n",
              "agent.yaml:5: checks[0].memory_warning: unknown key");
  ExpectError(base + "  - name: a\n    type: tcp\n    host: x\n",
              "checks[0].port: required key is missing");
  ExpectError(base + "  - name: a\n    type: filesystem\n    space_critical_percent: 101\n",
              "agent.yaml:5: checks[0].space_critical_percent: must be between 0 and 100");
}

TEST_F(AgentConfigTest, RuntimeRootsWorkersAndSpool) {
  auto c = Parse(std::string(kMinimal) + R"(
dev_root: /host/dev
etc_root: /host/etc
var_root: /host/var
check_workers: 8
spool: {max_rows: 5000, max_bytes: 64MiB, max_age: 2d}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->dev_root, "/host/dev");
  EXPECT_EQ(c->etc_root, "/host/etc");
  EXPECT_EQ(c->var_root, "/host/var");
  EXPECT_EQ(c->check_workers, 8);
  EXPECT_EQ(c->spool.max_rows, 5'000);
  EXPECT_EQ(c->uplink.spool_max_rows, 5'000);
  EXPECT_EQ(c->spool.max_bytes, 64 << 20);
  EXPECT_EQ(c->spool.max_age_ms, 2 * 86'400'000LL);

  auto d = Parse(kMinimal);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->dev_root, "/dev");
  EXPECT_EQ(d->etc_root, "/etc");
  EXPECT_EQ(d->var_root, "/var");
  EXPECT_EQ(d->check_workers, 4);
  EXPECT_EQ(d->spool.max_bytes, 256 << 20);
  EXPECT_EQ(d->spool.max_age_ms, 7 * 86'400'000LL);

  for (const auto& [text, bytes] : std::vector<std::pair<std::string, int64_t>>{
           {"2097152", 2 << 20}, {"1GiB", 1LL << 30}, {"500MB", 500'000'000}, {"3 MiB", 3 << 20}}) {
    auto e = Parse(std::string(kMinimal) + "spool: {max_bytes: '" + text + "'}\n");
    ASSERT_TRUE(e.ok()) << text << ": " << e.status().ToString();
    EXPECT_EQ(e->spool.max_bytes, bytes) << text;
  }
  // The older spelling still works on its own.
  auto old = Parse(std::string(kMinimal) + "uplink: {spool_max_rows: 700}\n");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->spool.max_rows, 700);

  ExpectError(std::string(kMinimal) + "dev_root: dev\n", "dev_root: expected an absolute");
  ExpectError(std::string(kMinimal) + "etc_root: ''\n", "etc_root: expected an absolute");
  ExpectError(std::string(kMinimal) + "var_root: var\n", "var_root: expected an absolute");
  ExpectError(std::string(kMinimal) + "check_workers: 0\n", "check_workers: must be between 1 and 64");
  ExpectError(std::string(kMinimal) + "spool: {max_bytes: lots}\n",
              "agent.yaml:2: spool.max_bytes: expected a size like 256MiB");
  ExpectError(std::string(kMinimal) + "spool: {max_bytes: 1KiB}\n", "spool.max_bytes: size must be");
  ExpectError(std::string(kMinimal) + "spool: {max_age: 10s}\n", "spool.max_age: duration must be");
  ExpectError(std::string(kMinimal) + "spool: {max_files: 3}\n", "spool.max_files: unknown key");
  ExpectError(std::string(kMinimal) + "uplink: {spool_max_rows: 700}\nspool: {max_rows: 800}\n",
              "agent.yaml:2: uplink.spool_max_rows: set spool.max_rows only");
}

TEST_F(AgentConfigTest, EveryCheckHasATimeoutShorterThanItsInterval) {
  auto c = Parse(std::string(kMinimal) + R"(checks:
  - {name: a, type: system}
  - {name: b, type: system, interval: 5s}
  - {name: c, type: system, interval: 5m, timeout: 90s}
  - {name: d, type: tcp, target: 'db:5432', timeout: 3s}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->checks[0].timeout_ms, 10'000);  // the default
  EXPECT_EQ(c->checks[1].timeout_ms, 2'500);   // at most half of a short interval
  EXPECT_EQ(c->checks[2].timeout_ms, 90'000);
  EXPECT_EQ(c->checks[3].timeout_ms, 3'000);   // tcp reads the same key as its connect timeout
  const std::string base = std::string(kMinimal) + "checks:\n";
  ExpectError(base + "  - {name: a, type: system, interval: 30s, timeout: 30s}\n",
              "agent.yaml:3: checks[0].timeout: must be shorter than the interval (30000 ms)");
  ExpectError(base + "  - {name: a, type: system, timeout: soon}\n",
              "checks[0].timeout: expected a duration");
  ExpectError(base + "  - {name: uplink, type: system}\n",
              "checks[0].name: the name 'uplink' is reserved");
}

TEST_F(AgentConfigTest, LoadReportsMissingFilesAndAcceptsTheExample) {
  auto missing = LoadAgentConfig("/nonexistent/agent.yaml", registry_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto example = LoadAgentConfig(SF_AGENT_EXAMPLE_CONFIG, registry_);
  ASSERT_TRUE(example.ok()) << example.status().ToString();
  EXPECT_EQ(example->checks.size(), 3u);
  EXPECT_EQ(example->source, SF_AGENT_EXAMPLE_CONFIG);
}

TEST(SplitHostPortTest, Forms) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitHostPort("127.0.0.1:9100", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9100);
  ASSERT_TRUE(SplitHostPort("[::1]:9100", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  ASSERT_TRUE(SplitHostPort("0.0.0.0:1", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("::1:9100", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort(":9100", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("host:", &host, &port).ok());
  EXPECT_TRUE(SplitHostPort("host:0", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("host:65536", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("host:http", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("[::1]9100", &host, &port).ok());
}

}  // namespace
}  // namespace steadfast::agent
