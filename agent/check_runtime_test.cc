#include "agent/check_runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "agent/checks/check_util.h"
#include "agent/testing/fake_http_client.h"
#include "agent/testing/gate.h"
#include "common/testing/fake_clock.h"
#include "common/testing/memory_file_system.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using std::chrono::milliseconds;
using testing::FixedRandom;
using testing::Gate;
using testing::OpenOnExit;

// A check whose run is a function of the run number; counts runs and concurrent runs.
class ScriptedCheck final : public Check {
 public:
  using Body = std::function<std::vector<CheckResult>(ScriptedCheck&, const CheckContext&, int)>;
  ScriptedCheck(std::string name, Body body) : Check(std::move(name)), body_(std::move(body)) {}
  std::vector<CheckResult> Run(const CheckContext& ctx) override {
    int now_running = ++running_;
    max_running_ = std::max(max_running_.load(), now_running);
    last_deadline_ = ctx.deadline;
    auto results = body_(*this, ctx, runs_++);
    --running_;
    return results;
  }
  CheckResult Result(const CheckContext& ctx, std::string target, CheckStatus status) {
    CheckResult r = NewResult(ctx, std::move(target));
    r.status = status;
    r.summary = "fine";
    return r;
  }
  int runs() const { return runs_.load(); }
  int max_running() const { return max_running_.load(); }
  MonoTime last_deadline() const { return last_deadline_; }

 private:
  Body body_;
  std::atomic<int> runs_{0};
  std::atomic<int> running_{0};
  std::atomic<int> max_running_{0};
  MonoTime last_deadline_{};
};

ScriptedCheck::Body Quick(std::string target = "t") {
  return [target](ScriptedCheck& self, const CheckContext& ctx, int) {
    return std::vector<CheckResult>{self.Result(ctx, target, CheckStatus::kOk)};
  };
}

