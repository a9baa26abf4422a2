#include "collector/api/alert_handlers.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "alerting/notify/webhook_payload.h"
#include "collector/api/api_util.h"
#include "collector/auth/tokens.h"
#include "common/random.h"

namespace steadfast::collector::api {
namespace {

using accounts::Permission;
using alerts::AlertRecord;
using alerts::AlertState;
using http::HttpResponse;
using nlohmann::json;

constexpr int64_t kMaxCommentBytes = 4096;
constexpr int64_t kMaxAckMs = 30LL * 86'400'000;

int64_t IdParam(const RequestContext& ctx) {
  int64_t id = 0;
  return ParsePositiveId(PathParam(ctx.request, "id"), &id) ? id : 0;
}

// `a="1",b=~"x,y"` (optionally in braces) -> matchers; commas inside quotes do not split.
StatusOr<std::vector<alerting::Matcher>> ParseMatchers(std::string text) {
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') text = text.substr(1, text.size() - 2);
  std::vector<alerting::Matcher> out;
  std::string part;
  bool quoted = false;
  auto flush = [&]() -> Status {
    size_t b = part.find_first_not_of(' ');
    if (b == std::string::npos) return part.empty() ? OkStatus() : InvalidArgumentError("an empty matcher");
    SF_ASSIGN_OR_RETURN(alerting::Matcher m, alerting::Matcher::Parse(part.substr(b)));
    out.push_back(std::move(m));
    part.clear();
    return OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && quoted && i + 1 < text.size()) {
      part += c;
      part += text[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      SF_RETURN_IF_ERROR(flush());
      continue;
    }
    part += c;
  }
  SF_RETURN_IF_ERROR(flush());
  return out;
}

constexpr const char* kDayNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string DaysText(unsigned days) {
  if (days == 0x7f) return "daily";
  std::string out;
  for (int d = 0; d < 7; ++d) {
    if ((days & (1u << d)) == 0) continue;
    if (!out.empty()) out += ",";
    out += kDayNames[d];
  }
  return out;
}

std::string MinuteText(int minute) {
  const int h = (minute / 60) % 24, m = minute % 60;
  return std::string{static_cast<char>('0' + h / 10), static_cast<char>('0' + h % 10), ':',
                     static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10)};
}

}  // namespace

json SilenceJson(const alerts::SilenceRecord& r, int64_t now_ms) {
  json weekly = nullptr;
  if (r.silence.weekly) {
    const alerting::WeeklyRecurrence& w = *r.silence.weekly;
    weekly = {{"days", DaysText(w.days)},
              {"start", MinuteText(w.start_minute)},
              {"duration_ms", w.duration_ms},
              {"time_zone", w.time_zone}};
  }
  std::string state = r.EndedAt(now_ms) ? "ended" : alerting::SilenceActiveAt(r.silence, now_ms) ? "active" : "pending";
  return {{"id", r.id},
          {"matchers", r.matcher_texts},
          {"starts_at", TimeOrNull(r.silence.starts_ms)},
          {"ends_at", TimeOrNull(r.silence.ends_ms)},
          {"weekly", std::move(weekly)},
          {"comment", r.silence.comment},
          {"created_by", r.silence.created_by},
          {"created_at", TimeOrNull(r.created_ms)},
          {"expired_by", r.expired_by.empty() ? json(nullptr) : json(r.expired_by)},
          {"state", state}};
}

json AlertJson(const AlertRecord& a, int64_t now_ms) {
  json ack = nullptr;
  if (!a.ack_by.empty()) {
    ack = {{"by", a.ack_by},
           {"at", TimeOrNull(a.ack_at_ms)},
           {"expires_at", TimeOrNull(a.ack_expires_ms)},
           {"comment", a.ack_comment},
           {"in_effect", a.AcknowledgedAt(now_ms)}};
  }
  return {{"id", a.id},
          {"fingerprint", a.fingerprint},
          {"rule", a.rule},
          {"state", alerts::AlertStateName(a.state)},
          {"severity", a.severity()},
          {"labels", a.labels},
          {"annotations", a.annotations},
          {"value", a.value},
          {"active_since", TimeOrNull(a.active_since_ms)},
          {"firing_since", TimeOrNull(a.firing_since_ms)},
          {"ended_at", TimeOrNull(a.ended_ms)},
          {"updated_at", TimeOrNull(a.updated_ms)},
          {"acknowledgement", std::move(ack)},
          {"assignee", a.assignee.empty() ? json(nullptr) : json(a.assignee)}};
}

StatusOr<int64_t> AlertHandlers::UnitOf(const AlertRecord& alert) const {
  auto it = alert.labels.find("agent_id");
  if (it == alert.labels.end() || it->second.empty()) return accounts::kCentreUnitId;
  return accounts_.HostUnit(it->second);
}

