#include "collector/inventory/inventory_store_conformance.h"

#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

namespace steadfast::collector::inventory::testing {

Actor AdminActor(int64_t time_ms) {
  Actor a;
  a.type = "user";
  a.id = "1";
  a.name = "root";
  a.roles = {"admin"};
  a.unit_id = accounts::kCentreUnitId;
  a.source_address = "192.0.2.10";
  a.time_ms = time_ms;
  return a;
}

protocol::HostInventory SampleInventory(const std::string& agent_id, const std::string& hostname) {
  protocol::HostInventory inv;
  inv.agent_id = agent_id;
  inv.collected_at_ms = kT0 - 1000;
  inv.host = protocol::HostInfo{hostname, "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "x86_64", "0.1.0"};
  inv.cpu_model = "Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz";
  inv.cpu_count = 24;
  inv.memory_bytes = int64_t{64} << 30;
  inv.disks = {
      protocol::DiskInfo{"sda", 4'000'787'030'016, "ST4000NM0035", "ATA", "ZC1ABCDE", "naa.5000c500a1b2c3d4", true},
      protocol::DiskInfo{"sdb", 4'000'787'030'016, "ST4000NM0035", "ATA", "ZC1FGHIJ", "naa.5000c500a1b2c3d5", true}};
  inv.dmi.sys_vendor = "Dell Inc.";
  inv.dmi.product_name = "PowerEdge R740";
  inv.dmi.product_serial = "SN-" + hostname;
  inv.dmi.chassis_type = "23";
  return inv;
}

Equipment SampleEquipment(const std::string& name, int64_t unit_id, const std::string& serial) {
  Equipment e;
  e.type = EquipmentType::kUps;
  e.name = name;
  e.vendor = "APC";
  e.model = "SRT3000";
  e.serial = serial;
  e.location.room = "B1-101";
  e.location.rack = "R1";
  e.location.u_position = 1;
  e.location.u_height = 2;
  e.unit_id = unit_id;
  e.status = EquipmentStatus::kInService;
  return e;
}

void InventoryStoreConformanceTest::SetUp() {
  harness_ = GetParam().make();
  ASSERT_NE(harness_, nullptr);
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename T>
T Must(StatusOr<T> s, const char* what) {
  if (!s.ok()) {
    ADD_FAILURE() << what << ": " << s.status().ToString();
    return T{};
  }
  return std::move(s).value();
}
#define MUST(expr) Must((expr), #expr)

void ExpectFieldError(const Status& st, StatusCode code, const std::string& field) {
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_EQ(accounts::FieldOfError(st), field) << st.ToString();
}

nlohmann::json Summary(const audit::AuditEvent& e) { return nlohmann::json::parse(e.summary_json); }

std::vector<std::string> Fields(const std::vector<InventoryChange>& changes) {
  std::vector<std::string> out;
  for (const InventoryChange& c : changes) out.push_back(c.field);
  return out;
}

std::vector<std::string> AgentIds(const HostInventoryPage& page) {
  std::vector<std::string> out;
  for (const HostInventorySummary& h : page.items) out.push_back(h.agent_id);
  return out;
}

std::vector<std::string> Names(const EquipmentPage& page) {
  std::vector<std::string> out;
  for (const Equipment& e : page.items) out.push_back(e.name);
  return out;
}

// ---- host inventory

TEST_P(InventoryStoreConformanceTest, ReportsKeepTheCurrentInventoryAndWhatChanged) {
  protocol::HostInventory inv = SampleInventory("a-1", "srv-01");
  InventoryReportResult first = MUST(store().ReportHostInventory("a-1", inv, kT0));
  EXPECT_TRUE(first.first);
  EXPECT_THAT(first.changes, IsEmpty());

  HostInventoryRecord got = MUST(store().GetHostInventory("a-1"));
  EXPECT_EQ(got.inventory, inv);
  EXPECT_EQ(got.unit_id, accounts::kCentreUnitId);  // never assigned
  EXPECT_EQ(got.reported_at_ms, kT0);
  EXPECT_EQ(got.changed_at_ms, kT0);

  // The same again (a day later, freshly collected): only reported_at moves, no history row.
  inv.collected_at_ms = kT0 + 86'400'000;
  InventoryReportResult same = MUST(store().ReportHostInventory("a-1", inv, kT0 + 86'400'000));
  EXPECT_FALSE(same.first);
  EXPECT_THAT(same.changes, IsEmpty());
  got = MUST(store().GetHostInventory("a-1"));
  EXPECT_EQ(got.reported_at_ms, kT0 + 86'400'000);
  EXPECT_EQ(got.changed_at_ms, kT0);

  // A disk swapped, one added, memory upgraded.
  inv.disks[1].serial = "ZC1NEW00";
  inv.disks.push_back(protocol::DiskInfo{"sdc", 1'000'000, "Spare", "", "SPARE1", "", false});
  inv.memory_bytes *= 2;
  InventoryReportResult changed = MUST(store().ReportHostInventory("a-1", inv, kT0 + 90'000'000));
  EXPECT_THAT(Fields(changed.changes), ElementsAre("memory_bytes", "disks[sdb].serial", "disks[sdc]"));
  EXPECT_EQ(ChangeText(changed.changes[1]), "disks[sdb].serial: ZC1FGHIJ -> ZC1NEW00");
  EXPECT_EQ(changed.changes[2].from, "");
  EXPECT_EQ(MUST(store().GetHostInventory("a-1")).changed_at_ms, kT0 + 90'000'000);

  InventoryHistoryPage history = MUST(store().HostInventoryHistory("a-1", 10, 0));
  ASSERT_EQ(history.total, 2);
  ASSERT_EQ(history.items.size(), 2u);
  EXPECT_EQ(history.items[0].reported_at_ms, kT0 + 90'000'000);  // newest first
  EXPECT_FALSE(history.items[0].first);
  EXPECT_EQ(history.items[0].changes, changed.changes);
  EXPECT_TRUE(history.items[1].first);
  EXPECT_EQ(history.items[1].reported_at_ms, kT0);

  // Agent reports are not user actions: no audit record.
  EXPECT_THAT(Events(), IsEmpty());
}

TEST_P(InventoryStoreConformanceTest, ReportErrorsAndUnknownHosts) {
  ExpectFieldError(store().ReportHostInventory("a-2", SampleInventory("a-1", "x"), kT0).status(),
                   StatusCode::kInvalidArgument, "agent_id");
  ExpectFieldError(store().ReportHostInventory("", SampleInventory("", "x"), kT0).status(),
                   StatusCode::kInvalidArgument, "agent_id");
  EXPECT_EQ(store().GetHostInventory("a-1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().HostInventoryHistory("a-1", 10, 0).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store().ReportHostInventory("a-1", SampleInventory("a-1", "x"), kT0).ok());
  ExpectFieldError(store().HostInventoryHistory("a-1", 0, 0).status(), StatusCode::kInvalidArgument, "limit");
  ExpectFieldError(store().HostInventoryHistory("a-1", 10, -1).status(), StatusCode::kInvalidArgument, "offset");
}

TEST_P(InventoryStoreConformanceTest, HistoryKeepsTheNewestRowsPerHost) {
  ASSERT_TRUE(store().ReportHostInventory("other", SampleInventory("other", "other"), kT0).ok());
  protocol::HostInventory inv = SampleInventory("a-1", "srv-01");
  const int reports = static_cast<int>(kMaxHistoryPerHost) + 5;
  for (int i = 0; i < reports; ++i) {
    inv.host.kernel = "6.1." + std::to_string(i);
    ASSERT_TRUE(store().ReportHostInventory("a-1", inv, kT0 + i).ok());
  }
  InventoryHistoryPage page = MUST(store().HostInventoryHistory("a-1", 1000, 0));
  EXPECT_EQ(page.total, kMaxHistoryPerHost);
  ASSERT_EQ(page.items.size(), static_cast<size_t>(kMaxHistoryPerHost));
  EXPECT_EQ(page.items.front().reported_at_ms, kT0 + reports - 1);
  EXPECT_EQ(page.items.back().reported_at_ms, kT0 + reports - static_cast<int>(kMaxHistoryPerHost));
  ASSERT_EQ(page.items.front().changes.size(), 1u);
  EXPECT_EQ(ChangeText(page.items.front().changes[0]),
            "host.kernel: 6.1." + std::to_string(reports - 2) + " -> 6.1." + std::to_string(reports - 1));
  // Paging.
  InventoryHistoryPage second = MUST(store().HostInventoryHistory("a-1", 2, 1));
  ASSERT_EQ(second.items.size(), 2u);
  EXPECT_EQ(second.items[0].id, page.items[1].id);
  // The other host's history is its own.
  EXPECT_EQ(MUST(store().HostInventoryHistory("other", 10, 0)).total, 1);
}

TEST_P(InventoryStoreConformanceTest, HostListFiltersByUnitTextAndOs) {
  const int64_t a = harness_->AddUnit("unit-a");
  const int64_t b = harness_->AddUnit("unit-b");
  protocol::HostInventory web = SampleInventory("a-web", "web-01");
  protocol::HostInventory db = SampleInventory("a-db", "db-01");
  db.host.os = "Rocky Linux 9.3 (Blue Onyx)";
  db.disks[0].serial = "WD-DBDISK1";
  protocol::HostInventory spare = SampleInventory("a-spare", "spare-01");
  spare.dmi.product_serial = "";
  spare.dmi.chassis_serial = "CHASSIS9";
  for (const auto* inv : {&web, &db, &spare}) ASSERT_TRUE(store().ReportHostInventory(inv->agent_id, *inv, kT0).ok());
  harness_->AssignHost("a-web", a);
  harness_->AssignHost("a-db", b);

  HostInventoryQuery all;
  HostInventoryPage page = MUST(store().ListHostInventories(all));
  EXPECT_EQ(page.total, 3);
  EXPECT_THAT(AgentIds(page), ElementsAre("a-db", "a-spare", "a-web"));  // by hostname
  const HostInventorySummary& row = page.items[0];
  EXPECT_EQ(row.unit_id, b);
  EXPECT_EQ(row.hostname, "db-01");
  EXPECT_EQ(row.cpu_count, 24);
  EXPECT_EQ(row.vendor, "Dell Inc.");
  EXPECT_EQ(row.product, "PowerEdge R740");
  EXPECT_EQ(row.serial, "SN-db-01");
  EXPECT_EQ(row.disk_count, 2);
  EXPECT_EQ(row.disk_bytes, 2 * int64_t{4'000'787'030'016});
  EXPECT_EQ(page.items[1].serial, "CHASSIS9");  // no product serial: the chassis'
  EXPECT_EQ(page.items[1].unit_id, accounts::kCentreUnitId);

  HostInventoryQuery q;
  q.unit_ids = std::vector<int64_t>{a};
  EXPECT_THAT(AgentIds(MUST(store().ListHostInventories(q))), ElementsAre("a-web"));
  q.unit_ids = std::vector<int64_t>{accounts::kCentreUnitId};  // never assigned = the centre's
  EXPECT_THAT(AgentIds(MUST(store().ListHostInventories(q))), ElementsAre("a-spare"));
  q.unit_ids = std::vector<int64_t>{};
  EXPECT_EQ(MUST(store().ListHostInventories(q)).total, 0);

  HostInventoryQuery text;
  text.text = "wd-dbdisk";  // a disk's serial, any case
  EXPECT_THAT(AgentIds(MUST(store().ListHostInventories(text))), ElementsAre("a-db"));
  text.text = "SN-WEB";
  EXPECT_THAT(AgentIds(MUST(store().ListHostInventories(text))), ElementsAre("a-web"));
  text.text = "100%_";  // LIKE wildcards are literal
  EXPECT_EQ(MUST(store().ListHostInventories(text)).total, 0);
  HostInventoryQuery os;
  os.os = "rocky";
  EXPECT_THAT(AgentIds(MUST(store().ListHostInventories(os))), ElementsAre("a-db"));

  HostInventoryQuery paged;
  paged.limit = 1;
  paged.offset = 1;
  HostInventoryPage p = MUST(store().ListHostInventories(paged));
  EXPECT_EQ(p.total, 3);
  EXPECT_THAT(AgentIds(p), ElementsAre("a-spare"));
  paged.limit = kMaxPageSize + 1;
  ExpectFieldError(store().ListHostInventories(paged).status(), StatusCode::kInvalidArgument, "limit");
}

// ---- equipment

TEST_P(InventoryStoreConformanceTest, CreateRecordsTheFirstAllocationAndTheAuditInOneGo) {
  const int64_t a = harness_->AddUnit("unit-a");
  Equipment spec = SampleEquipment("UPS-1", a, "AS1234");
  spec.notes = "Battery replaced 2025-06.\nNext check in 2027.";
  Equipment created = MUST(store().CreateEquipment(AdminActor(kT0 + 1), spec));
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.created_at_ms, kT0 + 1);
  EXPECT_EQ(created.updated_at_ms, kT0 + 1);
  Equipment got = MUST(store().GetEquipment(created.id));
  EXPECT_EQ(got.name, "UPS-1");
  EXPECT_EQ(got.type, EquipmentType::kUps);
  EXPECT_EQ(got.serial, "AS1234");
  EXPECT_EQ(got.location, spec.location);
  EXPECT_EQ(got.unit_id, a);
  EXPECT_EQ(got.status, EquipmentStatus::kInService);
  EXPECT_EQ(got.notes, spec.notes);

  AllocationPage allocations = MUST(store().ListAllocations(created.id, 10, 0));
  ASSERT_EQ(allocations.total, 1);
  EXPECT_FALSE(allocations.items[0].from_unit_id.has_value());
  EXPECT_EQ(allocations.items[0].to_unit_id, a);
  EXPECT_EQ(allocations.items[0].reason, kRegistrationReason);
  EXPECT_EQ(allocations.items[0].actor_name, "root");

  std::vector<audit::AuditEvent> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].action, "equipment.create");
  EXPECT_EQ(events[0].object_type, "equipment");
  EXPECT_EQ(events[0].object_id, std::to_string(created.id));
  EXPECT_EQ(events[0].time_ms, kT0 + 1);
  EXPECT_EQ(Summary(events[0])["after"]["serial"], "AS1234");
  EXPECT_EQ(Summary(events[0])["after"]["location"]["u_position"], 1);

  EXPECT_EQ(store().GetEquipment(created.id + 100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().ListAllocations(created.id + 100, 10, 0).status().code(), StatusCode::kNotFound);
}

TEST_P(InventoryStoreConformanceTest, ValidationNamesTheFieldAndStoresNothing) {
  const int64_t a = harness_->AddUnit("unit-a");
  ASSERT_TRUE(store().CreateEquipment(AdminActor(), SampleEquipment("UPS-1", a, "AS1234")).ok());
  const size_t events_before = Events().size();
  struct Case {
    std::function<void(Equipment&)> edit;
    StatusCode code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](Equipment& e) { e.name = ""; }, StatusCode::kInvalidArgument, "name"},
      {[](Equipment& e) { e.name = "   "; }, StatusCode::kInvalidArgument, "name"},
      {[](Equipment& e) { e.name = std::string(101, 'x'); }, StatusCode::kInvalidArgument, "name"},
      {[](Equipment& e) { e.vendor = "bad\x01"; }, StatusCode::kInvalidArgument, "vendor"},
      {[](Equipment& e) { e.model = "\xff"; }, StatusCode::kInvalidArgument, "model"},
      {[](Equipment& e) { e.serial = " AS1"; }, StatusCode::kInvalidArgument, "serial"},
      {[](Equipment& e) { e.serial = "AS1234"; }, StatusCode::kAlreadyExists, "serial"},
      {[](Equipment& e) { e.location.room = std::string(101, 'r'); }, StatusCode::kInvalidArgument, "location.room"},
      {[](Equipment& e) { e.location.rack = std::string(51, 'r'); }, StatusCode::kInvalidArgument, "location.rack"},
      {[](Equipment& e) { e.location.u_position = 0; }, StatusCode::kInvalidArgument, "location.u_position"},
      {[](Equipment& e) { e.location.u_position = 61; }, StatusCode::kInvalidArgument, "location.u_position"},
      {[](Equipment& e) { e.location.u_height = 0; }, StatusCode::kInvalidArgument, "location.u_height"},
      {[](Equipment& e) {
         e.location.u_position = 59;
         e.location.u_height = 3;
       },
       StatusCode::kInvalidArgument, "location.u_height"},
      {[](Equipment& e) { e.location.rack = ""; }, StatusCode::kInvalidArgument, "location.rack"},
      {[](Equipment& e) { e.unit_id = 999; }, StatusCode::kInvalidArgument, "unit_id"},
      {[](Equipment& e) { e.notes = std::string(2001, 'n'); }, StatusCode::kInvalidArgument, "notes"},
      {[](Equipment& e) { e.type = static_cast<EquipmentType>(99); }, StatusCode::kInvalidArgument, "type"},
      {[](Equipment& e) { e.status = static_cast<EquipmentStatus>(99); }, StatusCode::kInvalidArgument, "status"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i) + " (" + cases[i].field + ")");
    Equipment e = SampleEquipment("UPS-2", a);
    cases[i].edit(e);
    ExpectFieldError(store().CreateEquipment(AdminActor(), e).status(), cases[i].code, cases[i].field);
  }
  EXPECT_EQ(MUST(store().ListEquipment(EquipmentQuery{})).total, 1);
  EXPECT_EQ(Events().size(), events_before);
  // An empty serial is "unknown" and may repeat; without a U position the rack may be empty.
  Equipment no_serial = SampleEquipment("Sensor-1", a);
  no_serial.location = Location{"B1-101", "", std::nullopt, 1};
  EXPECT_TRUE(store().CreateEquipment(AdminActor(), no_serial).ok());
  no_serial.name = "Sensor-2";
  EXPECT_TRUE(store().CreateEquipment(AdminActor(), no_serial).ok());
}

