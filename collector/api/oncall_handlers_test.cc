// The alerting configuration through the API: on-call schedules and escalation policies made,
// replaced and deleted (checked against the whole configuration, audited, in force at once,
// kept across a restart), the config file's own ones read-only, and reloads of the file that
// apply a good one and refuse a bad one with its file:line while the old one stays. (The
// 401/403 matrix of these routes is in route_matrix_test.cc.)
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collector/testing/accounts_fixture.h"

namespace steadfast::collector::api {
namespace {

using accounts::Role;
using nlohmann::json;
using testutil::BrowserSession;
using testutil::Dispatch;

constexpr char kRules[] = "rules:\n  - {name: check-critical, kind: check_status, statuses: [critical]}\n";

class OncallHandlersTest : public testutil::InProcessCollectorTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testutil::WriteFile(dir_.path() + "/rules.yaml", kRules));
    WriteConfig("");
    auto file = LoadCollectorConfig(ConfigPath(), *fs_);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    config_.alerting = file->alerting;
    config_.source = file->source;
    StartCollector();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(testutil::AddUser(*server_, "admin1", accounts::kCentreUnitId, {Role::kAdmin}).ok());
    ASSERT_TRUE(testutil::AddUser(*server_, "oper", accounts::kCentreUnitId, {Role::kOperator}).ok());
  }

  std::string ConfigPath() const { return dir_.path() + "/collector.yaml"; }

  // The collector config file; `route_extra` goes into the route mapping.
  void WriteConfig(const std::string& route_extra) {
    ASSERT_TRUE(testutil::WriteFile(
        ConfigPath(),
        "data_dir: " + dir_.path() + "/data\n"
        "alerting:\n"
        "  rule_files: [rules.yaml]\n"
        "  route: {receiver: console" + route_extra + "}\n"
        "  receivers: [{name: console}, {name: command-centre}]\n"
        "  user_email: {from: steadfast@example.org, smarthost: '127.0.0.1:2525'}\n"
        "  schedules:\n"
        "    - {name: file-rota, time_zone: Asia/Shanghai, working: {members: [alice, bob], start_date: 2026-01-05}}\n"));
  }

  http::HttpResponse As(const std::string& user, const std::string& method, const std::string& target,
                        const std::string& body = "") {
    BrowserSession s = testutil::Login(*server_, user);
    EXPECT_EQ(s.status, 200) << s.body.dump();
    return Dispatch(*server_, method, target, body, s.Headers());
  }

  std::vector<std::string> AuditActions(const std::string& prefix) {
    audit::AuditQuery q;
    q.action = prefix;
    auto records = server_->audit_log().Query(q);
    EXPECT_TRUE(records.ok());
    std::vector<std::string> out;
    for (const audit::AuditRecord& r : *records) {
      out.push_back(r.event.action + " " + r.event.object_id + (r.event.result == audit::AuditResult::kOk ? "" : " (error)"));
    }
    // Refused requests are audited by the route guard (without an object); these are the changes.
    std::erase_if(out, [](const std::string& a) { return a.find("  (error)") != std::string::npos; });
    return out;
  }
};

const char kNight[] =
    R"({"name": "night", "time_zone": "Asia/Shanghai",
        "working": {"members": ["carol", "dave"], "handoff": "20:00", "start_date": "2026-01-05"}})";
const char kNightPolicy[] =
    R"({"name": "night-escalation", "tiers": [{"after": "0s", "schedules": ["night"]},
                                             {"after": "15m", "receivers": ["command-centre"]}]})";