alerts::AlertActor AlertActorFor(const RequestContext& ctx, const std::string& action) {
  alerts::AlertActor a;
  a.name = ctx.principal != nullptr && ctx.principal->kind == accounts::Principal::Kind::kApiToken
               ? ctx.principal->owner_username
               : ctx.actor.name;
  a.audit = accounts::AuditEventFor(ctx.actor, action);
  return a;
}

void AlertHandlers::AddRoutes(RouteTable& t) {
  using P = Permission;
  auto bind = [this](HttpResponse (AlertHandlers::*fn)(const RequestContext&) const) {
    return [this, fn](const RequestContext& ctx) { return (this->*fn)(ctx); };
  };
  t.SetResolver(ObjectKind::kAlert, [this](const std::string& id) -> StatusOr<int64_t> {
    int64_t alert_id = 0;
    if (!ParsePositiveId(id, &alert_id)) return NotFoundError("no alert " + id);
    SF_ASSIGN_OR_RETURN(AlertRecord a, store_.Get(alert_id));
    return UnitOf(a);
  });
  t.Add({"GET", "/api/v1/alerts", "alerts.list", P::kRead, false, ObjectKind::kNone, bind(&AlertHandlers::List)});
  t.Add({"GET", "/api/v1/alerts/{id}", "alerts.get", P::kRead, false, ObjectKind::kAlert, bind(&AlertHandlers::Get)});
  t.Add({"POST", "/api/v1/alerts/{id}/acknowledge", "alerts.acknowledge", P::kOperate, false, ObjectKind::kAlert,
         bind(&AlertHandlers::Acknowledge)});
  t.Add({"POST", "/api/v1/alerts/{id}/unacknowledge", "alerts.unacknowledge", P::kOperate, false,
         ObjectKind::kAlert, bind(&AlertHandlers::Unacknowledge)});
  t.Add({"POST", "/api/v1/alerts/{id}/comments", "alerts.comment", P::kOperate, false, ObjectKind::kAlert,
         bind(&AlertHandlers::Comment)});
  t.Add({"POST", "/api/v1/alerts/{id}/assign", "alerts.assign", P::kOperate, false, ObjectKind::kAlert,
         bind(&AlertHandlers::Assign)});
  // A heartbeat's token, checked by Ping itself, opens this route; people's credentials do not.
  t.Add({"POST", "/api/v1/heartbeats/{id}", "heartbeats.ping", std::nullopt, false, ObjectKind::kNone,
         bind(&AlertHandlers::Ping), /*agent_credentials=*/true});
  // Public: the link's signature is the credential (ack_links.h).
  t.Add({"GET", "/api/v1/alert-links/ack", "alerts.ack_link_page", std::nullopt, false, ObjectKind::kNone,
         bind(&AlertHandlers::AckLink)});
  t.Add({"POST", "/api/v1/alert-links/ack", "alerts.acknowledge_link", std::nullopt, false, ObjectKind::kNone,
         bind(&AlertHandlers::AckLink)});
  t.Add({"GET", "/api/v1/notifications", "notifications.list", P::kRead, false, ObjectKind::kNone,
         bind(&AlertHandlers::ListNotifications)});
  t.Add({"POST", "/api/v1/receivers/{id}/test", "receivers.test", P::kOperate, false, ObjectKind::kNone,
         bind(&AlertHandlers::TestReceiver)});
  t.Add({"POST", "/api/v2/alerts", "alerts.post_v2", P::kOperate, false, ObjectKind::kNone,
         bind(&AlertHandlers::PostAlertsV2)});
  t.Add({"GET", "/api/v1/oncall", "oncall.get", P::kRead, false, ObjectKind::kNone, bind(&AlertHandlers::OnCall)});
  t.Add({"GET", "/api/v1/silences", "silences.list", P::kRead, false, ObjectKind::kNone,
         bind(&AlertHandlers::ListSilences)});
  t.Add({"POST", "/api/v1/silences", "silences.create", P::kOperate, false, ObjectKind::kNone,
         bind(&AlertHandlers::CreateSilence)});
  t.Add({"GET", "/api/v1/silences/{id}", "silences.get", P::kRead, false, ObjectKind::kNone,
         bind(&AlertHandlers::GetSilence)});
  t.Add({"DELETE", "/api/v1/silences/{id}", "silences.expire", P::kOperate, false, ObjectKind::kNone,
         bind(&AlertHandlers::ExpireSilence)});
}

bool AlertHandlers::SilenceInScope(const accounts::Principal& p, const std::vector<std::string>& texts) const {
  if (p.centre_wide) return true;
  for (const std::string& t : texts) {
    StatusOr<alerting::Matcher> m = alerting::Matcher::Parse(t);
    if (!m.ok() || m->name() != "agent_id" || m->op() != alerting::Matcher::Op::kEqual) continue;
    StatusOr<int64_t> unit = accounts_.HostUnit(m->value());
    if (unit.ok() && p.InScope(*unit)) return true;
  }
  return false;
}

