#include "collector/inventory/sqlite_inventory_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "collector/accounts/sqlite_account_store.h"
#include "collector/inventory/inventory_store_conformance.h"
#include "collector/testing/test_util.h"

namespace steadfast::collector::inventory {
namespace {

using testing::AdminActor;
using testing::InventoryStoreConformanceTest;
using testing::InventoryStoreHarness;
using testing::kT0;
using testing::SampleEquipment;
using testing::SampleInventory;

// A SqliteInventoryStore (with the accounts store it builds on) on a temp-file collector.db.
// The inventory store's audit appender writes each event's action, object and summary into
// test_audit through the store's own transaction — so a row there means the event committed
// together with its change. When `fail` is set the appender writes its row and then fails,
// which must roll back both.
class SqliteHarness final : public InventoryStoreHarness {
 public:
  SqliteHarness() {
    auto db = AdminDb::Open(dir_.path() + "/collector.db");
    SF_CHECK_OK(db.status());
    db_ = std::move(db).value();
    SF_CHECK_OK(db_->Write([](sqlite::SqliteDb& db) {
      return db.Exec(
          "CREATE TABLE test_audit (seq INTEGER PRIMARY KEY, action TEXT, object_type TEXT, object_id TEXT, "
          "actor_name TEXT, time_ms INTEGER, summary TEXT)");
    }));
    // The accounts store's own audit records are not this test's business.
    auto accounts = accounts::SqliteAccountStore::Open(
        *db_, [](sqlite::SqliteDb&, const audit::AuditEvent&) { return OkStatus(); });
    SF_CHECK_OK(accounts.status());
    accounts_ = std::move(accounts).value();
    auto store = SqliteInventoryStore::Open(*db_, [this](sqlite::SqliteDb& db, const audit::AuditEvent& e) -> Status {
      auto stmt = db.Prepare(
          "INSERT INTO test_audit (action, object_type, object_id, actor_name, time_ms, summary) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      if (!stmt.ok()) return stmt.status();
      stmt->Bind(1, e.action).Bind(2, e.object_type).Bind(3, e.object_id).Bind(4, e.actor_name);
      stmt->Bind(5, e.time_ms).Bind(6, e.summary_json);
      SF_RETURN_IF_ERROR(stmt->Run());
      if (fail_.load()) return UnavailableError("audit log unavailable (test)");
      return OkStatus();
    });
    SF_CHECK_OK(store.status());
    store_ = std::move(store).value();
  }

  InventoryStore& store() override { return *store_; }
  AdminDb& db() { return *db_; }
  void set_fail(bool fail) { fail_.store(fail); }

  std::vector<audit::AuditEvent> CommittedAuditEvents() override {
    std::vector<audit::AuditEvent> events;
    SF_CHECK_OK(db_->Read([&](sqlite::SqliteDb& db) -> Status {
      SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s,
                          db.Prepare("SELECT action, object_type, object_id, actor_name, time_ms, summary "
                                     "FROM test_audit ORDER BY seq"));
      while (true) {
        SF_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) return OkStatus();
        audit::AuditEvent e;
        e.action = s.ColumnText(0);
        e.object_type = s.ColumnText(1);
        e.object_id = s.ColumnText(2);
        e.actor_name = s.ColumnText(3);
        e.time_ms = s.ColumnInt(4);
        e.summary_json = s.ColumnText(5);
        events.push_back(std::move(e));
      }
    }));
    return events;
  }

  int64_t AddUnit(const std::string& code) override {
    accounts::Unit u;
    u.name = "Unit " + code;
    u.code = code;
    u.parent_id = accounts::kCentreUnitId;
    auto created = accounts_->CreateUnit(AdminActor(), u);
    SF_CHECK_OK(created.status());
    return created->id;
  }

  void AssignHost(const std::string& agent_id, int64_t unit_id) override {
    SF_CHECK_OK(accounts_->AssignHost(AdminActor(), agent_id, unit_id));
  }

