// The alert store and engine together: reports in, alerts stored with their history,
// notifications decided by the routing and grouping rules and written to the outbox once,
// a restart that neither loses nor repeats them, acknowledgements that expire, and the outbox
// sender's retries (against a fake HTTP client; the real receiver is in tests/e2e).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "alerting/notify/webhook_payload.h"
#include "alerting/oncall_config.h"
#include "collector/alerts/alert_engine.h"
#include "collector/alerts/alert_store.h"
#include "collector/alerts/outbox_sender.h"
#include "collector/store/sqlite_storage.h"
#include "collector/testing/test_util.h"
#include "common/config/config_node.h"
#include "common/fs/file_system.h"
#include "common/random.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::alerts {
namespace {

using nlohmann::json;
using protocol::CheckStatus;

constexpr char kRules[] = R"(rules:
  - name: check-critical
    kind: check_status
    statuses: [critical]
    severity: critical
    annotations: {summary: "{{check}} on {{host}} is critical"}
  - name: check-warning
    kind: check_status
    statuses: [warning]
    for: 1m
    severity: warning
)";

class FakeHttpClient : public http::HttpClient {
 public:
  StatusOr<http::HttpResponse> Do(const http::HttpClientRequest& request) override {
    std::lock_guard<std::mutex> lock(mu);
    requests.push_back(request);
    if (!answers.empty()) {
      int code = answers.front();
      answers.erase(answers.begin());
      if (code == 0) return UnavailableError("connection refused");
      http::HttpResponse r;
      r.status = code;
      return r;
    }
    http::HttpResponse r;
    r.status = 200;
    return r;
  }
  std::mutex mu;
  std::vector<http::HttpClientRequest> requests;
  std::vector<int> answers;  // queued status codes (0: no answer); then 200
};

class AlertEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = NewPosixFileSystem();
    ASSERT_TRUE(testutil::WriteFile(dir_.path() + "/rules.yaml", kRules));
    ASSERT_TRUE(testutil::WriteFile(dir_.path() + "/hook.secret", "0123456789abcdef-secret"));
    ::chmod((dir_.path() + "/hook.secret").c_str(), 0600);
    SetConfig("route: {receiver: hook, group_by: [host], group_wait: 10s, group_interval: 1m, repeat_interval: 4h}\n");
    OpenStores();
  }

  void SetConfig(const std::string& route_yaml, const std::string& extra = "") {
    const std::string yaml = "alerting:\n  rule_files: [rules.yaml]\n  external_url: http://console.example\n" + extra +
                             "  " + route_yaml +
                             "  receivers:\n    - name: hook\n      webhook_configs:\n        - url: "
                             "http://127.0.0.1:9/hook\n          secret_file: " +
                             dir_.path() + "/hook.secret\n";
    auto doc = config::ConfigDocument::Parse(yaml, "collector.yaml");
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    auto c = alerting::ParseAlertingConfig(doc->root()["alerting"], dir_.path(), *fs_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::move(c).value();
  }

  // A whole alerting section, then a restart with it.
  void UseConfig(const std::string& yaml) {
    auto doc = config::ConfigDocument::Parse(yaml, "c.yaml");
    ASSERT_TRUE(doc.ok());
    auto c = alerting::ParseAlertingConfig(doc->root()["alerting"], dir_.path(), *fs_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::move(c).value();
    Restart();
  }

  void OpenStores() {
    SqliteStorageOptions o;
    o.path = dir_.path() + "/collector.db";
    auto storage = SqliteStorage::Open(o, clock_);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
    auto db = AdminDb::Open(dir_.path() + "/collector.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto store = SqliteAlertStore::Open(*db_, [this](sqlite::SqliteDb&, const audit::AuditEvent& e) {
      audited_.push_back(e);
      return OkStatus();
    });
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    live_ = std::make_unique<LiveAlertingConfig>(config_);
    auto engine = AlertEngine::Create(*live_, *store_, *storage_, clock_, nullptr);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  void Restart() {
    engine_.reset();
    store_.reset();
    db_.reset();
    storage_.reset();
    OpenStores();
  }

  // Stores and observes one result per (check, status) for host `host`.
  void Report(const std::string& agent, const std::string& host,
              const std::vector<std::pair<std::string, CheckStatus>>& results) {
    if (!agents_.count(agent)) {
      AgentRecord rec;
      rec.agent_id = agent;
      rec.token_sha256 = std::string(64, static_cast<char>('a' + agents_.size()));
      rec.host = testutil::Host(host);
      rec.enrolled_at_ms = clock_.NowMillis();
      ASSERT_TRUE(storage_->CreateAgent(rec).ok());
      agents_[agent] = 0;
    }
    protocol::ReportBatch b;
    b.agent_id = agent;
    b.host = testutil::Host(host);
    b.sent_at_ms = clock_.NowMillis();
    for (const auto& [check, status] : results) {
      protocol::ReportEntry e;
      e.seq = ++agents_[agent];
      e.result = testutil::Result(check, "t", status, clock_.NowMillis());
      b.results.push_back(e);
    }
    ASSERT_TRUE(storage_->IngestBatch(b, clock_.NowMillis()).ok());
    engine_->Observe(b, clock_.NowMillis());
  }

  void Round() { ASSERT_TRUE(engine_->RunRound().ok()); }

  std::vector<OutboxEntry> Outbox() {
    auto e = store_->OutboxEntries(0, 1000);
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : std::vector<OutboxEntry>{};
  }

  std::vector<AlertRecord> Alerts(std::optional<std::vector<AlertState>> states = std::nullopt) {
    AlertQuery q;
    q.states = std::move(states);
    q.now_ms = clock_.NowMillis();
    auto page = store_->List(q);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<AlertRecord>{};
  }

  testutil::TempDir dir_;
  steadfast::testing::FakeClock clock_;
  std::unique_ptr<FileSystem> fs_;
  alerting::AlertingConfig config_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<AdminDb> db_;
  std::unique_ptr<SqliteAlertStore> store_;
  std::unique_ptr<LiveAlertingConfig> live_;
  std::unique_ptr<AlertEngine> engine_;
  std::map<std::string, uint64_t> agents_;
  std::vector<audit::AuditEvent> audited_;
};

TEST_F(AlertEngineTest, ACriticalResultIsNotifiedAtOnceAndItsResolutionOnce) {
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  std::vector<AlertRecord> firing = Alerts({{AlertState::kFiring}});
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].rule, "check-critical");
  EXPECT_EQ(firing[0].labels.at("host"), "db-1");
  EXPECT_EQ(firing[0].labels.at("agent_id"), "a1");
  EXPECT_EQ(firing[0].annotations.at("summary"), "disk on db-1 is critical");

  // The first critical of a new group does not wait group_wait.
  std::vector<OutboxEntry> out = Outbox();
  ASSERT_EQ(out.size(), 1u);
  json body = json::parse(out[0].body);
  EXPECT_EQ(body["status"], "firing");
  EXPECT_EQ(body["receiver"], "hook");
  EXPECT_EQ(body["groupLabels"], json({{"host", "db-1"}}));
  ASSERT_EQ(body["alerts"].size(), 1u);
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "check-critical");
  EXPECT_EQ(body["alerts"][0]["generatorURL"], "http://console.example/#/alerts/" + firing[0].fingerprint);

  // Nothing new: nothing more is sent, however many rounds run.
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(std::chrono::seconds(5));
    Round();
  }
  EXPECT_EQ(Outbox().size(), 1u);

  Report("a1", "db-1", {{"disk", CheckStatus::kOk}});
  Round();
  std::vector<AlertRecord> all = Alerts();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, AlertState::kResolved);
  // The resolution waits for group_interval after the last notification (sent 25 s ago).
  EXPECT_EQ(Outbox().size(), 1u);
  clock_.Advance(std::chrono::seconds(35));
  Round();
  out = Outbox();
  ASSERT_EQ(out.size(), 2u);
  body = json::parse(out[1].body);
  EXPECT_EQ(body["status"], "resolved");
  EXPECT_EQ(body["alerts"][0]["status"], "resolved");
  clock_.Advance(std::chrono::minutes(10));
  Round();
  EXPECT_EQ(Outbox().size(), 2u) << "a resolution is sent once";

  auto events = store_->Events(all[0].id);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> kinds;
  for (const AlertEvent& e : *events) kinds.push_back(e.kind + "/" + e.actor);
  EXPECT_EQ(kinds, (std::vector<std::string>{"firing/system", "resolved/system"}));
}

