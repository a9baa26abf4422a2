#include "collector/alerts/config_manager.h"

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <algorithm>

#include "alerting/oncall_config.h"
#include "common/logging.h"

namespace steadfast::collector::alerts {
namespace {

using nlohmann::json;

std::string Describe(const std::string& kind) { return kind == kScheduleKind ? "schedule" : "escalation policy"; }

std::string Source(const std::string& kind, const std::string& name) {
  return Describe(kind) + " '" + name + "' (made through the API)";
}

}  // namespace

AlertingConfigManager::AlertingConfigManager(alerting::AlertingConfig file, std::vector<OncallDocument> docs,
                                             alerting::AlertingConfig composed, SqliteAlertStore& store,
                                             AlertingFileReader reader, const Clock& clock)
    : file_(std::move(file)),
      docs_(std::move(docs)),
      live_(std::move(composed)),
      store_(store),
      reader_(std::move(reader)),
      clock_(clock) {}

StatusOr<alerting::AlertingConfig> AlertingConfigManager::Compose(const alerting::AlertingConfig& file,
                                                                  const std::vector<OncallDocument>& docs) {
  std::vector<alerting::Schedule> schedules;
  for (const OncallDocument& d : docs) {
    if (d.kind != kScheduleKind) continue;
    if (std::any_of(file.schedules.begin(), file.schedules.end(),
                    [&](const alerting::Schedule& s) { return s.name == d.name; })) {
      return FailedPreconditionError("alerting.schedules: '" + d.name +
                                     "' is also a schedule made through the API; rename one of them");
    }
    StatusOr<alerting::Schedule> s = alerting::ParseScheduleText(d.body_json, Source(d.kind, d.name));
    if (!s.ok()) return FailedPreconditionError(s.status().message());
    schedules.push_back(std::move(s).value());
  }
  std::vector<alerting::Schedule> all = file.schedules;
  all.insert(all.end(), schedules.begin(), schedules.end());
  std::vector<alerting::EscalationPolicy> policies;
  for (const OncallDocument& d : docs) {
    if (d.kind != kPolicyKind) continue;
    if (file.FindPolicy(d.name) != nullptr) {
      return FailedPreconditionError("alerting.escalation_policies: '" + d.name +
                                     "' is also a policy made through the API; rename one of them");
    }
    StatusOr<alerting::EscalationPolicy> p = alerting::ParsePolicyText(d.body_json, Source(d.kind, d.name), all);
    if (!p.ok()) return FailedPreconditionError(p.status().message());
    policies.push_back(std::move(p).value());
  }
  return alerting::MergeOncall(file, std::move(schedules), std::move(policies));
}

StatusOr<std::unique_ptr<AlertingConfigManager>> AlertingConfigManager::Create(
    alerting::AlertingConfig file, SqliteAlertStore& store, AlertingFileReader reader, const Clock& clock,
    prometheus::Registry* registry) {
  SF_ASSIGN_OR_RETURN(std::vector<OncallDocument> docs, store.OncallDocuments());
  StatusOr<alerting::AlertingConfig> composed_or = Compose(file, docs);
  // A reference that does not resolve is a configuration error: the collector exits 2 (not
  // restarted by systemd) with the reason.
  if (!composed_or.ok()) return InvalidArgumentError("alerting configuration: " + composed_or.status().message());
  alerting::AlertingConfig composed = std::move(composed_or).value();
  std::unique_ptr<AlertingConfigManager> m(new AlertingConfigManager(std::move(file), std::move(docs),
                                                                     std::move(composed), store, std::move(reader), clock));
  if (registry != nullptr) {
    m->last_ok_ = &prometheus::BuildGauge()
                       .Name("steadfast_alerting_config_last_reload_successful")
                       .Help("Whether the last reload of the alerting configuration succeeded (1) or was refused (0)")
                       .Register(*registry)
                       .Add({});
    m->last_ok_time_ = &prometheus::BuildGauge()
                            .Name("steadfast_alerting_config_last_reload_success_timestamp_seconds")
                            .Help("When the alerting configuration was last loaded successfully")
                            .Register(*registry)
                            .Add({});
    auto& reloads = prometheus::BuildCounter()
                        .Name("steadfast_alerting_config_reloads_total")
                        .Help("Reloads of the alerting configuration by result")
                        .Register(*registry);
    m->reloads_ok_ = &reloads.Add({{"result", "success"}});
    m->reloads_failed_ = &reloads.Add({{"result", "failure"}});
    m->last_ok_->Set(1);
    m->last_ok_time_->Set(static_cast<double>(clock.NowMillis()) / 1000.0);
  }
  return m;
}

void AlertingConfigManager::RecordReload(bool ok, int64_t now_ms) {
  if (last_ok_ == nullptr) return;
  last_ok_->Set(ok ? 1 : 0);
  if (ok) last_ok_time_->Set(static_cast<double>(now_ms) / 1000.0);
  (ok ? reloads_ok_ : reloads_failed_)->Increment();
}

StatusOr<ReloadSummary> AlertingConfigManager::Reload(const AlertActor& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.NowMillis();
  auto attempt = [&]() -> StatusOr<alerting::AlertingConfig> {
    if (!reader_) return FailedPreconditionError("this collector was not started from a config file; nothing to reload");
    SF_ASSIGN_OR_RETURN(alerting::AlertingConfig file, reader_());
    if (!file.enabled && file_.enabled) {
      return FailedPreconditionError("the config file has no alerting: section any more; alerting is turned off by a restart only");
    }
    if (file.enabled && !file_.enabled) {
      return FailedPreconditionError("alerting was off when the collector started (no alerting: section); restart it to turn alerting on");
    }
    SF_ASSIGN_OR_RETURN(alerting::AlertingConfig composed, Compose(file, docs_));
    file_ = std::move(file);
    return composed;
  };
  StatusOr<alerting::AlertingConfig> next = attempt();
  if (!next.ok()) {
    RecordReload(false, now);
    SF_LOG_ERROR("alerting: reload by {} refused, the configuration in force stays: {}", actor.name,
                 next.status().message());
    // The API's guard audits a refused request itself; a SIGHUP has nobody else to do it.
    if (actor.audit.actor_type != "system") return next.status();
    AlertActor refused = actor;
    refused.audit.result = audit::AuditResult::kError;
    refused.audit.result_code = "invalid_config";
    refused.audit.message = next.status().message().substr(0, 500);
    Status audited = store_.Audit(refused, "alerting_config", "reload",
                                  json{{"result", "refused"}, {"error", next.status().message()}}.dump(), now);
    if (!audited.ok()) SF_LOG_ERROR("alerting: cannot audit the refused reload: {}", audited.ToString());
    return next.status();
  }
  ReloadSummary summary;
  summary.rule_files = next->rule_files.size();
  summary.rules = next->rules.rules.size();
  summary.receivers = next->receivers.size();
  summary.schedules = next->schedules.size();
  summary.escalation_policies = next->escalation_policies.size();
  summary.heartbeats = next->heartbeats.size();
  live_.Set(std::move(next).value());
  summary.version = live_.version();
  RecordReload(true, now);
  SF_LOG_INFO("alerting: configuration reloaded by {}: {} rules from {} file(s), {} receivers, {} schedules, {} policies",
              actor.name, summary.rules, summary.rule_files, summary.receivers, summary.schedules,
              summary.escalation_policies);
  Status audited = store_.Audit(actor, "alerting_config", "reload",
                                json{{"result", "loaded"},
                                     {"version", summary.version},
                                     {"rules", summary.rules},
                                     {"receivers", summary.receivers}}
                                    .dump(),
                                now);
  if (!audited.ok()) SF_LOG_ERROR("alerting: cannot audit the reload: {}", audited.ToString());
  return summary;
}

bool AlertingConfigManager::InFile(const std::string& kind, const std::string& name) const {
  if (kind == kScheduleKind) {
    return std::any_of(file_.schedules.begin(), file_.schedules.end(),
                       [&](const alerting::Schedule& s) { return s.name == name; });
  }
  return file_.FindPolicy(name) != nullptr;
}

std::vector<OncallEntry> AlertingConfigManager::List(const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<OncallEntry> out;
  if (kind == kScheduleKind) {
    for (const alerting::Schedule& s : file_.schedules) out.push_back({kind, s.name, "config", alerting::ScheduleJsonText(s)});
  } else {
    for (const alerting::EscalationPolicy& p : file_.escalation_policies) {
      out.push_back({kind, p.name, "config", alerting::PolicyJsonText(p)});
    }
  }
  for (const OncallDocument& d : docs_) {
    if (d.kind != kind) continue;
    out.push_back({kind, d.name, "api", d.body_json, d.created_by, d.created_ms, d.updated_by, d.updated_ms});
  }
  std::sort(out.begin(), out.end(), [](const OncallEntry& a, const OncallEntry& b) { return a.name < b.name; });
  return out;
}

StatusOr<OncallEntry> AlertingConfigManager::Find(const std::string& kind, const std::string& name) const {
  for (OncallEntry& e : List(kind)) {
    if (e.name == name) return std::move(e);
  }
  return NotFoundError("no " + Describe(kind) + " '" + name + "'");
}

StatusOr<OncallEntry> AlertingConfigManager::Put(const std::string& kind, const std::string& name,
                                                 const std::string& body, bool create, const AlertActor& actor) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgumentError("request body: expected a JSON object");
  if (!name.empty()) {
    if (!j.contains("name")) j["name"] = name;
    if (!j["name"].is_string() || j["name"].get<std::string>() != name) {
      return InvalidArgumentError("name: cannot be changed (it is '" + name + "'); make a new one instead");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<alerting::Schedule> schedules = live_.Get()->schedules;
  std::string canonical;
  std::string doc_name;
  if (kind == kScheduleKind) {
    SF_ASSIGN_OR_RETURN(alerting::Schedule s, alerting::ParseScheduleText(j.dump(), "request body"));
    doc_name = s.name;
    canonical = alerting::ScheduleJsonText(s);
  } else {
    SF_ASSIGN_OR_RETURN(alerting::EscalationPolicy p, alerting::ParsePolicyText(j.dump(), "request body", schedules));
    doc_name = p.name;
    canonical = alerting::PolicyJsonText(p);
  }
  if (InFile(kind, doc_name)) {
    return FailedPreconditionError(Describe(kind) + " '" + doc_name +
                                   "' is defined in the config file; change it there and reload");
  }
  std::vector<OncallDocument> docs = docs_;
  auto it = std::find_if(docs.begin(), docs.end(),
                         [&](const OncallDocument& d) { return d.kind == kind && d.name == doc_name; });
  if (create && it != docs.end()) return AlreadyExistsError(Describe(kind) + " '" + doc_name + "' already exists");
  if (!create && it == docs.end()) return NotFoundError("no " + Describe(kind) + " '" + doc_name + "' made through the API");
  const int64_t now = clock_.NowMillis();
  if (it == docs.end()) {
    docs.push_back({kind, doc_name, canonical, actor.name, now, actor.name, now});
  } else {
    it->body_json = canonical;
    it->updated_by = actor.name;
    it->updated_ms = now;
  }
  SF_ASSIGN_OR_RETURN(alerting::AlertingConfig composed, Compose(file_, docs));
  SF_RETURN_IF_ERROR(store_.PutOncallDocument(kind, doc_name, canonical, create, actor, now));
  docs_ = std::move(docs);
  live_.Set(std::move(composed));
  SF_LOG_INFO("alerting: {} '{}' {} by {}", Describe(kind), doc_name, create ? "created" : "replaced", actor.name);
  for (const OncallDocument& d : docs_) {
    if (d.kind == kind && d.name == doc_name) {
      return OncallEntry{kind, d.name, "api", d.body_json, d.created_by, d.created_ms, d.updated_by, d.updated_ms};
    }
  }
  return InternalError("the stored document vanished");
}

Status AlertingConfigManager::Delete(const std::string& kind, const std::string& name, const AlertActor& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  if (InFile(kind, name)) {
    return FailedPreconditionError(Describe(kind) + " '" + name + "' is defined in the config file; remove it there and reload");
  }
  std::vector<OncallDocument> docs = docs_;
  auto it = std::find_if(docs.begin(), docs.end(), [&](const OncallDocument& d) { return d.kind == kind && d.name == name; });
  if (it == docs.end()) return NotFoundError("no " + Describe(kind) + " '" + name + "'");
  docs.erase(it);
  StatusOr<alerting::AlertingConfig> composed = Compose(file_, docs);
  if (!composed.ok()) {
    return FailedPreconditionError(Describe(kind) + " '" + name + "' is still in use: " + composed.status().message());
  }
  const int64_t now = clock_.NowMillis();
  SF_RETURN_IF_ERROR(store_.DeleteOncallDocument(kind, name, actor, now));
  docs_ = std::move(docs);
  live_.Set(std::move(composed).value());
  SF_LOG_INFO("alerting: {} '{}' deleted by {}", Describe(kind), name, actor.name);
  return OkStatus();
}

}  // namespace steadfast::collector::alerts
