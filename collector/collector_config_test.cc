#include "collector/collector_config.h"

#include <gtest/gtest.h>

#include "common/testing/memory_file_system.h"

namespace steadfast::collector {
namespace {

class CollectorConfigTest : public ::testing::Test {
 protected:
  StatusOr<CollectorConfig> Parse(const std::string& yaml) {
    return ParseCollectorConfigText(yaml, "collector.yaml", fs_);
  }
  std::string Error(const std::string& yaml) {
    auto c = Parse(yaml);
    EXPECT_FALSE(c.ok()) << yaml;
    return c.ok() ? "" : c.status().message();
  }
  testing::MemoryFileSystem fs_;
};

TEST_F(CollectorConfigTest, EmptyConfigGivesDefaults) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->data_dir, "/var/lib/steadfast-collector");
  EXPECT_EQ(c->DatabasePath(), "/var/lib/steadfast-collector/collector.db");
  EXPECT_TRUE(c->enrollment_tokens.empty());
  EXPECT_EQ(c->history_retention_ms, 30LL * 24 * 3600 * 1000);
  EXPECT_EQ(c->storage_synchronous, "FULL");
  EXPECT_EQ(c->max_body_bytes, 16LL << 20);
  EXPECT_EQ(c->max_decompressed_bytes, 64LL << 20);
  EXPECT_EQ(c->io_threads, 2);
  EXPECT_EQ(c->handler_threads, 16);
  EXPECT_EQ(c->log.level, "info");
  EXPECT_EQ(c->log.format, LogFormat::kText);
}

