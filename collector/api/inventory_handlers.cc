#include "collector/api/inventory_handlers.h"

#include <algorithm>
#include <utility>

#include "collector/api/api_util.h"
#include "collector/auth/tokens.h"
#include "common/logging.h"
#include "common/protocol/protocol.h"
#include "common/random.h"

namespace steadfast::collector::api {

namespace {

using accounts::Permission;
using accounts::Principal;
using http::HttpRequest;
using http::HttpResponse;
using inventory::Equipment;
using inventory::EquipmentStatus;
using inventory::EquipmentType;
using nlohmann::json;

// An inventory is a few KiB; even hundreds of disks stay far below this.
constexpr size_t kMaxInventoryBodyBytes = 1 << 20;
constexpr size_t kMaxAgentTokenBytes = 256;
constexpr int64_t kDefaultPageSize = 100;

// "ups, air_conditioning, ..." for error messages.
template <typename T, size_t N, typename NameFn>
std::string Choices(const T (&all)[N], NameFn name) {
  std::string out;
  for (const T& v : all) {
    if (!out.empty()) out += ", ";
    out += std::string(name(v));
  }
  return out;
}

bool ParseType(const std::string& text, const std::string& field, EquipmentType* out, HttpResponse* error) {
  std::optional<EquipmentType> t = inventory::ParseEquipmentType(text);
  if (!t) {
    *error = BadParam(field, "unknown type '" + text + "'; expected one of " +
                                 Choices(inventory::kAllEquipmentTypes, inventory::EquipmentTypeName));
    return false;
  }
  *out = *t;
  return true;
}

bool ParseStatus(const std::string& text, const std::string& field, EquipmentStatus* out, HttpResponse* error) {
  std::optional<EquipmentStatus> s = inventory::ParseEquipmentStatus(text);
  if (!s) {
    *error = BadParam(field, "unknown status '" + text + "'; expected one of " +
                                 Choices(inventory::kAllEquipmentStatuses, inventory::EquipmentStatusName));
    return false;
  }
  *out = *s;
  return true;
}

// The members of the "location" object of a body. u_position may be null (no position, or in
// a PATCH: clear it).
struct LocationFields {
  std::optional<std::string> room;
  std::optional<std::string> rack;
  std::optional<std::optional<int64_t>> u_position;
  std::optional<int64_t> u_height;
};

bool ParseLocation(const json& body, LocationFields* out, HttpResponse* error) {
  auto it = body.find("location");
  if (it == body.end()) return true;
  if (!it->is_object()) {
    *error = BadParam("location", "expected an object {room, rack, u_position, u_height}");
    return false;
  }
  for (auto m = it->begin(); m != it->end(); ++m) {
    const std::string field = "location." + m.key();
    if (m.key() == "room" || m.key() == "rack") {
      if (!m->is_string()) {
        *error = BadParam(field, "expected a string");
        return false;
      }
      (m.key() == "room" ? out->room : out->rack) = m->get<std::string>();
    } else if (m.key() == "u_position") {
      if (m->is_null()) {
        out->u_position = std::optional<int64_t>();
      } else if (m->is_number_integer()) {
        out->u_position = std::optional<int64_t>(m->get<int64_t>());
      } else {
        *error = BadParam(field, "expected an integer (1.." + std::to_string(inventory::kMaxRackUnits) + ") or null");
        return false;
      }
    } else if (m.key() == "u_height") {
      if (!m->is_number_integer()) {
        *error = BadParam(field, "expected an integer (1.." + std::to_string(inventory::kMaxRackUnits) + ")");
        return false;
      }
      out->u_height = m->get<int64_t>();
    } else {
      *error = BadParam(field, "unknown field");
      return false;
    }
  }
  return true;
}

// The equipment fields of a POST or PATCH body (unit_id apart).
struct EquipmentFields {
  std::optional<EquipmentType> type;
  std::optional<std::string> name, vendor, model, serial, notes;
  std::optional<EquipmentStatus> status;
  LocationFields location;
};

bool ParseEquipmentFields(const json& body, EquipmentFields* out, HttpResponse* error) {
  std::optional<std::string> type, status;
  if (!GetString(body, "type", &type, error) || !GetString(body, "name", &out->name, error) ||
      !GetString(body, "vendor", &out->vendor, error) || !GetString(body, "model", &out->model, error) ||
      !GetString(body, "serial", &out->serial, error) || !GetString(body, "status", &status, error) ||
      !GetString(body, "notes", &out->notes, error) || !ParseLocation(body, &out->location, error)) {
    return false;
  }
  if (type) {
    EquipmentType t{};
    if (!ParseType(*type, "type", &t, error)) return false;
    out->type = t;
  }
  if (status) {
    EquipmentStatus s{};
    if (!ParseStatus(*status, "status", &s, error)) return false;
    out->status = s;
  }
  return true;
}

// The {id} of the path; 0 (no such object) when it is not a positive integer.
int64_t IdParam(const RequestContext& ctx) {
  int64_t id = 0;
  return ParsePositiveId(PathParam(ctx.request, "id"), &id) ? id : 0;
}

bool PageParams(const HttpRequest& request, int64_t* limit, int64_t* offset, HttpResponse* error) {
  std::optional<int64_t> l = IntParam(request, "limit", kDefaultPageSize, 1, inventory::kMaxPageSize, error);
  if (!l) return false;
  std::optional<int64_t> o = IntParam(request, "offset", 0, 0, INT64_MAX, error);
  if (!o) return false;
  *limit = *l;
  *offset = *o;
  return true;
}

json Page(json items, int64_t total, int64_t limit, int64_t offset) {
  return json{{"items", std::move(items)}, {"total", total}, {"limit", limit}, {"offset", offset}};
}

json ChangeToJson(const inventory::InventoryChange& c) {
  return json{{"field", c.field}, {"from", c.from}, {"to", c.to}, {"text", inventory::ChangeText(c)}};
}

json SummaryToJson(const inventory::HostInventorySummary& h) {
  return json{{"id", h.agent_id},
              {"unit_id", h.unit_id},
              {"hostname", h.hostname},
              {"os", h.os},
              {"kernel", h.kernel},
              {"arch", h.arch},
              {"cpu_model", h.cpu_model},
              {"cpu_count", h.cpu_count},
              {"memory_bytes", h.memory_bytes},
              {"vendor", h.vendor},
              {"product", h.product},
              {"serial", h.serial},
              {"disk_count", h.disk_count},
              {"disk_bytes", h.disk_bytes},
              {"collected_at", TimeOrNull(h.collected_at_ms)},
              {"reported_at", TimeOrNull(h.reported_at_ms)},
              {"changed_at", TimeOrNull(h.changed_at_ms)}};
}

HttpResponse Unauthenticated(std::string message) {
  HttpResponse r = HttpResponse::Error(401, "unauthenticated", message);
  r.headers.Set("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace

json EquipmentToJson(const Equipment& e) {
  const inventory::Location& l = e.location;
  return json{{"id", e.id},
              {"type", std::string(inventory::EquipmentTypeName(e.type))},
              {"name", e.name},
              {"vendor", e.vendor},
              {"model", e.model},
              {"serial", e.serial},
              {"location",
               {{"room", l.room},
                {"rack", l.rack},
                {"u_position", l.u_position ? json(*l.u_position) : json(nullptr)},
                {"u_height", l.u_height}}},
              {"unit_id", e.unit_id},
              {"status", std::string(inventory::EquipmentStatusName(e.status))},
              {"notes", e.notes},
              {"created_at", TimeOrNull(e.created_at_ms)},
              {"updated_at", TimeOrNull(e.updated_at_ms)}};
}

json AllocationToJson(const inventory::Allocation& a) {
  return json{{"id", a.id},
              {"equipment_id", a.equipment_id},
              {"from_unit_id", a.from_unit_id ? json(*a.from_unit_id) : json(nullptr)},
              {"to_unit_id", a.to_unit_id},
              {"actor", {{"type", a.actor_type}, {"id", a.actor_id}, {"name", a.actor_name}}},
              {"reason", a.reason},
              {"at", TimeOrNull(a.at_ms)}};
}

InventoryHandlers::InventoryHandlers(inventory::InventoryStore& store, accounts::AccountStore& accounts,
                                     Storage& agents, const Clock& clock)
    : store_(store), accounts_(accounts), agents_(agents), clock_(clock) {}

void InventoryHandlers::AddRoutes(RouteTable& t) {
  using P = Permission;
  auto bind = [this](HttpResponse (InventoryHandlers::*fn)(const RequestContext&) const) {
    return [this, fn](const RequestContext& ctx) { return (this->*fn)(ctx); };
  };
  t.SetResolver(ObjectKind::kEquipment, [this](const std::string& id) -> StatusOr<int64_t> {
    int64_t equipment_id = 0;
    if (!ParsePositiveId(id, &equipment_id)) return NotFoundError("no equipment " + id);
    SF_ASSIGN_OR_RETURN(Equipment e, store_.GetEquipment(equipment_id));
    return e.unit_id;
  });
  // Agents authenticate with their agent token, checked by PutInventory itself.
  t.Add({"PUT", "/api/v1/inventory", "inventory.report", std::nullopt, false, ObjectKind::kNone,
         [this](const RequestContext& ctx) { return PutInventory(ctx.request); }, /*agent_credentials=*/true});
  t.Add({"GET", "/api/v1/inventory/hosts", "inventory.hosts", P::kRead, false, ObjectKind::kNone,
         bind(&InventoryHandlers::ListHosts)});
  t.Add({"GET", "/api/v1/hosts/{id}/inventory", "hosts.inventory", P::kRead, false, ObjectKind::kHost,
         bind(&InventoryHandlers::GetHostInventory)});
  t.Add({"GET", "/api/v1/hosts/{id}/inventory/history", "hosts.inventory_history", P::kRead, false, ObjectKind::kHost,
         bind(&InventoryHandlers::HostInventoryHistory)});
  t.Add({"GET", "/api/v1/equipment", "equipment.list", P::kRead, false, ObjectKind::kNone,
         bind(&InventoryHandlers::ListEquipment)});
  t.Add({"POST", "/api/v1/equipment", "equipment.create", P::kManageAssets, false, ObjectKind::kNone,
         bind(&InventoryHandlers::CreateEquipment)});
  t.Add({"GET", "/api/v1/equipment/{id}", "equipment.get", P::kRead, false, ObjectKind::kEquipment,
         bind(&InventoryHandlers::GetEquipment)});
  t.Add({"PATCH", "/api/v1/equipment/{id}", "equipment.update", P::kManageAssets, false, ObjectKind::kEquipment,
         bind(&InventoryHandlers::UpdateEquipment)});
  t.Add({"POST", "/api/v1/equipment/{id}/allocations", "equipment.allocate", P::kManageAssets, false,
         ObjectKind::kEquipment, bind(&InventoryHandlers::Allocate)});
  t.Add({"GET", "/api/v1/equipment/{id}/allocations", "equipment.allocations", P::kRead, false,
         ObjectKind::kEquipment, bind(&InventoryHandlers::ListAllocations)});
}

// ---- from agents

HttpResponse InventoryHandlers::PutInventory(const HttpRequest& request) const {
  std::optional<std::string> header = request.headers.Get("Authorization");
  std::optional<std::string> token = header ? auth::BearerToken(*header) : std::nullopt;
  if (!token || token->empty() || token->size() > kMaxAgentTokenBytes) {
    return Unauthenticated("missing or malformed 'Authorization: Bearer' agent token");
  }
  if (request.body.size() > kMaxInventoryBodyBytes) {
    return HttpResponse::Error(413, "resource_exhausted",
                               "inventory larger than " + std::to_string(kMaxInventoryBodyBytes) + " bytes");
  }
  std::optional<std::string> encoding = request.headers.Get("Content-Encoding");
  if (encoding && !encoding->empty() && *encoding != "identity") {
    return HttpResponse::Error(415, "invalid_argument", "send the inventory uncompressed", "Content-Encoding");
  }
  StatusOr<AgentRecord> agent = agents_.FindAgentByTokenHash(Sha256Hex(*token));
  if (!agent.ok()) {
    if (agent.status().code() == StatusCode::kNotFound) {
      return Unauthenticated("unknown agent token; the agent must enrol again");
    }
    return ErrorResponse(UnavailableError(agent.status().message()));
  }
  StatusOr<protocol::HostInventory> inventory = protocol::DecodeHostInventory(request.body);
  if (!inventory.ok()) {
    SF_LOG_DEBUG("inventory: malformed document from agent {}: {}", agent->agent_id, inventory.status().message());
    return HttpResponse::Error(inventory.status(), protocol::FieldOf(inventory.status()));
  }
  if (inventory->agent_id != agent->agent_id) {
    return HttpResponse::Error(403, "permission_denied",
                               "agent_id '" + inventory->agent_id + "' does not belong to this token", "agent_id");
  }
  StatusOr<inventory::InventoryReportResult> result =
      store_.ReportHostInventory(agent->agent_id, *inventory, clock_.NowMillis());
  if (!result.ok()) return ErrorResponse(result.status());
  if (result->first) {
    SF_LOG_INFO("inventory: first inventory of agent {} ({})", agent->agent_id, inventory->host.hostname);
  } else if (!result->changes.empty()) {
    // The history keeps every change; the log line names the first few for whoever tails it.
    std::string what;
    for (size_t i = 0; i < result->changes.size() && i < 3; ++i) {
      if (i > 0) what += "; ";
      what += inventory::ChangeText(result->changes[i]);
    }
    if (result->changes.size() > 3) what += "; ...";
    SF_LOG_INFO("inventory: agent {} ({}) changed: {}", agent->agent_id, inventory->host.hostname, what);
  }
  return JsonResponse(200, json{{"first", result->first}, {"changed", result->first || !result->changes.empty()}});
}

// ---- host inventory

bool InventoryHandlers::ListScope(const RequestContext& ctx, std::optional<std::vector<int64_t>>* units,
                                  HttpResponse* error) const {
  const Principal& p = *ctx.principal;
  if (!p.centre_wide) *units = p.scope_unit_ids;
  std::optional<int64_t> unit = IntParam(ctx.request, "unit_id", 0, 0, INT64_MAX, error);
  if (!unit) return false;
  if (*unit == 0) return true;
  if (!p.InScope(*unit)) {
    *error = OutOfScope("unit " + std::to_string(*unit));
    return false;
  }
  StatusOr<std::vector<int64_t>> subtree = accounts_.SubtreeUnitIds(*unit);
  if (!subtree.ok()) {
    *error = subtree.status().code() == StatusCode::kNotFound ? BadParam("unit_id", "no such unit")
                                                              : ErrorResponse(subtree.status());
    return false;
  }
  *units = std::move(subtree).value();
  return true;
}

HttpResponse InventoryHandlers::ListHosts(const RequestContext& ctx) const {
  HttpResponse error;
  inventory::HostInventoryQuery q;
  if (!ListScope(ctx, &q.unit_ids, &error) || !PageParams(ctx.request, &q.limit, &q.offset, &error)) return error;
  q.text = OptionalParam(ctx.request, "q").value_or("");
  q.os = OptionalParam(ctx.request, "os").value_or("");
  StatusOr<inventory::HostInventoryPage> page = store_.ListHostInventories(q);
  if (!page.ok()) return ErrorResponse(page.status());
  json items = json::array();
  for (const inventory::HostInventorySummary& h : page->items) items.push_back(SummaryToJson(h));
  return JsonResponse(200, Page(std::move(items), page->total, q.limit, q.offset));
}

HttpResponse InventoryHandlers::GetHostInventory(const RequestContext& ctx) const {
  const std::string agent_id = PathParam(ctx.request, "id");
  StatusOr<inventory::HostInventoryRecord> record = store_.GetHostInventory(agent_id);
  if (!record.ok()) return ErrorResponse(record.status());
  return JsonResponse(200, json{{"id", agent_id},
                                {"unit_id", record->unit_id},
                                {"reported_at", TimeOrNull(record->reported_at_ms)},
                                {"changed_at", TimeOrNull(record->changed_at_ms)},
                                {"inventory", json::parse(protocol::EncodeHostInventory(record->inventory))}});
}

HttpResponse InventoryHandlers::HostInventoryHistory(const RequestContext& ctx) const {
  HttpResponse error;
  int64_t limit = 0, offset = 0;
  if (!PageParams(ctx.request, &limit, &offset, &error)) return error;
  StatusOr<inventory::InventoryHistoryPage> page =
      store_.HostInventoryHistory(PathParam(ctx.request, "id"), limit, offset);
  if (!page.ok()) return ErrorResponse(page.status());
  json items = json::array();
  for (const inventory::InventoryHistoryEntry& e : page->items) {
    json changes = json::array();
    for (const inventory::InventoryChange& c : e.changes) changes.push_back(ChangeToJson(c));
    items.push_back(json{{"id", e.id},
                         {"reported_at", TimeOrNull(e.reported_at_ms)},
                         {"first", e.first},
                         {"changes", std::move(changes)}});
  }
  return JsonResponse(200, Page(std::move(items), page->total, limit, offset));
}

// ---- equipment

HttpResponse InventoryHandlers::ListEquipment(const RequestContext& ctx) const {
  HttpResponse error;
  inventory::EquipmentQuery q;
  if (!ListScope(ctx, &q.unit_ids, &error) || !PageParams(ctx.request, &q.limit, &q.offset, &error)) return error;
  if (std::optional<std::string> type = OptionalParam(ctx.request, "type"); type && !type->empty()) {
    EquipmentType t{};
    if (!ParseType(*type, "type", &t, &error)) return error;
    q.type = t;
  }
  if (std::optional<std::string> status = OptionalParam(ctx.request, "status"); status && !status->empty()) {
    EquipmentStatus s{};
    if (!ParseStatus(*status, "status", &s, &error)) return error;
    q.status = s;
  }
  q.room = OptionalParam(ctx.request, "room").value_or("");
  q.text = OptionalParam(ctx.request, "q").value_or("");
  StatusOr<inventory::EquipmentPage> page = store_.ListEquipment(q);
  if (!page.ok()) return ErrorResponse(page.status());
  json items = json::array();
  for (const Equipment& e : page->items) items.push_back(EquipmentToJson(e));
  return JsonResponse(200, Page(std::move(items), page->total, q.limit, q.offset));
}

HttpResponse InventoryHandlers::CreateEquipment(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"type", "name", "vendor", "model", "serial", "location", "unit_id", "status", "notes"},
                        &error)) {
    return error;
  }
  EquipmentFields f;
  std::optional<int64_t> unit_id;
  if (!ParseEquipmentFields(*body, &f, &error) || !GetInt(*body, "unit_id", &unit_id, &error)) return error;
  if (!f.type) return BadParam("type", "required");
  if (!f.name) return BadParam("name", "required");
  if (!unit_id) return BadParam("unit_id", "required");
  if (!ctx.principal->InScope(*unit_id)) return OutOfScope("unit " + std::to_string(*unit_id));
  Equipment e;
  e.type = *f.type;
  e.name = *f.name;
  e.vendor = f.vendor.value_or("");
  e.model = f.model.value_or("");
  e.serial = f.serial.value_or("");
  e.location.room = f.location.room.value_or("");
  e.location.rack = f.location.rack.value_or("");
  if (f.location.u_position) e.location.u_position = *f.location.u_position;
  e.location.u_height = f.location.u_height.value_or(1);
  e.unit_id = *unit_id;
  e.status = f.status.value_or(EquipmentStatus::kInService);
  e.notes = f.notes.value_or("");
  StatusOr<Equipment> created = store_.CreateEquipment(ctx.actor, e);
  if (!created.ok()) return ErrorResponse(created.status());
  return JsonResponse(201, EquipmentToJson(*created));
}

HttpResponse InventoryHandlers::GetEquipment(const RequestContext& ctx) const {
  StatusOr<Equipment> e = store_.GetEquipment(IdParam(ctx));
  if (!e.ok()) return ErrorResponse(e.status());
  return JsonResponse(200, EquipmentToJson(*e));
}

HttpResponse InventoryHandlers::UpdateEquipment(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (body->contains("unit_id")) {
    return BadParam("unit_id", "the owner unit changes by allocation: POST /api/v1/equipment/{id}/allocations "
                               "{unit_id, reason}");
  }
  if (!CheckKnownFields(*body, {"type", "name", "vendor", "model", "serial", "location", "status", "notes"}, &error)) {
    return error;
  }
  EquipmentFields f;
  if (!ParseEquipmentFields(*body, &f, &error)) return error;
  inventory::EquipmentUpdate u;
  u.type = f.type;
  u.name = f.name;
  u.vendor = f.vendor;
  u.model = f.model;
  u.serial = f.serial;
  u.room = f.location.room;
  u.rack = f.location.rack;
  u.u_position = f.location.u_position;
  u.u_height = f.location.u_height;
  u.status = f.status;
  u.notes = f.notes;
  StatusOr<Equipment> updated = store_.UpdateEquipment(ctx.actor, IdParam(ctx), u);
  if (!updated.ok()) return ErrorResponse(updated.status());
  return JsonResponse(200, EquipmentToJson(*updated));
}

HttpResponse InventoryHandlers::Allocate(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"unit_id", "reason"}, &error)) return error;
  std::optional<int64_t> unit_id;
  std::optional<std::string> reason;
  if (!GetInt(*body, "unit_id", &unit_id, &error) || !GetString(*body, "reason", &reason, &error)) return error;
  if (!unit_id) return BadParam("unit_id", "required");
  if (!reason) return BadParam("reason", "required: say why the equipment moves");
  if (!ctx.principal->InScope(*unit_id)) return OutOfScope("unit " + std::to_string(*unit_id));
  const int64_t id = IdParam(ctx);
  StatusOr<inventory::Allocation> allocation = store_.AllocateEquipment(ctx.actor, id, *unit_id, *reason);
  if (!allocation.ok()) return ErrorResponse(allocation.status());
  StatusOr<Equipment> e = store_.GetEquipment(id);
  if (!e.ok()) return ErrorResponse(e.status());
  return JsonResponse(201, json{{"allocation", AllocationToJson(*allocation)}, {"equipment", EquipmentToJson(*e)}});
}

HttpResponse InventoryHandlers::ListAllocations(const RequestContext& ctx) const {
  HttpResponse error;
  int64_t limit = 0, offset = 0;
  if (!PageParams(ctx.request, &limit, &offset, &error)) return error;
  StatusOr<inventory::AllocationPage> page = store_.ListAllocations(IdParam(ctx), limit, offset);
  if (!page.ok()) return ErrorResponse(page.status());
  json items = json::array();
  for (const inventory::Allocation& a : page->items) items.push_back(AllocationToJson(a));
  return JsonResponse(200, Page(std::move(items), page->total, limit, offset));
}

}  // namespace steadfast::collector::api
