// The agent's side of the collector's actions (PROTOCOL.md, "Actions"): the log that makes an
// action run at most once and its outcome reach the collector across restarts; the runner's
// refusals (not allowed, expired, bad parameters) and a real emergency backup with the
// steadfast-backup program built in this tree; the uplink carrying action states, polling when
// idle, and handing over the actions of the collector's answer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/action_log.h"
#include "agent/action_runner.h"
#include "agent/posix_command_runner.h"
#include "agent/testing/fake_http_client.h"
#include "agent/uplink.h"
#include "common/compression.h"
#include "common/testing/fake_clock.h"

namespace steadfast::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using protocol::ActionRequest;
using protocol::ActionResult;
using protocol::ActionState;

ActionRequest Request(const std::string& id, int64_t now_ms, const std::string& params = "{}") {
  ActionRequest r;
  r.id = id;
  r.action = "emergency_backup";
  r.params_json = params;
  r.requested_at_ms = now_ms;
  r.requested_by = "alice";
  r.expires_at_ms = now_ms + 3'600'000;
  return r;
}

class ActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-actions-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<ActionLog> OpenLog() {
    auto log = ActionLog::Open(dir_ + "/actions.db", clock_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  std::string dir_;
  steadfast::testing::FakeClock clock_{1'790'000'000'000};
};

TEST_F(ActionTest, TheLogTakesAnIdOnceAndReportsEveryStateUntilAcknowledged) {
  auto log = OpenLog();
  const int64_t now = clock_.NowMillis();
  // No file (and no SQLite connection) until the first action: most agents never get one.
  EXPECT_TRUE(log->Unreported(10)->empty());
  EXPECT_TRUE(log->Waiting()->empty());
  EXPECT_TRUE(log->AddNew({})->empty());
  EXPECT_FALSE(fs::exists(dir_ + "/actions.db"));
  auto fresh = log->AddNew({Request("act-1", now), Request("act-2", now)});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->size(), 2u);
  auto again = log->AddNew({Request("act-2", now), Request("act-3", now)});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u) << "act-2 was seen";
  EXPECT_EQ((*again)[0].id, "act-3");
  EXPECT_TRUE(log->Unreported(10)->empty()) << "nothing started yet: nothing to say";

  ActionResult running{"act-1", ActionState::kRunning, "backing up", now, 0, "{}"};
  ASSERT_TRUE(log->Update(running).ok());
  auto pending = log->Unreported(10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].result, running);
  const int64_t v_running = (*pending)[0].version;
  // It finishes while the report that carries "running" is on its way: the ack of that report
  // must not hide the final state.
  ActionResult done{"act-1", ActionState::kSucceeded, "job records: snapshot 01234567", now, now + 5, "{}"};
  ASSERT_TRUE(log->Update(done).ok());
  ASSERT_TRUE(log->MarkReported({{"act-1", v_running}}).ok());
  pending = log->Unreported(10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].result, done);
  ASSERT_TRUE(log->MarkReported({{"act-1", (*pending)[0].version}}).ok());
  EXPECT_TRUE(log->Unreported(10)->empty());
  EXPECT_EQ(log->Update({"act-9", ActionState::kFailed, "", 0, 0, "{}"}).code(), StatusCode::kNotFound);

  // A restart: act-2 was running (it failed with the process), act-3 never started (it runs now).
  ASSERT_TRUE(log->Update({"act-2", ActionState::kRunning, "", now, 0, "{}"}).ok());
  log.reset();
  clock_.Advance(std::chrono::seconds(30));
  log = OpenLog();
  auto waiting = log->Waiting();
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].id, "act-3");
  auto interrupted = log->Get("act-2");
  ASSERT_TRUE(interrupted.ok());
  EXPECT_EQ(interrupted->state, ActionState::kFailed);
  EXPECT_NE(interrupted->summary.find("interrupted"), std::string::npos);
  pending = log->Unreported(10);
  ASSERT_EQ(pending->size(), 1u) << "the failure is reported";
  EXPECT_EQ((*pending)[0].result.id, "act-2");
  EXPECT_TRUE(log->AddNew({Request("act-1", now), Request("act-3", now)})->empty()) << "ids survive the restart";
}