HttpResponse AlertHandlers::Ping(const RequestContext& ctx) const {
  const std::string name = PathParam(ctx.request, "id");
  const std::shared_ptr<const alerting::AlertingConfig> config = config_.Get();
  const alerting::HeartbeatEntry* entry = nullptr;
  for (const alerting::HeartbeatEntry& h : config->heartbeats) {
    if (h.config.name == name) entry = &h;
  }
  std::optional<std::string> header = ctx.request.headers.Get("Authorization");
  std::string token;
  if (header && header->rfind("Bearer ", 0) == 0) token = header->substr(7);
  if (token.empty()) {
    return HttpResponse::Error(401, "unauthenticated", "missing 'Authorization: Bearer <heartbeat token>'");
  }
  // Unknown names and wrong tokens get the same answer, so names cannot be probed.
  const std::string hash = Sha256Hex(token);
  if (entry == nullptr || !auth::ConstantTimeEquals(hash, entry->token_sha256)) {
    return HttpResponse::Error(401, "unauthenticated", "unknown heartbeat or wrong token");
  }
  alerting::Ping ping;
  ping.at_ms = clock_.NowMillis();
  const std::string status = OptionalParam(ctx.request, "status").value_or("success");
  if (status == "success" || status.empty()) {
    ping.kind = alerting::PingKind::kSuccess;
  } else if (status == "start") {
    ping.kind = alerting::PingKind::kStart;
  } else if (status == "fail") {
    ping.kind = alerting::PingKind::kFail;
  } else {
    int64_t code = -1;
    if (!ParsePositiveId(status, &code) && status != "0") {
      return BadParam("status", "expected success, start, fail or an exit code 0-255");
    }
    if (status == "0") code = 0;
    if (code > 255) return BadParam("status", "an exit code is 0-255");
    ping.kind = alerting::PingKind::kExitCode;
    ping.exit_code = static_cast<int>(code);
  }
  Status stored = store_.RecordPing(name, ping, ctx.request.remote_address);
  if (!stored.ok()) return ErrorResponse(stored);
  if (engine_ != nullptr) engine_->ObservePing(name, ping);
  return JsonResponse(200, json{{"heartbeat", name}, {"recorded", status.empty() ? "success" : status}});
}