  // Rows of a table, counted.
  int64_t Count(const std::string& table) {
    int64_t n = -1;
    SF_CHECK_OK(db_->Read([&](sqlite::SqliteDb& db) -> Status {
      SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement s, db.Prepare("SELECT COUNT(*) FROM " + table));
      SF_ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) n = s.ColumnInt(0);
      return OkStatus();
    }));
    return n;
  }

 private:
  testutil::TempDir dir_;
  std::unique_ptr<AdminDb> db_;
  std::unique_ptr<accounts::SqliteAccountStore> accounts_;
  std::unique_ptr<SqliteInventoryStore> store_;
  std::atomic<bool> fail_{false};
};

INSTANTIATE_TEST_SUITE_P(Sqlite, InventoryStoreConformanceTest,
                         ::testing::Values(testing::InventoryStoreImplementation{
                             "Sqlite", [] { return std::unique_ptr<InventoryStoreHarness>(new SqliteHarness()); }}),
                         testing::InventoryStoreImplementationName);

TEST(SqliteInventoryStoreTest, AFailingAuditAppendRollsTheMutationBack) {
  SqliteHarness h;
  const int64_t a = h.AddUnit("unit-a");
  const int64_t b = h.AddUnit("unit-b");
  auto ups = h.store().CreateEquipment(AdminActor(), SampleEquipment("UPS-1", a, "AS1"));
  ASSERT_TRUE(ups.ok());
  h.set_fail(true);
  EXPECT_EQ(h.store().CreateEquipment(AdminActor(), SampleEquipment("UPS-2", a, "AS2")).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(h.store().AllocateEquipment(AdminActor(), ups->id, b, "test").status().code(), StatusCode::kUnavailable);
  EquipmentUpdate u;
  u.name = "renamed";
  EXPECT_EQ(h.store().UpdateEquipment(AdminActor(), ups->id, u).status().code(), StatusCode::kUnavailable);
  h.set_fail(false);
  EXPECT_EQ(h.Count("equipment"), 1);
  EXPECT_EQ(h.Count("equipment_allocations"), 1);
  EXPECT_EQ(h.Count("test_audit"), 1);
  auto got = h.store().GetEquipment(ups->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "UPS-1");
  EXPECT_EQ(got->unit_id, a);
  // The serial of the rolled-back creation is free.
  EXPECT_TRUE(h.store().CreateEquipment(AdminActor(), SampleEquipment("UPS-2", a, "AS2")).ok());
}

TEST(SqliteInventoryStoreTest, AgentReportsNeverTouchTheAuditAppender) {
  SqliteHarness h;
  h.set_fail(true);  // an audit failure would surface if a report tried to audit
  EXPECT_TRUE(h.store().ReportHostInventory("a-1", SampleInventory("a-1", "srv"), kT0).ok());
  EXPECT_EQ(h.Count("test_audit"), 0);
  EXPECT_EQ(h.Count("host_inventory_history"), 1);
}

TEST(SqliteInventoryStoreTest, RefusesADatabaseWithoutTheAccountsTables) {
  testutil::TempDir dir;
  auto db = AdminDb::Open(dir.path() + "/collector.db");
  ASSERT_TRUE(db.ok());
  auto store = SqliteInventoryStore::Open(**db, [](sqlite::SqliteDb&, const audit::AuditEvent&) { return OkStatus(); });
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
}

TEST(SqliteInventoryStoreTest, AnUnreadableStoredDocumentIsReplacedAndSaidSo) {
  SqliteHarness h;
  ASSERT_TRUE(h.store().ReportHostInventory("a-1", SampleInventory("a-1", "srv"), kT0).ok());
  ASSERT_TRUE(h.db().Write([](sqlite::SqliteDb& db) {
                  return db.Exec("UPDATE host_inventory SET inventory_json = '{\"version\": 9}'");
                }).ok());
  EXPECT_EQ(h.store().GetHostInventory("a-1").status().code(), StatusCode::kInternal);
  auto report = h.store().ReportHostInventory("a-1", SampleInventory("a-1", "srv"), kT0 + 1);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->changes.size(), 1u);
  EXPECT_EQ(report->changes[0].field, "*");
  EXPECT_TRUE(h.store().GetHostInventory("a-1").ok());
}

}  // namespace
}  // namespace steadfast::collector::inventory
