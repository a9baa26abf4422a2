// The asset register through the running collector's routes (no sockets): agents' inventory
// reports, host inventory lists and history, equipment and allocations — validation naming the
// field, pagination, filters, scope, and what gets audited.
#include "collector/api/inventory_handlers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "collector/server.h"
#include "collector/testing/accounts_fixture.h"
#include "collector/testing/test_util.h"
#include "common/random.h"

namespace steadfast::collector::api {
namespace {

using accounts::Role;
using nlohmann::json;
using testutil::BrowserSession;
using testutil::Dispatch;
using testutil::ErrorCode;
using testutil::Login;

protocol::HostInventory Inventory(const std::string& agent_id, const std::string& hostname) {
  protocol::HostInventory inv;
  inv.agent_id = agent_id;
  inv.collected_at_ms = 1'789'999'990'000;
  inv.host = testutil::Host(hostname);
  inv.cpu_model = "Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz";
  inv.cpu_count = 24;
  inv.memory_bytes = int64_t{64} << 30;
  inv.disks = {protocol::DiskInfo{"sda", 4'000'787'030'016, "ST4000NM0035", "ATA", "ZC1-" + hostname, "", true}};
  inv.dmi.sys_vendor = "Dell Inc.";
  inv.dmi.product_name = "PowerEdge R740";
  inv.dmi.product_serial = "SN-" + hostname;
  return inv;
}

class InventoryHandlersTest : public testutil::InProcessCollectorTest {
 protected:
  void SetUp() override {
    StartCollector();
    if (HasFatalFailure()) return;
    auto a = testutil::AddUnit(*server_, "unit-a", accounts::kCentreUnitId);
    auto b = testutil::AddUnit(*server_, "unit-b", accounts::kCentreUnitId);
    ASSERT_TRUE(a.ok() && b.ok());
    unit_a_ = a->id;
    unit_b_ = b->id;
    auto dept = testutil::AddUnit(*server_, "dept-a1", unit_a_, accounts::UnitKind::kDepartment);
    ASSERT_TRUE(dept.ok());
    dept_a1_ = dept->id;
    for (const auto& [agent, unit] : {std::pair<std::string, int64_t>{"agent-a", unit_a_}, {"agent-b", unit_b_},
                                      {"agent-c", 0}}) {
      ASSERT_TRUE(testutil::EnrollAgent(*server_, agent, clock_.NowMillis(), unit).ok());
    }
    auto root = testutil::AddUser(*server_, "root", accounts::kCentreUnitId, {Role::kAdmin});
    auto ua = testutil::AddUser(*server_, "ua", unit_a_, {Role::kUnitAdmin});
    auto viewer = testutil::AddUser(*server_, "va", unit_a_, {Role::kViewer});
    ASSERT_TRUE(root.ok() && ua.ok() && viewer.ok());
    root_ = Login(*server_, "root");
    ua_ = Login(*server_, "ua");
    viewer_ = Login(*server_, "va");
    ASSERT_EQ(root_.status, 200);
    ASSERT_EQ(ua_.status, 200);
    ASSERT_EQ(viewer_.status, 200);
  }

  http::HttpResponse PutInventory(const std::string& body, const std::string& token) {
    return Dispatch(*server_, "PUT", "/api/v1/inventory", body, testutil::Bearer(token));
  }
  http::HttpResponse Report(const protocol::HostInventory& inv) {
    return PutInventory(protocol::EncodeHostInventory(inv), "tok-" + inv.agent_id);
  }
  http::HttpResponse Get(const std::string& path, const BrowserSession& s) {
    return Dispatch(*server_, "GET", path, "", s.Headers());
  }
  http::HttpResponse Post(const std::string& path, const json& body, const BrowserSession& s) {
    return Dispatch(*server_, "POST", path, body.dump(), s.Headers());
  }
  http::HttpResponse Patch(const std::string& path, const json& body, const BrowserSession& s) {
    return Dispatch(*server_, "PATCH", path, body.dump(), s.Headers());
  }
  static std::string Field(const http::HttpResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") && j["error"].contains("field") ? j["error"]["field"].get<std::string>()
                                                                                : "";
  }
  static json Body(const http::HttpResponse& r) { return json::parse(r.body, nullptr, false); }
  static std::vector<std::string> Ids(const json& page) {
    std::vector<std::string> out;
    for (const json& item : page["items"]) out.push_back(item["id"].is_string() ? item["id"].get<std::string>()
                                                                                 : item["id"].dump());
    return out;
  }