TEST_F(OncallHandlersTest, SchedulesAndPoliciesAreMadeCheckedAndInForceAtOnce) {
  http::HttpResponse r = As("oper", "GET", "/api/v1/schedules");
  ASSERT_EQ(r.status, 200) << r.body;
  json list = json::parse(r.body);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["source"], "config");
  EXPECT_EQ(list["items"][0]["definition"]["working"]["members"], json({"alice", "bob"}));
  EXPECT_TRUE(list["items"][0]["on_call_now"]["user"] == "alice" || list["items"][0]["on_call_now"]["user"] == "bob");

  EXPECT_EQ(As("oper", "POST", "/api/v1/schedules", kNight).status, 403);
  r = As("admin1", "POST", "/api/v1/schedules", kNight);
  ASSERT_EQ(r.status, 201) << r.body;
  json made = json::parse(r.body);
  EXPECT_EQ(made["source"], "api");
  EXPECT_EQ(made["created_by"], "admin1");
  EXPECT_EQ(made["definition"]["working"]["handoff"], "20:00");
  // In force at once: the on-call API knows it.
  r = As("oper", "GET", "/api/v1/oncall?schedule=night");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["items"].size(), 1u);

  EXPECT_EQ(As("admin1", "POST", "/api/v1/schedules", kNight).status, 409) << "the name is taken";
  r = As("admin1", "POST", "/api/v1/schedules",
         R"({"name": "file-rota", "working": {"members": ["x"], "start_date": "2026-01-05"}})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("config file"), std::string::npos) << r.body;
  r = As("admin1", "POST", "/api/v1/schedules",
         R"({"name": "mars", "time_zone": "Mars/Base", "working": {"members": ["x"], "start_date": "2026-01-05"}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Mars/Base"), std::string::npos) << r.body;
  r = As("admin1", "POST", "/api/v1/schedules", R"({"name": "x", "working": {"members": []}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("members"), std::string::npos) << r.body;
  EXPECT_EQ(As("admin1", "POST", "/api/v1/schedules", "{not json").status, 400);

  r = As("admin1", "POST", "/api/v1/escalation-policies", kNightPolicy);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["definition"]["tiers"][1]["after"], "15m");
  r = As("admin1", "POST", "/api/v1/escalation-policies",
         R"({"name": "p2", "tiers": [{"receivers": ["nobody"]}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("'nobody'"), std::string::npos) << r.body;
  r = As("admin1", "POST", "/api/v1/escalation-policies", R"({"name": "p3", "tiers": [{"schedules": ["nope"]}]})");
  EXPECT_EQ(r.status, 400) << r.body;

  // A schedule in use cannot go; one that is replaced keeps its name.
  r = As("admin1", "DELETE", "/api/v1/schedules/night");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("night-escalation"), std::string::npos) << r.body;
  r = As("admin1", "PUT", "/api/v1/schedules/night",
         R"({"time_zone": "Asia/Shanghai", "working": {"members": ["erin"], "start_date": "2026-01-05"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["on_call_now"]["user"], "erin");
  r = As("admin1", "PUT", "/api/v1/schedules/night",
         R"({"name": "day", "working": {"members": ["erin"], "start_date": "2026-01-05"}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(As("admin1", "PUT", "/api/v1/schedules/file-rota", kNight).status, 400) << "name differs";
  r = As("admin1", "DELETE", "/api/v1/schedules/file-rota");
  EXPECT_EQ(r.status, 422) << r.body;

  EXPECT_EQ(As("admin1", "DELETE", "/api/v1/escalation-policies/night-escalation").status, 204);
  EXPECT_EQ(As("admin1", "DELETE", "/api/v1/schedules/night").status, 204);
  EXPECT_EQ(As("oper", "GET", "/api/v1/schedules/night").status, 404);
  EXPECT_EQ(As("admin1", "DELETE", "/api/v1/schedules/night").status, 404);

  EXPECT_EQ(AuditActions("schedules."),
            (std::vector<std::string>{"schedules.create night", "schedules.replace night", "schedules.delete night"}));
  EXPECT_EQ(AuditActions("escalation_policies."),
            (std::vector<std::string>{"escalation_policies.create night-escalation",
                                      "escalation_policies.delete night-escalation"}));
}

TEST_F(OncallHandlersTest, WhatTheApiMadeIsKeptAcrossARestartAndRoutesMayNameIt) {
  ASSERT_EQ(As("admin1", "POST", "/api/v1/schedules", kNight).status, 201);
  ASSERT_EQ(As("admin1", "POST", "/api/v1/escalation-policies", kNightPolicy).status, 201);

  // The file's route names the API's policy: a reload accepts it.
  WriteConfig(", escalation_policy: night-escalation");
  http::HttpResponse r = As("admin1", "POST", "/api/v1/alerting/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["escalation_policies"], 1);
  // ... and deleting the policy while the route names it is refused.
  r = As("admin1", "DELETE", "/api/v1/escalation-policies/night-escalation");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("alerting.route"), std::string::npos) << r.body;

  server_.reset();
  auto file = LoadCollectorConfig(ConfigPath(), *fs_);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  config_.alerting = file->alerting;
  StartCollector();
  ASSERT_FALSE(HasFatalFailure());
  json list = json::parse(As("oper", "GET", "/api/v1/schedules").body);
  ASSERT_EQ(list["items"].size(), 2u) << list.dump();
  EXPECT_EQ(list["items"][1]["name"], "night");
  EXPECT_EQ(list["items"][1]["source"], "api");
  EXPECT_EQ(server_->alerting_config().live().Get()->escalation_policies.size(), 1u);
}

TEST_F(OncallHandlersTest, ACollectorWhoseRouteNamesAPolicyNobodyMadeRefusesToStartAsAConfigError) {
  server_.reset();
  WriteConfig(", escalation_policy: nope");
  auto file = LoadCollectorConfig(ConfigPath(), *fs_);
  ASSERT_TRUE(file.ok()) << "parsing alone cannot know the API's policies: " << file.status().ToString();
  config_.alerting = file->alerting;
  auto s = CollectorServer::Start(config_, CollectorDeps{clock_, *fs_, &random_});
  ASSERT_FALSE(s.ok());
  // InvalidArgument: main() exits 2, which the systemd unit does not restart.
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("alerting.route: escalation_policy 'nope'"), std::string::npos) << s.status().ToString();

  // Made through the API (kept in collector.db), the same file starts.
  WriteConfig("");
  auto plain = LoadCollectorConfig(ConfigPath(), *fs_);
  ASSERT_TRUE(plain.ok());
  config_.alerting = plain->alerting;
  StartCollector();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(testutil::AddUser(*server_, "admin2", accounts::kCentreUnitId, {Role::kAdmin}).ok());
  ASSERT_EQ(As("admin2", "POST", "/api/v1/escalation-policies", R"({"name": "nope", "tiers": [{"receivers": ["command-centre"]}]})").status, 201);
  server_.reset();
  config_.alerting = file->alerting;
  StartCollector();
  EXPECT_FALSE(HasFatalFailure());
}