TEST_F(AlertEngineTest, FollowUpsWaitForTheGroupAndWarningsForTheirFor) {
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  ASSERT_EQ(Outbox().size(), 1u);
  clock_.Advance(std::chrono::seconds(1));
  Report("a1", "db-1", {{"raid", CheckStatus::kCritical}, {"load", CheckStatus::kWarning}});
  Round();
  EXPECT_EQ(Alerts({{AlertState::kPending}}).size(), 1u) << "the warning waits its for: 1m";
  EXPECT_EQ(Outbox().size(), 1u) << "a follow-up critical of the same group waits group_interval";
  clock_.Advance(std::chrono::seconds(60));
  Round();
  std::vector<OutboxEntry> out = Outbox();
  ASSERT_EQ(out.size(), 2u);
  json body = json::parse(out[1].body);
  // Both criticals and the warning (firing since the for ran out) in one message.
  EXPECT_EQ(body["alerts"].size(), 3u) << body.dump();

  // Another host is another group, notified at once.
  Report("a2", "web-1", {{"disk", CheckStatus::kCritical}});
  Round();
  EXPECT_EQ(Outbox().size(), 3u);
}

TEST_F(AlertEngineTest, ARestartNeitherLosesNorRepeatsNotifications) {
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  ASSERT_EQ(Outbox().size(), 1u);
  Report("a1", "db-1", {{"load", CheckStatus::kWarning}});
  Round();
  Restart();
  EXPECT_EQ(engine_->SeriesCount(), 2u);
  clock_.Advance(std::chrono::seconds(5));
  Round();
  EXPECT_EQ(Outbox().size(), 1u) << "the restart must not notify the firing alert again";
  // The warning's `for` counts from when its status began, before the restart.
  clock_.Advance(std::chrono::seconds(56));
  Round();
  ASSERT_EQ(Alerts({{AlertState::kFiring}}).size(), 2u);
  // Its group (notified 61 s ago) sends it now.
  std::vector<OutboxEntry> out = Outbox();
  ASSERT_EQ(out.size(), 2u);
  // Resolving after another restart still sends the resolution of both.
  Report("a1", "db-1", {{"disk", CheckStatus::kOk}, {"load", CheckStatus::kOk}});
  Round();
  Restart();
  clock_.Advance(std::chrono::seconds(61));
  Round();
  out = Outbox();
  ASSERT_EQ(out.size(), 3u);
  json body = json::parse(out[2].body);
  EXPECT_EQ(body["status"], "resolved");
  EXPECT_EQ(body["alerts"].size(), 2u);
  clock_.Advance(std::chrono::minutes(5));
  Round();
  EXPECT_EQ(Outbox().size(), 3u);
}

TEST_F(AlertEngineTest, RetriedReportsDoNotMoveTheStatusBack) {
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  // The same seq again with another status (a retry can only repeat what was sent): ignored.
  protocol::ReportBatch b;
  b.agent_id = "a1";
  b.host = testutil::Host("db-1");
  protocol::ReportEntry e;
  e.seq = 1;
  e.result = testutil::Result("disk", "t", CheckStatus::kOk, clock_.NowMillis());
  b.results.push_back(e);
  engine_->Observe(b, clock_.NowMillis());
  Round();
  EXPECT_EQ(Alerts({{AlertState::kFiring}}).size(), 1u);
}

TEST_F(AlertEngineTest, AcknowledgementIsRecordedAuditedAndExpires) {
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  std::vector<AlertRecord> firing = Alerts({{AlertState::kFiring}});
  ASSERT_EQ(firing.size(), 1u);
  const int64_t id = firing[0].id;
  AlertActor actor;
  actor.name = "alice";
  actor.audit.action = "alerts.acknowledge";
  actor.audit.actor_type = "user";
  actor.audit.actor_name = "alice";
  auto acked = store_->Acknowledge(id, actor, "replacing the disk", clock_.NowMillis() + 3'600'000, clock_.NowMillis());
  ASSERT_TRUE(acked.ok()) << acked.status().ToString();
  EXPECT_TRUE(acked->AcknowledgedAt(clock_.NowMillis()));
  ASSERT_EQ(audited_.size(), 1u);
  EXPECT_EQ(audited_[0].action, "alerts.acknowledge");
  EXPECT_EQ(audited_[0].object_type, "alert");
  EXPECT_EQ(audited_[0].object_id, std::to_string(id));
  EXPECT_NE(audited_[0].summary_json.find("replacing the disk"), std::string::npos);

  actor.audit.action = "alerts.assign";
  ASSERT_TRUE(store_->Assign(id, actor, "bob", clock_.NowMillis()).ok());
  actor.audit.action = "alerts.comment";
  ASSERT_TRUE(store_->Comment(id, actor, "disk ordered", clock_.NowMillis()).ok());
  EXPECT_EQ(audited_.size(), 3u);

  // An hour later the acknowledgement really ends, and the history says so.
  clock_.Advance(std::chrono::minutes(59));
  Round();
  EXPECT_EQ(Alerts({{AlertState::kFiring}})[0].ack_by, "alice");
  clock_.Advance(std::chrono::minutes(2));
  Round();
  auto after = store_->Get(id);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->ack_by.empty());
  EXPECT_FALSE(after->AcknowledgedAt(clock_.NowMillis()));
  EXPECT_EQ(after->assignee, "bob");
  auto events = store_->Events(id);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> kinds;
  for (const AlertEvent& e : *events) kinds.push_back(e.kind + "/" + e.actor);
  EXPECT_EQ(kinds, (std::vector<std::string>{"firing/system", "acknowledged/alice", "assigned/alice",
                                             "commented/alice", "ack_expired/system"}));

  // A resolved alert can no longer be acknowledged or assigned.
  Report("a1", "db-1", {{"disk", CheckStatus::kOk}});
  Round();
  auto late = store_->Acknowledge(id, actor, "", 0, clock_.NowMillis());
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition) << late.status().ToString();
  EXPECT_EQ(store_->Assign(id, actor, "bob", clock_.NowMillis()).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Acknowledge(99999, actor, "", 0, clock_.NowMillis()).status().code(), StatusCode::kNotFound);
}

