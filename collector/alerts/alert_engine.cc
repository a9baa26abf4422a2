#include "collector/alerts/alert_engine.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "alerting/escalation.h"
#include "alerting/grouping.h"
#include "alerting/heartbeat.h"
#include "alerting/notify/webhook_payload.h"
#include "alerting/routing.h"
#include "alerting/suppression.h"
#include "common/logging.h"

namespace steadfast::collector::alerts {
namespace {

constexpr char kExternalRule[] = "external";
constexpr int64_t kAlertmanagerResendMs = 60'000;
constexpr int64_t kExternalResolveMs = 5 * 60'000;

// Status changes older than this are forgotten (flapping windows are shorter).
constexpr int64_t kChangesKeptMs = 6 * 3'600'000;
constexpr size_t kMaxChangesKept = 64;

const alerting::Route* FindRoute(const alerting::Route& node, const std::string& path) {
  if (node.path == path) return &node;
  for (const alerting::Route& child : node.routes) {
    if (const alerting::Route* r = FindRoute(child, path)) return r;
  }
  return nullptr;
}

std::vector<alerting::MetricSample> ReadMetrics(const std::vector<protocol::Metric>& metrics, int64_t at_ms,
                                                const std::vector<alerting::MetricSample>& before) {
  std::vector<alerting::MetricSample> out;
  out.reserve(metrics.size());
  for (const protocol::Metric& m : metrics) {
    alerting::MetricSample s;
    s.name = m.name;
    s.labels = alerting::Labels(m.labels.begin(), m.labels.end());
    s.value = m.value;
    s.at_ms = at_ms;
    for (const alerting::MetricSample& b : before) {
      if (b.name == s.name && b.labels == s.labels && b.at_ms < at_ms) {
        s.previous = b.value;
        s.previous_at_ms = b.at_ms;
        break;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<alerting::MetricSample> ParseMetricsJson(const std::string& text, int64_t at_ms) {
  std::vector<alerting::MetricSample> out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const nlohmann::json& m : j) {
    if (!m.is_object() || !m.contains("name") || !m["name"].is_string() || !m.contains("value") ||
        !m["value"].is_number()) {
      continue;
    }
    alerting::MetricSample s;
    s.name = m["name"].get<std::string>();
    s.value = m["value"].get<double>();
    s.at_ms = at_ms;
    if (m.contains("labels") && m["labels"].is_object()) {
      for (auto it = m["labels"].begin(); it != m["labels"].end(); ++it) {
        if (it->is_string()) s.labels[it.key()] = it->get<std::string>();
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

alerting::Alert FromRecord(const AlertRecord& r) {
  alerting::Alert a;
  a.fingerprint = r.fingerprint;
  a.rule = r.rule;
  a.labels = r.labels;
  a.annotations = r.annotations;
  a.phase = r.state == AlertState::kFiring ? alerting::AlertPhase::kFiring : alerting::AlertPhase::kPending;
  a.active_since_ms = r.active_since_ms;
  a.firing_since_ms = r.firing_since_ms;
  a.value = r.value;
  return a;
}

std::string GroupId(const std::string& receiver, const std::string& group_key) {
  return receiver + '\x1e' + group_key;
}

}  // namespace

std::string AlertEngine::SeriesKey(const std::string& agent_id, const std::string& check, const std::string& target) {
  std::string key;
  key.reserve(agent_id.size() + check.size() + target.size() + 2);
  key += agent_id;
  key += '\x1f';
  key += check;
  key += '\x1f';
  key += target;
  return key;
}

AlertEngine::AlertEngine(const LiveAlertingConfig& live, SqliteAlertStore& store, const Clock& clock)
    : live_(live), store_(store), clock_(clock) {
  config_ = live_.Get(&config_version_);
  applied_version_ = config_version_;
  interval_ms_ = config_->evaluation_interval_ms;
  evaluator_ = std::make_unique<alerting::Evaluator>(config_->rules);
}

StatusOr<std::unique_ptr<AlertEngine>> AlertEngine::Create(const LiveAlertingConfig& config,
                                                          SqliteAlertStore& store, Storage& storage,
                                                          const Clock& clock, prometheus::Registry* registry) {
  std::unique_ptr<AlertEngine> e(new AlertEngine(config, store, clock));
  if (registry != nullptr) {
    e->round_seconds_ = &prometheus::BuildHistogram()
                             .Name("steadfast_alert_evaluation_duration_seconds")
                             .Help("Time of one alerting round: evaluation, routing, grouping and its commit")
                             .Register(*registry)
                             .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                               0.05, 0.1, 0.25, 0.5, 1, 2.5});
    e->round_failures_ = &prometheus::BuildCounter()
                              .Name("steadfast_alert_evaluation_failures_total")
                              .Help("Alerting rounds that could not be stored (retried by the next round)")
                              .Register(*registry)
                              .Add({});
    auto& alerts = prometheus::BuildGauge()
                       .Name("steadfast_alerts")
                       .Help("Active alerts by state")
                       .Register(*registry);
    e->firing_ = &alerts.Add({{"state", "firing"}});
    e->pending_ = &alerts.Add({{"state", "pending"}});
    e->notifications_decided_ = &prometheus::BuildCounter()
                                     .Name("steadfast_notifications_queued_total")
                                     .Help("Notifications written to the outbox (one per receiver integration)")
                                     .Register(*registry)
                                     .Add({});
  }
  SF_RETURN_IF_ERROR(e->Load(storage));
  return e;
}

AlertEngine::~AlertEngine() { Shutdown(); }

Status AlertEngine::Load(Storage& storage) {
  SF_ASSIGN_OR_RETURN(std::vector<SeriesMemo> memos, store_.SeriesMemos());
  std::unordered_map<std::string, SeriesMemo> memo_by_key;
  for (SeriesMemo& m : memos) memo_by_key.emplace(m.key, std::move(m));

  constexpr int64_t kPage = 500;
  for (int64_t offset = 0;; offset += kPage) {
    SF_ASSIGN_OR_RETURN(HostPage page, storage.ListHosts(kPage, offset));
    for (const HostSummary& h : page.items) {
      const std::string& agent_id = h.agent.agent_id;
      const std::string hostname = h.agent.host.hostname.empty() ? agent_id : h.agent.host.hostname;
      hostnames_[agent_id] = hostname;
      SF_ASSIGN_OR_RETURN(std::vector<StoredResult> checks, storage.ListHostChecks(agent_id));
      for (const StoredResult& r : checks) {
        const std::string key = SeriesKey(agent_id, r.check, r.target);
        Series s;
        s.state.labels = {{"host", hostname}, {"agent_id", agent_id}, {"check", r.check}, {"target", r.target}};
        s.state.status = r.status;
        s.state.last_seen_ms = r.received_at_ms;
        s.last_seq = r.seq;
        const int64_t at = std::min(r.observed_at_ms > 0 ? r.observed_at_ms : r.received_at_ms, r.received_at_ms);
        s.state.metrics = ParseMetricsJson(r.metrics_json, at);
        auto memo = memo_by_key.find(key);
        if (memo != memo_by_key.end() && memo->second.status == r.status) {
          s.state.status_since_ms = memo->second.since_ms;
          s.state.changes_ms = memo->second.changes_ms;
        } else {
          s.state.status_since_ms = at;
          s.memo_dirty = true;
        }
        series_.emplace(key, std::move(s));
      }
    }
    if (static_cast<int64_t>(page.items.size()) < kPage) break;
  }

  for (const alerting::HeartbeatEntry& h : config_->heartbeats) {
    Heartbeat hb;
    hb.entry = &h;
    SF_ASSIGN_OR_RETURN(hb.created_ms, store_.EnsureHeartbeat(h.config.name, clock_.NowMillis()));
    SF_ASSIGN_OR_RETURN(hb.pings, store_.RecentPings(h.config.name));
    heartbeats_.emplace(h.config.name, std::move(hb));
  }

  SF_ASSIGN_OR_RETURN(std::vector<AlertRecord> active, store_.ActiveAlerts());
  for (const AlertRecord& r : active) {
    if (r.rule == kExternalRule) {
      // Its source re-sends it while it lasts; until then it holds for Alertmanager's 5 minutes.
      external_[r.fingerprint] = External{FromRecord(r), clock_.NowMillis() + kExternalResolveMs, true};
    } else {
      book_.active[alerting::LabelsHash(r.labels)] = FromRecord(r);
    }
  }

  SF_ASSIGN_OR_RETURN(std::vector<GroupRecord> groups, store_.Groups());
  std::set<std::string> active_fps;
  for (const AlertRecord& r : active) active_fps.insert(r.fingerprint);
  std::vector<std::string> gone;
  for (GroupRecord& g : groups) {
    const alerting::Route* route = FindRoute(config_->route, g.route_path);
    if (route == nullptr) route = &config_->route;  // the tree changed since; the root still sends
    for (const std::string& fp : g.state.sent_firing) {
      if (active_fps.count(fp) == 0) gone.push_back(fp);
    }
    const std::string id = GroupId(g.receiver, g.group_key);
    groups_[id] = Group{std::move(g), route};
  }
  SF_ASSIGN_OR_RETURN(std::vector<EscalationState> escalations, store_.Escalations());
  for (EscalationState& e : escalations) escalations_[e.fingerprint + '\x1e' + e.policy] = std::move(e);
  std::sort(gone.begin(), gone.end());
  gone.erase(std::unique(gone.begin(), gone.end()), gone.end());
  SF_ASSIGN_OR_RETURN(std::vector<AlertRecord> latest, store_.LatestByFingerprint(gone));
  for (const AlertRecord& r : latest) {
    resolved_[r.fingerprint] = {FromRecord(r), r.ended_ms > 0 ? r.ended_ms : r.updated_ms};
  }
  return OkStatus();
}

Status AlertEngine::ApplyConfig() {
  int64_t version = 0;
  std::shared_ptr<const alerting::AlertingConfig> next = live_.Get(&version);
  // Heartbeats keep their pings across the change; new ones are registered.
  std::map<std::string, Heartbeat> heartbeats;
  for (const alerting::HeartbeatEntry& h : next->heartbeats) {
    Heartbeat hb;
    hb.entry = &h;
    bool known = false;
    {
      std::lock_guard<std::mutex> lock(series_mu_);
      auto it = heartbeats_.find(h.config.name);
      if (it != heartbeats_.end()) {
        hb.created_ms = it->second.created_ms;
        hb.pings = it->second.pings;
        known = true;
      }
    }
    if (!known) {
      SF_ASSIGN_OR_RETURN(hb.created_ms, store_.EnsureHeartbeat(h.config.name, clock_.NowMillis()));
      SF_ASSIGN_OR_RETURN(hb.pings, store_.RecentPings(h.config.name));
    }
    heartbeats.emplace(h.config.name, std::move(hb));
  }
  auto evaluator = std::make_unique<alerting::Evaluator>(next->rules);
  {
    std::lock_guard<std::mutex> lock(series_mu_);
    for (auto& [name, hb] : heartbeats) {
      // The pings as they are now (some may have arrived while the new list was built).
      auto it = heartbeats_.find(name);
      if (it != heartbeats_.end()) hb.pings = it->second.pings;
    }
    heartbeats_.swap(heartbeats);
    config_ = next;
    dirty_ = true;
  }
  evaluator_ = std::move(evaluator);
  for (auto& [id, g] : groups_) {
    g.route = FindRoute(config_->route, g.record.route_path);
    if (g.route == nullptr) g.route = &config_->route;
  }
  config_version_ = version;
  applied_version_ = version;
  interval_ms_ = config_->evaluation_interval_ms;
  SF_LOG_INFO("alerting: configuration {} in force: {} rules, {} receivers, {} schedules, {} escalation policies",
              version, config_->rules.rules.size(), config_->receivers.size(), config_->schedules.size(),
              config_->escalation_policies.size());
  return OkStatus();
}

void AlertEngine::Start() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void AlertEngine::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertEngine::SetOnNotifications(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(notify_mu_);
  on_notifications_ = std::move(fn);
}

size_t AlertEngine::SeriesCount() const {
  std::lock_guard<std::mutex> lock(series_mu_);
  return series_.size();
}

void AlertEngine::Observe(const protocol::ReportBatch& batch, int64_t received_at_ms) {
  {
    std::lock_guard<std::mutex> lock(series_mu_);
    std::string hostname = batch.host.hostname;
    if (hostname.empty()) {
      auto it = hostnames_.find(batch.agent_id);
      hostname = it != hostnames_.end() ? it->second : batch.agent_id;
    } else {
      hostnames_[batch.agent_id] = hostname;
    }
    for (const protocol::ReportEntry& e : batch.results) {
      const protocol::CheckResult& r = e.result;
      const std::string key = SeriesKey(batch.agent_id, r.check, r.target);
      const int64_t at = std::min(r.observed_at_ms > 0 ? r.observed_at_ms : received_at_ms, received_at_ms);
      auto [it, inserted] = series_.try_emplace(key);
      Series& s = it->second;
      if (!inserted && e.seq <= s.last_seq) continue;  // a retry of what is already here
      s.last_seq = e.seq;
      if (inserted) {
        s.state.status = r.status;
        s.state.status_since_ms = at;
        s.memo_dirty = true;
      } else if (r.status != s.state.status) {
        s.state.status = r.status;
        s.state.status_since_ms = at;
        s.state.changes_ms.push_back(at);
        auto old = std::find_if(s.state.changes_ms.begin(), s.state.changes_ms.end(),
                                [&](int64_t c) { return c >= at - kChangesKeptMs; });
        s.state.changes_ms.erase(s.state.changes_ms.begin(), old);
        if (s.state.changes_ms.size() > kMaxChangesKept) {
          s.state.changes_ms.erase(s.state.changes_ms.begin(),
                                   s.state.changes_ms.end() - static_cast<std::ptrdiff_t>(kMaxChangesKept));
        }
        s.memo_dirty = true;
      }
      s.state.labels["host"] = hostname;
      s.state.labels["agent_id"] = batch.agent_id;
      s.state.labels["check"] = r.check;
      s.state.labels["target"] = r.target;
      s.state.last_seen_ms = received_at_ms;
      s.state.metrics = ReadMetrics(r.metrics, at, s.state.metrics);
    }
    dirty_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    wake_ = true;
  }
  loop_cv_.notify_one();
}

void AlertEngine::Wake() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    wake_ = true;
  }
  loop_cv_.notify_one();
}

void AlertEngine::ObservePing(const std::string& name, const alerting::Ping& ping) {
  {
    std::lock_guard<std::mutex> lock(series_mu_);
    auto it = heartbeats_.find(name);
    if (it == heartbeats_.end()) return;
    it->second.pings.push_back(ping);
    if (it->second.pings.size() > 50) it->second.pings.erase(it->second.pings.begin());
    dirty_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    wake_ = true;
  }
  loop_cv_.notify_one();
}

void AlertEngine::ObserveExternal(const std::vector<ExternalAlert>& alerts) {
  const int64_t now = clock_.NowMillis();
  {
    std::lock_guard<std::mutex> lock(series_mu_);
    for (const ExternalAlert& x : alerts) {
      const std::string fp = alerting::FingerprintText(alerting::LabelsHash(x.labels));
      External& e = external_[fp];
      if (e.alert.fingerprint.empty()) {
        e.alert.fingerprint = fp;
        e.alert.rule = kExternalRule;
        e.alert.labels = x.labels;
        e.alert.phase = alerting::AlertPhase::kFiring;
        e.alert.active_since_ms = x.starts_ms > 0 && x.starts_ms <= now ? x.starts_ms : now;
        e.alert.firing_since_ms = e.alert.active_since_ms;
      }
      e.alert.annotations = x.annotations;
      e.ends_ms = x.ends_ms > 0 ? x.ends_ms : now + kExternalResolveMs;
    }
    dirty_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    wake_ = true;
  }
  loop_cv_.notify_one();
}

void AlertEngine::Loop() {
  int64_t failures = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(loop_mu_);
      loop_cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_.load()),
                        [this] { return wake_ || stopping_; });
      if (stopping_) return;
      wake_ = false;
    }
    Status st = RunRound();
    if (!st.ok()) {
      // Logged on the first failure and then every 60th, so a full disk does not flood the log.
      if (failures++ % 60 == 0) SF_LOG_ERROR("alerting: round not stored, retrying: {}", st.ToString());
    } else if (failures > 0) {
      SF_LOG_INFO("alerting: rounds are stored again after {} failures", failures);
      failures = 0;
    }
  }
}