TEST_P(InventoryStoreConformanceTest, UpdateChangesOnlyWhatIsGivenAndAuditsTheDifference) {
  const int64_t a = harness_->AddUnit("unit-a");
  const Equipment ups = MUST(store().CreateEquipment(AdminActor(), SampleEquipment("UPS-1", a, "AS1")));
  const Equipment other = MUST(store().CreateEquipment(AdminActor(), SampleEquipment("UPS-2", a, "AS2")));
  EquipmentUpdate u;
  u.status = EquipmentStatus::kMaintenance;
  u.u_position = std::optional<int64_t>();  // taken out of the rack
  u.notes = "sent for repair";
  Equipment updated = MUST(store().UpdateEquipment(AdminActor(kT0 + 9), ups.id, u));
  EXPECT_EQ(updated.status, EquipmentStatus::kMaintenance);
  EXPECT_FALSE(updated.location.u_position.has_value());
  EXPECT_EQ(updated.location.rack, "R1");
  EXPECT_EQ(updated.name, "UPS-1");
  EXPECT_EQ(updated.updated_at_ms, kT0 + 9);
  EXPECT_EQ(updated.created_at_ms, kT0);
  Equipment got = MUST(store().GetEquipment(ups.id));
  EXPECT_EQ(got.status, EquipmentStatus::kMaintenance);
  EXPECT_FALSE(got.location.u_position.has_value());
  EXPECT_EQ(got.updated_at_ms, kT0 + 9);

  const audit::AuditEvent last = Events().back();
  EXPECT_EQ(last.action, "equipment.update");
  nlohmann::json summary = Summary(last);
  EXPECT_EQ(summary["before"]["status"], "in_service");
  EXPECT_EQ(summary["after"]["status"], "maintenance");
  EXPECT_FALSE(summary["after"].contains("name"));

  EquipmentUpdate steal;
  steal.serial = "AS2";
  ExpectFieldError(store().UpdateEquipment(AdminActor(), ups.id, steal).status(), StatusCode::kAlreadyExists,
                   "serial");
  EquipmentUpdate keep;
  keep.serial = "AS2";
  EXPECT_TRUE(store().UpdateEquipment(AdminActor(), other.id, keep).ok());  // its own serial
  EquipmentUpdate bad;
  bad.u_height = 61;
  ExpectFieldError(store().UpdateEquipment(AdminActor(), ups.id, bad).status(), StatusCode::kInvalidArgument,
                   "location.u_height");
  EXPECT_EQ(store().UpdateEquipment(AdminActor(), 999, keep).status().code(), StatusCode::kNotFound);
}