TEST_F(AlertEngineTest, TheSenderSignsRetriesAndGivesUpOnARefusal) {
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  Report("a2", "web-1", {{"disk", CheckStatus::kCritical}});
  Round();
  ASSERT_EQ(Outbox().size(), 2u);
  FakeHttpClient client;
  client.answers = {503, 404};  // the first: retried; the second: refused for good
  OutboxSender sender(*live_, *store_, client, clock_, nullptr);
  auto n = sender.SendDueOnce();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  std::vector<OutboxEntry> out = Outbox();
  EXPECT_EQ(out[0].state, "pending");
  EXPECT_EQ(out[0].attempts, 1);
  EXPECT_EQ(out[0].next_attempt_ms, clock_.NowMillis() + 1000);
  EXPECT_NE(out[0].last_error.find("HTTP 503"), std::string::npos) << out[0].last_error;
  EXPECT_EQ(out[1].state, "failed");
  EXPECT_NE(out[1].last_error.find("HTTP 404"), std::string::npos);
  // Not due yet; then due and delivered.
  EXPECT_EQ(*sender.SendDueOnce(), 0);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(*sender.SendDueOnce(), 1);
  out = Outbox();
  EXPECT_EQ(out[0].state, "sent");
  EXPECT_EQ(out[0].attempts, 2);

  ASSERT_EQ(client.requests.size(), 3u);
  const http::HttpClientRequest& r = client.requests[2];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(r.headers.Get("Idempotency-Key").value_or(""), out[0].dedup_key);
  const std::string ts = r.headers.Get("X-Steadfast-Timestamp").value_or("");
  EXPECT_EQ(r.headers.Get("X-Steadfast-Signature").value_or(""),
            alerting::WebhookSignature("0123456789abcdef-secret", std::stoll(ts), r.body));
  EXPECT_EQ(r.body, out[0].body);
}

TEST_F(AlertEngineTest, ASilenceHoldsNotificationsButNotTheLifecycleOrAResolution) {
  // db-1's disk fires and is notified; then a silence covers db-1.
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  ASSERT_EQ(Outbox().size(), 1u);
  alerting::Silence s;
  s.matchers.push_back(alerting::Matcher::Parse("host=\"db-1\"").value());
  s.starts_ms = clock_.NowMillis();
  s.ends_ms = clock_.NowMillis() + 3'600'000;
  s.comment = "disk swap";
  AlertActor actor;
  actor.name = "alice";
  ASSERT_TRUE(store_->CreateSilence(s, {"host=\"db-1\""}, actor, clock_.NowMillis()).ok());
  // A new failure on the silenced host is stored as firing, and not sent.
  clock_.Advance(std::chrono::minutes(2));
  Report("a1", "db-1", {{"raid", CheckStatus::kCritical}});
  Round();
  EXPECT_EQ(Alerts({{AlertState::kFiring}}).size(), 2u);
  clock_.Advance(std::chrono::minutes(2));
  Round();
  EXPECT_EQ(Outbox().size(), 1u) << "the silenced alert must not be sent";
  // The disk alert (sent before the silence) resolves during the silence: its resolution is sent.
  Report("a1", "db-1", {{"disk", CheckStatus::kOk}});
  Round();
  std::vector<OutboxEntry> out = Outbox();
  ASSERT_EQ(out.size(), 2u);
  json body = json::parse(out[1].body);
  EXPECT_EQ(body["status"], "resolved");
  ASSERT_EQ(body["alerts"].size(), 1u) << body.dump();
  EXPECT_EQ(body["alerts"][0]["labels"]["check"], "disk");
  // Another host is not silenced.
  Report("a2", "web-1", {{"disk", CheckStatus::kCritical}});
  Round();
  EXPECT_EQ(Outbox().size(), 3u);
  // When the silence ends, the still-firing raid alert is notified.
  clock_.Advance(std::chrono::hours(1));
  Round();
  out = Outbox();
  ASSERT_EQ(out.size(), 4u);
  body = json::parse(out[3].body);
  EXPECT_EQ(body["alerts"][0]["labels"]["check"], "raid");
}