TEST_F(CollectorConfigTest, FullConfig) {
  ASSERT_TRUE(fs_.CreateDirectories("/etc/steadfast").ok());
  ASSERT_TRUE(fs_.CreateDirectories("/etc/ssl").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/etc/steadfast/tokens", "# enrolment tokens\n\nfile-token-0123456789abcdef\n  spaced-token-0123456789  \n", 0600).ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/etc/ssl/c.pem", "x").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/etc/ssl/k.pem", "x", 0600).ok());
  auto c = Parse(R"(
listen: "[::1]:9443"
data_dir: /srv/collector
web_root: /srv/web
enrollment_tokens:
  - inline-token-0123456789abcdef
enrollment_token_file: /etc/steadfast/tokens
history_retention: 7d
storage:
  synchronous: NORMAL
limits:
  max_body_bytes: 8MiB
  max_decompressed_bytes: 32MiB
tls:
  cert_file: /etc/ssl/c.pem
  key_file: /etc/ssl/k.pem
http:
  io_threads: 4
  handler_threads: 32
log:
  format: json
  level: debug
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_host, "::1");
  EXPECT_EQ(c->listen_port, 9443);
  EXPECT_EQ(c->data_dir, "/srv/collector");
  EXPECT_EQ(c->web_root, "/srv/web");
  EXPECT_EQ(c->enrollment_tokens,
            (std::vector<std::string>{"inline-token-0123456789abcdef", "file-token-0123456789abcdef",
                                      "spaced-token-0123456789"}));
  EXPECT_EQ(c->history_retention_ms, 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(c->storage_synchronous, "NORMAL");
  EXPECT_EQ(c->max_body_bytes, 8LL << 20);
  EXPECT_EQ(c->max_decompressed_bytes, 32LL << 20);
  EXPECT_EQ(c->tls_cert_file, "/etc/ssl/c.pem");
  EXPECT_EQ(c->io_threads, 4);
  EXPECT_EQ(c->handler_threads, 32);
  EXPECT_EQ(c->log.format, LogFormat::kJson);
  EXPECT_EQ(c->log.level, "debug");
}

TEST_F(CollectorConfigTest, UnknownKeysNameFileLineAndKey) {
  std::string e = Error("listen: 127.0.0.1:1\nlissten: typo\n");
  EXPECT_NE(e.find("collector.yaml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("lissten"), std::string::npos) << e;
  e = Error("storage:\n  synchronus: FULL\n");
  EXPECT_NE(e.find("collector.yaml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("storage.synchronus"), std::string::npos) << e;
  e = Error("limits:\n  max_body: 1MiB\n");
  EXPECT_NE(e.find("limits.max_body"), std::string::npos) << e;
  e = Error("http:\n  threads: 3\n");
  EXPECT_NE(e.find("http.threads"), std::string::npos) << e;
  e = Error("log:\n  colour: yes\n");
  EXPECT_NE(e.find("log.colour"), std::string::npos) << e;
  e = Error("tls:\n  ca_file: x\n");
  EXPECT_NE(e.find("tls.ca_file"), std::string::npos) << e;
}

TEST_F(CollectorConfigTest, BadValuesNameTheKey) {
  struct Case {
    std::string yaml, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"listen: localhost\n", "listen"},
           {"listen: 127.0.0.1:99999\n", "listen"},
           {"listen: :8080\n", "listen"},
           {"listen: \"[::1\"\n", "listen"},
           {"data_dir: \"\"\n", "data_dir"},
           {"enrollment_tokens: short\n", "enrollment_tokens"},
           {"enrollment_tokens: [short]\n", "enrollment_tokens[0]"},
           {"enrollment_token_file: /missing\n", "enrollment_token_file"},
           {"history_retention: forever\n", "history_retention"},
           {"history_retention: 1m\n", "history_retention"},
           {"storage: {synchronous: OFF}\n", "storage.synchronous"},
           {"limits: {max_body_bytes: lots}\n", "limits.max_body_bytes"},
           {"limits: {max_body_bytes: 10}\n", "limits.max_body_bytes"},
           {"limits: {max_decompressed_bytes: 9GiB}\n", "limits.max_decompressed_bytes"},
           {"tls: {cert_file: /etc/ssl/c.pem}\n", "tls.key_file"},
           {"tls: {cert_file: /nope/c.pem, key_file: /nope/k.pem}\n", "tls.cert_file"},
           {"http: {io_threads: 0}\n", "http.io_threads"},
           {"http: {handler_threads: many}\n", "http.handler_threads"},
           {"log: {level: loud}\n", "log.level"},
           {"log: {format: xml}\n", "log.format"},
           {"- a\n- b\n", "top level"},
           {"listen: [\n", "collector.yaml:"},
       }) {
    std::string e = Error(c.yaml);
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.yaml << " -> " << e;
    EXPECT_NE(e.find("collector.yaml"), std::string::npos) << e;
  }
}

TEST_F(CollectorConfigTest, TokenFileMustNotBeWorldReadableAndTokensMustBeLong) {
  ASSERT_TRUE(fs_.CreateDirectories("/").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/t-open", "file-token-0123456789abcdef\n", 0644).ok());
  EXPECT_NE(Error("enrollment_token_file: /t-open\n").find("readable by everyone"), std::string::npos);
  ASSERT_TRUE(fs_.WriteFileAtomic("/t-short", "ok-token-0123456789\nshort\n", 0600).ok());
  std::string e = Error("enrollment_token_file: /t-short\n");
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
}

TEST_F(CollectorConfigTest, ByteSizes) {
  EXPECT_EQ(ParseByteSize("1024").value_or(-1), 1024);
  EXPECT_EQ(ParseByteSize("16MiB").value_or(-1), 16LL << 20);
  EXPECT_EQ(ParseByteSize("2 GiB").value_or(-1), 2LL << 30);
  EXPECT_EQ(ParseByteSize("512KiB").value_or(-1), 512LL << 10);
  EXPECT_EQ(ParseByteSize("1MB").value_or(-1), 1'000'000);
  EXPECT_FALSE(ParseByteSize("MiB").ok());
  EXPECT_FALSE(ParseByteSize("12 parsecs").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
  EXPECT_FALSE(ParseByteSize("99999999999999999999").ok());
}

TEST_F(CollectorConfigTest, ShippedExampleConfigIsValid) {
  auto fs = NewPosixFileSystem();
  auto c = LoadCollectorConfig(SF_COLLECTOR_EXAMPLE_CONFIG, *fs);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_FALSE(c->enrollment_tokens.empty());
  // Alerting with the shipped default rules, read from beside the config.
  EXPECT_TRUE(c->alerting.enabled);
  EXPECT_GE(c->alerting.rules.rules.size(), 5u);
  EXPECT_EQ(c->alerting.route.receiver, "console");
}

TEST_F(CollectorConfigTest, AuditRetentionDefaultsToAYearAndKeyLivesInDataDir) {
  auto c = Parse("data_dir: /srv/collector\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit_retention_ms, 365LL * 24 * 3600 * 1000);
  EXPECT_EQ(c->AuditKeyPath(), "/srv/collector/audit.key");
  auto longer = Parse("audit_retention: 1000d\n");
  ASSERT_TRUE(longer.ok()) << longer.status().ToString();
  EXPECT_EQ(longer->audit_retention_ms, 1000LL * 24 * 3600 * 1000);
  auto minimum = Parse("audit_retention: 183d\n");
  ASSERT_TRUE(minimum.ok()) << minimum.status().ToString();
  EXPECT_EQ(minimum->audit_retention_ms, kMinAuditRetentionMs);
}

TEST_F(CollectorConfigTest, AuditRetentionUnderSixMonthsIsRefusedWithTheReason) {
  for (const char* value : {"182d", "90d", "30d", "1h"}) {
    const std::string e = Error("listen: 127.0.0.1:8080\naudit_retention: " + std::string(value) + "\n");
    EXPECT_NE(e.find("collector.yaml:2"), std::string::npos) << e;
    EXPECT_NE(e.find("audit_retention"), std::string::npos) << e;
    EXPECT_NE(e.find("183d"), std::string::npos) << e;
    EXPECT_NE(e.find("Cybersecurity Law"), std::string::npos) << e;
  }
  EXPECT_NE(Error("audit_retention: a while\n").find("audit_retention"), std::string::npos);
}

TEST_F(CollectorConfigTest, ShippedExampleConfigKeepsAuditRecordsAYear) {
  auto fs = NewPosixFileSystem();
  auto c = LoadCollectorConfig(SF_COLLECTOR_EXAMPLE_CONFIG, *fs);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit_retention_ms, 365LL * 24 * 3600 * 1000);
}

TEST_F(CollectorConfigTest, MissingFileIsNotFound) {
  auto fs = NewPosixFileSystem();
  EXPECT_EQ(LoadCollectorConfig("/nonexistent/collector.yaml", *fs).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace steadfast::collector