HttpResponse AlertHandlers::PostAlertsV2(const RequestContext& ctx) const {
  if (engine_ == nullptr) {
    return HttpResponse::Error(503, "unavailable", "alerting is not configured on this collector (no alerting: section)");
  }
  json body = json::parse(ctx.request.body, nullptr, false);
  if (body.is_discarded()) return BadParam("body", "not JSON");
  if (!body.is_array()) return BadParam("body", "expected a JSON array of alerts (Alertmanager API v2)");
  if (body.size() > 10'000) return BadParam("body", "more than 10000 alerts in one request");
  std::vector<alerts::AlertEngine::ExternalAlert> list;
  auto time_of = [](const json& a, const char* key, int64_t* out) {
    auto it = a.find(key);
    if (it == a.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    const std::string text = it->get<std::string>();
    if (text.empty() || text.rfind("0001-01-01", 0) == 0) return true;  // Go's zero time: unset
    StatusOr<int64_t> t = ParseRfc3339Millis(text);
    if (!t.ok()) return false;
    *out = *t;
    return true;
  };
  for (size_t i = 0; i < body.size(); ++i) {
    const json& a = body[i];
    const std::string at = "[" + std::to_string(i) + "]";
    if (!a.is_object()) return BadParam(at, "expected an alert object");
    alerts::AlertEngine::ExternalAlert x;
    for (const char* key : {"labels", "annotations"}) {
      auto it = a.find(key);
      if (it == a.end()) continue;
      if (!it->is_object()) return BadParam(at + "." + key, "expected an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) return BadParam(at + "." + key + "." + m.key(), "expected a string");
        if (!alerting::IsLabelName(m.key())) return BadParam(at + "." + key + "." + m.key(), "not a label name");
        (std::string(key) == "labels" ? x.labels : x.annotations)[m.key()] = m->get<std::string>();
      }
    }
    if (x.labels.empty()) return BadParam(at + ".labels", "at least one label pair required");
    if (!time_of(a, "startsAt", &x.starts_ms)) return BadParam(at + ".startsAt", "expected an RFC 3339 time");
    if (!time_of(a, "endsAt", &x.ends_ms)) return BadParam(at + ".endsAt", "expected an RFC 3339 time");
    if (auto g = a.find("generatorURL"); g != a.end() && g->is_string() && !g->get<std::string>().empty()) {
      x.annotations.emplace("generator_url", g->get<std::string>());
    }
    list.push_back(std::move(x));
  }
  engine_->ObserveExternal(list);
  http::HttpResponse ok;
  ok.status = 200;
  return ok;
}

namespace {

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

HttpResponse Page(int status, const std::string& title, const std::string& body_html) {
  HttpResponse r = HttpResponse::Text(
      status,
      "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>" +
          HtmlEscape(title) + "</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\"><h2>" +
          HtmlEscape(title) + "</h2>" + body_html + "</body></html>",
      "text/html; charset=utf-8");
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Referrer-Policy", "no-referrer");
  return r;
}

}  // namespace

HttpResponse AlertHandlers::AckLink(const RequestContext& ctx) const {
  const auto f = OptionalParam(ctx.request, "f"), u = OptionalParam(ctx.request, "u"),
             e = OptionalParam(ctx.request, "e"), sig = OptionalParam(ctx.request, "s");
  int64_t expires = 0;
  if (!f || !u || !e || !sig || f->empty() || u->empty() || !ParsePositiveId(*e, &expires)) {
    return Page(400, "Not an acknowledgement link", "<p>The link is incomplete. Open the alert in the console.</p>");
  }
  if (links_ == nullptr) return Page(503, "Acknowledgement links are off", "<p>Open the alert in the console.</p>");
  const int64_t now = clock_.NowMillis();
  Status valid = links_->Verify(*f, *u, expires, *sig, now);
  if (!valid.ok()) {
    return Page(valid.code() == StatusCode::kPermissionDenied ? 403 : 410, "Cannot acknowledge",
                "<p>" + HtmlEscape(valid.message()) + "</p>");
  }
  StatusOr<AlertRecord> alert = store_.GetActiveByFingerprint(*f);
  if (!alert.ok()) {
    return Page(alert.status().code() == StatusCode::kNotFound ? 410 : 503, "Nothing to acknowledge",
                "<p>" + HtmlEscape(alert.status().message()) + "</p>");
  }
  const std::string what = alert->rule + (alert->labels.count("host") ? " on " + alert->labels.at("host") : "");
  if (ctx.request.method == "GET") {
    if (alert->AcknowledgedAt(now)) {
      return Page(200, "Already acknowledged", "<p>" + HtmlEscape(what) + " was acknowledged by " +
                                                   HtmlEscape(alert->ack_by) + ".</p>");
    }
    // The form posts to this same URL (the query carries the signed fields).
    return Page(200, "Acknowledge " + what + "?",
                "<p>As <b>" + HtmlEscape(*u) + "</b>. This stops the escalation while you work on it.</p>"
                "<form method=\"post\"><button type=\"submit\" style=\"font-size:1.5em;padding:.5em 2em\">"
                "Acknowledge</button></form>");
  }
  StatusOr<accounts::User> user = accounts_.FindUserByUsername(*u);
  if (!user.ok() || !user->active) {
    return Page(403, "Cannot acknowledge", "<p>The account " + HtmlEscape(*u) + " does not exist or is deactivated.</p>");
  }
  accounts::Principal p;
  p.roles = user->roles;
  if (!p.Has(accounts::Permission::kOperate)) {
    return Page(403, "Cannot acknowledge",
                "<p>The account " + HtmlEscape(user->username) + " has no role that may acknowledge alerts.</p>");
  }
  accounts::Actor actor;
  actor.type = "user";
  actor.id = std::to_string(user->id);
  actor.name = user->username;
  actor.roles = accounts::RoleNames(user->roles);
  actor.unit_id = user->unit_id;
  actor.source_address = ctx.request.remote_address;
  actor.time_ms = now;
  alerts::AlertActor who;
  who.name = user->username;
  who.audit = accounts::AuditEventFor(actor, "alerts.acknowledge_link");
  StatusOr<AlertRecord> acked = store_.Acknowledge(alert->id, who, "acknowledged from a link in a notification", 0, now);
  if (!acked.ok()) return Page(409, "Cannot acknowledge", "<p>" + HtmlEscape(acked.status().message()) + "</p>");
  return Page(200, "Acknowledged", "<p>" + HtmlEscape(what) + " is acknowledged by " + HtmlEscape(user->username) +
                                       ". The escalation stops while it is.</p>");
}

HttpResponse AlertHandlers::ListNotifications(const RequestContext& ctx) const {
  HttpResponse error;
  const std::string state = OptionalParam(ctx.request, "state").value_or("");
  if (!state.empty() && state != "pending" && state != "sent" && state != "failed") {
    return BadParam("state", "expected pending, sent or failed");
  }
  std::optional<int64_t> limit = IntParam(ctx.request, "limit", 100, 1, 1000, &error);
  if (!limit) return error;
  std::optional<int64_t> before = IntParam(ctx.request, "before_id", 0, 0, INT64_MAX, &error);
  if (!before) return error;
  StatusOr<std::vector<alerts::OutboxEntry>> list =
      store_.ListOutbox(state, OptionalParam(ctx.request, "receiver").value_or(""), *before, *limit);
  if (!list.ok()) return ErrorResponse(list.status());
  json items = json::array();
  for (const alerts::OutboxEntry& e : *list) {
    json body = json::parse(e.body, nullptr, false);
    items.push_back({{"id", e.id},
                     {"receiver", e.receiver},
                     {"integration", e.integration},
                     {"group_key", e.group_key},
                     {"state", e.state},
                     {"attempts", e.attempts},
                     {"created_at", TimeOrNull(e.created_ms)},
                     {"next_attempt_at", e.state == "pending" ? TimeOrNull(e.next_attempt_ms) : json(nullptr)},
                     {"sent_at", TimeOrNull(e.sent_ms)},
                     {"last_error", e.last_error.empty() ? json(nullptr) : json(e.last_error)},
                     {"alerts", body.is_object() && body.contains("alerts") ? body["alerts"].size() : 0}});
  }
  const int64_t next = static_cast<int64_t>(list->size()) == *limit && !list->empty() ? list->back().id : 0;
  return JsonResponse(200, json{{"items", std::move(items)}, {"next_before_id", next == 0 ? json(nullptr) : json(next)}});
}

HttpResponse AlertHandlers::TestReceiver(const RequestContext& ctx) const {
  const std::string name = PathParam(ctx.request, "id");
  const std::shared_ptr<const alerting::AlertingConfig> config = config_.Get();
  const alerting::ReceiverConfig* receiver = config->FindReceiver(name);
  if (receiver == nullptr) return ErrorResponse(NotFoundError("no receiver '" + name + "'"));
  std::vector<std::string> integrations;
  for (const alerting::IntegrationRef& i : receiver->Integrations()) integrations.push_back(i.name);
  if (integrations.empty()) {
    return ErrorResponse(FailedPreconditionError("receiver '" + name + "' has no integrations to test"));
  }
  if (sender_ == nullptr) {
    return HttpResponse::Error(503, "unavailable", "alerting is not configured on this collector (no alerting: section)");
  }
  const int64_t now = clock_.NowMillis();
  const alerts::AlertActor actor = AlertActorFor(ctx, "receivers.test");
  alerting::WebhookGroup g;
  g.receiver = name;
  g.group_key = "test";
  g.group_labels = {{"alertname", "SteadfastTest"}};
  g.external_url = config->external_url;
  alerting::WebhookAlert a;
  a.alert.rule = "test";
  a.alert.labels = {{"alertname", "SteadfastTest"}, {"severity", "info"}, {"host", "steadfast"}};
  a.alert.annotations = {{"summary", "Test message sent by " + actor.name + "; no action needed"}};
  a.alert.fingerprint = alerting::Fingerprint(a.alert.labels);
  a.alert.active_since_ms = a.alert.firing_since_ms = now;
  g.alerts.push_back(a);
  const std::string body = alerting::WebhookBody(g);
  std::vector<alerts::OutboxEntry> entries;
  for (const std::string& integration : integrations) {
    alerts::OutboxEntry e;
    e.receiver = name;
    e.integration = integration;
    e.group_key = "test";
    e.dedup_key = "test/" + name + "/" + integration + "/" + std::to_string(now);
    e.body = body;
    e.created_ms = now;
    e.next_attempt_ms = now;
    entries.push_back(std::move(e));
  }
  Status queued = store_.QueueAudited(entries, actor, now);
  if (!queued.ok()) return ErrorResponse(queued);
  sender_->Wake();
  return JsonResponse(202, json{{"receiver", name}, {"queued", integrations}});
}

HttpResponse AlertHandlers::OnCall(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<int64_t> at = TimeParam(ctx.request, "at", clock_.NowMillis(), &error);
  if (!at) return error;
  std::optional<std::string> only = OptionalParam(ctx.request, "schedule");
  json items = json::array();
  const std::shared_ptr<const alerting::AlertingConfig> config = config_.Get();
  for (const alerting::Schedule& s : config->schedules) {
    if (only && !only->empty() && s.name != *only) continue;
    StatusOr<alerting::OnCall> who = alerting::OnCallAt(s, *at);
    if (!who.ok()) return ErrorResponse(who.status());
    items.push_back({{"schedule", s.name},
                     {"time_zone", s.time_zone},
                     {"user", who->user},
                     {"overridden", who->overridden},
                     {"shift_start", TimeOrNull(who->shift_start_ms)}});
  }
  if (only && !only->empty() && items.empty()) return BadParam("schedule", "no schedule named '" + *only + "'");
  return JsonResponse(200, json{{"at", TimeOrNull(*at)}, {"items", std::move(items)}});
}

HttpResponse AlertHandlers::ListSilences(const RequestContext& ctx) const {
  std::optional<std::string> all = OptionalParam(ctx.request, "include_ended");
  if (all && *all != "true" && *all != "false" && !all->empty()) return BadParam("include_ended", "expected true or false");
  const int64_t now = clock_.NowMillis();
  StatusOr<std::vector<alerts::SilenceRecord>> list = store_.ListSilences(all && *all == "true", now);
  if (!list.ok()) return ErrorResponse(list.status());
  json items = json::array();
  for (const alerts::SilenceRecord& r : *list) items.push_back(SilenceJson(r, now));
  return JsonResponse(200, json{{"items", std::move(items)}});
}

HttpResponse AlertHandlers::GetSilence(const RequestContext& ctx) const {
  StatusOr<alerts::SilenceRecord> r = store_.GetSilence(IdParam(ctx));
  if (!r.ok()) return ErrorResponse(r.status());
  return JsonResponse(200, SilenceJson(*r, clock_.NowMillis()));
}

HttpResponse AlertHandlers::CreateSilence(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"matchers", "comment", "starts_at", "ends_at", "duration", "weekly"}, &error)) {
    return error;
  }
  const int64_t now = clock_.NowMillis();
  alerting::Silence s;
  std::vector<std::string> texts;
  auto m = body->find("matchers");
  if (m == body->end() || !m->is_array() || m->empty()) {
    return BadParam("matchers", "required: a list of label matchers like host=\"db-1\"");
  }
  for (size_t i = 0; i < m->size(); ++i) {
    const std::string field = "matchers[" + std::to_string(i) + "]";
    if (!(*m)[i].is_string()) return BadParam(field, "expected a string");
    StatusOr<alerting::Matcher> parsed = alerting::Matcher::Parse((*m)[i].get<std::string>());
    if (!parsed.ok()) return BadParam(field, parsed.status().message());
    texts.push_back((*m)[i].get<std::string>());
    s.matchers.push_back(std::move(parsed).value());
  }
  std::optional<std::string> comment, starts_at, ends_at, duration;
  if (!GetString(*body, "comment", &comment, &error) || !GetString(*body, "starts_at", &starts_at, &error) ||
      !GetString(*body, "ends_at", &ends_at, &error) || !GetString(*body, "duration", &duration, &error)) {
    return error;
  }
  if (!comment || comment->empty()) return BadParam("comment", "required: why (the change ticket, the work)");
  if (static_cast<int64_t>(comment->size()) > kMaxCommentBytes) return BadParam("comment", "too long");
  s.comment = *comment;
  s.starts_ms = now;
  if (starts_at) {
    StatusOr<int64_t> t = ParseRfc3339Millis(*starts_at);
    if (!t.ok()) return BadParam("starts_at", "expected an RFC 3339 time");
    s.starts_ms = *t;
  }
  if (ends_at && duration) return BadParam("duration", "give ends_at or duration, not both");
  if (ends_at) {
    StatusOr<int64_t> t = ParseRfc3339Millis(*ends_at);
    if (!t.ok()) return BadParam("ends_at", "expected an RFC 3339 time");
    s.ends_ms = *t;
  } else if (duration) {
    StatusOr<int64_t> d = ParseDurationMillis(*duration);
    if (!d.ok() || *d <= 0) return BadParam("duration", "expected a positive duration like 2h");
    s.ends_ms = s.starts_ms + *d;
  }
  if (auto w = body->find("weekly"); w != body->end() && !w->is_null()) {
    if (!w->is_object()) return BadParam("weekly", "expected {days, start, duration, time_zone}");
    for (auto it = w->begin(); it != w->end(); ++it) {
      if (it.key() != "days" && it.key() != "start" && it.key() != "duration" && it.key() != "time_zone") {
        return BadParam("weekly." + it.key(), "unknown field");
      }
      if (!it->is_string()) return BadParam("weekly." + it.key(), "expected a string");
    }
    alerting::WeeklyRecurrence wr;
    StatusOr<unsigned> days = alerting::ParseWeekdays(w->value("days", std::string()));
    if (!days.ok()) return BadParam("weekly.days", days.status().message());
    wr.days = *days;
    StatusOr<int> start = alerting::ParseTimeOfDay(w->value("start", std::string()));
    if (!start.ok()) return BadParam("weekly.start", start.status().message());
    wr.start_minute = *start;
    StatusOr<int64_t> d = ParseDurationMillis(w->value("duration", std::string()));
    if (!d.ok()) return BadParam("weekly.duration", "expected a duration like 8h");
    wr.duration_ms = *d;
    wr.time_zone = w->value("time_zone", std::string());
    s.weekly = wr;
  } else if (s.ends_ms == 0) {
    return BadParam("ends_at", "a one-off silence needs ends_at or duration");
  }
  if (!SilenceInScope(*ctx.principal, texts)) {
    return OutOfScope("a silence without an agent_id=\"...\" matcher naming a host of your units");
  }
  s.created_by = AlertActorFor(ctx, "silences.create").name;
  StatusOr<alerts::SilenceRecord> r = store_.CreateSilence(s, texts, AlertActorFor(ctx, "silences.create"), now);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kInvalidArgument) {
      const std::string msg = r.status().message();
      const std::string field = s.weekly ? (msg.find("time zone") != std::string::npos ? "weekly.time_zone" : "weekly")
                                         : "ends_at";
      return BadParam(field, msg);
    }
    return ErrorResponse(r.status());
  }
  return JsonResponse(201, SilenceJson(*r, now));
}

