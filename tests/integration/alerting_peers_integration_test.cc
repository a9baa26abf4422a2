// The email notifier against a real SMTP server on loopback: Debian's python3-aiosmtpd
// (tests/peers/smtp_sink.py), plain, with required STARTTLS and AUTH, and with implicit TLS.
// What arrives is read back with Python's own email package, a MIME parser we did not write.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "alerting/notify/chat_notifier.h"
#include "alerting/notify/email_notifier.h"
#include "alerting/notify/webhook_payload.h"
#include "common/http/http_client.h"
#include "tests/support/process.h"

namespace steadfast::alerting {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testsupport::Process;
using testsupport::TempDir;

std::string Output(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

class SmtpPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Output("/usr/bin/python3 -c 'import aiosmtpd; print(1)' 2>/dev/null") != "1\n") {
      GTEST_SKIP() << "needs python3-aiosmtpd (deploy/install-deps.sh)";
    }
    const std::string d = dir_.path();
    ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/key.pem -out " + d +
                           "/cert.pem -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null")
                              .c_str()),
              0);
    testsupport::WriteTextFile(d + "/alert.json", Body());
  }

  void StartSink(const std::vector<std::string>& extra) {
    port_ = testsupport::FreeLoopbackPort();
    mail_dir_ = dir_.path() + "/mail-" + std::to_string(port_);
    std::vector<std::string> argv = {"/usr/bin/python3", std::string(SF_SOURCE_DIR) + "/tests/peers/smtp_sink.py",
                                     std::to_string(port_), mail_dir_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    sink_ = std::make_unique<Process>(argv, dir_.path() + "/sink.log");
    for (int i = 0; i < 200 && access((mail_dir_ + "/ready").c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(milliseconds(25));
    }
    ASSERT_EQ(access((mail_dir_ + "/ready").c_str(), F_OK), 0) << testsupport::ReadTextFile(dir_.path() + "/sink.log");
  }

  static std::string Body() {
    WebhookGroup g;
    g.receiver = "duty-mail";
    g.group_labels = {{"alertname", "disk-failing"}, {"host", "db-1"}};
    WebhookAlert a;
    a.alert.fingerprint = "00000000000000aa";
    a.alert.labels = {{"alertname", "disk-failing"}, {"host", "db-1"}, {"severity", "critical"}};
    a.alert.annotations = {{"summary", "磁盘 /dev/sda 即将故障"}};
    a.alert.firing_since_ms = 1'790'000'000'000;
    g.alerts.push_back(a);
    return WebhookBody(g);
  }

  EmailConfig Config(SmtpTls tls) {
    EmailConfig c;
    c.to = {"ops@example.test", "Duty Officer <duty@example.test>"};
    c.from = "Steadfast <steadfast@example.test>";
    c.smarthost = "127.0.0.1:" + std::to_string(port_);
    c.tls = tls;
    c.ca_file = dir_.path() + "/cert.pem";
    c.timeout_ms = 10'000;
    return c;
  }

  // The newest received message, parsed by Python's email package.
  json Received() {
    json last;
    for (const std::string& line : Lines(testsupport::ReadTextFile(mail_dir_ + "/mail.jsonl"))) {
      last = json::parse(line, nullptr, false);
    }
    if (!last.is_object()) return last;
    const std::string py =
        "import email, email.policy, json, sys\n"
        "m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n"
        "print(json.dumps({'subject': str(m['subject']), 'from': str(m['from']), 'to': str(m['to']),\n"
        "  'message_id': str(m['message-id']), 'type': m.get_content_type(),\n"
        "  'text': m.get_body(('plain',)).get_content(), 'html': m.get_body(('html',)).get_content()}))\n";
    testsupport::WriteTextFile(dir_.path() + "/parse.py", py);
    json parsed = json::parse(Output("/usr/bin/python3 " + dir_.path() + "/parse.py " + last["file"].get<std::string>()),
                              nullptr, false);
    parsed["envelope"] = last;
    return parsed;
  }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      if (nl > start) out.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
    return out;
  }

  TempDir dir_;
  int port_ = 0;
  std::string mail_dir_;
  std::unique_ptr<Process> sink_;
};

TEST_F(SmtpPeerTest, AMessageInChineseArrivesAsTextAndHtml) {
  StartSink({});
  EmailConfig c = Config(SmtpTls::kNone);
  c.language = "zh-CN";
  auto m = RenderMessage(Body(), c.templates, c.language);
  ASSERT_TRUE(m.ok());
  Status st = SendEmail(c, *m, "duty-mail/email[0]/1790000000000/abc", 1'790'000'000'000);
  ASSERT_TRUE(st.ok()) << st.ToString();
  json got = Received();
  ASSERT_TRUE(got.is_object()) << testsupport::ReadTextFile(dir_.path() + "/sink.log");
  EXPECT_EQ(got["envelope"]["mail_from"], "steadfast@example.test");
  EXPECT_EQ(got["envelope"]["rcpt_tos"], json({"ops@example.test", "duty@example.test"}));
  EXPECT_EQ(got["subject"], "[告警 1 条] disk-failing db-1");
  EXPECT_EQ(got["type"], "multipart/alternative");
  EXPECT_NE(got["text"].get<std::string>().find("磁盘 /dev/sda 即将故障"), std::string::npos) << got.dump();
  EXPECT_NE(got["html"].get<std::string>().find("<table"), std::string::npos);
  EXPECT_NE(got["message_id"].get<std::string>().find("@steadfast>"), std::string::npos);
  EXPECT_EQ(got["envelope"]["tls"], false);
}

