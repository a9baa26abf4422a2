// The behaviour every InventoryStore must show, written against the interface only, so the
// SQLite store and a later PostgreSQL one are held to the same contract (test targets only).
//
// To run it against an implementation, compile inventory_store_conformance.cc into that
// implementation's test binary and instantiate the suite with a factory of fresh stores:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, InventoryStoreConformanceTest,
//                            ::testing::Values(InventoryStoreImplementation{"Sqlite", &NewSqliteHarness}),
//                            InventoryStoreImplementationName);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "collector/audit/audit_log.h"
#include "collector/inventory/inventory_store.h"

namespace steadfast::collector::inventory::testing {

// One fresh store (only the centre unit exists), a view of the audit records it committed, and
// the organisation it needs (units and host assignment belong to the accounts side).
class InventoryStoreHarness {
 public:
  virtual ~InventoryStoreHarness() = default;
  virtual InventoryStore& store() = 0;
  // Audit events of the store whose transactions committed, oldest first.
  virtual std::vector<audit::AuditEvent> CommittedAuditEvents() = 0;
  // A new unit under the centre; its id.
  virtual int64_t AddUnit(const std::string& code) = 0;
  virtual void AssignHost(const std::string& agent_id, int64_t unit_id) = 0;
};

using InventoryStoreHarnessFactory = std::function<std::unique_ptr<InventoryStoreHarness>()>;

struct InventoryStoreImplementation {
  std::string name;
  InventoryStoreHarnessFactory make;
};
inline void PrintTo(const InventoryStoreImplementation& impl, std::ostream* os) { *os << impl.name; }
inline std::string InventoryStoreImplementationName(
    const ::testing::TestParamInfo<InventoryStoreImplementation>& info) {
  return info.param.name;
}

// ---- builders shared by the store tests

inline constexpr int64_t kT0 = 1'790'000'000'000;

// An admin at the centre acting at `time_ms`.
Actor AdminActor(int64_t time_ms = kT0);
// A server's inventory as an agent would report it: two disks (sda, sdb), DMI with a serial.
protocol::HostInventory SampleInventory(const std::string& agent_id, const std::string& hostname);
// A UPS in `unit_id`, in room "B1-101" rack "R1" at U1..U2.
Equipment SampleEquipment(const std::string& name, int64_t unit_id, const std::string& serial = "");

class InventoryStoreConformanceTest : public ::testing::TestWithParam<InventoryStoreImplementation> {
 protected:
  void SetUp() override;

  InventoryStore& store() { return harness_->store(); }
  std::vector<audit::AuditEvent> Events() { return harness_->CommittedAuditEvents(); }

  std::unique_ptr<InventoryStoreHarness> harness_;
};

}  // namespace steadfast::collector::inventory::testing