HttpResponse AlertHandlers::ExpireSilence(const RequestContext& ctx) const {
  const int64_t now = clock_.NowMillis();
  StatusOr<alerts::SilenceRecord> existing = store_.GetSilence(IdParam(ctx));
  if (!existing.ok()) return ErrorResponse(existing.status());
  if (!SilenceInScope(*ctx.principal, existing->matcher_texts)) return OutOfScope("silence " + std::to_string(existing->id));
  StatusOr<alerts::SilenceRecord> r = store_.ExpireSilence(existing->id, AlertActorFor(ctx, "silences.expire"), now);
  if (!r.ok()) return ErrorResponse(r.status());
  return JsonResponse(200, SilenceJson(*r, now));
}

HttpResponse AlertHandlers::List(const RequestContext& ctx) const {
  HttpResponse error;
  alerts::AlertQuery q;
  q.now_ms = clock_.NowMillis();
  if (std::optional<std::string> states = OptionalParam(ctx.request, "state"); states && !states->empty()) {
    std::vector<AlertState> list;
    size_t start = 0;
    while (start <= states->size()) {
      size_t comma = states->find(',', start);
      const std::string name = states->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (name == "active") {
        list.push_back(AlertState::kPending);
        list.push_back(AlertState::kFiring);
      } else if (std::optional<AlertState> s = alerts::ParseAlertState(name)) {
        list.push_back(*s);
      } else {
        return BadParam("state", "unknown state '" + name + "'; expected pending, firing, resolved, cleared or active");
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    q.states = std::move(list);
  }
  if (std::optional<std::string> sev = OptionalParam(ctx.request, "severity"); sev && !sev->empty()) {
    if (*sev != "critical" && *sev != "major" && *sev != "warning" && *sev != "info") {
      return BadParam("severity", "unknown severity '" + *sev + "'; expected critical, major, warning or info");
    }
    q.severity = *sev;
  }
  if (std::optional<std::string> fp = OptionalParam(ctx.request, "fingerprint"); fp && !fp->empty()) {
    if (fp->size() > 64 || !std::all_of(fp->begin(), fp->end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
      return BadParam("fingerprint", "expected the alert's hexadecimal fingerprint");
    }
    q.fingerprint = *fp;
  }
  if (std::optional<std::string> ack = OptionalParam(ctx.request, "acknowledged"); ack && !ack->empty()) {
    if (*ack != "true" && *ack != "false") return BadParam("acknowledged", "expected true or false");
    q.acknowledged = *ack == "true";
  }
  if (std::optional<std::string> match = OptionalParam(ctx.request, "match"); match && !match->empty()) {
    StatusOr<std::vector<alerting::Matcher>> m = ParseMatchers(*match);
    if (!m.ok()) return BadParam("match", m.status().message());
    q.match = std::move(m).value();
  }
  std::optional<int64_t> limit = IntParam(ctx.request, "limit", 100, 1, 1000, &error);
  if (!limit) return error;
  std::optional<int64_t> before = IntParam(ctx.request, "before_id", 0, 0, INT64_MAX, &error);
  if (!before) return error;
  q.limit = *limit;
  q.before_id = *before;

  // Filtered by scope after the query: fetch pages until this one is full.
  json items = json::array();
  int64_t next = 0;
  const accounts::Principal& p = *ctx.principal;
  while (true) {
    StatusOr<alerts::AlertPage> page = store_.List(q);
    if (!page.ok()) return ErrorResponse(page.status());
    for (const AlertRecord& a : page->items) {
      if (!p.centre_wide) {
        StatusOr<int64_t> unit = UnitOf(a);
        if (!unit.ok() || !p.InScope(*unit)) continue;
      }
      if (static_cast<int64_t>(items.size()) == *limit) {
        next = items.back()["id"].get<int64_t>();
        break;
      }
      items.push_back(AlertJson(a, q.now_ms));
    }
    if (next != 0 || page->next_before_id == 0) break;
    q.before_id = page->next_before_id;
  }
  return JsonResponse(200, json{{"items", std::move(items)}, {"next_before_id", next == 0 ? json(nullptr) : json(next)}});
}

HttpResponse AlertHandlers::Get(const RequestContext& ctx) const {
  const int64_t id = IdParam(ctx);
  StatusOr<AlertRecord> a = store_.Get(id);
  if (!a.ok()) return ErrorResponse(a.status());
  StatusOr<std::vector<alerts::AlertEvent>> events = store_.Events(id);
  if (!events.ok()) return ErrorResponse(events.status());
  json history = json::array();
  for (const alerts::AlertEvent& e : *events) {
    history.push_back({{"at", TimeOrNull(e.at_ms)}, {"kind", e.kind}, {"actor", e.actor}, {"comment", e.comment}});
  }
  json doc = AlertJson(*a, clock_.NowMillis());
  doc["history"] = std::move(history);
  return JsonResponse(200, doc);
}

HttpResponse AlertHandlers::Acknowledge(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"comment", "expires_in", "expires_at"}, &error)) return error;
  std::optional<std::string> comment, expires_in, expires_at;
  if (!GetString(*body, "comment", &comment, &error) || !GetString(*body, "expires_in", &expires_in, &error) ||
      !GetString(*body, "expires_at", &expires_at, &error)) {
    return error;
  }
  if (comment && static_cast<int64_t>(comment->size()) > kMaxCommentBytes) {
    return BadParam("comment", "longer than " + std::to_string(kMaxCommentBytes) + " bytes");
  }
  if (expires_in && expires_at) return BadParam("expires_in", "give expires_in or expires_at, not both");
  const int64_t now = clock_.NowMillis();
  int64_t expires = 0;
  if (expires_in) {
    StatusOr<int64_t> d = ParseDurationMillis(*expires_in);
    if (!d.ok() || *d <= 0) return BadParam("expires_in", "expected a positive duration like 30m or 4h");
    expires = now + *d;
  } else if (expires_at) {
    StatusOr<int64_t> t = ParseRfc3339Millis(*expires_at);
    if (!t.ok()) return BadParam("expires_at", "expected an RFC 3339 time");
    if (*t <= now) return BadParam("expires_at", "must be in the future");
    expires = *t;
  }
  if (expires != 0 && expires - now > kMaxAckMs) return BadParam(expires_in ? "expires_in" : "expires_at", "at most 30 days");
  StatusOr<AlertRecord> a = store_.Acknowledge(IdParam(ctx), AlertActorFor(ctx, "alerts.acknowledge"), comment.value_or(""),
                                               expires, now);
  if (!a.ok()) return ErrorResponse(a.status());
  return JsonResponse(200, AlertJson(*a, now));
}