Status AlertEngine::RunRound() {
  std::lock_guard<std::mutex> round_lock(round_mu_);
  const auto started = std::chrono::steady_clock::now();
  const int64_t now = clock_.NowMillis();
  if (live_.version() != config_version_) SF_RETURN_IF_ERROR(ApplyConfig());
  if (!book_valid_) {
    SF_ASSIGN_OR_RETURN(std::vector<AlertRecord> active, store_.ActiveAlerts());
    book_.active.clear();
    for (const AlertRecord& r : active) {
      if (r.rule != kExternalRule) book_.active[alerting::LabelsHash(r.labels)] = FromRecord(r);
    }
    book_valid_ = true;
  }
  if (const int64_t v = store_.SilenceVersion(); v != silence_version_) {
    SF_ASSIGN_OR_RETURN(std::vector<SilenceRecord> records, store_.ListSilences(false, now));
    silences_.clear();
    for (SilenceRecord& r : records) silences_.push_back(std::move(r.silence));
    silence_version_ = v;
  }
  SF_ASSIGN_OR_RETURN(std::vector<int64_t> expired, store_.ExpireAcknowledgements(now));
  for (int64_t id : expired) SF_LOG_INFO("alerting: the acknowledgement of alert {} expired", id);

  RoundWrite round;
  std::vector<alerting::SeriesState> series;
  {
    std::lock_guard<std::mutex> lock(series_mu_);
    series.reserve(series_.size());
    for (auto& [key, s] : series_) {
      series.push_back(s.state);
      if (s.memo_dirty) {
        round.series.push_back({key, s.state.status, s.state.status_since_ms, s.state.changes_ms});
        s.memo_dirty = false;
      }
    }
    for (const auto& [name, hb] : heartbeats_) {
      const alerting::HeartbeatState state = alerting::EvaluateHeartbeat(hb.entry->config, hb.pings, hb.created_ms, now);
      alerting::SeriesState ss;
      ss.labels = hb.entry->labels;
      ss.labels["check"] = "heartbeat";
      ss.labels["target"] = name;
      ss.status = state.status;
      ss.status_since_ms = state.since_ms;
      ss.last_seen_ms = now;  // a heartbeat's silence is its status, not an absence
      series.push_back(std::move(ss));
    }
    dirty_ = false;
  }

  alerting::Evaluation eval = evaluator_->Evaluate(series, std::move(book_), now);
  book_valid_ = false;  // moved; restored below once the round is stored

  // External alerts join the round's firing set (and leave the book the evaluator sees).
  std::map<std::string, External> external;
  {
    std::lock_guard<std::mutex> lock(series_mu_);
    external = external_;
  }
  std::vector<std::string> external_gone;
  for (auto& [fp, x] : external) {
    if (x.ends_ms > now) {
      if (!x.stored) {
        eval.transitions.push_back({alerting::TransitionKind::kFiring, x.alert, now});
        x.stored = true;
      }
      eval.book.active[alerting::LabelsHash(x.alert.labels)] = x.alert;
    } else {
      if (x.stored) eval.transitions.push_back({alerting::TransitionKind::kResolved, x.alert, x.ends_ms});
      external_gone.push_back(fp);
    }
  }

  // Firing alerts by fingerprint, and the resolutions the groups may still have to send.
  std::unordered_map<std::string, const alerting::Alert*> firing;
  int64_t pending_count = 0;
  for (const auto& [hash, a] : eval.book.active) {
    if (a.phase == alerting::AlertPhase::kFiring) {
      firing.emplace(a.fingerprint, &a);
    } else {
      ++pending_count;
    }
  }
  std::set<std::string> sent_anywhere;
  for (const auto& [id, g] : groups_) sent_anywhere.insert(g.record.state.sent_firing.begin(), g.record.state.sent_firing.end());
  std::unordered_map<std::string, std::pair<alerting::Alert, int64_t>> resolved = resolved_;
  for (const alerting::Transition& t : eval.transitions) {
    if (t.kind == alerting::TransitionKind::kResolved && sent_anywhere.count(t.alert.fingerprint) != 0) {
      resolved[t.alert.fingerprint] = {t.alert, t.at_ms};
    }
  }
  const std::set<std::string> inhibited = alerting::Inhibited(eval.book, config_->rules.inhibit);

  // Members of every group: its firing alerts (suppressed ones only if already notified, so
  // that their resolution is sent), and the alerts it notified firing that are gone.
  std::map<std::string, Group> groups = groups_;
  std::map<std::string, std::vector<alerting::GroupMember>> members;
  std::vector<std::string> firing_fps;
  firing_fps.reserve(firing.size());
  for (const auto& [fp, a] : firing) firing_fps.push_back(fp);
  std::sort(firing_fps.begin(), firing_fps.end());
  // Where each firing alert goes and whether a silence or inhibition holds it: worked out once
  // per round and used by grouping, Alertmanager re-sends and escalation alike.
  struct Routed {
    bool suppressed = false;
    std::vector<alerting::RouteMatch> matches;
  };
  std::unordered_map<std::string, Routed> routed;
  routed.reserve(firing_fps.size());
  for (const std::string& fp : firing_fps) {
    const alerting::Alert& a = *firing.at(fp);
    routed[fp] = {inhibited.count(fp) != 0 || !alerting::SilencedBy(silences_, a.labels, now).empty(),
                  alerting::MatchRoutes(config_->route, a.labels)};
  }
  for (const std::string& fp : firing_fps) {
    const alerting::Alert& a = *firing.at(fp);
    const bool suppressed = routed[fp].suppressed;
    auto sev = a.labels.find("severity");
    const bool critical = sev != a.labels.end() && sev->second == "critical";
    for (const alerting::RouteMatch& m : routed[fp].matches) {
      const std::string id = GroupId(m.route->receiver, m.group_key);
      auto it = groups.find(id);
      if (it == groups.end()) {
        if (suppressed) continue;
        Group g;
        g.record.receiver = m.route->receiver;
        g.record.group_key = m.group_key;
        g.record.route_path = m.route->path;
        g.record.group_labels = m.group_labels;
        g.record.state.created_ms = now;
        g.route = m.route;
        it = groups.emplace(id, std::move(g)).first;
      } else if (suppressed && it->second.record.state.sent_firing.count(fp) == 0) {
        continue;
      }
      members[id].push_back({fp, true, critical});
    }
  }
  for (auto& [id, g] : groups) {
    std::vector<alerting::GroupMember>& list = members[id];
    for (const std::string& fp : g.record.state.sent_firing) {
      const bool listed = std::any_of(list.begin(), list.end(),
                                      [&](const alerting::GroupMember& m) { return m.fingerprint == fp; });
      if (!listed) list.push_back({fp, false, false});
    }
  }

  std::vector<std::string> finished;
  std::set<std::string> changed;
  for (auto& [id, g] : groups) {
    const std::vector<alerting::GroupMember>& list = members[id];
    const bool is_new = groups_.count(id) == 0;
    std::optional<alerting::GroupNotification> n = alerting::Flush(g.record.state, *g.route, list, now);
    if (n) {
      changed.insert(id);
      alerting::WebhookGroup wg;
      wg.receiver = g.record.receiver;
      wg.group_key = g.record.group_key;
      wg.group_labels = g.record.group_labels;
      wg.external_url = config_->external_url;
      for (const std::string& fp : n->firing) wg.alerts.push_back({*firing.at(fp), false, 0});
      for (const std::string& fp : n->resolved) {
        auto r = resolved.find(fp);
        if (r != resolved.end()) {
          wg.alerts.push_back({r->second.first, true, r->second.second});
        } else if (auto f = firing.find(fp); f != firing.end()) {
          wg.alerts.push_back({*f->second, true, now});
        }
      }
      const std::string body = alerting::WebhookBody(wg);
      if (const alerting::ReceiverConfig* receiver = config_->FindReceiver(g.record.receiver)) {
        // One outbox entry per integration, so one failing channel never holds back or repeats
        // another.
        auto queue = [&](const std::string& integration, bool send_resolved) {
          if (n->firing.empty() && !send_resolved) return;
          OutboxEntry e;
          e.integration = integration;
          e.receiver = g.record.receiver;
          e.group_key = g.record.group_key;
          e.dedup_key = g.record.receiver + "/" + e.integration + "/" + std::to_string(now) + "/" +
                        alerting::FingerprintText(alerting::LabelsHash({{"g", g.record.group_key}}));
          e.body = body;
          e.created_ms = now;
          e.next_attempt_ms = now;
          round.outbox.push_back(std::move(e));
        };
        for (const alerting::IntegrationRef& integration : receiver->Integrations()) {
          queue(integration.name, integration.send_resolved);
        }
      }
    }
    if (alerting::Finished(g.record.state, list)) {
      if (!is_new) round.finished_groups.emplace_back(g.record.receiver, g.record.group_key);
      finished.push_back(id);
    } else if (n || is_new) {
      changed.insert(id);
    }
  }
  for (const std::string& id : changed) {
    if (std::find(finished.begin(), finished.end(), id) == finished.end()) round.groups.push_back(groups.at(id).record);
  }
  // Alertmanager integrations hear about every active alert routed to them every minute.
  std::map<std::string, int64_t> am_resent = am_resent_;
  for (const alerting::ReceiverConfig& receiver : config_->receivers) {
    for (const alerting::IntegrationRef& ref : receiver.Integrations()) {
      if (ref.chat == nullptr || ref.chat->kind != alerting::ChatKind::kAlertmanager) continue;
      const std::string& integration = ref.name;
      const std::string key = receiver.name + "/" + integration;
      auto last = am_resent.find(key);
      if (last != am_resent.end() && now - last->second < kAlertmanagerResendMs) continue;
      alerting::WebhookGroup wg;
      wg.receiver = receiver.name;
      wg.group_key = "resend";
      wg.external_url = config_->external_url;
      for (const std::string& fp : firing_fps) {
        const Routed& r = routed[fp];
        if (r.suppressed) continue;
        if (std::any_of(r.matches.begin(), r.matches.end(),
                        [&](const alerting::RouteMatch& m) { return m.route->receiver == receiver.name; })) {
          wg.alerts.push_back({*firing.at(fp), false, 0});
        }
      }
      am_resent[key] = now;
      if (wg.alerts.empty()) continue;
      OutboxEntry o;
      o.receiver = receiver.name;
      o.integration = integration;
      o.group_key = wg.group_key;
      o.dedup_key = "amresend/" + key + "/" + std::to_string(now);
      o.body = alerting::WebhookBody(wg);
      o.created_ms = now;
      o.next_attempt_ms = now;
      round.outbox.push_back(std::move(o));
    }
  }

  // Escalations of the firing, unsuppressed alerts.
  std::map<std::string, EscalationState> escalations;
  {
    SF_ASSIGN_OR_RETURN(std::vector<std::string> acked_list, store_.AcknowledgedFingerprints(now));
    const std::set<std::string> acked(acked_list.begin(), acked_list.end());
    for (const std::string& fp : firing_fps) {
      const alerting::Alert& a = *firing.at(fp);
      if (routed[fp].suppressed) continue;
      std::set<std::string> policies;
      for (const alerting::RouteMatch& m : routed[fp].matches) {
        if (!m.route->escalation_policy.empty()) policies.insert(m.route->escalation_policy);
      }
      for (const std::string& name : policies) {
        const alerting::EscalationPolicy* policy = config_->FindPolicy(name);
        if (policy == nullptr) continue;
        const std::string key = fp + '\x1e' + name;
        auto it = escalations_.find(key);
        EscalationState e;
        if (it != escalations_.end()) {
          e = it->second;
        } else {
          // An alert that just fired escalates from its start; one firing for a while already
          // (coming out of a silence, or a policy newly configured) from now, not all at once.
          const int64_t start =
              now - a.firing_since_ms <= 2 * config_->evaluation_interval_ms ? a.firing_since_ms : now;
          e = {fp, name, start, start - 1, false};
        }
        const EscalationState before = e;
        const bool is_acked = acked.count(fp) != 0;
        if (is_acked) {
          e.acknowledged = true;
          e.checked_ms = now;
        } else {
          if (e.acknowledged) {  // the acknowledgement expired or was withdrawn: start again
            e.acknowledged = false;
            e.start_ms = now;
            e.checked_ms = now - 1;
          }
          StatusOr<std::vector<alerting::EscalationStep>> steps =
              alerting::StepsDue(*policy, e.start_ms, std::nullopt, e.checked_ms, now, config_->schedules);
          if (!steps.ok()) {
            SF_LOG_WARN("alerting: escalation of {} under {}: {}", a.rule, name, steps.status().ToString());
          } else {
            for (const alerting::EscalationStep& step : *steps) {
              alerting::WebhookGroup wg;
              wg.group_key = "escalation/" + name + "/round " + std::to_string(step.round + 1) + "/tier " +
                             std::to_string(step.tier + 1);
              wg.group_labels = {{"alertname", a.labels.count("alertname") ? a.labels.at("alertname") : a.rule}};
              if (a.labels.count("host")) wg.group_labels["host"] = a.labels.at("host");
              wg.external_url = config_->external_url;
              wg.alerts.push_back({a, false, 0});
              const std::string base = "esc/" + fp + "/" + name + "/" + std::to_string(e.start_ms) + "/" +
                                       std::to_string(step.round) + "/" + std::to_string(step.tier) + "/";
              auto queue = [&](const std::string& receiver, const std::string& integration) {
                wg.receiver = receiver;
                OutboxEntry o;
                o.receiver = receiver;
                o.integration = integration;
                o.group_key = wg.group_key;
                o.dedup_key = base + receiver + "/" + integration;
                o.body = alerting::WebhookBody(wg);
                o.created_ms = now;
                o.next_attempt_ms = now;
                round.outbox.push_back(std::move(o));
              };
              for (const std::string& user : step.users) {
                queue("escalation:" + name, "user:" + user);
                const std::string url =
                    links_ != nullptr ? links_->Url(config_->external_url, fp, user, now) : std::string();
                if (!url.empty()) {
                  nlohmann::json body = nlohmann::json::parse(round.outbox.back().body);
                  for (nlohmann::json& item : body["alerts"]) item["ackURL"] = url;
                  round.outbox.back().body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
                }
              }
              for (const std::string& r : step.receivers) {
                const alerting::ReceiverConfig* receiver = config_->FindReceiver(r);
                if (receiver == nullptr) continue;
                for (const alerting::IntegrationRef& integration : receiver->Integrations()) queue(r, integration.name);
              }
            }
            e.checked_ms = now;
          }
        }
        if (e.start_ms != before.start_ms || e.checked_ms != before.checked_ms || e.acknowledged != before.acknowledged ||
            it == escalations_.end()) {
          round.escalations.push_back(e);
        }
        escalations.emplace(key, std::move(e));
      }
    }
    for (const auto& [key, e] : escalations_) {
      if (escalations.count(key) == 0) round.finished_escalations.emplace_back(e.fingerprint, e.policy);
    }
  }
  round.transitions = eval.transitions;

  const bool anything = !round.transitions.empty() || !round.series.empty() || !round.groups.empty() ||
                        !round.finished_groups.empty() || !round.outbox.empty() || !round.escalations.empty() ||
                        !round.finished_escalations.empty();
  Status stored = anything ? store_.ApplyRound(round, now) : OkStatus();
  if (!stored.ok()) {
    // Nothing of the round is kept: the next one starts again from the store.
    std::lock_guard<std::mutex> lock(series_mu_);
    for (const SeriesMemo& m : round.series) {
      auto it = series_.find(m.key);
      if (it != series_.end()) it->second.memo_dirty = true;
    }
    if (round_failures_ != nullptr) round_failures_->Increment();
    return stored;
  }
  book_ = std::move(eval.book);
  book_valid_ = true;
  escalations_ = std::move(escalations);
  am_resent_ = std::move(am_resent);
  {
    std::lock_guard<std::mutex> lock(series_mu_);
    for (auto& [fp, x] : external) {
      auto it = external_.find(fp);
      if (it == external_.end()) continue;
      if (std::find(external_gone.begin(), external_gone.end(), fp) != external_gone.end()) {
        // Ended, unless its source re-sent it meanwhile with a later end.
        if (it->second.ends_ms <= now) {
          external_.erase(it);
        } else {
          it->second.stored = false;
        }
      } else {
        it->second.stored = true;
      }
      book_.active.erase(alerting::LabelsHash(x.alert.labels));
    }
  }
  for (const std::string& id : finished) groups.erase(id);
  groups_ = std::move(groups);
  // Keep only the resolutions some group still has to send.
  std::set<std::string> still_sent;
  for (const auto& [id, g] : groups_) still_sent.insert(g.record.state.sent_firing.begin(), g.record.state.sent_firing.end());
  resolved_.clear();
  for (auto& [fp, v] : resolved) {
    if (still_sent.count(fp) != 0 && firing.count(fp) == 0) resolved_.emplace(fp, std::move(v));
  }

  if (firing_ != nullptr) {
    firing_->Set(static_cast<double>(firing.size()));
    pending_->Set(static_cast<double>(pending_count));
    notifications_decided_->Increment(static_cast<double>(round.outbox.size()));
    round_seconds_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (!round.outbox.empty()) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(notify_mu_);
      fn = on_notifications_;
    }
    if (fn) fn();
  }
  return OkStatus();
}

}  // namespace steadfast::collector::alerts