TEST_F(AlertEngineTest, UnacknowledgedAlertsEscalateTierByTierAndAcknowledgingHoldsIt) {
  SetConfig("route: {receiver: hook, group_by: [host], escalation_policy: default}\n",
            "  schedules:\n"
            "    - name: ops\n"
            "      time_zone: Asia/Shanghai\n"
            "      working: {members: [alice, bob], handoff: '09:00', start_date: '2026-01-01'}\n"
            "  escalation_policies:\n"
            "    - name: default\n"
            "      tiers:\n"
            "        - {after: 0s, schedules: [ops]}\n"
            "        - {after: 15m, users: [chief]}\n"
            "        - {after: 30m, receivers: [hook]}\n"
            "  user_email: {from: 'sf@example.test', smarthost: '127.0.0.1:25', tls: none}\n");
  Restart();
  AckLinks links(std::string(32, 'k'));
  engine_->SetAckLinks(&links);
  auto escalation = [&] {
    std::vector<std::string> out;
    for (const OutboxEntry& e : Outbox()) {
      if (e.group_key.rfind("escalation/", 0) == 0) out.push_back(e.integration + " " + e.group_key);
    }
    return out;
  };
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  const std::string on_call = alerting::OnCallAt(config_.schedules[0], clock_.NowMillis())->user;
  EXPECT_EQ(escalation(), (std::vector<std::string>{"user:" + on_call + " escalation/default/round 1/tier 1"}));
  // A person's message carries a one-click acknowledgement link for them.
  const json paged = json::parse(Outbox().back().body);
  const std::string ack_url = paged["alerts"][0]["ackURL"];
  EXPECT_EQ(ack_url.rfind("http://console.example/api/v1/alert-links/ack?f=" + paged["alerts"][0]["fingerprint"].get<std::string>() +
                              "&u=" + on_call + "&e=",
                          0),
            0u)
      << ack_url;
  clock_.Advance(std::chrono::minutes(14));
  Round();
  EXPECT_EQ(escalation().size(), 1u);
  clock_.Advance(std::chrono::minutes(1));
  Round();
  ASSERT_EQ(escalation().size(), 2u);
  EXPECT_EQ(escalation()[1], "user:chief escalation/default/round 1/tier 2");

  // Acknowledged for 20 minutes: the command-centre tier (due at 45 min) is held ...
  const int64_t id = Alerts({{AlertState::kFiring}})[0].id;
  AlertActor actor;
  actor.name = "chief";
  ASSERT_TRUE(store_->Acknowledge(id, actor, "looking", clock_.NowMillis() + 20 * 60'000, clock_.NowMillis()).ok());
  for (int i = 0; i < 19; ++i) {
    clock_.Advance(std::chrono::minutes(1));
    Round();
  }
  EXPECT_EQ(escalation().size(), 2u) << "acknowledged: nobody else is paged";
  // ... and when the acknowledgement expires with the alert still firing, it starts again.
  clock_.Advance(std::chrono::minutes(2));
  Round();
  std::vector<std::string> e = escalation();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[2].substr(e[2].find(' ')), " escalation/default/round 1/tier 1");
  // A restart neither repeats nor loses a step.
  Restart();
  engine_->SetAckLinks(&links);
  clock_.Advance(std::chrono::minutes(10));
  Round();
  EXPECT_EQ(escalation().size(), 3u);
  clock_.Advance(std::chrono::minutes(5));
  Round();
  EXPECT_EQ(escalation().size(), 4u);
  // Resolved: the escalation ends.
  Report("a1", "db-1", {{"disk", CheckStatus::kOk}});
  Round();
  clock_.Advance(std::chrono::hours(2));
  Round();
  EXPECT_EQ(escalation().size(), 4u);
}

// The storm through the collector itself: 10,000 checks on 100 hosts fail at once, grouped by
// host and check, to a DingTalk robot that takes 20 messages a minute. Every notification is
// delivered (none dropped, none failed); the robot never gets more than 20 in any minute; the
// window's last message of each minute is a digest of what waits, so the storm is through in
// about ten minutes rather than 500.
TEST_F(AlertEngineTest, AStormOfTenThousandFailuresReachesTheRobotGroupedAndWithinItsLimit) {
  UseConfig("alerting:\n  rule_files: [rules.yaml]\n"
            "  route: {receiver: robot, group_by: [host, check], group_wait: 30s, group_interval: 5m}\n"
            "  receivers:\n    - name: robot\n      dingtalk_configs:\n"
            "        - {url: 'http://127.0.0.1:9/robot/send?access_token=t'}\n");
  for (int h = 0; h < 100; ++h) {
    const std::string agent = "a" + std::to_string(h);
    AgentRecord rec;
    rec.agent_id = agent;
    rec.token_sha256 = Sha256Hex(agent);
    rec.host = testutil::Host("host-" + std::to_string(h));
    rec.enrolled_at_ms = clock_.NowMillis();
    ASSERT_TRUE(storage_->CreateAgent(rec).ok());
    protocol::ReportBatch b;
    b.agent_id = agent;
    b.host = rec.host;
    b.sent_at_ms = clock_.NowMillis();
    for (int c = 0; c < 100; ++c) {
      protocol::ReportEntry e;
      e.seq = static_cast<uint64_t>(c + 1);
      e.result = testutil::Result("probe-" + std::to_string(c), "t", CheckStatus::kCritical, clock_.NowMillis());
      b.results.push_back(e);
    }
    ASSERT_TRUE(storage_->IngestBatch(b, clock_.NowMillis()).ok());
    engine_->Observe(b, clock_.NowMillis());
  }
  const int64_t start = clock_.NowMillis();
  Round();
  AlertQuery q;
  q.states = std::vector<AlertState>{AlertState::kFiring};
  q.limit = 1000;
  size_t firing = 0;
  for (int64_t before = 0;;) {
    q.before_id = before;
    auto page = store_->List(q);
    ASSERT_TRUE(page.ok());
    firing += page->items.size();
    if (page->next_before_id == 0) break;
    before = page->next_before_id;
  }
  EXPECT_EQ(firing, 10'000u);
  auto queued = store_->OutboxEntries(0, 20'000);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 10'000u) << "one notification per group, each the group's first critical";

  struct TimedClient : FakeHttpClient {
    explicit TimedClient(const Clock& c) : clock(c) {}
    StatusOr<http::HttpResponse> Do(const http::HttpClientRequest& request) override {
      times.push_back(clock.NowMillis());
      return FakeHttpClient::Do(request);
    }
    const Clock& clock;
    std::vector<int64_t> times;
  } client(clock_);
  OutboxSender sender(*live_, *store_, client, clock_, nullptr);
  size_t pending = queued->size();
  for (int second = 0; second < 1'200 && pending > 0; ++second) {
    ASSERT_TRUE(sender.SendDueOnce().ok());
    if (second % 60 == 0) Round();  // nothing changes: nothing new is decided
    clock_.Advance(std::chrono::seconds(1));
    auto left = store_->ListOutbox("pending", "", 0, 1);
    ASSERT_TRUE(left.ok());
    pending = left->size();
  }
  auto all = store_->OutboxEntries(0, 20'000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 10'000u) << "the rounds during the storm decided nothing new";
  EXPECT_EQ(std::count_if(all->begin(), all->end(), [](const OutboxEntry& e) { return e.state == "sent"; }), 10'000)
      << "every notification delivered";
  for (size_t i = 0; i < client.times.size(); ++i) {
    const auto in_window = std::count_if(client.times.begin() + static_cast<std::ptrdiff_t>(i), client.times.end(),
                                         [&](int64_t t) { return t < client.times[i] + 60'000; });
    ASSERT_LE(in_window, 20) << "more than 20 messages in the minute from request " << i;
  }
  EXPECT_LE(client.times.size(), 220u);
  EXPECT_LE(client.times.back() - start, 11 * 60'000) << "the digests carry the storm through in about ten minutes";
  // The first 19 went out in the first second, each alone: the first critical of a group is not held.
  ASSERT_GE(client.times.size(), 19u);
  EXPECT_EQ(client.times[18], start);
}

TEST_F(AlertEngineTest, ARateLimitedRobotGetsADigestAndNeverMoreThanItsLimit) {
  const std::string yaml =
      "alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: robot, group_by: [host]}\n"
      "  receivers:\n    - name: robot\n      dingtalk_configs:\n"
      "        - {url: 'http://127.0.0.1:9/robot/send?access_token=t', rate_limit: 2/1m, language: zh-CN}\n";
  UseConfig(yaml);
  for (int i = 0; i < 5; ++i) Report("a" + std::to_string(i), "db-" + std::to_string(i), {{"disk", CheckStatus::kCritical}});
  Round();
  ASSERT_EQ(Outbox().size(), 5u) << "five groups, five notifications";
  FakeHttpClient client;
  OutboxSender sender(*live_, *store_, client, clock_, nullptr);
  ASSERT_TRUE(sender.SendDueOnce().ok());
  // The first alone; the window's last message is a digest of the other four.
  ASSERT_EQ(client.requests.size(), 2u);
  json second = json::parse(client.requests[1].body);
  EXPECT_EQ(second["msgtype"], "markdown");
  const std::string text = second["markdown"]["text"];
  for (int i = 1; i < 5; ++i) EXPECT_NE(text.find("db-" + std::to_string(i)), std::string::npos) << text;
  for (const OutboxEntry& e : Outbox()) EXPECT_EQ(e.state, "sent");
  // More within the minute wait for the window, then go.
  Report("a9", "db-9", {{"disk", CheckStatus::kCritical}});
  Round();
  ASSERT_TRUE(sender.SendDueOnce().ok());
  EXPECT_EQ(client.requests.size(), 2u) << "the limit is 2 a minute";
  EXPECT_EQ(Outbox().back().state, "pending");
  EXPECT_EQ(Outbox().back().attempts, 0) << "held back, not failed";
  clock_.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(sender.SendDueOnce().ok());
  ASSERT_EQ(client.requests.size(), 3u);
  EXPECT_EQ(Outbox().back().state, "sent");
}

TEST_F(AlertEngineTest, AnAlertmanagerHearsOfActiveAlertsEveryMinuteUntilTheyResolve) {
  const std::string yaml =
      "alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: am, group_by: [host]}\n"
      "  receivers:\n    - name: am\n      alertmanager_configs: [{url: 'http://127.0.0.1:9'}]\n";
  UseConfig(yaml);
  auto resends = [&] {
    int n = 0;
    for (const OutboxEntry& e : Outbox()) n += e.group_key == "resend";
    return n;
  };
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  EXPECT_EQ(resends(), 1);
  EXPECT_EQ(Outbox().front().integration, "alertmanager[0]");
  clock_.Advance(std::chrono::seconds(30));
  Round();
  EXPECT_EQ(resends(), 1);
  clock_.Advance(std::chrono::seconds(31));
  Round();
  ASSERT_EQ(resends(), 2);
  EXPECT_EQ(json::parse(Outbox().back().body)["alerts"].size(), 1u);
  Report("a1", "db-1", {{"disk", CheckStatus::kOk}});
  clock_.Advance(std::chrono::minutes(2));
  Round();
  clock_.Advance(std::chrono::minutes(2));
  Round();
  EXPECT_EQ(resends(), 2) << "nothing active: nothing to re-send";
  EXPECT_EQ(json::parse(Outbox().back().body)["status"], "resolved") << "the resolution itself went out";
}

TEST_F(AlertEngineTest, AReloadedConfigurationTakesEffectAtTheNextRoundWithoutRepeatingAnything) {
  Report("a1", "db-1", {{"disk", CheckStatus::kCritical}});
  Round();
  ASSERT_EQ(Alerts({{AlertState::kFiring}}).size(), 1u);
  ASSERT_EQ(Outbox().size(), 1u);
  const int64_t before = engine_->ConfigVersion();

  // The critical rule is gone from the new rules; a warning rule without `for` and a
  // heartbeat are new; the route's group_interval is shorter.
  ASSERT_TRUE(testutil::WriteFile(dir_.path() + "/rules2.yaml",
                                  "rules:\n  - {name: warn-now, kind: check_status, statuses: [warning]}\n"
                                  "  - {name: job-failed, kind: check_status, match: ['check=\"heartbeat\"'], "
                                  "statuses: [critical]}\n"));
  ASSERT_TRUE(testutil::WriteFile(dir_.path() + "/hb.token", "heartbeat-token-0123456789"));
  ::chmod((dir_.path() + "/hb.token").c_str(), 0600);
  auto doc = config::ConfigDocument::Parse(
      "alerting:\n  rule_files: [rules2.yaml]\n"
      "  route: {receiver: hook, group_by: [host], group_wait: 10s, group_interval: 1s, repeat_interval: 4h}\n"
      "  receivers:\n    - name: hook\n      webhook_configs:\n        - url: http://127.0.0.1:9/hook\n"
      "          secret_file: " + dir_.path() + "/hook.secret\n"
      "  heartbeats:\n    - {name: nightly, period: 1h, grace: 1m, token_file: " + dir_.path() + "/hb.token}\n",
      "collector.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  auto next = alerting::ParseAlertingConfig(doc->root()["alerting"], dir_.path(), *fs_);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  live_->Set(std::move(next).value());

  clock_.Advance(std::chrono::seconds(2));
  Round();
  EXPECT_EQ(engine_->ConfigVersion(), before + 1);
  std::vector<AlertRecord> all = Alerts();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, AlertState::kResolved) << "the rule that held it is gone";
  std::vector<OutboxEntry> out = Outbox();
  ASSERT_EQ(out.size(), 2u) << "its resolution, under the new route's 1 s group_interval";
  EXPECT_EQ(json::parse(out[1].body)["status"], "resolved");
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(std::chrono::seconds(2));
    Round();
  }
  EXPECT_EQ(Outbox().size(), 2u) << "nothing repeated";

  // The new rule is in force, and so is the new heartbeat (a failed run fires the job rule).
  Report("a1", "db-1", {{"raid", CheckStatus::kWarning}});
  engine_->ObservePing("nightly", alerting::Ping{alerting::PingKind::kFail, clock_.NowMillis(), 0});
  Round();
  std::set<std::string> rules;
  for (const AlertRecord& a : Alerts({{AlertState::kFiring}})) rules.insert(a.rule);
  EXPECT_EQ(rules, (std::set<std::string>{"warn-now", "job-failed"}));
}

TEST_F(AlertEngineTest, ConfigErrorsNameTheKey) {
  auto parse = [&](const std::string& yaml) {
    auto doc = config::ConfigDocument::Parse(yaml, "c.yaml");
    EXPECT_TRUE(doc.ok());
    return alerting::ParseAlertingConfig(doc->root()["alerting"], dir_.path(), *fs_).status();
  };
  Status st = parse("alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: nobody}\n");
  EXPECT_NE(st.message().find("receiver 'nobody' is not among the receivers"), std::string::npos) << st.ToString();
  st = parse("alerting:\n  rule_files: [missing.yaml]\n  route: {receiver: x}\n  receivers: [{name: x}]\n");
  EXPECT_NE(st.message().find("missing.yaml"), std::string::npos) << st.ToString();
  st = parse("alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: x}\n  receivers:\n    - name: x\n"
             "      webhook_configs: [{url: 'ftp://x'}]\n");
  EXPECT_NE(st.message().find("c.yaml:6"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("url"), std::string::npos) << st.ToString();
  st = parse("alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: x}\n  receivers: [{name: x}, {name: x}]\n");
  EXPECT_NE(st.message().find("a second receiver named 'x'"), std::string::npos) << st.ToString();
  // A route may name a policy made through the API, so these are checked with those added.
  auto references = [&](const std::string& yaml) {
    auto doc = config::ConfigDocument::Parse(yaml, "c.yaml");
    EXPECT_TRUE(doc.ok());
    auto c = alerting::ParseAlertingConfig(doc->root()["alerting"], dir_.path(), *fs_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? alerting::CheckOncallReferences(*c) : c.status();
  };
  st = references("alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: x, escalation_policy: nope}\n"
                  "  receivers: [{name: x}]\n");
  EXPECT_NE(st.message().find("escalation_policy 'nope'"), std::string::npos) << st.ToString();
  st = parse("alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: x}\n  receivers: [{name: x}]\n"
             "  escalation_policies: [{name: p, tiers: [{users: [a]}]}]\n");
  EXPECT_NE(st.message().find("user_email"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("c.yaml"), std::string::npos) << st.ToString();
  st = parse("alerting:\n  rule_files: [rules.yaml]\n  route: {receiver: x}\n  receivers: [{name: x}]\n"
             "  schedules: [{name: s, time_zone: Mars/Base, working: {members: [a], start_date: '2026-01-01'}}]\n");
  EXPECT_NE(st.message().find("c.yaml:5"), std::string::npos) << st.ToString();
  st = parse("alerting:\n  rule_file: [rules.yaml]\n");
  EXPECT_NE(st.message().find("rule_file"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace steadfast::collector::alerts