TEST_F(SmtpPeerTest, StartTlsWithAuthAndItsRefusals) {
  const std::string cert = dir_.path() + "/cert.pem", key = dir_.path() + "/key.pem";
  StartSink({"--auth", "alice:s3cret-pass", "--starttls", cert, key});
  EmailConfig c = Config(SmtpTls::kStartTls);
  c.auth_username = "alice";
  c.auth_password = "s3cret-pass";
  auto m = RenderMessage(Body(), c.templates, c.language);
  ASSERT_TRUE(m.ok());
  Status st = SendEmail(c, *m, "k1", 1'790'000'000'000);
  ASSERT_TRUE(st.ok()) << st.ToString();
  json got = Received();
  EXPECT_EQ(got["envelope"]["tls"], true);
  EXPECT_EQ(got["envelope"]["auth_user"], "alice");
  EXPECT_EQ(got["subject"], "[FIRING:1] disk-failing db-1");

  // A wrong password is refused for good, and the message says so without the password.
  c.auth_password = "wrong-password";
  st = SendEmail(c, *m, "k2", 1'790'000'000'000);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(st.message().find("wrong-password"), std::string::npos);
  // A certificate we do not trust is refused for good too.
  c.auth_password = "s3cret-pass";
  c.ca_file.clear();
  st = SendEmail(c, *m, "k3", 1'790'000'000'000);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
}

TEST_F(SmtpPeerTest, ImplicitTlsAndAServerThatIsDown) {
  StartSink({"--implicit-tls", dir_.path() + "/cert.pem", dir_.path() + "/key.pem"});
  EmailConfig c = Config(SmtpTls::kImplicit);
  auto m = RenderMessage(Body(), c.templates, c.language);
  ASSERT_TRUE(m.ok());
  Status st = SendEmail(c, *m, "k1", 1'790'000'000'000);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Received()["envelope"]["tls"], true);
  c.smarthost = "127.0.0.1:" + std::to_string(testsupport::FreeLoopbackPort());
  st = SendEmail(c, *m, "k2", 1'790'000'000'000);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
}

// Forwarding to a real Prometheus Alertmanager (Debian's prometheus-alertmanager) on loopback:
// its own API must show the forwarded alert, and then its resolution.
class AlertmanagerPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/prometheus-alertmanager", X_OK) != 0) {
      GTEST_SKIP() << "needs prometheus-alertmanager (deploy/install-deps.sh)";
    }
    port_ = testsupport::FreeLoopbackPort();
    const std::string d = dir_.path();
    testsupport::WriteTextFile(d + "/am.yml", "route: {receiver: nowhere}\nreceivers: [{name: nowhere}]\n");
    am_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/prometheus-alertmanager", "--config.file=" + d + "/am.yml",
                                 "--storage.path=" + d + "/data", "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--cluster.listen-address="},
        d + "/am.log");
    client_ = http::NewCurlHttpClient({});
    for (int i = 0; i < 300; ++i) {
      if (Get("/-/ready").first == 200) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "alertmanager not ready: " << testsupport::ReadTextFile(d + "/am.log");
  }

  std::pair<int, std::string> Get(const std::string& path) {
    http::HttpClientRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    r.timeout = milliseconds(2000);
    auto resp = client_->Do(r);
    if (!resp.ok()) return {0, ""};
    return {resp->status, resp->body};
  }

  // Alertmanager's view of our alert: its state, or "" when it does not list it.
  std::string StateOf(const std::string& target) {
    json alerts = json::parse(Get("/api/v2/alerts").second, nullptr, false);
    if (!alerts.is_array()) return "";
    for (const json& a : alerts) {
      if (a["labels"].value("target", "") == target) return a["status"]["state"].get<std::string>();
    }
    return "";
  }

  static std::string Notification(bool resolved, int64_t now_ms) {
    WebhookGroup g;
    g.receiver = "am";
    g.group_labels = {{"host", "db-1"}};
    WebhookAlert a;
    a.alert.fingerprint = "00000000000000ab";
    a.alert.labels = {{"alertname", "disk-failing"}, {"host", "db-1"}, {"target", "/dev/sdq"}, {"severity", "critical"}};
    a.alert.annotations = {{"summary", "disk failing"}};
    a.alert.firing_since_ms = now_ms - 60'000;
    a.resolved = resolved;
    a.ends_ms = resolved ? now_ms - 1'000 : 0;
    g.alerts.push_back(a);
    return WebhookBody(g);
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Process> am_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(AlertmanagerPeerTest, ItsApiShowsTheForwardedAlertAndThenItsResolution) {
  ChatConfig c;
  c.kind = ChatKind::kAlertmanager;
  c.url = "http://127.0.0.1:" + std::to_string(port_) + "/";
  const int64_t now = std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  Status st = SendChat(*client_, c, Notification(false, now), now);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(StateOf("/dev/sdq"), "active") << Get("/api/v2/alerts").second;
  st = SendChat(*client_, c, Notification(true, now), now);
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (int i = 0; i < 40 && !StateOf("/dev/sdq").empty(); ++i) std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(StateOf("/dev/sdq"), "") << "resolved alerts leave Alertmanager's active list: " << Get("/api/v2/alerts").second;
  // A wrong path is refused for good.
  c.url += "nothing-here";
  EXPECT_EQ(SendChat(*client_, c, Notification(false, now), now).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace steadfast::alerting
