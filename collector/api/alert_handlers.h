// REST handlers for alerts (docs/ALERTING.md):
//   GET  /api/v1/alerts                    list, newest first: state (comma list), severity,
//                                          acknowledged, match (label matchers, repeatable),
//                                          before_id + limit (paging)
//   GET  /api/v1/alerts/{id}               one alert with its history (who did what, when)
//   POST /api/v1/alerts/{id}/acknowledge   {comment?, expires_in? ("2h") | expires_at? (RFC 3339)}
//   POST /api/v1/alerts/{id}/unacknowledge
//   POST /api/v1/alerts/{id}/comments      {comment}
//   POST /api/v1/alerts/{id}/assign        {assignee: username | ""}
//   POST   /api/v1/heartbeats/{name}       a heartbeat's ping: status=success (default) | start |
//                                          fail | an exit code 0-255; Authorization: Bearer
//                                          <the heartbeat's token> (not a person's credentials)
//   POST   /api/v2/alerts                  Alertmanager's API v2 (a JSON array of {labels,
//                                          annotations, startsAt, endsAt, generatorURL}), so
//                                          Prometheus can send its alerts here; `operate`
//   GET    /api/v1/alert-links/ack?f&u&e&s a signed one-click acknowledgement link (ack_links.h):
//   POST   (same)                          GET shows a confirmation page, its POST acknowledges
//                                          as the person the link was made for
//   GET    /api/v1/notifications           the outbox, newest first: state (pending, sent,
//                                          failed), receiver, before_id + limit; with each
//                                          entry's attempts and last error
//   POST   /api/v1/receivers/{name}/test   queues a test message to every integration of the
//                                          receiver (`operate`); see its outcome in notifications
//   GET    /api/v1/oncall                  who is on call now, or at=RFC 3339; schedule=NAME for one
//   GET    /api/v1/silences                include_ended=true for the history too
//   POST   /api/v1/silences                {matchers: ['host="db-1"', ...], comment, starts_at?,
//                                          ends_at? | duration?, weekly?: {days: "mon-fri",
//                                          start: "22:00", duration: "8h", time_zone: "Asia/Shanghai"}}
//   GET    /api/v1/silences/{id}
//   DELETE /api/v1/silences/{id}           ends it now (kept, with who ended it)
// Reading needs `read`, acting `operate`. An alert belongs to the unit of its agent_id label's
// host (the centre when it has none); callers see and act on the alerts of their units only. A
// caller who is not centre-wide may only make (and end) silences with an agent_id="..." matcher
// naming a host of their units, so a unit cannot silence another unit's alerts.
#pragma once

#include "alerting/alerting_config.h"
#include "collector/accounts/account_store.h"
#include "collector/alerts/alert_engine.h"
#include "collector/alerts/alert_store.h"
#include "collector/alerts/live_config.h"
#include "collector/alerts/outbox_sender.h"
#include "collector/api/api_util.h"
#include "collector/api/route_table.h"
#include "common/clock.h"

namespace steadfast::collector::api {

class AlertHandlers {
 public:
  // `config` (the alerting configuration in force) must outlive the handlers.
  AlertHandlers(alerts::SqliteAlertStore& store, accounts::AccountStore& accounts, const Clock& clock,
                const alerts::LiveAlertingConfig& config)
      : store_(store), accounts_(accounts), clock_(clock), config_(config) {}
  void AddRoutes(RouteTable& table);
  // The engine told of heartbeat pings (null when alerting is off: pings are still stored).
  void SetEngine(alerts::AlertEngine* engine) { engine_ = engine; }
  void SetAckLinks(const alerts::AckLinks* links) { links_ = links; }
  void SetSender(alerts::OutboxSender* sender) { sender_ = sender; }

 private:
  http::HttpResponse List(const RequestContext& ctx) const;
  http::HttpResponse Get(const RequestContext& ctx) const;
  http::HttpResponse Acknowledge(const RequestContext& ctx) const;
  http::HttpResponse Unacknowledge(const RequestContext& ctx) const;
  http::HttpResponse Comment(const RequestContext& ctx) const;
  http::HttpResponse Assign(const RequestContext& ctx) const;
  http::HttpResponse OnCall(const RequestContext& ctx) const;
  http::HttpResponse Ping(const RequestContext& ctx) const;
  http::HttpResponse PostAlertsV2(const RequestContext& ctx) const;
  http::HttpResponse AckLink(const RequestContext& ctx) const;
  http::HttpResponse ListNotifications(const RequestContext& ctx) const;
  http::HttpResponse TestReceiver(const RequestContext& ctx) const;
  http::HttpResponse ListSilences(const RequestContext& ctx) const;
  http::HttpResponse CreateSilence(const RequestContext& ctx) const;
  http::HttpResponse GetSilence(const RequestContext& ctx) const;
  http::HttpResponse ExpireSilence(const RequestContext& ctx) const;
  // Whether the caller may make or end a silence with these matchers (see above).
  bool SilenceInScope(const accounts::Principal& p, const std::vector<std::string>& matcher_texts) const;
  StatusOr<int64_t> UnitOf(const alerts::AlertRecord& alert) const;

  alerts::SqliteAlertStore& store_;
  accounts::AccountStore& accounts_;
  const Clock& clock_;
  const alerts::LiveAlertingConfig& config_;
  alerts::AlertEngine* engine_ = nullptr;
  const alerts::AckLinks* links_ = nullptr;
  alerts::OutboxSender* sender_ = nullptr;
};

// The caller as the alert store records them (an API token acts as its owner), with the
// audit event of `action`.
alerts::AlertActor AlertActorFor(const RequestContext& ctx, const std::string& action);

// The JSON of an alert, and of a silence, as the API shows them.
nlohmann::json AlertJson(const alerts::AlertRecord& alert, int64_t now_ms);
nlohmann::json SilenceJson(const alerts::SilenceRecord& silence, int64_t now_ms);

}  // namespace steadfast::collector::api
