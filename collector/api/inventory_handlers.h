// InventoryHandlers: the asset register's endpoints (docs/ACCOUNTS.md, "Asset register").
//
//   PUT   /api/v1/inventory                      HostInventory (PROTOCOL.md)      agent token
//         -> 200 {"changed": bool, "first": bool}; 400 naming the field; 401 unknown token;
//         403 agent_id not the token's; 413 over 1 MiB; 415 Content-Encoding; 503 storage
//   GET   /api/v1/inventory/hosts?unit_id=&q=&os=&limit=&offset=                 read
//         -> {items, total, limit, offset}; hosts of the caller's units only (a host never
//         assigned to a unit is the centre's)
//   GET   /api/v1/hosts/{id}/inventory           current inventory                 read
//   GET   /api/v1/hosts/{id}/inventory/history?limit=&offset=  changes, newest first  read
//   GET   /api/v1/equipment?unit_id=&type=&status=&room=&q=&limit=&offset=        read
//         -> {items, total, limit, offset}, equipment of the caller's units only
//   POST  /api/v1/equipment                      {type, name, vendor?, model?, serial?,
//                                                 location?{room, rack, u_position, u_height},
//                                                 unit_id, status?, notes?} -> 201  manage_assets
//   GET   /api/v1/equipment/{id}                                                   read
//   PATCH /api/v1/equipment/{id}                 any of the above but unit_id       manage_assets
//   POST  /api/v1/equipment/{id}/allocations     {unit_id, reason} -> 201           manage_assets
//   GET   /api/v1/equipment/{id}/allocations?limit=&offset=   newest first          read
//
// Scope beyond the route table's guard (which checks the unit of {id}): a caller creates
// equipment only in, and allocates only to, a unit of their own scope (403 otherwise); an
// admin is centre-wide and allocates anywhere. Unknown body fields, wrong types and bad query
// parameters are 400 naming the field or parameter; unit_id in a PATCH is 400 (moving the owner
// is an allocation, which records why).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "collector/accounts/account_store.h"
#include "collector/api/route_table.h"
#include "collector/inventory/inventory_store.h"
#include "collector/store/storage.h"
#include "common/clock.h"

namespace steadfast::collector::api {

class InventoryHandlers {
 public:
  // `agents` authenticates agent tokens (as the report endpoint does). All must outlive this.
  InventoryHandlers(inventory::InventoryStore& store, accounts::AccountStore& accounts, Storage& agents,
                    const Clock& clock);

  // Adds every route above to `table` and registers the kEquipment resolver.
  void AddRoutes(RouteTable& table);

  http::HttpResponse PutInventory(const http::HttpRequest& request) const;
  http::HttpResponse ListHosts(const RequestContext& ctx) const;
  http::HttpResponse GetHostInventory(const RequestContext& ctx) const;
  http::HttpResponse HostInventoryHistory(const RequestContext& ctx) const;
  http::HttpResponse ListEquipment(const RequestContext& ctx) const;
  http::HttpResponse CreateEquipment(const RequestContext& ctx) const;
  http::HttpResponse GetEquipment(const RequestContext& ctx) const;
  http::HttpResponse UpdateEquipment(const RequestContext& ctx) const;
  http::HttpResponse Allocate(const RequestContext& ctx) const;
  http::HttpResponse ListAllocations(const RequestContext& ctx) const;

 private:
  // The units a list may show: nullopt for all; the caller's scope, narrowed to the subtree of
  // ?unit_id= when given. Fills `*error` (400 bad parameter, 403 out of scope) and returns false
  // on a bad request.
  bool ListScope(const RequestContext& ctx, std::optional<std::vector<int64_t>>* units,
                 http::HttpResponse* error) const;

  inventory::InventoryStore& store_;
  accounts::AccountStore& accounts_;
  Storage& agents_;
  const Clock& clock_;
};

nlohmann::json EquipmentToJson(const inventory::Equipment& equipment);
nlohmann::json AllocationToJson(const inventory::Allocation& allocation);

}  // namespace steadfast::collector::api