  json Ups(const std::string& name, int64_t unit_id, const std::string& serial = "") {
    return json{{"type", "ups"},
                {"name", name},
                {"vendor", "APC"},
                {"model", "SRT3000"},
                {"serial", serial},
                {"location", {{"room", "B1-101"}, {"rack", "R1"}, {"u_position", 1}, {"u_height", 2}}},
                {"unit_id", unit_id}};
  }
  int64_t CreateEquipment(const json& body, const BrowserSession& s) {
    http::HttpResponse r = Post("/api/v1/equipment", body, s);
    EXPECT_EQ(r.status, 201) << r.body;
    json j = Body(r);
    return j.is_object() && j.contains("id") ? j["id"].get<int64_t>() : 0;
  }

  int64_t unit_a_ = 0, unit_b_ = 0, dept_a1_ = 0;
  BrowserSession root_, ua_, viewer_;
};

// ---- agents' inventory

TEST_F(InventoryHandlersTest, AnAgentsInventoryIsKeptWithWhatChanged) {
  auto audit_count = [&] {
    audit::AuditQuery all;
    all.limit = 1000;
    auto records = server_->audit_log().Query(all);
    EXPECT_TRUE(records.ok());
    return records.ok() ? records->size() : 0u;
  };
  const size_t audited_before = audit_count();
  protocol::HostInventory inv = Inventory("agent-a", "srv-01");
  http::HttpResponse first = Report(inv);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Body(first), (json{{"first", true}, {"changed", true}}));

  http::HttpResponse got = Get("/api/v1/hosts/agent-a/inventory", viewer_);
  ASSERT_EQ(got.status, 200) << got.body;
  json doc = Body(got);
  EXPECT_EQ(doc["id"], "agent-a");
  EXPECT_EQ(doc["unit_id"], unit_a_);
  EXPECT_EQ(doc["inventory"]["dmi"]["product_serial"], "SN-srv-01");
  EXPECT_EQ(doc["inventory"]["disks"][0]["serial"], "ZC1-srv-01");
  EXPECT_EQ(doc["inventory"]["cpu"]["count"], 24);
  EXPECT_EQ(doc["reported_at"], FormatRfc3339Millis(clock_.NowMillis()));