TEST_F(ActionTest, TheRunnerRefusesWhatItMayNotRunWithTheReason) {
  auto log = OpenLog();
  std::vector<std::pair<std::string, ActionState>> seen;
  const auto record = [&](const ActionRequest& q, const ActionResult& r) { seen.emplace_back(q.id, r.state); };
  const int64_t now = clock_.NowMillis();
  {
    ActionRunner none(*log, {}, nullptr, clock_, record);
    ASSERT_TRUE(log->AddNew({Request("act-a", now)}).ok());
    ActionResult r = none.Run(Request("act-a", now));
    EXPECT_EQ(r.state, ActionState::kRefused);
    EXPECT_NE(r.summary.find("not allowed on this agent"), std::string::npos) << r.summary;
    EXPECT_NE(r.summary.find("actions.allowed: none"), std::string::npos) << r.summary;
  }
  ActionRunner allowed(*log, {"emergency_backup"}, nullptr, clock_, record);
  struct Case {
    ActionRequest request;
    std::string why;
  };
  ActionRequest expired = Request("act-b", now - 7'200'000);
  ActionRequest unknown = Request("act-c", now);
  unknown.action = "reboot";
  std::vector<Case> cases = {
      {expired, "expired at"},
      {unknown, "not allowed"},
      {Request("act-d", now, R"({"job":7})"), "params.job: expected a string"},
      {Request("act-e", now, R"({"jobs":"x"})"), "params.jobs: unknown parameter"},
      {Request("act-f", now, "[]"), "params: expected a JSON object"},
      {Request("act-g", now), "no backup_jobs"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(log->AddNew({c.request}).ok());
    ActionResult r = allowed.Run(c.request);
    EXPECT_EQ(r.state, ActionState::kRefused) << c.request.id;
    EXPECT_NE(r.summary.find(c.why), std::string::npos) << c.request.id << ": " << r.summary;
    EXPECT_GT(r.finished_at_ms, 0);
    EXPECT_EQ(log->Get(c.request.id)->state, ActionState::kRefused) << "recorded for the uplink";
  }
  EXPECT_EQ(seen.size(), cases.size() + 1);
}

// The real thing: a repository made by the operator, a job, and the emergency action run
// through the runner's thread as the uplink hands it over.
TEST_F(ActionTest, AnEmergencyBackupRunsTheJobsTaggedAndReportsTheSnapshot) {
  fs::create_directories(dir_ + "/data");
  std::ofstream(dir_ + "/data/records.txt") << "the day's records\n";
  std::ofstream(dir_ + "/pass") << "job-password\n";
  const std::string init = std::string(SF_BACKUP_PROGRAM) + " -q -r " + dir_ + "/repo -p " + dir_ +
                           "/pass --cache-dir " + dir_ + "/c init --kdf-memory-mib 64 --kdf-passes 3";
  ASSERT_EQ(std::system(init.c_str()), 0);
  BackupJobConfig job;
  job.name = "records";
  job.repository = dir_ + "/repo";
  job.password_file = dir_ + "/pass";
  job.paths = {dir_ + "/data"};
  PosixCommandRunner commands;
  BackupJobRunner jobs({job}, dir_ + "/state", SF_BACKUP_PROGRAM, commands, clock_);
  auto log = OpenLog();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ActionResult> states;
  ActionRunner runner(*log, {"emergency_backup"}, &jobs, clock_, [&](const ActionRequest&, const ActionResult& r) {
    std::lock_guard<std::mutex> l(mu);
    states.push_back(r);
    cv.notify_all();
  });
  runner.Start();
  const int64_t now = clock_.NowMillis();
  ASSERT_TRUE(runner.Offer({Request("act-x", now, R"({"job":"records"})")}).ok());
  ASSERT_TRUE(runner.Offer({Request("act-x", now, R"({"job":"records"})")}).ok()) << "listed again: not run again";
  ASSERT_TRUE(runner.Offer({Request("act-y", now, R"({"job":"nope"})")}).ok());
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return states.size() >= 3; }));
  }
  runner.Stop();
  ASSERT_EQ(states.size(), 3u);
  EXPECT_EQ(states[0].state, ActionState::kRunning);
  EXPECT_EQ(states[1].state, ActionState::kSucceeded) << states[1].summary;
  EXPECT_NE(states[1].summary.find("job records: snapshot "), std::string::npos) << states[1].summary;
  json details = json::parse(states[1].details_json);
  ASSERT_EQ(details["jobs"].size(), 1u);
  EXPECT_TRUE(details["jobs"][0]["ok"].get<bool>());
  const std::string snapshot = details["jobs"][0]["snapshot"].get<std::string>();
  EXPECT_EQ(snapshot.size(), 64u);
  EXPECT_EQ(states[2].state, ActionState::kRefused);
  EXPECT_NE(states[2].summary.find("no backup job named 'nope'"), std::string::npos) << states[2].summary;

  const std::string list = std::string(SF_BACKUP_PROGRAM) + " -r " + dir_ + "/repo -p " + dir_ + "/pass --cache-dir " +
                           dir_ + "/c snapshots --tag emergency --json > " + dir_ + "/list.json";
  ASSERT_EQ(std::system(list.c_str()), 0);
  std::ifstream in(dir_ + "/list.json");
  const std::string listed((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(listed.find(snapshot), std::string::npos) << listed;
}

// The uplink: action states ride on reports (alone when there are no results), the answer's
// actions are handed over, an idle agent polls, and a refused batch with both is split.
class ActionUplinkTest : public ActionTest {
 protected:
  // One check result in the spool, for a batch that carries results as well as states.
  Status SpoolResult(int64_t now) {
    protocol::CheckResult cr;
    cr.check = "system";
    cr.target = "cpu";
    cr.status = protocol::CheckStatus::kOk;
    cr.observed_at_ms = now;
    return spool_->Append(cr).status();
  }
  void SetUp() override {
    ActionTest::SetUp();
    auto spool = Spool::Open(":memory:", clock_);
    ASSERT_TRUE(spool.ok());
    spool_ = std::move(spool).value();
    log_ = OpenLog();
    options_.collector_url = "https://collector.test";
    options_.agent_id = "a-test";
    options_.agent_token = "token";
    options_.host.hostname = "srv-01";
    options_.poll_interval = Millis(15'000);
    options_.actions = log_.get();
    options_.on_actions = [this](const std::vector<ActionRequest>& a) { offered_.insert(offered_.end(), a.begin(), a.end()); };
    client_.SetHandler([this](const http::HttpClientRequest& req) -> StatusOr<http::HttpResponse> {
      auto body = ZstdDecompress(req.body, 1 << 20);
      if (!body.ok()) return body.status();
      auto batch = protocol::DecodeReportBatch(*body);
      if (!batch.ok()) return http::HttpResponse::Error(400, "invalid_argument", batch.status().message());
      batches_.push_back(*batch);
      if (refuse_ > 0) {
        --refuse_;
        return http::HttpResponse::Error(400, "invalid_argument", "action_results[0].summary: refused");
      }
      protocol::ReportAck ack;
      ack.acked_through = batch->results.empty() ? 0 : batch->results.back().seq;
      ack.accepted = static_cast<int>(batch->results.size());
      ack.actions = answer_;
      http::HttpResponse r;
      r.status = 200;
      r.body = protocol::EncodeReportAck(ack);
      return r;
    });
  }

  std::unique_ptr<Spool> spool_;
  std::unique_ptr<ActionLog> log_;
  UplinkOptions options_;
  testing::FakeHttpClient client_;
  testing::FixedRandom random_;
  std::vector<protocol::ReportBatch> batches_;
  std::vector<ActionRequest> answer_, offered_;
  int refuse_ = 0;
};

TEST_F(ActionUplinkTest, StatesRideOnReportsAndTheAnswersActionsAreHandedOver) {
  Uplink uplink(*spool_, client_, clock_, random_, options_);
  const int64_t now = clock_.NowMillis();
  answer_ = {Request("act-1", now)};
  // Nothing spooled and never polled: a poll goes out at once, and brings the action.
  UplinkResult r = uplink.SendOnce();
  ASSERT_EQ(r.outcome, UplinkOutcome::kSent) << r.message;
  EXPECT_EQ(r.entries, 0u);
  ASSERT_EQ(offered_.size(), 1u);
  EXPECT_EQ(offered_[0], answer_[0]);
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_TRUE(batches_[0].results.empty());
  // Idle until the poll interval has passed.
  answer_.clear();
  EXPECT_EQ(uplink.SendOnce().outcome, UplinkOutcome::kIdle);
  clock_.Advance(Millis(15'000));
  EXPECT_EQ(uplink.SendOnce().outcome, UplinkOutcome::kSent);
  EXPECT_EQ(batches_.size(), 2u);

  // A state to report goes out at once, alone; once acknowledged it is not sent again.
  ASSERT_TRUE(log_->AddNew({Request("act-1", now)}).ok());
  ASSERT_TRUE(log_->Update({"act-1", ActionState::kRunning, "backing up", now, 0, "{}"}).ok());
  r = uplink.SendOnce();
  ASSERT_EQ(r.outcome, UplinkOutcome::kSent) << r.message;
  EXPECT_EQ(r.action_results, 1u);
  ASSERT_EQ(batches_.back().action_results.size(), 1u);
  EXPECT_EQ(batches_.back().action_results[0].state, ActionState::kRunning);
  EXPECT_EQ(uplink.SendOnce().outcome, UplinkOutcome::kIdle);

  // With results: both in one batch.
  ASSERT_TRUE(log_->Update({"act-1", ActionState::kSucceeded, "done", now, now + 1, "{}"}).ok());
  ASSERT_TRUE(SpoolResult(now).ok());
  r = uplink.SendOnce();
  ASSERT_EQ(r.outcome, UplinkOutcome::kSent) << r.message;
  EXPECT_EQ(r.entries, 1u);
  EXPECT_EQ(r.action_results, 1u);
  EXPECT_EQ(batches_.back().action_results[0].state, ActionState::kSucceeded);
  EXPECT_EQ(spool_->Count(), 0);
  EXPECT_TRUE(log_->Unreported(10)->empty());
}

TEST_F(ActionUplinkTest, ARefusedBatchWithStatesIsSplitAndRefusedStatesDoNotBlockResults) {
  Uplink uplink(*spool_, client_, clock_, random_, options_);
  const int64_t now = clock_.NowMillis();
  ASSERT_TRUE(log_->AddNew({Request("act-1", now)}).ok());
  ASSERT_TRUE(log_->Update({"act-1", ActionState::kFailed, "x", now, now, "{}"}).ok());
  ASSERT_TRUE(SpoolResult(now).ok());
  refuse_ = 2;  // the batch with both, then the states alone
  EXPECT_EQ(uplink.SendOnce().outcome, UplinkOutcome::kBatchSplit);
  UplinkResult alone = uplink.SendOnce();
  EXPECT_EQ(alone.outcome, UplinkOutcome::kRejected) << alone.message;
  EXPECT_EQ(batches_.back().results.size(), 0u) << "the states alone";
  EXPECT_TRUE(log_->Unreported(10)->empty()) << "dropped, not sent forever";
  UplinkResult rest = uplink.SendOnce();
  EXPECT_EQ(rest.outcome, UplinkOutcome::kSent) << rest.message;
  EXPECT_EQ(rest.entries, 1u);
  EXPECT_EQ(spool_->Count(), 0);

  // An empty poll the collector refuses has nothing to split or move aside: it backs off
  // (rather than polling again at once, for ever).
  clock_.Advance(options_.poll_interval);
  random_.set(500);  // the backoff's jitter: 500 ms
  refuse_ = 1;
  UplinkResult poll = uplink.SendOnce();
  EXPECT_EQ(poll.outcome, UplinkOutcome::kRetryLater) << poll.message;
  EXPECT_EQ(poll.entries, 0u);
  EXPECT_GT(poll.retry_after.count(), 0);
  EXPECT_EQ(uplink.SendOnce().outcome, UplinkOutcome::kRetryLater) << "still backing off";
}

}  // namespace
}  // namespace steadfast::agent
