#include "collector/auth/lockout.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "common/config/config_node.h"
#include "common/testing/fake_clock.h"

namespace steadfast::collector::auth {
namespace {

using std::chrono::minutes;
using std::chrono::milliseconds;
using steadfast::testing::FakeClock;

constexpr int64_t kMin = 60'000;

// threshold 5, 10m doubling to 60m, forgotten after 30 quiet minutes.
class LockoutTest : public ::testing::Test {
 protected:
  void Fail() { state_ = policy_.OnFailure(state_, clock_.NowMillis()); }
  LockoutDecision Check() const { return policy_.Check(state_, clock_.NowMillis()); }
  // Advances to the end of the current lock.
  void WaitOutLock() { clock_.SetMillis(std::max(clock_.NowMillis(), state_.locked_until_ms)); }

  LockoutPolicy policy_ = DefaultAccountLockout();
  LockoutState state_;
  FakeClock clock_;
};

TEST_F(LockoutTest, DefaultsAreTheDocumentedOnes) {
  EXPECT_EQ(policy_.threshold, 5);
  EXPECT_EQ(policy_.first_delay_ms, 10 * kMin);
  EXPECT_EQ(policy_.growth_factor, 2.0);
  EXPECT_EQ(policy_.max_delay_ms, 60 * kMin);
  EXPECT_EQ(policy_.reset_after_ms, 30 * kMin);
  EXPECT_TRUE(policy_.Validate().ok());
  EXPECT_TRUE(DefaultAddressLockout().Validate().ok());
  EXPECT_EQ(DefaultAddressLockout().threshold, 20);
}

TEST_F(LockoutTest, TheThresholdthFailureLocksForTheFirstDelayExactly) {
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(Check().allowed);
    Fail();
    EXPECT_EQ(state_.failures, i);
    EXPECT_EQ(state_.locked_until_ms, 0);
    clock_.Advance(milliseconds(1000));
  }
  ASSERT_TRUE(Check().allowed);
  const int64_t locked_at = clock_.NowMillis();
  Fail();
  EXPECT_EQ(state_.locked_until_ms, locked_at + 10 * kMin);
  EXPECT_EQ(state_.last_failure_ms, locked_at);

  LockoutDecision d = Check();
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 10 * kMin);
  EXPECT_EQ(d.RetryAfterSeconds(), 600);

  clock_.Advance(minutes(10) - milliseconds(1));
  d = Check();
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1);
  EXPECT_EQ(d.RetryAfterSeconds(), 1);  // rounded up, never 0 while locked

  clock_.Advance(milliseconds(1));
  d = Check();
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 0);
}

TEST_F(LockoutTest, DelayGrowsByTheFactorUpToTheCap) {
  for (int i = 0; i < 5; ++i) Fail();
  std::vector<int64_t> delays;
  delays.push_back(state_.locked_until_ms - clock_.NowMillis());
  for (int i = 0; i < 4; ++i) {
    WaitOutLock();
    clock_.Advance(milliseconds(5000));  // well within the quiet window
    ASSERT_TRUE(Check().allowed);
    Fail();
    delays.push_back(state_.locked_until_ms - clock_.NowMillis());
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{10 * kMin, 20 * kMin, 40 * kMin, 60 * kMin, 60 * kMin}));
  EXPECT_EQ(state_.failures, 9);
  EXPECT_EQ(policy_.DelayForFailures(4), 0);
  EXPECT_EQ(policy_.DelayForFailures(7), 40 * kMin);
  EXPECT_EQ(policy_.DelayForFailures(1'000'000), 60 * kMin);  // no overflow
}

TEST_F(LockoutTest, FailuresAreForgottenAfterTheQuietWindow) {
  for (int i = 0; i < 4; ++i) Fail();
  clock_.Advance(minutes(30) - milliseconds(1));
  EXPECT_FALSE(policy_.IsQuiet(state_, clock_.NowMillis()));
  Fail();  // the fifth inside the window: locks
  EXPECT_EQ(state_.failures, 5);
  EXPECT_FALSE(Check().allowed);

  // Quiet time counts from the end of the lock, not from the failure, so a lock longer than
  // the window does not reset the growth.
  WaitOutLock();
  clock_.Advance(minutes(29));
  EXPECT_FALSE(policy_.IsQuiet(state_, clock_.NowMillis()));
  Fail();
  EXPECT_EQ(state_.failures, 6);
  EXPECT_EQ(state_.locked_until_ms - clock_.NowMillis(), 20 * kMin);

  WaitOutLock();
  clock_.Advance(minutes(30));
  EXPECT_TRUE(policy_.IsQuiet(state_, clock_.NowMillis()));
  Fail();
  EXPECT_EQ(state_.failures, 1);
  EXPECT_TRUE(Check().allowed);
}