TEST_F(OncallHandlersTest, AReloadAppliesAGoodFileAndRefusesABadOneKeepingTheOld) {
  EXPECT_EQ(As("oper", "POST", "/api/v1/alerting/reload").status, 403);
  http::HttpResponse r = As("admin1", "POST", "/api/v1/alerting/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["rules"], 1);
  const int64_t version = json::parse(r.body)["version"];

  ASSERT_TRUE(testutil::WriteFile(dir_.path() + "/rules.yaml",
                                  std::string(kRules) + "  - {name: check-warning, kind: check_status, statuses: [warning]}\n"));
  r = As("admin1", "POST", "/api/v1/alerting/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["rules"], 2);
  EXPECT_EQ(json::parse(r.body)["version"], version + 1);

  // A bad rule file: 422 naming file, line and key; the rules in force stay.
  ASSERT_TRUE(testutil::WriteFile(dir_.path() + "/rules.yaml",
                                  "rules:\n  - name: check-critical\n    kind: check_status\n    statusez: [critical]\n"));
  r = As("admin1", "POST", "/api/v1/alerting/reload");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("rules.yaml:4"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("statusez"), std::string::npos) << r.body;
  EXPECT_EQ(server_->alerting_config().live().Get()->rules.rules.size(), 2u);
  EXPECT_EQ(server_->alerting_config().live().version(), version + 1);
  // A route naming a policy nobody made.
  ASSERT_TRUE(testutil::WriteFile(dir_.path() + "/rules.yaml", kRules));
  WriteConfig(", escalation_policy: nope");
  r = As("admin1", "POST", "/api/v1/alerting/reload");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("escalation_policy 'nope'"), std::string::npos) << r.body;

  r = Dispatch(*server_, "GET", "/metrics", "", {});
  EXPECT_NE(r.body.find("steadfast_alerting_config_last_reload_successful 0"), std::string::npos);
  EXPECT_NE(r.body.find("steadfast_alerting_config_reloads_total{result=\"failure\"} 2"), std::string::npos);
  EXPECT_EQ(AuditActions("alerting.reload"),
            (std::vector<std::string>{"alerting.reload reload", "alerting.reload reload"}));
}

}  // namespace
}  // namespace steadfast::collector::api