  clock_.Advance(Millis(60'000));
  EXPECT_EQ(Body(Report(inv)), (json{{"first", false}, {"changed", false}}));
  inv.disks[0].serial = "ZC1-REPLACED";
  inv.memory_bytes *= 2;
  clock_.Advance(Millis(60'000));
  EXPECT_EQ(Body(Report(inv)), (json{{"first", false}, {"changed", true}}));

  http::HttpResponse history = Get("/api/v1/hosts/agent-a/inventory/history?limit=1", viewer_);
  ASSERT_EQ(history.status, 200) << history.body;
  json h = Body(history);
  EXPECT_EQ(h["total"], 2);
  EXPECT_EQ(h["limit"], 1);
  EXPECT_EQ(h["offset"], 0);
  ASSERT_EQ(h["items"].size(), 1u);
  EXPECT_EQ(h["items"][0]["first"], false);
  EXPECT_EQ(h["items"][0]["reported_at"], FormatRfc3339Millis(clock_.NowMillis()));
  ASSERT_EQ(h["items"][0]["changes"].size(), 2u);
  EXPECT_EQ(h["items"][0]["changes"][1]["text"], "disks[sda].serial: ZC1-srv-01 -> ZC1-REPLACED");
  EXPECT_EQ(h["items"][0]["changes"][0]["field"], "memory_bytes");
  json older = Body(Get("/api/v1/hosts/agent-a/inventory/history?offset=1", viewer_));
  EXPECT_EQ(older["items"][0]["first"], true);

  // Agent reports are not user actions: nothing in the audit log (the history has them).
  EXPECT_EQ(audit_count(), audited_before);

  // A host that never reported an inventory, and one that does not exist.
  EXPECT_EQ(Get("/api/v1/hosts/agent-c/inventory", root_).status, 404);
  EXPECT_EQ(Get("/api/v1/hosts/agent-c/inventory/history", root_).status, 404);
  EXPECT_EQ(Get("/api/v1/hosts/nobody/inventory", root_).status, 404);
}

TEST_F(InventoryHandlersTest, BadInventoryIsRefusedNamingTheFieldAndLosesNothingStored) {
  ASSERT_EQ(Report(Inventory("agent-a", "srv-01")).status, 200);
  json good = json::parse(protocol::EncodeHostInventory(Inventory("agent-a", "srv-02")));

  auto field_of_put = [&](json doc) {
    http::HttpResponse r = PutInventory(doc.dump(), "tok-agent-a");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(ErrorCode(r), "invalid_argument");
    return Field(r);
  };
  json bad = good;
  bad["disks"][0]["name"] = "";
  EXPECT_EQ(field_of_put(bad), "disks[0].name");
  bad = good;
  bad["disks"][0]["size_bytes"] = -1;
  EXPECT_EQ(field_of_put(bad), "disks[0].size_bytes");
  bad = good;
  bad["dmi"]["product_serial"] = std::string(300, 'x');
  EXPECT_EQ(field_of_put(bad), "dmi.product_serial");
  bad = good;
  bad["cpu"]["count"] = "many";
  EXPECT_EQ(field_of_put(bad), "cpu.count");
  bad = good;
  bad.erase("version");
  EXPECT_EQ(field_of_put(bad), "version");
  bad = good;
  bad["host"]["hostname"] = "";
  EXPECT_EQ(field_of_put(bad), "host.hostname");
  EXPECT_EQ(PutInventory("{not json", "tok-agent-a").status, 400);

  // Someone else's agent id, no or an unknown token, a compressed or huge body.
  bad = good;
  bad["agent_id"] = "agent-b";
  http::HttpResponse forged = PutInventory(bad.dump(), "tok-agent-a");
  EXPECT_EQ(forged.status, 403) << forged.body;
  EXPECT_EQ(Field(forged), "agent_id");
  EXPECT_EQ(PutInventory(good.dump(), "tok-nobody").status, 401);
  EXPECT_EQ(Dispatch(*server_, "PUT", "/api/v1/inventory", good.dump()).status, 401);
  http::Headers zstd = testutil::Bearer("tok-agent-a");
  zstd.Set("Content-Encoding", "zstd");
  EXPECT_EQ(Dispatch(*server_, "PUT", "/api/v1/inventory", good.dump(), zstd).status, 415);
  EXPECT_EQ(PutInventory(std::string(2 << 20, ' '), "tok-agent-a").status, 413);
  // A person's session or API token is not an agent's.
  EXPECT_EQ(Dispatch(*server_, "PUT", "/api/v1/inventory", good.dump(), root_.Headers()).status, 401);

  json stored = Body(Get("/api/v1/hosts/agent-a/inventory", root_));
  EXPECT_EQ(stored["inventory"]["host"]["hostname"], "srv-01");
  EXPECT_EQ(Body(Get("/api/v1/hosts/agent-a/inventory/history", root_))["total"], 1);
}

TEST_F(InventoryHandlersTest, HostListIsScopedFilteredAndPaged) {
  protocol::HostInventory c = Inventory("agent-c", "spare-01");
  c.host.os = "Rocky Linux 9.3 (Blue Onyx)";
  for (const protocol::HostInventory& inv : {Inventory("agent-a", "web-01"), Inventory("agent-b", "db-01"), c}) {
    ASSERT_EQ(Report(inv).status, 200);
  }
  json all = Body(Get("/api/v1/inventory/hosts", root_));
  EXPECT_EQ(all["total"], 3);
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"agent-b", "agent-c", "agent-a"}));  // by hostname
  EXPECT_EQ(all["items"][1]["unit_id"], accounts::kCentreUnitId);                    // never assigned
  EXPECT_EQ(all["items"][0]["serial"], "SN-db-01");
  EXPECT_EQ(all["items"][0]["memory_bytes"], int64_t{64} << 30);

  // A unit admin sees their unit's hosts only, and cannot ask for another unit's.
  json mine = Body(Get("/api/v1/inventory/hosts", ua_));
  EXPECT_EQ(Ids(mine), std::vector<std::string>{"agent-a"});
  EXPECT_EQ(mine["total"], 1);
  http::HttpResponse theirs = Get("/api/v1/inventory/hosts?unit_id=" + std::to_string(unit_b_), ua_);
  EXPECT_EQ(theirs.status, 403);
  EXPECT_EQ(Get("/api/v1/hosts/agent-b/inventory", ua_).status, 403);
  EXPECT_EQ(Get("/api/v1/hosts/agent-b/inventory/history", ua_).status, 403);

  EXPECT_EQ(Ids(Body(Get("/api/v1/inventory/hosts?unit_id=" + std::to_string(unit_b_), root_))),
            std::vector<std::string>{"agent-b"});
  EXPECT_EQ(Body(Get("/api/v1/inventory/hosts?unit_id=1", root_))["total"], 3);  // the centre's subtree
  EXPECT_EQ(Ids(Body(Get("/api/v1/inventory/hosts?os=rocky", root_))), std::vector<std::string>{"agent-c"});
  EXPECT_EQ(Ids(Body(Get("/api/v1/inventory/hosts?q=zc1-web", root_))), std::vector<std::string>{"agent-a"});
  json paged = Body(Get("/api/v1/inventory/hosts?limit=1&offset=2", root_));
  EXPECT_EQ(paged["total"], 3);
  EXPECT_EQ(paged["limit"], 1);
  EXPECT_EQ(paged["offset"], 2);
  EXPECT_EQ(Ids(paged), std::vector<std::string>{"agent-a"});

  for (const char* query : {"limit=0", "limit=1001", "limit=x", "offset=-1", "unit_id=abc"}) {
    http::HttpResponse r = Get(std::string("/api/v1/inventory/hosts?") + query, root_);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(Field(r), std::string(query).substr(0, std::string(query).find('='))) << query;
  }
  EXPECT_EQ(Field(Get("/api/v1/inventory/hosts?unit_id=999", root_)), "unit_id");
}

// ---- equipment

TEST_F(InventoryHandlersTest, EquipmentIsListedPagedAndFilteredWithinScope) {
  const int64_t ups = CreateEquipment(Ups("UPS-1", unit_a_, "AS1"), root_);
  json sw = Ups("Core switch", unit_a_, "FOC1");
  sw["type"] = "switch";
  sw["location"] = {{"room", "B1-102"}};
  const int64_t core = CreateEquipment(sw, root_);
  json ac = Ups("Aircon 2", unit_b_);
  ac["type"] = "air_conditioning";
  ac["status"] = "faulty";
  const int64_t aircon = CreateEquipment(ac, root_);
  ASSERT_TRUE(ups > 0 && core > 0 && aircon > 0);

  json created = Body(Get("/api/v1/equipment/" + std::to_string(ups), viewer_));
  EXPECT_EQ(created["type"], "ups");
  EXPECT_EQ(created["serial"], "AS1");
  EXPECT_EQ(created["location"], (json{{"room", "B1-101"}, {"rack", "R1"}, {"u_position", 1}, {"u_height", 2}}));
  EXPECT_EQ(created["status"], "in_service");
  EXPECT_EQ(created["unit_id"], unit_a_);

  json page = Body(Get("/api/v1/equipment?limit=2", root_));
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(page["limit"], 2);
  EXPECT_EQ(page["offset"], 0);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{std::to_string(aircon), std::to_string(core)}));  // by name
  EXPECT_EQ(Ids(Body(Get("/api/v1/equipment?limit=2&offset=2", root_))), std::vector<std::string>{std::to_string(ups)});
  EXPECT_EQ(Ids(Body(Get("/api/v1/equipment?type=switch", root_))), std::vector<std::string>{std::to_string(core)});
  EXPECT_EQ(Ids(Body(Get("/api/v1/equipment?status=faulty", root_))), std::vector<std::string>{std::to_string(aircon)});
  EXPECT_EQ(Ids(Body(Get("/api/v1/equipment?room=B1-102", root_))), std::vector<std::string>{std::to_string(core)});
  EXPECT_EQ(Ids(Body(Get("/api/v1/equipment?q=foc", root_))), std::vector<std::string>{std::to_string(core)});
  EXPECT_EQ(Body(Get("/api/v1/equipment?unit_id=" + std::to_string(unit_b_), root_))["total"], 1);