TEST_P(InventoryStoreConformanceTest, AllocationMovesTheOwnerAndRecordsWhoWhenToWhomWhy) {
  const int64_t a = harness_->AddUnit("unit-a");
  const int64_t b = harness_->AddUnit("unit-b");
  const Equipment ups = MUST(store().CreateEquipment(AdminActor(), SampleEquipment("UPS-1", a)));
  Actor commander = AdminActor(kT0 + 60'000);
  commander.id = "7";
  commander.name = "duty-officer";
  Allocation moved = MUST(store().AllocateEquipment(commander, ups.id, b, "power loss in building B"));
  EXPECT_EQ(moved.from_unit_id, a);
  EXPECT_EQ(moved.to_unit_id, b);
  EXPECT_EQ(moved.actor_name, "duty-officer");
  EXPECT_EQ(moved.actor_id, "7");
  EXPECT_EQ(moved.at_ms, kT0 + 60'000);
  Equipment got = MUST(store().GetEquipment(ups.id));
  EXPECT_EQ(got.unit_id, b);
  EXPECT_EQ(got.updated_at_ms, kT0 + 60'000);

  AllocationPage history = MUST(store().ListAllocations(ups.id, 10, 0));
  ASSERT_EQ(history.total, 2);
  EXPECT_EQ(history.items[0].id, moved.id);  // newest first
  EXPECT_EQ(history.items[0].reason, "power loss in building B");
  EXPECT_EQ(history.items[0].from_unit_id, a);
  EXPECT_EQ(history.items[1].reason, kRegistrationReason);
  EXPECT_EQ(MUST(store().ListAllocations(ups.id, 1, 1)).items.at(0).reason, kRegistrationReason);

  const audit::AuditEvent last = Events().back();
  EXPECT_EQ(last.action, "equipment.allocate");
  EXPECT_EQ(last.actor_name, "duty-officer");
  nlohmann::json summary = Summary(last);
  EXPECT_EQ(summary["before"]["unit_id"], a);
  EXPECT_EQ(summary["after"]["unit_id"], b);
  EXPECT_EQ(summary["reason"], "power loss in building B");

  const size_t events = Events().size();
  ExpectFieldError(store().AllocateEquipment(commander, ups.id, b, "again").status(), StatusCode::kFailedPrecondition,
                   "unit_id");
  ExpectFieldError(store().AllocateEquipment(commander, ups.id, 999, "nowhere").status(), StatusCode::kInvalidArgument,
                   "unit_id");
  ExpectFieldError(store().AllocateEquipment(commander, ups.id, a, "").status(), StatusCode::kInvalidArgument,
                   "reason");
  ExpectFieldError(store().AllocateEquipment(commander, ups.id, a, std::string(501, 'r')).status(),
                   StatusCode::kInvalidArgument, "reason");
  EXPECT_EQ(store().AllocateEquipment(commander, 999, a, "why").status().code(), StatusCode::kNotFound);
  EquipmentUpdate retire;
  retire.status = EquipmentStatus::kRetired;
  ASSERT_TRUE(store().UpdateEquipment(commander, ups.id, retire).ok());
  ExpectFieldError(store().AllocateEquipment(commander, ups.id, a, "back").status(), StatusCode::kFailedPrecondition,
                   "status");
  EXPECT_EQ(Events().size(), events + 1);  // only the retirement
  EXPECT_EQ(MUST(store().ListAllocations(ups.id, 10, 0)).total, 2);
}

TEST_P(InventoryStoreConformanceTest, EquipmentListFiltersAndPages) {
  const int64_t a = harness_->AddUnit("unit-a");
  const int64_t b = harness_->AddUnit("unit-b");
  Equipment sw = SampleEquipment("Core switch", a, "FOC1234X");
  sw.type = EquipmentType::kSwitch;
  sw.vendor = "Cisco";
  Equipment ac = SampleEquipment("Aircon 2", b);
  ac.type = EquipmentType::kAirConditioning;
  ac.location = Location{"B2-201", "", std::nullopt, 1};
  ac.status = EquipmentStatus::kFaulty;
  Equipment ups = SampleEquipment("UPS-1", a, "AS1");
  for (const Equipment* e : {&sw, &ac, &ups}) ASSERT_TRUE(store().CreateEquipment(AdminActor(), *e).ok());

  EquipmentQuery all;
  EXPECT_THAT(Names(MUST(store().ListEquipment(all))), ElementsAre("Aircon 2", "Core switch", "UPS-1"));
  EquipmentQuery q;
  q.unit_ids = std::vector<int64_t>{a};
  EXPECT_THAT(Names(MUST(store().ListEquipment(q))), ElementsAre("Core switch", "UPS-1"));
  q = {};
  q.type = EquipmentType::kSwitch;
  EXPECT_THAT(Names(MUST(store().ListEquipment(q))), ElementsAre("Core switch"));
  q = {};
  q.status = EquipmentStatus::kFaulty;
  EXPECT_THAT(Names(MUST(store().ListEquipment(q))), ElementsAre("Aircon 2"));
  q = {};
  q.room = "B1-101";
  EXPECT_THAT(Names(MUST(store().ListEquipment(q))), ElementsAre("Core switch", "UPS-1"));
  q = {};
  q.text = "foc12";  // serial, any case
  EXPECT_THAT(Names(MUST(store().ListEquipment(q))), ElementsAre("Core switch"));
  q.text = "CISCO";
  EXPECT_THAT(Names(MUST(store().ListEquipment(q))), ElementsAre("Core switch"));
  q = {};
  q.limit = 2;
  q.offset = 2;
  EquipmentPage page = MUST(store().ListEquipment(q));
  EXPECT_EQ(page.total, 3);
  EXPECT_THAT(Names(page), ElementsAre("UPS-1"));
  q = {};
  q.unit_ids = std::vector<int64_t>{};
  EXPECT_EQ(MUST(store().ListEquipment(q)).total, 0);
  q = {};
  q.limit = 0;
  ExpectFieldError(store().ListEquipment(q).status(), StatusCode::kInvalidArgument, "limit");
  q = {};
  q.offset = -1;
  ExpectFieldError(store().ListEquipment(q).status(), StatusCode::kInvalidArgument, "offset");
}

}  // namespace
}  // namespace steadfast::collector::inventory::testing