TEST_F(LockoutTest, SuccessResetsEverything) {
  for (int i = 0; i < 4; ++i) Fail();
  state_ = LockoutPolicy::OnSuccess(state_);
  EXPECT_EQ(state_, LockoutState{});
  for (int i = 0; i < 4; ++i) Fail();
  EXPECT_TRUE(Check().allowed);  // the count started again
}

TEST_F(LockoutTest, ThresholdOneAndNoGrowth) {
  policy_.threshold = 1;
  policy_.growth_factor = 1.0;
  policy_.first_delay_ms = 2000;
  policy_.max_delay_ms = 2000;
  ASSERT_TRUE(policy_.Validate().ok());
  for (int i = 0; i < 3; ++i) {
    Fail();
    EXPECT_EQ(Check().retry_after_ms, 2000);
    WaitOutLock();
  }
}

TEST(LockoutPolicyTest, ValidateNamesTheField) {
  auto bad = [](auto change) {
    LockoutPolicy p;
    change(p);
    return p.Validate().message();
  };
  EXPECT_NE(bad([](LockoutPolicy& p) { p.threshold = 0; }).find("threshold"), std::string::npos);
  EXPECT_NE(bad([](LockoutPolicy& p) { p.first_delay_ms = 0; }).find("first_delay"), std::string::npos);
  EXPECT_NE(bad([](LockoutPolicy& p) { p.growth_factor = 0.5; }).find("growth_factor"), std::string::npos);
  EXPECT_NE(bad([](LockoutPolicy& p) { p.max_delay_ms = p.first_delay_ms - 1; }).find("max_delay"),
            std::string::npos);
  EXPECT_NE(bad([](LockoutPolicy& p) { p.reset_after_ms = 0; }).find("reset_after"), std::string::npos);
}

StatusOr<LockoutPolicy> ParseYaml(const std::string& yaml) {
  SF_ASSIGN_OR_RETURN(auto doc, config::ConfigDocument::Parse(yaml, "c.yaml"));
  return ParseLockoutPolicy(doc.root()["lockout"], DefaultAccountLockout(), {"table_size"});
}