  // Scope: the viewer in unit A sees A's two; B's is refused by id.
  json seen = Body(Get("/api/v1/equipment", viewer_));
  EXPECT_EQ(seen["total"], 2);
  EXPECT_EQ(Get("/api/v1/equipment/" + std::to_string(aircon), viewer_).status, 403);
  EXPECT_EQ(Get("/api/v1/equipment/" + std::to_string(aircon), ua_).status, 403);
  EXPECT_EQ(Get("/api/v1/equipment/999", root_).status, 404);
  EXPECT_EQ(Get("/api/v1/equipment/x", root_).status, 404);

  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"type=toaster", "type"}, {"status=broken", "status"}, {"limit=0", "limit"}, {"limit=5000", "limit"},
           {"offset=-3", "offset"}, {"unit_id=-1", "unit_id"}}) {
    http::HttpResponse r = Get("/api/v1/equipment?" + query, root_);
    EXPECT_EQ(r.status, 400) << query << " " << r.body;
    EXPECT_EQ(Field(r), field) << query;
  }
  EXPECT_EQ(Get("/api/v1/equipment?unit_id=" + std::to_string(unit_b_), ua_).status, 403);
}

TEST_F(InventoryHandlersTest, ValidationErrorsNameTheFieldAndStoreNothing) {
  ASSERT_GT(CreateEquipment(Ups("UPS-1", unit_a_, "AS1"), root_), 0);
  auto field_of = [&](const json& body, int status = 400) {
    http::HttpResponse r = Post("/api/v1/equipment", body, root_);
    EXPECT_EQ(r.status, status) << body.dump() << " -> " << r.body;
    return Field(r);
  };
  json e = Ups("UPS-2", unit_a_);
  e["colour"] = "red";
  EXPECT_EQ(field_of(e), "colour");
  e = Ups("UPS-2", unit_a_);
  e["location"]["u_position"] = 61;
  EXPECT_EQ(field_of(e), "location.u_position");
  e = Ups("UPS-2", unit_a_);
  e["location"]["u_position"] = 60;
  EXPECT_EQ(field_of(e), "location.u_height");  // U60 + 2 high
  e = Ups("UPS-2", unit_a_);
  e["location"]["shelf"] = 3;
  EXPECT_EQ(field_of(e), "location.shelf");
  e = Ups("UPS-2", unit_a_);
  e["location"]["u_height"] = "2U";
  EXPECT_EQ(field_of(e), "location.u_height");
  e = Ups("UPS-2", unit_a_);
  e["location"] = "B1";
  EXPECT_EQ(field_of(e), "location");
  e = Ups("UPS-2", unit_a_);
  e.erase("type");
  EXPECT_EQ(field_of(e), "type");
  e = Ups("UPS-2", unit_a_);
  e["type"] = "toaster";
  EXPECT_EQ(field_of(e), "type");
  e = Ups("UPS-2", unit_a_);
  e["status"] = "lost";
  EXPECT_EQ(field_of(e), "status");
  e = Ups("UPS-2", unit_a_);
  e.erase("unit_id");
  EXPECT_EQ(field_of(e), "unit_id");
  e = Ups("UPS-2", 999);
  EXPECT_EQ(field_of(e), "unit_id");
  e = Ups("", unit_a_);
  EXPECT_EQ(field_of(e), "name");
  e = Ups("UPS-2", unit_a_, "AS1");
  EXPECT_EQ(field_of(e, 409), "serial");
  EXPECT_EQ(Body(Get("/api/v1/equipment", root_))["total"], 1);

  const std::string path = "/api/v1/equipment/" + Ids(Body(Get("/api/v1/equipment", root_)))[0];
  http::HttpResponse move = Patch(path, {{"unit_id", unit_b_}}, root_);
  EXPECT_EQ(move.status, 400);
  EXPECT_EQ(Field(move), "unit_id");
  EXPECT_EQ(Field(Patch(path, {{"location", {{"u_height", 0}}}}, root_)), "location.u_height");
  EXPECT_EQ(Field(Patch(path, {{"status", "gone"}}, root_)), "status");
  EXPECT_EQ(Field(Patch(path, {{"name", 5}}, root_)), "name");
  http::HttpResponse ok = Patch(path, {{"status", "maintenance"}, {"location", {{"u_position", nullptr}}}}, root_);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["status"], "maintenance");
  EXPECT_EQ(Body(ok)["location"]["u_position"], nullptr);
  EXPECT_EQ(Body(ok)["location"]["rack"], "R1");
  EXPECT_EQ(Body(ok)["unit_id"], unit_a_);
}

