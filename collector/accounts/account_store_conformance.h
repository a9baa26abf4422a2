// The behaviour every AccountStore must show, written against the interface only, so that the
// SQLite store and a later PostgreSQL one are held to the same contract (test targets only).
//
// To run it against an implementation, compile account_store_conformance.cc into that
// implementation's test binary and instantiate the suite with a factory of fresh, empty stores:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, AccountStoreConformanceTest,
//                            ::testing::Values(AccountStoreImplementation{"Sqlite", &NewSqliteHarness}),
//                            AccountStoreImplementationName);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "collector/accounts/account_store.h"
#include "collector/audit/audit_log.h"

namespace steadfast::collector::accounts::testing {

// One fresh store (only the centre exists) and a view of the audit records it committed.
class AccountStoreHarness {
 public:
  virtual ~AccountStoreHarness() = default;
  virtual AccountStore& store() = 0;
  // Audit events whose transactions committed, oldest first (rolled-back ones never appear).
  virtual std::vector<audit::AuditEvent> CommittedAuditEvents() = 0;
};

using AccountStoreHarnessFactory = std::function<std::unique_ptr<AccountStoreHarness>()>;

// The suite's parameter: an implementation's name (used in test names) and its factory.
struct AccountStoreImplementation {
  std::string name;
  AccountStoreHarnessFactory make;
};
inline void PrintTo(const AccountStoreImplementation& impl, std::ostream* os) { *os << impl.name; }
inline std::string AccountStoreImplementationName(
    const ::testing::TestParamInfo<AccountStoreImplementation>& info) {
  return info.param.name;
}

// ---- builders shared by the store tests

inline constexpr int64_t kT0 = 1'790'000'000'000;  // a fixed "now" (2026)

// An admin at the centre acting at `time_ms`.
Actor AdminActor(int64_t time_ms = kT0);
// A local user with a password hash ("" for none).
NewUser UserSpec(const std::string& username, int64_t unit_id = kCentreUnitId,
                 std::vector<Role> roles = {Role::kOperator}, const std::string& password_hash = "");
// A session of `user_id` whose cookie token is `token` (stored hashed) and csrf "csrf-<token>".
Session SessionSpec(int64_t user_id, const std::string& public_id, const std::string& token);
// A token of `creator` in `unit_id` whose secret is `secret` (stored hashed), expiring in a day.
ApiToken TokenSpec(int64_t creator, const std::string& name, const std::string& secret,
                   int64_t unit_id = kCentreUnitId);
// A unit of kind kUnit.
Unit UnitSpec(const std::string& name, const std::string& code, int64_t parent_id = kCentreUnitId);

class AccountStoreConformanceTest : public ::testing::TestWithParam<AccountStoreImplementation> {
 protected:
  void SetUp() override;

  AccountStore& store() { return harness_->store(); }
  std::vector<audit::AuditEvent> Events() { return harness_->CommittedAuditEvents(); }

  std::unique_ptr<AccountStoreHarness> harness_;
};

}  // namespace steadfast::collector::accounts::testing