class CheckRuntimeTest : public ::testing::Test {
 protected:
  std::unique_ptr<CheckRuntime> NewRuntime(size_t workers) {
    CheckContext base{clock_, fs_, "/proc"};
    return std::make_unique<CheckRuntime>(clock_, random_, base, workers, nullptr);
  }
  // Ticks at the fake clock's current time (real time passing between ticks so the workers
  // can run) until `done` holds for what was collected, for at most 5 s.
  bool TickUntil(CheckRuntime& rt, const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + milliseconds(5'000);
    while (std::chrono::steady_clock::now() < until) {
      Absorb(rt.Tick(clock_.Monotonic()));
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return false;
  }
  void Absorb(TickOutput out) {
    for (CheckRun& run : out.runs) {
      for (CheckResult& r : run.results) results_[r.check].push_back(std::move(r));
      if (run.timed_out) ++timeouts_[run.index];
    }
    for (size_t i : out.skipped) ++skipped_[i];
    for (size_t i : out.late) ++late_[i];
  }
  size_t Count(const std::string& check) { return results_[check].size(); }

  steadfast::testing::FakeClock clock_;
  steadfast::testing::MemoryFileSystem fs_;
  FixedRandom random_{0};  // no jitter: every check is first due at Add time
  std::map<std::string, std::vector<CheckResult>> results_;
  std::map<size_t, int> timeouts_, skipped_, late_;
};

TEST_F(CheckRuntimeTest, AHungCheckTimesOutAndNeverDelaysTheOthers) {
  Gate gate;
  ScriptedCheck slow("slow", [&](ScriptedCheck& self, const CheckContext& ctx, int run) {
    if (run == 0) gate.Wait();  // ignores its deadline, as a buggy in-process check would
    return std::vector<CheckResult>{self.Result(ctx, "disk0", CheckStatus::kOk)};
  });
  ScriptedCheck fast("fast", Quick());
  // One worker: the slow check holds it, so only the replacement thread can serve `fast`.
  auto rt = NewRuntime(1);
  OpenOnExit open_gate(gate);
  const MonoTime t0 = clock_.Monotonic();
  rt->Add(&slow, milliseconds(60'000), milliseconds(10'000), t0);
  rt->Add(&fast, milliseconds(60'000), milliseconds(10'000), t0);
  Absorb(rt->Tick(t0));
  ASSERT_TRUE(TickUntil(*rt, [&] { return slow.max_running() == 1; }));
  // The slow run's deadline, plus the grace in which it could still report for itself.
  EXPECT_EQ(rt->NextWakeup(), t0 + milliseconds(10'000) + kDeadlineGrace);

  clock_.Advance(milliseconds(10'000));
  Absorb(rt->Tick(clock_.Monotonic()));
  EXPECT_EQ(Count("slow"), 0u);  // within the grace
  clock_.Advance(kDeadlineGrace);
  ASSERT_TRUE(TickUntil(*rt, [&] { return Count("slow") == 1 && Count("fast") == 1; }));
  const CheckResult& timed_out = results_["slow"][0];
  EXPECT_EQ(timed_out.status, CheckStatus::kUnknown);
  EXPECT_EQ(timed_out.summary, "timed out after 10 s");
  EXPECT_EQ(timed_out.target, "slow");  // no earlier run: the check's name
  EXPECT_EQ(timed_out.observed_at_ms, clock_.NowMillis());
  EXPECT_EQ(timeouts_[0], 1);
  EXPECT_TRUE(rt->HasOverrunningRuns());

  // Due again at 60 s: fast runs on schedule, slow (still stuck) skips its slot.
  clock_.Advance(milliseconds(50'000) - kDeadlineGrace);
  ASSERT_TRUE(TickUntil(*rt, [&] { return Count("fast") == 2; }));
  EXPECT_EQ(skipped_[0], 1);
  EXPECT_EQ(slow.runs(), 1);
  EXPECT_EQ(slow.max_running(), 1);
  EXPECT_LE(rt->threads(), 2u);  // the stuck one and its replacement

  // It finally returns: its results are discarded, not reported after the timeout report.
  gate.Open();
  ASSERT_TRUE(TickUntil(*rt, [&] { return late_[0] == 1; }));
  EXPECT_EQ(Count("slow"), 1u);
  EXPECT_FALSE(rt->HasOverrunningRuns());

  // And runs normally at its next slot.
  clock_.Advance(milliseconds(60'000));
  ASSERT_TRUE(TickUntil(*rt, [&] { return Count("slow") == 2 && Count("fast") == 3; }));
  EXPECT_EQ(results_["slow"][1].status, CheckStatus::kOk);
  EXPECT_EQ(rt->threads(), 1u);  // the extra thread went away
}

TEST_F(CheckRuntimeTest, TimedOutResultsNameTheTargetsOfTheLastRun) {
  Gate gate;
  ScriptedCheck fs_check("disks", [&](ScriptedCheck& self, const CheckContext& ctx, int run) {
    if (run == 1) gate.Wait();
    return std::vector<CheckResult>{self.Result(ctx, "/", CheckStatus::kOk),
                                    self.Result(ctx, "/var", CheckStatus::kWarning)};
  });
  auto rt = NewRuntime(2);
  OpenOnExit open_gate(gate);
  rt->Add(&fs_check, milliseconds(60'000), milliseconds(1'500), clock_.Monotonic());
  ASSERT_TRUE(TickUntil(*rt, [&] { return Count("disks") == 2; }));
  clock_.Advance(milliseconds(60'000));
  ASSERT_TRUE(TickUntil(*rt, [&] { return fs_check.runs() == 2; }));
  clock_.Advance(milliseconds(1'500) + kDeadlineGrace);
  ASSERT_TRUE(TickUntil(*rt, [&] { return Count("disks") == 4; }));
  EXPECT_EQ(results_["disks"][2].target, "/");
  EXPECT_EQ(results_["disks"][3].target, "/var");
  EXPECT_EQ(results_["disks"][3].status, CheckStatus::kUnknown);
  EXPECT_EQ(results_["disks"][3].summary, "timed out after 1.5 s");
  gate.Open();
}

TEST_F(CheckRuntimeTest, RunsGetTheirDeadlineAndArePooled) {
  std::vector<std::unique_ptr<ScriptedCheck>> checks;
  std::atomic<int> concurrent{0}, peak{0};
  auto rt = NewRuntime(3);
  for (int i = 0; i < 10; ++i) {
    checks.push_back(std::make_unique<ScriptedCheck>(
        "c" + std::to_string(i), [&](ScriptedCheck& self, const CheckContext& ctx, int) {
          int now = ++concurrent;
          int prev = peak.load();
          while (now > prev && !peak.compare_exchange_weak(prev, now)) {
          }
          std::this_thread::sleep_for(milliseconds(20));
          --concurrent;
          return std::vector<CheckResult>{self.Result(ctx, "t", CheckStatus::kOk)};
        }));
    rt->Add(checks.back().get(), milliseconds(60'000), milliseconds(5'000), clock_.Monotonic());
  }
  const MonoTime t0 = clock_.Monotonic();
  ASSERT_TRUE(TickUntil(*rt, [&] { return results_.size() == 10; }));
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 2);  // they did run side by side
  EXPECT_LE(rt->threads(), 3u);
  EXPECT_EQ(checks[0]->last_deadline(), t0 + milliseconds(5'000));
}

TEST_F(CheckRuntimeTest, ResultsAreFinalised) {
  ScriptedCheck odd("odd", [](ScriptedCheck& self, const CheckContext& ctx, int) {
    CheckResult r = self.Result(ctx, std::string(2000, 't'), CheckStatus::kOk);
    r.check.clear();
    r.summary = "bad byte \xff here";
    r.metrics.push_back({"good", {}, 1, ""});
    r.metrics.push_back({"nan", {}, std::nan(""), ""});
    r.metrics.push_back({"inf", {{"l\xfe", "v\xfe"}}, HUGE_VAL, ""});
    return std::vector<CheckResult>{r};
  });
  auto rt = NewRuntime(1);
  rt->Add(&odd, milliseconds(60'000), milliseconds(5'000), clock_.Monotonic());
  std::vector<CheckRun> runs = rt->RunAllOnce();
  ASSERT_EQ(runs.size(), 1u);
  const CheckResult& r = runs[0].results[0];
  EXPECT_EQ(r.check, "odd");
  EXPECT_EQ(r.target.size(), 1024u);
  EXPECT_EQ(r.summary, "bad byte \xef\xbf\xbd here");
  ASSERT_EQ(r.metrics.size(), 1u);
  EXPECT_EQ(r.metrics[0].name, "good");
  EXPECT_NO_THROW(protocol::EncodeCheckResult(r));
}

TEST_F(CheckRuntimeTest, RunAllOnceReportsAHungCheckAsUnknown) {
  RealClock real;
  Gate gate;
  ScriptedCheck hung("hung", [&](ScriptedCheck& self, const CheckContext& ctx, int) {
    gate.Wait();
    return std::vector<CheckResult>{self.Result(ctx, "x", CheckStatus::kOk)};
  });
  ScriptedCheck a("a", Quick()), b("b", Quick());
  CheckContext base{real, fs_, "/proc"};
  CheckRuntime rt(real, random_, base, 2, nullptr);
  OpenOnExit open_gate(gate);
  rt.Add(&a, milliseconds(60'000), milliseconds(5'000), real.Monotonic());
  rt.Add(&hung, milliseconds(60'000), milliseconds(300), real.Monotonic());
  rt.Add(&b, milliseconds(60'000), milliseconds(5'000), real.Monotonic());
  const auto before = std::chrono::steady_clock::now();
  std::vector<CheckRun> runs = rt.RunAllOnce();
  EXPECT_LT(std::chrono::steady_clock::now() - before, milliseconds(2'000));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].results[0].check, "a");
  EXPECT_EQ(runs[1].results[0].check, "hung");
  EXPECT_TRUE(runs[1].timed_out);
  EXPECT_EQ(runs[1].results[0].status, CheckStatus::kUnknown);
  EXPECT_EQ(runs[1].results[0].summary, "timed out after 300 ms");
  EXPECT_EQ(runs[2].results[0].check, "b");
  EXPECT_TRUE(rt.HasOverrunningRuns());
  gate.Open();
  rt.Shutdown();
}

TEST_F(CheckRuntimeTest, WakeIsCalledWhenARunEndsBeforeThePlannedWakeUp) {
  std::atomic<int> wakes{0};
  CheckContext base{clock_, fs_, "/proc"};
  CheckRuntime rt(clock_, random_, base, 1, [&] { ++wakes; });
  ScriptedCheck a("a", Quick());
  rt.Add(&a, milliseconds(60'000), milliseconds(5'000), clock_.Monotonic());
  rt.Tick(clock_.Monotonic());
  rt.NextWakeup();  // the next slot, or the run's deadline: both later than its end
  const auto until = std::chrono::steady_clock::now() + milliseconds(5'000);
  while (wakes.load() == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_GE(wakes.load(), 1);
  ASSERT_TRUE(TickUntil(rt, [&] { return Count("a") == 1; }));
}

TEST(CheckUtilTest, TimeLeftIsBoundedByTheDeadline) {
  steadfast::testing::FakeClock clock;
  steadfast::testing::MemoryFileSystem fs;
  CheckContext ctx{clock, fs, "/proc"};
  EXPECT_EQ(TimeLeft(ctx, milliseconds(5'000)), milliseconds(5'000));  // no deadline
  ctx.deadline = clock.Monotonic() + milliseconds(2'500);
  EXPECT_EQ(TimeLeft(ctx, milliseconds(5'000)), milliseconds(2'500));
  EXPECT_EQ(TimeLeft(ctx, milliseconds(1'000)), milliseconds(1'000));
  clock.Advance(milliseconds(3'000));
  EXPECT_EQ(TimeLeft(ctx, milliseconds(5'000)), milliseconds(1));  // past it: fail fast
}

TEST(CheckUtilTest, ShortDuration) {
  EXPECT_EQ(ShortDuration(milliseconds(10'000)), "10 s");
  EXPECT_EQ(ShortDuration(milliseconds(1'500)), "1.5 s");
  EXPECT_EQ(ShortDuration(milliseconds(250)), "250 ms");
}

TEST(CheckUtilTest, SanitizeUtf8KeepsValidTextAndReplacesTheRest) {
  EXPECT_EQ(SanitizeUtf8("plain ascii"), "plain ascii");
  EXPECT_EQ(SanitizeUtf8("caf\xc3\xa9 \xe6\xb8\xa9\xe5\xba\xa6 \xf0\x9f\x94\xa5"),
            "caf\xc3\xa9 \xe6\xb8\xa9\xe5\xba\xa6 \xf0\x9f\x94\xa5");
  const std::string bad = "\xef\xbf\xbd";
  EXPECT_EQ(SanitizeUtf8("latin1 \xe9t\xe9"), "latin1 " + bad + "t" + bad);
  EXPECT_EQ(SanitizeUtf8("cut \xe6\xb8"), "cut " + bad + bad);           // truncated sequence
  EXPECT_EQ(SanitizeUtf8("\xc0\xaf"), bad + bad);                        // overlong '/'
  EXPECT_EQ(SanitizeUtf8("\xed\xa0\x80"), bad + bad + bad);             // a surrogate
  EXPECT_EQ(SanitizeUtf8(std::string("nul\0in", 6)), std::string("nul\0in", 6));
}

TEST_F(CheckRuntimeTest, GatherHoldsFinishedRunsUntilTheGroupIsDone) {
  Gate gate;
  ScriptedCheck slow("slow", [&](ScriptedCheck& self, const CheckContext& ctx, int) {
    gate.Wait();
    return std::vector<CheckResult>{self.Result(ctx, "t", CheckStatus::kOk)};
  });
  ScriptedCheck fast("fast", Quick());
  std::atomic<int> wakes{0};
  CheckContext base{clock_, fs_, "/proc"};
  CheckRuntime rt(clock_, random_, base, 2, [&] { ++wakes; }, milliseconds(1'000));
  OpenOnExit open_gate(gate);
  const MonoTime t0 = clock_.Monotonic();
  rt.Add(&slow, milliseconds(60'000), milliseconds(30'000), t0);
  rt.Add(&fast, milliseconds(60'000), milliseconds(30'000), t0);
  Absorb(rt.Tick(t0));
  ASSERT_TRUE(TickUntil(rt, [&] { return fast.runs() == 1 && slow.max_running() == 1; }));
  // `fast` finished while `slow` runs: held back, and the controller is told to come back at
  // the end of the gathering window, not at once.
  for (int i = 0; i < 5; ++i) Absorb(rt.Tick(clock_.Monotonic()));
  EXPECT_EQ(Count("fast"), 0u);
  EXPECT_EQ(rt.NextWakeup(), t0 + milliseconds(1'000));
  // The last run of the group to finish releases them all together and wakes the controller.
  const int wakes_before = wakes.load();
  gate.Open();
  ASSERT_TRUE(TickUntil(rt, [&] { return Count("slow") == 1; }));
  EXPECT_EQ(Count("fast"), 1u);
  EXPECT_GT(wakes.load(), wakes_before);
}

TEST_F(CheckRuntimeTest, GatherReleasesRunsAtTheEndOfTheWindow) {
  Gate gate;
  ScriptedCheck slow("slow", [&](ScriptedCheck& self, const CheckContext& ctx, int) {
    gate.Wait();
    return std::vector<CheckResult>{self.Result(ctx, "t", CheckStatus::kOk)};
  });
  ScriptedCheck fast("fast", Quick());
  CheckContext base{clock_, fs_, "/proc"};
  CheckRuntime rt(clock_, random_, base, 2, nullptr, milliseconds(1'000));
  OpenOnExit open_gate(gate);
  const MonoTime t0 = clock_.Monotonic();
  rt.Add(&slow, milliseconds(60'000), milliseconds(30'000), t0);
  rt.Add(&fast, milliseconds(60'000), milliseconds(30'000), t0);
  Absorb(rt.Tick(t0));
  ASSERT_TRUE(TickUntil(rt, [&] { return fast.runs() == 1; }));
  Absorb(rt.Tick(clock_.Monotonic()));
  EXPECT_EQ(Count("fast"), 0u);
  clock_.Advance(milliseconds(1'000));
  Absorb(rt.Tick(clock_.Monotonic()));
  EXPECT_EQ(Count("fast"), 1u);
  EXPECT_EQ(Count("slow"), 0u);
  // On stop, finished runs not collected yet are handed out rather than lost.
  gate.Open();
  const auto until = std::chrono::steady_clock::now() + milliseconds(5'000);
  std::vector<CheckRun> taken;
  while (taken.empty() && std::chrono::steady_clock::now() < until) {
    taken = rt.TakeFinished();
    if (taken.empty()) std::this_thread::sleep_for(milliseconds(2));
  }
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].results.at(0).check, "slow");
}

TEST_F(CheckRuntimeTest, WorkersWakeTheControllerOnlyWhenItMustAct) {
  ScriptedCheck a("a", Quick()), b("b", Quick());
  std::atomic<int> wakes{0};
  CheckContext base{clock_, fs_, "/proc"};
  CheckRuntime rt(clock_, random_, base, 2, [&] { ++wakes; }, milliseconds(1'000));
  const MonoTime t0 = clock_.Monotonic();
  rt.Add(&a, milliseconds(60'000), milliseconds(5'000), t0);
  rt.Add(&b, milliseconds(60'000), milliseconds(5'000), t0);
  // Tick and plan as the agent's check thread does: the runs' starts and ends all happen
  // before the planned wake-up (the next slot, a minute away), so the group costs at most one
  // wake-up when it is complete (two if a start comes before the plan includes its deadline).
  rt.Tick(t0);
  rt.NextWakeup();
  const auto until = std::chrono::steady_clock::now() + milliseconds(5'000);
  while ((a.runs() < 1 || b.runs() < 1) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_GE(wakes.load(), 1);
  EXPECT_LE(wakes.load(), 3);
  TickOutput out = rt.Tick(clock_.Monotonic());
  EXPECT_EQ(out.runs.size(), 2u);
}

}  // namespace
}  // namespace steadfast::agent