TEST_F(InventoryHandlersTest, UnitAdminsManageEquipmentOnlyInsideTheirUnits) {
  EXPECT_EQ(Post("/api/v1/equipment", Ups("UPS-B", unit_b_), ua_).status, 403);
  EXPECT_EQ(Post("/api/v1/equipment", Ups("UPS-A", unit_a_), viewer_).status, 403);  // no manage_assets
  const int64_t mine = CreateEquipment(Ups("UPS-A", unit_a_), ua_);
  const int64_t theirs = CreateEquipment(Ups("UPS-B", unit_b_), root_);
  const std::string mine_path = "/api/v1/equipment/" + std::to_string(mine);
  EXPECT_EQ(Patch(mine_path, {{"notes", "checked"}}, ua_).status, 200);
  EXPECT_EQ(Patch("/api/v1/equipment/" + std::to_string(theirs), {{"notes", "x"}}, ua_).status, 403);
  // Within their subtree yes; out of it no.
  EXPECT_EQ(Post(mine_path + "/allocations", {{"unit_id", dept_a1_}, {"reason", "moved to records room"}}, ua_).status,
            201);
  http::HttpResponse away = Post(mine_path + "/allocations", {{"unit_id", unit_b_}, {"reason", "lend"}}, ua_);
  EXPECT_EQ(away.status, 403) << away.body;
  EXPECT_EQ(ErrorCode(away), "permission_denied");
  EXPECT_EQ(Post("/api/v1/equipment/" + std::to_string(theirs) + "/allocations",
                 {{"unit_id", unit_a_}, {"reason", "take"}}, ua_)
                .status,
            403);
  EXPECT_EQ(Body(Get("/api/v1/equipment/" + std::to_string(mine), root_))["unit_id"], dept_a1_);
}