HttpResponse AlertHandlers::Unacknowledge(const RequestContext& ctx) const {
  const int64_t now = clock_.NowMillis();
  StatusOr<AlertRecord> a = store_.Unacknowledge(IdParam(ctx), AlertActorFor(ctx, "alerts.unacknowledge"), now);
  if (!a.ok()) return ErrorResponse(a.status());
  return JsonResponse(200, AlertJson(*a, now));
}

HttpResponse AlertHandlers::Comment(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"comment"}, &error)) return error;
  std::optional<std::string> comment;
  if (!GetString(*body, "comment", &comment, &error)) return error;
  if (!comment || comment->empty()) return BadParam("comment", "required");
  if (static_cast<int64_t>(comment->size()) > kMaxCommentBytes) {
    return BadParam("comment", "longer than " + std::to_string(kMaxCommentBytes) + " bytes");
  }
  const int64_t now = clock_.NowMillis();
  StatusOr<AlertRecord> a = store_.Comment(IdParam(ctx), AlertActorFor(ctx, "alerts.comment"), *comment, now);
  if (!a.ok()) return ErrorResponse(a.status());
  return JsonResponse(201, AlertJson(*a, now));
}

HttpResponse AlertHandlers::Assign(const RequestContext& ctx) const {
  HttpResponse error;
  std::optional<json> body = JsonBody(ctx.request, &error);
  if (!body) return error;
  if (!CheckKnownFields(*body, {"assignee"}, &error)) return error;
  std::optional<std::string> assignee;
  if (!GetString(*body, "assignee", &assignee, &error)) return error;
  if (!assignee) return BadParam("assignee", "required: a username, or \"\" to unassign");
  std::string username;
  if (!assignee->empty()) {
    StatusOr<accounts::User> user = accounts_.FindUserByUsername(*assignee);
    if (!user.ok()) {
      return user.status().code() == StatusCode::kNotFound ? BadParam("assignee", "no user '" + *assignee + "'")
                                                           : ErrorResponse(user.status());
    }
    if (!user->active) return BadParam("assignee", "user '" + user->username + "' is deactivated");
    username = user->username;
  }
  const int64_t now = clock_.NowMillis();
  StatusOr<AlertRecord> a = store_.Assign(IdParam(ctx), AlertActorFor(ctx, "alerts.assign"), username, now);
  if (!a.ok()) return ErrorResponse(a.status());
  return JsonResponse(200, AlertJson(*a, now));
}

}  // namespace steadfast::collector::api