TEST(LockoutPolicyConfigTest, ReadsEveryKey) {
  auto p = ParseYaml(
      "lockout:\n  threshold: 3\n  first_delay: 30s\n  growth_factor: 1.5\n  max_delay: 5m\n  reset_after: 2h\n"
      "  table_size: 5\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->threshold, 3);
  EXPECT_EQ(p->first_delay_ms, 30'000);
  EXPECT_EQ(p->growth_factor, 1.5);
  EXPECT_EQ(p->max_delay_ms, 5 * kMin);
  EXPECT_EQ(p->reset_after_ms, 120 * kMin);
  auto defaults = ParseYaml("other: 1\n");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->threshold, 5);
}

TEST(LockoutPolicyConfigTest, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(ParseYaml("lockout:\n  treshold: 3\n").status().message(),
            "c.yaml:2: lockout.treshold: unknown key (known keys here: threshold, first_delay, growth_factor, "
            "max_delay, reset_after, table_size)");
  EXPECT_EQ(ParseYaml("lockout:\n  first_delay: 20m\n  max_delay: 10m\n").status().message(),
            "c.yaml:3: lockout.max_delay: max_delay must not be shorter than first_delay");
  EXPECT_EQ(ParseYaml("lockout:\n  threshold: 0\n").status().message(),
            "c.yaml:2: lockout.threshold: must be between 1 and 1000, got 0");
  EXPECT_EQ(ParseYaml("lockout:\n  growth_factor: 0.5\n").status().message(),
            "c.yaml:2: lockout.growth_factor: must be between 1 and 100, got 0.5");
  EXPECT_EQ(ParseYaml("lockout:\n  reset_after: soon\n").status().message(),
            "c.yaml:2: lockout.reset_after: expected a duration like 30s, 5m or 250ms, got 'soon'");
}

TEST(AddressKeyTest, DropsPortsAndGroupsIpv6By64) {
  EXPECT_EQ(AddressKey("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(AddressKey("192.0.2.1:51234"), "192.0.2.1");
  EXPECT_EQ(AddressKey("[2001:db8:1:2:3:4:5:6]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("2001:DB8::1"), "2001:db8::/64");
  EXPECT_EQ(AddressKey("[::1]:8080"), "::/64");
  EXPECT_EQ(AddressKey("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(AddressKey("[::ffff:192.0.2.7]:80"), "192.0.2.7");
  EXPECT_EQ(AddressKey("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(AddressKey("not an address"), "not an address");
  EXPECT_EQ(AddressKey(""), "");
}

LockoutPolicy SmallAddressPolicy() {
  LockoutPolicy p;
  p.threshold = 3;
  p.first_delay_ms = kMin;
  p.growth_factor = 2;
  p.max_delay_ms = 4 * kMin;
  p.reset_after_ms = 10 * kMin;
  return p;
}

TEST(AddressThrottleTest, CountsPerAddressAcrossPortsAndTheSame64) {
  FakeClock clock;
  AddressThrottle t(SmallAddressPolicy(), 100);
  t.OnFailure("192.0.2.1:1000", clock.NowMillis());
  t.OnFailure("192.0.2.1:1001", clock.NowMillis());
  EXPECT_TRUE(t.Check("192.0.2.1:1002", clock.NowMillis()).allowed);
  t.OnFailure("192.0.2.1:1003", clock.NowMillis());
  LockoutDecision d = t.Check("192.0.2.1:1004", clock.NowMillis());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, kMin);
  EXPECT_TRUE(t.Check("192.0.2.2:1000", clock.NowMillis()).allowed);  // another address

  t.OnFailure("[2001:db8:0:1::a]:1", clock.NowMillis());
  t.OnFailure("[2001:db8:0:1::b]:2", clock.NowMillis());
  t.OnFailure("[2001:db8:0:1::c]:3", clock.NowMillis());
  EXPECT_FALSE(t.Check("[2001:db8:0:1::d]:4", clock.NowMillis()).allowed);
  EXPECT_TRUE(t.Check("[2001:db8:0:2::a]:4", clock.NowMillis()).allowed);
  EXPECT_EQ(t.size(), 2u);

  clock.Advance(minutes(1));
  EXPECT_TRUE(t.Check("192.0.2.1:1", clock.NowMillis()).allowed);
  t.OnFailure("192.0.2.1:1", clock.NowMillis());  // 4th: doubled
  EXPECT_EQ(t.Check("192.0.2.1:1", clock.NowMillis()).retry_after_ms, 2 * kMin);
}

TEST(AddressThrottleTest, QuietEntriesAreDropped) {
  FakeClock clock;
  AddressThrottle t(SmallAddressPolicy(), 100);
  t.OnFailure("192.0.2.1", clock.NowMillis());
  EXPECT_EQ(t.size(), 1u);
  clock.Advance(minutes(10) - milliseconds(1));
  EXPECT_TRUE(t.Check("192.0.2.1", clock.NowMillis()).allowed);
  EXPECT_EQ(t.size(), 1u);
  clock.Advance(minutes(10));
  EXPECT_TRUE(t.Check("192.0.2.1", clock.NowMillis()).allowed);
  EXPECT_EQ(t.size(), 0u);
}

TEST(AddressThrottleTest, EvictsTheLeastRecentlyUsedWhenFull) {
  FakeClock clock;
  AddressThrottle t(SmallAddressPolicy(), 2);
  const int64_t now = clock.NowMillis();
  for (int i = 0; i < 2; ++i) t.OnFailure("10.0.0.1", now);
  for (int i = 0; i < 2; ++i) t.OnFailure("10.0.0.2", now);
  (void)t.Check("10.0.0.1", now);  // 10.0.0.1 is now the most recently used
  t.OnFailure("10.0.0.3", now);    // evicts 10.0.0.2
  EXPECT_EQ(t.size(), 2u);
  t.OnFailure("10.0.0.1", now);  // third failure: kept its count, locks
  EXPECT_FALSE(t.Check("10.0.0.1", now).allowed);
  t.OnFailure("10.0.0.2", now);  // evicted: counts from 1 again (and evicts 10.0.0.3)
  EXPECT_TRUE(t.Check("10.0.0.2", now).allowed);
  EXPECT_FALSE(t.Check("10.0.0.1", now).allowed);
  EXPECT_EQ(t.size(), 2u);
}

TEST(AddressThrottleTest, ConcurrentFailuresAreAllCounted) {
  LockoutPolicy p = SmallAddressPolicy();
  p.threshold = 400;
  AddressThrottle t(p, 1000);
  FakeClock clock;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 100; ++k) {
        t.OnFailure("198.51.100.9:" + std::to_string(i * 1000 + k), clock.NowMillis());
        (void)t.Check("198.51.100." + std::to_string(k % 50), clock.NowMillis());
      }
    });
  }
  for (auto& th : threads) th.join();
  // Only the 400th failure locks: a lost update would leave the address allowed.
  EXPECT_FALSE(t.Check("198.51.100.9", clock.NowMillis()).allowed);
}

}  // namespace
}  // namespace steadfast::collector::auth