TEST_F(InventoryHandlersTest, AllocationsRecordWhoWhenToWhomWhyAndAreAudited) {
  const int64_t id = CreateEquipment(Ups("UPS-1", unit_a_, "AS1"), ua_);
  const std::string path = "/api/v1/equipment/" + std::to_string(id) + "/allocations";
  clock_.Advance(Millis(60'000));
  // The command centre reassigns it during an incident.
  http::HttpResponse moved =
      Post(path, {{"unit_id", unit_b_}, {"reason", "incident 42: building B on battery, needs a second UPS"}}, root_);
  ASSERT_EQ(moved.status, 201) << moved.body;
  json m = Body(moved);
  EXPECT_EQ(m["allocation"]["from_unit_id"], unit_a_);
  EXPECT_EQ(m["allocation"]["to_unit_id"], unit_b_);
  EXPECT_EQ(m["allocation"]["actor"]["name"], "root");
  EXPECT_EQ(m["allocation"]["actor"]["type"], "user");
  EXPECT_EQ(m["allocation"]["at"], FormatRfc3339Millis(clock_.NowMillis()));
  EXPECT_EQ(m["equipment"]["unit_id"], unit_b_);

  json list = Body(Get(path, root_));
  EXPECT_EQ(list["total"], 2);
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["items"][0]["reason"], "incident 42: building B on battery, needs a second UPS");  // newest first
  EXPECT_EQ(list["items"][1]["reason"], "registered");
  EXPECT_EQ(list["items"][1]["from_unit_id"], nullptr);
  EXPECT_EQ(list["items"][1]["actor"]["name"], "ua");
  EXPECT_EQ(Body(Get(path + "?limit=1&offset=1", root_))["items"][0]["reason"], "registered");

  // Now in unit B: unit A's people no longer see it.
  EXPECT_EQ(Get(path, ua_).status, 403);

  // The change and its audit record were written together.
  audit::AuditQuery q;
  q.action = "equipment.allocate";
  auto records = server_->audit_log().Query(q);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  const audit::AuditEvent& e = (*records)[0].event;
  EXPECT_EQ(e.actor_name, "root");
  EXPECT_EQ(e.object_type, "equipment");
  EXPECT_EQ(e.object_id, std::to_string(id));
  EXPECT_EQ(e.result, audit::AuditResult::kOk);
  json summary = json::parse(e.summary_json);
  EXPECT_EQ(summary["before"]["unit_id"], unit_a_);
  EXPECT_EQ(summary["after"]["unit_id"], unit_b_);
  EXPECT_EQ(summary["allocation_id"], m["allocation"]["id"]);
  q.action = "equipment.create";
  auto created = server_->audit_log().Query(q);
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->size(), 1u);
  EXPECT_EQ((*created)[0].event.actor_name, "ua");

  // Refusals name the field and leave the history alone.
  EXPECT_EQ(Field(Post(path, {{"unit_id", unit_a_}}, root_)), "reason");
  EXPECT_EQ(Field(Post(path, {{"unit_id", unit_a_}, {"reason", "   "}}, root_)), "reason");
  EXPECT_EQ(Field(Post(path, {{"unit_id", unit_a_}, {"reason", std::string(501, 'r')}}, root_)), "reason");
  EXPECT_EQ(Field(Post(path, {{"reason", "why"}}, root_)), "unit_id");
  EXPECT_EQ(Field(Post(path, {{"unit_id", 999}, {"reason", "why"}}, root_)), "unit_id");
  http::HttpResponse same = Post(path, {{"unit_id", unit_b_}, {"reason", "again"}}, root_);
  EXPECT_EQ(same.status, 422);  // failed_precondition
  EXPECT_EQ(Field(same), "unit_id");
  EXPECT_EQ(Field(Post(path, {{"unit_id", unit_a_}, {"reason", "x"}, {"when", "now"}}, root_)), "when");
  EXPECT_EQ(Body(Get(path, root_))["total"], 2);
  // Refused mutations are audited too, as errors.
  audit::AuditQuery failed;
  failed.action = "equipment.allocate";
  failed.result = audit::AuditResult::kError;
  auto errors = server_->audit_log().Query(failed);
  ASSERT_TRUE(errors.ok());
  EXPECT_EQ(errors->size(), 7u);
}

}  // namespace
}  // namespace steadfast::collector::api
